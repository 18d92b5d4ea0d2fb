//! The console's behaviour through `update`: keys and platform results in, commands out.

mod support;

use crossterm::event::KeyCode;
use proptest::prelude::*;

use cutover::app::{ANSWER_DELAY, Command, Confirm, Msg, Popup, update};
use cutover::domain::{Color, PercentError, Weights, parse_percent};
use cutover::platform::PlatformError;
use cutover::platform::sim::Scenario;
use cutover::shift::WriteKind;
use cutover::shift::plan::PlanState;
use support::{Console, ch, key};

/// What the flash line says now, or nothing.
fn flash_text(console: &Console) -> String {
    console
        .state
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default()
}

/// The writes an operator asks for: weights (everything but a rollback), deploys, scales,
/// adoptions.
fn operator_writes(commands: &[Command]) -> Vec<Command> {
    commands
        .iter()
        .filter(|c| match c {
            Command::Write(request) => request.kind != WriteKind::Rollback,
            Command::Deploy { .. } | Command::ScaleIdle { .. } | Command::Adopt => true,
            _ => false,
        })
        .cloned()
        .collect()
}

fn writes(commands: &[Command]) -> Vec<(WriteKind, Weights, Weights)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Write(w) => Some((w.kind, w.expected, w.target)),
            _ => None,
        })
        .collect()
}

/// The audit lines among the commands, in order.
fn audits(commands: &[Command]) -> Vec<cutover::audit::AuditEvent> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Audit(event) => Some(event.clone()),
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

fn ctrl_r() -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(KeyCode::Char('r'), crossterm::event::KeyModifiers::CONTROL)
}

#[test]
fn in_a_text_field_r_is_a_letter_and_ctrl_r_rolls_back() {
    // A deploy goes to a side at 0%: from there a rollback has nothing to move.
    for (opener, green, rollback) in [
        ('%', 40, vec![(WriteKind::Rollback, w(40), w(0))]),
        ('/', 40, vec![(WriteKind::Rollback, w(40), w(0))]),
        ('D', 0, vec![]),
    ] {
        let mut console = Console::new();
        console.world.set_weights(w(green));
        console.observe();
        console.press(ch(opener));
        assert!(console.state.popup.is_some(), "{opener} opens a field");
        let commands = console.press(ch('R'));
        assert!(commands.is_empty(), "{opener}: R wrote {commands:?}");
        assert!(
            console.state.popup.is_some(),
            "{opener}: the field stays open"
        );
        let commands = console.press(ctrl_r());
        assert_eq!(writes(&commands), rollback, "{opener}: Ctrl-R rolls back");
        assert!(
            console.state.popup.is_none(),
            "{opener}: and closes the field"
        );
    }
    // The log's filter took the R as text.
    let mut console = Console::new();
    console.press(ch('/'));
    console.press(ch('R'));
    console.press(key(KeyCode::Enter));
    assert_eq!(console.state.log.view().filter, "R");
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
                started: now,
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
    /// A bracketed paste.
    Paste(String),
    /// Keys typed a few milliseconds apart, faster than anyone reads (`\r` is Enter).
    Burst(String),
    /// Ctrl-R: roll back from anywhere.
    CtrlR,
    /// Simulated seconds pass, then a state and a metrics poll (ECS moves on by itself).
    Later(u64),
}

/// The keys of `text`, `\r` as Enter.
fn keys_of(text: &str) -> Vec<crossterm::event::KeyEvent> {
    text.chars()
        .map(|c| {
            if c == '\r' {
                key(KeyCode::Enter)
            } else {
                ch(c)
            }
        })
        .collect()
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        prop::sample::select(vec![
            'l', 'h', '%', 'R', 'P', 'D', 'S', 'A', 'a', ' ', 'y', 'n', '?', '1', '5', '0', 'x',
            '-', 'c'
        ])
        .prop_map(Step::Key),
        Just(Step::Enter),
        Just(Step::Esc),
        Just(Step::Right),
        Just(Step::Left),
        Just(Step::CtrlR),
        (0u8..3).prop_map(Step::Finish),
        (0u8..=100).prop_map(Step::Outside),
        (0u64..=90).prop_map(Step::Later),
        "[0-9ylPR%\r]{1,6}".prop_map(Step::Paste),
        "[0-9ylPRA%\ry]{2,6}".prop_map(Step::Burst),
        // What opens a question, and its answer typed ahead.
        prop::sample::select(vec!["Sy", "Py", "Ay", "%60\r\ry", "lllll\ry", "%100\r\ry"])
            .prop_map(|keys| Step::Burst(keys.to_string())),
    ]
}

/// Drives a console through steps, the way the runtime would: each write the core asks for is
/// outstanding until a `Finish` step delivers its result.
struct Driver {
    console: Console,
    outstanding: Vec<cutover::shift::WriteRequest>,
    /// Gate steps sent to ECS (a native console) and not yet answered.
    steering: Vec<cutover::domain::GateStep>,
    max_outstanding: usize,
    deploys: usize,
    /// Writes that left the core without their audit line right before them.
    unannounced: usize,
}

impl Driver {
    /// A driver whose console has the demo's plan: `a` starts it, and its steps leave the
    /// core too.
    fn with_plan() -> Self {
        let mut driver = Driver::new();
        driver.console.state.plan = Some(cutover::cmd::demo::demo_plan());
        driver
    }

    /// A console on an ECS-native service, its deployment at the first gate.
    fn native() -> Self {
        let mut driver = Driver::new();
        driver.console = Console::with_scenario(Scenario::NativeLinear, 3);
        driver
    }

    fn new() -> Self {
        Driver {
            console: Console::new(),
            steering: Vec::new(),
            outstanding: Vec::new(),
            max_outstanding: 0,
            deploys: 0,
            unannounced: 0,
        }
    }

    fn absorb(&mut self, commands: Vec<Command>) {
        let mut announced = None;
        for command in commands {
            let attempt = match &command {
                Command::Audit(e) if e.result == cutover::audit::AuditResult::Attempt => {
                    Some((e.from, e.to))
                }
                _ => None,
            };
            match command {
                Command::Deploy { .. } | Command::ScaleIdle { .. } | Command::Adopt => {
                    self.deploys += 1
                }
                Command::Write(request) => {
                    if announced != Some((request.expected, request.target)) {
                        self.unannounced += 1;
                    }
                    self.outstanding.push(request);
                    self.max_outstanding = self.max_outstanding.max(self.outstanding.len());
                }
                // As the runtime does: read the state again now.
                Command::RefreshState => {
                    let more = self.console.observe();
                    self.absorb(more);
                }
                Command::Steer(step) => {
                    self.steering.push(step);
                    self.max_outstanding = self
                        .max_outstanding
                        .max(self.outstanding.len() + self.steering.len());
                }
                Command::Quit | Command::Audit(_) | Command::Suspend => {}
            }
            announced = attempt;
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
            Step::Paste(text) => self.console.paste(text),
            Step::Burst(text) => self.console.type_ahead(&keys_of(text)),
            Step::CtrlR => self.console.press(ctrl_r()),
            Step::Later(seconds) => self.console.later(*seconds),
        };
        self.absorb(commands);
    }

