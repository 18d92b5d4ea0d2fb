//! Plans: a guarded sequence of steps the console (or `plan run`) drives by itself, baking
//! between steps, holding on missing evidence, and rolling back or pausing on a breach.

use std::fmt;
use std::time::Duration;

use crate::domain::{Color, Timestamp, Weights};

/// What the operator configured (`[plan]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanSpec {
    /// The candidate's share at each step, baking `bake` after each.
    Steps { steps: Vec<u8>, bake: Duration },
    /// `step` more points every `every`, up to 100.
    Linear { step: u8, every: Duration },
    /// `percent` for `bake`, then everything.
    Canary { percent: u8, bake: Duration },
}

/// A plan that cannot run, said so that the config can be fixed: bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "plan steps are empty: give at least one, ending at 100, e.g. steps = [10, 25, 50, 100]"
    )]
    Empty,
    #[error("plan step {0} is over 100: a share is 0 to 100")]
    OverHundred(u8),
    #[error("plan steps must go up: {0} comes after {1}")]
    NotIncreasing(u8, u8),
    #[error("plan steps must end at 100 (they end at {0})")]
    NotToHundred(u8),
    #[error("a linear plan's step must be 1 to 100 points (it is {0})")]
    BadLinearStep(u8),
    #[error("a canary's percent must be 1 to 99 (it is {0})")]
    BadCanary(u8),
}

/// What to do when the evidence says the candidate is worse while a plan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnBreach {
    #[default]
    Rollback,
    Pause,
}

impl PlanSpec {
    /// The candidate's shares the plan goes through, in order, ending at 100.
    pub fn targets(&self) -> Result<Vec<u8>, PlanError> {
        let targets = match self {
            PlanSpec::Steps { steps, .. } => steps.clone(),
            PlanSpec::Linear { step, .. } => {
                if *step == 0 || *step > 100 {
                    return Err(PlanError::BadLinearStep(*step));
                }
                let mut t: Vec<u8> = (1..).map(|i| i * step).take_while(|p| *p < 100).collect();
                t.push(100);
                t
            }
            PlanSpec::Canary { percent, .. } => {
                if *percent == 0 || *percent >= 100 {
                    return Err(PlanError::BadCanary(*percent));
                }
                vec![*percent, 100]
            }
        };
        let Some(&last) = targets.last() else {
            return Err(PlanError::Empty);
        };
        if let Some(&over) = targets.iter().find(|p| **p > 100) {
            return Err(PlanError::OverHundred(over));
        }
        if let Some(pair) = targets.windows(2).find(|w| w[1] <= w[0]) {
            return Err(PlanError::NotIncreasing(pair[1], pair[0]));
        }
        if last != 100 {
            return Err(PlanError::NotToHundred(last));
        }
        Ok(targets)
    }

    /// How long a step bakes before the next one.
    pub fn bake(&self) -> Duration {
        match self {
            PlanSpec::Steps { bake, .. } | PlanSpec::Canary { bake, .. } => *bake,
            PlanSpec::Linear { every, .. } => *every,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanState {
    /// Configured, not started.
    Ready,
    /// Baking until `next_at`, then the next step.
    Baking {
        next_at: Timestamp,
    },
    /// A step is being written.
    Applying,
    /// The next step is due but the guard will not let it go yet (no evidence, stale data):
    /// the plan holds and goes on by itself when it can.
    Holding {
        reason: String,
    },
    /// The step's write failed for a passing reason (throttling, a 5xx, a timeout): it is
    /// tried again at `next_at`, backing off.
    Retrying {
        next_at: Timestamp,
        /// The attempt that failed, from 1.
        attempt: u32,
        reason: String,
    },
    Paused {
        reason: String,
        /// When the bake it interrupted was due to end: resuming keeps the rest of the bake.
        bake_until: Option<Timestamp>,
    },
    Done,
    RolledBack {
        reason: String,
    },
    /// The platform moves the traffic itself (an ECS-native deployment) and the plan waits
    /// for it: a stage in flight, ECS's bake, the next gate.
    Waiting {
        reason: String,
    },
}

impl fmt::Display for PlanState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanState::Ready => f.write_str("ready"),
            PlanState::Baking { .. } => f.write_str("baking"),
            PlanState::Applying => f.write_str("applying"),
            PlanState::Holding { reason } => write!(f, "holding: {reason}"),
            PlanState::Retrying {
                attempt, reason, ..
            } => write!(f, "retrying after attempt {attempt}: {reason}"),
            PlanState::Paused { reason, .. } => write!(f, "paused: {reason}"),
            PlanState::Done => f.write_str("done"),
            PlanState::RolledBack { reason } => write!(f, "rolled back: {reason}"),
            PlanState::Waiting { reason } => write!(f, "waiting: {reason}"),
        }
    }
}

