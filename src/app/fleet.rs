//! The fleet view's core: one row per pair or ECS-native service, from what one shared
//! refresh read of it, judged by the same evidence as a console, and sorted attention-first.
//! Pure: reads come in, rows go out.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use crate::domain::{
    Color, GateAction, MetricsSnapshot, Observation, PlatformError, Timestamp, Weights, format_age,
};
use crate::shift::{EvidenceSettings, Verdict, evidence, roles};

/// How long a question is on screen before a `y` answers it (as in the console).
const ANSWER_DELAY: Duration = Duration::from_millis(300);

/// What one refresh read of one entry: its state (services, weights, health, lock, driver) and
/// its metrics, or why not.
#[derive(Debug, Clone)]
pub struct FleetRead {
    pub name: String,
    pub observation: Result<Observation, PlatformError>,
    pub metrics: Option<MetricsSnapshot>,
    /// When the state was read: the age column.
    pub read_at: Timestamp,
}

impl FleetRead {
    /// One refresh's reads: each entry's state with its metrics as last fetched.
    pub fn all(
        states: Vec<(String, Result<Observation, PlatformError>)>,
        metrics: &std::collections::BTreeMap<String, MetricsSnapshot>,
        read_at: Timestamp,
    ) -> Vec<FleetRead> {
        states
            .into_iter()
            .map(|(name, observation)| FleetRead {
                metrics: metrics.get(&name).cloned(),
                observation,
                name,
                read_at,
            })
            .collect()
    }
}

/// Why a row needs the eye, most urgent first: the order rows sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attention {
    /// An ECS gate waits for an operator.
    GateWaits,
    /// The candidate, carrying traffic (or ECS's test traffic), is judged worse.
    Worse,
    /// A rollback is running, or a deployment ended rolled back.
    RollingBack,
    /// The weights moved since the last refresh, and not by a driver that moves its own.
    ChangedOutside,
    /// The side carrying traffic has unhealthy targets, or none healthy.
    Unhealthy,
    /// The data is old, incomplete, or could not be read (throttling included).
    Stale,
}

impl fmt::Display for Attention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Attention::GateWaits => "gate",
            Attention::Worse => "worse",
            Attention::RollingBack => "rollback",
            Attention::ChangedOutside => "outside",
            Attention::Unhealthy => "unhealthy",
            Attention::Stale => "stale",
        })
    }
}

/// One line of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    pub attention: Option<(Attention, String)>,
    /// `pair`, or `ECS LINEAR 20%`.
    pub driver: String,
    /// Where the release is: "split 90/10", "ECS at BAKE_TIME", "gate waits 12m → ROLLBACK".
    pub phase: String,
    pub weights: Option<Weights>,
    pub candidate: Color,
    /// The candidate's share of the requests, in percent.
    pub observed: Option<f64>,
    pub verdict: Option<Verdict>,
    pub candidate_5xx: Option<f64>,
    pub live_5xx: Option<f64>,
    /// Candidate p99 over live p99.
    pub latency_ratio: Option<f64>,
    /// Healthy targets: blue, green.
    pub healthy: Option<(u32, u32)>,
    pub lock: Option<String>,
    /// How old the state is.
    pub age: Duration,
    /// The last read of this row failed: what it shows is the read before (its age says
    /// when), or nothing.
    pub behind: bool,
}

/// The list as the last refresh left it: rows sorted attention-first, the filter, the
/// selection (by name, so it stays on its row as rows move).
#[derive(Debug, Clone, Default)]
pub struct FleetState {
    pub rows: Vec<Row>,
    pub filter: String,
    pub selected: Option<String>,
    /// Each row's weights at the refresh before: a change seen between two refreshes.
    previous: HashMap<String, Weights>,
    /// Each row's last read that succeeded: shown, with its age, while reads of it fail.
    last_read: HashMap<String, FleetRead>,
    /// The latest refresh's reads, with the weights each was compared with and, for a read
    /// that failed, the read it is shown from: judged again when metrics arrive.
    latest: Vec<FleetRead>,
    compared_with: HashMap<String, Option<Weights>>,
    shown_before: HashMap<String, FleetRead>,
}

