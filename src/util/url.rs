//! URL pieces: one path segment, percent-encoded, and the origin of an http(s) URL.

/// One URL path segment (RFC 3986): unreserved characters as they are, every other byte as
/// `%XX`, so a name with `/`, spaces or `#` stays one segment.
pub fn encode_path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scheme://host[:port]` of an http(s) URL; `None` for anything else. Lower-cased, default
/// ports kept as written (browsers compare origins the same way after normalising).
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    if host_port.is_empty() || host_port.contains(char::is_whitespace) {
        return None;
    }
    Some(format!("{scheme}://{}", host_port.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(
            origin("HTTPS://Api.Example.com:8443/v1?x").as_deref(),
            Some("https://api.example.com:8443")
        );
        assert_eq!(
            origin("http://user@localhost/v1").as_deref(),
            Some("http://localhost")
        );
        assert_eq!(origin("javascript:alert(1)"), None);
        assert_eq!(origin("https://"), None);
    }
}
