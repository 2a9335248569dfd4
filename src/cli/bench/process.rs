//! What the benchmark reads about its own process and machine from Linux's `/proc`: peak
//! resident memory (`VmHWM`, resettable through `clear_refs`), CPU time, the CPU's name. Every
//! reading is optional: elsewhere the figures are left out, never invented.

use std::time::Instant;

/// Resets `VmHWM` to the current resident size (Linux ≥ 4.0), so the next [`peak_rss_mib`]
/// is the peak since now. Returns whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// `VmHWM` (peak resident set) in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// User + system CPU time of the whole process (every thread), in seconds. `/proc` counts in
/// clock ticks of 1/100 s on every Linux ABI Rust targets (`USER_HZ`).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU time against wall time over a stretch of work.
pub struct CpuClock {
    cpu: Option<f64>,
    wall: Instant,
}

impl CpuClock {
    pub fn start() -> Self {
        Self {
            cpu: cpu_seconds(),
            wall: Instant::now(),
        }
    }

    /// Average number of busy cores since [`CpuClock::start`] (1/100 s resolution: meaningful
    /// over a second or more of work).
    pub fn cpu_per_wall(&self) -> Option<f64> {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = cpu_seconds()? - self.cpu?;
        (wall > 0.0).then_some(cpu / wall)
    }
}

/// The 1-minute load average (`/proc/loadavg`).
pub fn load_avg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The CPU's name from `/proc/cpuinfo`, or "CPU".
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "CPU".to_owned())
}

/// Today's date (UTC) as YYYY-MM-DD, from the system clock.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    let (year, month, day) = leakscope::util::date::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_a_date() {
        let d = today();
        assert_eq!(d.len(), 10, "{d}");
        assert!(d.starts_with("20"), "{d}");
    }

    #[test]
    fn cpu_time_is_readable_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(cpu_seconds().is_some());
            assert!(peak_rss_mib().is_some());
        }
    }
}
