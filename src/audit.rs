//! The audit trail: every write attempt (applied, refused, failed) as one JSON line, and at the
//! end of a console session with writes, a markdown decision record beside it.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::domain::{Rejection, Timestamp, Weights};

pub use crate::domain::{AuditEvent, AuditResult};

#[derive(Debug, Serialize)]
struct AuditLine<'a> {
    time: String,
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    from: SplitJson,
    to: SplitJson,
    evidence: Option<&'a str>,
    result: AuditResult,
    reason: Option<&'a str>,
    /// The build the guard rejected, on the line of its rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected: Option<&'a Rejection>,
}

/// Percentages, exact: `{"blue": 99.9, "green": 0.1}`.
#[derive(Debug, Serialize)]
struct SplitJson {
    blue: serde_json::Value,
    green: serde_json::Value,
}

impl From<Weights> for SplitJson {
    fn from(w: Weights) -> Self {
        SplitJson {
            blue: w.percent_json(crate::domain::Color::Blue),
            green: w.percent_json(crate::domain::Color::Green),
        }
    }
}

/// `2026-11-27T07:05:09Z`.
pub fn rfc3339(t: Timestamp) -> String {
    let secs = t.0 / 1000;
    let days = (secs / 86_400) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{}Z", t.clock_utc())
}

/// `$XDG_STATE_HOME/cutover/audit.jsonl`.
pub fn default_audit_path() -> PathBuf {
    dirs::state_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("cutover")
        .join("audit.jsonl")
}

/// Appends audit lines for one actor and one listener or rule, and remembers the session's.
pub struct Auditor {
    path: PathBuf,
    actor: String,
    target: String,
    session: Vec<AuditEvent>,
    /// `decision`, or `demo-decision` for the demo's, so a simulated session's record is never
    /// taken for a real one.
    record_name: &'static str,
    /// Whether earlier sessions' rejections count: not in the demo, whose world starts anew
    /// each run.
    remembers: bool,
}

