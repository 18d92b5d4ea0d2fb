use std::collections::VecDeque;

use crate::domain::{MetricBucket, SideMetrics, Timestamp};

/// How many minutes of buckets the simulated CloudWatch keeps.
const MINUTES_KEPT: usize = 60;

/// One simulated second of one target group's traffic.
#[derive(Debug, Clone, Copy)]
pub struct Second {
    /// Every request routed to the group, those the load balancer failed included.
    pub requests: f64,
    /// 5xx answered by the targets.
    pub errors: f64,
    /// Requests that never reached a target (`TargetConnectionErrorCount`).
    pub conn_errors: f64,
    pub latency_ms: f64,
    pub p99_ms: f64,
}

/// One minute being filled, before CloudWatch would publish it.
#[derive(Debug, Clone, Copy)]
struct Accumulating {
    start: Timestamp,
    requests: f64,
    errors: f64,
    conn_errors: f64,
    latency_sum_ms: f64,
    latency_p99_ms: f64,
}

/// CloudWatch-like one-minute buckets for one target group (or the load balancer).
#[derive(Debug, Clone, Default)]
pub struct MinuteBuckets {
    buckets: VecDeque<Accumulating>,
}

impl MinuteBuckets {
    /// Adds one second of traffic.
    pub fn record(&mut self, at: Timestamp, second: Second) {
        let Second {
            requests,
            errors,
            conn_errors,
            latency_ms,
            p99_ms,
        } = second;
        let start = at.floor_minute();
        if self.buckets.back().map(|b| b.start) != Some(start) {
            self.buckets.push_back(Accumulating {
                start,
                requests: 0.0,
                errors: 0.0,
                conn_errors: 0.0,
                latency_sum_ms: 0.0,
                latency_p99_ms: 0.0,
            });
            if self.buckets.len() > MINUTES_KEPT {
                self.buckets.pop_front();
            }
        }
        if let Some(b) = self.buckets.back_mut() {
            b.requests += requests;
            b.errors += errors;
            b.conn_errors += conn_errors;
            b.latency_sum_ms += latency_ms * requests;
            b.latency_p99_ms = b.latency_p99_ms.max(p99_ms);
        }
    }

    /// The buckets whose minute is over, from the last `minutes` minutes. Minutes without
    /// requests publish nothing, as in CloudWatch.
    pub fn published(&self, now: Timestamp, minutes: u64) -> SideMetrics {
        let from = now.0.saturating_sub(minutes * 60_000);
        let buckets = self
            .buckets
            .iter()
            .filter(|b| b.start.0 + 60_000 <= now.0 && b.start.0 >= from && b.requests > 0.0)
            .map(|b| MetricBucket {
                start: b.start,
                requests: b.requests,
                errors_5xx: b.errors,
                target_conn_errors: b.conn_errors,
                latency_avg_ms: Some(b.latency_sum_ms / b.requests),
                latency_p99_ms: Some(b.latency_p99_ms),
            })
            .collect();
        SideMetrics { buckets }
    }
}
