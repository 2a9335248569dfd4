//! Character properties, lowercasing and NFC as each reference has them, from the generated
//! tables: the two references run different Unicode versions (Python 3.11 is Unicode 14, the
//! `regex` module and the `tokenizers` library newer ones), and every difference shows up as
//! different token ids. No Unicode crate is used for the same reason: its version would be a
//! third one.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::tables::{
    CCC_RUNS, CHAR_RUNS, DECOMPOSITIONS, HUB_NFC_UNKNOWN, LOWER_MULTI, LOWER_RUNS,
};

/// Which regular-expression class a character falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    /// `\s`: collapsed into one space by the normalisation, never part of a piece.
    Space,
    /// `[\p{L}]`: runs of letters are one piece.
    Letter,
    /// `[\p{N}]`: every digit is a piece of its own.
    Number,
    /// `[^\s\p{L}\p{N}]`: runs of other characters are one piece.
    Other,
    /// No class matches (only under the original's IGNORECASE: U+0345); the character is dropped.
    Skip,
}

fn tag(c: char) -> u32 {
    let key = ((c as u32) << 11) | 0x7FF;
    let i = CHAR_RUNS.partition_point(|&run| run <= key);
    if i == 0 { 0 } else { CHAR_RUNS[i - 1] & 0x7FF }
}

/// The class ASCII characters have in both references (the tables agree; a unit test checks).
fn ascii_class(c: char) -> Class {
    match c {
        '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ' => Class::Space,
        _ if c.is_ascii_alphabetic() => Class::Letter,
        _ if c.is_ascii_digit() => Class::Number,
        _ => Class::Other,
    }
}

/// The class in the tokenizers library's patterns (Oniguruma, case-sensitive).
pub(super) fn hub_class(c: char) -> Class {
    if c.is_ascii() {
        return ascii_class(c);
    }
    match tag(c) & 3 {
        0 => Class::Space,
        1 => Class::Letter,
        2 => Class::Number,
        _ => Class::Other,
    }
}

/// The class in OpenAI's pattern (the `regex` module, IGNORECASE).
pub(super) fn original_class(c: char) -> Class {
    if c.is_ascii() {
        return ascii_class(c);
    }
    match (tag(c) >> 2) & 7 {
        0 => Class::Space,
        1 => Class::Letter,
        2 => Class::Number,
        3 => Class::Other,
        _ => Class::Skip,
    }
}

/// Python's `str.isspace` (what `str.strip()` removes).
/// Every run of characters `class` calls [`Class::Space`] as one plain space (both modes'
/// whitespace rule, each with its own Unicode data).
pub(super) fn collapse_spaces(text: &str, class: fn(char) -> Class) -> String {
    let mut collapsed = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if class(c) == Class::Space {
            if !in_space {
                collapsed.push(' ');
            }
            in_space = true;
        } else {
            collapsed.push(c);
            in_space = false;
        }
    }
    collapsed
}

pub(super) fn py_isspace(c: char) -> bool {
    if c.is_ascii() {
        return matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ');
    }
    tag(c) >> 5 & 1 == 1
}

fn py_category(c: char) -> u32 {
    (tag(c) >> 6) & 3
}

/// Python's `\w` in a `str` regex: `isalnum()` or `_`.
pub(super) fn py_is_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    matches!(py_category(c), 1 | 2)
}

/// Python's `\d` in a `str` regex: `isdecimal()` (general category Nd, Unicode 14).
pub(super) fn py_is_decimal(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    py_category(c) == 2
}

/// Unassigned in Python's Unicode 14: `str.lower` leaves such a character as it is.
fn py_unassigned(c: char) -> bool {
    !c.is_ascii() && py_category(c) == 3
}

/// How a character counts for Python's final-sigma rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sigma {
    Other,
    /// Case_Ignorable: skipped when looking for the letters around a capital sigma.
    Ignorable,
    /// Cased and not Case_Ignorable.
    Cased,
}

fn sigma(c: char) -> Sigma {
    match (tag(c) >> 8) & 3 {
        1 => Sigma::Ignorable,
        2 => Sigma::Cased,
        _ => Sigma::Other,
    }
}

/// The lowercase of one character as tokenizers' `Lowercase` gives it (Rust's per-character
/// mapping of the Unicode version that library was built with), appended to `out`.
fn push_lower(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let cp = c as u32;
    let i = LOWER_RUNS.partition_point(|&run| (run >> 43) as u32 <= cp);
    if i > 0 {
        let run = LOWER_RUNS[i - 1];
        let first = (run >> 43) as u32;
        let count = ((run >> 30) & 0x1FFF) as u32;
        let step = ((run >> 29) & 1) as u32 + 1;
        let delta = (run & 0x1FFF_FFFF) as i64 - (1 << 28);
        let off = cp - first;
        if off < count * step && off.is_multiple_of(step) {
            let mapped = char::from_u32((i64::from(cp) + delta) as u32);
            out.push(mapped.unwrap_or(c));
            return;
        }
    }
    match LOWER_MULTI.iter().find(|(k, _)| *k == c) {
        Some((_, s)) => out.push_str(s),
        None => out.push(c),
    }
}