    fn finish(&mut self, kind: u8) -> Vec<Command> {
        if self.outstanding.is_empty() && !self.steering.is_empty() {
            let step = self.steering.remove(0);
            let now = self.console.now();
            let result = match kind {
                0 => self
                    .console
                    .world
                    .steer(&step)
                    .map_err(|message| PlatformError::Api {
                        operation: "ContinueServiceDeployment".into(),
                        code: message.split(':').next().map(str::to_string),
                        message,
                    }),
                _ => Err(PlatformError::Throttled {
                    operation: "ContinueServiceDeployment".into(),
                }),
            };
            return update(&mut self.console.state, Msg::Steered { now, step, result });
        }
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
                code: None,
                message: "boom".into(),
            }),
        };
        update(&mut self.console.state, Msg::WriteFinished { now, result })
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_printable_text_typed_into_any_field_writes_nothing(
        opener in prop::sample::select(vec!['%', 'D', '/']),
        text in "[ -~]{1,24}",
        green in 0u8..=100,
    ) {
        let mut console = Console::new();
        console.world.set_weights(w(green));
        console.observe();
        console.press(ch(opener));
        // A deploy's field opens only while a side is idle.
        prop_assume!(console.state.popup.is_some());
        for c in text.chars() {
            let commands = console.press(ch(c));
            let wrote: Vec<&Command> = commands
                .iter()
                .filter(|c| !matches!(c, Command::Audit(_)))
                .collect();
            prop_assert!(wrote.is_empty(), "{:?} typed after {} did {:?}", c, opener, wrote);
        }
        prop_assert!(console.state.popup.is_some(), "typing never closes the field");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn at_most_one_write_is_ever_in_flight(
        steps in prop::collection::vec(step(), 0..60),
        native in any::<bool>(),
    ) {
        let mut driver = if native { Driver::native() } else { Driver::new() };
        for s in &steps {
            driver.run(s);
        }
        prop_assert!(driver.max_outstanding <= 1, "{} writes at once", driver.max_outstanding);
    }

    #[test]
    fn every_write_has_its_audit_line_written_ahead(steps in prop::collection::vec(step(), 0..60)) {
        let mut driver = Driver::with_plan();
        for s in &steps {
            driver.run(s);
        }
        prop_assert_eq!(driver.unannounced, 0, "a write left without its attempt line");
    }

    #[test]
    fn rollback_is_reachable_from_every_state(steps in prop::collection::vec(step(), 0..60)) {
        let mut driver = Driver::new();
        for s in &steps {
            driver.run(s);
        }
        // All traffic to the live side: blue, unless green has carried everything past the
        // role bake (an outside change to 100% green, then minutes).
        let live = driver.console.state.baseline();
        // Ctrl-R works from every state, a text field included (there R is a letter).
        driver.run(&Step::CtrlR);
        // Let every write finish as the platform would apply it.
        for _ in 0..10 {
            driver.run(&Step::Finish(0));
        }
        prop_assert!(driver.outstanding.is_empty());
        prop_assert_eq!(driver.console.world.weights(), Weights::all_to(live));
        prop_assert_eq!(driver.console.state.shift.current(), Some(Weights::all_to(live)));
    }

    /// An operator's write (not a rollback, which nothing may hold back) leaves only on Enter
    /// or on a "y" to a question that was on screen long enough to be read: never on a
    /// paste, never on a key typed ahead of the question it would answer.
    #[test]
    fn no_write_leaves_without_a_deliberate_key(steps in prop::collection::vec(step(), 0..60)) {
        let mut driver = Driver::new();
        for s in &steps {
            let commands = driver.console.commands.len();
            match s {
                // Key by key, so each write is laid at the key that sent it.
                Step::Burst(text) => {
                    for event in keys_of(text) {
                        let from = driver.console.commands.len();
                        // Typed 5 ms after the last key: a y answers only a question that
                        // had been on screen long enough before it.
                        let at = driver.console.wall + std::time::Duration::from_millis(5);
                        let read = driver.console.state.question_shown
                            .is_some_and(|shown| at >= shown + ANSWER_DELAY);
                        let deliberate = event.code == KeyCode::Enter
                            || (event.code == KeyCode::Char('y') && read);
                        let sent = driver.console.type_ahead(&[event]);
                        driver.absorb(sent);
                        let wrote = operator_writes(&driver.console.commands[from..]);
                        prop_assert!(deliberate || wrote.is_empty(),
                            "{event:?} typed ahead in {text:?} wrote {wrote:?}");
                    }
                }
                _ => {
                    driver.run(s);
                    // A key a second after the last: any question was long read.
                    let deliberate = matches!(s, Step::Enter | Step::Key('y'));
                    let wrote = operator_writes(&driver.console.commands[commands..]);
                    prop_assert!(deliberate || wrote.is_empty(), "{s:?} wrote {wrote:?}");
                }
            }
        }
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
    let flash = flash_text(&console);
    assert!(
        flash.starts_with(
            "refused 100/0 → 80/20: not enough evidence yet: 5xx: 0 requests on green since"
        ) && flash.contains(", 200 needed"),
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
        driver.console.state.plan = Some(cutover::cmd::demo::demo_plan());
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
    // Blue still runs the older build: asked first.
    assert!(writes(&console.press(key(KeyCode::Enter))).is_empty());
    let commands = console.press(ch('y'));
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
            .is_some_and(|t| t.starts_with("promote is refused: not enough evidence yet")),
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
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    let commands = console.press(ch('a'));
    assert_eq!(writes(&commands), [(WriteKind::PlanStep, w(0), w(10))]);
    console.finish_write(w(10));
    let later = console.now().plus(std::time::Duration::from_secs(4 * 60));
    console.world.advance_to(later);
    console.observe();
    let commands = console.fetch_metrics();
    assert_eq!(writes(&commands), [(WriteKind::Rollback, w(10), w(0))]);
    console.finish_write(w(0));

    let lines = audits(&console.commands);
    let line = lines.last().expect("the rollback's line");
    assert_eq!(
        (line.action.as_str(), line.result),
        ("rollback", AuditResult::Applied)
    );
    assert!(
        line.reason
            .as_deref()
            .is_some_and(|r| r.starts_with("green is worse: 5xx: green ")),
        "{line:?}"
    );
    assert!(
        line.evidence
            .as_deref()
            .is_some_and(|e| e.starts_with("worse: ")),
        "the verdict it was decided on, not the window after the read-back: {line:?}"
    );
}

/// The platform's answer to the write in flight, at the console's time now.
fn write_fails(console: &mut Console, error: PlatformError) -> Vec<Command> {
    let now = console.now();
    let commands = update(
        &mut console.state,
        Msg::WriteFinished {
            now,
            result: Err(error),
        },
    );
    console.commands.extend(commands.iter().cloned());
    commands
}

fn tick(console: &mut Console) -> Vec<Command> {
    let now = console.now();
    let commands = update(&mut console.state, Msg::Tick { now });
    console.commands.extend(commands.iter().cloned());
    commands
}

fn seconds_later(console: &mut Console, seconds: u64) {
    let later = console.now().plus(std::time::Duration::from_secs(seconds));
    console.world.advance_to(later);
}

fn throttled() -> PlatformError {
    PlatformError::Throttled {
        operation: "ModifyRule".into(),
    }
}

fn logged(console: &Console, needle: &str) -> bool {
    console
        .state
        .log
        .newest_first()
        .any(|e| e.text.contains(needle))
}

#[test]
fn a_poll_that_started_before_a_write_never_replaces_its_read_back() {
    let mut console = Console::new();
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    assert_eq!(
        writes(&console.press(ch('a'))),
        [(WriteKind::PlanStep, w(0), w(10))]
    );
    // A slow DescribeTargetHealth: the poll started before the step and answers after it.
    let started = console.now();
    let stale = console.world.observation();
    seconds_later(&mut console, 2);
    console.finish_write(w(10));
    seconds_later(&mut console, 6);
    let now = console.now();
    update(
        &mut console.state,
        Msg::Observed {
            now,
            started,
            result: Ok(stale),
        },
    );
    assert_eq!(
        console.state.shift.current(),
        Some(w(10)),
        "the read-back stands"
    );
    assert!(!logged(&console, "changed outside"));
    assert!(
        console.state.plan.as_ref().is_some_and(|p| p.is_active()),
        "the plan is not paused by its own write"
    );
    // A poll that started after the read-back is believed, outside changes included.
    console.world.set_weights(w(40));
    console.observe();
    assert_eq!(console.state.shift.current(), Some(w(40)));
    assert!(logged(&console, "changed outside cutover: 90/10 → 60/40"));
}

#[test]
fn a_throttled_plan_step_backs_off_with_a_countdown_and_goes_on_when_it_clears() {
    let mut console = Console::new();
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    console.press(ch('a'));
    let mut delays = Vec::new();
    for attempt in 1..=3 {
        write_fails(&mut console, throttled());
        let plan = console.state.plan.as_ref().expect("a plan");
        let PlanState::Retrying {
            next_at,
            attempt: n,
            ..
        } = plan.state.clone()
        else {
            panic!("attempt {attempt}: {:?}", plan.state);
        };
        assert_eq!(n, attempt);
        delays.push(next_at.since(console.now()));
        // Nothing is written before the backoff is over, however many messages arrive.
        for _ in 0..5 {
            assert!(writes(&tick(&mut console)).is_empty());
        }
        let wait = next_at.since(console.now()).as_secs() + 1;
        seconds_later(&mut console, wait);
        assert_eq!(
            writes(&tick(&mut console)),
            [(WriteKind::PlanStep, w(0), w(10))],
            "attempt {} after the backoff",
            attempt + 1
        );
    }
    assert!(
        delays.windows(2).all(|d| d[1] > d[0]),
        "the waits grow: {delays:?}"
    );
    assert!(logged(
        &console,
        "plan step attempt 3/5 failed; trying again in"
    ));
    console.finish_write(w(10));
    assert!(matches!(
        console.state.plan.as_ref().map(|p| &p.state),
        Some(PlanState::Baking { .. })
    ));
    let failed_lines = audits(&console.commands)
        .iter()
        .filter(|e| e.result == cutover::audit::AuditResult::Failed)
        .count();
    assert_eq!(failed_lines, 3, "one audit line per attempt, not a flood");
}

#[test]
fn a_plan_step_aws_refuses_is_not_retried_and_pauses_the_plan() {
    for error in [
        PlatformError::Api {
            operation: "ModifyRule".into(),
            code: None,
            message: "AccessDenied: not authorized to perform elasticloadbalancing:ModifyRule"
                .into(),
        },
        PlatformError::Api {
            operation: "DescribeRules".into(),
            code: None,
            message: "LoadBalancerNotFound: One or more load balancers not found".into(),
        },
    ] {
        let mut console = Console::new();
        console.state.plan = Some(cutover::cmd::demo::demo_plan());
        console.press(ch('a'));
        write_fails(&mut console, error.clone());
        let plan = console.state.plan.clone().expect("a plan");
        assert!(
            matches!(&plan.state, PlanState::Paused { reason, .. } if reason.contains(&error.to_string())),
            "{:?}",
            plan.state
        );
        assert!(plan.failed.is_some());
        for _ in 0..20 {
            seconds_later(&mut console, 30);
            assert!(
                writes(&tick(&mut console)).is_empty(),
                "no retry of {error}"
            );
        }
        // The operator resumes it: one more attempt, when asked.
        console.observe();
        console.fetch_metrics();
        assert_eq!(
            writes(&console.press(ch('a'))),
            [(WriteKind::PlanStep, w(0), w(10))]
        );
    }
}

#[test]
fn a_step_that_keeps_failing_pauses_after_five_attempts() {
    let mut console = Console::new();
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    console.press(ch('a'));
    let mut attempts = 1;
    loop {
        write_fails(&mut console, throttled());
        let state = console.state.plan.as_ref().map(|p| p.state.clone());
        if let Some(PlanState::Retrying { next_at, .. }) = state {
            let wait = next_at.since(console.now()).as_secs() + 1;
            seconds_later(&mut console, wait);
            assert_eq!(writes(&tick(&mut console)).len(), 1);
            attempts += 1;
            continue;
        }
        assert!(
            matches!(&state, Some(PlanState::Paused { reason, .. }) if reason.contains("failed 5 times")),
            "{state:?}"
        );
        break;
    }
    assert_eq!(attempts, cutover::shift::plan::MAX_STEP_ATTEMPTS);
}

#[test]
fn a_throttled_rollback_goes_again_by_itself() {
    let mut console = Console::new();
    console.world.set_weights(w(30));
    console.observe();
    assert_eq!(
        writes(&console.press(ch('R'))),
        [(WriteKind::Rollback, w(30), w(0))]
    );
    write_fails(&mut console, throttled());
    let (at, attempts) = console.state.rollback_retry.expect("a retry is due");
    assert_eq!(attempts, 1);
    assert!(
        writes(&tick(&mut console)).is_empty(),
        "not before the backoff"
    );
    let wait = at.since(console.now()).as_secs() + 1;
    seconds_later(&mut console, wait);
    assert_eq!(
        writes(&tick(&mut console)),
        [(WriteKind::Rollback, w(30), w(0))]
    );
    console.finish_write(w(0));
    assert_eq!(console.state.rollback_retry, None);
    assert_eq!(console.state.shift.current(), Some(w(0)));
}

/// What may happen next between a console and a platform with no other writer.
#[derive(Debug, Clone)]
enum Event {
    /// A state poll starts: it reads the world as it is now.
    PollStarts,
    /// One of the polls under way answers (which one: the index modulo their number).
    PollAnswers(usize),
    /// The operator stages one more step and applies it.
    Nudge(bool),
    /// The write in flight is applied and read back.
    WriteAnswers,
    /// Time passes.
    Wait(u64),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        3 => Just(Event::PollStarts),
        3 => any::<usize>().prop_map(Event::PollAnswers),
        2 => any::<bool>().prop_map(Event::Nudge),
        2 => Just(Event::WriteAnswers),
        2 => (1u64..20).prop_map(Event::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_interleaving_of_poll_answers_and_write_outcomes_ends_at_the_newest_fact(
        events in prop::collection::vec(event(), 0..80)
    ) {
        let mut console = Console::carrying(50);
        let mut polls: Vec<(cutover::domain::Timestamp, cutover::domain::Observation)> = Vec::new();
        let mut in_flight: Option<cutover::shift::WriteRequest> = None;
        for event in &events {
            // Every event takes a moment (the simulated world counts whole seconds).
            seconds_later(&mut console, 1);
            let commands = match event {
                Event::PollStarts => {
                    polls.push((console.now(), console.world.observation()));
                    Vec::new()
                }
                Event::PollAnswers(i) if !polls.is_empty() => {
                    let (started, observation) = polls.remove(i % polls.len());
                    let now = console.now();
                    update(&mut console.state, Msg::Observed { now, started, result: Ok(observation) })
                }
                Event::Nudge(right) => {
                    let code = if *right { KeyCode::Right } else { KeyCode::Left };
                    console.press(key(code));
                    console.press(key(KeyCode::Enter))
                }
                Event::WriteAnswers => match in_flight.take() {
                    Some(request) => console.finish_write(request.target),
                    None => Vec::new(),
                },
                Event::Wait(seconds) => {
                    seconds_later(&mut console, *seconds);
                    Vec::new()
                }
                Event::PollAnswers(_) => Vec::new(),
            };
            for command in commands {
                match command {
                    Command::Write(request) => {
                        prop_assert!(in_flight.is_none(), "two writes at once");
                        in_flight = Some(request);
                    }
                    // As the runtime does: a poll starts now.
                    Command::RefreshState => polls.push((console.now(), console.world.observation())),
                    _ => {}
                }
            }
            if in_flight.is_none() {
                prop_assert_eq!(
                    console.state.shift.current(),
                    Some(console.world.weights()),
                    "the screen holds the newest fact after {:?}", event
                );
            }
        }
        prop_assert!(!logged(&console, "changed outside"), "no other writer, no outside change");
    }
}

#[test]
fn a_plan_step_whose_answer_was_lost_and_that_lands_late_is_not_an_outside_change() {
    let mut console = Console::new();
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    console.press(ch('a'));
    // The client gave up (its re-read still saw 100/0); AWS applies the step later.
    write_fails(
        &mut console,
        PlatformError::Unreachable {
            operation: "ModifyRule".into(),
            message: "timed out".into(),
        },
    );
    assert!(matches!(
        console.state.plan.as_ref().map(|p| &p.state),
        Some(PlanState::Retrying { .. })
    ));
    seconds_later(&mut console, 1);
    console.world.set_weights(w(10));
    console.observe();
    assert!(!logged(&console, "changed outside"));
    assert!(logged(
        &console,
        "the write whose answer was lost was applied after all: read 90/10"
    ));
    assert!(
        matches!(
            console.state.plan.as_ref().map(|p| &p.state),
            Some(PlanState::Baking { .. })
        ),
        "the step counts as done and its bake runs"
    );
    let lines = audits(&console.commands);
    let line = lines.last().expect("an audit line");
    assert_eq!(
        (line.action.as_str(), line.result, line.to),
        ("late apply", cutover::audit::AuditResult::Applied, w(10))
    );
    // A change to anything else is someone else's.
    seconds_later(&mut console, 1);
    console.world.set_weights(w(30));
    console.observe();
    assert!(logged(&console, "changed outside cutover: 90/10 → 70/30"));
}

#[test]
fn a_late_copy_of_a_lost_write_never_undoes_the_rollback_that_came_after_it() {
    // From 50/50 the operator sends 40/60; its answer is lost and the re-read still sees
    // 50/50. The operator rolls back (read back 100/0). Then AWS applies the lost 40/60.
    let mut console = Console::carrying(50);
    console.press(ch('l'));
    let commands = console.press(key(KeyCode::Enter));
    assert_eq!(writes(&commands), [(WriteKind::Apply, w(50), w(60))]);
    write_fails(
        &mut console,
        PlatformError::Unreachable {
            operation: "ModifyRule".into(),
            message: "timed out".into(),
        },
    );
    let commands = console.press(ch('R'));
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Command::Write(r) if r.kind == WriteKind::Rollback)),
        "{commands:?}"
    );
    console.finish_write(w(0));
    seconds_later(&mut console, 6);
    console.world.set_weights(w(60));
    let commands = console.observe();
    assert!(
        !logged(&console, "changed outside"),
        "our own copy, not another writer"
    );
    assert!(logged(
        &console,
        "a late copy of our earlier write to 40/60 landed after the rollback to 100/0"
    ));
    assert_eq!(
        writes(&commands),
        [(WriteKind::Rollback, w(60), w(0))],
        "the latest intent is put back at once"
    );
    let lines = audits(&console.commands);
    assert!(
        lines
            .iter()
            .any(|l| l.action == "late copy" && l.to == w(60)),
        "{lines:?}"
    );
    // Once the rollback is back, a later change is someone else's again.
    console.finish_write(w(0));
    seconds_later(&mut console, 1);
    console.world.set_weights(w(30));
    console.observe();
    assert!(logged(&console, "changed outside cutover: 100/0 → 70/30"));
}

