//! VLGuard `train.json` / `test.json`: an array of images, each with `id`, `image`, `safe`,
//! `harmful_category`, `harmful_subcategory` (absent for safe images) and `instr-resp`, a
//! list of pairs holding one of `safe_instruction`, `unsafe_instruction` or `instruction`,
//! and a `response`. One sample per pair, id `<id>#<k>` (k from 0); `extra` records
//! `instruction_kind` (`safe`, `unsafe` or `instruction`), `image_safe` and `response`.
//! A bad pair is reported on its own (field `instr-resp[k]…`); the image's other pairs load.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{
    DatasetError, FieldError, Pos, Sample, Sink, image_ref, json_kind, json_opt_str, json_str,
    non_blank,
};

const KNOWN: [&str; 6] = [
    "id",
    "image",
    "safe",
    "harmful_category",
    "harmful_subcategory",
    "instr-resp",
];
const KINDS: [(&str, &str); 3] = [
    ("safe_instruction", "safe"),
    ("unsafe_instruction", "unsafe"),
    ("instruction", "instruction"),
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
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let image = match image_fields(item) {
            Ok(i) => i,
            Err(e) => {
                sink.row(pos, id, Err(e))?;
                continue;
            }
        };
        for (k, pair) in image.pairs.iter().enumerate() {
            sink.row(pos, id.clone(), sample(&image, k, pair).map(|s| vec![s]))?;
        }
    }
    Ok(())
}

/// The per-image part of an entry, checked.
struct Image<'a> {
    id: String,
    image: super::ImageRef,
    safe: bool,
    category: Option<String>,
    sub_category: Option<String>,
    extra: BTreeMap<String, Value>,
    pairs: &'a [Value],
}

fn image_fields(item: &Value) -> Result<Image<'_>, FieldError> {
    let Some(obj) = item.as_object() else {
        return Err(FieldError::row(format!(
            "expected an object, found {}",
            json_kind(item)
        )));
    };
    let id = non_blank(json_str(obj, "id")?).ok_or_else(|| FieldError::field("id", "empty"))?;
    let image = image_ref("image", &json_str(obj, "image")?)?;
    let safe = match obj.get("safe") {
        Some(Value::Bool(b)) => *b,
        None => return Err(FieldError::field("safe", "missing")),
        Some(v) => {
            return Err(FieldError::field(
                "safe",
                format!("expected true or false, found {}", json_kind(v)),
            ));
        }
    };
    let pairs = match obj.get("instr-resp") {
        Some(Value::Array(a)) if !a.is_empty() => a.as_slice(),
        Some(Value::Array(_)) => {
            return Err(FieldError::field(
                "instr-resp",
                "empty: the image has no instruction",
            ));
        }
        None => return Err(FieldError::field("instr-resp", "missing")),
        Some(v) => {
            return Err(FieldError::field(
                "instr-resp",
                format!("expected an array, found {}", json_kind(v)),
            ));
        }
    };
    Ok(Image {
        id: id.trim().to_owned(),
        image,
        safe,
        category: json_opt_str(obj, "harmful_category")?.and_then(non_blank),
        sub_category: json_opt_str(obj, "harmful_subcategory")?.and_then(non_blank),
        extra: others(obj, &KNOWN),
        pairs,
    })
}

fn sample(image: &Image<'_>, k: usize, pair: &Value) -> Result<Sample, FieldError> {
    let at = |field: &str| format!("instr-resp[{k}].{field}");
    let Some(obj) = pair.as_object() else {
        return Err(FieldError::field(
            format!("instr-resp[{k}]"),
            format!("expected an object, found {}", json_kind(pair)),
        ));
    };
    let present: Vec<_> = KINDS
        .iter()
        .filter(|(key, _)| obj.contains_key(*key))
        .collect();
    let &&(key, kind) = match present.as_slice() {
        [one] => one,
        [] => {
            return Err(FieldError::field(
                format!("instr-resp[{k}]"),
                "has none of safe_instruction, unsafe_instruction, instruction",
            ));
        }
        several => {
            let keys: Vec<_> = several.iter().map(|(key, _)| *key).collect();
            return Err(FieldError::field(
                format!("instr-resp[{k}]"),
                format!("has several instructions ({})", keys.join(", ")),
            ));
        }
    };
    let nested = |e: FieldError| FieldError {
        field: e.field.map(|f| at(&f)),
        reason: e.reason,
    };
    let text = json_str(obj, key).map_err(nested)?;
    let response = json_opt_str(obj, "response").map_err(nested)?;
    let mut extra = image.extra.clone();
    extra.extend(others(obj, &[key, "response"]));
    extra.insert("instruction_kind".into(), kind.into());
    extra.insert("image_safe".into(), image.safe.into());
    if let Some(r) = response {
        extra.insert("response".into(), r.into());
    }
    Ok(Sample {
        id: format!("{}#{k}", image.id),
        text,
        image: Some(image.image.clone()),
        category: image.category.clone(),
        sub_category: image.sub_category.clone(),
        source: "VLGuard".into(),
        extra,
    })
}

fn others(obj: &Map<String, Value>, known: &[&str]) -> BTreeMap<String, Value> {
    obj.iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
