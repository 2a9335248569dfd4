//! ftfy's two mojibake detectors, over the character sets and alternatives the generator read
//! out of its compiled regexes: `is_bad` (BADNESS_RE: unlikely neighbours such as an accented
//! capital before a currency sign) and the UTF8_DETECTOR_RE matches that
//! `decode_inconsistent_utf8` fixes one by one.

use std::ops::Range;

use super::super::tables::{
    ANY, BADNESS, BEGIN, MOJIBAKE_CHARS, MOJIBAKE_CLASS, MOJIBAKE_SETS, NEG, NO_SET, OPT, SPACE,
    UTF8_CONTINUATION, UTF8_FIRST_OF_2, UTF8_FIRST_OF_3, UTF8_FIRST_OF_4, UTF8_NOT_AFTER, WORD,
};
use super::super::unicode::{py_is_word, py_isspace};

/// Whether `c` is in set `set` of the tables.
pub(super) fn in_set(c: char, set: u8) -> bool {
    let Ok(cp) = u16::try_from(c as u32) else {
        return false;
    };
    match MOJIBAKE_CHARS.binary_search(&cp) {
        Ok(i) => MOJIBAKE_SETS[set as usize] >> MOJIBAKE_CLASS[i] & 1 == 1,
        Err(_) => false,
    }
}

/// One atom of BADNESS_RE against one character (`.` and classes with `\s`, `\w`, negation).
fn atom_matches((set, flags): (u8, u8), c: char) -> bool {
    if flags & ANY != 0 {
        return c != '\n';
    }
    let inside = (set != NO_SET && in_set(c, set))
        || (flags & SPACE != 0 && py_isspace(c))
        || (flags & WORD != 0 && py_is_word(c));
    inside != (flags & NEG != 0)
}

/// Whether `atoms[k..]` matches at `pos` (optional atoms tried with, then without, a character).
fn matches_at(atoms: &[(u8, u8)], chars: &[char], pos: usize) -> bool {
    let Some((&atom, rest)) = atoms.split_first() else {
        return true;
    };
    let (_, flags) = atom;
    if flags & BEGIN != 0 {
        return pos == 0 && matches_at(rest, chars, pos);
    }
    let here = chars
        .get(pos)
        .is_some_and(|&c| atom_matches(atom, c) && matches_at(rest, chars, pos + 1));
    here || (flags & OPT != 0 && matches_at(rest, chars, pos))
}

/// ftfy's `is_bad`: does any BADNESS_RE alternative match anywhere in `chars`?
pub(super) fn is_bad(chars: &[char]) -> bool {
    (0..=chars.len()).any(|pos| BADNESS.iter().any(|alt| matches_at(alt, chars, pos)))
}

/// The UTF8_DETECTOR_RE matches in `chars`, left to right and non-overlapping, as index ranges.
/// At each step of its `( … | … | … )+` the first alternative that fits is taken, as Python's
/// engine does when nothing follows the group.
pub(super) fn utf8_detector_matches(chars: &[char]) -> Vec<Range<usize>> {
    let cont = |i: usize| chars.get(i).is_some_and(|&c| in_set(c, UTF8_CONTINUATION));
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < chars.len() {
        if pos > 0 && in_set(chars[pos - 1], UTF8_NOT_AFTER) {
            pos += 1;
            continue;
        }
        let mut end = pos;
        loop {
            let c = chars.get(end).copied();
            let is = |set| c.is_some_and(|c| in_set(c, set));
            if is(UTF8_FIRST_OF_2) && cont(end + 1) {
                end += 2;
            } else if is(UTF8_FIRST_OF_3) && cont(end + 1) && cont(end + 2) {
                end += 3;
            } else if is(UTF8_FIRST_OF_4) && (1..=3).all(|k| cont(end + k)) {
                end += 4;
            } else {
                break;
            }
        }
        if end > pos {
            out.push(pos..end);
            pos = end;
        } else {
            pos += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(s: &str) -> bool {
        is_bad(&s.chars().collect::<Vec<_>>())
    }

    #[test]
    fn mojibake_is_bad_and_text_is_not() {
        assert!(bad("sÃ³"));
        assert!(bad("â€œquotedâ€\u{9d}"));
        assert!(bad("Ã la mode") && bad("\u{80}"));
        assert!(!bad("café naïve résumé"));
        assert!(!bad("Привет, мир"));
        assert!(!bad("¯\\_(ツ)_/¯"));
    }

    #[test]
    fn utf8_detector_finds_sequences() {
        let chars: Vec<char> = "x Ã© y â€œ".chars().collect();
        assert_eq!(utf8_detector_matches(&chars), [2..4, 7..10]);
    }
}