#[test]
fn a_write_whose_outcome_is_unknown_is_audited_unknown_and_said_so() {
    let mut console = Console::new();
    console.press(ch('l'));
    console.press(key(KeyCode::Enter));
    write_fails(
        &mut console,
        PlatformError::OutcomeUnknown {
            target: w(10),
            error: "ModifyRule: endpoint unreachable: timed out; reading back: DescribeRules: throttled, backing off".into(),
        },
    );
    let line = audits(&console.commands).pop().expect("an audit line");
    assert_eq!(line.result, cutover::audit::AuditResult::Unknown);
    assert!(
        flash_text(&console).contains("outcome unknown"),
        "{}",
        flash_text(&console)
    );
    assert!(
        !flash_text(&console).contains("failed"),
        "{}",
        flash_text(&console)
    );
    // The next read that finds the write resolves it as our own late apply.
    seconds_later(&mut console, 5);
    console.world.set_weights(w(10));
    console.observe();
    assert!(logged(&console, "applied after all: read 90/10"));
}

/// What a key press changed that an operator would see as "it did something".
fn effect(
    before: &cutover::app::AppState,
    after: &cutover::app::AppState,
    commands: &[Command],
) -> Option<String> {
    // An audit line for a refusal is a record, not an action.
    if commands.iter().any(|c| !matches!(c, Command::Audit(_))) {
        return Some(format!("commands {commands:?}"));
    }
    if before.popup.is_none() && after.popup.is_some() {
        return Some("opened a popup".into());
    }
    if before.shift.staged() != after.shift.staged() {
        return Some("staged a split".into());
    }
    if before.shift.rollback_queued() != after.shift.rollback_queued()
        || before.rollback_after_steer() != after.rollback_after_steer()
    {
        return Some("queued a rollback".into());
    }
    let plan = |s: &cutover::app::AppState| s.plan.as_ref().map(|p| p.state.clone());
    if plan(before) != plan(after) {
        return Some("changed the plan".into());
    }
    if after.quit {
        return Some("quit".into());
    }
    if before.log.view() != after.log.view() {
        return Some("moved the event log".into());
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn the_hint_bar_and_dispatch_agree_on_every_key_in_every_state(
        steps in prop::collection::vec(step(), 0..40),
        with_plan in any::<bool>(),
        native in any::<bool>(),
    ) {
        let mut driver = if native { Driver::native() } else { Driver::new() };
        if with_plan && !native {
            driver.console.state.plan = Some(cutover::cmd::demo::demo_plan());
        }
        for s in &steps {
            driver.run(s);
            if driver.console.state.popup.is_some() {
                popup_keys_act(&driver)?;
                continue;
            }
            let evidence = driver.console.state.evidence();
            for (binding, availability) in
                cutover::app::bindings(&driver.console.state, evidence.as_ref())
            {
                let spec = binding.keys[0];
                let mut event = key(spec.code);
                if spec.ctrl {
                    event.modifiers = crossterm::event::KeyModifiers::CONTROL;
                }
                let before = driver.console.state.clone();
                let mut after = before.clone();
                let now = driver.console.now();
                let at = driver.console.wall + std::time::Duration::from_secs(1);
                let commands = update(&mut after, Msg::Key { key: event, now, at });
                let did = effect(&before, &after, &commands);
                match availability.reason() {
                    Some(why) => {
                        prop_assert!(
                            did.is_none(),
                            "{} is not offered ({why}) but {:?}", binding.label, did
                        );
                        let said = after.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
                        prop_assert!(said.contains(why) || why.contains(&said),
                            "{} says {said:?}, the bar's reason is {why:?}", binding.label);
                    }
                    None => {
                        let said = after.flash.as_ref().map(|f| f.text.clone());
                        // An offered key acts, or says why the guard would not let it (the
                        // guard reads evidence, which the bar does not claim to know).
                        prop_assert!(
                            did.is_some() || said.as_deref().is_some_and(|s| s.starts_with("refused")),
                            "{} is offered but did nothing (said {:?})", binding.label, said
                        );
                    }
                }
            }
        }
    }
}

/// With a popup open the hint bar lists only the popup's keys: none of the main screen's, and
/// each one listed does what its label says when pressed now.
fn popup_keys_act(driver: &Driver) -> Result<(), TestCaseError> {
    let state = &driver.console.state;
    let evidence = state.evidence();
    let keys = cutover::app::popup_keys(state, evidence.as_ref())
        .ok_or_else(|| TestCaseError::fail("a popup is open: its keys are listed"))?;
    let labels: Vec<&str> = keys.iter().map(|k| k.label).collect();
    for main in ["→/l", "←/h", "P", "a", "D", "S", "A", "%"] {
        prop_assert!(
            !labels.contains(&main),
            "{main} listed over {:?}",
            state.popup
        );
    }
    let takes_text = matches!(
        state.popup,
        Some(Popup::Prompt(_) | Popup::Image(_) | Popup::LogFilter(_))
    );
    prop_assert!(
        !(takes_text && labels.contains(&"R")),
        "R is a letter in a field: {labels:?}"
    );
    for listed in keys {
        let mut after = state.clone();
        // The question has been on screen long enough to be read.
        let at = driver.console.wall + std::time::Duration::from_secs(5);
        after.question_shown = Some(driver.console.wall);
        let now = driver.console.now();
        let commands = update(
            &mut after,
            Msg::Key {
                key: listed.key,
                now,
                at,
            },
        );
        let did = effect(state, &after, &commands)
            .or_else(|| (after.popup.is_none()).then(|| "closed the popup".to_string()));
        let said = after
            .flash
            .as_ref()
            .map(|f| f.text.clone())
            .unwrap_or_default();
        match listed.label {
            // A yes does what was asked, or the guard refuses it on evidence that moved.
            "y" => prop_assert!(
                did.as_deref().is_some_and(|d| d != "closed the popup")
                    || said.starts_with("refused"),
                "y is listed over {:?} but {did:?} ({said:?})",
                state.popup
            ),
            label => prop_assert!(
                did.is_some(),
                "{label} is listed over {:?} but did nothing ({said:?})",
                state.popup
            ),
        }
    }
    Ok(())
}

#[test]
fn a_paste_is_text_in_the_prompt_and_never_applies_or_confirms() {
    let mut console = Console::new();
    console.press(ch('%'));
    // Pasting "60⏎⏎y" once staged 60, applied it and answered the large-jump question.
    assert!(console.paste("60\r\ny\n").is_empty());
    match &console.state.popup {
        Some(Popup::Prompt(prompt)) => {
            assert_eq!(prompt.input.value(), "60y");
            assert!(prompt.error.is_some(), "60y is no share");
        }
        other => panic!("the prompt stays open: {other:?}"),
    }
    assert_eq!(console.state.shift.staged(), None, "nothing staged");
    // Outside a prompt a paste does nothing, and says so.
    console.press(key(KeyCode::Esc));
    assert!(console.paste("l\r").is_empty());
    assert_eq!(console.state.shift.staged(), None);
    assert!(
        console
            .state
            .flash
            .as_ref()
            .is_some_and(|f| f.text.contains("a paste is typed only into a prompt")),
        "{:?}",
        console.state.flash
    );
    assert!(writes(&console.commands).is_empty());
}

#[test]
fn the_deploy_prompt_takes_only_a_new_image_reference_and_says_why_not() {
    let mut console = Console::with_scenario(cutover::platform::sim::Scenario::Healthy, 4);
    console.press(ch('D'));
    let deploys = |commands: &[Command]| {
        commands
            .iter()
            .filter(|c| matches!(c, Command::Deploy { .. }))
            .count()
    };
    let error = |console: &Console| match &console.state.popup {
        Some(Popup::Image(prompt)) => prompt.error.clone().unwrap_or_default(),
        other => panic!("the prompt stays open: {other:?}"),
    };
    // A stray Enter on the prefilled image deploys nothing.
    assert_eq!(deploys(&console.press(key(KeyCode::Enter))), 0);
    assert!(
        error(&console).contains("runs example/shop:1.5.0 already"),
        "{}",
        error(&console)
    );
    for (typed, why) in [
        ("ex/shop:1.0;echo", "is not an image reference"),
        ("shop:", "is not an image reference"),
        ("shop", "names no version"),
    ] {
        for _ in 0..40 {
            console.press(key(KeyCode::Backspace));
        }
        console.type_text(typed);
        assert_eq!(deploys(&console.press(key(KeyCode::Enter))), 0, "{typed}");
        assert!(
            error(&console).contains(why),
            "{typed}: {}",
            error(&console)
        );
    }
    // A moving tag is said once: the rollback target could change under the same name.
    for _ in 0..40 {
        console.press(key(KeyCode::Backspace));
    }
    console.type_text("example/shop:latest");
    assert_eq!(deploys(&console.press(key(KeyCode::Enter))), 0);
    assert!(
        error(&console).contains("names a moving tag") && error(&console).contains("Enter again"),
        "{}",
        error(&console)
    );
    // Another image is judged afresh; a pinned one goes at once.
    for _ in 0..40 {
        console.press(key(KeyCode::Backspace));
    }
    console.type_text("example/shop:1.6.0");
    assert_eq!(deploys(&console.press(key(KeyCode::Enter))), 1);
}

#[test]
fn a_moving_tag_deploys_on_a_second_enter_after_the_warning() {
    let mut console = Console::with_scenario(cutover::platform::sim::Scenario::Healthy, 4);
    console.press(ch('D'));
    for _ in 0..40 {
        console.press(key(KeyCode::Backspace));
    }
    console.type_text("registry.local:5000/shop:latest");
    let deploys = |commands: Vec<Command>| {
        commands
            .iter()
            .filter(|c| matches!(c, Command::Deploy { .. }))
            .count()
    };
    assert_eq!(
        deploys(console.press(key(KeyCode::Enter))),
        0,
        "warned first"
    );
    assert_eq!(
        deploys(console.press(key(KeyCode::Enter))),
        1,
        "then deployed"
    );
    assert!(!cutover::app::moving_tag("registry.local:5000/shop:1.6.0"));
    assert!(!cutover::app::moving_tag("shop:latest@sha256:abc"));
}

#[test]
fn the_guards_verdict_stays_after_its_rollback_until_the_next_move() {
    let mut console = after_a_guard_rollback();
    let breach = console.state.breach.clone();
    assert!(
        breach
            .as_ref()
            .is_some_and(|(_, side, why)| *side == Color::Green && why.starts_with("5xx: green")),
        "{breach:?}"
    );
    // The next move toward green starts a new judgement (after the question about the
    // rejected build).
    console.press(ch('l'));
    console.press(key(KeyCode::Enter));
    console.press(ch('y'));
    console.finish_write(w(10));
    assert_eq!(console.state.breach, None);
}

/// A console whose plan the guard rolled back: green's build is rejected.
fn after_a_guard_rollback() -> Console {
    let mut console = Console::with_scenario(cutover::platform::sim::Scenario::BadGreen, 4);
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    console.press(ch('a'));
    console.finish_write(w(10));
    let later = console.now().plus(std::time::Duration::from_secs(4 * 60));
    console.world.advance_to(later);
    console.observe();
    console.fetch_metrics();
    console.finish_write(w(0));
    console.state.plan = None;
    console
}

#[test]
fn traffic_toward_a_build_the_guard_rejected_asks_first_and_names_it() {
    let mut console = after_a_guard_rollback();
    let green = console.world.observation().green.service;
    // The rollback's audit line carries the rejected build, for the next console to read.
    let rejected = audits(&console.commands)
        .into_iter()
        .find_map(|line| line.rejected)
        .expect("the rollback's line names the rejected build");
    assert_eq!(
        (rejected.image.as_str(), rejected.revision.as_str()),
        (green.image.as_str(), green.task_definition.as_str())
    );

    // (P waits for evidence the guard can judge by first: not offered yet, nothing asked.)
    for (keys, what) in [(vec![ch('l'), key(KeyCode::Enter)], "l, Enter")] {
        let mut sent = Vec::new();
        for k in keys {
            sent.extend(console.press(k));
        }
        assert!(writes(&sent).is_empty(), "{what} wrote: {sent:?}");
        let Some(Popup::Confirm(Confirm::Revision { warning, .. })) = &console.state.popup else {
            panic!("{what} asks first: {:?}", console.state.popup);
        };
        assert!(
            warning.contains(&green.image)
                && warning.contains(&green.task_definition)
                && warning.contains("rejected by the guard at")
                && warning.contains("5xx"),
            "{warning}"
        );
        assert!(console.press(ch('n')).is_empty());
        console.press(key(KeyCode::Esc));
    }
    // A yes moves traffic, and is not asked again for that build.
    console.press(ch('l'));
    console.press(key(KeyCode::Enter));
    assert_eq!(
        writes(&console.press(ch('y'))),
        [(WriteKind::Apply, w(0), w(10))]
    );
    console.finish_write(w(10));
    console.press(ch('l'));
    console.press(key(KeyCode::Enter));
    assert!(
        !matches!(
            console.state.popup,
            Some(Popup::Confirm(Confirm::Revision { .. }))
        ),
        "asked once for that build"
    );
}

#[test]
fn adopting_an_older_revision_asks_first() {
    // After a full cycle blue is the candidate and still runs the old build.
    let mut console = Console::swapped();
    let read = console.world.observation();
    let (old, live) = (read.blue.service, read.green.service);
    // As if the guard had judged blue's build ok earlier in the session: adopt is offered.
    console.state.judged_ok.push(old.task_definition.clone());
    // (P waits for evidence on blue first: the guard refuses promote before any question.)
    let sent = console.press(ch('A'));
    assert!(operator_writes(&sent).is_empty(), "{sent:?}");
    let Some(Popup::Confirm(Confirm::Revision { warning, .. })) = &console.state.popup else {
        panic!("A asks first: {:?}", console.state.popup);
    };
    assert_eq!(
        warning,
        &format!(
            "{} ({}) is older than the live {} ({})",
            old.image, old.task_definition, live.image, live.task_definition
        )
    );
    console.press(key(KeyCode::Esc));
    // Yes to the warning, then the adopt's own question.
    console.press(ch('A'));
    console.press(ch('y'));
    assert!(matches!(
        console.state.popup,
        Some(Popup::Confirm(Confirm::Adopt { .. }))
    ));
}

#[test]
fn a_finished_plan_waits_for_a_new_build_instead_of_sending_traffic_back_to_the_old_one() {
    // After a full cycle the roles swapped: blue is idle and still runs the old build.
    let mut console = Console::swapped();
    let mut plan = cutover::cmd::demo::demo_plan();
    plan.state = PlanState::Done;
    console.state.plan = Some(plan);
    assert!(writes(&console.press(ch('a'))).is_empty());
    let flash = flash_text(&console);
    assert!(flash.contains("deploy a new build (D)"), "{flash}");
    // A deploy re-arms it.
    if let Some(plan) = console.state.plan.as_mut() {
        plan.rearm();
    }
    // (The simulated blue was not redeployed: its build is still older, and that is asked.)
    assert!(writes(&console.press(ch('a'))).is_empty());
    assert_eq!(writes(&console.press(ch('y'))).len(), 1);
}

#[test]
fn a_deploys_audit_line_names_the_service_the_images_and_the_revisions() {
    let mut console = Console::with_scenario(cutover::platform::sim::Scenario::Healthy, 4);
    console.press(ch('D'));
    let commands = console.deploy_typed("example/shop:1.6.0");
    let line = audits(&commands).pop().expect("the deploy's line");
    assert_eq!(line.action, "deploy");
    assert_eq!(
        line.reason.as_deref(),
        Some("shop-green: example/shop:1.5.0 → example/shop:1.6.0, shop:8 → shop:9")
    );
}

#[test]
fn a_yes_typed_ahead_of_the_question_does_not_answer_it() {
    let mut console = Console::carrying(10);
    // "%60⏎⏎y" typed in one burst: staged, applied, and the large-jump question opens; the y
    // came before anyone could have read it.
    let sent = console.type_ahead(&[
        ch('%'),
        ch('6'),
        ch('0'),
        key(KeyCode::Enter),
        key(KeyCode::Enter),
        ch('y'),
    ]);
    assert!(writes(&sent).is_empty(), "{sent:?}");
    assert!(matches!(
        console.state.popup,
        Some(Popup::Confirm(Confirm::LargeJump { .. }))
    ));
    let said = console.state.flash.as_ref().map(|f| f.text.clone());
    assert!(
        said.is_some_and(|s| s.contains("before the question could be read")),
        "the console says why the y did nothing"
    );
    // Read, then answered.
    let sent = console.press(ch('y'));
    assert_eq!(writes(&sent), vec![(WriteKind::Apply, w(10), w(60))]);
}

#[test]
fn a_question_never_drawn_takes_no_yes() {
    let mut console = Console::carrying(10);
    console.press(ch('P'));
    assert!(console.state.popup.is_some());
    // A screen too small to show it: the runtime never says it was drawn.
    console.state.question_shown = None;
    let at = console.wall + std::time::Duration::from_secs(5);
    let now = console.now();
    let sent = update(
        &mut console.state,
        Msg::Key {
            key: ch('y'),
            now,
            at,
        },
    );
    assert!(writes(&sent).is_empty(), "{sent:?}");
    // n is always heard: declining is never dangerous.
    console.press(ch('n'));
    assert!(console.state.popup.is_none());
}

/// The screen as drawn now.
fn screen_now(console: &Console) -> String {
    support::drawn(&console.state, 160, 48)
}

#[test]
fn staged_words_leave_the_status_line_once_applied() {
    let mut console = Console::carrying(10);
    console.press(ch('%'));
    console.type_text("20");
    console.press(key(KeyCode::Enter));
    assert!(screen_now(&console).contains("staged 80/20 (blue/green): Enter applies"));
    console.press(key(KeyCode::Enter));
    console.finish_write(w(20));
    let screen = screen_now(&console);
    assert!(!screen.contains("Enter applies"), "{screen}");
}

#[test]
fn a_failed_plan_step_is_not_reported_once_its_retry_is_under_way() {
    let mut console = Console::new();
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    console.press(ch('a'));
    write_fails(&mut console, throttled());
    assert!(flash_text(&console).contains("plan step failed"));
    let Some(PlanState::Retrying { next_at, .. }) =
        console.state.plan.as_ref().map(|p| p.state.clone())
    else {
        panic!("the step is retried");
    };
    let wait = next_at.since(console.now()).as_secs() + 1;
    seconds_later(&mut console, wait);
    assert_eq!(writes(&tick(&mut console)).len(), 1);
    console.finish_write(w(10));
    // (The event log keeps the failure: it is history there.)
    let said = flash_text(&console);
    assert!(!said.contains("failed"), "{said}");
}

#[test]
fn the_plan_line_after_a_rollback_in_the_bake_says_what_holds_now() {
    let mut console = Console::carrying(100);
    let mut plan = cutover::cmd::demo::demo_plan();
    plan.state = PlanState::Done;
    plan.toward = Some(Color::Green);
    console.state.plan = Some(plan);
    console.press(ch('R'));
    console.finish_write(w(0));
    let screen = screen_now(&console);
    assert!(!screen.contains("green carries all traffic"), "{screen}");
    assert!(screen.contains("green carries 0% now"), "{screen}");
}

#[test]
fn the_scale_question_says_what_the_side_carries_now_and_refuses_once_it_carries_traffic() {
    let mut console = Console::new();
    console.press(ch('S'));
    assert!(screen_now(&console).contains("It carries no traffic"));
    // Someone moves 10% to green while the question is open.
    console.world.set_weights(w(10));
    console.observe();
    let screen = screen_now(&console);
    assert!(screen.contains("It carries 10% NOW"), "{screen}");
    let sent = console.press(ch('y'));
    assert!(operator_writes(&sent).is_empty(), "{sent:?}");
    let said = flash_text(&console);
    assert!(said.contains("not scaled: green carries 10% now"), "{said}");
}

#[test]
fn another_operators_lock_raises_the_banner_with_the_key_that_still_works() {
    let mut console = Console::carrying(10);
    console.press(ch('l'));
    console.press(key(KeyCode::Enter));
    let holder = "bob@bastion pid 4242 until 22:14:00 UTC";
    write_fails(
        &mut console,
        PlatformError::Locked {
            holder: holder.into(),
        },
    );
    let banner = console.state.banner(None).unwrap_or_default();
    assert!(
        banner.contains(&format!("LOCKED by {holder}")) && banner.contains("R still rolls back"),
        "{banner}"
    );
    assert_eq!(
        writes(&console.press(ch('R'))),
        [(WriteKind::Rollback, w(10), w(0))]
    );
    console.finish_write(w(0));
    assert_eq!(console.state.banner(None), None, "our write landed");
}

#[test]
fn a_deploy_over_a_deploy_still_rolling_out_asks_first() {
    let mut console = Console::with_scenario(cutover::platform::sim::Scenario::Healthy, 4);
    console.press(ch('D'));
    console.deploy_typed("example/shop:1.6.0");
    console.observe();
    assert_eq!(
        console.state.rollout_in_flight().as_deref(),
        Some("example/shop:1.6.0")
    );
    console.press(ch('D'));
    for _ in 0..40 {
        console.press(key(KeyCode::Backspace));
    }
    console.type_text("example/shop:1.7.0");
    let sent = console.press(key(KeyCode::Enter));
    assert_eq!(deploys(&sent), 0, "{sent:?}");
    assert!(
        matches!(
            &console.state.popup,
            Some(Popup::Confirm(Confirm::DeployOver { image, rolling }))
                if image == "example/shop:1.7.0" && rolling == "example/shop:1.6.0"
        ),
        "{:?}",
        console.state.popup
    );
    assert!(screen_now(&console).contains("still rolling out"));
    assert_eq!(deploys(&console.press(ch('y'))), 1);
}

fn deploys(commands: &[Command]) -> usize {
    commands
        .iter()
        .filter(|c| matches!(c, Command::Deploy { .. }))
        .count()
}

#[test]
fn the_event_log_scrolls_filters_and_shows_errors_only_by_key() {
    let mut console = Console::carrying(10);
    for i in 0..30 {
        console.state.note(
            if i % 10 == 0 {
                cutover::domain::LogLevel::Error
            } else {
                cutover::domain::LogLevel::Info
            },
            cutover::domain::LogSource::System,
            format!("note {i}"),
        );
    }
    let view = |c: &Console| c.state.log.view().clone();
    console.press(key(KeyCode::PageUp));
    assert_eq!(view(&console).scroll, cutover::app::LOG_PAGE);
    console.press(ch('G'));
    assert_eq!(view(&console).scroll, 0);
    console.press(ch('g'));
    assert_eq!(
        view(&console).scroll,
        console.state.log.matching_count() - 1
    );
    console.press(key(KeyCode::PageDown));
    console.press(ch('G'));
    console.press(ch('e'));
    assert!(view(&console).errors_only);
    // Typed into the log's title, applied as typed; Enter keeps it.
    console.press(ch('/'));
    console.type_text("note 2");
    console.press(key(KeyCode::Enter));
    assert_eq!(view(&console).filter, "note 2");
    let texts: Vec<_> = console
        .state
        .log
        .matching()
        .map(|e| e.text.clone())
        .collect();
    assert_eq!(texts, ["note 20"]);
    assert!(screen_now(&console).contains("filter \"note 2\""));
    // Esc in the filter clears it.
    console.press(ch('/'));
    console.press(key(KeyCode::Esc));
    assert_eq!(view(&console).filter, "");
}

#[test]
fn a_plan_that_holds_says_why_again_every_minute() {
    let mut console = Console::new();
    console.state.settings.evidence.min_requests = u32::MAX / 2;
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    let commands = console.press(ch('a'));
    assert_eq!(writes(&commands), [(WriteKind::PlanStep, w(0), w(10))]);
    console.finish_write(w(10));
    let reminders = |console: &Console| {
        console
            .state
            .log
            .newest_first()
            .filter(|e| e.text.starts_with("plan still holds before 25% green"))
            .count()
    };
    for _ in 0..(8 * 60) {
        seconds_later(&mut console, 1);
        tick(&mut console);
    }
    assert!(logged(&console, "plan holds before 25% green"));
    // Held from the end of the two-minute bake: about six minutes, one line a minute.
    let said = reminders(&console);
    assert!((5..=7).contains(&said), "{said} reminders");
}

#[test]
fn a_console_opened_from_the_fleet_list_goes_back_to_it_with_q_or_esc() {
    // A split: the list keeps watching it, so nothing is asked.
    let mut console = Console::carrying(10);
    console.state.settings.back_to_list = true;
    assert_eq!(console.press(key(KeyCode::Esc)), [Command::Quit]);
    let mut console = Console::carrying(10);
    console.state.settings.back_to_list = true;
    assert_eq!(console.press(ch('q')), [Command::Quit]);
    // Esc with a split staged drops it first, as anywhere.
    let mut console = Console::carrying(10);
    console.state.settings.back_to_list = true;
    console.press(key(KeyCode::Right));
    assert!(console.state.shift.staged().is_some());
    assert!(console.press(key(KeyCode::Esc)).is_empty());
    assert!(console.state.shift.staged().is_none() && !console.state.quit);
    // A running plan stops when its console goes: that is still asked.
    let mut console = Console::new();
    console.state.settings.back_to_list = true;
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    console.press(ch('a'));
    console.finish_write(w(10));
    assert!(console.press(key(KeyCode::Esc)).is_empty());
    assert!(matches!(
        console.state.popup,
        Some(Popup::Confirm(Confirm::Quit))
    ));
    // Without the list, Esc never quits.
    let mut console = Console::carrying(10);
    assert!(console.press(key(KeyCode::Esc)).is_empty());
    assert!(!console.state.quit);
}

#[test]
fn quitting_with_traffic_split_or_a_plan_running_asks_once() {
    // All traffic on one side, no plan: q quits at once.
    let mut console = Console::new();
    assert_eq!(console.press(ch('q')), [Command::Quit]);

    // A split: asked; n stays, and nothing is written.
    let mut console = Console::carrying(10);
    assert!(console.press(ch('q')).is_empty());
    assert!(matches!(
        console.state.popup,
        Some(Popup::Confirm(Confirm::Quit))
    ));
    let question = cutover::app::AppState::leaving_unwatched(&console.state).expect("a reason");
    assert!(
        question.contains("90/10 (blue/green) stays split"),
        "{question}"
    );
    assert!(console.press(ch('n')).is_empty());
    assert!(!console.state.quit);
    // Asked once: q (or Ctrl-C) again quits.
    console.press(ch('q'));
    assert_eq!(console.press(ch('q')), [Command::Quit]);
    let mut console = Console::carrying(10);
    let ctrl_c = crossterm::event::KeyEvent::new(
        KeyCode::Char('c'),
        crossterm::event::KeyModifiers::CONTROL,
    );
    assert!(console.press(ctrl_c).is_empty());
    assert_eq!(console.press(ctrl_c), [Command::Quit]);

    // A plan running: Space from the question pauses it, and the console stays.
    let mut console = Console::new();
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    console.press(ch('a'));
    console.finish_write(w(10));
    console.press(ch('q'));
    assert!(
        console
            .state
            .leaving_unwatched()
            .is_some_and(|why| why.starts_with("a plan is running at 90/10")),
    );
    console.press(ch(' '));
    assert!(console.state.popup.is_none() && !console.state.quit);
    assert!(matches!(
        console.state.plan.as_ref().map(|p| &p.state),
        Some(PlanState::Paused { .. })
    ));
    assert!(
        console
            .state
            .leaving_words()
            .contains("left 90/10 (blue/green) as last read; plan paused"),
        "{}",
        console.state.leaving_words()
    );
}

#[test]
fn a_console_that_cannot_write_quits_at_once_whatever_the_split() {
    let mut console = Console::carrying(10);
    console.state.settings.read_only = true;
    assert_eq!(console.press(ch('q')), [Command::Quit]);
}

#[test]
fn adopt_is_offered_only_for_a_build_the_guard_judged_ok_while_it_carried_traffic() {
    // Green is up and idle, and has never served a request.
    let mut console = Console::new();
    let sent = console.press(ch('A'));
    assert!(operator_writes(&sent).is_empty() && console.state.popup.is_none());
    let said = flash_text(&console);
    assert!(
        said.contains("the guard has not judged it ok while it carried traffic"),
        "{said}"
    );
    // Four minutes at 10% with ok evidence: judged; back at 0%, adopt asks, naming both builds.
    let mut console = Console::carrying(10);
    assert!(
        console.state.judged_ok.contains(&"shop:8".to_string()),
        "{:?}",
        console.state.judged_ok
    );
    console.press(ch('R'));
    console.finish_write(w(0));
    console.observe();
    console.press(ch('A'));
    assert!(matches!(
        console.state.popup,
        Some(Popup::Confirm(Confirm::Adopt { .. }))
    ));
}

#[test]
fn a_key_that_does_nothing_says_so() {
    let mut console = Console::new();
    for c in [':', 'j', 'k'] {
        assert!(console.press(ch(c)).is_empty());
        assert_eq!(
            flash_text(&console),
            format!("no key {c} — ? lists the keys")
        );
    }
}

#[test]
fn keys_that_would_only_be_refused_are_not_offered_and_say_why() {
    use cutover::app::{Action, availability};
    // Read-only: nothing to stage.
    let mut console = Console::new();
    console.state.settings.read_only = true;
    for action in [Action::StageUp, Action::TypePercent] {
        let why = availability(&console.state, action);
        assert!(!why.is_available(), "{action:?}");
        assert!(
            why.reason().is_some_and(|r| r.contains("nothing to stage")),
            "{why:?}"
        );
    }
    // Before any evidence on green, promote is refused by the guard: not offered.
    let console = Console::new();
    let why = availability(&console.state, Action::Promote);
    assert!(
        why.reason()
            .is_some_and(|r| r.starts_with("promote is refused")),
        "{why:?}"
    );
    // A worse candidate: a plan would roll back at once, so `a` is not "plan".
    let mut console = Console::carrying_in(cutover::platform::sim::Scenario::BadGreen, 10);
    console.state.plan = Some(cutover::cmd::demo::demo_plan());
    let why = availability(&console.state, Action::StartPlan);
    assert!(
        why.reason()
            .is_some_and(|r| r.contains("is WORSE") && r.contains("R rolls back")),
        "{why:?}"
    );
}

#[test]
fn a_status_line_goes_when_the_next_key_acts() {
    let mut console = Console::carrying(10);
    console.press(ch('l'));
    console.press(key(KeyCode::Esc));
    assert!(flash_text(&console).contains("dropped the staged split"));
    // The next key that acts replaces it: the line about the drop is not left up.
    console.press(ch('?'));
    assert_eq!(flash_text(&console), "");
}

#[test]
fn the_turn_to_worse_is_one_event_and_the_banner_says_since_when() {
    let console = Console::carrying_in(cutover::platform::sim::Scenario::SlowGreen, 10);
    let turns = |console: &Console| {
        console
            .state
            .log
            .newest_first()
            .filter(|e| e.text.contains("green turned WORSE at 10%"))
            .count()
    };
    assert_eq!(turns(&console), 1);
    let since = console.state.worse_since.expect("since when");
    let evidence = console.state.evidence();
    let banner = console.state.banner(evidence.as_ref()).unwrap_or_default();
    assert!(
        banner.contains(&format!("WORSE at 10% since {}", since.clock_utc())),
        "{banner}"
    );
    // Another poll with the verdict still worse says nothing new.
    let mut console = console;
    console.fetch_metrics();
    console.observe();
    assert_eq!(turns(&console), 1);
    assert_eq!(console.state.worse_since, Some(since));
}

#[test]
fn an_outside_change_toward_the_candidate_is_a_banner_until_judged_and_one_away_is_not() {
    let mut console = Console::with_scenario(cutover::platform::sim::Scenario::Healthy, 4);
    console.world.set_weights(w(30));
    console.observe();
    let (_, from, to) = console.state.outside_change.expect("the banner's change");
    assert_eq!((from, to), (w(0), w(30)));
    // Rolled back by hand outside cutover: nothing unjudged carries traffic any more.
    console.world.set_weights(w(0));
    console.observe();
    assert_eq!(console.state.outside_change, None);
    assert!(logged(&console, "changed outside cutover: 70/30 → 100/0"));
}

#[test]
fn a_lock_read_by_a_poll_is_said_and_goes_when_freed() {
    let mut console = Console::carrying(10);
    let mut observation = console.world.observation();
    observation.lock_holder = Some("bob@ci pid 7 until 07:20:00 UTC".into());
    console.observe_with(observation);
    assert_eq!(
        console.state.locked_by.as_deref(),
        Some("bob@ci pid 7 until 07:20:00 UTC")
    );
    assert!(logged(
        &console,
        "bob@ci pid 7 until 07:20:00 UTC holds the lock"
    ));
    console.observe();
    assert_eq!(console.state.locked_by, None);
    assert!(logged(&console, "the lock is free again"));
}

// ECS-native: the driver that moves its own weights, on the simulator's ECS.

fn steps(commands: &[Command]) -> Vec<cutover::domain::GateStep> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Steer(step) => Some(step.clone()),
            _ => None,
        })
        .collect()
}