/// A running plan. Pure: time comes in, the next step goes out. Its steps are shares of the
/// candidate (see [`super::roles`]): green in the first cycle, blue after the roles swap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub targets: Vec<u8>,
    pub bake: Duration,
    pub on_breach: OnBreach,
    pub state: PlanState,
    /// The side the plan moves traffic to: the candidate when it was started.
    pub toward: Option<Color>,
    /// Failed attempts at the current step, in a row.
    pub attempts: u32,
    /// Why the plan paused, when a step failed (AWS refused, or too many attempts): headless
    /// `plan run` then exits as failed rather than paused.
    pub failed: Option<String>,
}

/// Attempts at one step before the plan pauses.
pub const MAX_STEP_ATTEMPTS: u32 = 5;
/// The wait after the first failed attempt; it doubles with each one after, up to the cap.
const RETRY_FIRST: Duration = Duration::from_secs(2);
const RETRY_CAP: Duration = Duration::from_secs(60);

/// The wait before attempt `failed + 1`: doubling from [`RETRY_FIRST`], capped, with up to ±20%
/// jitter (taken from the clock, so the core stays pure) so that consoles do not retry in step.
pub fn retry_delay(failed: u32, now: Timestamp) -> Duration {
    let doubled = RETRY_FIRST.saturating_mul(1 << failed.saturating_sub(1).min(10));
    let jitter = 0.8 + (now.0 % 401) as f64 / 1000.0;
    doubled.min(RETRY_CAP).mul_f64(jitter)
}

/// What a failed step leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepFailure {
    /// Tried again at this time.
    Retry { at: Timestamp, attempt: u32 },
    /// The plan paused: the error will not pass by itself, or it did not after
    /// [`MAX_STEP_ATTEMPTS`].
    Paused { attempts: u32 },
}

/// What the plan wants now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanAction {
    Nothing,
    /// Move to this split (the guard still decides).
    Step(Weights),
    /// The evidence says the candidate is worse: roll back, with the reason.
    Rollback(String),
}

impl Plan {
    pub fn new(spec: &PlanSpec, on_breach: OnBreach) -> Result<Plan, PlanError> {
        Ok(Plan {
            targets: spec.targets()?,
            bake: spec.bake(),
            on_breach,
            state: PlanState::Ready,
            toward: None,
            attempts: 0,
            failed: None,
        })
    }

    /// The first target above `toward`'s share of `current`: where the plan goes next.
    pub fn next_target(&self, current: Weights, toward: Color) -> Option<Weights> {
        self.targets
            .iter()
            .find(|t| **t > current.share(toward))
            .map(|t| Weights::with_share(toward, *t))
    }

    /// Step n of N for the screen: the number of targets at or below `toward`'s share.
    pub fn progress(&self, current: Weights, toward: Color) -> (usize, usize) {
        let done = self
            .targets
            .iter()
            .filter(|t| **t <= current.share(toward))
            .count();
        (done, self.targets.len())
    }

    pub fn is_active(&self) -> bool {
        matches!(
            self.state,
            PlanState::Baking { .. }
                | PlanState::Applying
                | PlanState::Holding { .. }
                | PlanState::Retrying { .. }
                | PlanState::Waiting { .. }
        )
    }

    /// The side the plan moves traffic to, or would if started now.
    pub fn side(&self, candidate: Color) -> Color {
        self.toward.unwrap_or(candidate)
    }

    /// Whether `a` would start or resume the plan now (see [`Plan::start`]): when ready, after
    /// a pause (the rest of the bake it interrupted still runs) or during a failed step's wait.
    /// A plan that is done or rolled back waits for [`Plan::rearm`]: a new deploy.
    pub fn can_start(&self) -> bool {
        match &self.state {
            PlanState::Ready | PlanState::Paused { .. } | PlanState::Retrying { .. } => true,
            // A finished plan runs again only for a new build (a deploy re-arms it): after the
            // roles swap the idle side still runs the old one, and `a` would send live
            // traffic back to it.
            PlanState::Done => false,
            // A hold goes on by itself as soon as the guard lets the step go.
            PlanState::Holding { .. }
            | PlanState::Baking { .. }
            | PlanState::Applying
            | PlanState::Waiting { .. }
            | PlanState::RolledBack { .. } => false,
        }
    }

