//! Where a fleet's rows come from: many pairs and native services read on one budget, the
//! simulator's dozen worlds in the demo.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use super::Platform;
use super::sim::SimPlatform;
use crate::domain::{MetricsSnapshot, Observation, PlatformError, SourceInfo, Timestamp};

/// Every entry's state and metrics, read in as few calls as the limits allow.
pub trait FleetSource: Send + Sync + 'static {
    fn source(&self) -> SourceInfo;

    fn now(&self) -> Timestamp;

    /// Every entry's state (services, weights, health, lock, driver), or why not.
    fn states(
        &self,
    ) -> impl Future<Output = Vec<(String, Result<Observation, PlatformError>)>> + Send;

    /// Every entry's metrics, by name; entries whose metrics could not be read are missing.
    fn metrics(
        &self,
    ) -> impl Future<Output = Result<BTreeMap<String, MetricsSnapshot>, PlatformError>> + Send;

    /// API calls made so far, by operation (the header's budget line).
    fn calls(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }

    /// The metrics one `metrics` read requests from CloudWatch (what it is billed by), where
    /// they cost anything.
    fn metrics_a_read(&self) -> Option<usize> {
        None
    }
}

/// The demo's fleet: one simulated world a row, each its own scenario and seed.
pub struct SimFleet {
    pub entries: Vec<(String, Arc<SimPlatform>)>,
}

impl FleetSource for SimFleet {
    fn source(&self) -> SourceInfo {
        let mut source = self
            .entries
            .first()
            .map(|(_, p)| p.source())
            .unwrap_or_else(|| SourceInfo {
                kind: crate::domain::SourceKind::Demo,
                detail: String::new(),
                place: "simulated".into(),
            });
        source.detail = format!("fleet of {} simulated releases", self.entries.len());
        source
    }

    fn now(&self) -> Timestamp {
        self.entries
            .first()
            .map_or_else(super::wall_clock, |(_, p)| p.now())
    }

    async fn states(&self) -> Vec<(String, Result<Observation, PlatformError>)> {
        let mut out = Vec::new();
        for (name, platform) in &self.entries {
            out.push((name.clone(), platform.observe().await));
        }
        out
    }

    async fn metrics(&self) -> Result<BTreeMap<String, MetricsSnapshot>, PlatformError> {
        let mut out = BTreeMap::new();
        for (name, platform) in &self.entries {
            if let Ok(metrics) = platform.metrics().await {
                out.insert(name.clone(), metrics);
            }
        }
        Ok(out)
    }
}
