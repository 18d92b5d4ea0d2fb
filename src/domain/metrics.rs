use super::{AlarmStatus, CustomSeries, Timestamp};

/// One CloudWatch-style one-minute bucket for one target group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricBucket {
    /// Start of the minute.
    pub start: Timestamp,
    pub requests: f64,
    pub errors_5xx: f64,
    /// `TargetConnectionErrorCount`: requests the load balancer could not get to a target
    /// (the client saw a 502); counted in `RequestCount`, never in the targets' 5xx.
    pub target_conn_errors: f64,
    /// `None` when the minute had no requests: CloudWatch publishes no latency then.
    pub latency_avg_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
}

impl MetricBucket {
    pub fn error_rate(&self) -> Option<f64> {
        (self.requests > 0.0).then(|| self.errors_5xx / self.requests)
    }
}

/// The buckets of one side, oldest first. A missing minute means no requests, as in CloudWatch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SideMetrics {
    pub buckets: Vec<MetricBucket>,
}

/// Requests, errors and latency added up over a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSummary {
    pub window_minutes: u32,
    pub requests: f64,
    pub errors_5xx: f64,
    /// errors / requests; `None` when there were no requests.
    pub error_rate: Option<f64>,
    /// Request-weighted mean of the minutes' averages.
    pub latency_avg_ms: Option<f64>,
}

impl SideMetrics {
    pub fn newest(&self) -> Option<&MetricBucket> {
        self.buckets.last()
    }

    /// The end of the last minute this side served requests in.
    pub fn last_served(&self) -> Option<Timestamp> {
        self.buckets
            .iter()
            .rev()
            .find(|b| b.requests > 0.0)
            .map(|b| b.start.plus(std::time::Duration::from_secs(60)))
    }

    /// Requests per second in the minute starting at `newest` (the newest minute either side
    /// has data for): 0 when this side has no bucket for it, as CloudWatch leaves out minutes
    /// without requests.
    pub fn requests_per_sec(&self, newest: Timestamp) -> f64 {
        self.newest()
            .filter(|b| b.start == newest)
            .map_or(0.0, |b| b.requests / 60.0)
    }

    /// The `minutes` whole minutes that end at `end` (a minute boundary): the same number of
    /// minutes every time, so a count over them does not swing with the clock.
    pub fn window_to(&self, end: Timestamp, minutes: u32) -> WindowSummary {
        let from = Timestamp(end.0.saturating_sub(u64::from(minutes) * 60_000));
        Self::summarize(
            self.buckets
                .iter()
                .filter(|b| b.start >= from && b.start.0 + 60_000 <= end.0),
            minutes,
        )
    }

    /// The last `minutes` buckets that start at or before `now`.
    pub fn window(&self, now: Timestamp, minutes: u32) -> WindowSummary {
        let from = Timestamp(now.0.saturating_sub(u64::from(minutes) * 60_000));
        Self::summarize(
            self.buckets
                .iter()
                .filter(|b| b.start >= from && b.start <= now),
            minutes,
        )
    }

    fn summarize<'a>(
        buckets: impl Iterator<Item = &'a MetricBucket>,
        minutes: u32,
    ) -> WindowSummary {
        let mut requests = 0.0;
        let mut errors = 0.0;
        let mut latency_weighted = 0.0;
        let mut latency_requests = 0.0;
        for b in buckets {
            requests += b.requests;
            errors += b.errors_5xx;
            if let Some(lat) = b.latency_avg_ms {
                latency_weighted += lat * b.requests;
                latency_requests += b.requests;
            }
        }
        WindowSummary {
            window_minutes: minutes,
            requests,
            errors_5xx: errors,
            error_rate: (requests > 0.0).then(|| errors / requests),
            latency_avg_ms: (latency_requests > 0.0).then(|| latency_weighted / latency_requests),
        }
    }

    /// Error rate per minute in whole basis points, for the `minutes` minutes up to and
    /// including the one starting at `newest`, oldest first. `None` for a minute without
    /// requests, so both sides share one time axis and gaps stay gaps.
    pub fn error_rate_by_minute_bp(&self, newest: Timestamp, minutes: usize) -> Vec<Option<u64>> {
        let newest = newest.floor_minute();
        (0..minutes as u64)
            .rev()
            .map(|back| {
                let start = Timestamp(newest.0.saturating_sub(back * 60_000));
                self.buckets
                    .iter()
                    .rev()
                    .find(|b| b.start == start)
                    .and_then(|b| b.error_rate())
                    .map(|rate| (rate * 10_000.0).round() as u64)
            })
            .collect()
    }
}

/// A row of the evidence whose data comes from CloudWatch's load balancer metrics or alarms,
/// named so a read can say which rows it could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricRow {
    Errors,
    Latency,
    LoadBalancer,
    Alarms,
}

/// Everything one metrics fetch returned, for both sides at once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsSnapshot {
    pub blue: SideMetrics,
    pub green: SideMetrics,
    /// `HTTPCode_ELB_5XX_Count` per minute: exists only per load balancer, so it is shared,
    /// never blamed on one side by itself (the evidence attributes what the live side does not
    /// explain).
    pub elb_5xx: Vec<(Timestamp, f64)>,
    /// The configured alarms CloudWatch knows, read with the metrics.
    pub alarms: Vec<AlarmStatus>,
    /// The configured custom metrics, in the config's order.
    pub custom: Vec<CustomSeries>,
    /// Rows CloudWatch answered only in part (a series `PartialData`, `InternalError`,
    /// `Forbidden`; DescribeAlarms failing), with its words: those rows are stale, the
    /// others stand. No points then is not zero.
    pub incomplete: std::collections::BTreeMap<MetricRow, String>,
}

