//! Pause, resume and cancel for a running evaluation. Cloneable and `Send + Sync`, so a UI
//! callback or another thread can hold it.
//!
//! Pause stops new requests (those in flight finish and are stored). Cancel is graceful: no new
//! request starts, requests in flight finish and are stored, waiting back-offs end at once.
//! Dropping the engine's future is the hard stop.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct State {
    paused: bool,
    cancelled: bool,
    wakers: Vec<Waker>,
}

#[derive(Clone, Default)]
pub struct RunControl {
    state: Arc<Mutex<State>>,
}

impl RunControl {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        let wakers = {
            let mut s = self.lock();
            f(&mut s);
            std::mem::take(&mut s.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    pub fn pause(&self) {
        self.update(|s| s.paused = true);
    }

    pub fn resume(&self) {
        self.update(|s| s.paused = false);
    }

    pub fn cancel(&self) {
        self.update(|s| s.cancelled = true);
    }

    pub fn is_paused(&self) -> bool {
        self.lock().paused
    }

    pub fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }

    /// Completes with `true` when work may go on, `false` when cancelled; waits while paused.
    pub fn proceed(&self) -> Wait<'_> {
        Wait {
            control: self,
            until_cancelled: false,
        }
    }

    /// Completes when the run is cancelled.
    pub fn cancelled(&self) -> Wait<'_> {
        Wait {
            control: self,
            until_cancelled: true,
        }
    }
}

/// Future returned by [`RunControl::proceed`] and [`RunControl::cancelled`].
pub struct Wait<'a> {
    control: &'a RunControl,
    until_cancelled: bool,
}

impl Future for Wait<'_> {
    type Output = bool;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let mut s = self.control.lock();
        if s.cancelled {
            return Poll::Ready(false);
        }
        if !self.until_cancelled && !s.paused {
            return Poll::Ready(true);
        }
        if !s.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            s.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    #[test]
    fn proceed_waits_while_paused_and_ends_on_cancel() {
        let c = RunControl::new();
        assert_eq!(c.proceed().now_or_never(), Some(true));
        c.pause();
        assert_eq!(c.proceed().now_or_never(), None);
        c.resume();
        assert_eq!(c.proceed().now_or_never(), Some(true));
        assert_eq!(c.cancelled().now_or_never(), None);
        c.pause();
        c.cancel();
        assert_eq!(c.proceed().now_or_never(), Some(false));
        assert_eq!(c.cancelled().now_or_never(), Some(false));
    }
}
