//! The evidence behind every step: both sides' error rates over the same window, with their
//! uncertainty, and a candidate-vs-baseline verdict whose reason is written in numbers.

use std::fmt;
use std::time::Duration;

use super::stats::{Z_95_ONE_SIDED, two_proportion_z, wilson_interval};
use crate::domain::{Color, MetricBucket, MetricsSnapshot, SideMetrics, Timestamp, format_count};

/// Thresholds of the verdict (config `[guard]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvidenceSettings {
    /// Below this many requests on the candidate there is no verdict either way.
    pub min_requests: u32,
    /// How much worse than the baseline the candidate may be before it counts, as a fraction
    /// (0.005 = 0.5 points).
    pub tolerance: f64,
    /// Above this error rate the candidate is worse whatever the baseline does.
    pub max_error_rate: f64,
    /// Data older than this is stale: two one-minute periods and a minute of CloudWatch delay.
    pub stale_after: Duration,
    /// The window when no weight change is known.
    pub default_window: Duration,
}

impl Default for EvidenceSettings {
    fn default() -> Self {
        EvidenceSettings {
            min_requests: 200,
            tolerance: 0.005,
            max_error_rate: 0.05,
            stale_after: Duration::from_secs(2 * 60 + 60),
            default_window: Duration::from_secs(5 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Too few requests on the candidate to say anything.
    Insufficient,
    Ok,
    Worse,
    /// The newest data is too old to judge by; never counts as ok.
    Stale,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Insufficient => "insufficient",
            Verdict::Ok => "ok",
            Verdict::Worse => "worse",
            Verdict::Stale => "stale",
        })
    }
}

/// One side over the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SideEvidence {
    pub requests: f64,
    pub errors: f64,
    pub rate: Option<f64>,
    /// 95% Wilson interval of the rate.
    pub interval: Option<(f64, f64)>,
    pub latency_avg_ms: Option<f64>,
}

impl SideEvidence {
    fn over(side: &SideMetrics, from: Timestamp, to: Timestamp) -> Self {
        let buckets: Vec<&MetricBucket> = side
            .buckets
            .iter()
            .filter(|b| b.start >= from && b.start <= to)
            .collect();
        let requests: f64 = buckets.iter().map(|b| b.requests).sum();
        let errors: f64 = buckets.iter().map(|b| b.errors_5xx).sum();
        let weighted: f64 = buckets
            .iter()
            .filter_map(|b| Some(b.latency_avg_ms? * b.requests))
            .sum();
        let timed: f64 = buckets
            .iter()
            .filter(|b| b.latency_avg_ms.is_some())
            .map(|b| b.requests)
            .sum();
        SideEvidence {
            requests,
            errors,
            rate: (requests > 0.0).then(|| errors / requests),
            interval: wilson_interval(errors, requests),
            latency_avg_ms: (timed > 0.0).then(|| weighted / timed),
        }
    }

