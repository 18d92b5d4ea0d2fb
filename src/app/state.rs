use std::time::Duration;

use super::{EventLog, Popup};
use crate::domain::{
    AuditEvent, Color, LogLevel, LogSource, MetricsSnapshot, Observation, READ_ONLY_REASON,
    Timestamp, Weights,
};
use crate::domain::{DeployReport, Rejection, RolloutState, SourceInfo, revision_warning};
use crate::shift::plan::Plan;
use crate::shift::{
    Evidence, EvidenceSettings, GuardDecision, GuardSettings, Role, STEP_POINTS, Shift, Verdict,
    evidence, guard, roles,
};

/// How long a flash message stays in the status line.
pub const FLASH_DURATION: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub step_points: u8,
    pub guard: GuardSettings,
    pub evidence: EvidenceSettings,
    /// How often state is polled, in the platform's time: data older than three polls is stale.
    pub refresh: Duration,
    /// How often metrics are fetched, in the platform's time.
    pub metrics_refresh: Duration,
    /// `--read-only` / `read_only = true`: no write is even asked for.
    pub read_only: bool,
    /// How long a side must carry all traffic, with none reaching the other, before the other
    /// is called idle rather than the rollback target.
    pub role_bake: Duration,
    /// Scale the idle side to 0 by itself once it is idle.
    pub scale_down_after_bake: bool,
    /// How many times faster than real time the platform's clock runs (the demo's `--speed`):
    /// a flash stays up for the operator's five seconds, not the simulator's.
    pub clock_speed: f64,
    /// `[ui] label`: the environment's name, a badge in the header ("PROD").
    pub label: Option<String>,
    /// Opened from the fleet list, which goes on watching every row: `q` or `Esc` goes back
    /// to it, and a split left behind is not left unwatched.
    pub back_to_list: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            step_points: STEP_POINTS,
            guard: GuardSettings::default(),
            evidence: EvidenceSettings::default(),
            refresh: Duration::from_secs(5),
            metrics_refresh: Duration::from_secs(30),
            read_only: false,
            role_bake: Duration::from_secs(300),
            scale_down_after_bake: false,
            label: None,
            clock_speed: 1.0,
            back_to_list: false,
        }
    }
}

/// A write of this process whose answer was lost: AWS may still apply it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnansweredWrite {
    pub target: Weights,
    /// Until when its target counts as its late landing.
    pub until: Timestamp,
    /// The latest intent applied after it (a rollback, above all), and its kind: if the late
    /// copy lands after that, it is put back at once.
    pub superseded_by: Option<(Weights, crate::shift::WriteKind)>,
}

/// The evidence and the reason behind a write, kept for its audit line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteGrounds {
    pub evidence: Option<String>,
    pub reason: Option<String>,
}

/// A short message in the status line that clears itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub level: LogLevel,
    pub until: Timestamp,
}

