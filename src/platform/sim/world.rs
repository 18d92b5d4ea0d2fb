use std::collections::VecDeque;
use std::f64::consts::TAU;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Scenario;
use super::native::NativeSim;
use super::service::{Fault, SimService};
use super::traffic::{MinuteBuckets, Second};
use crate::domain::{
    AlarmState, AlarmStatus, Color, Driver, GateStep, MetricsSnapshot, Observation,
    SideObservation, Timestamp, Weights,
};
use crate::domain::{DeployReport, ScaleReport};

/// Requests per second the simulated shop receives, before noise and the daily swell.
const BASE_REQUESTS_PER_SEC: f64 = 200.0;
const TASKS_PER_SIDE: u32 = 4;
/// Requests a second ECS's test listener sends to a native deployment's new revision.
const TEST_REQUESTS_PER_SEC: f64 = 8.0;
/// How much history exists when the demo starts, so sparklines are not empty.
const HISTORY_MINUTES: u64 = 30;
const METRICS_MINUTES: u64 = 30;
const BLUE_ERROR_RATE: f64 = 0.0025;
const GREEN_ERROR_RATE: f64 = 0.003;
const BAD_BUILD_ERROR_RATE: f64 = 0.08;
/// How long a faulty build takes to reach its full error rate once it carries traffic.
const BAD_BUILD_RAMP_SECS: f64 = 120.0;
const BLUE_LATENCY_MS: f64 = 80.0;
const GREEN_LATENCY_MS: f64 = 84.0;
const SLOW_GREEN_FACTOR: f64 = 3.0;
/// Share of a crashing build's requests the load balancer fails, half of them as connection
/// errors (502), half as timeouts (504).
const CRASH_FAILURE_RATE: f64 = 0.10;
/// The shop's own alarm on checkout errors, as an operator would list it in `[guard] alarms`.
pub const CHECKOUT_ALARM: &str = "shop-checkout-errors";
/// How long a side with the alarm fault carries traffic before the alarm fires (its metric's
/// period), and how long after the side stops carrying traffic it goes back to OK.
const ALARM_AFTER: Duration = Duration::from_secs(60);
const ALARM_CLEARS_AFTER: Duration = Duration::from_secs(120);

/// The whole simulated estate, stepped one simulated second at a time so that the same seed
/// gives the same world however often it is looked at.
#[derive(Debug)]
pub struct World {
    now: Timestamp,
    /// Where simulated history begins; the traffic swell is timed from it, so a seed gives
    /// the same world whatever the wall clock says.
    origin: Timestamp,
    rng: StdRng,
    weights: Weights,
    blue: SimService,
    green: SimService,
    blue_metrics: MinuteBuckets,
    green_metrics: MinuteBuckets,
    elb_5xx: VecDeque<(Timestamp, f64)>,
    /// When the checkout alarm fired and, once its cause carries no traffic, when that began.
    alarm_since: Option<Timestamp>,
    alarm_calm_since: Option<Timestamp>,
    /// When each side (blue, green) began carrying traffic on the revision it runs: a faulty
    /// build's errors climb from then.
    serving_since: [Option<Timestamp>; 2],
    /// In a native scenario, ECS deploying the one service and moving the weights itself.
    native: Option<NativeSim>,
}

fn index(color: Color) -> usize {
    match color {
        Color::Blue => 0,
        Color::Green => 1,
    }
}

