#!/usr/bin/env python3
"""Reference data for leakscope's CLIP tokenizer (src/tokenizer.rs).

Everything the Rust tokenizer is checked against comes from here:

* ``write_small_vocab(out_dir, n_merges=4000)`` / ``write_full_vocab(out_dir)``: vocab.json + merges.txt
  built from CLIP's BPE merge list. The list is read out of the ``openai-clip`` sdist on PyPI (MIT;
  the package is downloaded with ``pip download --no-deps`` and never installed).
* ``build(out_dir, vocab_dir)``: the parity corpus (our own strings) and the token ids that
  ``transformers.CLIPTokenizer`` (the slow Python tokenizer, transformers 4.57.1, *without* ftfy, so
  it uses its BasicTokenizer fallback) produces for it, with the small vocab (committed) and the full
  vocab (git-ignored, next to the full vocab in ``vocab_dir``). For the VLSBench instructions it
  commits, per ``instruction_id``, only the length and a hash of the small-vocab ids: ids decode
  back to the instruction text, and nothing from ../shared may enter the repository. The explicit
  ids (both vocabularies) go to the git-ignored ``vocab_dir``.
* ``write_rust_tables(rust_file)``: regenerates the Unicode tables inside src/tokenizer.rs from this
  interpreter's ``unicodedata`` (Unicode 14.0 on Python 3.11), ``str.lower`` and the ``regex``
  module, the things the slow tokenizer's behaviour depends on.
* ``compare_fast(vocab_dir)``: where CLIPTokenizerFast disagrees with the slow tokenizer (documentation).

Run from the repository root, in the reference venv (see scripts/requirements-reference.txt):

    /work/venv-ref/bin/python scripts/reference/tokenizer.py all

(``all`` = small-vocab, full-vocab, build, rust-tables; ``compare-fast`` prints the slow/fast report.)
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import random
import re as stdlib_re
import subprocess
import sys
import tarfile
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SMALL_VOCAB_DIR = REPO / "tests" / "fixtures" / "tiny-clip"
FIXTURE_DIR = REPO / "tests" / "fixtures" / "tokenizer"
FULL_DIR = REPO / "target" / "reference" / "clip-vocab-full"
VLSBENCH_JSON = REPO.parent / "shared" / "vlsbench" / "data.json"
RUST_FILE = REPO / "src" / "tokenizer.rs"

OPENAI_CLIP_VERSION = "1.0.1"
BPE_MEMBER = "clip/bpe_simple_vocab_16e6.txt.gz"
BPE_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
# The slow tokenizer reads at most this many merges (lines 1..=48894 of merges.txt).
FULL_MERGES = 49152 - 256 - 2
CONTEXT = 77


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

def byte_symbols() -> list[str]:
    """The 256 printable stand-ins for bytes, in byte order (GPT-2/CLIP byte-level BPE convention).

    Bytes that are printable and not whitespace keep their own code point; the other 68 are moved,
    in increasing byte order, to U+0100, U+0101, ...
    """
    keep = set(range(0x21, 0x7F)) | set(range(0xA1, 0xAD)) | set(range(0xAE, 0x100))
    out, shifted = [], 0
    for b in range(256):
        if b in keep:
            out.append(chr(b))
        else:
            out.append(chr(0x100 + shifted))
            shifted += 1
    return out


def vocab_order() -> list[str]:
    """Byte symbols in the order the CLIP vocabulary lists them (printable ranges first)."""
    table = byte_symbols()
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    rest = [b for b in range(256) if b not in set(keep)]
    return [table[b] for b in keep + rest]


def _bpe_gz_bytes(cache_dir: Path | None = None) -> bytes:
    """CLIP's bpe_simple_vocab_16e6.txt.gz, read out of the openai-clip sdist (downloaded, not installed)."""
    cache_dir = Path(cache_dir or (REPO / "target" / "reference" / "download"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    sdist = cache_dir / f"openai-clip-{OPENAI_CLIP_VERSION}.tar.gz"
    if not sdist.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             f"openai-clip=={OPENAI_CLIP_VERSION}", "-d", str(cache_dir)],
            check=True,
        )
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(BPE_MEMBER))
        handle = tar.extractfile(member)
        assert handle is not None
        data = handle.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != BPE_SHA256:
        raise SystemExit(f"{BPE_MEMBER}: sha256 {digest}, expected {BPE_SHA256}")
    return data


