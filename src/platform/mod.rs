//! Where the truth lives: AWS in production, the embedded simulator in the demo.
//!
//! The runtime is generic over [`Platform`]; the UI never knows which one it talks to.

pub mod aws;
pub mod fleet;
pub mod patience;
pub mod read_only;
pub mod sim;
pub mod whoami;

use std::future::Future;

use crate::domain::{Driver, GateStep, MetricsSnapshot, Observation, Timestamp, Weights};

/// The machine's clock, for the shell: AWS's time, the demo's start, file names.
pub fn wall_clock() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| Timestamp(d.as_millis() as u64))
        .unwrap_or_default()
}
// The words every layer shares live in the domain; the platform speaks them.
pub use crate::domain::{
    DeployReport, PlatformError, ScaleReport, SourceInfo, SourceKind, WriteIntent, WriteReport,
};

pub trait Platform: Send + Sync + 'static {
    fn source(&self) -> SourceInfo;

    /// The platform's clock: wall time on AWS, simulated time in the demo.
    fn now(&self) -> Timestamp;

    /// Both services, their target health and the current weights.
    fn observe(&self) -> impl Future<Output = Result<Observation, PlatformError>> + Send;

    /// The weights alone, as the load balancer holds them now: the cheap read a command makes
    /// while it watches for a write to land.
    fn weights(&self) -> impl Future<Output = Result<Weights, PlatformError>> + Send {
        async { self.observe().await.map(|observation| observation.weights) }
    }

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

    /// Answers a gate of a deployment that moves its own weights (ECS-native): continue or
    /// roll back, or stops it with a rollback; then reads the driver back. A platform whose
    /// estate is a weighted pair refuses. Like a weights write, a rollback passes the lock.
    fn steer(&self, step: GateStep) -> impl Future<Output = Result<Driver, PlatformError>> + Send {
        let _ = step;
        async {
            Err(PlatformError::Refused {
                reason: "this estate is a weighted pair: cutover writes its weights, no gate waits"
                    .into(),
            })
        }
    }

    /// Gives back the operator lock if this process holds one (after a headless write, on
    /// quit); true when it held one. Platforms without a lock have nothing to do.
    fn release_lock(&self) -> impl Future<Output = bool> + Send {
        async { false }
    }

    /// Who writes, for the audit log: the cloud identity where the platform knows one, else
    /// `$USER@host`.
    fn actor(&self) -> impl Future<Output = String> + Send {
        async { whoami::local_actor() }
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
