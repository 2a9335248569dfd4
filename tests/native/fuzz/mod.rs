//! Fuzzing of every parser of outside bytes, on stable Rust (`arbtest`, one dependency).
//!
//! Each target is a generator (random bytes → an input shaped like the real thing: a header
//! that parses, with absurd sizes, torn records, wrong types) and a check (the parser on that
//! input must give a value or a typed error). A case fails when the check
//!
//! * panics,
//! * does not finish within [`HANG`] (it runs on its own thread, watched), or
//! * holds more heap at once than the target's stated memory budget (a counting allocator,
//!   [`alloc`], tracks the live bytes of the case's thread).
//!
//! `cargo test --test native fuzz::` runs each target's fixed number of cases (deterministic
//! seeds, the same on every run) after replaying every input that ever failed, kept under
//! `tests/fixtures/fuzz/<target>/`. The long mode searches with fresh random seeds for as long
//! as one likes: `make fuzz` (or `LEAKSCOPE_FUZZ_SECONDS=600 cargo test --test native fuzz::`),
//! `LEAKSCOPE_FUZZ_CASES=20` multiplies the fixed counts instead, and `LEAKSCOPE_FUZZ_DUMP=1`
//! writes every generated input to `<target dir>/tmp/fuzz-dump/<target>/` (to see what a
//! generator makes). A failing input is written to
//! `<target dir>/tmp/fuzz-failures/<target>/` and the message says where; copy it into the
//! fixtures folder with the fix.

/// The end of every target's file: its [`Target`] and the test that runs it.
macro_rules! fuzz_target {
    ($name:literal, cases: $cases:expr, size_max: $size:expr, memory: $memory:expr) => {
        pub const TARGET: super::Target = super::Target {
            name: $name,
            cases: $cases,
            size_max: $size,
            memory: $memory,
            generate,
            check,
        };

        #[test]
        fn fuzz() {
            super::run(&TARGET);
        }
    };
}

pub mod alloc;
mod generator;

pub mod api_responses;
pub mod config_json;
pub mod datasets_csv;
pub mod datasets_json;
pub mod deep_link;
pub mod guard_head;
pub mod http_headers;
pub mod image;
pub mod jsonl_stores;
pub mod official_template;
pub mod safetensors;
pub mod tar;
pub mod tokenizer_files;
pub mod tokenizer_unicode;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use generator::Gen;

/// What a generator returns: the input, or "the random bytes ran out" (the case is skipped).
pub type Input = arbtest::arbitrary::Result<Vec<u8>>;

/// A case that runs longer than this hangs (debug build, 2 shared cores: the slowest honest
/// case, a 64-megapixel image header, takes well under a second).
pub const HANG: Duration = Duration::from_secs(30);

/// One fuzz target.
pub struct Target {
    /// Also the fixtures folder's name.
    pub name: &'static str,
    /// Cases per `make test` run.
    pub cases: u32,
    /// Most random bytes one case may draw (arbtest's seed size).
    pub size_max: u32,
    /// Most heap one case may hold at once, in bytes: the parser's stated limits plus room.
    pub memory: usize,
    /// Random bytes → an input (the bytes the check reads; multi-part inputs use [`parts`]).
    pub generate: fn(&mut Gen<'_, '_>) -> Input,
    /// Must return (any typed error is fine) without panicking, hanging or over-allocating.
    pub check: fn(&[u8]),
}

/// Replays the target's fixtures, then runs its cases (see the module docs).
pub fn run(target: &Target) {
    let replayed = replay(target);
    let started = Instant::now();
    let cases = match long_mode() {
        Some(budget) => {
            // Fresh random seeds until the budget is spent; arbtest prints the seed of a
            // failure (`ARBTEST_SEED=0x… cargo test …` reproduces it).
            let mut count = 0u64;
            arbtest::arbtest(|u| {
                count += 1;
                case(target, u)
            })
            .size_max(target.size_max.saturating_mul(4))
            .budget(budget)
            .run();
            count
        }
        None => {
            let scale = std::env::var("LEAKSCOPE_FUZZ_CASES")
                .ok()
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(1)
                .max(1);
            let total = target.cases.saturating_mul(scale);
            for i in 0..total {
                arbtest::arbtest(|u| case(target, u))
                    .seed(seed(target.name, i, total, target.size_max))
                    .run();
            }
            u64::from(total)
        }
    };
    eprintln!(
        "fuzz {}: {replayed} fixtures replayed, {cases} cases in {:.1} s",
        target.name,
        started.elapsed().as_secs_f64()
    );
}

