//! `cutover fleet` and `cutover demo fleet`: every pair and native service of a fleet in one
//! list, read on one budget; `--once` prints it for scripts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::Headless;
use crate::app::fleet::{FleetRead, FleetState, Row};
use crate::cli::{DemoArgs, FleetArgs, GlobalArgs};
use crate::domain::{Failure, Weights, fixed};
use crate::platform::Platform;
use crate::platform::aws::fleet::AwsFleet;
use crate::platform::fleet::{FleetSource, SimFleet};
use crate::platform::sim::{Scenario, SimOptions, SimPlatform};
use crate::shift::EvidenceSettings;

/// How long the new live side carries everything before the other is idle (as a console).
const ROLE_BAKE: Duration = Duration::from_secs(300);

/// The demo's day from `start`: a dozen releases, each its own simulated world.
pub fn demo_fleet(speed: f64, seed: u64, start: crate::domain::Timestamp) -> SimFleet {
    let entries = [
        ("checkout", Scenario::Healthy, Some(10)),
        ("cart", Scenario::Healthy, Some(50)),
        ("search", Scenario::NativeLinear, None),
        ("payments", Scenario::BadGreen, Some(10)),
        ("profile", Scenario::Healthy, Some(0)),
        ("catalog", Scenario::SlowGreen, Some(25)),
        ("inventory", Scenario::Healthy, Some(100)),
        ("reviews", Scenario::NativeCanary, None),
        ("recommendations", Scenario::FlakyApi, Some(25)),
        ("notifications", Scenario::Healthy, Some(50)),
        ("shipping", Scenario::AlarmGreen, Some(10)),
        ("auth", Scenario::Healthy, Some(0)),
    ];
    let entries = entries
        .into_iter()
        .enumerate()
        .map(|(i, (name, scenario, green))| {
            let options = SimOptions {
                scenario,
                speed,
                seed: seed.wrapping_add(i as u64),
                start,
                // One clock for the whole day: natives wait at their first gate, pairs have
                // run their split for a few minutes.
                warm_up: Duration::from_secs(8 * 60),
            };
            let platform = match green {
                Some(green) => SimPlatform::with_split(
                    options,
                    Duration::from_secs(150 + 20 * i as u64),
                    Weights::with_green(green),
                ),
                None => SimPlatform::new(options),
            };
            // One whose data stops coming: its endpoint went away.
            if name == "notifications" {
                platform.set_offline(true);
            }
            (name.to_string(), Arc::new(platform))
        })
        .collect();
    SimFleet { entries }
}

pub async fn demo(global: &GlobalArgs, args: &DemoArgs, fleet: &FleetArgs) -> Result<(), Failure> {
    let source = Arc::new(demo_fleet(
        args.speed,
        args.seed,
        crate::platform::wall_clock(),
    ));
    let settings = super::demo::settings(global, args.speed);
    if fleet.once {
        print!("{}", once(&*source, &settings.evidence, fleet.json).await);
        return Ok(());
    }
    // Simulated time runs `speed` times faster: the polls keep pace with it.
    let every = |d: Duration| d.div_f64(args.speed.max(0.1));
    let rows: BTreeMap<String, Arc<SimPlatform>> = source.entries.iter().cloned().collect();
    let refresh = every(settings.refresh);
    let metrics_every = every(settings.metrics_refresh);
    let evidence = settings.evidence.clone();
    let open = |name: String| {
        let platform = rows.get(&name).cloned();
        let mut settings = settings.clone();
        settings.label = Some(name);
        settings.back_to_list = true;
        async move {
            let Some(platform) = platform else {
                return Ok(());
            };
            let runtime = crate::runtime::RuntimeConfig::for_settings(&settings);
            let plan = Some(super::demo::demo_plan());
            crate::terminal::run(platform, settings, runtime, plan, None, None).await?;
            Ok(())
        }
    };
    let rollback = |name: String| {
        let platform = rows.get(&name).cloned();
        let settings = settings.clone();
        let global = global.clone();
        async move {
            let Some(platform) = platform else {
                return Ok(format!("{name}: no such row"));
            };
            let observation = platform
                .observe()
                .await
                .map_err(|e| anyhow::anyhow!("reading {name}: {e}"))?;
            let headless = Headless {
                platform,
                observation,
                settings,
                plan: None,
                source: "the demo".into(),
                auditor: super::demo::demo_auditor(&global)?,
            };
            roll_back_row(headless).await
        }
    };
    live(
        source,
        evidence,
        refresh,
        MetricsClock::Every(metrics_every),
        open,
        rollback,
    )
    .await
}