/// Everything the console knows. Views borrow it; only `update` changes it. Cloneable, so a
/// test can ask "what would this key do?" without doing it.
#[derive(Debug, Clone)]
pub struct AppState {
    pub source: SourceInfo,
    pub settings: Settings,
    pub now: Timestamp,
    pub started: Timestamp,
    pub observation: Option<Observation>,
    pub observed_at: Option<Timestamp>,
    /// The last polling error, until a poll succeeds again.
    pub state_error: Option<String>,
    pub metrics: Option<MetricsSnapshot>,
    pub metrics_at: Option<Timestamp>,
    pub metrics_error: Option<String>,
    /// The side CloudWatch last showed carrying everything for a whole bake, in this session.
    pub settled_baseline: Option<Color>,
    pub shift: Shift,
    /// The configured plan, if any, and how far it has come.
    pub plan: Option<Plan>,
    /// The deploy asked for in this session: the image, and what the platform did once it said.
    pub deploy: Option<(String, Option<DeployReport>)>,
    /// The idle side cutover already scaled down by itself, so it asks once.
    pub scaled_down: Option<Color>,
    /// A scale of a side asked for (side, desired), until a read shows that desired count:
    /// before then the observation still shows the old one, and traffic sent there would
    /// meet tasks being stopped.
    pub scaling: Option<(Color, u32)>,
    /// The guard's last rollback: when, of which side, and the verdict that made it (the
    /// evidence window restarts after a rollback, so the screen keeps it until the next
    /// move toward a candidate or a new deploy).
    pub breach: Option<(Timestamp, Color, String)>,
    /// Builds the guard rolled back: this session's, and those the audit trail recorded for
    /// this listener or rule before it.
    pub rejections: Vec<Rejection>,
    /// Another operator's lock, as the last state poll read it (or a refused write found
    /// it); gone once a poll finds none or a write of ours lands.
    pub locked_by: Option<String>,
    /// Since when the candidate, carrying traffic, has been judged WORSE (the banner says
    /// since when; the turn is an event).
    pub worse_since: Option<Timestamp>,
    /// Traffic moved toward the candidate outside cutover, and the evidence has not judged
    /// it since: when, and the weights before and after.
    pub outside_change: Option<(Timestamp, Weights, Weights)>,
    /// The guard's rejection waiting for the audit line of its rollback.
    pub(super) rejection_pending: Option<Rejection>,
    /// The build (`revision image`) the operator said yes to moving traffic toward despite
    /// its warning: not asked again while that side runs it.
    pub revision_accepted: Option<String>,
    /// When the weights last changed (read back or seen changed): the evidence window starts
    /// after it.
    pub last_weight_change: Option<Timestamp>,
    pub log: EventLog,
    pub popup: Option<Popup>,
    /// When the open question (a `Popup::Confirm`) was first drawn: until then, and for
    /// [`ANSWER_DELAY`] after, a "yes" was typed before the question could be read.
    pub question_shown: Option<std::time::Instant>,
    pub flash: Option<Flash>,
    pub quit: bool,
    /// Write attempts not yet written to the audit log; the runtime drains it.
    pub audit_outbox: Vec<AuditEvent>,
    /// Why the write in flight was made, as it stood when it was decided: its audit line says
    /// this, not what the evidence says once the write is read back.
    pub(super) write_grounds: Option<WriteGrounds>,
    /// Why the last rollback was asked for (the operator, or the breach), until it is written.
    pub(super) rollback_reason: Option<String>,
    /// What the platform said about the write in flight (lock bypassed, answer lost), for
    /// its audit line.
    pub(super) write_notes: Vec<String>,
    /// When the latest write's outcome read the weights: reads that started before it hold
    /// older weights.
    pub weights_read_at: Option<Timestamp>,
    /// A write whose answer was lost and which a re-read did not find applied: its target
    /// showing up later is our own write landing late, not an outside change.
    pub unanswered_write: Option<UnansweredWrite>,
    /// When a rollback that failed for a passing reason goes again, and its attempts so far.
    pub rollback_retry: Option<(Timestamp, u32)>,
    /// `plan run`: end once the plan is over (done, rolled back or paused) and nothing is
    /// being written.
    pub stop_when_plan_ends: bool,
    /// `plan run --max-hold`: how long the plan may hold before the run ends.
    pub max_hold: Option<Duration>,
    /// Since when the plan holds, and when it last said why: a hold is said again at least
    /// once a minute, so a run that waits is never silent.
    pub(super) held_since: Option<Timestamp>,
    pub(super) hold_said_at: Option<Timestamp>,
    /// Why the run ended for holding longer than `max_hold`, once it did.
    pub held_too_long: Option<String>,
    /// The builds (`family:revision`) the guard judged ok while they carried traffic as the
    /// candidate, this session: only such a build may be adopted onto the live side.
    pub judged_ok: Vec<String>,
    /// Ticks seen so far: drives the spinner without a clock in the view.
    pub ticks: u64,
    /// The gate step sent to a driver that moves its own weights (ECS-native), until its
    /// answer; and the split it leads to, for its audit line.
    pub steering: Option<crate::domain::GateStep>,
    pub(super) steer_target: Option<Weights>,
    /// A rollback asked for while a step was in flight: sent once it is answered.
    pub(super) rollback_after_steer: bool,
    /// The awaiting gate (hook id) and since when this console has seen it: the autopilot's
    /// bake at a gate starts there.
    pub gate_seen: Option<(String, Timestamp)>,
    /// A gate step was answered and the weights it moved have not been read since.
    pub(super) steered_unread: bool,
    dirty: bool,
}

impl AppState {
    /// Remembers the candidate's build when the evidence judges it ok while it carries
    /// traffic (an ok verdict needs `min_requests` on it): the one proof adopt asks for.
    /// `evidence` is [`AppState::evidence`] as of now.
    pub fn note_judged_build(&mut self, evidence: Option<&Evidence>) {
        let (Some(evidence), Some(current), Some(observation)) =
            (evidence, self.shift.current(), self.observation.as_ref())
        else {
            return;
        };
        let candidate = evidence.candidate;
        if evidence.verdict != crate::shift::Verdict::Ok || current.share(candidate) == 0 {
            return;
        }
        let build = &observation.side(candidate).service.task_definition;
        if !self.judged_ok.contains(build) {
            self.judged_ok.push(build.clone());
        }
    }

