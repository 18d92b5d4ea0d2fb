//! The console's behaviour through `update`: keys and platform results in, commands out.

mod support;

use crossterm::event::KeyCode;
use proptest::prelude::*;

use cutover::app::{Command, Confirm, Msg, Popup, update};
use cutover::domain::{Color, PercentError, Weights, parse_percent};
use cutover::platform::PlatformError;
use cutover::shift::WriteKind;
use support::{Console, ch, key};

fn writes(commands: &[Command]) -> Vec<(WriteKind, Weights, Weights)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Write(w) => Some((w.kind, w.expected, w.target)),
            _ => None,
        })
        .collect()
}

fn w(green: u8) -> Weights {
    Weights::with_green(green)
}

#[test]
fn stage_then_apply_writes_once_from_the_weights_seen() {
    let mut console = Console::new();
    assert!(console.press(ch('l')).is_empty(), "staging writes nothing");
    let commands = console.press(key(KeyCode::Enter));
    assert_eq!(writes(&commands), [(WriteKind::Apply, w(0), w(10))]);
    let after = console.finish_write(w(10));
    assert!(
        after.contains(&Command::RefreshState),
        "the screen re-reads after a write"
    );
    assert_eq!(console.state.shift.current(), Some(w(10)));
}

#[test]
fn a_jump_over_the_max_step_asks_first_and_no_means_nothing_written() {
    let mut console = Console::carrying(10);
    console.press(ch('%'));
    console.type_text("60");
    console.press(key(KeyCode::Enter));
    assert_eq!(console.state.shift.staged(), Some(w(60)));
    assert!(console.press(key(KeyCode::Enter)).is_empty());
    assert!(matches!(
        console.state.popup,
        Some(Popup::Confirm(Confirm::LargeJump { from, to })) if from == w(10) && to == w(60)
    ));
    assert!(console.press(ch('n')).is_empty());
    assert!(console.state.popup.is_none());
    console.press(key(KeyCode::Enter));
    let commands = console.press(ch('y'));
    assert_eq!(writes(&commands), [(WriteKind::Apply, w(10), w(60))]);
}

#[test]
fn the_prompt_rejects_bad_percentages_inline_and_stays_open() {
    for (typed, expected) in [
        ("abc", PercentError::NotANumber("abc".into())),
        ("150", PercentError::OutOfRange(150)),
        ("-5", PercentError::OutOfRange(-5)),
        ("", PercentError::Empty),
    ] {
        let mut console = Console::new();
        console.press(ch('%'));
        console.type_text(typed);
        let commands = console.press(key(KeyCode::Enter));
        assert!(commands.is_empty(), "{typed:?} wrote something");
        match &console.state.popup {
            Some(Popup::Prompt(prompt)) => assert_eq!(prompt.error.as_ref(), Some(&expected)),
            other => panic!("{typed:?}: prompt closed: {other:?}"),
        }
        assert_eq!(console.state.shift.staged(), None);
    }
}

#[test]
fn the_prompt_validates_while_typing() {
    let mut console = Console::new();
    console.press(ch('%'));
    console.type_text("1");
    let error = |c: &Console| match &c.state.popup {
        Some(Popup::Prompt(p)) => p.error.clone(),
        _ => panic!("prompt closed"),
    };
    assert_eq!(error(&console), None);
    console.type_text("50");
    assert_eq!(error(&console), Some(PercentError::OutOfRange(150)));
    console.press(key(KeyCode::Backspace));
    assert_eq!(error(&console), None);
}

#[test]
fn rollback_from_any_split_goes_to_all_blue_at_once() {
    let mut console = Console::new();
    console.world.set_weights(w(70));
    console.observe();
    let commands = console.press(ch('R'));
    assert_eq!(writes(&commands), [(WriteKind::Rollback, w(70), w(0))]);
}

#[test]
fn rollback_works_over_a_popup() {
    let mut console = Console::new();
    console.world.set_weights(w(40));
    console.observe();
    console.press(ch('?'));
    let commands = console.press(ch('R'));
    assert_eq!(writes(&commands), [(WriteKind::Rollback, w(40), w(0))]);
    assert!(console.state.popup.is_none());
}

