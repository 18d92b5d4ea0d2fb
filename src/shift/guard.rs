//! The guard: every increase of the candidate's share, from any source (keys, plan, headless),
//! passes here. Moves back to the baseline and rollback never do: evidence never blocks them.

use super::evidence::{Evidence, Verdict};
use crate::domain::{Color, Observation, SideObservation, Weights};

/// Step limits (config `[guard]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardSettings {
    /// A larger jump needs a confirmation (console) or `--force` (headless).
    pub max_step: u8,
    /// From 0%, a first step up to this share needs no evidence (there can be none yet).
    pub first_step: u8,
}

impl Default for GuardSettings {
    fn default() -> Self {
        GuardSettings {
            max_step: super::MAX_STEP_POINTS,
            first_step: 10,
        }
    }
}

impl GuardSettings {
    /// For a step whose size the platform sets (ECS-native: the operator chose it in the
    /// deployment configuration), taking the candidate to `share`: the guard judges the
    /// evidence, not the size.
    pub fn for_platform_step(self, share: u8) -> GuardSettings {
        GuardSettings {
            max_step: 100,
            first_step: self.first_step.max(share),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardDecision {
    Allow,
    /// Allowed once the operator confirms (or `--force`): the jump exceeds the max step.
    NeedsConfirm(String),
    Refuse(String),
}

/// Whether moving `from` → `to` may go ahead, given the evidence, both services as last read
/// and whether a scale of the candidate is in flight (`scaling`); `candidate` is the side
/// traffic moves to (see [`super::roles`]).
pub fn check(
    from: Weights,
    to: Weights,
    candidate: Color,
    evidence: Option<&Evidence>,
    observation: Option<&Observation>,
    scaling: bool,
    settings: &GuardSettings,
) -> GuardDecision {
    let (from_share, to_share) = (from.share(candidate), to.share(candidate));
    if to_share <= from_share {
        return GuardDecision::Allow;
    }
    let (name, baseline) = (candidate.name(), candidate.other().name());
    let verdict = evidence.map_or(Verdict::Stale, |e| e.verdict);
    let reason = evidence.map_or_else(|| "no metrics read yet".to_string(), |e| e.reason.clone());
    match verdict {
        Verdict::Worse => {
            return GuardDecision::Refuse(format!("{name} is worse than {baseline}: {reason}"));
        }
        Verdict::Stale => return GuardDecision::Refuse(format!("no fresh evidence: {reason}")),
        Verdict::Insufficient | Verdict::Ok => {}
    }
    let Some(observation) = observation else {
        return GuardDecision::Refuse(format!("{name}'s service has not been read yet"));
    };
    let side = observation.side(candidate);
    if let Some(why) = service_change(name, side, scaling) {
        return GuardDecision::Refuse(why);
    }
    if side.targets.healthy == 0 {
        return GuardDecision::Refuse(format!("{name} has no healthy target"));
    }
    if side.service.running < side.service.desired {
        return GuardDecision::Refuse(format!(
            "{name} runs {} of {} desired tasks",
            side.service.running, side.service.desired
        ));
    }
    if let Some(why) = too_few_tasks(observation, candidate, to) {
        return GuardDecision::Refuse(why);
    }
    let first_step = from_share == 0 && to_share <= settings.first_step;
    if verdict == Verdict::Insufficient && !first_step {
        return GuardDecision::Refuse(format!("not enough evidence yet: {reason}"));
    }
    let jump = from.distance(to);
    if jump > settings.max_step {
        return GuardDecision::NeedsConfirm(format!(
            "a jump of {jump} points is over the {}-point max step",
            settings.max_step
        ));
    }
    GuardDecision::Allow
}

/// Why traffic toward the candidate would race a change to its service: a scale asked for and
/// not yet read back, or a desired count lowered below what runs (tasks being stopped).
fn service_change(name: &str, side: &SideObservation, scaling: bool) -> Option<String> {
    if scaling {
        return Some(format!(
            "{name} is being scaled: traffic sent now would meet tasks being stopped"
        ));
    }
    let service = &side.service;
    (service.desired < service.running).then(|| {
        format!(
            "{name} is being scaled down ({} running, {} desired): traffic sent now would meet \
             tasks being stopped",
            service.running, service.desired
        )
    })
}

/// Why the candidate runs too few tasks for the share it would get: the live side's desired
/// count is sized for all the traffic, so a share needs that share of it.
fn too_few_tasks(observation: &Observation, candidate: Color, to: Weights) -> Option<String> {
    let live = candidate.other();
    let sized_for_all = observation.side(live).service.desired;
    let share = to.share(candidate);
    let needed = (u64::from(sized_for_all) * u64::from(share)).div_ceil(100);
    let running = observation.side(candidate).service.running;
    (u64::from(running) < needed).then(|| {
        format!(
            "{} runs {running} of the {needed} tasks {share}% needs ({} runs {sized_for_all} for \
             all traffic)",
            candidate.name(),
            live.name()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RolloutState, ServiceStatus, TargetHealth, Timestamp};
    use crate::shift::evidence::SideEvidence;

    fn w(green: u8) -> Weights {
        Weights::with_green(green)
    }

    fn evidence(verdict: Verdict) -> Evidence {
        let side = SideEvidence {
            requests: 1000.0,
            errors: 1.0,
            conn_errors: 0.0,
            rate: Some(0.001),
            interval: None,
            latency_avg_ms: None,
            latency_p99_ms: None,
        };
        Evidence {
            from: Timestamp(0),
            to: Timestamp(0),
            blue: side,
            green: side,
            candidate: Color::Green,
            verdict,
            reason: "the numbers".into(),
            checks: Vec::new(),
            observed_share: None,
        }
    }

    fn green(healthy: u32, running: u32) -> SideObservation {
        SideObservation {
            service: ServiceStatus {
                cluster: "c".into(),
                service: "shop-green".into(),
                task_definition: "shop:8".into(),
                image: "i".into(),
                desired: 4,
                running,
                primary_running: running,
                pending: 4 - running,
                rollout: RolloutState::Completed,
                failed_tasks: 0,
                deployments: Vec::new(),
                events: Vec::new(),
            },
            targets: TargetHealth {
                healthy,
                ..TargetHealth::default()
            },
        }
    }

    /// Blue with four healthy tasks beside `green`, at `from`'s split.
    fn both(green: SideObservation, weights: Weights) -> Observation {
        let mut blue = self::green(4, 4);
        blue.service.service = "shop-blue".into();
        Observation {
            blue,
            green,
            weights,
            writes_refused: None,
            other_routes: Vec::new(),
            stickiness_seconds: None,
            lock_holder: None,
            driver: crate::domain::Driver::WeightedPair,
        }
    }

    fn decide(from: u8, to: u8, verdict: Option<Verdict>, g: SideObservation) -> GuardDecision {
        let e = verdict.map(evidence);
        check(
            w(from),
            w(to),
            Color::Green,
            e.as_ref(),
            Some(&both(g, w(from))),
            false,
            &GuardSettings::default(),
        )
    }

    #[test]
    fn the_guard_table() {
        use GuardDecision::*;
        use Verdict::*;
        let ready = || green(4, 4);
        let refused = |d: GuardDecision| matches!(d, Refuse(_));
        // Decreases and rollback are never blocked, whatever the evidence.
        assert_eq!(decide(50, 0, Some(Worse), ready()), Allow);
        assert_eq!(decide(50, 40, Some(Stale), green(0, 0)), Allow);
        // The first step needs no evidence unless it says worse.
        assert_eq!(decide(0, 10, Some(Insufficient), ready()), Allow);
        assert!(refused(decide(0, 10, Some(Worse), ready())));
        assert!(refused(decide(0, 10, Some(Stale), ready())));
        assert!(refused(decide(0, 10, None, ready())));
        // After it, an increase needs ok.
        assert!(refused(decide(10, 20, Some(Insufficient), ready())));
        assert_eq!(decide(10, 20, Some(Ok), ready()), Allow);
        assert!(refused(decide(0, 20, Some(Insufficient), ready())));
        // Green must be able to serve.
        assert_eq!(
            decide(0, 10, Some(Ok), green(0, 4)),
            Refuse("green has no healthy target".into())
        );
        assert_eq!(
            decide(0, 10, Some(Ok), green(4, 3)),
            Refuse("green runs 3 of 4 desired tasks".into())
        );
        // A big jump with good evidence asks first.
        assert!(matches!(decide(10, 60, Some(Ok), ready()), NeedsConfirm(_)));
        assert_eq!(decide(10, 35, Some(Ok), ready()), Allow);
    }

    #[test]
    fn refusals_say_why_in_numbers() {
        match decide(10, 20, Some(Verdict::Worse), green(4, 4)) {
            GuardDecision::Refuse(why) => assert_eq!(why, "green is worse than blue: the numbers"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn in_the_second_cycle_increases_of_blue_are_guarded() {
        // Green is live; the new revision runs on blue. 100/0 → 90/10 (green's view) gives
        // blue 10 points more: a first step, so it needs the evidence not to say worse.
        let blue_ready = green(4, 4);
        let blue_check = |from: u8, to: u8, v: Verdict| {
            check(
                w(from),
                w(to),
                Color::Blue,
                Some(&evidence(v)),
                Some(&both(blue_ready.clone(), w(from))),
                false,
                &GuardSettings::default(),
            )
        };
        assert_eq!(
            blue_check(100, 90, Verdict::Worse),
            GuardDecision::Refuse("blue is worse than green: the numbers".into())
        );
        assert_eq!(
            blue_check(100, 90, Verdict::Insufficient),
            GuardDecision::Allow
        );
        assert!(matches!(
            blue_check(90, 70, Verdict::Insufficient),
            GuardDecision::Refuse(_)
        ));
        // Back to green, the live side, is never blocked.
        assert_eq!(blue_check(50, 100, Verdict::Worse), GuardDecision::Allow);
    }

    #[test]
    fn increases_never_race_a_change_to_the_candidates_service() {
        let ok = Some(Verdict::Ok);
        // A scale asked for and not read back yet: the observation still shows 4 tasks.
        let scaling = check(
            w(0),
            w(10),
            Color::Green,
            Some(&evidence(Verdict::Ok)),
            Some(&both(green(4, 4), w(0))),
            true,
            &GuardSettings::default(),
        );
        assert!(
            matches!(&scaling, GuardDecision::Refuse(why) if why.starts_with("green is being scaled")),
            "{scaling:?}"
        );
        // Read back: desired 0, four tasks still stopping.
        let mut stopping = green(4, 4);
        stopping.service.desired = 0;
        assert_eq!(
            decide(0, 10, ok, stopping),
            GuardDecision::Refuse(
                "green is being scaled down (4 running, 0 desired): traffic sent now would meet \
                 tasks being stopped"
                    .into()
            )
        );
        // One task is enough for 10% of what blue serves with four, not for half of it.
        let mut small = green(1, 1);
        small.service.desired = 1;
        small.service.pending = 0;
        assert_eq!(decide(0, 10, ok, small.clone()), GuardDecision::Allow);
        assert_eq!(
            decide(10, 50, ok, small),
            GuardDecision::Refuse(
                "green runs 1 of the 2 tasks 50% needs (blue runs 4 for all traffic)".into()
            )
        );
        // Decreases pass whatever the service does.
        let mut stopping = green(4, 4);
        stopping.service.desired = 0;
        assert_eq!(decide(10, 0, None, stopping), GuardDecision::Allow);
    }

    use proptest::prelude::*;

    fn verdict() -> impl Strategy<Value = Option<Verdict>> {
        prop_oneof![
            Just(None),
            Just(Some(Verdict::Insufficient)),
            Just(Some(Verdict::Ok)),
            Just(Some(Verdict::Worse)),
            Just(Some(Verdict::Stale)),
        ]
    }

    proptest! {
        #[test]
        fn no_increase_passes_worse_or_stale_data(
            from in 0u8..=100, to in 0u8..=100, v in verdict(), healthy in 0u32..5, running in 0u32..5,
        ) {
            let decision = decide(from, to, v, green(healthy, running.min(4)));
            let bad_data = matches!(v, None | Some(Verdict::Worse) | Some(Verdict::Stale));
            if to > from && bad_data {
                prop_assert!(matches!(decision, GuardDecision::Refuse(_)), "{from}→{to} {v:?}: {decision:?}");
            }
            if to <= from {
                prop_assert_eq!(decision, GuardDecision::Allow, "decreases are never blocked");
            }
        }
    }
}
