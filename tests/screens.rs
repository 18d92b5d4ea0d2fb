//! Whole screens in the key states, at a wide and a narrow size, as insta snapshots; where a
//! colour carries meaning, the style is asserted too.

mod support;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color as Tint;

use cutover::app::AppState;
use cutover::domain::Weights;
use cutover::platform::sim::Scenario;
use cutover::ui;
use support::{Console, ch, key};

const SIZES: [(u16, u16); 2] = [(160, 48), (90, 40)];

fn draw(state: &AppState, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal
        .draw(|frame| {
            ui::view(state, frame);
        })
        .expect("draw");
    terminal
}

fn text(buffer: &Buffer) -> String {
    support::buffer_text(buffer)
}

/// Snapshots the screen at both sizes and returns the wide one's buffer.
fn snapshot(name: &str, state: &AppState) -> Buffer {
    let mut wide = None;
    for (w, h) in SIZES {
        let terminal = draw(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(terminal.backend().buffer()));
        wide.get_or_insert_with(|| terminal.backend().buffer().clone());
    }
    wide.expect("two sizes drawn")
}

fn find(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let area = buffer.area;
    for y in 0..area.height {
        let row: Vec<&str> = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
        let line = row.concat();
        if let Some(byte) = line.find(needle) {
            let column = line[..byte].chars().count() as u16;
            return Some((column, y));
        }
    }
    None
}

fn green_at(console: &mut Console, green: u8) {
    console.world.set_weights(Weights::with_green(green));
    console.observe();
}

#[test]
fn evidence_between_the_panels() {
    let console = Console::carrying(10);
    let buffer = snapshot("evidence_ok", &console.state);
    let (x, y) = find(&buffer, " OK ").expect("the verdict");
    assert_eq!(buffer[(x, y)].bg, Tint::Green);
    assert!(
        find(&buffer, "green no worse than blue on every check").is_some_and(|(_, row)| row == y),
        "the verdict's summary beside it"
    );
}

#[test]
fn a_slow_green_is_caught_by_the_latency_row_and_its_latency_turns_red() {
    let console = Console::carrying_in(Scenario::SlowGreen, 10);
    let buffer = snapshot("evidence_slow_green", &console.state);
    let (x, y) = find(&buffer, " WORSE ").expect("the verdict");
    assert_eq!(buffer[(x, y)].bg, Tint::Red);
    assert!(
        find(&buffer, "latency: green p99 3.2× blue's").is_some_and(|(_, row)| row == y),
        "the verdict line names the row that decided it"
    );
    let (x, y) = find(&buffer, " latency    worse").expect("the latency row");
    assert_eq!(buffer[(x + 12, y)].fg, Tint::Red);
    // Worse while green carries traffic: the red line says so, with the key that answers it.
    let (x, y) = find(
        &buffer,
        "GREEN is WORSE at 10% since 07:11:00 — R rolls back — latency: green p99",
    )
    .expect("banner");
    assert_eq!(buffer[(x, y)].bg, Tint::Red);
    for label in [" 5xx ", " lb errors ", " health ", " alarms "] {
        assert!(find(&buffer, label).is_some(), "a {label} row");
    }
    // In green's panel the latency is red too; blue's stays plain.
    let (x, y) = find(&buffer, "latency avg 2").expect("green's latency");
    assert_eq!(buffer[(x + 12, y)].fg, Tint::Red, "green's latency in red");
}

#[test]
fn a_side_carrying_traffic_with_no_healthy_target_raises_a_red_banner() {
    let mut console = Console::carrying(10);
    let mut observation = console.world.observation();
    observation.green.targets.healthy = 0;
    observation.green.targets.unhealthy = 4;
    console.observe_with(observation);
    let buffer = snapshot("banner_no_healthy_target", &console.state);
    let (x, y) = find(
        &buffer,
        "GREEN carries 10% with no healthy target — R rolls back",
    )
    .expect("the banner");
    assert_eq!(buffer[(x, y)].bg, Tint::Red);
    assert_eq!(buffer[(0, y)].bg, Tint::Red, "across the screen");
    assert!(find(&buffer, "health: green carries 10% with no healthy target").is_some());
}

