use std::time::Duration;

use tokio::time::Instant;

use crate::domain::Timestamp;

/// Simulated time: `speed` times faster than tokio's clock, from a chosen start.
///
/// Built on tokio's `Instant` so that tests under `tokio::time::pause()` drive it exactly.
#[derive(Debug, Clone)]
pub struct SimClock {
    origin: Instant,
    start: Timestamp,
    speed: f64,
}

impl SimClock {
    pub fn new(start: Timestamp, speed: f64) -> Self {
        SimClock {
            origin: Instant::now(),
            start,
            speed,
        }
    }

    pub fn now(&self) -> Timestamp {
        let real = self.origin.elapsed();
        self.start
            .plus(Duration::from_secs_f64(real.as_secs_f64() * self.speed))
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }
}
