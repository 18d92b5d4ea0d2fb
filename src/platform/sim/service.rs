use std::collections::VecDeque;

use rand::Rng;
use rand::rngs::StdRng;

use crate::domain::{RolloutState, ServiceEvent, ServiceStatus, TargetHealth, Timestamp};

/// How many events a simulated service keeps, like the ECS console's recent list.
const EVENTS_KEPT: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskState {
    Provisioning,
    Pending,
    Running,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetState {
    NotRegistered,
    Initial,
    Healthy,
}

#[derive(Debug, Clone)]
struct SimTask {
    state: TaskState,
    target: TargetState,
    /// When the next lifecycle step happens.
    next_step_at: Timestamp,
}

/// One simulated ECS service with its tasks and target group.
/// How a broken build fails once it carries traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Its 5xx rate climbs to ~8%.
    Errors,
    /// It answers three times slower.
    Slow,
    /// Its tasks crash and hang under load: ~10% of its requests fail at the load balancer
    /// (connection errors and timeouts), almost none as target 5xx.
    Crashes,
    /// Its ALB metrics look fine, but the shop's own checkout-error alarm fires.
    Alarm,
}

impl Fault {
    /// The simulator's stand-in for a broken build, by its image reference:
    /// `example/shop:1.7.0-bad` fails like bad-green, `-slow`, `-crashy` and `-alarm` like
    /// their scenarios.
    pub fn of_image(image: &str) -> Option<Fault> {
        [
            ("bad", Fault::Errors),
            ("slow", Fault::Slow),
            ("crash", Fault::Crashes),
            ("alarm", Fault::Alarm),
        ]
        .into_iter()
        .find(|(word, _)| image.contains(word))
        .map(|(_, fault)| fault)
    }
}

#[derive(Debug, Clone)]
pub struct SimService {
    pub cluster: String,
    pub name: String,
    pub family: String,
    pub revision: u32,
    pub image: String,
    pub desired: u32,
    /// What is wrong with the build it runs, if anything: shows once it carries traffic.
    pub fault: Option<Fault>,
    tasks: Vec<SimTask>,
    /// The previous revision's tasks during a rolling deployment: they serve until the new
    /// ones are healthy, as ECS does with a minimum healthy percent of 100.
    retiring: Vec<SimTask>,
    events: VecDeque<ServiceEvent>,
    steady: bool,
    next_task_id: u64,
    next_event_id: u64,
}

impl SimService {
    pub fn new(cluster: &str, name: &str, family: &str, revision: u32, image: &str) -> Self {
        SimService {
            cluster: cluster.into(),
            name: name.into(),
            family: family.into(),
            revision,
            image: image.into(),
            desired: 0,
            fault: None,
            tasks: Vec::new(),
            retiring: Vec::new(),
            events: VecDeque::new(),
            steady: true,
            next_task_id: 0,
            next_event_id: 0,
        }
    }

    /// Tasks that are already running and healthy, as after a long-settled deployment.
    pub fn settle_at(&mut self, desired: u32, now: Timestamp) {
        self.desired = desired;
        for _ in 0..desired {
            self.tasks.push(SimTask {
                state: TaskState::Running,
                target: TargetState::Healthy,
                next_step_at: now,
            });
        }
        self.steady = true;
        self.event(now, "has reached a steady state.".into());
    }

    /// Asks for `desired` tasks; new ones start provisioning now.
    pub fn scale_to(&mut self, desired: u32, now: Timestamp, rng: &mut StdRng) {
        self.desired = desired;
        let mut started = Vec::new();
        while (self.tasks.len() as u32) < desired {
            let id = self.new_task_id();
            started.push(format!("(task {id})"));
            self.tasks.push(SimTask {
                state: TaskState::Provisioning,
                target: TargetState::NotRegistered,
                next_step_at: now.plus(secs(rng, 3, 8)),
            });
        }
        self.tasks.truncate(desired as usize);
        if !started.is_empty() {
            self.steady = false;
            self.event(
                now,
                format!(
                    "has started {} tasks: {}.",
                    started.len(),
                    started.join(" ")
                ),
            );
        }
    }

