"""Writes src/tokenizer/tables.rs, the data leakscope's tokenizer takes from its two references.

Called by ``scripts/reference/tokenizer.py tables`` (or ``all``) in the tokenizer reference venv
(scripts/requirements-tokenizer-reference.txt). Every table is read out of the reference
implementations themselves, never typed in, because their Unicode versions differ and matter:

* the ``hub`` mode follows the ``tokenizers`` library: Oniguruma's ``\\s``, ``\\p{L}``, ``\\p{N}``
  (probed through a ``Replace`` normaliser), its NFC (an older Unicode than Python's: the marks
  and composites it does not know are listed), and its ``Lowercase`` (Rust's per-character
  lowercase as that library was compiled);
* the ``original`` mode follows OpenAI's tokenizer: Python 3.11's ``str`` methods and
  ``unicodedata`` (Unicode 14), the ``regex`` module's classes under IGNORECASE, and ftfy's
  character sets, codecs, mojibake heuristics (parsed out of its compiled regular expressions) and
  Python's ``html`` entity tables.

The file is written whole; a header says which command wrote it and from which versions.
"""

from __future__ import annotations

import codecs
import html
import html.entities
import re
import re._parser as sre_parse  # noqa: the parse tree of ftfy's regexes, read, never executed
import sys
import unicodedata
from pathlib import Path

# Bits of one CHAR_RUNS tag (see write_tables' doc lines for the Rust side).
HUB_CLASSES = ["SPACE", "LETTER", "NUMBER", "OTHER"]
ORIG_CLASSES = ["SPACE", "LETTER", "NUMBER", "OTHER", "SKIP"]
PY_CATS = ["OTHER", "ALNUM", "DECIMAL", "UNASSIGNED"]

SURROGATES = range(0xD800, 0xE000)


def code_points():
    return (cp for cp in range(0x110000) if cp not in SURROGATES)


# --------------------------------------------------------------------------------------------
# Per-code-point classes
# --------------------------------------------------------------------------------------------

def hub_probes():
    """Oniguruma's classes as the tokenizers library compiled them: a Replace normaliser that
    deletes one class tells, character by character, whether the class matches."""
    from tokenizers import Regex, normalizers

    return [normalizers.Replace(Regex(p), "") for p in (r"\s", r"\p{L}", r"\p{N}")]


def hub_class(c: str, probes) -> int:
    space, letter, number = probes
    if space.normalize_str(c) == "":
        return 0
    if letter.normalize_str(c) == "":
        return 1
    if number.normalize_str(c) == "":
        return 2
    return 3


def original_probes():
    import regex

    return (
        regex.compile(r"\s"),
        regex.compile(r"[\p{L}]", regex.IGNORECASE),
        regex.compile(r"[\p{N}]", regex.IGNORECASE),
        regex.compile(r"[^\s\p{L}\p{N}]", regex.IGNORECASE),
    )


def original_class(c: str, probes) -> int:
    """The class OpenAI's tokenizer sees: ``regex``'s ``\\s`` (whitespace_clean), then which of the
    pattern's ``[\\p{L}]+``, ``[\\p{N}]``, ``[^\\s\\p{L}\\p{N}]+`` (IGNORECASE) matches; SKIP when none
    does (U+0345, which IGNORECASE folds out of every class)."""
    space, letter, number, other = probes
    if space.fullmatch(c):
        return 0
    for k, rx in enumerate((letter, number, other)):
        if rx.fullmatch(c):
            return 1 + k
    return 4


def py_cat(c: str) -> int:
    """Python 3.11 facts ftfy's stdlib regexes depend on: ``\\w`` (isalnum), ``\\d`` (isdecimal),
    and whether unicodedata 14 knows the character at all (str.lower leaves unknown ones alone)."""
    if unicodedata.category(c) == "Cn":
        return 3
    if c.isdecimal():
        return 2
    if c.isalnum():
        return 1
    return 0


