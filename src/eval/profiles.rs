//! Parameter profiles: which decoding fields a model takes, picked from its name by the one
//! known-model table below ([`profile`]), then changed by the user's overrides
//! ([`ParamOverrides`]: `--target-param` / `--judge-param`, the form's "Parameters" fields).
//!
//! The official protocol sends `temperature 0` (target and judge), `top_p 1` (target) and
//! `max_tokens 128`. Newer models refuse some of that with a 400, so a run on them would send
//! every row for nothing. What each family accepts, and where that comes from:
//!
//! * **OpenAI reasoning models** (o1, o3, o4 and the gpt-5 family): `max_tokens` is refused
//!   ("Unsupported parameter: 'max_tokens' is not supported with this model. Use
//!   'max_completion_tokens' instead.", code `unsupported_parameter`, param `max_tokens`;
//!   openai/openai-python#2046), and so is any `temperature` but the default 1 ("Unsupported
//!   value: 'temperature' does not support 0.0 with this model. Only the default (1) value is
//!   supported.", code `unsupported_value`; o3-mini: code `unsupported_parameter`,
//!   openai/openai-python#2104); `top_p` likewise. The API reference for chat completions:
//!   `max_tokens` "is not compatible with o-series models"; `max_completion_tokens` is "an
//!   upper bound for the number of tokens that can be generated for a completion, including
//!   visible output tokens and reasoning tokens"; `reasoning_effort` (`minimal`, `low`,
//!   `medium`, `high`) applies to reasoning models only. Since hidden reasoning counts
//!   against the budget, the official 128 tokens often come back as empty content with
//!   `finish_reason: "length"`: these models get [`REASONING_BUDGET`] instead, and the report
//!   says so.
//! * **Anthropic**: every model takes `max_tokens`. `temperature` is deprecated for models
//!   released after Claude Opus 4.6 (Messages API reference, `temperature`); Claude Opus 4.7
//!   answers any `temperature`, even 1.0, with 400 "`temperature` is deprecated for this
//!   model." (vierisid/jarvis#217, pollinations/pollinations#11319, also reported for
//!   claude-opus-4-8 and the 5 family), so it is not sent to Opus 4.7 and later or to any
//!   major version 5 and above. Claude 4.x models refuse `temperature` together with `top_p`
//!   ("cannot both be specified for this model"); the encoder never sends `top_p` at its
//!   default 1.0, so the official settings never send both.
//! * **Everything else** (OpenAI's gpt-4o and gpt-4.1, older Claude models, OpenAI-compatible
//!   servers): the official settings.
//!
//! A model the table does not know but that behaves like one of these families can be given
//! its profile by hand: `profile=reasoning` (or `profile=official`).

use serde::{Deserialize, Serialize};

use super::api::ApiKind;
use super::protocol::{GenParams, OFFICIAL_MAX_TOKENS, TokenField};
use super::store::Stage;

/// Completion budget of reasoning models, whose hidden reasoning counts against it: enough
/// for a few hundred reasoning tokens plus the answer on a short question. It departs from
/// the official 128 and the report says so; `max_completion_tokens=N` changes it.
pub const REASONING_BUDGET: u32 = 4096;

/// What a model family accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// The official settings as they are.
    Official,
    /// OpenAI reasoning models: `max_completion_tokens`, no `temperature` / `top_p`, optional
    /// `reasoning_effort`, a larger budget.
    OpenAiReasoning,
    /// Anthropic models that refuse `temperature` (Opus 4.7 and later).
    AnthropicNoTemperature,
}

impl Family {
    pub fn describe(self) -> &'static str {
        match self {
            Family::Official => "the official settings",
            Family::OpenAiReasoning => {
                "OpenAI reasoning model (o-series, gpt-5): max_completion_tokens, no temperature \
                 or top_p, reasoning tokens count against the budget"
            }
            Family::AnthropicNoTemperature => {
                "Anthropic model that refuses temperature (Claude Opus 4.7 and later)"
            }
        }
    }

    /// The profile's name in one breath, for the report's notes.
    pub fn short(self) -> &'static str {
        match self {
            Family::Official => "official",
            Family::OpenAiReasoning => "OpenAI reasoning-model",
            Family::AnthropicNoTemperature => "Claude Opus 4.7+",
        }
    }
}

