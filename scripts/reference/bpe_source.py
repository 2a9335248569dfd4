"""Locate OpenAI's CLIP BPE merge list and build (truncated) CLIP vocabularies from it.

Fallback used by make_reference.py when scripts/reference/tokenizer.py does not provide
`write_small_vocab`. The merge list ships inside the `openai-clip` sdist on PyPI
(clip/bpe_simple_vocab_16e6.txt.gz); we fetch that sdist with `pip download --no-deps`
into a cache folder and read the .gz straight out of the archive, without installing it.

Vocabulary construction (identical to the published CLIP vocab.json ids):
  ids 0..255     the 256 byte symbols of the byte->unicode table, in table order
  ids 256..511   the same symbols with "</w>" appended
  next n_merges  each merge pair joined, in merge-rank order
  last two       "<|startoftext|>", "<|endoftext|>"
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

OPENAI_CLIP_SDIST = "openai-clip==1.0.1"
BPE_MEMBER_SUFFIX = "clip/bpe_simple_vocab_16e6.txt.gz"
BPE_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
FULL_MERGES = 49152 - 256 - 2  # 48894, the number of merges CLIP actually uses
BOS = "<|startoftext|>"
EOS = "<|endoftext|>"


def byte_symbols() -> list[str]:
    """The 256 printable stand-ins for raw bytes, in the order CLIP assigns ids to them.

    Bytes that are already visible Latin-1 characters keep their own code point; every other
    byte is mapped, in increasing byte order, to code points 256, 257, ... The returned list
    is ordered: visible bytes first (ascending), then the remapped ones (ascending).
    """
    visible = (
        list(range(0x21, 0x7F))  # '!' .. '~'
        + list(range(0xA1, 0xAD))  # inverted exclamation .. not sign
        + list(range(0xAE, 0x100))  # registered sign .. y with diaeresis
    )
    order = list(visible)
    points = list(visible)
    extra = 0
    for b in range(256):
        if b not in visible:
            order.append(b)
            points.append(256 + extra)
            extra += 1
    assert len(order) == 256 and len(set(points)) == 256
    return [chr(p) for p in points]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _extract_from_archive(archive: Path, dest: Path) -> bool:
    if archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive, "r:gz") as tf:
            for member in tf.getmembers():
                if member.name.endswith(BPE_MEMBER_SUFFIX):
                    dest.write_bytes(tf.extractfile(member).read())
                    return True
    elif archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.endswith(BPE_MEMBER_SUFFIX):
                    dest.write_bytes(zf.read(name))
                    return True
    return False


def locate_bpe(cache_dir: Path, explicit: str | None = None) -> Path:
    """Return a path to bpe_simple_vocab_16e6.txt.gz, downloading the sdist if needed."""
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("LEAKSCOPE_CLIP_BPE"):
        candidates.append(Path(os.environ["LEAKSCOPE_CLIP_BPE"]))
    cached = cache_dir / "bpe_simple_vocab_16e6.txt.gz"
    candidates.append(cached)
    for c in candidates:
        if c.is_file():
            if _sha256(c) != BPE_SHA256:
                raise SystemExit(f"{c}: unexpected sha256 {_sha256(c)} (want {BPE_SHA256})")
            return c
    cache_dir.mkdir(parents=True, exist_ok=True)
    print(f"[bpe] downloading {OPENAI_CLIP_SDIST} (sdist, not installed) into {cache_dir}")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "--progress-bar", "off", "-d", str(cache_dir), OPENAI_CLIP_SDIST],
        check=True,
    )
    for archive in sorted(cache_dir.iterdir()):
        if archive.name.startswith("openai") and _extract_from_archive(archive, cached):
            break
    if not cached.is_file() or _sha256(cached) != BPE_SHA256:
        raise SystemExit("could not extract a bpe_simple_vocab_16e6.txt.gz with the expected hash")
    return cached


def read_merges(bpe_gz: Path, n_merges: int) -> list[tuple[str, str]]:
    """Merge pairs of rank 0..n_merges-1 (file lines 1..n_merges; line 0 is a version header)."""
    if not 0 <= n_merges <= FULL_MERGES:
        raise ValueError(f"n_merges must be in 0..{FULL_MERGES}")
    lines = gzip.decompress(bpe_gz.read_bytes()).decode("utf-8").split("\n")
    pairs = []
    for line in lines[1 : 1 + n_merges]:
        a, b = line.split()
        pairs.append((a, b))
    return pairs


def build_vocab(merges: list[tuple[str, str]]) -> list[str]:
    """Tokens in id order for the given merges."""
    syms = byte_symbols()
    tokens = syms + [s + "</w>" for s in syms] + [a + b for a, b in merges] + [BOS, EOS]
    assert len(set(tokens)) == len(tokens), "duplicate tokens in vocabulary"
    return tokens


def write_vocab_files(out_dir: Path, bpe_gz: Path, n_merges: int) -> int:
    """Write vocab.json and merges.txt (the raw inputs a CLIPTokenizer needs). Returns vocab size.

    make_reference.py afterwards lets CLIPTokenizer.save_pretrained rewrite these in its own
    canonical formatting, so only the content matters here.
    """
    import json

    merges = read_merges(bpe_gz, n_merges)
    tokens = build_vocab(merges)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.json").write_text(
        json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False), encoding="utf-8"
    )
    (out_dir / "merges.txt").write_text(
        "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf-8"
    )
    return len(tokens)
