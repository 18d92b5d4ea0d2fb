//! The embedded simulator: a product feature (the demo) and a test aid.
//!
//! A blue service that has served for a while, a green one that starts deploying when the demo
//! starts, a request stream split by the weights, per-side 5xx and latency, ECS-style events and
//! CloudWatch-like one-minute buckets. Everything is driven by a seeded RNG and simulated time.

mod clock;
mod native;
mod scenario;
mod service;
mod traffic;
mod world;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use clock::SimClock;
pub use scenario::Scenario;
pub use world::{CHECKOUT_ALARM, World};

use super::{DeployReport, Platform, PlatformError, ScaleReport, SourceInfo, SourceKind};
use crate::domain::{Driver, GateStep, MetricsSnapshot, Observation, Timestamp, Weights};

/// How long a simulated weight write takes, in real time: long enough to see the spinner.
const WRITE_LATENCY: Duration = Duration::from_millis(400);
/// Share of API calls that fail in the `flaky-api` scenario.
const FLAKY_FAILURE_SHARE: f64 = 0.25;

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub scenario: Scenario,
    pub speed: f64,
    pub seed: u64,
    /// Simulated time at which the demo starts.
    pub start: Timestamp,
    /// How long the world has run before `start`: zero for the console's demo (green deploys
    /// as it starts), a few minutes for a headless demo command (green is up and healthy).
    pub warm_up: Duration,
}

pub struct SimPlatform {
    clock: SimClock,
    offline: std::sync::atomic::AtomicBool,
    scenario: Scenario,
    world: Mutex<World>,
    api_rng: Mutex<StdRng>,
}

impl SimPlatform {
    pub fn new(options: SimOptions) -> Self {
        Self::warmed(options, None)
    }

    /// A world whose weights were set to `weights` at `split_at` after its start (a release
    /// under way before the demo began), then warmed up as `options` says.
    pub fn with_split(options: SimOptions, split_at: Duration, weights: Weights) -> Self {
        Self::warmed(options, Some((split_at, weights)))
    }

    fn warmed(options: SimOptions, split: Option<(Duration, Weights)>) -> Self {
        let mut world = World::new(options.scenario, options.seed, options.start);
        if let Some((at, weights)) = split {
            world.advance_to(options.start.plus(at));
            world.set_weights(weights);
        }
        let now = options.start.plus(options.warm_up);
        world.advance_to(now);
        SimPlatform {
            clock: SimClock::new(now, options.speed),
            offline: std::sync::atomic::AtomicBool::new(false),
            scenario: options.scenario,
            world: Mutex::new(world),
            // A second stream, so API faults do not change the world a seed gives.
            api_rng: Mutex::new(StdRng::seed_from_u64(options.seed ^ 0xA5A5_A5A5)),
        }
    }

    /// The world brought up to the current simulated time.
    fn world(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock cannot leave the world half-stepped in a way that
        // matters for a demo, so a poisoned lock is taken over rather than propagated.
        let mut world = self.world.lock().unwrap_or_else(|p| p.into_inner());
        world.advance_to(self.clock.now());
        world
    }

    /// Another writer changes the weights behind cutover's back (an outside change).
    pub fn set_weights_outside(&self, weights: Weights) {
        self.world().set_weights(weights);
    }

    /// Fault injection: the endpoint goes away (every call fails as unreachable) or comes back.
    pub fn set_offline(&self, offline: bool) {
        self.offline
            .store(offline, std::sync::atomic::Ordering::SeqCst);
    }

    fn maybe_fail(&self, operation: &str) -> Result<(), PlatformError> {
        if self.offline.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PlatformError::Unreachable {
                operation: operation.into(),
                message: "connection refused (simulated)".into(),
            });
        }
        if self.scenario != Scenario::FlakyApi {
            return Ok(());
        }
        let mut rng = self.api_rng.lock().unwrap_or_else(|p| p.into_inner());
        let roll: f64 = rng.random();
        if roll < FLAKY_FAILURE_SHARE / 2.0 {
            Err(PlatformError::Throttled {
                operation: operation.into(),
            })
        } else if roll < FLAKY_FAILURE_SHARE {
            Err(PlatformError::Api {
                operation: operation.into(),
                code: None,
                message: "ServiceUnavailable: service is temporarily unavailable (simulated)"
                    .into(),
            })
        } else {
            Ok(())
        }
    }
}