    /// Whether `n` would bring the next step forward now (see [`Plan::skip_bake`]): a bake
    /// or a retry's wait can be cut short; a hold goes on by itself when the guard allows.
    pub fn can_skip_bake(&self, now: Timestamp) -> bool {
        match self.state {
            PlanState::Baking { next_at } | PlanState::Retrying { next_at, .. } => next_at > now,
            _ => false,
        }
    }

    pub fn start(&mut self, now: Timestamp, candidate: Color, current: Weights) -> bool {
        let (toward, next_at) = match &self.state {
            PlanState::Ready => (candidate, now),
            PlanState::Paused { bake_until, .. } => {
                (self.side(candidate), bake_until.map_or(now, |t| t.max(now)))
            }
            PlanState::Retrying { .. } => (self.side(candidate), now),
            PlanState::Done if current.share(candidate) == 0 => (candidate, now),
            _ => return false,
        };
        self.toward = Some(toward);
        self.attempts = 0;
        self.failed = None;
        self.state = PlanState::Baking { next_at };
        true
    }

    /// A new revision was deployed: a plan that is over is ready for it.
    pub fn rearm(&mut self) {
        if matches!(self.state, PlanState::Done | PlanState::RolledBack { .. }) {
            self.state = PlanState::Ready;
            self.toward = None;
        }
    }

    /// `Space`, an outside change, or a breach with `on_breach = "pause"`.
    pub fn pause(&mut self, reason: impl Into<String>) {
        if self.is_active() {
            let bake_until = match self.state {
                PlanState::Baking { next_at } => Some(next_at),
                _ => None,
            };
            self.state = PlanState::Paused {
                reason: reason.into(),
                bake_until,
            };
        }
    }

    /// `n`: the next step now instead of after the bake (still guarded).
    pub fn skip_bake(&mut self, now: Timestamp) -> bool {
        if !self.can_skip_bake(now) {
            return false;
        }
        self.state = PlanState::Baking { next_at: now };
        true
    }

    /// Called on every tick and every metrics update: what to do now; `worse` is the
    /// evidence's reason when it says the side the plan moves traffic to is worse.
    pub fn poll(&mut self, now: Timestamp, current: Weights, worse: Option<&str>) -> PlanAction {
        let Some(toward) = self.toward.filter(|_| self.is_active()) else {
            return PlanAction::Nothing;
        };
        if let Some(reason) = worse {
            // Only a plan that has moved traffic has something to roll back or stop.
            return match self.on_breach {
                OnBreach::Rollback => {
                    self.state = PlanState::RolledBack {
                        reason: reason.to_string(),
                    };
                    PlanAction::Rollback(reason.to_string())
                }
                OnBreach::Pause => {
                    self.pause(format!("{} is worse: {reason}", toward.name()));
                    PlanAction::Nothing
                }
            };
        }
        match &self.state {
            PlanState::Baking { next_at } if *next_at <= now => {
                match self.next_target(current, toward) {
                    Some(target) => PlanAction::Step(target),
                    None => {
                        self.state = PlanState::Done;
                        PlanAction::Nothing
                    }
                }
            }
            PlanState::Holding { .. } => self
                .next_target(current, toward)
                .map_or(PlanAction::Nothing, PlanAction::Step),
            PlanState::Retrying { next_at, .. } if *next_at <= now => self
                .next_target(current, toward)
                .map_or(PlanAction::Nothing, PlanAction::Step),
            _ => PlanAction::Nothing,
        }
    }

    /// The guard let the step go: it is being written.
    /// A plan over a deployment that moves its own weights (ECS-native): it has no steps of
    /// its own; at each of the platform's gates it waits `bake`, then continues through the
    /// guard.
    pub fn gates(bake: Duration) -> Plan {
        Plan {
            targets: Vec::new(),
            bake,
            on_breach: OnBreach::Rollback,
            state: PlanState::Ready,
            toward: None,
            attempts: 0,
            failed: None,
        }
    }

    /// The platform's stage goes on; the plan waits for it (and says what for).
    pub fn wait(&mut self, reason: impl Into<String>) {
        if self.is_active() {
            self.state = PlanState::Waiting {
                reason: reason.into(),
            };
        }
    }

