//! One progress figure for the whole checkpoint: bytes done of the total, the download rate
//! over the last few seconds and the time left. Cached bytes count as done but not toward the
//! rate. The page draws a bar from [`LoadProgress::fraction`] and a line from `Display`.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

use crate::util::format::{bytes_of, human_bytes, human_duration};

/// How far back the rate looks: long enough to smooth chunky networks, short enough to follow a
/// connection that slowed down.
const RATE_WINDOW: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LoadProgress {
    /// The file being read, or the last one.
    pub file: String,
    pub bytes_done: u64,
    /// Sum of the sizes known so far; final once `total_known`.
    pub bytes_total: u64,
    /// Every file's size is known (from the hub's listing, the cache or the responses).
    pub total_known: bool,
    /// Of `bytes_done`, read from the cache.
    pub bytes_cached: u64,
    /// Bytes per second over the last seconds; `None` until two samples exist.
    pub rate: Option<f64>,
    #[serde(serialize_with = "secs")]
    pub eta: Option<Duration>,
    /// Requests that failed and were retried (resumed or restarted), in all.
    pub retries: u32,
    /// The last thing worth telling ("connection dropped at 312 MB, resuming").
    pub note: Option<String>,
    /// Every file is in memory.
    pub done: bool,
    /// A text-first download of the weights: its text and vision parts.
    pub towers: Option<TowerProgress>,
}

/// The two parts of a text-first weights download ([`super::towers`]): the text tower (with
/// the header and what both towers share) and the vision tower.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TowerProgress {
    pub text_done: u64,
    pub text_total: u64,
    pub vision_done: u64,
    pub vision_total: u64,
    /// Time until the text tower is in, at the current rate.
    #[serde(serialize_with = "secs")]
    pub text_eta: Option<Duration>,
}

impl TowerProgress {
    pub fn text_ready(&self) -> bool {
        self.text_done >= self.text_total
    }
}

fn secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

impl LoadProgress {
    /// 0..=1 for the bar; `None` while the total is unknown (an indeterminate bar).
    pub fn fraction(&self) -> Option<f64> {
        (self.total_known && self.bytes_total > 0)
            .then(|| (self.bytes_done as f64 / self.bytes_total as f64).min(1.0))
    }
}

impl std::fmt::Display for LoadProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.total_known {
            f.write_str(&bytes_of(self.bytes_done, self.bytes_total))?;
        } else if self.bytes_total > 0 {
            let total = human_bytes(self.bytes_total);
            write!(f, "{} of at least {total}", human_bytes(self.bytes_done))?;
        } else {
            write!(f, "{} of ?", human_bytes(self.bytes_done))?;
        }
        if self.done {
            return match self.bytes_cached {
                0 => Ok(()),
                c if c == self.bytes_done => write!(f, " (from the cache)"),
                c => write!(f, " ({} from the cache)", human_bytes(c)),
            };
        }
        if let Some(rate) = self.rate {
            write!(f, " · {}/s", human_bytes(rate as u64))?;
        }
        if let Some(eta) = self.eta {
            write!(f, " · {} left", human_duration(eta))?;
        }
        if !self.file.is_empty() {
            write!(f, " · {}", self.file)?;
        }
        if let Some(t) = &self.towers {
            if t.text_ready() {
                write!(f, " · text tower in")?;
            } else {
                write!(
                    f,
                    " · text tower {} of {}",
                    human_bytes(t.text_done),
                    human_bytes(t.text_total)
                )?;
                if let Some(eta) = t.text_eta {
                    write!(f, " ({} left)", human_duration(eta))?;
                }
            }
            write!(
                f,
                ", image tower {} of {}",
                human_bytes(t.vision_done),
                human_bytes(t.vision_total)
            )?;
        }
        if let Some(note) = &self.note {
            write!(f, " · {note}")?;
        }
        Ok(())
    }
}

/// Network bytes over time, for the rate and the time left.
#[derive(Clone, Debug, Default)]
pub struct RateMeter {
    samples: VecDeque<(Duration, u64)>,
}

