//! The statistics behind a verdict: Wilson score intervals and a one-sided two-proportion test.

/// z for a two-sided 95% interval.
pub const Z_95_TWO_SIDED: f64 = 1.959_963_984_540_054;
/// z for a one-sided test at 95%.
pub const Z_95_ONE_SIDED: f64 = 1.644_853_626_951_472_2;

/// The 95% Wilson score interval of `successes` out of `trials`: unlike the normal
/// approximation it stays inside 0..1 and behaves at rates near zero, where 5xx rates live.
pub fn wilson_interval(successes: f64, trials: f64) -> Option<(f64, f64)> {
    if trials <= 0.0 {
        return None;
    }
    let z = Z_95_TWO_SIDED;
    let p = (successes / trials).clamp(0.0, 1.0);
    let z2 = z * z;
    let denominator = 1.0 + z2 / trials;
    let centre = (p + z2 / (2.0 * trials)) / denominator;
    let half = z * (p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// z of the difference `a - b` of two proportions, with the pooled standard error.
/// `None` when either side has no trials or the pooled rate is 0 or 1 (no variance).
pub fn two_proportion_z(
    a_successes: f64,
    a_trials: f64,
    b_successes: f64,
    b_trials: f64,
) -> Option<f64> {
    if a_trials <= 0.0 || b_trials <= 0.0 {
        return None;
    }
    let pooled = (a_successes + b_successes) / (a_trials + b_trials);
    let variance = pooled * (1.0 - pooled) * (1.0 / a_trials + 1.0 / b_trials);
    if variance <= 0.0 {
        return None;
    }
    Some((a_successes / a_trials - b_successes / b_trials) / variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe (1998), Table I: 0/10 → 0–0.2775; 5/10 → 0.2366–0.7634.
        let (lo, hi) = wilson_interval(0.0, 10.0).expect("trials");
        assert!(close(lo, 0.0) && close(hi, 0.2775), "{lo} {hi}");
        let (lo, hi) = wilson_interval(5.0, 10.0).expect("trials");
        assert!(close(lo, 0.2366) && close(hi, 0.7634), "{lo} {hi}");
        // A healthy service: 15 of 6000.
        let (lo, hi) = wilson_interval(15.0, 6000.0).expect("trials");
        assert!(close(lo, 0.001516) && close(hi, 0.004121), "{lo} {hi}");
        assert_eq!(wilson_interval(1.0, 0.0), None);
    }

    #[test]
    fn two_proportion_test_matches_the_textbook() {
        // 45/100 against 30/100: z = 2.19, significant one-sided at 95%.
        let z = two_proportion_z(45.0, 100.0, 30.0, 100.0).expect("defined");
        assert!(close(z, 2.19089), "{z}");
        assert!(z > Z_95_ONE_SIDED);
        assert_eq!(
            two_proportion_z(0.0, 100.0, 0.0, 100.0),
            None,
            "no errors anywhere"
        );
        assert_eq!(two_proportion_z(1.0, 0.0, 0.0, 100.0), None);
    }
}