fn deployment_status(console: &Console) -> Option<String> {
    console
        .state
        .observation
        .as_ref()
        .and_then(|o| o.driver.native())
        .and_then(|n| n.deployment.as_ref())
        .map(|d| d.status.clone())
}

#[test]
fn a_native_linear_deployment_is_stepped_through_five_gates_by_keypress() {
    use cutover::domain::{GateAction, GateStep};
    let mut console = Console::with_scenario(Scenario::NativeLinear, 0);
    let mut hooks = Vec::new();
    for expected in [20, 40, 60, 80, 100] {
        console.until_a_gate();
        // The evidence needs the new split judged: a minute of it at every gate.
        console.later(60);
        assert_eq!(console.press(ch('c')), Vec::new(), "c asks first");
        let Some(Popup::Confirm(Confirm::ContinueGate { to, .. })) = &console.state.popup else {
            panic!("no question: {:?}", flash_text(&console));
        };
        assert_eq!(to.green(), expected);
        let sent = console.press(ch('y'));
        let step = steps(&sent);
        let [
            GateStep::Answer {
                hook_id,
                action: GateAction::Continue,
                ..
            },
        ] = step.as_slice()
        else {
            panic!("not one continue: {sent:?}");
        };
        hooks.push(hook_id.clone());
        // Audited ahead: the attempt line leaves before the step.
        let attempt = sent.iter().position(
            |c| matches!(c, Command::Audit(e) if e.result == cutover::audit::AuditResult::Attempt),
        );
        let steer = sent.iter().position(|c| matches!(c, Command::Steer(_)));
        assert!(attempt < steer && attempt.is_some(), "{sent:?}");
        console.steered(&sent);
        assert!(
            audits(&console.commands)
                .iter()
                .any(|e| e.action == "continue" && e.result == cutover::audit::AuditResult::Applied)
        );
        console.later(5);
        assert_eq!(console.state.shift.current(), Some(w(expected)));
        assert!(logged(&console, "ECS moved the weights"));
        assert!(!logged(&console, "changed outside cutover"));
    }
    hooks.dedup();
    assert_eq!(hooks.len(), 5, "a fresh hook id at every gate");
    console.later(400);
    assert_eq!(deployment_status(&console).as_deref(), Some("SUCCESSFUL"));
    assert!(
        console
            .commands
            .iter()
            .all(|c| !matches!(c, Command::Write(_)))
    );
    // ECS scales the old revision down itself: S is not cutover's to offer here.
    console.later(120);
    let observation = console.state.observation.as_ref().expect("read");
    assert_eq!(observation.blue.service.desired, 0);
    assert!(
        !cutover::app::availability(&console.state, cutover::app::Action::ScaleIdle).is_available()
    );
}

