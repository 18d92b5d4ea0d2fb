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
