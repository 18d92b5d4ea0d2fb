//! A fleet on one API budget: every entry's state and metrics read in batches, never one
//! console's calls times the number of rows.
//!
//! A state refresh: DescribeServices per cluster, 10 services a call; DescribeRules once per
//! listener (every rule, 400 a page) and DescribeListeners once per load balancer for entries
//! that write a listener's default action; DescribeTags 20 ARNs a call for the locks; for each
//! ECS-native service its newest deployment (a list and a describe); task definitions and
//! service revisions once each. No DescribeTargetHealth: health comes from CloudWatch's
//! `HealthyHostCount` with the metrics, one GetMetricData of at most 500 metrics a call, a
//! minute: four series a group and one ELB 5xx per load balancer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use aws_sdk_cloudwatch::types::MetricDataQuery;
use aws_sdk_ecs::types::Service;

use super::estate::{Estate, TrafficTarget};
use super::{calls, cloudwatch, ecs, elbv2, lock, native, sdk_config};
use crate::domain::{
    Color, ConfigError, Driver, Failure, MetricsSnapshot, Observation, Placeholders, PlatformError,
    SideObservation, SourceInfo, SourceKind, TargetHealth, Timestamp,
};
use crate::platform::fleet::FleetSource;
use crate::platform::wall_clock;

/// GetMetricData takes at most 500 metrics a call.
const MAX_METRICS_A_CALL: usize = 500;
/// DescribeAlarms takes at most 100 alarm names a call.
const ALARMS_A_CALL: usize = 100;
/// DescribeServices takes at most 10 services a call.
const SERVICES_A_CALL: usize = 10;

pub struct AwsFleet {
    entries: Vec<(String, Estate)>,
    region: String,
    ecs: aws_sdk_ecs::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    calls: calls::CallCounter,
    task_definitions: ecs::TaskDefinitions,
    revisions: Mutex<HashMap<String, native::Revision>>,
    /// Healthy targets per target group, as the last metrics read them.
    healthy: Mutex<HashMap<String, u32>>,
}

impl AwsFleet {
    pub async fn connect(
        entries: Vec<(String, Estate)>,
        aws: &super::estate::AwsSettings,
        source: &std::path::Path,
    ) -> Result<Self, Failure> {
        let region_hint = entries.first().and_then(|(_, e)| e.traffic.region());
        let (sdk, region) = sdk_config(aws, region_hint, source).await?;
        if entries.is_empty() {
            return Err(ConfigError {
                path: source.to_path_buf(),
                position: None,
                message: "the fleet has no entry".into(),
            }
            .into());
        }
        let calls = calls::CallCounter::default();
        let (ecs, elb, cloudwatch) = super::clients(&sdk, &calls);
        Ok(AwsFleet {
            ecs,
            elb,
            cloudwatch,
            calls,
            entries,
            region,
            task_definitions: ecs::TaskDefinitions::default(),
            revisions: Mutex::new(HashMap::new()),
            healthy: Mutex::new(HashMap::new()),
        })
    }

    /// Every service of the fleet, by (cluster, name): one call per 10 of a cluster.
    async fn services(&self) -> HashMap<(String, String), Result<Service, PlatformError>> {
        let mut by_cluster: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (_, estate) in &self.entries {
            for side in [&estate.blue, &estate.green] {
                by_cluster
                    .entry(side.cluster.as_str())
                    .or_default()
                    .insert(side.service.as_str());
            }
        }
        let mut found = HashMap::new();
        for (cluster, names) in by_cluster {
            let names: Vec<&str> = names.into_iter().collect();
            for chunk in names.chunks(SERVICES_A_CALL) {
                match ecs::describe_services(&self.ecs, cluster, chunk).await {
                    Ok(services) => {
                        for (name, service) in services {
                            found.insert((cluster.to_string(), name), Ok(service));
                        }
                    }
                    Err(error) => {
                        for name in chunk {
                            found.insert(
                                (cluster.to_string(), name.to_string()),
                                Err(error.clone()),
                            );
                        }
                    }
                }
            }
        }
        found
    }