impl Platform for SimPlatform {
    fn source(&self) -> SourceInfo {
        let speed = self.clock.speed();
        SourceInfo {
            kind: SourceKind::Demo,
            detail: format!("scenario {} · speed {speed}×", self.scenario),
            place: "simulated".into(),
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    async fn observe(&self) -> Result<Observation, PlatformError> {
        self.maybe_fail("DescribeServices")?;
        Ok(self.world().observation())
    }

    async fn metrics(&self) -> Result<MetricsSnapshot, PlatformError> {
        self.maybe_fail("GetMetricData")?;
        Ok(self.world().metrics())
    }

    async fn deploy(
        &self,
        image: String,
        _container: Option<String>,
    ) -> Result<DeployReport, PlatformError> {
        tokio::time::sleep(WRITE_LATENCY).await;
        self.maybe_fail("RegisterTaskDefinition")?;
        self.world()
            .deploy(&image)
            .map_err(|reason| PlatformError::Refused { reason })
    }

    async fn scale_idle(&self, desired: u32) -> Result<ScaleReport, PlatformError> {
        tokio::time::sleep(WRITE_LATENCY).await;
        self.maybe_fail("UpdateService")?;
        self.world()
            .scale_idle(desired)
            .map_err(|reason| PlatformError::Refused { reason })
    }

    async fn adopt(&self) -> Result<DeployReport, PlatformError> {
        tokio::time::sleep(WRITE_LATENCY).await;
        self.maybe_fail("UpdateService")?;
        self.world()
            .adopt()
            .map_err(|reason| PlatformError::Refused { reason })
    }

    async fn steer(&self, step: GateStep) -> Result<Driver, PlatformError> {
        tokio::time::sleep(WRITE_LATENCY).await;
        let operation = match step {
            GateStep::Answer { .. } => "ContinueServiceDeployment",
            GateStep::Stop { .. } => "StopServiceDeployment",
        };
        self.maybe_fail(operation)?;
        self.world()
            .steer(&step)
            .map_err(|message| PlatformError::Api {
                operation: operation.into(),
                code: message.split(':').next().map(str::to_string),
                message,
            })
    }

    async fn set_weights(
        &self,
        expected: Weights,
        target: Weights,
    ) -> Result<Weights, PlatformError> {
        tokio::time::sleep(WRITE_LATENCY).await;
        self.maybe_fail("ModifyRule")?;
        let mut world = self.world();
        if world.is_native() {
            return Err(PlatformError::Refused {
                reason: "ECS moves the weights of a native service: cutover never writes them"
                    .into(),
            });
        }
        let actual = world.weights();
        if actual != expected {
            return Err(PlatformError::Conflict { expected, actual });
        }
        world.set_weights(target);
        Ok(world.weights())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(scenario: Scenario) -> SimPlatform {
        SimPlatform::new(SimOptions {
            scenario,
            speed: 1.0,
            seed: 5,
            start: Timestamp::from_secs(1_795_763_100),
            warm_up: Duration::ZERO,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_is_read_back() {
        let sim = platform(Scenario::Healthy);
        let read = sim
            .set_weights(Weights::ALL_BLUE, Weights::with_green(20))
            .await;
        assert_eq!(read, Ok(Weights::with_green(20)));
        assert_eq!(
            sim.observe().await.map(|o| o.weights),
            Ok(Weights::with_green(20))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_based_on_stale_weights_is_refused() {
        let sim = platform(Scenario::Healthy);
        sim.set_weights_outside(Weights::with_green(20));
        let result = sim
            .set_weights(Weights::ALL_BLUE, Weights::with_green(10))
            .await;
        assert_eq!(
            result,
            Err(PlatformError::Conflict {
                expected: Weights::ALL_BLUE,
                actual: Weights::with_green(20)
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn simulated_time_runs_speed_times_faster() {
        let sim = SimPlatform::new(SimOptions {
            scenario: Scenario::Healthy,
            speed: 10.0,
            seed: 1,
            start: Timestamp(0),
            warm_up: Duration::ZERO,
        });
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(sim.now(), Timestamp(60_000));
    }

    #[tokio::test(start_paused = true)]
    async fn flaky_api_fails_some_calls_but_not_all() {
        let sim = platform(Scenario::FlakyApi);
        let mut failures = 0;
        for _ in 0..200 {
            if sim.observe().await.is_err() {
                failures += 1;
            }
        }
        assert!((20..90).contains(&failures), "{failures} of 200 failed");
    }
}