#[test]
fn on_a_native_service_the_weight_keys_write_nothing_and_say_who_moves_them() {
    let mut console = Console::with_scenario(Scenario::NativeLinear, 4);
    for key_event in [key(KeyCode::Right), ch('%'), ch('P'), key(KeyCode::Enter)] {
        let commands = console.press(key_event);
        assert!(writes(&commands).is_empty() && steps(&commands).is_empty());
        assert!(
            flash_text(&console).contains("ECS moves the weights of shop/shop"),
            "{}",
            flash_text(&console)
        );
    }
    assert!(console.state.popup.is_none());
}

#[test]
fn rollback_on_a_native_service_answers_the_gate_or_stops_the_deployment() {
    use cutover::domain::{GateAction, GateStep};
    // At a gate: the gate is answered ROLLBACK, at once, no question.
    let mut console = Console::with_scenario(Scenario::NativeLinear, 0);
    console.until_a_gate();
    let sent = console.press(ch('R'));
    assert!(matches!(
        steps(&sent).as_slice(),
        [GateStep::Answer {
            action: GateAction::Rollback,
            ..
        }]
    ));
    console.steered(&sent);
    console.later(5);
    assert_eq!(
        deployment_status(&console).as_deref(),
        Some("ROLLBACK_SUCCESSFUL")
    );

    // Mid-step, with a continue in flight: the rollback is queued behind it, then stops the
    // deployment (no gate waits any more).
    let mut console = Console::with_scenario(Scenario::NativeCanary, 0);
    console.until_a_gate();
    console.later(60);
    console.press(ch('c'));
    let sent = console.press(ch('y'));
    assert_eq!(steps(&sent).len(), 1);
    assert!(
        steps(&console.press(ch('R'))).is_empty(),
        "queued, not sent twice"
    );
    assert!(logged(&console, "rollback queued"));
    let after = console.steered(&sent);
    let queued = steps(&after);
    assert!(
        matches!(queued.as_slice(), [GateStep::Stop { .. }]),
        "{after:?}"
    );
    console.steered(&after);
    console.later(5);
    assert_eq!(console.state.shift.current(), Some(w(0)));
    assert_eq!(
        deployment_status(&console).as_deref(),
        Some("ROLLBACK_SUCCESSFUL")
    );
}

