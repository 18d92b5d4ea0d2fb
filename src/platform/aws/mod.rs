//! The AWS platform: ECS, ELBv2 and CloudWatch through the AWS SDK for Rust.
//!
//! One file per AWS service, each with pure mapping functions from SDK types to domain types;
//! this file wires them into `Platform`, counts the calls, and is the one place that writes.

pub mod arn;
mod calls;
pub mod cloudwatch;
pub mod deploy;
pub mod discover;
pub mod ecs;
pub mod elbv2;
mod errors;
pub mod estate;
pub mod fleet;
pub mod lock;
pub mod native;
mod profile;

use crate::platform::wall_clock;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use aws_config::BehaviorVersion;
use aws_config::Region;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ecs::types::Service;

use self::estate::{Estate, TrafficTarget};
use super::{
    DeployReport, Platform, PlatformError, ScaleReport, SourceInfo, SourceKind, WriteIntent,
    WriteReport,
};
use crate::domain::{
    Color, MetricsSnapshot, Observation, Placeholders, SideObservation, Timestamp, Weights,
};
use crate::domain::{ConfigError, Failure, GateStep};
use crate::platform::patience::{retry_busy, retry_transient};

/// Generous enough for a slow region, short enough that an unreachable endpoint fails in
/// well under 30 s instead of hanging.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(8);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(25);
/// The SDK's standard retry mode backs off with jitter on throttling and transient errors
/// (reads only: the weights write is sent once, see `elbv2::write_actions`).
const MAX_ATTEMPTS: u32 = 3;
/// How long a write's read-back keeps trying while the read fails for a passing reason.
const READ_BACK_DEADLINE: Duration = Duration::from_secs(20);
/// How long the first reads of a command keep trying while AWS throttles or does not answer,
/// before the command gives up (exit 1).
pub const START_PATIENCE: Duration = Duration::from_secs(45);

pub struct AwsPlatform {
    estate: Estate,
    region: String,
    ecs: aws_sdk_ecs::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    sts: aws_sdk_sts::Client,
    watch: cloudwatch::Watch,
    task_definitions: ecs::TaskDefinitions,
    /// Service revisions, described once per ARN: a revision never changes.
    revisions: Mutex<HashMap<String, native::Revision>>,
    /// Another owner of the traffic, as last seen on the services.
    owner: Mutex<Option<String>>,
    /// Who this process is in the lock tag: `alice@laptop pid 4242`.
    holder: String,
    /// `--break-lock`: taken over once, for the first write, never for the rest of the session.
    break_lock: AtomicBool,
    /// Other listeners and rules forwarding to either group, as the preflight found them.
    other_routes: Mutex<Vec<String>>,
    /// When this process last wrote its lock, while it holds one.
    lock_written: Mutex<Option<Timestamp>>,
    calls: calls::CallCounter,
}

/// The AWS SDK's configuration: the standard chain, with the profile, region (else
/// `fallback_region`) and endpoint given, our timeouts and retries; and the region it
/// resolved. `source` is the file named in its errors.
pub async fn sdk_config(
    aws: &estate::AwsSettings,
    fallback_region: Option<&str>,
    source: &std::path::Path,
) -> Result<(aws_config::SdkConfig, String), Failure> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
    let bad_input = |message: String| ConfigError {
        path: source.to_path_buf(),
        position: None,
        message,
    };
    if let Some(profile) = &aws.profile {
        profile::check_exists(profile).map_err(|message| {
            bad_input(format!(
                "profile '{profile}' (--profile or [aws] profile): {message}"
            ))
        })?;
        loader = loader.profile_name(profile);
    } else if let Some(profile) = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()) {
        // The SDK takes keys in the environment before AWS_PROFILE: a misspelt one would be
        // passed over in silence and the writes made as someone else.
        profile::check_exists(&profile).map_err(|message| {
            bad_input(format!(
                "profile '{profile}' (AWS_PROFILE in the environment): {message}; unset \
                 AWS_PROFILE or name an existing profile"
            ))
        })?;
    }
    if let Some(region) = aws.region.as_deref().or(fallback_region) {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(url) = &aws.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let sdk = loader.load().await;
    let Some(region) = sdk.region().map(|r| r.to_string()) else {
        return Err(bad_input("no AWS region: set --region or region in [aws]".into()).into());
    };
    Ok((sdk, region))
}

