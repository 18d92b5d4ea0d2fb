use std::collections::{HashSet, VecDeque};

use crate::domain::{Color, LogEntry, LogLevel, LogSource, ServiceEvent, Timestamp};

/// How many entries the on-screen log keeps; the log file keeps everything.
const ENTRIES_KEPT: usize = 500;

/// The event log: service events (each once), operator actions and errors, newest last.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    entries: VecDeque<LogEntry>,
    seen_service_events: HashSet<String>,
}

impl EventLog {
    pub fn push(
        &mut self,
        at: Timestamp,
        level: LogLevel,
        source: LogSource,
        text: impl Into<String>,
    ) {
        let entry = LogEntry {
            at,
            level,
            source,
            text: text.into(),
        };
        match level {
            LogLevel::Error => tracing::error!(source = ?entry.source, "{}", entry.text),
            LogLevel::Warn => tracing::warn!(source = ?entry.source, "{}", entry.text),
            LogLevel::Info => tracing::info!(source = ?entry.source, "{}", entry.text),
        }
        // ECS events reach cutover after its own entries of the same moments: keep time order.
        let at_or_before = self.entries.iter().rposition(|e| e.at <= entry.at);
        self.entries
            .insert(at_or_before.map_or(0, |i| i + 1), entry);
        if self.entries.len() > ENTRIES_KEPT {
            self.entries.pop_front();
        }
    }

    /// Adds the service events not seen before, oldest first. ECS lists newest first.
    pub fn service_events(&mut self, color: Color, events: &[ServiceEvent]) {
        let mut fresh: Vec<&ServiceEvent> = events
            .iter()
            .filter(|e| !self.seen_service_events.contains(&e.id))
            .collect();
        fresh.sort_by_key(|e| e.at);
        for event in fresh {
            self.seen_service_events.insert(event.id.clone());
            self.push(
                event.at,
                LogLevel::Info,
                LogSource::Service(color),
                event.message.clone(),
            );
        }
    }

    /// Newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &LogEntry> {
        self.entries.iter().rev()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, secs: u64) -> ServiceEvent {
        ServiceEvent {
            id: id.into(),
            at: Timestamp::from_secs(secs),
            message: format!("message {id}"),
        }
    }

    #[test]
    fn service_events_are_logged_once_oldest_first() {
        let mut log = EventLog::default();
        log.service_events(Color::Green, &[event("b", 20), event("a", 10)]);
        log.service_events(
            Color::Green,
            &[event("c", 30), event("b", 20), event("a", 10)],
        );
        let texts: Vec<_> = log.newest_first().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["message c", "message b", "message a"]);
    }

    #[test]
    fn a_late_service_event_takes_its_place_in_time() {
        let mut log = EventLog::default();
        log.push(
            Timestamp::from_secs(22),
            LogLevel::Info,
            LogSource::System,
            "deployed",
        );
        log.service_events(Color::Blue, &[event("a", 21)]);
        let texts: Vec<_> = log.newest_first().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["deployed", "message a"]);
    }
}
