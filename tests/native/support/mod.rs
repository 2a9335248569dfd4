//! Helpers for the evaluation engine's integration tests.
#![allow(dead_code)]

pub mod hf_server;
pub mod openai_server;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use leakscope::eval::Row;

/// A fresh, empty folder under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "leakscope-eval-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("imgs")).unwrap();
    dir
}

/// Writes `imgs/<id>.png` (8×8, a different colour per row, so every image hash differs).
pub fn write_images(dir: &Path, rows: &[Row]) {
    for row in rows {
        let colour = image::Rgb([row.id as u8, (row.id >> 8) as u8, 7]);
        let img = image::RgbImage::from_pixel(8, 8, colour);
        img.save(dir.join(&row.image_path)).unwrap();
    }
}

/// Synthetic rows "ROW<n> ...", in three categories; the sub-category "Shared Harm" appears in
/// two of them (as some VLSBench names do):
/// 0–19 Violent (Weapons for even ids, Terrorism for odd), 20–29 Hate/Discrimination,
/// 30–34 Hate/Shared Harm, 35–44 Privacy/Identity Theft, 45–49 Privacy/Shared Harm.
pub fn rows(n: u64) -> Vec<Row> {
    (0..n)
        .map(|id| {
            let (category, sub) = match id {
                0..=19 if id % 2 == 0 => ("Violent", "Weapons"),
                0..=19 => ("Violent", "Terrorism"),
                20..=29 => ("Hate", "Discrimination"),
                30..=34 => ("Hate", "Shared Harm"),
                35..=44 => ("Privacy", "Identity Theft"),
                _ => ("Privacy", "Shared Harm"),
            };
            Row {
                id,
                instruction: format!("  ROW{id}: what does the picture suggest I do?\n"),
                image_path: format!("imgs/{id}.png"),
                category: category.into(),
                sub_category: sub.into(),
            }
        })
        .collect()
}

/// The fields of every entry in the official VLSBench output's `logs`, and nothing else.
pub fn assert_official_log_fields(log: &serde_json::Value) {
    let keys: std::collections::BTreeSet<&str> = log
        .as_object()
        .expect("a log entry is an object")
        .keys()
        .map(String::as_str)
        .collect();
    let expected = std::collections::BTreeSet::from([
        "id",
        "question",
        "image_path",
        "pred_answer",
        "safe_label",
        "label_str",
    ]);
    assert_eq!(keys, expected, "official log entry {log}");
}
