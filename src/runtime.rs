//! The imperative shell: the one select loop over terminal events, pollers, the write executor
//! and the tick. It renders only when the state changed, at most ~30 frames a second.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};

use crate::app::{AppState, Command, Msg, update};
use crate::audit::Auditor;
use crate::platform::{Platform, PlatformError};
use crate::shift::WriteRequest;
use crate::ui;

/// Intervals in real time (the demo divides the platform's by its speed).
#[derive(Debug, Clone, Copy)]
pub struct RuntimeConfig {
    pub refresh: Duration,
    pub metrics_refresh: Duration,
    pub tick: Duration,
    /// How often a spinner moves while a write is in flight.
    pub animation: Duration,
    /// The least time between two frames (~30 frames/s).
    pub min_frame_gap: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            refresh: Duration::from_secs(5),
            metrics_refresh: Duration::from_secs(30),
            tick: Duration::from_secs(1),
            animation: Duration::from_millis(100),
            min_frame_gap: Duration::from_millis(33),
        }
    }
}

impl RuntimeConfig {
    /// The loop's intervals for `settings`: its polls are in the platform's time, the loop
    /// counts real time, so a clock N times faster (the demo's `--speed`) is polled N times as
    /// often.
    pub fn for_settings(settings: &crate::app::Settings) -> Self {
        let speed = if settings.clock_speed.is_finite() && settings.clock_speed > 0.0 {
            settings.clock_speed
        } else {
            1.0
        };
        RuntimeConfig {
            refresh: settings.refresh.div_f64(speed),
            metrics_refresh: settings.metrics_refresh.div_f64(speed),
            ..RuntimeConfig::default()
        }
    }
}

/// Where the state is shown: a terminal, or nothing at all (headless `plan run` prints its
/// progress through the log instead).
pub trait Screen {
    /// Shows the state; true when an open question was drawn.
    fn show(&mut self, state: &AppState) -> anyhow::Result<bool>;

    /// Whether this is a terminal a person can suspend (Ctrl-Z, SIGTSTP) and resume.
    fn suspendable(&self) -> bool {
        false
    }