    /// Says when the verdict on a candidate carrying traffic turns WORSE (an event, and the
    /// banner's "since"), and ends an outside change's banner once the evidence has judged the
    /// split it made. Called after every poll, with [`AppState::evidence`] as of now.
    pub fn note_verdict(&mut self, evidence: Option<&Evidence>) {
        let current = self.shift.current();
        let carried = |color: Color| current.is_some_and(|w| !w.is_idle(color));
        let worse =
            evidence.filter(|e| e.verdict == crate::shift::Verdict::Worse && carried(e.candidate));
        match (worse, self.worse_since) {
            (Some(e), None) => {
                self.worse_since = Some(self.now);
                let share = current.map_or("?".into(), |w| w.percent_text(e.candidate));
                let text = format!(
                    "{} turned WORSE at {share}%: {} — R rolls back",
                    e.candidate.name(),
                    e.reason
                );
                self.note(LogLevel::Error, LogSource::System, text);
            }
            (None, Some(_)) => self.worse_since = None,
            _ => {}
        }
        if let Some((at, _, _)) = self.outside_change {
            let candidate = self.candidate();
            let judged = evidence.is_some_and(|e| {
                matches!(
                    e.verdict,
                    crate::shift::Verdict::Ok | crate::shift::Verdict::Worse
                ) && e.from >= at
            });
            let moved_since = self.last_weight_change.is_some_and(|c| c > at);
            if judged || moved_since || !carried(candidate) {
                self.outside_change = None;
            }
        }
    }

    /// What quitting now would leave with nobody watching, where it would leave anything: a
    /// running plan, or a split of traffic between the sides. `None` on a console that
    /// cannot write (read-only, another owner): it never held the traffic.
    pub fn leaving_unwatched(&self) -> Option<String> {
        if self.writes_refused().is_some() {
            return None;
        }
        let weights = self.shift.current()?;
        let plan = self.plan.as_ref().filter(|p| p.is_active());
        // The fleet list a console was opened from keeps watching the split, not the plan.
        let split = weights.green() > 0 && weights.blue() > 0 && !self.settings.back_to_list;
        match (plan, split) {
            (Some(_), _) => Some(format!(
                "a plan is running at {weights} (blue/green): quitting stops it there, and \
                 nobody watches {}",
                self.candidate().name()
            )),
            (None, true) => Some(format!(
                "{weights} (blue/green) stays split: nobody watches {} once cutover quits",
                self.candidate().name()
            )),
            (None, false) => None,
        }
    }

    /// What the console leaves behind, said on exit and in the decision record: the split as
    /// last read, and the plan's state.
    pub fn leaving_words(&self) -> String {
        let split = self.shift.current().map_or_else(
            || "the weights were never read".to_string(),
            |w| format!("left {w} (blue/green) as last read"),
        );
        let plan = match &self.plan {
            Some(plan) if plan.is_active() => format!("plan stopped while {}", plan.state),
            Some(plan) => format!("plan {}", plan.state),
            None => "no plan".to_string(),
        };
        format!("{split}; {plan}")
    }

    pub fn new(source: SourceInfo, settings: Settings, now: Timestamp) -> Self {
        AppState {
            source,
            settings,
            now,
            started: now,
            observation: None,
            observed_at: None,
            state_error: None,
            metrics: None,
            metrics_at: None,
            metrics_error: None,
            settled_baseline: None,
            shift: Shift::default(),
            plan: None,
            deploy: None,
            scaled_down: None,
            scaling: None,
            breach: None,
            rejections: Vec::new(),
            locked_by: None,
            worse_since: None,
            outside_change: None,
            rejection_pending: None,
            revision_accepted: None,
            last_weight_change: None,
            log: EventLog::default(),
            popup: None,
            question_shown: None,
            flash: None,
            quit: false,
            audit_outbox: Vec::new(),
            write_grounds: None,
            rollback_reason: None,
            write_notes: Vec::new(),
            rollback_retry: None,
            unanswered_write: None,
            weights_read_at: None,
            stop_when_plan_ends: false,
            max_hold: None,
            held_since: None,
            hold_said_at: None,
            held_too_long: None,
            judged_ok: Vec::new(),
            ticks: 0,
            steering: None,
            steer_target: None,
            rollback_after_steer: false,
            gate_seen: None,
            steered_unread: false,
            dirty: true,
        }
    }