/// tokenizers' `Lowercase`: every character on its own (so `Σ` is always `σ`).
pub(super) fn hub_lowercase(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_lower(c, &mut out);
    }
    out
}

/// Python 3.11's `str.lower()`: the same mappings for the characters Unicode 14 knows (the
/// generator checks this), none for the others, and a capital sigma becomes final `ς` when a
/// cased letter precedes it and none follows it, case-ignorable characters skipped.
pub(super) fn python_lower(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if c == '\u{3a3}' {
            let significant = |c: &char| sigma(*c) != Sigma::Ignorable;
            let cased = |c: Option<char>| c.is_some_and(|c| sigma(c) == Sigma::Cased);
            let before = text[..i].chars().rev().find(significant);
            let after = text[i + c.len_utf8()..].chars().find(significant);
            out.push(if cased(before) && !cased(after) {
                '\u{3c2}'
            } else {
                '\u{3c3}'
            });
        } else if py_unassigned(c) {
            out.push(c);
        } else {
            push_lower(c, &mut out);
        }
    }
    out
}

/// Whose NFC: Python's `unicodedata` (Unicode 14), or the tokenizers library's, which is the
/// same algorithm on older data (the characters in `HUB_NFC_UNKNOWN` are inert to it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Nfc {
    Python,
    Hub,
}

impl Nfc {
    fn knows(self, c: char) -> bool {
        self == Nfc::Python || HUB_NFC_UNKNOWN.binary_search(&(c as u32)).is_err()
    }

    fn ccc(self, c: char) -> u8 {
        let cp = c as u32;
        if cp < 0x300 || !self.knows(c) {
            return 0;
        }
        let key = (cp << 8) | 0xFF;
        let i = CCC_RUNS.partition_point(|&run| run <= key);
        if i == 0 {
            0
        } else {
            (CCC_RUNS[i - 1] & 0xFF) as u8
        }
    }

