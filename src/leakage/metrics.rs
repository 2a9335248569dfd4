//! The VSIL report (VLSBench paper, §2): for a judge J, text T and image I,
//! A1 = [J(T, I) unsafe], A2 = [J(T, I) unsafe and J(T) unsafe], R1 = mean A1, R2 = mean A2.
//! A set leaks when R2 is close to R1: the text alone already gives the harm away.
//!
//! Every rate is a [`Proportion`] with its Wilson 95% interval:
//! * R1 = #A1 / n and R2 = #A2 / n;
//! * R1 − R2 = #(A1 and not text-unsafe) / n, itself a proportion since A2 ⊆ A1;
//! * R2 / R1 = #A2 / #A1, the share of unsafe pairs whose text alone is unsafe (a proportion
//!   of #A1 trials; `None` when #A1 = 0).
//!
//! Reported overall, per category, per sub-category *name* (across categories, as the paper
//! groups them: VLSBench has "Psychological and Disordered Harm" under two categories) and per
//! (category, sub-category) pair, with the judged samples ranked by text-only score.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::datasets::Sample;
use crate::stats::Proportion;
use crate::util::csv::push_csv_row;
use crate::util::format::pct_ci;
use crate::util::table::Table;

/// The judge's verdicts on one sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// Index of the sample in the slice given to [`report`].
    pub sample: usize,
    /// J(T, I) is unsafe.
    pub pair_unsafe: bool,
    /// J(T) is unsafe.
    pub text_unsafe: bool,
    /// The judge's unsafe score for the text alone (higher = more unsafe).
    pub text_score: f32,
    /// The judge's unsafe score for the text-image pair.
    pub pair_score: f32,
}

/// R1, R2, R1 − R2 and R2 / R1 over `n` judged samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub n: u64,
    pub r1: Proportion,
    pub r2: Proportion,
    pub r1_minus_r2: Proportion,
    /// `None` when no pair was judged unsafe.
    pub r2_over_r1: Option<Proportion>,
}

impl Rates {
    fn from_counts(c: Counts) -> Self {
        Self {
            n: c.n,
            r1: Proportion::new(c.a1, c.n),
            r2: Proportion::new(c.a2, c.n),
            r1_minus_r2: Proportion::new(c.a1 - c.a2, c.n),
            r2_over_r1: (c.a1 > 0).then(|| Proportion::new(c.a2, c.a1)),
        }
    }
}

/// One group of samples: a category, a sub-category name or a (category, sub-category) pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// `None` in [`Report::by_sub_category`] (all categories), or for samples without one.
    pub category: Option<String>,
    /// `None` in [`Report::by_category`], or for samples without one.
    pub sub_category: Option<String>,
    pub rates: Rates,
}

/// A judged sample, in the ranking by text-only score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedSample {
    pub index: usize,
    pub id: String,
    pub category: Option<String>,
    pub sub_category: Option<String>,
    pub text_score: f32,
    pub pair_score: f32,
    pub text_unsafe: bool,
    pub pair_unsafe: bool,
    /// A2: the pair is unsafe and so is the text alone.
    pub leaked: bool,
}

/// The VSIL report. Serialize it with serde (JSON), or see [`groups_csv`], [`samples_csv`]
/// and [`render_table`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Samples with a judgement (the n of `overall`).
    pub judged: u64,
    /// Samples without one, left out of every rate.
    pub unjudged: u64,
    pub overall: Rates,
    /// Sorted by category (samples without one last).
    pub by_category: Vec<Group>,
    /// Grouped by sub-category name across categories, sorted by name.
    pub by_sub_category: Vec<Group>,
    /// Sorted by category, then sub-category.
    pub by_category_pair: Vec<Group>,
    /// Judged samples by text-only score, highest first (ties: sample order).
    pub ranked: Vec<RankedSample>,
}

/// Judgements that cannot be scored.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricsError {
    #[error("judgement {judgement} refers to sample {sample}, but there are only {len} samples")]
    NoSuchSample {
        judgement: usize,
        sample: usize,
        len: usize,
    },
    #[error("sample {sample} (`{id}`) is judged twice (judgements {first} and {second})")]
    Duplicate {
        sample: usize,
        id: String,
        first: usize,
        second: usize,
    },
    #[error(
        "judgement {judgement} (sample `{id}`) has a {which} score of {value}, not a finite number"
    )]
    NotFinite {
        judgement: usize,
        id: String,
        which: &'static str,
        value: f32,
    },
}

#[derive(Clone, Copy, Default)]
struct Counts {
    n: u64,
    a1: u64,
    a2: u64,
}

impl Counts {
    fn add(&mut self, j: &Judgement) {
        self.n += 1;
        if j.pair_unsafe {
            self.a1 += 1;
            if j.text_unsafe {
                self.a2 += 1;
            }
        }
    }
}