    /// Whether anything visible changed since the last call.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::replace(&mut self.dirty, false)
    }

    pub(super) fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// State older than three refreshes is stale: the screen says so.
    pub fn state_is_stale(&self) -> bool {
        match self.observed_at {
            Some(at) => self.now.since(at) > self.settings.refresh * 3,
            None => self.now.since(self.started) > self.settings.refresh * 3,
        }
    }

    /// The candidate against the baseline since the last weight change, as of now.
    pub fn evidence(&self) -> Option<Evidence> {
        let metrics = self.metrics.as_ref()?;
        Some(evidence(
            metrics,
            self.observation.as_ref(),
            self.candidate(),
            self.last_weight_change,
            self.now,
            &self.settings.evidence,
        ))
    }

    /// The red line across the screen: what needs the operator now, with the key that answers
    /// it. Traffic no target serves first, then a candidate found worse while it carries traffic
    /// (by `evidence`, [`AppState::evidence`] as the caller has it), then another operator's
    /// lock that refused our last write.
    pub fn banner(&self, evidence: Option<&Evidence>) -> Option<String> {
        let locked = || {
            self.locked_by.as_ref().map(|holder| {
                format!(
                    "LOCKED by {holder} — your writes are refused; R still rolls back (it passes \
                     the lock), or quit and start with --break-lock"
                )
            })
        };
        let worse = || {
            let weights = self.observation.as_ref()?.weights;
            let evidence = evidence?;
            let candidate = evidence.candidate;
            (evidence.verdict == Verdict::Worse && !weights.is_idle(candidate)).then(|| {
                // The key first: a narrow screen cuts the end of the line.
                let since = self
                    .worse_since
                    .map_or(String::new(), |at| format!(" since {}", at.clock_utc()));
                format!(
                    "{} is WORSE at {}%{since} — R rolls back — {}",
                    candidate.label(),
                    weights.percent_text(candidate),
                    evidence.reason
                )
            })
        };
        let outside = || {
            let (at, from, to) = self.outside_change?;
            let candidate = self.candidate();
            Some(format!(
                "TRAFFIC MOVED outside cutover at {}: {from} → {to} (blue/green) — {} carries {}%, not \
                 yet judged by the evidence — R rolls back",
                at.clock_utc(),
                candidate.name(),
                to.percent_text(candidate)
            ))
        };
        self.unserved_traffic()
            .or_else(worse)
            .or_else(outside)
            .or_else(locked)
    }

    /// A side that carries traffic with no healthy target, as last read, in the words of the
    /// red banner: every request it gets fails at the load balancer.
    pub fn unserved_traffic(&self) -> Option<String> {
        let observation = self.observation.as_ref()?;
        let candidate = self.candidate();
        Color::BOTH.into_iter().find_map(|color| {
            let side = observation.side(color);
            if observation.weights.is_idle(color) || side.targets.healthy > 0 {
                return None;
            }
            let fix = if color == candidate {
                "R rolls back"
            } else {
                "check its service and targets"
            };
            Some(format!(
                "{} carries {}% with no healthy target — {fix}",
                color.label(),
                observation.weights.percent_text(color)
            ))
        })
    }

    /// What the guard says of moving `from` → `to` now: the one place the console asks it
    /// (keys, promote, plan steps).
    pub fn guard(&self, from: Weights, to: Weights) -> GuardDecision {
        self.guard_judged(from, to, self.evidence().as_ref())
    }

    /// [`AppState::guard`] on evidence already computed as of now.
    pub fn guard_judged(
        &self,
        from: Weights,
        to: Weights,
        evidence: Option<&crate::shift::Evidence>,
    ) -> GuardDecision {
        let candidate = self.candidate();
        let scaling = self.scaling.is_some_and(|(side, _)| side == candidate);
        // A driver that moves its own weights sets the step size (the operator chose it in
        // ECS's deployment configuration): the guard judges the evidence, not the step.
        let settings = match self.observation.as_ref().map(|o| &o.driver) {
            Some(driver) if driver.steps_by_gates() => {
                self.settings.guard.for_platform_step(to.share(candidate))
            }
            _ => self.settings.guard,
        };
        guard::check(
            from,
            to,
            candidate,
            evidence,
            self.observation.as_ref(),
            scaling,
            &settings,
        )
    }

    /// The side a rollback returns to (see [`roles`]): as CloudWatch showed it last in this
    /// session (a split can outlast the metrics' history; `update` reads it from every metrics
    /// fetch); without one, the side with all the traffic, or blue.
    pub fn baseline(&self) -> Color {
        // A driver that deploys itself says which revision is the new one: the other side is
        // where a rollback goes.
        if let Some(candidate) = self
            .observation
            .as_ref()
            .and_then(|o| o.driver.native())
            .and_then(|n| n.running_candidate())
        {
            return candidate.other();
        }
        let weights = self.shift.current().unwrap_or(Weights::ALL_BLUE);
        self.settled_baseline
            .unwrap_or_else(|| roles::fallback(weights))
    }

    /// The question open (a y/n popup), if one is.
    pub fn question(&self) -> Option<&super::Confirm> {
        match &self.popup {
            Some(Popup::Confirm(confirm)) => Some(confirm),
            _ => None,
        }
    }

    /// Whether the deploy asked for in this session has its new tasks running and healthy, as
    /// last read.
    pub fn deploy_ready(&self, report: &DeployReport) -> bool {
        let Some(observation) = &self.observation else {
            return false;
        };
        let side = observation.side(report.idle);
        side.service.task_definition == report.to
            && side.service.rollout == RolloutState::Completed
            && side.service.primary_running >= report.desired
            && side.targets.healthy >= report.desired
    }

    /// The image a deploy still rolling out on the idle side puts there: this session's, or
    /// one ECS reports in progress.
    pub fn rollout_in_flight(&self) -> Option<String> {
        match &self.deploy {
            Some((image, None)) => return Some(image.clone()),
            Some((image, Some(report))) if !self.deploy_ready(report) => {
                return Some(image.clone());
            }
            _ => {}
        }
        let idle = self.shift.current()?.idle_and_live().0?;
        let service = &self.observation.as_ref()?.side(idle).service;
        (service.rollout == RolloutState::InProgress).then(|| service.image.clone())
    }

    /// Why putting traffic on the build `toward` runs (moving to that side, or adopting its
    /// revision on `from`) needs a question: older than `from`'s, or rejected by the guard.
    /// `None` once the operator said yes to that build.
    pub fn revision_warning(&self, toward: Color, from: Color) -> Option<String> {
        let observation = self.observation.as_ref()?;
        let build = &observation.side(toward).service;
        if self.revision_accepted.as_deref() == Some(&accepted_key(build)) {
            return None;
        }
        revision_warning(build, &observation.side(from).service, &self.rejections)
    }

    /// The operator's yes to the build `toward` runs, warning and all.
    pub fn accept_revision(&mut self, toward: Color) {
        if let Some(observation) = &self.observation {
            self.revision_accepted = Some(accepted_key(&observation.side(toward).service));
        }
    }

    /// The side traffic is being moved to: the guard, the evidence and plans judge it.
    pub fn candidate(&self) -> Color {
        self.baseline().other()
    }

    /// The role a side plays, from the weights and CloudWatch alone (see [`roles`]).
    pub fn role(&self, color: Color) -> Role {
        let weights = self.shift.current().unwrap_or(Weights::ALL_BLUE);
        roles::role(color, weights, self.baseline())
    }

    /// A side that is idle and served its last request over a bake ago: the one to scale
    /// down (not a freshly deployed side that never served, nor a candidate just rolled back).
    pub fn baked_out(&self, color: Color) -> bool {
        let last_served = self.metrics.as_ref().and_then(|m| {
            m.side(color)
                .buckets
                .iter()
                .rev()
                .find(|b| b.requests > 0.0)
                .map(|b| b.start.plus(Duration::from_secs(60)))
        });
        self.role(color) == Role::Idle
            && last_served.is_some_and(|end| self.now.since(end) >= self.settings.role_bake)
    }

    /// Why writes are refused, as the platform last said (another owner, read-only).
    pub fn writes_refused(&self) -> Option<&str> {
        if self.settings.read_only {
            return Some(READ_ONLY_REASON);
        }
        self.observation.as_ref()?.writes_refused.as_deref()
    }

    /// Whether a rollback waits for the gate step in flight to be answered.
    pub fn rollback_after_steer(&self) -> bool {
        self.rollback_after_steer
    }

    /// A console with a plan to drive.
    pub fn with_plan(mut self, plan: Option<Plan>) -> Self {
        self.plan = plan;
        self
    }

    /// Whether something animates (a spinner) and needs frames between ticks.
    pub fn animating(&self) -> bool {
        self.shift.in_flight().is_some() || self.steering.is_some()
    }

    /// One line in the event log, at the console's time now.
    pub fn note(&mut self, level: LogLevel, source: LogSource, text: impl Into<String>) {
        let now = self.now;
        self.log.push(now, level, source, text);
    }

    pub fn flash(&mut self, level: LogLevel, text: impl Into<String>) {
        let speed = self.settings.clock_speed;
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        self.flash = Some(Flash {
            text: text.into(),
            level,
            until: self.now.plus(FLASH_DURATION.mul_f64(speed)),
        });
    }
}

/// One build: its revision and image.
fn accepted_key(service: &crate::domain::ServiceStatus) -> String {
    format!("{} {}", service.task_definition, service.image)
}
