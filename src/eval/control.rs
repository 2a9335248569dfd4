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

/// A wake-up for tasks of one single-threaded run: [`Notify::wait`] completes at the next
/// [`Notify::notify`] after it was created (the engine's "a request settled", "the first
/// request of a stage is answered").
#[derive(Default)]
pub struct Notify {
    generation: std::cell::Cell<u64>,
    wakers: std::cell::RefCell<Vec<Waker>>,
}

impl Notify {
    pub fn notify(&self) {
        self.generation.set(self.generation.get() + 1);
        let wakers = std::mem::take(&mut *self.wakers.borrow_mut());
        wakers.into_iter().for_each(Waker::wake);
    }

    pub fn wait(&self) -> NotifyWait<'_> {
        NotifyWait {
            notify: self,
            generation: self.generation.get(),
        }
    }
}

/// Future returned by [`Notify::wait`].
pub struct NotifyWait<'a> {
    notify: &'a Notify,
    generation: u64,
}

impl Future for NotifyWait<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.notify.generation.get() != self.generation {
            return Poll::Ready(());
        }
        let mut wakers = self.notify.wakers.borrow_mut();
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    #[test]
    fn a_wait_completes_at_the_next_notify_only() {
        let n = Notify::default();
        let mut w = n.wait();
        assert_eq!((&mut w).now_or_never(), None);
        n.notify();
        assert_eq!(w.now_or_never(), Some(()));
        assert_eq!(
            n.wait().now_or_never(),
            None,
            "an earlier notify does not count"
        );
    }

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