def sigma_class(c: str) -> int:
    """How Python's ``str.lower()`` treats ``c`` next to a capital sigma (the Final_Sigma rule):
    0 neither cased nor case-ignorable, 1 case-ignorable, 2 cased. Probed, not looked up."""
    alone = (c + "\u03a3").lower()[-1] == "\u03c2"
    behind = ("\u0391" + c + "\u03a3").lower()[-1] == "\u03c2"
    if behind and not alone:
        return 1
    if alone and behind:
        return 2
    if not alone and not behind:
        return 0
    raise AssertionError(f"U+{ord(c):04X}: inconsistent final-sigma behaviour")


def char_runs():
    hp, op = hub_probes(), original_probes()
    runs, prev = [], None
    for cp in code_points():
        c = chr(cp)
        tag = (hub_class(c, hp) | original_class(c, op) << 2 | int(c.isspace()) << 5
               | py_cat(c) << 6 | sigma_class(c) << 8)
        if tag != prev:
            runs.append((cp << 11) | tag)
            prev = tag
    return runs


# --------------------------------------------------------------------------------------------
# Lowercase
# --------------------------------------------------------------------------------------------

def lower_tables():
    """The hub's per-character lowercase (tokenizers' Lowercase normaliser) as runs, checked
    against Python's str.lower: they may differ only on characters unassigned in Python's
    Unicode 14 (which str.lower leaves alone) and on the final sigma (Python's, done in code).

    LOWER_RUNS: ``first << 43 | count << 30 | stride << 29 | (delta + 2**28)``: ``count``
    characters from ``first`` in steps of ``stride + 1`` each map to ``cp + delta``.
    LOWER_MULTI: characters whose lowercase is longer than one character."""
    from tokenizers import normalizers

    low = normalizers.Lowercase()
    single, multi = {}, []
    for cp in code_points():
        if cp < 0x80:
            continue
        c = chr(cp)
        hub = low.normalize_str(c)
        py = c.lower()
        if hub != py:
            assert unicodedata.category(c) == "Cn", (hex(cp), hub, py)
        if hub == c:
            continue
        if len(hub) == 1:
            single[cp] = ord(hub) - cp
        else:
            multi.append((cp, hub))
    runs, cps = [], sorted(single)
    i = 0
    while i < len(cps):
        first, delta = cps[i], single[cps[i]]
        best = 1
        stride_best = 0
        for stride in (1, 2):
            n = 1
            while (i + n < len(cps) and cps[i + n] == first + n * stride
                   and single[cps[i + n]] == delta):
                n += 1
            if n > best:
                best, stride_best = n, stride - 1
        runs.append((first, best, stride_best, delta))
        i += best
    packed = []
    for first, count, stride, delta in runs:
        assert count < 1 << 13 and -(1 << 28) <= delta < 1 << 28
        packed.append(first << 43 | count << 30 | stride << 29 | (delta + (1 << 28)))
    return packed, multi


# --------------------------------------------------------------------------------------------
# NFC
# --------------------------------------------------------------------------------------------

def nfc_tables():
    """Python's (unicodedata 14) canonical data.

    DECOMPOSITIONS: ``composes << 63 | cp << 42 | first << 21 | second`` for every character with
    a canonical decomposition (Hangul syllables excepted: algorithmic), second 0 for singletons,
    ``composes`` on the primary composites NFC recombines. CCC_RUNS: ``first << 8 | class``."""
    decomp, ccc_runs, prev = [], [], None
    for cp in code_points():
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


def hub_nfc_unknown():
    """Characters the tokenizers library's NFC (an older Unicode) does not know: marks it treats
    as starters, and composites it neither decomposes nor composes. Found by probing; the result
    is then checked: Python's NFC with these characters made inert equals the library's NFC on
    every probe string."""
    from tokenizers import normalizers

    nfc = normalizers.NFC()
    unknown = []
    for cp in code_points():
        c = chr(cp)
        k = unicodedata.combining(c)
        if k:
            # A known mark of class k moves after U+0334 (class 1), or before U+0301 (230) if k is 1;
            # 'x' composes with neither probe mark.
            probe = "x" + c + "\u0334" if k > 1 else "x\u0301" + c
            if nfc.normalize_str(probe) == probe:
                unknown.append(cp)
            continue
        d = unicodedata.decomposition(c)
        if d and not d.startswith("<") and len(d.split()) == 2 and unicodedata.is_normalized("NFC", c):
            parts = "".join(chr(int(x, 16)) for x in d.split())
            if nfc.normalize_str(parts) != c:
                unknown.append(cp)
    inert = {chr(cp): chr(0xF0000 + i) for i, cp in enumerate(unknown)}  # private-use stand-ins
    back = {v: k for k, v in inert.items()}

    def python_with_inert(s):
        t = "".join(inert.get(ch, ch) for ch in s)
        return "".join(back.get(ch, ch) for ch in unicodedata.normalize("NFC", t))

    for cp in code_points():
        c = chr(cp)
        if c in back:
            continue
        for s in ("a" + c + "\u0316", "a\u0301" + c, c + "\u0301", c + "\u0f71", "\u1100" + c,
                  c + "\u3099", "\u0915" + c, c):
            assert nfc.normalize_str(s) == python_with_inert(s), (hex(cp), s)
    return unknown


