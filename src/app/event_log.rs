use std::collections::{HashSet, VecDeque};

use crate::domain::{Color, LogEntry, LogLevel, LogSource, ServiceEvent, Timestamp};

/// How many entries the on-screen log keeps; the log file keeps everything.
const ENTRIES_KEPT: usize = 500;

/// How many entries PgUp and PgDn move the log by.
pub const LOG_PAGE: usize = 10;

/// The event log: service events (each once), operator actions and errors, newest last; and
/// how the operator reads it back (scrolled, filtered).
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    entries: VecDeque<LogEntry>,
    seen_service_events: HashSet<String>,
    view: LogView,
}

/// Where the operator reads the log: how many matching entries back from the newest, and which
/// entries match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogView {
    /// Matching entries skipped from the newest: 0 follows the newest.
    pub scroll: usize,
    /// Text an entry must contain (any case); empty for all.
    pub filter: String,
    /// Warnings and errors only.
    pub errors_only: bool,
}

impl LogView {
    pub fn matches(&self, entry: &LogEntry) -> bool {
        let level = !self.errors_only || entry.level != LogLevel::Info;
        let text = self.filter.is_empty()
            || entry
                .text
                .to_lowercase()
                .contains(&self.filter.to_lowercase());
        level && text
    }
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
        // Scrolled back, the entries on screen stay where they are as new ones arrive.
        if self.view.scroll > 0 && self.view.matches(&entry) {
            self.view.scroll += 1;
        }
        // ECS events reach cutover after its own entries of the same moments: keep time order.
        let at_or_before = self.entries.iter().rposition(|e| e.at <= entry.at);
        self.entries
            .insert(at_or_before.map_or(0, |i| i + 1), entry);
        if self.entries.len() > ENTRIES_KEPT {
            self.entries.pop_front();
            self.view.scroll = self
                .view
                .scroll
                .min(self.matching_count().saturating_sub(1));
        }
    }

    pub fn view(&self) -> &LogView {
        &self.view
    }

    /// The entries the view lets through, newest first (scrolling not applied).
    pub fn matching(&self) -> impl Iterator<Item = &LogEntry> {
        self.entries.iter().rev().filter(|e| self.view.matches(e))
    }

    pub fn matching_count(&self) -> usize {
        self.matching().count()
    }

    /// Moves the view `delta` entries back (positive, older) or forward, within the log.
    pub fn scroll_by(&mut self, delta: isize) {
        let last = self.matching_count().saturating_sub(1);
        self.view.scroll = self.view.scroll.saturating_add_signed(delta).min(last);
    }

    pub fn scroll_to_oldest(&mut self) {
        self.view.scroll = self.matching_count().saturating_sub(1);
    }

    pub fn scroll_to_newest(&mut self) {
        self.view.scroll = 0;
    }

    /// Shows only entries containing `filter` (any case), from the newest.
    pub fn set_filter(&mut self, filter: &str) {
        self.view.filter = filter.to_string();
        self.view.scroll = 0;
    }

    pub fn toggle_errors_only(&mut self) {
        self.view.errors_only = !self.view.errors_only;
        self.view.scroll = 0;
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

    fn numbered(n: u64) -> EventLog {
        let mut log = EventLog::default();
        for i in 0..n {
            let level = if i % 3 == 0 {
                LogLevel::Warn
            } else {
                LogLevel::Info
            };
            log.push(
                Timestamp::from_secs(i),
                level,
                LogSource::System,
                format!("entry {i}"),
            );
        }
        log
    }

    fn shown(log: &EventLog, rows: usize) -> Vec<String> {
        log.matching()
            .skip(log.view().scroll)
            .take(rows)
            .map(|e| e.text.clone())
            .collect()
    }

    #[test]
    fn scrolled_back_the_screen_keeps_its_entries_as_new_ones_arrive() {
        let mut log = numbered(30);
        log.scroll_by(LOG_PAGE as isize);
        assert_eq!(shown(&log, 2), ["entry 19", "entry 18"]);
        log.push(
            Timestamp::from_secs(40),
            LogLevel::Info,
            LogSource::System,
            "new",
        );
        assert_eq!(shown(&log, 2), ["entry 19", "entry 18"]);
        log.scroll_to_oldest();
        assert_eq!(shown(&log, 2), ["entry 0"]);
        log.scroll_by(-1000);
        assert_eq!(shown(&log, 1), ["new"]);
    }

    #[test]
    fn a_filter_and_errors_only_narrow_the_log() {
        let mut log = numbered(30);
        log.toggle_errors_only();
        assert_eq!(shown(&log, 2), ["entry 27", "entry 24"]);
        log.set_filter("ENTRY 2");
        assert_eq!(shown(&log, 5), ["entry 27", "entry 24", "entry 21"]);
        log.toggle_errors_only();
        assert_eq!(log.matching_count(), 11, "entry 2 and entry 20–29");
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