#[test]
fn at_80x33_the_verdict_and_the_worst_row_stay_visible() {
    let console = Console::carrying_in(Scenario::SlowGreen, 10);
    let terminal = draw(&console.state, 80, 33);
    let buffer = terminal.backend().buffer();
    insta::assert_snapshot!("evidence_slow_green_80x33", text(buffer));
    // The verdict badge, then the row that decided it, on one line of the evidence box.
    assert!(find(buffer, "│ WORSE  latency: green p99 3.2× blue's, over 1.5×").is_some());
    assert!(
        find(
            buffer,
            "GREEN is WORSE at 10% since 07:11:00 — R rolls back"
        )
        .is_some()
    );
}

#[test]
fn the_header_names_the_label_and_where_writes_land_even_when_short() {
    let mut console = Console::new();
    console.state.settings.label = Some("PROD".into());
    let terminal = draw(&console.state, 80, 33);
    let buffer = terminal.backend().buffer();
    insta::assert_snapshot!("header_label_80x33", text(buffer));
    let (x, y) = find(buffer, " PROD ").expect("the label");
    assert_eq!((y, buffer[(x + 1, y)].bg), (0, Tint::Yellow));
    assert!(
        find(buffer, "simulated").is_some_and(|(_, row)| row == 0),
        "where writes land, in the short header"
    );
}

#[test]
fn start() {
    let console = Console::new();
    let buffer = snapshot("start", &console.state);
    let (x, y) = find(&buffer, " BLUE ").expect("blue title");
    assert_eq!(buffer[(x + 1, y)].bg, Tint::Blue, "blue's title is blue");
    let (x, y) = find(&buffer, " GREEN ").expect("green title");
    assert_eq!(buffer[(x + 1, y)].bg, Tint::Green, "green's title is green");
    assert!(
        find(&buffer, "BLUE 100%").is_some(),
        "the split is written as text"
    );
}

#[test]
fn staged() {
    let mut console = Console::new();
    console.press(ch('l'));
    // Without evidence the guard allows the first step only: a second is not staged, and
    // the status line says why.
    console.press(ch('l'));
    let buffer = snapshot("staged", &console.state);
    assert!(find(&buffer, "▲ staged green 10%").is_some());
    assert!(find(&buffer, "80/20 would be refused: not enough evidence yet").is_some());
}

#[test]
fn applying() {
    let mut console = Console::new();
    console.press(ch('l'));
    console.press(key(KeyCode::Enter));
    let buffer = snapshot("applying", &console.state);
    assert!(find(&buffer, "applying 100/0 → 90/10").is_some());
    // While a write runs the bar offers only what a key would do: rollback (it queues), not
    // promote or apply.
    assert!(
        find(&buffer, "P promote").is_none(),
        "promote would be refused now"
    );
    assert!(find(&buffer, "Enter apply").is_none());
    let (x, y) = find(&buffer, "R rollback").expect("rollback hint");
    assert_eq!(buffer[(x, y)].fg, Tint::Yellow);
}

#[test]
fn after_rollback() {
    let mut console = Console::with_scenario(Scenario::BadGreen, 12);
    green_at(&mut console, 40);
    console
        .world
        .advance_to(console.now().plus(std::time::Duration::from_secs(300)));
    console.fetch_metrics();
    console.observe();
    console.press(ch('R'));
    console.finish_write(Weights::ALL_BLUE);
    let buffer = snapshot("after_rollback", &console.state);
    assert!(find(&buffer, "BLUE 100%").is_some());
    assert!(find(&buffer, "rollback: read back 100/0").is_some());
    // Bad green's error rate is shown in red.
    let red = (0..buffer.area.height).any(|y| {
        (0..buffer.area.width)
            .any(|x| buffer[(x, y)].symbol() == "%" && buffer[(x, y)].fg == Tint::Red)
    });
    assert!(red, "a rate of several percent is red");
}

#[test]
fn help_overlay() {
    let mut console = Console::new();
    console.press(ch('?'));
    let buffer = snapshot("help", &console.state);
    for (binding, availability) in
        cutover::app::bindings(&console.state, console.state.evidence().as_ref())
    {
        let description = binding.description_text(&console.state.settings);
        let shown = if availability.is_available() {
            description
        } else {
            format!("{description} (not now)")
        };
        assert!(
            find(&buffer, &shown).is_some(),
            "help lists {}",
            binding.label
        );
    }
    assert!(
        find(&buffer, "stage 10 points more to green").is_some(),
        "the step from the settings"
    );
}

#[test]
fn prompt_with_an_error() {
    let mut console = Console::new();
    console.press(ch('%'));
    console.type_text("150");
    let buffer = snapshot("prompt_error", &console.state);
    let (x, y) = find(&buffer, "✗ 150 is out of range").expect("inline error");
    assert_eq!(buffer[(x, y)].fg, Tint::Red);
}

