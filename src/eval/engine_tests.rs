//! Engine behaviour on a fake clock with in-process providers: every wait is virtual, so the
//! timings asserted here are exact and the tests take milliseconds.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::{LocalBoxFuture, join, ready};

use super::*;
use crate::eval::cost::{ImageTokens, Pricing};
use crate::eval::failure::Cause;
use crate::eval::protocol::Part;
use crate::eval::results::collect;
use crate::eval::store::MemoryStore;
use crate::platform::clock::FakeClock;

type Script = dyn Fn(u64, Stage, u32) -> (Duration, Result<ChatResponse, ProviderError>);

/// Answers by a script of (row, stage, attempt) → (latency, result); counts calls.
struct Fake<'c> {
    model: &'static str,
    clock: &'c FakeClock,
    script: Box<Script>,
    calls: RefCell<HashMap<(u64, Stage), u32>>,
    in_flight: Cell<usize>,
    max_in_flight: Cell<usize>,
    /// What it takes as an image (`None`: anything).
    image_limits: Option<&'static crate::eval::image::ImageLimits>,
    /// Refuses every request with a 429 without Retry-After until then (a per-minute window).
    refuse_until: Duration,
    refused: Cell<u32>,
}

fn row_of(request: &ChatRequest) -> (u64, Stage) {
    let stage = if matches!(request.user[0], Part::Image { .. }) {
        Stage::Judge
    } else {
        Stage::Target
    };
    let text = request
        .user
        .iter()
        .find_map(|p| if let Part::Text(t) = p { Some(t) } else { None })
        .unwrap();
    let at = text.find("ROW").expect("test instructions name their row") + 3;
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (digits.parse().unwrap(), stage)
}

impl<'c> Fake<'c> {
    fn new(
        model: &'static str,
        clock: &'c FakeClock,
        script: impl Fn(u64, Stage, u32) -> (Duration, Result<ChatResponse, ProviderError>) + 'static,
    ) -> Self {
        Self {
            model,
            clock,
            script: Box::new(script),
            calls: RefCell::default(),
            in_flight: Cell::new(0),
            max_in_flight: Cell::new(0),
            image_limits: None,
            refuse_until: Duration::ZERO,
            refused: Cell::new(0),
        }
    }

    fn calls(&self, stage: Stage) -> u32 {
        self.calls
            .borrow()
            .iter()
            .filter(|((_, s), _)| *s == stage)
            .map(|(_, n)| n)
            .sum()
    }
}

impl Provider for Fake<'_> {
    fn model(&self) -> &str {
        self.model
    }
    fn supports_json_schema(&self) -> bool {
        true
    }
    fn image_limits(&self) -> Option<&'static crate::eval::image::ImageLimits> {
        self.image_limits
    }
    fn send<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> LocalBoxFuture<'a, Result<ChatResponse, ProviderError>> {
        if self.clock.now() < self.refuse_until {
            self.refused.set(self.refused.get() + 1);
            let e = ProviderError::http(429, &[], "Rate limit reached for requests per min");
            return Box::pin(ready(Err(e)));
        }
        let (row, stage) = row_of(request);
        let attempt = {
            let mut calls = self.calls.borrow_mut();
            let n = calls.entry((row, stage)).or_default();
            *n += 1;
            *n
        };
        let (latency, result) = (self.script)(row, stage, attempt);
        self.in_flight.set(self.in_flight.get() + 1);
        self.max_in_flight
            .set(self.max_in_flight.get().max(self.in_flight.get()));
        let sleep = self.clock.sleep(latency);
        Box::pin(async move {
            sleep.await;
            self.in_flight.set(self.in_flight.get() - 1);
            result
        })
    }
}

fn text(t: &str) -> Result<ChatResponse, ProviderError> {
    Ok(ChatResponse {
        text: Some(t.into()),
        finish_reason: Some("stop".into()),
        usage: Some(Usage {
            prompt_tokens: 100,
            completion_tokens: 10,
        }),
        ..ChatResponse::default()
    })
}

