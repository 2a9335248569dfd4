//! The page's deep-link parser (`util::deeplink`, what `#sample=…&text=…` becomes): hashes with
//! every percent-escape (broken ones, non-UTF-8 bytes, `%00`), `+`, repeated and empty keys,
//! markup and script payloads, very long texts. Parsing never fails, texts are cut to the
//! stated limit, and a link the page writes reads back as the same sample and text.

use leakscope::util::deeplink::{DeepLink, MAX_TEXT_CHARS};

use super::{Gen, parts, split_parts};

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let mut hash = String::new();
    if g.chance(70) {
        hash.push('#');
    }
    for i in 0..g.below(6) {
        if i > 0 {
            hash.push(*g.pick(&['&', '&', ';', '=']));
        }
        let key = (*g.pick(&[
            "sample", "text", "sample", "text", "x", "", "Sample", "text%3D",
        ]))
        .to_owned();
        hash.push_str(&key);
        if g.chance(90) {
            hash.push('=');
        }
        for _ in 0..g.below(12) {
            match g.range(0, 5) {
                0 => hash.push_str(&format!("%{:02X}", g.byte())),
                1 => {
                    let escape: &&str = g.pick(&["%", "%4", "%G0", "%zz", "+", "%2B", "%E2%80%AE"]);
                    hash.push_str(escape)
                }
                2 => hash.push_str(&g.text(6)),
                _ => hash.push_str(&g.word(5)),
            }
        }
    }
    if g.chance(5) {
        hash.push_str(&"%41".repeat(g.range(1000, 30_000) as usize));
    }
    let link = DeepLink {
        sample: g.chance(70).then(|| g.text(10)),
        text: g.chance(70).then(|| g.text(60)),
    };
    let link = serde_json::to_vec(&(link.sample, link.text)).unwrap_or_default();
    Ok(parts(&[hash.as_bytes(), &link]))
}

fn check(input: &[u8]) {
    let [hash, link] = split_parts::<2>(input);
    let parsed = DeepLink::parse(&String::from_utf8_lossy(hash));
    if let Some(text) = &parsed.text {
        assert!(text.chars().count() <= MAX_TEXT_CHARS);
    }
    if let Ok((sample, text)) = serde_json::from_slice::<(Option<String>, Option<String>)>(link) {
        let link = DeepLink { sample, text };
        let written = link.to_hash();
        let read = DeepLink::parse(&written);
        let clip = |t: &Option<String>| {
            t.as_ref()
                .map(|t| t.chars().take(MAX_TEXT_CHARS).collect::<String>())
        };
        assert_eq!(
            read.sample,
            link.sample.clone().filter(|s| !s.is_empty()),
            "{written}"
        );
        assert_eq!(read.text, clip(&link.text), "{written}");
    }
}

fuzz_target!("deep_link", cases: 600, size_max: 8192, memory: 8 << 20);
