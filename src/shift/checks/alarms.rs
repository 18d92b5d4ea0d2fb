//! The alarms row: the operator's own CloudWatch alarms, with their own thresholds, as
//! CodeDeploy and ECS blue/green stop on them. Any in `ALARM` is worse; `INSUFFICIENT_DATA` is
//! shown and does not block; a configured alarm CloudWatch does not know blocks until fixed,
//! so a typo never reads as "all clear".

use super::{Check, CheckKind};
use crate::domain::{AlarmState, AlarmStatus};
use crate::shift::evidence::Verdict;

/// `None` when no alarm is configured: no row.
pub fn check(configured: &[String], read: &[AlarmStatus]) -> Option<Check> {
    if configured.is_empty() {
        return None;
    }
    let row = |verdict, reason: String| Some(Check::new(CheckKind::Alarms, verdict, reason));
    let state = |name: &str| read.iter().find(|a| a.name == name).map(|a| a.state);
    let named = |wanted: Option<AlarmState>| -> Vec<&str> {
        configured
            .iter()
            .filter(|name| state(name) == wanted)
            .map(String::as_str)
            .collect()
    };
    let firing = named(Some(AlarmState::Alarm));
    let missing = named(None);
    let no_data = named(Some(AlarmState::InsufficientData));
    let ok = named(Some(AlarmState::Ok));
    let mut tail = Vec::new();
    if !ok.is_empty() {
        tail.push(format!("{} OK", ok.len()));
    }
    if !no_data.is_empty() {
        tail.push(format!(
            "INSUFFICIENT_DATA (not blocking): {}",
            no_data.join(", ")
        ));
    }
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!("; {}", tail.join("; "))
    };
    if !firing.is_empty() {
        let unknown = if missing.is_empty() {
            String::new()
        } else {
            format!("; not found: {}", missing.join(", "))
        };
        return row(
            Verdict::Worse,
            format!("in ALARM: {}{tail}{unknown}", firing.join(", ")),
        );
    }
    if !missing.is_empty() {
        return row(
            Verdict::Insufficient,
            format!(
                "no such alarm in this account and region: {} (check [guard] alarms){tail}",
                missing.join(", ")
            ),
        );
    }
    row(
        Verdict::Ok,
        format!("none in ALARM{tail}").replacen("; ", ": ", 1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(name: &str, state: AlarmState) -> AlarmStatus {
        AlarmStatus {
            name: name.into(),
            state,
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_alarms_configured_is_no_row() {
        assert_eq!(check(&[], &[alarm("x", AlarmState::Alarm)]), None);
    }

    #[test]
    fn an_alarm_in_alarm_is_worse_and_named() {
        let read = [
            alarm("p99", AlarmState::Alarm),
            alarm("5xx", AlarmState::Ok),
            alarm("queue", AlarmState::InsufficientData),
        ];
        let row = check(&names(&["p99", "5xx", "queue"]), &read).expect("a row");
        assert_eq!(row.verdict, Verdict::Worse);
        assert_eq!(
            row.reason,
            "in ALARM: p99; 1 OK; INSUFFICIENT_DATA (not blocking): queue"
        );
    }

    #[test]
    fn insufficient_data_is_shown_and_does_not_block() {
        let read = [
            alarm("5xx", AlarmState::Ok),
            alarm("queue", AlarmState::InsufficientData),
        ];
        let row = check(&names(&["5xx", "queue"]), &read).expect("a row");
        assert_eq!(row.verdict, Verdict::Ok);
        assert_eq!(
            row.reason,
            "none in ALARM: 1 OK; INSUFFICIENT_DATA (not blocking): queue"
        );
    }

    #[test]
    fn an_alarm_cloudwatch_does_not_know_blocks_with_its_name() {
        let row = check(&names(&["5xx", "typo"]), &[alarm("5xx", AlarmState::Ok)]).expect("row");
        assert_eq!(row.verdict, Verdict::Insufficient);
        assert!(row.reason.contains("typo"), "{}", row.reason);
        // Firing wins over missing: worse is the stronger news.
        let row = check(&names(&["p99", "typo"]), &[alarm("p99", AlarmState::Alarm)]).expect("row");
        assert_eq!(row.verdict, Verdict::Worse);
        assert_eq!(row.reason, "in ALARM: p99; not found: typo");
    }
}
