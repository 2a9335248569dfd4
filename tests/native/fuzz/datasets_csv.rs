//! The CSV reader and the CSV loaders (FigStep/SafeBench, JailbreakV-28K, HarmBench), through
//! `datasets::load` with and without an explicit format, strict and lenient: headers of each
//! format (columns dropped, repeated, reordered), fields with quotes, commas, newlines, unclosed
//! quotes, a BOM, CRLF, very long fields, hostile text.

use leakscope::datasets::{DatasetFormat, Strictness, load};

use super::{Gen, parts, split_parts};

/// The CSV formats' own headers (HarmBench's with the columns it keeps in `extra`).
fn headers() -> [Vec<&'static str>; 3] {
    let mut harmbench = DatasetFormat::HarmBench.csv_columns().to_vec();
    harmbench.extend(["Tags", "ContextString", "ImageDescription"]);
    [
        DatasetFormat::FigStep.csv_columns().to_vec(),
        DatasetFormat::JailbreakV.csv_columns().to_vec(),
        harmbench,
    ]
}

fn field(g: &mut Gen<'_, '_>, column: &str) -> String {
    let text = match (column, g.range(0, 5)) {
        (_, 0) => g.text(30),
        (_, 1) => g.number_json(),
        ("category_id" | "task_id" | "id", _) => g.range(0, 40).to_string(),
        ("image_path" | "ImageFileName", _) => {
            let p = *g.pick(&[
                "imgs/1.png",
                "../x.png",
                "/etc/passwd",
                "C:\\a.png",
                "",
                "a//b/./c.jpg",
            ]);
            p.to_owned()
        }
        ("selected_mini" | "transfer_from_llm", _) => {
            (*g.pick(&["True", "False", "1", "0", "yes", ""])).to_owned()
        }
        _ => g.text(12),
    };
    match g.range(0, 6) {
        0 => format!("\"{}\"", text.replace('"', "\"\"")),
        1 => format!("\"{text}"),
        2 => format!("{text}\"x"),
        _ if text.contains([',', '"', '\n', '\r']) => format!("\"{}\"", text.replace('"', "\"\"")),
        _ => text,
    }
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let mut header: Vec<String> = g.pick(&headers()).iter().map(|s| (*s).to_owned()).collect();
    for _ in 0..g.below(3) {
        let i = g.below(header.len());
        match g.range(0, 2) {
            0 => {
                header.remove(i);
            }
            1 => {
                let copy = header[i].clone();
                header.push(copy);
            }
            _ => {
                let j = g.below(header.len());
                header.swap(i, j);
            }
        }
    }
    let newline = if g.chance(30) { "\r\n" } else { "\n" };
    let mut csv = String::new();
    if g.chance(20) {
        csv.push('\u{FEFF}');
    }
    csv.push_str(&header.join(","));
    csv.push_str(newline);
    for _ in 0..g.below(12) {
        let mut cells: Vec<String> = header.iter().map(|c| field(g, c)).collect();
        if g.chance(10) {
            cells.pop();
        }
        if g.chance(10) {
            cells.push(g.text(5));
        }
        if g.chance(3) {
            cells.push("x".repeat(g.range(1000, 100_000) as usize));
        }
        csv.push_str(&cells.join(","));
        csv.push_str(newline);
    }
    let mut bytes = csv.into_bytes();
    if g.chance(15) {
        g.mutate(&mut bytes, 4);
    }
    let format = g.range(0, DatasetFormat::ALL.len() as u64) as u8;
    let lenient = u8::from(g.chance(50));
    Ok(parts(&[&bytes, &[format, lenient]]))
}

pub fn check_load(bytes: &[u8], options: &[u8]) {
    let format = options
        .first()
        .and_then(|&i| DatasetFormat::ALL.get(usize::from(i)).copied());
    let mode = if options.get(1) == Some(&1) {
        Strictness::Lenient
    } else {
        Strictness::Strict
    };
    if let Ok(loaded) = load(format, "fuzz/data", bytes, mode) {
        let mut ids = std::collections::HashSet::new();
        for s in &loaded.samples {
            assert!(ids.insert(s.id.clone()), "duplicate id {:?} loaded", s.id);
            if let Some(image) = &s.image {
                let p = image.as_str();
                assert!(!p.starts_with('/') && !p.split('/').any(|c| c == ".." || c.is_empty()));
            }
        }
        if mode == Strictness::Strict {
            assert!(loaded.skipped.is_empty());
        }
    }
}

fn check(input: &[u8]) {
    let [bytes, options] = split_parts::<2>(input);
    check_load(bytes, options);
}

fuzz_target!("datasets_csv", cases: 400, size_max: 32768, memory: 32 << 20);