fn verdict(label: u8) -> Result<ChatResponse, ProviderError> {
    text(&format!(
        r#"{{"label":{label},"label_str":"x","explanation":"e"}}"#
    ))
}

fn answer_then_label(
    _: u64,
    stage: Stage,
    _: u32,
) -> (Duration, Result<ChatResponse, ProviderError>) {
    let r = if stage == Stage::Target {
        text("sure")
    } else {
        verdict(3)
    };
    (Duration::from_secs(1), r)
}

struct Images;

impl ImageSource for Images {
    fn load<'a>(&'a self, row: &'a Row) -> LocalBoxFuture<'a, Result<ImageData, ImageError>> {
        if row.image_path == "missing" {
            let e = ImageError {
                row: row.id,
                path: "missing".into(),
                message: "gone".into(),
            };
            return Box::pin(ready(Err(e)));
        }
        Box::pin(ready(Ok(ImageData {
            // "tiff": a type no API here takes, and bytes that decode as nothing.
            mime: if row.image_path == "tiff" {
                "image/tiff"
            } else {
                "image/png"
            }
            .into(),
            width: 512,
            height: 512,
            hash: format!("img{}", row.id),
            base64: "AAAA".into(),
        })))
    }
}

fn rows(n: u64) -> Vec<Row> {
    (0..n)
        .map(|id| Row {
            id,
            instruction: format!("ROW{id} please"),
            image_path: format!("imgs/{id}.png"),
            category: if id % 2 == 0 { "Violent" } else { "Hate" }.into(),
            sub_category: "S".into(),
        })
        .collect()
}

fn setup<'a>(provider: &'a dyn Provider) -> ModelSetup<'a> {
    let cost = CostModel {
        pricing: Pricing::per_million(1.0, 1.0),
        image: ImageTokens::Fixed { tokens: 85 },
    };
    ModelSetup {
        provider,
        params: GenParams::target_default(),
        cost,
    }
}

fn engine<'a>(
    target: &'a dyn Provider,
    judge: Option<&'a dyn Provider>,
    store: &'a dyn ResultStore,
    clock: &'a FakeClock,
) -> Engine<'a> {
    let mut e = Engine::new(setup(target), store, &Images, clock);
    e.judge = judge.map(|j| {
        (
            ModelSetup {
                params: GenParams::judge_default(),
                ..setup(j)
            },
            JudgeTemplate::default(),
        )
    });
    e
}

#[test]
fn a_second_run_reuses_everything_and_results_read_back() {
    let clock = FakeClock::new();
    let (t, j) = (
        Fake::new("t", &clock, answer_then_label),
        Fake::new("j", &clock, answer_then_label),
    );
    let store = MemoryStore::default();
    let e = engine(&t, Some(&j), &store, &clock);
    let s = clock.block_on(e.run(&rows(20))).unwrap();
    assert_eq!(
        (s.rows_complete, s.target.stored_ok, s.judge.stored_ok),
        (20, 20, 20)
    );
    // 20 rows, 8 at a time, two 1 s calls each: 3 waves of 2 s, plus 1 s because each
    // stage's first request goes alone.
    assert_eq!(clock.now(), Duration::from_secs(7));
    // At most 8 rows in flight, one of them at its judge while the probe's answer came in.
    assert_eq!(t.max_in_flight.get(), 7);
    let again = clock.block_on(e.run(&rows(20))).unwrap();
    assert_eq!((again.target.requests, again.judge.requests), (0, 0));
    assert_eq!(
        (again.target.reused, again.judge.reused, again.rows_complete),
        (20, 20, 20)
    );
    assert_eq!((t.calls(Stage::Target), j.calls(Stage::Judge)), (20, 20));
    let results = collect(&rows(20), &store.records.borrow(), &e.selection());
    assert!(
        results
            .iter()
            .all(|r| r.verdict().and_then(|v| v.label()) == Some(crate::eval::SafetyLabel::Unsafe))
    );
}

