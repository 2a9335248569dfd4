//! Every element id the browser code names exists in `www/index.html`: the DOM helpers skip a
//! missing element (with a console warning), so a renamed id would switch a feature off
//! without a word. Ids are read from the helpers' first argument (`set_text("id", …)`,
//! `on("id", …)`, …) and from the id lists the code loops over (`for id in ["a", "b"]`,
//! `for (id, kind) in [("a", …)]`, `const …: &[&str] = &["a", …]`).

use std::collections::BTreeSet;
use std::path::Path;

/// DOM helpers whose first argument is an element id (`src/web/dom.rs`).
const HELPERS: &[&str] = &[
    "set_text",
    "set_attr",
    "set_html",
    "set_hidden",
    "set_disabled",
    "set_value",
    "value",
    "on",
    "element",
    "typed",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literal starting at `text` (just after its opening quote).
fn literal(text: &str) -> Option<&str> {
    text.find('"').map(|end| &text[..end])
}

/// Ids in helper calls: `name("id"` and `name::<T>("id"`.
fn helper_ids(source: &str, out: &mut BTreeSet<String>) {
    for helper in HELPERS {
        for (at, _) in source.match_indices(helper) {
            let before = source[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                continue; // part of another name, or a method call on something else
            }
            let mut rest = &source[at + helper.len()..];
            if let Some(generic) = rest.strip_prefix("::<") {
                rest = &generic[generic.find('>').map_or(0, |i| i + 1)..];
            }
            if let Some(arg) = rest.strip_prefix("(\"")
                && let Some(id) = literal(arg)
            {
                out.insert(id.to_owned());
            }
        }
    }
}

/// Every literal inside the bracketed list that starts at `text` (just after its `[`): bare
/// literals, and the first literal of each tuple.
fn list_ids(text: &str, out: &mut BTreeSet<String>) {
    let (mut brackets, mut parens, mut first_in_tuple) = (0usize, 0usize, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '[' => brackets += 1,
            ']' if brackets == 0 => return,
            ']' => brackets -= 1,
            '(' => {
                parens += 1;
                first_in_tuple = true;
            }
            ')' => parens = parens.saturating_sub(1),
            '"' => {
                let Some(id) = literal(rest) else { return };
                if parens == 0 || first_in_tuple {
                    out.insert(id.to_owned());
                }
                first_in_tuple = false;
                rest = &rest[id.len() + 1..];
            }
            _ => {}
        }
    }
}

fn looped_ids(source: &str, out: &mut BTreeSet<String>) {
    for start in ["for id in [", "for (id, ", ": &[&str] = &[", "[&str; "] {
        for (at, _) in source.match_indices(start) {
            let rest = &source[at..];
            let Some(open) = rest.find('[').filter(|&o| o < 80) else {
                continue;
            };
            // `[&str; N] = [` : the list starts at the second bracket.
            let open = if start.ends_with('[') {
                start.len() - 1
            } else if start == "[&str; " {
                match rest[open + 1..].find('[') {
                    Some(o) => open + 1 + o,
                    None => continue,
                }
            } else if start == "for (id, " {
                match rest.find(" in [") {
                    Some(o) if o < 80 => o + 4,
                    _ => continue,
                }
            } else {
                open
            };
            list_ids(&rest[open + 1..], out);
        }
    }
}

fn page_ids(html: &str) -> BTreeSet<String> {
    html.match_indices(" id=\"")
        .filter_map(|(at, m)| literal(&html[at + m.len()..]))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_element_id_named_in_src_web_is_on_the_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let html = std::fs::read_to_string(root.join("www/index.html")).unwrap();
    let on_page = page_ids(&html);
    let mut files = Vec::new();
    rust_files(&root.join("src/web"), &mut files);
    let mut named = BTreeSet::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        helper_ids(&source, &mut named);
        looped_ids(&source, &mut named);
    }
    assert!(
        named.len() > 80,
        "the scan found only {} ids: did the helpers get renamed?",
        named.len()
    );
    let missing: Vec<&String> = named.iter().filter(|id| !on_page.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "ids named in src/web but not in www/index.html: {missing:?}"
    );
    println!(
        "{} ids named in src/web, all on the page ({} ids there)",
        named.len(),
        on_page.len()
    );
}

#[test]
fn the_scanner_reads_calls_loops_and_lists() {
    let source = r#"
        set_text("a-1", &x); on("b", "click", f); typed::<X>("c");
        my_set_text("not-this"); x.value("nor-this");
        for id in ["d", "e"] {}
        for (id, kind) in [("f", "json"), ("g", "csv")] {}
        const SAVED: &[&str] = &["h", "i"];
        const KEYS: [&str; 2] = ["j", "k"];
    "#;
    let mut ids = BTreeSet::new();
    helper_ids(source, &mut ids);
    looped_ids(source, &mut ids);
    let want: BTreeSet<String> = ["a-1", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]
        .map(String::from)
        .into();
    assert_eq!(ids, want);
}
