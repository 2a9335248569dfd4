//! VLSBench `data.json`: an array of objects. `id` is `instruction_id`; `image_path`
//! (`imgs/<k>.png`) is relative to the folder holding data.json; `image_description`,
//! `safety_reason` (2025 release only) and any other key go to `extra`.

use serde_json::Value;

use super::DatasetError;
use super::{FieldError, Pos, Sample, Sink, image_ref, json_kind, json_str, non_blank};

const KNOWN: [&str; 6] = [
    "instruction_id",
    "instruction",
    "image_path",
    "category",
    "sub_category",
    "source",
];

pub(super) fn load(
    items: &[Value],
    lines: &[usize],
    sink: &mut Sink<'_>,
) -> Result<(), DatasetError> {
    for (i, item) in items.iter().enumerate() {
        let pos = Pos {
            row: i + 1,
            line: lines.get(i).copied(),
        };
        let id = item.get("instruction_id").and_then(id_of);
        sink.row(pos, id, row(item).map(|s| vec![s]))?;
    }
    Ok(())
}

/// `instruction_id` as a string: a non-negative integer or a non-empty string.
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

fn row(item: &Value) -> Result<Sample, FieldError> {
    let Some(obj) = item.as_object() else {
        return Err(FieldError::row(format!(
            "expected an object, found {}",
            json_kind(item)
        )));
    };
    let id = match obj.get("instruction_id") {
        None => return Err(FieldError::field("instruction_id", "missing")),
        Some(v) => id_of(v).ok_or_else(|| {
            FieldError::field(
                "instruction_id",
                format!("expected a non-negative integer, found {v}"),
            )
        })?,
    };
    let text = json_str(obj, "instruction")?;
    let image = image_ref("image_path", &json_str(obj, "image_path")?)?;
    let category = non_blank(json_str(obj, "category")?)
        .ok_or_else(|| FieldError::field("category", "empty"))?;
    let sub_category = non_blank(json_str(obj, "sub_category")?)
        .ok_or_else(|| FieldError::field("sub_category", "empty"))?;
    let source = json_str(obj, "source")?;
    let extra = obj
        .iter()
        .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Sample {
        id,
        text,
        image: Some(image),
        category: Some(category),
        sub_category: Some(sub_category),
        source,
        extra,
    })
}
