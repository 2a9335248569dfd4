//! Time as a platform service: [`Clock`] gives "now" and sleeps. The browser supplies one built on
//! `setTimeout`, natively `native::ThreadClock`; tests use [`FakeClock`], whose time only moves
//! when nothing else can.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_util::future::LocalBoxFuture;

pub trait Clock {
    /// Time since the clock's origin (monotonic).
    fn now(&self) -> Duration;
    /// Completes once `duration` has passed.
    fn sleep(&self, duration: Duration) -> LocalBoxFuture<'static, ()>;
}

#[derive(Default)]
struct FakeState {
    now: Duration,
    next_id: u64,
    /// (deadline, id) → waker of a pending sleep.
    sleepers: BTreeMap<(Duration, u64), Option<Waker>>,
    requested: Vec<Duration>,
}

/// A virtual clock. [`FakeClock::block_on`] drives a future and, whenever it is stuck, jumps to
/// the earliest pending deadline, so back-offs of seconds take no real time.
#[derive(Clone, Default)]
pub struct FakeClock {
    state: Arc<Mutex<FakeState>>,
}

impl FakeClock {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every duration passed to `sleep`, in order.
    pub fn requested_sleeps(&self) -> Vec<Duration> {
        self.lock().requested.clone()
    }

    /// Moves time forward and wakes the sleeps that are due.
    pub fn advance(&self, by: Duration) {
        let mut s = self.lock();
        s.now += by;
        let now = s.now;
        for waker in s
            .sleepers
            .range_mut(..=(now, u64::MAX))
            .filter_map(|(_, w)| w.take())
        {
            waker.wake();
        }
    }

    /// Jumps to the earliest pending deadline; false when nothing sleeps.
    pub fn advance_to_next(&self) -> bool {
        let next = self.lock().sleepers.keys().next().map(|(d, _)| *d);
        match next {
            Some(deadline) => {
                let by = deadline.saturating_sub(self.now());
                self.advance(by);
                true
            }
            None => false,
        }
    }

    /// Runs `future` to completion on this thread. Panics when it waits on something other than
    /// this clock and nothing will ever wake it.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let flag = Arc::new(Flag(AtomicBool::new(true)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if flag.0.swap(false, Ordering::SeqCst) {
                if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                    return out;
                }
            } else if !self.advance_to_next() {
                panic!("FakeClock::block_on: the future is stuck and no sleep is pending");
            }
        }
    }
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        self.lock().now
    }

    fn sleep(&self, duration: Duration) -> LocalBoxFuture<'static, ()> {
        let mut s = self.lock();
        s.requested.push(duration);
        let key = (s.now + duration, s.next_id);
        s.next_id += 1;
        s.sleepers.insert(key, None);
        drop(s);
        Box::pin(FakeSleep {
            clock: self.clone(),
            key,
        })
    }
}

struct FakeSleep {
    clock: FakeClock,
    key: (Duration, u64),
}

impl Future for FakeSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.clock.lock();
        if s.now >= self.key.0 {
            s.sleepers.remove(&self.key);
            return Poll::Ready(());
        }
        s.sleepers.insert(self.key, Some(cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for FakeSleep {
    fn drop(&mut self) {
        self.clock.lock().sleepers.remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_on_jumps_over_sleeps_in_deadline_order() {
        let clock = FakeClock::new();
        let c = clock.clone();
        let order = clock.block_on(async move {
            let a = c.sleep(Duration::from_secs(5));
            let b = c.sleep(Duration::from_secs(2));
            let first = futures_util::future::select(a, b).await;
            let which = matches!(first, futures_util::future::Either::Right(_));
            (which, c.now())
        });
        assert_eq!(order, (true, Duration::from_secs(2)));
        assert_eq!(
            clock.requested_sleeps(),
            [Duration::from_secs(5), Duration::from_secs(2)]
        );
        // The dropped 5 s sleep no longer counts.
        assert!(!clock.advance_to_next());
    }

    #[test]
    #[should_panic(expected = "stuck")]
    fn a_future_that_can_never_finish_is_reported() {
        FakeClock::new().block_on(futures_util::future::pending::<()>());
    }
}
