//! One answer to "can this key do anything now?": `update` dispatches by it, and the hint bar
//! and the help render from it, so what the screen offers is what a key does.

use super::keymap::{Action, Binding, KEYMAP};
use super::{AppState, Role};
use crate::domain::Weights;
use crate::shift::Evidence;
use crate::shift::plan::PlanState;

/// Whether an action would do something now, and if not, why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Available,
    /// The platform will not write at all (read-only, another owner): a write key is refused
    /// and the refusal audited.
    WritesRefused(String),
    /// Nothing for the key to do now, and why.
    Unavailable(String),
}

impl Availability {
    pub fn is_available(&self) -> bool {
        *self == Availability::Available
    }

    /// Why not, for the help and the status line.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Availability::Available => None,
            Availability::WritesRefused(why) | Availability::Unavailable(why) => Some(why),
        }
    }
}

/// The text shown before the first read of the load balancer.
pub const NOT_READ_YET: &str = "the weights have not been read yet: wait for the first refresh";

fn no(why: impl Into<String>) -> Availability {
    Availability::Unavailable(why.into())
}

/// Whether `action` can run in `state` now.
pub fn availability(state: &AppState, action: Action) -> Availability {
    availability_judged(state, action, state.evidence().as_ref())
}

/// [`availability`] with the evidence as of now already computed (the view computes it once
/// a frame; the guard's keys read it rather than compute it again for every key).
pub fn availability_judged(
    state: &AppState,
    action: Action,
    evidence: Option<&Evidence>,
) -> Availability {
    use Action::*;
    if matches!(action, Help | Quit | LogFilter | LogErrors) {
        return Availability::Available;
    }
    // Counting the log walks it: only for the keys that move through it.
    let scroll = || state.log.view().scroll;
    match action {
        LogOlder | LogOldest if scroll() >= state.log.matching_count().saturating_sub(1) => {
            return no("the oldest event is shown");
        }
        LogNewer | LogNewest if scroll() == 0 => return no("the newest events are shown"),
        LogOlder | LogOldest | LogNewer | LogNewest => return Availability::Available,
        _ => {}
    }
    if writes(action)
        && let Some(reason) = state.writes_refused()
    {
        return Availability::WritesRefused(format!("not written: {reason}"));
    }
    // Staging prepares a write: a console that cannot write has nothing to stage.
    if matches!(action, StageUp | StageDown | TypePercent | DropStaged)
        && let Some(reason) = state.writes_refused()
    {
        return no(format!("nothing to stage: {reason}"));
    }
    // A driver that moves its own weights answers for the keys that would move them.
    if let Some(answer) = by_driver(state, action, evidence) {
        return answer;
    }
    let Some(current) = state.shift.current() else {
        return no(NOT_READ_YET);
    };
    let busy = state.shift.in_flight().is_some();
    let staged = state.shift.staged();
    let candidate = state.candidate();
    match action {
        StageUp if staged.unwrap_or(current).green() == 100 => {
            no("green already has everything (staged or now)")
        }
        StageDown if staged.unwrap_or(current).blue() == 100 => {
            no("blue already has everything (staged or now)")
        }
        // Staging what Enter could only be refused is not offered: the key says why now.
        StageUp | StageDown => {
            let step = i16::from(state.settings.step_points);
            let delta = if action == StageUp { step } else { -step };
            let target = staged.unwrap_or(current).nudged(delta);
            match state.guard_judged(current, target, evidence) {
                crate::shift::GuardDecision::Refuse(why) => {
                    no(format!("{target} would be refused: {why}"))
                }
                _ => Availability::Available,
            }
        }
        Apply | DropStaged if staged.is_none() => {
            no("nothing is staged: → / ← or % stage a split first")
        }
        // A service change decided on weights that are about to change would be decided on
        // the wrong ones: the idle side may not stay idle.
        Apply | Promote | Deploy | ScaleIdle | Adopt if busy => {
            no("a write is in flight: wait for its read-back")
        }
        // While a write is in flight a rollback queues behind it, whatever the split is now.
        Rollback if busy && state.shift.rollback_queued() => {
            no("a rollback is queued behind the write in flight")
        }
        Rollback if !busy && current == Weights::all_to(state.baseline()) => no(format!(
            "{} already carries all traffic",
            state.baseline().name()
        )),
        Promote if current == Weights::all_to(candidate) => {
            no(format!("{} already carries all traffic", candidate.name()))
        }
        // A key the guard would refuse is not offered as if it would act: it says why.
        Promote => match state.guard_judged(current, Weights::all_to(candidate), evidence) {
            crate::shift::GuardDecision::Refuse(why) => no(format!("promote is refused: {why}")),
            _ => Availability::Available,
        },
        StartPlan => plan_start(state, evidence),
        PausePlan if !state.plan.as_ref().is_some_and(|p| p.is_active()) => {
            no("no plan is running")
        }
        NextStep
            if !state
                .plan
                .as_ref()
                .is_some_and(|p| p.can_skip_bake(state.now)) =>
        {
            no("no plan is baking or waiting: n brings the next step forward only then")
        }
        Deploy => deploy(state, current),
        ScaleIdle => scale_idle(state, current),
        Adopt if !matches!(current.idle_and_live(), (Some(_), Some(_))) => {
            no("adopt needs one side carrying all traffic")
        }
        Adopt => adopt(state, current),
        _ => Availability::Available,
    }
}

