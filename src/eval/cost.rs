//! Cost: an estimate before the run, live spend from each response's `usage`, and a hard cap.
//!
//! Text tokens are approximated as one token per 4 ASCII bytes (rounded up) plus one per
//! non-ASCII character, plus 4 per message and 3 for the reply (the usual chat-format overhead).
//! That is the common rule of thumb for English BPE vocabularies; it over-counts short words a
//! little and under-counts code. Image tokens follow each provider's published sizing rule.
//! Prices are settings in US dollars per million tokens.

use std::cell::Cell;

use serde::{Deserialize, Serialize};

use super::api::Usage;
use super::control::{Notify, NotifyWait};
use super::protocol::{ChatRequest, GenParams, Part};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    pub input_per_million: f64,
    pub output_per_million: f64,
}

impl Pricing {
    pub fn per_million(input: f64, output: f64) -> Self {
        Self {
            input_per_million: input,
            output_per_million: output,
        }
    }

    /// These prices times `factor` (a batch discount).
    pub fn scaled(&self, factor: f64) -> Self {
        Self::per_million(
            self.input_per_million * factor,
            self.output_per_million * factor,
        )
    }

    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.input_per_million
            + output_tokens as f64 * self.output_per_million)
            / 1e6
    }
}

/// How an API counts an image.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ImageTokens {
    /// OpenAI, high detail: fit in 2048×2048, shrink the short side to 768, count 512-px tiles;
    /// tokens = base + per_tile · tiles (gpt-4o: 85 + 170).
    OpenAiTiles { base: u64, per_tile: u64 },
    /// Anthropic: shrink to a long edge of at most 1568 px and at most ~1.15 megapixels;
    /// tokens = width · height / 750.
    Anthropic,
    /// A fixed count (OpenAI low detail: 85).
    Fixed { tokens: u64 },
}

impl ImageTokens {
    pub fn count(&self, width: u32, height: u32) -> u64 {
        let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
        match *self {
            Self::OpenAiTiles { base, per_tile } => {
                let fit = (2048.0 / w.max(h)).min(1.0);
                let (w, h) = (w * fit, h * fit);
                let short = (768.0 / w.min(h)).min(1.0);
                let (w, h) = ((w * short).round(), (h * short).round());
                let tiles = (w / 512.0).ceil() as u64 * (h / 512.0).ceil() as u64;
                base + per_tile * tiles
            }
            Self::Anthropic => {
                let edge = (1568.0 / w.max(h)).min(1.0);
                let area = (1_150_000.0 / (w * h * edge * edge)).sqrt().min(1.0);
                let s = edge * area;
                ((w * s).round() * (h * s).round() / 750.0).ceil() as u64
            }
            Self::Fixed { tokens } => tokens,
        }
    }
}

/// Pricing and image rule for one model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    pub pricing: Pricing,
    pub image: ImageTokens,
}

impl CostModel {
    /// List prices when this was written (2025), as editable starting points; `None` for models
    /// the project has no figure for.
    pub fn preset(model: &str) -> Option<Self> {
        let tiles = ImageTokens::OpenAiTiles {
            base: 85,
            per_tile: 170,
        };
        let (pricing, image) = match model {
            m if m.starts_with("gpt-4o-mini") => (
                Pricing::per_million(0.15, 0.60),
                ImageTokens::OpenAiTiles {
                    base: 2833,
                    per_tile: 5667,
                },
            ),
            m if m.starts_with("gpt-4o") => (Pricing::per_million(2.50, 10.00), tiles),
            m if m.starts_with("gpt-4.1-mini") => (Pricing::per_million(0.40, 1.60), tiles),
            m if m.starts_with("gpt-4.1") => (Pricing::per_million(2.00, 8.00), tiles),
            m if m.contains("haiku") => (Pricing::per_million(0.80, 4.00), ImageTokens::Anthropic),
            m if m.contains("sonnet") => {
                (Pricing::per_million(3.00, 15.00), ImageTokens::Anthropic)
            }
            _ => return None,
        };
        Some(Self { pricing, image })
    }

    /// The same model at `factor` times its prices.
    pub fn scaled(&self, factor: f64) -> Self {
        Self {
            pricing: self.pricing.scaled(factor),
            image: self.image,
        }
    }

    /// Estimated prompt tokens of `request` whose image is `width`×`height`.
    pub fn input_tokens(&self, request: &ChatRequest, width: u32, height: u32) -> u64 {
        let mut tokens = 3 + 4 * (1 + u64::from(request.system.is_some()));
        if let Some(s) = &request.system {
            tokens += text_tokens(s);
        }
        for part in &request.user {
            tokens += match part {
                Part::Text(t) => text_tokens(t),
                Part::Image { .. } => self.image.count(width, height),
            };
        }
        tokens
    }

    /// The most `request` can cost: estimated input plus every allowed output token.
    pub fn max_cost(&self, request: &ChatRequest, width: u32, height: u32) -> f64 {
        let input = self.input_tokens(request, width, height);
        self.pricing.cost(input, request.params.max_tokens.into())
    }
}

