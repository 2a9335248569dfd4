//! Before an evaluation sends anything: which rows still need a target call, which only a judge
//! call, and what that can cost at most — the one planner `leakscope eval` and the page's panel
//! both call, from the same [`EvalSettings`], the stored records and the images' sizes.
//!
//! It follows the engine's rule for each (row, stage) — reuse a stored success, leave a stored
//! error alone unless retrying errors, judge only stored answers when judging again — on record
//! keys without the image hash: images are not read whole here (only their headers, for the
//! size the token count needs). The engine, which does hash them, decides in the end; a row
//! whose image file changed since its answer is called again although the plan counted it done.
//!
//! [`EvalSetup`] is the run itself: the model setups and engine settings built from the same
//! settings, then [`EvalSetup::engine`] with the platform's store, images and clock.

use std::collections::HashMap;

use super::cost::{self, Estimate, EstimateRow};
use super::dataset::Row;
use super::engine::{Engine, EngineSettings, ModelSetup, RunMode};
use super::image::{ImageData, ImageSource};
use super::protocol::{ChatRequest, JudgeTemplate, judge_request, target_request};
use super::provider::Provider;
use super::settings::EvalSettings;
use super::store::{Record, ResultStore, Stage};
use crate::platform::clock::Clock;

/// What one row needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// Its target answer (then the judge, when there is one).
    Full,
    /// Only the judge, on the stored answer.
    Judge,
    /// Nothing: done, or stopped at a stored error that this mode leaves alone.
    Nothing,
}

/// The models of a run with their decoding settings and costs, the judge's template, and the
/// engine's settings: everything but the platform's services.
pub struct EvalSetup<'a> {
    pub target: ModelSetup<'a>,
    pub judge: Option<(ModelSetup<'a>, JudgeTemplate)>,
    pub engine: EngineSettings,
}

impl<'a> EvalSetup<'a> {
    /// `judge`: the judge's provider, when `settings` has a judge; `template`: its
    /// instructions (the text of `settings.template`).
    pub fn new(
        settings: &EvalSettings,
        target: &'a dyn Provider,
        judge: Option<&'a dyn Provider>,
        template: JudgeTemplate,
    ) -> Self {
        let judge = settings.judge.as_ref().zip(judge).map(|(s, provider)| {
            let setup = ModelSetup {
                provider,
                params: s.resolve(Stage::Judge).params,
                cost: settings.cost_model(s),
            };
            (setup, template)
        });
        Self {
            target: ModelSetup {
                provider: target,
                params: settings.target.resolve(Stage::Target).params,
                cost: settings.cost_model(&settings.target),
            },
            judge,
            engine: settings.engine_settings(),
        }
    }

    /// The engine for this setup on the platform's store, images and clock.
    pub fn engine(
        self,
        store: &'a dyn ResultStore,
        images: &'a dyn ImageSource,
        clock: &'a dyn Clock,
    ) -> Engine<'a> {
        let mut engine = Engine::new(self.target, store, images, clock);
        engine.judge = self.judge;
        engine.settings = self.engine;
        engine
    }

    /// The keys to read this setup's results back from the store.
    pub fn selection(&self) -> super::results::Selection {
        super::engine::selection(&self.target, self.judge.as_ref())
    }

    /// What each row of `rows` needs, given the stored `records`.
    pub fn work(&self, rows: &[Row], records: &[Record]) -> Vec<Work> {
        let judge = self.judge.as_ref().map(|(j, t)| (j, t));
        work(rows, records, &self.target, judge, self.engine.mode)
    }
}

/// A record key without the image hash: (stage, row, model, parameters hash, prompt hash,
/// endpoint).
type Slot<'r> = (Stage, u64, &'r str, &'r str, &'r str, Option<&'r str>);

/// The latest success per slot, else the latest error (the engine's [`StoreIndex`] rule,
/// records without an endpoint included).
///
/// [`StoreIndex`]: super::store::StoreIndex
struct Index<'r>(HashMap<Slot<'r>, &'r Record>);

impl<'r> Index<'r> {
    fn new(records: &'r [Record]) -> Self {
        let mut map: HashMap<Slot<'r>, &'r Record> = HashMap::new();
        for r in records {
            let k = &r.key;
            let endpoint = k.endpoint.as_deref();
            let slot = (r.stage, k.row, &*k.model, &*k.params, &*k.prompt, endpoint);
            match map.get(&slot) {
                Some(old) if !old.is_error() && r.is_error() => {}
                _ => {
                    map.insert(slot, r);
                }
            }
        }
        Self(map)
    }

    fn get(
        &self,
        stage: Stage,
        row: u64,
        model: &dyn Provider,
        request: &ChatRequest,
    ) -> Option<&Record> {
        let (params, prompt) = (request.params_hash(), request.prompt_hash());
        let slot = |endpoint| {
            (
                stage,
                row,
                model.model(),
                params.as_str(),
                prompt.as_str(),
                endpoint,
            )
        };
        let endpoint = model.endpoint();
        self.0
            .get(&slot(endpoint))
            .or_else(|| endpoint.and_then(|_| self.0.get(&slot(None))))
            .copied()
    }
}

