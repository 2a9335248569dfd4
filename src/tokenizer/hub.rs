//! The `hub` mode: what a CLIP checkpoint's `tokenizer.json` does under the tokenizers library
//! (transformers 5, and transformers.js, which runs the same file).
//!
//! For one text, in order:
//! 1. Added tokens that are not `normalized` are cut out of the raw text (leftmost, longest).
//! 2. Each remaining part is normalised: NFC (the library's Unicode data), every run of `\s`
//!    becomes one space, then every character is lowercased on its own (no final sigma).
//! 3. `normalized` added tokens — CLIP's `<|startoftext|>` and `<|endoftext|>` — are cut out of
//!    the normalised text, so `<|ENDOFTEXT|>` counts too.
//! 4. The CLIP pattern (case-sensitive, Oniguruma's classes) cuts each part into pieces:
//!    `<|startoftext|>`, `<|endoftext|>` (only in files whose pattern has them),
//!    `'s 't 're 've 'm 'll 'd`, a run of letters, one digit, or a run of other characters;
//!    spaces are dropped. Zero-width joiners, controls and
//!    variation selectors are "other" characters, so they are kept; a run of CJK ideographs is
//!    one letter run, one BPE word.
//! 5. The byte-level pre-tokenizer splits each piece again with GPT-2's pattern (this only ever
//!    changes the literal `<|endoftext|>`, which becomes `<|` `endoftext` `|>`), then BPE.
//!
//! The Unicode data is the library's own, not Python's: Oniguruma's `\s`, `\p{L}`, `\p{N}`, the
//! NFC of `unicode-normalization-alignments` (older than Unicode 14: a few recent marks and
//! composites are inert to it), and Rust's lowercase as the library was built (Unicode 17).
//! A file's `truncation` and `padding` are not read: [`super::ClipTokenizer::encode_padded`]
//! truncates and pads as transformers' `tokenizer(text, padding="max_length", max_length=77,
//! truncation=True)` call does, whatever the file says. transformers 5 itself takes only the
//! vocabulary, merges and special tokens from a CLIP `tokenizer.json` and rebuilds the rest as
//! above; transformers.js runs the whole file. For every CLIP `tokenizer.json` we know the two
//! are the same pipeline, and any other is refused rather than encoded differently.

use super::files::AddedToken;
use super::unicode::{Class, Nfc, collapse_spaces, hub_class, hub_lowercase};
use super::{Piece, pattern};

#[derive(Clone, Debug)]
pub(super) struct Pipeline {
    /// Matched in the raw text, longest first.
    raw_tokens: Vec<AddedToken>,
    /// Matched in the normalised text (contents normalised), longest first.
    normalized_tokens: Vec<AddedToken>,
    split_specials: bool,
    byte_level_regex: bool,
}

impl Pipeline {
    pub(super) fn new(
        added: Vec<AddedToken>,
        split_specials: bool,
        byte_level_regex: bool,
    ) -> Self {
        let (mut normalized_tokens, mut raw_tokens): (Vec<_>, Vec<_>) =
            added.into_iter().partition(|t| t.normalized);
        for t in &mut normalized_tokens {
            t.content = normalize(&t.content);
        }
        normalized_tokens.retain(|t| !t.content.is_empty());
        for list in [&mut raw_tokens, &mut normalized_tokens] {
            list.sort_by_key(|t| std::cmp::Reverse(t.content.len()));
        }
        Self {
            raw_tokens,
            normalized_tokens,
            split_specials,
            byte_level_regex,
        }
    }

