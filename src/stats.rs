//! Small statistics shared by the leakage report and the evaluation report.

/// z for a two-sided 95% interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// A proportion with its Wilson score interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Proportion {
    pub successes: u64,
    pub total: u64,
    /// `successes / total`; 0 when `total` is 0.
    pub rate: f64,
    /// Wilson 95% interval; `(0, 1)` when `total` is 0 (nothing is known).
    pub low: f64,
    pub high: f64,
}

impl Proportion {
    /// `successes` out of `total` with its Wilson 95% interval.
    pub fn new(successes: u64, total: u64) -> Self {
        let (low, high) = wilson_interval(successes, total, Z_95);
        let rate = if total == 0 {
            0.0
        } else {
            successes as f64 / total as f64
        };
        Self {
            successes,
            total,
            rate,
            low,
            high,
        }
    }
}

/// Wilson score interval for `successes / total` at normal quantile `z`
/// (Wilson 1927; the interval recommended by Brown, Cai & DasGupta 2001 for small n and
/// rates near 0 or 1, where the normal approximation fails).
pub fn wilson_interval(successes: u64, total: u64, z: f64) -> (f64, f64) {
    if total == 0 {
        return (0.0, 1.0);
    }
    let n = total as f64;
    let p = successes.min(total) as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // At 0 of n and n of n the bound is exactly 0 or 1; rounding would give 1e-17 or
    // 0.9999999999999999 (printed as such in reports).
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if successes >= total {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_hand_computed_values() {
        // 8 of 10: centre 0.7517, half-width 0.2193 (computed by hand from the formula).
        let (lo, hi) = wilson_interval(8, 10, Z_95);
        assert!(
            (lo - 0.4902).abs() < 1e-4 && (hi - 0.9433).abs() < 1e-4,
            "{lo} {hi}"
        );
        // 0 of 20 still has a non-zero upper bound.
        let (lo, hi) = wilson_interval(0, 20, Z_95);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.1611).abs() < 1e-4, "{hi}");
        assert_eq!(wilson_interval(0, 0, Z_95), (0.0, 1.0));
    }

    #[test]
    fn all_or_nothing_bounds_are_exact() {
        for n in 1..200 {
            assert_eq!(wilson_interval(n, n, Z_95).1, 1.0, "{n}");
            assert_eq!(wilson_interval(0, n, Z_95).0, 0.0, "{n}");
        }
    }

    #[test]
    fn proportion_of_nothing_is_zero_with_a_full_interval() {
        let p = Proportion::new(0, 0);
        assert_eq!((p.rate, p.low, p.high), (0.0, 0.0, 1.0));
    }
}
