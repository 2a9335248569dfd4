//! ftfy's `fix_encoding`: text that looks like mojibake (`is_bad`) is encoded back to bytes in
//! each single-byte encoding it could have been decoded with, in ftfy's order, and decoded as
//! UTF-8 (with ftfy's repairs: spaces that were non-breaking spaces, bytes lost to `�` or `?`,
//! CESU-8 and Java's two-byte NUL); the first that decodes wins. Then mixed mojibake is fixed
//! piece by piece, Latin-1 C1 controls are read as Windows-1252, and the step repeats until
//! nothing changes.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::super::tables::{
    ALTERED_UTF8, CHARMAP_NAMES, CHARMAP_SLOPPY, CHARMAPS, LOSSY_UTF8, WINDOWS_1252_UNDEFINED,
};
use super::badness::{is_bad, utf8_detector_matches};

fn encoding_index(name: &str) -> usize {
    CHARMAP_NAMES
        .iter()
        .position(|n| *n == name)
        .unwrap_or(usize::MAX)
}

/// `fix_encoding`: one step at a time until the text stops changing. Every step that changes
/// something shortens the text or removes a C1 control, so the bound is never reached in
/// practice; it only keeps a pathological input from looping.
pub(super) fn fix_encoding(text: &str) -> String {
    let mut text = text.to_owned();
    for _ in 0..text.chars().count() + 16 {
        let next = one_step(&text);
        if next == text {
            break;
        }
        text = next;
    }
    text
}

fn one_step(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    if !is_bad(&chars) {
        return text.to_owned();
    }
    let latin_1 = encoding_index("latin-1");
    let macroman = encoding_index("macroman");
    let mut latin_1_possible = false;
    for (e, &sloppy) in CHARMAP_SLOPPY.iter().enumerate() {
        let Some(mut bytes) = encode(&chars, e) else {
            continue;
        };
        latin_1_possible |= e == latin_1;
        if e != macroman && search(ALTERED_UTF8, &bytes).is_some() {
            bytes = restore_byte_a0(&bytes);
        }
        if sloppy {
            bytes = substitute(LOSSY_UTF8, &bytes, |_| "\u{fffd}".as_bytes().to_vec());
        }
        let decoded = if bytes.contains(&0xED) || bytes.contains(&0xC0) {
            decode_utf8_variants(&bytes)
        } else {
            String::from_utf8(bytes).ok()
        };
        if let Some(fixed) = decoded {
            return fixed;
        }
    }
    let matches = utf8_detector_matches(&chars);
    if !matches.is_empty() {
        let mut fixed = String::with_capacity(text.len());
        let mut last = 0;
        for m in matches {
            fixed.extend(&chars[last..m.start]);
            let piece = &chars[m.clone()];
            if piece.len() < chars.len() && is_bad(piece) {
                fixed.push_str(&fix_encoding(&piece.iter().collect::<String>()));
            } else {
                fixed.extend(piece);
            }
            last = m.end;
        }
        fixed.extend(&chars[last..]);
        if fixed != text {
            return fixed;
        }
    }
    if latin_1_possible
        && let Some(fixed) = latin_1_as_windows_1252(&chars)
        && fixed != text
    {
        return fixed;
    }
    if chars.iter().any(|c| ('\u{80}'..='\u{9f}').contains(c)) {
        return fix_c1_controls(text);
    }
    text.to_owned()
}

/// For each character of any table: its byte in each encoding (0 where it has none).
fn reverse_charmaps() -> &'static HashMap<char, Vec<u8>> {
    static MAP: OnceLock<HashMap<char, Vec<u8>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: HashMap<char, Vec<u8>> = HashMap::new();
        for (e, table) in CHARMAPS.iter().enumerate() {
            for (i, &cp) in table.iter().enumerate() {
                if let Some(c) = char::from_u32(u32::from(cp)) {
                    map.entry(c).or_insert_with(|| vec![0; CHARMAPS.len()])[e] = 0x80 + i as u8;
                }
            }
        }
        map
    })
}

/// The text in encoding `e`, or None when it has a character `e` cannot encode (ftfy's
/// `possible_encoding` is false). In the sloppy encodings byte 0x1A stands for U+FFFD.
fn encode(chars: &[char], e: usize) -> Option<Vec<u8>> {
    let sloppy = CHARMAP_SLOPPY[e];
    let mut out = Vec::with_capacity(chars.len());
    for &c in chars {
        let byte = match c {
            '\x1a' if sloppy => return None,
            '\u{fffd}' if sloppy => 0x1A,
            _ if c.is_ascii() => c as u8,
            _ => match reverse_charmaps().get(&c).map(|bytes| bytes[e]) {
                Some(b) if b != 0 => b,
                _ => return None,
            },
        };
        out.push(byte);
    }
    Some(out)
}

/// The length of the first alternative of `alts` that matches `bytes` at `pos`.
fn match_at(alts: &[&[&[(u8, u8)]]], bytes: &[u8], pos: usize) -> Option<usize> {
    alts.iter().find_map(|atoms| {
        let fits = atoms.iter().enumerate().all(|(k, ranges)| {
            bytes
                .get(pos + k)
                .is_some_and(|b| ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(b)))
        });
        fits.then_some(atoms.len())
    })
}

fn search(alts: &[&[&[(u8, u8)]]], bytes: &[u8]) -> Option<usize> {
    (0..bytes.len()).find(|&pos| match_at(alts, bytes, pos).is_some())
}