impl AwsPlatform {
    /// Builds the clients once (loading the AWS config costs ~90 ms). Makes no call yet.
    pub async fn connect(estate: Estate, break_lock: bool) -> Result<Self, Failure> {
        // The listener or rule lives in the region its ARN names, so that region is right
        // unless the operator says otherwise (--region or [aws] region).
        let (sdk, region) =
            sdk_config(&estate.aws, estate.traffic.region(), &estate.source).await?;
        let bad_input = |message: String| ConfigError {
            path: estate.source.clone(),
            position: None,
            message,
        };
        let Some(load_balancer) = estate.traffic.load_balancer_dimension() else {
            let arn = estate.traffic.arn();
            return Err(bad_input(format!("cannot read the load balancer from {arn}")).into());
        };
        let names = |color: Color| Placeholders {
            target_group: estate.side(color).target_group_dimension(),
            load_balancer: load_balancer.clone(),
            service: estate.side(color).service.clone(),
            cluster: estate.side(color).cluster.clone(),
        };
        let watch = cloudwatch::Watch {
            queries: cloudwatch::queries(
                &[
                    (Color::Blue, names(Color::Blue)),
                    (Color::Green, names(Color::Green)),
                ],
                &estate.metrics,
            ),
            custom: estate.metrics.iter().map(|m| m.name.clone()).collect(),
            alarms: estate.alarms.clone(),
        };
        let calls = calls::CallCounter::default();
        let (ecs, elb, cloudwatch) = clients(&sdk, &calls);
        Ok(AwsPlatform {
            ecs,
            elb,
            cloudwatch,
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(&sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            estate,
            region,
            watch,
            task_definitions: ecs::TaskDefinitions::default(),
            revisions: Mutex::new(HashMap::new()),
            owner: Mutex::new(None),
            holder: lock_holder(),
            break_lock: AtomicBool::new(break_lock),
            other_routes: Mutex::new(Vec::new()),
            lock_written: Mutex::new(None),
            calls,
        })
    }

    /// Checks that the estate is what the config says, before any screen is drawn: the
    /// listener or rule forwards to both groups, both services exist and use their group.
    pub async fn preflight(&self) -> Result<Observation, Failure> {
        let target = &self.estate.traffic;
        let actions = retry_busy(START_PATIENCE, "reading the listener or rule", || {
            self.read_actions()
        })
        .await
        .with_context(|| format!("reading {}", describe_target(target)))?;
        // After the first read, so that an endpoint that does not answer fails there, once.
        self.check_routes().await?;
        elbv2::weights_of(
            &describe_target(target),
            &actions,
            &self.estate.blue.target_group_arn,
            &self.estate.green.target_group_arn,
        )
        .with_context(|| {
            format!(
                "checking the forward action in {}",
                self.estate.source.display()
            )
        })?;
        let services = retry_busy(START_PATIENCE, "reading the ECS services", || {
            self.services()
        })
        .await
        .context("reading the ECS services")?;
        for color in Color::BOTH {
            let side = self.estate.side(color);
            let service = &services[&color];
            if !ecs::is_attached_to(service, &side.target_group_arn) {
                return Err(anyhow::anyhow!(
                    "{color} service '{}' in cluster '{}' is not attached to target group {}: \
                     check [{}] target_group_arn",
                    side.service,
                    side.cluster,
                    side.target_group_arn,
                    color.label().to_lowercase()
                )
                .into());
            }
        }
        let mut observation = self
            .observation(&services, &actions)
            .await
            .context("reading the estate")?;
        let lock = self.read_lock().await;
        observation.lock_holder = self.held_by_another(lock.flatten());
        Ok(observation)
    }

    /// The lock tag as it is now; `None` when it could not be read (said in the log).
    async fn read_lock(&self) -> Option<Option<lock::Lock>> {
        lock::read(&self.elb, self.estate.traffic.arn())
            .await
            .inspect_err(|error| tracing::warn!("reading the lock: {error}"))
            .ok()
    }

    /// `lock` described, when it is another operator's live lock: our writes would be
    /// refused by it.
    fn held_by_another(&self, lock: Option<lock::Lock>) -> Option<String> {
        match self.judge_lock(lock.as_ref(), wall_clock(), false).0 {
            lock::LockDecision::HeldBy(held) => Some(held.describe()),
            lock::LockDecision::Take => None,
        }
    }

    /// What the lock tag means for us at `now`: another's live lock, or ours to take; and
    /// whether its holder, on this host, is gone (its process ended).
    fn judge_lock(
        &self,
        existing: Option<&lock::Lock>,
        now: Timestamp,
        break_lock: bool,
    ) -> (lock::LockDecision, bool) {
        let gone =
            existing.is_some_and(|l| lock::holder_is_gone(l, &crate::platform::whoami::hostname()));
        (
            lock::decide(existing, &self.holder, now, break_lock, gone),
            gone,
        )
    }

    /// Reads every listener and rule of the load balancer: a rule ARN that is a listener's
    /// default rule is a config error (its actions change only through the listener), and
    /// other routes forwarding to either group are remembered for the screen and `status`.
    /// Routes that cannot be read (permissions) are a warning, not a stop.
    async fn check_routes(&self) -> Result<(), Failure> {
        let target = &self.estate.traffic;
        let Some(load_balancer) = target.load_balancer_arn() else {
            return Ok(());
        };
        let routes = match elbv2::routes(&self.elb, &load_balancer).await {
            Ok(routes) => routes,
            Err(error) => {
                tracing::warn!("reading the load balancer's other listeners and rules: {error}");
                return Ok(());
            }
        };
        let ours = |route: &elbv2::Route| match target {
            TrafficTarget::Listener(arn) => route.is_default && route.listener_arn == *arn,
            TrafficTarget::Rule(arn) => route.rule_arn == *arn,
        };
        if let TrafficTarget::Rule(arn) = target
            && let Some(route) = routes.iter().find(|r| r.rule_arn == *arn && r.is_default)
        {
            return Err(ConfigError {
                path: self.estate.source.clone(),
                position: None,
                message: format!(
                    "[traffic] rule_arn = \"{arn}\" is the default rule of listener {}: its \
                     actions change only through the listener; use listener_arn = \"{}\" instead",
                    route.listener, route.listener_arn
                ),
            }
            .into());
        }
        let others: Vec<String> = routes
            .iter()
            .filter(|r| !ours(r))
            .filter_map(|r| {
                let sides: Vec<&str> = Color::BOTH
                    .iter()
                    .filter(|c| r.forwards_to(&self.estate.side(**c).target_group_arn))
                    .map(|c| c.name())
                    .collect();
                (!sides.is_empty()).then(|| format!("{} → {}", r.describe(), sides.join(" and ")))
            })
            .collect();
        *self.other_routes.lock().unwrap_or_else(|p| p.into_inner()) = others;
        Ok(())
    }

    /// Both sides in full, from services already described and the forward action just read.
    async fn observation(
        &self,
        services: &HashMap<Color, Service>,
        actions: &[aws_sdk_elasticloadbalancingv2::types::Action],
    ) -> Result<Observation, PlatformError> {
        let weights = self.weights_in(actions)?;
        let (Some(blue_service), Some(green_service)) =
            (services.get(&Color::Blue), services.get(&Color::Green))
        else {
            return Err(PlatformError::Api {
                operation: "DescribeServices".into(),
                code: None,
                message: "a configured service was not returned".into(),
            });
        };
        let owner = ecs::owner_of(self.estate.native, blue_service, green_service);
        *self.owner.lock().unwrap_or_else(|p| p.into_inner()) = owner;
        let (driver, revisions) = if self.estate.native {
            self.native_read(blue_service).await?
        } else {
            (crate::domain::Driver::WeightedPair, HashMap::new())
        };
        let (blue, green) = tokio::join!(
            self.side(Color::Blue, blue_service, revisions.get(&Color::Blue)),
            self.side(Color::Green, green_service, revisions.get(&Color::Green)),
        );
        let (mut blue, mut green) = (blue?, green?);
        // A side that no revision of the deployment serves runs nothing of its own.
        if self.estate.native {
            for (color, side) in [(Color::Blue, &mut blue), (Color::Green, &mut green)] {
                if !revisions.contains_key(&color) && weights.share(color) == 0 {
                    side.service.desired = 0;
                    side.service.running = 0;
                    side.service.primary_running = 0;
                    side.service.pending = 0;
                    side.service.task_definition = "—".into();
                    side.service.image = "—".into();
                    side.service.events.clear();
                }
            }
        }
        Ok(Observation {
            driver,
            blue,
            green,
            weights,
            writes_refused: self.refusal(),
            other_routes: self
                .other_routes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            stickiness_seconds: elbv2::stickiness_seconds(actions),
            lock_holder: None,
        })
    }

    /// Takes the operator lock (or refreshes our own) before a write; refuses under another
    /// operator's live lock unless `--break-lock`, which is spent on the first write it is
    /// asked for.
    async fn ensure_lock(&self) -> Result<(), PlatformError> {
        let arn = self.estate.traffic.arn();
        let now = wall_clock();
        let existing = lock::read(&self.elb, arn).await?;
        let break_lock = self.break_lock.swap(false, Ordering::SeqCst);
        let (decision, gone) = self.judge_lock(existing.as_ref(), now, break_lock);
        if gone && let Some(dead) = &existing {
            tracing::warn!("taking over {}: its process is gone", dead.describe());
        }
        if let lock::LockDecision::HeldBy(theirs) = decision {
            return Err(PlatformError::Locked {
                holder: theirs.describe(),
            });
        }
        self.write_lock(now).await?;
        // Two operators may have taken a free lock at once: the tag says who won.
        match lock::read(&self.elb, arn).await? {
            Some(l) if l.holder == self.holder => Ok(()),
            Some(theirs) => Err(PlatformError::Locked {
                holder: theirs.describe(),
            }),
            None => Err(PlatformError::Api {
                operation: "AddTags".into(),
                code: None,
                message: "the lock tag did not stick".into(),
            }),
        }
    }

    async fn write_lock(&self, now: Timestamp) -> Result<(), PlatformError> {
        let mine = lock::Lock {
            holder: self.holder.clone(),
            until: now.plus(lock::LOCK_TTL),
        };
        lock::write(&self.elb, self.estate.traffic.arn(), &mine).await?;
        *self.lock_written.lock().unwrap_or_else(|p| p.into_inner()) = Some(now);
        Ok(())
    }

    /// Keeps a held lock alive; called with every state poll and the tag as that poll read
    /// it. Never overwrites another holder: someone who broke our lock on purpose keeps it,
    /// and our next write asks for the lock again.
    async fn refresh_lock_if_due(&self, read: Option<&lock::Lock>) {
        let now = wall_clock();
        let written = *self.lock_written.lock().unwrap_or_else(|p| p.into_inner());
        if written.is_none_or(|at| now.since(at) < lock::LOCK_REFRESH_AFTER) {
            return;
        }
        match read {
            Some(theirs) if theirs.holder != self.holder => {
                tracing::warn!(
                    "the lock was taken over by {}: not refreshed",
                    theirs.describe()
                );
                *self.lock_written.lock().unwrap_or_else(|p| p.into_inner()) = None;
            }
            _ => {
                if let Err(error) = self.write_lock(now).await {
                    tracing::warn!("refreshing the lock: {error}");
                }
            }
        }
    }

    /// Takes the lock, then checks that the weights are still the ones a deploy, scale or
    /// adopt was decided on: someone may have shifted traffic while we waited for the lock.
    async fn lock_and_recheck(&self, decided_on: Weights) -> Result<(), PlatformError> {
        self.ensure_lock().await?;
        let now = self.read_weights().await?;
        if now != decided_on {
            return Err(PlatformError::Conflict {
                expected: decided_on,
                actual: now,
            });
        }
        Ok(())
    }

    /// The compare-and-set write itself, once the lock question is settled. Whatever the
    /// write answered, the weights are read back before anything is decided, so what the
    /// write did is never guessed: see [`resolve_write`].
    async fn compare_and_write(
        &self,
        expected: Weights,
        target: Weights,
    ) -> Result<(Weights, Option<String>), PlatformError> {
        let actions = self.read_actions().await?;
        let actual = self.weights_in(&actions)?;
        if actual != expected {
            return Err(PlatformError::Conflict { expected, actual });
        }
        let owner = describe_target(&self.estate.traffic);
        let rewritten = elbv2::with_weights(
            &owner,
            &actions,
            &self.estate.blue.target_group_arn,
            &self.estate.green.target_group_arn,
            target,
        )
        .map_err(|e| PlatformError::Api {
            operation: "rewriting the forward action".into(),
            code: None,
            message: e.to_string(),
        })?;
        let written = elbv2::write_actions(&self.elb, &self.estate.traffic, rewritten).await;
        if let Err(error) = &written {
            tracing::warn!("{error}: reading the weights again to learn what happened");
        }
        let read_back = self.read_back_patiently().await;
        resolve_write(expected, target, written, read_back)
    }

    /// The weights after a write. A read that fails for a passing reason (throttling, an
    /// endpoint that does not answer) is tried again with backoff up to
    /// [`READ_BACK_DEADLINE`]: a write whose effect is unknown must not be called failed
    /// because one read was throttled.
    async fn read_back_patiently(&self) -> Result<Weights, PlatformError> {
        let reading = "reading the weights back";
        retry_transient(READ_BACK_DEADLINE, reading, || self.read_weights()).await
    }

    /// Deploys `image` to the idle side (the one at 0%): a new task definition revision with
    /// only that container's image changed, the service updated to it and scaled to the live
    /// side's desired count. Goes through the same refusals and lock as a weight write.
    pub async fn deploy_image(
        &self,
        image: &str,
        container: Option<&str>,
    ) -> Result<DeployReport, deploy::DeployFailure> {
        deploy::check_image(image)?;
        if let Some(reason) = self.refusal() {
            return Err(PlatformError::Refused { reason }.into());
        }
        let weights = self.read_weights().await?;
        let (idle, live) = match weights.idle_and_live() {
            (Some(idle), Some(live)) => (idle, live),
            _ => {
                return Err(PlatformError::Refused {
                    reason: format!(
                        "both sides carry traffic ({weights} blue/green): a deploy goes to the \
                         side at 0%; roll back or promote first"
                    ),
                }
                .into());
            }
        };
        let services = self.services().await?;
        let (Some(idle_service), Some(live_service)) = (services.get(&idle), services.get(&live))
        else {
            return Err(not_returned("DescribeServices", "a configured service").into());
        };
        let controller = idle_service
            .deployment_controller()
            .map(|c| c.r#type().as_str());
        if controller.is_some_and(|c| c != "ECS") {
            return Err(PlatformError::Refused {
                reason: format!(
                    "{idle} uses the {} deployment controller: cutover deploys only ECS-controlled services",
                    controller.unwrap_or("?")
                ),
            }
            .into());
        }
        let Some(current_arn) = idle_service.task_definition() else {
            return Err(
                not_returned("DescribeServices", "the idle service's task definition").into(),
            );
        };
        self.lock_and_recheck(weights).await?;
        let (definition, tags) = deploy::describe(&self.ecs, current_arn).await?;
        let containers = deploy::with_image(&definition, container, image)?;
        let new_arn = deploy::register(&self.ecs, &definition, containers, tags).await?;
        let side = self.estate.side(idle);
        let desired = live_service.desired_count();
        deploy::update_service(&self.ecs, &side.cluster, &side.service, &new_arn, desired).await?;
        Ok(DeployReport {
            idle,
            from: short_arn(current_arn),
            to: short_arn(&new_arn),
            desired: u32::try_from(desired).unwrap_or(0),
            weights,
        })
    }

    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    /// AWS calls made so far, by operation: every attempt, the SDK's retries included.
    pub fn call_counts(&self) -> BTreeMap<String, u64> {
        self.calls.counts()
    }

    async fn read_actions(
        &self,
    ) -> Result<Vec<aws_sdk_elasticloadbalancingv2::types::Action>, PlatformError> {
        elbv2::read_actions(&self.elb, &self.estate.traffic)
            .await
            .map_err(|e| self.name_the_key(&[], e))
    }

    async fn read_weights(&self) -> Result<Weights, PlatformError> {
        let actions = self.read_actions().await?;
        self.weights_in(&actions)
    }

    fn weights_in(
        &self,
        actions: &[aws_sdk_elasticloadbalancingv2::types::Action],
    ) -> Result<Weights, PlatformError> {
        elbv2::weights_of(
            &describe_target(&self.estate.traffic),
            actions,
            &self.estate.blue.target_group_arn,
            &self.estate.green.target_group_arn,
        )
        .map_err(|e| PlatformError::Api {
            operation: "reading the forward action".into(),
            code: None,
            message: e.to_string(),
        })
    }

    /// An AWS "not found" as the config key that caused it and how to fix it:
    /// `[green] cluster = "shop-gren": no such cluster in us-east-1 — check the name or the
    /// region`. Other errors pass as they are.
    fn name_the_key(&self, sides: &[Color], error: PlatformError) -> PlatformError {
        let operation = match &error {
            PlatformError::Api { operation, .. } => operation.clone(),
            _ => return error,
        };
        let region = &self.region;
        let sections = || {
            sides
                .iter()
                .map(|c| format!("[{}]", c.name()))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        let side = |c: &Color| self.estate.side(*c);
        let message = match error.aws_code() {
            Some("ClusterNotFoundException") => sides.first().map(|c| {
                format!(
                    "{} cluster = \"{}\": no such cluster in {region} — check the name or the region",
                    sections(),
                    side(c).cluster
                )
            }),
            // ECS's own word for a service a cluster does not have (or has inactive).
            Some("MISSING") => sides
                .iter()
                .find(|c| message_names(&error, &side(c).service))
                .or(sides.first())
                .map(|c| {
                    format!(
                        "[{}] service = \"{}\": no such active service in cluster \"{}\" ({region}) — check the name",
                        c.name(),
                        side(c).service,
                        side(c).cluster
                    )
                }),
            Some("TargetGroupNotFound") => sides.first().map(|c| {
                format!(
                    "{} target_group_arn = \"{}\": no such target group in {region} — check the ARN",
                    sections(),
                    side(c).target_group_arn
                )
            }),
            Some("RuleNotFound" | "ListenerNotFound") => {
                let (key, what) = match self.estate.traffic {
                    TrafficTarget::Listener(_) => ("listener_arn", "listener"),
                    TrafficTarget::Rule(_) => ("rule_arn", "rule"),
                };
                Some(format!(
                    "[traffic] {key} = \"{}\": no such {what} in {region} — check the ARN",
                    self.estate.traffic.arn()
                ))
            }
            _ => None,
        };
        match message {
            Some(message) => PlatformError::Api {
                operation,
                code: error.aws_code().map(str::to_string),
                message,
            },
            None => error,
        }
    }

    /// Both services, with one `DescribeServices` per cluster.
    async fn services(&self) -> Result<HashMap<Color, Service>, PlatformError> {
        self.describe_both_services()
            .await
            .map_err(|(sides, error)| self.name_the_key(&sides, error))
    }

    /// Both services; an error comes with the sides whose call failed.
    async fn describe_both_services(
        &self,
    ) -> Result<HashMap<Color, Service>, (Vec<Color>, PlatformError)> {
        let (blue, green) = (&self.estate.blue, &self.estate.green);
        let mut found = HashMap::new();
        if (&blue.cluster, &blue.service) == (&green.cluster, &green.service) {
            // One service that deploys itself: both sides are its revisions.
            let mut services = ecs::describe_services(&self.ecs, &blue.cluster, &[&blue.service])
                .await
                .map_err(|e| (Color::BOTH.to_vec(), e))?;
            if let Some(service) = services.remove(&blue.service) {
                found.insert(Color::Green, service.clone());
                found.insert(Color::Blue, service);
            }
        } else if blue.cluster == green.cluster {
            let mut services =
                ecs::describe_services(&self.ecs, &blue.cluster, &[&blue.service, &green.service])
                    .await
                    .map_err(|e| (Color::BOTH.to_vec(), e))?;
            for (color, side) in [(Color::Blue, blue), (Color::Green, green)] {
                if let Some(service) = services.remove(&side.service) {
                    found.insert(color, service);
                }
            }
        } else {
            let (blue_names, green_names) = ([blue.service.as_str()], [green.service.as_str()]);
            let (b, g) = tokio::join!(
                ecs::describe_services(&self.ecs, &blue.cluster, &blue_names),
                ecs::describe_services(&self.ecs, &green.cluster, &green_names),
            );
            let mut b = b.map_err(|e| (vec![Color::Blue], e))?;
            let mut g = g.map_err(|e| (vec![Color::Green], e))?;
            if let Some(service) = b.remove(&blue.service) {
                found.insert(Color::Blue, service);
            }
            if let Some(service) = g.remove(&green.service) {
                found.insert(Color::Green, service);
            }
        }
        Ok(found)
    }

    /// One side in full. `revision`: for a service that deploys itself, the revision whose
    /// tasks register in this side's group (its task definition and tasks).
    async fn side(
        &self,
        color: Color,
        service: &Service,
        revision: Option<&(String, native::RevisionTasks)>,
    ) -> Result<SideObservation, PlatformError> {
        let side = self.estate.side(color);
        let status = ecs::side_status(
            &self.ecs,
            &self.task_definitions,
            &side.cluster,
            service,
            revision,
        )
        .await?;
        let targets = elbv2::describe_target_health(&self.elb, &side.target_group_arn)
            .await
            .map_err(|e| self.name_the_key(&[color], e))?;
        Ok(SideObservation {
            service: status,
            targets,
        })
    }

    /// A service that deploys itself, as one poll reads it (see [`native::read`]).
    async fn native_read(
        &self,
        service: &Service,
    ) -> Result<(crate::domain::Driver, native::Sides), PlatformError> {
        native::read(&self.ecs, &self.estate, service, &self.revisions).await
    }

    /// Why this estate must not be written: another owner of its traffic. (Read-only is the
    /// `ReadOnly` wrapper's.)
    fn refusal(&self) -> Option<String> {
        self.owner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// What a write did, from what it answered and what was read back after it:
/// - read back at the target: applied (with a note when the answer was an error: it was lost);
/// - at the weights it was based on: not applied, the write's own error says why;
/// - anywhere else: someone else wrote meanwhile (changed outside cutover);
/// - nothing could be read back: applied if AWS answered the write, not applied if AWS refused
///   it with an error code, and otherwise **unknown** — never called failed.
fn resolve_write(
    expected: Weights,
    target: Weights,
    written: Result<(), PlatformError>,
    read_back: Result<Weights, PlatformError>,
) -> Result<(Weights, Option<String>), PlatformError> {
    match (written, read_back) {
        (Ok(()), Ok(now)) if now == target => Ok((now, None)),
        (Ok(()), Ok(now)) => Err(PlatformError::ReadBackMismatch {
            written: target,
            read_back: now,
        }),
        (Ok(()), Err(read_error)) => Ok((
            target,
            Some(format!(
                "AWS answered the write; reading it back failed ({read_error})"
            )),
        )),
        (Err(error), Ok(now)) if now == target => Ok((
            now,
            Some(format!("answer lost ({error}); read back {now}: applied")),
        )),
        (Err(error), Ok(now)) if now == expected => Err(error),
        (Err(_), Ok(now)) => Err(PlatformError::Conflict {
            expected,
            actual: now,
        }),
        (Err(error), Err(_)) if error.refused_by_aws() => Err(error),
        (Err(error), Err(read_error)) => Err(PlatformError::OutcomeUnknown {
            target,
            error: format!("{error}; reading back: {read_error}"),
        }),
    }
}

/// Whether an error's message names `word` in quotes (`service 'shop-green' not found`).
fn message_names(error: &PlatformError, word: &str) -> bool {
    matches!(error, PlatformError::Api { message, .. } if message.contains(&format!("'{word}'")))
}

/// AWS answered without something cutover needs from it.
fn not_returned(operation: &str, what: &str) -> PlatformError {
    PlatformError::Api {
        operation: operation.into(),
        code: None,
        message: format!("{what} was not returned"),
    }
}

fn short_arn(arn: &str) -> String {
    arn.rsplit_once('/')
        .map_or(arn, |(_, tail)| tail)
        .to_string()
}

fn describe_target(target: &TrafficTarget) -> String {
    match target {
        TrafficTarget::Listener(arn) => format!("listener {arn}"),
        TrafficTarget::Rule(arn) => format!("rule {arn}"),
    }
}

/// `alice@laptop pid 4242`: the user, the host and this process, as the lock names them.
/// The ECS, ELB and CloudWatch clients, every attempt counted by `calls`.
pub(crate) fn clients(
    sdk: &aws_config::SdkConfig,
    calls: &calls::CallCounter,
) -> (
    aws_sdk_ecs::Client,
    aws_sdk_elasticloadbalancingv2::Client,
    aws_sdk_cloudwatch::Client,
) {
    (
        aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(sdk)
                .interceptor(calls.clone())
                .build(),
        ),
        aws_sdk_elasticloadbalancingv2::Client::from_conf(
            aws_sdk_elasticloadbalancingv2::config::Builder::from(sdk)
                .interceptor(calls.clone())
                .build(),
        ),
        aws_sdk_cloudwatch::Client::from_conf(
            aws_sdk_cloudwatch::config::Builder::from(sdk)
                .interceptor(calls.clone())
                .build(),
        ),
    )
}

/// The one service of an estate that deploys itself (both sides are its revisions).
fn the_service(services: &HashMap<Color, Service>) -> Result<&Service, PlatformError> {
    services
        .get(&Color::Blue)
        .ok_or_else(|| PlatformError::Api {
            operation: "DescribeServices".into(),
            code: None,
            message: "the configured service was not returned".into(),
        })
}

/// Why cutover never writes the weights of a service that deploys itself.
const NATIVE_WEIGHTS: &str = "ECS moves the weights of this service (ECS-native): cutover never writes them; c continues \
     at a gate, R rolls back";

fn lock_holder() -> String {
    lock::holder(
        &crate::platform::whoami::local_user(),
        &crate::platform::whoami::hostname(),
        std::process::id(),
    )
}

impl Platform for AwsPlatform {
    fn source(&self) -> SourceInfo {
        let what = match &self.estate.traffic {
            TrafficTarget::Listener(_) => "listener",
            TrafficTarget::Rule(_) => "rule",
        };
        let load_balancer = self
            .estate
            .traffic
            .load_balancer_dimension()
            .unwrap_or_default();
        let account = self.estate.traffic.account().unwrap_or("?");
        // Where the writes land, as an operator needs to know it: a local endpoint (a test
        // double) is no account, and the profile says whose credentials write.
        let endpoint = self.estate.aws.endpoint_url.as_deref().map(|url| {
            let host = url.split("://").nth(1).unwrap_or(url).trim_end_matches('/');
            format!("endpoint {host}")
        });
        let profile = self
            .estate
            .aws
            .profile
            .as_deref()
            .map(|p| format!("profile {p}"));
        let place = [
            endpoint.unwrap_or_else(|| account.to_string()),
            self.region.clone(),
        ]
        .into_iter()
        .chain(profile)
        .collect::<Vec<_>>()
        .join(" · ");
        SourceInfo {
            kind: SourceKind::Aws,
            detail: format!(
                "{} · {account} · {what} of {load_balancer} · {}",
                self.region,
                self.estate.source.display()
            ),
            place,
        }
    }

    /// Gives the lock back if this process holds it (on quit, after a headless write).
    async fn release_lock(&self) -> bool {
        let held = self
            .lock_written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .is_some();
        if !held {
            return false;
        }
        let arn = self.estate.traffic.arn();
        let ours =
            matches!(lock::read(&self.elb, arn).await, Ok(Some(l)) if l.holder == self.holder);
        if ours && let Err(error) = lock::remove(&self.elb, arn).await {
            tracing::warn!("releasing the lock: {error}; it expires by itself");
        }
        ours
    }

    /// Who the credentials belong to (STS `GetCallerIdentity`), for the audit log; `$USER@host`
    /// when STS cannot say.
    async fn actor(&self) -> String {
        match self.sts.get_caller_identity().send().await {
            Ok(out) => out
                .arn()
                .map_or_else(crate::platform::whoami::local_actor, str::to_string),
            Err(error) => {
                tracing::warn!("GetCallerIdentity: {error}; the audit log names the local user");
                crate::platform::whoami::local_actor()
            }
        }
    }

    fn now(&self) -> Timestamp {
        wall_clock()
    }

    async fn observe(&self) -> Result<Observation, PlatformError> {
        // The lock is read with every poll, so another operator's is seen before a write of
        // ours is refused by it.
        let (services, actions, lock) =
            tokio::join!(self.services(), self.read_actions(), self.read_lock());
        if let Some(read) = &lock {
            self.refresh_lock_if_due(read.as_ref()).await;
        }
        let mut observation = self.observation(&services?, &actions?).await?;
        observation.lock_holder = self.held_by_another(lock.flatten());
        Ok(observation)
    }

    async fn weights(&self) -> Result<Weights, PlatformError> {
        self.read_weights().await
    }

    async fn scale_idle(&self, desired: u32) -> Result<ScaleReport, PlatformError> {
        if self.estate.native {
            return Err(PlatformError::Refused {
                reason: "ECS scales the revisions of a service that deploys itself".into(),
            });
        }
        if let Some(reason) = self.refusal() {
            return Err(PlatformError::Refused { reason });
        }
        let weights = self.read_weights().await?;
        let Some(idle) = weights.idle_and_live().0 else {
            return Err(PlatformError::Refused {
                reason: format!(
                    "both sides carry traffic ({weights} blue/green): only a side at 0% is scaled"
                ),
            });
        };
        let services = self.services().await?;
        let from = services
            .get(&idle)
            .map_or(0, |s| u32::try_from(s.desired_count()).unwrap_or(0));
        self.lock_and_recheck(weights).await?;
        let side = self.estate.side(idle);
        self.ecs
            .update_service()
            .cluster(&side.cluster)
            .service(&side.service)
            .desired_count(i32::try_from(desired).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| errors::from_sdk("UpdateService", e))?;
        Ok(ScaleReport {
            side: idle,
            from,
            to: desired,
        })
    }

    async fn adopt(&self) -> Result<DeployReport, PlatformError> {
        if self.estate.native {
            return Err(PlatformError::Refused {
                reason: "ECS scales the revisions of a service that deploys itself".into(),
            });
        }
        if let Some(reason) = self.refusal() {
            return Err(PlatformError::Refused { reason });
        }
        let weights = self.read_weights().await?;
        let (Some(idle), Some(live)) = weights.idle_and_live() else {
            return Err(PlatformError::Refused {
                reason: format!(
                    "adopt needs one side carrying all traffic ({weights} blue/green now)"
                ),
            });
        };
        let services = self.services().await?;
        let (Some(idle_service), Some(live_service)) = (services.get(&idle), services.get(&live))
        else {
            return Err(PlatformError::Api {
                operation: "DescribeServices".into(),
                code: None,
                message: "a configured service was not returned".into(),
            });
        };
        let (Some(to), Some(from)) = (
            idle_service.task_definition(),
            live_service.task_definition(),
        ) else {
            return Err(PlatformError::Api {
                operation: "DescribeServices".into(),
                code: None,
                message: "a service has no task definition".into(),
            });
        };
        self.lock_and_recheck(weights).await?;
        let side = self.estate.side(live);
        let desired = live_service.desired_count();
        deploy::update_service(&self.ecs, &side.cluster, &side.service, to, desired).await?;
        Ok(DeployReport {
            idle: live,
            from: short_arn(from),
            to: short_arn(to),
            desired: u32::try_from(desired).unwrap_or(0),
            weights,
        })
    }

    async fn deploy(
        &self,
        image: String,
        container: Option<String>,
    ) -> Result<DeployReport, PlatformError> {
        let result = self.deploy_image(&image, container.as_deref()).await;
        // An image or container cutover cannot use is a refusal; anything AWS said no to, or
        // that went wrong on the way, is a failure.
        result.map_err(|error| match error {
            deploy::DeployFailure::Platform(platform) => platform,
            deploy::DeployFailure::Input(input) => PlatformError::Refused {
                reason: input.to_string(),
            },
        })
    }

    async fn metrics(&self) -> Result<MetricsSnapshot, PlatformError> {
        cloudwatch::fetch(&self.cloudwatch, &self.watch, wall_clock()).await
    }

    /// The one place that writes weights: refuses in read-only mode and under another owner,
    /// takes the lock, compares with what the operator saw, writes everything that was there
    /// with only the weights changed, and reads back.
    async fn set_weights(
        &self,
        expected: Weights,
        target: Weights,
    ) -> Result<Weights, PlatformError> {
        self.write_weights(expected, target, WriteIntent::Move)
            .await
            .map(|report| report.weights)
    }

    /// A gate step for a service that deploys itself: refused under another owner, with the
    /// lock taken for a continue (a rollback passes it, as a weights rollback does); the
    /// awaiting gate is read again first (compare-and-set: the operator answered the gate
    /// they saw), the step sent once, and the deployment read back whatever it answered.
    async fn steer(&self, step: GateStep) -> Result<crate::domain::Driver, PlatformError> {
        if let Some(reason) = self.refusal() {
            return Err(PlatformError::Refused { reason });
        }
        if !self.estate.native {
            return Err(PlatformError::Refused {
                reason: "this estate is a weighted pair: cutover writes its weights, no gate \
                         waits"
                    .into(),
            });
        }
        match (self.ensure_lock().await, step.is_rollback()) {
            (Ok(()), _) => {}
            (Err(error), true) => tracing::warn!("rolling back without the lock: {error}"),
            (Err(error), false) => return Err(error),
        }
        let services = self.services().await?;
        let (driver, _) = self.native_read(the_service(&services)?).await?;
        let native = driver.native().ok_or_else(|| PlatformError::Refused {
            reason: "the service does not deploy itself".into(),
        })?;
        // The gate (or the deployment) the operator answered must still be the one waiting.
        let still = if step.is_rollback() {
            native.rollback_step().ok()
        } else {
            native.continue_step().ok()
        };
        let same = match (&step, &still) {
            (GateStep::Stop { arn }, Some(GateStep::Answer { arn: now, .. })) => arn == now,
            _ => still.as_ref() == Some(&step),
        };
        let step = match (step.is_rollback(), same, still) {
            (_, true, _) => step,
            // A rollback goes to whatever stops the running deployment now.
            (true, false, Some(now)) => now,
            (_, _, _) => {
                return Err(PlatformError::Refused {
                    reason: format!(
                        "{} no longer applies: ECS is at {}",
                        step.describe(),
                        native
                            .deployment
                            .as_ref()
                            .map_or("no deployment".into(), |d| d.stage_label())
                    ),
                });
            }
        };
        let sent = native::send(&self.ecs, &step).await;
        let services = retry_transient(READ_BACK_DEADLINE, "reading the deployment back", || {
            self.services()
        })
        .await?;
        let (after, _) = self.native_read(the_service(&services)?).await?;
        match sent {
            Ok(()) => Ok(after),
            // ECS said no: nothing was done.
            Err(error) if error.aws_code().is_some() => Err(error),
            // The answer was lost: the deployment read back says whether it was taken.
            Err(error) => {
                let waits = after
                    .native()
                    .and_then(|n| n.continue_step().ok())
                    .is_some_and(|now| now == step);
                if waits { Err(error) } else { Ok(after) }
            }
        }
    }

    /// A rollback goes through even when the lock cannot be had: another operator's lock, tags
    /// AWS will not write (AccessDenied, TooManyTags), throttling. Read-only and another owner
    /// of the traffic still refuse; compare-and-set and the read-back still apply.
    async fn write_weights(
        &self,
        expected: Weights,
        target: Weights,
        intent: WriteIntent,
    ) -> Result<WriteReport, PlatformError> {
        if let Some(reason) = self.refusal() {
            return Err(PlatformError::Refused { reason });
        }
        if self.estate.native {
            return Err(PlatformError::Refused {
                reason: NATIVE_WEIGHTS.into(),
            });
        }
        let mut notes = Vec::new();
        match (self.ensure_lock().await, intent) {
            (Ok(()), _) => {}
            (Err(error), WriteIntent::Rollback) => {
                tracing::warn!("rolling back without the lock: {error}");
                notes.push(format!("lock bypassed: {error}"));
            }
            (Err(error), WriteIntent::Move) => return Err(error),
        }
        let (weights, lost) = self.compare_and_write(expected, target).await?;
        notes.extend(lost);
        Ok(WriteReport { weights, notes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(green: u8) -> Weights {
        Weights::with_green(green)
    }

    fn unreachable() -> PlatformError {
        PlatformError::Unreachable {
            operation: "ModifyRule".into(),
            message: "timed out".into(),
        }
    }

    fn throttled(operation: &str) -> PlatformError {
        PlatformError::Throttled {
            operation: operation.into(),
        }
    }

    #[test]
    fn what_a_write_did_is_read_back_never_guessed() {
        let (from, to) = (w(50), w(60));
        assert_eq!(resolve_write(from, to, Ok(()), Ok(to)), Ok((to, None)));
        let (weights, note) = resolve_write(from, to, Err(unreachable()), Ok(to)).expect("applied");
        assert_eq!(weights, to);
        assert!(note.is_some_and(|n| n.contains("answer lost")));
        assert_eq!(
            resolve_write(from, to, Err(unreachable()), Ok(from)),
            Err(unreachable()),
            "at the old split: not applied, the write's own error says why"
        );
        assert_eq!(
            resolve_write(from, to, Err(unreachable()), Ok(w(30))),
            Err(PlatformError::Conflict {
                expected: from,
                actual: w(30)
            })
        );
        assert_eq!(
            resolve_write(from, to, Ok(()), Ok(w(30))),
            Err(PlatformError::ReadBackMismatch {
                written: to,
                read_back: w(30)
            })
        );
    }

    #[test]
    fn a_write_that_cannot_be_read_back_is_applied_refused_or_unknown_never_failed() {
        let (from, to) = (w(50), w(60));
        // AWS answered the write: it applied, whatever the read-back could not say.
        let (weights, note) =
            resolve_write(from, to, Ok(()), Err(throttled("DescribeRules"))).expect("applied");
        assert_eq!(weights, to);
        assert!(note.is_some_and(|n| n.contains("reading it back failed")));
        // AWS refused it with a code: not applied.
        let denied = PlatformError::Api {
            operation: "ModifyRule".into(),
            code: Some("AccessDenied".into()),
            message: "no".into(),
        };
        assert_eq!(
            resolve_write(
                from,
                to,
                Err(denied.clone()),
                Err(throttled("DescribeRules"))
            ),
            Err(denied)
        );
        // The answer was lost, and nothing could be read: unknown.
        let dropped = PlatformError::Api {
            operation: "ModifyRule".into(),
            code: None,
            message: "connection closed before message completed".into(),
        };
        for error in [unreachable(), dropped] {
            let resolved = resolve_write(from, to, Err(error), Err(throttled("DescribeRules")));
            assert!(
                matches!(resolved, Err(PlatformError::OutcomeUnknown { target, .. }) if target == to),
                "{resolved:?}"
            );
        }
    }
}