def clip_merges(n_merges: int = FULL_MERGES) -> list[str]:
    """The first ``n_merges`` merges ("a b" lines) of CLIP's BPE list (line 0 is a header)."""
    text = gzip.decompress(_bpe_gz_bytes()).decode("utf-8")
    lines = text.split("\n")[1:]
    if not 0 < n_merges <= FULL_MERGES:
        raise ValueError(f"n_merges must be in 1..={FULL_MERGES}")
    return lines[:n_merges]


def write_vocab(out_dir, n_merges: int) -> Path:
    """vocab.json + merges.txt for the first ``n_merges`` merges: 2 * 256 + n_merges + 2 ids."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    merges = clip_merges(n_merges)
    tokens = vocab_order()
    tokens = tokens + [t + "</w>" for t in tokens]
    tokens += ["".join(m.split(" ")) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {tok: i for i, tok in enumerate(tokens)}
    assert len(vocab) == len(tokens), "duplicate vocabulary entries"
    (out_dir / "vocab.json").write_text(
        json.dumps(vocab, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    (out_dir / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    return out_dir


def write_small_vocab(out_dir=SMALL_VOCAB_DIR, n_merges: int = 4000) -> Path:
    """The committed test vocabulary: 4000 merges -> 4514 ids."""
    return write_vocab(out_dir, n_merges)


def write_full_vocab(out_dir=FULL_DIR) -> Path:
    """The real CLIP vocabulary: 48894 merges -> 49408 ids (git-ignored)."""
    return write_vocab(out_dir, FULL_MERGES)


# --------------------------------------------------------------------------------------------
# Corpus (our own strings)
# --------------------------------------------------------------------------------------------

def corpus() -> list[str]:
    """Deterministic parity corpus. Every string here is written for this project."""
    base: list[str] = [
        # empty and blank
        "", " ", "   ", "\n", "\t", "\r\n", "\x00", "\u3000", "\u00a0", "\u200b", "\ufeff",
        # plain prompts and captions
        "a photo of a cat", "A photo of a dog.", "a diagram of a circuit board",
        "What is shown in this image?", "Describe the picture in detail.",
        "two people riding bicycles along a river at sunset",
        "How do I bake sourdough bread at home?", "a red stop sign on a snowy street corner",
        "an oil painting of a lighthouse during a storm", "Is this mushroom safe to eat?",
        "The quick brown fox jumps over the lazy dog", "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
        "tHe QuIcK bRoWn FoX", "hello world", "Hello, World!", "hello,world", "hello-world",
        "helloworld", "HelloWorld", "hello_world", "hello.world", "hello/world", "hello\\world",
        "unbelievably", "antidisestablishmentarianism", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "photosynthesis", "xylophone", "zzz", "qwertyuiop", "aaaaaaaaaaaaaaaaaaaa", "abcabcabcabc",
        "mississippi", "bookkeeper", "llama", "ll", "l", "a", "I", "i", "x", "Q",
        # contractions
        "it's", "IT'S", "It'S", "it'S", "It's", "don't", "DON'T", "Don'T", "we're", "WE'RE", "We'Re",
        "they've", "THEY'VE", "I'm", "I'M", "you'll", "YOU'LL", "You'Ll", "he'd", "HE'D",
        "it\u2019s", "IT\u2019S", "it\u2018s", "don\u2019t", "we\u2019re", "rock 'n' roll",
        "'tis the season", "ma'am", "o'clock", "'s", "'S", "''s", "'''", "it'sss", "y'all'd've",
        "can't won't shouldn't", "James's book", "the cats' toys", "'re 've 'm 'll 'd 't",
        "'RE 'VE 'M 'LL 'D 'T", "'x 'y 'z", "a'b'c'd", "'", "''", "' s", "it 's", "'ſ", "it'ſ",
        "dog's", "DOG'S", "Dog'S", "\u2019s", "`s", "\u02bcs",
        # accents, Latin extensions, case oddities
        "café", "CAFÉ", "naïve", "NAÏVE", "résumé", "Ångström", "São Paulo", "Zürich", "façade",
        "crème brûlée", "jalapeño", "Zażółć gęślą jaźń", "Příliš žluťoučký kůň", "Tiếng Việt có dấu",
        "Đà Nẵng", "İstanbul", "ISTANBUL ıi İI", "ǅemal ǈubljana", "STRASSE Straße ẞ", "ﬁne ﬂour ﬀ",
        "Kelvin \u212a", "\u212b", "ſ long s", "œuvre Œuvre", "æsir Æsir", "øl Øl", "þorn Þorn",
        "ðað", "Ĳssel ĳs", "ŉ", "ǰ", "ΐ", "ﬃ", "\u0130", "\u0049\u0307",
        # Greek: final sigma contexts
        "ΟΔΥΣΣΕΥΣ", "ΣΊΣΥΦΟΣ", "Σ", "ΑΣ", "ΑΣ.", "ΑΣ'Σ", "Α.Σ", "ΑΣΑ", "σ ς Σ", "ΑΣ\u0301", "ΑΣ\u00ad",
        "Ἀρχή", "ἀρχὴ", "ᾼ ᾳ ᾲ", "α\u0345", "\u0345", "a\u0345b", "!\u0345!", "ΑΣ\u0345",
        # Cyrillic and others
        "Привет, мир!", "ПРИВЕТ", "Ёжик", "Ґанок", "Բարեւ", "გამარჯობა", "Ꭳ Ꭴ ꮃ", "ⰀⰁ",
        "नमस्ते दुनिया", "স্বাগতম", "வணக்கம்", "สวัสดีครับ", "ສະບາຍດີ", "ሰላም ዓለም", "မင်္ဂလာပါ",
        "ᠮᠣᠩᠭᠣᠯ", "བོད་ཡིག", "ꦲꦏ꧀ꦱꦫ", "𐌰𐌱𐌲", "ᚠᚢᚦ", "𓀀𓀁",
        # NFC vs NFD
        "cafe\u0301", "CAFE\u0301", "e\u0301", "\u00e9", "A\u030a", "\u00c5", "n\u0303", "\u00f1",
        "a\u0323\u0302", "a\u0302\u0323", "\u1ead", "\u1100\u1161", "\u1100\u1161\u11a8", "\uac00",
        "\u0301", "\u0301\u0301\u0301", "a\u0301\u0301\u0301", " \u0301", "x \u0308y",
        "\u2126", "\u212b\u030a", "\u0958", "\u0915\u093c", "\u2000a\u2001", "\u0340\u0341",
        "\u0f73", "\u1e9b\u0323", "\u1fef", "\u0387",
        # CJK, Japanese, Korean
        "我爱北京天安门", "這是一個測試", "中文English混合", "iPhone手机", "东京タワー",
        "ひらがな カタカナ 漢字", "こんにちは、世界！", "ｶﾀｶﾅ ﾊﾝｶｸ", "ＡＢＣ１２３ｘｙｚ", "全角スペース\u3000入り",
        "안녕하세요 세계", "한국어 텍스트입니다", "ㄱㄴㄷ", "𠀀𠀁𠀂", "𪜀", "豈更車", "\u3400\u4dbf",
        "\u9fff\ua000", "\u2e80\u2f00", "々〆〇", "「引用」『二重』", "【注意】", "〜～", "\U0002f800",
        "\U00030000\U00031350", "\U0002ebf0",
        # emoji
        "👍", "👍🏽", "👍🏿👍🏻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🏴‍☠️", "🇺🇸🇯🇵🇩🇪", "1️⃣ #️⃣", "❤️ ❤", "🧑🏿‍💻",
        "👩🏽‍🔬 scientist", "I love 🍕!!!", "🔥🔥🔥", "😀😃😄😁", "🙂\u200d", "\u200d", "🫠🫨🪿",
        "☕️ coffee", "✌🏼 peace", "👁️‍🗨️", "🧔‍♂️", "😶‍🌫️", "🐕‍🦺", "🤷‍♀️ idk",
        # RTL and bidi controls
        "مرحبا بالعالم", "مَرْحَبًا", "العربية 123", "١٢٣٤٥", "۱۲۳", "שָׁלוֹם עוֹלָם", "עברית",
        "abc \u202eevil\u202c", "\u200fRTL mark", "\u200eLTR mark", "\u2066isolate\u2069",
        "می\u200cخواهم", "a\u200cb", "a\u200db", "a\u2060b", "soft\u00adhyphen", "word\ufeffjoiner",
        # controls and replacement char
        "\x07bell", "\x1b[31mred\x1b[0m", "del\x7f", "next\x85line", "a\x0bb\x0cc", "\x1c\x1d\x1e\x1f",
        "\ufffd", "bad\ufffdbyte", "\ufffd\ufffd", "\x00\x00abc", "ab\x00cd", "\ue000private",
        "\U000f0000", "\ufff9\ufffa\ufffb", "\U000e0001tag", "\U0001d173", "\u0600\u0601",
        # punctuation runs
        "!!!???", "...", "…", "—–-", "«quoted»", "“smart quotes”", "‘single’", "„German“",
        "(a)[b]{c}", "@#$%^&*", "a--b", "C++", "C#", "e-mail", "#hashtag", "@mention", "~tilde~",
        "http://example.com/path?x=1&y=2", "https://www.example.org/a_b-c.html#frag",
        "user.name+tag@example.co.uk", ":-) :-( ;-)", "<3", "->", "=>", "!=", "¿Qué?", "¡Hola!",
        "¶§†‡•", "©®™", "°C °F", "±×÷", "∑∏∫√∞", "←↑→↓", "★☆♥♦", "♪♫", "■□▲△", "|||", "___",
        "***bold***", "`code`", "```", "#!/bin/sh", "a/b\\c", "..!..?..", "'.'", "\"", '""', "'\"'",
        # numbers
        "123", "1234567890", "3.14159", "1,000,000", "$100.00", "€50", "£20", "¥1000", "50%",
        "2024-01-15", "10:30pm", "+1 (555) 123-4567", "0x1F", "1e-10", "v2.0.1", "4K", "H2O", "CO₂",
        "x²+y²", "½ ¾ ⅞", "①②③", "Ⅻ ⅻ", "ⅰⅱⅲ", "१२३", "๑๒๓", "𝟘𝟙𝟚", "²³¹", "⁰⁴", "₀₁₂", "〇一二",
        "1st 2nd 3rd 4th", "007", "99 bottles", "-5", "+5", "5-5", "1/2", "1.2.3.4",
        # whitespace oddities
        "a\tb", "a\nb", "a\r\nb", "a\rb", "  leading", "trailing   ", "  both  ", "a  b",
        "a\u00a0b", "a\u3000b", "a\u2003b", "a\u2009b", "a\u202fb", "a\u205fb", "a\u1680b",
        "a\u2028b", "a\u2029b", "a\u180eb", "a\u200bb", "\t\n \r", "line1\nline2\nline3",
        "tab\tseparated\tvalues", "a \u2028 b", "\u2028", "\u2029\u2029x",
        # HTML entities and markup
        "&amp;", "&lt;b&gt;bold&lt;/b&gt;", "&quot;hi&quot;", "&#39;", "&#x27;", "&nbsp;",
        "Tom &amp; Jerry", "&copy; 2024", "<b>bold</b>", "<br/>", "<a href=\"x\">link</a>",
        "<script>alert(1)</script>", "&#128512;", "&amp;amp;",
        # special tokens in text
        "<|endoftext|>", "<|startoftext|>", "<|ENDOFTEXT|>", "<|StartOfText|>", "a<|endoftext|>b",
        "<|endoftext|><|endoftext|>", "<|<|endoftext|>", "<|endoftext|>|>", "<|endoftext",
        "endoftext|>", "!<|endoftext|>", "!<|ENDOFTEXT|>", "x<|ENDOFTEXT|>y", "<|ſtartoftext|>",
        "<|startoftext|>hello<|endoftext|>", " <|endoftext|> ", "<|endoftext|>\u200b",
        "<| endoftext |>", "<|endoftext|>s", "'<|endoftext|>", "<|startoftext|>'s",
        "<|endoftext|'s", "<|ENDOFTEXT|>'S", "<||>", "<|>",
    ]

    # Newly assigned characters (Unicode 15+) are unassigned ("Cn") for Python 3.11's unicodedata
    # and are dropped by the slow tokenizer's text cleanup.
    base += ["new \U0001fae8 emoji", "\U0001faf8\U0001faf7", "\U00031350 ext H", "\u0cf3", "\U00011f00"]

    # Long inputs (far over 77 tokens).
    para = ("A crowded market street at dusk, with vendors selling fruit, lanterns hanging overhead, "
            "children chasing pigeons, and a musician playing an accordion near the fountain. ")
    base += [
        para * 3, para.upper() * 2, "a " * 200, "a" * 500, "ab" * 300, "word " * 90,
        "supercalifragilisticexpialidocious" * 20, "1234567890" * 15, "👍" * 100, "我" * 120,
        "!?" * 150, "it's " * 60, "\u0301" * 100, "é" * 80, "x\u200d" * 90, "ΑΣ " * 80,
        " ".join(str(i) for i in range(150)), "&amp;" * 50, "<|endoftext|>" * 90,
        ("Σίσυφος " + "مرحبا " + "안녕 " + "🙂 ") * 25,
    ]

    # Systematic combinations: tricky characters in several contexts.
    tricky = [
        "é", "e\u0301", "ß", "İ", "ı", "Σ", "ς", "ſ", "ﬁ", "Å", "\u212a", "\u0345", "\u0307",
        "我", "カ", "ｶ", "한", "\u1100", "👍", "🏽", "\u200d", "\u200c", "\ufe0f", "\u20e3",
        "\u00ad", "\u200e", "\u202e", "\ufffd", "\x00", "\x07", "\x85", "\t", "\n", "\u00a0",
        "\u3000", "\u2028", "\u2029", "\u180e", "’", "'", "\"", "&", "<", "|", ">", "-", "_",
        ".", ",", "!", "?", "1", "٣", "½", "²", "①", "Ⅻ", "$", "%", "#", "@", "م", "ש", "\u064b",
        "\u05b8", "ऩ", "\u093c", "ก", "\u0e31", "😀", "🇺", "\U0001fae8", "\U000e0061", "\ue000",
    ]
    templates = ["x{c}y", "{c}{c}", "{c} word", "WORD{c}'S", "ΑΣ{c}", "{c}'s", "a {c} b {c}", "{c}"]
    for c in tricky:
        for t in templates:
            base.append(t.format(c=c))

    # Caption-style prompts built from our own word lists.
    subjects = ["cat", "dog", "man", "woman", "child", "car", "bicycle", "knife", "pill bottle",
                "house", "tree", "robot", "bird", "street", "kitchen", "computer", "Café", "Übermensch",
                "東京", "ソウル", "서울", "🐱", "Σπίτι", "дом", "بيت", "בית", "crème", "naïve"]
    frames = ["a photo of a {s}", "A PICTURE OF THE {s}.", "what's the {s} doing?", "{s}'s shadow",
              "there's a {s}, isn't there?", "#{s} #photo", "{s}\u00a0\u00a0{s}", "“{s}”"]
    for s in subjects:
        for f in frames:
            base.append(f.format(s=s))

    # Seeded random strings from a mixed pool (deterministic).
    rng = random.Random(20251127)
    pool = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 '.,!?-&<>|\"")
            + tricky + ["it's", "DON'T", "café", "我们", "👨‍👩‍👧", "ΟΔΟΣ", "ﬀ", "  ", "\r\n"])
    for _ in range(150):
        n = rng.randint(1, 40)
        base.append("".join(rng.choice(pool) for _ in range(n)))
    for _ in range(50):
        cps = []
        for _ in range(rng.randint(1, 12)):
            lo, hi = rng.choice([(0x20, 0x7F), (0xA0, 0x250), (0x300, 0x370), (0x370, 0x530),
                                 (0x590, 0x700), (0x900, 0xE80), (0x1100, 0x1200), (0x1E00, 0x2000),
                                 (0x2000, 0x2BFF), (0x3000, 0x3100), (0x4E00, 0x9FFF), (0xAC00, 0xD7A4),
                                 (0xF900, 0xFFFF), (0x1F300, 0x1FAFF), (0x20000, 0x2A6DF), (0xE0000, 0xE0080)])
            cps.append(chr(rng.randrange(lo, hi)))
        base.append("".join(cps))

    seen, out = set(), []
    for s in base:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


# --------------------------------------------------------------------------------------------
# Reference tokenizers
# --------------------------------------------------------------------------------------------

def slow_tokenizer(vocab_dir):
    import transformers
    from transformers import CLIPTokenizer

    assert transformers.__version__ == "4.57.1", transformers.__version__
    try:
        import ftfy  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("ftfy is installed; the reference is the BasicTokenizer fallback (uninstall ftfy)")
    vocab_dir = Path(vocab_dir)
    return CLIPTokenizer(str(vocab_dir / "vocab.json"), str(vocab_dir / "merges.txt"))


def fast_tokenizer(vocab_dir):
    from transformers import CLIPTokenizerFast

    vocab_dir = Path(vocab_dir)
    return CLIPTokenizerFast(vocab_file=str(vocab_dir / "vocab.json"),
                             merges_file=str(vocab_dir / "merges.txt"))


def expected_ids(tok, texts):
    """(untruncated ids, padded-to-77 ids with the trailing pad run removed) for each text."""
    pad = tok.pad_token_id
    full, padded = [], []
    for t in texts:
        ids = tok(t)["input_ids"]
        p = tok(t, padding="max_length", max_length=CONTEXT, truncation=True)["input_ids"]
        assert len(p) == CONTEXT
        # Documented rule, checked here: [bos] + first 75 + [eos], then pad ids.
        body = ids[1:-1][: CONTEXT - 2]
        assert p == [ids[0]] + body + [ids[-1]] + [pad] * (CONTEXT - 2 - len(body)), repr(t)
        while p and p[-1] == pad:
            p.pop()
        full.append(ids)
        padded.append(p)
    return full, padded


def _dump(path: Path, obj) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
    path.write_text(data, encoding="utf-8")
    return len(data.encode("utf-8"))


def _vlsbench_rows():
    if not VLSBENCH_JSON.exists():
        print(f"SKIP: {VLSBENCH_JSON} not found; no VLSBench expectations written")
        return None
    rows = json.loads(VLSBENCH_JSON.read_text(encoding="utf-8"))
    return [(int(r["instruction_id"]), r["instruction"]) for r in rows]


def fnv1a64(ids) -> str:
    """FNV-1a (64-bit) of the ids as little-endian u32 bytes, as 16 hex digits."""
    h = 0xCBF29CE484222325
    for i in ids:
        for byte in int(i).to_bytes(4, "little"):
            h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


REFERENCE = "transformers 4.57.1 CLIPTokenizer (slow, no ftfy)"
PADDED_NOTE = ("padded: tokenizer(text, padding='max_length', max_length=77, truncation=True) with the "
               "trailing run of pad ids removed")


def _expectations(vocab_dir, texts, rows, label):
    """Corpus expectations (explicit ids) and VLSBench expectations (hashes, and explicit ids)."""
    tok = slow_tokenizer(vocab_dir)
    ids, padded = expected_ids(tok, texts)
    head = {"reference": REFERENCE, "vocab": label, "vocab_size": tok.vocab_size,
            "context_length": CONTEXT}
    exp = dict(head, padded_note=PADDED_NOTE, ids=ids, padded=padded)
    vls_hash = vls_ids = None
    if rows is not None:
        # expected_ids() also asserts, row by row, that the padded-77 output is
        # [bos] + first 75 ids + [eos] + pad ids, so the untruncated ids determine it.
        vids, _ = expected_ids(tok, [t for _, t in rows])
        keys = [i for i, _ in rows]
        vls_hash = dict(head, note=("per instruction_id: number of ids and FNV-1a-64 of the untruncated "
                                    "ids (u32 little-endian); ids themselves are not committed because "
                                    "they decode back to the instruction text"),
                        instruction_id=keys, len=[len(v) for v in vids],
                        fnv1a64=[fnv1a64(v) for v in vids])
        vls_ids = dict(head, instruction_id=keys, ids=vids)
    return exp, vls_hash, vls_ids


def build(out_dir=FIXTURE_DIR, vocab_dir=FULL_DIR, small_vocab_dir=SMALL_VOCAB_DIR):
    """Corpus + expected ids.

    Committed, in ``out_dir``: corpus.json, expected_small.json (ids for the small vocab) and
    vlsbench_ids.json (per-instruction hashes of the small-vocab ids). Git-ignored, in ``vocab_dir``
    next to the full vocab: expected_full.json, vlsbench_ids_full.json (explicit ids, full vocab)
    and vlsbench_ids_small.json (explicit ids, small vocab; for diagnosing a hash mismatch).
    """
    out_dir, vocab_dir, small_vocab_dir = Path(out_dir), Path(vocab_dir), Path(small_vocab_dir)
    if not (small_vocab_dir / "vocab.json").exists():
        write_small_vocab(small_vocab_dir)
    if not (vocab_dir / "vocab.json").exists():
        write_full_vocab(vocab_dir)
    texts = corpus()
    assert len(texts) >= 800, len(texts)
    rows = _vlsbench_rows()
    sizes = {}
    sizes[str(out_dir / "corpus.json")] = _dump(out_dir / "corpus.json", texts)
    exp, vls_hash, vls_ids = _expectations(small_vocab_dir, texts, rows, "tiny-clip (4000 merges)")
    sizes[str(out_dir / "expected_small.json")] = _dump(out_dir / "expected_small.json", exp)
    if vls_hash is not None:
        sizes[str(out_dir / "vlsbench_ids.json")] = _dump(out_dir / "vlsbench_ids.json", vls_hash)
        sizes[str(vocab_dir / "vlsbench_ids_small.json")] = _dump(vocab_dir / "vlsbench_ids_small.json", vls_ids)
    exp, _, vls_ids = _expectations(vocab_dir, texts, rows, "CLIP (48894 merges)")
    sizes[str(vocab_dir / "expected_full.json")] = _dump(vocab_dir / "expected_full.json", exp)
    if vls_ids is not None:
        sizes[str(vocab_dir / "vlsbench_ids_full.json")] = _dump(vocab_dir / "vlsbench_ids_full.json", vls_ids)
    for k, v in sizes.items():
        print(f"{v:>9} bytes  {os.path.relpath(k, REPO)}")
    print(f"corpus: {len(texts)} strings; VLSBench: {0 if rows is None else len(rows)} instructions")


# --------------------------------------------------------------------------------------------
# Slow vs fast
# --------------------------------------------------------------------------------------------

def _fast_difference_causes(slow, text: str) -> list[str]:
    """Features of ``text`` that explain a slow/fast difference (see src/tokenizer.rs docs)."""
    from transformers.tokenization_utils import _is_control

    causes = []
    if any(ord(c) in (0, 0xFFFD) or _is_control(c) for c in text):
        causes.append("control/format/unassigned chars (slow drops them)")
    if any(slow.nlp._is_chinese_char(ord(c)) for c in text):
        causes.append("CJK (slow spaces ideographs)")
    if "\u03a3" in text:
        causes.append("capital sigma (fast has no final sigma)")
    if "\u017f" in text or "\u0345" in unicodedata.normalize("NFC", text):
        causes.append("long s / U+0345 (IGNORECASE)")
    low = text.lower()
    for special in ("<|endoftext|>", "<|startoftext|>"):
        if special in low and special not in text:
            causes.append("special token in other case")
    return causes or ["unexplained"]


def compare_fast(vocab_dir=FULL_DIR):
    """Count the texts on which CLIPTokenizerFast disagrees with the slow tokenizer, by cause."""
    import collections

    slow, fast = slow_tokenizer(vocab_dir), fast_tokenizer(vocab_dir)
    rows = _vlsbench_rows() or []
    for name, items in [("corpus", [(i, t) for i, t in enumerate(corpus())]), ("VLSBench", rows)]:
        causes = collections.Counter()
        differing = []
        for key, t in items:
            if slow(t)["input_ids"] != fast(t)["input_ids"]:
                differing.append(key)
                causes.update(_fast_difference_causes(slow, t))
        print(f"{name}: fast == slow on {len(items) - len(differing)}/{len(items)}")
        for cause, n in causes.most_common():
            print(f"    {n:>4} differing texts involve: {cause}")
        if name == "VLSBench" and differing:
            print(f"    instruction_id: {differing}")


# --------------------------------------------------------------------------------------------
# Character table for src/tokenizer.rs
# --------------------------------------------------------------------------------------------

CLASS_NAMES = ["REMOVE", "SPACE", "SPLIT", "LETTER", "NUMBER", "OTHER", "SKIP"]


@functools.lru_cache(maxsize=None)
def _pattern_classes():
    import regex

    return [regex.compile(p, regex.IGNORECASE) for p in (r"[\p{L}]", r"[\p{N}]", r"[^\s\p{L}\p{N}]")]


def char_class(cp: int):
    """Class of one code point for the slow tokenizer (None for surrogates: not in Rust strings).

    REMOVE: dropped by BasicTokenizer._clean_text (NUL, U+FFFD, categories C* but tab/LF/CR);
    SPACE: turned into a space by _clean_text (tab, LF, CR, Zs); SPLIT: survives cleanup but
    str.split() splits on it; LETTER / NUMBER / OTHER: which of the pattern's classes
    ``[\\p{L}]+``, ``[\\p{N}]``, ``[^\\s\\p{L}\\p{N}]+`` (IGNORECASE) it belongs to; SKIP: none of them.
    """
    from transformers.tokenization_utils import _is_control, _is_whitespace

    if 0xD800 <= cp < 0xE000:
        return None
    c = chr(cp)
    if cp == 0 or cp == 0xFFFD or _is_control(c):
        return 0
    if _is_whitespace(c):
        return 1
    if c.isspace():
        return 2
    for k, rx in enumerate(_pattern_classes()):
        if rx.fullmatch(c):
            return 3 + k
    return 6


def sigma_class(c: str) -> int:
    """How ``str.lower()`` treats ``c`` next to a capital sigma (the Final_Sigma rule).

    0: neither cased nor case-ignorable; 1: case-ignorable (skipped when looking for the letters
    around the sigma); 2: cased and not case-ignorable. Found by probing this interpreter's
    ``str.lower`` itself, so it follows its Unicode version exactly.
    """
    alone = (c + "\u03a3").lower()[-1] == "\u03c2"  # final iff c is cased and not ignorable
    behind = ("\u0391" + c + "\u03a3").lower()[-1] == "\u03c2"  # final iff c is ignorable or cased
    if behind and not alone:
        return 1
    if alone and behind:
        return 2
    if not alone and not behind:
        return 0
    raise AssertionError(f"U+{ord(c):04X}: inconsistent final-sigma behaviour")


def class_runs():
    """Runs of (char_class | sigma_class << 3), as (first code point, tag)."""
    runs, prev = [], None
    for cp in range(0x110000):
        k = char_class(cp)
        if k is None:
            continue
        tag = k if k == 0 else k | sigma_class(chr(cp)) << 3
        if tag == prev:
            continue
        runs.append((cp, tag))
        prev = tag
    return runs


def nfc_tables():
    """Canonical decompositions and combining classes of this interpreter's unicodedata.

    DECOMPOSITIONS: one u64 per character with a canonical decomposition (Hangul syllables excepted,
    they are algorithmic), sorted: ``composes << 63 | cp << 42 | first << 21 | second`` (second 0
    for a singleton; ``composes`` marks the primary composites, the pairs NFC recombines).
    CCC_RUNS: ``first_code_point << 8 | combining_class`` for runs of equal class, sorted.
    """
    decomp, ccc_runs, prev = [], [], None
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        k = unicodedata.combining(c)
        if k != prev:
            ccc_runs.append((cp << 8) | k)
            prev = k
        if 0xAC00 <= cp <= 0xD7A3:
            continue
        d = unicodedata.decomposition(c)
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        assert len(parts) in (1, 2) and all(parts), (hex(cp), d)
        first, second = parts[0], (parts[1] if len(parts) == 2 else 0)
        composes = len(parts) == 2 and unicodedata.is_normalized("NFC", c)
        if composes:
            assert unicodedata.normalize("NFC", chr(first) + chr(second)) == c, hex(cp)
        decomp.append((int(composes) << 63) | (cp << 42) | (first << 21) | second)
    return decomp, ccc_runs


def _rust_array(name: str, ty: str, values, doc: list[str], fmt: str) -> list[str]:
    words = [fmt.format(v) + "," for v in values]
    lines, line = [], "   "
    for w in words:
        if len(line) + 1 + len(w) > 100:
            lines.append(line)
            line = "   "
        line += " " + w
    lines.append(line)
    return [*("/// " + d for d in doc), "#[rustfmt::skip]", f"static {name}: &[{ty}] = &[", *lines, "];"]


def write_rust_tables(rust_file=RUST_FILE):
    """Rewrite the generated block of src/tokenizer.rs (between the BEGIN/END marker lines)."""
    import regex

    rust_file = Path(rust_file)
    runs = class_runs()
    decomp, ccc_runs = nfc_tables()
    block = [
        "// BEGIN GENERATED CHARACTER TABLE (scripts/reference/tokenizer.py write_rust_tables)",
        f"// Python {sys.version.split()[0]}, unicodedata {unicodedata.unidata_version}, "
        f"regex {regex.__version__}. Do not edit by hand.",
        "",
        *_rust_array("CLASS_RUNS", "u32", [(cp << 5) | k for cp, k in runs], [
            "Runs of code points with equal properties, sorted: `first << 5 | sigma << 3 | class`",
            "(class: see [`Class`]; sigma: 0 other, 1 case-ignorable, 2 cased, for the final-sigma rule).",
        ], "0x{:x}"),
        "",
        *_rust_array("CCC_RUNS", "u32", ccc_runs, [
            "Canonical combining class in runs, sorted: `first << 8 | class`.",
        ], "0x{:x}"),
        "",
        *_rust_array("DECOMPOSITIONS", "u64", decomp, [
            "Canonical decompositions (Hangul syllables excepted), sorted by code point:",
            "`composes << 63 | cp << 42 | first << 21 | second` (second 0 for singletons; composes",
            "marks the primary composites, the pairs that NFC recombines).",
        ], "0x{:x}"),
        "// END GENERATED CHARACTER TABLE",
    ]
    src = rust_file.read_text(encoding="utf-8")
    pat = stdlib_re.compile(r"// BEGIN GENERATED CHARACTER TABLE.*?// END GENERATED CHARACTER TABLE",
                            stdlib_re.S)
    if not pat.search(src):
        raise SystemExit(f"{rust_file}: generated-table markers not found")
    src = pat.sub(lambda _m: "\n".join(block), src, count=1)
    rust_file.write_text(src, encoding="utf-8")
    print(f"{rust_file}: {len(runs)} class runs, {len(ccc_runs)} combining-class runs, "
          f"{len(decomp)} decompositions written")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "all"
    if cmd == "small-vocab":
        write_small_vocab()
    elif cmd == "full-vocab":
        write_full_vocab()
    elif cmd == "build":
        build()
    elif cmd == "rust-tables":
        write_rust_tables()
    elif cmd == "compare-fast":
        compare_fast()
    elif cmd == "all":
        write_small_vocab()
        write_full_vocab()
        build()
        write_rust_tables()
    else:
        raise SystemExit("usage: tokenizer.py [all|small-vocab|full-vocab|build|rust-tables|compare-fast]")


if __name__ == "__main__":
    main(sys.argv)
