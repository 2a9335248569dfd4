//! CLIP's pre-tokenizing pattern, `<|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|
//! [\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`, as one scanner for both modes: each mode brings its own
//! literals (matched case-sensitively in hub mode, under Python's IGNORECASE in original mode)
//! and its own character classes (each reference's Unicode version).

use super::unicode::Class;

/// Length of the run of `class` characters that starts `s`.
pub(super) fn run_len(s: &str, class: Class, class_of: fn(char) -> Class) -> usize {
    s.char_indices()
        .find(|&(_, c)| class_of(c) != class)
        .map_or(s.len(), |(i, _)| i)
}

/// The pattern's matches in `text`, in order: `literal(rest)` is the length of the literal that
/// starts `rest`, if any; else a run of letters, one digit, or a run of other characters.
/// Whitespace (and characters no class matches) separates pieces and belongs to none.
pub(super) fn clip_pieces(
    text: &str,
    literal: impl Fn(&str) -> Option<usize>,
    class_of: fn(char) -> Class,
) -> Vec<&str> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(first) = text[pos..].chars().next() {
        let rest = &text[pos..];
        let len = literal(rest).unwrap_or_else(|| match class_of(first) {
            class @ (Class::Letter | Class::Other) => run_len(rest, class, class_of),
            Class::Number => first.len_utf8(),
            Class::Space | Class::Skip => 0,
        });
        if len == 0 {
            pos += first.len_utf8();
            continue;
        }
        out.push(&rest[..len]);
        pos += len;
    }
    out
}
