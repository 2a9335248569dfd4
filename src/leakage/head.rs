//! The guard head: a zero-shot safety judge over CLIP embeddings, defined by a versioned JSON
//! file (`assets/guard/head-v1.json` is the built-in one, [`GuardHead::builtin`]).
//!
//! # Concepts
//! A head lists *harm* concepts, grouped by VLSBench category and sub-category name (so the
//! head's per-category output lines up with the dataset's labels), and *benign* concepts
//! (ordinary scenes and questions, including harmless look-alikes of every harm category, so
//! that a kitchen knife or a pill bottle alone does not fire the head). Every concept phrase is
//! put into every template (`"a photo of {}"`, ...) by [`GuardHead::prompts`]; the prompts are
//! embedded with the CLIP text tower, and [`GuardHead::concept_embeddings`] averages each
//! concept's prompt embeddings and re-normalises them, giving one unit vector per concept, in
//! the order of [`GuardHead::concepts`] (all harm concepts first, then the benign ones).
//!
//! # Scoring one embedding
//! For a normalised query embedding q and concept embeddings c_k:
//! * cosine s_k = q · c_k, logit l_k = `logit_scale` · s_k;
//! * p_k = softmax(l)_k over harm ∪ benign;
//! * raw margin m = logsumexp(l over harm) − logsumexp(l over benign), i.e. the log odds of
//!   harm mass against benign mass;
//! * P(unsafe) = sigmoid(a · m + b) with the modality's Platt parameters
//!   ([`Calibrations`]); the verdict is unsafe when P(unsafe) ≥ `threshold`;
//! * the category distribution is the softmax mass per category (and per sub-category),
//!   renormalised over the harm concepts, so it sums to 1 whatever the verdict;
//! * the top concept is the arg-max of the softmax (and the top harm concept its arg-max over
//!   harm concepts).
//!
//! All of it works on plain `&[f32]` slices (row-major `[rows, dim]`, like
//! `Embeddings::values`), so it runs the same on every backend and in wasm.
//!
//! # Combining modalities: J(T), J(T, I) and the image alone
//! The VLSBench paper measures leakage with a judge J on the text alone, J(T), and on the
//! text-image pair, J(T, I). The head mirrors that with three queries into the same CLIP space:
//! * J(T) = the head on the text embedding alone ([`Modality::Text`]);
//! * J(T, I) = the head on the *pair*, combined by the head's [`PairRule`] ([`Modality::Pair`]);
//! * the image alone = the head on the image embedding ([`Modality::Image`]), a diagnostic the
//!   paper does not define.
//!
//! Each modality has its own Platt parameters, because text-to-text, image-to-text and pair
//! cosines live on different scales (CLIP's modality gap). A sample is then:
//! * **leaky** when J(T) is unsafe and J(T, I) is unsafe (the paper's A2: the text alone gives
//!   the harm away);
//! * **leak-free** when J(T) is safe but J(T, I) is unsafe (in A1 but not A2: the harm only
//!   shows once the image is there);
//! * **safe** when J(T, I) is safe (not in A1), whatever J(T) says.
//!
//! See [`LeakClass`] and [`GuardHead::judge`].
//!
//! The pair rules ([`PairRule`], the file's `pair_rule`):
//! * `embedding_mean` (default): the pair embedding is the normalised mean of the text and image
//!   embeddings, p = (t + i) / |t + i|, scored like any other query. Because both towers share
//!   one space, p is the single point that stands for "this text with this image", just as the
//!   paper's J(T, I) reads both at once. Its cosine with a concept is
//!   (t·c + i·c) / |t + i|: the two modalities' evidence added up, so harm shown only by the
//!   image can still make the pair unsafe while the text alone stays safe (leak-free).
//!   Caveat: text-to-text cosines vary more across concepts than image-to-text cosines, so the
//!   text tends to dominate the pair; this biases R2/R1 upwards, and the pair calibration should
//!   be fitted rather than taken on trust.
//! * `cosine_mean`: the pair's cosine with each concept is the mean of the text's and the
//!   image's cosines, (t·c + i·c) / 2: `embedding_mean` without its 2 / |t + i| sharpening.
//! * `cosine_max`: the pair's cosine with each concept is the larger of the two, a soft "either
//!   modality shows it" rule that lets a strongly harmful image outweigh a bland text.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The head-file version this build understands.
pub const SUPPORTED_VERSION: u32 = 1;

/// The placeholder that a template's concept phrase replaces.
pub const PLACEHOLDER: &str = "{}";

/// The built-in head file.
pub const BUILTIN_JSON: &str = include_str!("../../assets/guard/head-v1.json");

/// L2 penalty of [`fit_platt`], on both parameters (a little, so that separable or one-class
/// data still gives finite parameters).
pub const PLATT_L2: f64 = 1e-2;

/// A guard head definition (the JSON file, see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardHead {
    /// File format version; [`SUPPORTED_VERSION`] is the only one understood.
    pub version: u32,
    pub description: String,
    /// Prompt templates, each with exactly one `{}`; a concept's embedding is the normalised
    /// mean over templates.
    pub templates: Vec<String>,
    /// Multiplies cosines into logits (100, CLIP's). The head's own, not the checkpoint's, so
    /// a head scores the same way with any checkpoint.
    pub logit_scale: f32,
    /// Verdict threshold on P(unsafe): unsafe when P(unsafe) ≥ threshold.
    pub threshold: f32,
    pub pair_rule: PairRule,
    pub calibration: Calibrations,
    /// Harm concepts by category, then sub-category; a JSON object of objects of phrase lists,
    /// kept in file order.
    #[serde(with = "harm_map")]
    pub harm: Vec<HarmCategory>,
    /// Benign concept phrases.
    pub benign: Vec<String>,
}

/// The harm concepts of one category.
#[derive(Clone, Debug, PartialEq)]
pub struct HarmCategory {
    /// VLSBench category name, e.g. `"Violent"`.
    pub name: String,
    pub sub_categories: Vec<HarmConcepts>,
}

/// The harm concept phrases of one sub-category.
#[derive(Clone, Debug, PartialEq)]
pub struct HarmConcepts {
    /// VLSBench sub-category name, e.g. `"Weapon-Related Violence"`.
    pub name: String,
    pub phrases: Vec<String>,
}

/// Platt parameters of one modality: P(unsafe) = sigmoid(a · margin + b).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub a: f32,
    pub b: f32,
}

impl Calibration {
    /// P(unsafe) for a raw harm margin.
    pub fn probability(&self, margin: f32) -> f32 {
        sigmoid(self.a * margin + self.b)
    }
}

/// Platt parameters per modality.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibrations {
    /// Where the parameters come from (the built-in ones are uncalibrated starting values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub text: Calibration,
    pub image: Calibration,
    pub pair: Calibration,
}

impl Calibrations {
    pub fn get(&self, modality: Modality) -> Calibration {
        match modality {
            Modality::Text => self.text,
            Modality::Image => self.image,
            Modality::Pair => self.pair,
        }
    }
}

/// What a query embedding stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// J(T): the text alone.
    Text,
    /// The image alone.
    Image,
    /// J(T, I): text and image combined by the head's [`PairRule`].
    Pair,
}

impl Modality {
    pub const ALL: [Modality; 3] = [Modality::Text, Modality::Image, Modality::Pair];

    pub fn name(self) -> &'static str {
        match self {
            Modality::Text => "text",
            Modality::Image => "image",
            Modality::Pair => "pair",
        }
    }
}