/// A row's rollback, as `cutover rollback` does it: through ECS for a service that deploys
/// itself, else all traffic to the live side; never blocked by evidence or the lock.
async fn roll_back_row<P: crate::platform::Platform>(
    mut headless: Headless<P>,
) -> Result<String, Failure> {
    let outcome = match headless.observation.driver.native().cloned() {
        Some(native) => super::gate::rollback(&mut headless, &native).await?,
        None => super::rollback::rollback(&mut headless, None).await?,
    };
    Ok(outcome.message().to_string())
}

/// The fleet file the flags name, and its reader.
async fn connect(global: &GlobalArgs) -> Result<(crate::config::fleet::Fleet, AwsFleet), Failure> {
    let overrides = super::aws_overrides(global);
    let path = crate::config::locate_here(global.config.as_deref())?;
    let fleet = crate::config::fleet::load(&path, &overrides)?;
    let entries = fleet
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.estate.clone()))
        .collect();
    let source = AwsFleet::connect(entries, &fleet.aws, &fleet.source).await?;
    Ok((fleet, source))
}

/// Every row once, as a table or JSON (`fleet --once`, and `status` on a fleet file).
pub async fn rows_once(global: &GlobalArgs, json: bool) -> Result<String, Failure> {
    let (fleet, source) = connect(global).await?;
    let text = once(&source, &fleet.evidence, json).await;
    tracing::info!("API calls for the refresh: {:?}", source.call_counts());
    Ok(text)
}

pub async fn aws(global: &GlobalArgs, args: &FleetArgs) -> Result<(), Failure> {
    if args.once {
        print!("{}", rows_once(global, args.json).await?);
        return Ok(());
    }
    let (fleet, source) = connect(global).await?;
    let entries: BTreeMap<String, crate::platform::aws::estate::Estate> = fleet
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.estate.clone()))
        .collect();
    // As often as the operator asks, and as seldom as the budget needs (`next_read_in`).
    let refresh = Duration::from_secs(global.refresh);
    let settings = crate::app::Settings {
        refresh: Duration::from_secs(global.refresh),
        guard: fleet.guard,
        evidence: fleet.evidence.clone(),
        read_only: global.read_only || fleet.read_only,
        ..crate::app::Settings::default()
    };
    let global = global.clone();
    let open = |name: String| {
        let estate = entries.get(&name).cloned();
        let mut settings = settings.clone();
        settings.label = Some(name);
        settings.back_to_list = true;
        let global = global.clone();
        async move {
            let Some(estate) = estate else {
                return Ok(());
            };
            console_for(&global, estate, settings).await
        }
    };
    let rollback = |name: String| {
        let estate = entries.get(&name).cloned();
        let settings = settings.clone();
        let global = global.clone();
        async move {
            let Some(estate) = estate else {
                return Ok(format!("{name}: no such row"));
            };
            let source = estate.source.clone();
            let platform =
                crate::platform::aws::AwsPlatform::connect(estate, global.break_lock).await?;
            let observation = platform.preflight().await?;
            let auditor = super::aws::auditor(&global, &platform).await?;
            let headless = Headless {
                platform: Arc::new(platform),
                observation,
                settings,
                plan: None,
                source,
                auditor,
            };
            if headless.settings.read_only {
                roll_back_row(headless.read_only()).await
            } else {
                roll_back_row(headless).await
            }
        }
    };
    live(
        Arc::new(source),
        fleet.evidence.clone(),
        refresh,
        MetricsClock::EachMinute,
        open,
        rollback,
    )
    .await
}

/// Today's console for one row of the fleet, on its own platform (lock, audit, read-only and
/// the guard as always); back to the list when it quits.
async fn console_for(
    global: &GlobalArgs,
    estate: crate::platform::aws::estate::Estate,
    settings: crate::app::Settings,
) -> Result<(), Failure> {
    let platform = crate::platform::aws::AwsPlatform::connect(estate, global.break_lock).await?;
    platform.preflight().await?;
    let auditor = super::aws::auditor(global, &platform).await?;
    let runtime = crate::runtime::RuntimeConfig::for_settings(&settings);
    let platform = Arc::new(platform);
    if settings.read_only {
        let watched = Arc::new(crate::platform::read_only::ReadOnly(platform));
        crate::terminal::run(watched, settings, runtime, None, Some(auditor), None).await?;
    } else {
        crate::terminal::run(platform, settings, runtime, None, Some(auditor), None).await?;
    }
    Ok(())
}