impl Auditor {
    /// Opens the audit log for appending before anything is written to AWS: an unaudited
    /// write is worse than none, so a log that cannot be written refuses the run (exit 2).
    pub fn new(
        path: &Path,
        actor: String,
        target: String,
    ) -> Result<Self, crate::domain::ConfigError> {
        let unwritable = |why: String| crate::domain::ConfigError {
            path: path.to_path_buf(),
            position: None,
            message: format!(
                "the audit log cannot be written ({why}): nothing is written to AWS without \
                 it; name a file with --audit-log PATH"
            ),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| unwritable(format!("{}: {e}", dir.display())))?;
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| unwritable(e.to_string()))?;
        Ok(Auditor {
            path: path.to_path_buf(),
            actor,
            target,
            session: Vec::new(),
            record_name: "decision",
            remembers: true,
        })
    }

    /// The demo's auditor: its decision records are `demo-decision-<time>.md` and say they
    /// record a simulated session.
    pub fn for_demo(self) -> Self {
        Auditor {
            record_name: "demo-decision",
            remembers: false,
            ..self
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn line(&self, event: &AuditEvent) -> String {
        let line = AuditLine {
            time: rfc3339(event.at),
            actor: &self.actor,
            action: &event.action,
            target: &self.target,
            from: event.from.into(),
            to: event.to.into(),
            evidence: event.evidence.as_deref(),
            result: event.result,
            reason: event.reason.as_deref(),
            rejected: event.rejected.as_ref(),
        };
        serde_json::to_string(&line).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The builds the guard rejected on this listener or rule, as the trail recorded them
    /// (any actor's who wrote to this file): a console starting remembers them. A trail that
    /// cannot be read remembers nothing, and the log says so.
    pub fn rejections(&self) -> Vec<Rejection> {
        if !self.remembers {
            return Vec::new();
        }
        let text = match self.trail() {
            Ok(text) => text,
            Err(error) => {
                tracing::warn!("reading the audit log {}: {error}", self.path.display());
                return Vec::new();
            }
        };
        text.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| line["target"].as_str() == Some(self.target.as_str()))
            .filter_map(|mut line| serde_json::from_value(line["rejected"].take()).ok())
            .collect()
    }

    /// Appends one line and flushes it to disk. A line that cannot be written is an error
    /// the caller decides on: an attempt line that fails stops the write it announces (an
    /// unaudited write is worse than none), except a rollback, which nothing blocks.
    pub fn record(&mut self, event: AuditEvent) -> Result<(), String> {
        let line = self.line(&event);
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| {
                writeln!(f, "{line}")?;
                f.sync_data()
            });
        if event.result != AuditResult::Attempt {
            self.session.push(event);
        }
        written.map_err(|error| {
            let text = format!("writing the audit log {}: {error}", self.path.display());
            tracing::error!("{text}");
            text
        })
    }

    /// The trail as written so far. Only a regular file is read back: an audit log sent to a
    /// device (`/dev/null`, `/dev/full`) or a pipe has nothing to read, and a device that
    /// answers forever would never end.
    fn trail(&self) -> std::io::Result<String> {
        if fs::metadata(&self.path)?.is_file() {
            fs::read_to_string(&self.path)
        } else {
            Ok(String::new())
        }
    }

    /// The last attempt on this listener or rule that the trail holds with nothing after it:
    /// a process that ended (a crash, `kill -9`) between its call and the answer.
    pub fn unanswered_attempt(&self) -> Option<serde_json::Value> {
        let text = self.trail().ok()?;
        let last = text
            .lines()
            .rev()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|line| line["target"].as_str() == Some(self.target.as_str()))?;
        (last["result"] == "attempt").then_some(last)
    }

    /// Says what the weights read at start tell of an attempt that had no result, in the
    /// trail and in the returned words: at its target it was applied, at its start it was
    /// not, anywhere else it is unknown.
    pub fn resolve_unanswered(
        &mut self,
        attempt: &serde_json::Value,
        now: Weights,
        at: Timestamp,
    ) -> String {
        let split = |w: Weights| SplitJson::from(w);
        let same = |json: &serde_json::Value, w: Weights| {
            let w = split(w);
            json["blue"] == w.blue && json["green"] == w.green
        };
        let result = if same(&attempt["to"], now) {
            AuditResult::Applied
        } else if same(&attempt["from"], now) {
            AuditResult::Failed
        } else {
            AuditResult::Unknown
        };
        let words = format!(
            "the {} attempted at {} had no result (the process that made it ended first); the \
             weights read now are {now}: {}",
            attempt["action"].as_str().unwrap_or("write"),
            attempt["time"].as_str().unwrap_or("?"),
            match result {
                AuditResult::Applied => "it was applied",
                AuditResult::Failed => "it was not applied",
                _ => "changed since, outcome unknown",
            }
        );
        // Best effort: the trail was just read; the words reach the operator either way.
        let _ = self.record(AuditEvent {
            at,
            action: "resolved".into(),
            from: now,
            to: now,
            evidence: None,
            result,
            reason: Some(words.clone()),
            rejected: None,
        });
        words
    }

    /// The session's decision record in markdown, if it made any write; returns its path.
    pub fn write_decision_record(&self, now: Timestamp, left: &str) -> Option<PathBuf> {
        if !self
            .session
            .iter()
            .any(|e| e.result == AuditResult::Applied)
        {
            return None;
        }
        // Named by the machine's clock, so records sort as sessions happened (a demo's
        // simulated clock starts wherever it likes); the text keeps the session's time.
        let stamp = rfc3339(crate::platform::wall_clock()).replace(':', "");
        let path = self
            .path
            .with_file_name(format!("{}-{stamp}.md", self.record_name));
        let title = if self.record_name == "decision" {
            "cutover decision record"
        } else {
            "cutover demo decision record (simulated: nothing real was changed)"
        };
        let mut text = format!(
            "# {title}\n\n- target: `{}`\n- actor: {}\n- ended: {}\n\n\
             | time (UTC) | action | from → to (blue/green) | result | evidence | reason |\n\
             |---|---|---|---|---|---|\n",
            self.target,
            self.actor,
            rfc3339(now)
        );
        for e in &self.session {
            text.push_str(&format!(
                "| {} | {} | {} → {} | {:?} | {} | {} |\n",
                e.at.clock_utc(),
                e.action,
                e.from,
                e.to,
                e.result,
                e.evidence.as_deref().unwrap_or("–").replace('|', "/"),
                e.reason.as_deref().unwrap_or("–").replace('|', "/"),
            ));
        }
        text.push_str(&format!("\n**On exit:** {left}.\n"));
        match fs::write(&path, text) {
            Ok(()) => Some(path),
            Err(error) => {
                tracing::error!("writing the decision record {}: {error}", path.display());
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(
            rfc3339(Timestamp::from_secs(1_795_763_109)),
            "2026-11-27T07:05:09Z"
        );
        assert_eq!(rfc3339(Timestamp(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(Timestamp::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn a_line_has_every_field() {
        let auditor = Auditor {
            path: PathBuf::from("audit.jsonl"),
            actor: "alice@laptop".into(),
            target: "arn:rule".into(),
            session: Vec::new(),
            record_name: "decision",
            remembers: true,
        };
        let line = auditor.line(&AuditEvent {
            at: Timestamp::from_secs(1_795_763_109),
            action: "apply".into(),
            from: Weights::ALL_BLUE,
            to: Weights::with_green(10),
            evidence: Some("insufficient: 0 of 200".into()),
            result: AuditResult::Refused,
            reason: Some("green has no healthy target".into()),
            rejected: None,
        });
        assert_eq!(
            line,
            r#"{"time":"2026-11-27T07:05:09Z","actor":"alice@laptop","action":"apply","target":"arn:rule","from":{"blue":100,"green":0},"to":{"blue":90,"green":10},"evidence":"insufficient: 0 of 200","result":"refused","reason":"green has no healthy target"}"#
        );
    }

    #[test]
    fn the_builds_the_guard_rejected_are_read_back_for_this_target_only() {
        let dir = std::env::temp_dir().join(format!("cutover-audit-{}", std::process::id()));
        let path = dir.join("audit.jsonl");
        let _ = fs::remove_file(&path);
        let rejection = |image: &str| Rejection {
            service: "shop-green".into(),
            image: image.into(),
            revision: "shop:10".into(),
            at_ms: 1_795_763_109_000,
            reason: "5xx 5.5% vs 0.1%".into(),
        };
        let rollback = |rejected: Option<Rejection>| AuditEvent {
            at: Timestamp::from_secs(1_795_763_109),
            action: "rollback".into(),
            from: Weights::with_green(10),
            to: Weights::ALL_BLUE,
            evidence: None,
            result: AuditResult::Applied,
            reason: None,
            rejected,
        };
        let mut here = Auditor::new(&path, "alice".into(), "arn:rule/a".into()).expect("auditor");
        let mut elsewhere =
            Auditor::new(&path, "bob".into(), "arn:rule/b".into()).expect("auditor");
        here.record(rollback(Some(rejection("example/shop:1.7.0-bad"))))
            .expect("written");
        here.record(rollback(None)).expect("written");
        elsewhere
            .record(rollback(Some(rejection("example/cart:2.0.0"))))
            .expect("written");
        fs::write(
            &path,
            fs::read_to_string(&path).expect("trail") + "not json\n",
        )
        .expect("a torn line");
        let reader = Auditor::new(&path, "carol".into(), "arn:rule/a".into()).expect("auditor");
        assert_eq!(
            reader.rejections(),
            vec![rejection("example/shop:1.7.0-bad")]
        );
        // The demo's world starts anew each run: it remembers nothing.
        assert_eq!(reader.for_demo().rejections(), vec![]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_attempt_with_no_result_after_it_is_found_and_resolved_by_the_weights_now() {
        let dir = std::env::temp_dir().join(format!("cutover-attempt-{}", std::process::id()));
        let path = dir.join("audit.jsonl");
        let _ = fs::remove_file(&path);
        let at = Timestamp::from_secs(1_795_763_109);
        let mut auditor =
            Auditor::new(&path, "alice".into(), "arn:rule/a".into()).expect("auditor");
        let mut other = Auditor::new(&path, "bob".into(), "arn:rule/b".into()).expect("auditor");
        let (from, to) = (Weights::with_green(10), Weights::with_green(25));
        auditor
            .record(AuditEvent::attempt(at, "plan step", from, to))
            .expect("written");
        // Another target's lines after it do not answer it.
        other
            .record(AuditEvent::attempt(at, "apply", from, to))
            .expect("written");
        let attempt = auditor.unanswered_attempt().expect("an unanswered attempt");
        assert_eq!(attempt["action"], "plan step");
        let words = auditor.resolve_unanswered(&attempt, to, at);
        assert!(words.contains("it was applied"), "{words}");
        assert_eq!(auditor.unanswered_attempt(), None, "resolved once");
        assert!(
            auditor.session.is_empty() || auditor.session.iter().all(|e| e.action == "resolved"),
            "attempt lines are not decisions"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_log_that_cannot_be_written_says_so() {
        // A full disk: the file opens, every write fails.
        let mut auditor = Auditor::new(Path::new("/dev/full"), "alice".into(), "arn:rule".into())
            .expect("/dev/full opens for appending");
        let error = auditor
            .record(AuditEvent::attempt(
                Timestamp(0),
                "apply",
                Weights::ALL_BLUE,
                Weights::with_green(10),
            ))
            .expect_err("a full disk refuses the line");
        assert!(error.contains("/dev/full"), "{error}");
    }
}