/// Approximate token count of `text` (see the module note).
pub fn text_tokens(text: &str) -> u64 {
    let ascii = text.bytes().filter(u8::is_ascii).count() as u64;
    let other = text.chars().filter(|c| !c.is_ascii()).count() as u64;
    ascii.div_ceil(4) + other
}

/// Before the run: tokens and the most it can cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub rows: u64,
    pub target_input_tokens: u64,
    pub target_output_tokens_max: u64,
    pub judge_input_tokens: u64,
    pub judge_output_tokens_max: u64,
    pub target_cost_max: f64,
    pub judge_cost_max: f64,
}

impl Estimate {
    pub fn total_cost_max(&self) -> f64 {
        self.target_cost_max + self.judge_cost_max
    }
}

/// One row as the estimate sees it.
#[derive(Clone, Copy, Debug)]
pub struct EstimateRow<'a> {
    pub instruction: &'a str,
    pub width: u32,
    pub height: u32,
}

/// Worst-case estimate: every answer uses all its output tokens, and the judge sees answers of
/// that length (4 characters per token) in a template of `judge_template_len` bytes.
pub fn estimate(
    rows: &[EstimateRow<'_>],
    target: (&CostModel, &GenParams),
    judge: Option<(&CostModel, &GenParams, usize)>,
) -> Estimate {
    let mut e = Estimate {
        rows: rows.len() as u64,
        ..Estimate::default()
    };
    let probe = |text: String, image_first: bool, params: &GenParams| ChatRequest {
        system: Some(super::protocol::SYSTEM_PROMPT.to_string()),
        user: if image_first {
            vec![
                Part::Image {
                    mime: String::new(),
                    base64: "".into(),
                },
                Part::Text(text),
            ]
        } else {
            vec![
                Part::Text(text),
                Part::Image {
                    mime: String::new(),
                    base64: "".into(),
                },
            ]
        },
        params: params.clone(),
        schema: None,
    };
    for row in rows {
        let req = probe(row.instruction.to_string(), false, target.1);
        let input = target.0.input_tokens(&req, row.width, row.height);
        e.target_input_tokens += input;
        e.target_output_tokens_max += u64::from(target.1.max_tokens);
        e.target_cost_max += target.0.pricing.cost(input, target.1.max_tokens.into());
        if let Some((model, params, template_len)) = judge {
            let answer_chars = 4 * target.1.max_tokens as usize;
            let filler = "x".repeat(template_len + answer_chars);
            let req = probe(format!("{}{filler}", row.instruction), true, params);
            let input = model.input_tokens(&req, row.width, row.height);
            e.judge_input_tokens += input;
            e.judge_output_tokens_max += u64::from(params.max_tokens);
            e.judge_cost_max += model.pricing.cost(input, params.max_tokens.into());
        }
    }
    e
}

/// Spend so far, and the cap. Each request reserves its maximum before it starts and the
/// reservation is replaced by the real cost from `usage` when it settles (or kept, when the
/// provider reports none). A request whose worst case fits under the cap beside what was spent
/// but not beside what requests in flight have reserved waits for them to settle
/// ([`Budget::Wait`]): the unused part of their reservations comes back, so reservations alone
/// never stop a run. Only a request that could not fit even with nothing in flight ends it.
#[derive(Default)]
pub struct CostMeter {
    cap: Option<f64>,
    spent: Cell<f64>,
    reserved: Cell<f64>,
    prompt_tokens: Cell<u64>,
    completion_tokens: Cell<u64>,
    settled: Notify,
}

/// A claim on the budget; hand it back with [`CostMeter::settle`].
#[must_use]
pub struct Reservation(f64);

/// What the cap says to a request.
#[must_use]
pub enum Budget {
    Granted(Reservation),
    /// Requests in flight hold the room: wait for one to settle ([`CostMeter::settled`]).
    Wait,
    /// Even alone it could take the spend past the cap.
    Exhausted,
}

impl CostMeter {
    pub fn new(cap: Option<f64>) -> Self {
        Self {
            cap,
            ..Self::default()
        }
    }

    pub fn spent(&self) -> f64 {
        self.spent.get()
    }

    pub fn usage(&self) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens.get(),
            completion_tokens: self.completion_tokens.get(),
        }
    }

    /// Reserves `max_cost` when the cap allows it now.
    pub fn reserve(&self, max_cost: f64) -> Budget {
        if let Some(cap) = self.cap {
            if self.spent.get() + max_cost > cap {
                return Budget::Exhausted;
            }
            if self.spent.get() + self.reserved.get() + max_cost > cap {
                return Budget::Wait;
            }
        }
        self.reserved.set(self.reserved.get() + max_cost);
        Budget::Granted(Reservation(max_cost))
    }

    /// Completes at the next settlement.
    pub fn settled(&self) -> NotifyWait<'_> {
        self.settled.wait()
    }

    /// Releases the reservation; adds the cost of `usage` (or the whole reservation when the
    /// request was answered without usage figures; nothing when it failed).
    pub fn settle(
        &self,
        reservation: Reservation,
        pricing: &Pricing,
        usage: Option<Usage>,
        answered: bool,
    ) {
        self.reserved
            .set((self.reserved.get() - reservation.0).max(0.0));
        let cost = match usage {
            Some(u) => {
                // A server may report any count (u64::MAX included): saturate, never overflow.
                self.prompt_tokens
                    .set(self.prompt_tokens.get().saturating_add(u.prompt_tokens));
                self.completion_tokens.set(
                    self.completion_tokens
                        .get()
                        .saturating_add(u.completion_tokens),
                );
                pricing.cost(u.prompt_tokens, u.completion_tokens)
            }
            None if answered => reservation.0,
            None => 0.0,
        };
        self.spent.set(self.spent.get() + cost);
        self.settled.notify();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_tiles_follow_the_published_examples() {
        let r = ImageTokens::OpenAiTiles {
            base: 85,
            per_tile: 170,
        };
        // 1024×1024: short side to 768 → 768×768 → 4 tiles → 765 tokens.
        assert_eq!(r.count(1024, 1024), 765);
        // 2048×4096: fit to 1024×2048, short side 768 → 768×1536 → 6 tiles → 1105.
        assert_eq!(r.count(2048, 4096), 1105);
        // Small images are not enlarged: 512×512 is one tile.
        assert_eq!(r.count(512, 512), 255);
        assert_eq!(ImageTokens::Fixed { tokens: 85 }.count(4000, 3000), 85);
    }

    #[test]
    fn anthropic_is_area_over_750_after_shrinking() {
        assert_eq!(ImageTokens::Anthropic.count(1000, 1000), 1334);
        assert_eq!(ImageTokens::Anthropic.count(200, 200), 54);
        // Large images are capped near 1.15 MP (~1534 tokens).
        let big = ImageTokens::Anthropic.count(4000, 3000);
        assert!((1500..=1540).contains(&big), "{big}");
    }

    #[test]
    fn text_tokens_are_a_quarter_of_ascii_plus_one_per_other_char() {
        assert_eq!(text_tokens(""), 0);
        assert_eq!(text_tokens("abcd"), 1);
        assert_eq!(text_tokens("abcde"), 2);
        assert_eq!(text_tokens("日本"), 2);
    }

    #[test]
    fn estimate_is_an_upper_bound_sum() {
        let m = CostModel {
            pricing: Pricing::per_million(1.0, 2.0),
            image: ImageTokens::Fixed { tokens: 100 },
        };
        let rows = [EstimateRow {
            instruction: "abcd",
            width: 1,
            height: 1,
        }; 2];
        let e = estimate(
            &rows,
            (&m, &GenParams::target_default()),
            Some((&m, &GenParams::judge_default(), 400)),
        );
        // 3 + 8 overhead + 7 system + 1 text + 100 image = 119 per row.
        assert_eq!(e.target_input_tokens, 2 * 119);
        assert_eq!(e.target_output_tokens_max, 256);
        assert!((e.target_cost_max - (238.0 + 512.0) / 1e6).abs() < 1e-12);
        // Judge: also 400 template bytes + 512 answer bytes → +228 tokens per row.
        assert_eq!(e.judge_input_tokens, 2 * (119 + 228));
    }

    #[test]
    fn the_cap_waits_for_reservations_and_stops_only_when_a_request_cannot_fit_alone() {
        let p = Pricing::per_million(1_000_000.0, 0.0); // $1 per input token
        let m = CostMeter::new(Some(10.0));
        let granted = |b: Budget| match b {
            Budget::Granted(r) => r,
            _ => panic!("not granted"),
        };
        let a = granted(m.reserve(6.0));
        assert!(
            matches!(m.reserve(5.0), Budget::Wait),
            "6 reserved + 5 > 10: wait"
        );
        assert!(matches!(m.reserve(11.0), Budget::Exhausted));
        let mut waiting = m.settled();
        assert!(futures_util::FutureExt::now_or_never(&mut waiting).is_none());
        m.settle(
            a,
            &p,
            Some(Usage {
                prompt_tokens: 2,
                completion_tokens: 9,
            }),
            true,
        );
        assert!(futures_util::FutureExt::now_or_never(waiting).is_some());
        assert_eq!(m.spent(), 2.0);
        let b = granted(m.reserve(8.0));
        m.settle(b, &p, None, false);
        assert_eq!(m.spent(), 2.0, "a failed request costs nothing");
        let c = granted(m.reserve(8.0));
        m.settle(c, &p, None, true);
        assert_eq!(m.spent(), 10.0, "no usage: the reservation is charged");
        assert!(matches!(m.reserve(0.01), Budget::Exhausted));
        assert!(matches!(
            CostMeter::new(None).reserve(1e9),
            Budget::Granted(_)
        ));
    }
}
