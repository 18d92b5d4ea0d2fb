use std::time::Instant;

use crossterm::event::KeyEvent;

use crate::domain::{
    AuditEvent, DeployReport, Driver, GateStep, MetricsSnapshot, Observation, PlatformError,
    ScaleReport, Timestamp, Weights,
};
use crate::shift::WriteRequest;

/// Everything that happens to the console. Each message carries the time it happened at, so
/// `update` never reads a clock.
// A few messages a second pass through one channel; boxing the large ones buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Msg {
    Key {
        key: KeyEvent,
        now: Timestamp,
        /// When the key was read, on the machine's clock: a question takes no answer read
        /// before it could have been read itself (type-ahead).
        at: Instant,
    },
    /// The open question was drawn on the screen at `at` (sent only when it was).
    QuestionDrawn {
        at: Instant,
    },
    /// The 1 s tick: ages and timers move on.
    Tick {
        now: Timestamp,
    },
    Observed {
        now: Timestamp,
        /// When the read started: a read that started before the latest write was read back
        /// may hold the weights from before it, and never replaces that read-back.
        started: Timestamp,
        result: Result<Observation, PlatformError>,
    },
    MetricsFetched {
        now: Timestamp,
        result: Result<MetricsSnapshot, PlatformError>,
    },
    /// The write in flight finished: the weights read back after it, or why it failed.
    WriteFinished {
        now: Timestamp,
        result: Result<Weights, PlatformError>,
    },
    /// Something the operator must know about the write in flight: a rollback wrote without
    /// the operator lock (another holder, tags AWS refused), or the answer was lost and a
    /// re-read found it applied. Comes before its `WriteFinished`.
    WriteNoted {
        now: Timestamp,
        note: String,
    },
    /// A deploy to the idle side was asked for: what it did, or why not.
    Deployed {
        now: Timestamp,
        result: Result<DeployReport, PlatformError>,
    },
    Scaled {
        now: Timestamp,
        result: Result<ScaleReport, PlatformError>,
    },
    Adopted {
        now: Timestamp,
        result: Result<DeployReport, PlatformError>,
    },
    /// A gate step (continue, roll back, stop) was answered: the driver read back after it.
    Steered {
        now: Timestamp,
        step: GateStep,
        result: Result<Driver, PlatformError>,
    },
    Resized,
    /// Text the operator pasted (bracketed paste): typed into an open prompt, never a key.
    Paste {
        text: String,
    },
    /// A signal asked the run to end (SIGTERM, SIGHUP, SIGINT): like `q`.
    Stop {
        now: Timestamp,
    },
}

/// What the shell should do for the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A compare-and-set write of the weights, then a read-back.
    Write(WriteRequest),
    /// A gate step for a driver that moves its own weights (ECS-native), then a read-back.
    Steer(GateStep),
    /// Read the state again now instead of at the next refresh.
    RefreshState,
    /// Deploy this image to the idle side.
    Deploy {
        image: String,
    },
    ScaleIdle {
        desired: u32,
    },
    Adopt,
    /// Ctrl-Z: give the terminal back and stop until `fg`.
    Suspend,
    /// One line for the audit log: it leaves the core like every other effect.
    Audit(AuditEvent),
    Quit,
}
