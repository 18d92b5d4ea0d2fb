//! The operator lock: a tag on the listener or rule that names who writes, from where and
//! until when. It keeps two operators from fighting over the weights; a holder that dies
//! leaves a lock that expires by itself.

use std::sync::LazyLock;
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

/// ELBv2's `Tag` type: keys and values match this, keys ≤ 128 characters, values ≤ 256.
pub const TAG_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";
const TAG_VALUE_MAX: usize = 256;
/// Each of the user and the host keeps at most this many characters in the holder.
const NAME_MAX: usize = 64;

/// One character a holder keeps as it is: letters, digits and the pattern's punctuation.
/// Spaces are allowed by AWS but would make ` until ` ambiguous, so they are replaced too.
static HOLDER_CHAR: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[\p{L}\p{N}_.:/=+\-@]$").expect("a fixed pattern"));

/// `user` for a lock holder: characters outside ELBv2's tag pattern (`DOMAIN\user`, spaces,
/// parentheses, control characters) become `_`, and it is cut to a length the tag can carry.
pub fn tag_safe(text: &str) -> String {
    let mut buffer = [0u8; 4];
    let safe: String = text
        .chars()
        .map(|c| {
            if HOLDER_CHAR.is_match(c.encode_utf8(&mut buffer)) {
                c
            } else {
                '_'
            }
        })
        .take(NAME_MAX)
        .collect();
    if safe.is_empty() { "_".into() } else { safe }
}

/// `alice@laptop pid 4242`: the user, the host and this process, inside ELBv2's tag pattern.
pub fn holder(user: &str, host: &str, pid: u32) -> String {
    format!("{}@{} pid {pid}", tag_safe(user), tag_safe(host))
}

/// A lock as written in the tag: `alice@laptop pid 4242 until 1795763700`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// Who and where: `alice@laptop pid 4242`.
    pub holder: String,
    pub until: Timestamp,
}

