//! What is being watched, as the header names it, and why writes may be off.

/// Why nothing is written in read-only mode.
pub const READ_ONLY_REASON: &str = "read-only mode (--read-only): cutover only watches";

/// Where the truth comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// The embedded simulator.
    Demo,
    Aws,
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SourceKind::Demo => "DEMO",
            SourceKind::Aws => "AWS",
        })
    }
}

/// How the header names what is being watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    pub kind: SourceKind,
    /// `scenario healthy · speed 1×` or `eu-west-1 · listener app/shop/…`.
    pub detail: String,
    /// Where writes land, shown even when the header is short: `123456789012 · eu-west-1`, or
    /// `simulated` in the demo.
    pub place: String,
}
