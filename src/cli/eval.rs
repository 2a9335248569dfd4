//! `leakscope eval`: a VLSBench evaluation of a model API with the user's own key, on the same
//! engine the page uses (`leakscope::eval`).
//!
//! Every answer and verdict is appended to `<out>/results.jsonl` the moment it arrives, so an
//! interrupted run (Ctrl-C, a crash, `kill -9`) continues where it stopped when the same command
//! runs again, and nothing already paid for is requested again. Before the first request the
//! command prints what it will call and the most that can cost, and asks unless `--yes`.
//! `--max-spend` is a hard cap: no request starts that could take the spend past it.
//!
//! Keys come from environment variables named by `--target-key-env` / `--judge-key-env`, never
//! from the command line (which other users can read in the process list), and are written
//! nowhere.
//!
//! The flags become settings in [`setup`], [`plan`] works out and prices what is left to call,
//! [`progress`] shows the run, [`report`] writes the output folder.

use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use leakscope::datasets::{self, DatasetFormat, Strictness};
use leakscope::eval::cost::Pricing;
use leakscope::eval::dataset::rows_from_samples;
use leakscope::eval::export::TemplateInfo;
use leakscope::eval::native::JsonlStore;
use leakscope::eval::plan::{EvalSetup, Plan};
use leakscope::eval::results;
use leakscope::eval::settings::{ApiSettings, EvalSettings, RowSet};
use leakscope::eval::{
    HttpProvider, JudgeTemplate, Provider, Report, ResultStore, Row, RunSummary, Stage, StopReason,
    table,
};
use leakscope::platform::native::{ThreadClock, UreqClient};
use serde::Serialize;

mod batch;
mod plan;
mod progress;
mod report;
mod setup;

use plan::{image_sizes, print_plan};
use progress::Progress;
use report::{ModelInfo, Setup, other_judge, print_summary, write_outputs};
use setup::{
    Images, judge_template, parse_dollars, parse_megabytes, parse_price, parse_rows, parse_seconds,
    price_note,
};

