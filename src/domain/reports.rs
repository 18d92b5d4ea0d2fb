//! What the platform's writes did: weights, deploys, scaling.

use super::{Color, Weights};

/// Why weights are written: a rollback passes where a move toward the candidate waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteIntent {
    Move,
    Rollback,
}

/// What a weights write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// As read back after the write.
    pub weights: Weights,
    /// What the operator and the audit line must know: `lock bypassed: …` (a rollback without
    /// the lock), `answer lost: …` (applied, found on a re-read).
    pub notes: Vec<String>,
}

/// What scaling the idle side did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleReport {
    pub side: Color,
    pub from: u32,
    pub to: u32,
}

/// What a deploy (or an adopt) did: the side it changed, from and to which revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployReport {
    pub idle: Color,
    /// `family:revision` before and after.
    pub from: String,
    pub to: String,
    pub desired: u32,
    pub weights: Weights,
}

impl ScaleReport {
    /// `shop-green: 4 → 0 tasks`, for the audit line.
    pub fn change_text(&self, service: &str) -> String {
        format!("{service}: {} → {} tasks", self.from, self.to)
    }
}

impl DeployReport {
    /// `shop-green: example/shop:1.5.0 → example/shop:1.6.0, shop:8 → shop:9`: the service the
    /// change went to, its image before and after, and the revisions, for the audit line.
    pub fn change_text(&self, service: &str, old_image: &str, new_image: &str) -> String {
        format!(
            "{service}: {old_image} → {new_image}, {} → {}",
            self.from, self.to
        )
    }
}