# --------------------------------------------------------------------------------------------
# ftfy and html
# --------------------------------------------------------------------------------------------

def ftfy_charmaps():
    """ftfy's single-byte encodings, in its order: the 128 characters of bytes 0x80..=0xFF, and
    what byte 0x1A decodes to (U+FFFD in the 'sloppy' codecs, which use it for lossy input)."""
    import ftfy.bad_codecs  # noqa: F401  registers the sloppy codecs
    from ftfy import chardata

    maps, subs = [], []
    for enc in chardata.CHARMAP_ENCODINGS:
        for b in range(0x80):
            if b != 0x1A:
                assert bytes([b]).decode(enc) == chr(b), (enc, b)
        high = bytes(range(0x80, 0x100)).decode(enc)
        assert len(high) == 128 and "\ufffd" not in high and all(0x80 <= ord(c) < 0x10000 for c in high)
        assert len(set(high)) == 128, enc
        maps.append([ord(c) for c in high])
        sub = bytes([0x1A]).decode(enc)
        assert sub in ("\x1a", "\ufffd")
        subs.append(sub == "\ufffd")
        # Encoding is the exact inverse of decoding (what `possible_encoding` admits encodes).
        assert (high + sub).encode(enc) == bytes(range(0x80, 0x100)) + b"\x1a", enc
    undefined_1252 = []
    for b in range(0x80, 0x100):
        try:
            bytes([b]).decode("windows-1252")
        except UnicodeDecodeError:
            undefined_1252.append(b)
    return list(chardata.CHARMAP_ENCODINGS), maps, subs, undefined_1252


def _class_items(av):
    chars, flags = set(), []
    for o, a in av:
        o = str(o)
        if o == "LITERAL":
            chars.add(a)
        elif o == "RANGE":
            chars.update(range(a[0], a[1] + 1))
        elif o == "NEGATE":
            flags.append("NEG")
        elif o == "CATEGORY":
            flags.append({"CATEGORY_SPACE": "SPACE", "CATEGORY_WORD": "WORD"}[str(a)])
        else:
            raise AssertionError(f"unexpected class item {o}")
    return frozenset(chars), flags


def _atom(op, av):
    """(char set or None, flags) of one single-character regex item."""
    op = str(op)
    if op == "LITERAL":
        return frozenset([av]), []
    if op == "IN":
        return _class_items(av)
    if op == "ANY":
        return None, ["ANY"]
    if op == "AT":
        assert str(av) == "AT_BEGINNING"
        return None, ["BEGIN"]
    raise AssertionError(f"unexpected regex item {op}")


