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

/// Exact two-sided McNemar test for paired binary outcomes: `b` pairs where only the first is
/// a success, `c` where only the second is. The p-value of the binomial test of `b` out of
/// `b + c` against ½ (McNemar 1947; the exact form for small counts, Fagerland, Lydersen &
/// Laake 2013). 1 when there is no discordant pair.
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    // P(X ≤ min(b, c)) for X ~ Binomial(n, ½), summed in log space (n reaches thousands).
    let k = b.min(c);
    let log_half_n = n as f64 * 0.5f64.ln();
    let mut log_term = log_half_n; // C(n, 0) · ½ⁿ
    let mut tail = log_term.exp();
    for i in 1..=k {
        log_term += ((n - i + 1) as f64).ln() - (i as f64).ln();
        tail += log_term.exp();
    }
    (2.0 * tail).min(1.0)
}

/// Two-sided p-value of the pooled two-proportion z-test of `s1 / n1` against `s2 / n2`
/// (for unpaired results: different rows, or rows not known one by one). 1 when either sample
/// is empty or the pooled rate is 0 or 1.
pub fn two_proportion_z(s1: u64, n1: u64, s2: u64, n2: u64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (s1 + s2) as f64 / (n1f + n2f);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    if se == 0.0 {
        return 1.0;
    }
    let z = (s1 as f64 / n1f - s2 as f64 / n2f) / se;
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// Holm's step-down adjustment of `p` values (Holm 1979): controls the chance of any false
/// "significant" among all pairwise comparisons, uniformly more powerful than Bonferroni.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Complementary error function (W. J. Cody's rational approximations as given in Numerical
/// Recipes' `erfcc`, fractional error below 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
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
    fn mcnemar_exact_matches_the_binomial_tail() {
        // 10 discordant pairs split 1 / 9: 2 · (1 + 10) / 1024.
        assert!((mcnemar_exact(1, 9) - 22.0 / 1024.0).abs() < 1e-12);
        assert_eq!(mcnemar_exact(5, 5), 1.0);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        // Symmetric, and stable for thousands of pairs.
        assert_eq!(mcnemar_exact(30, 70), mcnemar_exact(70, 30));
        let p = mcnemar_exact(1000, 1200);
        assert!(p > 0.0 && p < 1e-4, "{p}");
    }

    #[test]
    fn two_proportion_z_and_erfc_match_reference_values() {
        // erfc(1) = 0.157299207..., erfc(0) = 1.
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        // 60/100 vs 45/100: pooled 0.525, z = 2.1240, p = 0.03367.
        let p = two_proportion_z(60, 100, 45, 100);
        assert!((p - 0.03367).abs() < 2e-4, "{p}");
        assert_eq!(two_proportion_z(5, 10, 5, 10), 1.0);
        assert_eq!(two_proportion_z(0, 0, 5, 10), 1.0);
    }

    #[test]
    fn holm_multiplies_by_the_remaining_count_and_stays_monotone() {
        let adjusted = holm(&[0.01, 0.04, 0.03]);
        assert!((adjusted[0] - 0.03).abs() < 1e-12);
        assert!((adjusted[2] - 0.06).abs() < 1e-12);
        assert!(
            (adjusted[1] - 0.06).abs() < 1e-12,
            "never below an earlier step"
        );
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