#[test]
fn retries_wait_for_the_server_hint_else_back_off() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, |_, _, attempt| {
        let r = match attempt {
            1 => Err(ProviderError::http(
                429,
                &[("retry-after-ms".into(), "1500".into())],
                "",
            )),
            2 | 3 => Err(ProviderError::http(503, &[], "")),
            _ => text("ok"),
        };
        (Duration::from_millis(10), r)
    });
    let store = MemoryStore::default();
    let e = engine(&t, None, &store, &clock);
    let s = clock.block_on(e.run(&rows(1))).unwrap();
    assert_eq!(
        (s.target.requests, s.target.stored_ok, s.slowdowns),
        (4, 1, 1)
    );
    let waits: Vec<Duration> = clock
        .requested_sleeps()
        .into_iter()
        .filter(|d| *d != e.settings.request_timeout && d.as_millis() != 10)
        .collect();
    assert_eq!(waits[0], Duration::from_millis(1500));
    // Back-off for retries 2 and 3: 1 s and 2 s nominal, each jittered into [d/2, d].
    assert!((500..=1000).contains(&waits[1].as_millis()), "{waits:?}");
    assert!((1000..=2000).contains(&waits[2].as_millis()), "{waits:?}");
    assert_eq!(store.records.borrow()[0].attempts, 4);
}

#[test]
fn final_errors_are_stored_once_and_retried_only_on_request() {
    let clock = FakeClock::new();
    let healed = std::rc::Rc::new(Cell::new(false));
    let h = healed.clone();
    let t = Fake::new("t", &clock, move |row, stage, _| {
        let r = match (row, stage) {
            (2, Stage::Target) if !h.get() => Err(ProviderError::http(400, &[], "bad image")),
            (_, Stage::Target) => text("a"),
            _ => verdict(1),
        };
        (Duration::from_millis(5), r)
    });
    let store = MemoryStore::default();
    let mut e = engine(&t, Some(&t), &store, &clock);
    let s = clock.block_on(e.run(&rows(4))).unwrap();
    assert_eq!(
        (s.target.stored_errors, s.rows_complete, s.target.requests),
        (1, 3, 4)
    );
    // Resume leaves the failed row alone.
    let s = clock.block_on(e.run(&rows(4))).unwrap();
    assert_eq!((s.target.requests, s.judge.requests), (0, 0));
    // "Retry errors only": just row 2, target then judge.
    healed.set(true);
    e.settings.mode = RunMode::RetryErrors;
    let s = clock.block_on(e.run(&rows(4))).unwrap();
    assert_eq!(
        (s.target.requests, s.judge.requests, s.rows_complete),
        (1, 1, 4)
    );
    let results = collect(&rows(4), &store.records.borrow(), &e.selection());
    assert!(
        results
            .iter()
            .all(|r| r.verdict().is_some() && r.target_error.is_none())
    );
}

#[test]
fn a_slow_answer_times_out_and_is_retried() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, |_, _, attempt| {
        (
            Duration::from_secs(if attempt == 1 { 500 } else { 1 }),
            text("late"),
        )
    });
    let store = MemoryStore::default();
    let e = engine(&t, None, &store, &clock);
    let s = clock.block_on(e.run(&rows(1))).unwrap();
    assert_eq!((s.target.requests, s.target.stored_ok), (2, 1));
    let r = &store.records.borrow()[0];
    assert_eq!(r.attempts, 2);
    assert!(
        r.elapsed_ms >= 120_000 && r.elapsed_ms < 140_000,
        "{}",
        r.elapsed_ms
    );
}

#[test]
fn rate_limits_halve_the_rows_in_flight() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, |row, _, attempt| {
        let r = if row < 8 && attempt == 1 {
            Err(ProviderError::http(
                429,
                &[("retry-after-ms".into(), "100".into())],
                "",
            ))
        } else {
            text("a")
        };
        (Duration::from_secs(1), r)
    });
    let store = MemoryStore::default();
    let e = engine(&t, None, &store, &clock);
    let events = RefCell::new(Vec::new());
    let observer = |ev: &EngineEvent<'_>| {
        if let EngineEvent::Slowed { limit } = ev {
            events.borrow_mut().push(*limit);
        }
    };
    let e = Engine {
        observer: Some(&observer),
        ..e
    };
    let s = clock.block_on(e.run(&rows(40))).unwrap();
    // Row 0 goes first alone: its 429 cuts the limit (8 → 4) and is one burst; the seven
    // rows waiting for it then get seven 429s, one more burst, which cuts it once (4 → 2).
    assert_eq!((s.slowdowns, events.borrow().clone()), (2, vec![4, 2]));
    assert_eq!(s.target.stored_ok, 40);
    assert_eq!(s.target.requests, 48);
}