#[test]
fn terminal_too_small() {
    let console = Console::new();
    let terminal = draw(&console.state, 70, 20);
    let screen = text(terminal.backend().buffer());
    insta::assert_snapshot!("too_small_70x20", screen);
    assert!(screen.contains("terminal 70×20: the console needs 80×24"));
    // Below the minimum the split and the verdict still show, and the keys that work.
    assert!(screen.contains("blue 100% · green 0%"), "{screen}");
    assert!(screen.contains("green INSUFFICIENT: "), "{screen}");
    assert!(screen.contains("q quits"), "{screen}");
    assert!(
        !screen.contains("R rolls back"),
        "nothing to roll back: {screen}"
    );
    let console = Console::carrying_in(Scenario::SlowGreen, 10);
    let screen = text(draw(&console.state, 60, 20).backend().buffer());
    insta::assert_snapshot!("too_small_worse_60x20", screen);
    for needed in [
        "GREEN is WORSE at 10% since",
        "blue 90% · green 10%",
        "green WORSE: latency",
        "R rolls back · q quits",
    ] {
        assert!(screen.contains(needed), "lacks {needed:?}:\n{screen}");
    }
}

#[test]
fn before_the_first_read() {
    let state = AppState::new(support::demo_source(), Default::default(), support::START);
    let terminal = draw(&state, 160, 48);
    let screen = text(terminal.backend().buffer());
    assert!(screen.contains("reading ECS and the load balancer…"));
    assert!(screen.contains("reading the listener's forward action…"));
}

#[test]
fn watch_only() {
    let mut console = Console::new();
    let mut observation = console.world.observation();
    observation.writes_refused =
        Some("CodeDeploy owns the traffic (service shop-green uses the CODE_DEPLOY deployment controller)".into());
    console.observe_with(observation);
    let buffer = snapshot("watch_only", &console.state);
    let (x, y) = find(&buffer, " WATCH ONLY ").expect("a loud badge");
    assert_eq!(buffer[(x, y)].bg, Tint::Red);
    assert!(find(&buffer, "watch only: CodeDeploy owns the traffic").is_some());
    assert!(
        find(&buffer, "R rollback").is_none() && find(&buffer, "P promote").is_none(),
        "write keys are not offered"
    );
    assert!(find(&buffer, "? help").is_some());
}

/// `D` on a console whose green is up and idle: the prompt, prefilled with green's image.
fn deploy_prompt() -> Console {
    let mut console = Console::with_scenario(Scenario::Healthy, 4);
    console.press(ch('D'));
    console
}

/// The deploy typed in the prompt, done by the world, and reported back to the console.
fn deployed(mut console: Console, image: &str) -> Console {
    console.deploy_typed(image);
    console.observe();
    console
}

#[test]
fn deploy_prompt_prefilled_with_the_idle_sides_image() {
    let console = deploy_prompt();
    let buffer = snapshot("deploy_prompt", &console.state);
    assert!(find(&buffer, "Image to deploy to GREEN (it carries no traffic):").is_some());
    assert!(find(&buffer, "> example/shop:1.5.0").is_some());
}

#[test]
fn deploy_in_progress_then_ready_to_shift() {
    let mut console = deployed(deploy_prompt(), "example/shop:1.6.0");
    console
        .world
        .advance_to(console.now().plus(std::time::Duration::from_secs(15)));
    console.observe();
    let buffer = snapshot("deploying", &console.state);
    assert!(
        find(&buffer, "deploying example/shop:1.6.0 to GREEN").is_some(),
        "{}",
        text(&buffer)
    );

    console
        .world
        .advance_to(console.now().plus(std::time::Duration::from_secs(150)));
    console.observe();
    let buffer = snapshot("ready_to_shift", &console.state);
    let (x, y) = find(&buffer, "GREEN is ready to shift").expect("ready");
    assert_eq!(buffer[(x, y)].fg, Tint::Green);
}

#[test]
fn roles_swapped_after_a_full_cycle() {
    let console = Console::swapped();
    let buffer = snapshot("roles_swapped", &console.state);
    assert!(find(&buffer, " BLUE  idle ").is_some());
    assert!(find(&buffer, " GREEN  live ").is_some());
    assert!(find(&buffer, "EVIDENCE · blue vs green").is_some());
    // In the second cycle `h` moves traffic to blue, and the marker says so by blue's share.
    let mut console = console;
    console.press(ch('h'));
    let screen = text(draw(&console.state, 160, 48).backend().buffer());
    assert!(screen.contains("▲ staged blue 10%"), "{screen}");
    assert!(!screen.contains("% green"), "{screen}");
}

