//! The runtime against the simulator under paused tokio time: keys in, platform calls and the
//! drawn screen out.

mod support;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossterm::event::{Event, KeyCode};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use cutover::app::{AppState, Settings};
use cutover::domain::{MetricsSnapshot, Observation, Timestamp, Weights};
use cutover::platform::sim::{Scenario, SimOptions, SimPlatform};
use cutover::platform::{Platform, PlatformError, SourceInfo};
use cutover::runtime::{self, RuntimeConfig};
use support::{START, ch, key};

/// The simulator, with every call counted.
struct Counted {
    sim: SimPlatform,
    observes: AtomicUsize,
    metrics: AtomicUsize,
    writes: AtomicUsize,
}

impl Platform for Counted {
    fn source(&self) -> SourceInfo {
        self.sim.source()
    }

    fn now(&self) -> Timestamp {
        self.sim.now()
    }

    fn observe(&self) -> impl Future<Output = Result<Observation, PlatformError>> + Send {
        self.observes.fetch_add(1, Ordering::SeqCst);
        self.sim.observe()
    }

    fn metrics(&self) -> impl Future<Output = Result<MetricsSnapshot, PlatformError>> + Send {
        self.metrics.fetch_add(1, Ordering::SeqCst);
        self.sim.metrics()
    }

    fn set_weights(
        &self,
        expected: Weights,
        target: Weights,
    ) -> impl Future<Output = Result<Weights, PlatformError>> + Send {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.sim.set_weights(expected, target)
    }

    fn deploy(
        &self,
        image: String,
        container: Option<String>,
    ) -> impl Future<Output = Result<cutover::platform::DeployReport, PlatformError>> + Send {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.sim.deploy(image, container)
    }

    fn scale_idle(
        &self,
        desired: u32,
    ) -> impl Future<Output = Result<cutover::platform::ScaleReport, PlatformError>> + Send {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.sim.scale_idle(desired)
    }

    fn adopt(
        &self,
    ) -> impl Future<Output = Result<cutover::platform::DeployReport, PlatformError>> + Send {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.sim.adopt()
    }
}

fn counted(scenario: Scenario) -> Arc<Counted> {
    counted_with(scenario)
}

fn counted_with(scenario: Scenario) -> Arc<Counted> {
    Arc::new(Counted {
        sim: SimPlatform::new(SimOptions {
            scenario,
            speed: 1.0,
            seed: 9,
            start: START,
            warm_up: std::time::Duration::ZERO,
        }),
        observes: AtomicUsize::new(0),
        metrics: AtomicUsize::new(0),
        writes: AtomicUsize::new(0),
    })
}

struct Session {
    terminal: Terminal<TestBackend>,
    state: AppState,
}

/// Runs the console until `script` has pressed its keys and quit; returns what is left.
async fn session<F, Fut>(platform: Arc<Counted>, script: F) -> Session
where
    F: FnOnce(UnboundedSender<std::io::Result<Event>>) -> Fut,
    Fut: Future<Output = ()>,
{
    session_with_plan(platform, None, script).await
}

async fn session_with_plan<F, Fut>(
    platform: Arc<Counted>,
    plan: Option<cutover::shift::plan::Plan>,
    script: F,
) -> Session
where
    F: FnOnce(UnboundedSender<std::io::Result<Event>>) -> Fut,
    Fut: Future<Output = ()>,
{
    session_with(platform, Settings::default(), plan, script).await
}

/// The console on any platform with these settings and plan, driven by `script`.
async fn session_with<P, F, Fut>(
    platform: Arc<P>,
    settings: Settings,
    plan: Option<cutover::shift::plan::Plan>,
    script: F,
) -> Session
where
    P: Platform,
    F: FnOnce(UnboundedSender<std::io::Result<Event>>) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    let mut state = AppState::new(platform.source(), settings, platform.now()).with_plan(plan);
    let (tx, rx) = unbounded();
    let run = runtime::run(
        Arc::clone(&platform),
        &mut terminal,
        rx,
        &mut state,
        RuntimeConfig::default(),
        None,
    );
    let (result, ()) = tokio::join!(run, script(tx));
    result.expect("the console ran without error");
    Session { terminal, state }
}

