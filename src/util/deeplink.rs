//! The demo's deep links, `#sample=<id>&text=<query>`: read and written here, in the core, so
//! the parser is tested natively; the page only hands over `location.hash`.
//!
//! The hash is `application/x-www-form-urlencoded`, as the browser's `URLSearchParams` reads
//! and writes it: pairs split on `&`, name and value on the first `=`, `+` is a space, `%XX` a
//! byte (a broken escape stays as written), bytes that are not UTF-8 become U+FFFD; the first
//! value of a name counts. A hash longer than [`MAX_HASH_BYTES`] is read up to that length and
//! a text longer than [`MAX_TEXT_CHARS`] is cut: a link cannot make the page tokenize
//! megabytes.

/// Longest hash read (bytes; the rest is ignored).
pub const MAX_HASH_BYTES: usize = 16 << 10;
/// Longest query text taken from a link (characters); the demo's text box holds a sentence.
pub const MAX_TEXT_CHARS: usize = 1000;

/// What a deep link asks the demo to show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeepLink {
    /// A gallery sample id (the page ignores ids it does not know).
    pub sample: Option<String>,
    /// The query text, when it differs from the sample's own.
    pub text: Option<String>,
}

impl DeepLink {
    /// Reads `hash` (with or without the leading `#`); never fails.
    pub fn parse(hash: &str) -> Self {
        let hash = hash.strip_prefix('#').unwrap_or(hash);
        let mut end = hash.len().min(MAX_HASH_BYTES);
        while !hash.is_char_boundary(end) {
            end -= 1;
        }
        let pairs = form_decode(&hash[..end]);
        let first = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        Self {
            sample: first("sample").filter(|s| !s.is_empty()),
            text: first("text").map(|t| t.chars().take(MAX_TEXT_CHARS).collect()),
        }
    }

    /// The hash (without `#`) that [`DeepLink::parse`] reads back as `self`; empty when the
    /// link holds nothing.
    pub fn to_hash(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(sample) = self.sample.as_deref().filter(|s| !s.is_empty()) {
            pairs.push(format!("sample={}", form_encode(sample)));
        }
        if let Some(text) = &self.text {
            pairs.push(format!("text={}", form_encode(text)));
        }
        pairs.join("&")
    }
}

/// `name=value&…` → pairs, decoded as `URLSearchParams` does.
pub fn form_decode(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode_component(name), decode_component(value))
        })
        .collect()
}

fn decode_component(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16)
                        .ok()
                        .filter(|_| h.bytes().all(|c| c.is_ascii_hexdigit()))
                });
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One name or value, encoded as `URLSearchParams` writes it.
pub fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') => {
                out.push(b as char)
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_read_as_url_search_params_does() {
        let link = DeepLink::parse("#sample=weapon&text=how+to%20make%3F&text=second");
        assert_eq!(link.sample.as_deref(), Some("weapon"));
        assert_eq!(link.text.as_deref(), Some("how to make?"));
        let broken = DeepLink::parse("text=%zz%4%E2%80%AE%ff");
        assert_eq!(broken.text.as_deref(), Some("%zz%4\u{202E}\u{FFFD}"));
        assert_eq!(DeepLink::parse(""), DeepLink::default());
        assert_eq!(DeepLink::parse("#sample=&text").sample, None);
        let long = format!("text={}", "a".repeat(5000));
        assert_eq!(
            DeepLink::parse(&long).text.map(|t| t.chars().count()),
            Some(MAX_TEXT_CHARS)
        );
    }

    #[test]
    fn written_links_read_back() {
        let link = DeepLink {
            sample: Some("a b&c".into()),
            text: Some("<img src=x onerror=alert(1)> \u{202E}\0 +%".into()),
        };
        let hash = link.to_hash();
        assert!(!hash.contains('<') && !hash.contains(' '));
        assert_eq!(DeepLink::parse(&hash), link);
    }
}
