//! One sample's guard readings as a flat record (the CLI's `scores.jsonl` lines, the page's
//! stored dataset scores), and the judgement the VSIL report counts from it.

use serde::{Deserialize, Serialize};

use super::guard::SampleScore;
use super::head::{Concept, HeadScore, LeakClass};
use super::metrics::Judgement;
use crate::datasets::Sample;

/// One sample's scores, as written to `scores.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    pub id: String,
    pub category: Option<String>,
    pub sub_category: Option<String>,
    /// J(T): P(unsafe) of the text alone, its raw margin and verdict.
    pub text_p_unsafe: f32,
    pub text_margin: f32,
    pub text_unsafe: bool,
    /// The image alone (`null` without a usable image).
    pub image_p_unsafe: Option<f32>,
    pub image_margin: Option<f32>,
    pub image_unsafe: Option<bool>,
    /// J(T, I) (`null` without a usable image).
    pub pair_p_unsafe: Option<f32>,
    pub pair_margin: Option<f32>,
    pub pair_unsafe: Option<bool>,
    /// Leaky / leak-free / safe; `null` without a pair (the sample is not in R1/R2).
    pub class: Option<LeakClass>,
    /// The most likely harm concept of the pair (of the text when there is no pair).
    pub top_harm: TopHarm,
    /// Why the sample has no image scores (missing file, undecodable image, no image).
    pub image_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopHarm {
    pub category: Option<String>,
    pub sub_category: Option<String>,
    pub phrase: String,
    /// Its softmax probability over all concepts.
    pub probability: f32,
}

/// The record of `sample` from its guard readings; `image_error` says why it has no image
/// scores, if so.
pub fn line(
    sample: &Sample,
    score: &SampleScore,
    concepts: &[Concept],
    image_error: Option<String>,
) -> ScoreLine {
    let hit = score.pair.as_ref().unwrap_or(&score.text).top_harm;
    let concept = concepts.get(hit.concept);
    let p = |s: &Option<HeadScore>| s.as_ref().map(|s| s.p_unsafe);
    let m = |s: &Option<HeadScore>| s.as_ref().map(|s| s.margin);
    let u = |s: &Option<HeadScore>| s.as_ref().map(|s| s.is_unsafe);
    ScoreLine {
        id: sample.id.clone(),
        category: sample.category.clone(),
        sub_category: sample.sub_category.clone(),
        text_p_unsafe: score.text.p_unsafe,
        text_margin: score.text.margin,
        text_unsafe: score.text.is_unsafe,
        image_p_unsafe: p(&score.image),
        image_margin: m(&score.image),
        image_unsafe: u(&score.image),
        pair_p_unsafe: p(&score.pair),
        pair_margin: m(&score.pair),
        pair_unsafe: u(&score.pair),
        class: score.pair.as_ref().map(|_| score.class),
        top_harm: TopHarm {
            category: concept.and_then(|c| c.category.clone()),
            sub_category: concept.and_then(|c| c.sub_category.clone()),
            phrase: concept.map(|c| c.phrase.clone()).unwrap_or_default(),
            probability: hit.probability,
        },
        image_error,
    }
}

/// The judgement of sample `index` from its line: J(T, I) from the pair, or from J(T) in a
/// text-only run; `None` for a sample without a pair score.
pub fn judgement(index: usize, line: &ScoreLine, text_only: bool) -> Option<Judgement> {
    let (pair_unsafe, pair_score) = if text_only {
        (line.text_unsafe, line.text_p_unsafe)
    } else {
        (line.pair_unsafe?, line.pair_p_unsafe?)
    };
    Some(Judgement {
        sample: index,
        pair_unsafe,
        text_unsafe: line.text_unsafe,
        text_score: line.text_p_unsafe,
        pair_score,
    })
}
