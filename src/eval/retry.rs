//! When to retry and how long to wait: the server's hint when it gives one, else exponential
//! back-off with jitter. A rate limit (429) without a hint backs off further and longer than
//! other errors: limits are counted per minute, so a window of a few seconds would turn every
//! row past the limit into an error.

use std::cell::Cell;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::api::ProviderError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub max_attempts: u32,
    /// Back-off before the first retry; doubles each time up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Server hints (`retry-after-ms` / `Retry-After`) are honoured up to this long.
    pub max_server_delay: Duration,
    /// Tries per request while the API answers 429 (at least `max_attempts`).
    #[serde(default = "rate_limit_attempts")]
    pub rate_limit_attempts: u32,
    /// The longest back-off after a 429 without a hint: past a per-minute window.
    #[serde(default = "rate_limit_max_delay")]
    pub rate_limit_max_delay: Duration,
}

fn rate_limit_attempts() -> u32 {
    10
}

fn rate_limit_max_delay() -> Duration {
    Duration::from_secs(64)
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_server_delay: Duration::from_secs(120),
            rate_limit_attempts: rate_limit_attempts(),
            rate_limit_max_delay: rate_limit_max_delay(),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 = first retry) after `error`, or `None` when the
    /// error is final or the tries are used up.
    pub fn delay(&self, error: &ProviderError, retry: u32, rng: &Jitter) -> Option<Duration> {
        let (attempts, cap) = if error.is_rate_limit() {
            (
                self.rate_limit_attempts.max(self.max_attempts),
                self.rate_limit_max_delay,
            )
        } else {
            (self.max_attempts, self.max_delay)
        };
        if !error.retryable || retry >= attempts {
            return None;
        }
        if let Some(hint) = error.retry_after {
            return Some(hint.min(self.max_server_delay));
        }
        Some(self.backoff(retry, cap, rng))
    }

    /// Exponential back-off with "equal jitter": uniform in [d/2, d] where
    /// d = min(base · 2^(retry−1), cap).
    pub fn backoff(&self, retry: u32, cap: Duration, rng: &Jitter) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1 << retry.saturating_sub(1).min(20));
        let d = exp.min(cap);
        d.mul_f64(0.5 + 0.5 * rng.next_f64())
    }
}

/// A small deterministic generator (SplitMix64) for jitter: seeded, so runs and tests repeat.
pub struct Jitter(Cell<u64>);

impl Jitter {
    pub fn new(seed: u64) -> Self {
        Self(Cell::new(seed))
    }

    pub fn next_u64(&self) -> u64 {
        let s = self.0.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.0.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::api::ErrorKind;

    #[test]
    fn backoff_doubles_from_half_a_second_to_eight_with_jitter() {
        let p = RetryPolicy::default();
        let rng = Jitter::new(7);
        for (retry, full) in [
            (1, 500),
            (2, 1000),
            (3, 2000),
            (4, 4000),
            (5, 8000),
            (6, 8000),
            (40, 8000),
        ] {
            for _ in 0..50 {
                let d = p.backoff(retry, p.max_delay, &rng).as_millis() as u64;
                assert!(d >= full / 2 && d <= full, "retry {retry}: {d} ms");
            }
        }
    }

    #[test]
    fn rate_limits_without_a_hint_wait_past_a_per_minute_window() {
        let p = RetryPolicy::default();
        let rng = Jitter::new(3);
        let e = ProviderError::http(429, &[], "Rate limit reached");
        let waits: Vec<Duration> = (1..20).map_while(|r| p.delay(&e, r, &rng)).collect();
        assert_eq!(waits.len(), 9, "ten tries");
        let total: Duration = waits.iter().sum();
        assert!(total >= Duration::from_secs(90), "{total:?}");
        assert!(waits.iter().all(|w| *w <= p.rate_limit_max_delay));
        assert!(*waits.last().unwrap() >= Duration::from_secs(32));
        // Other errors keep the short window.
        let e = ProviderError::http(503, &[], "");
        assert_eq!((1..20).map_while(|r| p.delay(&e, r, &rng)).count(), 5);
    }

    #[test]
    fn hints_win_and_final_errors_stop() {
        let p = RetryPolicy::default();
        let rng = Jitter::new(1);
        let mut e = ProviderError::http(429, &[("retry-after-ms".into(), "1234".into())], "");
        assert_eq!(p.delay(&e, 1, &rng), Some(Duration::from_millis(1234)));
        e.retry_after = Some(Duration::from_secs(3600));
        assert_eq!(p.delay(&e, 1, &rng), Some(p.max_server_delay));
        assert_eq!(p.delay(&e, p.rate_limit_attempts, &rng), None);
        assert_eq!(p.delay(&ProviderError::http(401, &[], ""), 1, &rng), None);
        assert!(
            p.delay(&ProviderError::new(ErrorKind::Network, "reset"), 1, &rng)
                .is_some()
        );
    }
}
