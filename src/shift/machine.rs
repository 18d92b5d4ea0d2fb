use crate::domain::{Color, Timestamp, Weights};
use crate::domain::{PlatformError, WriteIntent};

/// Why a write is made; shown in the log and, later, the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Apply,
    /// A step the plan takes by itself.
    PlanStep,
    Rollback,
    Promote,
}

impl WriteKind {
    pub fn verb(self) -> &'static str {
        match self {
            WriteKind::Apply => "apply",
            WriteKind::PlanStep => "plan step",
            WriteKind::Rollback => "rollback",
            WriteKind::Promote => "promote",
        }
    }

    /// What the platform is told: a rollback passes where the others wait for the lock.
    pub fn intent(self) -> WriteIntent {
        match self {
            WriteKind::Rollback => WriteIntent::Rollback,
            WriteKind::Apply | WriteKind::PlanStep | WriteKind::Promote => WriteIntent::Move,
        }
    }

    /// `applying`, `rolling back`, `promoting`: for the status line while the write runs.
    pub fn in_progress(self) -> &'static str {
        match self {
            WriteKind::Apply => "applying",
            WriteKind::PlanStep => "applying the plan's step",
            WriteKind::Rollback => "rolling back",
            WriteKind::Promote => "promoting",
        }
    }
}

/// One compare-and-set write: from the weights last seen to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRequest {
    pub kind: WriteKind,
    pub expected: Weights,
    pub target: Weights,
    pub started: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyDecision {
    Write(WriteRequest),
    /// The jump is larger than the max step: ask the operator first.
    NeedsConfirm {
        from: Weights,
        to: Weights,
    },
    NothingStaged,
    /// A write is in flight; the staged split stays staged.
    Busy,
    /// No weights have been read yet, so there is nothing to compare-and-set against.
    NotReadYet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackDecision {
    Write(WriteRequest),
    /// Runs as soon as the write in flight finishes.
    Queued,
    /// The side rolled back to already carries all traffic.
    AlreadyThere,
    NotReadYet,
}

/// What a finished write means for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    pub finished: WriteRequest,
    pub result: Result<Weights, PlatformError>,
    /// A write to start now: a queued rollback, or a rollback retried after an outside change.
    pub next: Option<WriteRequest>,
}

/// How often a rollback is retried when the weights keep changing under it.
const ROLLBACK_RETRIES: u8 = 3;

/// The shift state: what AWS holds, what the operator staged, what is being written.
///
/// At most one write is in flight; a rollback asked for meanwhile is queued, never dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shift {
    current: Option<Weights>,
    staged: Option<Weights>,
    in_flight: Option<WriteRequest>,
    rollback_queued: bool,
    rollback_retries: u8,
    /// Where the rollback asked for last goes: the baseline when it was asked for.
    rollback_to: Option<Color>,
}

impl Shift {
    pub fn current(&self) -> Option<Weights> {
        self.current
    }

    pub fn staged(&self) -> Option<Weights> {
        self.staged
    }

    pub fn in_flight(&self) -> Option<&WriteRequest> {
        self.in_flight.as_ref()
    }

    pub fn rollback_queued(&self) -> bool {
        self.rollback_queued
    }

    /// Weights read from the platform. Outside a write they are the truth; during one, the
    /// read-back of the write decides.
    pub fn observed(&mut self, weights: Weights) {
        if self.in_flight.is_none() {
            self.current = Some(weights);
            if self.staged == Some(weights) {
                self.staged = None;
            }
        }
    }

    /// Stages green's share `delta` points from the staged (or current) split: the keys move
    /// traffic right (to green) or left (to blue), as the bar stands.
    pub fn nudge(&mut self, delta: i16) -> Option<Weights> {
        let base = self.staged.or(self.current)?;
        self.stage(base.nudged(delta))
    }

    /// Stages an exact split; staging the current split drops the stage.
    pub fn stage(&mut self, target: Weights) -> Option<Weights> {
        let current = self.current?;
        self.staged = (target != current).then_some(target);
        Some(target)
    }