    /// Gives the terminal back, stops the process until it is continued (`fg`), and takes
    /// the terminal again. Nothing to do where there is no terminal.
    fn suspend(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

impl<B> Screen for Terminal<B>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
{
    fn show(&mut self, state: &AppState) -> anyhow::Result<bool> {
        let mut question = false;
        self.draw(|frame| question = ui::view(state, frame))
            .context("drawing the screen")?;
        Ok(question)
    }
}

/// No screen: a headless run.
pub struct NoScreen;

impl Screen for NoScreen {
    fn show(&mut self, _state: &AppState) -> anyhow::Result<bool> {
        Ok(false)
    }
}

/// Work under way at the edges; the loop starts at most one of each at a time.
struct InFlight {
    observing: bool,
    observe_again: bool,
    fetching_metrics: bool,
    writing: bool,
    /// A gate step (ECS-native) sent and not yet answered.
    steering: bool,
    /// Writes the core asked for while one ran. The core never does this; the executor still
    /// keeps them in order rather than dropping or overlapping them.
    queued_writes: VecDeque<WriteRequest>,
    /// Every platform call under way: owned by the loop, so none outlives it.
    tasks: JoinSet<()>,
    /// Why the audit line just written ahead of a write failed, if it did.
    unaudited: Option<String>,
}

/// Writes one audit line; the error, if it could not be written.
fn record(audit: Option<&mut Auditor>, event: crate::domain::AuditEvent) -> Option<String> {
    audit.and_then(|auditor| auditor.record(event).err())
}

/// Queues a write the core decided on, unless its attempt line could not be written: an
/// unaudited write is worse than none, so it is answered as refused without a call. A
/// rollback goes out all the same (nothing blocks a rollback), and says the audit failed.
fn queue_write(request: WriteRequest, tx: &mpsc::UnboundedSender<Msg>, work: &mut InFlight) {
    let Some(why) = work.unaudited.take() else {
        work.queued_writes.push_back(request);
        return;
    };
    let now = request.started;
    if request.kind == crate::shift::WriteKind::Rollback {
        let _ = tx.send(Msg::WriteNoted {
            now,
            note: format!("written without its audit line: {why}"),
        });
        work.queued_writes.push_back(request);
        return;
    }
    let _ = tx.send(Msg::WriteFinished {
        now,
        result: Err(PlatformError::Refused {
            reason: format!(
                "the audit log cannot be written ({why}): nothing is written to AWS without it"
            ),
        }),
    });
}

/// Runs `command` to its end; a signal (SIGTERM, SIGHUP, SIGINT) meanwhile gives it up to
/// `wait` more to finish the call in flight. `Err(())` when it did not finish in that time.
/// The headless commands that make one call run here, so that a signal never cuts an
/// answer off unaudited.
pub async fn until_signalled<F: std::future::Future>(
    command: F,
    wait: Duration,
    on_signal: impl FnOnce(),
) -> Result<F::Output, ()> {
    tokio::pin!(command);
    tokio::select! {
        output = &mut command => Ok(output),
        () = crate::signals::termination() => {
            on_signal();
            tokio::time::timeout(wait, &mut command).await.map_err(|_| ())
        }
    }
}

/// How long quitting waits for a write in flight to be answered: longer than the AWS
/// clients' own operation timeout, so the answer (or the timeout) always arrives first.
pub const QUIT_WAIT: Duration = Duration::from_secs(30);

pub async fn run<P, S, E>(
    platform: Arc<P>,
    terminal: &mut S,
    events: E,
    state: &mut AppState,
    config: RuntimeConfig,
    audit: Option<&mut Auditor>,
) -> anyhow::Result<()>
where
    P: Platform,
    S: Screen,
    E: Stream<Item = std::io::Result<Event>> + Unpin,
{
    run_until(
        platform,
        terminal,
        events,
        state,
        config,
        audit,
        futures::future::pending(),
    )
    .await
}

/// [`run`], ending like `q` when `shutdown` completes (SIGTERM, SIGHUP, Ctrl-C in headless
/// runs). Either way a write in flight is waited for (up to [`QUIT_WAIT`]) and audited
/// before this returns, so the caller can release the lock after it.
pub async fn run_until<P, T, E, S>(
    platform: Arc<P>,
    terminal: &mut T,
    mut events: E,
    state: &mut AppState,
    config: RuntimeConfig,
    mut audit: Option<&mut Auditor>,
    shutdown: S,
) -> anyhow::Result<()>
where
    P: Platform,
    T: Screen,
    E: Stream<Item = std::io::Result<Event>> + Unpin,
    S: std::future::Future<Output = ()>,
{
    let shutdown = futures::FutureExt::fuse(shutdown);
    tokio::pin!(shutdown);
    // SIGTSTP (`kill -TSTP`, a shell's suspend) on a terminal: handled, so the terminal is
    // given back before the process stops. Elsewhere it keeps its usual meaning.
    let mut stops = terminal
        .suspendable()
        .then(crate::signals::suspensions)
        .flatten();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut state_poll = Poll::new(config.refresh);
    let mut metrics_poll = Poll::new(config.metrics_refresh);
    let mut tick = interval(config.tick);
    let mut animation = interval(config.animation);
    for timer in [&mut tick, &mut animation] {
        timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    }
    let mut work = InFlight {
        observing: false,
        observe_again: false,
        fetching_metrics: false,
        writing: false,
        steering: false,
        queued_writes: VecDeque::new(),
        tasks: JoinSet::new(),
        unaudited: None,
    };

    terminal.show(state).context("drawing the first frame")?;
    state.take_dirty();
    // Set when the terminal went away: the run ends as on a quit, and says why after.
    let mut terminal_lost: Option<anyhow::Error> = None;
    let mut last_draw = Instant::now();
    let mut draw_due: Option<Instant> = None;

    loop {
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Some(Msg::Key {
                    key,
                    now: platform.now(),
                    // The loop's clock, the one `QuestionDrawn` is stamped with.
                    at: Instant::now().into_std(),
                }),
                Some(Ok(Event::Resize(_, _))) => Some(Msg::Resized),
                Some(Ok(Event::Paste(text))) => Some(Msg::Paste { text }),
                Some(Ok(_)) => None,
                // The terminal went away (an SSH session dropped: EIO): nothing can be shown
                // or typed any more, but the cleanup below still runs — the write in flight
                // waited for and audited, then the lock and the record by the caller.
                Some(Err(error)) => {
                    tracing::error!("reading the terminal: {error}; ending as on a quit");
                    terminal_lost = Some(anyhow::Error::new(error).context("reading the terminal"));
                    break;
                }
                None => break,
            },
            _ = sleep_until(state_poll.next), if !work.observing => {
                observe(&platform, &tx, &mut work);
                None
            }
            _ = sleep_until(metrics_poll.next), if !work.fetching_metrics => {
                fetch_metrics(&platform, &tx, &mut work);
                None
            }
            _ = tick.tick() => Some(Msg::Tick { now: platform.now() }),
            _ = animation.tick(), if state.animating() => Some(Msg::Tick { now: platform.now() }),
            Some(msg) = rx.recv() => Some(msg),
            _ = sleep_until(draw_due.unwrap_or_else(Instant::now)), if draw_due.is_some() => None,
            () = &mut shutdown => Some(Msg::Stop { now: platform.now() }),
            Some(()) = async { stops.as_mut()?.recv().await }, if stops.is_some() => {
                suspend(terminal, state)?;
                None
            }
        };

        // Drain everything pending, then draw once.
        let mut next = msg;
        while let Some(msg) = next {
            note_finished(&msg, &mut work);
            match &msg {
                Msg::Observed { result, .. } => state_poll.finished(result.as_ref().err()),
                Msg::MetricsFetched { result, .. } => metrics_poll.finished(result.as_ref().err()),
                _ => {}
            }
            for command in update(state, msg) {
                match command {
                    Command::Audit(event) => {
                        work.unaudited = record(audit.as_deref_mut(), event);
                    }
                    Command::Suspend => suspend(terminal, state)?,
                    command => execute(command, &platform, &tx, &mut work, state),
                }
            }
            next = rx.try_recv().ok();
        }
        start_next_write(&platform, &tx, &mut work);
        // Finished calls are reaped here; one that panicked is logged, not lost silently.
        while let Some(finished) = work.tasks.try_join_next() {
            if let Err(error) = finished {
                tracing::error!("a platform call ended abnormally: {error}");
            }
        }
        if work.observe_again && !work.observing {
            work.observe_again = false;
            observe(&platform, &tx, &mut work);
        }
        if state.quit {
            break;
        }

        if state.take_dirty() || draw_due.is_some_and(|due| due <= Instant::now()) {
            let due = last_draw + config.min_frame_gap;
            if Instant::now() >= due {
                let question = match terminal.show(state) {
                    Ok(question) => question,
                    Err(error) => {
                        // As above: a screen that cannot be drawn ends the run, never its
                        // cleanup.
                        tracing::error!("{error:#}; ending as on a quit");
                        terminal_lost = Some(error);
                        break;
                    }
                };
                last_draw = Instant::now();
                draw_due = None;
                if question {
                    let at = last_draw.into_std();
                    update(state, Msg::QuestionDrawn { at });
                }
            } else {
                draw_due = Some(due);
            }
        }
    }
    if work.writing || work.steering {
        let line = format!(
            "quitting: waiting up to {}s for the write in flight to be answered",
            QUIT_WAIT.as_secs()
        );
        tracing::warn!("{line}");
        state.flash(crate::domain::LogLevel::Warn, line);
        // Best effort: the screen may already be gone (a closed terminal).
        let _ = terminal.show(state);
        let deadline = Instant::now() + QUIT_WAIT;
        while work.writing || work.steering {
            let msg = tokio::select! {
                msg = rx.recv() => msg,
                () = sleep_until(deadline) => None,
            };
            let Some(msg) = msg else {
                tracing::error!("no answer to the write in flight: check the weights");
                break;
            };
            note_finished(&msg, &mut work);
            for command in update(state, msg) {
                match command {
                    // A rollback queued behind the write still goes out: nothing blocks it.
                    Command::Write(request) => queue_write(request, &tx, &mut work),
                    Command::Steer(step) if step.is_rollback() => {
                        steer(&platform, &tx, &mut work, step);
                    }
                    Command::Audit(event) => {
                        work.unaudited = record(audit.as_deref_mut(), event);
                    }
                    _ => {}
                }
            }
            start_next_write(&platform, &tx, &mut work);
        }
    }
    // Polls still under way have nothing left to tell anyone.
    work.tasks.abort_all();
    match terminal_lost {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// The longest wait between two polls while the platform throttles or cannot be reached.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// When a poller runs next: every `every` after the last result, backing off with jitter
/// while the platform throttles or cannot be reached (AWS's token buckets are shared with every
/// other tool of the account; hammering them makes it worse for all).
struct Poll {
    every: Duration,
    next: Instant,
    transient_failures: u32,
}

impl Poll {
    fn new(every: Duration) -> Self {
        Poll {
            every,
            next: Instant::now(),
            transient_failures: 0,
        }
    }

    fn finished(&mut self, error: Option<&PlatformError>) {
        if error.is_some_and(PlatformError::is_transient) {
            self.transient_failures = self.transient_failures.saturating_add(1);
        } else {
            self.transient_failures = 0;
        }
        let jitter = if self.transient_failures > 0 {
            rand::random_range(0.8..1.2)
        } else {
            1.0
        };
        self.next = Instant::now() + backoff(self.every, self.transient_failures, jitter);
    }
}

/// `every`, doubled for each transient failure in a row, capped, times `jitter`.
pub fn backoff(every: Duration, transient_failures: u32, jitter: f64) -> Duration {
    if transient_failures == 0 {
        return every.mul_f64(jitter);
    }
    let doubled = every.saturating_mul(1u32 << transient_failures.min(16));
    doubled.min(MAX_BACKOFF.max(every)).mul_f64(jitter)
}

/// Marks the edge work a result belongs to as done, and starts a queued write.
fn note_finished(msg: &Msg, work: &mut InFlight) {
    match msg {
        Msg::Observed { .. } => work.observing = false,
        Msg::MetricsFetched { .. } => work.fetching_metrics = false,
        Msg::WriteFinished { .. } => work.writing = false,
        Msg::Steered { .. } => work.steering = false,
        _ => {}
    }
}

/// Ctrl-Z or SIGTSTP: the terminal is given back and the process stops; after `fg` the
/// screen is drawn anew (the terminal may have changed size meanwhile).
fn suspend<T: Screen>(terminal: &mut T, state: &mut AppState) -> anyhow::Result<()> {
    if !terminal.suspendable() {
        return Ok(());
    }
    tracing::info!("suspended");
    terminal.suspend().context("suspending")?;
    tracing::info!("resumed");
    update(state, Msg::Resized);
    Ok(())
}

fn execute<P: Platform>(
    command: Command,
    platform: &Arc<P>,
    tx: &mpsc::UnboundedSender<Msg>,
    work: &mut InFlight,
    state: &mut AppState,
) {
    match command {
        Command::Write(request) => {
            queue_write(request, tx, work);
            start_next_write(platform, tx, work);
        }
        Command::RefreshState => {
            if work.observing {
                work.observe_again = true;
            } else {
                observe(platform, tx, work);
            }
        }
        Command::Deploy { image } => {
            let platform = Arc::clone(platform);
            let tx = tx.clone();
            work.tasks.spawn(async move {
                let result = platform.deploy(image, None).await;
                let _ = tx.send(Msg::Deployed {
                    now: platform.now(),
                    result,
                });
            });
        }
        Command::ScaleIdle { desired } => {
            let platform = Arc::clone(platform);
            let tx = tx.clone();
            work.tasks.spawn(async move {
                let result = platform.scale_idle(desired).await;
                let _ = tx.send(Msg::Scaled {
                    now: platform.now(),
                    result,
                });
            });
        }
        Command::Adopt => {
            let platform = Arc::clone(platform);
            let tx = tx.clone();
            work.tasks.spawn(async move {
                let result = platform.adopt().await;
                let _ = tx.send(Msg::Adopted {
                    now: platform.now(),
                    result,
                });
            });
        }
        Command::Steer(step) => steer(platform, tx, work, step),
        Command::Quit => state.quit = true,
        // The loop suspends: it holds the screen.
        Command::Suspend => {}
        // Recorded by the loop, which holds the audit log.
        Command::Audit(_) => {}
    }
}

/// A gate step for a driver that moves its own weights: sent, and its answer awaited on quit
/// like a write's.
fn steer<P: Platform>(
    platform: &Arc<P>,
    tx: &mpsc::UnboundedSender<Msg>,
    work: &mut InFlight,
    step: crate::domain::GateStep,
) {
    work.steering = true;
    let platform = Arc::clone(platform);
    let tx = tx.clone();
    work.tasks.spawn(async move {
        let result = platform.steer(step.clone()).await;
        let _ = tx.send(Msg::Steered {
            now: platform.now(),
            step,
            result,
        });
    });
}

/// The write executor: one write at a time, each a compare-and-set followed by a read-back.
fn start_next_write<P: Platform>(
    platform: &Arc<P>,
    tx: &mpsc::UnboundedSender<Msg>,
    work: &mut InFlight,
) {
    if work.writing {
        return;
    }
    let Some(request) = work.queued_writes.pop_front() else {
        return;
    };
    work.writing = true;
    let platform = Arc::clone(platform);
    let tx = tx.clone();
    work.tasks.spawn(async move {
        let result = platform
            .write_weights(request.expected, request.target, request.kind.intent())
            .await
            .map(|report| {
                for note in report.notes {
                    let _ = tx.send(Msg::WriteNoted {
                        now: platform.now(),
                        note,
                    });
                }
                report.weights
            });
        // After a quit the loop waits a while for this; past that, nothing is left to tell.
        let _ = tx.send(Msg::WriteFinished {
            now: platform.now(),
            result,
        });
    });
}

fn observe<P: Platform>(platform: &Arc<P>, tx: &mpsc::UnboundedSender<Msg>, work: &mut InFlight) {
    work.observing = true;
    let platform = Arc::clone(platform);
    let tx = tx.clone();
    work.tasks.spawn(async move {
        let started = platform.now();
        let result = platform.observe().await;
        let _ = tx.send(Msg::Observed {
            now: platform.now(),
            started,
            result,
        });
    });
}

fn fetch_metrics<P: Platform>(
    platform: &Arc<P>,
    tx: &mpsc::UnboundedSender<Msg>,
    work: &mut InFlight,
) {
    work.fetching_metrics = true;
    let platform = Arc::clone(platform);
    let tx = tx.clone();
    work.tasks.spawn(async move {
        let result = platform.metrics().await;
        let _ = tx.send(Msg::MetricsFetched {
            now: platform.now(),
            result,
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_back_off_while_the_platform_throttles_and_recover_at_once() {
        let every = Duration::from_secs(5);
        assert_eq!(backoff(every, 0, 1.0), every);
        assert_eq!(backoff(every, 1, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(every, 3, 1.0), Duration::from_secs(40));
        assert_eq!(backoff(every, 4, 1.0), MAX_BACKOFF);
        assert_eq!(backoff(every, 40, 1.2), MAX_BACKOFF.mul_f64(1.2));
        assert_eq!(
            backoff(Duration::from_secs(120), 2, 1.0),
            Duration::from_secs(120)
        );
    }
}
