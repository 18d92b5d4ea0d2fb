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
        let text = match fs::read_to_string(&self.path) {
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

    /// Appends one line; a failure is logged, never fatal: the write itself already happened.
    pub fn record(&mut self, event: AuditEvent) {
        let line = self.line(&event);
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(error) = written {
            tracing::error!("writing the audit log {}: {error}", self.path.display());
        }
        self.session.push(event);
    }

    /// The session's decision record in markdown, if it made any write; returns its path.
    pub fn write_decision_record(&self, now: Timestamp) -> Option<PathBuf> {
        if !self
            .session
            .iter()
            .any(|e| e.result == AuditResult::Applied)
        {
            return None;
        }
        let stamp = rfc3339(now).replace(':', "");
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
        here.record(rollback(Some(rejection("example/shop:1.7.0-bad"))));
        here.record(rollback(None));
        elsewhere.record(rollback(Some(rejection("example/cart:2.0.0"))));
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
}