    pub fn drop_staged(&mut self) -> Option<Weights> {
        self.staged.take()
    }

    /// Applies the staged split, or says why not.
    pub fn apply(&mut self, max_step: u8, now: Timestamp) -> ApplyDecision {
        let Some(current) = self.current else {
            return ApplyDecision::NotReadYet;
        };
        let Some(staged) = self.staged else {
            return ApplyDecision::NothingStaged;
        };
        if self.in_flight.is_some() {
            return ApplyDecision::Busy;
        }
        if current.distance(staged) > max_step {
            return ApplyDecision::NeedsConfirm {
                from: current,
                to: staged,
            };
        }
        ApplyDecision::Write(self.begin(WriteKind::Apply, current, staged, now))
    }

    /// Applies the staged split after the operator confirmed a large jump.
    pub fn apply_confirmed(&mut self, now: Timestamp) -> ApplyDecision {
        self.apply(u8::MAX, now)
    }

    /// The plan's next step (staged by the plan), past the max step the plan was approved with.
    pub fn apply_plan_step(&mut self, now: Timestamp) -> ApplyDecision {
        match self.apply(u8::MAX, now) {
            ApplyDecision::Write(request) => {
                let step = WriteRequest {
                    kind: WriteKind::PlanStep,
                    ..request
                };
                self.in_flight = Some(step);
                ApplyDecision::Write(step)
            }
            other => other,
        }
    }

    /// All traffic to `candidate`; the console asks first.
    pub fn promote(&mut self, candidate: Color, now: Timestamp) -> ApplyDecision {
        let Some(current) = self.current else {
            return ApplyDecision::NotReadYet;
        };
        if self.in_flight.is_some() {
            return ApplyDecision::Busy;
        }
        let all = Weights::all_to(candidate);
        if current == all {
            return ApplyDecision::NothingStaged;
        }
        self.staged = Some(all);
        ApplyDecision::Write(self.begin(WriteKind::Promote, current, all, now))
    }

    /// All traffic to `baseline` at once. Never refused: queued behind a write in flight.
    pub fn rollback(&mut self, baseline: Color, now: Timestamp) -> RollbackDecision {
        self.staged = None;
        self.rollback_to = Some(baseline);
        if self.in_flight.is_some() {
            self.rollback_queued = true;
            return RollbackDecision::Queued;
        }
        let Some(current) = self.current else {
            return RollbackDecision::NotReadYet;
        };
        let all = Weights::all_to(baseline);
        if current == all {
            return RollbackDecision::AlreadyThere;
        }
        self.rollback_retries = 0;
        RollbackDecision::Write(self.begin(WriteKind::Rollback, current, all, now))
    }

    /// Writes `intent` again: a stale copy of an earlier write of ours landed after it was
    /// applied and undid it. Nothing to do while a write is in flight (its read-back decides)
    /// or when the weights are at the intent already.
    pub fn restore(
        &mut self,
        intent: Weights,
        kind: WriteKind,
        now: Timestamp,
    ) -> Option<WriteRequest> {
        let current = self.current?;
        if self.in_flight.is_some() || current == intent {
            return None;
        }
        self.staged = None;
        if kind == WriteKind::Rollback {
            self.rollback_retries = 0;
        }
        Some(self.begin(kind, current, intent, now))
    }

    /// The write in flight finished with `result` (the weights read back, or an error).
    pub fn write_finished(
        &mut self,
        result: Result<Weights, PlatformError>,
        now: Timestamp,
    ) -> Option<WriteOutcome> {
        let finished = self.in_flight.take()?;
        match &result {
            Ok(read_back) => {
                self.current = Some(*read_back);
                if self.staged == Some(*read_back) || finished.kind != WriteKind::Apply {
                    self.staged = None;
                }
            }
            Err(PlatformError::Conflict { actual, .. }) => {
                self.current = Some(*actual);
                // What was staged was planned against weights that no longer hold.
                self.staged = None;
            }
            Err(_) => {
                if finished.kind == WriteKind::Promote {
                    self.staged = None;
                }
            }
        }
        let next = self.next_after(&finished, &result, now);
        Some(WriteOutcome {
            finished,
            result,
            next,
        })
    }

