//! The `original` mode: OpenAI's tokenizer (`clip/simple_tokenizer.py` of the `openai-clip`
//! package), the one the CLIP weights were trained with.
//!
//! For one text, in order:
//! 1. `ftfy.fix_text` (see [`super::ftfy`]), then Python's `html.unescape` twice, then
//!    `str.strip()`.
//! 2. Every run of `\s` (the `regex` module's) becomes one space, `strip()` again, then Python's
//!    `str.lower()` of the whole text (Unicode 14, final sigma).
//! 3. The pattern `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|
//!    [^\s\p{L}\p{N}]+` with IGNORECASE finds the pieces (so `'ſ` counts as `'s`, and U+0345,
//!    which that flag folds out of every class, is dropped). A piece that is exactly
//!    `<|startoftext|>` or `<|endoftext|>` is that token; every other piece goes to BPE.

use super::Piece;
use super::unicode::{collapse_spaces, original_class, py_isspace, python_lower};
use super::{BOS_TOKEN, EOS_TOKEN, ftfy, html, pattern};

/// Steps 1–3: calls `f` with each piece in order (`bos`, `eos`: the special tokens' ids).
pub(super) fn for_each_piece(text: &str, bos: u32, eos: u32, f: &mut dyn FnMut(Piece<'_>)) {
    let clean = clean(text);
    for piece in pieces(&clean) {
        match piece {
            BOS_TOKEN => f(Piece::Special(bos, BOS_TOKEN)),
            EOS_TOKEN => f(Piece::Special(eos, EOS_TOKEN)),
            _ => f(Piece::Text(piece)),
        }
    }
}

/// Steps 1–2: `whitespace_clean(basic_clean(text)).lower()`.
fn clean(text: &str) -> String {
    let fixed = ftfy::fix_text(text);
    let unescaped = html::unescape(&html::unescape(&fixed));
    let stripped = unescaped.trim_matches(py_isspace);
    let collapsed = collapse_spaces(stripped, original_class);
    python_lower(collapsed.trim_matches(py_isspace))
}

/// Matches `pattern` at the start of `s`, ignoring case as the `regex` module does for what can
/// follow `str.lower()`: only `ſ` (long s) folds to one of the pattern's letters. Returns the
/// matched length in bytes.
fn match_folded(s: &str, pattern: &str) -> Option<usize> {
    let mut len = 0;
    let mut chars = s.chars();
    for p in pattern.chars() {
        let c = chars.next()?;
        if c != p && !(p == 's' && c == 'ſ') {
            return None;
        }
        len += c.len_utf8();
    }
    Some(len)
}

/// Step 3: `re.findall(pattern, text)`.
fn pieces(text: &str) -> Vec<&str> {
    const LITERALS: [&str; 9] = [
        BOS_TOKEN, EOS_TOKEN, "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
    ];
    let literal = |rest: &str| LITERALS.iter().find_map(|p| match_folded(rest, p));
    pattern::clip_pieces(text, literal, original_class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_piece(text, 1, 2, &mut |p| {
            out.push(match p {
                Piece::Special(id, s) => format!("{s}#{id}"),
                Piece::Text(s) => s.to_owned(),
            })
        });
        out
    }

    #[test]
    fn pieces_of_openai_tokenizer() {
        assert_eq!(
            shown("It's 2 A\u{200d}B\t日本語!? ΟΔΟΣ"),
            [
                "it",
                "'s",
                "2",
                "a",
                "\u{200d}",
                "b",
                "日本語",
                "!?",
                "οδος"
            ]
        );
        assert_eq!(shown("Tom &amp;amp; Jerry"), ["tom", "&", "jerry"]);
        assert_eq!(
            shown("ﬁne “quotes” sÃ³"),
            ["fine", "\"", "quotes", "\"", "só"]
        );
        assert_eq!(
            shown("x<|ENDOFTEXT|> 'ſ a\u{345}b <|ſtartoftext|>"),
            ["x", "<|endoftext|>#2", "'ſ", "a", "b", "<|ſtartoftext|>"]
        );
    }
}
