//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod moto;
pub mod pty;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use cutover::app::{AppState, Command, Msg, Settings, update};
use cutover::domain::{Observation, Timestamp, Weights};
use cutover::platform::SourceInfo;
use cutover::platform::sim::{Scenario, World};

/// 2026-11-27T07:05:00Z: a fixed start so screens are the same on every run.
pub const START: Timestamp = Timestamp(1_795_763_100_000);

pub fn key(code: KeyCode) -> KeyEvent {
    let modifiers = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    KeyEvent::new(code, modifiers)
}

pub fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

pub fn demo_source() -> SourceInfo {
    source_for(Scenario::Healthy)
}

pub fn source_for(scenario: Scenario) -> SourceInfo {
    SourceInfo {
        kind: cutover::domain::SourceKind::Demo,
        detail: format!("scenario {scenario} · speed 1×"),
        place: "simulated".into(),
    }
}

/// A console that has read a settled simulated world `minutes` after the demo started.
pub struct Console {
    pub state: AppState,
    pub world: World,
    pub commands: Vec<Command>,
    /// The machine's clock as keys are read: a person presses one key a second, and reads
    /// each question as it is drawn.
    pub wall: std::time::Instant,
}

impl Console {
    pub fn new() -> Self {
        Console::with_scenario(Scenario::Healthy, 2)
    }

    pub fn with_scenario(scenario: Scenario, minutes: u64) -> Self {
        let mut world = World::new(scenario, 42, START);
        world.advance_to(START.plus(std::time::Duration::from_secs(minutes * 60)));
        Console::reading(world, scenario)
    }

    /// A console whose green has carried `green`% for four minutes of a healthy world: enough
    /// requests for the evidence to say ok.
    pub fn carrying(green: u8) -> Self {
        Console::carrying_in(Scenario::Healthy, green)
    }

    /// The same in another scenario: four minutes of green's build carrying `green`%.
    pub fn carrying_in(scenario: Scenario, green: u8) -> Self {
        let mut world = World::new(scenario, 42, START);
        world.advance_to(START.plus(std::time::Duration::from_secs(120)));
        world.set_weights(Weights::with_green(green));
        world.advance_to(START.plus(std::time::Duration::from_secs(6 * 60)));
        Console::reading(world, scenario)
    }

    /// A console after a full first cycle: green has carried everything for seven minutes,
    /// past the five-minute bake, so the roles have swapped and blue is the idle side.
    pub fn swapped() -> Self {
        let mut world = World::new(Scenario::Healthy, 42, START);
        world.advance_to(START.plus(std::time::Duration::from_secs(120)));
        world.set_weights(Weights::ALL_GREEN);
        world.advance_to(START.plus(std::time::Duration::from_secs(9 * 60)));
        Console::reading(world, Scenario::Healthy)
    }

    /// A console started at `START` that has just read `world` once, state and metrics.
    fn reading(world: World, scenario: Scenario) -> Self {
        // As the demo runs: the simulated shop's alarm listed in `[guard] alarms`.
        let mut settings = Settings::default();
        settings.evidence.alarms = vec![cutover::platform::sim::CHECKOUT_ALARM.to_string()];
        let state = AppState::new(source_for(scenario), settings, START);
        let mut console = Console {
            state,
            world,
            commands: Vec::new(),
            wall: std::time::Instant::now(),
        };
        console.observe();
        console.fetch_metrics();
        console
    }

    pub fn now(&self) -> Timestamp {
        self.world.now()
    }

    /// The platform's state poll: the world as it is now reaches the console.
    pub fn observe(&mut self) -> Vec<Command> {
        let observation = self.world.observation();
        self.observe_with(observation)
    }

    pub fn observe_with(&mut self, observation: Observation) -> Vec<Command> {
        let now = self.now();
        let commands = update(
            &mut self.state,
            Msg::Observed {
                now,
                started: now,
                result: Ok(observation),
            },
        );
        self.commands.extend(commands.iter().cloned());
        commands
    }

    /// `seconds` of simulated time pass; then a state and a metrics poll.
    pub fn later(&mut self, seconds: u64) -> Vec<Command> {
        let at = self.now().plus(std::time::Duration::from_secs(seconds));
        self.world.advance_to(at);
        let mut commands = self.observe();
        commands.extend(self.fetch_metrics());
        commands
    }

    /// Polls every 10 s until ECS's gate awaits (a native console); how long it took.
    pub fn until_a_gate(&mut self) -> u64 {
        for waited in (10..=900).step_by(10) {
            self.later(10);
            let awaits = self
                .state
                .observation
                .as_ref()
                .and_then(|o| o.driver.native())
                .is_some_and(|n| n.awaiting().is_some());
            if awaits {
                return waited;
            }
        }
        panic!("no gate awaited within 15 minutes");
    }

