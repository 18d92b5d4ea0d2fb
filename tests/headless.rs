//! The headless commands on the simulator, in paused time: the same core as on AWS (the shift
//! machine, the guard, the plan, the audit log), in milliseconds.

use std::sync::Arc;
use std::time::Duration;

use cutover::app::Settings;
use cutover::audit::Auditor;
use cutover::cmd::{Headless, Outcome, ShiftTarget};
use cutover::domain::{Color, Timestamp, Weights};
use cutover::platform::Platform;
use cutover::platform::sim::{CHECKOUT_ALARM, Scenario, SimOptions, SimPlatform};
use cutover::shift::plan::{OnBreach, PlanSpec};

const START: Timestamp = Timestamp(1_795_763_100_000);

/// A demo world five minutes in (green up and healthy), read once, with its own audit log.
async fn demo(name: &str, scenario: Scenario) -> Headless<SimPlatform> {
    seeded(name, scenario, 7).await
}

async fn seeded(name: &str, scenario: Scenario, seed: u64) -> Headless<SimPlatform> {
    let platform = SimPlatform::new(SimOptions {
        scenario,
        speed: 1.0,
        seed,
        start: START,
        warm_up: cutover::cmd::demo::HEADLESS_WARM_UP,
    });
    let observation = platform.observe().await.expect("the simulated world");
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("headless-{name}.jsonl"));
    let _ = std::fs::remove_file(&path);
    Headless {
        platform: Arc::new(platform),
        observation,
        settings: demo_settings(),
        plan: Some((
            PlanSpec::Steps {
                steps: vec![10, 25, 50, 100],
                bake: Duration::from_secs(120),
            },
            OnBreach::Rollback,
        )),
        source: "the test".into(),
        auditor: Auditor::new(&path, "tester".into(), "sim".into()).expect("an audit log"),
    }
}

/// The defaults, with the simulated shop's alarm listed as an operator would list theirs.
fn demo_settings() -> Settings {
    let mut settings = Settings::default();
    settings.evidence.alarms = vec![CHECKOUT_ALARM.to_string()];
    settings
}

async fn weights(headless: &Headless<SimPlatform>) -> Weights {
    headless
        .platform
        .observe()
        .await
        .expect("the simulated world")
        .weights
}

/// The headless command again on what the platform holds now, as a new run would start.
async fn reread(headless: &mut Headless<SimPlatform>) {
    headless.observation = headless.platform.observe().await.expect("the world");
}

#[tokio::test(start_paused = true)]
async fn shift_promote_and_rollback_go_through_the_guard_on_the_simulator() {
    let mut headless = demo("shift", Scenario::Healthy).await;
    let outcome =
        cutover::cmd::shift::shift(&mut headless, ShiftTarget::Share(Color::Green, 10), false)
            .await
            .expect("a shift");
    assert_eq!(
        outcome,
        Outcome::Done("100/0 → 90/10 (blue/green), read back".into())
    );
    assert_eq!(weights(&headless).await, Weights::with_green(10));

    // A second step needs evidence the world has not produced yet: refused, exit 3.
    reread(&mut headless).await;
    let refused =
        cutover::cmd::shift::shift(&mut headless, ShiftTarget::Share(Color::Green, 30), false)
            .await
            .expect("an answer");
    assert_eq!(refused.exit_code(), 3, "{refused:?}");
    assert!(
        refused.message().contains("not enough evidence"),
        "{refused:?}"
    );

    // Once green has served for a few minutes, promote goes (a jump needs --force).
    tokio::time::sleep(Duration::from_secs(4 * 60)).await;
    reread(&mut headless).await;
    let promoted = cutover::cmd::shift::shift(&mut headless, ShiftTarget::Promote, true)
        .await
        .expect("a promote");
    assert_eq!(promoted.exit_code(), 0, "{promoted:?}");
    assert_eq!(weights(&headless).await, Weights::ALL_GREEN);

    // Rollback goes back to blue, the side the metrics show as live.
    reread(&mut headless).await;
    let rolled = cutover::cmd::rollback::rollback(&mut headless, None)
        .await
        .expect("a rollback");
    assert_eq!(
        rolled,
        Outcome::Done("rolled back 0/100 → 100/0 (blue/green), read back".into())
    );
    assert_eq!(weights(&headless).await, Weights::ALL_BLUE);
}

#[tokio::test(start_paused = true)]
async fn plan_run_reaches_everything_on_a_healthy_green() {
    let mut headless = demo("plan-healthy", Scenario::Healthy).await;
    let outcome = cutover::cmd::plan::plan_run(&mut headless, None)
        .await
        .expect("plan run");
    assert_eq!(
        outcome,
        Outcome::Done("plan done: green carries all traffic".into())
    );
    assert_eq!(outcome.exit_code(), 0);
    assert_eq!(weights(&headless).await, Weights::ALL_GREEN);
}

