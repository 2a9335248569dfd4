//! What the flags of `leakscope eval` become: the core's [`EvalSettings`] (the same type the
//! page's form produces, so both plan and run alike), the judge template (the official one
//! downloaded and hash-checked) and the image source.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use leakscope::eval::api::ApiKind;
use leakscope::eval::cost::{CostModel, Pricing};
use leakscope::eval::image::ImageError;
use leakscope::eval::native::{FolderImages, TarImages};
use leakscope::eval::profiles::ParamOverrides;
use leakscope::eval::settings::{
    ApiSettings, EvalSettings, RowSet, TemplateChoice, normalise_base_url,
};
use leakscope::eval::{ImageData, ImageSource, JudgeTemplate, Row, RunMode, official};
use leakscope::platform::http::{HttpClient, HttpRequest};
use leakscope::platform::native::UreqClient;
use leakscope::util::hash::sha256_hex;

use super::{ApiFlavour, EvalArgs};

impl ApiFlavour {
    pub fn kind(self) -> ApiKind {
        match self {
            ApiFlavour::Openai => ApiKind::OpenAiChat,
            ApiFlavour::Anthropic => ApiKind::AnthropicMessages,
        }
    }

    pub fn default_key_env(self) -> &'static str {
        match self {
            ApiFlavour::Openai => "OPENAI_API_KEY",
            ApiFlavour::Anthropic => "ANTHROPIC_API_KEY",
        }
    }
}

impl From<ApiKind> for ApiFlavour {
    fn from(kind: ApiKind) -> Self {
        match kind {
            ApiKind::OpenAiChat => ApiFlavour::Openai,
            ApiKind::AnthropicMessages => ApiFlavour::Anthropic,
        }
    }
}

/// `role`: `target` or `judge`, for the messages (they name the flags).
fn api(
    role: &str,
    flavour: ApiFlavour,
    base_url: Option<&str>,
    model: &str,
    price: Option<Pricing>,
    json_schema: bool,
    params: &[String],
) -> Result<ApiSettings, String> {
    let kind = flavour.kind();
    if base_url.is_some_and(|u| u.trim().is_empty()) {
        return Err(format!(
            "--{role}-base-url is empty: leave the flag out for the provider's own URL, or give \
             one like https://host/v1"
        ));
    }
    let mut overrides = ParamOverrides::default();
    for p in params {
        overrides
            .parse_into(p)
            .map_err(|e| format!("--{role}-param {e}"))?;
    }
    Ok(ApiSettings {
        kind,
        base_url: normalise_base_url(kind, base_url.unwrap_or(""))
            .map_err(|e| format!("--{role}-base-url: {e}"))?,
        model: model.to_owned(),
        json_schema: kind == ApiKind::OpenAiChat && json_schema,
        price_input: price.map(|p| p.input_per_million),
        price_output: price.map(|p| p.output_per_million),
        params: overrides,
    })
}