def mojibake_tables():
    """ftfy's BADNESS_RE (is_bad) and UTF8_DETECTOR_RE (decode_inconsistent_utf8), from their
    parse trees: character sets, and BADNESS_RE's alternatives as lists of one-character atoms."""
    from ftfy import badness, chardata

    sets: list[frozenset] = []

    def set_index(s):
        if s not in sets:
            sets.append(s)
        return sets.index(s)

    tree = sre_parse.parse(badness.BADNESS_RE.pattern, badness.BADNESS_RE.flags)
    assert len(tree) == 1 and str(tree[0][0]) == "BRANCH"
    alternatives = []
    for seq in tree[0][1][1]:
        atoms = []
        for op, av in seq:
            optional = False
            if str(op) == "MAX_REPEAT":
                lo, hi, sub = av
                assert (lo, hi) == (0, 1) and len(sub) == 1
                optional = True
                op, av = sub[0]
            chars, flags = _atom(op, av)
            if optional:
                flags.append("OPT")
            atoms.append((None if chars is None or not chars else set_index(chars), flags))
        alternatives.append(atoms)

    tree = sre_parse.parse(chardata.UTF8_DETECTOR_RE.pattern, chardata.UTF8_DETECTOR_RE.flags)
    (op1, (direction, behind)), (op2, (lo, hi, sub)) = tree
    assert str(op1) == "ASSERT_NOT" and direction == -1 and str(op2) == "MAX_REPEAT" and lo == 1
    lookbehind, flags = _class_items(behind[0][1])
    assert not flags
    (_, (_, _, _, branch)), = sub
    (_, (_, (two, three, four))), = branch
    firsts, conts = [], []
    for seq, n in ((two, 1), (three, 2), (four, 3)):
        first, f = _class_items(seq[0][1])
        assert not f
        if n == 1:
            cont, f = _class_items(seq[1][1])
        else:
            (rep_lo, rep_hi, rep), = [seq[1][1]]
            assert rep_lo == rep_hi == n
            cont, f = _class_items(rep[0][1])
        assert not f
        firsts.append(first)
        conts.append(cont)
    assert conts[0] == conts[1] == conts[2]
    utf8 = [set_index(lookbehind), *(set_index(f) for f in firsts), set_index(conts[0])]

    chars = sorted(set().union(*sets))
    assert chars[-1] < 0x10000
    signature = {}
    char_class = []
    for ch in chars:
        sig = tuple(ch in s for s in sets)
        char_class.append(signature.setdefault(sig, len(signature)))
    assert len(signature) <= 128 and len(sets) < 255
    set_masks = [0] * len(sets)
    for sig, k in signature.items():
        for i, inside in enumerate(sig):
            if inside:
                set_masks[i] |= 1 << k
    return chars, char_class, set_masks, alternatives, utf8


def byte_alternatives(pattern: re.Pattern) -> list[list[list[tuple[int, int]]]]:
    """A bytes regex made of alternatives of single-byte classes, as byte ranges per atom."""
    tree = sre_parse.parse(pattern.pattern, pattern.flags)
    seqs = tree[0][1][1] if str(tree[0][0]) == "BRANCH" else [list(tree)]
    out = []
    for seq in seqs:
        atoms = []
        for op, av in seq:
            chars, flags = _atom(op, av)
            assert chars and not flags, pattern.pattern
            ranges, start = [], None
            for b in range(257):
                if b in chars and start is None:
                    start = b
                if b not in chars and start is not None:
                    ranges.append((start, b - 1))
                    start = None
            atoms.append(ranges)
        out.append(atoms)
    return out


def entity_blob():
    """Python's html5 entity table, with ftfy's additions marked: one record per entity,
    ``name US value [US upper] RS`` (US = U+001F, RS = U+001E, which no name or value contains),
    sorted by name. A third field (possibly empty, meaning the same value) says ftfy's
    unescape_html also accepts the all-caps name ``&NAME;``, with that value."""
    from ftfy import chardata

    html5 = html.entities.html5
    extra = {}
    for name, value in chardata.HTML_ENTITIES.items():
        if name[1:] in html5:
            assert html5[name[1:]] == value
            continue
        lower = name[1:].lower()
        assert lower in html5 and name[1:] == lower.upper(), name
        extra[lower] = value
    for text in [*html5, *html5.values(), *extra.values()]:
        assert "\x1e" not in text and "\x1f" not in text
    assert all(n.isascii() for n in html5)
    records = []
    for name in sorted(html5):
        rec = f"{name}\x1f{html5[name]}"
        if name in extra:
            rec += "\x1f" + ("" if extra[name] == html5[name] else extra[name])
        records.append(rec + "\x1e")
    return "".join(records), len(html5), len(extra)


def html_charref_tables():
    import html as h

    invalid_charrefs = sorted(h._invalid_charrefs.items())
    cps = sorted(h._invalid_codepoints)
    ranges, start, prev = [], None, None
    for cp in cps:
        if start is None:
            start = prev = cp
        elif cp == prev + 1:
            prev = cp
        else:
            ranges.append((start, prev))
            start = prev = cp
    ranges.append((start, prev))
    return invalid_charrefs, ranges