#[test]
fn promote_asks_then_sends_everything_to_green() {
    let mut console = Console::carrying(10);
    assert!(console.press(ch('P')).is_empty());
    assert!(matches!(
        console.state.popup,
        Some(Popup::Confirm(Confirm::Promote { .. }))
    ));
    let commands = console.press(ch('y'));
    assert_eq!(writes(&commands), [(WriteKind::Promote, w(10), w(100))]);
}

#[test]
fn an_outside_change_is_logged_and_the_write_is_not_retried() {
    let mut console = Console::new();
    console.press(ch('l'));
    console.press(key(KeyCode::Enter));
    let now = console.now();
    let conflict = PlatformError::Conflict {
        expected: w(0),
        actual: w(20),
    };
    let commands = update(
        &mut console.state,
        Msg::WriteFinished {
            now,
            result: Err(conflict),
        },
    );
    assert!(writes(&commands).is_empty());
    assert_eq!(console.state.shift.current(), Some(w(20)));
    let newest = console
        .state
        .log
        .newest_first()
        .next()
        .map(|e| e.text.clone());
    assert_eq!(
        newest.as_deref(),
        Some("apply failed: changed outside cutover: 100/0 → 80/20; nothing written")
    );
}

#[test]
fn polling_errors_are_logged_once_per_streak_and_recovery_is_said() {
    let mut console = Console::new();
    let before = console.state.log.len();
    let error = PlatformError::Throttled {
        operation: "DescribeServices".into(),
    };
    for _ in 0..5 {
        let now = console.now();
        update(
            &mut console.state,
            Msg::Observed {
                now,
                result: Err(error.clone()),
            },
        );
    }
    assert_eq!(console.state.log.len(), before + 1);
    assert!(console.state.state_error.is_some());
    console.observe();
    assert_eq!(console.state.state_error, None);
    assert_eq!(
        console
            .state
            .log
            .newest_first()
            .next()
            .map(|e| e.text.as_str()),
        Some("state polling recovered")
    );
}

#[test]
fn quit_keys_quit() {
    for event in [
        ch('q'),
        crossterm::event::KeyEvent::new(
            KeyCode::Char('c'),
            crossterm::event::KeyModifiers::CONTROL,
        ),
    ] {
        let mut console = Console::new();
        assert_eq!(console.press(event), [Command::Quit]);
        assert!(console.state.quit);
    }
}