/// The operations of each API budget, for the header's rates.
fn bucket(operation: &str) -> &'static str {
    match operation {
        "GetMetricData" | "DescribeAlarms" => "CloudWatch",
        "DescribeRules"
        | "DescribeListeners"
        | "DescribeTags"
        | "DescribeTargetHealth"
        | "DescribeTargetGroups"
        | "DescribeLoadBalancers"
        | "ModifyRule"
        | "ModifyListener"
        | "AddTags"
        | "RemoveTags" => "ELB",
        _ => "ECS",
    }
}

/// What the list spends of each budget from now on: a read's calls over the wait to the next
/// (an average since it started would show the first read's burst as a rate for minutes).
fn rates((elb, ecs): (u64, u64), wait: Duration) -> Vec<(String, f64)> {
    let seconds = wait.as_secs_f64().max(1.0);
    vec![
        ("ELB".to_string(), elb as f64 / seconds),
        ("ECS".to_string(), ecs as f64 / seconds),
    ]
}

/// When the list reads its metrics next: on a clock that keeps pace with the source's
/// (`every`), or, on AWS, a few seconds into each wall-clock minute, when CloudWatch has
/// published the minute before.
#[derive(Debug, Clone, Copy)]
enum MetricsClock {
    Every(Duration),
    EachMinute,
}

impl MetricsClock {
    fn next(self) -> tokio::time::Instant {
        let wait = match self {
            MetricsClock::Every(every) => every,
            MetricsClock::EachMinute => {
                let now = crate::platform::wall_clock();
                let at = now
                    .plus(Duration::from_secs(60))
                    .floor_minute()
                    .plus(METRICS_AFTER_THE_MINUTE);
                at.since(now)
            }
        };
        tokio::time::Instant::now() + wait
    }
}

/// How far into a minute the list reads the metrics: CloudWatch has the minute before by then.
const METRICS_AFTER_THE_MINUTE: Duration = Duration::from_secs(10);

/// A background read's result once it is done; never, while none runs.
async fn finished<T>(task: &mut Option<tokio::task::JoinHandle<T>>) -> Result<T, String> {
    let Some(running) = task.as_mut() else {
        return std::future::pending().await;
    };
    let done = running.await.map_err(|e| e.to_string());
    *task = None;
    done
}

/// Calls made between two counts, by budget.
fn spent(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<&'static str, u64> {
    let mut by: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (operation, count) in after {
        let earlier = before.get(operation).copied().unwrap_or(0);
        *by.entry(bucket(operation)).or_default() += count.saturating_sub(earlier);
    }
    by
}

type States = Vec<(
    String,
    Result<crate::domain::Observation, crate::domain::PlatformError>,
)>;