    /// The platform finished the deployment the plan followed.
    pub fn finished(&mut self) {
        if self.is_active() {
            self.state = PlanState::Done;
        }
    }

    /// The guard judged the candidate worse: the plan ends in a rollback.
    pub fn rolled_back(&mut self, reason: impl Into<String>) {
        self.state = PlanState::RolledBack {
            reason: reason.into(),
        };
    }

    /// Whether the plan already holds, for `why`: said once, not at every poll.
    pub fn holds_for(&self, why: &str) -> bool {
        matches!(&self.state, PlanState::Holding { reason } if reason == why)
    }

    pub fn step_started(&mut self) {
        self.state = PlanState::Applying;
    }

    /// The guard held the step back (no evidence yet, stale data).
    pub fn hold(&mut self, reason: impl Into<String>) {
        self.state = PlanState::Holding {
            reason: reason.into(),
        };
    }

    /// The step's write to `target` was read back at `read_back`: the plan is done once one
    /// side carries everything as asked (its last target is always 100).
    pub fn step_finished(&mut self, read_back: Weights, target: Weights, now: Timestamp) {
        if self.state != PlanState::Applying {
            return;
        }
        self.attempts = 0;
        let everything = read_back.green() == 100 || read_back.blue() == 100;
        self.state = if read_back == target && everything {
            PlanState::Done
        } else {
            PlanState::Baking {
                next_at: now.plus(self.bake),
            }
        };
    }

    /// A step whose answer was lost, and that the plan was about to try again, turned out
    /// applied after all: it counts as done, and the bake starts now.
    pub fn step_landed_late(&mut self, read_back: Weights, now: Timestamp) {
        if matches!(self.state, PlanState::Retrying { .. }) {
            self.state = PlanState::Applying;
            self.step_finished(read_back, read_back, now);
        }
    }

    /// The step's write failed. A passing error (`transient`) is tried again after a backoff,
    /// up to [`MAX_STEP_ATTEMPTS`] attempts; any other, or one attempt too many, pauses the
    /// plan with the reason (`a` resumes it).
    pub fn step_failed(&mut self, reason: &str, transient: bool, now: Timestamp) -> StepFailure {
        self.attempts += 1;
        let attempts = self.attempts;
        if transient && attempts < MAX_STEP_ATTEMPTS {
            let at = now.plus(retry_delay(attempts, now));
            self.state = PlanState::Retrying {
                next_at: at,
                attempt: attempts,
                reason: reason.to_string(),
            };
            return StepFailure::Retry {
                at,
                attempt: attempts,
            };
        }
        let why = if transient {
            format!("the step failed {attempts} times: {reason}")
        } else {
            format!("the step failed: {reason}")
        };
        self.state = PlanState::Paused {
            reason: format!("{why} (a tries again)"),
            bake_until: None,
        };
        self.failed = Some(why);
        StepFailure::Paused { attempts }
    }

    /// The operator (or the breach) rolled back: a plan under way is over. One that was never
    /// started, or is over already, stays as it is.
    pub fn aborted(&mut self, reason: impl Into<String>) {
        let under_way = self.is_active() || matches!(self.state, PlanState::Paused { .. });
        if under_way {
            self.state = PlanState::RolledBack {
                reason: reason.into(),
            };
        }
    }
}