/// How old a state read may be before its row is stale.
pub const STALE_AFTER: Duration = Duration::from_secs(90);

/// The list's share of the account's API budgets, under a tenth of each (a fifth to spare for
/// the first read's burst and a read's own time): ELB's account-level bucket refills 10
/// tokens a second for every tool of the account (Terraform, the AWS console, controllers),
/// ECS's service reads 20.
pub const ELB_CALLS_A_SECOND: f64 = 0.8;
pub const ECS_CALLS_A_SECOND: f64 = 1.6;
/// The longest wait between two reads while AWS throttles them.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How long the list waits before its next state read: `refresh`, or longer where the calls
/// the last read made (`elb`, `ecs`, retries included) would spend more than the list's share
/// of a budget; doubled for each read in a row that AWS throttled, up to a minute, times
/// `jitter` then (so that many lists do not retry in step).
pub fn next_read_in(
    refresh: Duration,
    elb: u64,
    ecs: u64,
    throttled_in_a_row: u32,
    jitter: f64,
) -> Duration {
    let paced = refresh
        .max(Duration::from_secs_f64(elb as f64 / ELB_CALLS_A_SECOND))
        .max(Duration::from_secs_f64(ecs as f64 / ECS_CALLS_A_SECOND));
    if throttled_in_a_row == 0 {
        return paced;
    }
    paced
        .saturating_mul(1u32 << throttled_in_a_row.min(16))
        .min(MAX_BACKOFF.max(paced))
        .mul_f64(jitter)
}

impl FleetState {
    /// A refresh's reads become the rows, sorted attention-first, then by name.
    pub fn refreshed(
        &mut self,
        reads: &[FleetRead],
        settings: &EvidenceSettings,
        role_bake: Duration,
        now: Timestamp,
    ) {
        self.compared_with = reads
            .iter()
            .map(|read| (read.name.clone(), self.previous.get(&read.name).copied()))
            .collect();
        // A row whose read failed is shown from its read before, which this one must not
        // replace.
        let shown_before: HashMap<String, FleetRead> = reads
            .iter()
            .filter(|read| read.observation.is_err())
            .filter_map(|read| Some((read.name.clone(), self.last_read.get(&read.name)?.clone())))
            .collect();
        for read in reads {
            if let Ok(observation) = &read.observation {
                self.previous.insert(read.name.clone(), observation.weights);
                self.last_read.insert(read.name.clone(), read.clone());
            }
        }
        self.latest = reads.to_vec();
        self.shown_before = shown_before;
        self.judge(settings, role_bake, now);
    }

    /// New metrics for the rows as last read: judged again at once, not at the next state
    /// read (a row turning WORSE rises within the metrics minute that shows it).
    pub fn metrics_arrived(
        &mut self,
        metrics: &std::collections::BTreeMap<String, MetricsSnapshot>,
        settings: &EvidenceSettings,
        role_bake: Duration,
        now: Timestamp,
    ) {
        for read in &mut self.latest {
            read.metrics = metrics.get(&read.name).cloned();
        }
        self.judge(settings, role_bake, now);
    }

