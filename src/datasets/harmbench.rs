//! HarmBench's multimodal behaviours CSV: `Behavior,BehaviorID,FunctionalCategory,
//! SemanticCategory,ImageFileName,…`. The text is `Behavior`, the id `BehaviorID`, the
//! category `SemanticCategory`, the image `ImageFileName` (relative to the behaviour images
//! folder), the source `HarmBench`; `FunctionalCategory` and every other column (`Tags`,
//! `ContextString`, `ImageDescription`, …) go to `extra` as strings under their names.

use super::csv::Table;
use super::{DatasetError, DatasetFormat, Sample, Sink, image_ref};

pub(super) const REQUIRED: [&str; 5] = [
    "Behavior",
    "BehaviorID",
    "FunctionalCategory",
    "SemanticCategory",
    "ImageFileName",
];
/// Columns that become `Sample` fields rather than `extra`.
const USED: [&str; 4] = [
    "Behavior",
    "BehaviorID",
    "SemanticCategory",
    "ImageFileName",
];

pub(super) fn load(table: &Table, sink: &mut Sink<'_>) -> Result<(), DatasetError> {
    table.require(sink.file, DatasetFormat::HarmBench, &REQUIRED)?;
    table.rows(
        sink,
        |row| row.id("BehaviorID"),
        |row| {
            Ok(vec![Sample {
                id: row.non_empty("BehaviorID")?.trim().to_owned(),
                text: row.req("Behavior").to_owned(),
                image: Some(image_ref("ImageFileName", row.req("ImageFileName"))?),
                category: Some(row.non_empty("SemanticCategory")?.trim().to_owned()),
                sub_category: None,
                source: "HarmBench".into(),
                extra: row.extras(&USED),
            }])
        },
    )
}
