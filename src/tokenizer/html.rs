//! HTML character references, decoded as Python's `html.unescape` does (OpenAI's tokenizer
//! applies it twice) and as ftfy's stricter `unescape_html` does.

use std::sync::OnceLock;

use super::tables::{ENTITIES, INVALID_CHARREFS, INVALID_CODEPOINTS};

/// One entity of Python's html5 table.
struct Entity {
    name: &'static str,
    value: &'static str,
    /// ftfy also decodes the all-caps `&NAME;` of this lower-case name, to this value.
    upper: Option<&'static str>,
}

fn entities() -> &'static [Entity] {
    static TABLE: OnceLock<Vec<Entity>> = OnceLock::new();
    TABLE.get_or_init(|| {
        ENTITIES
            .split_terminator('\u{1e}')
            .filter_map(|record| {
                let mut fields = record.split('\u{1f}');
                let name = fields.next()?;
                let value = fields.next()?;
                let upper = fields.next().map(|u| if u.is_empty() { value } else { u });
                Some(Entity { name, value, upper })
            })
            .collect()
    })
}

fn entity(name: &str) -> Option<&'static Entity> {
    let table = entities();
    table
        .binary_search_by(|e| e.name.cmp(name))
        .ok()
        .map(|i| &table[i])
}

/// Python's `html.unescape`: `&name;`, `&name` (the legacy names, also as a prefix), `&#123;`,
/// `&#x7b;` (the `;` optional), with HTML5's replacements for invalid numbers.
pub(super) fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match charref(after) {
            Some((len, replacement)) => {
                out.push_str(&replacement);
                rest = &after[len..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The reference starting right after a `&`: (length matched, replacement), or None when the
/// pattern `#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?` does not match.
fn charref(s: &str) -> Option<(usize, String)> {
    let bytes = s.as_bytes();
    if bytes.first() == Some(&b'#') {
        let (digits, radix, start) = match bytes.get(1) {
            Some(b'x' | b'X') if bytes.get(2).is_some_and(|b| b.is_ascii_hexdigit()) => {
                let n = bytes[2..]
                    .iter()
                    .take_while(|b| b.is_ascii_hexdigit())
                    .count();
                (&s[2..2 + n], 16, 2)
            }
            Some(b) if b.is_ascii_digit() => {
                let n = bytes[1..].iter().take_while(|b| b.is_ascii_digit()).count();
                (&s[1..1 + n], 10, 1)
            }
            _ => return None,
        };
        let mut len = start + digits.len();
        if bytes.get(len) == Some(&b';') {
            len += 1;
        }
        return Some((len, numeric(digits, radix)));
    }
    let mut end = 0;
    for (n, (i, c)) in s.char_indices().enumerate() {
        if n == 32 || matches!(c, '\t' | '\n' | '\x0c' | ' ' | '<' | '&' | '#' | ';') {
            break;
        }
        end = i + c.len_utf8();
    }
    if end == 0 {
        return None;
    }
    if s[end..].starts_with(';') {
        end += 1;
    }
    let name = &s[..end];
    if let Some(e) = entity(name) {
        return Some((end, e.value.to_owned()));
    }
    // The longest prefix (at least two characters) that is an entity, the rest kept.
    let bounds: Vec<usize> = name.char_indices().map(|(i, _)| i).collect();
    for &cut in bounds.iter().skip(2).rev() {
        if let Some(e) = entity(&name[..cut]) {
            return Some((end, format!("{}{}", e.value, &name[cut..])));
        }
    }
    Some((end, format!("&{name}")))
}

/// A numeric reference: HTML5's replacement for the C1 range and a few others, U+FFFD for
/// surrogates and numbers past U+10FFFF, nothing for the non-characters and most controls.
fn numeric(digits: &str, radix: u32) -> String {
    // Saturate: anything past U+10FFFF is handled the same. (Python raises on decimal numbers of
    // more than 4,300 digits; the reference tokenizer fails there, this gives U+FFFD.)
    let value = digits.chars().fold(0u32, |acc, d| {
        acc.saturating_mul(radix)
            .saturating_add(d.to_digit(radix).unwrap_or(0))
    });
    if let Some((_, c)) = INVALID_CHARREFS.iter().find(|(k, _)| *k == value) {
        return c.to_string();
    }
    if (0xD800..=0xDFFF).contains(&value) || value > 0x10FFFF {
        return '\u{fffd}'.to_string();
    }
    if INVALID_CODEPOINTS
        .iter()
        .any(|&(a, b)| (a..=b).contains(&value))
    {
        return String::new();
    }
    char::from_u32(value).map(String::from).unwrap_or_default()
}

/// ftfy's `unescape_html`: only `&name;` / `&#…;` with the `;`, one to 24 ASCII letters or
/// digits; html5 names, and the all-caps forms of lower-case names (`&EACUTE;` → `É`).
pub(super) fn ftfy_unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        let bytes = candidate.as_bytes();
        let hash = usize::from(bytes.get(1) == Some(&b'#'));
        let n = bytes[1 + hash..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let len = 1 + hash + n + 1;
        if (1..=24).contains(&n) && bytes.get(len - 1) == Some(&b';') {
            let matched = &candidate[..len];
            out.push_str(&ftfy_fixup(matched));
            rest = &candidate[len..];
        } else {
            out.push('&');
            rest = &candidate[1..];
        }
    }
    out.push_str(rest);
    out
}

fn ftfy_fixup(matched: &str) -> String {
    let name = &matched[1..];
    if let Some(e) = entity(name).filter(|e| e.name.ends_with(';')) {
        return e.value.to_owned();
    }
    let lower = name.to_ascii_lowercase();
    if name == lower.to_ascii_uppercase()
        && let Some(upper) = entity(&lower).and_then(|e| e.upper)
    {
        return upper.to_owned();
    }
    if matched.starts_with("&#") {
        let decoded = unescape(matched);
        if !decoded.contains(';') {
            return decoded;
        }
    }
    matched.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_unescape() {
        assert_eq!(unescape("&lt;b&gt; &amp;amp; &copy"), "<b> &amp; ©");
        assert_eq!(unescape("&#65;&#x42;&#X43&#0x41;"), "ABC\u{fffd}x41;");
        assert_eq!(
            unescape("&#128; &#0; &#xD800; &#1114112; &#1;"),
            "€ \u{fffd} \u{fffd} \u{fffd} "
        );
        // Legacy names match as prefixes; unknown names stay.
        assert_eq!(
            unescape("&ampfoo; &notit; &bogus; & &#;"),
            "&foo; ¬it; &bogus; & &#;"
        );
        assert_eq!(unescape("&NewLine;&Tab;"), "\n\t");
    }

    #[test]
    fn ftfy_unescape_is_stricter() {
        assert_eq!(
            ftfy_unescape("&amp; &amp &EACUTE; &eAcute; &NTILDE;"),
            "& &amp É &eAcute; Ñ"
        );
        assert_eq!(
            ftfy_unescape("&#x2019;&#8217;&#xZZ;"),
            "\u{2019}\u{2019}&#xZZ;"
        );
        assert_eq!(ftfy_unescape("&SZLIG;"), "SS");
    }
}