#[tokio::test(start_paused = true)]
async fn plan_run_on_a_bad_green_is_rolled_back_by_the_guard_and_exits_5() {
    let mut headless = demo("plan-bad", Scenario::BadGreen).await;
    let outcome = cutover::cmd::plan::plan_run(&mut headless, None)
        .await
        .expect("plan run");
    assert_eq!(outcome.exit_code(), 5, "{outcome:?}");
    assert!(
        outcome
            .message()
            .starts_with("the guard rolled back to 100/0: 5xx: green"),
        "{outcome:?}"
    );
    assert_eq!(weights(&headless).await, Weights::ALL_BLUE);
}

/// The greenest share any write of this run gave green, from its audit log.
fn highest_green_share(name: &str) -> u64 {
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("headless-{name}.jsonl"));
    std::fs::read_to_string(&path)
        .expect("the audit log")
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| line["to"]["green"].as_u64())
        .max()
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn each_bad_build_is_stopped_at_the_first_step_by_its_own_row() {
    for (scenario, row) in [
        (Scenario::BadGreen, "5xx"),
        (Scenario::SlowGreen, "latency"),
        (Scenario::CrashyGreen, "lb errors"),
        (Scenario::AlarmGreen, "alarms"),
    ] {
        let name = format!("stopped-{scenario}");
        let mut headless = seeded(&name, scenario, 7).await;
        let started = headless.platform.now();
        let outcome = cutover::cmd::plan::plan_run(&mut headless, None)
            .await
            .expect("plan run");
        let took = headless.platform.now().since(started);
        assert_eq!(outcome.exit_code(), 5, "{scenario}: {outcome:?}");
        assert!(
            outcome
                .message()
                .starts_with(&format!("the guard rolled back to 100/0: {row}: ")),
            "{scenario} is caught by its {row} row: {outcome:?}"
        );
        assert_eq!(weights(&headless).await, Weights::ALL_BLUE, "{scenario}");
        assert_eq!(
            highest_green_share(&name),
            10,
            "{scenario} never got past the first step"
        );
        // For the record: how long the bad build carried traffic before the rollback.
        eprintln!(
            "{scenario}: rolled back by the {row} row {}s after green got 10%",
            took.as_secs()
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_healthy_green_reaches_everything_with_no_false_stop_over_twenty_seeds() {
    let mut stops = Vec::new();
    for seed in 1..=20 {
        let mut headless = seeded(&format!("healthy-{seed}"), Scenario::Healthy, seed).await;
        let outcome = cutover::cmd::plan::plan_run(&mut headless, None)
            .await
            .expect("plan run");
        if outcome.exit_code() != 0 || weights(&headless).await != Weights::ALL_GREEN {
            stops.push(format!("seed {seed}: {outcome:?}"));
        }
    }
    assert!(stops.is_empty(), "false stops: {stops:#?}");
}

#[tokio::test(start_paused = true)]
async fn plan_run_held_longer_than_max_hold_ends_with_9_and_leaves_the_weights_where_they_are() {
    let mut headless = demo("plan-held", Scenario::Healthy).await;
    // Evidence that can never be enough: past its first step the plan holds for good.
    headless.settings.evidence.min_requests = u32::MAX / 2;
    let outcome =
        cutover::cmd::plan::plan_run(&mut headless, Some(std::time::Duration::from_secs(5 * 60)))
            .await
            .expect("plan run");
    assert_eq!(outcome.exit_code(), 9, "{outcome:?}");
    assert!(
        outcome.message().contains("longer than --max-hold 5m")
            && outcome
                .message()
                .ends_with("the weights stay at 90/10 (blue/green)"),
        "{outcome:?}"
    );
    assert_eq!(weights(&headless).await, Weights::with_green(10));
}

// ECS-native on the simulator: the same commands, through the driver.

#[tokio::test(start_paused = true)]
async fn plan_run_on_native_linear_continues_at_five_gates_and_ecs_finishes() {
    let mut headless = demo("native-plan", Scenario::NativeLinear).await;
    let outcome = cutover::cmd::plan::plan_run(&mut headless, None)
        .await
        .expect("plan run");
    assert_eq!(outcome.exit_code(), 0, "{outcome:?}");
    assert_eq!(weights(&headless).await, Weights::ALL_GREEN);
    let path =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("headless-native-plan.jsonl");
    let lines = std::fs::read_to_string(path).expect("the audit log");
    let continued = lines
        .lines()
        .filter(|l| l.contains("\"action\":\"continue\"") && l.contains("\"result\":\"applied\""))
        .count();
    assert_eq!(continued, 5, "{lines}");
    assert!(
        !lines.contains("\"action\":\"plan step\""),
        "cutover wrote no weight: {lines}"
    );
}

#[tokio::test(start_paused = true)]
async fn plan_run_on_native_bad_is_rolled_back_through_ecs_and_exits_5() {
    let mut headless = demo("native-bad", Scenario::NativeBad).await;
    let outcome = cutover::cmd::plan::plan_run(&mut headless, None)
        .await
        .expect("plan run");
    assert_eq!(outcome.exit_code(), 5, "{outcome:?}");
    assert!(outcome.message().contains("5xx: green"), "{outcome:?}");
    assert_eq!(weights(&headless).await, Weights::ALL_BLUE);
    let native = headless.platform.observe().await.expect("the world").driver;
    assert_eq!(
        native
            .native()
            .and_then(|n| n.deployment.as_ref())
            .map(|d| d.status.as_str()),
        Some("ROLLBACK_SUCCESSFUL")
    );
}

#[tokio::test(start_paused = true)]
async fn continue_is_refused_on_a_bad_revision_and_goes_on_a_good_one() {
    let mut bad = demo("native-continue-bad", Scenario::NativeBad).await;
    let refused = cutover::cmd::gate::continue_gate(&mut bad)
        .await
        .expect("an answer");
    assert_eq!(refused.exit_code(), 3, "{refused:?}");
    assert!(refused.message().contains("green is worse"), "{refused:?}");
    assert_eq!(weights(&bad).await, Weights::ALL_BLUE);

    let mut good = demo("native-continue-good", Scenario::NativeLinear).await;
    let done = cutover::cmd::gate::continue_gate(&mut good)
        .await
        .expect("an answer");
    assert_eq!(done.exit_code(), 0, "{done:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(weights(&good).await, Weights::with_green(20));
    // The gate is answered: a second continue finds none waiting.
    reread(&mut good).await;
    let again = cutover::cmd::gate::continue_gate(&mut good)
        .await
        .expect("an answer");
    assert_eq!(again.exit_code(), 3, "{again:?}");
    assert!(again.message().contains("no gate waits"), "{again:?}");
}

/// The fleet on the simulator, as its live list polls it (state every 5 s, metrics every
/// minute): a release whose green starts failing rises to the top of the list at the first
/// state refresh after the metrics minute that shows it, above every quiet row.
#[tokio::test(start_paused = true)]
async fn a_row_turning_worse_rises_to_the_top_within_a_metrics_minute() {
    use cutover::app::fleet::{Attention, FleetRead, FleetState};
    use cutover::platform::fleet::{FleetSource, SimFleet};
    let options = |scenario, seed| SimOptions {
        scenario,
        speed: 1.0,
        seed,
        start: START,
        warm_up: Duration::from_secs(6 * 60),
    };
    let split = Duration::from_secs(6 * 60);
    let entries = [
        ("alpha", Scenario::Healthy, 1),
        ("bravo", Scenario::Healthy, 2),
        ("zulu", Scenario::BadGreen, 3),
    ]
    .map(|(name, scenario, seed)| {
        let platform =
            SimPlatform::with_split(options(scenario, seed), split, Weights::with_green(10));
        (name.to_string(), Arc::new(platform))
    });
    let source = SimFleet {
        entries: entries.to_vec(),
    };
    let settings = demo_settings().evidence;
    let mut state = FleetState::default();
    let mut metrics = std::collections::BTreeMap::new();
    let mut worse_fetched = None;
    for second in (0..=600).step_by(5) {
        if second % 60 == 0 {
            metrics = source.metrics().await.expect("metrics");
        }
        let now = source.now();
        let reads = FleetRead::all(source.states().await, &metrics, now);
        state.refreshed(&reads, &settings, Duration::from_secs(300), now);
        let zulu = state
            .rows
            .iter()
            .find(|r| r.name == "zulu")
            .expect("its row");
        if worse_fetched.is_none() && zulu.verdict == Some(cutover::shift::Verdict::Worse) {
            worse_fetched = Some(second);
        }
        if let Some(at) = worse_fetched {
            let top = &state.rows[0];
            assert_eq!(top.name, "zulu", "at {second}s: {:?}", state.rows);
            assert!(matches!(top.attention, Some((Attention::Worse, _))));
            assert!(second - at <= 60, "rose within a metrics minute");
            assert!(
                state.rows[1..].iter().all(|r| r.attention.is_none()),
                "{:?}",
                state.rows
            );
            assert!(
                second <= 240,
                "caught within four minutes of its split: {second}s"
            );
            eprintln!("zulu on top {second}s after its split");
            return;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    panic!("zulu never turned worse: {:?}", state.rows);
}