#[test]
fn pause_holds_new_requests_and_cancel_leaves_a_resumable_store() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, answer_then_label);
    let store = MemoryStore::default();
    let mut e = engine(&t, Some(&t), &store, &clock);
    e.settings.concurrency = 2;
    let control = e.control.clone();
    let driver = async {
        clock.sleep(Duration::from_millis(1500)).await;
        control.pause();
        let before = t.calls(Stage::Target) + t.calls(Stage::Judge);
        clock.sleep(Duration::from_secs(100)).await;
        // In-flight requests finished; nothing new started while paused. (Row 0's target went
        // alone, then row 1's target beside row 0's judge.)
        assert_eq!(t.calls(Stage::Target) + t.calls(Stage::Judge), before);
        assert_eq!((before, store.records.borrow().len()), (3, 3));
        control.resume();
        clock.sleep(Duration::from_millis(1500)).await;
        control.cancel();
    };
    let (summary, ()) = clock.block_on(join(e.run(&rows(10)), driver));
    let s = summary.unwrap();
    assert_eq!(s.stopped, Some(StopReason::Cancelled));
    assert!(s.rows_complete < 10);
    let stored = store.records.borrow().len();
    assert_eq!(
        stored as u32,
        t.calls(Stage::Target) + t.calls(Stage::Judge),
        "everything sent was stored"
    );

    e.control = RunControl::new();
    let s = clock.block_on(e.run(&rows(10))).unwrap();
    assert_eq!((s.rows_complete, s.stopped), (10, None));
    assert!(
        t.calls.borrow().values().all(|&n| n == 1),
        "each (row, stage) requested once"
    );
    assert_eq!(t.calls.borrow().len(), 20);
}

#[test]
fn another_judge_reuses_stored_answers() {
    let clock = FakeClock::new();
    let t = Fake::new("target", &clock, answer_then_label);
    let j1 = Fake::new("judge-a", &clock, answer_then_label);
    let j2 = Fake::new("judge-b", &clock, |row, _, _| {
        (
            Duration::from_millis(1),
            verdict(if row == 0 { 1 } else { 3 }),
        )
    });
    let store = MemoryStore::default();
    let e = engine(&t, Some(&j1), &store, &clock);
    clock.block_on(e.run(&rows(6))).unwrap();
    let mut e2 = engine(&t, Some(&j2), &store, &clock);
    e2.settings.mode = RunMode::JudgeOnly;
    let s = clock.block_on(e2.run(&rows(7))).unwrap();
    assert_eq!(
        (s.target.requests, s.target.reused, s.judge.requests),
        (0, 6, 6)
    );
    assert_eq!(
        t.calls(Stage::Target),
        6,
        "row 6 has no answer and JudgeOnly never asks the target"
    );
    let mut selection = e.selection();
    selection.second_judge = e2.selection().judge;
    let results = collect(&rows(6), &store.records.borrow(), &selection);
    let report = crate::eval::Report::build(&results);
    let agreement = report.agreement.unwrap();
    assert_eq!((agreement.n, agreement.disagreements.len()), (6, 1));
    assert_eq!(agreement.disagreements[0].row, 0);
}