    /// Steps 1–5: calls `f` with each piece in order.
    pub(super) fn for_each_piece(&self, text: &str, f: &mut dyn FnMut(Piece<'_>)) {
        split_added(text, &self.raw_tokens, &mut |part| match part {
            Part::Token(t) => f(Piece::Special(t.id, &t.content)),
            Part::Text(raw) => {
                let normalized = normalize(raw);
                split_added(
                    &normalized,
                    &self.normalized_tokens,
                    &mut |part| match part {
                        Part::Token(t) => f(Piece::Special(t.id, &t.content)),
                        Part::Text(s) => {
                            for piece in clip_pieces(s, self.split_specials) {
                                if self.byte_level_regex {
                                    for word in gpt2_pieces(piece) {
                                        f(Piece::Text(word));
                                    }
                                } else {
                                    f(Piece::Text(piece));
                                }
                            }
                        }
                    },
                )
            }
        });
    }
}

/// Step 2: the normaliser `Sequence[NFC, Replace(\s+, " "), Lowercase]`.
fn normalize(text: &str) -> String {
    let nfc = Nfc::Hub.apply(text);
    hub_lowercase(&collapse_spaces(&nfc, hub_class))
}

enum Part<'a, 't> {
    Token(&'t AddedToken),
    Text(&'a str),
}

/// Cuts `text` at every occurrence of a token (leftmost first; the longest at one position).
fn split_added<'a, 't>(text: &'a str, tokens: &'t [AddedToken], f: &mut dyn FnMut(Part<'a, 't>)) {
    let mut start = 0;
    let mut pos = 0;
    while pos < text.len() {
        if let Some(t) = tokens.iter().find(|t| text[pos..].starts_with(&t.content)) {
            if start < pos {
                f(Part::Text(&text[start..pos]));
            }
            f(Part::Token(t));
            pos += t.content.len();
            start = pos;
        } else {
            pos += text[pos..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if start < text.len() {
        f(Part::Text(&text[start..]));
    }
}

const CONTRACTIONS: [&str; 7] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

/// Step 4: the matches of the CLIP pattern in `text`, case-sensitive.
fn clip_pieces(text: &str, split_specials: bool) -> Vec<&str> {
    let specials: &[&str] = if split_specials {
        &["<|startoftext|>", "<|endoftext|>"]
    } else {
        &[]
    };
    let literal = |rest: &str| {
        specials
            .iter()
            .chain(CONTRACTIONS.iter())
            .find(|p| rest.starts_with(**p))
            .map(|p| p.len())
    };
    pattern::clip_pieces(text, literal, hub_class)
}

/// Step 5: GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+` over
/// one piece (which holds no whitespace, so the optional spaces never match).
fn gpt2_pieces(piece: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(first) = piece[pos..].chars().next() {
        let rest = &piece[pos..];
        let len = match CONTRACTIONS.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => p.len(),
            None => match hub_class(first) {
                Class::Skip => first.len_utf8(),
                class => pattern::run_len(rest, class, hub_class),
            },
        };
        out.push(&rest[..len]);
        pos += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(p: &Pipeline, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        p.for_each_piece(text, &mut |piece| {
            out.push(match piece {
                Piece::Special(id, s) => format!("{s}#{id}"),
                Piece::Text(s) => s.to_owned(),
            })
        });
        out
    }

    #[test]
    fn pipeline_of_clip_tokenizer_json() {
        let p = Pipeline::new(super::super::files::clip_added_tokens(1, 2), true, true);
        assert_eq!(
            pieces(&p, "It's 2 A\u{200d}B\t日本語!? ΟΔΟΣ"),
            [
                "it",
                "'s",
                "2",
                "a",
                "\u{200d}",
                "b",
                "日本語",
                "!?",
                "οδοσ"
            ]
        );
        // Special tokens in any case, anywhere (they are matched after lowercasing).
        assert_eq!(
            pieces(&p, "!<|ENDOFTEXT|>x<|startoftext|>"),
            ["!", "<|endoftext|>#2", "x", "<|startoftext|>#1"]
        );
        // A raw (not normalised) token is matched case-sensitively before normalisation; the
        // literal found later by the pattern is split again by the byte-level pre-tokenizer.
        let raw = vec![AddedToken {
            content: "<|endoftext|>".into(),
            id: 2,
            normalized: false,
        }];
        let p = Pipeline::new(raw.clone(), true, true);
        assert_eq!(
            pieces(&p, "a<|endoftext|><|ENDOFTEXT|>"),
            ["a", "<|endoftext|>#2", "<|", "endoftext", "|>"]
        );
        // Without the byte-level split, the literal stays whole, unless the pattern lacks the
        // special-token alternatives (as transformers' converter writes it).
        let p = Pipeline::new(Vec::new(), true, false);
        assert_eq!(pieces(&p, "<|ENDOFTEXT|>"), ["<|endoftext|>"]);
        let p = Pipeline::new(Vec::new(), false, false);
        assert_eq!(pieces(&p, "<|ENDOFTEXT|>"), ["<|", "endoftext", "|>"]);
        let p = Pipeline::new(raw, false, true);
        assert_eq!(
            pieces(&p, "a<|endoftext|><|ENDOFTEXT|>"),
            ["a", "<|endoftext|>#2", "<|", "endoftext", "|>"]
        );
    }
}