/// The model id without a router's prefix (`openai/o4-mini` → `o4-mini`), lower-cased.
fn bare(model: &str) -> String {
    model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .trim()
        .to_ascii_lowercase()
}

/// `o1`, `o3-mini`, `o4-mini-2025-04-16`, `gpt-5`, `gpt-5-mini`, `gpt-5.1`…
fn openai_reasoning(name: &str) -> bool {
    let o_series = ["o1", "o3", "o4"].iter().any(|p| {
        name.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
    });
    o_series || name.starts_with("gpt-5")
}

/// `claude-opus-4-7…`, `claude-sonnet-5…`: (major, minor) after the family word; the old
/// `claude-3-5-sonnet` order and dated ids without a minor (`claude-opus-4-20250514`) are
/// read as their version.
fn claude_version(name: &str) -> Option<(&str, u32, u32)> {
    let rest = name.strip_prefix("claude-")?;
    let mut parts = rest.split('-');
    let family = parts.next()?;
    if !matches!(family, "opus" | "sonnet" | "haiku") {
        return None; // claude-3-5-sonnet-…: versions before the family are all old models
    }
    let major: u32 = parts.next()?.parse().ok()?;
    let minor = parts
        .next()
        .filter(|m| m.len() <= 2)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    Some((family, major, minor))
}

/// The family of `model` on an API of `kind`.
pub fn profile(kind: ApiKind, model: &str) -> Family {
    let name = bare(model);
    match kind {
        ApiKind::OpenAiChat if openai_reasoning(&name) => Family::OpenAiReasoning,
        ApiKind::AnthropicMessages => match claude_version(&name) {
            Some((_, major, _)) if major >= 5 => Family::AnthropicNoTemperature,
            Some(("opus", 4, minor)) if minor >= 7 => Family::AnthropicNoTemperature,
            _ => Family::Official,
        },
        _ => Family::Official,
    }
}

/// A value to send, or the field left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice<T> {
    Send(T),
    Omit,
}

/// The user's changes to a model's parameters, as `key=value` pairs separated by commas:
/// `max_tokens=N` or `max_completion_tokens=N` (the budget and its field),
/// `temperature=X|omit`, `top_p=X|omit`, `reasoning_effort=low|…|omit`,
/// `profile=official|reasoning`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<(TokenField, u32)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<Choice<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<Choice<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<Choice<String>>,
}

/// The keys [`ParamOverrides`] reads.
pub const PARAM_KEYS: &str =
    "max_tokens, max_completion_tokens, temperature, top_p, reasoning_effort, profile";

impl ParamOverrides {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Adds `key=value` pairs (`a=1, b=2`); later pairs win.
    pub fn parse_into(&mut self, text: &str) -> Result<(), String> {
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| format!("`{pair}`: expected key=value (keys: {PARAM_KEYS})"))?;
            let number = |lo: f64, hi: f64| -> Result<Choice<f64>, String> {
                if value == "omit" {
                    return Ok(Choice::Omit);
                }
                match value.parse::<f64>() {
                    Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(Choice::Send(v)),
                    _ => Err(format!("`{pair}`: a number from {lo} to {hi}, or omit")),
                }
            };
            match key {
                "max_tokens" | "max_completion_tokens" => {
                    let field = if key == "max_tokens" {
                        TokenField::MaxTokens
                    } else {
                        TokenField::MaxCompletionTokens
                    };
                    let n = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=1_000_000).contains(n))
                        .ok_or_else(|| format!("`{pair}`: a whole number of tokens from 1"))?;
                    self.budget = Some((field, n));
                }
                "temperature" => self.temperature = Some(number(0.0, 2.0)?),
                "top_p" => self.top_p = Some(number(0.0, 1.0)?),
                "reasoning_effort" => {
                    let ok = !value.is_empty() && value.bytes().all(|b| b.is_ascii_lowercase());
                    if !ok {
                        return Err(format!(
                            "`{pair}`: minimal, low, medium, high (what the model takes), or omit"
                        ));
                    }
                    self.reasoning_effort = Some(if value == "omit" {
                        Choice::Omit
                    } else {
                        Choice::Send(value.to_owned())
                    });
                }
                "profile" => {
                    self.family = Some(match value {
                        "official" => Family::Official,
                        "reasoning" => Family::OpenAiReasoning,
                        _ => return Err(format!("`{pair}`: official or reasoning")),
                    })
                }
                _ => return Err(format!("`{key}`: unknown parameter (keys: {PARAM_KEYS})")),
            }
        }
        Ok(())
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out = Self::default();
        out.parse_into(text)?;
        Ok(out)
    }
}

