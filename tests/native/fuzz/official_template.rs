//! The official-template extractor (`eval::official::extract_prompt_template`,
//! `template_from_source`): Python-ish sources with `PROMPT_TEMPLATE` assignments in every
//! quoting (triple, raw, unicode prefixes, unterminated, escapes), near misses (`==`, other
//! names), multi-byte text around them, and edits.

use leakscope::eval::official::{extract_prompt_template, template_from_source};

use super::Gen;

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let mut src = String::new();
    for _ in 0..g.below(6) {
        let name = *g.pick(&[
            "PROMPT_TEMPLATE",
            "PROMPT_TEMPLATE_2",
            "prompt_template",
            "X",
        ]);
        let op = *g.pick(&[" = ", "=", " == ", " =\t", " := ", " "]);
        let prefix = *g.pick(&["", "r", "R", "u", "b", "f"]);
        let quote = *g.pick(&["\"\"\"", "'''", "\"", "'"]);
        let close = if g.chance(85) { quote } else { "" };
        let body = match g.range(0, 3) {
            0 => "You are a judge. {question} {response} Output JSON with label and label_str."
                .to_owned(),
            1 => format!("{{question}}{}{{response}}", g.text(40)),
            2 => g.text(80),
            _ => "a\\nb {question} \\\"{response}".to_owned(),
        };
        src.push_str(&format!(
            "{}\n{name}{op}{prefix}{quote}{body}{close}\n",
            g.text(10)
        ));
    }
    let mut bytes = src.into_bytes();
    if g.chance(20) {
        g.mutate(&mut bytes, 3);
    }
    Ok(bytes)
}

fn check(input: &[u8]) {
    let source = String::from_utf8_lossy(input);
    if let Ok(text) = extract_prompt_template(&source) {
        assert!(source.contains(text));
    }
    let _ = template_from_source(&source);
}

fuzz_target!("official_template", cases: 400, size_max: 8192, memory: 8 << 20);