/// How the pair J(T, I) combines the text and image embeddings (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairRule {
    /// The pair embedding is the normalised mean of the text and image embeddings.
    EmbeddingMean,
    /// Per concept, the mean of the text's and the image's cosines.
    CosineMean,
    /// Per concept, the larger of the text's and the image's cosines.
    CosineMax,
}

impl PairRule {
    pub const ALL: [PairRule; 3] = [
        PairRule::EmbeddingMean,
        PairRule::CosineMean,
        PairRule::CosineMax,
    ];

    /// The name used in head files.
    pub fn name(self) -> &'static str {
        match self {
            PairRule::EmbeddingMean => "embedding_mean",
            PairRule::CosineMean => "cosine_mean",
            PairRule::CosineMax => "cosine_max",
        }
    }

    /// The rule named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|rule| rule.name() == name)
    }

    /// The pair's cosine with every concept, from the text and image embeddings and the concept
    /// embeddings (row-major `[concepts, dim]`).
    pub fn pair_cosines(
        self,
        concepts: &[f32],
        text: &[f32],
        image: &[f32],
    ) -> Result<Vec<f32>, ScoreError> {
        check_same_dim(text.len(), image.len())?;
        match self {
            PairRule::EmbeddingMean => cosines(concepts, &pair_embedding(text, image)?),
            PairRule::CosineMean | PairRule::CosineMax => {
                let t = cosines(concepts, text)?;
                let i = cosines(concepts, image)?;
                Ok(t.iter()
                    .zip(&i)
                    .map(|(&t, &i)| match self {
                        PairRule::CosineMax => t.max(i),
                        _ => 0.5 * (t + i),
                    })
                    .collect())
            }
        }
    }
}

impl fmt::Display for PairRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a concept is a harm or a benign one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConceptKind {
    Harm,
    Benign,
}

/// One concept of a head, as listed by [`GuardHead::concepts`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Concept {
    pub kind: ConceptKind,
    /// `None` for benign concepts.
    pub category: Option<String>,
    /// `None` for benign concepts.
    pub sub_category: Option<String>,
    /// Position within its sub-category's phrases (harm) or within `benign`.
    pub index: usize,
    pub phrase: String,
}

/// One prompt to embed, as listed by [`GuardHead::prompts`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// The template with the concept phrase in place of `{}`.
    pub text: String,
    /// Index into [`GuardHead::concepts`].
    pub concept: usize,
    /// Index into `templates`.
    pub template: usize,
}

/// A concept picked out of a score.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConceptHit {
    /// Index into [`GuardHead::concepts`].
    pub concept: usize,
    pub cosine: f32,
    /// Its softmax probability over all concepts.
    pub probability: f32,
}

/// Harm mass of one category (or sub-category), renormalised over the harm concepts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoryShare {
    pub category: String,
    /// `None` in [`HeadScore::categories`].
    pub sub_category: Option<String>,
    pub share: f32,
}

/// The head's reading of one query embedding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadScore {
    pub modality: Modality,
    /// Cosine with every concept, in [`GuardHead::concepts`] order.
    pub cosines: Vec<f32>,
    /// Softmax over all concepts of `logit_scale · cosine`.
    pub probabilities: Vec<f32>,
    /// logsumexp(harm logits) − logsumexp(benign logits).
    pub margin: f32,
    /// sigmoid(a · margin + b) with the modality's calibration.
    pub p_unsafe: f32,
    /// `p_unsafe >= threshold`.
    pub is_unsafe: bool,
    /// Total softmax mass on harm concepts.
    pub harm_mass: f32,
    /// Per category, in head order; shares sum to 1.
    pub categories: Vec<CategoryShare>,
    /// Per (category, sub-category), in head order; shares sum to 1.
    pub sub_categories: Vec<CategoryShare>,
    /// Arg-max over all concepts.
    pub top: ConceptHit,
    /// Arg-max over harm concepts.
    pub top_harm: ConceptHit,
}

/// Where a sample lands, from J(T) and J(T, I) (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeakClass {
    /// J(T) unsafe and J(T, I) unsafe: the text alone gives the harm away.
    Leaky,
    /// J(T) safe and J(T, I) unsafe: the harm needs the image.
    LeakFree,
    /// J(T, I) safe.
    Safe,
}

impl LeakClass {
    /// One word for badges and tables.
    pub fn label(self) -> &'static str {
        match self {
            LeakClass::Leaky => "leaky",
            LeakClass::LeakFree => "leak-free",
            LeakClass::Safe => "safe",
        }
    }

    /// The verdict in plain words, as the page and the CLI show it.
    pub fn explanation(self) -> &'static str {
        match self {
            LeakClass::Leaky => {
                "Leaky: the text alone is already judged unsafe, so a text-only judge catches this sample without looking at the image."
            }
            LeakClass::LeakFree => {
                "Leak-free: the text alone looks harmless; the harm appears only together with the image."
            }
            LeakClass::Safe => "Safe: the text with its image is not judged unsafe.",
        }
    }

    pub fn classify(text_unsafe: bool, pair_unsafe: bool) -> Self {
        match (text_unsafe, pair_unsafe) {
            (_, false) => LeakClass::Safe,
            (true, true) => LeakClass::Leaky,
            (false, true) => LeakClass::LeakFree,
        }
    }
}

/// The head on the text, the image and the pair of one sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    pub text: HeadScore,
    pub image: HeadScore,
    pub pair: HeadScore,
    pub class: LeakClass,
}

/// A head file that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HeadError {
    #[error("guard head is not valid JSON for the head schema: {0}")]
    Json(String),
    #[error("guard head has no `version` (this build reads version {SUPPORTED_VERSION})")]
    MissingVersion,
    #[error(
        "guard head version {found} is not understood (this build reads version {SUPPORTED_VERSION})"
    )]
    UnsupportedVersion { found: String },
    #[error("unknown pair_rule {found} (known: embedding_mean, cosine_mean, cosine_max)")]
    UnknownPairRule { found: String },
    #[error(
        "guard head is missing {what}: a head needs Platt parameters {{a, b}} for text, image and pair"
    )]
    MissingCalibration { what: String },
    #[error("calibration for {modality} is a = {a}, b = {b}: a must be finite and > 0, b finite")]
    BadCalibration {
        modality: &'static str,
        a: f32,
        b: f32,
    },
    #[error("logit_scale is {0}, not a finite number > 0")]
    BadLogitScale(f32),
    #[error("threshold is {0}, not a probability strictly between 0 and 1")]
    BadThreshold(f32),
    #[error("guard head has no templates")]
    NoTemplates,
    #[error("template {index} (`{template}`) has {count} `{{}}` placeholders, not exactly one")]
    TemplatePlaceholder {
        index: usize,
        template: String,
        count: usize,
    },
    #[error("template {second} (`{template}`) repeats template {first}")]
    DuplicateTemplate {
        template: String,
        first: usize,
        second: usize,
    },
    #[error("guard head has no harm categories")]
    NoHarm,
    #[error("harm category `{category}` has no sub-categories")]
    EmptyCategory { category: String },
    #[error("harm sub-category `{sub_category}` of `{category}` has no concept phrases")]
    EmptySubCategory {
        category: String,
        sub_category: String,
    },
    #[error("guard head has no benign concepts")]
    NoBenign,
    #[error("harm category name {0} is empty")]
    EmptyCategoryName(usize),
    #[error("harm category `{0}` appears twice")]
    DuplicateCategory(String),
    #[error("harm sub-category `{sub_category}` appears twice under `{category}`")]
    DuplicateSubCategory {
        category: String,
        sub_category: String,
    },
    #[error("{0} is empty")]
    EmptyPhrase(String),
    #[error(
        "concept phrase `{phrase}` appears twice ({first} and {second}; case and spacing ignored)"
    )]
    DuplicatePhrase {
        phrase: String,
        first: String,
        second: String,
    },
}