impl World {
    /// Blue has served all traffic for a while; at `start` green begins its deployment.
    pub fn new(scenario: Scenario, seed: u64, start: Timestamp) -> Self {
        let history_start = Timestamp(start.0.saturating_sub(HISTORY_MINUTES * 60_000));
        // A native service is one ECS service whose two revisions sit behind the two groups.
        let native = scenario.native().map(NativeSim::new);
        let (blue_name, green_name) = if native.is_some() {
            ("shop", "shop")
        } else {
            ("shop-blue", "shop-green")
        };
        let mut blue = SimService::new(blue_name, blue_name, "shop", 7, "example/shop:1.4.2");
        blue.settle_at(TASKS_PER_SIDE, history_start);
        let mut green = SimService::new(green_name, green_name, "shop", 8, "example/shop:1.5.0");
        green.fault = scenario.green_fault();
        let mut world = World {
            now: history_start,
            origin: history_start,
            rng: StdRng::seed_from_u64(seed),
            weights: Weights::ALL_BLUE,
            blue,
            green,
            blue_metrics: MinuteBuckets::default(),
            green_metrics: MinuteBuckets::default(),
            elb_5xx: VecDeque::new(),
            alarm_since: None,
            alarm_calm_since: None,
            serving_since: [None, None],
            native,
        };
        world.advance_to(start);
        world.green.scale_to(TASKS_PER_SIDE, start, &mut world.rng);
        if let Some(native) = world.native.as_mut() {
            native.start(Color::Blue, start);
        }
        world
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn weights(&self) -> Weights {
        self.weights
    }

    pub fn set_weights(&mut self, weights: Weights) {
        self.weights = weights;
    }

    /// Steps whole simulated seconds up to `t`.
    pub fn advance_to(&mut self, t: Timestamp) {
        while self.now.0 + 1000 <= t.0 {
            self.now = self.now.plus(Duration::from_secs(1));
            self.step_second();
        }
    }

    /// Deploys `image` to the side at 0%; `Err` with the reason when both carry traffic.
    pub fn deploy(&mut self, image: &str) -> Result<DeployReport, String> {
        let weights = self.weights;
        if self.native.as_ref().is_some_and(NativeSim::running) {
            return Err(
                "an ECS deployment is still running: continue it to the end or roll it back first"
                    .into(),
            );
        }
        let Some(idle) = weights.idle_and_live().0 else {
            return Err(format!(
                "both sides carry traffic ({weights} blue/green): a deploy goes to the side \
                     at 0%; roll back or promote first"
            ));
        };
        let now = self.now;
        let desired = self.side(idle.other()).desired;
        // Both services share the family, and ECS numbers its revisions across it.
        let newest_revision = self.blue.revision.max(self.green.revision);
        let service = match idle {
            Color::Blue => &mut self.blue,
            Color::Green => &mut self.green,
        };
        let from = format!("{}:{}", service.family, service.revision);
        service.revision = newest_revision;
        service.roll_out(image, desired, now, &mut self.rng);
        service.fault = Fault::of_image(image);
        let to = format!("{}:{}", service.family, service.revision);
        self.serving_since[index(idle)] = None;
        if let Some(native) = self.native.as_mut() {
            native.start(idle.other(), now);
        }
        Ok(DeployReport {
            idle,
            from,
            to,
            desired,
            weights,
        })
    }

    pub fn scale_idle(&mut self, desired: u32) -> Result<ScaleReport, String> {
        let weights = self.weights;
        let Some(idle) = weights.idle_and_live().0 else {
            return Err(format!(
                "both sides carry traffic ({weights} blue/green): only a side at 0% is scaled"
            ));
        };
        let now = self.now;
        let service = match idle {
            Color::Blue => &mut self.blue,
            Color::Green => &mut self.green,
        };
        let from = service.desired;
        service.scale_to(desired, now, &mut self.rng);
        Ok(ScaleReport {
            side: idle,
            from,
            to: desired,
        })
    }

    pub fn adopt(&mut self) -> Result<DeployReport, String> {
        let weights = self.weights;
        let (Some(idle), Some(live)) = weights.idle_and_live() else {
            return Err(format!(
                "adopt needs one side carrying all traffic ({weights} blue/green now)"
            ));
        };
        let (revision, image, fault) = {
            let source = self.side(idle);
            (source.revision, source.image.clone(), source.fault)
        };
        let now = self.now;
        let service = match live {
            Color::Blue => &mut self.blue,
            Color::Green => &mut self.green,
        };
        let from = format!("{}:{}", service.family, service.revision);
        let desired = service.desired;
        // The live side takes the idle side's revision as it is: roll_out counts one up.
        service.revision = revision.saturating_sub(1);
        service.roll_out(&image, desired, now, &mut self.rng);
        service.fault = fault;
        let to = format!("{}:{}", service.family, service.revision);
        self.serving_since[index(live)] = None;
        Ok(DeployReport {
            idle: live,
            from,
            to,
            desired,
            weights,
        })
    }

    pub fn observation(&self) -> Observation {
        Observation {
            blue: SideObservation {
                service: self.blue.status(),
                targets: self.blue.target_health(),
            },
            green: SideObservation {
                service: self.green.status(),
                targets: self.green.target_health(),
            },
            weights: self.weights,
            writes_refused: None,
            other_routes: Vec::new(),
            stickiness_seconds: None,
            lock_holder: None,
            driver: self.native.as_ref().map_or(Driver::WeightedPair, |native| {
                Driver::EcsNative(Box::new(native.service()))
            }),
        }
    }

    pub fn metrics(&self) -> MetricsSnapshot {
        let from = self.now.0.saturating_sub(METRICS_MINUTES * 60_000);
        MetricsSnapshot {
            blue: self.blue_metrics.published(self.now, METRICS_MINUTES),
            green: self.green_metrics.published(self.now, METRICS_MINUTES),
            elb_5xx: self
                .elb_5xx
                .iter()
                .filter(|(t, _)| t.0 + 60_000 <= self.now.0 && t.0 >= from)
                .copied()
                .collect(),
            alarms: vec![AlarmStatus {
                name: CHECKOUT_ALARM.into(),
                state: if self.alarm_since.is_some() {
                    AlarmState::Alarm
                } else {
                    AlarmState::Ok
                },
            }],
            custom: Vec::new(),
            incomplete: Default::default(),
        }
    }

    /// Fires the checkout alarm once a side with the alarm fault has carried traffic for its
    /// period; clears it a while after no such side carries any.
    fn step_alarm(&mut self, now: Timestamp) {
        let firing_cause = Color::BOTH.into_iter().any(|color| {
            self.side(color).fault == Some(Fault::Alarm)
                && !self.weights.is_idle(color)
                && self.serving_since[index(color)]
                    .is_some_and(|since| now.since(since) >= ALARM_AFTER)
        });
        match (firing_cause, self.alarm_since) {
            (true, None) => self.alarm_since = Some(now),
            (true, Some(_)) => self.alarm_calm_since = None,
            (false, Some(_)) => {
                let calm = *self.alarm_calm_since.get_or_insert(now);
                if now.since(calm) >= ALARM_CLEARS_AFTER {
                    self.alarm_since = None;
                    self.alarm_calm_since = None;
                }
            }
            (false, None) => {}
        }
    }

    /// Whether ECS moves the weights here (a native scenario).
    pub fn is_native(&self) -> bool {
        self.native.is_some()
    }

    /// The operator's answer to ECS at a gate, or a stop with a rollback.
    pub fn steer(&mut self, step: &GateStep) -> Result<Driver, String> {
        let now = self.now;
        let native = self
            .native
            .as_mut()
            .ok_or("the simulated estate is a weighted pair: it has no ECS deployment")?;
        if let Some(weights) = native.answer(step, now)? {
            self.weights = weights;
        }
        Ok(Driver::EcsNative(Box::new(native.service())))
    }

    fn step_second(&mut self) {
        let now = self.now;
        if let Some(weights) = self.native.as_mut().and_then(|n| n.step(now)) {
            self.weights = weights;
        }
        if let Some(source) = self.native.as_mut().and_then(NativeSim::take_cleaned) {
            let service = match source {
                Color::Blue => &mut self.blue,
                Color::Green => &mut self.green,
            };
            service.scale_to(0, now, &mut self.rng);
        }
        self.blue.step(now, &mut self.rng);
        self.green.step(now, &mut self.rng);
        let tested = self.native.as_ref().and_then(NativeSim::test_traffic);
        for color in Color::BOTH {
            let since = &mut self.serving_since[index(color)];
            if (self.weights.share(color) > 0 || tested == Some(color)) && since.is_none() {
                *since = Some(now);
            }
        }
        self.step_alarm(now);

        // A gentle ten-minute swell plus noise, so the sparklines look like a real shop.
        let phase = now.since(self.origin).as_secs_f64() / 600.0 * TAU;
        let noise = self.rng.random_range(-0.06..0.06);
        let total = BASE_REQUESTS_PER_SEC * (1.0 + 0.12 * phase.sin() + noise);
        for color in Color::BOTH {
            let share = match color {
                Color::Blue => f64::from(self.weights.blue()),
                Color::Green => f64::from(self.weights.green()),
            } / 100.0;
            let test = if tested == Some(color) {
                TEST_REQUESTS_PER_SEC
            } else {
                0.0
            };
            let requests = (total * share + test + self.rng.random::<f64>()).floor();
            if requests <= 0.0 {
                continue;
            }
            if self.side(color).healthy_targets() == 0 {
                // No healthy target behind the group: the load balancer itself answers 503.
                self.record_elb_5xx(now, requests);
                continue;
            }
            // Requests the load balancer fails itself: still in the group's RequestCount, never
            // in its targets' 5xx.
            let failed = (requests * self.crash_rate(color, now) + self.rng.random::<f64>())
                .floor()
                .min(requests);
            let mut conn_errors = 0.0;
            if failed > 0.0 {
                // Half of them on average: an odd count splits either way.
                conn_errors = (failed / 2.0 + self.rng.random::<f64>())
                    .floor()
                    .min(failed);
                self.record_elb_5xx(now, failed);
            }
            let answered = requests - failed;
            let rate = self.error_rate(color, now);
            let errors = (answered * rate + self.rng.random::<f64>())
                .floor()
                .min(answered);
            let latency = self.latency_ms(color) * (1.0 + self.rng.random_range(-0.1..0.1));
            let p99 = latency * self.rng.random_range(2.2..2.8);
            let buckets = match color {
                Color::Blue => &mut self.blue_metrics,
                Color::Green => &mut self.green_metrics,
            };
            buckets.record(
                now,
                Second {
                    requests,
                    errors,
                    conn_errors,
                    latency_ms: latency,
                    p99_ms: p99,
                },
            );
        }
    }

    fn side(&self, color: Color) -> &SimService {
        match color {
            Color::Blue => &self.blue,
            Color::Green => &self.green,
        }
    }

    fn error_rate(&self, color: Color, now: Timestamp) -> f64 {
        let healthy = match color {
            Color::Blue => BLUE_ERROR_RATE,
            Color::Green => GREEN_ERROR_RATE,
        };
        match self.side(color).fault {
            Some(Fault::Errors) => {
                healthy + (BAD_BUILD_ERROR_RATE - healthy) * self.ramp(color, now)
            }
            _ => healthy,
        }
    }

    /// How far a faulty build has come to its full failure: 0 when it starts carrying
    /// traffic, 1 after the ramp.
    fn ramp(&self, color: Color, now: Timestamp) -> f64 {
        self.serving_since[index(color)].map_or(0.0, |since| {
            (now.since(since).as_secs_f64() / BAD_BUILD_RAMP_SECS).min(1.0)
        })
    }

    /// The share of `color`'s requests the load balancer fails (502/504): a crashing build's.
    fn crash_rate(&self, color: Color, now: Timestamp) -> f64 {
        match self.side(color).fault {
            Some(Fault::Crashes) => CRASH_FAILURE_RATE * self.ramp(color, now).max(0.5),
            _ => 0.0,
        }
    }

    fn latency_ms(&self, color: Color) -> f64 {
        let base = match color {
            Color::Blue => BLUE_LATENCY_MS,
            Color::Green => GREEN_LATENCY_MS,
        };
        match self.side(color).fault {
            Some(Fault::Slow) => base * SLOW_GREEN_FACTOR,
            _ => base,
        }
    }

    fn record_elb_5xx(&mut self, now: Timestamp, count: f64) {
        let minute = now.floor_minute();
        match self.elb_5xx.back_mut() {
            Some((t, n)) if *t == minute => *n += count,
            _ => {
                self.elb_5xx.push_back((minute, count));
                if self.elb_5xx.len() > METRICS_MINUTES as usize * 2 {
                    self.elb_5xx.pop_front();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: Timestamp = Timestamp(1_795_763_100_000);

    fn minutes(n: u64) -> Duration {
        Duration::from_secs(n * 60)
    }

    #[test]
    fn demo_starts_with_history_on_blue_and_green_deploying() {
        let world = World::new(Scenario::Healthy, 1, START);
        let obs = world.observation();
        assert_eq!(obs.weights, Weights::ALL_BLUE);
        assert_eq!(obs.blue.service.running, 4);
        assert_eq!(obs.blue.targets.healthy, 4);
        assert_eq!(obs.green.service.desired, 4);
        assert_eq!(obs.green.service.running, 0);
        assert_eq!(obs.green.service.pending, 4);
        let metrics = world.metrics();
        assert!(metrics.blue.buckets.len() >= 28, "blue has history");
        assert!(metrics.green.buckets.is_empty(), "green had no traffic yet");
        let newest = metrics.newest_bucket().unwrap_or_default();
        let rps = metrics.blue.requests_per_sec(newest);
        assert!((150.0..250.0).contains(&rps), "about 200 req/s, got {rps}");
    }

    #[test]
    fn green_tasks_come_up_and_reach_a_steady_state() {
        let mut world = World::new(Scenario::Healthy, 7, START);
        world.advance_to(START.plus(minutes(2)));
        let obs = world.observation();
        assert_eq!(obs.green.service.running, 4);
        assert_eq!(obs.green.targets.healthy, 4);
        assert_eq!(obs.green.service.rollout.to_string(), "COMPLETED");
        assert!(
            obs.green.service.events[0]
                .message
                .ends_with("has reached a steady state.")
        );
    }

    #[test]
    fn bad_green_climbs_to_about_eight_percent_once_it_carries_traffic() {
        let mut world = World::new(Scenario::BadGreen, 3, START);
        world.advance_to(START.plus(minutes(2)));
        world.set_weights(Weights::with_green(50));
        world.advance_to(START.plus(minutes(10)));
        let now = world.now();
        let metrics = world.metrics();
        let green = metrics.green.window(now, 3).error_rate.unwrap_or(0.0);
        let blue = metrics.blue.window(now, 3).error_rate.unwrap_or(1.0);
        assert!((0.06..0.10).contains(&green), "green at {green}");
        assert!(blue < 0.01, "blue stays healthy at {blue}");
    }

    #[test]
    fn slow_green_is_three_times_slower() {
        let mut world = World::new(Scenario::SlowGreen, 3, START);
        world.advance_to(START.plus(minutes(2)));
        world.set_weights(Weights::with_green(50));
        world.advance_to(START.plus(minutes(6)));
        let metrics = world.metrics();
        let now = world.now();
        let green = metrics.green.window(now, 3).latency_avg_ms.unwrap_or(0.0);
        let blue = metrics.blue.window(now, 3).latency_avg_ms.unwrap_or(1.0);
        assert!(green / blue > 2.5, "green {green} ms vs blue {blue} ms");
    }

    #[test]
    fn traffic_to_a_group_without_healthy_targets_is_shared_elb_5xx() {
        let mut world = World::new(Scenario::Healthy, 3, START);
        world.set_weights(Weights::with_green(50)); // green's tasks are still provisioning
        world.advance_to(START.plus(Duration::from_secs(61)));
        let metrics = world.metrics();
        assert!(metrics.elb_5xx.iter().map(|(_, n)| n).sum::<f64>() > 100.0);
    }

    #[test]
    fn the_same_seed_gives_the_same_world() {
        let run = |seed| {
            let mut w = World::new(Scenario::Healthy, seed, START);
            w.advance_to(START.plus(minutes(3)));
            w.metrics()
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }
}