/// A model's decoding settings for one stage, and how they depart from the official ones.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Resolved {
    pub family: Family,
    pub params: GenParams,
    /// One line per difference from the official protocol, with its reason.
    pub departures: Vec<String>,
}

/// The official settings of `stage`, then `model`'s profile, then `overrides`.
pub fn resolve(kind: ApiKind, model: &str, stage: Stage, overrides: &ParamOverrides) -> Resolved {
    let official = match stage {
        Stage::Target => GenParams::target_default(),
        Stage::Judge => GenParams::judge_default(),
    };
    let family = overrides.family.unwrap_or_else(|| profile(kind, model));
    let mut p = official.clone();
    match family {
        Family::Official => {}
        Family::OpenAiReasoning => {
            p.token_field = TokenField::MaxCompletionTokens;
            p.max_tokens = REASONING_BUDGET;
            p.temperature = None;
            p.top_p = None;
        }
        Family::AnthropicNoTemperature => p.temperature = None,
    }
    if let Some((field, n)) = overrides.budget {
        p.token_field = field;
        p.max_tokens = n;
    }
    let apply = |slot: &mut Option<f64>, choice: &Option<Choice<f64>>| match choice {
        Some(Choice::Send(v)) => *slot = Some(*v),
        Some(Choice::Omit) => *slot = None,
        None => {}
    };
    apply(&mut p.temperature, &overrides.temperature);
    apply(&mut p.top_p, &overrides.top_p);
    match &overrides.reasoning_effort {
        Some(Choice::Send(v)) => p.reasoning_effort = Some(v.clone()),
        Some(Choice::Omit) => p.reasoning_effort = None,
        None => {}
    }
    let departures = departures(&official, &p, family);
    Resolved {
        family,
        params: p,
        departures,
    }
}

