//! How long cutover takes to act on an ECS-native gate, in simulated time: the core and the
//! simulator's ECS, polled as the console polls (state every 5 s, metrics every 30 s).
//!
//! `cargo run --release --example native_timing`
//!
//! For each gate of `native-linear` with the autopilot running: when the gate began to await,
//! when cutover first saw it, when `c` became available to an operator (the guard allowing
//! the step) and when the autopilot continued (after its bake). For `native-bad`: from ECS's
//! test traffic reaching the new revision to the rollback leaving the core.

use std::time::Duration;

use cutover::app::{Action, AppState, Command, Msg, Settings, availability, update};
use cutover::domain::{SourceInfo, SourceKind, Stage, Timestamp};
use cutover::platform::sim::{Scenario, World};

const START: Timestamp = Timestamp(1_795_763_100_000);
const STATE_EVERY: u64 = 5;
const METRICS_EVERY: u64 = 30;

struct Run {
    world: World,
    state: AppState,
    seconds: u64,
}

impl Run {
    fn new(scenario: Scenario) -> Run {
        let world = World::new(scenario, 1, START);
        let source = SourceInfo {
            kind: SourceKind::Demo,
            detail: "timing".into(),
            place: "simulated".into(),
        };
        let state = AppState::new(source, Settings::default(), START);
        Run {
            world,
            state,
            seconds: 0,
        }
    }

    /// One simulated second; the polls that fall due; every gate step answered at once.
    fn second(&mut self) -> Vec<Command> {
        self.seconds += 1;
        let now = START.plus(Duration::from_secs(self.seconds));
        self.world.advance_to(now);
        let mut commands = Vec::new();
        if self.seconds.is_multiple_of(STATE_EVERY) {
            let observed = Ok(self.world.observation());
            commands.extend(update(
                &mut self.state,
                Msg::Observed {
                    now,
                    started: now,
                    result: observed,
                },
            ));
        }
        if self.seconds.is_multiple_of(METRICS_EVERY) {
            let metrics = Ok(self.world.metrics());
            commands.extend(update(
                &mut self.state,
                Msg::MetricsFetched {
                    now,
                    result: metrics,
                },
            ));
        }
        commands.extend(update(&mut self.state, Msg::Tick { now }));
        let mut answered = Vec::new();
        for command in &commands {
            if let Command::Steer(step) = command {
                let result =
                    self.world
                        .steer(step)
                        .map_err(|message| cutover::domain::PlatformError::Api {
                            operation: "ContinueServiceDeployment".into(),
                            code: None,
                            message,
                        });
                answered.extend(update(
                    &mut self.state,
                    Msg::Steered {
                        now,
                        step: step.clone(),
                        result,
                    },
                ));
            }
        }
        commands.extend(answered);
        commands
    }

    fn world_gate(&self) -> Option<String> {
        let observation = self.world.observation();
        let native = observation.driver.native()?;
        native.awaiting().map(|(_, gate)| gate.hook_id.clone())
    }

    fn seen_gate(&self) -> Option<String> {
        let native = self.state.observation.as_ref()?.driver.native()?;
        native.awaiting().map(|(_, gate)| gate.hook_id.clone())
    }

    fn press_a(&mut self) {
        let now = START.plus(Duration::from_secs(self.seconds));
        let key = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('a'));
        let at = std::time::Instant::now();
        update(&mut self.state, Msg::Key { key, now, at });
    }
}

fn gates() {
    let mut run = Run::new(Scenario::NativeLinear);
    while run.state.observation.is_none() {
        run.second();
    }
    run.press_a();
    println!("native-linear, autopilot (bake {} s at each gate):", 120);
    println!("  gate    awaits at  seen after  c offered after  continued after");
    let mut current: Option<(String, u64, Option<u64>, Option<u64>)> = None;
    for _ in 0..3600 {
        let commands = run.second();
        let t = run.seconds;
        if let Some(hook) = run.world_gate()
            && current.as_ref().is_none_or(|(h, ..)| *h != hook)
        {
            current = Some((hook, t, None, None));
        }
        if let Some((hook, at, seen, offered)) = current.as_mut() {
            if seen.is_none() && run.seen_gate().as_deref() == Some(hook.as_str()) {
                *seen = Some(t);
            }
            if offered.is_none()
                && seen.is_some()
                && availability(&run.state, Action::ContinueGate).is_available()
            {
                *offered = Some(t);
            }
            let continued = commands.iter().any(|c| {
                matches!(c, Command::Steer(cutover::domain::GateStep::Answer { hook_id, .. }) if hook_id == hook)
            });
            if continued {
                println!(
                    "  {hook:<7} {:>6} s   {:>6} s    {:>9}         {:>6} s",
                    *at,
                    seen.map_or(0, |s| s - *at),
                    offered.map_or("never".into(), |o| format!("{} s", o - *at)),
                    t - *at
                );
                current = None;
            }
        }
        let done = run
            .state
            .observation
            .as_ref()
            .and_then(|o| o.driver.native())
            .and_then(|n| n.deployment.as_ref())
            .is_some_and(|d| d.status == "SUCCESSFUL");
        if done {
            println!("  SUCCESSFUL at {t} s");
            break;
        }
    }
}

fn bad() {
    let mut run = Run::new(Scenario::NativeBad);
    while run.state.observation.is_none() {
        run.second();
    }
    run.press_a();
    let mut tested_from = None;
    for _ in 0..3600 {
        let commands = run.second();
        let observation = run.world.observation();
        let stage = observation
            .driver
            .native()
            .and_then(|n| n.deployment.as_ref())
            .and_then(|d| d.stage());
        if tested_from.is_none() && stage.is_some_and(|s| s >= Stage::TestTrafficShift) {
            tested_from = Some(run.seconds);
        }
        let rolled = commands
            .iter()
            .any(|c| matches!(c, Command::Steer(step) if step.is_rollback()));
        if rolled {
            let from = tested_from.unwrap_or(0);
            println!(
                "native-bad: test traffic from {from} s, rollback sent at {} s: caught in {} s, \
                 with no production traffic moved",
                run.seconds,
                run.seconds - from
            );
            return;
        }
    }
    println!("native-bad: never rolled back");
}

fn main() {
    gates();
    bad();
}
