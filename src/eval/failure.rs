//! Failures that no retry and no other row can fix: an exhausted quota, a refused key, a
//! parameter or a model the API does not take, an address that is not the API. The engine
//! stops the run at the first one ([`Halt`]) instead of sending every row for nothing, stores
//! nothing for it (it says nothing about the row), and the message says what to change.
//!
//! What the APIs answer (shapes: OpenAI `{"error":{"message","type","param","code"}}`,
//! Anthropic `{"type":"error","error":{"type","message"}}`):
//!
//! * quota: OpenAI 429 with type and code `insufficient_quota` ("You exceeded your current
//!   quota, please check your plan and billing details."): a 429 that waiting does not fix;
//!   Anthropic 400 "Your credit balance is too low to access the Anthropic API", or 402
//!   `billing_error`;
//! * key: 401 (OpenAI `invalid_api_key`, Anthropic `authentication_error`); 403 (Anthropic
//!   `permission_error`, OpenAI for a region or a project without the model);
//! * parameter: 400 with code `unsupported_parameter` / `unsupported_value` or a `param`
//!   naming a sampling field (see [`super::profiles`]), or Anthropic's "`temperature` is
//!   deprecated for this model";
//! * model: OpenAI 404 `model_not_found` ("The model `x` does not exist or you do not have
//!   access to it."), Anthropic 404 `not_found_error` "model: x", or a proxy's 400 that names
//!   the model;
//! * address: another 404 or 405 (a path that is not the API), a redirect (never followed),
//!   a URL that cannot be requested.

use serde::{Deserialize, Serialize};

use super::api::{ErrorKind, ProviderError};
use super::store::Stage;

/// Why a run stops at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// No credit or quota left on the account.
    Quota,
    /// The key was refused (401) or may not do this (403).
    Key,
    /// A request field the model does not take.
    Parameter,
    /// The server does not know the model.
    Model,
    /// The base URL is not the API (404, 405, a redirect, a URL that cannot be requested).
    Address,
    /// No answer at all (refused or dropped connections, timeouts, after every retry), before
    /// any request of this stage succeeded.
    Unreachable,
    /// The stage's first request failed for good: the others would most likely fail alike.
    FirstRequest,
}

/// The sampling fields a 400 may name.
const SAMPLING_FIELDS: [&str; 7] = [
    "max_completion_tokens",
    "max_tokens",
    "temperature",
    "top_p",
    "reasoning_effort",
    "response_format",
    "json_schema",
];

fn is(field: &Option<String>, values: &[&str]) -> bool {
    field.as_deref().is_some_and(|f| values.contains(&f))
}

