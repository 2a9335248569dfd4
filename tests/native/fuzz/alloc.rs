//! The test binary's allocator: the system's, counting the live heap of each thread so a fuzz
//! case can be held to a memory budget. Outside a case it only adds and subtracts.
//!
//! Only the case's own thread is counted (the parsers under test do not spawn threads), and a
//! block freed by another thread than the one that allocated it is subtracted from the wrong
//! counter: both make the figure an estimate, good enough to tell bounded from unbounded.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    /// Past this many live bytes an allocation fails (the process aborts): a runaway case
    /// must not take the machine's memory. `usize::MAX` outside a case.
    static HARD_LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// What one case used.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// Most live bytes at once, counted from the case's start.
    pub peak: usize,
    /// The largest single allocation.
    pub largest: usize,
}

/// Starts counting this thread's heap from zero. Going over `budget` fails the case when it
/// ends ([`super::guarded`]); going over four times it plus 256 MiB aborts at once.
pub fn start_case(budget: usize) {
    let _ = LIVE.try_with(|c| c.set(0));
    let _ = PEAK.try_with(|c| c.set(0));
    let _ = LARGEST.try_with(|c| c.set(0));
    let hard = budget.saturating_mul(4).saturating_add(256 << 20);
    let _ = HARD_LIMIT.try_with(|c| c.set(hard));
}

pub fn end_case() -> Usage {
    let _ = HARD_LIMIT.try_with(|c| c.set(usize::MAX));
    Usage {
        peak: PEAK.try_with(Cell::get).unwrap_or(0),
        largest: LARGEST.try_with(Cell::get).unwrap_or(0),
    }
}

/// `bytes` more are live, in a block of `block` bytes.
fn grew(bytes: usize, block: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(bytes);
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
    let _ = LARGEST.try_with(|l| l.set(l.get().max(block)));
}

/// Whether `bytes` more would pass the case's hard limit (then a message, and the allocation
/// fails).
fn refused(bytes: usize) -> bool {
    let live = LIVE.try_with(Cell::get).unwrap_or(0);
    let limit = HARD_LIMIT.try_with(Cell::get).unwrap_or(usize::MAX);
    if live.saturating_add(bytes) <= limit {
        return false;
    }
    use std::io::Write;
    // Stderr is unbuffered: this writes without allocating.
    let _ = std::io::stderr().write_all(
        b"\nfuzz: a case went past four times its memory budget; aborting. Its input is in \
          <target dir>/tmp/fuzz-current/<target>.bin\n",
    );
    true
}

fn shrank(bytes: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(bytes)));
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are thread-locals without
// destructors, reached with `try_with` (never allocating, never panicking).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if refused(layout.size()) {
            return std::ptr::null_mut();
        }
        grew(layout.size(), layout.size());
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if refused(layout.size()) {
            return std::ptr::null_mut();
        }
        grew(layout.size(), layout.size());
        // SAFETY: as above; zeroed pages stay lazily mapped, as with the system allocator.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            if refused(new_size - layout.size()) {
                return std::ptr::null_mut();
            }
            grew(new_size - layout.size(), new_size);
        } else {
            shrank(layout.size() - new_size);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
