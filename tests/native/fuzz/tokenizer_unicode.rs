//! The tokenizer on arbitrary Unicode (the tiny checkpoint's vocabulary): markup, controls,
//! bidi overrides, combining marks, unassigned and private-use code points, special token
//! strings, long runs. Encoding never fails; the output keeps its framing and the word spans
//! cover it.

use std::sync::OnceLock;

use leakscope::tokenizer::ClipTokenizer;

use super::Gen;

fn tokenizer() -> &'static ClipTokenizer {
    static TOKENIZER: OnceLock<ClipTokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let dir = crate::common::fixture("tiny-clip");
        ClipTokenizer::from_bytes(
            &crate::common::read(dir.join("vocab.json")),
            &crate::common::read(dir.join("merges.txt")),
        )
        .expect("tiny tokenizer")
    })
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let mut text = g.text(300).into_bytes();
    if g.chance(15) {
        // Long single runs: one character many times.
        let c = g.scalar().to_string();
        text.extend(c.repeat(g.range(100, 5000) as usize).into_bytes());
    }
    if g.chance(10) {
        g.mutate(&mut text, 5);
    }
    Ok(text)
}

fn check(input: &[u8]) {
    let t = tokenizer();
    let text = String::from_utf8_lossy(input);
    let ids = t.encode(&text);
    assert!(ids.len() >= 2);
    assert_eq!(ids[0], t.bos_id());
    assert_eq!(ids[ids.len() - 1], t.eos_id());
    let padded = t.encode_padded(&text, 77);
    assert_eq!(padded.len(), 77);
    let mut next = 1;
    for (word, span) in t.words(&text) {
        assert_eq!(
            span.start, next,
            "word {word:?} does not follow the previous one"
        );
        assert!(span.end > span.start, "empty span for {word:?}");
        next = span.end;
    }
    assert_eq!(next, ids.len() - 1, "the words do not cover the ids");
}

fuzz_target!("tokenizer_unicode", cases: 500, size_max: 16384, memory: 32 << 20);