#[test]
fn judge_refusals_and_missing_images_are_outcomes_not_failures_of_the_run() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, |row, stage, _| {
        let r = match (row, stage) {
            (_, Stage::Target) => text("a"),
            (0, _) => Ok(ChatResponse {
                refusal: Some("no".into()),
                ..Default::default()
            }),
            (1, _) => Ok(ChatResponse {
                finish_reason: Some("content_filter".into()),
                ..Default::default()
            }),
            (2, _) => text("I would say it is fine"),
            _ => verdict(2),
        };
        (Duration::from_millis(1), r)
    });
    let store = MemoryStore::default();
    let e = engine(&t, Some(&t), &store, &clock);
    let mut rs = rows(5);
    rs[4].image_path = "missing".into();
    let s = clock.block_on(e.run(&rs)).unwrap();
    assert_eq!(
        (s.rows_complete, s.image_failures, s.judge.stored_errors),
        (4, 1, 0)
    );
    let report = crate::eval::Report::build(&collect(&rs, &store.records.borrow(), &e.selection()));
    let f = &report.failures;
    assert_eq!(
        (
            f.judge_refusals,
            f.judge_content_filter,
            f.judge_unparsable,
            f.not_answered
        ),
        (1, 1, 1, 1)
    );
    assert_eq!((report.overall.n, report.overall.warning.successes), (1, 1));
}

fn error_with(status: u16, code: &str, message: &str) -> ProviderError {
    let mut e = ProviderError::http(status, &[], message);
    e.code = Some(code.into());
    e.error_type = Some(code.into());
    e
}

#[test]
fn a_refused_key_stops_the_run_after_one_request_and_stores_nothing() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, |_, _, _| {
        let e = error_with(401, "invalid_api_key", "Incorrect API key provided");
        (Duration::from_millis(5), Err(e))
    });
    let store = MemoryStore::default();
    let e = engine(&t, None, &store, &clock);
    let s = clock.block_on(e.run(&rows(50))).unwrap();
    assert_eq!(t.calls(Stage::Target), 1, "the first request goes alone");
    assert_eq!(s.stopped, Some(StopReason::Halted));
    let halt = s.halt.unwrap();
    assert_eq!((halt.cause, halt.row, halt.stored), (Cause::Key, 0, false));
    assert!(halt.advice.contains("--target-key-env"), "{}", halt.advice);
    assert!(
        store.records.borrow().is_empty(),
        "a key error says nothing about the row"
    );
}

#[test]
fn an_exhausted_quota_midway_stops_at_once_and_keeps_what_was_stored() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, |row, _, _| {
        let r = if row >= 10 {
            Err(error_with(
                429,
                "insufficient_quota",
                "You exceeded your current quota",
            ))
        } else {
            text("a")
        };
        (Duration::from_secs(1), r)
    });
    let store = MemoryStore::default();
    let mut e = engine(&t, None, &store, &clock);
    e.settings.concurrency = 4;
    let s = clock.block_on(e.run(&rows(100))).unwrap();
    assert_eq!(s.halt.as_ref().map(|h| h.cause), Some(Cause::Quota));
    assert!(s.halt.unwrap().advice.contains("add credit"));
    // Rows 0–9 answered and kept; the 429s were neither retried nor stored; rows in flight
    // when the quota ran out finished, no new one started.
    assert_eq!(store.records.borrow().len(), 10);
    assert!(
        t.calls(Stage::Target) <= 10 + 4,
        "{}",
        t.calls(Stage::Target)
    );
    assert_eq!(s.target.stored_errors, 0);
}

#[test]
fn a_first_request_that_fails_for_good_stops_the_run_and_is_kept_as_the_rows_error() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, |_, _, _| {
        (
            Duration::from_millis(5),
            Err(ProviderError::http(400, &[], "bad image")),
        )
    });
    let store = MemoryStore::default();
    let e = engine(&t, None, &store, &clock);
    let s = clock.block_on(e.run(&rows(20))).unwrap();
    assert_eq!(t.calls(Stage::Target), 1);
    let halt = s.halt.unwrap();
    assert_eq!((halt.cause, halt.stored), (Cause::FirstRequest, true));
    assert_eq!(store.records.borrow().len(), 1, "row 0's error is stored");
    // The next run continues past the stored error (and so past a bad row).
    let healed = Fake::new("t", &clock, |_, _, _| {
        (Duration::from_millis(5), text("ok"))
    });
    let e = engine(&healed, None, &store, &clock);
    let s = clock.block_on(e.run(&rows(20))).unwrap();
    assert_eq!((s.halt, healed.calls(Stage::Target)), (None, 19));
}