    /// Every entry's forward: rules by listener, listeners' default actions by load balancer.
    async fn actions(
        &self,
    ) -> HashMap<String, Result<Vec<aws_sdk_elasticloadbalancingv2::types::Action>, PlatformError>>
    {
        let mut listeners = BTreeSet::new();
        let mut balancers = BTreeSet::new();
        for (_, estate) in &self.entries {
            match &estate.traffic {
                TrafficTarget::Rule(_) => {
                    listeners.insert(estate.traffic.listener_arn());
                }
                TrafficTarget::Listener(_) => {
                    if let Some(lb) = estate.traffic.load_balancer_arn() {
                        balancers.insert(lb);
                    }
                }
            }
        }
        let mut actions = HashMap::new();
        let mut failed: HashMap<String, PlatformError> = HashMap::new();
        // One call per listener and load balancer, all at once: a few against a bucket of 40.
        let (rules, defaults) = tokio::join!(
            futures::future::join_all(
                listeners
                    .iter()
                    .map(|l| elbv2::rules_of_listener(&self.elb, l))
            ),
            futures::future::join_all(balancers.iter().map(|b| elbv2::listeners_of(&self.elb, b))),
        );
        for (arn, read) in listeners
            .into_iter()
            .zip(rules)
            .chain(balancers.into_iter().zip(defaults))
        {
            match read {
                Ok(found) => actions.extend(found.into_iter().map(|(arn, a)| (arn, Ok(a)))),
                Err(error) => {
                    failed.insert(arn, error);
                }
            }
        }
        // An entry whose listener or load balancer could not be read carries the error.
        for (_, estate) in &self.entries {
            let arn = estate.traffic.arn().to_string();
            if actions.contains_key(&arn) {
                continue;
            }
            let error = failed
                .get(&estate.traffic.listener_arn())
                .or_else(|| {
                    estate
                        .traffic
                        .load_balancer_arn()
                        .and_then(|lb| failed.get(&lb))
                })
                .cloned()
                .unwrap_or_else(|| PlatformError::Api {
                    operation: "DescribeRules".into(),
                    code: None,
                    message: format!("{arn} was not found on its listener"),
                });
            actions.insert(arn, Err(error));
        }
        actions
    }

    /// One entry's observation from what the batches read.
    async fn observation(
        &self,
        estate: &Estate,
        services: &HashMap<(String, String), Result<Service, PlatformError>>,
        actions: &Result<Vec<aws_sdk_elasticloadbalancingv2::types::Action>, PlatformError>,
        lock_holder: Option<String>,
    ) -> Result<Observation, PlatformError> {
        let actions = actions.as_ref().map_err(Clone::clone)?;
        let owner = format!("the forward of {}", estate.traffic.arn());
        let weights = elbv2::weights_of(
            &owner,
            actions,
            &estate.blue.target_group_arn,
            &estate.green.target_group_arn,
        )
        .map_err(|e| PlatformError::Api {
            operation: "DescribeRules".into(),
            code: None,
            message: e.to_string(),
        })?;
        let service = |side: &super::estate::SideConfig| {
            services
                .get(&(side.cluster.clone(), side.service.clone()))
                .cloned()
                .unwrap_or_else(|| {
                    Err(PlatformError::Api {
                        operation: "DescribeServices".into(),
                        code: None,
                        message: format!("service {} not read", side.service),
                    })
                })
        };
        let (blue_service, green_service) = (service(&estate.blue)?, service(&estate.green)?);
        let (driver, revisions) = if estate.native {
            native::read(&self.ecs, estate, &blue_service, &self.revisions).await?
        } else {
            (Driver::WeightedPair, HashMap::new())
        };
        let healthy = self
            .healthy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut sides = Vec::new();
        for (color, service) in [(Color::Blue, &blue_service), (Color::Green, &green_service)] {
            let side = estate.side(color);
            let status = ecs::side_status(
                &self.ecs,
                &self.task_definitions,
                &side.cluster,
                service,
                revisions.get(&color),
            )
            .await?;
            // Health not read is not "none healthy": the row waits for CloudWatch's count.
            let healthy = healthy
                .get(&side.target_group_arn)
                .copied()
                .ok_or_else(|| PlatformError::Api {
                    operation: "GetMetricData".into(),
                    code: None,
                    message: format!(
                        "no HealthyHostCount for the {} group {} yet",
                        color.name(),
                        side.target_group_dimension()
                    ),
                })?;
            sides.push(SideObservation {
                service: status,
                targets: TargetHealth {
                    healthy,
                    ..TargetHealth::default()
                },
            });
        }
        let green = sides.pop().ok_or_else(|| not_read("green"))?;
        let blue = sides.pop().ok_or_else(|| not_read("blue"))?;
        let writes_refused = ecs::owner_of(estate.native, &blue_service, &green_service);
        Ok(Observation {
            blue,
            green,
            weights,
            writes_refused,
            other_routes: Vec::new(),
            stickiness_seconds: elbv2::stickiness_seconds(actions),
            lock_holder,
            driver,
        })
    }

