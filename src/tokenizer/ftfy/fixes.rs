//! ftfy's character-level fixes, in the order `fix_text` applies them after `fix_encoding`.

use super::super::tables::{FTFY_CONTROLS, LIGATURES, WIDTH_MAP};
use super::super::unicode::py_is_decimal;

/// `fix_latin_ligatures`: `ﬁ` → `fi`, `Ĳ` → `IJ`, `ǅ` → `Dž`, …
pub(super) fn fix_latin_ligatures(text: &str) -> String {
    replace_chars(text, |c| {
        LIGATURES
            .binary_search_by_key(&c, |&(k, _)| k)
            .ok()
            .map(|i| LIGATURES[i].1)
    })
}

/// `fix_character_width`: full-width Latin and half-width Katakana (and U+3000) to their NFKC.
pub(super) fn fix_character_width(text: &str) -> String {
    replace_chars(text, |c| {
        let cp = u16::try_from(c as u32).ok()?;
        WIDTH_MAP
            .binary_search_by_key(&cp, |&(k, _)| k)
            .ok()
            .map(|i| WIDTH_MAP[i].1)
    })
}

/// `uncurl_quotes`: U+02BC and U+2018–U+201B to `'`, U+201C–U+201F to `"`.
pub(super) fn uncurl_quotes(text: &str) -> String {
    replace_chars(text, |c| match c {
        '\u{2bc}' | '\u{2018}'..='\u{201b}' => Some("'"),
        '\u{201c}'..='\u{201f}' => Some("\""),
        _ => None,
    })
}

/// `fix_line_breaks`: CRLF, CR, U+2028, U+2029 and U+0085 to LF.
pub(super) fn fix_line_breaks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push('\n');
            }
            '\u{2028}' | '\u{2029}' | '\u{85}' => out.push('\n'),
            _ => out.push(c),
        }
    }
    out
}

/// `remove_terminal_escapes`: `ESC [`, digits (Python's `\d`, any decimal digit) or `;`, then an
/// ASCII letter.
pub(super) fn remove_terminal_escapes(text: &str) -> String {
    if !text.contains('\x1b') {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\x1b' && chars.get(i + 1) == Some(&'[') {
            let mut j = i + 2;
            while chars.get(j).is_some_and(|&c| c == ';' || py_is_decimal(c)) {
                j += 1;
            }
            if chars.get(j).is_some_and(char::is_ascii_alphabetic) {
                i = j + 1;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// `remove_control_chars`: C0 controls but tab, LF, FF and CR; DEL; U+206A–U+206F; U+FEFF;
/// U+FFF9–U+FFFC (the list is the generated `FTFY_CONTROLS`).
pub(super) fn remove_control_chars(text: &str) -> String {
    text.chars()
        .filter(|&c| FTFY_CONTROLS.binary_search(&(c as u32)).is_err())
        .collect()
}

fn replace_chars(text: &str, f: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match f(c) {
            Some(s) => out.push_str(s),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_fixes() {
        assert_eq!(fix_latin_ligatures("ﬂuﬃeﬆ Ĳ"), "fluffiest IJ");
        assert_eq!(
            fix_character_width("ＬＯＵＤ　ＮＯＩＳＥＳ ｶﾀｶﾅ"),
            "LOUD NOISES カタカナ"
        );
        assert_eq!(uncurl_quotes("\u{201c}here\u{2019}s\u{201d}"), "\"here's\"");
        assert_eq!(
            fix_line_breaks("a\r\nb\rc\u{2028}d\u{85}\r\r\n"),
            "a\nb\nc\nd\n\n\n"
        );
        assert_eq!(
            remove_terminal_escapes("\x1b[36;44mblue\x1b[0m\x1b[٣m!"),
            "blue!"
        );
        assert_eq!(
            remove_control_chars("a\x00b\x07\tc\u{feff}\u{200d}"),
            "ab\tc\u{200d}"
        );
    }
}