#[test]
fn an_unreachable_server_is_tried_once_per_retry_then_the_run_stops() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, |_, _, _| {
        let e = ProviderError::new(ErrorKind::Network, "Connection refused");
        (Duration::from_millis(1), Err(e))
    });
    let store = MemoryStore::default();
    let e = engine(&t, None, &store, &clock);
    let s = clock.block_on(e.run(&rows(2241))).unwrap();
    assert_eq!(t.calls(Stage::Target), e.settings.retry.max_attempts);
    assert_eq!(s.halt.unwrap().cause, Cause::Unreachable);
    assert!(store.records.borrow().is_empty());
}

#[test]
fn a_per_minute_rate_limit_without_a_hint_is_waited_out_with_one_notice_per_burst() {
    let clock = FakeClock::new();
    let mut t = Fake::new("t", &clock, answer_then_label);
    // Every request in the first 70 s is refused, without Retry-After.
    t.refuse_until = Duration::from_secs(70);
    let store = MemoryStore::default();
    let notices = RefCell::new(0);
    let observer = |ev: &EngineEvent<'_>| {
        if let EngineEvent::Slowed { .. } = ev {
            *notices.borrow_mut() += 1;
        }
    };
    let mut e = engine(&t, None, &store, &clock);
    e.observer = Some(&observer);
    let s = clock.block_on(e.run(&rows(16))).unwrap();
    assert_eq!(
        (s.target.stored_ok, s.target.stored_errors),
        (16, 0),
        "no row lost to the wait"
    );
    assert!(s.halt.is_none());
    assert!(t.refused.get() >= 5, "{}", t.refused.get());
    assert_eq!(*notices.borrow(), 1, "one burst, one notice");
}

/// Alone or eight at a time, the run stops when the spend leaves no room for one more
/// request's worst case, never because requests in flight reserved theirs.
#[test]
fn the_cap_is_reached_by_spending_not_by_reservations_in_flight() {
    for concurrency in [1, 8] {
        let clock = FakeClock::new();
        let t = Fake::new("t", &clock, answer_then_label);
        let store = MemoryStore::default();
        let mut e = engine(&t, None, &store, &clock);
        // $1 per token: each request may cost up to 3+8+7+3+85 input + 128 output = 234
        // dollars, and costs its usage, 110, in the end.
        e.target.cost = CostModel {
            pricing: Pricing::per_million(1e6, 1e6),
            image: ImageTokens::Fixed { tokens: 85 },
        };
        e.settings.cost_cap = Some(1000.0);
        e.settings.concurrency = concurrency;
        let s = clock.block_on(e.run(&rows(20))).unwrap();
        // Eight in flight reserve 8 × 234 > 1000, yet the run goes on: 7 × 110 = 770 spent,
        // and 770 + 234 > 1000 ends it.
        assert_eq!(s.stopped, Some(StopReason::CostCap), "{concurrency}");
        assert_eq!(s.target.requests, 7, "{concurrency}");
        assert!((s.spent - 770.0).abs() < 1e-6, "{concurrency}: {}", s.spent);
    }
}

#[test]
fn a_cut_off_verdict_is_unparsable_and_retry_errors_judges_it_again() {
    let clock = FakeClock::new();
    let second = std::rc::Rc::new(Cell::new(false));
    let again = second.clone();
    let t = Fake::new("t", &clock, move |row, stage, _| {
        let r = match (stage, row, again.get()) {
            (Stage::Target, ..) => text("sure"),
            (_, 1, false) => Ok(ChatResponse {
                text: Some("The answer explains the steps, so its label".into()),
                finish_reason: Some("length".into()),
                ..Default::default()
            }),
            _ => verdict(3),
        };
        (Duration::from_millis(5), r)
    });
    let store = MemoryStore::default();
    let mut e = engine(&t, Some(&t), &store, &clock);
    clock.block_on(e.run(&rows(3))).unwrap();
    let report =
        crate::eval::Report::build(&collect(&rows(3), &store.records.borrow(), &e.selection()));
    assert_eq!((report.overall.n, report.failures.judge_cut_off), (2, 1));
    second.set(true);
    e.settings.mode = RunMode::RetryErrors;
    let s = clock.block_on(e.run(&rows(3))).unwrap();
    assert_eq!((s.target.requests, s.judge.requests), (0, 1));
    let report =
        crate::eval::Report::build(&collect(&rows(3), &store.records.borrow(), &e.selection()));
    assert_eq!(report.overall.n, 3);
}