    /// Unicode Normalization Form C: full canonical decomposition, canonical ordering,
    /// canonical composition.
    pub(super) fn apply(self, text: &str) -> String {
        if text.is_ascii() {
            return text.to_owned();
        }
        let mut chars: Vec<char> = Vec::with_capacity(text.len());
        for c in text.chars() {
            self.decompose(c, &mut chars);
        }
        // Canonical ordering: stable sort of every run of non-starters by combining class.
        let mut i = 0;
        while i < chars.len() {
            if self.ccc(chars[i]) == 0 {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && self.ccc(chars[i]) != 0 {
                i += 1;
            }
            chars[start..i].sort_by_key(|&c| self.ccc(c));
        }
        // Canonical composition: a character joins the last starter when nothing between them
        // blocks it (no intervening character of class 0 or of a class >= its own).
        let mut out: Vec<char> = Vec::with_capacity(chars.len());
        let mut starter: Option<usize> = None;
        let mut last_class: u8 = 0;
        for c in chars {
            let class = self.ccc(c);
            if let Some(s) = starter
                && (last_class == 0 || last_class < class)
                && let Some(composite) = self.compose(out[s], c)
            {
                out[s] = composite;
                continue;
            }
            if class == 0 {
                starter = Some(out.len());
            }
            last_class = class;
            out.push(c);
        }
        out.into_iter().collect()
    }

    fn decompose(self, c: char, out: &mut Vec<char>) {
        let cp = c as u32;
        if cp < 0xC0 {
            out.push(c);
            return;
        }
        if (S_BASE..S_BASE + S_COUNT).contains(&cp) {
            let s = cp - S_BASE;
            let hangul = |cp| char::from_u32(cp).unwrap_or(c);
            out.push(hangul(L_BASE + s / (V_COUNT * T_COUNT)));
            out.push(hangul(V_BASE + (s % (V_COUNT * T_COUNT)) / T_COUNT));
            if !s.is_multiple_of(T_COUNT) {
                out.push(hangul(T_BASE + s % T_COUNT));
            }
            return;
        }
        match decomposition_entry(cp).filter(|_| self.knows(c)) {
            Some(entry) => {
                for part in [(entry >> 21) & 0x1F_FFFF, entry & 0x1F_FFFF] {
                    if let Some(p) = char::from_u32(part as u32).filter(|&p| p != '\0') {
                        self.decompose(p, out);
                    }
                }
            }
            None => out.push(c),
        }
    }

    /// The primary composite of `a` + `b`, if NFC recombines them.
    fn compose(self, a: char, b: char) -> Option<char> {
        let (x, y) = (a as u32, b as u32);
        if (L_BASE..L_BASE + L_COUNT).contains(&x) && (V_BASE..V_BASE + V_COUNT).contains(&y) {
            return char::from_u32(S_BASE + ((x - L_BASE) * V_COUNT + (y - V_BASE)) * T_COUNT);
        }
        if (S_BASE..S_BASE + S_COUNT).contains(&x)
            && (x - S_BASE).is_multiple_of(T_COUNT)
            && (T_BASE + 1..T_BASE + T_COUNT).contains(&y)
        {
            return char::from_u32(x + (y - T_BASE));
        }
        let pair = (u64::from(x) << 21) | u64::from(y);
        compositions()
            .get(&pair)
            .copied()
            .filter(|&c| self.knows(c))
    }
}

const S_BASE: u32 = 0xAC00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11A7;
const L_COUNT: u32 = 19;
const V_COUNT: u32 = 21;
const T_COUNT: u32 = 28;
const S_COUNT: u32 = L_COUNT * V_COUNT * T_COUNT;

fn decomposition_entry(cp: u32) -> Option<u64> {
    let key = u64::from(cp);
    DECOMPOSITIONS
        .binary_search_by_key(&key, |e| (e >> 42) & 0x1F_FFFF)
        .ok()
        .map(|i| DECOMPOSITIONS[i])
}

/// Primary composites by `first << 21 | second`, built once from `DECOMPOSITIONS`.
fn compositions() -> &'static HashMap<u64, char> {
    static MAP: OnceLock<HashMap<u64, char>> = OnceLock::new();
    MAP.get_or_init(|| {
        DECOMPOSITIONS
            .iter()
            .filter(|&&e| e >> 63 == 1)
            .filter_map(|&e| {
                Some((
                    e & ((1 << 42) - 1),
                    char::from_u32(((e >> 42) & 0x1F_FFFF) as u32)?,
                ))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_fast_paths_agree_with_the_tables() {
        for b in 0u8..0x80 {
            let c = b as char;
            let t = tag(c);
            let hub = match t & 3 {
                0 => Class::Space,
                1 => Class::Letter,
                2 => Class::Number,
                _ => Class::Other,
            };
            assert_eq!(hub_class(c), hub, "{c:?}");
            assert_eq!((t >> 2) & 7, hub as u32, "original class of {c:?}");
            assert_eq!(py_isspace(c), t >> 5 & 1 == 1, "{c:?}");
            assert_eq!(
                py_is_word(c),
                c == '_' || matches!((t >> 6) & 3, 1 | 2),
                "{c:?}"
            );
            assert_eq!(py_is_decimal(c), (t >> 6) & 3 == 2, "{c:?}");
        }
    }

    #[test]
    fn classes_differ_where_the_unicode_versions_do() {
        // U+0345 matches no class of the original's IGNORECASE pattern; tokenizers sees a mark.
        assert_eq!(original_class('\u{345}'), Class::Skip);
        assert_eq!(hub_class('\u{345}'), Class::Other);
        // CJK and Hangul are letters for both: one run, one BPE word.
        assert_eq!(hub_class('日'), Class::Letter);
        assert_eq!(original_class('한'), Class::Letter);
        // Zero-width joiner and friends are neither space nor letter: kept as pieces.
        assert_eq!(hub_class('\u{200d}'), Class::Other);
        assert_eq!(original_class('\u{200b}'), Class::Other);
        assert_eq!(hub_class('\u{3000}'), Class::Space);
        assert!(py_isspace('\x1c') && original_class('\x1c') != Class::Space);
    }

    #[test]
    fn lowercase_follows_each_reference() {
        assert_eq!(hub_lowercase("ΟΔΟΣ İ ẞ"), "οδοσ i\u{307} ß");
        assert_eq!(python_lower("ΟΔΟΣ"), "οδος");
        assert_eq!(python_lower("ΑΣ"), "ας");
        assert_eq!(python_lower("Σ"), "σ");
        assert_eq!(python_lower("ΑΣΑ"), "ασα");
        assert_eq!(python_lower("ΑΣ\u{301}"), "ας\u{301}");
        // U+0295 is cased in Unicode 14 (Python 3.11).
        assert_eq!(python_lower("ΑΣ\u{295}"), "ασ\u{295}");
        // U+1C89 (Unicode 16) lowercases in tokenizers, not in Python 3.11.
        assert_eq!(hub_lowercase("\u{1c89}"), "\u{1c8a}");
        assert_eq!(python_lower("\u{1c89}"), "\u{1c89}");
    }

    #[test]
    fn nfc_composes_and_respects_the_hub_data() {
        assert_eq!(Nfc::Python.apply("cafe\u{301}"), "café");
        assert_eq!(Nfc::Hub.apply("a\u{323}\u{302}"), "\u{1ead}");
        assert_eq!(Nfc::Hub.apply("\u{1100}\u{1161}\u{11a8}"), "\u{ac01}");
        // U+11938 (Unicode 13) composes in Python's NFC only.
        let parts = "\u{11935}\u{11930}";
        assert_eq!(Nfc::Python.apply(parts), "\u{11938}");
        assert_eq!(Nfc::Hub.apply(parts), parts);
    }
}
