//! What the flags of `leakscope eval` become: API configurations, prices, the judge template
//! (the official one downloaded and hash-checked), the image source and the row selection.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use leakscope::eval::cost::{CostModel, ImageTokens, Pricing};
use leakscope::eval::image::ImageError;
use leakscope::eval::native::{FolderImages, TarImages};
use leakscope::eval::{ApiConfig, ImageData, ImageSource, JudgeTemplate, Row, official};
use leakscope::platform::http::{HttpClient, HttpRequest};
use leakscope::platform::native::UreqClient;
use leakscope::util::hash::sha256_hex;

use super::{ApiFlavour, EvalArgs};

impl ApiFlavour {
    pub fn default_base_url(self) -> &'static str {
        match self {
            ApiFlavour::Openai => "https://api.openai.com/v1",
            ApiFlavour::Anthropic => "https://api.anthropic.com/v1",
        }
    }

    pub fn default_key_env(self) -> &'static str {
        match self {
            ApiFlavour::Openai => "OPENAI_API_KEY",
            ApiFlavour::Anthropic => "ANTHROPIC_API_KEY",
        }
    }

    /// How the API counts an image when the model has no preset.
    pub fn image_tokens(self) -> ImageTokens {
        match self {
            ApiFlavour::Openai => ImageTokens::OpenAiTiles {
                base: 85,
                per_tile: 170,
            },
            ApiFlavour::Anthropic => ImageTokens::Anthropic,
        }
    }
}

pub fn api_config(
    api: ApiFlavour,
    base_url: Option<&str>,
    model: &str,
    key: String,
    json_schema: bool,
    max_completion_tokens: bool,
) -> ApiConfig {
    let base_url = base_url.unwrap_or(api.default_base_url());
    let mut config = match api {
        ApiFlavour::Openai => ApiConfig::openai_compatible(base_url, model, "", json_schema),
        ApiFlavour::Anthropic => {
            let mut c = ApiConfig::anthropic(model, "", false);
            c.base_url = base_url.trim_end_matches('/').to_owned();
            c
        }
    };
    config.api_key = key;
    config.max_completion_tokens = max_completion_tokens;
    config
}

/// The model's cost model and whether its price is known (given or built in).
pub fn cost_model(model: &str, api: ApiFlavour, price: Option<Pricing>) -> (CostModel, bool) {
    let preset = CostModel::preset(model);
    let image = preset.map_or(api.image_tokens(), |p| p.image);
    match (price, preset) {
        (Some(pricing), _) => (CostModel { pricing, image }, true),
        (None, Some(preset)) => (preset, true),
        (None, None) => (
            CostModel {
                pricing: Pricing::per_million(0.0, 0.0),
                image,
            },
            false,
        ),
    }
}

pub fn price_note(cost: &CostModel, priced: bool, flag: &str) -> String {
    if priced {
        format!(
            " (${} / ${} per million input / output tokens)",
            cost.pricing.input_per_million, cost.pricing.output_per_million
        )
    } else {
        format!(" (price unknown: {flag} IN,OUT in dollars per million tokens)")
    }
}

/// The judge template and a line that says which one it is.
pub fn judge_template(args: &EvalArgs) -> Result<(JudgeTemplate, String), String> {
    match args.judge_template.as_str() {
        "default" => Ok((
            JudgeTemplate::default(),
            "the project's rubric (--judge-template default)".to_owned(),
        )),
        "official" => {
            let template = official_template(args)?;
            Ok((
                template,
                format!(
                    "the official PROMPT_TEMPLATE ({} at {}, SHA-256 checked)",
                    official::REPO,
                    &official::COMMIT[..12]
                ),
            ))
        }
        file => {
            let path = Path::new(file);
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!("--judge-template {file}: {e} (use default, official or a file)")
            })?;
            let template =
                JudgeTemplate::custom(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let hash = sha256_hex(template.text().as_bytes());
            Ok((
                template,
                format!("template {file} (sha256 {})", &hash[..12]),
            ))
        }
    }
}

/// The official template: from `--official-source`, else downloaded at the pinned commit.
/// Either way only a text whose SHA-256 matches is used.
pub fn official_template(args: &EvalArgs) -> Result<JudgeTemplate, String> {
    let (source, from) = match &args.official_source {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
            path.display().to_string(),
        ),
        None => {
            let url = official::source_url();
            println!("downloading the official judge prompt from {url}");
            (download(&url)?, url)
        }
    };
    official::template_from_source(&source).map_err(|e| {
        format!("{from}: {e}; the official judge prompt was not used (--judge-template default works offline)")
    })
}