#[test]
fn the_plan_line_over_a_worse_candidate_says_a_would_not_start_it() {
    let mut console = Console::carrying_in(Scenario::SlowGreen, 10);
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    let screen = text(draw(&console.state, 160, 48).backend().buffer());
    assert!(
        screen.contains("not ready: green is WORSE (latency"),
        "{screen}"
    );
    let bar = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(!bar.contains("a plan"), "{bar}");
}

#[test]
fn the_adopt_question_about_an_older_build_names_the_live_side_not_a_direction() {
    let mut console = Console::swapped();
    console.state.popup = Some(cutover::app::Popup::Confirm(
        cutover::app::Confirm::Revision {
            toward: cutover::domain::Color::Blue,
            warning:
                "example/shop:1.4.2 (shop:7) is older than the live example/shop:1.5.0 (shop:8)"
                    .into(),
            then: cutover::app::Action::Adopt,
        },
    ));
    let screen = text(draw(&console.state, 160, 48).backend().buffer());
    assert!(
        screen.contains("Put it on green, the live side,"),
        "{screen}"
    );
    assert!(!screen.contains("toward"), "{screen}");
}

#[test]
fn a_deploy_error_too_long_for_its_lines_ends_in_an_ellipsis() {
    let mut console = Console::with_scenario(Scenario::Healthy, 4);
    console.press(ch('D'));
    for _ in 0..40 {
        console.press(key(KeyCode::Backspace));
    }
    console.type_text(&format!("example/{};:1.0", "x".repeat(120)));
    console.press(key(KeyCode::Enter));
    let screen = text(draw(&console.state, 80, 24).backend().buffer());
    assert!(screen.contains("✗ "), "{screen}");
    let error_lines: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("✗ "))
        .take(2)
        .collect();
    assert!(error_lines.iter().any(|l| l.contains('…')), "{screen}");
}

const SMALL_TO_LARGE: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];

/// Snapshots at 80×24, 120×40 and 200×60; returns each size's text.
fn snapshot_sizes(name: &str, state: &AppState) -> Vec<((u16, u16), String)> {
    SMALL_TO_LARGE
        .into_iter()
        .map(|(w, h)| {
            let terminal = draw(state, w, h);
            let screen = text(terminal.backend().buffer());
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
            ((w, h), screen)
        })
        .collect()
}

#[test]
fn from_80x24_the_roles_the_split_the_verdict_the_banner_and_the_keys_show() {
    let console = Console::carrying_in(Scenario::SlowGreen, 10);
    for ((w, h), screen) in snapshot_sizes("compact_worse", &console.state) {
        for needed in [
            "GREEN is WORSE at 10% since 07:11:00 — R rolls back",
            " BLUE ",
            " GREEN ",
            "WORSE  latency: green p99",
            "R rollback",
            "quit",
            "90%",
        ] {
            assert!(
                screen.contains(needed),
                "{w}×{h} lacks {needed:?}:\n{screen}"
            );
        }
        assert!(!screen.contains("the console needs"), "{w}×{h}");
        // Panels and sparklines come back as the terminal grows.
        assert_eq!(screen.contains("5xx/min"), h >= 40, "{w}×{h}:\n{screen}");
    }
}

#[test]
fn the_older_revision_question_names_both_builds_at_every_size() {
    let mut console = Console::swapped();
    // A first step toward blue (promote waits for evidence the guard can judge by).
    console.press(ch('h'));
    console.press(support::key(crossterm::event::KeyCode::Enter));
    assert!(console.state.popup.is_some(), "the question is open");
    for ((w, h), screen) in snapshot_sizes("older_revision", &console.state) {
        // The question wraps; its words are all there.
        let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        for needed in [
            "example/shop:1.4.2",
            "shop:7",
            "is older than the live",
            "y yes",
        ] {
            assert!(
                flat.contains(needed) || screen.contains(needed),
                "{w}×{h} lacks {needed:?}:\n{screen}"
            );
        }
    }
}