fn long_mode() -> Option<Duration> {
    std::env::var("LEAKSCOPE_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map(Duration::from_secs)
}

/// Case `i` of `total`: arbtest's seed layout (size in the low 32 bits), sizes growing from 16
/// bytes to `size_max` over the run so that small inputs come first.
fn seed(name: &str, i: u32, total: u32, size_max: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes().chain(i.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let frac = f64::from(i + 1) / f64::from(total.max(1));
    let size = (16.0 + frac * frac * f64::from(size_max.saturating_sub(16))) as u64;
    (h << 32) | size.max(1)
}

fn case(
    target: &Target,
    u: &mut arbtest::arbitrary::Unstructured<'_>,
) -> arbtest::arbitrary::Result<()> {
    let mut g = Gen::new(u);
    // Running out of random bytes mid-generation is not a finding: skip the case.
    let Ok(input) = (target.generate)(&mut g) else {
        return Ok(());
    };
    // Kept until the next case: if a case aborts the process (past the allocator's hard
    // limit), this is its input.
    let current = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz-current")
        .join(format!("{}.bin", target.name));
    let _ = std::fs::create_dir_all(current.parent().unwrap_or(Path::new(".")))
        .and_then(|()| std::fs::write(&current, &input));
    if std::env::var_os("LEAKSCOPE_FUZZ_DUMP").is_some() {
        // Every generated input, to look at what a generator makes.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("fuzz-dump")
            .join(target.name);
        let name = format!("{}.bin", &leakscope::util::hash::sha256_hex(&input)[..16]);
        let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(name), &input));
    }
    if let Err(failure) = guarded(target, &input) {
        let saved = save_failure(target.name, &input);
        panic!(
            "fuzz target `{}`: {failure}; the input is in {} (copy it into tests/fixtures/fuzz/{}/ \
             to keep it as a regression case)",
            target.name,
            saved.display(),
            target.name
        );
    }
    Ok(())
}

/// Runs `target.check(input)` on its own thread, within [`HANG`] and the memory budget.
pub fn guarded(target: &Target, input: &[u8]) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let owned = input.to_vec();
    let check = target.check;
    let budget = target.memory;
    let spawned = std::thread::Builder::new()
        .name(format!("fuzz-{}", target.name))
        .stack_size(16 << 20)
        .spawn(move || {
            alloc::start_case(budget);
            let outcome = std::panic::catch_unwind(|| check(&owned));
            let usage = alloc::end_case();
            let _ = tx.send((outcome.is_err(), usage));
        });
    if let Err(e) = spawned {
        return Err(format!("could not start the case's thread: {e}"));
    }
    match rx.recv_timeout(HANG) {
        Ok((true, _)) => Err("the check panicked (message above)".into()),
        Ok((false, usage)) if usage.peak > budget => Err(format!(
            "the case held {} bytes at once, over the target's budget of {budget}{}",
            usage.peak,
            match usage.largest {
                0 => String::new(),
                n => format!(" (largest single allocation {n} bytes)"),
            }
        )),
        Ok(_) => Ok(()),
        Err(_) => Err(format!(
            "the case did not finish within {} s (a hang)",
            HANG.as_secs()
        )),
    }
}

/// Every file under `tests/fixtures/fuzz/<target>/`, through the same guard.
fn replay(target: &Target) -> usize {
    let dir = fixtures_dir(target.name);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    let mut n = 0;
    for path in paths.iter().filter(|p| p.is_file()) {
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let input = crate::common::read(path);
        if let Err(failure) = guarded(target, &input) {
            panic!(
                "fuzz target `{}`, regression fixture {}: {failure}",
                target.name,
                path.display()
            );
        }
        n += 1;
    }
    n
}

pub fn fixtures_dir(target: &str) -> PathBuf {
    crate::common::fixture("fuzz").join(target)
}

fn save_failure(target: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz-failures")
        .join(target);
    let name = format!("{}.bin", &leakscope::util::hash::sha256_hex(input)[..16]);
    let path = dir.join(name);
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, input)) {
        eprintln!(
            "could not save the failing input to {}: {e}",
            path.display()
        );
    }
    path
}

/// Several byte strings in one input: each as a little-endian u32 length, then its bytes.
pub fn parts(items: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        out.extend_from_slice(&(item.len() as u32).to_le_bytes());
        out.extend_from_slice(item);
    }
    out
}

/// The inverse of [`parts`]: missing or short parts come back empty.
pub fn split_parts<const N: usize>(input: &[u8]) -> [&[u8]; N] {
    let mut out = [&[][..]; N];
    let mut rest = input;
    for slot in out.iter_mut() {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            break;
        };
        let len = (u32::from_le_bytes(*len) as usize).min(tail.len());
        *slot = &tail[..len];
        rest = &tail[len..];
    }
    out
}
