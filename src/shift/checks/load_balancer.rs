//! The load-balancer row: requests the candidate's tasks never answered. A crashing or hanging
//! build shows as 502/503/504 from the load balancer, counted in the group's `RequestCount`
//! but never in its targets' 5xx, so the 5xx row alone would read it *better* the worse it
//! crashes. Two sources: `TargetConnectionErrorCount` (per group), and the ALB's
//! `HTTPCode_ELB_5XX_Count` (per load balancer only), of which the candidate is charged with
//! what rose after its share grew and the live side's own counts do not explain.

use std::time::Duration;

use super::errors::{compare, rate_text};
use super::{Check, CheckKind, Window};
use crate::domain::{Color, MetricsSnapshot, Timestamp, format_count};
use crate::shift::evidence::Verdict;

/// How much before the window the load balancer's usual 5xx rate is read from.
const BEFORE: Duration = Duration::from_secs(5 * 60);

fn requests(metrics: &MetricsSnapshot, color: Color, from: Timestamp, to: Timestamp) -> f64 {
    metrics
        .side(color)
        .buckets
        .iter()
        .filter(|b| b.start >= from && b.start < to)
        .map(|b| b.requests)
        .sum()
}

fn elb_5xx(metrics: &MetricsSnapshot, from: Timestamp, to: Timestamp) -> f64 {
    metrics
        .elb_5xx
        .iter()
        .filter(|(t, _)| *t >= from && *t < to)
        .map(|(_, n)| n)
        .sum()
}

/// The load balancer's 5xx in the window that neither its rate before the window nor the
/// connection errors of either group explain, when the candidate's share of requests grew.
pub fn unexplained_elb_5xx(window: &Window) -> f64 {
    let metrics = window.metrics;
    let end = window.now.plus(Duration::from_secs(1));
    // The minute of the weight change mixes two splits: the usual rate ends before it.
    let before_to = Timestamp(window.from.0.saturating_sub(60_000));
    let before_from = Timestamp(before_to.0.saturating_sub(BEFORE.as_millis() as u64));
    let cand = window.candidate;
    let cand_before = requests(metrics, cand, before_from, before_to);
    let total_before = cand_before + requests(metrics, cand.other(), before_from, before_to);
    let total_now = window.cand.requests + window.base.requests;
    let share_before = if total_before > 0.0 {
        cand_before / total_before
    } else {
        0.0
    };
    let share_now = if total_now > 0.0 {
        window.cand.requests / total_now
    } else {
        0.0
    };
    if share_now <= share_before {
        return 0.0;
    }
    let usual_rate = if total_before > 0.0 {
        elb_5xx(metrics, before_from, before_to) / total_before
    } else {
        0.0
    };
    let in_window = elb_5xx(metrics, window.from, end);
    let explained = usual_rate * total_now + window.base.conn_errors + window.cand.conn_errors;
    (in_window - explained).max(0.0)
}

pub fn check(window: &Window) -> Check {
    let row = |verdict, reason: String| Check::new(CheckKind::LoadBalancer, verdict, reason);
    if let Some(why) = window.too_little() {
        return row(Verdict::Insufficient, why);
    }
    let (cand_name, base_name) = window.names();
    let unexplained = unexplained_elb_5xx(window);
    let cand_errors = (window.cand.conn_errors + unexplained).min(window.cand.requests);
    let base_errors = window.base.conn_errors;
    let mut parts = vec![format!(
        "{} connection errors",
        format_count(window.cand.conn_errors)
    )];
    if unexplained > 0.0 {
        parts.push(format!(
            "{} ELB 5xx {base_name} does not explain",
            format_count(unexplained)
        ));
    }
    let compared = format!(
        "{cand_name} {} ({}) vs {base_name} {} over {} requests",
        rate_text(cand_errors, window.cand.requests),
        parts.join(", "),
        rate_text(base_errors, window.base.requests),
        format_count(window.cand.requests)
    );
    match compare(
        (cand_errors, window.cand.requests),
        (base_errors, window.base.requests),
        window.settings,
    ) {
        (verdict, Some(why)) => row(verdict, format!("{compared}: {why}")),
        (verdict, None) => row(verdict, compared),
    }
}