    /// The rows from the latest reads, sorted attention-first, then by name.
    fn judge(&mut self, settings: &EvidenceSettings, role_bake: Duration, now: Timestamp) {
        // The list reads no custom metrics (two queries a row each would not fit one call a
        // minute): the row's console judges them.
        let settings = &EvidenceSettings {
            metrics: Vec::new(),
            ..settings.clone()
        };
        let mut rows: Vec<Row> = self
            .latest
            .iter()
            .map(|read| {
                let before = self.compared_with.get(&read.name).copied().flatten();
                match (&read.observation, self.shown_before.get(&read.name)) {
                    (Err(error), Some(last)) => {
                        behind(row(last, before, settings, role_bake, now), error)
                    }
                    _ => row(read, before, settings, role_bake, now),
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            let rank = |r: &Row| r.attention.as_ref().map_or(u8::MAX, |(a, _)| *a as u8);
            rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name))
        });
        self.rows = rows;
        if self.selected.is_none() {
            self.selected = self.rows.first().map(|r| r.name.clone());
        }
    }

    /// The rows the filter lets through, in order.
    pub fn shown(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| matches(r, &self.filter))
    }

    /// Moves the selection `delta` rows within what is shown.
    pub fn select(&mut self, delta: isize) {
        let shown: Vec<&str> = self.shown().map(|r| r.name.as_str()).collect();
        if shown.is_empty() {
            return;
        }
        let at = self
            .selected
            .as_deref()
            .and_then(|s| shown.iter().position(|n| *n == s))
            .unwrap_or(0);
        let next = (at as isize + delta).clamp(0, shown.len() as isize - 1) as usize;
        self.selected = Some(shown[next].to_string());
    }

    /// The rows whose last read failed.
    pub fn behind(&self) -> usize {
        self.rows.iter().filter(|r| r.behind).count()
    }

    pub fn selected_row(&self) -> Option<&Row> {
        let name = self.selected.as_deref()?;
        self.shown().find(|r| r.name == name)
    }
}

/// The live list's screen state: the rows, the filter being typed, the budget, what to say.
#[derive(Debug, Clone, Default)]
pub struct FleetView {
    pub fleet: FleetState,
    /// The filter while it is typed (`/`); `None` once kept or cleared.
    pub typing: Option<String>,
    /// When the rows were last read, and when the metrics.
    pub read_at: Option<Timestamp>,
    pub metrics_at: Option<Timestamp>,
    /// API calls a second by bucket, over the last refreshes: "ELB 0.9/s".
    pub rates: Vec<(String, f64)>,
    /// The metrics one read requests from CloudWatch, where they cost anything.
    pub metrics_a_read: Option<usize>,
    /// Why the next read waits longer than the refresh (AWS throttled the last).
    pub backoff: Option<String>,
    pub now: Timestamp,
    /// A line for the operator (a key that did nothing, a console that ended).
    pub said: Option<String>,
    pub source: String,
    /// The row whose rollback was asked for, and when the question opened: a `y` typed
    /// before it could be read does not answer it.
    pub asking: Option<(String, std::time::Instant)>,
}

/// What a key in the list asks the shell to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetKey {
    Nothing,
    /// Open today's console for this row.
    Open(String),
    /// Roll this row back (the operator said yes to the question).
    Rollback(String),
    Quit,
}

impl FleetView {
    /// A key read at `at` (the machine's clock).
    pub fn on_key(&mut self, key: crossterm::event::KeyEvent, at: std::time::Instant) -> FleetKey {
        use crossterm::event::{KeyCode, KeyModifiers};
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return FleetKey::Quit;
        }
        self.said = None;
        if let Some((row, asked)) = self.asking.take() {
            return match key.code {
                KeyCode::Char('y') if at >= asked + ANSWER_DELAY => FleetKey::Rollback(row),
                KeyCode::Char('y') => {
                    self.said = Some(
                        "that y was typed before the question could be read: press y again".into(),
                    );
                    self.asking = Some((row, asked));
                    FleetKey::Nothing
                }
                _ => {
                    self.said = Some(format!("{row}: not rolled back"));
                    FleetKey::Nothing
                }
            };
        }
        if let Some(typed) = self.typing.as_mut() {
            match key.code {
                KeyCode::Enter => self.typing = None,
                KeyCode::Esc => {
                    self.typing = None;
                    self.fleet.filter.clear();
                }
                KeyCode::Backspace => {
                    typed.pop();
                    self.fleet.filter = typed.clone();
                }
                KeyCode::Char(c) => {
                    typed.push(c);
                    self.fleet.filter = typed.clone();
                }
                _ => {}
            }
            self.keep_selection_shown();
            return FleetKey::Nothing;
        }
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.fleet.select(-1),
            KeyCode::Down | KeyCode::Char('j') => self.fleet.select(1),
            KeyCode::PageUp => self.fleet.select(-10),
            KeyCode::PageDown => self.fleet.select(10),
            KeyCode::Char('/') => self.typing = Some(self.fleet.filter.clone()),
            KeyCode::Esc if !self.fleet.filter.is_empty() => self.fleet.filter.clear(),
            KeyCode::Enter => {
                return match self.fleet.selected_row() {
                    Some(row) => FleetKey::Open(row.name.clone()),
                    None => {
                        self.said = Some("no row is selected: the filter shows none".into());
                        FleetKey::Nothing
                    }
                };
            }
            KeyCode::Char('q') => return FleetKey::Quit,
            KeyCode::Char('R') => match self.fleet.selected_row() {
                Some(row) => self.asking = Some((row.name.clone(), at)),
                None => self.said = Some("no row is selected: the filter shows none".into()),
            },
            KeyCode::Char(c) => {
                self.said = Some(format!(
                    "no key {c} in the list — Enter opens a row's console, R rolls it back, / filters, q quits"
                ));
            }
            _ => {}
        }
        FleetKey::Nothing
    }

    /// After the filter changed: the selection moves to a row still shown.
    fn keep_selection_shown(&mut self) {
        if self.fleet.selected_row().is_none() {
            let first = self.fleet.shown().next().map(|r| r.name.clone());
            self.fleet.selected = first;
        }
    }
}

