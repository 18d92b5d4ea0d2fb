//! The terminal host: the console in the real terminal, on any platform. Raw mode and the
//! alternate screen are always given back.

use std::sync::Arc;

use anyhow::Context;
use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, EventStream};
use crossterm::terminal::{Clear, ClearType, EnterAlternateScreen};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::app::{AppState, Settings};
use crate::audit::Auditor;
use crate::platform::Platform;
use crate::recording::{Output, Recorder};
use crate::runtime::{self, RuntimeConfig};
use crate::shift::plan::Plan;

/// Restores the terminal when dropped: on quit, on error, and while a panic unwinds.
/// (`ratatui::try_init` also installs a panic hook that restores it before the message prints.)
pub struct TerminalGuard {
    pub terminal: std::mem::ManuallyDrop<Terminal<CrosstermBackend<Output>>>,
}

impl TerminalGuard {
    pub fn enter() -> std::io::Result<Self> {
        Self::recording(None)
    }

    /// [`TerminalGuard::enter`], every frame also written to `recorder`.
    pub fn recording(recorder: Option<Recorder>) -> std::io::Result<Self> {
        // Raw mode, the alternate screen and the panic hook; the frames go through `Output`.
        drop(ratatui::try_init()?);
        let terminal = std::mem::ManuallyDrop::new(Terminal::new(CrosstermBackend::new(
            Output::new(recorder),
        ))?);
        // A paste arrives as one event, never as typed keys: pasted "60⏎⏎y" must not stage,
        // apply and confirm.
        crossterm::execute!(std::io::stdout(), EnableBracketedPaste)?;
        Ok(TerminalGuard { terminal })
    }

    /// Takes the terminal again after a suspend, as `enter` first did.
    fn reenter(&mut self) -> std::io::Result<()> {
        crossterm::terminal::enable_raw_mode()?;
        crossterm::execute!(
            std::io::stdout(),
            EnterAlternateScreen,
            EnableBracketedPaste,
            Hide,
            Clear(ClearType::All)
        )?;
        // What was on screen before is gone: forget the last frame so the next one is drawn
        // whole. (`Terminal::clear` would ask the terminal where its cursor is, and wait.)
        self.terminal.swap_buffers();
        Ok(())
    }
}

/// Raw mode off, the main screen back, the cursor shown, pastes as the shell expects them.
/// Errors are ignored: a terminal that went away (an SSH session dropped) cannot be restored,
/// and saying so on it would fail again (`ratatui::restore` prints to stderr, and printing to a
/// hung-up terminal panics).
fn leave() {
    let _ = crossterm::execute!(std::io::stdout(), DisableBracketedPaste, Show);
    let _ = ratatui::try_restore();
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // ratatui's `Terminal` shows a hidden cursor when dropped and prints to stderr if it
        // cannot, which panics on a terminal that went away and aborts the cleanup after it
        // (the audit, the lock, the decision record). The cursor is shown here; where it
        // cannot be, the terminal is gone and the `Terminal` is let go without its drop.
        let shown = self.terminal.show_cursor().is_ok();
        leave();
        if shown {
            // SAFETY: dropped once, here, and never used again.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.terminal) };
        }
    }
}

impl runtime::Screen for TerminalGuard {
    fn show(&mut self, state: &AppState) -> anyhow::Result<bool> {
        self.terminal.show(state)
    }

    fn suspendable(&self) -> bool {
        true
    }

    fn suspend(&mut self) -> anyhow::Result<()> {
        leave();
        crate::logging::say(
            "cutover: suspended; fg resumes (nothing is written while it is stopped)",
        );
        // SIGTSTP is ours (to give the terminal back first); SIGSTOP stops as it would have.
        let me = rustix::process::getpid();
        rustix::process::kill_process(me, rustix::process::Signal::STOP)
            .context("stopping the process")?;
        // Continued (`fg`): here again.
        self.reenter().context("taking the terminal back after fg")
    }
}

/// Takes over the terminal, runs until the operator quits, and always gives the terminal back.
pub async fn run<P: Platform>(
    platform: Arc<P>,
    settings: Settings,
    config: RuntimeConfig,
    plan: Option<Plan>,
    mut audit: Option<Auditor>,
    record: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let mut state = AppState::new(platform.source(), settings, platform.now()).with_plan(plan);
    // Builds the guard rolled back before, from the audit trail: traffic toward one asks.
    state.rejections = audit.as_ref().map(Auditor::rejections).unwrap_or_default();
    // A recording that cannot be created stops the start: the operator asked for it.
    let recorder = match record {
        Some(path) => {
            let size = crossterm::terminal::size().unwrap_or((80, 24));
            Some(Recorder::create(path, size)?)
        }
        None => None,
    };
    let mut guard = TerminalGuard::recording(recorder).context("setting up the terminal")?;
    let events = EventStream::new();
    // A signal ends the console like `q`: the write in flight is waited for and audited.
    let result = runtime::run_until(
        Arc::clone(&platform),
        &mut guard,
        events,
        &mut state,
        config,
        audit.as_mut(),
        crate::signals::termination(),
    )
    .await;
    drop(guard);
    let recorded = record.map(|p| p.display().to_string());
    // What the console leaves behind, said where the operator looks once the screen is gone,
    // and in the decision record.
    let mut left = state.leaving_words();
    if let Some(path) = recorded {
        left.push_str(&format!(
            "; the screen was recorded to {path} (asciinema play {path})"
        ));
    }
    tracing::info!("{left}");
    crate::logging::say(&format!("cutover: {left}"));
    if let Some(record) = audit.and_then(|a| a.write_decision_record(platform.now(), &left)) {
        tracing::info!("decision record: {}", record.display());
        crate::logging::say(&format!(
            "cutover: decision record written to {}",
            record.display()
        ));
    }
    result
}

/// Shows `picker` until the operator chooses (an item's index), goes back (Esc) or cancels
/// (Ctrl-C); the terminal is given back in every case. Blocking: nothing else runs while a
/// person chooses.
pub fn pick(mut picker: crate::app::picker::Picker) -> anyhow::Result<crate::app::picker::Picked> {
    use crate::app::picker::Picked;
    let mut guard = TerminalGuard::enter().context("setting up the terminal")?;
    loop {
        guard
            .terminal
            .draw(|frame| crate::ui::picker::view(&picker, frame))
            .context("drawing the list")?;
        if let crossterm::event::Event::Key(key) =
            crossterm::event::read().context("reading the terminal")?
        {
            match picker.on_key(key) {
                Picked::Open => {}
                done => return Ok(done),
            }
        }
    }
}
