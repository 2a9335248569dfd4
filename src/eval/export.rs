//! Exports: one JSON object per row (JSONL), the same columns as CSV, and the official script's
//! output shape (`stats` + `logs`).

use serde::Serialize;
use serde_json::{Value, json};

use super::protocol::JudgeTemplate;
use super::report::Rates;
use super::results::{Judged, RowResult};
use super::verdict::JudgeOutcome;
use crate::util::csv::push_csv_row;

/// One exported row.
#[derive(Serialize)]
pub struct ExportRow<'a> {
    pub id: u64,
    pub category: &'a str,
    pub sub_category: &'a str,
    pub instruction: &'a str,
    pub image_path: &'a str,
    pub answer: Option<&'a str>,
    pub target_refusal: Option<&'a str>,
    pub finish_reason: Option<&'a str>,
    /// The model snapshot that answered, as the API named it.
    pub target_snapshot: Option<&'a str>,
    pub target_fingerprint: Option<&'a str>,
    pub target_error: Option<String>,
    pub label: Option<u8>,
    pub label_str: Option<&'a str>,
    pub explanation: Option<&'a str>,
    /// `label`, `refusal`, `content_filter`, `unparsable`, `error`, or none when not judged.
    pub judge_outcome: Option<&'static str>,
    pub judge_detail: Option<String>,
    pub second_label: Option<u8>,
}

fn outcome_kind(j: &Judged) -> &'static str {
    match j {
        Judged::Verdict(v) => v.failure_kind().unwrap_or("label"),
        Judged::Error(_) => "error",
    }
}

impl<'a> ExportRow<'a> {
    pub fn new(r: &'a RowResult) -> Self {
        let (label, label_str, explanation) = match r.verdict() {
            Some(JudgeOutcome::Label {
                label,
                label_str,
                explanation,
                ..
            }) => (
                Some(label.number()),
                Some(label_str.as_str()),
                Some(explanation.as_str()),
            ),
            _ => (None, None, None),
        };
        let judge_detail = match &r.judged {
            Some(Judged::Verdict(JudgeOutcome::Refusal { message })) => Some(message.clone()),
            Some(Judged::Verdict(JudgeOutcome::Unparsable { raw, cut_off })) => Some(if *cut_off {
                format!("cut off by the token limit: {raw}")
            } else {
                raw.clone()
            }),
            Some(Judged::Error(e)) => Some(e.to_string()),
            _ => None,
        };
        Self {
            id: r.row.id,
            category: &r.row.category,
            sub_category: &r.row.sub_category,
            instruction: &r.row.instruction,
            image_path: &r.row.image_path,
            answer: r.answer.as_ref().and_then(|a| a.text.as_deref()),
            target_refusal: r.answer.as_ref().and_then(|a| a.refusal.as_deref()),
            finish_reason: r.answer.as_ref().and_then(|a| a.finish_reason.as_deref()),
            target_snapshot: r.answer.as_ref().and_then(|a| a.model.as_deref()),
            target_fingerprint: r
                .answer
                .as_ref()
                .and_then(|a| a.system_fingerprint.as_deref()),
            target_error: r.target_error.as_ref().map(ToString::to_string),
            label,
            label_str,
            explanation,
            judge_outcome: r.judged.as_ref().map(outcome_kind),
            judge_detail,
            second_label: r
                .second_verdict()
                .and_then(JudgeOutcome::label)
                .map(|l| l.number()),
        }
    }
}

/// One JSON object per line, in row order.
pub fn jsonl(results: &[RowResult]) -> String {
    let mut out = String::new();
    for r in results {
        out.push_str(&serde_json::to_string(&ExportRow::new(r)).expect("plain data serialises"));
        out.push('\n');
    }
    out
}

/// The same columns as CSV, written by the project's RFC 4180 writer.
pub fn csv(results: &[RowResult]) -> String {
    const COLUMNS: [&str; 17] = [
        "id",
        "category",
        "sub_category",
        "instruction",
        "image_path",
        "answer",
        "target_refusal",
        "finish_reason",
        "target_snapshot",
        "target_fingerprint",
        "target_error",
        "label",
        "label_str",
        "explanation",
        "judge_outcome",
        "judge_detail",
        "second_label",
    ];
    let mut out = String::new();
    push_csv_row(&mut out, &COLUMNS);
    for r in results {
        let v = serde_json::to_value(ExportRow::new(r)).expect("plain data serialises");
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|c| match &v[*c] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        push_csv_row(&mut out, &cells);
    }
    out
}

/// A rate as the official script prints it: a percentage rounded to 2 decimals, half to even
/// (numpy's `round`).
pub fn percent_2dp(rate: f64) -> f64 {
    (rate * 100.0 * 100.0).round_ties_even() / 100.0
}

/// Which judge instructions produced the labels, as exports name them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TemplateInfo {
    /// `official`, `leakscope-rubric` or `custom`.
    pub name: &'static str,
    pub sha256: String,
    /// Whether the labels are comparable with the official script's.
    pub official: bool,
}

impl TemplateInfo {
    pub fn of(template: &JudgeTemplate) -> Self {
        let name = if template.is_official() {
            "official"
        } else if template.text() == JudgeTemplate::default().text() {
            "leakscope-rubric"
        } else {
            "custom"
        };
        Self {
            name,
            sha256: template.sha256(),
            official: name == "official",
        }
    }

    /// The official output's file name for this template: `official.json` only for the
    /// official template, `official-format.json` (the same shape, marked) otherwise.
    pub fn file_name(&self) -> &'static str {
        if self.official {
            "official.json"
        } else {
            "official-format.json"
        }
    }
}

/// The official output: `{"stats": {"safe_rate", "safe_refuse_rate", "safe_warning_rate"},
/// "logs": [{"id", "question", "image_path", "pred_answer", "safe_label", "label_str"}]}`,
/// plus `judge_template` (name, SHA-256, whether it is the official one) and, for any other
/// template, a `note` that the labels are not comparable with published figures. Only
/// labelled rows appear in `logs` (the official script has no other kind), and the stats are
/// over those rows; `id` is the row's `instruction_id` and `pred_answer` the stripped answer.
/// `None` when no row is labelled: rates of nothing are not written.
pub fn official_json(
    results: &[RowResult],
    overall: &Rates,
    template: &TemplateInfo,
) -> Option<Value> {
    if overall.n == 0 {
        return None;
    }
    let logs: Vec<Value> = results
        .iter()
        .filter_map(|r| {
            let JudgeOutcome::Label {
                label, label_str, ..
            } = r.verdict()?
            else {
                return None;
            };
            let answer = r.answer.as_ref().map_or("", |a| a.answer_text()).trim();
            Some(json!({
                "id": r.row.id,
                "question": r.row.instruction,
                "image_path": r.row.image_path,
                "pred_answer": answer,
                "safe_label": label.number(),
                "label_str": label_str,
            }))
        })
        .collect();
    let mut out = json!({
        "stats": {
            "safe_rate": percent_2dp(overall.safe.rate),
            "safe_refuse_rate": percent_2dp(overall.refuse.rate),
            "safe_warning_rate": percent_2dp(overall.warning.rate),
        },
        "logs": logs,
        "judge_template": template,
    });
    if !template.official {
        out["note"] = json!(
            "Labelled with judge instructions other than the official PROMPT_TEMPLATE: the same \
             shape as the official output, not comparable with published figures."
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_like_numpy() {
        assert_eq!(percent_2dp(0.2143), 21.43);
        assert_eq!(percent_2dp(1.0 / 3.0), 33.33);
        assert_eq!(percent_2dp(0.0), 0.0);
    }
}
