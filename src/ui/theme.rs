//! Colours and styles. Colour always repeats what the text already says (BLUE, GREEN, STALE).

use ratatui::style::{Color as Tint, Modifier, Style};

use crate::domain::{Color, LogLevel};

pub fn side(color: Color) -> Tint {
    match color {
        Color::Blue => Tint::Blue,
        Color::Green => Tint::Green,
    }
}

pub fn side_title(color: Color) -> Style {
    Style::new()
        .fg(Tint::Black)
        .bg(side(color))
        .add_modifier(Modifier::BOLD)
}

pub fn label() -> Style {
    Style::new().fg(Tint::DarkGray)
}

pub fn value() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn key() -> Style {
    Style::new().fg(Tint::Yellow).add_modifier(Modifier::BOLD)
}

pub fn disabled() -> Style {
    Style::new().fg(Tint::DarkGray)
}

pub fn warning() -> Style {
    Style::new().fg(Tint::Yellow)
}

pub fn error() -> Style {
    Style::new().fg(Tint::Red).add_modifier(Modifier::BOLD)
}

/// The red line across the screen: something needs the operator now.
pub fn banner() -> Style {
    Style::new()
        .fg(Tint::White)
        .bg(Tint::Red)
        .add_modifier(Modifier::BOLD)
}

pub fn ok() -> Style {
    Style::new().fg(Tint::Green)
}

pub fn level(level: LogLevel) -> Style {
    match level {
        LogLevel::Info => Style::new(),
        LogLevel::Warn => warning(),
        LogLevel::Error => error(),
    }
}

/// The source's badge: the demo in magenta, AWS in red.
pub fn badge(kind: crate::domain::SourceKind) -> Style {
    match kind {
        crate::domain::SourceKind::Demo => badge_on(Tint::Magenta),
        crate::domain::SourceKind::Aws => alert_badge(),
    }
}

/// The operator's `[ui] label` ("PROD"): loud, and unlike the other badges.
pub fn label_badge() -> Style {
    Style::new()
        .fg(Tint::Black)
        .bg(Tint::Yellow)
        .add_modifier(Modifier::BOLD)
}

/// A badge that says writes are off or real: READ-ONLY, WATCH ONLY, AWS.
pub fn alert_badge() -> Style {
    badge_on(Tint::Red)
}

fn badge_on(bg: Tint) -> Style {
    Style::new()
        .fg(Tint::White)
        .bg(bg)
        .add_modifier(Modifier::BOLD)
}

/// Braille spinner frames for a write in flight.
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
