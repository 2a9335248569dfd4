//! Numbers, rates, sizes and durations as people read them: the CLI's tables and progress lines
//! and the page's panels use the same words.

use std::time::Duration;

use crate::stats::Proportion;

/// A rate in percent with one decimal, `54.8%`; `–` when nothing was counted.
pub fn pct(p: &Proportion) -> String {
    if p.total == 0 {
        "–".into()
    } else {
        format!("{:.1}%", p.rate * 100.0)
    }
}

/// A rate and its Wilson 95% interval in percent at a fixed width for text tables:
/// ` 50.00 [  9.45,  90.55]`.
pub fn pct_ci(p: &Proportion) -> String {
    format!(
        "{:6.2} [{:6.2}, {:6.2}]",
        100.0 * p.rate,
        100.0 * p.low,
        100.0 * p.high
    )
}

/// `1,234`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1.2 MB`, `605 MB`, `1.21 GB` (SI units, as download dialogs use).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let digits = if value < 10.0 {
        2
    } else if value < 100.0 {
        1
    } else {
        0
    };
    format!("{value:.digits$} {}", UNITS[unit])
}

/// `done` of `total` as people read it, `12.3 MB of 21.4 MB`; when rounding would make an
/// unfinished transfer look finished (`21.4 MB of 21.4 MB` with bytes missing), the exact byte
/// counts instead: `21,399,873 of 21,400,000 bytes`.
pub fn bytes_of(done: u64, total: u64) -> String {
    let (a, b) = (human_bytes(done), human_bytes(total));
    if done != total && a == b {
        format!("{} of {} bytes", thousands(done), thousands(total))
    } else {
        format!("{a} of {b}")
    }
}

/// "1 h 02 min", "3 min 05 s", "12 s".
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(12)), "12 s");
        assert_eq!(human_duration(Duration::from_secs(185)), "3 min 05 s");
        assert_eq!(human_duration(Duration::from_secs(3720)), "1 h 02 min");
    }

    #[test]
    fn sizes_use_si_units_and_three_figures() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_210_000_000), "1.21 GB");
    }

    #[test]
    fn rates_and_counts_read_naturally() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(pct(&Proportion::new(0, 0)), "–");
        assert_eq!(pct(&Proportion::new(548, 1000)), "54.8%");
        assert_eq!(pct_ci(&Proportion::new(1, 2)), " 50.00 [  9.45,  90.55]");
    }
}