/// What each row of `rows` needs, in order.
pub fn work(
    rows: &[Row],
    records: &[Record],
    target: &ModelSetup<'_>,
    judge: Option<(&ModelSetup<'_>, &JudgeTemplate)>,
    mode: RunMode,
) -> Vec<Work> {
    let index = Index::new(records);
    let image = ImageData::stand_in();
    rows.iter()
        .map(|row| {
            let request = target_request(&row.instruction, &image, &target.params);
            let answer = index.get(Stage::Target, row.id, target.provider, &request);
            let answer = match (answer, mode) {
                (Some(r), _) if !r.is_error() => r.response(),
                (Some(_), RunMode::RetryErrors) | (None, RunMode::Resume) => return Work::Full,
                _ => return Work::Nothing,
            };
            let (Some(answer), Some((judge, template))) = (answer, judge) else {
                return Work::Nothing;
            };
            let request = judge_request(
                template,
                &row.instruction,
                answer.answer_text(),
                &image,
                &judge.params,
                judge.provider.supports_json_schema(),
            );
            match (
                index.get(Stage::Judge, row.id, judge.provider, &request),
                mode,
            ) {
                (Some(r), RunMode::RetryErrors) if r.needs_retry() => Work::Judge,
                (Some(r), _) if !r.is_error() => Work::Nothing,
                (Some(_), RunMode::RetryErrors) => Work::Judge,
                (None, RunMode::Resume | RunMode::JudgeOnly) => Work::Judge,
                _ => Work::Nothing,
            }
        })
        .collect()
}

/// The plan of a run: what each row needs and what that can cost at most.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub work: Vec<Work>,
    pub estimate: Estimate,
    /// Rows needing everything, rows needing the judge only.
    pub full: usize,
    pub judge_only: usize,
    /// Rows with work whose image could not be sized: they will fail without a request and
    /// are not in the estimate.
    pub unreadable: usize,
}

impl Plan {
    /// `sizes[i]`: the image size of `rows[i]` (`None`: unreadable, or not needed because the
    /// row has no work).
    pub fn new(
        setup: &EvalSetup<'_>,
        rows: &[Row],
        work: Vec<Work>,
        sizes: &[Option<(u32, u32)>],
    ) -> Self {
        let judge = setup
            .judge
            .as_ref()
            .map(|(j, template)| (j, template.text().len()));
        let estimate = estimate(rows, &work, sizes, &setup.target, judge);
        let count = |w: Work| work.iter().filter(|x| **x == w).count();
        let unreadable = work
            .iter()
            .zip(sizes)
            .filter(|(w, s)| **w != Work::Nothing && s.is_none())
            .count();
        Self {
            full: count(Work::Full),
            judge_only: count(Work::Judge),
            unreadable,
            estimate,
            work,
        }
    }

    /// Whether anything will be sent.
    pub fn is_empty(&self) -> bool {
        self.full + self.judge_only == 0
    }

    /// The rows with work, for the progress display.
    pub fn rows_with_work<'r>(&self, rows: &'r [Row]) -> impl Iterator<Item = &'r Row> {
        rows.iter()
            .zip(&self.work)
            .filter(|(_, w)| **w != Work::Nothing)
            .map(|(r, _)| r)
    }
}

/// The most the planned calls can cost: rows needing everything, plus judge calls alone for
/// rows that only need the judge. `sizes[i]`: the image size of `rows[i]` (`None`: unreadable,
/// the row will fail without a call). `judge`: its setup and template length.
pub fn estimate(
    rows: &[Row],
    work: &[Work],
    sizes: &[Option<(u32, u32)>],
    target: &ModelSetup<'_>,
    judge: Option<(&ModelSetup<'_>, usize)>,
) -> Estimate {
    let pick = |want: Work| -> Vec<EstimateRow<'_>> {
        rows.iter()
            .zip(work)
            .zip(sizes)
            .filter(|((_, w), _)| **w == want)
            .filter_map(|((row, _), size)| {
                let (width, height) = (*size)?;
                Some(EstimateRow {
                    instruction: &row.instruction,
                    width,
                    height,
                })
            })
            .collect()
    };
    let judge = judge.map(|(j, template_len)| (&j.cost, &j.params, template_len));
    let target = (&target.cost, &target.params);
    let mut total = cost::estimate(&pick(Work::Full), target, judge);
    let judge_only = cost::estimate(&pick(Work::Judge), target, judge);
    total.judge_input_tokens += judge_only.judge_input_tokens;
    total.judge_output_tokens_max += judge_only.judge_output_tokens_max;
    total.judge_cost_max += judge_only.judge_cost_max;
    total.rows += judge_only.rows;
    total
}