/// Whether `row` passes `filter`: words all of which match, each a part of the name, or
/// `column:value` on driver, phase, verdict, attention or lock.
pub fn matches(row: &Row, filter: &str) -> bool {
    filter.split_whitespace().all(|word| {
        let word = word.to_lowercase();
        match word.split_once(':') {
            Some((column, value)) => {
                let cell = match column {
                    "driver" => row.driver.clone(),
                    "phase" => row.phase.clone(),
                    "verdict" => row.verdict.map(|v| v.to_string()).unwrap_or_default(),
                    "attention" | "needs" => row
                        .attention
                        .as_ref()
                        .map(|(a, _)| a.to_string())
                        .unwrap_or_default(),
                    "lock" => row.lock.clone().unwrap_or_default(),
                    "name" => row.name.clone(),
                    _ => return false,
                };
                cell.to_lowercase().contains(value)
            }
            None => row.name.to_lowercase().contains(&word),
        }
    })
}

/// One entry's row: its evidence judged as a console would, and what needs the eye.
pub fn row(
    read: &FleetRead,
    before: Option<Weights>,
    settings: &EvidenceSettings,
    role_bake: Duration,
    now: Timestamp,
) -> Row {
    let age = now.since(read.read_at);
    let observation = match &read.observation {
        Ok(observation) => observation,
        Err(why) => {
            return Row {
                name: read.name.clone(),
                attention: Some((Attention::Stale, why.to_string())),
                driver: "?".into(),
                phase: "not read".into(),
                weights: None,
                candidate: Color::Green,
                observed: None,
                verdict: None,
                candidate_5xx: None,
                live_5xx: None,
                latency_ratio: None,
                healthy: None,
                lock: None,
                age,
                behind: true,
            };
        }
    };
    let weights = observation.weights;
    let native = observation.driver.native();
    let candidate = native
        .and_then(|n| n.running_candidate())
        .unwrap_or_else(|| roles::candidate(weights, read.metrics.as_ref(), role_bake));
    let judged = read
        .metrics
        .as_ref()
        .map(|m| evidence(m, Some(observation), candidate, None, now, settings));
    let side_rate = |color: Color| judged.as_ref().and_then(|e| e.side(color).rate);
    let p99 = |color: Color| judged.as_ref().and_then(|e| e.side(color).latency_p99_ms);
    let latency_ratio = match (p99(candidate), p99(candidate.other())) {
        (Some(c), Some(l)) if l > 0.0 => Some(c / l),
        _ => None,
    };
    let (driver, phase) = match native {
        Some(native) => (
            format!("ECS {}", native.strategy),
            native_phase(native, now),
        ),
        None => ("pair".to_string(), pair_phase(weights, candidate)),
    };
    let verdict = judged.as_ref().map(|e| e.verdict);
    let carries = weights.share(candidate) > 0 || native.is_some_and(|n| n.running().is_some());
    let attention = attention(
        observation,
        before,
        judged.as_ref().map(|e| (e.verdict, e.reason.clone())),
        carries,
        age,
        now,
    );
    Row {
        name: read.name.clone(),
        attention,
        driver,
        phase,
        weights: Some(weights),
        candidate,
        observed: judged
            .as_ref()
            .and_then(|e| e.observed_share)
            .map(|s| s * 100.0),
        verdict,
        candidate_5xx: side_rate(candidate),
        live_5xx: side_rate(candidate.other()),
        latency_ratio,
        healthy: Some((
            observation.blue.targets.healthy,
            observation.green.targets.healthy,
        )),
        lock: observation.lock_holder.clone(),
        age,
        behind: false,
    }
}

