//! An evaluation's settings as plain values — what `leakscope eval`'s flags and the page's form
//! both become ([`EvalSettings`]; the form is parsed here by [`EvalSettings::from_form`], the
//! flags in the CLI), checked with messages that say what to fix, and turned into what the
//! planner ([`super::plan`]) and the engine take. Kept in the core so the rules are tested
//! natively; the page only reads the fields and shows the messages.
//!
//! Keys are never part of these settings: the CLI reads them from the environment and the page
//! from its password fields, at the last moment ([`ApiSettings::config`]), so settings can be
//! saved and shown without a secret.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::api::{ApiConfig, ApiKind};
use super::cost::{CostModel, ImageTokens, Pricing};
use super::dataset::Row;
use super::engine::{EngineSettings, RunMode};
use super::profiles::{ParamOverrides, Resolved, resolve};
use super::retry::RetryPolicy;
use super::store::Stage;
use crate::util::url::origin;

/// One API as the form describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiSettings {
    pub kind: ApiKind,
    /// Without a trailing slash, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    /// OpenAI-compatible servers: send a strict `json_schema` response format (judge only).
    pub json_schema: bool,
    /// US dollars per million tokens; `None` when left empty and the model has no preset.
    pub price_input: Option<f64>,
    pub price_output: Option<f64>,
    /// Changes to the model's parameter profile (`--target-param`, the form's Parameters).
    #[serde(default)]
    pub params: ParamOverrides,
}

impl ApiSettings {
    /// The endpoint with the user's key. `browser` adds what direct calls from a page need.
    pub fn config(&self, api_key: &str, browser: bool) -> ApiConfig {
        match self.kind {
            ApiKind::OpenAiChat => {
                ApiConfig::openai_compatible(&self.base_url, &self.model, api_key, self.json_schema)
            }
            ApiKind::AnthropicMessages => {
                let mut c = ApiConfig::anthropic(&self.model, api_key, browser);
                c.base_url = self.base_url.clone();
                c
            }
        }
    }

    /// The decoding settings this model gets for `stage`: the official ones, then its
    /// profile, then the overrides ([`super::profiles`]).
    pub fn resolve(&self, stage: Stage) -> Resolved {
        resolve(self.kind, &self.model, stage, &self.params)
    }

    /// Whether a price is known: given (both figures), or the model's preset.
    pub fn priced(&self) -> bool {
        (self.price_input.is_some() && self.price_output.is_some())
            || CostModel::preset(&self.model).is_some()
    }

    /// Prices given, else the model's preset, else zero (then [`Self::priced`] is false and
    /// the estimate says the cost is unknown).
    pub fn cost_model(&self) -> CostModel {
        let preset = CostModel::preset(&self.model);
        let image = preset.as_ref().map(|p| p.image).unwrap_or(match self.kind {
            ApiKind::AnthropicMessages => ImageTokens::Anthropic,
            ApiKind::OpenAiChat => ImageTokens::OpenAiTiles {
                base: 85,
                per_tile: 170,
            },
        });
        let pricing = match (self.price_input, self.price_output, &preset) {
            (Some(i), Some(o), _) => Pricing::per_million(i, o),
            (None, None, Some(p)) => p.pricing,
            (i, o, p) => {
                let fallback = p.as_ref().map(|p| p.pricing);
                Pricing::per_million(
                    i.or(fallback.map(|f| f.input_per_million)).unwrap_or(0.0),
                    o.or(fallback.map(|f| f.output_per_million)).unwrap_or(0.0),
                )
            }
        };
        CostModel { pricing, image }
    }

    /// `scheme://host[:port]` of the base URL, for the page's connect-src.
    pub fn origin(&self) -> Option<String> {
        origin(&self.base_url)
    }
}

/// Where the judge's instructions come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateChoice {
    /// The project's own rubric.
    #[default]
    Default,
    /// The official text, fetched from the official repository and checked by hash.
    Official,
    /// A file the user supplies.
    File,
}

/// Everything a run needs besides the keys, the dataset and the template's text: what the
/// CLI's flags and the page's form both produce.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalSettings {
    pub target: ApiSettings,
    /// `None`: answers only, no labels.
    pub judge: Option<ApiSettings>,
    pub template: TemplateChoice,
    pub concurrency: usize,
    pub timeout: Duration,
    /// Retries per request after a rate limit, a 5xx, a timeout or a dropped connection.
    pub retries: u32,
    pub cost_cap: Option<f64>,
    /// Only these instruction ids (`None`: all).
    pub rows: Option<RowSet>,
    /// Then only the first this many rows.
    pub max_rows: Option<usize>,
    pub mode: RunMode,
    /// Through the providers' batch APIs (the CLI's `--batch`; the page runs live): half the
    /// price, so the estimate and the cap count half ([`super::batch::DISCOUNT`]).
    #[serde(default)]
    pub batch: bool,
}