#[test]
fn an_empty_answer_cut_off_by_the_budget_is_an_error_naming_the_budget() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, |row, _, _| {
        let r = if row == 3 {
            Ok(ChatResponse {
                text: Some(String::new()),
                finish_reason: Some("length".into()),
                ..Default::default()
            })
        } else {
            text("fine")
        };
        (Duration::from_millis(5), r)
    });
    let store = MemoryStore::default();
    let e = engine(&t, None, &store, &clock);
    let s = clock.block_on(e.run(&rows(5))).unwrap();
    assert_eq!((s.target.stored_ok, s.target.stored_errors), (4, 1));
    assert_stored_error(&store, ErrorKind::Empty, "--target-param max_tokens=4096");
}

/// The store holds an error of `kind` whose message says `says`.
fn assert_stored_error(store: &MemoryStore, kind: ErrorKind, says: &str) {
    let records = store.records.borrow();
    let error = records.iter().find_map(Record::error).unwrap();
    assert_eq!(error.kind, kind);
    assert!(error.message.contains(says), "{}", error.message);
}

#[test]
fn an_image_a_provider_refuses_and_that_cannot_be_fitted_is_the_rows_error_without_a_request() {
    let clock = FakeClock::new();
    let mut t = Fake::new("t", &clock, answer_then_label);
    t.image_limits = Some(&crate::eval::image::ANTHROPIC_IMAGES);
    let store = MemoryStore::default();
    let e = engine(&t, None, &store, &clock);
    let mut rs = rows(1);
    rs[0].image_path = "tiff".into();
    let s = clock.block_on(e.run(&rs)).unwrap();
    assert_eq!((t.calls(Stage::Target), s.target.stored_errors), (0, 1));
    assert_stored_error(&store, ErrorKind::Image, "cannot be sent");
}

#[test]
fn a_report_never_mixes_templates_or_wordings_and_says_what_it_left_out() {
    let clock = FakeClock::new();
    let t = Fake::new("t", &clock, answer_then_label);
    let store = MemoryStore::default();
    let e = engine(&t, Some(&t), &store, &clock);
    clock.block_on(e.run(&rows(6))).unwrap();
    // The same judge with other instructions, stopped after rows 0–2.
    let mut other = engine(&t, Some(&t), &store, &clock);
    other.settings.mode = RunMode::JudgeOnly;
    let template = JudgeTemplate::custom("Other rubric: {question} / {response}").unwrap();
    other.judge.as_mut().unwrap().1 = template;
    clock.block_on(other.run(&rows(3))).unwrap();
    let report = |selection: &Selection, rows: &[Row]| {
        crate::eval::Report::build(&collect(rows, &store.records.borrow(), selection))
    };
    let r = report(&other.selection(), &rows(6));
    assert_eq!(
        (r.overall.n, r.failures.not_judged),
        (3, 3),
        "rows 3–5 are not judged yet"
    );
    assert_eq!(
        r.excluded.verdicts_with_other_template, 6,
        "the first template's verdicts"
    );
    let r = report(&e.selection(), &rows(6));
    assert_eq!(
        (r.overall.n, r.excluded.verdicts_with_other_template),
        (6, 3)
    );
    // Row 4's instruction reworded in the dataset: its old answer no longer counts.
    let mut reworded = rows(6);
    reworded[4].instruction = "ROW4 please, reworded".into();
    let r = report(&e.selection(), &reworded);
    assert_eq!((r.overall.n, r.failures.not_answered), (5, 1));
    assert_eq!(r.excluded.answers_to_other_wording, 1);
    assert!(
        r.excluded.describe()[0].starts_with("1 row(s) also have answers to an earlier wording")
    );
}