/// The text at `url` (at most 10 MB, 30 s), through the one native HTTP client.
pub fn download(url: &str) -> Result<String, String> {
    const LIMIT: usize = 10 << 20;
    let failed = |e: &dyn std::fmt::Display| {
        format!("{url}: {e} (no network? pass a downloaded copy with --official-source FILE)")
    };
    let client = UreqClient::new(Duration::from_secs(30));
    let response =
        pollster::block_on(client.send(HttpRequest::get(url), LIMIT)).map_err(|e| failed(&e))?;
    if !(200..300).contains(&response.status) {
        return Err(failed(&format!("http status: {}", response.status)));
    }
    String::from_utf8(response.body).map_err(|e| failed(&e))
}

/// Where the images come from.
pub enum Images {
    Folder(FolderImages),
    Tar(TarImages),
}

impl Images {
    pub fn open(args: &EvalArgs) -> Result<Self, String> {
        if let Some(path) = &args.tar {
            let index = crate::cli::images::index_tar(path)?;
            let images =
                TarImages::new(path, index).map_err(|e| format!("{}: {e}", path.display()))?;
            return Ok(Images::Tar(images));
        }
        let dir = match &args.images {
            Some(dir) => dir.clone(),
            None => match args.dataset.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            },
        };
        if !dir.is_dir() {
            return Err(format!("--images {}: not a folder", dir.display()));
        }
        Ok(Images::Folder(FolderImages::new(dir)))
    }

    pub fn describe(&self) -> String {
        match self {
            Images::Folder(f) => format!("folder {}", f.root.display()),
            Images::Tar(t) => format!("archive {} ({} files)", t.path().display(), t.len()),
        }
    }

    pub fn dimensions(&self, row: &Row) -> Result<(u32, u32), String> {
        match self {
            Images::Folder(f) => f.dimensions(row),
            Images::Tar(t) => t.dimensions(row),
        }
    }
}

impl ImageSource for Images {
    fn load<'a>(&'a self, row: &'a Row) -> LocalBoxFuture<'a, Result<ImageData, ImageError>> {
        match self {
            Images::Folder(f) => f.load(row),
            Images::Tar(t) => t.load(row),
        }
    }
}

/// Instruction ids as inclusive ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct RowSet(Vec<(u64, u64)>);

impl RowSet {
    pub fn contains(&self, id: u64) -> bool {
        self.0.iter().any(|&(a, b)| (a..=b).contains(&id))
    }

    /// Ids named here but absent from `present` (single ids and small ranges only).
    pub fn ids_outside(&self, present: &HashSet<u64>) -> Vec<u64> {
        self.0
            .iter()
            .flat_map(|&(a, b)| a..=b.min(a.saturating_add(100_000)))
            .filter(|id| !present.contains(id))
            .collect()
    }
}

pub fn parse_rows(s: &str) -> Result<RowSet, String> {
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

pub fn parse_price(s: &str) -> Result<Pricing, String> {
    let bad = || {
        format!("`{s}`: expected two prices in dollars per million tokens, IN,OUT (e.g. 2.5,10)")
    };
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let (a, b) = (
        parse_dollars(a.trim()).map_err(|_| bad())?,
        parse_dollars(b.trim()).map_err(|_| bad())?,
    );
    Ok(Pricing::per_million(a, b))
}

pub fn parse_dollars(s: &str) -> Result<f64, String> {
    match s.trim().trim_start_matches('$').parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not an amount in dollars")),
    }
}

pub fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0 and 86400"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_sets_take_ids_and_ranges() {
        let set = parse_rows("0-3, 7,10-10").unwrap();
        assert!(set.contains(0) && set.contains(3) && set.contains(7) && set.contains(10));
        assert!(!set.contains(4) && !set.contains(11));
        for bad in ["", "x", "3-1", "1-", "-2"] {
            assert!(parse_rows(bad).is_err(), "{bad}");
        }
        let present: HashSet<u64> = [0, 1, 2].into();
        assert_eq!(parse_rows("1-4").unwrap().ids_outside(&present), [3, 4]);
    }

    #[test]
    fn prices_and_caps_are_plain_dollar_amounts() {
        assert_eq!(parse_price("2.5, 10"), Ok(Pricing::per_million(2.5, 10.0)));
        assert!(parse_price("2.5").is_err() && parse_price("-1,2").is_err());
        assert_eq!(parse_dollars("$5"), Ok(5.0));
        assert!(parse_dollars("nan").is_err());
        assert!(parse_seconds("0").is_err() && parse_seconds("1.5").is_ok());
    }

    #[test]
    fn unknown_models_are_unpriced_but_keep_the_providers_image_rule() {
        let (m, priced) = cost_model("my-local-model", ApiFlavour::Anthropic, None);
        assert!(!priced);
        assert_eq!(m.image, ImageTokens::Anthropic);
        let (m, priced) = cost_model("gpt-4o-2024-08-06", ApiFlavour::Openai, None);
        assert!(priced && m.pricing.input_per_million == 2.5);
        let (m, _) = cost_model(
            "gpt-4o",
            ApiFlavour::Openai,
            Some(Pricing::per_million(1.0, 2.0)),
        );
        assert_eq!(m.pricing, Pricing::per_million(1.0, 2.0));
    }
}
