//! The leaderboard: several evaluation runs side by side, the paper's main table reproduced
//! from one's own runs (`leakscope compare RUN_DIR…` and the page's "Compare runs" panel).
//!
//! Each run is read from what `leakscope eval` (or the page's exports) writes: `report.json`
//! (which model, judge and template, and the rates) and, when present, `rows.jsonl` (each row's
//! label). Per model: safe / refuse / warning rates with Wilson 95% intervals, overall and per
//! category. Between every two models, whether their safe rates differ significantly:
//! - **McNemar's exact test** on the rows both runs labelled, when both runs' rows are known
//!   (the same VLSBench rows answered by two models are paired data);
//! - else the **pooled two-proportion z-test** on the overall counts;
//!
//! with **Holm's** adjustment over all pairs, significant below 0.05.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::report::{Rates, Report};
use crate::stats::{Proportion, holm, mcnemar_exact, two_proportion_z};
use crate::util::format::{pct, pct_ci};
use crate::util::table::{Column, Table};

/// Adjusted p-values below this are called significant.
pub const ALPHA: f64 = 0.05;

/// Why a run cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("{source_name}: not a leakscope evaluation report ({why})")]
    Report { source_name: String, why: String },
    #[error("{source_name}, line {line}: not a row of rows.jsonl ({why})")]
    Row {
        source_name: String,
        line: usize,
        why: String,
    },
    #[error("compare needs at least one run")]
    Empty,
}

/// One run as the leaderboard reads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    /// The model under test; when two runs share a model, with their judges, or else where the
    /// runs came from.
    pub name: String,
    /// The folder or file it was read from.
    pub source: String,
    pub judge: Option<String>,
    pub template: Option<String>,
    pub report: Report,
    /// Row id → safe (label 1 or 2) or not (3), for the labelled rows; `None` without rows.jsonl.
    #[serde(skip)]
    pub safe_by_row: Option<BTreeMap<u64, bool>>,
}

#[derive(Deserialize)]
struct ReportFile {
    #[serde(default)]
    setup: serde_json::Value,
    report: Report,
}

#[derive(Deserialize)]
struct RowLine {
    id: u64,
    label: Option<u8>,
}

impl Run {
    /// A run from its `report.json` and, optionally, its `rows.jsonl`; `source_name` names the
    /// folder or file in messages.
    pub fn read(
        source_name: &str,
        report_json: &[u8],
        rows_jsonl: Option<&[u8]>,
    ) -> Result<Self, CompareError> {
        let file: ReportFile =
            serde_json::from_slice(report_json).map_err(|e| CompareError::Report {
                source_name: source_name.to_owned(),
                why: e.to_string(),
            })?;
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        let setup = &file.setup;
        let name = text(&setup["target"]["model"]).unwrap_or_else(|| source_name.to_owned());
        let safe_by_row = rows_jsonl
            .map(|bytes| safe_rows(source_name, bytes))
            .transpose()?;
        Ok(Self {
            name,
            source: source_name.to_owned(),
            judge: text(&setup["judge"]["model"]),
            template: text(&setup["judge_template"]),
            report: file.report,
            safe_by_row,
        })
    }
}

fn safe_rows(source_name: &str, bytes: &[u8]) -> Result<BTreeMap<u64, bool>, CompareError> {
    let mut out = BTreeMap::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let row: RowLine = serde_json::from_slice(line).map_err(|e| CompareError::Row {
            source_name: source_name.to_owned(),
            line: i + 1,
            why: e.to_string(),
        })?;
        if let Some(label) = row.label.filter(|l| (1..=3).contains(l)) {
            out.insert(row.id, label != 3);
        }
    }
    Ok(out)
}

/// Which test compared two runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// McNemar's exact test on the rows both labelled (`discordant` of them disagree).
    McNemarExact { paired_rows: u64, discordant: u64 },
    /// The pooled two-proportion z-test on the overall counts.
    TwoProportionZ,
}

/// Two runs' safe rates compared.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Indices into [`Leaderboard::runs`].
    pub a: usize,
    pub b: usize,
    /// Safe rate of `a` minus that of `b` (over each run's labelled rows).
    pub difference: f64,
    pub test: Test,
    pub p_value: f64,
    /// Holm-adjusted over every pair of the leaderboard.
    pub p_adjusted: f64,
    pub significant: bool,
}

/// Runs side by side, best safe rate first, with every pairwise comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Leaderboard {
    pub runs: Vec<Run>,
    pub categories: Vec<String>,
    pub comparisons: Vec<Comparison>,
}

impl Leaderboard {
    pub fn build(mut runs: Vec<Run>) -> Result<Self, CompareError> {
        if runs.is_empty() {
            return Err(CompareError::Empty);
        }
        runs.sort_by(|a, b| {
            b.report
                .overall
                .safe
                .rate
                .total_cmp(&a.report.overall.safe.rate)
        });
        // Two runs of one model get told apart by their judges, or else by where they came from.
        let count = |runs: &[Run], name: &str| runs.iter().filter(|r| r.name == name).count();
        for suffix in [
            |r: &Run| r.judge.as_ref().map(|j| format!("judge {j}")),
            |r: &Run| Some(r.source.clone()),
        ] {
            let names: Vec<String> = runs
                .iter()
                .map(|r| match (count(&runs, &r.name) > 1, suffix(r)) {
                    (true, Some(s)) => format!("{} ({s})", r.name),
                    _ => r.name.clone(),
                })
                .collect();
            if names
                .iter()
                .all(|n| names.iter().filter(|m| *m == n).count() == 1)
            {
                for (run, name) in runs.iter_mut().zip(names) {
                    run.name = name;
                }
                break;
            }
        }
        let categories: BTreeSet<String> = runs
            .iter()
            .flat_map(|r| r.report.by_category.iter())
            .filter_map(|g| g.category.clone())
            .collect();
        let mut comparisons = Vec::new();
        for a in 0..runs.len() {
            for b in a + 1..runs.len() {
                comparisons.push(compare(&runs, a, b));
            }
        }
        let adjusted = holm(&comparisons.iter().map(|c| c.p_value).collect::<Vec<_>>());
        for (c, p) in comparisons.iter_mut().zip(adjusted) {
            c.p_adjusted = p;
            c.significant = p < ALPHA;
        }
        Ok(Self {
            runs,
            categories: categories.into_iter().collect(),
            comparisons,
        })
    }