    fn next_after(
        &mut self,
        finished: &WriteRequest,
        result: &Result<Weights, PlatformError>,
        now: Timestamp,
    ) -> Option<WriteRequest> {
        let current = self.current?;
        let baseline = self.rollback_to?;
        let retry_rollback = finished.kind == WriteKind::Rollback
            && matches!(result, Err(PlatformError::Conflict { .. }))
            && self.rollback_retries < ROLLBACK_RETRIES;
        if retry_rollback {
            // A rollback means "all to the baseline" whatever the split is now: go again.
            self.rollback_retries += 1;
        } else if self.rollback_queued {
            self.rollback_queued = false;
            self.rollback_retries = 0;
        } else {
            return None;
        }
        self.rollback_queued = false;
        let all = Weights::all_to(baseline);
        if current == all {
            return None;
        }
        Some(self.begin(WriteKind::Rollback, current, all, now))
    }

    fn begin(
        &mut self,
        kind: WriteKind,
        expected: Weights,
        target: Weights,
        now: Timestamp,
    ) -> WriteRequest {
        let request = WriteRequest {
            kind,
            expected,
            target,
            started: now,
        };
        self.in_flight = Some(request);
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_000);

    fn at(green: u8) -> Shift {
        let mut shift = Shift::default();
        shift.observed(Weights::with_green(green));
        shift
    }

    fn w(green: u8) -> Weights {
        Weights::with_green(green)
    }

    #[test]
    fn nudges_stage_from_the_staged_split() {
        let mut shift = at(0);
        shift.nudge(10);
        shift.nudge(10);
        assert_eq!(shift.staged(), Some(w(20)));
        shift.nudge(-20);
        assert_eq!(
            shift.staged(),
            None,
            "back at the current split: nothing staged"
        );
    }

    #[test]
    fn nothing_can_be_staged_before_weights_are_read() {
        let mut shift = Shift::default();
        assert_eq!(shift.nudge(10), None);
        assert_eq!(shift.apply(25, NOW), ApplyDecision::NotReadYet);
    }

    #[test]
    fn apply_table() {
        struct Case {
            current: u8,
            staged: u8,
            expect_write: bool,
        }
        let cases = [
            Case {
                current: 0,
                staged: 10,
                expect_write: true,
            },
            Case {
                current: 0,
                staged: 25,
                expect_write: true,
            },
            Case {
                current: 0,
                staged: 26,
                expect_write: false,
            },
            Case {
                current: 80,
                staged: 30,
                expect_write: false,
            },
            Case {
                current: 50,
                staged: 25,
                expect_write: true,
            },
        ];
        for case in cases {
            let mut shift = at(case.current);
            shift.stage(w(case.staged));
            let decision = shift.apply(25, NOW);
            assert_eq!(
                matches!(decision, ApplyDecision::Write(_)),
                case.expect_write,
                "{} → {}: {decision:?}",
                case.current,
                case.staged
            );
            if !case.expect_write {
                assert_eq!(
                    decision,
                    ApplyDecision::NeedsConfirm {
                        from: w(case.current),
                        to: w(case.staged)
                    }
                );
            }
        }
    }

    #[test]
    fn a_confirmed_large_jump_is_written() {
        let mut shift = at(0);
        shift.stage(w(60));
        assert!(matches!(shift.apply_confirmed(NOW), ApplyDecision::Write(r) if r.target == w(60)));
    }

    #[test]
    fn read_back_becomes_current_and_clears_the_stage() {
        let mut shift = at(0);
        shift.stage(w(10));
        let ApplyDecision::Write(req) = shift.apply(25, NOW) else {
            panic!("expected a write")
        };
        assert_eq!((req.expected, req.target), (w(0), w(10)));
        let outcome = shift.write_finished(Ok(w(10)), NOW);
        assert_eq!(outcome.map(|o| o.next), Some(None));
        assert_eq!(shift.current(), Some(w(10)));
        assert_eq!(shift.staged(), None);
        assert!(shift.in_flight().is_none());
    }