/// What the driver says about `action`: `None` when the weighted pair's rules below decide.
/// ECS-native: the weight keys are ECS's, `c` answers an awaiting gate through the guard, `R`
/// rolls back while a deployment runs, `a` continues at each gate, `D` starts a deployment.
fn by_driver(
    state: &AppState,
    action: Action,
    evidence: Option<&Evidence>,
) -> Option<Availability> {
    use Action::*;
    let native = state.observation.as_ref().and_then(|o| o.driver.native());
    let Some(native) = native else {
        return (action == ContinueGate).then(|| {
            no(
                "c continues an ECS-native deployment at its gate: cutover writes this pair's \
                weights itself (→/←, a, P)",
            )
        });
    };
    let owner = state
        .observation
        .as_ref()
        .and_then(|o| o.driver.weights_owner())
        .unwrap_or_default();
    Some(match action {
        StageUp | StageDown | TypePercent | DropStaged | Apply | Promote | NextStep | ScaleIdle
        | Adopt => no(owner),
        ContinueGate => match crate::app::update::continue_availability(state, evidence) {
            Ok(()) => Availability::Available,
            Err(why) => no(why),
        },
        Rollback if state.steering.as_ref().is_some_and(|s| s.is_rollback()) => {
            no("a rollback is in flight: wait for ECS's answer")
        }
        Rollback if state.steering.is_some() && state.rollback_after_steer() => {
            no("a rollback is queued behind the step in flight")
        }
        Rollback if state.steering.is_some() => Availability::Available,
        Rollback => match native.rollback_step() {
            Ok(_) => Availability::Available,
            Err(why) => no(why),
        },
        StartPlan if !native.gated => no(format!(
            "{} has no PAUSE gate: ECS goes on by itself and the plan has nothing to answer \
             ({})",
            native.name,
            crate::domain::ADD_PAUSE_HOOK
        )),
        StartPlan if native.running().is_none() => {
            no("no ECS deployment is running: D deploys a new image, then a follows its gates")
        }
        StartPlan if state.plan.as_ref().is_some_and(|p| p.is_active()) => {
            no("the plan is running")
        }
        StartPlan => match evidence.filter(|e| e.verdict == crate::shift::Verdict::Worse) {
            Some(e) => no(format!(
                "{} is WORSE ({}): R rolls back",
                e.candidate.name(),
                e.reason
            )),
            None => Availability::Available,
        },
        Deploy if native.running().is_some() => {
            no("an ECS deployment is running: continue it to the end (c) or roll it back (R) first")
        }
        Deploy if state.deploy.as_ref().is_some_and(|(_, r)| r.is_none()) => {
            no("a deploy is already being asked for")
        }
        Deploy => Availability::Available,
        _ => return None,
    })
}

/// Whether the keymap says `action` writes to AWS.
pub fn writes(action: Action) -> bool {
    KEYMAP.iter().any(|b| b.action == action && b.writes)
}

