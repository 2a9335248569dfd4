//! The rows an evaluation runs: VLSBench samples as loaded by [`crate::datasets`], with the
//! numeric id the store keys and the official output use.

use serde::{Deserialize, Serialize};

use crate::datasets::Sample;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// VLSBench's `instruction_id`.
    pub id: u64,
    /// May be empty (id 1685) or contain newlines; sent as is.
    pub instruction: String,
    /// Relative to the dataset's folder, e.g. `imgs/12.png`.
    pub image_path: String,
    pub category: String,
    pub sub_category: String,
}

impl TryFrom<&Sample> for Row {
    type Error = String;

    /// Needs a numeric id and an image; a missing category or sub-category becomes "".
    fn try_from(s: &Sample) -> Result<Self, String> {
        let id =
            s.id.parse()
                .map_err(|_| format!("sample id `{}` is not a number", s.id))?;
        let image = s
            .image
            .as_ref()
            .ok_or_else(|| format!("sample {id} has no image"))?;
        Ok(Self {
            id,
            instruction: s.text.clone(),
            image_path: image.as_str().to_string(),
            category: s.category.clone().unwrap_or_default(),
            sub_category: s.sub_category.clone().unwrap_or_default(),
        })
    }
}

/// Rows for every sample, or the first sample that cannot be one.
pub fn rows_from_samples(samples: &[Sample]) -> Result<Vec<Row>, String> {
    samples.iter().map(Row::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::{DatasetFormat, Strictness, load};

    #[test]
    fn vlsbench_samples_become_rows() {
        let json = br#"[
            {"instruction_id": 0, "instruction": "", "image_path": "imgs/3.png",
             "category": "Violent", "sub_category": "Weapon", "source": "generation",
             "image_description": "x", "safety_reason": "y"},
            {"instruction_id": 1, "instruction": "a\nb", "image_path": "./imgs/1.png",
             "category": "Hate", "sub_category": "Psychological and Disordered Harm",
             "source": "MultiTrust"}
        ]"#;
        let loaded = load(
            Some(DatasetFormat::VlsBench),
            "data.json",
            json,
            Strictness::Strict,
        )
        .unwrap();
        let rows = rows_from_samples(&loaded.samples).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].id, rows[0].instruction.as_str()), (0, ""));
        assert_eq!(
            (rows[1].instruction.as_str(), rows[1].image_path.as_str()),
            ("a\nb", "imgs/1.png")
        );
        assert_eq!(rows[1].sub_category, "Psychological and Disordered Harm");
    }

    #[test]
    fn samples_without_a_numeric_id_or_an_image_are_refused() {
        let mut s = Sample {
            id: "x1".into(),
            text: "t".into(),
            image: None,
            category: None,
            sub_category: None,
            source: "s".into(),
            extra: Default::default(),
        };
        assert!(Row::try_from(&s).unwrap_err().contains("not a number"));
        s.id = "4".into();
        assert!(Row::try_from(&s).unwrap_err().contains("no image"));
    }
}
