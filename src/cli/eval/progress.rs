//! The progress line of `leakscope eval`: rows finished of those this run works on, rate, ETA,
//! live spend (from each stored answer's usage), retries and errors. The first few errors are
//! printed in full above the bar; the bar is drawn only on a terminal.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use indicatif::{ProgressBar, ProgressStyle};
use leakscope::eval::{EngineEvent, Pricing, Stage};

/// Errors printed in full; later ones are only counted.
const SHOWN_ERRORS: u64 = 5;

pub struct Progress {
    bar: ProgressBar,
    /// Rows this run works on; events of other rows (reused ones) do not move the bar.
    rows: HashSet<u64>,
    finished: RefCell<HashSet<u64>>,
    /// Whether a judge stage follows the target (otherwise the answer ends a row).
    judged: bool,
    target_price: Pricing,
    judge_price: Option<Pricing>,
    spent: Cell<f64>,
    retries: Cell<u64>,
    errors: Cell<u64>,
    /// Whether every model called has a price (else the spend is not shown as a figure).
    priced: bool,
    /// The worst case of the request the spending cap stopped.
    cap_next: Cell<Option<f64>>,
}

impl Progress {
    /// `priced`: whether every model called has a price.
    pub fn new(
        rows: HashSet<u64>,
        judged: bool,
        target_price: Pricing,
        judge_price: Option<Pricing>,
        priced: bool,
    ) -> Result<Self, String> {
        let bar = ProgressBar::new(rows.len() as u64).with_style(
            ProgressStyle::with_template(
                "{wide_bar} {pos}/{len} rows  {per_sec}  ETA {eta}  {msg}",
            )
            .map_err(|e| e.to_string())?,
        );
        Ok(Self {
            bar,
            rows,
            finished: RefCell::default(),
            judged,
            target_price,
            judge_price,
            spent: Cell::new(0.0),
            retries: Cell::new(0),
            errors: Cell::new(0),
            priced,
            cap_next: Cell::new(None),
        })
    }

    /// Prints a line without tearing the bar (also when the bar is hidden).
    pub fn note(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    fn error(&self, line: String) {
        self.errors.set(self.errors.get() + 1);
        if self.errors.get() <= SHOWN_ERRORS {
            self.note(&line);
        } else if self.errors.get() == SHOWN_ERRORS + 1 {
            self.note(
                "(further errors are counted on the progress line and kept in results.jsonl)",
            );
        }
    }

    pub fn on_event(&self, event: &EngineEvent<'_>) {
        let finished_row = match event {
            EngineEvent::Stored(record) => {
                if let Some(usage) = record.response().and_then(|r| r.usage) {
                    let price = match record.stage {
                        Stage::Target => Some(self.target_price),
                        Stage::Judge => self.judge_price,
                    };
                    if let Some(p) = price {
                        let cost = p.cost(usage.prompt_tokens, usage.completion_tokens);
                        self.spent.set(self.spent.get() + cost);
                    }
                }
                if let Some(e) = record.error() {
                    self.error(format!(
                        "row {} {}: {e} (after {} attempt(s))",
                        record.key.row,
                        stage_name(record.stage),
                        record.attempts
                    ));
                }
                let last = record.stage == Stage::Judge || !self.judged || record.is_error();
                last.then_some(record.key.row)
            }
            EngineEvent::Reused { row, stage } => {
                (*stage == Stage::Judge || !self.judged).then_some(*row)
            }
            EngineEvent::Retrying { .. } => {
                self.retries.set(self.retries.get() + 1);
                None
            }
            EngineEvent::Slowed { limit } => {
                self.note(&format!(
                    "rate limited (429): waiting and trying again, up to a minute between \
                     tries; at most {limit} row(s) in flight for now (said once per burst)"
                ));
                None
            }
            EngineEvent::ImageFailed(e) => {
                self.error(e.to_string());
                Some(e.row)
            }
            EngineEvent::CostCapReached { spent, next } => {
                self.cap_next.set(Some(*next));
                self.note(&format!(
                    "spending cap reached (${spent:.4} spent; the next request could cost up \
                     to ${next:.4}): no new requests; waiting for those in flight"
                ));
                None
            }
            EngineEvent::Halted(halt) => {
                self.note(&format!(
                    "stopping: {halt} Waiting for the requests in flight to be stored."
                ));
                None
            }
        };
        if let Some(row) = finished_row.filter(|r| self.rows.contains(r)) {
            let mut finished = self.finished.borrow_mut();
            finished.insert(row);
            self.bar.set_position(finished.len() as u64);
        }
        let spent = if self.priced {
            format!("${:.4}", self.spent.get())
        } else {
            "spend unknown".to_owned()
        };
        self.bar.set_message(format!(
            "{spent}  {} retries  {} errors",
            self.retries.get(),
            self.errors.get()
        ));
    }

    /// The worst case of the request the spending cap stopped, if it did.
    pub fn cap_next(&self) -> Option<f64> {
        self.cap_next.get()
    }

    pub fn retries(&self) -> u64 {
        self.retries.get()
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

pub fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Target => "target",
        Stage::Judge => "judge",
    }
}