    /// A new revision with `image`: `desired` new tasks start; the old ones keep serving until
    /// the new ones are healthy.
    pub fn roll_out(&mut self, image: &str, desired: u32, now: Timestamp, rng: &mut StdRng) {
        self.revision += 1;
        self.image = image.to_string();
        self.retiring = std::mem::take(&mut self.tasks);
        let revision = format!("{}:{}", self.family, self.revision);
        self.event(now, format!("updated to task definition {revision}."));
        self.scale_to(desired, now, rng);
    }

    /// Moves every task whose time has come one lifecycle step on.
    pub fn step(&mut self, now: Timestamp, rng: &mut StdRng) {
        let mut registered = 0;
        for task in &mut self.tasks {
            if task.next_step_at > now {
                continue;
            }
            match (task.state, task.target) {
                (TaskState::Provisioning, _) => {
                    task.state = TaskState::Pending;
                    task.next_step_at = now.plus(secs(rng, 5, 15));
                }
                (TaskState::Pending, _) => {
                    task.state = TaskState::Running;
                    task.target = TargetState::Initial;
                    task.next_step_at = now.plus(secs(rng, 10, 20));
                    registered += 1;
                }
                (TaskState::Running, TargetState::Initial) => task.target = TargetState::Healthy,
                (TaskState::Running, _) => {}
            }
        }
        if registered > 0 {
            let group = format!("{}-tg", self.name);
            self.event(
                now,
                format!("registered {registered} targets in (target-group {group})"),
            );
        }
        let all_serving = self.tasks.len() as u32 == self.desired
            && self
                .tasks
                .iter()
                .all(|t| t.state == TaskState::Running && t.target == TargetState::Healthy);
        if all_serving && !self.retiring.is_empty() {
            self.retiring.clear();
        }
        if all_serving && !self.steady {
            self.steady = true;
            self.event(now, "has reached a steady state.".into());
        }
    }

    pub fn healthy_targets(&self) -> u32 {
        self.tasks
            .iter()
            .chain(&self.retiring)
            .filter(|t| t.target == TargetState::Healthy)
            .count() as u32
    }

    pub fn target_health(&self) -> TargetHealth {
        let mut health = TargetHealth::default();
        for t in self.tasks.iter().chain(&self.retiring) {
            match t.target {
                TargetState::Initial => health.initial += 1,
                TargetState::Healthy => health.healthy += 1,
                TargetState::NotRegistered => {}
            }
        }
        health
    }

    pub fn status(&self) -> ServiceStatus {
        let count = |s: TaskState| {
            self.tasks
                .iter()
                .chain(&self.retiring)
                .filter(|t| t.state == s)
                .count() as u32
        };
        ServiceStatus {
            cluster: self.cluster.clone(),
            service: self.name.clone(),
            task_definition: format!("{}:{}", self.family, self.revision),
            image: self.image.clone(),
            desired: self.desired,
            running: count(TaskState::Running),
            primary_running: self
                .tasks
                .iter()
                .filter(|t| t.state == TaskState::Running)
                .count() as u32,
            pending: count(TaskState::Pending) + count(TaskState::Provisioning),
            rollout: if self.steady {
                RolloutState::Completed
            } else {
                RolloutState::InProgress
            },
            failed_tasks: 0,
            deployments: Vec::new(),
            events: self.events.iter().cloned().collect(),
        }
    }

    fn event(&mut self, at: Timestamp, text: String) {
        self.next_event_id += 1;
        let id = format!("{}-{}", self.name, self.next_event_id);
        self.events.push_front(ServiceEvent {
            id,
            at,
            message: format!("(service {}) {text}", self.name),
        });
        self.events.truncate(EVENTS_KEPT);
    }

    fn new_task_id(&mut self) -> String {
        self.next_task_id += 1;
        // Looks like an ECS task id prefix and stays stable for a given seed.
        format!(
            "{:08x}",
            (self.next_task_id.wrapping_mul(0x9E37_79B9) ^ u64::from(self.revision)) & 0xFFFF_FFFF
        )
    }
}

fn secs(rng: &mut StdRng, low: u64, high: u64) -> std::time::Duration {
    std::time::Duration::from_secs(rng.random_range(low..=high))
}
