//! [`Clock`] for native builds: one process-wide timer thread wakes sleeping futures.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;

use crate::platform::clock::Clock;

#[derive(Default)]
struct Slot {
    done: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

#[derive(Default)]
struct Timer {
    pending: Mutex<BTreeMap<(Instant, u64), Arc<Slot>>>,
    changed: Condvar,
    next_id: AtomicU64,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::default());
        std::thread::Builder::new()
            .name("leakscope-timer".into())
            .spawn(move || timer.run())
            .expect("spawn the timer thread");
        timer
    })
}

impl Timer {
    fn run(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            while let Some(entry) = pending.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let slot = entry.remove();
                slot.done.store(true, Ordering::SeqCst);
                if let Some(w) = slot.waker.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    w.wake();
                }
            }
            pending = match pending.first_key_value().map(|((t, _), _)| *t) {
                Some(t) => {
                    self.changed
                        .wait_timeout(pending, t - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self
                    .changed
                    .wait(pending)
                    .unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

/// Wall-clock time and sleeps on a shared timer thread.
#[derive(Clone, Copy, Debug)]
pub struct ThreadClock {
    origin: Instant,
}

impl Default for ThreadClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl ThreadClock {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Clock for ThreadClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> LocalBoxFuture<'static, ()> {
        let timer = timer();
        let key = (
            Instant::now() + duration,
            timer.next_id.fetch_add(1, Ordering::Relaxed),
        );
        let slot = Arc::new(Slot::default());
        timer
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, slot.clone());
        timer.changed.notify_one();
        Box::pin(Sleep { key, slot })
    }
}

struct Sleep {
    key: (Instant, u64),
    slot: Arc<Slot>,
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.slot.done.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *self.slot.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        // The timer may have fired between the check and storing the waker.
        if self.slot.done.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if !self.slot.done.load(Ordering::SeqCst) {
            timer()
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_end_in_deadline_order_and_dropped_ones_are_forgotten() {
        let clock = ThreadClock::new();
        let start = Instant::now();
        let abandoned = clock.sleep(Duration::from_secs(3600));
        drop(abandoned);
        let (a, b) = (
            clock.sleep(Duration::from_millis(40)),
            clock.sleep(Duration::from_millis(10)),
        );
        let first = pollster::block_on(futures_util::future::select(a, b));
        assert!(matches!(first, futures_util::future::Either::Right(_)));
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(10) && elapsed < Duration::from_secs(5),
            "{elapsed:?}"
        );
    }
}