#[test]
fn the_header_marks_metrics_the_evidence_calls_stale() {
    let mut console = Console::new();
    assert!(!support::drawn(&console.state, 160, 48).contains("STALE"));
    // Five minutes on with no metrics read: the evidence is stale, and so says the header.
    for _ in 0..300 {
        let later = console.now().plus(std::time::Duration::from_secs(1));
        console.world.advance_to(later);
        let now = console.now();
        cutover::app::update(&mut console.state, cutover::app::Msg::Tick { now });
    }
    let screen = support::drawn(&console.state, 160, 48);
    let header = screen.lines().next().unwrap_or_default();
    assert!(header.contains("STALE"), "{header}");
}

#[test]
fn the_help_at_80x24_is_cut_with_marks_and_scrolls() {
    let mut console = Console::new();
    console.press(ch('?'));
    let screen = text(draw(&console.state, 80, 24).backend().buffer());
    insta::assert_snapshot!("help_cut_80x24", screen);
    assert!(screen.contains("↓ "), "how much is below: {screen}");
    assert!(screen.contains("↑/↓ scroll"), "{screen}");
    assert!(
        screen.contains('…'),
        "a line cut at the edge is marked: {screen}"
    );
    for _ in 0..40 {
        console.press(key(crossterm::event::KeyCode::Down));
    }
    let screen = text(draw(&console.state, 80, 24).backend().buffer());
    insta::assert_snapshot!("help_scrolled_80x24", screen);
    assert!(
        screen.contains("Ctrl-Z suspends"),
        "the last line reached: {screen}"
    );
    assert!(screen.contains("↑ "), "how much is above: {screen}");
    // At 160×48 the help fits: no scrolling is offered, on its frame or in the bar.
    let screen = text(draw(&console.state, 160, 48).backend().buffer());
    assert!(!screen.contains("more · ↑/↓ scroll"), "{screen}");
    let bar = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(
        bar.contains("Esc close") && !bar.contains("scroll"),
        "{bar}"
    );
}

#[test]
fn a_short_evidence_box_says_how_many_rows_it_left_out() {
    let console = Console::carrying_in(Scenario::SlowGreen, 10);
    let screen = text(draw(&console.state, 100, 30).backend().buffer());
    insta::assert_snapshot!("evidence_cut_100x30", screen);
    assert!(
        screen.contains("rows not shown") || screen.contains("row not shown"),
        "{screen}"
    );
    assert!(
        screen.contains("latency    worse"),
        "the worst row stays: {screen}"
    );
}

#[test]
fn traffic_moved_outside_cutover_is_a_banner_until_the_evidence_judges_it() {
    let mut console = Console::with_scenario(Scenario::Healthy, 4);
    console.world.set_weights(Weights::with_green(50));
    console.observe();
    let screen = text(draw(&console.state, 160, 48).backend().buffer());
    insta::assert_snapshot!("outside_change_160x48", screen);
    assert!(
        screen.contains("TRAFFIC MOVED outside cutover at ")
            && screen.contains("100/0 → 50/50 (blue/green) — green carries 50%, not yet judged by the evidence — R rolls back"),
        "{screen}"
    );
    // The evidence catches up: the banner goes.
    let later = console.now().plus(std::time::Duration::from_secs(4 * 60));
    console.world.advance_to(later);
    console.observe();
    console.fetch_metrics();
    let screen = text(draw(&console.state, 160, 48).backend().buffer());
    assert!(!screen.contains("TRAFFIC MOVED"), "{screen}");
}

#[test]
fn another_operators_lock_read_by_a_poll_is_in_the_header_and_the_log() {
    let mut console = Console::with_scenario(Scenario::Healthy, 4);
    let mut observation = console.world.observation();
    observation.lock_holder = Some("alice@laptop pid 4242 until 07:09:00 UTC".into());
    console.observe_with(observation);
    let screen = text(draw(&console.state, 160, 48).backend().buffer());
    insta::assert_snapshot!("locked_160x48", screen);
    assert!(
        screen.contains(" LOCKED by alice@laptop pid 4242 "),
        "{screen}"
    );
    assert!(
        screen.contains("alice@laptop pid 4242 until 07:09:00 UTC holds the lock"),
        "{screen}"
    );
    // Given up: the header says so at the next poll.
    let observation = console.world.observation();
    console.observe_with(observation);
    let screen = text(draw(&console.state, 160, 48).backend().buffer());
    assert!(!screen.contains(" LOCKED by"), "{screen}");
    assert!(screen.contains("the lock is free again"), "{screen}");
}