impl MetricsSnapshot {
    pub fn side(&self, color: super::Color) -> &SideMetrics {
        match color {
            super::Color::Blue => &self.blue,
            super::Color::Green => &self.green,
        }
    }

    /// The start of the newest minute either side has, to show how old the data is.
    /// The end of the newest whole minute either side has data for, at or before `now`: where
    /// counts over whole minutes end.
    pub fn complete_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.newest_bucket()
            .map(|start| start.plus(std::time::Duration::from_secs(60)))
            .filter(|end| *end <= now)
    }

    pub fn newest_bucket(&self) -> Option<Timestamp> {
        let blue = self.blue.newest().map(|b| b.start);
        let green = self.green.newest().map(|b| b.start);
        blue.max(green)
    }

    /// The load balancer's 5xx over the same window as `SideMetrics::window_to`: the whole
    /// minutes that end by `end`.
    pub fn elb_5xx_to(&self, end: Timestamp, minutes: u32) -> f64 {
        let from = Timestamp(end.0.saturating_sub(u64::from(minutes) * 60_000));
        self.elb_5xx
            .iter()
            .filter(|(t, _)| *t >= from && t.0 + 60_000 <= end.0)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn elb_5xx_in_window(&self, now: Timestamp, minutes: u32) -> f64 {
        let from = Timestamp(now.0.saturating_sub(u64::from(minutes) * 60_000));
        self.elb_5xx
            .iter()
            .filter(|(t, _)| *t >= from && *t <= now)
            .map(|(_, n)| n)
            .sum()
    }
}

/// `value` with `decimals` places, never `-0`: a float sum of nothing is -0.0 in Rust, and a
/// small negative rounds to a zero that keeps its sign. Whatever rounds to zero is `0`.
pub fn fixed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.starts_with('-') && text.chars().all(|c| matches!(c, '-' | '0' | '.')) {
        text[1..].to_string()
    } else {
        text
    }
}

/// `1 500`: thousands apart, as operators read counts at a glance.
pub fn format_count(n: f64) -> String {
    let digits = fixed(n.max(0.0), 0);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_number_is_ever_written_minus_zero(value in -1.0e6f64..1.0e6, decimals in 0usize..4) {
            let text = super::fixed(value, decimals);
            let parsed: f64 = text.parse().expect("a number");
            prop_assert!(!(text.starts_with('-') && parsed == 0.0), "{} gave {}", value, text);
            prop_assert!((parsed - value).abs() <= 0.5 * 10f64.powi(-(decimals as i32)) + 1e-9);
        }
    }

    #[test]
    fn negative_zero_and_tiny_negatives_are_written_0() {
        assert_eq!(super::fixed(-0.0, 0), "0");
        assert_eq!(super::fixed(-0.3, 0), "0");
        assert_eq!(super::fixed(-0.004, 2), "0.00");
        assert_eq!(super::fixed(-0.6, 0), "-1");
        assert_eq!(super::fixed([].iter().sum::<f64>(), 1), "0.0");
    }

    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(format_count(1500.0), "1 500");
        assert_eq!(format_count(999.0), "999");
        assert_eq!(format_count(1_234_567.0), "1 234 567");
        assert_eq!(format_count(-0.0), "0");
    }

    fn bucket(min: u64, requests: f64, errors: f64, lat: f64) -> MetricBucket {
        MetricBucket {
            start: Timestamp(min * 60_000),
            requests,
            errors_5xx: errors,
            target_conn_errors: 0.0,
            latency_avg_ms: (requests > 0.0).then_some(lat),
            latency_p99_ms: None,
        }
    }

    #[test]
    fn window_adds_requests_and_weights_latency_by_requests() {
        let side = SideMetrics {
            buckets: vec![
                bucket(0, 1000.0, 0.0, 500.0), // outside a 5-minute window ending at minute 10
                bucket(6, 100.0, 2.0, 100.0),
                bucket(7, 300.0, 6.0, 200.0),
            ],
        };
        let w = side.window(Timestamp(10 * 60_000), 5);
        assert_eq!(w.requests, 400.0);
        assert_eq!(w.errors_5xx, 8.0);
        assert_eq!(w.error_rate, Some(0.02));
        assert_eq!(w.latency_avg_ms, Some(175.0));
    }

    #[test]
    fn minutes_line_up_on_one_axis_with_gaps_for_silence() {
        let side = SideMetrics {
            buckets: vec![bucket(3, 100.0, 1.0, 80.0), bucket(5, 200.0, 10.0, 80.0)],
        };
        let minutes = side.error_rate_by_minute_bp(Timestamp(6 * 60_000 + 5_000), 5);
        assert_eq!(minutes, [None, Some(100), None, Some(500), None]);
    }

    #[test]
    fn a_window_to_a_minute_counts_whole_minutes_only() {
        let side = SideMetrics {
            buckets: (0..10).map(|m| bucket(m, 100.0, 1.0, 80.0)).collect(),
        };
        // Five whole minutes end at minute 10, wherever the clock stands within the next one.
        assert_eq!(side.window_to(Timestamp(10 * 60_000), 5).requests, 500.0);
        // The older window took five or six minutes by the second the clock showed.
        assert_eq!(side.window(Timestamp(9 * 60_000), 5).requests, 600.0);
        assert_eq!(
            side.window(Timestamp(9 * 60_000 + 30_000), 5).requests,
            500.0
        );
    }

    #[test]
    fn no_requests_means_no_rate() {
        let w = SideMetrics::default().window(Timestamp(600_000), 5);
        assert_eq!(w.error_rate, None);
        assert_eq!(w.latency_avg_ms, None);
    }
}
