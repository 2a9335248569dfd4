#!/usr/bin/env python3
"""Generate leakscope's Hugging Face CLIP reference checkpoints and outputs.

    python scripts/make_reference.py            # tiny fixtures -> tests/fixtures/{tiny-clip,tiny-clip-gelu}
    python scripts/make_reference.py --full     # clip-vit-base-patch32 shape, random weights
                                                #   -> target/reference/clip-vit-base-patch32-random
    --out DIR   tiny mode: the folder that receives tiny-clip/ and tiny-clip-gelu/;
                full mode: the checkpoint folder itself.

Tiny mode also runs build(out_dir, vocab_dir) of scripts/reference/preprocess.py when it exists
(out_dir = <fixtures>/preprocess). The tokenizer's references need transformers 5, not this
script's 4.57.1, and have their own command and venv: scripts/reference/tokenizer.py all
(scripts/requirements-tokenizer-reference.txt); only its vocabulary builder is used here.

Needs the pinned packages of scripts/requirements-reference.txt. The CLIP BPE merge list
comes from scripts/reference/tokenizer.py (write_small_vocab) when that module provides it,
otherwise from the openai-clip sdist on PyPI, cached under target/reference/cache/.
Output is deterministic: same pins, same bytes.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))

FIXTURE_BUDGET = 3_000_000  # issue 3: tiny checkpoints + references <= 3 MB
TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json")


def optional_helper(name: str):
    """Import scripts/reference/<name>.py if it exists; None (with a note) otherwise."""
    if importlib.util.find_spec(f"reference.{name}") is None:
        print(f"note: scripts/reference/{name}.py not present; skipping its part")
        return None
    try:
        return importlib.import_module(f"reference.{name}")
    except ImportError as exc:
        print(f"note: scripts/reference/{name}.py could not be imported ({exc}); skipping its part")
        return None


def prepare_vocab(stage: Path, n_merges: int, bpe: str | None, cache: Path, tok_helper) -> str:
    """Fill `stage` with vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json."""
    from transformers import CLIPTokenizer

    from reference import bpe_source

    raw = stage / "raw"
    raw.mkdir(parents=True)
    if tok_helper is not None and hasattr(tok_helper, "write_small_vocab"):
        tok_helper.write_small_vocab(raw, n_merges=n_merges)
        source = "scripts/reference/tokenizer.py:write_small_vocab"
    else:
        bpe_source.write_vocab_files(raw, bpe_source.locate_bpe(cache, bpe), n_merges)
        source = "scripts/reference/bpe_source.py (fallback)"

    tok = CLIPTokenizer(str(raw / "vocab.json"), str(raw / "merges.txt"), model_max_length=77)
    saved = stage / "saved"
    tok.save_pretrained(saved)
    # The vocabulary must be exactly the standard CLIP construction, whoever wrote it.
    cached = cache / "bpe_simple_vocab_16e6.txt.gz"
    if cached.is_file() or bpe or os.environ.get("LEAKSCOPE_CLIP_BPE"):
        expect = bpe_source.build_vocab(bpe_source.read_merges(bpe_source.locate_bpe(cache, bpe), n_merges))
        assert tok.get_vocab() == {t: i for i, t in enumerate(expect)}, f"vocab from {source} is not standard"
    helper_wrote = "tokenizer.py" in source
    for f in TOKENIZER_FILES:
        if f in ("vocab.json", "merges.txt"):
            # keep the helper's files verbatim; otherwise CLIPTokenizer.save_pretrained's formatting
            src = raw / f if helper_wrote else saved / f
        else:
            src = raw / f if (raw / f).exists() else saved / f
        shutil.copyfile(src, stage / f)
    return source


def file_sizes(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="write the full-size random checkpoint instead")
    ap.add_argument("--out", type=Path, help="output folder (see above)")
    ap.add_argument("--bpe", help="path to bpe_simple_vocab_16e6.txt.gz (else cache / PyPI sdist)")
    ap.add_argument("--cache", type=Path, default=ROOT / "target" / "reference" / "cache")
    ap.add_argument("--no-verify", action="store_true", help="skip the reload-and-compare pass")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)  # one thread: bit-reproducible CPU reductions
    torch.use_deterministic_algorithms(True)

    from reference import model as ref_model

    tok_helper = optional_helper("tokenizer")
    pre_helper = optional_helper("preprocess")

    if args.full:
        variants = [ref_model.full_variant()]
        out_root = (args.out or ROOT / "target" / "reference" / variants[0].name).resolve()
        dirs = {variants[0].name: out_root}
    else:
        variants = ref_model.tiny_variants()
        out_root = (args.out or ROOT / "tests" / "fixtures").resolve()
        dirs = {v.name: out_root / v.name for v in variants}

    written: dict[str, list[tuple[str, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        source = prepare_vocab(stage, variants[0].n_merges, args.bpe, args.cache, tok_helper)
        print(f"vocabulary: {variants[0].vocab_size} ids from {source}")
        for v in variants:
            d = dirs[v.name]
            print(f"== {v.name} -> {d}")
            ref_model.write_variant(v, d, stage)
            written[v.name] = file_sizes(d)

    ok = True
    if not args.no_verify:
        for v in variants:
            for note in ref_model.verify_variant(v, dirs[v.name]):
                print(f"   [{v.name}] {note}")

    # The preprocessing helper's build(out_dir, vocab_dir): out_dir is its committed fixture
    # folder (<fixtures>/preprocess). Run in tiny mode only. (The tokenizer's references need
    # transformers 5: scripts/reference/tokenizer.py all, in its own venv.)
    if not args.full:
        full_dir = ROOT / "target" / "reference" / ref_model.full_variant().name
        for mod, label in ((pre_helper, "preprocess"),):
            if mod is not None and hasattr(mod, "build"):
                print(f"== scripts/reference/{label}.py: build({out_root / label}, {full_dir})")
                mod.build(out_root / label, full_dir)
            elif mod is not None:
                print(f"note: scripts/reference/{label}.py has no build(out_dir, vocab_dir)")

    total = 0
    for name, files in written.items():
        for rel, size in files:
            print(f"{size:>12,}  {name}/{rel}")
            total += size
    print(f"{total:>12,}  total written by make_reference.py")
    if not args.full and total > FIXTURE_BUDGET:
        print(f"ERROR: tiny fixtures exceed the {FIXTURE_BUDGET:,} byte budget", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