/// Instruction ids as inclusive ranges (`0-99,150,200-210`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowSet(Vec<(u64, u64)>);

impl RowSet {
    pub fn contains(&self, id: u64) -> bool {
        self.0.iter().any(|&(a, b)| (a..=b).contains(&id))
    }

    /// Ids named here but absent from `present` (single ids and small ranges only).
    pub fn ids_outside(&self, present: &std::collections::HashSet<u64>) -> Vec<u64> {
        self.0
            .iter()
            .flat_map(|&(a, b)| a..=b.min(a.saturating_add(100_000)))
            .filter(|id| !present.contains(id))
            .collect()
    }
}

impl std::str::FromStr for RowSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}`: expected ids and ranges like 0-99,150,200-210");
        let mut ranges = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (a.trim(), b.trim()),
                None => (part, part),
            };
            let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            if a > b {
                return Err(bad());
            }
            ranges.push((a, b));
        }
        if ranges.is_empty() {
            return Err(bad());
        }
        Ok(RowSet(ranges))
    }
}

/// Upper bound of the concurrency field: more buys nothing from one browser (HTTP/1.1 allows
/// six connections per server) and risks a provider's abuse limits.
pub const MAX_CONCURRENCY: usize = 256;

impl EvalSettings {
    /// Reads the form through `field(name)` (the text of each control; checkboxes "true" or
    /// ""). Field names: `{target,judge}-{api,base,model,price-in,price-out,params}`, `judge-schema`,
    /// `judge-enabled`, `template`, `concurrency`, `timeout`, `cap`, `max-rows`, `mode`.
    pub fn from_form(field: impl Fn(&str) -> String) -> Result<Self, String> {
        let api = |who: &str, label: &str| -> Result<ApiSettings, String> {
            let kind = match field(&format!("{who}-api")).as_str() {
                "anthropic" => ApiKind::AnthropicMessages,
                _ => ApiKind::OpenAiChat,
            };
            let base_url = normalise_base_url(kind, &field(&format!("{who}-base")))
                .map_err(|e| format!("{label}: {e}"))?;
            let model = field(&format!("{who}-model")).trim().to_string();
            if model.is_empty() {
                return Err(format!("{label}: name the model (e.g. gpt-4o-mini)"));
            }
            let price = |name: &str| -> Result<Option<f64>, String> {
                optional_number(&field(&format!("{who}-{name}")))
                    .map_err(|e| format!("{label}: price {e}"))
            };
            Ok(ApiSettings {
                kind,
                base_url,
                model,
                json_schema: kind == ApiKind::OpenAiChat
                    && is_checked(&field(&format!("{who}-schema"))),
                price_input: price("price-in")?,
                price_output: price("price-out")?,
                params: ParamOverrides::parse(&field(&format!("{who}-params")))
                    .map_err(|e| format!("{label}: parameters: {e}"))?,
            })
        };
        let target = api("target", "Model under test")?;
        let judge = if is_checked(&field("judge-enabled")) {
            Some(api("judge", "Judge")?)
        } else {
            None
        };
        let concurrency = match optional_number(&field("concurrency")) {
            Ok(None) => 8,
            Ok(Some(n)) if n >= 1.0 && n <= MAX_CONCURRENCY as f64 && n.fract() == 0.0 => {
                n as usize
            }
            _ => {
                return Err(format!(
                    "Concurrency: a whole number from 1 to {MAX_CONCURRENCY}"
                ));
            }
        };
        let timeout = match optional_number(&field("timeout")) {
            Ok(None) => Duration::from_secs(120),
            Ok(Some(s)) if (1.0..=3600.0).contains(&s) => Duration::from_secs_f64(s),
            _ => return Err("Timeout: seconds from 1 to 3600".into()),
        };
        let cost_cap = optional_number(&field("cap")).map_err(|e| format!("Spending cap: {e}"))?;
        let max_rows = match optional_number(&field("max-rows")) {
            Ok(None) => None,
            Ok(Some(n)) if n >= 1.0 && n.fract() == 0.0 => Some(n as usize),
            _ => return Err("Rows: a whole number of at least 1, or empty for all".into()),
        };
        let mode = match field("mode").as_str() {
            "retry_errors" => RunMode::RetryErrors,
            "judge_only" => RunMode::JudgeOnly,
            _ => RunMode::Resume,
        };
        if mode == RunMode::JudgeOnly && judge.is_none() {
            return Err("Judge again needs a judge: tick “Label the answers with a judge”".into());
        }
        let template = match field("template").as_str() {
            "official" => TemplateChoice::Official,
            "file" => TemplateChoice::File,
            _ => TemplateChoice::Default,
        };
        Ok(Self {
            target,
            judge,
            template,
            concurrency,
            timeout,
            retries: RetryPolicy::default().max_attempts - 1,
            cost_cap,
            rows: None,
            max_rows,
            mode,
            batch: false,
        })
    }

    /// What `api`'s model costs in this run: its prices ([`ApiSettings::cost_model`]), at the
    /// batch price in a batch run.
    pub fn cost_model(&self, api: &ApiSettings) -> CostModel {
        let cost = api.cost_model();
        if self.batch {
            cost.scaled(super::batch::DISCOUNT)
        } else {
            cost
        }
    }

    pub fn engine_settings(&self) -> EngineSettings {
        EngineSettings {
            concurrency: self.concurrency,
            request_timeout: self.timeout,
            mode: self.mode,
            cost_cap: self.cost_cap,
            retry: RetryPolicy {
                max_attempts: self.retries.saturating_add(1),
                ..RetryPolicy::default()
            },
            ..EngineSettings::default()
        }
    }

    /// The rows this run covers: those `rows` names, then the first `max_rows` of them.
    pub fn select(&self, all: &[Row]) -> Vec<Row> {
        all.iter()
            .filter(|r| self.rows.as_ref().is_none_or(|set| set.contains(r.id)))
            .take(self.max_rows.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    /// How the models' decoding settings depart from the official protocol, one sentence
    /// each, named by role ("Model under test: …", "Judge: …"); the estimate and the report
    /// say them.
    pub fn departures(&self) -> Vec<String> {
        let target = self.target.resolve(Stage::Target).departures;
        let judge = self
            .judge
            .as_ref()
            .map(|j| j.resolve(Stage::Judge).departures);
        let name = |who: &str, lines: Vec<String>| {
            lines
                .into_iter()
                .map(move |d| format!("{who}: {d}."))
                .collect::<Vec<_>>()
        };
        let mut out = name("Model under test", target);
        out.extend(name("Judge", judge.unwrap_or_default()));
        out
    }

    /// Whether the run calls the model under test at all (not when judging stored answers).
    pub fn calls_target(&self) -> bool {
        self.mode != RunMode::JudgeOnly
    }

    /// The origins the run talks to (target and judge), deduplicated, for the page's
    /// Content-Security-Policy.
    pub fn origins(&self) -> Vec<String> {
        let mut out: Vec<String> = [Some(&self.target), self.judge.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(ApiSettings::origin)
            .collect();
        out.dedup();
        out
    }
}

/// The base URL of an API as the clients need it, or why it cannot be one.
///
/// Empty: the provider's. Accepted: `http(s)://host[:port][/path]`, lower-cased scheme and
/// host, no trailing slash. A full endpoint (`…/chat/completions`, `…/messages`) is cut back to
/// its base, and a bare host gets `/v1` (the Anthropic SDK's form `https://api.anthropic.com`
/// and OpenAI-compatible servers like vLLM or Ollama, which serve under `/v1`). Refused, with
/// what to write instead: no scheme, another scheme, no host, a malformed host or port,
/// credentials, a query or a fragment.
pub fn normalise_base_url(kind: ApiKind, text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(default_base_url(kind).to_owned());
    }
    let bad = |why: &str| Err(format!("base URL `{t}`: {why}"));
    let Some((scheme, rest)) = t.split_once("://") else {
        return bad(&format!(
            "no scheme: write https://{t} (or http:// for a server on this machine)"
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return bad("the base URL must start with https:// or http://");
    }
    if t.contains(char::is_whitespace) || rest.contains(['?', '#', '\\']) {
        return bad("spaces, a query (?) or a fragment (#) have no place in a base URL");
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return bad("no user:password@ in the URL: the key goes in its own variable or field");
    }
    let v6 = "an IPv6 host is written [address], with both brackets";
    let (host_ok, port) = match authority.strip_prefix('[') {
        Some(inner) => {
            let Some((address, after)) = inner.split_once(']') else {
                return bad(v6);
            };
            let port = match after {
                "" => None,
                p => match p.strip_prefix(':') {
                    Some(p) => Some(p),
                    None => return bad(v6),
                },
            };
            let ok = !address.is_empty()
                && address
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'));
            (ok, port)
        }
        None => {
            let (host, port) = match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            let ok = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            (ok, port)
        }
    };
    if !host_ok {
        return bad("no valid host name");
    }
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return bad("the port must be a number from 1 to 65535");
    }
    let mut path = path.trim_end_matches('/');
    let endpoint = match kind {
        ApiKind::OpenAiChat => "chat/completions",
        ApiKind::AnthropicMessages => "messages",
    };
    if let Some(base) = path.strip_suffix(endpoint) {
        path = base.trim_end_matches('/');
    }
    let path = if path.is_empty() { "v1" } else { path };
    Ok(format!(
        "{scheme}://{}/{path}",
        authority.to_ascii_lowercase()
    ))
}

