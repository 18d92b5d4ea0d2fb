//! The evidence behind every step: a small table of checks, one row per signal (5xx, latency,
//! load-balancer errors, health, alarms, the operator's own metrics), each with a verdict and
//! its reason in numbers, over the same window for both sides. The verdict is the worst row.

use std::fmt;
use std::time::Duration;

pub use super::checks::latency::LatencyLimits;
use super::checks::{self, Check, CheckKind, Window};
use super::stats::wilson_interval;
use crate::domain::{
    Color, CustomMetric, MetricBucket, MetricsSnapshot, Observation, SideMetrics, Timestamp,
};

/// Thresholds of the verdict (config `[guard]`).
#[derive(Debug, Clone, PartialEq)]
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
    pub latency: LatencyLimits,
    /// `[guard] alarms`: CloudWatch alarm names; any in ALARM is worse.
    pub alarms: Vec<String>,
    /// `[[guard.metric]]`.
    pub metrics: Vec<CustomMetric>,
}

impl Default for EvidenceSettings {
    fn default() -> Self {
        EvidenceSettings {
            min_requests: 200,
            tolerance: 0.005,
            max_error_rate: 0.05,
            stale_after: Duration::from_secs(2 * 60 + 60),
            default_window: Duration::from_secs(5 * 60),
            latency: LatencyLimits::default(),
            alarms: Vec::new(),
            metrics: Vec::new(),
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
    /// `TargetConnectionErrorCount`: requests that never reached a task.
    pub conn_errors: f64,
    pub rate: Option<f64>,
    /// 95% Wilson interval of the rate.
    pub interval: Option<(f64, f64)>,
    pub latency_avg_ms: Option<f64>,
    /// The minutes' p99s weighted by their requests: CloudWatch gives p99 per minute, and
    /// percentiles of different minutes do not add up exactly; close enough to compare sides
    /// over the same minutes.
    pub latency_p99_ms: Option<f64>,
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
        let weighted_mean = |value: fn(&MetricBucket) -> Option<f64>| {
            let (sum, weight) = buckets
                .iter()
                .filter_map(|b| Some((value(b)? * b.requests, b.requests)))
                .fold((0.0, 0.0), |(s, w), (v, r)| (s + v, w + r));
            (weight > 0.0).then(|| sum / weight)
        };
        SideEvidence {
            requests,
            errors,
            conn_errors: buckets.iter().map(|b| b.target_conn_errors).sum(),
            rate: (requests > 0.0).then(|| errors / requests),
            interval: wilson_interval(errors, requests),
            latency_avg_ms: weighted_mean(|b| b.latency_avg_ms),
            latency_p99_ms: weighted_mean(|b| b.latency_p99_ms),
        }
    }

    /// `7.0% ± 2.9`: the rate and the half-width of its interval, in points.
    pub fn rate_text(&self) -> String {
        checks::errors::rate_text(self.errors, self.requests)
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
    /// The worst row's verdict.
    pub verdict: Verdict,
    /// The worst row, named: "latency: green p99 757 ms · avg 254 ms vs blue 240 ms · 80 ms: …".
    pub reason: String,
    /// Every row, in a fixed order: 5xx, latency, lb errors, health, alarms, custom metrics.
    pub checks: Vec<Check>,
    /// The candidate's share of the requests both sides served in the window (0..1), which
    /// stickiness, other rules and clients can make differ from the configured split.
    pub observed_share: Option<f64>,
}

impl Evidence {
    pub fn side(&self, color: Color) -> &SideEvidence {
        match color {
            Color::Blue => &self.blue,
            Color::Green => &self.green,
        }
    }

    /// The row that decided the verdict.
    pub fn worst(&self) -> Option<&Check> {
        self.checks
            .iter()
            .rev()
            .max_by_key(|c| checks::severity(c.verdict))
    }

    /// The whole table on one line, for the audit log and the decision record: the verdict,
    /// the row that decided it, then every other row's verdict.
    pub fn summary(&self) -> String {
        let others: Vec<String> = self
            .checks
            .iter()
            .filter(|c| Some(*c) != self.worst())
            .map(|c| format!("{} {}", c.kind, c.verdict))
            .collect();
        if others.is_empty() {
            format!("{}: {}", self.verdict, self.reason)
        } else {
            format!("{}: {} [{}]", self.verdict, self.reason, others.join(", "))
        }
    }
}

/// The first minute of the window: the one after the last weight change (that minute mixes
/// two splits), or the default window back from `now` when no change is known.
fn window_start(
    since: Option<Timestamp>,
    now: Timestamp,
    settings: &EvidenceSettings,
) -> Timestamp {
    let default_from = Timestamp(
        now.0
            .saturating_sub(settings.default_window.as_millis() as u64),
    );
    since.map_or(default_from, |t| {
        let floor = t.floor_minute();
        if floor == t {
            t
        } else {
            floor.plus(Duration::from_secs(60))
        }
    })
}

/// Judges the candidate against the other side over the minutes since `since` (the last weight
/// change; the default window when unknown), as of `now`. `observation` gives the health row
/// (weights and targets as last read).
pub fn evidence(
    metrics: &MetricsSnapshot,
    observation: Option<&Observation>,
    candidate: Color,
    since: Option<Timestamp>,
    now: Timestamp,
    settings: &EvidenceSettings,
) -> Evidence {
    let from = window_start(since, now, settings);
    let blue = SideEvidence::over(&metrics.blue, from, now);
    let green = SideEvidence::over(&metrics.green, from, now);
    let (cand, base) = match candidate {
        Color::Green => (green, blue),
        Color::Blue => (blue, green),
    };
    let newest_end = metrics
        .newest_bucket()
        .map(|t| t.plus(Duration::from_secs(60)));
    let stale = newest_end
        .is_none_or(|end| now.since(end) > settings.stale_after)
        .then(|| {
            let age = newest_end.map_or("no data".to_string(), |end| {
                format!(
                    "newest data ends {} ago",
                    crate::domain::format_age(now.since(end))
                )
            });
            format!("metrics are stale ({age})")
        });
    let window = Window {
        metrics,
        from,
        now,
        candidate,
        cand: &cand,
        base: &base,
        settings,
    };
    let read = |kind: CheckKind, check: &dyn Fn() -> Check| {
        let incomplete = kind
            .metric_row()
            .and_then(|row| metrics.incomplete.get(&row));
        match (&stale, incomplete) {
            (Some(why), _) => Check::new(kind, Verdict::Stale, why.clone()),
            (None, Some(why)) => Check::new(kind, Verdict::Stale, why.clone()),
            (None, None) => check(),
        }
    };
    let mut rows = vec![
        read(CheckKind::Errors, &|| checks::errors::check(&window)),
        read(CheckKind::Latency, &|| checks::latency::check(&window)),
        read(CheckKind::LoadBalancer, &|| {
            checks::load_balancer::check(&window)
        }),
        checks::health::check(observation, candidate),
    ];
    if let Some(row) = checks::alarms::check(&settings.alarms, &metrics.alarms) {
        // Read in the same call as the metrics: as old as they are.
        rows.push(read(CheckKind::Alarms, &|| row.clone()));
    }
    for metric in &settings.metrics {
        rows.push(read(CheckKind::Custom(metric.name.clone()), &|| {
            checks::custom::check(metric, &window)
        }));
    }
    let total = cand.requests + base.requests;
    let mut evidence = Evidence {
        from,
        to: now,
        blue,
        green,
        candidate,
        verdict: Verdict::Ok,
        reason: String::new(),
        checks: rows,
        observed_share: (total > 0.0).then(|| cand.requests / total),
    };
    if let Some((verdict, reason)) = evidence
        .worst()
        .map(|w| (w.verdict, format!("{}: {}", w.kind, w.reason)))
    {
        evidence.verdict = verdict;
        evidence.reason = reason;
    }
    evidence
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
                    target_conn_errors: 0.0,
                    latency_avg_ms: Some(80.0),
                    latency_p99_ms: Some(200.0),
                })
                .collect(),
        }
    }

    fn metrics(blue: &[(u64, f64, f64)], green: &[(u64, f64, f64)]) -> MetricsSnapshot {
        MetricsSnapshot {
            blue: side(blue),
            green: side(green),
            ..MetricsSnapshot::default()
        }
    }

    /// Both sides with four healthy targets, green at `green`%.
    fn observed(green: u8) -> Observation {
        let side = |name: &str| crate::domain::SideObservation {
            service: crate::domain::ServiceStatus {
                cluster: "c".into(),
                service: name.into(),
                task_definition: "shop:8".into(),
                image: "i".into(),
                desired: 4,
                running: 4,
                primary_running: 4,
                pending: 0,
                rollout: crate::domain::RolloutState::Completed,
                failed_tasks: 0,
                deployments: Vec::new(),
                events: Vec::new(),
            },
            targets: crate::domain::TargetHealth {
                healthy: 4,
                ..Default::default()
            },
        };
        Observation {
            blue: side("shop-blue"),
            green: side("shop-green"),
            weights: crate::domain::Weights::with_green(green),
            writes_refused: None,
            other_routes: Vec::new(),
            stickiness_seconds: None,
            lock_holder: None,
            driver: crate::domain::Driver::WeightedPair,
        }
    }

    fn judge_with(
        m: &MetricsSnapshot,
        since: Option<Timestamp>,
        settings: &EvidenceSettings,
    ) -> Evidence {
        evidence(m, Some(&observed(20)), Color::Green, since, NOW, settings)
    }

    fn judge(m: &MetricsSnapshot, since: Option<Timestamp>) -> Evidence {
        judge_with(m, since, &EvidenceSettings::default())
    }

    fn row(e: &Evidence, label: &str) -> Check {
        e.checks
            .iter()
            .find(|c| c.kind.label() == label)
            .cloned()
            .unwrap_or_else(|| panic!("no {label} row in {:?}", e.checks))
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
            "5xx: green 7.0% ± 1.3 vs blue 0.25% ± 0.13 over 1 500 requests: above the 5.0% ceiling"
        );
    }

    #[test]
    fn in_the_second_cycle_blue_is_judged_against_green() {
        // After the roles swapped, green is live and the new revision runs on blue.
        let m = metrics(
            &[(97, 500.0, 35.0), (98, 500.0, 35.0), (99, 500.0, 35.0)],
            &[(97, 2000.0, 5.0), (98, 2000.0, 5.0), (99, 2000.0, 5.0)],
        );
        let e = evidence(
            &m,
            Some(&observed(80)),
            Color::Blue,
            None,
            NOW,
            &EvidenceSettings::default(),
        );
        assert_eq!(e.verdict, Verdict::Worse);
        assert_eq!(
            e.reason,
            "5xx: blue 7.0% ± 1.3 vs green 0.25% ± 0.13 over 1 500 requests: above the 5.0% ceiling"
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
            e.reason.starts_with("5xx: 150 requests on green at ")
                && e.reason.contains(", 200 needed"),
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
        assert!(e.reason.starts_with("5xx: no data since "), "{}", e.reason);
    }

    #[test]
    fn a_window_that_has_not_begun_says_when_it_begins() {
        // The weights changed at 100:20; the split's first whole minute starts at 101:00.
        let m = metrics(&[(99, 6000.0, 15.0)], &[(99, 150.0, 1.0)]);
        let e = judge(&m, Some(Timestamp(100 * 60_000 + 20_000)));
        assert!(e.from > e.to);
        assert_eq!(e.verdict, Verdict::Insufficient);
        assert!(
            e.reason
                .starts_with("5xx: this split's first whole minute starts at 01:41:00"),
            "{}",
            e.reason
        );
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
        // The health row reads the services, not CloudWatch: it still speaks.
        assert_eq!(row(&e, "health").verdict, Verdict::Ok);
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

    /// Sets every bucket's latency of one side: (avg, p99).
    fn with_latency(mut side: SideMetrics, avg: f64, p99: f64) -> SideMetrics {
        for b in &mut side.buckets {
            b.latency_avg_ms = Some(avg);
            b.latency_p99_ms = Some(p99);
        }
        side
    }

    fn steady(requests: f64) -> Vec<(u64, f64, f64)> {
        (97..=99).map(|m| (m, requests, 0.0)).collect()
    }

    #[test]
    fn a_slow_green_is_worse_on_the_latency_row_with_both_sides_numbers() {
        let mut m = metrics(&steady(2000.0), &steady(500.0));
        m.blue = with_latency(m.blue, 80.0, 240.0);
        m.green = with_latency(m.green, 254.0, 757.0);
        let e = judge(&m, None);
        assert_eq!(e.verdict, Verdict::Worse);
        assert_eq!(row(&e, "5xx").verdict, Verdict::Ok, "no 5xx at all");
        assert_eq!(
            e.reason,
            "latency: green p99 3.2× blue's, over 1.5×: p99 757 ms vs 240 ms · avg 254 ms vs 80 ms"
        );
    }

    #[test]
    fn latency_needs_the_ratio_and_the_floor_and_a_tie_is_ok() {
        let judge_latency = |green: (f64, f64), blue: (f64, f64), limits: LatencyLimits| {
            let mut m = metrics(&steady(2000.0), &steady(500.0));
            m.blue = with_latency(m.blue, blue.0, blue.1);
            m.green = with_latency(m.green, green.0, green.1);
            let settings = EvidenceSettings {
                latency: limits,
                ..EvidenceSettings::default()
            };
            row(&judge_with(&m, None, &settings), "latency").verdict
        };
        let limits = LatencyLimits::default();
        // Twice as slow, but 20 ms against 10 ms: under the 50 ms floor, no alarm.
        assert_eq!(
            judge_latency((10.0, 20.0), (5.0, 10.0), limits),
            Verdict::Ok
        );
        // Exactly 1.5× is a tie with the limit: ok.
        assert_eq!(
            judge_latency((120.0, 360.0), (80.0, 240.0), limits),
            Verdict::Ok
        );
        assert_eq!(
            judge_latency((121.0, 240.0), (80.0, 240.0), limits),
            Verdict::Worse
        );
        // A ceiling on p99 applies whatever blue does.
        let ceiling = LatencyLimits {
            max_p99_ms: Some(300.0),
            ..limits
        };
        assert_eq!(
            judge_latency((80.0, 301.0), (80.0, 290.0), ceiling),
            Verdict::Worse
        );
        // Too few requests on green: no verdict on latency either.
        let mut m = metrics(&steady(2000.0), &[(99, 100.0, 0.0)]);
        m.green = with_latency(m.green, 900.0, 2000.0);
        assert_eq!(
            row(&judge(&m, None), "latency").verdict,
            Verdict::Insufficient
        );
    }

    #[test]
    fn missing_latency_datapoints_are_insufficient_not_ok() {
        let mut m = metrics(&steady(2000.0), &steady(500.0));
        for b in &mut m.green.buckets {
            b.latency_avg_ms = None;
            b.latency_p99_ms = None;
        }
        let latency = row(&judge(&m, None), "latency");
        assert_eq!(latency.verdict, Verdict::Insufficient);
        assert!(latency.reason.starts_with("no response times for green"));
    }

    #[test]
    fn p99_alone_is_judged_where_the_average_was_not_read() {
        let p99_only = |side: SideMetrics, p99: f64| {
            let mut side = with_latency(side, 0.0, p99);
            for b in &mut side.buckets {
                b.latency_avg_ms = None;
            }
            side
        };
        let mut m = metrics(&steady(2000.0), &steady(500.0));
        m.blue = p99_only(m.blue, 240.0);
        m.green = p99_only(m.green, 757.0);
        let latency = row(&judge(&m, None), "latency");
        assert_eq!(latency.verdict, Verdict::Worse);
        assert!(
            latency.reason.contains("p99 757 ms vs 240 ms") && !latency.reason.contains("avg"),
            "{}",
            latency.reason
        );
        m.green = p99_only(m.green, 250.0);
        let latency = row(&judge(&m, None), "latency");
        assert_eq!(latency.verdict, Verdict::Ok, "{}", latency.reason);
        assert_eq!(latency.reason, "green p99 250 ms vs blue 240 ms");
    }

    #[test]
    fn a_crashing_green_is_worse_on_the_load_balancer_row_though_its_5xx_look_fine() {
        // Blue carried everything until minute 96; green got its share from 97 on. Green's
        // tasks crash: 25 connection errors a minute, and 25 more requests a minute time out
        // (ELB 504), which only the load balancer's count shows.
        let mut m = metrics(
            &[
                (92, 2500.0, 5.0),
                (93, 2500.0, 5.0),
                (94, 2500.0, 5.0),
                (95, 2500.0, 5.0),
                (96, 2500.0, 5.0),
                (97, 2000.0, 5.0),
                (98, 2000.0, 5.0),
                (99, 2000.0, 5.0),
            ],
            &steady(500.0),
        );
        for b in &mut m.green.buckets {
            b.target_conn_errors = 25.0;
        }
        m.elb_5xx = (92..=99)
            .map(|minute| {
                (
                    Timestamp(minute * 60_000),
                    if minute >= 97 { 51.0 } else { 1.0 },
                )
            })
            .collect();
        let e = judge(&m, Some(Timestamp(96 * 60_000 + 30_000)));
        assert_eq!(row(&e, "5xx").verdict, Verdict::Ok, "{:?}", e.checks);
        assert_eq!(e.verdict, Verdict::Worse);
        assert_eq!(
            e.reason,
            "lb errors: green 10.0% ± 1.5 (75 connection errors, 75 ELB 5xx blue does not explain) \
             vs blue 0.00% ± 0.03 over 1 500 requests: above the 5.0% ceiling"
        );
        // When green's share did not grow, the load balancer's 5xx are not charged to it.
        m.green = side(
            &(90..=99)
                .map(|minute| (minute, 500.0, 0.0))
                .collect::<Vec<_>>(),
        );
        m.blue = side(
            &(90..=99)
                .map(|minute| (minute, 2000.0, 5.0))
                .collect::<Vec<_>>(),
        );
        let lb = row(
            &judge(&m, Some(Timestamp(96 * 60_000 + 30_000))),
            "lb errors",
        );
        assert!(!lb.reason.contains("does not explain"), "{}", lb.reason);
        assert_eq!(lb.verdict, Verdict::Ok, "{}", lb.reason);
    }

    #[test]
    fn a_green_carrying_traffic_with_no_healthy_target_is_worse_at_once() {
        let mut o = observed(10);
        o.green.targets.healthy = 0;
        o.green.service.running = 0;
        // No metrics yet for the window: the health row does not wait for them.
        let m = metrics(&[(99, 6000.0, 15.0)], &[]);
        let e = evidence(
            &m,
            Some(&o),
            Color::Green,
            Some(Timestamp(99 * 60_000 + 10_000)),
            NOW,
            &EvidenceSettings::default(),
        );
        assert_eq!(e.verdict, Verdict::Worse);
        assert_eq!(
            e.reason,
            "health: green carries 10% with no healthy target (0 registered, 0 running)"
        );
        // At 0% it is not worse, and not ok either: there is nothing healthy to judge.
        o.weights = crate::domain::Weights::ALL_BLUE;
        let e = evidence(
            &m,
            Some(&o),
            Color::Green,
            None,
            NOW,
            &EvidenceSettings::default(),
        );
        assert_eq!(row(&e, "health").verdict, Verdict::Insufficient);
        assert!(
            row(&e, "health")
                .reason
                .starts_with("green has no healthy target yet (0 registered"),
            "{}",
            row(&e, "health").reason
        );
    }

    #[test]
    fn custom_metrics_are_judged_per_side_and_an_empty_expression_is_insufficient() {
        use crate::domain::{CustomMetric, CustomSeries, MetricLimit, MetricSource};
        let settings = EvidenceSettings {
            metrics: vec![
                CustomMetric {
                    name: "checkout errors".into(),
                    source: MetricSource::Expression("SEARCH(...)".into()),
                    limits: vec![MetricLimit::Ratio(1.5)],
                },
                CustomMetric {
                    name: "queue depth".into(),
                    source: MetricSource::Expression("SELECT ...".into()),
                    limits: vec![MetricLimit::Ceiling(100.0)],
                },
            ],
            ..EvidenceSettings::default()
        };
        let mut m = metrics(&steady(2000.0), &steady(500.0));
        m.custom = vec![CustomSeries {
            name: "checkout errors".into(),
            blue: vec![(Timestamp(98 * 60_000), 2.0), (Timestamp(99 * 60_000), 2.0)],
            green: vec![(Timestamp(98 * 60_000), 4.0), (Timestamp(99 * 60_000), 6.0)],
            problem: None,
        }];
        let e = judge_with(&m, None, &settings);
        let checkout = row(&e, "checkout errors");
        assert_eq!(checkout.verdict, Verdict::Worse);
        assert_eq!(
            checkout.reason,
            "green 5 vs blue 2: 2.5× the live side's, over 1.5×"
        );
        let queue = row(&e, "queue depth");
        assert_eq!(queue.verdict, Verdict::Insufficient, "no series came back");
        assert!(queue.reason.starts_with("no datapoints for green"));
        assert_eq!(e.verdict, Verdict::Worse, "the worst row decides");
    }

    #[test]
    fn the_observed_share_counts_what_each_side_served() {
        let e = judge(&metrics(&steady(1800.0), &steady(200.0)), None);
        assert_eq!(e.observed_share, Some(0.1));
        assert_eq!(
            judge(&MetricsSnapshot::default(), None).observed_share,
            None
        );
    }

    use proptest::prelude::*;

    proptest! {
        /// The verdict is always the worst row's, and a worse row is never hidden by others.
        #[test]
        fn the_verdict_is_the_worst_row(
            blue in proptest::collection::vec((0.0f64..5000.0, 0.0f64..1.0, 1.0f64..500.0), 3),
            green in proptest::collection::vec((0.0f64..5000.0, 0.0f64..1.0, 1.0f64..500.0), 3),
            healthy in 0u32..3,
        ) {
            let side = |values: &[(f64, f64, f64)]| SideMetrics {
                buckets: values.iter().enumerate().map(|(i, &(requests, rate, latency))| MetricBucket {
                    start: Timestamp((97 + i as u64) * 60_000),
                    requests: requests.floor(),
                    errors_5xx: (requests * rate * 0.1).floor(),
                    target_conn_errors: 0.0,
                    latency_avg_ms: Some(latency),
                    latency_p99_ms: Some(latency * 2.5),
                }).collect(),
            };
            let m = MetricsSnapshot { blue: side(&blue), green: side(&green), ..MetricsSnapshot::default() };
            let mut o = observed(20);
            o.green.targets.healthy = healthy;
            let e = evidence(&m, Some(&o), Color::Green, None, NOW, &EvidenceSettings::default());
            let worst = e.checks.iter().map(|c| checks::severity(c.verdict)).max();
            prop_assert_eq!(Some(checks::severity(e.verdict)), worst);
            if e.checks.iter().any(|c| c.verdict == Verdict::Worse) {
                prop_assert_eq!(e.verdict, Verdict::Worse);
            }
            if healthy == 0 {
                prop_assert_eq!(e.verdict, Verdict::Worse, "green at 20% with no healthy target");
            }
        }
    }
}