/// A row shown from the read before, since this one failed: stale and saying why, unless it
/// needed the eye more urgently when last read (a WORSE row stays on top, saying how old its
/// verdict is).
fn behind(mut row: Row, error: &PlatformError) -> Row {
    let age = format_age(row.age);
    row.attention = Some(match row.attention.take() {
        Some((attention, why)) if attention < Attention::Stale => {
            (attention, format!("{why} (as read {age} ago; now {error})"))
        }
        _ => (
            Attention::Stale,
            format!("{error}; showing what was read {age} ago"),
        ),
    });
    row.behind = true;
    row
}

fn attention(
    observation: &Observation,
    before: Option<Weights>,
    verdict: Option<(Verdict, String)>,
    candidate_carries: bool,
    age: Duration,
    now: Timestamp,
) -> Option<(Attention, String)> {
    let native = observation.driver.native();
    if let Some((_, gate)) = native.and_then(|n| n.awaiting()) {
        return Some((Attention::GateWaits, gate_words(gate, now)));
    }
    if let Some((Verdict::Worse, reason)) = &verdict
        && candidate_carries
    {
        return Some((Attention::Worse, reason.clone()));
    }
    if let Some(deployment) = native.and_then(|n| n.deployment.as_ref())
        && deployment.status.starts_with("ROLLBACK")
    {
        let why = deployment
            .rollback_reason
            .clone()
            .unwrap_or_else(|| deployment.status.clone());
        return Some((Attention::RollingBack, why));
    }
    if let Some(before) = before
        && before != observation.weights
        && !observation.driver.steps_by_gates()
    {
        return Some((
            Attention::ChangedOutside,
            format!("{before} → {} since the last refresh", observation.weights),
        ));
    }
    for color in Color::BOTH {
        let side = observation.side(color);
        if observation.weights.share(color) > 0
            && (side.targets.unhealthy > 0 || side.targets.healthy == 0)
        {
            return Some((
                Attention::Unhealthy,
                format!(
                    "{color} carries {}% with {} healthy, {} unhealthy",
                    observation.weights.percent_text(color),
                    side.targets.healthy,
                    side.targets.unhealthy
                ),
            ));
        }
    }
    if age > STALE_AFTER {
        return Some((Attention::Stale, format!("read {} ago", format_age(age))));
    }
    if let Some((Verdict::Stale, reason)) = verdict {
        return Some((Attention::Stale, reason));
    }
    None
}

fn gate_words(gate: &crate::domain::PauseGate, now: Timestamp) -> String {
    let left = gate
        .expires_at
        .map_or("?".to_string(), |at| format_age(at.since(now)));
    let then = match gate.on_timeout {
        Some(GateAction::Continue) => "CONTINUE",
        Some(GateAction::Rollback) => "ROLLBACK",
        None => "its timeout action",
    };
    format!("gate waits {left} → {then}")
}

