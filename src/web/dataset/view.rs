//! Dataset mode's report on the page: the summary in words, R1 / R2 per category as a chart and
//! a table, and the sortable table of the leakiest samples.

use crate::chart::{Bar, bar_chart_tree};
use crate::leakage::metrics::{self, RankedSample, Report};
use crate::web::dom::{append, build, replace_children, set_body_data, set_hidden, set_text, svg};

/// Rows shown in the leakiest-samples table.
const SHOWN: usize = 100;

/// Which column the leakiest-samples table is sorted by, and whether descending.
#[derive(Clone, Debug, PartialEq)]
pub struct Sort {
    pub key: String,
    pub descending: bool,
}

impl Default for Sort {
    /// The leakiest first: by text-only score, highest first.
    fn default() -> Self {
        Self {
            key: "text".into(),
            descending: true,
        }
    }
}

impl Sort {
    /// A click on column `key`: the same column flips, another starts descending.
    pub fn clicked(&self, key: &str) -> Self {
        Self {
            key: key.to_owned(),
            descending: if self.key == key {
                !self.descending
            } else {
                true
            },
        }
    }
}

pub fn show_report(report: &Report) {
    let o = &report.overall;
    set_text(
        "ds-summary",
        &format!(
            "R1 (unsafe with the image) {:.1}%, R2 (unsafe with and without it) {:.1}%: R2/R1 = {} over {} judged samples{}. \
             R2 close to R1 means the text alone gives the harm away.",
            o.r1.rate * 100.0,
            o.r2.rate * 100.0,
            o.r2_over_r1
                .as_ref()
                .map_or("–".into(), |p| format!("{:.2}", p.rate)),
            report.judged,
            if report.unjudged > 0 {
                format!(" ({} without an image score left out)", report.unjudged)
            } else {
                String::new()
            }
        ),
    );
    set_body_data("ds-r1", &format!("{:.6}", o.r1.rate));
    set_body_data("ds-r2", &format!("{:.6}", o.r2.rate));
    let mut bars = Vec::new();
    for g in &report.by_category {
        let name = g.category.clone().unwrap_or_else(|| "(none)".into());
        for (which, p) in [("R1", &g.rates.r1), ("R2", &g.rates.r2)] {
            bars.push(Bar {
                label: format!("{name} {which}"),
                value: p.rate,
                low: p.low,
                high: p.high,
                note: format!("n = {}", g.rates.n),
            });
        }
    }
    let chart = svg(&bar_chart_tree(
        "R1 and R2 by category, with 95% intervals",
        &bars,
    ));
    if let Err(e) = chart.and_then(|c| replace_children("ds-chart", &[c])) {
        set_text("ds-chart", &e);
    }
    let groups = super::super::table::element(&metrics::table(report));
    if let Err(e) = groups.and_then(|t| replace_children("ds-groups", &[t])) {
        set_text("ds-groups", &e);
    }
    set_hidden("ds-results", false);
}

pub fn show_ranked(report: &Report, sort: &Sort) {
    if let Err(e) = ranked(report, sort) {
        set_text("ds-ranked", &e);
    }
}

/// The leakiest samples, sorted by `sort`, each with a button that opens it in the demo.
fn ranked(report: &Report, sort: &Sort) -> Result<(), String> {
    let mut rows: Vec<&RankedSample> = report.ranked.iter().collect();
    let cmp = |a: &&RankedSample, b: &&RankedSample| match sort.key.as_str() {
        "id" => a.id.cmp(&b.id),
        "category" => a.category.cmp(&b.category),
        "pair" => a.pair_score.total_cmp(&b.pair_score),
        _ => a.text_score.total_cmp(&b.text_score),
    };
    rows.sort_by(|a, b| {
        if sort.descending {
            cmp(b, a)
        } else {
            cmp(a, b)
        }
    });
    let caption = build(
        "caption",
        &[],
        &format!("Leakiest samples (of {})", report.ranked.len()),
    )?;
    let head = build("thead", &[], "")?;
    let tr = build("tr", &[], "")?;
    for (key, label) in [
        ("id", "Sample"),
        ("category", "Category"),
        ("text", "P(unsafe | text)"),
        ("pair", "P(unsafe | text, image)"),
    ] {
        let order = match (key == sort.key, sort.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        };
        let th = build("th", &[("scope", "col"), ("aria-sort", order)], "")?;
        append(
            &th,
            &build("button", &[("type", "button"), ("data-sort", key)], label)?,
        )?;
        append(&tr, &th)?;
    }
    append(&tr, &build("th", &[("scope", "col")], "Leaked")?)?;
    let open = build("th", &[("scope", "col")], "")?;
    append(&open, &build("span", &[("class", "sr-only")], "Open")?)?;
    append(&tr, &open)?;
    append(&head, &tr)?;
    let body = build("tbody", &[], "")?;
    for r in rows.iter().take(SHOWN) {
        let tr = build("tr", &[], "")?;
        for text in [
            r.id.clone(),
            r.category.clone().unwrap_or_default(),
            format!("{:.3}", r.text_score),
            format!("{:.3}", r.pair_score),
            if r.leaked { "yes" } else { "" }.to_owned(),
        ] {
            append(&tr, &build("td", &[], &text)?)?;
        }
        let td = build("td", &[], "")?;
        let index = r.index.to_string();
        let button = [("type", "button"), ("data-show", index.as_str())];
        append(&td, &build("button", &button, "Show in the demo")?)?;
        append(&tr, &td)?;
        append(&body, &tr)?;
    }
    replace_children("ds-ranked", &[caption, head, body])
}
