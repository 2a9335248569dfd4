//! What the panel shows: live progress, the estimate, the report (the rates table the CLI
//! prints, built as DOM; the chart; why rows have no label; the judges' agreement). Text from
//! the run reaches the page as text only.

use std::time::Duration;

use crate::chart::{Bar, bar_chart_tree};
use crate::eval::plan::Plan;
use crate::eval::progress::Progress;
use crate::eval::report::{Group, Report};
use crate::util::format::{human_duration, pct, thousands};
use crate::web::dom::{append, build, replace_children, set_attr, set_body_data, set_text, svg};
use crate::web::table;

pub fn show_progress(p: &Progress, now: Duration) {
    set_attr("eval-progress", "max", &p.rows_total.max(1).to_string());
    set_attr("eval-progress", "value", &p.rows_finished.to_string());
    let mut parts = vec![format!(
        "{} / {} rows",
        thousands(p.rows_finished),
        thousands(p.rows_total)
    )];
    if p.rows_reused > 0 {
        parts.push(format!("{} already stored", thousands(p.rows_reused)));
    }
    let rate = p.rows_per_minute(now);
    if rate > 0.0 {
        parts.push(format!("{rate:.1} rows/min"));
    }
    if let Some(eta) = p.eta(now) {
        parts.push(format!("about {} left", human_duration(eta)));
    }
    parts.push(if p.priced {
        format!("${:.4} spent", p.spent)
    } else {
        "spend unknown (no price)".to_owned()
    });
    set_text("eval-progress-text", &parts.join(" · "));
    let mut issues = Vec::new();
    if p.retries > 0 {
        issues.push(format!("{} retries", p.retries));
    }
    if let Some(limit) = p.limit {
        issues.push(format!("slowed to {limit} at a time after rate limits"));
    }
    let errors = p.target_errors + p.judge_errors;
    if errors > 0 {
        issues.push(format!("{errors} calls failed for good (retry them later)"));
    }
    if p.judge_failures > 0 {
        issues.push(format!(
            "{} answers the judge refused or garbled (re-judge them later)",
            p.judge_failures
        ));
    }
    if p.image_failures > 0 {
        issues.push(format!("{} images could not be read", p.image_failures));
    }
    if p.cost_cap_reached {
        issues.push("spending cap reached: no new requests".into());
    }
    if let Some(halt) = &p.halted {
        issues.push(format!("stopped: {halt}"));
    }
    set_text("eval-progress-issues", &issues.join(" · "));
    let labelled: u64 = p.labels.iter().sum();
    let live = match p.safe_rate() {
        Some(rate) => format!(
            "So far: safe {:.1}% of {} labelled (refusals {}, warnings {}, unsafe {})",
            rate * 100.0,
            thousands(labelled),
            p.labels[0],
            p.labels[1],
            p.labels[2]
        ),
        None => String::new(),
    };
    set_text("eval-live-rates", &live);
    set_body_data("eval-finished", &p.rows_finished.to_string());
}

/// The plan of the run the form describes (`selected`: rows in the run, with work or not;
/// `notes`: how the decoding settings depart from the official protocol).
pub fn show_estimate(plan: &Plan, selected: usize, prices_missing: &[&str], notes: &[String]) {
    let e = &plan.estimate;
    let mut text = format!(
        "{} rows. At most ${:.2}: model under test ${:.2} ({} input tokens, ≤ {} output), \
         judge ${:.2} ({} input, ≤ {} output). Text is counted as 4 characters per token, \
         images by the provider's tiling rule; every answer is assumed to use its whole token \
         budget.",
        thousands(e.rows),
        e.total_cost_max(),
        e.target_cost_max,
        thousands(e.target_input_tokens),
        thousands(e.target_output_tokens_max),
        e.judge_cost_max,
        thousands(e.judge_input_tokens),
        thousands(e.judge_output_tokens_max),
    );
    let nothing = selected - plan.full - plan.judge_only;
    if plan.judge_only > 0 || nothing > 0 {
        text.push_str(&format!(
            " Of the {} rows selected, {} need the model and the judge, {} only the judge, \
             {nothing} nothing (already stored).",
            thousands(selected as u64),
            thousands(plan.full as u64),
            thousands(plan.judge_only as u64),
        ));
    }
    if plan.unreadable > 0 {
        text.push_str(&format!(
            " {} images could not be read: those rows fail without a request and are not counted.",
            plan.unreadable
        ));
    }
    if !prices_missing.is_empty() {
        text.push_str(&format!(
            " No price is known for {}: enter one, or the estimate and the cap treat it as free.",
            prices_missing.join(" and ")
        ));
    }
    for note in notes {
        text.push(' ');
        text.push_str(note);
    }
    set_text("eval-estimate-out", &text);
}

