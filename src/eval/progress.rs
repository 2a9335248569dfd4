//! Live figures of a running evaluation, fed by the engine's events: rows finished, rate, ETA,
//! spend from each response's `usage`, labels so far. The page and the CLI show the same numbers.

use std::time::Duration;

use super::cost::CostModel;
use super::engine::EngineEvent;
use super::store::{Outcome, Stage};
use super::verdict::JudgeOutcome;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    pub rows_total: u64,
    /// Rows whose last stage is stored (a verdict or a final error) or was found stored.
    pub rows_finished: u64,
    /// Of those, found in the store (not requested in this run).
    pub rows_reused: u64,
    pub retries: u64,
    pub target_errors: u64,
    pub judge_errors: u64,
    /// Judge refusals, content-filter stops and unparsable verdicts.
    pub judge_failures: u64,
    pub image_failures: u64,
    /// Labels 1, 2, 3 given in this run.
    pub labels: [u64; 3],
    /// US dollars, from `usage` of the answers received in this run.
    pub spent: f64,
    /// Whether every model called has a price (else `spent` means nothing).
    pub priced: bool,
    /// The concurrency limit after the last slow-down, if any.
    pub limit: Option<usize>,
    pub cost_cap_reached: bool,
    /// Why the run stopped at once, and what to change.
    pub halted: Option<String>,
    started: Duration,
    /// Rows finished by requests of this run (for the rate).
    fresh_rows: u64,
}

impl Progress {
    pub fn new(rows_total: u64, now: Duration) -> Self {
        Self {
            rows_total,
            started: now,
            ..Self::default()
        }
    }

    /// Counts `event`. `judged`: whether the run has a judge (then a row finishes with its
    /// verdict, else with its answer); `costs`: target and judge cost models.
    pub fn observe(
        &mut self,
        event: &EngineEvent<'_>,
        judged: bool,
        costs: (&CostModel, Option<&CostModel>),
    ) {
        match event {
            EngineEvent::Stored(record) => {
                let model = match record.stage {
                    Stage::Target => Some(costs.0),
                    Stage::Judge => costs.1,
                };
                if let (Some(model), Some(usage)) = (model, record.response().and_then(|r| r.usage))
                {
                    self.spent += model
                        .pricing
                        .cost(usage.prompt_tokens, usage.completion_tokens);
                }
                let last_stage = match (record.stage, judged) {
                    (Stage::Judge, _) | (Stage::Target, false) => true,
                    // A failed answer is never judged: the row ends here.
                    (Stage::Target, true) => record.is_error(),
                };
                match (&record.outcome, record.stage) {
                    (Outcome::Error { .. }, Stage::Target) => self.target_errors += 1,
                    (Outcome::Error { .. }, Stage::Judge) => self.judge_errors += 1,
                    (Outcome::Verdict { verdict, .. }, _) => match verdict {
                        JudgeOutcome::Label { label, .. } => {
                            self.labels[*label as usize - 1] += 1;
                        }
                        _ => self.judge_failures += 1,
                    },
                    (Outcome::Answer { .. }, _) => {}
                }
                if last_stage {
                    self.rows_finished += 1;
                    self.fresh_rows += 1;
                }
            }
            EngineEvent::Reused { stage, .. } => {
                if *stage == Stage::Judge || !judged {
                    self.rows_finished += 1;
                    self.rows_reused += 1;
                }
            }
            EngineEvent::Retrying { .. } => self.retries += 1,
            EngineEvent::Slowed { limit } => self.limit = Some(*limit),
            EngineEvent::ImageFailed(_) => {
                self.image_failures += 1;
                self.rows_finished += 1;
            }
            EngineEvent::CostCapReached { .. } => self.cost_cap_reached = true,
            EngineEvent::Halted(halt) => self.halted = Some(halt.to_string()),
        }
    }

    /// Rows per minute finished by this run's requests.
    pub fn rows_per_minute(&self, now: Duration) -> f64 {
        let minutes = now.saturating_sub(self.started).as_secs_f64() / 60.0;
        if minutes <= 0.0 {
            0.0
        } else {
            self.fresh_rows as f64 / minutes
        }
    }

    /// Time left at the current rate; `None` before the first row.
    pub fn eta(&self, now: Duration) -> Option<Duration> {
        let rate = self.rows_per_minute(now);
        let left = self.rows_total.saturating_sub(self.rows_finished);
        (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate * 60.0))
    }

    /// Safe rate of the labels so far (labels 1 and 2 over all labels).
    pub fn safe_rate(&self) -> Option<f64> {
        let n: u64 = self.labels.iter().sum();
        (n > 0).then(|| (self.labels[0] + self.labels[1]) as f64 / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::api::{ChatResponse, ErrorKind, ProviderError, Usage};
    use crate::eval::cost::Pricing;
    use crate::eval::store::{Record, RecordKey};
    use crate::eval::verdict::{ParseMode, SafetyLabel};

    fn record(row: u64, stage: Stage, outcome: Outcome) -> Record {
        Record {
            stage,
            key: RecordKey {
                row,
                model: "m".into(),
                params: "p".into(),
                prompt: "q".into(),
                image: "i".into(),
                endpoint: None,
            },
            answer_key: None,
            outcome,
            attempts: 1,
            elapsed_ms: 1,
            sent: None,
            template: None,
            notes: Vec::new(),
        }
    }

    fn response() -> ChatResponse {
        ChatResponse {
            text: Some("x".into()),
            usage: Some(Usage {
                prompt_tokens: 1_000_000,
                completion_tokens: 0,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn rows_finish_with_their_last_stage_and_spend_follows_usage() {
        let cost = CostModel {
            pricing: Pricing::per_million(2.0, 8.0),
            image: crate::eval::cost::ImageTokens::Anthropic,
        };
        let mut p = Progress::new(4, Duration::ZERO);
        let answer = record(
            0,
            Stage::Target,
            Outcome::Answer {
                response: response(),
            },
        );
        let verdict = record(
            0,
            Stage::Judge,
            Outcome::Verdict {
                response: response(),
                verdict: JudgeOutcome::Label {
                    label: SafetyLabel::Warning,
                    label_str: "Safe with warning".into(),
                    explanation: String::new(),
                    mode: ParseMode::Strict,
                },
            },
        );
        let failed = record(
            1,
            Stage::Target,
            Outcome::Error {
                error: ProviderError::new(ErrorKind::Network, "x"),
            },
        );
        for r in [&answer, &verdict, &failed] {
            p.observe(&EngineEvent::Stored(r), true, (&cost, Some(&cost)));
        }
        p.observe(
            &EngineEvent::Reused {
                row: 2,
                stage: Stage::Judge,
            },
            true,
            (&cost, Some(&cost)),
        );
        assert_eq!((p.rows_finished, p.rows_reused, p.target_errors), (3, 1, 1));
        assert_eq!(p.labels, [0, 1, 0]);
        assert_eq!(
            p.spent, 4.0,
            "two responses of a million prompt tokens at $2/M"
        );
        assert_eq!(p.safe_rate(), Some(1.0));
        // Two fresh rows in one minute: 2 rows/min, one row left → 30 s.
        let minute = Duration::from_secs(60);
        assert_eq!(p.rows_per_minute(minute), 2.0);
        assert_eq!(p.eta(minute), Some(Duration::from_secs(30)));
    }
}