    /// Per model: rows labelled, safe [95% CI], refuse and warning.
    pub fn overall_table(&self) -> Table {
        let columns = vec![
            Column::left("Model"),
            Column::left("Judge"),
            Column::right("n", 5),
            Column::right("safe", 22),
            Column::right("refuse", 7),
            Column::right("warning", 7),
        ];
        let mut t = Table::new(
            "Safe = refuse + warning, in % of the rows the judge labelled [Wilson 95% CI].",
            columns,
        );
        for run in &self.runs {
            let r = &run.report.overall;
            t.push_row(vec![
                run.name.clone(),
                run.judge.clone().unwrap_or_default(),
                r.n.to_string(),
                pct_ci(&r.safe),
                pct(&r.refuse),
                pct(&r.warning),
            ]);
        }
        t
    }

    /// Safe rate [95% CI] per category (rows) and model (columns).
    pub fn category_table(&self) -> Table {
        let mut columns = vec![Column::left("Category")];
        columns.extend(self.runs.iter().map(|r| Column::right(r.name.clone(), 22)));
        let mut t = Table::new("Safe rate by category, in % [Wilson 95% CI].", columns);
        for category in &self.categories {
            let mut cells = vec![category.clone()];
            for run in &self.runs {
                let rates = run
                    .report
                    .by_category
                    .iter()
                    .find(|g| g.category.as_deref() == Some(category))
                    .map(|g| &g.rates);
                cells.push(rates.map_or("–".to_owned(), |r: &Rates| pct_ci(&r.safe)));
            }
            t.push_row(cells);
        }
        t
    }

    /// Every pair: the difference, the test, p and Holm-adjusted p.
    pub fn comparison_table(&self) -> Table {
        let columns = vec![
            Column::left("Pair"),
            Column::right("difference", 10),
            Column::left("test"),
            Column::right("p", 8),
            Column::right("p (Holm)", 8),
            Column::left("significant"),
        ];
        let mut t = Table::new(
            format!(
                "Safe rates compared: McNemar's exact test on the rows both runs labelled \
                 where both runs' rows are known, else the two-proportion z-test; Holm's \
                 adjustment over all pairs; significant below {ALPHA}."
            ),
            columns,
        );
        for c in &self.comparisons {
            let test = match c.test {
                Test::McNemarExact {
                    paired_rows,
                    discordant,
                } => format!("McNemar, {paired_rows} rows ({discordant} discordant)"),
                Test::TwoProportionZ => "two-proportion z".to_owned(),
            };
            t.push_row(vec![
                format!("{} vs {}", self.runs[c.a].name, self.runs[c.b].name),
                format!("{:+.1} pts", 100.0 * c.difference),
                test,
                format!("{:.3}", c.p_value),
                format!("{:.3}", c.p_adjusted),
                if c.significant { "yes" } else { "no" }.to_owned(),
            ]);
        }
        t
    }

    /// The three tables.
    pub fn tables(&self) -> [Table; 3] {
        [
            self.overall_table(),
            self.category_table(),
            self.comparison_table(),
        ]
    }

    /// The bars of a chart: each model's safe rate with its interval.
    pub fn bars(&self) -> Vec<crate::chart::Bar> {
        self.runs
            .iter()
            .map(|run| {
                let p = &run.report.overall.safe;
                crate::chart::Bar {
                    label: run.name.clone(),
                    value: p.rate,
                    low: p.low,
                    high: p.high,
                    note: format!("n = {}", run.report.overall.n),
                }
            })
            .collect()
    }

    /// The tables as Markdown, one after the other.
    pub fn markdown(&self) -> String {
        self.tables()
            .iter()
            .map(Table::render_markdown)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The tables as CSV, each after a line with its caption.
    pub fn csv(&self) -> String {
        self.tables()
            .iter()
            .map(Table::render_csv)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn compare(runs: &[Run], a: usize, b: usize) -> Comparison {
    let (ra, rb) = (&runs[a], &runs[b]);
    let difference = ra.report.overall.safe.rate - rb.report.overall.safe.rate;
    let (test, p_value) = match (&ra.safe_by_row, &rb.safe_by_row) {
        (Some(x), Some(y)) => {
            let (mut only_a, mut only_b, mut paired) = (0u64, 0u64, 0u64);
            for (row, safe_a) in x {
                if let Some(safe_b) = y.get(row) {
                    paired += 1;
                    match (safe_a, safe_b) {
                        (true, false) => only_a += 1,
                        (false, true) => only_b += 1,
                        _ => {}
                    }
                }
            }
            let test = Test::McNemarExact {
                paired_rows: paired,
                discordant: only_a + only_b,
            };
            (test, mcnemar_exact(only_a, only_b))
        }
        _ => {
            let (pa, pb): (&Proportion, &Proportion) =
                (&ra.report.overall.safe, &rb.report.overall.safe);
            let p = two_proportion_z(pa.successes, pa.total, pb.successes, pb.total);
            (Test::TwoProportionZ, p)
        }
    };
    Comparison {
        a,
        b,
        difference,
        test,
        p_value,
        p_adjusted: p_value,
        significant: false,
    }
}
