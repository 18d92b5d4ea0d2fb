//! From the metrics update that shows green worse to the rollback write leaving the core
//! (target: well under 1 s; the core decides within the same `update` call).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

use cutover::app::{AppState, Command, Msg, Settings, update};
use cutover::domain::{Color, Timestamp, Weights};
use cutover::platform::SourceInfo;
use cutover::platform::sim::{Scenario, World};
use cutover::shift::WriteKind;

/// A console running the demo plan at 10% green while bad green's errors pile up, and the
/// metrics update that shows it.
fn running_plan_and_bad_news() -> (AppState, Msg) {
    let start = Timestamp(1_795_763_100_000);
    let mut world = World::new(Scenario::BadGreen, 1, start);
    world.advance_to(start.plus(Duration::from_secs(120)));
    let source = SourceInfo {
        kind: cutover::domain::SourceKind::Demo,
        detail: "bench".into(),
        place: "simulated".into(),
    };
    let mut state = AppState::new(source, Settings::default(), start)
        .with_plan(Some(cutover::cmd::demo::demo_plan()));
    let now = world.now();
    update(
        &mut state,
        Msg::Observed {
            now,
            started: now,
            result: Ok(world.observation()),
        },
    );
    update(
        &mut state,
        Msg::MetricsFetched {
            now,
            result: Ok(world.metrics()),
        },
    );
    if let Some(plan) = state.plan.as_mut() {
        plan.start(now, Color::Green, Weights::ALL_BLUE);
    }
    let commands = update(&mut state, Msg::Tick { now });
    assert!(
        matches!(commands.as_slice(), [Command::Write(_)]),
        "the first step: {commands:?}"
    );
    world.set_weights(Weights::with_green(10));
    update(
        &mut state,
        Msg::WriteFinished {
            now,
            result: Ok(Weights::with_green(10)),
        },
    );
    world.advance_to(now.plus(Duration::from_secs(240)));
    let later = world.now();
    update(
        &mut state,
        Msg::Observed {
            now: later,
            started: later,
            result: Ok(world.observation()),
        },
    );
    (
        state,
        Msg::MetricsFetched {
            now: later,
            result: Ok(world.metrics()),
        },
    )
}

fn breach_to_rollback(c: &mut Criterion) {
    let (mut state, msg) = running_plan_and_bad_news();
    let commands = update(&mut state, msg);
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Command::Write(w) if w.kind == WriteKind::Rollback)),
        "the metrics update rolls back: {commands:?}"
    );
    c.bench_function("metrics update showing worse → rollback write", |b| {
        b.iter_batched(
            running_plan_and_bad_news,
            |(mut state, msg)| black_box(update(&mut state, msg)),
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, breach_to_rollback);
criterion_main!(benches);