impl RateMeter {
    /// `bytes`: network bytes received so far in this load (only grows).
    pub fn sample(&mut self, now: Duration, bytes: u64) {
        self.samples.push_back((now, bytes));
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|(t, _)| now.saturating_sub(*t) >= RATE_WINDOW)
        {
            self.samples.pop_front();
        }
    }

    pub fn rate(&self) -> Option<f64> {
        let (t0, b0) = *self.samples.front()?;
        let (t1, b1) = *self.samples.back()?;
        let dt = t1.saturating_sub(t0).as_secs_f64();
        (dt >= 0.2).then(|| b1.saturating_sub(b0) as f64 / dt)
    }

    /// Time to move `remaining` bytes at the current rate.
    pub fn eta(&self, remaining: u64) -> Option<Duration> {
        let rate = self.rate().filter(|r| *r > 0.0)?;
        Some(Duration::from_secs_f64((remaining as f64 / rate).min(1e7)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_follows_the_last_seconds_and_gives_the_time_left() {
        let mut meter = RateMeter::default();
        let s = Duration::from_secs;
        meter.sample(s(0), 0);
        assert_eq!(meter.rate(), None);
        // 1 MB/s for 10 s, then 4 MB/s: after 5 s more the window holds only the fast part.
        for t in 1..=10 {
            meter.sample(s(t), t * 1_000_000);
        }
        assert_eq!(meter.rate(), Some(1_000_000.0));
        for t in 11..=16 {
            meter.sample(s(t), 10_000_000 + (t - 10) * 4_000_000);
        }
        assert_eq!(meter.rate(), Some(4_000_000.0));
        assert_eq!(meter.eta(8_000_000), Some(s(2)));
    }

    #[test]
    fn the_line_says_bytes_rate_time_left_and_cache_use() {
        let p = LoadProgress {
            file: "model.safetensors".into(),
            bytes_done: 151_000_000,
            bytes_total: 605_000_000,
            total_known: true,
            rate: Some(8_100_000.0),
            eta: Some(Duration::from_secs(72)),
            ..LoadProgress::default()
        };
        assert_eq!(
            p.to_string(),
            "151 MB of 605 MB · 8.10 MB/s · 1 min 12 s left · model.safetensors"
        );
        assert!((p.fraction().unwrap() - 0.2496).abs() < 1e-3);
        let cached = LoadProgress {
            bytes_done: 1_109_524,
            bytes_total: 1_109_524,
            total_known: true,
            bytes_cached: 1_109_524,
            done: true,
            ..LoadProgress::default()
        };
        assert_eq!(cached.to_string(), "1.11 MB of 1.11 MB (from the cache)");
        let towers = LoadProgress {
            towers: Some(TowerProgress {
                text_done: 100_000_000,
                text_total: 254_000_000,
                vision_done: 0,
                vision_total: 351_000_000,
                text_eta: Some(Duration::from_secs(19)),
            }),
            ..p.clone()
        };
        assert_eq!(
            towers.to_string(),
            "151 MB of 605 MB · 8.10 MB/s · 1 min 12 s left · model.safetensors · text tower \
             100 MB of 254 MB (19 s left), image tower 0 B of 351 MB"
        );
        let text_in = LoadProgress {
            towers: Some(TowerProgress {
                text_done: 254_000_000,
                text_total: 254_000_000,
                vision_done: 1_000_000,
                vision_total: 351_000_000,
                text_eta: None,
            }),
            ..p.clone()
        };
        assert!(
            text_in
                .to_string()
                .ends_with("· text tower in, image tower 1.00 MB of 351 MB"),
            "{text_in}"
        );
        let unknown = LoadProgress {
            bytes_done: 2_000,
            bytes_total: 2_000,
            ..LoadProgress::default()
        };
        assert_eq!(unknown.fraction(), None);
        assert_eq!(unknown.to_string(), "2.00 kB of at least 2.00 kB");
    }
}
