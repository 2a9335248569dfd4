#!/usr/bin/env python3
"""Reference data for leakscope's CLIP tokenizer (src/tokenizer/), both modes.

One command regenerates everything the Rust tokenizer is checked against, and its tables:

    /work/venv-tok/bin/python scripts/reference/tokenizer.py all

in a venv with scripts/requirements-tokenizer-reference.txt (python 3.11). Parts:

* ``small-vocab`` / ``full-vocab``: vocab.json + merges.txt built from CLIP's BPE merge list, read
  out of the ``openai-clip`` sdist on PyPI (MIT; ``pip download --no-deps``, never installed).
  The 4,000-merge one is the committed fixture tests/fixtures/tiny-clip; the full one (49,408 ids)
  goes to the git-ignored target/reference/clip-vocab-full.
* ``build``: the parity corpus (our own strings, by category) and the ids of both references for
  it, with the small vocabulary (committed, tests/fixtures/tokenizer/) and the full one
  (git-ignored, next to it):
    - hub: transformers 5 ``CLIPTokenizer`` (tokenizers library) from vocab.json + merges.txt +
      tokenizer_config.json, and the same ids from tokenizers' ``Tokenizer.from_file`` on the
      tokenizer.json transformers 5 saves (checked equal; that file is committed as
      tests/fixtures/tokenizer/tiny-clip.tokenizer.json);
    - original: ``clip.simple_tokenizer.SimpleTokenizer`` of openai-clip 1.0.1 (imported from the
      sdist, with its dependencies ftfy and regex), with a merge file cut to the vocabulary.
  For the VLSBench instructions (../shared/vlsbench/data.json) only a hash of the small-vocab ids
  per instruction is committed: ids decode back to the text, and nothing from ../shared may enter
  the repository. The explicit ids go to the git-ignored folder.
* ``embeddings``: text embeddings of the committed tiny checkpoints (transformers 5 CLIPModel,
  torch on CPU) for texts in many scripts, with each mode's ids.
* ``tables``: src/tokenizer/tables.rs (see tokenizer_tables.py).
* ``compare``: how often the two references agree, by category (documentation).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import random
import subprocess
import sys
import tarfile
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SMALL_VOCAB_DIR = REPO / "tests" / "fixtures" / "tiny-clip"
FIXTURE_DIR = REPO / "tests" / "fixtures" / "tokenizer"
FULL_DIR = REPO / "target" / "reference" / "clip-vocab-full"
DOWNLOAD_DIR = REPO / "target" / "reference" / "download"
VLSBENCH_JSON = REPO.parent / "shared" / "vlsbench" / "data.json"
RUST_TABLES = REPO / "src" / "tokenizer" / "tables.rs"
TOKENIZER_JSON_FIXTURE = FIXTURE_DIR / "tiny-clip.tokenizer.json"

OPENAI_CLIP_VERSION = "1.0.1"
BPE_MEMBER = "clip/bpe_simple_vocab_16e6.txt.gz"
BPE_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
# OpenAI's tokenizer reads at most this many merges (lines 1..=48894 of its merge list).
FULL_MERGES = 49152 - 256 - 2
SMALL_MERGES = 4000
CONTEXT = 77
# Pinned in scripts/requirements-tokenizer-reference.txt; checked so a drifted venv fails loudly.
PINS = {"transformers": "5.24.0", "tokenizers": "0.23.3", "ftfy": "6.3.1", "regex": "2026.11.19"}


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
    cache_dir = Path(cache_dir or DOWNLOAD_DIR)
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
# Corpus (our own strings, by category)
# --------------------------------------------------------------------------------------------

def _hand_written() -> dict[str, list[str]]:
    """Strings written for this project, by what they exercise."""
    return {
        "blank": ["", " ", "   ", "\n", "\t", "\r\n", "\x00", "\u3000", "\u00a0", "\u200b", "\ufeff"],
        "prompts": [
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
        ],
        "contractions": [
            "it's", "IT'S", "It'S", "it'S", "It's", "don't", "DON'T", "Don'T", "we're", "WE'RE", "We'Re",
            "they've", "THEY'VE", "I'm", "I'M", "you'll", "YOU'LL", "You'Ll", "he'd", "HE'D",
            "it\u2019s", "IT\u2019S", "it\u2018s", "don\u2019t", "we\u2019re", "rock 'n' roll",
            "'tis the season", "ma'am", "o'clock", "'s", "'S", "''s", "'''", "it'sss", "y'all'd've",
            "can't won't shouldn't", "James's book", "the cats' toys", "'re 've 'm 'll 'd 't",
            "'RE 'VE 'M 'LL 'D 'T", "'x 'y 'z", "a'b'c'd", "'", "''", "' s", "it 's", "'ſ", "it'ſ",
            "dog's", "DOG'S", "Dog'S", "\u2019s", "`s", "\u02bcs",
        ],
        "latin-case": [
            "café", "CAFÉ", "naïve", "NAÏVE", "résumé", "Ångström", "São Paulo", "Zürich", "façade",
            "crème brûlée", "jalapeño", "Zażółć gęślą jaźń", "Příliš žluťoučký kůň", "Tiếng Việt có dấu",
            "Đà Nẵng", "İstanbul", "ISTANBUL ıi İI", "ǅemal ǈubljana", "STRASSE Straße ẞ",
            "Kelvin \u212a", "\u212b", "ſ long s", "œuvre Œuvre", "æsir Æsir", "øl Øl", "þorn Þorn",
            "ðað", "ŉ", "ǰ", "ΐ", "\u0130", "\u0049\u0307",
        ],
        "greek-sigma": [
            "ΟΔΥΣΣΕΥΣ", "ΣΊΣΥΦΟΣ", "Σ", "ΑΣ", "ΑΣ.", "ΑΣ'Σ", "Α.Σ", "ΑΣΑ", "σ ς Σ", "ΑΣ\u0301", "ΑΣ\u00ad",
            "Ἀρχή", "ἀρχὴ", "ᾼ ᾳ ᾲ", "α\u0345", "\u0345", "a\u0345b", "!\u0345!", "ΑΣ\u0345",
            "ΑΣ Β", "ΑΣ\u0295", "Α\u0295Σ", "ΑΣ\u200dΒ",
        ],
        "scripts": [
            "Привет, мир!", "ПРИВЕТ", "Ёжик", "Ґанок", "Բարեւ", "გამარჯობა", "Ꭳ Ꭴ ꮃ", "ⰀⰁ",
            "নমস্কার", "স্বাগতম", "வணக்கம்", "ສະບາຍດີ", "ሰላም ዓለም", "မင်္ဂလာပါ",
            "ᠮᠣᠩᠭᠣᠯ", "བོད་ཡིག", "ꦲꦏ꧀ꦱꦫ", "𐌰𐌱𐌲", "ᚠᚢᚦ", "𓀀𓀁",
            "مرحبا بالعالم", "مَرْحَبًا", "العربية 123", "١٢٣٤٥", "۱۲۳", "שָׁלוֹם עוֹלָם", "עברית",
        ],
        "nfc": [
            "cafe\u0301", "CAFE\u0301", "e\u0301", "\u00e9", "A\u030a", "\u00c5", "n\u0303", "\u00f1",
            "a\u0323\u0302", "a\u0302\u0323", "\u1ead", "\u1100\u1161", "\u1100\u1161\u11a8", "\uac00",
            "\u0301", "\u0301\u0301\u0301", "a\u0301\u0301\u0301", " \u0301", "x \u0308y",
            "\u2126", "\u212b\u030a", "\u0958", "\u0915\u093c", "\u2000a\u2001", "\u0340\u0341",
            "\u0f73", "\u1e9b\u0323", "\u1fef", "\u0387",
            # marks and composites that Python's Unicode 14 knows and the tokenizers library does not
            "a\u0898\u0316", "a\u0301\u07fd", "\U00011935\U00011930", "x\u1abf\u0334",
        ],
        "cjk": [
            "我爱北京天安门", "這是一個測試", "中文English混合", "iPhone手机", "东京タワー",
            "ひらがな カタカナ 漢字", "こんにちは、世界！", "안녕하세요 세계", "한국어 텍스트입니다",
            "ㄱㄴㄷ", "𠀀𠀁𠀂", "𪜀", "豈更車", "\u3400\u4dbf", "\u9fff\ua000", "\u2e80\u2f00", "々〆〇",
            "「引用」『二重』", "【注意】", "〜～", "\U0002f800", "\U00030000\U00031350", "\U0002ebf0",
            "日本語", "这个图片里的人在做什么？", "这个图片里的人在做什么?", "图片中的人在做什么",
            "この画像には何が写っていますか？", "이 사진에 무엇이 있나요?",
        ],
        "punctuation": [
            "!!!???", "...", "…", "—–-", "«quoted»", "“smart quotes”", "‘single’", "„German“",
            "(a)[b]{c}", "@#$%^&*", "a--b", "C++", "C#", "e-mail", "#hashtag", "@mention", "~tilde~",
            "http://example.com/path?x=1&y=2", "https://www.example.org/a_b-c.html#frag",
            "user.name+tag@example.co.uk", ":-) :-( ;-)", "<3", "->", "=>", "!=", "¿Qué?", "¡Hola!",
            "¶§†‡•", "©®™", "°C °F", "±×÷", "∑∏∫√∞", "←↑→↓", "★☆♥♦", "♪♫", "■□▲△", "|||", "___",
            "***bold***", "`code`", "```", "#!/bin/sh", "a/b\\c", "..!..?..", "'.'", "\"", '""', "'\"'",
            "\ufffd", "bad\ufffdbyte", "\ufffd\ufffd",
        ],
        "numbers": [
            "123", "1234567890", "3.14159", "1,000,000", "$100.00", "€50", "£20", "¥1000", "50%",
            "2024-01-15", "10:30pm", "+1 (555) 123-4567", "0x1F", "1e-10", "v2.0.1", "4K", "H2O", "CO₂",
            "x²+y²", "½ ¾ ⅞", "①②③", "Ⅻ ⅻ", "ⅰⅱⅲ", "१२३", "๑๒๓", "𝟘𝟙𝟚", "²³¹", "⁰⁴", "₀₁₂", "〇一二",
            "1st 2nd 3rd 4th", "007", "99 bottles", "-5", "+5", "5-5", "1/2", "1.2.3.4",
        ],
        "whitespace": [
            "a\tb", "a\nb", "a\r\nb", "a\rb", "  leading", "trailing   ", "  both  ", "a  b",
            "a\u00a0b", "a\u3000b", "a\u2003b", "a\u2009b", "a\u202fb", "a\u205fb", "a\u1680b",
            "a\u2028b", "a\u2029b", "a\u180eb", "a\u200bb", "\t\n \r", "line1\nline2\nline3",
            "tab\tseparated\tvalues", "a \u2028 b", "\u2028", "\u2029\u2029x", "a\x0bb\x0cc",
            "a\x1cb\x1dc\x1ed\x1fe", "\x1c a \x1f", "a\x85b", " \x85 ",
        ],
        "unicode-new": [
            # assigned after Python 3.11's Unicode 14: unknown to its unicodedata and str.lower
            "new \U0001fae8 emoji", "\U0001faf8\U0001faf7", "\U00031350 ext H", "\u0cf3", "\U00011f00",
            "\u1c89\u1c8a", "\ua7cb\ua7cc", "\U00010d50\U00010d70", "\U00016ea0 beria", "\U0001e5d0",
            "ΑΣ\U0001fae8", "\U0001fac8\U0001faef",
        ],
    }


def _general_category_strings(rng: random.Random) -> list[str]:
    """Characters of every general category (Python's Unicode 14; Cn split into never-assigned
    characters and those assigned by Unicode 15–17), each alone, between letters and doubled
    after a word. Surrogates (Cs) cannot be in a Rust or JSON string and are left out."""
    import regex

    by_cat: dict[str, list[int]] = {}
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        cat = unicodedata.category(chr(cp))
        if cat == "Cn":
            cat = "Cn-new" if not regex.match(r"\p{Cn}", chr(cp)) else "Cn"
        by_cat.setdefault(cat, []).append(cp)
    out = []
    for cat in sorted(by_cat):
        cps = by_cat[cat]
        picks = sorted(set([cps[0], cps[-1]] + rng.sample(cps, min(len(cps), 8))))
        for cp in picks:
            c = chr(cp)
            out += [c, f"a{c}b", f"Word{c}{c} 1{c}"]
    return out


def _script_mixes(rng: random.Random) -> list[str]:
    """CJK, Japanese, Hangul, Thai and Devanagari runs mixed with Latin (hand-written, then
    generated), where the references disagree most with word-splitting tokenizers."""
    hand = [
        "Describe 这个图片 please", "iPhone手机壳", "a photo of 东京タワー at night", "東京タワーtokyo tower",
        "한국어 text 섞기", "안녕하세요hello", "서울Seoul 2024", "ภาษาไทย mixed with English",
        "สวัสดีครับ hello", "กรุงเทพมหานคร Bangkok", "หมาแมว dog cat", "हिन्दी and English",
        "नमस्ते world", "क्या यह सुरक्षित है?", "日本語とEnglishと한국어とไทยとहिन्दी", "漢字kanji漢字",
        "what is 这个 in 日本語?", "How to make 炸弹 at home", "Is this 안전 to eat?", "price: 100元",
        "Tokyo（東京）", "「Hello」と言った", "C'est 中文 n'est-ce pas", "ok👍好的", "测试test测试",
    ]
    runs = {
        "cjk": [chr(c) for c in range(0x4E00, 0x9FA6)],
        "kana": [chr(c) for c in range(0x3041, 0x3097)] + [chr(c) for c in range(0x30A1, 0x30FB)],
        "hangul": [chr(c) for c in range(0xAC00, 0xD7A4)],
        "thai": [chr(c) for c in range(0x0E01, 0x0E3B)] + [chr(c) for c in range(0x0E40, 0x0E4F)],
        "devanagari": [chr(c) for c in range(0x0905, 0x0940)] + [chr(c) for c in range(0x0940, 0x094E)],
    }
    latin = ["cat", "Photo", "USB", "ok", "x", "hello", "iPhone", "A", "the", "2024"]
    frames = ["{l}{r}", "{r}{l}", "{r} {l}", "{l} {r}{r2}", "{r}{l}{r2}", "{l}-{r}", "{r}, {l}!",
              "{l}{r}'s {l}", "{r}1{r2}", "{l}\u200b{r}"]
    out = list(hand)
    for name, pool in runs.items():
        for frame in frames:
            for _ in range(2):
                r = "".join(rng.choice(pool) for _ in range(rng.randint(1, 6)))
                r2 = "".join(rng.choice(pool) for _ in range(rng.randint(1, 4)))
                out.append(frame.format(l=rng.choice(latin), r=r, r2=r2))
    return out


def _emoji_sequences() -> list[str]:
    seqs = [
        "👨‍👩‍👧‍👦", "👨‍👩‍👧", "👩‍❤️‍👨", "👩‍❤️‍💋‍👩", "👨‍💻", "👩🏽‍🔬", "🧑‍🚀", "🧑🏿‍💻", "👩‍🚒",
        "🏳️‍🌈", "🏳️‍⚧️", "🏴‍☠️", "🐕‍🦺", "🐈‍⬛", "🧔‍♂️", "👁️‍🗨️", "😶‍🌫️", "❤️‍🔥", "❤️‍🩹",
        "🧑🏿‍🤝‍🧑🏻", "🤷‍♀️", "🏃🏽‍♂️‍➡️", "🐦‍🔥", "🍋‍🟩", "🙂‍↔️", "⛓️‍💥",
        "☺", "☺\ufe0e", "☺\ufe0f", "❤", "❤\ufe0f", "✌\ufe0e✌\ufe0f", "⚠️ warning", "™\ufe0f",
        "1️⃣", "#️⃣", "*️⃣", "1\u20e3", "0️⃣9️⃣",
        "🇺🇸", "🇯🇵🇩🇪🇫🇷", "🇬🇧🇨🇳🇮🇳🇧🇷", "🇺🇸🇯", "🇺", "flag 🇰🇷 of korea", "🇦🇶🇪🇺🇺🇳",
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",
        "👍🏻👍🏼👍🏽👍🏾👍🏿", "🏻", "👋🏾 hi", "✋🏿✋",
        "I ❤️ NY", "family: 👨‍👩‍👧", "the 👩‍🔬 scientist's lab", "😀😃😄😁", "🫨🩷🫎🪿🫆",
        "a\u200db", "emoji\u200d\u200d", "\u200d👍", "👍\u200d", "👍\u200d\u200d👍", "👨\u200b👩",
        "🙂🙃", "🔞 nsfw", "💣💥", "🔪🩸", "💊💉", "🍆🍑",
    ]
    return seqs + [s + " test" for s in seqs[:24]] + ["A " + s + " B" for s in seqs[:24]]


def _invisible_and_controls() -> list[str]:
    """Zero-width and bidi characters in context; every C0 and C1 control in context."""
    zero_width = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\u2061", "\u2062",
                  "\u2063", "\u2064", "\ufeff", "\u180e", "\u034f", "\u061c", "\u00ad", "\u115f",
                  "\u3164", "\uffa0", "\u17b4", "\u17b5", "\U0001d173", "\ufe00", "\U000e0100"]
    bidi = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
            "\u206a", "\u206b", "\u206c", "\u206d", "\u206e", "\u206f"]
    out = []
    for c in zero_width + bidi:
        out += [f"word{c}word", f"{c}start", f"end{c}", f"日本{c}語", f"Σ{c}", f"{c}{c}"]
    out += ["abc \u202eevil\u202c", "\u200fRTL mark", "\u200eLTR mark", "\u2066isolate\u2069",
            "می\u200cخواهم", "soft\u00adhyphen", "word\ufeffjoiner", "\ufeffBOM at start",
            "\u202bעברית\u202c and English", "a\u202e\u2066b\u2069\u202cc"]
    for cp in list(range(0x00, 0x20)) + [0x7F] + list(range(0x80, 0xA0)):
        c = chr(cp)
        out += [f"a{c}b", f"{c}word", f"x {c} y"]
    out += ["\x07bell", "\x1b[31mred\x1b[0m", "del\x7f", "next\x85line", "\x1c\x1d\x1e\x1f",
            "\x00\x00abc", "ab\x00cd", "\ue000private", "\U000f0000", "\U0010fffd", "\ufff9\ufffa\ufffb",
            "\ufffc object", "\U000e0001tag", "\u0600\u0601", "\x80\x81\x8d\x8f\x90\x9d", "\x93quoted\x94",
            "price \x80100", "\x85", "caf\xe9", "\x96 dash \x97"]
    return out


def _html_entities() -> list[str]:
    out = [
        "&amp;", "&lt;b&gt;bold&lt;/b&gt;", "&quot;hi&quot;", "&#39;", "&#x27;", "&nbsp;",
        "Tom &amp; Jerry", "&copy; 2024", "&copy 2024", "&COPY;", "<b>bold</b>", "<br/>",
        "<a href=\"x\">link</a>", "<script>alert(1)</script>", "&#128512;", "&#x1F600;",
        "&amp;amp;", "&amp;amp;amp;", "&amp;lt;b&amp;gt;", "&eacute;", "&Eacute;", "&EACUTE;",
        "&eAcute;", "P&EACUTE;REZ", "BUNDESSTRA&SZLIG;E", "&ntilde; &Ntilde; &NTILDE; &nTILDE;",
        "&hellip;", "&mdash; &ndash;", "&rsquo;s", "&ldquo;x&rdquo;", "&#8217;", "&#x2019;",
        "&#0;", "&#1;", "&#9;x", "&#10;x", "&#13;", "&#128;", "&#x80;", "&#150;", "&#x9f;",
        "&#xD800;", "&#xdfff;", "&#1114111;", "&#1114112;", "&#x110000;", "&#xFFFE;", "&#xFDD0;",
        "&#65", "&#x41", "&#65;&#66;&#67;", "&#0x41;", "&#X42;", "&#x;", "&#;", "&#", "&#a;",
        "&lt;&gt;", "Tom &amp; Jerry <b>bold</b> &amp;", "<p>&amp;</p>",
        "line1 &amp;\nline2 <br> &amp;\nline3 &amp;", "&amp;\n&amp;\n<\n&amp;",
        "&ampfoo;", "&notit;", "&not;it", "this&not that", "&bogus;", "&;", "&", "&&&", "& amp;",
        "&amp ", "&AMP;", "&Amp;", "&NotEqualTilde;", "&nbsp;&nbsp;x", "&ThickSpace;", "&NewLine;",
        "&Tab;x", "&zwj;", "&shy;", "&lrm;", "&Jscr;ohn &HilbertSpace;ancock", "&checkmark;",
        "&frac12; &FRAC12;", "&sup2;", "&sup2", "&times;", "&lt", "&gt x", "&quot", "&apos;",
        "&#x26;amp;", "&#38;amp;", "100&#37;", "&euro; &pound; &yen;", "&alpha;&Alpha;&ALPHA;",
        "&sigma;&SIGMA;&sigmaf;&SIGMAF;", "&" + "a" * 24 + ";", "&" + "a" * 25 + ";",
        "&" + "b" * 31 + ";", "&" + "b" * 33 + ";", "&cafè;", "&ampé;", "&amp\u0301;", "&lt;|endoftext|&gt;",
        "&LT;|ENDOFTEXT|&GT;", "&#60;|endoftext|&#62;", "&amp;lt;", "&lt;3", "AT&amp;T", "AT&T",
        "R&D", "Q&A", "fish &amp; chips", "&#8220;quoted&#8221;", "&laquo;x&raquo;", "&OElig;uvre",
        "&oelig;", "&szlig;", "&dagger;&Dagger;", "&trade;", "&reg;", "&deg;C", "&micro;g",
    ]
    return out


def _mojibake() -> list[str]:
    """Text encoded as UTF-8 and decoded with one of the single-byte encodings ftfy knows (or twice,
    or partly, or with lost bytes), as it happens between systems."""
    import ftfy.bad_codecs  # noqa: F401  the sloppy codecs

    sources = [
        "café", "naïve résumé", "Übergrößenträger", "Привет, мир", "Ελληνικά", "Türkçe şarkı",
        "Zażółć gęślą jaźń", "Příliš žluťoučký kůň", "“smart quotes” and ‘single’",
        "it’s — dash… ellipsis", "€100 and £50", "日本語", "😀 emoji", "naïve café — “test”",
        "São Paulo", "Ñandú", "½ cup", "™ ® ©", "à la carte", "Crème brûlée à la mode",
        "ça va? où?", "Årø", "Dvořák", "Łódź", "Ærøskøbing", "Ağrı", "Україна", "μ µ", "°C",
        "¿Qué?", "¡Hola!", "नमस्ते", "한국어", "ไทย", "✔ No problems", "¯\\_(ツ)_/¯",
    ]
    encodings = ["latin-1", "sloppy-windows-1252", "sloppy-windows-1251", "sloppy-windows-1250",
                 "sloppy-windows-1253", "sloppy-windows-1254", "sloppy-windows-1257", "iso-8859-2",
                 "macroman", "cp437"]
    out = []
    for s in sources:
        b = s.encode("utf-8")
        for enc in encodings:
            out.append(b.decode(enc, errors="replace"))
        once = b.decode("sloppy-windows-1252")
        out.append(once.encode("utf-8").decode("sloppy-windows-1252"))  # twice
        out.append("ok " + once + " and " + s)  # mixed with correct text
        out.append(once.replace("\xa0", " "))  # non-breaking spaces lost
        strict = b.decode("windows-1252", errors="replace")
        out += [strict, strict.replace("\ufffd", "?")]  # bytes lost
    out += [
        "voilÃ le travail", "Ã la mode", "fÃ cil", "Ã s vezes", "Ã quele", "sÃ³", "Ã\xa0",
        "â€œ like this â€\ufffd", "âœ” No problems", "&macr;\\_(ã\x83\x84)_/&macr;",
        "The Mona Lisa doesnÃƒÂ¢Ã¢â€šÂ¬Ã¢â€žÂ¢t have eyebrows.", "l\u00c3\u00a0", "Ã¢â‚¬Å“",
        "ÃƒÂ©", "Ã©Ã©Ã©", "Ã©t\u00e9", "caf\u00c3\u00a9 caf\u00e9", "\xc3\xa9", "Ã", "Ã ",
        # CESU-8 and Java's NUL, read as Windows-1252
        b"\xed\xa0\xbd\xed\xb8\x8d".decode("sloppy-windows-1252"),
        b"x\xc0\x80y".decode("sloppy-windows-1252"),
        b"\xed\xa0\xbd\xed\xb8\x8d and \xc3\xa9".decode("latin-1"),
        "ГўВЂВњquotedГўВЂВќ text", "вЂњquotesвЂќ", "β€™s", "ā€“", "√©", "‚Äú",
    ]
    return out


def _widths_ligatures_quotes() -> list[str]:
    out = [f"x{chr(cp)}y" for cp in range(0xFF01, 0xFF5F)]
    out += [
        "ＬＯＵＤ　ＮＯＩＳＥＳ", "Ｕﾀｰﾝ", "ＡＢＣ１２３ｘｙｚ", "ｶﾀｶﾅ ﾊﾝｶｸ", "ｱｲｳｴｵ ｶﾞｷﾞ ﾊﾟﾋﾟ",
        "￠￡￢￣￤￥￦", "\uffa0", "\uffc2\uffc3\uffa1", "｡｢｣､･", "全角スペース\u3000入り", "ｈｅｌｌｏ　ｗｏｒｌｄ",
        "ＩＴ＇Ｓ", "＜｜ｅｎｄｏｆｔｅｘｔ｜＞", "１２３４５", "｟｠", "￨￩￪￫￬￭￮",
    ]
    from ftfy.chardata import LIGATURES

    for cp in sorted(LIGATURES):
        c = chr(cp)
        out += [f"x{c}y", f"{c}", f"{c.upper()}{c}"]
    out += ["ﬂuﬃeﬆ", "ﬁne ﬂour ﬀ", "Ĳssel ĳs", "ﬓﬔ", "ﭏ", "ﷺ", "ǅemal ǈubljana ǋ", "ﬅ", "ﬆ",
            "\u2018single\u2019", "\u201chello\u201d", "\u201a\u201b\u201e\u201f", "\u02bcokina",
            "it\u2019s", "\u2019\u2019\u2019", "\u201c\u201d", "‹›«»", "a\r\nb", "a\rb", "a\u2028b",
            "a\u2029b", "a\x85b", "\r\n\r\n", "x\r\r\ny", "\x1b[31mred\x1b[0m", "\x1b[1;32mbold green",
            "\x1b[٣mx", "\x1b[m", "\x1b[12", "\x1b]0;title\x07", "\x1b[31;1;4mok\x1b[0m", "\x1b[ab",
            "\x1b[", "\x1b", "a\x1b[2Jb"]
    return out


def _special_tokens() -> list[str]:
    return [
        "<|endoftext|>", "<|startoftext|>", "<|ENDOFTEXT|>", "<|StartOfText|>", "a<|endoftext|>b",
        "<|endoftext|><|endoftext|>", "<|<|endoftext|>", "<|endoftext|>|>", "<|endoftext",
        "endoftext|>", "!<|endoftext|>", "!<|ENDOFTEXT|>", "x<|ENDOFTEXT|>y", "<|ſtartoftext|>",
        "<|startoftext|>hello<|endoftext|>", " <|endoftext|> ", "<|endoftext|>\u200b",
        "<| endoftext |>", "<|endoftext|>s", "'<|endoftext|>", "<|startoftext|>'s",
        "<|endoftext|'s", "<|ENDOFTEXT|>'S", "<||>", "<|>", "日本<|endoftext|>語", "<|EndOfText|>",
        "<|endoftext|>\n<|startoftext|>", "<|endoftext|>" * 3, "a <|startoftext|> b <|endoftext|> c",
        "<|endofTEXT|>x", "<\u200b|endoftext|>", "<|endoftext\u200d|>", "<|endoftext|>\ufe0f",
        "﹤|endoftext|﹥", "<|endoftext|>&amp;", "\u0130<|endoftext|>", "ΑΣ<|endoftext|>",
        "<|startoftext|><|startoftext|>", "x<|startoftext|>", "<|endoftext|>'", "<|endoftext|>!!",
    ]


def _long_inputs() -> list[str]:
    """Far over 77 tokens (each still well under 200 ids, to keep the committed ids small)."""
    para = ("A crowded market street at dusk, with vendors selling fruit, lanterns hanging overhead, "
            "children chasing pigeons, and a musician playing an accordion near the fountain. ")
    return [
        para * 3, para.upper(), "a " * 120, "a" * 300, "ab" * 150, "word " * 90,
        "supercalifragilisticexpialidocious" * 8, "1234567890" * 10, "👍" * 60, "我" * 60,
        "!?" * 90, "it's " * 50, "\u0301" * 60, "é" * 80, "x\u200d" * 50, "ΑΣ " * 40,
        " ".join(str(i) for i in range(60)), "&amp;" * 40, "<|endoftext|>" * 90,
        ("Σίσυφος " + "مرحبا " + "안녕 " + "🙂 ") * 6, "e\u0301" * 100, "日本語" * 25,
        "😀" * 50, "ab1" * 60, "-" * 300, "'s" * 100, "Ⅻ" * 50, "ﬁ" * 80, "ｗ" * 80,
        "Ã©" * 50, "ﾊﾟ" * 40, "x" * 400, "🇺🇸" * 25, "👨‍👩‍👧" * 12, "ก" * 100, "क्ष" * 40,
    ]


def _context_cut() -> list[str]:
    """Strings whose tokens end just before, at and after the 77-token cut (75 ids between the
    special tokens), with different last words."""
    tails = ["", "cat", "pneumonoultramicroscopicsilicovolcanoconiosis", "日本語テキスト",
             "👨‍👩‍👧‍👦", "<|endoftext|>", "it's", "&amp;", "ﬁne", "Ã©tÃ©"]
    out = []
    for n in range(71, 79):
        for tail in tails:
            out.append(("a " * n + tail).rstrip(" "))
    return out


def _systematic(rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    tricky = [
        "é", "e\u0301", "ß", "İ", "ı", "Σ", "ς", "ſ", "ﬁ", "Å", "\u212a", "\u0345", "\u0307",
        "我", "カ", "ｶ", "한", "\u1100", "👍", "🏽", "\u200d", "\u200c", "\ufe0f", "\u20e3",
        "\u00ad", "\u200e", "\u202e", "\ufffd", "\x00", "\x07", "\x85", "\t", "\n", "\u00a0",
        "\u3000", "\u2028", "\u2029", "\u180e", "’", "'", "\"", "&", "<", "|", ">", "-", "_",
        ".", ",", "!", "?", "1", "٣", "½", "²", "①", "Ⅻ", "$", "%", "#", "@", "م", "ש", "\u064b",
        "\u05b8", "ऩ", "\u093c", "ก", "\u0e31", "😀", "🇺", "\U0001fae8", "\U000e0061", "\ue000",
        "Ã", "©", "\x80", "ï", "¿", "\u2019", "\u201c", "Ｘ", "ĳ", "&amp;", "&#x41;",
    ]
    templates = ["x{c}y", "{c}{c}", "{c} word", "WORD{c}'S", "ΑΣ{c}", "{c}'s", "a {c} b {c}", "{c}"]
    systematic = [t.format(c=c) for c in tricky for t in templates]
    subjects = ["cat", "dog", "man", "woman", "child", "car", "bicycle", "knife", "pill bottle",
                "house", "tree", "robot", "bird", "street", "kitchen", "computer", "Café", "Übermensch",
                "東京", "ソウル", "서울", "🐱", "Σπίτι", "дом", "بيت", "בית", "crème", "naïve"]
    frames = ["a photo of a {s}", "A PICTURE OF THE {s}.", "what's the {s} doing?", "{s}'s shadow",
              "there's a {s}, isn't there?", "#{s} #photo", "{s}\u00a0\u00a0{s}", "“{s}”"]
    captions = [f.format(s=s) for s in subjects for f in frames]
    pool = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 '.,!?-&<>|\";#")
            + tricky + ["it's", "DON'T", "café", "我们", "👨‍👩‍👧", "ΟΔΟΣ", "ﬀ", "  ", "\r\n",
                        "&lt;", "â€", "Ã©", "\u00a0"])
    rand = []
    for _ in range(250):
        n = rng.randint(1, 40)
        rand.append("".join(rng.choice(pool) for _ in range(n)))
    for _ in range(100):
        cps = []
        for _ in range(rng.randint(1, 12)):
            lo, hi = rng.choice([(0x20, 0x7F), (0x80, 0x250), (0x300, 0x370), (0x370, 0x530),
                                 (0x590, 0x700), (0x900, 0xE80), (0x1100, 0x1200), (0x1E00, 0x2000),
                                 (0x2000, 0x2BFF), (0x3000, 0x3100), (0x4E00, 0x9FFF), (0xAC00, 0xD7A4),
                                 (0xF900, 0xFFFF), (0x1F300, 0x1FAFF), (0x20000, 0x2A6DF), (0xE0000, 0xE0080)])
            cps.append(chr(rng.randrange(lo, hi)))
        rand.append("".join(cps))
    return systematic, captions, rand


def corpus() -> list[tuple[str, str]]:
    """The parity corpus as (category, text), deterministic, without repeats (a text is kept in
    the first category that has it). Every string is written or generated by this script."""
    rng = random.Random(20260517)
    systematic, captions, rand = _systematic(rng)
    parts = dict(_hand_written())
    parts.update({
        "general-category": _general_category_strings(rng),
        "script-mix": _script_mixes(rng),
        "emoji": _emoji_sequences(),
        "invisible-controls": _invisible_and_controls(),
        "html-entities": _html_entities(),
        "mojibake": _mojibake(),
        "width-ligature-quote": _widths_ligatures_quotes(),
        "special-tokens": _special_tokens(),
        "long": _long_inputs(),
        "context-cut": _context_cut(),
        "systematic": systematic,
        "captions": captions,
        "random": rand,
    })
    seen, out = set(), []
    for category, texts in parts.items():
        for t in texts:
            if t not in seen:
                seen.add(t)
                out.append((category, t))
    return out

# --------------------------------------------------------------------------------------------
# Reference tokenizers
# --------------------------------------------------------------------------------------------

def check_pins():
    import ftfy
    import regex
    import tokenizers
    import transformers

    found = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
             "ftfy": ftfy.__version__, "regex": regex.__version__}
    if found != PINS:
        raise SystemExit(f"reference versions {found}, pinned {PINS}: "
                         "install scripts/requirements-tokenizer-reference.txt")
    assert sys.version_info[:2] == (3, 11) and unicodedata.unidata_version == "14.0.0"


SPECIAL_CONFIG = {
    "added_tokens_decoder": {},
    "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
    "unk_token": "<|endoftext|>", "model_max_length": CONTEXT, "tokenizer_class": "CLIPTokenizer",
}


def hub_tokenizer(vocab_dir: Path):
    """transformers 5's CLIPTokenizer from vocab.json + merges.txt, with the special tokens as CLIP
    repositories' tokenizer_config.json declares them (normalized: true)."""
    from transformers import CLIPTokenizer

    vocab = json.loads((vocab_dir / "vocab.json").read_text(encoding="utf-8"))
    config = json.loads(json.dumps(SPECIAL_CONFIG))
    for name in ("<|startoftext|>", "<|endoftext|>"):
        config["added_tokens_decoder"][str(vocab[name])] = {
            "content": name, "lstrip": False, "normalized": True, "rstrip": False,
            "single_word": False, "special": True}
    (vocab_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    tok = CLIPTokenizer.from_pretrained(str(vocab_dir))
    for t in tok.added_tokens_decoder.values():
        assert t.normalized, t
    return tok


def original_tokenizer(n_merges: int):
    """OpenAI's SimpleTokenizer from the openai-clip sdist, on a merge list cut to n_merges (the
    ids then equal the vocab.json built from the same merges)."""
    sdist = DOWNLOAD_DIR / f"openai-clip-{OPENAI_CLIP_VERSION}.tar.gz"
    _bpe_gz_bytes()  # downloads the sdist when missing
    src = DOWNLOAD_DIR / f"openai-clip-{OPENAI_CLIP_VERSION}"
    if not (src / "clip" / "simple_tokenizer.py").exists():
        with tarfile.open(sdist) as tar:
            tar.extractall(DOWNLOAD_DIR, filter="data")
    spec = importlib.util.spec_from_file_location(
        "openai_clip_simple_tokenizer", src / "clip" / "simple_tokenizer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = gzip.decompress(_bpe_gz_bytes()).decode("utf-8").split("\n")
    bpe = DOWNLOAD_DIR / f"bpe_{n_merges}.txt.gz"
    bpe.write_bytes(gzip.compress("\n".join(lines[: n_merges + 1]).encode("utf-8"), mtime=0))
    return module.SimpleTokenizer(str(bpe))


def hub_ids(tok, texts):
    """Untruncated ids, after checking transformers' padded-77 row against the documented rule
    ([bos] + first 75 + [eos] + pad)."""
    out = []
    pad = tok.pad_token_id
    for t in texts:
        ids = tok(t)["input_ids"]
        p = tok(t, padding="max_length", max_length=CONTEXT, truncation=True)["input_ids"]
        body = ids[1:-1][: CONTEXT - 2]
        assert p == [ids[0]] + body + [ids[-1]] + [pad] * (CONTEXT - 2 - len(body)), repr(t)
        out.append(ids)
    return out


def original_ids(tok, texts):
    sot, eot = tok.encoder["<|startoftext|>"], tok.encoder["<|endoftext|>"]
    return [[sot] + tok.encode(t) + [eot] for t in texts]


def tokenizer_json_ids(path: Path, texts):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    return [e.ids for e in tok.encode_batch(texts)]


def fnv1a32(ids) -> str:
    """FNV-1a (64-bit) of the ids as little-endian u32 bytes, its low 32 bits as 8 hex digits."""
    h = 0xCBF29CE484222325
    for i in ids:
        for byte in int(i).to_bytes(4, "little"):
            h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h & 0xFFFFFFFF:08x}"


def _dump(path: Path, obj, sizes: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
    path.write_text(data, encoding="utf-8")
    sizes[os.path.relpath(path, REPO)] = len(data.encode("utf-8"))


def _vlsbench_rows():
    if not VLSBENCH_JSON.exists():
        print(f"SKIP: {VLSBENCH_JSON} not found; no VLSBench expectations written")
        return None
    rows = json.loads(VLSBENCH_JSON.read_text(encoding="utf-8"))
    return [(int(r["instruction_id"]), r["instruction"]) for r in rows]


def references(texts):
    """Ids of both references, both vocabularies: {(mode, vocab): [ids per text]}."""
    import transformers
    import ftfy
    import regex
    import tokenizers

    out = {}
    for label, vocab_dir, n in (("small", SMALL_VOCAB_DIR, SMALL_MERGES), ("full", FULL_DIR, FULL_MERGES)):
        scratch = FULL_DIR.parent / f"hub-{label}"
        scratch.mkdir(parents=True, exist_ok=True)
        for f in ("vocab.json", "merges.txt"):
            (scratch / f).write_bytes((vocab_dir / f).read_bytes())
        hub = hub_tokenizer(scratch)
        # Saved before any call: a padded call leaves padding and truncation in the backend,
        # which save_pretrained would write into tokenizer.json (the hub's files have neither).
        hub.save_pretrained(str(scratch / "saved"))
        out[("hub", label)] = hub_ids(hub, texts)
        from_json = tokenizer_json_ids(scratch / "saved" / "tokenizer.json", texts)
        diff = sum(a != b for a, b in zip(from_json, out[("hub", label)]))
        assert diff == 0, f"{diff} texts: tokenizer.json under tokenizers differs from transformers 5"
        if label == "small":
            saved = json.loads((scratch / "saved" / "tokenizer.json").read_text(encoding="utf-8"))
            TOKENIZER_JSON_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
            TOKENIZER_JSON_FIXTURE.write_text(
                json.dumps(saved, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
            assert tokenizer_json_ids(TOKENIZER_JSON_FIXTURE, texts) == from_json
            # The split pattern as transformers' converter writes it (openai/clip-vit-large-patch14),
            # without the special-token alternatives: the same ids (the Rust test checks it too).
            split = saved["pre_tokenizer"]["pretokenizers"][0]["pattern"]
            split["Regex"] = split["Regex"].replace(r"<\|startoftext\|>|<\|endoftext\|>|", "")
            assert split["Regex"] == r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
            variant = scratch / "converter-pattern.tokenizer.json"
            variant.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
            assert tokenizer_json_ids(variant, texts) == from_json
        orig = original_tokenizer(n)
        out[("original", label)] = original_ids(orig, texts)
        vocab = json.loads((vocab_dir / "vocab.json").read_text(encoding="utf-8"))
        assert vocab == orig.encoder, f"{label} vocab.json is not OpenAI's construction"
    return out, {
        "hub": f"transformers {transformers.__version__} CLIPTokenizer (tokenizers {tokenizers.__version__}), "
               "special tokens normalized as in CLIP's tokenizer_config.json",
        "original": f"openai-clip {OPENAI_CLIP_VERSION} SimpleTokenizer (ftfy {ftfy.__version__}, "
                    f"regex {regex.__version__}, Python {sys.version.split()[0]})",
    }


def build():
    """Corpus and expected ids of both modes (committed: small vocabulary; git-ignored: full)."""
    check_pins()
    if not (SMALL_VOCAB_DIR / "vocab.json").exists():
        write_small_vocab()
    if not (FULL_DIR / "vocab.json").exists():
        write_full_vocab()
    items = corpus()
    texts = [t for _, t in items]
    rows = _vlsbench_rows() or []
    vls_texts = [t for _, t in rows]
    refs, names = references(texts + vls_texts)
    sizes: dict[str, int] = {}
    counts: dict[str, int] = {}
    for c, _ in items:
        counts[c] = counts.get(c, 0) + 1
    _dump(FIXTURE_DIR / "corpus.json", {
        "note": "Parity corpus of scripts/reference/tokenizer.py: [category, text] pairs",
        "categories": counts, "texts": [[c, t] for c, t in items]}, sizes)
    n = len(texts)
    for label, folder, vocab in (("small", FIXTURE_DIR, "tiny-clip (4000 merges)"),
                                 ("full", FULL_DIR, "CLIP (48894 merges)")):
        hub, orig = refs[("hub", label)][:n], refs[("original", label)][:n]
        _dump(folder / "expected.json", {
            "note": "untruncated ids per corpus text, [bos] ... [eos]; padded to 77 they are [bos] + the "
                    "first 75 ids + [eos] + pad (hub: <|endoftext|>, original: 0), checked by the "
                    "generator for hub. original: null where the ids equal hub's",
            "vocab": vocab, "context_length": CONTEXT,
            "hub": {"reference": names["hub"], "ids": hub},
            "original": {"reference": names["original"],
                         "ids": [None if o == h else o for h, o in zip(hub, orig)]},
        }, sizes)
    if rows:
        keys = [k for k, _ in rows]
        vls = {"note": "per instruction_id of ../shared/vlsbench/data.json, per mode: FNV-1a-64 (low 32 "
                       "bits) of the small-vocab ids, u32 little-endian; the ids themselves decode back "
                       "to the text and are not committed", "instruction_id": keys}
        for mode in ("hub", "original"):
            vls[mode] = [fnv1a32(ids) for ids in refs[(mode, "small")][n:]]
            for label in ("small", "full"):
                _dump(FULL_DIR / f"vlsbench_{mode}_{label}.json",
                      {"reference": names[mode], "instruction_id": keys, "ids": refs[(mode, label)][n:]}, sizes)
        _dump(FIXTURE_DIR / "vlsbench_ids.json", vls, sizes)
    for k, v in sizes.items():
        print(f"{v:>9} bytes  {k}")
    print(f"corpus: {n} strings in {len(counts)} categories; VLSBench: {len(rows)} instructions")
    for c, k in counts.items():
        print(f"    {k:>5}  {c}")


def compare():
    """How often the references agree with each other, per category (full vocabulary)."""
    items = corpus()
    expected = json.loads((FULL_DIR / "expected.json").read_text(encoding="utf-8"))
    hub = expected["hub"]["ids"]
    orig = [h if o is None else o for h, o in zip(hub, expected["original"]["ids"])]
    per: dict[str, list[int]] = {}
    for (c, _), a, b in zip(items, hub, orig):
        per.setdefault(c, [0, 0])
        per[c][0] += a == b
        per[c][1] += 1
    total = [sum(v[0] for v in per.values()), sum(v[1] for v in per.values())]
    print(f"hub == original on {total[0]}/{total[1]} corpus strings")
    for c, (same, n) in per.items():
        print(f"    {same:>5}/{n:<5} {c}")
    rows = _vlsbench_rows()
    if rows:
        hub = json.loads((FULL_DIR / "vlsbench_hub_full.json").read_text(encoding="utf-8"))["ids"]
        orig = json.loads((FULL_DIR / "vlsbench_original_full.json").read_text(encoding="utf-8"))["ids"]
        print(f"hub == original on {sum(a == b for a, b in zip(hub, orig))}/{len(rows)} VLSBench instructions")


# --------------------------------------------------------------------------------------------
# Text embeddings of the committed checkpoints
# --------------------------------------------------------------------------------------------

EMBED_TEXTS = [
    "a photo of a cat", "日本語", "这个图片里的人在做什么？", "Describe 这个图片 please",
    "東京タワーtokyo tower", "この画像には何が写っていますか？", "안녕하세요 hello 세계", "서울Seoul 2024",
    "ภาษาไทย mixed with English", "สวัสดีครับ", "नमस्ते world", "क्या यह सुरक्षित है?",
    "Привет, мир!", "ΟΔΟΣ Σίσυφος", "مرحبا بالعالم", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 🇯🇵", "a\u200bb\u200dc",
    "&amp; &lt;b&gt; caf&eacute;", "cafÃ© naÃ¯ve", "ＬＯＵＤ ﬁne “quotes”", "<|ENDOFTEXT|> end",
    " ".join(["日本語とEnglish"] * 20),
]


def embeddings():
    """Normalised text embeddings of tiny-clip and tiny-clip-gelu from transformers 5's
    CLIPModel (torch, CPU, one thread), for EMBED_TEXTS tokenized by each reference."""
    check_pins()
    import numpy as np
    import torch
    from transformers import CLIPModel

    torch.set_num_threads(1)
    scratch = FULL_DIR.parent / "hub-small"
    hub = hub_tokenizer(scratch) if (scratch / "vocab.json").exists() else None
    if hub is None:
        raise SystemExit("run `tokenizer.py build` first")
    orig = original_tokenizer(SMALL_MERGES)
    rows = {
        "hub": [hub(t, padding="max_length", max_length=CONTEXT, truncation=True)["input_ids"]
                for t in EMBED_TEXTS],
        "original": [],
    }
    for ids in original_ids(orig, EMBED_TEXTS):  # clip.tokenize(truncate=True): zeros after eot
        if len(ids) > CONTEXT:
            ids = ids[:CONTEXT]
            ids[-1] = orig.encoder["<|endoftext|>"]
        rows["original"].append(ids + [0] * (CONTEXT - len(ids)))
    out = {"reference": f"transformers {PINS['transformers']} CLIPModel.get_text_features, torch "
                        f"{torch.__version__} CPU float32, L2-normalised", "texts": EMBED_TEXTS}
    for name in ("tiny-clip", "tiny-clip-gelu"):
        model = CLIPModel.from_pretrained(str(REPO / "tests" / "fixtures" / name),
                                          attn_implementation="eager").eval()
        out[name] = {}
        for mode, ids in rows.items():
            with torch.no_grad():
                feats = model.get_text_features(input_ids=torch.tensor(ids))
            if not isinstance(feats, torch.Tensor):
                feats = feats.pooler_output
            feats = feats / feats.norm(dim=-1, keepdim=True)
            out[name][mode] = {"ids": ids, "embeds": [[float(x) for x in row]
                                                      for row in feats.numpy().astype(np.float32)]}
    sizes: dict[str, int] = {}
    _dump(FIXTURE_DIR / "embeddings.json", out, sizes)
    for k, v in sizes.items():
        print(f"{v:>9} bytes  {k}")


def tables():
    check_pins()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import tokenizer_tables

    tokenizer_tables.write_tables(RUST_TABLES, "scripts/reference/tokenizer.py tables")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "all"
    commands = {
        "small-vocab": write_small_vocab, "full-vocab": write_full_vocab, "build": build,
        "embeddings": embeddings, "tables": tables, "compare": compare,
    }
    if cmd == "all":
        write_small_vocab()
        write_full_vocab()
        build()
        embeddings()
        tables()
        compare()
    elif cmd in commands:
        commands[cmd]()
    else:
        raise SystemExit(f"usage: tokenizer.py [all|{'|'.join(commands)}]")


if __name__ == "__main__":
    main(sys.argv)