/// The sampling field an error names, if any.
pub fn named_parameter(error: &ProviderError) -> Option<&'static str> {
    if let Some(p) = &error.param
        && let Some(f) = SAMPLING_FIELDS.iter().find(|f| p == *f || p.ends_with(*f))
    {
        return Some(f);
    }
    let message = error.message.to_ascii_lowercase();
    SAMPLING_FIELDS.into_iter().find(|f| {
        message
            .match_indices(f)
            .any(|(i, _)| !message[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    })
}

/// The cause, when `error` is one no retry and no other row can fix.
pub fn setup_cause(error: &ProviderError) -> Option<Cause> {
    if error.kind == ErrorKind::Request {
        return Some(Cause::Address);
    }
    let status = error.status?;
    let message = error.message.to_ascii_lowercase();
    let quota = is(&error.code, &["insufficient_quota"])
        || is(&error.error_type, &["insufficient_quota", "billing_error"])
        || status == 402
        || message.contains("credit balance is too low")
        || message.contains("exceeded your current quota");
    if quota {
        return Some(Cause::Quota);
    }
    let mentions_model = is(&error.param, &["model"])
        || is(&error.code, &["model_not_found"])
        || (message.contains("model")
            && [
                "not found",
                "does not exist",
                "unknown",
                "invalid model",
                "no such",
            ]
            .iter()
            .any(|w| message.contains(w)));
    match status {
        401 | 403 => Some(Cause::Key),
        300..=399 => Some(Cause::Address),
        404 if mentions_model || message.starts_with("model:") => Some(Cause::Model),
        404 | 405 => Some(Cause::Address),
        400 | 422 => {
            if is(&error.code, &["unsupported_parameter", "unsupported_value"])
                || named_parameter(error).is_some()
            {
                Some(Cause::Parameter)
            } else if mentions_model {
                Some(Cause::Model)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The value to try instead of the one a parameter error names.
fn suggestion(field: &str) -> &'static str {
    match field {
        "temperature" => "temperature=omit",
        "top_p" => "top_p=omit",
        "max_tokens" => "max_completion_tokens=4096",
        "max_completion_tokens" => "max_tokens=128",
        "reasoning_effort" => "reasoning_effort=omit",
        _ => "profile=official",
    }
}

/// A run stopped at once: where, why, and what to change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Halt {
    pub stage: Stage,
    pub row: u64,
    pub model: String,
    pub cause: Cause,
    pub error: ProviderError,
    /// What to change, naming the CLI flag and the form field.
    pub advice: String,
    /// Whether the error was stored as the row's result (only for [`Cause::FirstRequest`]:
    /// it may be about the row itself).
    pub stored: bool,
}

impl std::fmt::Display for Halt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stage = match self.stage {
            Stage::Target => "target",
            Stage::Judge => "judge",
        };
        let error = self.error.to_string();
        write!(
            f,
            "row {}, {stage} ({}): {}. {}",
            self.row,
            self.model,
            error.trim_end_matches('.'),
            self.advice
        )
    }
}

impl Halt {
    /// `endpoint`: the base URL the request went to.
    pub fn new(
        stage: Stage,
        row: u64,
        model: &str,
        endpoint: &str,
        cause: Cause,
        error: ProviderError,
    ) -> Self {
        let (role, form) = match stage {
            Stage::Target => ("target", "Model under test"),
            Stage::Judge => ("judge", "Judge"),
        };
        let advice = match cause {
            Cause::Quota => "The account behind this key has no credit or quota left: add \
                             credit (OpenAI: Settings → Billing; Anthropic: Plans & Billing) or \
                             use another key, then run the same command again."
                .to_owned(),
            Cause::Key if error.status == Some(403) => format!(
                "The key may not use this model or API: check its project, organisation or \
                 region, or use another key (--{role}-key-env; the form: {form} → API key)."
            ),
            Cause::Key => format!(
                "The API refused the key: check that it is this server's key \
                 (--{role}-key-env names the variable; the form: {form} → API key)."
            ),
            Cause::Parameter => match named_parameter(&error) {
                Some("response_format" | "json_schema") => format!(
                    "The model does not take the strict JSON schema: pass \
                     --{role}-no-json-schema (the form: untick “Ask for strict JSON”)."
                ),
                Some(field) => format!(
                    "The model does not take `{field}` as sent: change it with --{role}-param \
                     {} (the form: {form} → Parameters).",
                    suggestion(field)
                ),
                None => format!(
                    "The model does not take a parameter as sent: adjust it with \
                     --{role}-param (the form: {form} → Parameters)."
                ),
            },
            Cause::Model => format!(
                "The server at {endpoint} does not know the model `{model}`: check its name \
                 (--{role}-model; the form: {form} → Model)."
            ),
            Cause::Address => format!(
                "{endpoint} does not answer as the API: check the base URL (--{role}-base-url; \
                 the form: {form} → Base URL), e.g. https://api.openai.com/v1 or \
                 https://api.anthropic.com/v1."
            ),
            Cause::Unreachable => format!(
                "No answer from {endpoint}: check that the server runs, the host and port are \
                 right and nothing blocks the connection, then run the same command again."
            ),
            Cause::FirstRequest => "The first request failed, so no other was sent: fix the \
                                    setup and run the same command again. If only this row \
                                    is at fault, the next run continues past it (its error is \
                                    stored; --retry-errors, “Retry failed calls” in the page, \
                                    calls it again)."
                .to_owned(),
        };
        Self {
            stage,
            row,
            model: model.to_owned(),
            cause,
            error,
            advice,
            stored: cause == Cause::FirstRequest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(
        status: u16,
        code: Option<&str>,
        kind: Option<&str>,
        param: Option<&str>,
        m: &str,
    ) -> ProviderError {
        let mut e = ProviderError::http(status, &[], m);
        e.code = code.map(str::to_owned);
        e.error_type = kind.map(str::to_owned);
        e.param = param.map(str::to_owned);
        e
    }

    #[test]
    fn the_real_error_shapes_are_classified() {
        let cases = [
            (
                http(
                    429,
                    Some("insufficient_quota"),
                    Some("insufficient_quota"),
                    None,
                    "You exceeded your current quota, please check your plan and billing details.",
                ),
                Some(Cause::Quota),
            ),
            (
                http(
                    400,
                    None,
                    Some("invalid_request_error"),
                    None,
                    "Your credit balance is too low to access the Anthropic API.",
                ),
                Some(Cause::Quota),
            ),
            (
                http(
                    401,
                    Some("invalid_api_key"),
                    Some("invalid_request_error"),
                    None,
                    "Incorrect API key provided: sk-wr***.",
                ),
                Some(Cause::Key),
            ),
            (
                http(
                    401,
                    None,
                    Some("authentication_error"),
                    None,
                    "invalid x-api-key",
                ),
                Some(Cause::Key),
            ),
            (
                http(
                    400,
                    Some("unsupported_parameter"),
                    Some("invalid_request_error"),
                    Some("max_tokens"),
                    "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                ),
                Some(Cause::Parameter),
            ),
            (
                http(
                    400,
                    None,
                    Some("invalid_request_error"),
                    None,
                    "`temperature` is deprecated for this model.",
                ),
                Some(Cause::Parameter),
            ),
            (
                http(
                    404,
                    Some("model_not_found"),
                    Some("invalid_request_error"),
                    None,
                    "The model `gpt-9` does not exist or you do not have access to it.",
                ),
                Some(Cause::Model),
            ),
            (
                http(404, None, Some("not_found_error"), None, "model: claude-9"),
                Some(Cause::Model),
            ),
            (
                http(
                    400,
                    None,
                    None,
                    None,
                    "Invalid model name passed in model=gpt-9",
                ),
                Some(Cause::Model),
            ),
            (
                http(404, None, Some("not_found_error"), None, "Not Found"),
                Some(Cause::Address),
            ),
            (
                http(301, None, None, None, "redirect"),
                Some(Cause::Address),
            ),
            (
                ProviderError::new(ErrorKind::Request, "invalid uri"),
                Some(Cause::Address),
            ),
            // About the row: stored, the run goes on.
            (
                http(
                    400,
                    Some("invalid_image"),
                    Some("invalid_request_error"),
                    None,
                    "You uploaded an unsupported image.",
                ),
                None,
            ),
            (
                http(
                    429,
                    None,
                    Some("rate_limit_error"),
                    None,
                    "Rate limit reached",
                ),
                None,
            ),
            (http(500, None, None, None, "oops"), None),
            (ProviderError::new(ErrorKind::Network, "refused"), None),
        ];
        for (error, cause) in cases {
            assert_eq!(setup_cause(&error), cause, "{error}");
        }
    }

    #[test]
    fn advice_names_the_flag_and_the_form_field() {
        let e = http(
            400,
            Some("unsupported_value"),
            None,
            Some("temperature"),
            "Unsupported value: 'temperature' does not support 0.0 with this model.",
        );
        let h = Halt::new(
            Stage::Judge,
            7,
            "o3",
            "https://api.openai.com/v1",
            Cause::Parameter,
            e,
        );
        assert!(
            h.advice.contains("--judge-param temperature=omit"),
            "{}",
            h.advice
        );
        assert!(h.advice.contains("Judge → Parameters"));
        assert!(!h.stored);
        let text = h.to_string();
        assert!(
            text.starts_with("row 7, judge (o3): Http 400: Unsupported value"),
            "{text}"
        );
        let e = http(
            400,
            None,
            None,
            Some("max_tokens"),
            "Unsupported parameter: 'max_tokens'",
        );
        let h = Halt::new(Stage::Target, 0, "o1", "u", Cause::Parameter, e);
        assert!(
            h.advice
                .contains("--target-param max_completion_tokens=4096")
        );
    }
}