use super::positive;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiFlavour {
    /// OpenAI chat completions, or any server that copies it (vLLM, Ollama, OpenRouter, ...).
    Openai,
    /// Anthropic Messages.
    Anthropic,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// VLSBench's data.json (its image paths are relative to the folder that holds it).
    pub dataset: PathBuf,
    /// Folder the image paths start in (the one that holds imgs/). Default: data.json's folder.
    #[arg(long, conflicts_with = "tar")]
    pub images: Option<PathBuf>,
    /// The images as a tar archive (VLSBench's imgs.tar), indexed once, read member by member.
    #[arg(long)]
    pub tar: Option<PathBuf>,
    /// Output folder: results.jsonl (every answer and verdict; the same command continues from
    /// it), report.json, rows.jsonl, rows.csv and official.json.
    #[arg(long, default_value = "vlsbench-eval")]
    pub out: PathBuf,

    /// The API of the model under test.
    #[arg(long, value_enum, default_value_t = ApiFlavour::Openai)]
    pub target_provider: ApiFlavour,
    /// Its base URL (default: the provider's; e.g. http://localhost:8000/v1 for vLLM).
    #[arg(long)]
    pub target_base_url: Option<String>,
    /// The model under test, as the API names it (e.g. gpt-4o-mini).
    #[arg(long)]
    pub target_model: String,
    /// Environment variable holding its API key (default OPENAI_API_KEY or ANTHROPIC_API_KEY).
    #[arg(long, value_name = "VAR")]
    pub target_key_env: Option<String>,
    /// Its prices in US dollars per million input and output tokens, e.g. 0.15,0.60 (default:
    /// the built-in list price for known models).
    #[arg(long, value_name = "IN,OUT", value_parser = parse_price)]
    pub target_price: Option<Pricing>,
    /// Change its decoding parameters, KEY=VALUE (repeat the flag or separate with commas):
    /// max_tokens=N or max_completion_tokens=N (the budget and its field), temperature=X|omit,
    /// top_p=X|omit, reasoning_effort=low|medium|high|omit, profile=official|reasoning.
    /// Default: the official settings, or the model family's profile (OpenAI reasoning models:
    /// max_completion_tokens=4096, no temperature or top_p; Claude Opus 4.7 and later: no
    /// temperature).
    #[arg(long, value_name = "KEY=VALUE")]
    pub target_param: Vec<String>,

    /// The judge's API.
    #[arg(long, value_enum, default_value_t = ApiFlavour::Openai)]
    pub judge_provider: ApiFlavour,
    /// The judge's base URL (default: the provider's).
    #[arg(long)]
    pub judge_base_url: Option<String>,
    /// The judge model (the paper used gpt-4o; its authors suggest gpt-4o-mini, which refuses
    /// less).
    #[arg(long, default_value = "gpt-4o")]
    pub judge_model: String,
    /// Environment variable holding the judge's API key (default by provider, as for the target).
    #[arg(long, value_name = "VAR")]
    pub judge_key_env: Option<String>,
    /// The judge's prices per million input and output tokens (default: built-in list price).
    #[arg(long, value_name = "IN,OUT", value_parser = parse_price)]
    pub judge_price: Option<Pricing>,
    /// Do not ask for strict JSON output (for OpenAI-compatible judges without json_schema).
    #[arg(long)]
    pub judge_no_json_schema: bool,
    /// Change the judge's decoding parameters (as --target-param).
    #[arg(long, value_name = "KEY=VALUE")]
    pub judge_param: Vec<String>,
    /// The judge's instructions: `default` (the project's rubric), `official` (the official
    /// PROMPT_TEMPLATE, downloaded from the official repository at a pinned commit and checked
    /// against its SHA-256), or a file with {question} and {response} placeholders.
    #[arg(long, default_value = "default", value_name = "default|official|FILE")]
    pub judge_template: String,
    /// With `--judge-template official`: read this local copy of the official eval_utils.py
    /// instead of downloading it.
    #[arg(long, value_name = "FILE")]
    pub official_source: Option<PathBuf>,
    /// Collect answers only (judge them later with --rejudge).
    #[arg(long, conflicts_with = "rejudge")]
    pub no_judge: bool,

    /// Rows in flight at once (halved after a 429, then grown back).
    #[arg(long, default_value_t = 8, value_parser = positive)]
    pub concurrency: usize,
    /// Seconds one request may take.
    #[arg(long, default_value_t = 120.0, value_parser = parse_seconds)]
    pub timeout: f64,
    /// Retries per request after a rate limit, a 5xx, a timeout or a dropped connection.
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// Only the first N rows (after --rows).
    #[arg(long, value_parser = positive)]
    pub max_rows: Option<usize>,
    /// Only these instruction ids, e.g. 0-99,150,200-210.
    #[arg(long, value_parser = parse_rows)]
    pub rows: Option<RowSet>,
    /// Hard cap in US dollars: no request starts that could take this run's spend past it.
    #[arg(long, value_name = "USD", value_parser = parse_dollars)]
    pub max_spend: Option<f64>,
    /// Start without asking after the estimate.
    #[arg(long, short)]
    pub yes: bool,
    /// Call again the stages stored as errors (and nothing else).
    #[arg(long, conflicts_with = "rejudge")]
    pub retry_errors: bool,
    /// Judge the stored answers of --target-model with this judge (no target call, no target
    /// key needed); a judge that labelled them before gives Cohen's kappa.
    #[arg(long)]
    pub rejudge: bool,

    /// Send the requests through the providers' batch APIs (OpenAI's Batch API, Anthropic's
    /// Message Batches): half the price, results within 24 hours. The target's requests go
    /// first, each judge request as soon as its answer is in. Run the same command again to
    /// continue after an interruption (batches keep running at the provider meanwhile).
    #[arg(long)]
    pub batch: bool,
    /// With --batch: submit and return instead of waiting for the batches; run the same command
    /// again later to collect their results and submit what follows from them.
    #[arg(long, requires = "batch")]
    pub detach: bool,
    /// With --batch: seconds between two looks at the running batches.
    #[arg(long, default_value_t = 30.0, value_parser = parse_seconds, requires = "batch")]
    pub batch_poll: f64,
    /// With --batch: at most N requests per batch (default: the API's limit, 50,000 for
    /// OpenAI, 100,000 for Anthropic; smaller batches finish sooner).
    #[arg(long, value_name = "N", value_parser = positive, requires = "batch")]
    pub batch_size: Option<usize>,
    /// With --batch: at most this many megabytes (10^6 bytes) per batch file (default: under
    /// the API's limit, 190 for OpenAI's 200 MB, 250 for Anthropic's 256 MB).
    #[arg(long, value_name = "MB", value_parser = parse_megabytes, requires = "batch")]
    pub batch_max_mb: Option<f64>,
}

