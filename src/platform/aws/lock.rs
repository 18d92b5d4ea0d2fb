//! The operator lock: a tag on the listener or rule that names who writes, from where and
//! until when. It keeps two operators from fighting over the weights; a holder that dies
//! leaves a lock that expires by itself.

use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::Tag;

use super::errors::from_sdk;
use crate::domain::Timestamp;
use crate::platform::PlatformError;

pub const LOCK_TAG: &str = "cutover:lock";
/// How long a lock lives without being refreshed.
pub const LOCK_TTL: Duration = Duration::from_secs(5 * 60);
/// A held lock is refreshed once it is this old.
pub const LOCK_REFRESH_AFTER: Duration = Duration::from_secs(60);

/// A lock as written in the tag: `alice@laptop (laptop:4242) until 1795763700`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// Who and where: `alice@laptop (laptop:4242)`.
    pub holder: String,
    pub until: Timestamp,
}

impl Lock {
    pub fn value(&self) -> String {
        format!("{} until {}", self.holder, self.until.0 / 1000)
    }

    pub fn parse(value: &str) -> Option<Lock> {
        let (holder, until) = value.rsplit_once(" until ")?;
        let secs: u64 = until.trim().parse().ok()?;
        Some(Lock {
            holder: holder.to_string(),
            until: Timestamp::from_secs(secs),
        })
    }

    pub fn describe(&self) -> String {
        format!("{} until {} UTC", self.holder, self.until.clock_utc())
    }
}

/// What to do about the lock before a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockDecision {
    /// Write the tag: no lock, an expired one, our own, or a take-over on purpose.
    Take,
    /// Another operator holds a live lock.
    HeldBy(Lock),
}

pub fn decide(existing: Option<&Lock>, me: &str, now: Timestamp, break_lock: bool) -> LockDecision {
    match existing {
        Some(lock) if lock.holder != me && lock.until > now && !break_lock => {
            LockDecision::HeldBy(lock.clone())
        }
        _ => LockDecision::Take,
    }
}

pub async fn read(client: &Client, arn: &str) -> Result<Option<Lock>, PlatformError> {
    let out = client
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .map_err(|e| from_sdk("DescribeTags", e))?;
    Ok(out
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .find(|t| t.key() == Some(LOCK_TAG))
        .and_then(|t| Lock::parse(t.value().unwrap_or_default())))
}

pub async fn write(client: &Client, arn: &str, lock: &Lock) -> Result<(), PlatformError> {
    client
        .add_tags()
        .resource_arns(arn)
        .tags(Tag::builder().key(LOCK_TAG).value(lock.value()).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| from_sdk("AddTags", e))
}

pub async fn remove(client: &Client, arn: &str) -> Result<(), PlatformError> {
    client
        .remove_tags()
        .resource_arns(arn)
        .tag_keys(LOCK_TAG)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| from_sdk("RemoveTags", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "alice@laptop (laptop:4242)";

    fn lock(holder: &str, until_secs: u64) -> Lock {
        Lock {
            holder: holder.into(),
            until: Timestamp::from_secs(until_secs),
        }
    }

    #[test]
    fn the_tag_value_round_trips() {
        let l = lock(ME, 1_795_763_700);
        assert_eq!(l.value(), "alice@laptop (laptop:4242) until 1795763700");
        assert_eq!(Lock::parse(&l.value()), Some(l));
        assert_eq!(Lock::parse("garbage"), None);
    }

    #[test]
    fn a_live_lock_of_another_refuses_unless_broken_on_purpose() {
        let now = Timestamp::from_secs(1000);
        let theirs = lock("bob@desk (desk:1)", 1200);
        assert_eq!(
            decide(Some(&theirs), ME, now, false),
            LockDecision::HeldBy(theirs.clone())
        );
        assert_eq!(decide(Some(&theirs), ME, now, true), LockDecision::Take);
        assert_eq!(
            decide(Some(&lock("bob@desk (desk:1)", 900)), ME, now, false),
            LockDecision::Take,
            "expired"
        );
        assert_eq!(
            decide(Some(&lock(ME, 1200)), ME, now, false),
            LockDecision::Take,
            "our own"
        );
        assert_eq!(decide(None, ME, now, false), LockDecision::Take);
    }
}