impl Lock {
    pub fn value(&self) -> String {
        let value = format!("{} until {}", self.holder, self.until.0 / 1000);
        debug_assert!(value.chars().count() <= TAG_VALUE_MAX);
        value
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

/// Whether to write the lock: refused under another holder's live lock, unless it is broken
/// on purpose or its holder is known to be gone (`holder_gone`, see [`holder_is_gone`]).
pub fn decide(
    existing: Option<&Lock>,
    me: &str,
    now: Timestamp,
    break_lock: bool,
    holder_gone: bool,
) -> LockDecision {
    match existing {
        Some(lock) if lock.holder != me && lock.until > now && !break_lock && !holder_gone => {
            LockDecision::HeldBy(lock.clone())
        }
        _ => LockDecision::Take,
    }
}

/// The host and process a holder names: `alice@laptop pid 4242` → (`laptop`, 4242).
pub fn holder_host_and_pid(holder: &str) -> Option<(&str, u32)> {
    let (who, pid) = holder.rsplit_once(" pid ")?;
    let (_, host) = who.rsplit_once('@')?;
    Some((host, pid.parse().ok()?))
}

/// A lock taken on this host by a process that no longer runs: its holder was killed and
/// can never release it, so it need not be waited out. Only where `/proc` tells (Linux);
/// elsewhere every holder counts as alive.
pub fn holder_is_gone(lock: &Lock, this_host: &str) -> bool {
    let proc_root = std::path::Path::new("/proc");
    if !proc_root.join("self").exists() {
        return false;
    }
    holder_host_and_pid(&lock.holder).is_some_and(|(host, pid)| {
        host == tag_safe(this_host) && !proc_root.join(pid.to_string()).exists()
    })
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

/// The lock tags of many listeners and rules: one DescribeTags per 20 ARNs (its limit).
pub async fn read_many(
    client: &Client,
    arns: &[String],
) -> Result<std::collections::HashMap<String, Option<Lock>>, PlatformError> {
    let mut locks = std::collections::HashMap::new();
    for chunk in arns.chunks(20) {
        let out = client
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| from_sdk("DescribeTags", e))?;
        for description in out.tag_descriptions() {
            let Some(arn) = description.resource_arn() else {
                continue;
            };
            let lock = description
                .tags()
                .iter()
                .find(|t| t.key() == Some(LOCK_TAG))
                .and_then(|t| Lock::parse(t.value().unwrap_or_default()));
            locks.insert(arn.to_string(), lock);
        }
    }
    Ok(locks)
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
    use proptest::prelude::*;

    #[test]
    fn holders_from_awkward_users_and_hosts_fit_the_tag_pattern() {
        assert_eq!(
            holder("CORP\\alice", "my laptop", 7),
            "CORP_alice@my_laptop pid 7"
        );
        assert_eq!(holder("josé", "hôte(1)", 8), "josé@hôte_1_ pid 8");
        assert_eq!(holder("", "", 9), "_@_ pid 9");
    }

    proptest! {
        #[test]
        fn any_user_and_host_give_a_tag_value_aws_accepts_and_that_parses_back(
            user in any::<String>(), host in any::<String>(), pid in any::<u32>(),
            until in 0u64..=4_102_444_800,
        ) {
            let pattern = regex::Regex::new(TAG_PATTERN).expect("AWS's pattern compiles");
            let lock = Lock { holder: holder(&user, &host, pid), until: Timestamp::from_secs(until) };
            let value = lock.value();
            prop_assert!(pattern.is_match(&value), "{value:?} is outside the tag pattern");
            prop_assert!(value.chars().count() <= TAG_VALUE_MAX);
            prop_assert_eq!(Lock::parse(&value), Some(lock));
        }
    }

    const ME: &str = "alice@laptop pid 4242";

    fn lock(holder: &str, until_secs: u64) -> Lock {
        Lock {
            holder: holder.into(),
            until: Timestamp::from_secs(until_secs),
        }
    }

    #[test]
    fn the_tag_value_round_trips() {
        let l = lock(ME, 1_795_763_700);
        assert_eq!(l.value(), "alice@laptop pid 4242 until 1795763700");
        assert_eq!(Lock::parse(&l.value()), Some(l));
        assert_eq!(Lock::parse("garbage"), None);
    }

    #[test]
    fn a_live_lock_of_another_refuses_unless_broken_on_purpose() {
        let now = Timestamp::from_secs(1000);
        let theirs = lock("bob@desk pid 1", 1200);
        assert_eq!(
            decide(Some(&theirs), ME, now, false, false),
            LockDecision::HeldBy(theirs.clone())
        );
        assert_eq!(
            decide(Some(&theirs), ME, now, true, false),
            LockDecision::Take
        );
        assert_eq!(
            decide(Some(&theirs), ME, now, false, true),
            LockDecision::Take,
            "its holder is gone"
        );
        assert_eq!(
            decide(Some(&lock("bob@desk pid 1", 900)), ME, now, false, false),
            LockDecision::Take,
            "expired"
        );
        assert_eq!(
            decide(Some(&lock(ME, 1200)), ME, now, false, false),
            LockDecision::Take,
            "our own"
        );
        assert_eq!(decide(None, ME, now, false, false), LockDecision::Take);
    }

    #[test]
    fn a_holder_on_this_host_whose_process_is_gone_is_known_gone() {
        let host = "build-7";
        let mine = lock(&holder("ci", host, std::process::id()), 1200);
        assert!(!holder_is_gone(&mine, host), "this process runs");
        // Process ids wrap well below u32::MAX: this one is not running.
        let dead = lock(&holder("ci", host, u32::MAX - 1), 1200);
        assert_eq!(
            holder_is_gone(&dead, host),
            std::path::Path::new("/proc/self").exists()
        );
        let elsewhere = lock(&holder("ci", "other-host", u32::MAX - 1), 1200);
        assert!(
            !holder_is_gone(&elsewhere, host),
            "another host's processes are unknown"
        );
        assert_eq!(holder_host_and_pid("a@b pid 12"), Some(("b", 12)));
        assert_eq!(holder_host_and_pid("garbage"), None);
    }
}