    /// The load balancers of the fleet's entries, each once, in a stable order: their ELB 5xx
    /// is read once per load balancer, not once per pair.
    fn load_balancers(&self) -> Vec<String> {
        let found: BTreeSet<String> = self
            .entries
            .iter()
            .filter_map(|(_, e)| e.traffic.load_balancer_dimension())
            .collect();
        found.into_iter().collect()
    }

    /// Every entry's series in as few GetMetricData calls as 500 metrics a call allow (one for
    /// 50 pairs on a few load balancers): per side requests, 5xx, p99 latency and healthy
    /// hosts, and each load balancer's own 5xx once. Ids carry the entry's or the load
    /// balancer's index, so results fold back to their rows.
    fn metric_queries(&self) -> Vec<MetricDataQuery> {
        let mut queries = Vec::new();
        for (index, (_, estate)) in self.entries.iter().enumerate() {
            let Some(load_balancer) = estate.traffic.load_balancer_dimension() else {
                continue;
            };
            for color in Color::BOTH {
                let names = Placeholders {
                    target_group: estate.side(color).target_group_dimension(),
                    load_balancer: load_balancer.clone(),
                    service: estate.side(color).service.clone(),
                    cluster: estate.side(color).cluster.clone(),
                };
                for mut query in cloudwatch::group_queries(color, &names, &cloudwatch::Series::LEAN)
                {
                    query.id = Some(format!("e{index}_{}", query.id().unwrap_or_default()));
                    queries.push(query);
                }
                queries.push(cloudwatch::query(
                    format!("e{index}_{}_healthy", color.name()),
                    "HealthyHostCount",
                    "Minimum",
                    vec![
                        cloudwatch::dimension("LoadBalancer", &names.load_balancer),
                        cloudwatch::dimension("TargetGroup", &names.target_group),
                    ],
                ));
            }
        }
        for (index, load_balancer) in self.load_balancers().iter().enumerate() {
            queries.push(cloudwatch::elb_5xx_query(
                format!("lb{index}_{}", cloudwatch::ELB_5XX_ID),
                load_balancer,
            ));
        }
        queries
    }

    pub fn call_counts(&self) -> BTreeMap<String, u64> {
        self.calls.counts()
    }
}

fn not_read(side: &str) -> PlatformError {
    PlatformError::Api {
        operation: "DescribeServices".into(),
        code: None,
        message: format!("the {side} side was not read"),
    }
}

impl FleetSource for AwsFleet {
    fn source(&self) -> SourceInfo {
        SourceInfo {
            kind: SourceKind::Aws,
            detail: format!("fleet of {} · {}", self.entries.len(), self.region),
            place: self.region.clone(),
        }
    }

    fn now(&self) -> Timestamp {
        wall_clock()
    }