impl EvalArgs {
    /// The run's settings, as the page's form would give them; the messages name the flag
    /// that is wrong.
    pub fn settings(&self) -> Result<EvalSettings, String> {
        let mode = match (self.rejudge, self.retry_errors) {
            (true, _) => RunMode::JudgeOnly,
            (_, true) => RunMode::RetryErrors,
            _ => RunMode::Resume,
        };
        let template = match self.judge_template.as_str() {
            "default" => TemplateChoice::Default,
            "official" => TemplateChoice::Official,
            _ => TemplateChoice::File,
        };
        if self.official_source.is_some() && template != TemplateChoice::Official {
            return Err(
                "--official-source is read only with --judge-template official (it is the \
                 official eval_utils.py the official prompt is taken from)"
                    .to_owned(),
            );
        }
        let judge = if self.no_judge {
            None
        } else {
            Some(api(
                "judge",
                self.judge_provider,
                self.judge_base_url.as_deref(),
                &self.judge_model,
                self.judge_price,
                !self.judge_no_json_schema,
                &self.judge_param,
            )?)
        };
        Ok(EvalSettings {
            target: api(
                "target",
                self.target_provider,
                self.target_base_url.as_deref(),
                &self.target_model,
                self.target_price,
                false,
                &self.target_param,
            )?,
            judge,
            template,
            concurrency: self.concurrency,
            timeout: Duration::from_secs_f64(self.timeout),
            retries: self.retries,
            cost_cap: self.max_spend,
            rows: self.rows.clone(),
            max_rows: self.max_rows,
            mode,
            batch: self.batch,
        })
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

pub fn parse_rows(s: &str) -> Result<RowSet, String> {
    s.parse()
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

pub fn parse_megabytes(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a positive number of megabytes")),
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
pub(super) mod tests {
    use super::*;
    use clap::Parser;
    use leakscope::eval::cost::ImageTokens;

    /// `leakscope eval`'s flags alone, as clap parses them.
    #[derive(Parser)]
    pub struct Cli {
        #[command(flatten)]
        pub args: EvalArgs,
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
        let settings = |args: &[&str]| {
            let mut argv = vec!["eval", "data.json"];
            argv.extend_from_slice(args);
            Cli::parse_from(argv).args.settings().unwrap()
        };
        let s = settings(&[
            "--target-model",
            "my-local-model",
            "--target-provider",
            "anthropic",
        ]);
        assert!(!s.target.priced());
        assert_eq!(s.target.cost_model().image, ImageTokens::Anthropic);
        let s = settings(&["--target-model", "gpt-4o-2024-08-06"]);
        assert!(s.target.priced() && s.target.cost_model().pricing.input_per_million == 2.5);
        let s = settings(&["--target-model", "gpt-4o", "--target-price", "1,2"]);
        assert_eq!(
            s.target.cost_model().pricing,
            Pricing::per_million(1.0, 2.0)
        );
    }

    mod same_plan {
        //! The CLI's flags and the page's form, for the same run, make the same settings and so
        //! the same plan and estimate (both go through `leakscope::eval::plan`).
        use std::collections::HashMap;

        use leakscope::eval::plan::{EvalSetup, Plan, Work};
        use leakscope::eval::protocol::{GenParams, target_request};
        use leakscope::eval::store::{Outcome, Record, RecordKey, Stage};
        use leakscope::eval::{ChatResponse, HttpProvider, Provider};
        use leakscope::platform::native::UreqClient;

        use super::*;

        fn cli(flags: &[&str]) -> EvalSettings {
            let mut argv = vec!["eval", "data.json"];
            argv.extend_from_slice(flags);
            Cli::parse_from(argv).args.settings().unwrap()
        }

        fn form(pairs: &[(&str, &str)]) -> EvalSettings {
            let map: HashMap<&str, &str> = pairs.iter().copied().collect();
            EvalSettings::from_form(|k| map.get(k).copied().unwrap_or_default().to_owned()).unwrap()
        }

        fn rows() -> Vec<Row> {
            (0..6)
                .map(|id| Row {
                    id,
                    instruction: format!("what should I do with item {id}?"),
                    image_path: format!("imgs/{id}.png"),
                    category: "Illegal Activity".into(),
                    sub_category: "Drugs".into(),
                })
                .collect()
        }

        /// Stored answers of `model` for rows 0–2 (row 2's an error).
        fn records(model: &str) -> Vec<Record> {
            let image = ImageData::stand_in();
            rows()[..3]
                .iter()
                .map(|row| {
                    let request =
                        target_request(&row.instruction, &image, &GenParams::target_default());
                    let outcome = if row.id == 2 {
                        Outcome::Error {
                            error: leakscope::eval::ProviderError::new(
                                leakscope::eval::api::ErrorKind::Network,
                                "refused",
                            ),
                        }
                    } else {
                        Outcome::Answer {
                            response: ChatResponse {
                                text: Some("No.".into()),
                                ..ChatResponse::default()
                            },
                        }
                    };
                    Record {
                        stage: Stage::Target,
                        key: RecordKey {
                            row: row.id,
                            model: model.into(),
                            params: request.params_hash(),
                            prompt: request.prompt_hash(),
                            image: "img".into(),
                            endpoint: None,
                        },
                        answer_key: None,
                        outcome,
                        attempts: 1,
                        elapsed_ms: 10,
                        sent: None,
                        template: None,
                        notes: Vec::new(),
                    }
                })
                .collect()
        }

        fn plan(settings: &EvalSettings, template: &JudgeTemplate) -> Plan {
            let client = UreqClient::new(Duration::from_secs(1));
            let target = HttpProvider::new(settings.target.config("", false), client.clone());
            let judge = settings
                .judge
                .as_ref()
                .map(|j| HttpProvider::new(j.config("", false), client.clone()));
            let setup = EvalSetup::new(
                settings,
                &target,
                judge.as_ref().map(|p| p as &dyn Provider),
                template.clone(),
            );
            let rows = settings.select(&rows());
            let work = setup.work(&rows, &records("gpt-4o-mini"));
            let sizes: Vec<_> = work
                .iter()
                .map(|w| (*w != Work::Nothing).then_some((1024, 768)))
                .collect();
            Plan::new(&setup, &rows, work, &sizes)
        }

        const PAGE_BASE: &[(&str, &str)] = &[
            ("target-api", "openai"),
            ("target-model", "gpt-4o-mini"),
            ("judge-enabled", "true"),
            ("judge-api", "openai"),
            ("judge-model", "gpt-4o"),
            ("judge-schema", "true"),
        ];

        fn page(extra: &[(&str, &str)]) -> EvalSettings {
            let mut pairs = PAGE_BASE.to_vec();
            pairs.extend_from_slice(extra);
            form(&pairs)
        }

        #[test]
        fn stored_results_count_the_same_in_the_cli_and_the_page() {
            let cli = cli(&["--target-model", "gpt-4o-mini", "--max-rows", "5"]);
            let page = page(&[("max-rows", "5")]);
            assert_eq!(cli, page);
            let template = JudgeTemplate::default();
            let (a, b) = (plan(&cli, &template), plan(&page, &template));
            assert_eq!(a, b);
            // Rows 0 and 1 are answered (judge only), row 2 failed (left alone), 3 and 4 new.
            assert_eq!(
                a.work,
                [
                    Work::Judge,
                    Work::Judge,
                    Work::Nothing,
                    Work::Full,
                    Work::Full
                ]
            );
            assert!(a.estimate.target_cost_max > 0.0 && a.estimate.judge_cost_max > 0.0);
        }

        #[test]
        fn judge_only_mode_costs_no_target_call_in_either() {
            let cli = cli(&["--target-model", "gpt-4o-mini", "--rejudge"]);
            let page = page(&[("mode", "judge_only")]);
            assert_eq!(cli, page);
            let template = JudgeTemplate::default();
            let (a, b) = (plan(&cli, &template), plan(&page, &template));
            assert_eq!(a, b);
            assert_eq!((a.full, a.judge_only), (0, 2));
            assert_eq!(a.estimate.target_cost_max, 0.0);
            assert_eq!(a.estimate.target_input_tokens, 0);
        }

        #[test]
        fn parameter_profiles_overrides_and_base_urls_are_the_same_in_either() {
            let cli = cli(&[
                "--target-model",
                "o4-mini",
                "--target-base-url",
                "http://localhost:8000",
                "--target-param",
                "reasoning_effort=low",
                "--target-param",
                "max_completion_tokens=2000",
                "--judge-model",
                "claude-opus-4-7",
                "--judge-provider",
                "anthropic",
                "--judge-base-url",
                "https://api.anthropic.com",
                "--judge-param",
                "max_tokens=300",
            ]);
            let page = form(&[
                ("target-api", "openai"),
                ("target-base", "http://localhost:8000/v1/chat/completions"),
                ("target-model", "o4-mini"),
                (
                    "target-params",
                    "reasoning_effort=low, max_completion_tokens=2000",
                ),
                ("judge-enabled", "true"),
                ("judge-api", "anthropic"),
                ("judge-base", "https://api.anthropic.com/"),
                ("judge-model", "claude-opus-4-7"),
                ("judge-params", "max_tokens=300"),
            ]);
            assert_eq!(cli, page);
            assert_eq!(cli.target.base_url, "http://localhost:8000/v1");
            let judge = cli.judge.as_ref().unwrap();
            assert_eq!(judge.base_url, "https://api.anthropic.com/v1");
            let target = cli.target.resolve(Stage::Target).params;
            assert_eq!(
                (
                    target.token_field.name(),
                    target.max_tokens,
                    target.temperature
                ),
                ("max_completion_tokens", 2000, None)
            );
            let judged = judge.resolve(Stage::Judge).params;
            assert_eq!((judged.max_tokens, judged.temperature), (300, None));
            let template = JudgeTemplate::default();
            let (a, b) = (plan(&cli, &template), plan(&page, &template));
            assert_eq!(a, b);
            // The budgets go into the worst case: 6 rows × (2000 + 300) output tokens.
            assert_eq!(
                (
                    a.estimate.target_output_tokens_max,
                    a.estimate.judge_output_tokens_max
                ),
                (6 * 2000, 6 * 300)
            );
        }

        #[test]
        fn bad_flags_are_refused_naming_the_flag() {
            let err = |flags: &[&str]| {
                let mut argv = vec!["eval", "data.json", "--target-model", "m"];
                argv.extend_from_slice(flags);
                Cli::parse_from(argv).args.settings().unwrap_err()
            };
            assert!(
                err(&["--target-base-url", "localhost:8000/v1"]).starts_with(
                    "--target-base-url: base URL `localhost:8000/v1`: no scheme: write https://"
                )
            );
            assert!(err(&["--judge-param", "temp=1"]).starts_with("--judge-param `temp`"));
            assert!(err(&["--target-base-url", " "]).contains("is empty"));
            assert!(
                err(&["--official-source", "eval_utils.py"])
                    .contains("only with --judge-template official")
            );
        }

        #[test]
        fn the_chosen_template_is_priced_in_either() {
            let cli = cli(&[
                "--target-model",
                "gpt-4o-mini",
                "--judge-template",
                "official",
            ]);
            let page = page(&[("template", "official")]);
            assert_eq!(cli, page);
            assert_eq!(cli.template, TemplateChoice::Official);
            // The official text is downloaded at run time; a long stand-in shows that the
            // template's own length goes into both estimates.
            let long = JudgeTemplate::custom(&format!(
                "{} {{question}} {{response}}",
                "rubric ".repeat(400)
            ))
            .unwrap();
            let (a, b) = (plan(&cli, &long), plan(&page, &long));
            assert_eq!(a, b);
            let short = plan(&cli, &JudgeTemplate::default());
            assert!(a.estimate.judge_input_tokens > short.estimate.judge_input_tokens);
        }
    }
}
