//! Dataset mode's report on the page: the summary in words, R1 / R2 per category as a chart and
//! a table, and the sortable table of the leakiest samples.

use crate::chart::{Bar, bar_chart};
use crate::leakage::metrics::{RankedSample, Report};
use crate::util::html::escape;
use crate::web::dom::{set_body_data, set_hidden, set_html, set_text};

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
    set_html(
        "ds-chart",
        &bar_chart("R1 and R2 by category, with 95% intervals", &bars),
    );
    let mut html = String::from(
        "<table class=\"rates\"><caption>By category</caption><thead><tr><th scope=\"col\">Category</th>\
         <th scope=\"col\">Judged</th><th scope=\"col\">R1</th><th scope=\"col\">R2</th><th scope=\"col\">R2/R1</th></tr></thead><tbody>",
    );
    for g in &report.by_category {
        html.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{:.1}%</td><td>{:.1}%</td><td>{}</td></tr>",
            escape(g.category.as_deref().unwrap_or("(none)")),
            g.rates.n,
            g.rates.r1.rate * 100.0,
            g.rates.r2.rate * 100.0,
            g.rates.r2_over_r1.as_ref().map_or("–".into(), |p| format!("{:.2}", p.rate))
        ));
    }
    html.push_str("</tbody></table>");
    set_html("ds-groups", &html);
    set_hidden("ds-results", false);
}

pub fn show_ranked(report: &Report, sort: &Sort) {
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
    let header = |k: &str, label: &str| {
        let order = match (k == sort.key, sort.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        };
        format!(
            "<th scope=\"col\" aria-sort=\"{order}\"><button type=\"button\" data-sort=\"{k}\">{label}</button></th>"
        )
    };
    let mut html = format!(
        "<caption>Leakiest samples (of {})</caption><thead><tr>{}{}{}{}<th scope=\"col\">Leaked</th><th scope=\"col\"><span class=\"sr-only\">Open</span></th></tr></thead><tbody>",
        report.ranked.len(),
        header("id", "Sample"),
        header("category", "Category"),
        header("text", "P(unsafe | text)"),
        header("pair", "P(unsafe | text, image)")
    );
    for r in rows.iter().take(SHOWN) {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td>\
             <td><button type=\"button\" data-show=\"{}\">Show in the demo</button></td></tr>",
            escape(&r.id),
            escape(r.category.as_deref().unwrap_or("")),
            r.text_score,
            r.pair_score,
            if r.leaked { "yes" } else { "" },
            r.index
        ));
    }
    html.push_str("</tbody>");
    set_html("ds-ranked", &html);
}
