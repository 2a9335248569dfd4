//! A [`Report`] as a plain-text table (the CLI prints it; the page can show the same text):
//! safe, refuse and warning rates in % with Wilson 95% intervals, overall, by category, by
//! sub-category name and by (category, sub-category) pair, then why rows have no label, how the
//! labels were read and, with a second judge, Cohen's κ.

use std::fmt::Write;

use super::report::{Group, Rates, Report};
use crate::stats::Proportion;
use crate::util::format::pct_ci;
use crate::util::table::Table;

/// Shown for an empty category or sub-category name.
const NONE_LABEL: &str = "(none)";

fn name(s: &Option<String>) -> &str {
    match s.as_deref() {
        Some("") | None => NONE_LABEL,
        Some(s) => s,
    }
}

/// A rate with its interval, `n/a` for an empty group.
fn cell(p: &Proportion) -> String {
    if p.total == 0 {
        "n/a".to_owned()
    } else {
        pct_ci(p)
    }
}

/// The rates as a table: overall, then by category, sub-category and (category, sub-category).
pub fn table(report: &Report) -> Table {
    let cells = |label: String, r: &Rates| {
        let rates = [&r.safe, &r.refuse, &r.warning].map(cell);
        [label, r.n.to_string()].into_iter().chain(rates).collect()
    };
    Table::breakdown(
        format!(
            "VLSBench: {} of {} row(s) labelled by the judge. Rates in %, [Wilson 95% CI].",
            report.overall.n, report.rows
        ),
        &["safe", "refuse", "warning"],
        cells("All".into(), &report.overall),
        [
            &report.by_category,
            &report.by_sub_category,
            &report.by_pair,
        ],
        |g: &Group| (name(&g.category).into(), name(&g.sub_category).into()),
        |label, g| cells(label, &g.rates),
    )
}

/// The table as text, then why rows have no label, how the labels were read and the second
/// judge's agreement.
pub fn render_table(report: &Report) -> String {
    let mut out = table(report).render_text();
    let f = &report.failures;
    let cut_off = if f.judge_cut_off > 0 {
        format!(" ({} cut off by the token limit)", f.judge_cut_off)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Without a label: judge refused {}, judge content filter {}, judge unparsable \
         {}{cut_off}, judge errors {}; target errors {}; not judged {}; not answered {}",
        f.judge_refusals,
        f.judge_content_filter,
        f.judge_unparsable,
        f.judge_errors,
        f.target_errors,
        f.not_judged,
        f.not_answered
    );
    if f.judge_unparsable + f.judge_errors + f.target_errors > 0 {
        let _ = writeln!(
            out,
            "(--retry-errors calls the failed ones and judges the unparsable ones again)"
        );
    }
    for line in report.excluded.describe() {
        let _ = writeln!(out, "Excluded: {line}");
    }
    let p = &report.parsing;
    let _ = writeln!(
        out,
        "Labels read as: strict JSON {}, JSON block {}, digit {}, label name {}",
        p.strict, p.json_block, p.digit, p.words
    );
    if let Some(a) = &report.agreement {
        let kappa = a
            .kappa
            .map_or_else(|| "undefined".to_owned(), |k| format!("{k:.3}"));
        let _ = writeln!(
            out,
            "Second judge: Cohen's kappa {kappa} over {} row(s) both labelled (agreement {:.1}%, \
             chance {:.1}%), {} disagreement(s)",
            a.n,
            100.0 * a.observed,
            100.0 * a.expected,
            a.disagreements.len()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::api::ChatResponse;
    use crate::eval::dataset::Row;
    use crate::eval::results::{Judged, RowResult};
    use crate::eval::verdict::{JudgeOutcome, ParseMode, SafetyLabel};

    fn result(id: u64, category: &str, label: Option<SafetyLabel>) -> RowResult {
        RowResult {
            row: Row {
                id,
                instruction: "i".into(),
                image_path: format!("imgs/{id}.png"),
                category: category.into(),
                sub_category: String::new(),
            },
            answer: Some(ChatResponse::default()),
            target_error: None,
            judged: Some(Judged::Verdict(match label {
                Some(label) => JudgeOutcome::Label {
                    label,
                    label_str: label.name().into(),
                    explanation: String::new(),
                    mode: ParseMode::Strict,
                },
                None => JudgeOutcome::Refusal {
                    message: "no".into(),
                },
            })),
            second: None,
            other_wording: false,
            other_template: false,
        }
    }

    #[test]
    fn rows_show_rates_intervals_and_failures() {
        let report = Report::build(&[
            result(0, "Violent", Some(SafetyLabel::Refusal)),
            result(1, "Violent", Some(SafetyLabel::Unsafe)),
            result(2, "Hate", None),
        ]);
        let table = render_table(&report);
        assert!(
            table.starts_with("VLSBench: 2 of 3 row(s) labelled"),
            "{table}"
        );
        let all = table.lines().find(|l| l.starts_with("All")).unwrap();
        // 1 of 2 safe: 50% with the Wilson interval [9.45, 90.55].
        assert!(all.contains(" 50.00 [  9.45,  90.55]"), "{all}");
        let hate = table.lines().find(|l| l.starts_with("  Hate ")).unwrap();
        assert!(hate.trim_end().ends_with("n/a"), "{hate}");
        assert!(table.contains("  Violent / (none)"));
        assert!(table.contains("judge refused 1,"));
        assert!(!table.contains("Second judge"));
    }
}
