//! Adaptive concurrency: additive increase, multiplicative decrease (as TCP does).
//!
//! A 429 halves the limit, once per "epoch": requests that were already in flight when the limit
//! was cut do not cut it again, so a burst of 429s from one overload counts once. Each success
//! adds 1/limit, so the limit grows back by about one per round of requests, up to the setting.
//! A burst (429s until the next success) is reported once, however often it cuts the limit
//! or finds it at 1 already.

use std::cell::Cell;

pub struct Limiter {
    max: usize,
    limit: Cell<f64>,
    epoch: Cell<u64>,
    cuts: Cell<u64>,
    /// A 429 came and no success since.
    burst: Cell<bool>,
}

impl Limiter {
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            max,
            limit: Cell::new(max as f64),
            epoch: Cell::new(0),
            cuts: Cell::new(0),
            burst: Cell::new(false),
        }
    }

    /// How many rows may be in flight now.
    pub fn current(&self) -> usize {
        (self.limit.get() as usize).clamp(1, self.max)
    }

    /// Tag a request with this when it starts; pass it back to [`Limiter::rate_limited`].
    pub fn epoch(&self) -> u64 {
        self.epoch.get()
    }

    /// How many times the limit was cut.
    pub fn cuts(&self) -> u64 {
        self.cuts.get()
    }

    /// A 429 arrived for a request started in `epoch`: the limit is cut (once per epoch, and
    /// only while above 1). Returns the limit when this 429 starts a burst, for one notice.
    pub fn rate_limited(&self, epoch: u64) -> Option<usize> {
        if epoch == self.epoch.get() && self.current() > 1 {
            self.epoch.set(epoch + 1);
            self.cuts.set(self.cuts.get() + 1);
            self.limit.set((self.limit.get() / 2.0).max(1.0));
        }
        (!self.burst.replace(true)).then(|| self.current())
    }

    pub fn succeeded(&self) {
        self.burst.set(false);
        let l = self.limit.get();
        self.limit.set((l + 1.0 / l).min(self.max as f64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_once_per_epoch_grows_back_and_reports_a_burst_once() {
        let l = Limiter::new(8);
        let e = l.epoch();
        assert_eq!(l.rate_limited(e), Some(4), "a burst starts: one notice");
        assert_eq!(l.rate_limited(e), None, "same overload counts once");
        assert_eq!(l.current(), 4);
        assert_eq!(l.rate_limited(l.epoch()), None, "cut again, same burst");
        assert_eq!(l.current(), 2);
        for _ in 0..60 {
            assert_eq!(
                l.rate_limited(l.epoch()),
                None,
                "at 1 already: no more notices"
            );
        }
        assert_eq!((l.current(), l.cuts()), (1, 3));
        l.succeeded();
        assert_eq!(
            l.rate_limited(l.epoch()),
            Some(1),
            "a new burst after a success"
        );
        for _ in 0..200 {
            l.succeeded();
        }
        assert_eq!(l.current(), 8);
    }
}