/// The live list. Reads run in the background, so keys never wait for AWS: the metrics on
/// `metrics_clock`, the states every `refresh` or as much longer as the budget needs, backing
/// off while AWS throttles. Enter gives the terminal to `open`'s console for the row and takes
/// it back after.
async fn live<S, F, Fut, G, Gut>(
    source: Arc<S>,
    evidence: EvidenceSettings,
    refresh: Duration,
    metrics_clock: MetricsClock,
    mut open: F,
    mut rollback: G,
) -> Result<(), Failure>
where
    S: FleetSource,
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
    G: FnMut(String) -> Gut,
    Gut: std::future::Future<Output = Result<String, Failure>>,
{
    use futures::StreamExt;
    let mut view = crate::app::fleet::FleetView {
        source: source.source().detail,
        metrics_a_read: source.metrics_a_read(),
        ..Default::default()
    };
    let mut metrics = BTreeMap::new();
    let mut guard = crate::terminal::TerminalGuard::enter()
        .map_err(|e| Failure::Failed(anyhow::anyhow!("setting up the terminal: {e}")))?;
    let mut events = crossterm::event::EventStream::new();
    let mut reading_states: Option<tokio::task::JoinHandle<States>> = None;
    let mut reading_metrics: Option<
        tokio::task::JoinHandle<
            Result<BTreeMap<String, crate::domain::MetricsSnapshot>, crate::domain::PlatformError>,
        >,
    > = None;
    // The metrics first: target health comes with them, and a state read before them would
    // show every group with no healthy target.
    let mut next_states = tokio::time::Instant::now() + Duration::from_secs(24 * 3600);
    let mut first_metrics = true;
    let mut next_metrics = tokio::time::Instant::now();
    let mut calls_before = source.calls();
    let mut throttled_in_a_row = 0u32;
    // ELB and ECS calls of the last read AWS did not throttle.
    let mut read_costs = (0u64, 0u64);
    let stop = crate::signals::termination();
    tokio::pin!(stop);
    let outcome = loop {
        // Every turn of the loop follows something that changed the list: draw it.
        view.now = source.now();
        if let Err(e) = guard
            .terminal
            .draw(|frame| crate::ui::fleet::view(&view, frame))
        {
            break Err(Failure::Failed(anyhow::anyhow!("drawing the list: {e}")));
        }
        tokio::select! {
            () = &mut stop => break Ok(()),
            () = tokio::time::sleep_until(next_metrics), if reading_metrics.is_none() => {
                let source = Arc::clone(&source);
                reading_metrics = Some(tokio::spawn(async move { source.metrics().await }));
                next_metrics = tokio::time::Instant::now() + Duration::from_secs(24 * 3600);
            }
            read = finished(&mut reading_metrics) => {
                match read {
                    Ok(Ok(read)) => {
                        metrics = read;
                        let now = source.now();
                        view.metrics_at = Some(now);
                        view.fleet.metrics_arrived(&metrics, &evidence, ROLE_BAKE, now);
                    }
                    Ok(Err(error)) => view.said = Some(format!("metrics: {error}")),
                    Err(error) => view.said = Some(format!("metrics: {error}")),
                }
                next_metrics = metrics_clock.next();
                if std::mem::take(&mut first_metrics) {
                    next_states = tokio::time::Instant::now();
                }
            }
            () = tokio::time::sleep_until(next_states), if reading_states.is_none() => {
                calls_before = source.calls();
                let source = Arc::clone(&source);
                reading_states = Some(tokio::spawn(async move { source.states().await }));
                next_states = tokio::time::Instant::now() + Duration::from_secs(24 * 3600);
            }
            read = finished(&mut reading_states) => {
                let states = read.unwrap_or_else(|error| {
                    view.said = Some(format!("reading the rows: {error}"));
                    Vec::new()
                });
                // ELB's and ECS's buckets are the account's: one throttled row slows every
                // read (an endpoint that does not answer is that row's alone).
                let throttled = states.iter().any(|(_, read)| {
                    matches!(read, Err(crate::domain::PlatformError::Throttled { .. }))
                });
                throttled_in_a_row = if throttled { throttled_in_a_row + 1 } else { 0 };
                let calls = source.calls();
                // What a read costs is measured on one AWS answered: a throttled read's
                // retries say nothing of it (and took no tokens).
                if !throttled {
                    let spent = spent(&calls_before, &calls);
                    read_costs = (
                        spent.get("ELB").copied().unwrap_or(0),
                        spent.get("ECS").copied().unwrap_or(0),
                    );
                }
                let jitter = if throttled { rand::random_range(0.8..1.2) } else { 1.0 };
                let wait = crate::app::fleet::next_read_in(
                    refresh,
                    read_costs.0,
                    read_costs.1,
                    throttled_in_a_row,
                    jitter,
                );
                next_states = tokio::time::Instant::now() + wait;
                view.backoff = throttled.then(|| {
                    format!("AWS throttled: next read in {}", crate::domain::format_age(wait))
                });
                let now = source.now();
                let reads = FleetRead::all(states, &metrics, now);
                view.fleet.refreshed(&reads, &evidence, ROLE_BAKE, now);
                view.read_at = Some(now);
                // A source that counts no calls (the simulator) spends no budget.
                view.rates = if calls.is_empty() {
                    Vec::new()
                } else {
                    rates(read_costs, wait)
                };
            }
            event = events.next() => {
                let Some(Ok(event)) = event else { break Ok(()) };
                let crossterm::event::Event::Key(key) = event else { continue };
                if key.kind != crossterm::event::KeyEventKind::Press {
                    continue;
                }
                match view.on_key(key, std::time::Instant::now()) {
                    crate::app::fleet::FleetKey::Quit => break Ok(()),
                    crate::app::fleet::FleetKey::Nothing => {}
                    crate::app::fleet::FleetKey::Rollback(name) => {
                        view.said = Some(format!("rolling back {name}…"));
                        if let Err(e) = guard
                            .terminal
                            .draw(|frame| crate::ui::fleet::view(&view, frame))
                        {
                            break Err(Failure::Failed(anyhow::anyhow!("drawing the list: {e}")));
                        }
                        // A rollback is never held up by the list: it has its own platform.
                        view.said = Some(match rollback(name.clone()).await {
                            Ok(said) => format!("{name}: {said}"),
                            Err(failure) => format!("{name}: rollback failed: {:#}", failure.error()),
                        });
                        if reading_states.is_none() {
                            next_states = tokio::time::Instant::now();
                        }
                    }
                    crate::app::fleet::FleetKey::Open(name) => {
                        // The console takes the terminal, and gives it back when it quits.
                        drop(events);
                        drop(guard);
                        let opened = open(name.clone()).await;
                        guard = crate::terminal::TerminalGuard::enter().map_err(|e| {
                            Failure::Failed(anyhow::anyhow!("setting up the terminal: {e}"))
                        })?;
                        events = crossterm::event::EventStream::new();
                        view.said = Some(match opened {
                            Ok(()) => format!("back from {name}'s console"),
                            Err(failure) => format!("{name}'s console: {:#}", failure.error()),
                        });
                        if reading_states.is_none() {
                            next_states = tokio::time::Instant::now();
                        }
                    }
                }
            }
        }
    };
    // Reads still under way have nobody left to tell.
    for task in [
        reading_states.map(|t| t.abort_handle()),
        reading_metrics.map(|t| t.abort_handle()),
    ]
    .into_iter()
    .flatten()
    {
        task.abort();
    }
    outcome
}