#[test]
fn ctrl_c_quits_even_from_the_prompt() {
    let mut console = Console::new();
    console.press(ch('%'));
    let ctrl_c = crossterm::event::KeyEvent::new(
        KeyCode::Char('c'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    assert_eq!(console.press(ctrl_c), [Command::Quit]);
}

/// Keys and platform events a session may see, in any order.
#[derive(Debug, Clone)]
enum Step {
    Key(char),
    Enter,
    Esc,
    Right,
    Left,
    /// The write in flight (if any) finishes: 0 applied, 1 conflict, 2 API error.
    Finish(u8),
    /// Someone else moved the weights.
    Outside(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        prop::sample::select(vec![
            'l', 'h', '%', 'R', 'P', 'D', 'S', 'A', 'y', 'n', '?', '1', '5', '0', 'x', '-'
        ])
        .prop_map(Step::Key),
        Just(Step::Enter),
        Just(Step::Esc),
        Just(Step::Right),
        Just(Step::Left),
        (0u8..3).prop_map(Step::Finish),
        (0u8..=100).prop_map(Step::Outside),
    ]
}

/// Drives a console through steps, the way the runtime would: each write the core asks for is
/// outstanding until a `Finish` step delivers its result.
struct Driver {
    console: Console,
    outstanding: Vec<cutover::shift::WriteRequest>,
    max_outstanding: usize,
    deploys: usize,
}

impl Driver {
    fn new() -> Self {
        Driver {
            console: Console::new(),
            outstanding: Vec::new(),
            max_outstanding: 0,
            deploys: 0,
        }
    }

    fn absorb(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Deploy { .. } | Command::ScaleIdle { .. } | Command::Adopt => {
                    self.deploys += 1
                }
                Command::Write(request) => {
                    self.outstanding.push(request);
                    self.max_outstanding = self.max_outstanding.max(self.outstanding.len());
                }
                // As the runtime does: read the state again now.
                Command::RefreshState => {
                    let more = self.console.observe();
                    self.absorb(more);
                }
                Command::Quit => {}
            }
        }
    }

    fn run(&mut self, step: &Step) {
        let commands = match step {
            Step::Key(c) => self.console.press(ch(*c)),
            Step::Enter => self.console.press(key(KeyCode::Enter)),
            Step::Esc => self.console.press(key(KeyCode::Esc)),
            Step::Right => self.console.press(key(KeyCode::Right)),
            Step::Left => self.console.press(key(KeyCode::Left)),
            Step::Finish(kind) => self.finish(*kind),
            Step::Outside(green) => {
                self.console.world.set_weights(w(*green));
                self.console.observe()
            }
        };
        self.absorb(commands);
    }

    fn finish(&mut self, kind: u8) -> Vec<Command> {
        if self.outstanding.is_empty() {
            return Vec::new();
        }
        let request = self.outstanding.remove(0);
        let now = self.console.now();
        let actual = self.console.world.weights();
        let result = match kind {
            0 if actual == request.expected => {
                self.console.world.set_weights(request.target);
                Ok(request.target)
            }
            0 | 1 => Err(PlatformError::Conflict {
                expected: request.expected,
                actual,
            }),
            _ => Err(PlatformError::Api {
                operation: "ModifyRule".into(),
                message: "boom".into(),
            }),
        };
        update(&mut self.console.state, Msg::WriteFinished { now, result })
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn at_most_one_write_is_ever_in_flight(steps in prop::collection::vec(step(), 0..60)) {
        let mut driver = Driver::new();
        for s in &steps {
            driver.run(s);
        }
        prop_assert!(driver.max_outstanding <= 1, "{} writes at once", driver.max_outstanding);
    }

    #[test]
    fn rollback_is_reachable_from_every_state(steps in prop::collection::vec(step(), 0..60)) {
        let mut driver = Driver::new();
        for s in &steps {
            driver.run(s);
        }
        driver.run(&Step::Key('R'));
        // Let every write finish as the platform would apply it.
        for _ in 0..10 {
            driver.run(&Step::Finish(0));
        }
        prop_assert!(driver.outstanding.is_empty());
        prop_assert_eq!(driver.console.world.weights(), Weights::ALL_BLUE);
        prop_assert_eq!(driver.console.state.shift.current(), Some(Weights::ALL_BLUE));
    }

    #[test]
    fn weights_written_always_sum_to_hundred(steps in prop::collection::vec(step(), 0..60)) {
        let mut driver = Driver::new();
        for s in &steps {
            driver.run(s);
        }
        for command in &driver.console.commands {
            if let Command::Write(r) = command {
                prop_assert_eq!(u16::from(r.target.blue()) + u16::from(r.target.green()), 100);
            }
        }
    }

    #[test]
    fn a_typed_value_reaches_a_write_only_when_it_is_0_to_100(typed in "[0-9a-z%. -]{0,5}") {
        let mut console = Console::new();
        console.press(ch('%'));
        console.type_text(&typed);
        console.press(key(KeyCode::Enter));
        console.press(key(KeyCode::Enter));
        console.press(ch('y'));
        let written: Vec<_> = writes(&console.commands);
        // A valid value may still be refused by the guard; an invalid one never gets that far.
        match parse_percent(&typed) {
            Ok(p) => prop_assert!(written.iter().all(|&(_, _, to)| to == w(p)), "{typed:?} wrote {written:?}"),
            Err(_) => prop_assert!(written.is_empty(), "{typed:?} wrote {written:?}"),
        }
    }
}

#[test]
fn writes_are_refused_with_the_reason_when_the_platform_says_so() {
    let mut console = Console::new();
    let mut observation = console.world.observation();
    observation.writes_refused = Some("CodeDeploy owns the traffic".into());
    console.observe_with(observation);
    console.press(ch('l'));
    for event in [key(KeyCode::Enter), ch('R'), ch('P')] {
        assert!(writes(&console.press(event)).is_empty(), "{event:?} wrote");
        assert!(console.state.popup.is_none());
    }
    let flash = console.state.flash.as_ref().map(|f| f.text.clone());
    assert_eq!(
        flash.as_deref(),
        Some("not written: CodeDeploy owns the traffic")
    );
}

#[test]
fn the_guard_refuses_a_second_step_without_evidence_and_says_why() {
    let mut console = Console::new();
    console.press(ch('%'));
    console.type_text("20");
    console.press(key(KeyCode::Enter));
    assert!(writes(&console.press(key(KeyCode::Enter))).is_empty());
    let flash = console
        .state
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default();
    assert!(
        flash.starts_with(
            "refused 100/0 → 80/20: not enough evidence yet: 0 of 200 requests on green since"
        ),
        "{flash}"
    );
}

#[test]
fn the_guard_refuses_an_increase_while_green_is_worse() {
    let mut console = Console::with_scenario(cutover::platform::sim::Scenario::BadGreen, 2);
    console.world.set_weights(w(10));
    console.observe();
    console
        .world
        .advance_to(console.now().plus(std::time::Duration::from_secs(300)));
    console.fetch_metrics();
    assert_eq!(
        console.state.evidence().map(|e| e.verdict),
        Some(cutover::shift::Verdict::Worse)
    );
    console.press(ch('l'));
    assert!(writes(&console.press(key(KeyCode::Enter))).is_empty());
    assert!(writes(&console.press(ch('P'))).is_empty());
    assert!(
        console.state.popup.is_none(),
        "promote is refused before asking"
    );
    // Going down and rolling back are never blocked.
    console.press(ch('h'));
    console.press(ch('h'));
    assert_eq!(
        writes(&console.press(key(KeyCode::Enter))),
        [(WriteKind::Apply, w(10), w(0))]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn read_only_never_asks_for_a_write(steps in prop::collection::vec(step(), 0..60)) {
        let mut driver = Driver::new();
        driver.console.state.settings.read_only = true;
        driver.console.state.plan = Some(cutover::demo::demo_plan());
        for s in &steps {
            driver.run(s);
        }
        let written = writes(&driver.console.commands);
        prop_assert!(written.is_empty(), "{written:?}");
        prop_assert_eq!(driver.deploys, 0, "no deploy, scaling or adopt either");
    }
}

#[test]
fn roles_follow_the_weights_and_cloudwatch() {
    use cutover::app::Role;
    let console = Console::new();
    assert_eq!(
        (
            console.state.role(Color::Blue),
            console.state.role(Color::Green)
        ),
        (Role::Live, Role::Idle)
    );
    let console = Console::carrying(10);
    assert_eq!(
        (
            console.state.role(Color::Blue),
            console.state.role(Color::Green)
        ),
        (Role::Live, Role::Candidate)
    );

    // Green takes everything: blue stays the rollback target until it has served nothing for
    // the bake, then it is idle.
    let mut console = Console::carrying(10);
    console.world.set_weights(Weights::ALL_GREEN);
    console.observe();
    console
        .world
        .advance_to(console.now().plus(std::time::Duration::from_secs(120)));
    console.fetch_metrics();
    assert_eq!(
        (
            console.state.role(Color::Blue),
            console.state.role(Color::Green)
        ),
        (Role::RollbackTarget, Role::Live)
    );
    console
        .world
        .advance_to(console.now().plus(std::time::Duration::from_secs(300)));
    console.fetch_metrics();
    assert_eq!(
        (
            console.state.role(Color::Blue),
            console.state.role(Color::Green)
        ),
        (Role::Idle, Role::Live)
    );
}

#[test]
fn after_the_roles_swap_traffic_moves_to_blue_and_rollback_returns_it_to_green() {
    use cutover::app::Role;
    let mut console = Console::swapped();
    assert_eq!(console.state.role(Color::Green), Role::Live);
    assert_eq!(console.state.role(Color::Blue), Role::Idle);
    assert_eq!(console.state.candidate(), Color::Blue);

    // A typed percentage is the candidate's share: 10 means 10% to blue.
    console.press(ch('%'));
    console.type_text("10");
    console.press(key(KeyCode::Enter));
    let commands = console.press(key(KeyCode::Enter));
    assert_eq!(writes(&commands), [(WriteKind::Apply, w(100), w(90))]);
    console.finish_write(w(90));
    assert_eq!(console.state.role(Color::Blue), Role::Candidate);

    // More to blue needs evidence on blue: none yet.
    console.press(ch('%'));
    console.type_text("30");
    console.press(key(KeyCode::Enter));
    assert!(writes(&console.press(key(KeyCode::Enter))).is_empty());
    let flash = console.state.flash.as_ref().map(|f| f.text.clone());
    assert!(
        flash
            .as_deref()
            .is_some_and(|t| t.starts_with("refused 10/90 → 30/70: not enough evidence yet")),
        "{flash:?}"
    );

    // Promote means everything to blue (refused here for the same reason); rollback sends
    // everything back to green, the live side.
    console.press(key(KeyCode::Esc));
    console.press(ch('P'));
    assert!(console.state.popup.is_none());
    let flash = console.state.flash.as_ref().map(|f| f.text.clone());
    assert!(
        flash
            .as_deref()
            .is_some_and(|t| t.starts_with("refused 10/90 → 100/0")),
        "{flash:?}"
    );
    let commands = console.press(ch('R'));
    assert_eq!(writes(&commands), [(WriteKind::Rollback, w(90), w(100))]);
}

#[test]
fn a_split_that_outlasts_the_metrics_history_keeps_its_live_side() {
    let mut console = Console::swapped();
    console.press(ch('h'));
    console.press(key(KeyCode::Enter));
    console.finish_write(w(90));
    // Forty minutes at 10% blue: no side served alone in CloudWatch's thirty minutes.
    let later = console.now().plus(std::time::Duration::from_secs(40 * 60));
    console.world.advance_to(later);
    console.observe();
    console.fetch_metrics();
    assert_eq!(console.state.baseline(), Color::Green, "remembered");
    let commands = console.press(ch('R'));
    assert_eq!(writes(&commands), [(WriteKind::Rollback, w(90), w(100))]);
}

#[test]
fn during_the_bake_the_rollback_target_is_kept_as_it_is() {
    // Green has carried everything for four minutes, one short of the bake.
    let mut console = Console::carrying(100);
    assert_eq!(console.state.baseline(), Color::Blue);
    for k in ['D', 'S'] {
        console.press(ch(k));
        assert!(console.state.popup.is_none(), "{k} asks nothing");
        let flash = console.state.flash.as_ref().map(|f| f.text.clone());
        assert!(
            flash.as_deref().is_some_and(|t| t.starts_with(
                "BLUE is the rollback target until green has carried all traffic for the bake"
            )),
            "{k}: {flash:?}"
        );
    }
    let commands = console.press(ch('R'));
    assert_eq!(writes(&commands), [(WriteKind::Rollback, w(100), w(0))]);
}

#[test]
fn a_breach_rollbacks_audit_line_says_what_it_was_decided_on() {
    use cutover::audit::AuditResult;
    let mut console = Console::with_scenario(cutover::platform::sim::Scenario::BadGreen, 4);
    console.state.plan = Some(cutover::demo::demo_plan());
    let commands = console.press(ch('a'));
    assert_eq!(writes(&commands), [(WriteKind::PlanStep, w(0), w(10))]);
    console.finish_write(w(10));
    let later = console.now().plus(std::time::Duration::from_secs(4 * 60));
    console.world.advance_to(later);
    console.observe();
    let commands = console.fetch_metrics();
    assert_eq!(writes(&commands), [(WriteKind::Rollback, w(10), w(0))]);
    console.finish_write(w(0));

    let line = console
        .state
        .audit_outbox
        .last()
        .expect("the rollback's line");
    assert_eq!(
        (line.action.as_str(), line.result),
        ("rollback", AuditResult::Applied)
    );
    assert!(
        line.reason
            .as_deref()
            .is_some_and(|r| r.starts_with("green is worse: green ")),
        "{line:?}"
    );
    assert!(
        line.evidence
            .as_deref()
            .is_some_and(|e| e.starts_with("worse: ")),
        "the verdict it was decided on, not the window after the read-back: {line:?}"
    );
}