def ftfy_small_tables():
    from ftfy import chardata

    controls = sorted(chardata.CONTROL_CHARS)
    ligatures = sorted(chardata.LIGATURES.items())
    width = sorted(chardata.WIDTH_MAP.items())
    assert chardata.SINGLE_QUOTE_RE.pattern == "[\u02bc\u2018-\u201b]"
    assert chardata.DOUBLE_QUOTE_RE.pattern == "[\u201c-\u201f]"
    assert chardata.C1_CONTROL_RE.pattern == r"[\x80-\x9f]"
    return controls, ligatures, width


# --------------------------------------------------------------------------------------------
# Rust output
# --------------------------------------------------------------------------------------------

def _wrap(words, indent="    ", width=100):
    lines, line = [], indent.rstrip()
    for w in words:
        if len(line) + 1 + len(w) > width:
            lines.append(line)
            line = indent.rstrip()
        line += " " + w
    lines.append(line)
    return lines


def _array(name, ty, values, doc, fmt="0x{:x}"):
    return ["", *("/// " + d for d in doc), "#[rustfmt::skip]",
            f"pub(super) static {name}: &[{ty}] = &[", *_wrap([fmt.format(v) + "," for v in values]), "];"]


def _rust_str(s: str) -> str:
    out = []
    for ch in s:
        cp = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif (cp <= 0x20 or 0x7F <= cp < 0xA0
              or unicodedata.category(ch) in ("Mn", "Me", "Cf", "Zs", "Zl", "Zp", "Co", "Cn")):
            out.append(f"\\u{{{cp:x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


FLAG_BITS = {"NEG": 1, "ANY": 2, "SPACE": 4, "WORD": 8, "OPT": 16, "BEGIN": 32}


def write_tables(rust_file: Path, command: str) -> None:
    import ftfy
    import regex
    import tokenizers

    runs = char_runs()
    lower, lower_multi = lower_tables()
    decomp, ccc_runs = nfc_tables()
    unknown = hub_nfc_unknown()
    enc_names, charmaps, sloppy, undefined_1252 = ftfy_charmaps()
    moji_chars, moji_class, moji_sets, badness, utf8 = mojibake_tables()
    from ftfy import chardata, fixes

    altered = byte_alternatives(chardata.ALTERED_UTF8_RE)
    lossy = byte_alternatives(chardata.LOSSY_UTF8_RE)
    assert fixes.A_GRAVE_WORD_RE.pattern == b"\xc3 (?! |quele|quela|quilo|s )"
    assert fixes.ANSI_RE.pattern == "\033\\[((?:\\d|;)*)([a-zA-Z])"
    entities, n_html5, n_upper = entity_blob()
    invalid_charrefs, invalid_cps = html_charref_tables()
    controls, ligatures, width = ftfy_small_tables()

    out = [
        f"//! GENERATED by `{command}`; do not edit.",
        "//!",
        "//! The tokenizer's data, read out of its two references (see",
        "//! scripts/reference/tokenizer_tables.py for how each table is probed):",
        f"//! Python {sys.version.split()[0]} (unicodedata {unicodedata.unidata_version}), "
        f"regex {regex.__version__}, ftfy {ftfy.__version__}, tokenizers {tokenizers.__version__}.",
        "",
        "/// Runs of code points with equal properties, sorted: `first << 11 | tag`. Tag bits:",
        "/// 0–1 hub class (tokenizers' Oniguruma: 0 `\\s`, 1 `\\p{L}`, 2 `\\p{N}`, 3 other);",
        "/// 2–4 original class (`regex` module: 0 `\\s`, 1 `[\\p{L}]`, 2 `[\\p{N}]`, 3 `[^\\s\\p{L}\\p{N}]`",
        "/// under IGNORECASE, 4 none of them); 5 Python `str.isspace`; 6–7 Python 3.11 category",
        "/// (0 other, 1 `isalnum`, 2 `isdecimal`, 3 unassigned in Unicode 14); 8–9 final-sigma class",
        "/// of Python's `str.lower` (0 other, 1 case-ignorable, 2 cased).",
        "#[rustfmt::skip]",
        "pub(super) static CHAR_RUNS: &[u32] = &[",
        *_wrap([f"0x{v:x}," for v in runs]),
        "];",
        *_array("LOWER_RUNS", "u64", lower, [
            "Lowercase mapping of tokenizers' `Lowercase` (per character; Python's `str.lower` is the",
            "same except on characters unassigned in Unicode 14): `first << 43 | count << 30 | stride",
            "<< 29 | (delta + 2^28)`: `count` code points from `first`, every `stride + 1`, map to `cp + delta`.",
        ]),
        "",
        "/// Characters whose lowercase is more than one character.",
        "pub(super) static LOWER_MULTI: &[(char, &str)] = &[",
        *[f"    ('\\u{{{cp:x}}}', {_rust_str(s)})," for cp, s in lower_multi],
        "];",
        *_array("CCC_RUNS", "u32", ccc_runs, ["Canonical combining class (Python, Unicode 14) in runs: `first << 8 | class`."]),
        *_array("DECOMPOSITIONS", "u64", decomp, [
            "Canonical decompositions (Python, Unicode 14; Hangul syllables excepted), sorted:",
            "`composes << 63 | cp << 42 | first << 21 | second` (second 0 for singletons; `composes` marks",
            "the primary composites NFC recombines).",
        ]),
        *_array("HUB_NFC_UNKNOWN", "u32", unknown, [
            "Characters the tokenizers library's NFC (an older Unicode) does not know: it treats these",
            "marks as starters and neither decomposes nor composes these composites.",
        ]),
        "",
        "/// ftfy's single-byte encodings, in the order it tries them.",
        "pub(super) static CHARMAP_NAMES: &[&str] = &[" + ", ".join(f'"{n}"' for n in enc_names) + "];",
        "/// Per encoding: whether byte 0x1A stands for U+FFFD (ftfy's 'sloppy' codecs).",
        "pub(super) static CHARMAP_SLOPPY: &[bool] = &[" + ", ".join("true" if s else "false" for s in sloppy) + "];",
        "/// Per encoding: the characters of bytes 0x80..=0xFF (bytes below 0x80 are ASCII).",
        "#[rustfmt::skip]",
        "pub(super) static CHARMAPS: &[[u16; 128]] = &[",
    ]
    for m in charmaps:
        out += ["    ["] + _wrap([f"0x{v:x}," for v in m], indent="        ") + ["    ],"]
    out += [
        "];",
        "/// Bytes strict windows-1252 does not define (Python's codec raises on them).",
        "pub(super) static WINDOWS_1252_UNDEFINED: &[u8] = &[" + ", ".join(f"0x{b:x}" for b in undefined_1252) + "];",
        *_array("MOJIBAKE_CHARS", "u16", moji_chars, [
            "Every character named in ftfy's BADNESS_RE and UTF8_DETECTOR_RE, sorted; `MOJIBAKE_CLASS`",
            "gives each its class (characters with the same membership in every set share one).",
        ]),
        *_array("MOJIBAKE_CLASS", "u8", moji_class, ["Class of each `MOJIBAKE_CHARS` entry."], fmt="{}"),
        *_array("MOJIBAKE_SETS", "u128", moji_sets, ["Each character set of those regexes, as a mask of classes."]),
        "",
        "/// Atom flags of `BADNESS`: negated set, `.`, `\\s`, `\\w` (Python's str semantics), optional",
        "/// (`?`), start of text (`^`).",
        *[f"pub(super) const {k}: u8 = {v};" for k, v in FLAG_BITS.items()],
        "/// No character set (the atom is only its flags).",
        "pub(super) const NO_SET: u8 = 255;",
        "/// ftfy's BADNESS_RE: alternatives of one-character atoms `(set, flags)`; `is_bad` is true when",
        "/// any of them matches anywhere.",
        "#[rustfmt::skip]",
        "pub(super) static BADNESS: &[&[(u8, u8)]] = &[",
    ]
    for atoms in badness:
        parts = []
        for s, flags in atoms:
            f = "|".join(flags) if flags else "0"
            parts.append(f"({'NO_SET' if s is None else s}, {f})")
        out += _wrap([f"&[{', '.join(parts)}],"])
    names = ["UTF8_NOT_AFTER", "UTF8_FIRST_OF_2", "UTF8_FIRST_OF_3", "UTF8_FIRST_OF_4", "UTF8_CONTINUATION"]
    out += [
        "];",
        "/// Sets of UTF8_DETECTOR_RE: `(?<![NOT_AFTER])(FIRST_OF_2 CONT | FIRST_OF_3 CONT{2} |",
        "/// FIRST_OF_4 CONT{3})+`.",
        *[f"pub(super) const {n}: u8 = {i};" for n, i in zip(names, utf8)],
    ]
    for name, alts, doc in (
        ("ALTERED_UTF8", altered, "ftfy's ALTERED_UTF8_RE (UTF-8 with byte 0xA0 turned into a space)"),
        ("LOSSY_UTF8", lossy, "ftfy's LOSSY_UTF8_RE (UTF-8 with bytes lost to 0x1A or '?')"),
    ):
        out += ["", f"/// {doc}: alternatives of byte classes, as inclusive ranges.", "#[rustfmt::skip]",
                f"pub(super) static {name}: &[&[&[(u8, u8)]]] = &["]
        for atoms in alts:
            parts = ["&[" + ", ".join(f"(0x{a:x}, 0x{b:x})" for a, b in atom) + "]" for atom in atoms]
            out += _wrap([f"&[{', '.join(parts)}],"])
        out.append("];")
    out += [
        *_array("FTFY_CONTROLS", "u32", controls, ["Characters ftfy's remove_control_chars deletes."]),
        "",
        "/// ftfy's fix_latin_ligatures.",
        "pub(super) static LIGATURES: &[(char, &str)] = &[",
        *[f"    ('\\u{{{cp:x}}}', {_rust_str(s)})," for cp, s in ligatures],
        "];",
        "",
        "/// ftfy's fix_character_width: U+3000 and the half/full-width forms, to their NFKC.",
        "#[rustfmt::skip]",
        "pub(super) static WIDTH_MAP: &[(u16, &str)] = &[",
        *_wrap([f"(0x{cp:x}, {_rust_str(s)})," for cp, s in width]),
        "];",
        "",
        f"/// Python's html5 entities ({n_html5}; names with and without ';'), sorted by name: `name US",
        "/// value [US upper] RS` (U+001F, U+001E). A third field marks the lower-case names whose all-caps form ftfy's",
        f"/// unescape_html also decodes ({n_upper}), with its value when that differs (empty: the same).",
        "#[rustfmt::skip]",
        "pub(super) static ENTITIES: &str = \"\\",
        # One record per line; a string continuation skips the next line's indentation (every
        # space inside a record is escaped, so none is lost).
        *[f"    {_rust_str(rec + chr(0x1E))[1:-1]}\\" for rec in entities.split(chr(0x1E))[:-1]],
        "\";",
        "",
        "/// Python's html.unescape: numeric references it replaces by another character.",
        "pub(super) static INVALID_CHARREFS: &[(u32, char)] = &[",
        *_wrap([f"(0x{k:x}, '\\u{{{ord(v):x}}}')," for k, v in invalid_charrefs]),
        "];",
        "/// Python's html.unescape: numeric references it deletes (inclusive ranges).",
        "pub(super) static INVALID_CODEPOINTS: &[(u32, u32)] = &[",
        *_wrap([f"(0x{a:x}, 0x{b:x})," for a, b in invalid_cps]),
        "];",
    ]
    # Every table as written here, never reflowed by rustfmt (so `cargo fmt --check` passes on a
    # freshly generated file).
    lines = []
    for line in "\n".join(out).split("\n"):
        if line.startswith("pub(super) static") and (not lines or lines[-1] != "#[rustfmt::skip]"):
            lines.append("#[rustfmt::skip]")
        lines.append(line)
    rust_file.parent.mkdir(parents=True, exist_ok=True)
    rust_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{rust_file}: {len(runs)} character runs, {len(lower)} lowercase runs, {len(decomp)} "
          f"decompositions, {len(unknown)} characters unknown to the hub's NFC, {len(moji_chars)} "
          f"mojibake characters in {len(moji_sets)} sets, {n_html5} entities")