/// Embeddings that cannot be scored.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScoreError {
    #[error("embeddings of dimension {found} where {expected} was expected")]
    DimensionMismatch { expected: usize, found: usize },
    #[error("{found} values are not {rows} rows of dimension {dim}")]
    RowCount {
        rows: usize,
        dim: usize,
        found: usize,
    },
    #[error("no embeddings to average")]
    Empty,
    #[error("embedding has zero length and cannot be normalised")]
    ZeroNorm,
    #[error("embedding has a value that is not a finite number")]
    NotFinite,
}

/// Data that [`fit_platt`] cannot fit.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FitError {
    #[error("{margins} margins but {labels} labels")]
    LengthMismatch { margins: usize, labels: usize },
    #[error("margin {index} is {value}, not a finite number")]
    NotFinite { index: usize, value: f32 },
}

impl GuardHead {
    /// The built-in head (`assets/guard/head-v1.json`).
    pub fn builtin() -> Self {
        Self::from_json_bytes(BUILTIN_JSON.as_bytes())
            .expect("the built-in guard head is valid (checked by the unit tests)")
    }

    /// Parses and validates a head file.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, HeadError> {
        // Read the version, pair rule and calibration first: a newer file should fail on its
        // version, not on some field this build does not know.
        #[derive(Deserialize)]
        struct Probe {
            version: Option<serde_json::Value>,
            pair_rule: Option<serde_json::Value>,
            calibration: Option<serde_json::Value>,
        }
        let probe: Probe = serde_json::from_slice(bytes).map_err(json_error)?;
        match probe.version {
            None => return Err(HeadError::MissingVersion),
            Some(v) if v.as_u64() == Some(u64::from(SUPPORTED_VERSION)) => {}
            Some(v) => {
                return Err(HeadError::UnsupportedVersion {
                    found: v.to_string(),
                });
            }
        }
        if let Some(rule) = &probe.pair_rule
            && rule.as_str().and_then(PairRule::from_name).is_none()
        {
            return Err(HeadError::UnknownPairRule {
                found: rule.to_string(),
            });
        }
        let Some(calibration) = probe.calibration else {
            return Err(HeadError::MissingCalibration {
                what: "`calibration`".into(),
            });
        };
        for modality in Modality::ALL {
            let name = modality.name();
            let Some(params) = calibration.get(name) else {
                return Err(HeadError::MissingCalibration {
                    what: format!("`calibration.{name}`"),
                });
            };
            for p in ["a", "b"] {
                if params.get(p).is_none() {
                    return Err(HeadError::MissingCalibration {
                        what: format!("`calibration.{name}.{p}`"),
                    });
                }
            }
        }
        let head: GuardHead = serde_json::from_slice(bytes).map_err(json_error)?;
        head.validate()?;
        Ok(head)
    }

    /// The head as pretty-printed JSON (what [`GuardHead::from_json_bytes`] reads).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a guard head always serializes")
    }

    /// Checks everything [`GuardHead::from_json_bytes`] checks after parsing.
    pub fn validate(&self) -> Result<(), HeadError> {
        if self.version != SUPPORTED_VERSION {
            return Err(HeadError::UnsupportedVersion {
                found: self.version.to_string(),
            });
        }
        if !(self.logit_scale.is_finite() && self.logit_scale > 0.0) {
            return Err(HeadError::BadLogitScale(self.logit_scale));
        }
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(HeadError::BadThreshold(self.threshold));
        }
        for modality in Modality::ALL {
            let Calibration { a, b } = self.calibration.get(modality);
            if !(a.is_finite() && a > 0.0 && b.is_finite()) {
                return Err(HeadError::BadCalibration {
                    modality: modality.name(),
                    a,
                    b,
                });
            }
        }

        if self.templates.is_empty() {
            return Err(HeadError::NoTemplates);
        }
        let mut seen_templates: BTreeMap<String, usize> = BTreeMap::new();
        for (index, template) in self.templates.iter().enumerate() {
            let count = template.matches(PLACEHOLDER).count();
            if count != 1 {
                return Err(HeadError::TemplatePlaceholder {
                    index,
                    template: template.clone(),
                    count,
                });
            }
            if let Some(&first) = seen_templates.get(&phrase_key(template)) {
                return Err(HeadError::DuplicateTemplate {
                    template: template.clone(),
                    first,
                    second: index,
                });
            }
            seen_templates.insert(phrase_key(template), index);
        }

        if self.harm.is_empty() {
            return Err(HeadError::NoHarm);
        }
        // Phrase (normalised) -> where it was first seen.
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut check_phrase = |phrase: &str, place: String| {
            if phrase.trim().is_empty() {
                return Err(HeadError::EmptyPhrase(place));
            }
            let key = phrase_key(phrase);
            if let Some(first) = seen.get(&key) {
                return Err(HeadError::DuplicatePhrase {
                    phrase: phrase.to_string(),
                    first: first.clone(),
                    second: place,
                });
            }
            seen.insert(key, place);
            Ok(())
        };
        for (ci, category) in self.harm.iter().enumerate() {
            if category.name.trim().is_empty() {
                return Err(HeadError::EmptyCategoryName(ci));
            }
            if self.harm[..ci].iter().any(|c| c.name == category.name) {
                return Err(HeadError::DuplicateCategory(category.name.clone()));
            }
            if category.sub_categories.is_empty() {
                return Err(HeadError::EmptyCategory {
                    category: category.name.clone(),
                });
            }
            for (si, sub) in category.sub_categories.iter().enumerate() {
                if sub.name.trim().is_empty() {
                    return Err(HeadError::EmptyPhrase(format!(
                        "the name of sub-category {si} of `{}`",
                        category.name
                    )));
                }
                if category.sub_categories[..si]
                    .iter()
                    .any(|s| s.name == sub.name)
                {
                    return Err(HeadError::DuplicateSubCategory {
                        category: category.name.clone(),
                        sub_category: sub.name.clone(),
                    });
                }
                if sub.phrases.is_empty() {
                    return Err(HeadError::EmptySubCategory {
                        category: category.name.clone(),
                        sub_category: sub.name.clone(),
                    });
                }
                for (pi, phrase) in sub.phrases.iter().enumerate() {
                    check_phrase(
                        phrase,
                        format!("harm `{}` / `{}` #{pi}", category.name, sub.name),
                    )?;
                }
            }
        }
        if self.benign.is_empty() {
            return Err(HeadError::NoBenign);
        }
        for (pi, phrase) in self.benign.iter().enumerate() {
            check_phrase(phrase, format!("benign #{pi}"))?;
        }
        Ok(())
    }

    /// Number of harm concepts (they come first in [`GuardHead::concepts`]).
    pub fn harm_count(&self) -> usize {
        self.harm
            .iter()
            .flat_map(|c| &c.sub_categories)
            .map(|s| s.phrases.len())
            .sum()
    }

    /// Number of concepts, harm and benign.
    pub fn concept_count(&self) -> usize {
        self.harm_count() + self.benign.len()
    }

    /// Every concept: the harm ones in file order (category, sub-category, phrase), then the
    /// benign ones. Concept embeddings, cosines and probabilities use this order.
    pub fn concepts(&self) -> Vec<Concept> {
        let mut out = Vec::with_capacity(self.concept_count());
        for category in &self.harm {
            for sub in &category.sub_categories {
                for (index, phrase) in sub.phrases.iter().enumerate() {
                    out.push(Concept {
                        kind: ConceptKind::Harm,
                        category: Some(category.name.clone()),
                        sub_category: Some(sub.name.clone()),
                        index,
                        phrase: phrase.clone(),
                    });
                }
            }
        }
        for (index, phrase) in self.benign.iter().enumerate() {
            out.push(Concept {
                kind: ConceptKind::Benign,
                category: None,
                sub_category: None,
                index,
                phrase: phrase.clone(),
            });
        }
        out
    }

    /// Templates × concepts: the prompts to embed with the CLIP text tower, concept-major
    /// (concept k's prompts are rows `k·T .. (k+1)·T` for T templates), each mapped back to
    /// its concept.
    pub fn prompts(&self) -> Vec<Prompt> {
        self.concepts()
            .iter()
            .enumerate()
            .flat_map(|(concept, c)| {
                self.templates
                    .iter()
                    .enumerate()
                    .map(move |(template, t)| Prompt {
                        text: t.replacen(PLACEHOLDER, &c.phrase, 1),
                        concept,
                        template,
                    })
            })
            .collect()
    }

    /// One unit vector per concept (row-major `[concepts, dim]`) from the normalised embeddings
    /// of [`GuardHead::prompts`] (row-major `[prompts, dim]`): the mean over each concept's
    /// templates, re-normalised.
    pub fn concept_embeddings(
        &self,
        prompt_embeddings: &[f32],
        dim: usize,
    ) -> Result<Vec<f32>, ScoreError> {
        let per_concept = self.templates.len();
        if per_concept == 0 || dim == 0 {
            return Err(ScoreError::Empty);
        }
        check_rows(prompt_embeddings, self.concept_count() * per_concept, dim)?;
        let mut out = Vec::with_capacity(self.concept_count() * dim);
        for group in prompt_embeddings.chunks_exact(per_concept * dim) {
            let rows: Vec<&[f32]> = group.chunks_exact(dim).collect();
            out.extend(average_normalised(&rows)?);
        }
        Ok(out)
    }

    /// The head on one normalised query embedding, against the concept embeddings (row-major
    /// `[concepts, dim]`, see [`GuardHead::concept_embeddings`]), calibrated for `modality`.
    pub fn score(
        &self,
        concepts: &[f32],
        query: &[f32],
        modality: Modality,
    ) -> Result<HeadScore, ScoreError> {
        check_rows(concepts, self.concept_count(), query.len())?;
        self.score_cosines(cosines(concepts, query)?, modality)
    }

    /// J(T, I): the head on a text and an image embedding combined by the head's pair rule.
    pub fn score_pair(
        &self,
        concepts: &[f32],
        text: &[f32],
        image: &[f32],
    ) -> Result<HeadScore, ScoreError> {
        check_rows(concepts, self.concept_count(), text.len())?;
        let cos = self.pair_rule.pair_cosines(concepts, text, image)?;
        self.score_cosines(cos, Modality::Pair)
    }

    /// J(T), the image alone and J(T, I) for one sample, and its [`LeakClass`].
    pub fn judge(
        &self,
        concepts: &[f32],
        text: &[f32],
        image: &[f32],
    ) -> Result<Verdicts, ScoreError> {
        let text_score = self.score(concepts, text, Modality::Text)?;
        let image_score = self.score(concepts, image, Modality::Image)?;
        let pair = self.score_pair(concepts, text, image)?;
        Ok(Verdicts {
            class: LeakClass::classify(text_score.is_unsafe, pair.is_unsafe),
            text: text_score,
            image: image_score,
            pair,
        })
    }

    /// Everything after the cosines: softmax, margin, P(unsafe), category shares, top concepts.
    /// `cosines` must have one entry per concept, in [`GuardHead::concepts`] order.
    pub fn score_cosines(
        &self,
        cosines: Vec<f32>,
        modality: Modality,
    ) -> Result<HeadScore, ScoreError> {
        let n_harm = self.harm_count();
        if cosines.len() != self.concept_count() {
            return Err(ScoreError::RowCount {
                rows: self.concept_count(),
                dim: 1,
                found: cosines.len(),
            });
        }
        if n_harm == 0 || self.benign.is_empty() {
            return Err(ScoreError::Empty);
        }
        if cosines.iter().any(|c| !c.is_finite()) {
            return Err(ScoreError::NotFinite);
        }
        let logits: Vec<f32> = cosines.iter().map(|c| self.logit_scale * c).collect();
        let probabilities = softmax(&logits);
        let margin = harm_margin(&logits, n_harm);
        let p_unsafe = self.calibration.get(modality).probability(margin);
        let harm_mass = probabilities[..n_harm].iter().sum::<f32>();

        // Harm-only softmax: the per-category distribution renormalised over harm.
        let harm_probs = softmax(&logits[..n_harm]);
        let mut categories = Vec::with_capacity(self.harm.len());
        let mut sub_categories = Vec::new();
        let mut at = 0;
        for category in &self.harm {
            let mut category_share = 0.0;
            for sub in &category.sub_categories {
                let share: f32 = harm_probs[at..at + sub.phrases.len()].iter().sum();
                at += sub.phrases.len();
                category_share += share;
                sub_categories.push(CategoryShare {
                    category: category.name.clone(),
                    sub_category: Some(sub.name.clone()),
                    share,
                });
            }
            categories.push(CategoryShare {
                category: category.name.clone(),
                sub_category: None,
                share: category_share,
            });
        }

        let hit = |concept: usize| ConceptHit {
            concept,
            cosine: cosines[concept],
            probability: probabilities[concept],
        };
        let top = hit(arg_max(&logits));
        let top_harm = hit(arg_max(&logits[..n_harm]));
        Ok(HeadScore {
            modality,
            margin,
            p_unsafe,
            is_unsafe: p_unsafe >= self.threshold,
            harm_mass,
            categories,
            sub_categories,
            top,
            top_harm,
            probabilities,
            cosines,
        })
    }
}

