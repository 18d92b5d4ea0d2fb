//! The rows of the evidence table: each check judges the candidate on one signal and says why
//! in numbers. The verdict of the evidence is the worst row.

pub mod alarms;
pub mod custom;
pub mod errors;
pub mod health;
pub mod latency;
pub mod load_balancer;

use std::fmt;

use super::evidence::{EvidenceSettings, SideEvidence, Verdict};
use crate::domain::{Color, MetricRow, MetricsSnapshot, Timestamp};

/// What a row judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    /// The targets' own 5xx rate.
    Errors,
    Latency,
    /// Requests the load balancer failed for the candidate: 502/503/504 from it, not from the
    /// targets.
    LoadBalancer,
    Health,
    Alarms,
    /// A `[[guard.metric]]`, by its name.
    Custom(String),
}

impl CheckKind {
    /// The CloudWatch data this row reads, where a read can answer it only in part.
    pub fn metric_row(&self) -> Option<MetricRow> {
        match self {
            CheckKind::Errors => Some(MetricRow::Errors),
            CheckKind::Latency => Some(MetricRow::Latency),
            CheckKind::LoadBalancer => Some(MetricRow::LoadBalancer),
            CheckKind::Alarms => Some(MetricRow::Alarms),
            CheckKind::Health | CheckKind::Custom(_) => None,
        }
    }

    pub fn label(&self) -> &str {
        match self {
            CheckKind::Errors => "5xx",
            CheckKind::Latency => "latency",
            CheckKind::LoadBalancer => "lb errors",
            CheckKind::Health => "health",
            CheckKind::Alarms => "alarms",
            CheckKind::Custom(name) => name,
        }
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One row of the evidence table.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub kind: CheckKind,
    pub verdict: Verdict,
    /// The verdict in numbers.
    pub reason: String,
}

impl Check {
    pub fn new(kind: CheckKind, verdict: Verdict, reason: impl Into<String>) -> Self {
        Check {
            kind,
            verdict,
            reason: reason.into(),
        }
    }
}

/// How bad a verdict is, for picking the worst row: worse, then stale, then insufficient.
pub fn severity(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Ok => 0,
        Verdict::Insufficient => 1,
        Verdict::Stale => 2,
        Verdict::Worse => 3,
    }
}

/// What the metric rows share: both sides over the window, which is the candidate, and the
/// thresholds.
pub struct Window<'a> {
    pub metrics: &'a MetricsSnapshot,
    pub from: Timestamp,
    pub now: Timestamp,
    pub candidate: Color,
    pub cand: &'a SideEvidence,
    pub base: &'a SideEvidence,
    pub settings: &'a EvidenceSettings,
}

impl Window<'_> {
    pub fn names(&self) -> (&'static str, &'static str) {
        (self.candidate.name(), self.candidate.other().name())
    }

    /// Why a metric row cannot judge yet, if it cannot: nothing reported since the window
    /// began, or too few requests on the candidate.
    pub fn too_little(&self) -> Option<String> {
        let (cand_name, base_name) = self.names();
        if self.from > self.now {
            return Some(format!(
                "this split's first whole minute starts at {}: CloudWatch reports it a minute or \
                 two after it ends",
                self.from.clock_utc()
            ));
        }
        if self.cand.requests <= 0.0 && self.base.requests <= 0.0 {
            return Some(format!(
                "no data since {} yet: CloudWatch reports each minute a minute or two late",
                self.from.clock_utc()
            ));
        }
        if self.cand.requests < f64::from(self.settings.min_requests) {
            return Some(format!(
                "{} requests on {cand_name} since {}, {} needed ({base_name} {} requests)",
                crate::domain::format_count(self.cand.requests),
                self.from.clock_utc(),
                self.settings.min_requests,
                crate::domain::format_count(self.base.requests)
            ));
        }
        None
    }
}

/// `7.0%`, with two decimals below 1%.
pub fn percent(rate: f64) -> String {
    format!("{}%", hundredths(rate))
}

/// `2.9`: a half-interval in points, with two decimals below 1.
pub fn points(half: f64) -> String {
    hundredths(half)
}

/// A fraction in hundredths: one decimal, two below 1, where rates near zero live.
fn hundredths(fraction: f64) -> String {
    let p = fraction * 100.0;
    if p < 1.0 {
        crate::domain::fixed(p, 2)
    } else {
        crate::domain::fixed(p, 1)
    }
}
