//! Where the truth lives: AWS in production, the embedded simulator in the demo.
//!
//! The runtime is generic over [`Platform`]; the UI never knows which one it talks to.

pub mod aws;
pub mod sim;

use std::future::Future;

use crate::domain::{Color, MetricsSnapshot, Observation, Timestamp, Weights};

/// What failed when talking to the platform. Cloneable text, so it can travel in a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("{operation}: throttled, backing off")]
    Throttled { operation: String },
    #[error("{operation}: {message}")]
    Api { operation: String, message: String },
    #[error("{operation}: endpoint unreachable: {message}")]
    Unreachable { operation: String, message: String },
    /// AWS answered with a server error (HTTP 5xx): it passes by itself, and a write may have
    /// been applied all the same.
    #[error("{operation}: AWS had an internal error: {message}")]
    ServerError { operation: String, message: String },
    /// Compare-and-set found weights other than the ones the write was based on.
    #[error("changed outside cutover: {expected} → {actual}; nothing written")]
    Conflict { expected: Weights, actual: Weights },
    /// Another operator holds the lock on the listener or rule.
    #[error("locked by {holder}: wait for it, or take it over with --break-lock")]
    Locked { holder: String },
    /// The platform will not write: read-only mode, or another owner of the traffic.
    #[error("not written: {reason}")]
    Refused { reason: String },
    #[error("wrote {written} but read back {read_back}")]
    ReadBackMismatch {
        written: Weights,
        read_back: Weights,
    },
}

impl PlatformError {
    /// Throttling, server errors and unreachable endpoints pass by themselves; the rest
    /// (AccessDenied, not found, validation, a lock, a conflict) needs a look.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PlatformError::Throttled { .. }
                | PlatformError::Unreachable { .. }
                | PlatformError::ServerError { .. }
        )
    }

    /// AWS's error code (`ClusterNotFoundException`, `AccessDenied`), where AWS gave one.
    pub fn aws_code(&self) -> Option<&str> {
        let PlatformError::Api { message, .. } = self else {
            return None;
        };
        let (code, _) = message.split_once(": ").unwrap_or((message, ""));
        (!code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'))
            .then_some(code)
    }

    /// A write that failed like this may have been applied all the same: the answer was lost
    /// (a timeout, a dropped connection, a server error after the change).
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            PlatformError::Unreachable { .. } | PlatformError::ServerError { .. }
        )
    }
}

/// How the header names what is being watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// `DEMO` or `AWS`.
    pub kind: &'static str,
    /// `scenario healthy · speed 1×` or `eu-west-1 · listener app/shop/…`.
    pub detail: String,
}

pub trait Platform: Send + Sync + 'static {
    fn source(&self) -> SourceInfo;

    /// The platform's clock: wall time on AWS, simulated time in the demo.
    fn now(&self) -> Timestamp;

    /// Both services, their target health and the current weights.
    fn observe(&self) -> impl Future<Output = Result<Observation, PlatformError>> + Send;

    /// One-minute metric buckets of both sides, fetched in one go.
    fn metrics(&self) -> impl Future<Output = Result<MetricsSnapshot, PlatformError>> + Send;

    /// Compare-and-set: writes `target` only if the weights are still `expected`, then reads
    /// them back and returns what was read.
    fn set_weights(
        &self,
        expected: Weights,
        target: Weights,
    ) -> impl Future<Output = Result<Weights, PlatformError>> + Send;

    /// The write the console and the headless commands make: [`Platform::set_weights`], with
    /// what an operator must know about it. For a rollback nothing about the lock may stop it
    /// (another operator's lock, tags that cannot be written): moving all traffic to the live
    /// side is the safe direction. The report says when the lock was passed over, or when
    /// the answer was lost and a re-read found the write applied.
    fn write_weights(
        &self,
        expected: Weights,
        target: Weights,
        intent: WriteIntent,
    ) -> impl Future<Output = Result<WriteReport, PlatformError>> + Send {
        let _ = intent;
        async move {
            self.set_weights(expected, target)
                .await
                .map(|weights| WriteReport {
                    weights,
                    notes: Vec::new(),
                })
        }
    }

    /// Puts `image` on the idle side (the one at 0%): a new revision, the service updated to it
    /// and scaled to the live side's size.
    fn deploy(
        &self,
        image: String,
        container: Option<String>,
    ) -> impl Future<Output = Result<DeployReport, PlatformError>> + Send;

    /// Sets the idle side's desired count (never a side that carries traffic).
    fn scale_idle(
        &self,
        desired: u32,
    ) -> impl Future<Output = Result<ScaleReport, PlatformError>> + Send;

    /// Puts the idle side's task definition on the live side (the one at 100%), which then
    /// rolls to it.
    fn adopt(&self) -> impl Future<Output = Result<DeployReport, PlatformError>> + Send;
}

/// Why weights are written: a rollback passes where a move toward the candidate waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteIntent {
    Move,
    Rollback,
}

/// What a weights write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// As read back after the write.
    pub weights: Weights,
    /// What the operator and the audit line must know: `lock bypassed: …` (a rollback without
    /// the lock), `answer lost: …` (applied, found on a re-read).
    pub notes: Vec<String>,
}

/// What scaling the idle side did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleReport {
    pub side: Color,
    pub from: u32,
    pub to: u32,
}

/// The side at 0% and the side at 100%, if the split has them.
/// Idle means weight exactly 0: a side at 999:1 still gets requests.
pub fn idle_and_live(weights: Weights) -> (Option<Color>, Option<Color>) {
    if weights.is_idle(Color::Green) {
        (Some(Color::Green), Some(Color::Blue))
    } else if weights.is_idle(Color::Blue) {
        (Some(Color::Blue), Some(Color::Green))
    } else {
        (None, None)
    }
}

/// What a deploy (or an adopt) did: the side it changed, from and to which revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployReport {
    pub idle: Color,
    /// `family:revision` before and after.
    pub from: String,
    pub to: String,
    pub desired: u32,
    pub weights: Weights,
}