fn departures(official: &GenParams, p: &GenParams, family: Family) -> Vec<String> {
    let why = match family {
        Family::Official => "set by hand".to_owned(),
        f => format!("{} profile", f.short()),
    };
    let mut out = Vec::new();
    if (p.token_field, p.max_tokens) != (official.token_field, official.max_tokens) {
        out.push(format!(
            "completion budget {} {} instead of the official {} {OFFICIAL_MAX_TOKENS} ({why})",
            p.token_field.name(),
            p.max_tokens,
            official.token_field.name(),
        ));
    }
    let value = |v: Option<f64>| v.map_or("not sent".to_owned(), |v| v.to_string());
    for (name, ours, theirs) in [
        ("temperature", p.temperature, official.temperature),
        ("top_p", p.top_p, official.top_p),
    ] {
        if ours != theirs {
            out.push(format!(
                "{name} {} instead of the official {} ({why})",
                value(ours),
                value(theirs)
            ));
        }
    }
    if let Some(effort) = &p.reasoning_effort {
        out.push(format!(
            "reasoning_effort {effort} (not in the official protocol)"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_knows_the_families() {
        use ApiKind::*;
        use Family::*;
        for (kind, model, family) in [
            (OpenAiChat, "gpt-4o", Official),
            (OpenAiChat, "gpt-4o-mini-2024-07-18", Official),
            (OpenAiChat, "gpt-4.1", Official),
            (OpenAiChat, "o1", OpenAiReasoning),
            (OpenAiChat, "o3-mini", OpenAiReasoning),
            (OpenAiChat, "o4-mini-2025-04-16", OpenAiReasoning),
            (OpenAiChat, "openai/o4-mini", OpenAiReasoning),
            (OpenAiChat, "gpt-5-mini", OpenAiReasoning),
            (OpenAiChat, "gpt-5.1", OpenAiReasoning),
            (OpenAiChat, "o1x-local", Official),
            (OpenAiChat, "qwen2-vl-7b", Official),
            (AnthropicMessages, "claude-3-5-sonnet-20241022", Official),
            (AnthropicMessages, "claude-sonnet-4-5", Official),
            (AnthropicMessages, "claude-opus-4-20250514", Official),
            (AnthropicMessages, "claude-opus-4-6", Official),
            (AnthropicMessages, "claude-opus-4-7", AnthropicNoTemperature),
            (
                AnthropicMessages,
                "claude-opus-4-8-20260601",
                AnthropicNoTemperature,
            ),
            (AnthropicMessages, "claude-sonnet-5", AnthropicNoTemperature),
            (AnthropicMessages, "o4-mini", Official),
        ] {
            assert_eq!(profile(kind, model), family, "{model}");
        }
    }

    #[test]
    fn reasoning_models_get_their_fields_and_the_report_says_why() {
        let r = resolve(
            ApiKind::OpenAiChat,
            "o4-mini",
            Stage::Target,
            &ParamOverrides::default(),
        );
        assert_eq!(r.params.token_field, TokenField::MaxCompletionTokens);
        assert_eq!(r.params.max_tokens, REASONING_BUDGET);
        assert_eq!((r.params.temperature, r.params.top_p), (None, None));
        assert_eq!(r.departures.len(), 3, "{:?}", r.departures);
        assert!(r.departures[0].starts_with(
            "completion budget max_completion_tokens 4096 instead of the official max_tokens 128"
        ));
        let official = resolve(
            ApiKind::OpenAiChat,
            "gpt-4o",
            Stage::Judge,
            &ParamOverrides::default(),
        );
        assert_eq!(
            (official.params, official.departures.len()),
            (GenParams::judge_default(), 0)
        );
        let opus = resolve(
            ApiKind::AnthropicMessages,
            "claude-opus-4-7",
            Stage::Judge,
            &ParamOverrides::default(),
        );
        assert_eq!(opus.params.temperature, None);
    }

    #[test]
    fn overrides_win_over_the_profile() {
        let o = ParamOverrides::parse(
            "max_completion_tokens=2000, reasoning_effort=low ,temperature=1",
        )
        .unwrap();
        let r = resolve(ApiKind::OpenAiChat, "o3", Stage::Judge, &o);
        assert_eq!(r.params.max_tokens, 2000);
        assert_eq!(r.params.temperature, Some(1.0));
        assert_eq!(r.params.reasoning_effort.as_deref(), Some("low"));
        let o = ParamOverrides::parse("profile=reasoning, top_p=omit").unwrap();
        let r = resolve(ApiKind::OpenAiChat, "my-local-r1", Stage::Target, &o);
        assert_eq!(r.family, Family::OpenAiReasoning);
        let o = ParamOverrides::parse("temperature=omit").unwrap();
        let r = resolve(ApiKind::OpenAiChat, "gpt-4o", Stage::Target, &o);
        assert_eq!(r.params.temperature, None);
        assert_eq!(
            r.departures,
            ["temperature not sent instead of the official 0 (set by hand)"]
        );
        assert!(ParamOverrides::parse("").unwrap().is_empty());
    }

    #[test]
    fn bad_overrides_say_what_is_expected() {
        for (text, expected) in [
            ("temperature", "expected key=value"),
            ("temp=1", "unknown parameter"),
            ("temperature=3", "from 0 to 2"),
            ("max_tokens=0", "whole number"),
            ("max_completion_tokens=omit", "whole number"),
            ("reasoning_effort=LOW!", "minimal, low"),
            ("profile=fast", "official or reasoning"),
        ] {
            let e = ParamOverrides::parse(text).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
    }
}
