//! Read-only, in one place: any platform wrapped so that it makes no write at all (weights,
//! deploys, scaling, the lock) and says so in every observation, whatever it is.

use std::future::Future;
use std::sync::Arc;

use super::Platform;
use crate::domain::{
    DeployReport, MetricsSnapshot, Observation, PlatformError, READ_ONLY_REASON, ScaleReport,
    SourceInfo, Timestamp, Weights, WriteIntent, WriteReport,
};

/// `platform`, watched and never written.
pub struct ReadOnly<P>(pub Arc<P>);

fn refused<T>() -> Result<T, PlatformError> {
    Err(PlatformError::Refused {
        reason: READ_ONLY_REASON.into(),
    })
}

impl<P: Platform> Platform for ReadOnly<P> {
    fn source(&self) -> SourceInfo {
        self.0.source()
    }

    fn now(&self) -> Timestamp {
        self.0.now()
    }

    fn observe(&self) -> impl Future<Output = Result<Observation, PlatformError>> + Send {
        let inner = Arc::clone(&self.0);
        async move {
            let mut observation = inner.observe().await?;
            observation.writes_refused = Some(READ_ONLY_REASON.into());
            Ok(observation)
        }
    }

    fn weights(&self) -> impl Future<Output = Result<Weights, PlatformError>> + Send {
        self.0.weights()
    }

    fn metrics(&self) -> impl Future<Output = Result<MetricsSnapshot, PlatformError>> + Send {
        self.0.metrics()
    }

    async fn set_weights(
        &self,
        _expected: Weights,
        _target: Weights,
    ) -> Result<Weights, PlatformError> {
        refused()
    }

    async fn write_weights(
        &self,
        _expected: Weights,
        _target: Weights,
        _intent: WriteIntent,
    ) -> Result<WriteReport, PlatformError> {
        refused()
    }

    async fn steer(
        &self,
        _step: crate::domain::GateStep,
    ) -> Result<crate::domain::Driver, PlatformError> {
        refused()
    }

    /// Read-only never took one.
    async fn release_lock(&self) -> bool {
        false
    }

    fn actor(&self) -> impl Future<Output = String> + Send {
        self.0.actor()
    }

    async fn deploy(
        &self,
        _image: String,
        _container: Option<String>,
    ) -> Result<DeployReport, PlatformError> {
        refused()
    }

    async fn scale_idle(&self, _desired: u32) -> Result<ScaleReport, PlatformError> {
        refused()
    }

    async fn adopt(&self) -> Result<DeployReport, PlatformError> {
        refused()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::sim::{Scenario, SimOptions, SimPlatform};

    #[tokio::test(start_paused = true)]
    async fn a_read_only_platform_writes_nothing_and_says_so() {
        let sim = Arc::new(SimPlatform::new(SimOptions {
            scenario: Scenario::Healthy,
            speed: 1.0,
            seed: 3,
            start: Timestamp::from_secs(1_795_763_100),
            warm_up: std::time::Duration::from_secs(300),
        }));
        let watched = ReadOnly(Arc::clone(&sim));
        let observation = watched.observe().await.expect("observed");
        assert_eq!(
            observation.writes_refused.as_deref(),
            Some(READ_ONLY_REASON)
        );
        let to = Weights::with_green(10);
        assert!(matches!(
            watched
                .write_weights(observation.weights, to, WriteIntent::Rollback)
                .await,
            Err(PlatformError::Refused { .. })
        ));
        assert!(watched.deploy("x:1".into(), None).await.is_err());
        assert!(watched.scale_idle(0).await.is_err());
        assert!(watched.adopt().await.is_err());
        assert_eq!(
            sim.observe().await.expect("observed").weights,
            observation.weights,
            "nothing reached the platform"
        );
    }
}