/// Group key: `(is_none, name)`, so samples without a name sort after every name.
type Key = (bool, Option<String>);

fn key(name: &Option<String>) -> Key {
    (name.is_none(), name.clone())
}

/// Computes the report. Each sample may be judged at most once; unjudged samples are
/// counted in [`Report::unjudged`] and left out of the rates.
pub fn report(samples: &[Sample], judgements: &[Judgement]) -> Result<Report, MetricsError> {
    let mut seen: Vec<Option<usize>> = vec![None; samples.len()];
    for (k, j) in judgements.iter().enumerate() {
        let Some(sample) = samples.get(j.sample) else {
            return Err(MetricsError::NoSuchSample {
                judgement: k,
                sample: j.sample,
                len: samples.len(),
            });
        };
        if let Some(first) = seen[j.sample] {
            return Err(MetricsError::Duplicate {
                sample: j.sample,
                id: sample.id.clone(),
                first,
                second: k,
            });
        }
        seen[j.sample] = Some(k);
        for (which, value) in [("text", j.text_score), ("pair", j.pair_score)] {
            if !value.is_finite() {
                return Err(MetricsError::NotFinite {
                    judgement: k,
                    id: sample.id.clone(),
                    which,
                    value,
                });
            }
        }
    }

    let mut overall = Counts::default();
    let mut by_category: BTreeMap<Key, Counts> = BTreeMap::new();
    let mut by_sub: BTreeMap<Key, Counts> = BTreeMap::new();
    let mut by_pair: BTreeMap<(Key, Key), Counts> = BTreeMap::new();
    for j in judgements {
        let s = &samples[j.sample];
        let (cat, sub) = (key(&s.category), key(&s.sub_category));
        overall.add(j);
        by_category.entry(cat.clone()).or_default().add(j);
        by_sub.entry(sub.clone()).or_default().add(j);
        by_pair.entry((cat, sub)).or_default().add(j);
    }

    let mut ranked: Vec<RankedSample> = judgements
        .iter()
        .map(|j| {
            let s = &samples[j.sample];
            RankedSample {
                index: j.sample,
                id: s.id.clone(),
                category: s.category.clone(),
                sub_category: s.sub_category.clone(),
                text_score: j.text_score,
                pair_score: j.pair_score,
                text_unsafe: j.text_unsafe,
                pair_unsafe: j.pair_unsafe,
                leaked: j.pair_unsafe && j.text_unsafe,
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.text_score
            .total_cmp(&a.text_score)
            .then(a.index.cmp(&b.index))
    });

    let judged = judgements.len() as u64;
    Ok(Report {
        judged,
        unjudged: samples.len() as u64 - judged,
        overall: Rates::from_counts(overall),
        by_category: by_category
            .into_iter()
            .map(|(k, c)| Group {
                category: k.1,
                sub_category: None,
                rates: Rates::from_counts(c),
            })
            .collect(),
        by_sub_category: by_sub
            .into_iter()
            .map(|(k, c)| Group {
                category: None,
                sub_category: k.1,
                rates: Rates::from_counts(c),
            })
            .collect(),
        by_category_pair: by_pair
            .into_iter()
            .map(|((c, s), counts)| Group {
                category: c.1,
                sub_category: s.1,
                rates: Rates::from_counts(counts),
            })
            .collect(),
        ranked,
    })
}

/// Shown for a missing category or sub-category.
const NONE_LABEL: &str = "(none)";

fn label(name: &Option<String>) -> &str {
    name.as_deref().unwrap_or(NONE_LABEL)
}

/// Every group as CSV (header first; CRLF line breaks): `scope` is `overall`, `category`,
/// `sub_category` or `category_pair`; rates are fractions in [0, 1] with `_low`/`_high` for
/// the Wilson 95% interval; the R2/R1 cells are empty when no pair was unsafe.
pub fn groups_csv(report: &Report) -> String {
    let mut out = String::new();
    let mut header: Vec<String> = [
        "scope",
        "category",
        "sub_category",
        "n",
        "pair_unsafe",
        "leaked",
    ]
    .map(String::from)
    .to_vec();
    for rate in ["r1", "r2", "r1_minus_r2", "r2_over_r1"] {
        header.extend([
            rate.to_owned(),
            format!("{rate}_low"),
            format!("{rate}_high"),
        ]);
    }
    push_csv_row(&mut out, &header);
    let mut row = |scope: &str, cat: &Option<String>, sub: &Option<String>, r: &Rates| {
        let mut f = vec![
            scope.to_owned(),
            cat.clone().unwrap_or_default(),
            sub.clone().unwrap_or_default(),
            r.n.to_string(),
            r.r1.successes.to_string(),
            r.r2.successes.to_string(),
        ];
        for p in [
            Some(&r.r1),
            Some(&r.r2),
            Some(&r.r1_minus_r2),
            r.r2_over_r1.as_ref(),
        ] {
            match p {
                Some(p) => f.extend([p.rate, p.low, p.high].map(|x| x.to_string())),
                None => f.extend([String::new(), String::new(), String::new()]),
            }
        }
        push_csv_row(&mut out, &f);
    };
    row("overall", &None, &None, &report.overall);
    for g in &report.by_category {
        row("category", &g.category, &None, &g.rates);
    }
    for g in &report.by_sub_category {
        row("sub_category", &None, &g.sub_category, &g.rates);
    }
    for g in &report.by_category_pair {
        row("category_pair", &g.category, &g.sub_category, &g.rates);
    }
    out
}

/// The ranking as CSV (header first; CRLF line breaks), highest text-only score first.
pub fn samples_csv(report: &Report) -> String {
    let mut out = String::new();
    push_csv_row(
        &mut out,
        &[
            "rank",
            "index",
            "id",
            "category",
            "sub_category",
            "text_score",
            "pair_score",
            "text_unsafe",
            "pair_unsafe",
            "leaked",
        ],
    );
    for (rank, s) in report.ranked.iter().enumerate() {
        push_csv_row(
            &mut out,
            &[
                (rank + 1).to_string(),
                s.index.to_string(),
                s.id.clone(),
                s.category.clone().unwrap_or_default(),
                s.sub_category.clone().unwrap_or_default(),
                s.text_score.to_string(),
                s.pair_score.to_string(),
                s.text_unsafe.to_string(),
                s.pair_unsafe.to_string(),
                s.leaked.to_string(),
            ],
        );
    }
    out
}

/// The rates as a table: R1, R2, R1 − R2 and R2/R1 in percent with their Wilson 95%
/// intervals, overall and per category, sub-category name and (category, sub-category) pair.
pub fn table(report: &Report) -> Table {
    let cells = |label: String, r: &Rates| {
        let ratio = r.r2_over_r1.as_ref().map_or("n/a".to_owned(), pct_ci);
        let rates = [&r.r1, &r.r2, &r.r1_minus_r2].map(pct_ci);
        let head = [label, r.n.to_string()].into_iter();
        head.chain(rates).chain([ratio]).collect()
    };
    Table::breakdown(
        format!(
            "VSIL: {} judged sample(s), {} without a judgement. Rates in %, [Wilson 95% CI].",
            report.judged, report.unjudged
        ),
        &["R1", "R2", "R1-R2", "R2/R1"],
        cells("All".into(), &report.overall),
        [
            &report.by_category,
            &report.by_sub_category,
            &report.by_category_pair,
        ],
        |g: &Group| (label(&g.category).into(), label(&g.sub_category).into()),
        |name, g| cells(name, &g.rates),
    )
}

/// [`table`] as plain text.
pub fn render_table(report: &Report) -> String {
    table(report).render_text()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: &str, cat: Option<&str>, sub: Option<&str>) -> Sample {
        Sample {
            id: id.into(),
            text: String::new(),
            image: None,
            category: cat.map(Into::into),
            sub_category: sub.map(Into::into),
            source: "test".into(),
            extra: Default::default(),
        }
    }

    fn judge(sample: usize, pair: bool, text: bool, score: f32) -> Judgement {
        Judgement {
            sample,
            pair_unsafe: pair,
            text_unsafe: text,
            text_score: score,
            pair_score: 0.5,
        }
    }

    #[test]
    fn none_keys_sort_last() {
        let mut keys = [key(&None), key(&Some("b".into())), key(&Some("a".into()))];
        keys.sort();
        let names: Vec<_> = keys.into_iter().map(|k| k.1).collect();
        assert_eq!(names, [Some("a".into()), Some("b".into()), None]);
    }

    #[test]
    fn bad_judgements_are_refused() {
        let s = vec![sample("a", None, None)];
        assert!(matches!(
            report(&s, &[judge(1, true, true, 0.0)]),
            Err(MetricsError::NoSuchSample {
                sample: 1,
                len: 1,
                ..
            })
        ));
        assert!(matches!(
            report(
                &s,
                &[judge(0, true, true, 0.0), judge(0, false, false, 0.0)]
            ),
            Err(MetricsError::Duplicate {
                first: 0,
                second: 1,
                ..
            })
        ));
        assert!(matches!(
            report(&s, &[judge(0, true, true, f32::NAN)]),
            Err(MetricsError::NotFinite { which: "text", .. })
        ));
    }

    #[test]
    fn empty_input_gives_undefined_ratio_and_a_table() {
        let r = report(&[], &[]).unwrap();
        assert_eq!(r.overall.n, 0);
        assert_eq!(r.overall.r2_over_r1, None);
        assert!(render_table(&r).contains("n/a"));
        assert_eq!(groups_csv(&r).lines().count(), 2);
    }
}
