//! Full-frame render time with a populated state (target: ≤ 0.3 ms at 200×60).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use cutover::app::{AppState, Msg, Settings, update};
use cutover::domain::{LogLevel, LogSource, Timestamp, Weights};
use cutover::platform::SourceInfo;
use cutover::platform::sim::{Scenario, World};
use cutover::ui;

fn populated_state() -> AppState {
    let start = Timestamp(1_795_763_100_000);
    let mut world = World::new(Scenario::BadGreen, 1, start);
    world.advance_to(start.plus(Duration::from_secs(120)));
    world.set_weights(Weights::with_green(30));
    world.advance_to(start.plus(Duration::from_secs(1800)));
    let now = world.now();
    let source = SourceInfo {
        kind: cutover::domain::SourceKind::Demo,
        detail: "scenario bad-green · speed 1×".into(),
        place: "simulated".into(),
    };
    let mut state = AppState::new(source, Settings::default(), start);
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
    for i in 0..500u64 {
        state.log.push(
            Timestamp(now.0 - i * 1000),
            LogLevel::Info,
            LogSource::System,
            format!("entry {i}: (service shop-green) registered 1 targets in (target-group shop-green-tg)"),
        );
    }
    state.shift.nudge(20);
    state
}

fn render(c: &mut Criterion) {
    let state = populated_state();
    for (w, h) in [(200u16, 60u16), (90, 40)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        // ratatui's own cost per frame (clear, diff, swap), for comparison.
        c.bench_function(&format!("empty frame {w}x{h}"), |b| {
            b.iter(|| {
                terminal.draw(|_| {}).expect("draw");
            })
        });
        c.bench_function(&format!("full frame {w}x{h}"), |b| {
            b.iter(|| {
                terminal
                    .draw(|frame| {
                        ui::view(black_box(&state), frame);
                    })
                    .expect("draw");
            })
        });
    }
}

/// The fleet list with fifty rows, each judged from its own simulated world.
fn fleet_view() -> cutover::app::fleet::FleetView {
    use cutover::app::fleet::{FleetRead, FleetView};
    let start = Timestamp(1_795_763_100_000);
    let scenarios = [
        Scenario::Healthy,
        Scenario::BadGreen,
        Scenario::NativeLinear,
        Scenario::SlowGreen,
    ];
    let reads: Vec<FleetRead> = (0..50u64)
        .map(|i| {
            let mut world = World::new(scenarios[(i % 4) as usize], i, start);
            world.advance_to(start.plus(Duration::from_secs(120)));
            if i % 4 != 2 {
                world.set_weights(Weights::with_green((i % 5) as u8 * 20));
            }
            world.advance_to(start.plus(Duration::from_secs(480)));
            FleetRead {
                name: format!("release-{i:02}"),
                observation: Ok(world.observation()),
                metrics: Some(world.metrics()),
                read_at: world.now(),
            }
        })
        .collect();
    let now = start.plus(Duration::from_secs(480));
    let mut view = FleetView {
        source: "fleet of 50".into(),
        now,
        read_at: Some(now),
        metrics_at: Some(now),
        rates: vec![("ELB".into(), 0.5), ("ECS".into(), 0.7)],
        ..FleetView::default()
    };
    view.fleet.refreshed(
        &reads,
        &cutover::shift::EvidenceSettings::default(),
        Duration::from_secs(300),
        now,
    );
    view
}

fn fleet(c: &mut Criterion) {
    let view = fleet_view();
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test backend");
    c.bench_function("fleet list of 50 rows 200x60", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| ui::fleet::view(black_box(&view), frame))
                .expect("draw");
        })
    });
}

criterion_group!(benches, render, fleet);
criterion_main!(benches);