/// Origins the page needs whatever the run: the model download (Hugging Face and its CDN) and
/// the official judge template (GitHub's raw files).
pub const PAGE_ORIGINS: &[&str] = &[
    "https://huggingface.co",
    "https://*.huggingface.co",
    "https://*.hf.co",
    "https://raw.githubusercontent.com",
];

/// The `connect-src` the page locks itself to once a run with a key starts: its own origin,
/// [`PAGE_ORIGINS`] and the run's API origins. Added as a second policy, it can only narrow
/// the page's broader default, so from then on the key can reach no other server.
pub fn locked_connect_src(origins: &[String]) -> String {
    let mut policy = String::from("connect-src 'self'");
    for o in PAGE_ORIGINS
        .iter()
        .copied()
        .chain(origins.iter().map(String::as_str))
    {
        policy.push(' ');
        policy.push_str(o);
    }
    policy
}

pub fn default_base_url(kind: ApiKind) -> &'static str {
    match kind {
        ApiKind::OpenAiChat => "https://api.openai.com/v1",
        ApiKind::AnthropicMessages => "https://api.anthropic.com/v1",
    }
}

fn is_checked(value: &str) -> bool {
    matches!(value, "true" | "on" | "1")
}

/// Empty → `None`; otherwise a finite, non-negative number.
fn optional_number(text: &str) -> Result<Option<f64>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        _ => Err(format!("`{t}` is not a non-negative number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn form(pairs: &[(&str, &str)]) -> impl Fn(&str) -> String {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned().unwrap_or_default()
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("target-api", "openai"),
            ("target-base", "http://127.0.0.1:8000/v1/"),
            ("target-model", "qwen2-vl"),
            ("judge-enabled", "true"),
            ("judge-api", "openai"),
            ("judge-model", "gpt-4o"),
            ("judge-schema", "true"),
        ]
    }

    #[test]
    fn a_filled_form_becomes_settings_with_defaults() {
        let s = EvalSettings::from_form(form(&base())).unwrap();
        assert_eq!(s.target.base_url, "http://127.0.0.1:8000/v1");
        let judge = s.judge.as_ref().unwrap();
        assert_eq!(judge.base_url, "https://api.openai.com/v1");
        assert!(judge.json_schema && !s.target.json_schema);
        assert_eq!((s.concurrency, s.timeout.as_secs()), (8, 120));
        assert_eq!(s.mode, RunMode::Resume);
        assert_eq!(
            s.origins(),
            ["http://127.0.0.1:8000", "https://api.openai.com"]
        );
        // gpt-4o has a preset price; the unknown target model costs 0 unless priced.
        assert!(judge.cost_model().pricing.input_per_million > 0.0);
        assert_eq!(s.target.cost_model().pricing.input_per_million, 0.0);
    }

    #[test]
    fn base_urls_are_normalised_or_refused_with_a_hint() {
        use ApiKind::*;
        for (kind, text, expected) in [
            (OpenAiChat, "", "https://api.openai.com/v1"),
            (
                OpenAiChat,
                " HTTPS://API.OpenAI.com/v1/ ",
                "https://api.openai.com/v1",
            ),
            (
                OpenAiChat,
                "http://localhost:8000",
                "http://localhost:8000/v1",
            ),
            (
                OpenAiChat,
                "http://h:1/v1/chat/completions",
                "http://h:1/v1",
            ),
            (
                OpenAiChat,
                "https://openrouter.ai/api/v1",
                "https://openrouter.ai/api/v1",
            ),
            (OpenAiChat, "http://[::1]:8000/v1", "http://[::1]:8000/v1"),
            (
                AnthropicMessages,
                "https://api.anthropic.com",
                "https://api.anthropic.com/v1",
            ),
            (
                AnthropicMessages,
                "https://api.anthropic.com/v1/messages",
                "https://api.anthropic.com/v1",
            ),
        ] {
            assert_eq!(
                normalise_base_url(kind, text).as_deref(),
                Ok(expected),
                "{text}"
            );
        }
        for (text, hint) in [
            ("api.openai.com/v1", "write https://api.openai.com/v1"),
            ("ftp://x", "must start with https:// or http://"),
            ("http://[::1", "with both brackets"),
            ("http://[::1]x/v1", "with both brackets"),
            ("https://", "no valid host"),
            ("http://h:99999/v1", "port"),
            ("http://h:/v1", "port"),
            ("https://user:pw@h/v1", "key goes in its own"),
            ("https://h/v1?x=1", "query"),
            ("https://a b/v1", "spaces"),
        ] {
            let e = normalise_base_url(OpenAiChat, text).unwrap_err();
            assert!(e.contains(hint), "{text}: {e}");
        }
    }

    #[test]
    fn bad_fields_get_messages_that_name_the_field() {
        let cases: [(&str, &str, &str); 7] = [
            ("target-base", "ftp://x", "base URL must start"),
            (
                "judge-params",
                "temp=0",
                "Judge: parameters: `temp`: unknown parameter",
            ),
            ("target-model", " ", "name the model"),
            ("concurrency", "0", "Concurrency"),
            ("timeout", "abc", "Timeout"),
            ("cap", "-3", "Spending cap"),
            ("max-rows", "2.5", "Rows"),
        ];
        for (name, value, expected) in cases {
            let mut pairs = base();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let err = EvalSettings::from_form(form(&pairs)).unwrap_err();
            assert!(err.contains(expected), "{name}={value}: {err}");
        }
    }

    #[test]
    fn judge_only_needs_a_judge_and_prices_override_presets() {
        let mut pairs = base();
        pairs.retain(|(k, _)| *k != "judge-enabled");
        pairs.push(("mode", "judge_only"));
        assert!(EvalSettings::from_form(form(&pairs)).is_err());
        let mut pairs = base();
        pairs.push(("judge-price-in", "1"));
        let s = EvalSettings::from_form(form(&pairs)).unwrap();
        let p = s.judge.unwrap().cost_model().pricing;
        assert_eq!(p.input_per_million, 1.0);
        assert_eq!(
            p.output_per_million, 10.0,
            "the other price stays the preset's"
        );
    }

    #[test]
    fn row_sets_take_ids_and_ranges_and_select_rows() {
        let set: RowSet = "0-3, 7,10-10".parse().unwrap();
        assert!(set.contains(0) && set.contains(3) && set.contains(7) && set.contains(10));
        assert!(!set.contains(4) && !set.contains(11));
        for bad in ["", "x", "3-1", "1-", "-2"] {
            assert!(bad.parse::<RowSet>().is_err(), "{bad}");
        }
        let present: std::collections::HashSet<u64> = [0, 1, 2].into();
        assert_eq!(
            "1-4".parse::<RowSet>().unwrap().ids_outside(&present),
            [3, 4]
        );
        let mut s = EvalSettings::from_form(form(&base())).unwrap();
        let rows: Vec<Row> = (0..6)
            .map(|id| Row {
                id,
                instruction: String::new(),
                image_path: String::new(),
                category: String::new(),
                sub_category: String::new(),
            })
            .collect();
        s.rows = Some("1-4".parse().unwrap());
        s.max_rows = Some(2);
        let ids: Vec<u64> = s.select(&rows).iter().map(|r| r.id).collect();
        assert_eq!(ids, [1, 2]);
    }

    #[test]
    fn the_locked_policy_lists_self_the_page_origins_and_the_run() {
        let p = locked_connect_src(&["http://127.0.0.1:9".into()]);
        assert!(p.starts_with("connect-src 'self' https://huggingface.co"));
        assert!(p.ends_with(" http://127.0.0.1:9"));
    }

    #[test]
    fn anthropic_settings_keep_the_base_url_and_browser_header() {
        let s = ApiSettings {
            kind: ApiKind::AnthropicMessages,
            base_url: "http://127.0.0.1:9/v1".into(),
            model: "claude-3-5-sonnet".into(),
            json_schema: false,
            price_input: None,
            price_output: None,
            params: ParamOverrides::default(),
        };
        let c = s.config("k", true);
        assert!(c.browser_direct && c.base_url == "http://127.0.0.1:9/v1");
        assert_eq!(c.api_key, "k");
    }
}