fn press(tx: &UnboundedSender<std::io::Result<Event>>, event: crossterm::event::KeyEvent) {
    tx.unbounded_send(Ok(Event::Key(event)))
        .expect("console is listening");
}

fn screen(terminal: &Terminal<TestBackend>) -> String {
    support::buffer_text(terminal.backend().buffer())
}

/// The demo's plan started once green is up, then left alone for fifteen simulated minutes.
async fn run_demo_plan(platform: Arc<Counted>) -> Session {
    run_demo_plan_with(platform, Settings::default()).await
}

/// The same with these settings.
async fn run_demo_plan_with(platform: Arc<Counted>, settings: Settings) -> Session {
    session_with(
        platform,
        settings,
        Some(cutover::cmd::demo::demo_plan()),
        |tx| async move {
            wait(60).await;
            press(&tx, ch('a'));
            wait(15 * 60).await;
            press(&tx, ch('q'));
        },
    )
    .await
}

/// `D`, the prefilled image cleared (Ctrl-U), `image` typed, Enter.
fn deploy(tx: &UnboundedSender<std::io::Result<Event>>, image: &str) {
    press(tx, ch('D'));
    let clear = crossterm::event::KeyEvent::new(
        KeyCode::Char('u'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    press(tx, clear);
    for c in image.chars() {
        press(tx, ch(c));
    }
    press(tx, key(KeyCode::Enter));
}

async fn wait(secs: u64) {
    tokio::time::sleep(Duration::from_secs(secs)).await;
}

#[tokio::test(start_paused = true)]
async fn stage_and_apply_reach_the_platform_once_and_the_screen_shows_the_read_back() {
    let platform = counted(Scenario::Healthy);
    let after = session(Arc::clone(&platform), |tx| async move {
        wait(60).await; // green comes up
        press(&tx, ch('l'));
        press(&tx, key(KeyCode::Enter));
        wait(3).await;
        press(&tx, ch('q'));
    })
    .await;
    assert_eq!(platform.writes.load(Ordering::SeqCst), 1);
    assert_eq!(
        platform.sim.observe().await.map(|o| o.weights),
        Ok(Weights::with_green(10))
    );
    let screen = screen(&after.terminal);
    assert!(screen.contains("BLUE  90%"), "{screen}");
    assert!(screen.contains("10% GREEN"), "{screen}");
    assert!(screen.contains("apply: read back 90/10"), "{screen}");
}

#[tokio::test(start_paused = true)]
async fn rollback_from_any_split_reaches_all_blue() {
    for green in [10, 50, 100] {
        let platform = counted(Scenario::Healthy);
        platform.sim.set_weights_outside(Weights::with_green(green));
        let after = session(Arc::clone(&platform), |tx| async move {
            wait(1).await;
            press(&tx, ch('R'));
            wait(3).await;
            press(&tx, ch('q'));
        })
        .await;
        assert_eq!(
            platform.sim.observe().await.map(|o| o.weights),
            Ok(Weights::ALL_BLUE),
            "from {green}%"
        );
        assert_eq!(after.state.shift.current(), Some(Weights::ALL_BLUE));
        assert!(screen(&after.terminal).contains("BLUE 100%"));
    }
}

#[tokio::test(start_paused = true)]
async fn rollback_pressed_during_a_write_runs_right_after_it() {
    let platform = counted(Scenario::Healthy);
    let after = session(Arc::clone(&platform), |tx| async move {
        wait(60).await;
        press(&tx, ch('l'));
        press(&tx, key(KeyCode::Enter));
        press(&tx, ch('R'));
        wait(3).await;
        press(&tx, ch('q'));
    })
    .await;
    assert_eq!(
        platform.writes.load(Ordering::SeqCst),
        2,
        "the apply, then the rollback"
    );
    assert_eq!(
        platform.sim.observe().await.map(|o| o.weights),
        Ok(Weights::ALL_BLUE)
    );
    assert!(screen(&after.terminal).contains("rollback: read back 100/0"));
}

#[tokio::test(start_paused = true)]
async fn polling_keeps_to_the_refresh_intervals() {
    let platform = counted(Scenario::Healthy);
    session(Arc::clone(&platform), |tx| async move {
        wait(60).await;
        press(&tx, ch('q'));
    })
    .await;
    // One read at start and one per 5 s refresh; metrics at start and every 30 s.
    let observes = platform.observes.load(Ordering::SeqCst);
    let metrics = platform.metrics.load(Ordering::SeqCst);
    assert!(
        (12..=13).contains(&observes),
        "{observes} state reads in 60 s"
    );
    assert!(
        (2..=3).contains(&metrics),
        "{metrics} metric fetches in 60 s"
    );
}

#[tokio::test(start_paused = true)]
async fn a_flaky_api_shows_errors_and_keeps_running() {
    let platform = counted(Scenario::FlakyApi);
    let after = session(Arc::clone(&platform), |tx| async move {
        wait(120).await;
        press(&tx, ch('q'));
    })
    .await;
    let logged_errors = after
        .state
        .log
        .newest_first()
        .filter(|e| e.text.contains("simulated") || e.text.contains("throttled"))
        .count();
    assert!(logged_errors > 0, "API failures are logged");
    assert!(
        after.state.observation.is_some(),
        "state was read despite the failures"
    );
}

#[tokio::test(start_paused = true)]
async fn the_console_ends_when_the_terminal_closes() {
    let platform = counted(Scenario::Healthy);
    session(platform, |tx| async move {
        wait(1).await;
        drop(tx);
    })
    .await;
}

/// A platform whose state reads are always throttled.
struct Throttled {
    inner: Arc<Counted>,
}

impl Platform for Throttled {
    fn source(&self) -> SourceInfo {
        self.inner.source()
    }

    fn now(&self) -> Timestamp {
        self.inner.now()
    }

    async fn observe(&self) -> Result<Observation, PlatformError> {
        self.inner.observes.fetch_add(1, Ordering::SeqCst);
        Err(PlatformError::Throttled {
            operation: "DescribeServices".into(),
        })
    }

    fn metrics(&self) -> impl Future<Output = Result<MetricsSnapshot, PlatformError>> + Send {
        self.inner.metrics()
    }

    fn set_weights(
        &self,
        expected: Weights,
        target: Weights,
    ) -> impl Future<Output = Result<Weights, PlatformError>> + Send {
        self.inner.set_weights(expected, target)
    }

    fn deploy(
        &self,
        image: String,
        container: Option<String>,
    ) -> impl Future<Output = Result<cutover::platform::DeployReport, PlatformError>> + Send {
        self.inner.deploy(image, container)
    }

    fn scale_idle(
        &self,
        desired: u32,
    ) -> impl Future<Output = Result<cutover::platform::ScaleReport, PlatformError>> + Send {
        self.inner.scale_idle(desired)
    }

    fn adopt(
        &self,
    ) -> impl Future<Output = Result<cutover::platform::DeployReport, PlatformError>> + Send {
        self.inner.adopt()
    }
}

#[tokio::test(start_paused = true)]
async fn throttling_backs_the_state_polls_off_and_says_so() {
    let counted = counted(Scenario::Healthy);
    let platform = Arc::new(Throttled {
        inner: Arc::clone(&counted),
    });
    let after = session_with(platform, Settings::default(), None, |tx| async move {
        wait(180).await;
        press(&tx, ch('q'));
    })
    .await;
    // Without backoff: 37 reads in 180 s at a 5 s refresh. With it: 10, 20, 40, 60, 60 s apart.
    let reads = counted.observes.load(Ordering::SeqCst);
    assert!((4..=8).contains(&reads), "{reads} throttled reads in 180 s");
    let screen = screen(&after.terminal);
    assert!(screen.contains("throttled, backing off"), "{screen}");
    assert!(screen.contains("STALE"), "{screen}");
}

#[tokio::test(start_paused = true)]
async fn a_plan_on_a_healthy_green_reaches_all_green_step_by_step() {
    let platform = counted(Scenario::Healthy);
    let after = run_demo_plan(Arc::clone(&platform)).await;
    assert_eq!(
        platform.sim.observe().await.map(|o| o.weights),
        Ok(Weights::ALL_GREEN)
    );
    assert_eq!(platform.writes.load(Ordering::SeqCst), 4, "10, 25, 50, 100");
    let screen = screen(&after.terminal);
    assert!(
        screen.contains("done: green carries all traffic"),
        "{screen}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_plan_on_a_bad_green_rolls_back_by_itself_and_says_why() {
    let platform = counted(Scenario::BadGreen);
    let started = platform.sim.now();
    let after = run_demo_plan(Arc::clone(&platform)).await;
    assert_eq!(
        platform.sim.observe().await.map(|o| o.weights),
        Ok(Weights::ALL_BLUE)
    );
    assert_eq!(after.state.shift.current(), Some(Weights::ALL_BLUE));
    let screen = screen(&after.terminal);
    assert!(screen.contains("ROLLED BACK: 5xx: green"), "{screen}");
    assert!(
        screen.contains("plan: green is worse, rolling back: 5xx: green"),
        "{screen}"
    );
    let log: Vec<_> = after.state.log.newest_first().collect();
    let first_step = log
        .iter()
        .rev()
        .find(|e| e.text.starts_with("plan step 1/"))
        .map(|e| e.at);
    let rollback = log
        .iter()
        .find(|e| e.text.starts_with("plan: green is worse"))
        .map(|e| e.at);
    if let (Some(step), Some(rollback)) = (first_step, rollback) {
        println!(
            "bad-green detected {:.1} simulated minutes after the first step ({} after start)",
            rollback.since(step).as_secs_f64() / 60.0,
            cutover::domain::format_age(rollback.since(started))
        );
    }
    assert!(first_step.is_some() && rollback.is_some(), "both logged");
}

#[tokio::test(start_paused = true)]
async fn each_bad_build_is_rolled_back_at_the_first_step_with_its_row_on_screen() {
    for (scenario, row) in [
        (Scenario::SlowGreen, "latency: green p99"),
        (Scenario::CrashyGreen, "lb errors: green"),
        (
            Scenario::AlarmGreen,
            "alarms: in ALARM: shop-checkout-errors",
        ),
    ] {
        let platform = counted(scenario);
        let mut settings = Settings::default();
        settings.evidence.alarms = vec![cutover::platform::sim::CHECKOUT_ALARM.to_string()];
        let after = run_demo_plan_with(Arc::clone(&platform), settings).await;
        assert_eq!(after.state.shift.current(), Some(Weights::ALL_BLUE));
        let screen = screen(&after.terminal);
        assert!(
            screen.contains(&format!("step 0/4  ROLLED BACK: {row}")),
            "{scenario}: {screen}"
        );
        // The evidence window restarted empty after the rollback; the verdict that made it
        // stays, with its time.
        assert!(
            screen.contains(" WORSE ") && screen.contains(&format!(", rolled back: {row}")),
            "{scenario}: {screen}"
        );
        let log: Vec<_> = after.state.log.newest_first().collect();
        assert!(
            !log.iter().any(|e| e.text.contains("plan step 2/4")),
            "{scenario} never got past the first step"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_plan_pauses_on_an_outside_change() {
    let platform = counted(Scenario::Healthy);
    let outside = Arc::clone(&platform);
    let after = session_with_plan(
        Arc::clone(&platform),
        Some(cutover::cmd::demo::demo_plan()),
        |tx| async move {
            wait(60).await;
            press(&tx, ch('a'));
            wait(30).await;
            outside.sim.set_weights_outside(Weights::with_green(40));
            wait(10 * 60).await;
            press(&tx, ch('q'));
        },
    )
    .await;
    assert_eq!(
        platform.sim.observe().await.map(|o| o.weights),
        Ok(Weights::with_green(40)),
        "the plan did not overwrite it"
    );
    let screen = screen(&after.terminal);
    assert!(
        screen.contains("PAUSED: changed outside cutover: 90/10 → 60/40"),
        "{screen}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_that_dies_mid_plan_holds_the_plan_until_data_returns() {
    let platform = counted(Scenario::Healthy);
    let faults = Arc::clone(&platform);
    let after = session_with_plan(
        Arc::clone(&platform),
        Some(cutover::cmd::demo::demo_plan()),
        |tx| async move {
            wait(60).await;
            press(&tx, ch('a'));
            wait(10).await; // the first step is written
            faults.sim.set_offline(true);
            let writes_before = faults.writes.load(Ordering::SeqCst);
            wait(6 * 60).await;
            assert_eq!(
                faults.writes.load(Ordering::SeqCst),
                writes_before,
                "no step on missing data"
            );
            faults.sim.set_offline(false);
            wait(15 * 60).await;
            press(&tx, ch('q'));
        },
    )
    .await;
    assert_eq!(
        platform.sim.observe().await.map(|o| o.weights),
        Ok(Weights::ALL_GREEN),
        "resumed by itself"
    );
    let holds: Vec<_> = after
        .state
        .log
        .newest_first()
        .filter(|e| e.text.starts_with("plan holds before 25% green"))
        .collect();
    assert!(!holds.is_empty(), "the hold was logged with its reason");
    let unreachable = after
        .state
        .log
        .newest_first()
        .any(|e| e.text.contains("endpoint unreachable"));
    assert!(unreachable, "the outage was shown");
}

#[tokio::test(start_paused = true)]
async fn read_only_asks_for_no_write_and_says_so() {
    let platform = counted_with(Scenario::Healthy);
    let settings = Settings {
        read_only: true,
        ..Settings::default()
    };
    let plan = Some(cutover::cmd::demo::demo_plan());
    let after = session_with(Arc::clone(&platform), settings, plan, |tx| async move {
        wait(60).await;
        for key in [
            ch('l'),
            key(KeyCode::Enter),
            ch('R'),
            ch('P'),
            ch('a'),
            ch('n'),
        ] {
            press(&tx, key);
        }
        wait(5).await;
        press(&tx, ch('q'));
    })
    .await;
    assert_eq!(
        platform.writes.load(Ordering::SeqCst),
        0,
        "not a single write call"
    );
    let screen = screen(&after.terminal);
    assert!(screen.contains(" READ-ONLY "), "{screen}");
    assert!(screen.contains("not written: read-only mode"), "{screen}");
}

#[tokio::test(start_paused = true)]
async fn deploying_from_the_console_reaches_ready_to_shift() {
    let platform = counted(Scenario::Healthy);
    let after = session(Arc::clone(&platform), |tx| async move {
        wait(60).await;
        deploy(&tx, "example/shop:1.6.0");
        wait(125).await;
        press(&tx, ch('q'));
    })
    .await;
    let observation = platform.sim.observe().await.expect("observe");
    assert_eq!(observation.green.service.task_definition, "shop:9");
    assert_eq!(observation.green.service.image, "example/shop:1.6.0");
    assert_eq!(
        observation.weights,
        Weights::ALL_BLUE,
        "a deploy moves no traffic"
    );
    let screen = screen(&after.terminal);
    assert!(
        screen.contains("GREEN is ready to shift: shop:9 runs 4/4 tasks, 4 healthy targets"),
        "{screen}"
    );
    assert!(screen.contains("image example/shop:1.6.0"), "{screen}");
    assert!(
        screen.contains("deployed to GREEN: shop:8 → shop:9, 4 tasks starting"),
        "{screen}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_deploy_is_refused_while_both_sides_carry_traffic() {
    let platform = counted(Scenario::Healthy);
    platform.sim.set_weights_outside(Weights::with_green(10));
    let after = session(Arc::clone(&platform), |tx| async move {
        wait(5).await;
        press(&tx, ch('D'));
        wait(1).await;
        press(&tx, ch('q'));
    })
    .await;
    assert_eq!(platform.writes.load(Ordering::SeqCst), 0);
    assert!(screen(&after.terminal).contains("both sides carry traffic"));
}

#[tokio::test(start_paused = true)]
async fn after_a_full_cycle_the_roles_swap_and_the_next_deploy_goes_to_blue() {
    let platform = counted(Scenario::Healthy);
    let after = session_with_plan(
        Arc::clone(&platform),
        Some(cutover::cmd::demo::demo_plan()),
        |tx| async move {
            wait(60).await;
            press(&tx, ch('a'));
            wait(10 * 60).await; // the plan reaches 100%, then blue serves nothing for the bake
            wait(6 * 60).await;
            deploy(&tx, "example/shop:1.7.0");
            wait(120).await;
            press(&tx, ch('q'));
        },
    )
    .await;
    let observation = platform.sim.observe().await.expect("observe");
    assert_eq!(observation.weights, Weights::ALL_GREEN);
    assert_eq!(
        observation.blue.service.task_definition, "shop:9",
        "the new idle side got the deploy"
    );
    assert_eq!(observation.blue.service.image, "example/shop:1.7.0");
    assert_eq!(
        observation.green.service.task_definition, "shop:8",
        "the live side is untouched"
    );
    let screen = screen(&after.terminal);
    assert!(screen.contains(" BLUE  idle "), "{screen}");
    assert!(screen.contains(" GREEN  live "), "{screen}");
    assert!(
        screen.contains("BLUE is ready to shift: shop:9 runs 4/4 tasks"),
        "{screen}"
    );
}

/// A full first cycle (the demo plan to 100% green, then the bake), a deploy of `image` to
/// blue, and the plan started again: the second cycle.
async fn second_cycle(image: &'static str) -> (Arc<Counted>, Session) {
    let platform = counted(Scenario::Healthy);
    let after = session_with_plan(
        Arc::clone(&platform),
        Some(cutover::cmd::demo::demo_plan()),
        move |tx| async move {
            wait(60).await;
            press(&tx, ch('a'));
            wait(16 * 60).await; // 100% green, then the bake: the roles swap
            deploy(&tx, image);
            wait(120).await; // blue is ready to shift
            press(&tx, ch('a'));
            wait(12 * 60).await;
            press(&tx, ch('q'));
        },
    )
    .await;
    (platform, after)
}

#[tokio::test(start_paused = true)]
async fn the_second_cycle_moves_traffic_to_blue_step_by_step() {
    let (platform, after) = second_cycle("example/shop:1.7.0").await;
    let observation = platform.sim.observe().await.expect("observe");
    assert_eq!(observation.weights, Weights::ALL_BLUE);
    assert_eq!(observation.blue.service.image, "example/shop:1.7.0");
    assert_eq!(
        platform.writes.load(Ordering::SeqCst),
        9,
        "10, 25, 50, 100 to green, the deploy, then 10, 25, 50, 100 to blue"
    );
    let screen = screen(&after.terminal);
    assert!(screen.contains("plan → blue"), "{screen}");
    assert!(
        screen.contains("done: blue carries all traffic"),
        "{screen}"
    );
    assert!(screen.contains(" BLUE  live "), "{screen}");
    assert!(screen.contains(" GREEN  rollback target "), "{screen}");
    assert!(
        screen.contains("plan started: traffic moves to blue"),
        "{screen}"
    );
    assert!(
        after.state.log.newest_first().any(|e| e.text
            == "roles swap: GREEN has carried all traffic for the bake and is live; BLUE is idle \
                and takes the next deploy"),
        "the swap is in the log"
    );
}

#[tokio::test(start_paused = true)]
async fn a_bad_build_on_blue_in_the_second_cycle_is_rolled_back_to_green() {
    let (platform, after) = second_cycle("example/shop:1.7.0-bad").await;
    let observation = platform.sim.observe().await.expect("observe");
    assert_eq!(
        observation.weights,
        Weights::ALL_GREEN,
        "the rollback returns everything to green, the live side"
    );
    let screen = screen(&after.terminal);
    assert!(screen.contains("ROLLED BACK"), "{screen}");
    assert!(
        screen.contains("plan: blue is worse, rolling back"),
        "{screen}"
    );
    assert!(screen.contains("EVIDENCE · blue vs green"), "{screen}");
    assert!(screen.contains(" GREEN  live "), "{screen}");
    assert!(
        !screen.contains("ready to shift"),
        "once blue carried traffic its deploy is history: {screen}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_idle_side_is_scaled_down_and_the_live_side_adopts_after_y() {
    let platform = counted(Scenario::Healthy);
    let after = session(Arc::clone(&platform), |tx| async move {
        wait(60).await; // green, idle at 0%, is up
        // Adopt takes only a build the guard judged ok while it carried traffic: 10% for a
        // few minutes, then back to blue.
        press(&tx, ch('l'));
        press(&tx, key(KeyCode::Enter));
        wait(5 * 60).await;
        press(&tx, ch('R'));
        wait(5).await;
        press(&tx, ch('S'));
        wait(1).await; // the question read
        press(&tx, ch('y'));
        wait(5).await;
        press(&tx, ch('A'));
        wait(1).await; // the question read
        press(&tx, ch('y'));
        wait(120).await;
        press(&tx, ch('q'));
    })
    .await;
    let observation = platform.sim.observe().await.expect("observe");
    assert_eq!(
        observation.green.service.desired, 0,
        "the idle side is scaled to 0"
    );
    assert_eq!(
        observation.blue.service.task_definition, "shop:8",
        "blue adopted green's revision"
    );
    assert_eq!(observation.blue.service.image, "example/shop:1.5.0");
    assert_eq!(
        observation.blue.service.running, 4,
        "the rolling deployment finished"
    );
    assert_eq!(observation.weights, Weights::ALL_BLUE);
    let screen = screen(&after.terminal);
    assert!(
        screen.contains("scaled GREEN from 4 to 0 tasks"),
        "{screen}"
    );
    assert!(
        screen.contains("adopted: BLUE rolls from shop:7 to shop:8"),
        "{screen}"
    );
    // Blue never lost its serving targets while it rolled: no request met a load balancer
    // without a healthy target.
    let metrics = platform.sim.metrics().await.expect("metrics");
    let elb_5xx: f64 = metrics.elb_5xx.iter().map(|(_, n)| n).sum();
    assert_eq!(elb_5xx, 0.0);
}

#[tokio::test(start_paused = true)]
async fn traffic_is_never_sent_to_a_side_being_scaled_down() {
    let platform = counted(Scenario::Healthy);
    let after = session(Arc::clone(&platform), |tx| async move {
        wait(60).await; // green, idle at 0%, is up
        press(&tx, ch('S'));
        wait(1).await; // the question read
        press(&tx, ch('y'));
        // Within the second, before any read shows the new desired count.
        press(&tx, ch('l'));
        press(&tx, key(KeyCode::Enter));
        wait(1).await;
        press(&tx, ch('l'));
        press(&tx, key(KeyCode::Enter));
        wait(30).await;
        press(&tx, ch('l'));
        press(&tx, key(KeyCode::Enter));
        wait(5).await;
        press(&tx, ch('q'));
    })
    .await;
    let observation = platform.sim.observe().await.expect("observe");
    assert_eq!(observation.green.service.desired, 0);
    assert_eq!(
        observation.weights,
        Weights::ALL_BLUE,
        "no traffic went to the side being scaled down"
    );
    assert_eq!(
        platform.writes.load(Ordering::SeqCst),
        1,
        "the scale, and no weight write"
    );
    // `l` toward a side being scaled is not even staged (its flash says why: the guard's
    // reason, as the update tests check for every key).
    assert_eq!(after.state.shift.staged(), None);
}

#[tokio::test(start_paused = true)]
async fn scale_down_after_bake_scales_the_old_side_by_itself() {
    let platform = counted(Scenario::Healthy);
    let settings = Settings {
        scale_down_after_bake: true,
        ..Settings::default()
    };
    let plan = Some(cutover::cmd::demo::demo_plan());
    let watcher = Arc::clone(&platform);
    let after = session_with(Arc::clone(&platform), settings, plan, |tx| async move {
        wait(60).await;
        press(&tx, ch('a'));
        wait(9 * 60).await;
        let blue = watcher.sim.observe().await.map(|o| o.blue.service.desired);
        assert_eq!(blue, Ok(4), "not before the bake");
        wait(8 * 60).await;
        press(&tx, ch('q'));
    })
    .await;
    let observation = platform.sim.observe().await.expect("observe");
    assert_eq!(observation.weights, Weights::ALL_GREEN);
    assert_eq!(
        observation.blue.service.desired, 0,
        "blue was scaled down after the bake"
    );
    assert_eq!(observation.green.service.desired, 4, "never the live side");
    assert!(after.state.log.newest_first().any(|e| {
        e.text
            .starts_with("BLUE is idle after the bake: scaling it to 0")
    }));
}

#[tokio::test(start_paused = true)]
async fn a_terminal_that_goes_away_mid_write_still_waits_for_the_write_and_audits_it() {
    let platform = counted(Scenario::Healthy);
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("flows-tty-gone.jsonl");
    let _ = std::fs::remove_file(&path);
    let mut auditor =
        cutover::audit::Auditor::new(&path, "alice".into(), "demo".into()).expect("an audit log");
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    let mut state = AppState::new(platform.source(), Settings::default(), platform.now());
    let (tx, rx) = unbounded();
    let run = runtime::run(
        Arc::clone(&platform) as Arc<Counted>,
        &mut terminal,
        rx,
        &mut state,
        RuntimeConfig::default(),
        Some(&mut auditor),
    );
    let script = async move {
        wait(60).await;
        press(&tx, ch('l'));
        press(&tx, key(KeyCode::Enter));
        // The write is on its way (it takes the simulator 0.4 s) when the SSH session drops:
        // reading the terminal fails.
        tokio::time::sleep(Duration::from_millis(100)).await;
        tx.unbounded_send(Err(std::io::Error::from_raw_os_error(5)))
            .expect("console is listening");
    };
    let (result, ()) = tokio::join!(run, script);
    let error = result.expect_err("the run says the terminal went away");
    assert!(
        format!("{error:#}").contains("reading the terminal"),
        "{error:#}"
    );
    assert_eq!(platform.writes.load(Ordering::SeqCst), 1);
    assert_eq!(
        platform.sim.observe().await.map(|o| o.weights),
        Ok(Weights::with_green(10)),
        "the write in flight was carried through"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .expect("the audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let results: Vec<&str> = lines.iter().filter_map(|l| l["result"].as_str()).collect();
    assert_eq!(results, ["attempt", "applied"], "{lines:?}");
}