/// How the command ended, for the exit status.
pub enum Finish {
    Done,
    /// Ctrl-C: the caller exits with 130, as shells expect.
    Interrupted,
}

pub fn run(args: EvalArgs) -> Result<Finish, String> {
    let started = Instant::now();
    let settings = args.settings()?;
    let rows = load_rows(&args, &settings)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;

    // Settings that can be wrong are checked before anything is read at length.
    let target_key = if settings.calls_target() {
        read_key(
            args.target_key_env.as_deref(),
            args.target_provider,
            "target",
        )?
    } else {
        String::new() // never called
    };
    let judge_key = if settings.judge.is_some() {
        read_key(args.judge_key_env.as_deref(), args.judge_provider, "judge")?
    } else {
        String::new()
    };
    let (template, template_note) = if settings.judge.is_some() {
        judge_template(&args)?
    } else {
        (JudgeTemplate::default(), String::new())
    };
    let target_priced = settings.target.priced();
    let judge_priced = settings.judge.as_ref().is_some_and(ApiSettings::priced);
    if let Some(cap) = args.max_spend {
        let unpriced: Vec<String> = [
            (settings.calls_target() && !target_priced)
                .then(|| format!("--target-price for {}", args.target_model)),
            (settings.judge.is_some() && !judge_priced)
                .then(|| format!("--judge-price for {}", args.judge_model)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !unpriced.is_empty() {
            return Err(format!(
                "--max-spend {cap} needs a price for every model it calls: pass {}",
                unpriced.join(" and ")
            ));
        }
    }

    let images = Images::open(&args)?;
    // The engine gives up at `timeout`; the HTTP thread a little later.
    let client = UreqClient::api(settings.timeout + Duration::from_secs(10));
    let target_api = settings.target.config(&target_key, false);
    let judge_api = settings.judge.as_ref().map(|j| j.config(&judge_key, false));
    let target_provider = HttpProvider::new(target_api.clone(), client.clone());
    let judge_provider = judge_api
        .clone()
        .map(|api| HttpProvider::new(api, client.clone()));

    let store_path = args.out.join("results.jsonl");
    let store = JsonlStore::open(&store_path).map_err(|e| e.to_string())?;
    if store.skipped_lines > 0 {
        println!(
            "{}: {} unreadable line(s) skipped (a torn last line is what an interrupted write \
             leaves; that result is requested again)",
            store_path.display(),
            store.skipped_lines
        );
    }
    let setup = EvalSetup::new(
        &settings,
        &target_provider,
        judge_provider.as_ref().map(|p| p as &dyn Provider),
        template.clone(),
    );

    // The plan and its price.
    let records = pollster::block_on(store.load()).map_err(|e| e.to_string())?;
    let work = setup.work(&rows, &records);
    println!(
        "target: {} at {}{}",
        args.target_model,
        target_api.base_url,
        price_note(
            &settings.target.cost_model(),
            target_priced,
            "--target-price"
        )
    );
    print_params("target", &settings.target.resolve(Stage::Target));
    if let (Some(_), Some(j)) = (&setup.judge, &settings.judge) {
        println!(
            "judge:  {} at {}, {template_note}{}",
            args.judge_model,
            judge_api.as_ref().map_or("", |a| a.base_url.as_str()),
            price_note(&j.cost_model(), judge_priced, "--judge-price")
        );
        print_params("judge", &j.resolve(Stage::Judge));
    }
    let sizes = image_sizes(&images, &rows, &work);
    let plan = Plan::new(&setup, &rows, work, &sizes);
    let todo: HashSet<u64> = plan.rows_with_work(&rows).map(|r| r.id).collect();
    if plan.is_empty() {
        println!(
            "nothing to send: every selected row is already done (or stopped at a stored error; --retry-errors tries those again)"
        );
    } else {
        print_plan(&args, rows.len(), &plan, target_priced, judge_priced);
        if !confirmed(args.yes)? {
            println!("not started; nothing was sent");
            return Ok(Finish::Done);
        }
    }

    let clock = ThreadClock::new();
    let mut cap_next = None;
    let mut selection = setup.selection();

    // The run.
    let no_judge = settings.judge.is_none();
    let priced = (!settings.calls_target() || target_priced) && (no_judge || judge_priced);
    let mut batch_end = None;
    let summary = if settings.batch {
        let apis = batch::Apis {
            target: &target_api,
            judge: judge_api.as_ref(),
        };
        let outcome = batch::run(&args, setup, apis, &store, &images, &clock, &rows)?;
        batch::print_totals(&outcome, args.max_spend, priced);
        let summary = outcome.summary.clone();
        batch_end = Some(outcome);
        summary
    } else if plan.is_empty() {
        RunSummary::default()
    } else {
        let mut engine = setup.engine(&store, &images, &clock);
        let progress = Progress::new(
            todo,
            !no_judge,
            engine.target.cost.pricing,
            engine.judge.as_ref().map(|(j, _)| j.cost.pricing),
            priced,
        )?;
        catch_ctrl_c(&engine.control);
        let observer = |event: &leakscope::eval::EngineEvent<'_>| progress.on_event(event);
        engine.observer = Some(&observer);
        let summary = pollster::block_on(engine.run(&rows))
            .map_err(|e| format!("{e}; what was stored so far is in {}", store_path.display()))?;
        progress.finish();
        print_summary(&summary, progress.retries(), args.max_spend, priced);
        cap_next = progress.cap_next();
        summary
    };

    // The report, from everything stored for this setup.
    let records = pollster::block_on(store.load()).map_err(|e| e.to_string())?;
    let second = other_judge(&records, &selection);
    if let Some((key, n)) = &second {
        println!(
            "second judge for agreement: {} ({n} verdicts on these answers in results.jsonl)",
            key.model
        );
    }
    selection.second_judge = second.map(|(k, _)| k);
    let results = results::collect(&rows, &records, &selection);
    let report = Report::build(&results);
    let setup = Setup {
        dataset: args.dataset.display().to_string(),
        images: images.describe(),
        target: ModelInfo::new(&settings.target, target_priced, Stage::Target),
        judge: settings
            .judge
            .as_ref()
            .map(|j| ModelInfo::new(j, judge_priced, Stage::Judge)),
        judge_template: (!no_judge).then(|| template_note.clone()),
        judge_template_sha256: (!no_judge).then(|| template.sha256()),
        template: (!no_judge).then(|| TemplateInfo::of(&template)),
        second_judge: selection.second_judge.as_ref().map(|k| k.model.clone()),
        mode: settings.mode,
        batch: settings.batch,
        rows: rows.len(),
    };
    let official = write_outputs(&args.out, &setup, &summary, &report, &results)?;
    if no_judge {
        let answered = results.iter().filter(|r| r.answer.is_some()).count();
        let failed = results.iter().filter(|r| r.target_error.is_some()).count();
        println!(
            "{answered} of {} rows answered, {failed} target error(s); judge them with --rejudge",
            rows.len()
        );
    } else {
        print!("{}", table::render_table(&report));
    }
    for d in settings.departures() {
        println!("Departs from the official protocol: {d}");
    }
    let official = match (no_judge, official) {
        (true, _) => String::new(),
        (false, Some(name)) => format!(", {name}"),
        (false, None) => {
            println!("no official-format file: no row is labelled yet");
            String::new()
        }
    };
    println!(
        "wrote {} (report.json, rows.jsonl, rows.csv{official}) in {:.1} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    if let Some(end) = batch_end {
        return batch::finish(end, &store_path);
    }
    match (summary.stopped, &summary.halt) {
        (_, Some(halt)) => Err(format!(
            "the run stopped at once: {halt} Everything received before is kept in {}.",
            store_path.display()
        )),
        (Some(StopReason::Cancelled), _) => {
            println!("interrupted: run the same command again to continue");
            Ok(Finish::Interrupted)
        }
        (Some(StopReason::CostCap), _) => {
            let next = cap_next.map_or(String::new(), |n| {
                format!("; the next request could cost up to ${n:.4}")
            });
            println!(
                "stopped at the spending cap: ${:.4} spent of ${:.2}{next}. Raise --max-spend \
                 to continue (nothing already received is requested again)",
                summary.spent,
                args.max_spend.unwrap_or(0.0)
            );
            Ok(Finish::Done)
        }
        _ => Ok(Finish::Done),
    }
}

/// The decoding fields a model gets, and how they depart from the official protocol.
fn print_params(role: &str, resolved: &leakscope::eval::profiles::Resolved) {
    let p = &resolved.params;
    let mut sent = vec![format!("{} {}", p.token_field.name(), p.max_tokens)];
    if let Some(t) = p.temperature {
        sent.push(format!("temperature {t}"));
    }
    if let Some(t) = p.top_p {
        sent.push(format!("top_p {t}"));
    }
    if let Some(e) = &p.reasoning_effort {
        sent.push(format!("reasoning_effort {e}"));
    }
    println!(
        "        sends {} (--{role}-param changes them)",
        sent.join(", ")
    );
    for d in &resolved.departures {
        println!("        note: {d}");
    }
}

fn load_rows(args: &EvalArgs, settings: &EvalSettings) -> Result<Vec<Row>, String> {
    let bytes = super::read_limited(&args.dataset, leakscope::datasets::MAX_METADATA_BYTES)?;
    let name = args.dataset.display().to_string();
    let loaded = datasets::load(
        Some(DatasetFormat::VlsBench),
        &name,
        &bytes,
        Strictness::Strict,
    )
    .map_err(|e| e.to_string())?;
    let all = rows_from_samples(&loaded.samples).map_err(|e| format!("{name}: {e}"))?;
    if let Some(set) = &settings.rows {
        let present: HashSet<u64> = all.iter().map(|r| r.id).collect();
        let absent = set.ids_outside(&present);
        if !absent.is_empty() {
            eprintln!(
                "warning: --rows names {} id(s) not in {name} (e.g. {})",
                absent.len(),
                absent[0]
            );
        }
    }
    let rows = settings.select(&all);
    println!("{name}: {} of {} rows selected", rows.len(), all.len());
    if rows.is_empty() {
        return Err("no rows selected (check --rows and --max-rows)".to_owned());
    }
    Ok(rows)
}

/// The key from the environment; the variable's name defaults by provider.
fn read_key(var: Option<&str>, api: ApiFlavour, role: &str) -> Result<String, String> {
    let var = var.unwrap_or(api.default_key_env());
    match std::env::var(var) {
        Ok(key) => Ok(key.trim().to_owned()),
        Err(std::env::VarError::NotPresent) => Err(format!(
            "the {role} API key is read from the environment variable {var}, which is not set: \
             `export {var}=...` first, or name another variable with --{role}-key-env \
             (keys are never taken on the command line; a local server without keys accepts \
             an empty value)"
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{var} is not valid UTF-8")),
    }
}

/// `--yes`, or a "y" typed at a terminal.
fn confirmed(yes: bool) -> Result<bool, String> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            "no terminal to confirm on: read the estimate above and pass --yes to start".to_owned(),
        );
    }
    eprint!("start? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| e.to_string())?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// First Ctrl-C: no new request, those in flight are stored, then the report. Second: quit now
/// (every stored record is already on disk).
fn catch_ctrl_c(control: &leakscope::eval::RunControl) {
    let control = control.clone();
    let pressed = Arc::new(AtomicBool::new(false));
    let result = ctrlc::set_handler(move || {
        if pressed.swap(true, Ordering::SeqCst) {
            eprintln!("\nquitting now; results.jsonl holds everything received");
            std::process::exit(130);
        }
        eprintln!(
            "\nstopping: waiting for the requests in flight to be stored (Ctrl-C again quits now)"
        );
        control.cancel();
    });
    if let Err(e) = result {
        eprintln!("warning: Ctrl-C will quit without a report ({e})");
    }
}
