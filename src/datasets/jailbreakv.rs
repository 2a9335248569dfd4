//! JailbreakV-28K CSV: `id,jailbreak_query,redteam_query,format,policy,image_path,from,
//! selected_mini,transfer_from_llm`. The text is `jailbreak_query` (what the model is sent;
//! the plain request `redteam_query` is in `extra`), the category `policy`, the source
//! `from` (else `JailbreakV-28K`); `selected_mini` and `transfer_from_llm` become booleans in
//! `extra`; other columns are kept there as strings.

use serde_json::Value;

use super::csv::Table;
use super::{DatasetError, DatasetFormat, FieldError, Sample, Sink, image_ref};

const REQUIRED: [&str; 6] = [
    "id",
    "jailbreak_query",
    "redteam_query",
    "format",
    "policy",
    "image_path",
];
pub(super) const KNOWN: [&str; 9] = [
    "id",
    "jailbreak_query",
    "redteam_query",
    "format",
    "policy",
    "image_path",
    "from",
    "selected_mini",
    "transfer_from_llm",
];

pub(super) fn load(table: &Table, sink: &mut Sink<'_>) -> Result<(), DatasetError> {
    table.require(sink.file, DatasetFormat::JailbreakV, &REQUIRED)?;
    table.rows(
        sink,
        |row| row.id("id"),
        |row| {
            let id = row.non_empty("id")?.trim().to_owned();
            let image = image_ref("image_path", row.req("image_path"))?;
            let mut extra = row.extras(&KNOWN);
            extra.insert("redteam_query".into(), row.req("redteam_query").into());
            extra.insert("format".into(), row.req("format").trim().into());
            for flag in ["selected_mini", "transfer_from_llm"] {
                if let Some(raw) = row.get(flag) {
                    extra.insert(flag.into(), Value::Bool(boolean(flag, raw)?));
                }
            }
            let source = row
                .get("from")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or("JailbreakV-28K");
            Ok(vec![Sample {
                id,
                text: row.req("jailbreak_query").to_owned(),
                image: Some(image),
                category: Some(row.non_empty("policy")?.trim().to_owned()),
                sub_category: None,
                source: source.to_owned(),
                extra,
            }])
        },
    )
}

/// `True`/`False` as pandas writes them (also `true`, `1`, `0`, any case).
fn boolean(field: &str, raw: &str) -> Result<bool, FieldError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(FieldError::field(
            field,
            format!("expected True or False, found `{}`", raw.trim()),
        )),
    }
}