/// Python's `re.sub` for these byte patterns: every leftmost match replaced by `with(match)`.
fn substitute(alts: &[&[&[(u8, u8)]]], bytes: &[u8], with: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut pos = 0;
    while pos < bytes.len() {
        match match_at(alts, bytes, pos) {
            Some(len) => {
                out.extend(with(&bytes[pos..pos + len]));
                pos += len;
            }
            None => {
                out.push(bytes[pos]);
                pos += 1;
            }
        }
    }
    out
}

/// ftfy's `restore_byte_a0`: `Ã` + space becomes `à` + space (except before a space and in the
/// Portuguese `às`, `àquele`, `àquela`, `àquilo`), then spaces inside sequences that would be
/// UTF-8 with byte 0xA0 become 0xA0.
fn restore_byte_a0(bytes: &[u8]) -> Vec<u8> {
    let mut step = Vec::with_capacity(bytes.len() + 4);
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.starts_with(b"\xc3 ")
            && ![&b" "[..], b"quele", b"quela", b"quilo", b"s "]
                .iter()
                .any(|p| rest[2..].starts_with(p))
        {
            step.extend(b"\xc3\xa0 ");
            pos += 2;
        } else {
            step.push(bytes[pos]);
            pos += 1;
        }
    }
    substitute(ALTERED_UTF8, &step, |m| {
        m.iter()
            .map(|&b| if b == b' ' { 0xA0 } else { b })
            .collect()
    })
}

/// ftfy's `utf-8-variants` codec: UTF-8, plus CESU-8 surrogate pairs and `C0 80` for NUL, with
/// Python's `$` (which also matches before a final newline) in its patterns. None where Python
/// raises.
fn decode_utf8_variants(b: &[u8]) -> Option<String> {
    let n = b.len();
    let at_end = |p: usize| p == n || (p + 1 == n && b[p] == b'\n');
    let within = |p: usize, lo: u8, hi: u8| b.get(p).is_some_and(|x| (lo..=hi).contains(x));
    let special = |p: usize| match b[p] {
        0xC0 => b.get(p + 1) == Some(&0x80) || at_end(p + 1),
        0xED => {
            (within(p + 1, 0xA0, 0xBF) && (within(p + 2, 0x80, 0xBF) || at_end(p + 2)))
                || at_end(p + 1)
        }
        _ => false,
    };
    let mut out = String::with_capacity(n);
    let mut pos = 0;
    while pos < n {
        let cut = (pos..n).find(|&p| special(p)).unwrap_or(n);
        if cut > pos {
            out.push_str(std::str::from_utf8(&b[pos..cut]).ok()?);
            pos = cut;
            continue;
        }
        let left = n - pos;
        if b[pos] == 0xC0 {
            if left < 2 {
                return None;
            }
            out.push('\0');
            pos += 2;
            continue;
        }
        let cesu = left >= 6
            && within(pos + 1, 0xA0, 0xAF)
            && within(pos + 2, 0x80, 0xBF)
            && b[pos + 3] == 0xED
            && within(pos + 4, 0xB0, 0xBF)
            && (within(pos + 5, 0x80, 0xBF) || at_end(pos + 5));
        if !cesu {
            return None;
        }
        let cp = ((u32::from(b[pos + 1]) & 0x0F) << 16)
            + ((u32::from(b[pos + 2]) & 0x3F) << 10)
            + ((u32::from(b[pos + 4]) & 0x0F) << 6)
            + (u32::from(b[pos + 5]) & 0x3F)
            + 0x10000;
        out.push(char::from_u32(cp)?);
        pos += 6;
    }
    Some(out)
}

/// Latin-1 text read as strict Windows-1252; None if it holds a byte Windows-1252 leaves
/// undefined.
fn latin_1_as_windows_1252(chars: &[char]) -> Option<String> {
    let table = CHARMAPS.get(encoding_index("sloppy-windows-1252"))?;
    chars
        .iter()
        .map(|&c| match c as u32 {
            cp @ 0x80..=0xFF => {
                if WINDOWS_1252_UNDEFINED.contains(&(cp as u8)) {
                    None
                } else {
                    char::from_u32(u32::from(table[(cp - 0x80) as usize]))
                }
            }
            _ => Some(c),
        })
        .collect()
}

/// ftfy's `fix_c1_controls`: each C1 control as the Windows-1252 character of its byte.
pub(super) fn fix_c1_controls(text: &str) -> String {
    let Some(table) = CHARMAPS.get(encoding_index("sloppy-windows-1252")) else {
        return text.to_owned();
    };
    text.chars()
        .map(|c| match c as u32 {
            cp @ 0x80..=0x9F => char::from_u32(u32::from(table[(cp - 0x80) as usize])).unwrap_or(c),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mojibake_is_decoded() {
        assert_eq!(fix_encoding("sÃ³"), "só");
        assert_eq!(fix_encoding("âœ” No problems"), "✔ No problems");
        assert_eq!(fix_encoding("voilÃ le travail"), "voilà le travail");
        assert_eq!(fix_encoding("Ã la mode"), "à la mode");
        assert_eq!(fix_encoding("ÐŸÑ€Ð¸Ð²ÐµÑ‚"), "Привет");
        assert_eq!(
            fix_encoding("â€œ like this â€\u{fffd}"),
            "“ like this \u{fffd}"
        );
        assert_eq!(fix_encoding("plain café"), "plain café");
    }

    #[test]
    fn utf8_variants() {
        assert_eq!(
            decode_utf8_variants(b"\xed\xa0\xbd\xed\xb8\x8d").as_deref(),
            Some("😍")
        );
        assert_eq!(decode_utf8_variants(b"a\xc0\x80b").as_deref(), Some("a\0b"));
        assert_eq!(decode_utf8_variants(b"\xed\xa0\x80"), None);
        assert_eq!(decode_utf8_variants(b"\xc0"), None);
    }
}