/// The `embedding_mean` pair embedding: the normalised mean of the text and image embeddings.
pub fn pair_embedding(text: &[f32], image: &[f32]) -> Result<Vec<f32>, ScoreError> {
    average_normalised(&[text, image])
}

/// The mean of equally long vectors, L2-normalised.
pub fn average_normalised(rows: &[&[f32]]) -> Result<Vec<f32>, ScoreError> {
    let first = rows.first().ok_or(ScoreError::Empty)?;
    let mut sum = vec![0f64; first.len()];
    for row in rows {
        check_same_dim(first.len(), row.len())?;
        for (s, &v) in sum.iter_mut().zip(row.iter()) {
            *s += f64::from(v);
        }
    }
    // The 1/n of the mean cancels in the normalisation.
    normalised(&sum)
}

/// `v / |v|`, computed in f64.
pub fn normalise(v: &[f32]) -> Result<Vec<f32>, ScoreError> {
    normalised(&v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>())
}

fn normalised(v: &[f64]) -> Result<Vec<f32>, ScoreError> {
    if v.iter().any(|x| !x.is_finite()) {
        return Err(ScoreError::NotFinite);
    }
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return Err(ScoreError::ZeroNorm);
    }
    Ok(v.iter().map(|x| (x / norm) as f32).collect())
}

/// Dot product of every row of `concepts` (row-major, rows of `query.len()`) with `query`:
/// the cosines when both are normalised.
pub fn cosines(concepts: &[f32], query: &[f32]) -> Result<Vec<f32>, ScoreError> {
    let dim = query.len();
    if dim == 0 || !concepts.len().is_multiple_of(dim) {
        return Err(ScoreError::RowCount {
            rows: concepts.len().checked_div(dim).unwrap_or(0),
            dim,
            found: concepts.len(),
        });
    }
    Ok(concepts
        .chunks_exact(dim)
        .map(|row| {
            row.iter()
                .zip(query)
                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                .sum::<f64>() as f32
        })
        .collect())
}

