//! Which build a side runs, measured against the live side's and against the builds the guard
//! rolled back: traffic never goes toward an older or a rejected build without a question.

use serde::{Deserialize, Serialize};

use super::{ServiceStatus, Timestamp};

/// A build the guard rolled back: its revision (`family:revision`), image, service, when and
/// why. Kept in the audit trail, on the line of the rollback that carried it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub service: String,
    pub image: String,
    pub revision: String,
    /// Milliseconds since the epoch, as every `Timestamp`.
    pub at_ms: u64,
    pub reason: String,
}

impl Rejection {
    pub fn of(service: &ServiceStatus, at: Timestamp, reason: &str) -> Self {
        Rejection {
            service: service.service.clone(),
            image: service.image.clone(),
            revision: service.task_definition.clone(),
            at_ms: at.0,
            reason: reason.to_string(),
        }
    }

    pub fn at(&self) -> Timestamp {
        Timestamp(self.at_ms)
    }
}

/// `shop:7` → (`shop`, 7); a full task-definition ARN works too.
pub fn revision_number(task_definition: &str) -> Option<(&str, u32)> {
    let name = task_definition.rsplit('/').next()?;
    let (family, number) = name.rsplit_once(':')?;
    Some((family, number.parse().ok()?))
}

/// Why traffic toward `toward` (from the side `live` runs) needs a question first: its revision
/// is older than the live one (ECS's own numbers: what every operator reads), or the guard
/// rejected it (`rejected`, from the audit trail). `None` when neither.
pub fn revision_warning(
    toward: &ServiceStatus,
    live: &ServiceStatus,
    rejected: &[Rejection],
) -> Option<String> {
    let mut why = Vec::new();
    if let (Some((family, number)), Some((live_family, live_number))) = (
        revision_number(&toward.task_definition),
        revision_number(&live.task_definition),
    ) && family == live_family
        && number < live_number
    {
        why.push(format!(
            "{} ({}) is older than the live {} ({})",
            toward.image, toward.task_definition, live.image, live.task_definition
        ));
    }
    let rejection = rejected
        .iter()
        .filter(|r| r.revision == toward.task_definition && r.image == toward.image)
        .max_by_key(|r| r.at_ms);
    if let Some(r) = rejection {
        why.push(format!(
            "{} ({}) was rejected by the guard at {}: {}",
            r.image,
            r.revision,
            r.at().clock_utc(),
            r.reason
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RolloutState;

    fn service(image: &str, revision: &str) -> ServiceStatus {
        ServiceStatus {
            cluster: "shop".into(),
            service: "shop-green".into(),
            task_definition: revision.into(),
            image: image.into(),
            desired: 2,
            running: 2,
            primary_running: 2,
            pending: 0,
            rollout: RolloutState::Completed,
            failed_tasks: 0,
            deployments: Vec::new(),
            events: Vec::new(),
        }
    }

    #[test]
    fn an_older_revision_of_the_same_family_is_named_with_both_images() {
        let old = service("example/shop:1.4.2", "shop:6");
        let live = service("example/shop:1.5.0", "shop:7");
        assert_eq!(
            revision_warning(&old, &live, &[]).as_deref(),
            Some("example/shop:1.4.2 (shop:6) is older than the live example/shop:1.5.0 (shop:7)")
        );
        assert_eq!(revision_warning(&live, &old, &[]), None, "newer is fine");
        let other = service("example/cart:1.0.0", "cart:2");
        assert_eq!(
            revision_warning(&other, &live, &[]),
            None,
            "another family has no order"
        );
    }

    #[test]
    fn a_rejected_build_is_named_with_when_and_why() {
        let bad = service("example/shop:1.7.0-bad", "shop:10");
        let live = service("example/shop:1.5.0", "shop:8");
        let rejected = [Rejection::of(
            &bad,
            Timestamp(22 * 3_600_000 + 14 * 60_000),
            "5xx 5.5% vs 0.1%",
        )];
        assert_eq!(
            revision_warning(&bad, &live, &rejected).as_deref(),
            Some(
                "example/shop:1.7.0-bad (shop:10) was rejected by the guard at 22:14:00: 5xx 5.5% vs 0.1%"
            )
        );
        // The same revision number with another image is another build.
        let rebuilt = service("example/shop:1.7.1", "shop:10");
        assert_eq!(revision_warning(&rebuilt, &live, &rejected), None);
    }

    #[test]
    fn revision_numbers_come_from_names_and_arns() {
        assert_eq!(revision_number("shop:7"), Some(("shop", 7)));
        assert_eq!(
            revision_number("arn:aws:ecs:eu-west-1:123456789012:task-definition/shop:12"),
            Some(("shop", 12))
        );
        assert_eq!(revision_number("shop"), None);
    }
}