#[test]
fn native_bad_is_refused_at_the_first_gate_and_the_autopilot_rolls_back() {
    use cutover::domain::{GateAction, GateStep};
    let mut console = Console::with_scenario(Scenario::NativeBad, 0);
    console.until_a_gate();
    // ECS's test traffic has reached the new revision: its 5xx is judged before production.
    console.later(60);
    assert!(steps(&console.press(ch('c'))).is_empty());
    assert!(console.state.popup.is_none());
    let flash = flash_text(&console);
    assert!(
        flash.starts_with("continue is refused: green is worse"),
        "{flash}"
    );
    // The autopilot, started as the deployment begins, rolls back at that gate once the
    // evidence is worse, without waiting for its bake.
    let mut console = Console::with_scenario(Scenario::NativeBad, 0);
    console.press(ch('a'));
    assert!(logged(&console, "plan started"));
    console.until_a_gate();
    console.later(60);
    // Caught on ECS's test traffic, at the gate or before it: never a continue.
    let sent = steps(&console.commands);
    assert!(
        matches!(
            sent.as_slice(),
            [GateStep::Answer {
                action: GateAction::Rollback,
                ..
            } | GateStep::Stop { .. }]
        ),
        "{sent:?}"
    );
    assert!(logged(&console, "plan: green is worse, rolling back"));
    assert_eq!(
        console.state.shift.current(),
        Some(w(0)),
        "no production traffic moved"
    );
}

#[test]
fn on_a_weighted_pair_c_says_there_is_no_gate() {
    let mut console = Console::carrying(10);
    assert!(console.press(ch('c')).is_empty());
    assert!(
        flash_text(&console).contains("weighted pair")
            || flash_text(&console).contains("cutover writes this pair")
    );
    assert!(steps(&console.commands).is_empty());
}

#[test]
fn a_native_rollback_that_is_throttled_goes_again_by_itself() {
    use cutover::domain::GateStep;
    let mut console = Console::with_scenario(Scenario::NativeLinear, 0);
    console.until_a_gate();
    let sent = console.press(ch('R'));
    let [step] = steps(&sent).try_into().expect("one rollback step");
    let now = console.now();
    update(
        &mut console.state,
        Msg::Steered {
            now,
            step,
            result: Err(throttled()),
        },
    );
    assert!(
        logged(&console, "rollback attempt 1/"),
        "said and scheduled"
    );
    // Once its backoff is over, the rollback goes again, unasked.
    let again = console.later(20);
    assert!(
        matches!(steps(&again).as_slice(), [GateStep::Answer { .. }]),
        "{again:?}"
    );
}