/// The bindings with what each can do now, in keymap order, judged on `evidence` (the
/// frame's).
pub fn bindings<'a>(
    state: &'a AppState,
    evidence: Option<&'a Evidence>,
) -> impl Iterator<Item = (&'static Binding, Availability)> + 'a {
    KEYMAP
        .iter()
        .map(move |b| (b, availability_judged(state, b.action, evidence)))
}

fn plan_start(state: &AppState, evidence: Option<&Evidence>) -> Availability {
    // A plan started on a candidate found worse would roll back at once: not a "plan".
    let worse = evidence
        .filter(|e| e.verdict == crate::shift::Verdict::Worse)
        .map(|e| {
            format!(
                "{} is WORSE ({}): R rolls back",
                e.candidate.name(),
                e.reason
            )
        });
    match state.plan.as_ref().map(|p| (&p.state, p.can_start())) {
        None => no("no plan configured: add [plan] to the config (the demo has one)"),
        Some((_, true)) if worse.is_some() => no(worse.unwrap_or_default()),
        Some((_, true)) => Availability::Available,
        Some((PlanState::RolledBack { reason }, false)) => no(format!(
            "the plan rolled back ({reason}): deploy a new image (D) to run it again"
        )),
        Some((PlanState::Done, false)) => no(
            "the plan is done: deploy a new build (D) to run it again; the idle side runs the \
             old one",
        ),
        Some((plan_state, false)) => no(format!("the plan is {plan_state}")),
    }
}

/// Adopt puts the idle side's build on the side carrying everything: only a build the guard
/// judged ok while it carried traffic, never one that has not served a request.
fn adopt(state: &AppState, current: Weights) -> Availability {
    let (Some(idle), Some(observation)) = (current.idle_and_live().0, &state.observation) else {
        return no(NOT_READ_YET);
    };
    let build = &observation.side(idle).service;
    if state.judged_ok.contains(&build.task_definition) {
        return Availability::Available;
    }
    no(format!(
        "adopt puts {} ({}) on the live side, and the guard has not judged it ok while it \
         carried traffic ({} requests at an ok verdict): give it traffic first",
        build.image, build.task_definition, state.settings.evidence.min_requests
    ))
}

fn deploy(state: &AppState, current: Weights) -> Availability {
    let deploying = state
        .deploy
        .as_ref()
        .is_some_and(|(_, report)| report.is_none());
    if deploying {
        return no("a deploy is already being asked for");
    }
    let Some(idle) = current.idle_and_live().0 else {
        return no(
            "both sides carry traffic: a deploy goes to the side at 0%; roll back or promote first",
        );
    };
    if state.role(idle) == Role::RollbackTarget {
        return no(rollback_target(idle, "a deploy now would replace"));
    }
    match sticky(state, idle, "a deploy now would replace the tasks serving") {
        Some(why) => no(why),
        None => Availability::Available,
    }
}

fn scale_idle(state: &AppState, current: Weights) -> Availability {
    let Some(idle) = current.idle_and_live().0 else {
        return no("both sides carry traffic: only a side at 0% is scaled down");
    };
    if state.role(idle) == Role::RollbackTarget {
        return no(rollback_target(idle, "scaling it down would stop"));
    }
    if let Some(why) = sticky(state, idle, "scaling it down would stop the tasks serving") {
        return no(why);
    }
    match state
        .observation
        .as_ref()
        .map(|o| o.side(idle).service.desired)
    {
        Some(0) => no(format!("{idle} already runs no task")),
        _ => Availability::Available,
    }
}

/// During the bake the side at 0% is what R returns to: deploying over it or scaling it down
/// would take the rollback away.
fn rollback_target(side: crate::domain::Color, would: &str) -> String {
    format!(
        "{side} is the rollback target until {} has carried all traffic for the bake: \
         {would} what R returns to",
        side.other().name()
    )
}

/// Why the side at 0% may not be changed yet: sticky clients may still reach it.
fn sticky(state: &AppState, side: crate::domain::Color, would: &str) -> Option<String> {
    let stickiness = state.observation.as_ref()?.stickiness_seconds;
    crate::shift::sticky::refusal(state.metrics.as_ref(), side, stickiness, state.now, would)
}
