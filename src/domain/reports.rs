//! What the platform's writes did: weights, deploys, scaling.

use super::{Color, Observation, Weights};

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
    /// `scaled GREEN from 4 to 0 tasks`: what the operator reads.
    pub fn summary(&self) -> String {
        format!(
            "scaled {} from {} to {} tasks",
            self.side, self.from, self.to
        )
    }

    /// `shop-green: 4 → 0 tasks`, for the audit line; the service's name as `read` it.
    pub fn change_text(&self, read: Option<&Observation>) -> String {
        let service = read.map_or("?", |o| o.side(self.side).service.service.as_str());
        format!("{service}: {} → {} tasks", self.from, self.to)
    }
}

impl DeployReport {
    /// `shop-green: example/shop:1.5.0 → example/shop:1.6.0, shop:8 → shop:9`: the service the
    /// change went to, its image before (as `read` before the change) and after, and the
    /// revisions, for the audit line.
    pub fn change_text(&self, read: Option<&Observation>, new_image: &str) -> String {
        let service = read.map(|o| &o.side(self.idle).service);
        format!(
            "{}: {} → {new_image}, {} → {}",
            service.map_or("?", |s| s.service.as_str()),
            service.map_or("?", |s| s.image.as_str()),
            self.from,
            self.to
        )
    }

    /// The same for an adopt: the live side (`idle` in its report) takes the image the other
    /// side runs.
    pub fn adopt_text(&self, read: Option<&Observation>) -> String {
        let image = read.map_or("?", |o| o.side(self.idle.other()).service.image.as_str());
        self.change_text(read, image)
    }
}
