//! Who and where this process is, as the lock, the audit log and the demo name it, where
//! no cloud identity is known.

/// `$USER@host`: who did it, where no cloud identity is known.
pub fn local_actor() -> String {
    format!("{}@{}", local_user(), hostname())
}

/// `$USER` (or `$LOGNAME`).
pub fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "someone".into())
}

/// This machine's name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
