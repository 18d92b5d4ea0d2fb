use super::{Color, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

/// Who said it: a service's ECS events, the operator's own actions, or cutover itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSource {
    Service(Color),
    Operator,
    System,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub at: Timestamp,
    pub level: LogLevel,
    pub source: LogSource,
    pub text: String,
}
