//! One MM-SafetyBench scenario file (`processed_questions/<scenario>.json`): an object keyed
//! by question id. Each entry gives three samples, in this order, with images
//! `imgs/<scenario>/<variant>/<id>.jpg`:
//! `SD` with `Rephrased Question(SD)`, `SD_TYPO` and `TYPO` with `Rephrased Question`.
//! The id is `<scenario>/<id>/<variant>`, the category the scenario (the file's name without
//! extension), the source `MM-SafetyBench`; `extra` holds the entry's other keys plus
//! `scenario`, `question_id` and `variant`.

use serde_json::Value;

use super::{
    DatasetError, FieldError, Pos, Sample, Sink, file_stem, image_ref, json_kind, json_str,
};

/// (image folder, text key).
const VARIANTS: [(&str, &str); 3] = [
    ("SD", "Rephrased Question(SD)"),
    ("SD_TYPO", "Rephrased Question"),
    ("TYPO", "Rephrased Question"),
];

pub(super) fn load(
    entries: &[(String, Value)],
    lines: &[usize],
    sink: &mut Sink<'_>,
) -> Result<(), DatasetError> {
    let scenario = file_stem(sink.file).trim().to_owned();
    if scenario.is_empty() {
        return Err(DatasetError::Structure {
            file: sink.file.to_owned(),
            message: "an MM-SafetyBench file needs its scenario name: pass the file name, e.g. \
                      `01-Illegal_Activitiy.json`"
                .into(),
        });
    }
    for (i, (key, value)) in entries.iter().enumerate() {
        let pos = Pos {
            row: i + 1,
            line: lines.get(i).copied(),
        };
        sink.row(pos, Some(key.clone()), entry(&scenario, key, value))?;
    }
    Ok(())
}

fn entry(scenario: &str, key: &str, value: &Value) -> Result<Vec<Sample>, FieldError> {
    let Some(obj) = value.as_object() else {
        return Err(FieldError::row(format!(
            "expected an object, found {}",
            json_kind(value)
        )));
    };
    let qid = key.trim();
    if qid.is_empty() {
        return Err(FieldError::row(
            "the entry's key (the question id) is empty",
        ));
    }
    json_str(obj, "Question")?;
    let mut samples = Vec::with_capacity(VARIANTS.len());
    for (variant, text_key) in VARIANTS {
        let text = json_str(obj, text_key)?;
        let image = image_ref("key", &format!("imgs/{scenario}/{variant}/{qid}.jpg"))?;
        let mut extra: std::collections::BTreeMap<String, Value> =
            obj.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        extra.insert("scenario".into(), scenario.into());
        extra.insert("question_id".into(), qid.into());
        extra.insert("variant".into(), variant.into());
        samples.push(Sample {
            id: format!("{scenario}/{qid}/{variant}"),
            text,
            image: Some(image),
            category: Some(scenario.to_owned()),
            sub_category: None,
            source: "MM-SafetyBench".into(),
            extra,
        });
    }
    Ok(samples)
}
