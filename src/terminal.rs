//! The real terminal: raw mode and the alternate screen, always given back.

use ratatui::DefaultTerminal;

/// Restores the terminal when dropped: on quit, on error, and while a panic unwinds.
/// (`ratatui::try_init` also installs a panic hook that restores it before the message prints.)
pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    pub fn enter() -> std::io::Result<Self> {
        let terminal = ratatui::try_init()?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