    /// As the runtime does for each `Command::Steer` among `commands`: the world (ECS) takes
    /// the step, and the console hears its answer. Returns what the console did then.
    pub fn steered(&mut self, commands: &[Command]) -> Vec<Command> {
        let mut out = Vec::new();
        for command in commands {
            if let Command::Steer(step) = command {
                let result =
                    self.world
                        .steer(step)
                        .map_err(|message| cutover::domain::PlatformError::Api {
                            operation: "ContinueServiceDeployment".into(),
                            code: message.split(':').next().map(str::to_string),
                            message,
                        });
                let now = self.now();
                let more = update(
                    &mut self.state,
                    Msg::Steered {
                        now,
                        step: step.clone(),
                        result,
                    },
                );
                self.commands.extend(more.iter().cloned());
                out.extend(more);
            }
        }
        out
    }

    /// The metrics poll: the world's CloudWatch-like buckets reach the console.
    pub fn fetch_metrics(&mut self) -> Vec<Command> {
        let now = self.now();
        let metrics = self.world.metrics();
        let commands = update(
            &mut self.state,
            Msg::MetricsFetched {
                now,
                result: Ok(metrics),
            },
        );
        self.commands.extend(commands.iter().cloned());
        commands
    }

    /// A key pressed a second after the last, after what it answers was drawn.
    pub fn press(&mut self, event: KeyEvent) -> Vec<Command> {
        self.wall += std::time::Duration::from_secs(1);
        self.press_at(event, self.wall)
    }

    /// A key read at `at` on the machine's clock; the screen is drawn after it, as the
    /// runtime does.
    pub fn press_at(&mut self, event: KeyEvent, at: std::time::Instant) -> Vec<Command> {
        let now = self.now();
        let commands = update(
            &mut self.state,
            Msg::Key {
                key: event,
                now,
                at,
            },
        );
        self.commands.extend(commands.iter().cloned());
        if self.state.question().is_some() {
            update(&mut self.state, Msg::QuestionDrawn { at });
        }
        commands
    }

    /// Keys typed faster than anyone reads, a few milliseconds apart (type-ahead).
    pub fn type_ahead(&mut self, keys: &[KeyEvent]) -> Vec<Command> {
        let mut commands = Vec::new();
        for key in keys {
            self.wall += std::time::Duration::from_millis(5);
            commands.extend(self.press_at(*key, self.wall));
        }
        commands
    }

    /// A bracketed paste of `text`.
    pub fn paste(&mut self, text: &str) -> Vec<Command> {
        let commands = update(&mut self.state, Msg::Paste { text: text.into() });
        self.commands.extend(commands.iter().cloned());
        commands
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(ch(c));
        }
    }

    /// In the open deploy prompt: the prefilled image cleared, `image` typed, Enter; the world
    /// deploys it and the console hears back. Returns what the console did on hearing it.
    pub fn deploy_typed(&mut self, image: &str) -> Vec<Command> {
        // The cursor stands at the end of the prefilled image.
        for _ in 0..40 {
            self.press(key(KeyCode::Backspace));
        }
        self.type_text(image);
        let asked = self.press(key(KeyCode::Enter));
        assert!(
            asked.iter().any(|c| matches!(c, Command::Deploy { .. })),
            "{asked:?}"
        );
        let report = self.world.deploy(image).expect("the idle side takes it");
        let now = self.now();
        let commands = update(
            &mut self.state,
            Msg::Deployed {
                now,
                result: Ok(report),
            },
        );
        self.commands.extend(commands.iter().cloned());
        commands
    }

    /// Completes the write in flight the way the platform would: applied and read back.
    pub fn finish_write(&mut self, read_back: Weights) -> Vec<Command> {
        self.world.set_weights(read_back);
        let now = self.now();
        let commands = update(
            &mut self.state,
            Msg::WriteFinished {
                now,
                result: Ok(read_back),
            },
        );
        self.commands.extend(commands.iter().cloned());
        commands
    }
}

/// What a buffer shows, row by row.
pub fn buffer_text(buffer: &ratatui::buffer::Buffer) -> String {
    let area = buffer.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The screen `state` draws at `width`×`height`, as text.
pub fn drawn(state: &AppState, width: u16, height: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).expect("backend");
    terminal
        .draw(|frame| {
            cutover::ui::view(state, frame);
        })
        .expect("draw");
    buffer_text(terminal.backend().buffer())
}