    async fn states(&self) -> Vec<(String, Result<Observation, PlatformError>)> {
        let arns: Vec<String> = self
            .entries
            .iter()
            .map(|(_, e)| e.traffic.arn().to_string())
            .collect();
        let (services, actions, locks) = tokio::join!(
            self.services(),
            self.actions(),
            lock::read_many(&self.elb, &arns)
        );
        let now = wall_clock();
        let mut out = Vec::new();
        // A lock not read is not "no lock": the rows wait for the next read.
        let locks = match locks {
            Ok(locks) => locks,
            Err(error) => {
                return self
                    .entries
                    .iter()
                    .map(|(name, _)| (name.clone(), Err(error.clone())))
                    .collect();
            }
        };
        for (name, estate) in &self.entries {
            let arn = estate.traffic.arn();
            let holder = locks
                .get(arn)
                .cloned()
                .flatten()
                .filter(|l| l.until > now)
                .map(|l| l.describe());
            let read = actions.get(arn).cloned().unwrap_or_else(|| {
                Err(PlatformError::Api {
                    operation: "DescribeRules".into(),
                    code: None,
                    message: format!("{arn} not read"),
                })
            });
            out.push((
                name.clone(),
                self.observation(estate, &services, &read, holder).await,
            ));
        }
        out
    }

    async fn metrics(&self) -> Result<BTreeMap<String, MetricsSnapshot>, PlatformError> {
        let now = wall_clock();
        let end = now.plus(std::time::Duration::from_secs(60)).floor_minute();
        let span = (Timestamp(end.0.saturating_sub(15 * 60_000)), end);
        let mut results = Vec::new();
        for chunk in self.metric_queries().chunks(MAX_METRICS_A_CALL) {
            results
                .extend(cloudwatch::get_metric_data(&self.cloudwatch, chunk.to_vec(), span).await?);
        }
        // Every entry's `[guard] alarms` at once, a hundred names a DescribeAlarms.
        let names: BTreeSet<String> = self
            .entries
            .iter()
            .flat_map(|(_, e)| e.alarms.iter().cloned())
            .collect();
        let names: Vec<String> = names.into_iter().collect();
        let mut alarms = Ok(Vec::new());
        for chunk in names.chunks(ALARMS_A_CALL) {
            match cloudwatch::alarms(&self.cloudwatch, chunk).await {
                Ok(found) => {
                    if let Ok(all) = alarms.as_mut() {
                        all.extend(found);
                    }
                }
                Err(error) => {
                    alarms = Err(error);
                    break;
                }
            }
        }
        let mut out = BTreeMap::new();
        let mut healthy = HashMap::new();
        let balancers = self.load_balancers();
        for (index, (name, estate)) in self.entries.iter().enumerate() {
            let prefix = format!("e{index}_");
            let balancer = estate
                .traffic
                .load_balancer_dimension()
                .and_then(|lb| balancers.iter().position(|b| *b == lb))
                .map(|k| format!("lb{k}_"));
            let mine: Vec<_> = results
                .iter()
                .filter_map(|r| {
                    let id = r.id()?;
                    let id = id.strip_prefix(&prefix).or_else(|| {
                        id.strip_prefix(balancer.as_deref()?)
                            .filter(|rest| *rest == cloudwatch::ELB_5XX_ID)
                    })?;
                    let mut result = r.clone();
                    result.id = Some(id.to_string());
                    Some(result)
                })
                .collect();
            for color in Color::BOTH {
                let id = format!("{}_healthy", color.name());
                // The newest minute's count, whichever order CloudWatch answered in.
                let newest = mine
                    .iter()
                    .filter(|r| r.id() == Some(id.as_str()))
                    .flat_map(|r| r.timestamps().iter().zip(r.values()))
                    .max_by_key(|(t, _)| t.to_millis().unwrap_or(0))
                    .map(|(_, v)| *v);
                if let Some(count) = newest {
                    healthy.insert(
                        estate.side(color).target_group_arn.clone(),
                        count.max(0.0).round() as u32,
                    );
                }
            }
            let mut snapshot = cloudwatch::snapshot(&mine, &[], &BTreeMap::new());
            match &alarms {
                Ok(found) => {
                    snapshot.alarms = found
                        .iter()
                        .filter(|a| estate.alarms.contains(&a.name))
                        .cloned()
                        .collect();
                }
                Err(error) => {
                    snapshot
                        .incomplete
                        .insert(crate::domain::MetricRow::Alarms, error.to_string());
                }
            }
            out.insert(name.clone(), snapshot);
        }
        self.healthy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(healthy);
        Ok(out)
    }

    fn calls(&self) -> BTreeMap<String, u64> {
        self.calls.counts()
    }

    fn metrics_a_read(&self) -> Option<usize> {
        Some(self.metric_queries().len())
    }
}