/// Numerically stable softmax (empty in, empty out).
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let lse = log_sum_exp(logits);
    logits
        .iter()
        .map(|&l| (f64::from(l) - f64::from(lse)).exp() as f32)
        .collect()
}

/// log Σ exp(x), stable; −∞ for an empty slice.
pub fn log_sum_exp(xs: &[f32]) -> f32 {
    let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return max;
    }
    let m = f64::from(max);
    let sum: f64 = xs.iter().map(|&x| (f64::from(x) - m).exp()).sum();
    (m + sum.ln()) as f32
}

/// The raw harm margin: logsumexp of the first `n_harm` logits minus logsumexp of the rest.
pub fn harm_margin(logits: &[f32], n_harm: usize) -> f32 {
    let (harm, benign) = logits.split_at(n_harm.min(logits.len()));
    log_sum_exp(harm) - log_sum_exp(benign)
}

/// The logistic function, stable for large |x|.
pub fn sigmoid(x: f32) -> f32 {
    sigmoid_f64(f64::from(x)) as f32
}

fn sigmoid_f64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Platt scaling: fits P(unsafe) = sigmoid(a · margin + b) to labelled margins (true = unsafe)
/// by logistic regression on one feature, with Newton's method (step halving keeps every step
/// downhill) and an L2 penalty of [`PLATT_L2`] on a and b. Deterministic; no data gives
/// a = b = 0.
pub fn fit_platt(margins: &[f32], labels: &[bool]) -> Result<Calibration, FitError> {
    if margins.len() != labels.len() {
        return Err(FitError::LengthMismatch {
            margins: margins.len(),
            labels: labels.len(),
        });
    }
    if let Some((index, &value)) = margins.iter().enumerate().find(|(_, m)| !m.is_finite()) {
        return Err(FitError::NotFinite { index, value });
    }
    let data: Vec<(f64, f64)> = margins
        .iter()
        .zip(labels)
        .map(|(&m, &y)| (f64::from(m), if y { 1.0 } else { 0.0 }))
        .collect();
    let loss = |a: f64, b: f64| -> f64 {
        let nll: f64 = data
            .iter()
            .map(|&(m, y)| {
                let z = a * m + b;
                // log(1 + e^z) − y·z
                let softplus = if z > 0.0 {
                    z + (-z).exp().ln_1p()
                } else {
                    z.exp().ln_1p()
                };
                softplus - y * z
            })
            .sum();
        nll + 0.5 * PLATT_L2 * (a * a + b * b)
    };

    let (mut a, mut b) = (0.0f64, 0.0f64);
    let mut current = loss(a, b);
    for _ in 0..100 {
        let (mut ga, mut gb) = (PLATT_L2 * a, PLATT_L2 * b);
        let (mut haa, mut hab, mut hbb) = (PLATT_L2, 0.0, PLATT_L2);
        for &(m, y) in &data {
            let p = sigmoid_f64(a * m + b);
            let w = p * (1.0 - p);
            ga += (p - y) * m;
            gb += p - y;
            haa += w * m * m;
            hab += w * m;
            hbb += w;
        }
        // Solve H · step = g (H is positive definite thanks to the penalty).
        let det = haa * hbb - hab * hab;
        if det <= 0.0 || !det.is_finite() {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            let (na, nb) = (a - t * da, b - t * db);
            let next = loss(na, nb);
            if next <= current {
                a = na;
                b = nb;
                current = next;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted || (t * da).abs().max((t * db).abs()) < 1e-12 {
            break;
        }
    }
    Ok(Calibration {
        a: a as f32,
        b: b as f32,
    })
}

/// Case- and spacing-insensitive key for duplicate detection (CLIP's tokenizer lower-cases).
fn phrase_key(phrase: &str) -> String {
    phrase
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn arg_max(xs: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best
}

fn check_same_dim(expected: usize, found: usize) -> Result<(), ScoreError> {
    if expected == found {
        Ok(())
    } else {
        Err(ScoreError::DimensionMismatch { expected, found })
    }
}

fn check_rows(values: &[f32], rows: usize, dim: usize) -> Result<(), ScoreError> {
    if values.len() == rows * dim {
        Ok(())
    } else {
        Err(ScoreError::RowCount {
            rows,
            dim,
            found: values.len(),
        })
    }
}

fn json_error(e: serde_json::Error) -> HeadError {
    HeadError::Json(e.to_string())
}

/// `harm` as a JSON object `{category: {sub-category: [phrases]}}`, kept in file order and
/// with repeated keys kept (so that validation can name them).
mod harm_map {
    use super::*;

    /// A JSON object's entries in order, repeats included.
    struct Entries<V>(Vec<(String, V)>);

    impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visit<V>(PhantomData<V>);
            impl<'de, V: Deserialize<'de>> Visitor<'de> for Visit<V> {
                type Value = Entries<V>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object keyed by name")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    let mut entries = Vec::new();
                    while let Some(entry) = map.next_entry::<String, V>()? {
                        entries.push(entry);
                    }
                    Ok(Entries(entries))
                }
            }
            deserializer.deserialize_map(Visit(PhantomData))
        }
    }

    struct Subs<'a>(&'a [HarmConcepts]);

    impl Serialize for Subs<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for sub in self.0 {
                map.serialize_entry(&sub.name, &sub.phrases)?;
            }
            map.end()
        }
    }

    pub fn serialize<S: Serializer>(
        harm: &[HarmCategory],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(harm.len()))?;
        for category in harm {
            map.serialize_entry(&category.name, &Subs(&category.sub_categories))?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<HarmCategory>, D::Error> {
        let Entries(categories) = Entries::<Entries<Vec<String>>>::deserialize(deserializer)?;
        Ok(categories
            .into_iter()
            .map(|(name, Entries(subs))| HarmCategory {
                name,
                sub_categories: subs
                    .into_iter()
                    .map(|(name, phrases)| HarmConcepts { name, phrases })
                    .collect(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// VLSBench's categories and their sub-category names, as (category, sub-category) pairs
    /// occur in the data: 6 categories, 21 pairs, 19 distinct sub-category names.
    const VLSBENCH: &[(&str, &[&str])] = &[
        (
            "Violent",
            &[
                "Weapon-Related Violence",
                "Abuse and Physical Altercations",
                "Public Violence and Rioting",
            ],
        ),
        (
            "Illegal Activity",
            &[
                "Cybercrime",
                "Drug-Related Offenses",
                "Human Trafficking and Exploitation",
                "Identity Theft and Impersonation",
                "Property Crimes",
            ],
        ),
        (
            "Self-Harm",
            &[
                "Physical Self-Injury",
                "Psychological and Disordered Harm",
                "Risky or Dangerous Behaviors",
                "Substance Abuse and Poisoning",
            ],
        ),
        ("Erotic", &["Adult Content", "Erotic Visual Content"]),
        (
            "Hate",
            &[
                "Racial and Ethnic Discrimination",
                "Religious Intolerance",
                "Gender and Sexual Orientation Discrimination",
                "Cultural Xenophobia",
                "Psychological and Disordered Harm",
            ],
        ),
        (
            "Privacy",
            &[
                "Identity Theft and Impersonation",
                "Unauthorized Data Collection",
            ],
        ),
    ];

    /// A small valid head: harm alpha (A/A1), beta (B/B1); benign gamma, delta.
    const SMALL: &str = r#"{
        "version": 1,
        "description": "test head",
        "templates": ["a photo of {}", "text about {}"],
        "logit_scale": 1.0,
        "threshold": 0.5,
        "pair_rule": "embedding_mean",
        "calibration": {
            "text": {"a": 2.0, "b": 1.0},
            "image": {"a": 1.0, "b": 0.0},
            "pair": {"a": 1.0, "b": 0.0}
        },
        "harm": {"A": {"A1": ["alpha"]}, "B": {"B1": ["beta"]}},
        "benign": ["gamma", "delta"]
    }"#;

    /// Concept embeddings of SMALL: alpha, beta, gamma, delta.
    const SMALL_CONCEPTS: [f32; 8] = [1.0, 0.0, 0.6, 0.8, 0.0, 1.0, -1.0, 0.0];

    fn small() -> GuardHead {
        GuardHead::from_json_bytes(SMALL.as_bytes()).unwrap()
    }

    fn close(a: f32, b: f32) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }

    fn close_all(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            close(*x, *y);
        }
    }

    /// SMALL as a JSON value, edited by `edit`, then parsed.
    fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Result<GuardHead, HeadError> {
        let mut v: serde_json::Value = serde_json::from_str(SMALL).unwrap();
        edit(&mut v);
        GuardHead::from_json_bytes(serde_json::to_string(&v).unwrap().as_bytes())
    }

    fn small_with(from: &str, to: &str) -> Result<GuardHead, HeadError> {
        assert!(SMALL.contains(from), "{from}");
        GuardHead::from_json_bytes(SMALL.replacen(from, to, 1).as_bytes())
    }

    #[test]
    fn builtin_parses_and_validates() {
        let head = GuardHead::builtin();
        assert_eq!(head.version, SUPPORTED_VERSION);
        assert_eq!(head.pair_rule, PairRule::EmbeddingMean);
        assert_eq!(head.logit_scale, 100.0);
        assert_eq!(head.threshold, 0.5);
        assert!(head.templates.len() >= 3);
        assert!(
            head.calibration
                .note
                .as_deref()
                .unwrap()
                .contains("ncalibrated")
        );
        head.validate().unwrap();
        // Serialising keeps the file's order and reads back identically.
        let again = GuardHead::from_json_bytes(head.to_json().as_bytes()).unwrap();
        assert_eq!(again, head);
    }

    #[test]
    fn builtin_covers_vlsbench_names() {
        let head = GuardHead::builtin();
        let names: Vec<&str> = head.harm.iter().map(|c| c.name.as_str()).collect();
        let expected: Vec<&str> = VLSBENCH.iter().map(|(c, _)| *c).collect();
        assert_eq!(names, expected);
        let mut distinct = std::collections::BTreeSet::new();
        for (category, (name, subs)) in head.harm.iter().zip(VLSBENCH) {
            assert_eq!(category.name, *name);
            let got: Vec<&str> = category
                .sub_categories
                .iter()
                .map(|s| s.name.as_str())
                .collect();
            assert_eq!(got, *subs, "sub-categories of {name}");
            for sub in &category.sub_categories {
                assert!(
                    (4..=8).contains(&sub.phrases.len()),
                    "{name} / {} has {} phrases",
                    sub.name,
                    sub.phrases.len()
                );
                distinct.insert(sub.name.as_str());
            }
        }
        assert_eq!(head.harm.len(), 6);
        assert_eq!(
            head.harm
                .iter()
                .map(|c| c.sub_categories.len())
                .sum::<usize>(),
            21
        );
        assert_eq!(distinct.len(), 19);
        assert!((40..=80).contains(&head.benign.len()));
    }

    #[test]
    fn prompts_expand_templates_times_concepts() {
        let head = GuardHead::builtin();
        let concepts = head.concepts();
        let prompts = head.prompts();
        assert_eq!(concepts.len(), head.concept_count());
        assert_eq!(head.concept_count(), head.harm_count() + head.benign.len());
        assert_eq!(prompts.len(), head.concept_count() * head.templates.len());
        for (i, p) in prompts.iter().enumerate() {
            assert_eq!(p.concept, i / head.templates.len());
            assert_eq!(p.template, i % head.templates.len());
            let phrase = &concepts[p.concept].phrase;
            assert_eq!(p.text, head.templates[p.template].replace("{}", phrase));
        }
        assert!(
            concepts[..head.harm_count()]
                .iter()
                .all(|c| c.kind == ConceptKind::Harm)
        );
        assert!(
            concepts[head.harm_count()..]
                .iter()
                .all(|c| c.kind == ConceptKind::Benign)
        );

        let small = small();
        let prompts = small.prompts();
        assert_eq!(prompts.len(), 8);
        assert_eq!(prompts[0].text, "a photo of alpha");
        assert_eq!(prompts[3].text, "text about beta");
        assert_eq!(prompts[7].text, "text about delta");
        let concepts = small.concepts();
        assert_eq!(
            concepts[1],
            Concept {
                kind: ConceptKind::Harm,
                category: Some("B".into()),
                sub_category: Some("B1".into()),
                index: 0,
                phrase: "beta".into(),
            }
        );
        assert_eq!(concepts[3].kind, ConceptKind::Benign);
        assert_eq!(concepts[3].index, 1);
        assert_eq!(concepts[3].category, None);
    }

    #[test]
    fn averaging_normalises() {
        let h = std::f32::consts::FRAC_1_SQRT_2;
        close_all(
            &average_normalised(&[&[1.0, 0.0], &[0.0, 1.0]]).unwrap(),
            &[h, h],
        );
        close_all(&average_normalised(&[&[3.0, 4.0]]).unwrap(), &[0.6, 0.8]);
        close_all(&normalise(&[0.0, -2.0]).unwrap(), &[0.0, -1.0]);
        assert_eq!(average_normalised(&[]), Err(ScoreError::Empty));
        assert_eq!(
            average_normalised(&[&[1.0, 0.0], &[-1.0, 0.0]]),
            Err(ScoreError::ZeroNorm)
        );
        assert_eq!(
            average_normalised(&[&[1.0, 0.0], &[1.0]]),
            Err(ScoreError::DimensionMismatch {
                expected: 2,
                found: 1
            })
        );
        assert_eq!(normalise(&[f32::NAN, 1.0]), Err(ScoreError::NotFinite));

        // Per concept over its two templates: alpha's prompts (1,0), (0,1) -> (h, h), etc.
        let head = small();
        let prompts = [
            1.0, 0.0, 0.0, 1.0, // alpha
            0.6, 0.8, 0.6, 0.8, // beta
            0.0, 1.0, 0.0, 1.0, // gamma
            -1.0, 0.0, 0.0, -1.0, // delta
        ];
        let concepts = head.concept_embeddings(&prompts, 2).unwrap();
        close_all(&concepts, &[h, h, 0.6, 0.8, 0.0, 1.0, -h, -h]);
        for row in concepts.chunks(2) {
            close(row[0] * row[0] + row[1] * row[1], 1.0);
        }
        assert_eq!(
            head.concept_embeddings(&prompts[..14], 2),
            Err(ScoreError::RowCount {
                rows: 8,
                dim: 2,
                found: 14
            })
        );
        assert_eq!(head.concept_embeddings(&prompts, 0), Err(ScoreError::Empty));
    }

    #[test]
    fn softmax_margin_and_probability_by_hand() {
        close(log_sum_exp(&[0.0, 0.0]), std::f32::consts::LN_2);
        assert_eq!(log_sum_exp(&[]), f32::NEG_INFINITY);
        close(
            log_sum_exp(&[1000.0, 1000.0]),
            1000.0 + std::f32::consts::LN_2,
        );
        close_all(&softmax(&[0.0, 0.0]), &[0.5, 0.5]);
        close(sigmoid(0.0), 0.5);
        close(sigmoid(-200.0), 0.0);
        close(sigmoid(200.0), 1.0);
        close(harm_margin(&[1.0, 0.0], 1), 1.0);

        let head = small();
        // q = (1, 0): cosines [1, 0.6, 0, -1], logit scale 1.
        let s = head
            .score(&SMALL_CONCEPTS, &[1.0, 0.0], Modality::Text)
            .unwrap();
        close_all(&s.cosines, &[1.0, 0.6, 0.0, -1.0]);
        close_all(&s.probabilities, &[0.460080, 0.308401, 0.169254, 0.062265]);
        // ln(e + e^0.6) - ln(1 + e^-1)
        close(s.margin, 1.199754);
        // sigmoid(2 m + 1)
        close(s.p_unsafe, 0.967689);
        assert!(s.is_unsafe);
        close(s.harm_mass, 0.768481);
        assert_eq!(s.categories.len(), 2);
        assert_eq!(s.categories[0].category, "A");
        close(s.categories[0].share, 0.598688);
        close(s.categories[1].share, 1.0 - 0.598688);
        assert_eq!(s.sub_categories[1].sub_category.as_deref(), Some("B1"));
        close(s.sub_categories[1].share, 1.0 - 0.598688);
        assert_eq!(s.top.concept, 0);
        close(s.top.probability, 0.460080);
        assert_eq!(s.top_harm.concept, 0);

        // q = (0.6, 0.8): cosines [0.6, 1, 0.8, -0.6].
        let s = head
            .score(&SMALL_CONCEPTS, &[0.6, 0.8], Modality::Image)
            .unwrap();
        close_all(&s.probabilities, &[0.249102, 0.371616, 0.304254, 0.075028]);
        close(s.margin, 0.492598);
        // Image calibration is a = 1, b = 0.
        close(s.p_unsafe, sigmoid(0.492598));
        close(s.categories[0].share, 0.401312);
        assert_eq!(s.top.concept, 1);
        assert_eq!(s.top_harm.concept, 1);

        // A safe query: q = (-1, 0) sits on delta.
        let s = head
            .score(&SMALL_CONCEPTS, &[-1.0, 0.0], Modality::Text)
            .unwrap();
        assert!(s.margin < 0.0 && !s.is_unsafe);
        assert_eq!(s.top.concept, 3);

        // The logit scale multiplies the cosines.
        let mut sharp = head.clone();
        sharp.logit_scale = 2.0;
        let s = sharp
            .score(&SMALL_CONCEPTS, &[1.0, 0.0], Modality::Text)
            .unwrap();
        close(
            s.margin,
            log_sum_exp(&[2.0, 1.2]) - log_sum_exp(&[0.0, -2.0]),
        );

        // Shapes and values that cannot be scored.
        assert_eq!(
            head.score(&SMALL_CONCEPTS[..6], &[1.0, 0.0], Modality::Text),
            Err(ScoreError::RowCount {
                rows: 4,
                dim: 2,
                found: 6
            })
        );
        assert_eq!(
            head.score(&SMALL_CONCEPTS, &[f32::NAN, 0.0], Modality::Text),
            Err(ScoreError::NotFinite)
        );
        assert!(head.score_cosines(vec![0.0; 3], Modality::Text).is_err());
    }

    #[test]
    fn pair_rules() {
        let h = std::f32::consts::FRAC_1_SQRT_2;
        close_all(&pair_embedding(&[1.0, 0.0], &[0.0, 1.0]).unwrap(), &[h, h]);
        assert_eq!(
            pair_embedding(&[1.0, 0.0], &[-1.0, 0.0]),
            Err(ScoreError::ZeroNorm)
        );
        let (t, i) = ([1.0, 0.0], [0.0, 1.0]);
        close_all(
            &PairRule::EmbeddingMean
                .pair_cosines(&SMALL_CONCEPTS, &t, &i)
                .unwrap(),
            &[h, 1.4 * h, h, -h],
        );
        close_all(
            &PairRule::CosineMean
                .pair_cosines(&SMALL_CONCEPTS, &t, &i)
                .unwrap(),
            &[0.5, 0.7, 0.5, -0.5],
        );
        close_all(
            &PairRule::CosineMax
                .pair_cosines(&SMALL_CONCEPTS, &t, &i)
                .unwrap(),
            &[1.0, 0.8, 1.0, 0.0],
        );
        assert_eq!(
            PairRule::CosineMax.pair_cosines(&SMALL_CONCEPTS, &t, &[1.0]),
            Err(ScoreError::DimensionMismatch {
                expected: 2,
                found: 1
            })
        );
        for rule in PairRule::ALL {
            assert_eq!(PairRule::from_name(rule.name()), Some(rule));
            assert_eq!(serde_json::to_string(&rule).unwrap(), format!("\"{rule}\""));
        }
        assert_eq!(PairRule::from_name("mean"), None);

        // score_pair uses the head's rule and the pair calibration.
        let head = small();
        let s = head.score_pair(&SMALL_CONCEPTS, &t, &i).unwrap();
        assert_eq!(s.modality, Modality::Pair);
        let m = log_sum_exp(&[h, 1.4 * h]) - log_sum_exp(&[h, -h]);
        close(s.margin, m);
        close(s.p_unsafe, sigmoid(m));
        let mut max_head = head.clone();
        max_head.pair_rule = PairRule::CosineMax;
        let s = max_head.score_pair(&SMALL_CONCEPTS, &t, &i).unwrap();
        close(
            s.margin,
            log_sum_exp(&[1.0, 0.8]) - log_sum_exp(&[1.0, 0.0]),
        );
    }

    #[test]
    fn judge_classifies_leakage() {
        assert_eq!(LeakClass::classify(true, true), LeakClass::Leaky);
        assert_eq!(LeakClass::classify(false, true), LeakClass::LeakFree);
        assert_eq!(LeakClass::classify(true, false), LeakClass::Safe);
        assert_eq!(LeakClass::classify(false, false), LeakClass::Safe);
        for class in [LeakClass::Leaky, LeakClass::LeakFree, LeakClass::Safe] {
            assert!(
                class
                    .explanation()
                    .to_lowercase()
                    .starts_with(class.label())
            );
        }

        let mut head = small();
        head.calibration.text = Calibration { a: 1.0, b: 0.0 };
        let judge = |t: [f32; 2], i: [f32; 2]| head.judge(&SMALL_CONCEPTS, &t, &i).unwrap();
        // Harmful text and image.
        let v = judge([1.0, 0.0], [1.0, 0.0]);
        assert!(v.text.is_unsafe && v.pair.is_unsafe && v.image.is_unsafe);
        assert_eq!(v.class, LeakClass::Leaky);
        // Benign-looking text (on gamma), harmful image (on alpha).
        let v = judge([0.0, 1.0], [1.0, 0.0]);
        assert!(!v.text.is_unsafe && v.pair.is_unsafe);
        assert_eq!(v.class, LeakClass::LeakFree);
        // Both on delta.
        let v = judge([-1.0, 0.0], [-1.0, 0.0]);
        assert_eq!(v.class, LeakClass::Safe);
        assert_eq!(
            (v.text.modality, v.image.modality, v.pair.modality),
            (Modality::Text, Modality::Image, Modality::Pair)
        );
    }

    #[test]
    fn fit_platt_recovers_known_parameters() {
        // Expected labels without sampling noise: 1000 samples per margin, round(1000 p) unsafe.
        let (a, b) = (0.8f32, -1.2f32);
        let mut margins = Vec::new();
        let mut labels = Vec::new();
        for k in -60..=60 {
            let m = k as f32 / 10.0;
            let positives = (1000.0 * sigmoid(a * m + b)).round() as usize;
            for j in 0..1000 {
                margins.push(m);
                labels.push(j < positives);
            }
        }
        let fit = fit_platt(&margins, &labels).unwrap();
        assert!((fit.a - a).abs() < 0.01, "{fit:?}");
        assert!((fit.b - b).abs() < 0.01, "{fit:?}");
        assert_eq!(fit_platt(&margins, &labels).unwrap(), fit);

        // One class only, and separable data: finite thanks to the penalty.
        let one = fit_platt(&[1.0, 2.0, 3.0], &[true, true, true]).unwrap();
        assert!(one.a.is_finite() && one.b.is_finite() && one.probability(2.0) > 0.9);
        let sep = fit_platt(&[-2.0, -1.0, 1.0, 2.0], &[false, false, true, true]).unwrap();
        assert!(sep.a.is_finite() && sep.a > 1.0 && sep.b.abs() < 1e-3);
        assert_eq!(fit_platt(&[], &[]).unwrap(), Calibration { a: 0.0, b: 0.0 });

        assert_eq!(
            fit_platt(&[1.0], &[]),
            Err(FitError::LengthMismatch {
                margins: 1,
                labels: 0
            })
        );
        assert_eq!(
            fit_platt(&[1.0, f32::INFINITY], &[true, false]),
            Err(FitError::NotFinite {
                index: 1,
                value: f32::INFINITY
            })
        );
    }

    #[test]
    fn validation_errors_say_what_is_wrong() {
        use HeadError as E;
        use serde_json::json;
        small();

        assert!(matches!(GuardHead::from_json_bytes(b"{"), Err(E::Json(_))));
        assert!(matches!(
            edited(|v| v["extra"] = json!(1)),
            Err(E::Json(m)) if m.contains("extra")
        ));
        assert!(matches!(
            edited(|v| v["harm"]["A"]["A1"] = json!("alpha")),
            Err(E::Json(_))
        ));

        assert_eq!(
            edited(|v| {
                v.as_object_mut().unwrap().remove("version");
            }),
            Err(E::MissingVersion)
        );
        assert_eq!(
            edited(|v| v["version"] = json!(2)),
            Err(E::UnsupportedVersion { found: "2".into() })
        );
        assert_eq!(
            edited(|v| v["version"] = json!("1")),
            Err(E::UnsupportedVersion {
                found: "\"1\"".into()
            })
        );

        assert_eq!(
            edited(|v| v["pair_rule"] = json!("average")),
            Err(E::UnknownPairRule {
                found: "\"average\"".into()
            })
        );
        assert_eq!(
            edited(|v| v["pair_rule"] = json!(3)),
            Err(E::UnknownPairRule { found: "3".into() })
        );
        assert!(
            E::UnknownPairRule { found: "x".into() }
                .to_string()
                .contains("embedding_mean")
        );

        assert_eq!(
            edited(|v| {
                v.as_object_mut().unwrap().remove("calibration");
            }),
            Err(E::MissingCalibration {
                what: "`calibration`".into()
            })
        );
        assert_eq!(
            edited(|v| {
                v["calibration"].as_object_mut().unwrap().remove("image");
            }),
            Err(E::MissingCalibration {
                what: "`calibration.image`".into()
            })
        );
        assert_eq!(
            edited(|v| {
                v["calibration"]["pair"]
                    .as_object_mut()
                    .unwrap()
                    .remove("b");
            }),
            Err(E::MissingCalibration {
                what: "`calibration.pair.b`".into()
            })
        );
        assert_eq!(
            edited(|v| v["calibration"]["text"]["a"] = json!(0.0)),
            Err(E::BadCalibration {
                modality: "text",
                a: 0.0,
                b: 1.0
            })
        );
        assert_eq!(
            edited(|v| v["calibration"]["pair"]["a"] = json!(-1.0)),
            Err(E::BadCalibration {
                modality: "pair",
                a: -1.0,
                b: 0.0
            })
        );

        assert_eq!(
            edited(|v| v["logit_scale"] = json!(0.0)),
            Err(E::BadLogitScale(0.0))
        );
        assert_eq!(
            edited(|v| v["threshold"] = json!(1.0)),
            Err(E::BadThreshold(1.0))
        );
        assert_eq!(
            edited(|v| v["threshold"] = json!(0.0)),
            Err(E::BadThreshold(0.0))
        );

        assert_eq!(edited(|v| v["templates"] = json!([])), Err(E::NoTemplates));
        assert_eq!(
            edited(|v| v["templates"][1] = json!("text about it")),
            Err(E::TemplatePlaceholder {
                index: 1,
                template: "text about it".into(),
                count: 0
            })
        );
        assert_eq!(
            edited(|v| v["templates"][0] = json!("{} and {}")),
            Err(E::TemplatePlaceholder {
                index: 0,
                template: "{} and {}".into(),
                count: 2
            })
        );
        assert_eq!(
            edited(|v| v["templates"][1] = json!("A  photo of {}")),
            Err(E::DuplicateTemplate {
                template: "A  photo of {}".into(),
                first: 0,
                second: 1
            })
        );

        assert_eq!(edited(|v| v["harm"] = json!({})), Err(E::NoHarm));
        assert_eq!(
            edited(|v| v["harm"]["B"] = json!({})),
            Err(E::EmptyCategory {
                category: "B".into()
            })
        );
        assert_eq!(
            edited(|v| v["harm"]["A"]["A1"] = json!([])),
            Err(E::EmptySubCategory {
                category: "A".into(),
                sub_category: "A1".into()
            })
        );
        assert_eq!(edited(|v| v["benign"] = json!([])), Err(E::NoBenign));
        assert_eq!(
            small_with(r#""A": {"A1""#, r#"" ": {"A1""#),
            Err(E::EmptyCategoryName(0))
        );
        assert_eq!(
            small_with(r#""B": {"B1""#, r#""A": {"B1""#),
            Err(E::DuplicateCategory("A".into()))
        );
        assert_eq!(
            small_with(
                r#"{"B1": ["beta"]}"#,
                r#"{"B1": ["beta"], "B1": ["epsilon"]}"#
            ),
            Err(E::DuplicateSubCategory {
                category: "B".into(),
                sub_category: "B1".into()
            })
        );
        assert_eq!(
            small_with(r#"{"B1": ["beta"]}"#, r#"{"": ["beta"]}"#),
            Err(E::EmptyPhrase("the name of sub-category 0 of `B`".into()))
        );
        assert_eq!(
            small_with(r#"["beta"]"#, r#"["beta", "  "]"#),
            Err(E::EmptyPhrase("harm `B` / `B1` #1".into()))
        );
        assert_eq!(
            small_with(r#""delta""#, r#""""#),
            Err(E::EmptyPhrase("benign #1".into()))
        );
        assert_eq!(
            small_with(r#"["beta"]"#, r#"["Alpha"]"#),
            Err(E::DuplicatePhrase {
                phrase: "Alpha".into(),
                first: "harm `A` / `A1` #0".into(),
                second: "harm `B` / `B1` #0".into(),
            })
        );
        assert_eq!(
            small_with(r#""delta""#, r#""beta ""#),
            Err(E::DuplicatePhrase {
                phrase: "beta ".into(),
                first: "harm `B` / `B1` #0".into(),
                second: "benign #1".into(),
            })
        );

        // validate() on a head built in code catches the same things.
        let mut head = small();
        head.version = 7;
        assert_eq!(
            head.validate(),
            Err(E::UnsupportedVersion { found: "7".into() })
        );
        let mut head = small();
        head.logit_scale = f32::NAN;
        assert!(matches!(head.validate(), Err(E::BadLogitScale(_))));
    }
}
