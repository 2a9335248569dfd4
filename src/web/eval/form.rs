//! The evaluation form: its fields as the core's [`EvalSettings`], the judge's instructions it
//! names (the project's rubric, a file, or the official text fetched and hash-checked), and the
//! fields kept between visits (never the keys).

use std::collections::BTreeMap;

use crate::eval::settings::{EvalSettings, TemplateChoice};
use crate::eval::{JudgeTemplate, ProviderError};
use crate::platform::http::{HttpClient, HttpRequest};
use crate::web::dom::{set_value, typed, value};
use crate::web::fetch::Fetch;
use crate::web::files::{input_files, read_blob};
use crate::web::idb::Database;

use super::view::message;

/// Form fields saved between visits (never the keys).
const SAVED_FIELDS: &[&str] = &[
    "target-api",
    "target-base",
    "target-model",
    "target-price-in",
    "target-price-out",
    "judge-enabled",
    "judge-api",
    "judge-base",
    "judge-model",
    "judge-schema",
    "judge-price-in",
    "judge-price-out",
    "target-params",
    "judge-params",
    "template",
    "concurrency",
    "timeout",
    "cap",
    "max-rows",
    "mode",
];
/// The IndexedDB entry the saved fields live under.
const SETTINGS_ENTRY: &str = "eval-settings";
/// The official judge template's source file is a few kB.
const TEMPLATE_LIMIT: usize = 10 << 20;

pub fn settings() -> Result<EvalSettings, String> {
    EvalSettings::from_form(value)
}

pub async fn judge_template(settings: &EvalSettings) -> Result<JudgeTemplate, String> {
    match settings.template {
        TemplateChoice::Default => Ok(JudgeTemplate::default()),
        TemplateChoice::File => {
            let input: web_sys::HtmlInputElement =
                typed("template-file").ok_or("no template file field")?;
            let file = input_files(&input)
                .into_iter()
                .next()
                .ok_or("Choose the judge template file, or another template.")?;
            let bytes = read_blob(&file).await?;
            let text = String::from_utf8(bytes).map_err(|_| "the template is not UTF-8 text")?;
            JudgeTemplate::custom(&text).map_err(|e| format!("Judge template: {e}"))
        }
        TemplateChoice::Official => {
            let url = crate::eval::official::source_url();
            let response = Fetch::default()
                .send(HttpRequest::get(url.clone()), TEMPLATE_LIMIT)
                .await
                .map_err(|e| {
                    let e = ProviderError::no_answer(e, &url);
                    format!("Could not fetch the official template: {e}")
                })?;
            if response.status != 200 {
                return Err(format!(
                    "Could not fetch the official template from {url}: HTTP {}",
                    response.status
                ));
            }
            let source = String::from_utf8_lossy(&response.body);
            crate::eval::official::template_from_source(&source)
                .map_err(|e| format!("Official template: {e}"))
        }
    }
}

/// Puts back the fields saved by an earlier visit.
pub async fn restore(db: &Database) {
    if let Ok(Some(saved)) = db.get(SETTINGS_ENTRY).await
        && let Ok(fields) = serde_json::from_str::<BTreeMap<String, String>>(&saved)
    {
        for (name, text) in fields {
            if SAVED_FIELDS.contains(&name.as_str()) {
                set_value(&name, &text);
            }
        }
    }
}

/// Keeps the form (never the keys) for the next visit; says so when it cannot.
pub async fn save_settings(db: &Database) {
    let fields: BTreeMap<&str, String> = SAVED_FIELDS.iter().map(|id| (*id, value(id))).collect();
    put_json(
        db,
        SETTINGS_ENTRY,
        &fields,
        "the settings are not kept for the next visit",
    )
    .await;
}

/// Stores `value` as JSON under `key`; a failure is shown with what it costs the person.
pub async fn put_json(db: &Database, key: &str, value: &impl serde::Serialize, cost: &str) {
    let saved = match serde_json::to_string(value) {
        Ok(text) => db.put(key, &text).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = saved {
        message(&format!("{e}: {cost}"));
    }
}