fn group_name(g: &Group) -> String {
    match (&g.category, &g.sub_category) {
        (Some(c), Some(s)) => format!("{c} / {s}"),
        (Some(c), None) => c.clone(),
        (None, Some(s)) => s.clone(),
        (None, None) => "All".into(),
    }
}

/// `departures`: how the decoding settings depart from the official protocol.
pub fn show_report(report: &Report, title: &str, departures: &[String]) {
    let o = &report.overall;
    let mut summary = format!(
        "{title}: safe rate {} (refusals {}, warnings {}) over {} labelled rows of {}.",
        pct(&o.safe),
        pct(&o.refuse),
        pct(&o.warning),
        thousands(o.n),
        thousands(report.rows)
    );
    if !departures.is_empty() {
        summary.push_str(" Departs from the official protocol: ");
        summary.push_str(&departures.join(" "));
    }
    set_text("eval-summary", &summary);
    set_body_data("eval-safe-rate", &format!("{:.6}", o.safe.rate));
    let bars: Vec<Bar> = report
        .by_category
        .iter()
        .map(|g| Bar {
            label: group_name(g),
            value: g.rates.safe.rate,
            low: g.rates.safe.low,
            high: g.rates.safe.high,
            note: format!("n = {}", g.rates.n),
        })
        .collect();
    let chart = svg(&bar_chart_tree(
        "Safe rate by category, with 95% intervals",
        &bars,
    ));
    if let Err(e) = chart.and_then(|c| replace_children("eval-chart", &[c])) {
        set_text("eval-chart", &e);
    }
    if let Err(e) = tables(report) {
        set_text("eval-tables", &e);
    }
}

/// The rates table (the CLI's, as DOM), why rows have no label, and the judges' agreement.
fn tables(report: &Report) -> Result<(), String> {
    let mut parts = vec![table::element(&crate::eval::table::table(report))?];
    let f = &report.failures;
    let failures = [
        (f.not_answered, "not answered yet"),
        (f.target_errors, "target call failed"),
        (f.not_judged, "answered, not judged yet"),
        (f.judge_errors, "judge call failed"),
        (f.judge_refusals, "judge refused"),
        (f.judge_content_filter, "judge blocked by a content filter"),
        (
            f.judge_unparsable,
            "judge answer unreadable (cut off by the token limit or garbled)",
        ),
    ];
    if failures.iter().any(|(n, _)| *n > 0) {
        parts.push(build("h4", &[], "Rows without a label")?);
        let list = build("ul", &[("class", "failures")], "")?;
        for (n, what) in failures.iter().filter(|(n, _)| *n > 0) {
            append(
                &list,
                &build("li", &[], &format!("{} {what}", thousands(*n)))?,
            )?;
        }
        parts.push(list);
        parts.push(build(
            "p",
            &[("class", "note")],
            "“Retry failed calls” runs the failed ones again and re-judges unreadable \
             verdicts; “Judge again” re-labels stored answers, with another judge if you change \
             it.",
        )?);
    }
    let excluded = report.excluded.describe();
    if !excluded.is_empty() {
        parts.push(build("h4", &[], "Left out of this report")?);
        let list = build("ul", &[("class", "excluded")], "")?;
        for line in excluded {
            append(&list, &build("li", &[], &line)?)?;
        }
        parts.push(list);
    }
    if let Some(a) = &report.agreement {
        let kappa = a
            .kappa
            .map(|k| format!("{k:.3}"))
            .unwrap_or_else(|| "undefined".into());
        parts.push(build("h4", &[], "Agreement between the two judges")?);
        parts.push(build(
            "p",
            &[],
            &format!(
                "Cohen's κ = {kappa} over {} rows (observed agreement {:.1}%). {} disagreements \
                 to spot-check:",
                thousands(a.n),
                a.observed * 100.0,
                a.disagreements.len()
            ),
        )?);
        let list = build("ul", &[("class", "disagreements")], "")?;
        for d in a.disagreements.iter().take(50) {
            let text = format!("row {}: {} vs {}", d.row, d.first as u8, d.second as u8);
            append(&list, &build("li", &[], &text)?)?;
        }
        parts.push(list);
    }
    replace_children("eval-tables", &parts)
}

/// The panel's one line of news: what went wrong, or what happens next.
pub fn message(text: &str) {
    set_text("eval-message", text);
}