    /// `7.0% ± 2.9`: the rate and the half-width of its interval, in points.
    pub fn rate_text(&self) -> String {
        match (self.rate, self.interval) {
            (Some(rate), Some((lo, hi))) => {
                format!("{} ± {}", percent(rate), points((hi - lo) / 2.0))
            }
            _ => "no requests".into(),
        }
    }
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p < 1.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

fn points(half: f64) -> String {
    let p = half * 100.0;
    if p < 1.0 {
        format!("{p:.2}")
    } else {
        format!("{p:.1}")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub from: Timestamp,
    pub to: Timestamp,
    pub blue: SideEvidence,
    pub green: SideEvidence,
    /// The side judged (the one traffic moves to); the other is the baseline.
    pub candidate: Color,
    pub verdict: Verdict,
    /// The verdict in numbers: "green 7.0% ± 2.9 vs blue 0.25% ± 0.10 over 1 500 requests".
    pub reason: String,
}

impl Evidence {
    pub fn side(&self, color: Color) -> &SideEvidence {
        match color {
            Color::Blue => &self.blue,
            Color::Green => &self.green,
        }
    }
}

/// Judges the candidate against the other side over the minutes since `since` (the last weight
/// change; the default window when unknown), as of `now`.
pub fn evidence(
    metrics: &MetricsSnapshot,
    candidate: Color,
    since: Option<Timestamp>,
    now: Timestamp,
    settings: &EvidenceSettings,
) -> Evidence {
    let default_from = Timestamp(
        now.0
            .saturating_sub(settings.default_window.as_millis() as u64),
    );
    // The minute in which the weights changed mixes two splits: start with the next one.
    let from = since.map_or(default_from, |t| {
        let floor = t.floor_minute();
        if floor == t {
            t
        } else {
            floor.plus(Duration::from_secs(60))
        }
    });
    let blue = SideEvidence::over(&metrics.blue, from, now);
    let green = SideEvidence::over(&metrics.green, from, now);
    let (cand, base) = match candidate {
        Color::Green => (green, blue),
        Color::Blue => (blue, green),
    };
    let (cand_name, base_name) = (candidate.name(), candidate.other().name());
    let newest_end = metrics
        .newest_bucket()
        .map(|t| t.plus(Duration::from_secs(60)));
    let compared = format!(
        "{cand_name} {} vs {base_name} {} over {} requests",
        cand.rate_text(),
        base.rate_text(),
        format_count(cand.requests)
    );
    let stale = newest_end.is_none_or(|end| now.since(end) > settings.stale_after);
    let (verdict, reason) = if stale {
        let age = newest_end.map_or("no data".to_string(), |end| {
            format!(
                "newest data ends {} ago",
                crate::domain::format_age(now.since(end))
            )
        });
        (Verdict::Stale, format!("metrics are stale ({age})"))
    } else if cand.requests <= 0.0 && base.requests <= 0.0 {
        // Nothing in the window on either side: CloudWatch has not reported its minutes yet.
        (
            Verdict::Insufficient,
            format!(
                "no data since {} yet: CloudWatch reports each minute a minute or two late",
                from.clock_utc()
            ),
        )
    } else if cand.requests < f64::from(settings.min_requests) {
        let cand_rate = if cand.requests > 0.0 {
            format!(" at {}", cand.rate_text())
        } else {
            String::new()
        };
        (
            Verdict::Insufficient,
            format!(
                "{} of {} requests on {cand_name}{cand_rate} since {} ({base_name} {})",
                format_count(cand.requests),
                settings.min_requests,
                from.clock_utc(),
                base.rate_text()
            ),
        )
    } else {
        let cand_rate = cand.rate.unwrap_or(0.0);
        let over_ceiling = cand_rate > settings.max_error_rate;
        let significantly_worse = match base.rate {
            Some(base_rate) => {
                cand_rate > base_rate + settings.tolerance
                    && two_proportion_z(cand.errors, cand.requests, base.errors, base.requests)
                        .is_some_and(|z| z > Z_95_ONE_SIDED)
            }
            None => false,
        };
        if over_ceiling {
            (
                Verdict::Worse,
                format!(
                    "{compared}: above the {} ceiling",
                    percent(settings.max_error_rate)
                ),
            )
        } else if significantly_worse {
            (Verdict::Worse, format!("{compared}: significantly worse"))
        } else {
            (Verdict::Ok, compared)
        }
    };
    Evidence {
        from,
        to: now,
        blue,
        green,
        candidate,
        verdict,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(100 * 60_000 + 30_000);

    fn side(minutes: &[(u64, f64, f64)]) -> SideMetrics {
        SideMetrics {
            buckets: minutes
                .iter()
                .map(|&(minute, requests, errors)| MetricBucket {
                    start: Timestamp(minute * 60_000),
                    requests,
                    errors_5xx: errors,
                    latency_avg_ms: Some(80.0),
                    latency_p99_ms: None,
                })
                .collect(),
        }
    }

    fn metrics(blue: &[(u64, f64, f64)], green: &[(u64, f64, f64)]) -> MetricsSnapshot {
        MetricsSnapshot {
            blue: side(blue),
            green: side(green),
            elb_5xx: Vec::new(),
        }
    }

    fn judge(m: &MetricsSnapshot, since: Option<Timestamp>) -> Evidence {
        evidence(m, Color::Green, since, NOW, &EvidenceSettings::default())
    }

    #[test]
    fn a_clearly_bad_green_is_worse_with_the_numbers() {
        let m = metrics(
            &[(97, 2000.0, 5.0), (98, 2000.0, 5.0), (99, 2000.0, 5.0)],
            &[(97, 500.0, 35.0), (98, 500.0, 35.0), (99, 500.0, 35.0)],
        );
        let e = judge(&m, None);
        assert_eq!(e.verdict, Verdict::Worse);
        assert_eq!(
            e.reason,
            "green 7.0% ± 1.3 vs blue 0.25% ± 0.13 over 1 500 requests: above the 5.0% ceiling"
        );
    }

    #[test]
    fn in_the_second_cycle_blue_is_judged_against_green() {
        // After the roles swapped, green is live and the new revision runs on blue.
        let m = metrics(
            &[(97, 500.0, 35.0), (98, 500.0, 35.0), (99, 500.0, 35.0)],
            &[(97, 2000.0, 5.0), (98, 2000.0, 5.0), (99, 2000.0, 5.0)],
        );
        let e = evidence(&m, Color::Blue, None, NOW, &EvidenceSettings::default());
        assert_eq!(e.verdict, Verdict::Worse);
        assert_eq!(
            e.reason,
            "blue 7.0% ± 1.3 vs green 0.25% ± 0.13 over 1 500 requests: above the 5.0% ceiling"
        );
        // The same numbers with green as the candidate: green is far better than blue.
        assert_eq!(judge(&m, None).verdict, Verdict::Ok);
    }

    #[test]
    fn worse_than_blue_by_more_than_the_tolerance_and_significantly() {
        let m = metrics(
            &[(98, 6000.0, 15.0), (99, 6000.0, 15.0)],
            &[(98, 1000.0, 15.0), (99, 1000.0, 15.0)],
        );
        let e = judge(&m, None);
        assert_eq!(e.verdict, Verdict::Worse, "{}", e.reason);
        assert!(e.reason.ends_with("significantly worse"));
    }

    #[test]
    fn a_small_difference_within_tolerance_is_ok() {
        let m = metrics(
            &[(98, 6000.0, 15.0), (99, 6000.0, 15.0)],
            &[(98, 1000.0, 4.0), (99, 1000.0, 4.0)],
        );
        assert_eq!(judge(&m, None).verdict, Verdict::Ok);
    }

    #[test]
    fn too_few_requests_on_green_is_insufficient() {
        let m = metrics(&[(99, 6000.0, 15.0)], &[(99, 150.0, 40.0)]);
        let e = judge(&m, None);
        assert_eq!(e.verdict, Verdict::Insufficient);
        assert!(
            e.reason.starts_with("150 of 200 requests on green"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn a_window_cloudwatch_has_not_reported_yet_says_so() {
        // The weights changed at 99:10; the window starts at 100:00 and holds nothing yet.
        let m = metrics(&[(99, 6000.0, 15.0)], &[(99, 150.0, 1.0)]);
        let e = judge(&m, Some(Timestamp(99 * 60_000 + 10_000)));
        assert_eq!(e.verdict, Verdict::Insufficient);
        assert!(e.reason.starts_with("no data since "), "{}", e.reason);
    }

    #[test]
    fn old_data_is_stale_and_never_ok() {
        let m = metrics(&[(90, 6000.0, 15.0)], &[(90, 6000.0, 15.0)]);
        let e = judge(&m, None);
        assert_eq!(e.verdict, Verdict::Stale);
        assert!(e.reason.contains("metrics are stale"), "{}", e.reason);
        assert_eq!(
            judge(&MetricsSnapshot::default(), None).verdict,
            Verdict::Stale
        );
    }

    #[test]
    fn the_window_starts_after_the_minute_of_the_last_weight_change() {
        // Green was bad before the change at 97:20 and is fine since.
        let m = metrics(
            &[
                (96, 6000.0, 15.0),
                (97, 6000.0, 15.0),
                (98, 6000.0, 15.0),
                (99, 6000.0, 15.0),
            ],
            &[
                (96, 1000.0, 500.0),
                (97, 1000.0, 500.0),
                (98, 1000.0, 2.0),
                (99, 1000.0, 2.0),
            ],
        );
        let since = Timestamp(97 * 60_000 + 20_000);
        let e = judge(&m, Some(since));
        assert_eq!(e.from, Timestamp(98 * 60_000));
        assert_eq!(e.green.requests, 2000.0);
        assert_eq!(e.verdict, Verdict::Ok);
    }
}