impl From<PlanError> for crate::domain::Failure {
    fn from(error: PlanError) -> Self {
        crate::domain::Failure::BadInput(error.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BAKE: Duration = Duration::from_secs(60);

    fn steps(list: &[u8]) -> PlanSpec {
        PlanSpec::Steps {
            steps: list.to_vec(),
            bake: BAKE,
        }
    }

    const G: Color = Color::Green;

    fn w(green: u8) -> Weights {
        Weights::with_green(green)
    }

    #[test]
    fn specs_expand_to_targets() {
        assert_eq!(
            steps(&[10, 25, 50, 100]).targets(),
            Ok(vec![10, 25, 50, 100])
        );
        assert_eq!(
            PlanSpec::Linear {
                step: 30,
                every: BAKE
            }
            .targets(),
            Ok(vec![30, 60, 90, 100])
        );
        assert_eq!(
            PlanSpec::Canary {
                percent: 10,
                bake: BAKE
            }
            .targets(),
            Ok(vec![10, 100])
        );
    }

    #[test]
    fn bad_plans_say_what_is_wrong() {
        assert_eq!(steps(&[]).targets(), Err(PlanError::Empty));
        assert_eq!(
            steps(&[10, 5, 100]).targets(),
            Err(PlanError::NotIncreasing(5, 10))
        );
        assert_eq!(
            steps(&[10, 150]).targets(),
            Err(PlanError::OverHundred(150))
        );
        assert_eq!(steps(&[10, 50]).targets(), Err(PlanError::NotToHundred(50)));
        assert_eq!(
            PlanSpec::Linear {
                step: 0,
                every: BAKE
            }
            .targets(),
            Err(PlanError::BadLinearStep(0))
        );
        assert_eq!(
            PlanSpec::Canary {
                percent: 100,
                bake: BAKE
            }
            .targets(),
            Err(PlanError::BadCanary(100))
        );
    }

    #[test]
    fn a_plan_steps_bakes_and_finishes() {
        let mut plan = Plan::new(&steps(&[10, 50, 100]), OnBreach::Rollback).expect("valid");
        let t0 = Timestamp(0);
        assert_eq!(
            plan.poll(t0, w(0), None),
            PlanAction::Nothing,
            "not started"
        );
        assert!(plan.start(t0, G, w(0)));
        assert_eq!(plan.poll(t0, w(0), None), PlanAction::Step(w(10)));
        plan.step_started();
        assert_eq!(
            plan.poll(t0, w(0), None),
            PlanAction::Nothing,
            "one step at a time"
        );
        plan.step_finished(w(10), w(10), t0);
        assert_eq!(plan.progress(w(10), G), (1, 3));
        assert_eq!(
            plan.poll(t0.plus(Duration::from_secs(59)), w(10), None),
            PlanAction::Nothing
        );
        assert_eq!(
            plan.poll(t0.plus(BAKE), w(10), None),
            PlanAction::Step(w(50))
        );
        plan.step_started();
        plan.step_finished(w(100), w(100), t0.plus(BAKE));
        assert_eq!(plan.state, PlanState::Done);
    }

    #[test]
    fn after_the_roles_swap_a_plan_moves_traffic_to_blue() {
        let mut plan = Plan::new(&steps(&[10, 50, 100]), OnBreach::Pause).expect("valid");
        let t0 = Timestamp(0);
        // Green carries everything; blue is the candidate.
        let all_green = Weights::ALL_GREEN;
        assert!(plan.start(t0, Color::Blue, all_green));
        assert_eq!(
            plan.poll(t0, all_green, None),
            PlanAction::Step(Weights::with_share(Color::Blue, 10))
        );
        plan.step_started();
        plan.step_finished(w(90), w(90), t0);
        assert_eq!(plan.progress(w(90), Color::Blue), (1, 3));
        assert_eq!(
            plan.poll(t0.plus(BAKE), w(90), Some("blue 7%")),
            PlanAction::Nothing
        );
        assert_eq!(
            plan.state,
            PlanState::Paused {
                reason: "blue is worse: blue 7%".into(),
                bake_until: Some(t0.plus(BAKE)),
            }
        );
        // Resuming keeps the direction it was started with.
        assert!(plan.start(t0, G, w(90)));
        assert_eq!(plan.toward, Some(Color::Blue));
        plan.step_started();
        plan.step_finished(Weights::ALL_BLUE, Weights::ALL_BLUE, t0);
        assert_eq!(plan.state, PlanState::Done);
    }

    #[test]
    fn a_finished_plan_starts_again_for_the_next_cycle_only() {
        let mut plan = Plan::new(&steps(&[10, 100]), OnBreach::Rollback).expect("valid");
        let t0 = Timestamp(0);
        assert!(plan.start(t0, G, w(0)));
        plan.step_started();
        plan.step_finished(w(100), w(100), t0);
        assert_eq!(plan.state, PlanState::Done);
        // Green still in its bake: green is the candidate and carries everything.
        assert!(!plan.start(t0, G, w(100)));
        // The roles swapped: blue is the candidate at 0%.
        assert!(plan.start(t0, Color::Blue, w(100)));
        assert_eq!(plan.poll(t0, w(100), None), PlanAction::Step(w(90)));
    }

    #[test]
    fn a_rolled_back_plan_waits_for_a_new_deploy_and_a_pause_keeps_the_bake() {
        let mut plan = Plan::new(&steps(&[10, 50, 100]), OnBreach::Rollback).expect("valid");
        let t0 = Timestamp(0);
        plan.aborted("rolled back by the operator");
        assert_eq!(
            plan.state,
            PlanState::Ready,
            "never started: nothing to end"
        );

        plan.start(t0, G, w(0));
        plan.step_started();
        plan.step_finished(w(10), w(10), t0);
        let half = t0.plus(BAKE / 2);
        plan.pause("operator");
        assert!(plan.start(half, G, w(10)));
        assert_eq!(
            plan.state,
            PlanState::Baking {
                next_at: t0.plus(BAKE)
            },
            "resuming keeps the rest of the bake"
        );

        plan.aborted("rolled back by the operator");
        assert!(
            !plan.start(half, G, w(0)),
            "not back into the build just rolled back"
        );
        plan.rearm();
        assert_eq!(plan.state, PlanState::Ready);
        assert!(plan.start(half, G, w(0)));
    }

    #[test]
    fn a_breach_rolls_back_or_pauses_as_configured() {
        let mut plan = Plan::new(&steps(&[10, 100]), OnBreach::Rollback).expect("valid");
        plan.start(Timestamp(0), G, w(0));
        assert_eq!(
            plan.poll(Timestamp(0), w(10), Some("green 7%")),
            PlanAction::Rollback("green 7%".into())
        );
        assert!(matches!(plan.state, PlanState::RolledBack { .. }));

        let mut plan = Plan::new(&steps(&[10, 100]), OnBreach::Pause).expect("valid");
        plan.start(Timestamp(0), G, w(0));
        assert_eq!(
            plan.poll(Timestamp(0), w(10), Some("green 7%")),
            PlanAction::Nothing
        );
        assert_eq!(
            plan.state,
            PlanState::Paused {
                reason: "green is worse: green 7%".into(),
                bake_until: Some(Timestamp(0)),
            }
        );
    }

    #[test]
    fn a_held_step_goes_on_when_the_guard_lets_it() {
        let mut plan = Plan::new(&steps(&[10, 100]), OnBreach::Rollback).expect("valid");
        plan.start(Timestamp(0), G, w(0));
        assert_eq!(plan.poll(Timestamp(0), w(0), None), PlanAction::Step(w(10)));
        plan.hold("no fresh evidence");
        assert_eq!(
            plan.poll(Timestamp(5), w(0), None),
            PlanAction::Step(w(10)),
            "asks again"
        );
        plan.pause("operator");
        assert_eq!(plan.poll(Timestamp(6), w(0), None), PlanAction::Nothing);
        assert!(plan.start(Timestamp(7), G, w(0)), "a resumes");
    }

    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Event {
        Tick(u64),
        Worse,
        Started,
        Finished(u8),
        Hold,
        Pause,
        Resume,
        Skip,
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            (0u64..600).prop_map(Event::Tick),
            Just(Event::Worse),
            Just(Event::Started),
            (0u8..=100).prop_map(Event::Finished),
            Just(Event::Hold),
            Just(Event::Pause),
            Just(Event::Resume),
            Just(Event::Skip),
        ]
    }

    proptest! {
        #[test]
        fn a_plan_never_steps_on_worse_never_goes_down_and_stops_after_a_breach(
            events in prop::collection::vec(event(), 0..80),
        ) {
            let mut plan = Plan::new(&steps(&[10, 25, 50, 100]), OnBreach::Rollback).expect("valid");
            let mut now = Timestamp(0);
            let mut current = w(0);
            plan.start(now, G, current);
            for e in events {
                match e {
                    Event::Tick(secs) => now = now.plus(Duration::from_secs(secs)),
                    Event::Worse => {
                        let action = plan.poll(now, current, Some("worse"));
                        prop_assert!(!matches!(action, PlanAction::Step(_)), "stepped on worse");
                        if plan.state != PlanState::Ready {
                            prop_assert!(!plan.is_active(), "a breach ends the plan");
                        }
                    }
                    Event::Started => plan.step_started(),
                    Event::Finished(g) => {
                        plan.step_finished(w(g), w(g), now);
                        current = w(g);
                    }
                    Event::Hold => plan.hold("no evidence"),
                    Event::Pause => plan.pause("operator"),
                    Event::Resume => { plan.start(now, G, current); }
                    Event::Skip => { plan.skip_bake(now); }
                }
                if let PlanAction::Step(target) = plan.poll(now, current, None) {
                    prop_assert!(target.green() > current.green(), "a step only goes up");
                    prop_assert!(plan.targets.contains(&target.green()));
                }
            }
        }
    }
}
