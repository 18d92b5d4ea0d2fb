//! The rows of `[[guard.metric]]`: application metrics the load balancer cannot see (EMF
//! error counters, queue depth, business KPIs), per side, against the live side or a ceiling.

use super::{Check, CheckKind, Window};
use crate::domain::{CustomMetric, MetricLimit, Timestamp};
use crate::shift::evidence::Verdict;

/// The mean of the one-minute values in the window; `None` without a datapoint.
fn mean(points: &[(Timestamp, f64)], from: Timestamp, to: Timestamp) -> Option<f64> {
    let values: Vec<f64> = points
        .iter()
        .filter(|(t, _)| *t >= from && *t <= to)
        .map(|(_, v)| *v)
        .collect();
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn number(value: f64) -> String {
    if value.abs() >= 100.0 || value.fract() == 0.0 {
        crate::domain::fixed(value, 0)
    } else {
        crate::domain::fixed(value, 2)
    }
}

/// Why `cand` breaks a limit, if it does.
fn breach(limit: MetricLimit, cand: f64, base: Option<f64>) -> Option<String> {
    match (limit, base) {
        (MetricLimit::Ceiling(max), _) if cand > max => {
            Some(format!("over the ceiling of {}", number(max)))
        }
        (MetricLimit::Ratio(ratio), Some(base)) if base > 0.0 && cand > base * ratio => Some(
            format!("{:.1}× the live side's, over {ratio:.1}×", cand / base),
        ),
        (MetricLimit::Ratio(_), Some(base)) if base <= 0.0 && cand > 0.0 => {
            Some("above a live side at 0".into())
        }
        (MetricLimit::Increase(by), Some(base)) if cand > base + by => Some(format!(
            "{} above the live side's, over {}",
            number(cand - base),
            number(by)
        )),
        _ => None,
    }
}

pub fn check(metric: &CustomMetric, window: &Window) -> Check {
    let kind = CheckKind::Custom(metric.name.clone());
    let (cand_name, base_name) = window.names();
    let series = window
        .metrics
        .custom
        .iter()
        .find(|series| series.name == metric.name);
    if let Some(problem) = series.and_then(|s| s.problem.as_deref()) {
        return Check::new(kind, Verdict::Stale, problem.to_string());
    }
    let value = |color| series.and_then(|s| mean(s.side(color), window.from, window.now));
    let Some(cand) = value(window.candidate) else {
        return Check::new(
            kind,
            Verdict::Insufficient,
            format!(
                "no datapoints for {cand_name} since {}",
                window.from.clock_utc()
            ),
        );
    };
    let base = value(window.candidate.other());
    let compares = metric
        .limits
        .iter()
        .any(|l| !matches!(l, MetricLimit::Ceiling(_)));
    let shown = match base {
        Some(base) => format!(
            "{cand_name} {} vs {base_name} {}",
            number(cand),
            number(base)
        ),
        None => format!("{cand_name} {}", number(cand)),
    };
    if let Some(why) = metric.limits.iter().find_map(|l| breach(*l, cand, base)) {
        return Check::new(kind, Verdict::Worse, format!("{shown}: {why}"));
    }
    if compares && base.is_none() {
        return Check::new(
            kind,
            Verdict::Insufficient,
            format!("{shown}; no datapoints for {base_name} to compare with"),
        );
    }
    Check::new(kind, Verdict::Ok, shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_compare_with_the_live_side_or_a_ceiling() {
        assert!(breach(MetricLimit::Ratio(1.5), 16.0, Some(10.0)).is_some());
        assert!(
            breach(MetricLimit::Ratio(1.5), 15.0, Some(10.0)).is_none(),
            "a tie is ok"
        );
        assert!(breach(MetricLimit::Increase(2.0), 12.5, Some(10.0)).is_some());
        assert!(breach(MetricLimit::Increase(2.0), 12.0, Some(10.0)).is_none());
        assert!(breach(MetricLimit::Ceiling(100.0), 101.0, None).is_some());
        assert!(
            breach(MetricLimit::Ratio(1.5), 101.0, None).is_none(),
            "nothing to compare"
        );
        assert!(breach(MetricLimit::Ratio(1.5), 1.0, Some(0.0)).is_some());
        assert!(breach(MetricLimit::Ratio(1.5), 0.0, Some(0.0)).is_none());
    }

    #[test]
    fn the_window_mean_needs_a_datapoint() {
        let points = [(Timestamp(60_000), 2.0), (Timestamp(120_000), 4.0)];
        assert_eq!(mean(&points, Timestamp(0), Timestamp(200_000)), Some(3.0));
        assert_eq!(mean(&points, Timestamp(130_000), Timestamp(200_000)), None);
    }
}
