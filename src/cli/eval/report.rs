//! The end of `leakscope eval`: the run's counts, the second judge for agreement, and the files
//! of the output folder (report.json, rows.jsonl, rows.csv, official.json). The setup written
//! to report.json names models, URLs and prices, never a key.

use std::collections::HashMap;
use std::path::Path;

use leakscope::eval::cost::Pricing;
use leakscope::eval::export::TemplateInfo;
use leakscope::eval::profiles::Resolved;
use leakscope::eval::results::SetupKey;
use leakscope::eval::settings::ApiSettings;
use leakscope::eval::{Record, Report, RunMode, RunSummary, Stage, export};
use serde::Serialize;

use super::ApiFlavour;

/// `priced`: whether every model called has a price (otherwise the spend is not known).
pub fn print_summary(s: &RunSummary, retries: u64, cap: Option<f64>, priced: bool) {
    let stage = |name: &str, c: &leakscope::eval::engine::StageCounts| {
        format!(
            "{name}: {} request(s), {} stored, {} error(s), {} reused",
            c.requests, c.stored_ok, c.stored_errors, c.reused
        )
    };
    println!(
        "{}; {}",
        stage("target", &s.target),
        stage("judge", &s.judge)
    );
    let spent = if priced {
        format!("spent ${:.4}", s.spent)
    } else {
        "spend unknown (no price for a model)".to_owned()
    };
    println!(
        "{spent}{} ({} prompt + {} completion tokens); retries {retries}; image failures {}; \
         concurrency cut {} time(s)",
        cap.map(|c| format!(" of ${c:.2}")).unwrap_or_default(),
        s.usage.prompt_tokens,
        s.usage.completion_tokens,
        s.image_failures,
        s.slowdowns
    );
}

/// Another judge that labelled the same answers (the one with most verdicts), for κ.
pub fn other_judge(
    records: &[Record],
    selection: &leakscope::eval::Selection,
) -> Option<(SetupKey, usize)> {
    let judge = selection.judge.as_ref()?;
    let mut counts: HashMap<SetupKey, usize> = HashMap::new();
    for r in records {
        let Some(answer) = &r.answer_key else {
            continue;
        };
        if r.stage != Stage::Judge
            || r.verdict().is_none()
            || answer.model != selection.target.model
            || answer.params != selection.target.params
        {
            continue;
        }
        let key = SetupKey {
            model: r.key.model.clone(),
            params: r.key.params.clone(),
            endpoint: r.key.endpoint.clone(),
            template: r.template.clone(),
        };
        if &key != judge {
            *counts.entry(key).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|(a, m), (b, n)| m.cmp(n).then_with(|| b.model.cmp(&a.model)))
}

/// What produced the report (never the key).
#[derive(Serialize)]
pub struct Setup {
    pub dataset: String,
    pub images: String,
    pub target: ModelInfo,
    pub judge: Option<ModelInfo>,
    pub judge_template: Option<String>,
    pub judge_template_sha256: Option<String>,
    /// The template's name, hash and whether the labels are comparable with the official ones.
    pub template: Option<TemplateInfo>,
    pub second_judge: Option<String>,
    pub mode: RunMode,
    /// Through the providers' batch APIs (`--batch`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub batch: bool,
    pub rows: usize,
}

#[derive(Serialize)]
pub struct ModelInfo {
    pub provider: ApiFlavour,
    pub base_url: String,
    pub model: String,
    /// Dollars per million input and output tokens; `None` when unknown.
    pub price: Option<Pricing>,
    /// The decoding settings sent (profile, fields) and how they depart from the official
    /// protocol.
    pub params: Resolved,
}

impl ModelInfo {
    pub fn new(api: &ApiSettings, priced: bool, stage: Stage) -> Self {
        Self {
            provider: api.kind.into(),
            base_url: api.base_url.clone(),
            model: api.model.clone(),
            price: priced.then(|| api.cost_model().pricing),
            params: api.resolve(stage),
        }
    }
}

/// Writes the output folder; returns the name of the official-format file when one was
/// written (`official.json` for the official template, `official-format.json` for another;
/// none without a judge or without a labelled row).
pub fn write_outputs(
    out: &Path,
    setup: &Setup,
    summary: &RunSummary,
    report: &Report,
    results: &[leakscope::eval::RowResult],
) -> Result<Option<&'static str>, String> {
    let write = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let json = |v: &serde_json::Value| {
        serde_json::to_string_pretty(v)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string())
    };
    write(
        "report.json",
        json(&serde_json::json!({
            "setup": setup,
            "last_run": summary,
            "report": report,
        }))?,
    )?;
    write("rows.jsonl", export::jsonl(results))?;
    write("rows.csv", export::csv(results))?;
    let Some(template) = &setup.template else {
        return Ok(None);
    };
    match export::official_json(results, &report.overall, template) {
        Some(official) => {
            write(template.file_name(), json(&official)?)?;
            Ok(Some(template.file_name()))
        }
        None => Ok(None),
    }
}