#[test]
fn the_plan_line_names_what_its_first_step_waits_for() {
    // Green deployed, no task healthy yet: `a` would start a plan that waits.
    let mut console = Console::with_scenario(Scenario::Healthy, 0);
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    let screen = text(draw(&console.state, 160, 48).backend().buffer());
    assert!(
        screen.contains("ready: a starts it; its step to 10% waits: green"),
        "{screen}"
    );
    assert!(
        !screen.contains("→/l green +10"),
        "staging is refused too: {screen}"
    );
    let mut console = Console::with_scenario(Scenario::Healthy, 4);
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    let screen = text(draw(&console.state, 160, 48).backend().buffer());
    assert!(screen.contains("ready: a starts it"), "{screen}");
    assert!(!screen.contains("waits:"), "{screen}");
}

#[test]
fn an_ecs_native_gate_shows_its_stage_weights_countdown_and_keys() {
    let mut console = Console::with_scenario(Scenario::NativeLinear, 0);
    console.until_a_gate();
    console.later(60);
    let buffer = snapshot("native_gate", &console.state);
    let (x, y) = find(&buffer, "[GATE]").expect("the stage strip marks the gate");
    assert_eq!(
        buffer[(x + 1, y)].fg,
        Tint::Yellow,
        "the current stage stands out"
    );
    assert!(find(&buffer, "GATE hook-1 waits for you").is_some());
    assert!(find(&buffer, "ECS rolls back").is_some());
    assert!(find(&buffer, "c continue").is_some(), "the bar offers c");
    assert!(find(&buffer, "→/l").is_none(), "no weight key is offered");
    // The question says what ECS does next.
    console.press(ch('c'));
    let buffer = snapshot("native_continue_question", &console.state);
    assert!(find(&buffer, "ECS shifts green from 0% to 20%").is_some());
}

#[test]
fn a_gate_that_continues_by_itself_at_its_timeout_is_said_in_red() {
    let mut console = Console::with_scenario(Scenario::NativeLinear, 0);
    console.until_a_gate();
    let mut observation = console.world.observation();
    if let cutover::domain::Driver::EcsNative(native) = &mut observation.driver
        && let Some(gate) = native.deployment.as_mut().and_then(|d| d.gate.as_mut())
    {
        gate.on_timeout = Some(cutover::domain::GateAction::Continue);
    }
    console.observe_with(observation);
    let terminal = draw(&console.state, 160, 48);
    let buffer = terminal.backend().buffer();
    let (x, y) = find(buffer, "ECS CONTINUES by itself").expect("the timeout action");
    assert_eq!(buffer[(x, y)].fg, Tint::Red);
}

/// The demo's day in the fleet list: gates first, then the worse candidates, the unreadable
/// row, the quiet ones; marks coloured by what they mean.
#[tokio::test(start_paused = true)]
async fn the_fleet_list_puts_what_needs_the_eye_first() {
    use cutover::app::fleet::FleetView;
    use cutover::platform::fleet::FleetSource;
    let source = cutover::cmd::fleet::demo_fleet(1.0, 1, support::START);
    let reads = cutover::cmd::fleet::read(&source).await;
    let mut view = FleetView {
        source: source.source().detail,
        now: source.now(),
        read_at: Some(source.now()),
        metrics_at: Some(source.now()),
        rates: vec![("ELB".into(), 0.4), ("ECS".into(), 0.6)],
        metrics_a_read: Some(405),
        ..FleetView::default()
    };
    view.fleet.refreshed(
        &reads,
        &cutover::shift::EvidenceSettings::default(),
        std::time::Duration::from_secs(300),
        source.now(),
    );
    for (w, h) in [(160, 20), (100, 20), (200, 24)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        terminal
            .draw(|frame| ui::fleet::view(&view, frame))
            .expect("draw");
        insta::assert_snapshot!(format!("fleet_{w}x{h}"), text(terminal.backend().buffer()));
    }
    let mut terminal = Terminal::new(TestBackend::new(160, 20)).expect("test backend");
    terminal
        .draw(|frame| ui::fleet::view(&view, frame))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    let (x, y) = find(buffer, "▲ payments").expect("a worse row");
    assert_eq!(buffer[(x, y)].fg, Tint::Red);
    let (_, gate) = find(buffer, "◆").expect("a gate row");
    assert!(gate < y, "the gate waits above the worse rows");
    assert!(
        find(buffer, "ELB 0.4/s of 10/s").is_some(),
        "the budget in the header"
    );
}
