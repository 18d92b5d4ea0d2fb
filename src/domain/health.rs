/// Target states of one target group, counted (from `DescribeTargetHealth` or the simulator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetHealth {
    pub healthy: u32,
    pub unhealthy: u32,
    pub initial: u32,
    pub draining: u32,
    pub unused: u32,
    pub unavailable: u32,
}

impl TargetHealth {
    pub fn total(&self) -> u32 {
        self.healthy
            + self.unhealthy
            + self.initial
            + self.draining
            + self.unused
            + self.unavailable
    }
}