/// One refresh of every entry: the metrics first (target health comes with them), then the
/// states.
pub async fn read<S: FleetSource>(source: &S) -> Vec<FleetRead> {
    let metrics = source.metrics().await.unwrap_or_else(|error| {
        tracing::warn!("reading the fleet's metrics: {error}");
        BTreeMap::new()
    });
    let states = source.states().await;
    FleetRead::all(states, &metrics, source.now())
}

/// The list once, as a table or JSON.
pub async fn once<S: FleetSource>(source: &S, settings: &EvidenceSettings, json: bool) -> String {
    let reads = read(source).await;
    let mut state = FleetState::default();
    state.refreshed(&reads, settings, ROLE_BAKE, source.now());
    if json {
        let rows: Vec<serde_json::Value> = state.rows.iter().map(row_json).collect();
        return format!(
            "{}\n",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    }
    table(&state.rows)
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("–".into(), |r| format!("{}%", fixed(r * 100.0, 2)))
}

/// A row for people: a mark when it needs the eye, and every column as wide as its widest.
pub fn table(rows: &[Row]) -> String {
    let header = [
        "",
        "name",
        "driver",
        "phase",
        "blue/green",
        "observed",
        "5xx cand/live",
        "p99 ratio",
        "healthy",
        "lock",
        "age",
        "needs",
    ];
    let mut lines = vec![header.map(String::from).to_vec()];
    for row in rows {
        lines.push(vec![
            if row.attention.is_some() { "!" } else { " " }.to_string(),
            row.name.clone(),
            row.driver.clone(),
            row.phase.clone(),
            row.weights.map_or("?".into(), |w| w.to_string()),
            row.observed.map_or("–".into(), |o| {
                format!("{}% {}", fixed(o, 1), row.candidate.name())
            }),
            format!("{} / {}", percent(row.candidate_5xx), percent(row.live_5xx)),
            row.latency_ratio
                .map_or("–".into(), |r| format!("{}×", fixed(r, 2))),
            row.healthy.map_or("?".into(), |(b, g)| format!("{b}/{g}")),
            row.lock.clone().unwrap_or_else(|| "–".into()),
            crate::domain::format_age(row.age),
            row.attention
                .as_ref()
                .map_or(String::new(), |(a, why)| format!("{a}: {why}")),
        ]);
    }
    super::status::aligned(&lines, &[])
}

fn row_json(row: &Row) -> serde_json::Value {
    serde_json::json!({
        "name": row.name,
        "needs": row.attention.as_ref().map(|(a, _)| a.to_string()),
        "why": row.attention.as_ref().map(|(_, why)| why.clone()),
        "driver": row.driver,
        "phase": row.phase,
        "weights": row.weights.map(|w| serde_json::json!({
            "blue": w.percent_json(crate::domain::Color::Blue),
            "green": w.percent_json(crate::domain::Color::Green),
        })),
        "candidate": row.candidate.name(),
        "observed_percent": row.observed,
        "verdict": row.verdict.map(|v| v.to_string()),
        "candidate_5xx_rate": row.candidate_5xx,
        "live_5xx_rate": row.live_5xx,
        "p99_ratio": row.latency_ratio,
        "healthy": row.healthy.map(|(b, g)| serde_json::json!({"blue": b, "green": g})),
        "lock": row.lock,
        "age_seconds": row.age.as_secs(),
    })
}
