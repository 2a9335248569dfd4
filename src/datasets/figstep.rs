//! FigStep's SafeBench CSV: `dataset,category_id,task_id,category_name,question,instruction`.
//! The text is `question` (the harmful request; FigStep renders `instruction` into the
//! image, kept in `extra`); the image is `query_ForbidQI_{category_id}_{task_id}_6.png`; the
//! id is `{category_id}_{task_id}`; the source is the `dataset` column.

use serde_json::Value;

use super::csv::{Row, Table};
use super::{DatasetError, DatasetFormat, FieldError, Sample, Sink, image_ref};

pub(super) const COLUMNS: [&str; 6] = [
    "dataset",
    "category_id",
    "task_id",
    "category_name",
    "question",
    "instruction",
];

pub(super) fn load(table: &Table, sink: &mut Sink<'_>) -> Result<(), DatasetError> {
    table.require(sink.file, DatasetFormat::FigStep, &COLUMNS)?;
    let id = |row: &Row<'_>| Some(format!("{}_{}", row.id("category_id")?, row.id("task_id")?));
    table.rows(sink, id, |row| {
        let number = |name: &str| -> Result<u32, FieldError> {
            let raw = row.req(name).trim();
            raw.parse::<u32>().map_err(|_| {
                FieldError::field(name, format!("expected a whole number, found `{raw}`"))
            })
        };
        let category_id = number("category_id")?;
        let task_id = number("task_id")?;
        let image = image_ref(
            "category_id",
            &format!("query_ForbidQI_{category_id}_{task_id}_6.png"),
        )?;
        let mut extra = row.extras(&COLUMNS);
        extra.insert("category_id".into(), Value::from(category_id));
        extra.insert("task_id".into(), Value::from(task_id));
        extra.insert("instruction".into(), Value::from(row.req("instruction")));
        Ok(vec![Sample {
            id: format!("{category_id}_{task_id}"),
            text: row.req("question").to_owned(),
            image: Some(image),
            category: Some(row.non_empty("category_name")?.trim().to_owned()),
            sub_category: None,
            source: row.req("dataset").trim().to_owned(),
            extra,
        }])
    })
}