fn native_phase(native: &crate::domain::NativeService, now: Timestamp) -> String {
    match native.deployment.as_ref() {
        None => "no deployment".into(),
        Some(d) if !d.in_progress() => d.status.clone(),
        Some(d) => match d.awaiting_gate() {
            Some(gate) => gate_words(gate, now),
            None => format!("ECS at {}", d.stage_label()),
        },
    }
}

fn pair_phase(weights: Weights, candidate: Color) -> String {
    match weights.idle_and_live() {
        (Some(_), Some(live)) => format!("{} live", live.name()),
        _ => format!(
            "split {weights} · {} {}%",
            candidate.name(),
            weights.percent_text(candidate)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        Driver, NativeDeployment, NativeService, NativeStrategy, PauseGate, RolloutState,
        ServiceStatus, SideObservation, TargetHealth,
    };

    fn side(name: &str) -> SideObservation {
        SideObservation {
            service: ServiceStatus {
                cluster: "shop".into(),
                service: name.into(),
                task_definition: format!("{name}:1"),
                image: "example/shop:1".into(),
                desired: 4,
                running: 4,
                primary_running: 4,
                pending: 0,
                rollout: RolloutState::Completed,
                failed_tasks: 0,
                deployments: Vec::new(),
                events: Vec::new(),
            },
            targets: TargetHealth {
                healthy: 4,
                ..TargetHealth::default()
            },
        }
    }

    fn pair_at(weights: Weights) -> Observation {
        Observation {
            blue: side("blue"),
            green: side("green"),
            weights,
            writes_refused: None,
            other_routes: Vec::new(),
            stickiness_seconds: None,
            lock_holder: None,
            driver: Driver::WeightedPair,
        }
    }

    fn native_at_gate() -> Observation {
        let mut observation = pair_at(Weights::ALL_BLUE);
        observation.driver = Driver::EcsNative(Box::new(NativeService {
            name: "shop/search".into(),
            strategy: NativeStrategy::Linear { step: 20.0 },
            bake_minutes: 1,
            gated: true,
            deployment: Some(NativeDeployment {
                arn: "arn:d".into(),
                status: "IN_PROGRESS".into(),
                stage_name: Some("PRE_PRODUCTION_TRAFFIC_SHIFT".into()),
                gate: Some(PauseGate {
                    hook_id: "h1".into(),
                    awaiting: true,
                    expires_at: Some(Timestamp::from_secs(1_800_001_320)),
                    on_timeout: Some(GateAction::Rollback),
                }),
                requested_weight: Some(0.0),
                source_revision: None,
                target_revision: None,
                status_reason: None,
                rollback_reason: None,
                alarms: None,
                circuit_breaker: None,
            }),
            candidate: Some(Color::Green),
            history: Vec::new(),
        }));
        observation
    }

    fn read(
        name: &str,
        observation: Result<Observation, PlatformError>,
        now: Timestamp,
    ) -> FleetRead {
        FleetRead {
            name: name.into(),
            observation,
            metrics: None,
            read_at: now,
        }
    }

    #[test]
    fn rows_sort_attention_first_and_the_filter_takes_names_and_columns() {
        let now = Timestamp::from_secs(1_800_000_600);
        let reads = vec![
            read("zeta", Ok(pair_at(Weights::ALL_BLUE)), now),
            read("alpha", Ok(pair_at(Weights::with_green(20))), now),
            read(
                "beta",
                Err(PlatformError::Throttled {
                    operation: "DescribeServices".into(),
                }),
                now,
            ),
            read("gamma", Ok(native_at_gate()), now),
        ];
        let mut state = FleetState::default();
        state.refreshed(
            &reads,
            &EvidenceSettings::default(),
            Duration::from_secs(300),
            now,
        );
        let order: Vec<&str> = state.rows.iter().map(|r| r.name.as_str()).collect();
        // The gate first, the unreadable one next; then the quiet ones by name.
        assert_eq!(order, ["gamma", "beta", "alpha", "zeta"]);
        assert_eq!(state.rows[0].driver, "ECS LINEAR 20%");
        assert!(
            state.rows[0].phase.starts_with("gate waits"),
            "{:?}",
            state.rows[0]
        );
        state.filter = "driver:pair".into();
        let shown: Vec<&str> = state.shown().map(|r| r.name.as_str()).collect();
        assert_eq!(shown, ["alpha", "zeta"]);
        state.filter = "a needs:stale".into();
        let shown: Vec<&str> = state.shown().map(|r| r.name.as_str()).collect();
        assert_eq!(shown, ["beta"]);
    }

    #[test]
    fn the_list_keys_select_filter_and_open_the_row_under_the_cursor() {
        use crossterm::event::{KeyCode, KeyEvent};
        let now = Timestamp::from_secs(1_800_000_600);
        let mut view = FleetView::default();
        let reads =
            ["cart", "checkout", "search"].map(|n| read(n, Ok(pair_at(Weights::ALL_BLUE)), now));
        view.fleet.refreshed(
            &reads,
            &EvidenceSettings::default(),
            Duration::from_secs(300),
            now,
        );
        let t0 = std::time::Instant::now();
        let press = |view: &mut FleetView, c, after_ms: u64| {
            view.on_key(KeyEvent::from(c), t0 + Duration::from_millis(after_ms))
        };
        assert_eq!(press(&mut view, KeyCode::Down, 0), FleetKey::Nothing);
        assert_eq!(
            press(&mut view, KeyCode::Enter, 0),
            FleetKey::Open("checkout".into())
        );
        for c in "/sea".chars() {
            press(&mut view, KeyCode::Char(c), 0);
        }
        // The selection follows to a row the filter still shows.
        assert_eq!(
            press(&mut view, KeyCode::Enter, 0),
            FleetKey::Nothing,
            "Enter keeps the filter"
        );
        assert_eq!(
            press(&mut view, KeyCode::Enter, 0),
            FleetKey::Open("search".into())
        );
        // R asks; a y typed ahead of the question does not answer it, one read does.
        assert_eq!(
            press(&mut view, KeyCode::Char('R'), 1000),
            FleetKey::Nothing
        );
        assert_eq!(
            press(&mut view, KeyCode::Char('y'), 1010),
            FleetKey::Nothing
        );
        assert_eq!(
            press(&mut view, KeyCode::Char('y'), 1500),
            FleetKey::Rollback("search".into())
        );
        assert_eq!(
            press(&mut view, KeyCode::Char('R'), 2000),
            FleetKey::Nothing
        );
        assert_eq!(
            press(&mut view, KeyCode::Char('n'), 2500),
            FleetKey::Nothing,
            "n: no rollback"
        );
        press(&mut view, KeyCode::Esc, 3000);
        assert_eq!(view.fleet.shown().count(), 3, "Esc clears the filter");
        assert_eq!(press(&mut view, KeyCode::Char('q'), 3000), FleetKey::Quit);
    }

    #[test]
    fn weights_moved_between_refreshes_are_an_outside_change_but_not_for_ecs() {
        let now = Timestamp::from_secs(1_800_000_600);
        let mut state = FleetState::default();
        let settings = EvidenceSettings::default();
        let bake = Duration::from_secs(300);
        state.refreshed(
            &[read("a", Ok(pair_at(Weights::ALL_BLUE)), now)],
            &settings,
            bake,
            now,
        );
        assert_eq!(state.rows[0].attention, None);
        state.refreshed(
            &[read("a", Ok(pair_at(Weights::with_green(30))), now)],
            &settings,
            bake,
            now,
        );
        assert!(matches!(
            state.rows[0].attention,
            Some((Attention::ChangedOutside, _))
        ));
    }

    #[test]
    fn a_row_whose_read_fails_shows_the_read_before_with_its_age_and_says_why() {
        let t0 = Timestamp::from_secs(1_800_000_600);
        let later = t0.plus(Duration::from_secs(20));
        let settings = EvidenceSettings::default();
        let bake = Duration::from_secs(300);
        let throttled = || {
            Err(PlatformError::Throttled {
                operation: "DescribeRules".into(),
            })
        };
        let mut state = FleetState::default();
        // Never read: nothing to show but why.
        state.refreshed(&[read("a", throttled(), t0)], &settings, bake, t0);
        assert_eq!(state.rows[0].weights, None);
        assert_eq!(state.behind(), 1);
        state.refreshed(
            &[read("a", Ok(pair_at(Weights::with_green(10))), t0)],
            &settings,
            bake,
            t0,
        );
        assert_eq!(state.behind(), 0);
        state.refreshed(&[read("a", throttled(), later)], &settings, bake, later);
        let row = &state.rows[0];
        assert_eq!(row.weights, Some(Weights::with_green(10)), "as last read");
        assert_eq!(row.age, Duration::from_secs(20), "and how old that is");
        assert!(row.behind);
        let (attention, why) = row.attention.clone().expect("stale");
        assert_eq!(attention, Attention::Stale);
        assert!(
            why.contains("throttled") && why.contains("read 20s ago"),
            "{why}"
        );
        assert_eq!(state.behind(), 1);
    }

    #[test]
    fn the_next_read_waits_for_the_budget_and_backs_off_while_throttled() {
        let refresh = Duration::from_secs(5);
        // Few calls: the operator's refresh.
        assert_eq!(next_read_in(refresh, 3, 4, 0, 1.0), refresh);
        // Fifty pairs: 8 ELB calls a read at 0.8 a second, 10 ECS calls at 1.6 a second.
        assert_eq!(
            next_read_in(refresh, 8, 10, 0, 1.0),
            Duration::from_secs(10)
        );
        // Throttled: doubled each time, a minute at most, jittered.
        assert_eq!(
            next_read_in(refresh, 8, 10, 1, 1.0),
            Duration::from_secs(20)
        );
        assert_eq!(
            next_read_in(refresh, 8, 10, 2, 1.0),
            Duration::from_secs(40)
        );
        assert_eq!(next_read_in(refresh, 8, 10, 9, 1.0), MAX_BACKOFF);
        assert_eq!(
            next_read_in(refresh, 8, 10, 9, 1.2),
            Duration::from_secs(72)
        );
    }

    #[test]
    fn metrics_arriving_judge_the_rows_again_without_a_state_read() {
        use crate::domain::{MetricBucket, SideMetrics};
        let now = Timestamp::from_secs(1_800_000_600);
        let settings = EvidenceSettings::default();
        let bake = Duration::from_secs(300);
        let mut state = FleetState::default();
        state.refreshed(
            &[
                read("quiet", Ok(pair_at(Weights::with_green(10))), now),
                read("failing", Ok(pair_at(Weights::with_green(10))), now),
            ],
            &settings,
            bake,
            now,
        );
        assert!(state.rows.iter().all(|r| r.attention.is_none()));
        let minutes = |requests: f64, errors: f64| SideMetrics {
            buckets: (1..=4)
                .rev()
                .map(|k| MetricBucket {
                    start: Timestamp(now.0 - k * 60_000).floor_minute(),
                    requests,
                    errors_5xx: errors,
                    target_conn_errors: 0.0,
                    latency_avg_ms: Some(80.0),
                    latency_p99_ms: Some(200.0),
                })
                .collect(),
        };
        let snapshot = |green_errors: f64| MetricsSnapshot {
            blue: minutes(2000.0, 2.0),
            green: minutes(300.0, green_errors),
            ..MetricsSnapshot::default()
        };
        let metrics = [
            ("quiet".to_string(), snapshot(0.0)),
            ("failing".to_string(), snapshot(90.0)),
        ]
        .into_iter()
        .collect();
        let later = now.plus(Duration::from_secs(10));
        state.metrics_arrived(&metrics, &settings, bake, later);
        assert_eq!(state.rows[0].name, "failing");
        assert!(
            matches!(state.rows[0].attention, Some((Attention::Worse, _))),
            "{:?}",
            state.rows[0]
        );
        assert_eq!(state.rows[1].attention, None);
        assert_eq!(
            state.rows[0].age,
            Duration::from_secs(10),
            "the state's own age"
        );
    }
}
