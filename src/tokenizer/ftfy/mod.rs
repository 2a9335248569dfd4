//! ftfy 6.3.1's `fix_text` with its default configuration, the first step of OpenAI's tokenizer.
//!
//! Every fix that can change a CLIP input is here: HTML entities, mojibake (`fix_encoding` with
//! `restore_byte_a0`, `replace_lossy_sequences`, `decode_inconsistent_utf8`, `fix_c1_controls`),
//! Latin ligatures, character width, curly quotes, line breaks, terminal escapes, control
//! characters, and NFC. `fix_surrogates` has nothing to do on a Rust string, which holds no
//! surrogates. Data (codecs, character sets, the heuristics' alternatives, entities) comes from
//! the generated tables; the algorithms are written out here.

mod badness;
mod encoding;
mod fixes;

use super::html;
use super::unicode::Nfc;

/// ftfy's `max_decode_length`: longer lines are fixed in pieces of this many characters.
const MAX_DECODE_LENGTH: usize = 1_000_000;

/// `ftfy.fix_text(text)`: line by line (each segment keeps its `\n`). HTML unescaping is on until
/// a segment contains `<` (then the text is taken for HTML) and stays off for the rest.
pub(super) fn fix_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut unescape = true;
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        if let Some((i, _)) = rest[..end].char_indices().nth(MAX_DECODE_LENGTH) {
            end = i;
        }
        let segment = &rest[..end];
        if segment.contains('<') {
            unescape = false;
        }
        out.push_str(&fix_segment(segment, unescape));
        rest = &rest[end..];
    }
    out
}

/// `fix_and_explain` on one segment: every fix in order, repeated until nothing changes (bounded
/// as `fix_encoding` is).
fn fix_segment(segment: &str, unescape: bool) -> String {
    let mut text = segment.to_owned();
    for _ in 0..segment.chars().count() + 16 {
        let before = text.clone();
        if unescape {
            text = html::ftfy_unescape(&text);
        }
        text = encoding::fix_encoding(&text);
        text = encoding::fix_c1_controls(&text);
        text = fixes::fix_latin_ligatures(&text);
        text = fixes::fix_character_width(&text);
        text = fixes::uncurl_quotes(&text);
        text = fixes::fix_line_breaks(&text);
        text = fixes::remove_terminal_escapes(&text);
        text = fixes::remove_control_chars(&text);
        text = Nfc::Python.apply(&text);
        if text == before {
            break;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_examples() {
        assert_eq!(fix_text("âœ” No problems"), "✔ No problems");
        assert_eq!(fix_text("&macr;\\_(ã\u{83}\u{84})_/&macr;"), "¯\\_(ツ)_/¯");
        assert_eq!(
            fix_text("Broken text&hellip; it&#x2019;s ﬂubberiﬁc!"),
            "Broken text… it's flubberific!"
        );
        assert_eq!(fix_text("ＬＯＵＤ　ＮＯＩＳＥＳ"), "LOUD NOISES");
        // Once a line holds '<', entities are left for the rest of the text.
        assert_eq!(fix_text("&amp;\n<b>&amp;\n&amp;"), "&\n<b>&amp;\n&amp;");
    }
}