    #[test]
    fn observations_during_a_write_do_not_overrule_the_read_back() {
        let mut shift = at(0);
        shift.stage(w(10));
        shift.apply(25, NOW);
        shift.observed(w(0));
        assert_eq!(shift.current(), Some(w(0)));
        shift.write_finished(Ok(w(10)), NOW);
        assert_eq!(shift.current(), Some(w(10)));
    }

    #[test]
    fn a_second_apply_while_writing_is_busy() {
        let mut shift = at(0);
        shift.stage(w(10));
        shift.apply(25, NOW);
        shift.nudge(10);
        assert_eq!(shift.apply(25, NOW), ApplyDecision::Busy);
    }

    #[test]
    fn rollback_is_allowed_while_a_write_is_in_flight() {
        let mut shift = at(40);
        shift.stage(w(50));
        shift.apply(25, NOW);
        assert_eq!(shift.rollback(Color::Blue, NOW), RollbackDecision::Queued);
        let outcome = shift
            .write_finished(Ok(w(50)), NOW)
            .expect("a write was in flight");
        let next = outcome.next.expect("the queued rollback starts");
        assert_eq!(
            (next.kind, next.expected, next.target),
            (WriteKind::Rollback, w(50), w(0))
        );
        assert_eq!(shift.in_flight(), Some(&next));
    }

    #[test]
    fn rollback_retries_after_an_outside_change() {
        let mut shift = at(40);
        shift.rollback(Color::Blue, NOW);
        let conflict = PlatformError::Conflict {
            expected: w(40),
            actual: w(70),
        };
        let outcome = shift.write_finished(Err(conflict), NOW).expect("in flight");
        let retry = outcome.next.expect("rollback goes again");
        assert_eq!((retry.expected, retry.target), (w(70), w(0)));
    }

    #[test]
    fn an_apply_conflict_drops_the_stage_and_adopts_the_actual_split() {
        let mut shift = at(0);
        shift.stage(w(10));
        shift.apply(25, NOW);
        let conflict = PlatformError::Conflict {
            expected: w(0),
            actual: w(20),
        };
        let outcome = shift.write_finished(Err(conflict), NOW).expect("in flight");
        assert_eq!(outcome.next, None);
        assert_eq!(shift.current(), Some(w(20)));
        assert_eq!(shift.staged(), None);
    }

    #[test]
    fn rollback_at_all_blue_writes_nothing() {
        assert_eq!(
            at(0).rollback(Color::Blue, NOW),
            RollbackDecision::AlreadyThere
        );
    }

    #[test]
    fn after_the_roles_swap_rollback_returns_to_green_and_promote_goes_to_blue() {
        let mut shift = at(100);
        assert!(matches!(
            shift.promote(Color::Blue, NOW),
            ApplyDecision::Write(WriteRequest { target, .. }) if target == Weights::ALL_BLUE
        ));
        // Asked for mid-write, the rollback is queued and keeps its side; a conflict retries it.
        assert_eq!(shift.rollback(Color::Green, NOW), RollbackDecision::Queued);
        let read_back = shift.write_finished(Ok(w(40)), NOW).expect("in flight");
        let queued = read_back.next.expect("the queued rollback runs");
        assert_eq!(
            (queued.expected, queued.target),
            (w(40), Weights::ALL_GREEN)
        );
        let conflict = PlatformError::Conflict {
            expected: w(40),
            actual: w(20),
        };
        let retried = shift.write_finished(Err(conflict), NOW).expect("in flight");
        assert_eq!(retried.next.map(|r| r.target), Some(Weights::ALL_GREEN));
        assert_eq!(
            at(100).rollback(Color::Green, NOW),
            RollbackDecision::AlreadyThere
        );
    }

    #[test]
    fn promote_targets_all_green() {
        let mut shift = at(30);
        assert!(matches!(
            shift.promote(Color::Green, NOW),
            ApplyDecision::Write(WriteRequest { kind: WriteKind::Promote, target, .. }) if target == Weights::ALL_GREEN
        ));
    }
}
