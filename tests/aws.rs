//! The AWS path with the real AWS SDK clients against a moto server on loopback: estates built
//! the way users have them, read by `cutover status`, written through `AwsPlatform`.

mod support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, TargetGroupTuple,
};
use serde_json::Value;

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use cutover::config::{self, AwsSettings};
use cutover::domain::{AlarmState, Color, Weights};
use cutover::platform::aws::AwsPlatform;
use cutover::platform::{Platform, PlatformError, WriteIntent};
use cutover::shift::Verdict;
use support::moto::{
    Estate, OIDC_SECRET, allow, aws_env, delay, deny, elb_budget, elb_spent, fail_after, hold,
    moto, native_clock, oidc_secret, page_size, write_config,
};

fn cutover(args: &[&str]) -> Output {
    let log = format!("{}/aws-cli.log", env!("CARGO_TARGET_TMPDIR"));
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .args(["--log-file", &log])
        .envs(aws_env())
        .stdin(Stdio::null())
        .output()
        .expect("cutover runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `cutover status` on a config and asserts how it fails: the exit code, a line of the
/// message, and no panic.
fn assert_status_fails(name: &str, text: &str, code: i32, expected: &str) -> Output {
    let config = write_config(name, text);
    let output = cutover(&["status", "--config", &config.to_string_lossy()]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(code), "{name}: {message}");
    assert!(
        message.contains(expected),
        "{name}: expected {expected:?} in: {message}"
    );
    assert!(!message.contains("panicked"), "{name}: {message}");
    output
}

/// The ARN of a resource that does not exist: the same but for the last character.
fn other_arn(arn: &str) -> String {
    let last = if arn.ends_with('0') { '1' } else { '0' };
    format!("{}{last}", &arn[..arn.len() - 1])
}

fn status_json(config: &std::path::Path) -> Value {
    let output = cutover(&["status", "--json", "--config", &config.to_string_lossy()]);
    assert!(
        output.status.success(),
        "status failed: {}",
        stderr(&output)
    );
    serde_json::from_slice(&output.stdout).expect("status prints JSON")
}

fn set_aws_env() {
    for (key, value) in aws_env() {
        // SAFETY: set before any thread of this test reads the environment; every test sets
        // the same values.
        unsafe { std::env::set_var(key, value) };
    }
}

async fn platform(name: &str, text: &str) -> AwsPlatform {
    set_aws_env();
    let path = write_config(name, text);
    let config = config::load(&path, &AwsSettings::default()).expect("valid config");
    AwsPlatform::connect(config.estate, false)
        .await
        .expect("clients")
}

/// The SDK's config for the moto server, as the tests' own clients use it.
async fn sdk() -> aws_config::SdkConfig {
    set_aws_env();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto().endpoint)
        .region(aws_config::Region::new(support::moto::REGION))
        .load()
        .await
}

async fn elb() -> aws_sdk_elasticloadbalancingv2::Client {
    aws_sdk_elasticloadbalancingv2::Client::new(&sdk().await)
}

async fn rule_actions(elb: &aws_sdk_elasticloadbalancingv2::Client, arn: &str) -> Vec<Action> {
    let out = elb
        .describe_rules()
        .rule_arns(arn)
        .send()
        .await
        .expect("describe rule");
    out.rules()[0].actions().to_vec()
}

async fn listener_actions(elb: &aws_sdk_elasticloadbalancingv2::Client, arn: &str) -> Vec<Action> {
    let out = elb
        .describe_listeners()
        .listener_arns(arn)
        .send()
        .await
        .expect("describe listener");
    out.listeners()[0].default_actions().to_vec()
}

fn weights_in(actions: &[Action]) -> Vec<(String, i32)> {
    actions
        .iter()
        .filter_map(|a| a.forward_config())
        .flat_map(|f| f.target_groups())
        .map(|t| {
            (
                t.target_group_arn()
                    .unwrap_or_default()
                    .rsplit('/')
                    .nth(1)
                    .unwrap_or_default()
                    .to_string(),
                t.weight().unwrap_or(-1),
            )
        })
        .collect()
}

fn stickiness(actions: &[Action]) -> Option<(bool, i32)> {
    let config = actions
        .iter()
        .find_map(|a| a.forward_config())?
        .target_group_stickiness_config()?;
    Some((config.enabled()?, config.duration_seconds()?))
}

/// The target groups an action sends to, plain or weighted.
fn groups_of(action: &Action) -> Vec<String> {
    let weighted = action
        .forward_config()
        .map(|f| f.target_groups())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t.target_group_arn().map(str::to_string));
    action
        .target_group_arn()
        .map(str::to_string)
        .into_iter()
        .chain(weighted)
        .collect()
}

/// A rule estate as AWS holds it after any write of cutover's: the OIDC action still first,
/// with its secret still usable (Describe never shows it), stickiness kept, the neighbouring
/// rule untouched.
async fn assert_rule_intact(elb: &aws_sdk_elasticloadbalancingv2::Client, estate: &Estate) {
    let rule = estate.rule_arn.as_deref().expect("a rule estate");
    let actions = rule_actions(elb, rule).await;
    assert_eq!(
        (actions[0].r#type(), actions[0].order()),
        (Some(&ActionTypeEnum::AuthenticateOidc), Some(1)),
        "the OIDC action stays first: {actions:?}"
    );
    assert_eq!(
        actions[0]
            .authenticate_oidc_config()
            .and_then(|c| c.client_secret()),
        None,
        "Describe never returns the client secret"
    );
    assert_eq!(
        oidc_secret(rule).as_deref(),
        Some(OIDC_SECRET),
        "the client secret is still the one the IdP issued"
    );
    assert_eq!(stickiness(&actions), Some((true, 120)), "stickiness kept");
    let neighbour = estate.neighbour_rule_arn.as_deref().expect("a neighbour");
    let neighbour = rule_actions(elb, neighbour).await;
    assert_eq!(neighbour.len(), 1, "{neighbour:?}");
    assert_eq!(
        groups_of(&neighbour[0]),
        [estate.group("other").to_string()],
        "the neighbouring rule is untouched"
    );
}

/// Lets a test send a rule's actions back as AWS requires: without the client secret that
/// Describe hides, asking AWS to keep it.
fn resendable(mut actions: Vec<Action>) -> Vec<Action> {
    for action in &mut actions {
        if let Some(config) = action.authenticate_oidc_config.as_mut() {
            config.use_existing_client_secret = Some(true);
        }
    }
    actions
}

#[test]
fn status_reads_a_two_cluster_rule_estate() {
    let estate = Estate::build("st-rule", &["--rule"]);
    let config = write_config("st-rule", &estate.rule_config());
    let status = status_json(&config);
    assert_eq!(status["source"], "aws");
    assert_eq!(status["weights"]["blue"], 100);
    assert_eq!(status["weights"]["green"], 0);
    let blue = &status["blue"];
    assert_eq!(blue["cluster"], "st-rule-blue");
    assert_eq!(blue["service"], "st-rule-blue");
    assert_eq!(blue["task_definition"], "st-rule-shop:1");
    assert_eq!(blue["image"], "example/shop:1.4.2");
    assert_eq!(status["green"]["task_definition"], "st-rule-shop:2");
    assert_eq!(status["green"]["image"], "example/shop:1.5.0");
    assert_eq!(
        (blue["desired"].as_u64(), blue["running"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(blue["rollout"], "COMPLETED");
    assert_eq!(blue["targets"]["healthy"].as_u64(), Some(4));
    // Seeded: 1200 requests and 3 5xx a minute on blue, at 80 ms; nothing on green.
    let metrics = &blue["metrics"];
    assert_eq!(metrics["window_minutes"], 5);
    // Counts are whole numbers in JSON, not CloudWatch's floats.
    let requests = metrics["requests"].as_u64().unwrap_or(0);
    assert!(
        requests >= 4800 && requests.is_multiple_of(1200),
        "{metrics}"
    );
    assert!(metrics["errors_5xx"].is_u64(), "{metrics}");
    assert!(status["elb_5xx_shared"].is_u64(), "{status}");
    assert_eq!(blue["role"], "live");
    assert_eq!(status["green"]["role"], "idle");
    assert_eq!(status["verdict"]["candidate"], "green");
    assert!(
        ["insufficient", "ok", "stale"]
            .contains(&status["verdict"]["verdict"].as_str().unwrap_or("")),
        "{status}"
    );
    assert_eq!(status["lock"], Value::Null);
    assert_eq!(metrics["error_rate"].as_f64(), Some(0.0025));
    assert_eq!(
        metrics["latency_avg_ms"].as_f64().map(f64::round),
        Some(80.0)
    );
    assert_eq!(status["green"]["metrics"]["error_rate"], Value::Null);
    // One a minute, over the same five minutes as the sides' counts.
    assert_eq!(
        status["elb_5xx_shared"].as_u64(),
        Some(requests / 1200),
        "ELB 5xx is reported shared, over the sides' window: {status}"
    );
    assert_eq!(status["writes_refused"], Value::Null);
}

#[test]
fn status_prints_a_table_for_people() {
    let estate = Estate::build("st-table", &["--same-cluster"]);
    let config = write_config("st-table", &estate.listener_config());
    let output = cutover(&["status", "--config", &config.to_string_lossy()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with(&format!(
            "config   {}\nweights  blue 100%  green 0%",
            config.display()
        )),
        "{text}"
    );
    assert!(text.contains("st-table-green (st-table)"), "{text}");
    assert!(text.contains("0.25%"), "{text}");
    // Columns line up whatever the names' lengths: each header starts where its cells do.
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .find(|l| l.starts_with("side"))
        .expect("a header");
    let at = header.find("taskdef").expect("a taskdef column");
    for side in ["blue ", "green"] {
        let row = lines.iter().find(|l| l.starts_with(side)).expect("a row");
        assert!(
            row[at..].starts_with("st-table-shop:"),
            "{side} row out of line:\n{text}"
        );
    }
    assert!(text.contains("\nverdict  "), "{text}");
}

#[tokio::test]
async fn a_rule_write_changes_only_the_weights() {
    let estate = Estate::build("w-rule", &["--rule"]);
    let elb = elb().await;
    let rule = estate.rule_arn.clone().expect("rule");
    let neighbour = estate.neighbour_rule_arn.clone().expect("neighbour");
    let neighbour_before = rule_actions(&elb, &neighbour).await;
    let listener_before = listener_actions(&elb, &estate.listener_arn).await;

    let aws = platform("w-rule", &estate.rule_config()).await;
    let read_back = aws
        .set_weights(Weights::ALL_BLUE, Weights::with_green(30))
        .await;
    assert_eq!(read_back, Ok(Weights::with_green(30)));

    let after = rule_actions(&elb, &rule).await;
    assert_eq!(
        weights_in(&after),
        [("w-rule-blue".into(), 70), ("w-rule-green".into(), 30)]
    );
    assert_eq!(stickiness(&after), Some((true, 120)), "stickiness kept");
    assert_eq!(
        rule_actions(&elb, &neighbour).await,
        neighbour_before,
        "the neighbouring rule is untouched"
    );
    assert_eq!(
        listener_actions(&elb, &estate.listener_arn).await,
        listener_before,
        "the default action is untouched"
    );
    assert_eq!(
        aws.observe().await.map(|o| o.weights),
        Ok(Weights::with_green(30))
    );
    assert_rule_intact(&elb, &estate).await;
}

#[tokio::test]
async fn a_listener_write_keeps_stickiness_and_reads_back() {
    let estate = Estate::build("w-listener", &[]);
    let elb = elb().await;
    let aws = platform("w-listener", &estate.listener_config()).await;
    assert_eq!(
        aws.set_weights(Weights::ALL_BLUE, Weights::with_green(10))
            .await,
        Ok(Weights::with_green(10))
    );
    assert_eq!(
        aws.set_weights(Weights::with_green(10), Weights::ALL_BLUE)
            .await,
        Ok(Weights::ALL_BLUE)
    );
    let after = listener_actions(&elb, &estate.listener_arn).await;
    assert_eq!(
        weights_in(&after),
        [
            ("w-listener-blue".into(), 100),
            ("w-listener-green".into(), 0)
        ]
    );
    assert_eq!(stickiness(&after), Some((true, 300)));
}

#[tokio::test]
async fn a_write_over_an_outside_change_writes_nothing() {
    let estate = Estate::build("w-cas", &["--rule"]);
    let elb = elb().await;
    let rule = estate.rule_arn.clone().expect("rule");
    // Someone else moves 20% to green.
    let mut actions = rule_actions(&elb, &rule).await;
    let tuples = vec![
        TargetGroupTuple::builder()
            .target_group_arn(estate.group("blue"))
            .weight(80)
            .build(),
        TargetGroupTuple::builder()
            .target_group_arn(estate.group("green"))
            .weight(20)
            .build(),
    ];
    let forward = actions
        .iter()
        .position(|a| a.forward_config().is_some())
        .expect("a forward action");
    let stickiness_before = actions[forward]
        .forward_config()
        .and_then(|f| f.target_group_stickiness_config())
        .cloned();
    actions[forward].forward_config = Some(
        ForwardActionConfig::builder()
            .set_target_groups(Some(tuples))
            .set_target_group_stickiness_config(stickiness_before)
            .build(),
    );
    elb.modify_rule()
        .rule_arn(&rule)
        .set_actions(Some(resendable(actions)))
        .send()
        .await
        .expect("outside write");

    let aws = platform("w-cas", &estate.rule_config()).await;
    let result = aws
        .set_weights(Weights::ALL_BLUE, Weights::with_green(10))
        .await;
    assert_eq!(
        result,
        Err(PlatformError::Conflict {
            expected: Weights::ALL_BLUE,
            actual: Weights::with_green(20)
        })
    );
    assert_eq!(
        weights_in(&rule_actions(&elb, &rule).await)[1].1,
        20,
        "nothing was written"
    );
    assert_eq!(aws.call_counts().get("ModifyRule"), None);
}

#[tokio::test]
async fn read_only_makes_no_write_call() {
    let estate = Estate::build("w-ro", &["--rule"]);
    let aws = std::sync::Arc::new(platform("w-ro", &estate.rule_config()).await);
    let watched = cutover::platform::read_only::ReadOnly(std::sync::Arc::clone(&aws));
    let observation = watched.observe().await.expect("observe");
    assert!(
        observation
            .writes_refused
            .is_some_and(|r| r.contains("read-only"))
    );
    for intent in [WriteIntent::Move, WriteIntent::Rollback] {
        let result = watched
            .write_weights(Weights::ALL_BLUE, Weights::with_green(10), intent)
            .await;
        assert!(
            matches!(result, Err(PlatformError::Refused { .. })),
            "{result:?}"
        );
    }
    let calls = aws.call_counts();
    let mutating = ["ModifyListener", "ModifyRule", "AddTags", "RemoveTags"];
    assert!(
        !calls.keys().any(|op| mutating.contains(&op.as_str())),
        "no mutating call, lock tags included: {calls:?}"
    );
}

#[tokio::test]
async fn a_codedeploy_owned_service_is_watched_but_never_written() {
    let estate = Estate::build("own-cd", &["--green-controller", "CODE_DEPLOY"]);
    let aws = platform("own-cd", &estate.listener_config()).await;
    let observation = aws.observe().await.expect("observe");
    let reason = observation.writes_refused.clone().expect("a refusal");
    assert!(
        reason.contains("CodeDeploy") && reason.contains("own-cd-green"),
        "{reason}"
    );
    let result = aws
        .set_weights(Weights::ALL_BLUE, Weights::with_green(10))
        .await;
    assert!(
        matches!(result, Err(PlatformError::Refused { .. })),
        "{result:?}"
    );
    assert!(!aws.call_counts().keys().any(|op| op.starts_with("Modify")));
}

#[tokio::test]
async fn api_calls_per_refresh_stay_within_budget() {
    let estate = Estate::build("calls", &["--rule"]);
    let aws = platform("calls", &estate.rule_config()).await;
    for _ in 0..12 {
        aws.observe().await.expect("observe");
    }
    for _ in 0..2 {
        aws.metrics().await.expect("metrics");
    }
    let calls = aws.call_counts();
    // A minute of watching at the default refresh: 12 state reads, 2 metric fetches.
    assert_eq!(
        calls.get("DescribeServices"),
        Some(&24),
        "one per cluster per refresh: {calls:?}"
    );
    assert_eq!(
        calls.get("DescribeTaskDefinition"),
        Some(&2),
        "each revision once: {calls:?}"
    );
    assert_eq!(calls.get("DescribeTargetHealth"), Some(&24), "{calls:?}");
    assert_eq!(calls.get("DescribeRules"), Some(&12), "{calls:?}");
    assert_eq!(
        calls.get("GetMetricData"),
        Some(&2),
        "one call for both sides: {calls:?}"
    );

    // A native service: one DescribeServices for its one service, its newest deployment
    // (one list, one describe), each revision described once.
    let native = Estate::build("calls-native", &["--rule", "--native", "LINEAR"]);
    let ecs = ecs().await;
    native_deploy(&ecs, &native, "green").await;
    let aws = platform("calls-native", &native.native_config()).await;
    for _ in 0..12 {
        aws.observe().await.expect("observe");
    }
    let calls = aws.call_counts();
    for (operation, count) in [
        ("DescribeServices", 12),
        ("ListServiceDeployments", 12),
        ("DescribeServiceDeployments", 12),
        ("DescribeServiceRevisions", 1),
        ("DescribeTaskDefinition", 2),
        ("DescribeTargetHealth", 24),
        ("DescribeRules", 12),
    ] {
        assert_eq!(calls.get(operation), Some(&count), "{operation}: {calls:?}");
    }

    let shared = Estate::build("calls-one", &["--rule", "--same-cluster"]);
    let aws = platform("calls-one", &shared.rule_config()).await;
    aws.observe().await.expect("observe");
    assert_eq!(
        aws.call_counts().get("DescribeServices"),
        Some(&1),
        "one cluster, one call"
    );
}

#[test]
fn bad_estates_are_refused_with_the_reason() {
    let estate = Estate::build("bad", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let missing_rule = other_arn(&rule);
    let missing_listener = other_arn(&estate.listener_arn);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "no-forward",
            estate.listener_config(),
            "has no forward action",
        ),
        (
            "no-listener",
            estate.config(&format!("listener_arn = \"{missing_listener}\"")),
            "no such listener in eu-west-1 — check the ARN",
        ),
        (
            "no-rule",
            estate.config(&format!("rule_arn = \"{missing_rule}\"")),
            "no such rule in eu-west-1 — check the ARN",
        ),
        (
            "no-service",
            estate
                .rule_config()
                .replace("service = \"bad-green\"", "service = \"nope\""),
            "[green] service = \"nope\": no such active service in cluster \"bad-green\"",
        ),
        (
            "not-in-forward",
            estate
                .rule_config()
                .replace(estate.group("green"), estate.group("other")),
            "is not in the forward action",
        ),
    ];
    for (name, text, expected) in cases {
        assert_status_fails(&format!("bad-{name}"), &text, 1, expected);
    }
}

#[test]
fn a_service_not_attached_to_its_group_is_named() {
    let estate = Estate::build("detached", &["--green-not-attached"]);
    assert_status_fails(
        "detached",
        &estate.listener_config(),
        1,
        "GREEN service 'detached-green' in cluster 'detached-green' is not attached to target group",
    );
}

#[tokio::test]
async fn a_third_group_carrying_traffic_is_refused() {
    let estate = Estate::build("three", &["--rule"]);
    let elb = elb().await;
    let rule = estate.rule_arn.clone().expect("rule");
    let tuples = ["blue", "green", "other"]
        .iter()
        .map(|c| {
            TargetGroupTuple::builder()
                .target_group_arn(estate.group(c))
                .weight(10)
                .build()
        })
        .collect();
    let action = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(
            ForwardActionConfig::builder()
                .set_target_groups(Some(tuples))
                .build(),
        )
        .build();
    elb.modify_rule()
        .rule_arn(&rule)
        .actions(action)
        .send()
        .await
        .expect("three-way forward");
    assert_status_fails(
        "three",
        &estate.rule_config(),
        1,
        "target groups other than blue and green",
    );
}

#[test]
fn config_mistakes_exit_2_before_any_call() {
    let estate = Estate::build("cfg", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let both = estate.config(&format!(
        "rule_arn = \"{rule}\"\nlistener_arn = \"{}\"",
        estate.listener_arn
    ));
    let wrong_kind = estate.config(&format!("listener_arn = \"{rule}\""));
    for (name, text, expected) in [
        ("both", both, "both listener_arn and rule_arn"),
        ("kind", wrong_kind, "is not a listener ARN"),
        (
            "garbled",
            "[traffic\nrule_arn = 1".to_string(),
            "cfg-garbled.toml:1:",
        ),
    ] {
        assert_status_fails(&format!("cfg-{name}"), &text, 2, expected);
    }
    let output = cutover(&["status", "--config", "/nonexistent/cutover.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no such file"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn no_credentials_say_how_to_get_them() {
    let estate = Estate::build("nocreds", &["--rule"]);
    let config = write_config("nocreds", &estate.rule_config());
    let home = format!("{}/empty-home", env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&home).expect("empty home");
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args([
            "status",
            "--config",
            &config.to_string_lossy(),
            "--log-file",
            &format!("{home}/log"),
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", format!("{home}/none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", format!("{home}/none"))
        .output()
        .expect("cutover runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no usable AWS credentials"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_endpoint_that_never_answers_fails_within_thirty_seconds() {
    let estate = Estate::build("hang", &["--rule"]);
    // A loopback listener that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("address").port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().take(8).flatten() {
            open.push(stream);
        }
        std::thread::sleep(Duration::from_secs(40));
    });
    let text = estate
        .rule_config()
        .replace(&moto().endpoint, &format!("http://127.0.0.1:{port}"));
    let started = Instant::now();
    assert_status_fails("hang", &text, 1, "timed out");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(30),
        "an unanswered endpoint held status for {took:?}"
    );
    drop(held);

    let closed = estate
        .rule_config()
        .replace(&moto().endpoint, "http://127.0.0.1:9");
    assert_status_fails("refused", &closed, 1, "unreachable");
}

/// The console on an estate's rule, after `l` `Enter` moved 10% to green and read it back.
fn console_after_first_step(name: &str, estate: &Estate) -> support::pty::Pty {
    let config = write_config(name, &estate.rule_config());
    let log = format!("{}/{name}.log", env!("CARGO_TARGET_TMPDIR"));
    let audit = format!("{log}.audit.jsonl");
    let mut pty = support::pty::Pty::spawn_with_env(
        &[
            "--config",
            &config.to_string_lossy(),
            "--log-file",
            &log,
            "--audit-log",
            &audit,
        ],
        &aws_env(),
    );
    pty.wait_for("BLUE 100%");
    pty.wait_for(&estate.services["blue"]);
    // The guard judges the first step by the metrics: wait until they are read (on a loaded
    // machine the state arrives well before them).
    pty.wait_for("metrics to ");
    pty.send(b"l");
    pty.send(b"\r");
    pty.wait_for("apply: read back 90/10");
    pty
}

#[tokio::test]
async fn the_console_moves_the_load_balancers_weights() {
    let estate = Estate::build("console", &["--rule"]);
    let mut pty = console_after_first_step("console", &estate);
    // A local endpoint is no account: the header says where the writes land.
    let screen = pty.contents();
    let header = screen.lines().next().unwrap_or_default().to_string();
    assert!(header.contains("endpoint 127.0.0.1:"), "{header}");
    let elb = elb().await;
    let rule = estate.rule_arn.clone().expect("rule");
    assert_eq!(
        weights_in(&rule_actions(&elb, &rule).await),
        [("console-blue".into(), 90), ("console-green".into(), 10)]
    );

    assert_rule_intact(&elb, &estate).await;

    pty.send(b"R");
    pty.wait_for("rollback: read back 100/0");
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 0);
    assert_rule_intact(&elb, &estate).await;
    pty.quit();
    assert!(pty.wait_exit().success());
}

fn headless(name: &str, text: &str, args: &[&str]) -> Output {
    let config = write_config(name, text);
    let mut all = args.to_vec();
    let path = config.to_string_lossy().into_owned();
    all.extend(["--config", &path]);
    let audit = format!("{}/audit-{name}.jsonl", env!("CARGO_TARGET_TMPDIR"));
    if !args.contains(&"--audit-log") {
        all.extend(["--audit-log", &audit]);
    }
    cutover(&all)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn headless_shift_goes_through_the_guard_and_reads_back() {
    let estate = Estate::build("hl-shift", &["--rule"]);
    let text = estate.rule_config();
    let rule = estate.rule_arn.clone().expect("rule");
    let elb = elb().await;

    // The first step needs no evidence; green has none yet.
    let output = headless("hl-shift", &text, &["shift", "--green", "10"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        "100/0 → 90/10 (blue/green), read back"
    );
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 10);

    // The next one does.
    let output = headless("hl-shift", &text, &["shift", "--green", "20"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not enough evidence yet: 5xx: 0 requests on green since"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        weights_in(&rule_actions(&elb, &rule).await)[1].1,
        10,
        "nothing written"
    );

    // Rollback is never blocked.
    let output = headless("hl-shift", &text, &["rollback"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        "rolled back 90/10 → 100/0 (blue/green), read back; sticky clients may reach green for up to 120s more"
    );
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 0);
    assert_rule_intact(&elb, &estate).await;
}

#[tokio::test]
async fn headless_jumps_need_force_and_never_pass_worse() {
    let good = Estate::build("hl-good", &["--rule", "--green-metrics", "ok"]);
    let output = headless("hl-good", &good.rule_config(), &["shift", "--green", "50"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("over the 25-point max step; pass --force"),
        "{}",
        stderr(&output)
    );
    let output = headless(
        "hl-good",
        &good.rule_config(),
        &["shift", "--green", "50", "--force"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let bad = Estate::build("hl-bad", &["--rule", "--green-metrics", "bad"]);
    for args in [&["shift", "--green", "10"][..], &["promote", "--force"]] {
        let output = headless("hl-bad", &bad.rule_config(), args);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("green is worse than blue: 5xx: green 8.0%"),
            "{}",
            stderr(&output)
        );
    }
    let elb = elb().await;
    assert_eq!(
        weights_in(&rule_actions(&elb, bad.rule_arn.as_deref().expect("rule")).await)[1].1,
        0
    );
}

#[test]
fn headless_writes_are_refused_in_read_only_and_under_another_owner() {
    let estate = Estate::build("hl-ro", &["--rule"]);
    let output = headless(
        "hl-ro",
        &estate.rule_config(),
        &["shift", "--green", "10", "--read-only"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not written: read-only mode"),
        "{}",
        stderr(&output)
    );
    let owned = Estate::build("hl-cd", &["--green-controller", "CODE_DEPLOY"]);
    let output = headless("hl-cd", &owned.listener_config(), &["rollback"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("CodeDeploy owns the traffic"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn plan_run_finishes_on_a_good_green_and_rolls_back_a_bad_one() {
    let plan = "\n[plan]\nsteps = [10, 100]\nbake_seconds = 1\n";
    let good = Estate::build(
        "plan-good",
        &["--rule", "--green-weight", "10", "--green-metrics", "ok"],
    );
    let output = headless(
        "plan-good",
        &(good.rule_config() + plan),
        &["plan", "run", "--refresh", "1"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let progress = stdout(&output);
    assert!(progress.contains("plan step 2/2"), "{progress}");
    assert!(
        progress
            .trim_end()
            .ends_with("plan done: green carries all traffic"),
        "{progress}"
    );
    let elb = elb().await;
    assert_eq!(
        weights_in(&rule_actions(&elb, good.rule_arn.as_deref().expect("rule")).await)[1].1,
        100
    );

    let bad = Estate::build(
        "plan-bad",
        &["--rule", "--green-weight", "10", "--green-metrics", "bad"],
    );
    let output = headless(
        "plan-bad",
        &(bad.rule_config() + plan),
        &["plan", "run", "--refresh", "1"],
    );
    assert_eq!(
        output.status.code(),
        Some(5),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("the guard rolled back to 100/0: 5xx: green 8.0%"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        weights_in(&rule_actions(&elb, bad.rule_arn.as_deref().expect("rule")).await)[1].1,
        0
    );
    assert_rule_intact(&elb, &good).await;
}

#[test]
fn plan_run_without_a_plan_says_how_to_add_one() {
    let estate = Estate::build("plan-none", &["--rule"]);
    let output = headless("plan-none", &estate.rule_config(), &["plan", "run"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("no [plan]"), "{}", stderr(&output));
}

async fn lock_tag(elb: &aws_sdk_elasticloadbalancingv2::Client, arn: &str) -> Option<String> {
    let out = elb
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .expect("describe tags");
    out.tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .find(|t| t.key() == Some("cutover:lock"))
        .and_then(|t| t.value().map(str::to_string))
}

async fn put_lock(elb: &aws_sdk_elasticloadbalancingv2::Client, arn: &str, value: &str) {
    elb.add_tags()
        .resource_arns(arn)
        .tags(
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key("cutover:lock")
                .value(value)
                .build(),
        )
        .send()
        .await
        .expect("add tags");
}

fn epoch_secs_from_now(offset: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    now + offset
}

#[tokio::test]
async fn a_second_operator_is_refused_by_the_lock_but_never_for_a_rollback() {
    let estate = Estate::build("lock-two", &["--rule", "--green-metrics", "ok"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let mut console = console_after_first_step("lock-two", &estate);
    let elb = elb().await;
    let tag = lock_tag(&elb, &rule)
        .await
        .expect("the console holds the lock");
    assert!(tag.contains(" pid ") && tag.contains(" until "), "{tag}");

    // Operator two, headless, cannot move traffic toward green, and is told who holds it.
    let output = headless(
        "lock-two",
        &estate.rule_config(),
        &["shift", "--green", "20"],
    );
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("locked by ") && stderr(&output).contains("--break-lock"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        weights_in(&rule_actions(&elb, &rule).await)[1].1,
        10,
        "nothing written"
    );

    // A rollback is the safe direction: it goes through the other operator's live lock,
    // and says so in its output and its audit line.
    let audit = format!("{}/lock-two-rollback.jsonl", env!("CARGO_TARGET_TMPDIR"));
    let output = headless(
        "lock-two",
        &estate.rule_config(),
        &["rollback", "--to", "blue", "--audit-log", &audit],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("lock bypassed: locked by "),
        "{}",
        stdout(&output)
    );
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 0);
    let line = audit_lines(&audit).pop().expect("a line");
    assert_eq!(line["result"], "applied");
    assert!(
        line["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("lock bypassed: locked by ")),
        "{line}"
    );
    assert_eq!(
        lock_tag(&elb, &rule).await.as_deref(),
        Some(tag.as_str()),
        "the console's lock is neither taken nor removed"
    );
    assert_rule_intact(&elb, &estate).await;
    // Operator two sees who holds the lock before writing anything.
    let config = write_config("lock-two-status", &estate.rule_config());
    let status = status_json(&config);
    let holder = tag.split(" until ").next().unwrap_or_default();
    assert!(
        status["lock"]
            .as_str()
            .is_some_and(|l| l.starts_with(holder)),
        "{status}"
    );

    console.quit();
    assert!(console.wait_exit().success());
}

#[tokio::test]
async fn break_lock_takes_over_once_for_one_write() {
    let estate = Estate::build("lock-break", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let elb = elb().await;
    let theirs = format!("bob@desk pid 7 until {}", epoch_secs_from_now(240));
    put_lock(&elb, &rule, &theirs).await;
    set_aws_env();
    let path = write_config("lock-break", &estate.rule_config());
    let config = config::load(&path, &AwsSettings::default()).expect("valid config");
    let aws = AwsPlatform::connect(config.estate, true)
        .await
        .expect("clients");
    // Every state poll reads the lock: the console shows Bob's before any write.
    let seen = aws.observe().await.expect("observe").lock_holder;
    assert!(
        seen.as_deref()
            .is_some_and(|h| h.starts_with("bob@desk pid 7 until ")),
        "{seen:?}"
    );
    assert_eq!(
        aws.set_weights(Weights::ALL_BLUE, Weights::with_green(10))
            .await,
        Ok(Weights::with_green(10)),
        "--break-lock takes it over for the write it was given"
    );
    // Ours now: no other holder to show.
    assert_eq!(aws.observe().await.expect("observe").lock_holder, None);
    // Bob takes it back; the same session does not break it a second time.
    put_lock(&elb, &rule, &theirs).await;
    assert!(
        matches!(
            aws.set_weights(Weights::with_green(10), Weights::with_green(20))
                .await,
            Err(PlatformError::Locked { .. })
        ),
        "not for the rest of the session"
    );
    assert_eq!(lock_tag(&elb, &rule).await, Some(theirs));
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 10);
}

#[tokio::test]
async fn a_rollback_goes_through_when_tagging_is_denied() {
    let estate = Estate::build(
        "lock-denied",
        &["--rule", "--green-weight", "10", "--green-metrics", "ok"],
    );
    let rule = estate.rule_arn.clone().expect("rule");
    let elb = elb().await;
    deny("AddTags", &rule, "AccessDenied");
    let audit = format!("{}/lock-denied.jsonl", env!("CARGO_TARGET_TMPDIR"));

    // Increases stay behind the lock: no lock, no write.
    let output = headless(
        "lock-denied",
        &estate.rule_config(),
        &["shift", "--green", "20", "--audit-log", &audit],
    );
    assert_ne!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("AccessDenied"),
        "{}",
        stderr(&output)
    );
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 10);

    let output = headless(
        "lock-denied",
        &estate.rule_config(),
        &["rollback", "--to", "blue", "--audit-log", &audit],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        weights_in(&rule_actions(&elb, &rule).await),
        [
            ("lock-denied-blue".into(), 100),
            ("lock-denied-green".into(), 0)
        ]
    );
    let last = audit_lines(&audit).pop().expect("a line");
    assert_eq!(
        (&last["action"], &last["result"]),
        (&"rollback".into(), &"applied".into())
    );
    assert!(
        last["reason"]
            .as_str()
            .is_some_and(|r| r.contains("lock bypassed") && r.contains("AccessDenied")),
        "{last}"
    );
    assert_rule_intact(&elb, &estate).await;
}

#[tokio::test]
async fn the_guards_rollback_in_the_console_goes_through_when_tagging_is_throttled() {
    let estate = Estate::build("lock-throttled", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let mut pty = console_after_first_step("lock-throttled", &estate);
    deny("AddTags", &rule, "Throttling");
    deny("DescribeTags", &rule, "Throttling");
    pty.send(b"R");
    pty.wait_for("rollback: lock bypassed");
    pty.wait_for("rollback: read back 100/0");
    let elb = elb().await;
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 0);
    pty.quit();
    assert!(pty.wait_exit().success());
    let audit = format!(
        "{}/lock-throttled.log.audit.jsonl",
        env!("CARGO_TARGET_TMPDIR")
    );
    let last = audit_lines(&audit).pop().expect("a line");
    assert_eq!(last["action"], "rollback");
    assert_eq!(last["result"], "applied");
    assert!(
        last["reason"]
            .as_str()
            .is_some_and(|r| r.contains("lock bypassed")),
        "{last}"
    );
}

#[tokio::test]
async fn a_write_in_flight_when_q_arrives_is_audited() {
    let estate = Estate::build("quit-mid", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let mut pty = console_after_first_step("quit-mid", &estate);
    delay("ModifyRule", &rule, 3.0);
    pty.send(b"R");
    pty.wait_for("rolling back");
    // 90/10 until the rollback is read back: asked once, then quit.
    pty.quit();
    pty.wait_for("quitting: waiting up to");
    assert!(pty.wait_exit().success());
    let elb = elb().await;
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 0);
    let audit = format!("{}/quit-mid.log.audit.jsonl", env!("CARGO_TARGET_TMPDIR"));
    let last = audit_lines(&audit).pop().expect("a line");
    assert_eq!(
        (&last["action"], &last["to"]["green"], &last["result"]),
        (&"rollback".into(), &0.into(), &"applied".into()),
        "{last}"
    );
    assert_eq!(
        lock_tag(&elb, &rule).await,
        None,
        "released after the answer"
    );
}

#[tokio::test]
async fn the_console_releases_its_lock_on_quit() {
    let estate = Estate::build("lock-quit", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let mut console = console_after_first_step("lock-quit", &estate);
    let elb = elb().await;
    assert!(lock_tag(&elb, &rule).await.is_some());
    console.quit();
    assert!(console.wait_exit().success());
    assert_eq!(lock_tag(&elb, &rule).await, None);
}

#[tokio::test]
async fn a_dead_holders_lock_refuses_until_it_expires() {
    let estate = Estate::build("lock-dead", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let elb = elb().await;
    // A holder killed with SIGKILL leaves its tag behind, live for up to five minutes.
    put_lock(
        &elb,
        &rule,
        &format!("ghost@gone pid 1 until {}", epoch_secs_from_now(240)),
    )
    .await;
    let output = headless(
        "lock-dead",
        &estate.rule_config(),
        &["shift", "--green", "10"],
    );
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("locked by ghost@gone pid 1 until"),
        "{}",
        stderr(&output)
    );

    put_lock(
        &elb,
        &rule,
        &format!("ghost@gone pid 1 until {}", epoch_secs_from_now(-1)),
    )
    .await;
    let output = headless(
        "lock-dead",
        &estate.rule_config(),
        &["shift", "--green", "10"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "an expired lock is taken over: {}",
        stderr(&output)
    );
}

#[test]
fn headless_attempts_are_audited_with_the_caller_identity() {
    let estate = Estate::build("audit", &["--rule"]);
    let audit = format!("{}/audit-headless/audit.jsonl", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_file(&audit);
    let text = estate.rule_config();
    assert_eq!(
        headless(
            "audit",
            &text,
            &["shift", "--green", "10", "--audit-log", &audit]
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        headless(
            "audit",
            &text,
            &["shift", "--green", "30", "--audit-log", &audit]
        )
        .status
        .code(),
        Some(3)
    );
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        attempt_lines(&audit).len(),
        1,
        "the applied write was announced ahead; the refused one never went out"
    );
    let rule = estate.rule_arn.clone().expect("rule");
    assert_eq!(lines[0]["target"].as_str(), Some(rule.as_str()));
    assert!(
        lines[0]["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:sts::")),
        "STS names the caller: {}",
        lines[0]["actor"]
    );
    assert_eq!(
        (lines[0]["action"].as_str(), lines[0]["result"].as_str()),
        (Some("shift"), Some("applied"))
    );
    assert_eq!(
        (
            lines[0]["from"]["green"].as_u64(),
            lines[0]["to"]["green"].as_u64()
        ),
        (Some(0), Some(10))
    );
    assert!(
        lines[0]["evidence"]
            .as_str()
            .is_some_and(|e| e.starts_with("insufficient")),
        "{}",
        lines[0]["evidence"]
    );
    assert_eq!(lines[1]["result"].as_str(), Some("refused"));
    assert!(
        lines[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not enough evidence")),
        "{}",
        lines[1]["reason"]
    );
    assert!(lines[1]["time"].as_str().is_some_and(|t| t.ends_with('Z')));
}

#[tokio::test]
async fn sigkill_mid_plan_leaves_the_last_applied_step_and_a_lock_this_host_takes_over() {
    let estate = Estate::build("plan-kill", &["--rule", "--green-metrics", "ok"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let text = estate.rule_config() + "\n[plan]\nsteps = [10, 100]\nbake_seconds = 600\n";
    let config = write_config("plan-kill", &text);
    let log = format!("{}/plan-kill.log", env!("CARGO_TARGET_TMPDIR"));
    let audit = format!("{}/plan-kill.audit.jsonl", env!("CARGO_TARGET_TMPDIR"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args([
            "plan",
            "run",
            "--refresh",
            "1",
            "--config",
            &config.to_string_lossy(),
        ])
        .args(["--log-file", &log, "--audit-log", &audit])
        .envs(aws_env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("plan run starts");
    let elb = elb().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while weights_in(&rule_actions(&elb, &rule).await)[1].1 != 10 {
        assert!(
            Instant::now() < deadline,
            "the first step was never written"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        weights_in(&rule_actions(&elb, &rule).await)[1].1,
        10,
        "the weights stay at the last applied step"
    );
    lock_tag(&elb, &rule)
        .await
        .expect("the dead holder's lock is still there");
    // Its process is gone from this host: nobody needs to wait five minutes for it.
    let output = headless("plan-kill", &text, &["shift", "--green", "0"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 0);
    assert_eq!(
        lock_tag(&elb, &rule).await,
        None,
        "taken over, then released"
    );
}

async fn ecs() -> aws_sdk_ecs::Client {
    set_aws_env();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto().endpoint)
        .region(aws_config::Region::new(support::moto::REGION))
        .load()
        .await;
    aws_sdk_ecs::Client::new(&sdk)
}

async fn service(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    name: &str,
) -> aws_sdk_ecs::types::Service {
    let out = ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
        .expect("describe services");
    out.services()[0].clone()
}

/// A task definition with the fields registration cannot set cleared, for comparing revisions.
fn registrable(mut d: aws_sdk_ecs::types::TaskDefinition) -> aws_sdk_ecs::types::TaskDefinition {
    d.task_definition_arn = None;
    d.revision = 0;
    d.status = None;
    d.registered_at = None;
    d.registered_by = None;
    d.requires_attributes = None;
    d.compatibilities = None;
    d
}

#[tokio::test]
async fn deploy_registers_a_revision_that_differs_only_in_the_image() {
    let estate = Estate::build("dep", &["--rule", "--sidecar"]);
    let text = estate.rule_config();
    let ecs = ecs().await;
    let green_before = service(&ecs, &estate.clusters["green"], &estate.services["green"]).await;
    let blue_before = service(&ecs, &estate.clusters["blue"], &estate.services["blue"]).await;
    let old_arn = green_before
        .task_definition()
        .expect("a task definition")
        .to_string();

    let output = headless(
        "dep",
        &text,
        &[
            "deploy",
            "--image",
            "example/shop:1.6.0",
            "--container",
            "web",
            "--wait",
            "--timeout",
            "30",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let audit = std::fs::read_to_string(format!("{}/audit-dep.jsonl", env!("CARGO_TARGET_TMPDIR")))
        .expect("the audit log");
    let line: Value = audit
        .lines()
        .rev()
        .find_map(|l| {
            serde_json::from_str::<Value>(l)
                .ok()
                .filter(|v| v["action"] == "deploy")
        })
        .expect("the deploy's audit line");
    assert_eq!(
        line["reason"].as_str(),
        // The old image as the service shows it: the task definition has a sidecar too.
        Some(
            "dep-green: example/shop:1.5.0 (+1 more) → example/shop:1.6.0, dep-shop:2 → dep-shop:3"
        ),
        "the service, the images and the revisions: {line}"
    );
    assert!(
        stdout(&output).contains(
            "deployed example/shop:1.6.0 to GREEN: dep-shop:2 → dep-shop:3, 4 tasks; ready to shift"
        ),
        "{}",
        stdout(&output)
    );

    let green_after = service(&ecs, &estate.clusters["green"], &estate.services["green"]).await;
    let new_arn = green_after
        .task_definition()
        .expect("a task definition")
        .to_string();
    assert!(new_arn.ends_with("dep-shop:3"), "{new_arn}");
    assert_eq!(
        green_after.desired_count(),
        blue_before.desired_count(),
        "scaled to the live side"
    );
    let describe = |arn: String| {
        let ecs = ecs.clone();
        async move {
            let out = ecs
                .describe_task_definition()
                .task_definition(arn)
                .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
                .send()
                .await
                .expect("describe task definition");
            (
                out.task_definition().cloned().expect("definition"),
                out.tags().to_vec(),
            )
        }
    };
    let (old, old_tags) = describe(old_arn).await;
    let (new, new_tags) = describe(new_arn).await;
    assert_eq!(
        new.container_definitions()[0].image(),
        Some("example/shop:1.6.0")
    );
    let mut expected = registrable(old);
    expected.container_definitions.as_mut().expect("containers")[0].image =
        Some("example/shop:1.6.0".into());
    assert_eq!(
        registrable(new),
        expected,
        "everything but the image is kept"
    );
    assert_eq!(new_tags, old_tags, "tags are kept");

    let blue_after = service(&ecs, &estate.clusters["blue"], &estate.services["blue"]).await;
    assert_eq!(
        blue_after.task_definition(),
        blue_before.task_definition(),
        "the live side is untouched"
    );
    let elb = elb().await;
    assert_eq!(
        weights_in(&rule_actions(&elb, estate.rule_arn.as_deref().expect("rule")).await)[1].1,
        0,
        "weights untouched"
    );
    assert_rule_intact(&elb, &estate).await;
}

#[test]
fn deploy_refusals_say_why() {
    let estate = Estate::build("dep-bad", &["--rule", "--sidecar"]);
    let text = estate.rule_config();
    for (args, code, expected) in [
        (
            &["deploy", "--image", "example/shop:2"][..],
            2,
            "has several containers (web, envoy): name one with --container",
        ),
        (
            &["deploy", "--image", "example/shop:2", "--container", "api"],
            2,
            "has no container 'api': it has web, envoy",
        ),
        (
            &["deploy", "--image", "", "--container", "web"],
            2,
            "the image is empty",
        ),
        (
            &["deploy", "--image", "example/shop :2", "--container", "web"],
            2,
            "'example/shop :2' is not an image reference",
        ),
        (
            &[
                "deploy",
                "--image",
                "example/shop:2",
                "--container",
                "web",
                "--read-only",
            ],
            3,
            "not deployed: read-only mode",
        ),
    ] {
        let output = headless("dep-bad", &text, args);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let busy = Estate::build("dep-busy", &["--rule", "--green-weight", "10"]);
    let output = headless(
        "dep-busy",
        &busy.rule_config(),
        &["deploy", "--image", "example/shop:2"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("both sides carry traffic (90/10 blue/green)"),
        "{}",
        stderr(&output)
    );
    let owned = Estate::build("dep-cd", &["--green-controller", "CODE_DEPLOY"]);
    let output = headless(
        "dep-cd",
        &owned.listener_config(),
        &["deploy", "--image", "example/shop:2"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("CodeDeploy owns the traffic"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn an_image_ecs_refuses_leaves_the_previous_revision_serving() {
    let estate = Estate::build("dep-reject", &["--rule"]);
    let ecs = ecs().await;
    let before = service(&ecs, &estate.clusters["green"], &estate.services["green"]).await;
    // A reference the distribution spec allows (a 198-character name, a 100-character tag)
    // that ECS refuses: over 255 characters in all.
    let image = format!("example/{}:{}", "x".repeat(190), "1".repeat(100));
    let output = headless(
        "dep-reject",
        &estate.rule_config(),
        &["deploy", "--image", &image],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(
        said.contains("Container.image should be 255 characters or less"),
        "AWS's own message: {said}"
    );
    assert!(
        said.contains("the previous revision keeps serving"),
        "{said}"
    );
    let after = service(&ecs, &estate.clusters["green"], &estate.services["green"]).await;
    assert_eq!(after.task_definition(), before.task_definition());
    assert_eq!(after.desired_count(), before.desired_count());
    let revisions = ecs
        .list_task_definitions()
        .family_prefix("dep-reject-shop")
        .send()
        .await
        .expect("list task definitions");
    assert_eq!(
        revisions.task_definition_arns().len(),
        2,
        "nothing registered"
    );
}

#[tokio::test]
async fn a_deploy_under_another_operators_lock_is_refused() {
    let estate = Estate::build("dep-lock", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let elb = elb().await;
    let ecs = ecs().await;
    let before = service(&ecs, &estate.clusters["green"], &estate.services["green"]).await;
    put_lock(
        &elb,
        &rule,
        &format!("ana@ops-1 pid 4242 until {}", epoch_secs_from_now(240)),
    )
    .await;
    let output = headless(
        "dep-lock",
        &estate.rule_config(),
        &["deploy", "--image", "example/shop:1.6.0"],
    );
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not deployed: ")
            && stderr(&output).contains("locked by ana@ops-1"),
        "{}",
        stderr(&output)
    );
    let after = service(&ecs, &estate.clusters["green"], &estate.services["green"]).await;
    assert_eq!(
        after.task_definition(),
        before.task_definition(),
        "nothing deployed"
    );
    assert_eq!(
        lock_tag(&elb, &rule)
            .await
            .as_deref()
            .map(|t| t.starts_with("ana@ops-1")),
        Some(true),
        "the other operator's lock stays"
    );
}

#[tokio::test]
async fn after_the_roles_swap_headless_writes_guard_blue_and_roll_back_to_green() {
    // Green has served every request for ten minutes: green is live, blue idle.
    let estate = Estate::build(
        "hl-swap",
        &[
            "--rule",
            "--green-weight",
            "100",
            "--green-metrics",
            "ok",
            "--blue-metrics",
            "none",
        ],
    );
    let text = estate.rule_config();
    let rule = estate.rule_arn.clone().expect("rule");
    let elb = elb().await;

    let output = headless("hl-swap", &text, &["promote"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "refused 0/100 → 100/0: not enough evidence yet: 5xx: 0 requests on blue since"
        ),
        "{}",
        stderr(&output)
    );

    // Blue still runs the build green replaced (revision 1 against green's 2): traffic toward
    // an older build needs --force, as the console asks first.
    let output = headless("hl-swap", &text, &["shift", "--blue", "10"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("example/shop:1.4.2 (hl-swap-shop:1) is older than the live")
            && stderr(&output).contains("pass --force"),
        "{}",
        stderr(&output)
    );
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[0].1, 0);
    let output = headless("hl-swap", &text, &["shift", "--blue", "10", "--force"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        "0/100 → 10/90 (blue/green), read back"
    );

    let output = headless("hl-swap", &text, &["rollback"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        "rolled back 10/90 → 0/100 (blue/green), read back; sticky clients may reach blue for up to 120s more"
    );
    assert_eq!(
        weights_in(&rule_actions(&elb, &rule).await),
        [("hl-swap-blue".into(), 0), ("hl-swap-green".into(), 100)]
    );
    assert_rule_intact(&elb, &estate).await;
}

#[test]
fn during_the_bake_the_rollback_target_is_neither_deployed_over_nor_scaled_down() {
    // Green has carried everything for three minutes: blue is what a rollback returns to.
    let estate = Estate::build(
        "hl-bake",
        &[
            "--rule",
            "--green-weight",
            "100",
            "--promoted-minutes-ago",
            "3",
        ],
    );
    let text = estate.rule_config();
    let expected =
        "BLUE is the rollback target until green has carried all traffic for the bake (300s)";
    for (args, said) in [
        (
            &["deploy", "--image", "example/shop:1.7.0"][..],
            "not deployed: ",
        ),
        (&["scale-idle", "--to", "0"], "not scaled: "),
    ] {
        let output = headless("hl-bake", &text, args);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&format!("{said}{expected}")),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let output = headless("hl-bake", &text, &["rollback"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        "rolled back 0/100 → 100/0 (blue/green), read back; sticky clients may reach green for up to 120s more"
    );
}

#[test]
fn a_rollback_that_cannot_tell_the_live_side_asks_for_one() {
    // Both sides have served throughout the history: no side was alone for a whole bake.
    let estate = Estate::build(
        "hl-which",
        &["--rule", "--green-weight", "50", "--green-metrics", "ok"],
    );
    let text = estate.rule_config();
    let output = headless("hl-which", &text, &["rollback"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot tell which side to roll back to")
            && stderr(&output).contains("say --to blue or --to green"),
        "{}",
        stderr(&output)
    );
    let output = headless("hl-which", &text, &["rollback", "--to", "green"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        "rolled back 50/50 → 0/100 (blue/green), read back; sticky clients may reach blue for up to 120s more"
    );
}

#[tokio::test]
async fn scale_idle_and_adopt_change_only_what_they_say() {
    let estate = Estate::build("idle", &["--rule"]);
    let text = estate.rule_config();
    let ecs = ecs().await;
    let blue_before = service(&ecs, &estate.clusters["blue"], &estate.services["blue"]).await;
    let green_before = service(&ecs, &estate.clusters["green"], &estate.services["green"]).await;

    let output = headless("idle", &text, &["scale-idle", "--to", "0"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "scaled GREEN from 4 to 0 tasks");
    let green = service(&ecs, &estate.clusters["green"], &estate.services["green"]).await;
    assert_eq!(green.desired_count(), 0);
    assert_eq!(
        green.task_definition(),
        green_before.task_definition(),
        "the service stays as it was"
    );
    let blue = service(&ecs, &estate.clusters["blue"], &estate.services["blue"]).await;
    assert_eq!(
        blue.desired_count(),
        blue_before.desired_count(),
        "the live side is untouched"
    );

    // Blue stays production and takes the revision green was tested with.
    let output = headless("idle", &text, &["adopt", "--wait", "--timeout", "30"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        "BLUE rolls from idle-shop:1 to idle-shop:2; steady"
    );
    let blue = service(&ecs, &estate.clusters["blue"], &estate.services["blue"]).await;
    assert_eq!(blue.task_definition(), green_before.task_definition());
    assert_eq!(blue.desired_count(), blue_before.desired_count());
    let elb = elb().await;
    assert_eq!(
        weights_in(&rule_actions(&elb, estate.rule_arn.as_deref().expect("rule")).await)[1].1,
        0
    );
    assert_rule_intact(&elb, &estate).await;
}

#[test]
fn scale_idle_and_adopt_refuse_a_split() {
    let estate = Estate::build("idle-split", &["--rule", "--green-weight", "10"]);
    for (args, expected) in [
        (
            &["scale-idle", "--to", "0"][..],
            "not scaled: both sides carry traffic (90/10 blue/green)",
        ),
        (
            &["adopt"],
            "not adopted: adopt needs one side carrying all traffic (90/10 blue/green now)",
        ),
    ] {
        let output = headless("idle-split", &estate.rule_config(), args);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_trickle_of_one_in_a_thousand_is_shown_exactly_and_is_not_idle() {
    let estate = Estate::build(
        "trickle",
        &["--rule", "--blue-weight", "999", "--green-weight", "1"],
    );
    let config = write_config("trickle", &estate.rule_config());
    let json = status_json(&config);
    assert_eq!(json["weights"]["blue"], 99.9);
    assert_eq!(json["weights"]["green"], 0.1);
    assert_eq!(json["weights"]["alb"]["blue"], 999);
    assert_eq!(json["weights"]["alb"]["green"], 1);
    let table = cutover(&["status", "--config", &config.to_string_lossy()]);
    assert!(
        stdout(&table).contains("\nweights  blue 99.9%  green 0.1%  (ALB weights 999:1)"),
        "{}",
        stdout(&table)
    );

    // Green gets a request in a thousand: it is not idle, so nothing replaces or stops it.
    for args in [
        &["scale-idle", "--to", "0"][..],
        &["deploy", "--image", "example/shop:1.6.0"][..],
    ] {
        let output = headless("trickle", &estate.rule_config(), args);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("both sides carry traffic (99.9/0.1 blue/green)"),
            "{args:?}: {}",
            stderr(&output)
        );
    }

    let mirrored = Estate::build(
        "trickle-blue",
        &["--rule", "--blue-weight", "1", "--green-weight", "999"],
    );
    let json = status_json(&write_config("trickle-blue", &mirrored.rule_config()));
    assert_eq!(
        (&json["weights"]["blue"], &json["weights"]["green"]),
        (&0.1.into(), &99.9.into())
    );
    let output = headless(
        "trickle-blue",
        &mirrored.rule_config(),
        &["scale-idle", "--to", "0"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
}

#[test]
fn a_side_sticky_clients_still_reach_is_not_scaled_down() {
    // Green served until a minute ago; stickiness (120 s) keeps its clients on it a while.
    let estate = Estate::build("sticky", &["--rule", "--green-metrics", "ok"]);
    let output = headless(
        "sticky",
        &estate.rule_config(),
        &["scale-idle", "--to", "0"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("stickiness (120s) keeps its clients on it until"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn a_default_rules_arn_is_refused_with_the_listener_to_use() {
    let estate = Estate::build("default-rule", &[]);
    let listener = estate.listener_arn.clone();
    let rules = elb()
        .await
        .describe_rules()
        .listener_arn(&listener)
        .send()
        .await
        .expect("describe rules");
    let default_rule = rules
        .rules()
        .iter()
        .find(|r| r.is_default() == Some(true))
        .and_then(|r| r.rule_arn().map(str::to_string))
        .expect("a default rule");
    let text = estate.config(&format!("rule_arn = \"{default_rule}\""));
    let output = assert_status_fails(
        "default-rule",
        &text,
        2,
        "is the default rule of listener HTTPS:443",
    );
    assert!(
        stderr(&output).contains(&format!("use listener_arn = \"{listener}\" instead")),
        "{}",
        stderr(&output)
    );
}

#[test]
fn other_listeners_forwarding_to_a_group_are_named() {
    let estate = Estate::build("routes", &["--rule", "--second-listener"]);
    let config = write_config("routes", &estate.rule_config());
    let json = status_json(&config);
    assert_eq!(
        json["other_routes"],
        serde_json::json!(["listener HTTP:8080 (default action) → blue"]),
        "the neighbour rule forwards to a third group, the 404 default to none"
    );
    assert_eq!(json["stickiness_seconds"], 120);
    let table = cutover(&["status", "--config", &config.to_string_lossy()]);
    assert!(
        stdout(&table).contains("not moved by cutover: listener HTTP:8080 (default action) → blue"),
        "{}",
        stdout(&table)
    );
}

#[tokio::test]
async fn a_rollout_the_circuit_breaker_fails_ends_deploy_wait_at_once() {
    let estate = Estate::build("dep-fail", &["--rule"]);
    let (status, _) = support::moto::double_hook(
        "POST",
        &format!(
            "/_double/ecs-fail-next-rollout?cluster={}&service={}&failed=3",
            estate.clusters["green"], estate.services["green"]
        ),
    );
    assert_eq!(status, 200);
    let started = Instant::now();
    let output = headless(
        "dep-fail",
        &estate.rule_config(),
        &[
            "deploy",
            "--image",
            "example/shop:1.6.0",
            "--wait",
            "--timeout",
            "120",
        ],
    );
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "not after the timeout"
    );
    assert!(
        stderr(&output).contains("failed (3 tasks failed to start)")
            && stderr(&output).contains("circuit breaker"),
        "{}",
        stderr(&output)
    );
    // The deploy's line says what was changed; a second line says ECS rolled it back.
    let lines = audit_lines(&format!(
        "{}/audit-dep-fail.jsonl",
        env!("CARGO_TARGET_TMPDIR")
    ));
    let rule = estate.rule_arn.clone().expect("rule");
    let deploys: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"] == "deploy" && l["target"] == rule.as_str())
        .collect();
    assert_eq!(deploys.len(), 2, "{lines:?}");
    assert_eq!(deploys[0]["result"], "applied");
    assert_eq!(deploys[1]["result"], "failed");
    assert!(
        deploys[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("circuit breaker rolled it back")),
        "{}",
        deploys[1]
    );
    assert_rule_intact(&elb().await, &estate).await;
}

#[test]
fn deploy_wait_reads_the_deployments_not_a_first_answer_that_is_not_caught_up() {
    let estate = Estate::build("dep-stale", &["--rule"]);
    let (status, _) = support::moto::double_hook(
        "POST",
        &format!(
            "/_double/ecs-stale-next-describe?cluster={}&service={}",
            estate.clusters["green"], estate.services["green"]
        ),
    );
    assert_eq!(status, 200);
    let output = headless(
        "dep-stale",
        &estate.rule_config(),
        &[
            "deploy",
            "--image",
            "example/shop:1.6.0",
            "--wait",
            "--timeout",
            "60",
            "--refresh",
            "1",
        ],
    );
    assert_ne!(
        output.status.code(),
        Some(7),
        "a first read that still shows the old revision is not a rollback: {}",
        stderr(&output)
    );
    let lines = audit_lines(&format!(
        "{}/audit-dep-stale.jsonl",
        env!("CARGO_TARGET_TMPDIR")
    ));
    assert!(lines.iter().all(|l| l["result"] != "failed"), "{lines:?}");
}

#[test]
fn an_external_deployment_controller_is_another_owner() {
    let estate = Estate::build("own-ext", &["--rule", "--green-controller", "EXTERNAL"]);
    let json = status_json(&write_config("own-ext", &estate.rule_config()));
    assert!(
        json["writes_refused"]
            .as_str()
            .is_some_and(|r| r.contains("EXTERNAL")),
        "{json}"
    );
    let output = headless(
        "own-ext",
        &estate.rule_config(),
        &["shift", "--green", "10"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
}

/// The audit log's lines with a result, parsed (the lines written ahead of each write,
/// `"result": "attempt"`, are in [`attempt_lines`]).
fn audit_lines(path: &str) -> Vec<Value> {
    every_audit_line(path)
        .into_iter()
        .filter(|l| l["result"] != "attempt")
        .collect()
}

/// The lines written and flushed ahead of each weights write.
fn attempt_lines(path: &str) -> Vec<Value> {
    every_audit_line(path)
        .into_iter()
        .filter(|l| l["result"] == "attempt")
        .collect()
}

fn every_audit_line(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("an audit line is JSON"))
        .collect()
}

/// `cutover ARGS` on a config, started in the background with its own log and audit files.
fn spawn_cutover(name: &str, text: &str, args: &[&str]) -> (std::process::Child, String) {
    let config = write_config(name, text);
    let log = format!("{}/{name}.log", env!("CARGO_TARGET_TMPDIR"));
    let audit = format!("{}/{name}.audit.jsonl", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_file(&audit);
    let child = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .args(["--config", &config.to_string_lossy()])
        .args(["--log-file", &log, "--audit-log", &audit])
        .envs(aws_env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cutover starts");
    (child, audit)
}

fn kill_term(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_found_applied_by_reading_again() {
    let estate = Estate::build("lost", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    // The write is applied and its answer lost (armed for three, as an SDK that retried would
    // send: cutover sends one, see the_weights_write_is_sent_once_…).
    fail_after("ModifyRule", &rule, 3);
    let audit = format!("{}/lost.audit.jsonl", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_file(&audit);
    let output = headless(
        "lost",
        &estate.rule_config(),
        &["shift", "--green", "10", "--audit-log", &audit],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("answer lost"),
        "{}",
        stdout(&output)
    );
    let elb = elb().await;
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 10);
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["result"], "applied");
    assert!(
        lines[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("answer lost")),
        "{}",
        lines[0]
    );
    assert_rule_intact(&elb, &estate).await;
}

#[tokio::test]
async fn a_plan_step_aws_denies_stops_the_plan_after_one_attempt() {
    let estate = Estate::build(
        "plan-denied",
        &["--rule", "--green-weight", "10", "--green-metrics", "ok"],
    );
    let rule = estate.rule_arn.clone().expect("rule");
    deny("ModifyRule", &rule, "AccessDenied");
    let text = estate.rule_config() + "\n[plan]\nsteps = [10, 100]\nbake_seconds = 1\n";
    let (child, audit) = spawn_cutover("plan-denied", &text, &["plan", "run", "--refresh", "1"]);
    let started = Instant::now();
    let output = child.wait_with_output().expect("plan run ends");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        stderr(&output).contains("plan stopped at 90/10")
            && stderr(&output).contains("AccessDenied"),
        "{}",
        stderr(&output)
    );
    let failed = audit_lines(&audit)
        .iter()
        .filter(|l| l["result"] == "failed")
        .count();
    assert_eq!(failed, 1, "one attempt, one line");
    assert_eq!(
        lock_tag(&elb().await, &rule).await,
        None,
        "the lock is released"
    );
}

#[tokio::test]
async fn a_throttled_plan_backs_off_and_finishes_when_it_clears() {
    let estate = Estate::build(
        "plan-throttled",
        &["--rule", "--green-weight", "10", "--green-metrics", "ok"],
    );
    let rule = estate.rule_arn.clone().expect("rule");
    deny("ModifyRule", &rule, "Throttling");
    let text = estate.rule_config() + "\n[plan]\nsteps = [10, 100]\nbake_seconds = 1\n";
    let (child, audit) = spawn_cutover("plan-throttled", &text, &["plan", "run", "--refresh", "1"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !audit_lines(&audit).iter().any(|l| l["result"] == "failed") {
        assert!(Instant::now() < deadline, "no attempt was made");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    allow("ModifyRule", &rule);
    let output = child.wait_with_output().expect("plan run ends");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let progress = stdout(&output);
    assert!(
        progress.contains("plan step attempt 1/5 failed; trying again in"),
        "{progress}"
    );
    let lines = audit_lines(&audit);
    let failed = lines.iter().filter(|l| l["result"] == "failed").count();
    assert!((1..5).contains(&failed), "a handful of attempts: {lines:?}");
    assert_eq!(
        weights_in(&rule_actions(&elb().await, &rule).await)[1].1,
        100
    );
}

#[tokio::test]
async fn sigterm_stops_plan_run_between_steps_and_releases_the_lock() {
    let estate = Estate::build("plan-term", &["--rule", "--green-metrics", "ok"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let text = estate.rule_config() + "\n[plan]\nsteps = [10, 100]\nbake_seconds = 600\n";
    let (child, audit) = spawn_cutover("plan-term", &text, &["plan", "run", "--refresh", "1"]);
    let elb = elb().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while weights_in(&rule_actions(&elb, &rule).await)[1].1 != 10 {
        assert!(
            Instant::now() < deadline,
            "the first step was never written"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kill_term(&child);
    let output = child.wait_with_output().expect("plan run ends");
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("stopped: the weights stay at 90/10"),
        "{}",
        stderr(&output)
    );
    assert_eq!(lock_tag(&elb, &rule).await, None, "the lock is released");
    assert_eq!(audit_lines(&audit).len(), 1, "the step, audited");
}

#[tokio::test]
async fn sigterm_during_a_headless_write_waits_for_it_and_audits_it() {
    let estate = Estate::build("shift-term", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    delay("ModifyRule", &rule, 3.0);
    let (child, audit) = spawn_cutover(
        "shift-term",
        &estate.rule_config(),
        &["shift", "--green", "10"],
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    kill_term(&child);
    let output = child.wait_with_output().expect("shift ends");
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("stopped by a signal: 100/0 → 90/10 (blue/green), read back"),
        "{}",
        stderr(&output)
    );
    let lines = audit_lines(&audit);
    assert_eq!(
        (lines.len(), &lines[0]["result"]),
        (1, &"applied".into()),
        "{lines:?}"
    );
    assert_eq!(
        lock_tag(&elb().await, &rule).await,
        None,
        "the lock is released"
    );
}

#[tokio::test]
async fn sigterm_to_the_console_mid_write_audits_it_and_releases_the_lock() {
    let estate = Estate::build("console-term", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let mut pty = console_after_first_step("console-term", &estate);
    delay("ModifyRule", &rule, 3.0);
    pty.send(b"R");
    pty.wait_for("rolling back");
    pty.signal("TERM");
    let status = pty.wait_exit();
    assert_eq!(status.exit_code(), 130, "stopped by a signal: {status:?}");
    let audit = format!(
        "{}/console-term.log.audit.jsonl",
        env!("CARGO_TARGET_TMPDIR")
    );
    let lines = audit_lines(&audit);
    let last = lines.last().expect("a line");
    assert_eq!(
        (&last["action"], &last["result"]),
        (&"rollback".into(), &"applied".into())
    );
    let elb = elb().await;
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 0);
    assert_eq!(lock_tag(&elb, &rule).await, None, "the lock is released");
}

#[tokio::test]
async fn a_slow_poll_never_turns_the_consoles_own_write_into_an_outside_change() {
    let estate = Estate::build("slow-poll", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let mut pty = console_after_first_step("slow-poll", &estate);
    // Every state poll now takes six seconds after it has read the weights.
    delay("DescribeTargetHealth", estate.group("green"), 6.0);
    for _ in 0..3 {
        pty.send(b"R");
        pty.wait_for("rollback: read back 100/0");
        std::thread::sleep(Duration::from_secs(3));
        pty.send(b"l");
        pty.send(b"\r");
        pty.wait_for("apply: read back 90/10");
        std::thread::sleep(Duration::from_secs(3));
    }
    // Long enough for every poll that started before the last write to answer.
    std::thread::sleep(Duration::from_secs(8));
    let screen = pty.contents();
    assert!(!screen.contains("changed outside"), "{screen}");
    assert!(
        screen.contains("90/10 (blue/green), as read from the load balancer"),
        "{screen}"
    );
    allow("DescribeTargetHealth", estate.group("green"));
    assert_eq!(
        weights_in(&rule_actions(&elb().await, &rule).await)[1].1,
        10
    );
    pty.quit();
    assert!(pty.wait_exit().success());
}

#[tokio::test]
async fn bad_input_names_the_key_and_the_fix_and_writes_nothing() {
    let estate = Estate::build("keys", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let good = estate.rule_config();
    let typo = good.replace(
        &format!("cluster = \"{}\"", estate.clusters["green"]),
        "cluster = \"keys-gren\"",
    );
    let no_service = good.replace(
        &format!("service = \"{}\"", estate.services["green"]),
        "service = \"keys-nope\"",
    );
    let no_group = good.replace(estate.group("green"), &other_arn(estate.group("green")));
    let no_rule = good.replace(&rule, &other_arn(&rule));
    for (name, text, expected) in [
        (
            "keys-cluster",
            typo,
            "[green] cluster = \"keys-gren\": no such cluster in eu-west-1 — check the name or the region",
        ),
        (
            "keys-service",
            no_service,
            "[green] service = \"keys-nope\": no such active service in cluster",
        ),
        ("keys-group", no_group, "[green] target_group_arn = \""),
        ("keys-rule", no_rule, "[traffic] rule_arn = \""),
    ] {
        let output = headless(name, &text, &["shift", "--green", "10"]);
        assert_eq!(output.status.code(), Some(1), "{name}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(expected),
            "{name}: {}",
            stderr(&output)
        );
    }

    // The region the load balancer is not in.
    let output = headless(
        "keys-region",
        &good,
        &["shift", "--green", "10", "--region", "us-east-1"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "--region us-east-1 does not match the region of [traffic] rule_arn (eu-west-1)"
        ),
        "{}",
        stderr(&output)
    );

    // A profile that does not exist is an error even with keys in the environment.
    let home = format!("{}/keys-home", env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(format!("{home}/.aws")).expect("a home");
    std::fs::write(
        format!("{home}/.aws/config"),
        "[profile prod]\nregion = eu-west-1\n",
    )
    .expect("a config");
    let config = write_config("keys-profile", &good);
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["shift", "--green", "10", "--profile", "no-such-profile"])
        .args(["--config", &config.to_string_lossy()])
        .args(["--log-file", &format!("{home}/log")])
        .envs(aws_env())
        .env("HOME", &home)
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .stdin(Stdio::null())
        .output()
        .expect("cutover runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("profile 'no-such-profile' (--profile or [aws] profile): no profile 'no-such-profile' in"),
        "{}",
        stderr(&output)
    );

    // An audit log that cannot be written stops the write before it is made.
    let output = headless(
        "keys-audit",
        &good,
        &[
            "shift",
            "--green",
            "10",
            "--audit-log",
            env!("CARGO_TARGET_TMPDIR"),
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the audit log cannot be written")
            && stderr(&output).contains("--audit-log PATH"),
        "{}",
        stderr(&output)
    );

    let elb = elb().await;
    assert_eq!(
        weights_in(&rule_actions(&elb, &rule).await)[1].1,
        0,
        "nothing written"
    );
    assert_eq!(lock_tag(&elb, &rule).await, None, "not even the lock");
}

/// `[guard]` with the operator's alarms and a custom metric, as a config appends them.
const GUARD_SIGNALS: &str = "\n[guard]\nalarms = [\"shop-5xx\", \"shop-checkout\", \"shop-queue\", \"shop-typo\"]\n\n\
    [[guard.metric]]\nname = \"checkout errors\"\nnamespace = \"shop\"\nmetric = \"CheckoutErrors\"\n\
    dimensions = { ServiceName = \"{service}\" }\nstat = \"Sum\"\nmax_ratio = 2.0\n";

#[tokio::test]
async fn alarms_and_custom_metrics_are_read_in_one_call_each_and_judged() {
    let estate = Estate::build(
        "sig",
        &[
            "--rule",
            "--green-weight",
            "10",
            "--green-metrics",
            "ok",
            "--alarm",
            "shop-5xx=OK",
            "--alarm",
            "shop-checkout=ALARM",
            "--alarm",
            "shop-queue=INSUFFICIENT_DATA",
            "--checkout-errors",
            "1,5",
        ],
    );
    let text = format!("{}{GUARD_SIGNALS}", estate.rule_config());
    let aws = platform("sig", &text).await;
    let observation = aws.observe().await.expect("observe");
    let before = aws.call_counts();
    let snapshot = aws.metrics().await.expect("one refresh");
    let calls = aws.call_counts();
    let made =
        |op: &str| calls.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0);
    assert_eq!(made("GetMetricData"), 1, "{calls:?}");
    assert_eq!(made("DescribeAlarms"), 1, "{calls:?}");

    let state = |name: &str| {
        snapshot
            .alarms
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.state)
    };
    assert_eq!(state("shop-5xx"), Some(AlarmState::Ok));
    assert_eq!(state("shop-checkout"), Some(AlarmState::Alarm));
    assert_eq!(state("shop-queue"), Some(AlarmState::InsufficientData));
    assert_eq!(state("shop-typo"), None, "CloudWatch does not know it");
    let custom = &snapshot.custom[0];
    assert_eq!(custom.name, "checkout errors");
    assert!(custom.green.len() >= 5 && custom.green.iter().all(|(_, v)| *v == 5.0));
    assert!(custom.blue.iter().all(|(_, v)| *v == 1.0));

    let path = write_config("sig-check", &text);
    let config = config::load(&path, &AwsSettings::default()).expect("valid config");
    let evidence = cutover::shift::evidence(
        &snapshot,
        Some(&observation),
        Color::Green,
        None,
        aws.now(),
        &config.evidence,
    );
    let row = |label: &str| {
        evidence
            .checks
            .iter()
            .find(|c| c.kind.label() == label)
            .cloned()
            .unwrap_or_else(|| panic!("no {label} row: {:?}", evidence.checks))
    };
    assert_eq!(row("alarms").verdict, Verdict::Worse);
    assert_eq!(
        row("alarms").reason,
        "in ALARM: shop-checkout; 1 OK; INSUFFICIENT_DATA (not blocking): shop-queue; not found: shop-typo"
    );
    assert_eq!(row("checkout errors").verdict, Verdict::Worse);
    assert_eq!(
        row("checkout errors").reason,
        "green 5 vs blue 1: 5.0× the live side's, over 2.0×"
    );
    assert_eq!(row("5xx").verdict, Verdict::Ok, "{:?}", evidence.checks);
    assert_eq!(row("latency").verdict, Verdict::Ok, "{:?}", evidence.checks);
}

#[tokio::test]
async fn headless_increases_are_refused_by_the_row_that_catches_each_bad_build() {
    for (metrics, why) in [
        // The rate, not the counts: how many minutes the window holds depends on when the
        // minute turns between building the estate and reading it.
        ("crashy", "lb errors: green 6.7% ± "),
        ("slow", "latency: green p99 3.8× blue's, over 1.5×"),
    ] {
        let name = format!("hl-{metrics}");
        let estate = Estate::build(
            &name,
            &["--rule", "--green-weight", "10", "--green-metrics", metrics],
        );
        let rule = estate.rule_arn.clone().expect("rule");
        let output = headless(&name, &estate.rule_config(), &["shift", "--green", "20"]);
        assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!("green is worse than blue: {why}")),
            "{metrics}: {}",
            stderr(&output)
        );
        assert_eq!(
            weights_in(&rule_actions(&elb().await, &rule).await)[1].1,
            10,
            "nothing written"
        );
    }
}

#[tokio::test]
async fn the_double_refuses_cloudwatch_requests_aws_refuses() {
    let cw = aws_sdk_cloudwatch::Client::new(&sdk().await);
    let query = |id: &str| {
        aws_sdk_cloudwatch::types::MetricDataQuery::builder()
            .id(id)
            .expression("SUM(METRICS())")
            .period(60)
            .build()
    };
    let now = aws_sdk_cloudwatch::primitives::DateTime::from_secs(1_800_000_000);
    let earlier = aws_sdk_cloudwatch::primitives::DateTime::from_secs(1_799_999_000);
    let refused = cw
        .get_metric_data()
        .metric_data_queries(query("Green-errors"))
        .start_time(earlier)
        .end_time(now)
        .send()
        .await
        .expect_err("an id CloudWatch refuses");
    assert_eq!(refused.code(), Some("ValidationError"), "{refused:?}");
    let refused = cw
        .describe_alarms()
        .alarm_names("a")
        .alarm_name_prefix("a")
        .send()
        .await
        .expect_err("names and a prefix together");
    assert_eq!(
        refused.code(),
        Some("InvalidParameterCombination"),
        "{refused:?}"
    );
}

/// `cutover init` for an estate's two services, writing to a fresh file named after the test;
/// returns the run and the file.
fn init(estate: &Estate, name: &str, extra: &[&str]) -> (Output, std::path::PathBuf) {
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.toml"));
    let _ = std::fs::remove_file(&path);
    (init_at(estate, &path, extra), path)
}

/// `cutover init` writing to `path`, as it is.
fn init_at(estate: &Estate, path: &std::path::Path, extra: &[&str]) -> Output {
    let service = |color: &str| format!("{}/{}", estate.clusters[color], estate.services[color]);
    let (blue, green) = (service("blue"), service("green"));
    let mut args = vec![
        "init",
        "--config",
        path.to_str().expect("a UTF-8 path"),
        "--endpoint-url",
        &moto().endpoint,
        "--blue",
        &blue,
        "--green",
        &green,
    ];
    args.extend_from_slice(extra);
    cutover(&args)
}

/// The written file loads, and `status --json` on it reads the estate it names.
fn assert_init_wrote(estate: &Estate, path: &std::path::Path, traffic_key: &str, arn: &str) {
    let text = std::fs::read_to_string(path).expect("init wrote the file");
    assert!(
        text.contains(&format!("{traffic_key} = \"{arn}\"")),
        "{traffic_key}: {text}"
    );
    let status = status_json(path);
    for color in ["blue", "green"] {
        assert_eq!(status[color]["cluster"], estate.clusters[color].as_str());
        assert_eq!(status[color]["service"], estate.services[color].as_str());
        assert!(
            text.contains(estate.group(color)),
            "{color}'s group: {text}"
        );
    }
    assert_eq!(status["weights"]["blue"], 100);
    // Nothing points to a file an installed cutover does not have.
    assert!(!text.contains("assets/"), "{text}");
}

#[test]
fn init_finds_the_one_rule_that_forwards_to_both_groups() {
    let estate = Estate::build("init-rule", &["--rule"]);
    let (output, path) = init(&estate, "init-rule", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rule = estate.rule_arn.as_deref().expect("a rule");
    assert_init_wrote(&estate, &path, "rule_arn", rule);
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("rule 10 on HTTPS:443"), "{said}");
    assert!(said.contains("next: cutover --config"), "{said}");
    // And status ran on it at once.
    assert!(
        said.contains(&format!("config   {}", path.display()))
            && said.contains("weights  blue 100%  green 0%"),
        "{said}"
    );
    // Run again: the file is there, and is kept without --force.
    let before = std::fs::read_to_string(&path).expect("written");
    let output = init_at(&estate, &path, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--force overwrites it"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&path).expect("kept"), before);
    assert!(init_at(&estate, &path, &["--force"]).status.success());
}

#[test]
fn init_finds_a_listener_default_action() {
    let estate = Estate::build("init-listener", &[]);
    let (output, path) = init(&estate, "init-listener", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_init_wrote(&estate, &path, "listener_arn", &estate.listener_arn);
}

#[test]
fn init_reads_every_page_of_a_busy_listeners_rules() {
    // Sixty rules come before the one that forwards to both groups, and the listener answers
    // seven a page: the first page alone holds no rule to find.
    let estate = Estate::build("init-pages", &["--rule", "--filler-rules", "60"]);
    page_size(&estate.listener_arn, 7);
    let (output, path) = init(&estate, "init-pages", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rule = estate.rule_arn.as_deref().expect("a rule");
    assert_init_wrote(&estate, &path, "rule_arn", rule);
}

#[test]
fn init_lists_two_candidate_rules_and_a_flag_picks_one() {
    let estate = Estate::build("init-two", &["--rule", "--second-rule"]);
    let (output, path) = init(&estate, "init-two", &[]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    let (first, second) = (
        estate.rule_arn.as_deref().expect("a rule"),
        estate.second_rule_arn.as_deref().expect("a second rule"),
    );
    for needed in [
        "2 listeners or rules forward to both groups",
        "rule 10 on HTTPS:443",
        "rule 30 on HTTPS:443",
        &format!("--rule {first}"),
        &format!("--rule {second}"),
        "no terminal to ask in",
    ] {
        assert!(message.contains(needed), "{needed:?} in {message}");
    }
    assert!(!path.exists(), "nothing written");
    let (output, path) = init(&estate, "init-two", &["--rule", second]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_init_wrote(&estate, &path, "rule_arn", second);
}

#[test]
fn init_backs_off_while_ecs_throttles_and_goes_on_when_it_stops() {
    let estate = Estate::build("init-throttled", &["--rule"]);
    let deny = |code: &str| {
        let (status, _) = support::moto::double_hook(
            "POST",
            &format!(
                "/_double/ecs-deny?cluster={}&code={code}",
                estate.clusters["blue"]
            ),
        );
        assert_eq!(status, 200);
    };
    deny("ThrottlingException");
    let lifted = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_secs(4));
            deny("");
        });
        init(&estate, "init-throttled", &[])
    });
    let (output, path) = lifted;
    assert!(output.status.success(), "{}", stderr(&output));
    let rule = estate.rule_arn.as_deref().expect("a rule");
    assert_init_wrote(&estate, &path, "rule_arn", rule);
}

#[test]
fn init_says_what_does_not_fit_and_what_to_change() {
    for (name, flags, code, expected) in [
        (
            "init-no-group",
            &["--green-not-attached"][..],
            1,
            "has no target group (its loadBalancers is empty)",
        ),
        (
            "init-two-albs",
            &["--green-on-other-alb"][..],
            1,
            "behind different load balancers",
        ),
        (
            "init-third",
            &["--third-group"][..],
            1,
            "forwards to both and also to",
        ),
    ] {
        let estate = Estate::build(name, flags);
        let (output, path) = init(&estate, name, &[]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(code), "{name}: {message}");
        assert!(
            message.contains(expected),
            "{name}: {expected:?} in {message}"
        );
        assert!(!message.contains("panicked"), "{message}");
        assert!(!path.exists(), "{name}: nothing written");
    }
    // A service AWS does not know is the flag's mistake.
    let estate = Estate::build("init-missing", &[]);
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("init-missing.toml");
    let output = cutover(&[
        "init",
        "--config",
        path.to_str().unwrap_or_default(),
        "--endpoint-url",
        &moto().endpoint,
        "--blue",
        "init-missing-blue/nope",
        "--green",
        &format!("{}/{}", estate.clusters["green"], estate.services["green"]),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--blue init-missing-blue/nope"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn init_names_a_codedeploy_service_as_watch_only() {
    let estate = Estate::build("init-codedeploy", &["--green-controller", "CODE_DEPLOY"]);
    let (output, path) = init(&estate, "init-codedeploy", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains("watch only: CodeDeploy owns the traffic"),
        "{said}"
    );
    let text = std::fs::read_to_string(&path).expect("written");
    assert!(text.contains("# Watch only for now: CodeDeploy"), "{text}");
    let status = status_json(&path);
    assert!(
        status["writes_refused"]
            .as_str()
            .is_some_and(|w| w.contains("CodeDeploy"))
    );
}

#[tokio::test]
async fn the_double_holds_init_reads_to_what_aws_documents() {
    let estate = Estate::build("init-double", &["--same-cluster"]);
    let elb = elb().await;
    // DescribeTargetGroups filters by one of LoadBalancerArn, TargetGroupArns or Names.
    let error = elb
        .describe_target_groups()
        .load_balancer_arn(&estate.load_balancer_arn)
        .target_group_arns(estate.group("blue"))
        .send()
        .await
        .expect_err("two filters are refused");
    assert_eq!(error.code(), Some("ValidationError"), "{error:?}");
    let one = elb
        .describe_target_groups()
        .target_group_arns(estate.group("blue"))
        .send()
        .await
        .expect("one filter");
    assert_eq!(
        one.target_groups()[0].load_balancer_arns(),
        std::slice::from_ref(&estate.load_balancer_arn)
    );
    // DescribeServices takes at most 10 services.
    let ecs = aws_sdk_ecs::Client::new(&sdk().await);
    let error = ecs
        .describe_services()
        .cluster(&estate.clusters["blue"])
        .set_services(Some((0..11).map(|i| format!("s{i}")).collect()))
        .send()
        .await
        .expect_err("eleven services are refused");
    assert_eq!(error.code(), Some("InvalidParameterException"), "{error:?}");
    // ListClusters and ListServices take maxResults 1-100.
    let error = ecs
        .list_clusters()
        .max_results(101)
        .send()
        .await
        .expect_err("101 a page is refused");
    assert_eq!(error.code(), Some("InvalidParameterException"), "{error:?}");
    let listed = ecs
        .list_services()
        .cluster(&estate.clusters["blue"])
        .max_results(100)
        .send()
        .await
        .expect("100 a page");
    assert_eq!(listed.service_arns().len(), 2);
}

#[test]
fn the_config_is_found_by_cutover_config_and_in_the_users_config_dir_and_named() {
    let estate = Estate::build("cfg-places", &["--same-cluster"]);
    let written = write_config("cfg-places", &estate.listener_config());
    let home = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cfg-places-xdg");
    let in_home = home.join("cutover").join("cutover.toml");
    std::fs::create_dir_all(in_home.parent().expect("a parent")).expect("the config dir");
    std::fs::copy(&written, &in_home).expect("a config in the user's dir");
    // An empty directory to run in: no ./cutover.toml there.
    let elsewhere = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cfg-places-cwd");
    std::fs::create_dir_all(&elsewhere).expect("a working directory");
    let status = |env: &[(&str, &std::path::Path)]| {
        let log = format!("{}/aws-cli.log", env!("CARGO_TARGET_TMPDIR"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_cutover"));
        command
            .args(["status", "--json", "--log-file", &log])
            .current_dir(&elsewhere)
            .envs(aws_env())
            .env_remove("CUTOVER_CONFIG")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .stdin(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("cutover runs")
    };
    for (env, expected) in [
        (vec![("CUTOVER_CONFIG", written.as_path())], &written),
        (vec![("XDG_CONFIG_HOME", home.as_path())], &in_home),
    ] {
        let output = status(&env);
        assert!(output.status.success(), "{env:?}: {}", stderr(&output));
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(report["config"], expected.display().to_string(), "{env:?}");
        assert_eq!(report["blue"]["service"], estate.services["blue"].as_str());
    }
    let output = status(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no config file (looked at --config, $CUTOVER_CONFIG"));
    assert!(
        stderr(&output).contains("`cutover demo` shows the console without AWS"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn init_in_a_terminal_picks_the_cluster_and_both_services_from_filtered_lists() {
    let estate = Estate::build("init-pick", &["--same-cluster", "--rule", "--second-rule"]);
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("init-pick.toml");
    let mut pty = init_in_a_terminal("init-pick", &path, &[]);
    pty.wait_for("the cluster of the two services");
    // Other tests' clusters are listed too: the filter finds this one.
    pty.send(b"init-pick");
    let screen = pty.wait_for("1 of ");
    assert!(screen.contains("› init-pick"), "{screen}");
    pty.send(b"\r");
    pty.wait_for("BLUE: the service serving production now in init-pick");
    pty.send(b"BLUE");
    pty.wait_for("› init-pick-blue");
    pty.send(b"\r");
    let screen = pty.wait_for("GREEN: the service the next build goes to");
    assert!(
        !listed(&screen, "init-pick/init-pick-blue"),
        "blue is not offered again: {screen}"
    );
    assert!(
        listed(&screen, "init-pick/init-pick-green"),
        "blue's cluster comes first: {screen}"
    );
    pty.send(b"\r");
    // Two rules forward to both groups: the second list.
    pty.wait_for("which listener or rule moves the traffic?");
    pty.send(b"rule 30");
    pty.wait_for("› rule 30 on HTTPS:443");
    pty.send(b"\r");
    let status = pty.wait_exit();
    assert!(status.success(), "{}", pty.contents());
    let text = std::fs::read_to_string(&path).expect("init wrote the file");
    let second = estate.second_rule_arn.as_deref().expect("a second rule");
    assert!(text.contains(&format!("rule_arn = \"{second}\"")), "{text}");
    assert!(text.contains("service = \"init-pick-blue\""), "{text}");
    assert!(text.contains("service = \"init-pick-green\""), "{text}");
    // The emulator reads the pty on its own thread: it may see the last bytes after the exit.
    pty.wait_until("the terminal given back", |p| {
        !p.alternate_screen() && p.cooked()
    });
    pty.wait_for("wrote");
}

/// Whether `item` is a row of the picker on `screen` (selected or not), not only in its title.
fn listed(screen: &str, item: &str) -> bool {
    screen
        .lines()
        .any(|line| line.trim_matches(|c: char| c == '│' || c == '›' || c.is_whitespace()) == item)
}

#[test]
fn init_picks_green_from_another_cluster_and_esc_goes_back_one_list() {
    // The README's layout: blue in cluster init-apart-blue, green in init-apart-green.
    let _estate = Estate::build("init-apart", &["--rule"]);
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("init-apart.toml");
    let mut pty = init_in_a_terminal("init-apart", &path, &[]);
    // The cluster by its name, then the first (only) service in it for blue.
    let cluster_then_blue = |pty: &mut support::pty::Pty| {
        pty.wait_for("the cluster of the two services");
        pty.send(b"init-apart-blue");
        pty.wait_for("› init-apart-blue");
        pty.send(b"\r");
        pty.wait_for("BLUE: the service serving production now in init-apart-blue");
        pty.send(b"\r");
    };
    cluster_then_blue(&mut pty);
    pty.wait_for("GREEN: the service the next build goes to");
    // Other tests' clusters are listed too: the filter finds green's.
    pty.send(b"init-apart");
    let screen = pty.wait_for("1 of ");
    assert!(
        listed(&screen, "init-apart-green/init-apart-green"),
        "green's cluster is offered too: {screen}"
    );
    // A wrong turn: Esc goes back to blue's list, then back to the clusters, and the
    // choices made again carry on.
    pty.send(b"\x1b");
    pty.wait_for("BLUE: the service serving production now in init-apart-blue");
    pty.send(b"\x1b");
    cluster_then_blue(&mut pty);
    pty.wait_for("GREEN: the service the next build goes to");
    pty.send(b"init-apart-green/");
    pty.wait_for("› init-apart-green/init-apart-green");
    pty.send(b"\r");
    let status = pty.wait_exit();
    assert!(status.success(), "{}", pty.contents());
    let text = std::fs::read_to_string(&path).expect("init wrote the file");
    assert!(text.contains("cluster = \"init-apart-blue\""), "{text}");
    assert!(text.contains("cluster = \"init-apart-green\""), "{text}");
    assert_eq!(text.matches("rule_arn = ").count(), 1, "{text}");
}

#[test]
fn a_service_in_two_target_groups_is_asked_about_or_named_by_flag() {
    let estate = Estate::build("init-groups", &["--same-cluster", "--blue-two-groups"]);
    let (output, path) = init(&estate, "init-groups", &[]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(
        message.contains("registers in 2 target groups")
            && message.contains(estate.group("blue"))
            && message.contains(estate.group("blue2"))
            && message.contains("--blue-target-group"),
        "{message}"
    );
    let (output, _) = init(
        &estate,
        "init-groups",
        &["--blue-target-group", estate.group("blue")],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_init_wrote(&estate, &path, "listener_arn", &estate.listener_arn);

    // In a terminal it asks.
    let service = |c: &str| format!("{}/{}", estate.clusters[c], estate.services[c]);
    let (blue, green) = (service("blue"), service("green"));
    let mut pty = init_in_a_terminal("init-groups", &path, &["--blue", &blue, "--green", &green]);
    pty.wait_for("BLUE's target group (init-groups/init-groups-blue registers in several)");
    pty.send(b"init-groups-blue/");
    pty.wait_for("1 of 2");
    pty.send(b"\r");
    assert!(pty.wait_exit().success(), "{}", pty.contents());
    assert_init_wrote(&estate, &path, "listener_arn", &estate.listener_arn);
}

/// `cutover init` in a pseudo-terminal, writing to `path` (removed first).
fn init_in_a_terminal(name: &str, path: &std::path::Path, extra: &[&str]) -> support::pty::Pty {
    let _ = std::fs::remove_file(path);
    let log = format!("{}/{name}.log", env!("CARGO_TARGET_TMPDIR"));
    let path = path.to_string_lossy();
    let mut args = vec![
        "init",
        "--config",
        &path,
        "--endpoint-url",
        &moto().endpoint,
        "--log-file",
        &log,
    ];
    args.extend_from_slice(extra);
    support::pty::Pty::spawn_with_env(&args, &aws_env())
}

#[tokio::test]
async fn the_weights_write_is_sent_once_and_a_lost_answer_is_read_back() {
    let estate = Estate::build("once", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    // Every ModifyRule is applied and its answer lost: the SDK would send it again.
    fail_after("ModifyRule", &rule, 3);
    let aws = platform("once", &estate.rule_config()).await;
    aws.observe().await.expect("observe");
    let report = aws
        .write_weights(
            Weights::ALL_BLUE,
            Weights::with_green(10),
            WriteIntent::Move,
        )
        .await
        .expect("found applied by reading back");
    assert_eq!(report.weights, Weights::with_green(10));
    assert!(
        report.notes.iter().any(|n| n.contains("answer lost")),
        "{:?}",
        report.notes
    );
    let calls = aws.call_counts();
    assert_eq!(
        calls.get("ModifyRule"),
        Some(&1),
        "no copy of the write that cutover does not know about: {calls:?}"
    );
}

#[tokio::test]
async fn a_write_that_lands_after_the_client_gave_up_is_waited_for_and_said() {
    let estate = Estate::build("held", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    // Held past the client's 8 s attempt timeout, then applied.
    hold("ModifyRule", &rule, 11.0);
    let audit = format!("{}/held.audit.jsonl", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_file(&audit);
    let output = headless(
        "held",
        &estate.rule_config(),
        &["shift", "--green", "10", "--audit-log", &audit],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("watching the weights"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("applied late"),
        "{}",
        stdout(&output)
    );
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["result"], "applied");
    let elb = elb().await;
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 10);
    assert_rule_intact(&elb, &estate).await;
}

#[tokio::test]
async fn a_failed_headless_write_exits_1_and_is_audited_failed() {
    let estate = Estate::build("denied-write", &["--rule"]);
    let rule = estate.rule_arn.clone().expect("rule");
    deny("ModifyRule", &rule, "AccessDenied");
    let audit = format!("{}/denied-write.audit.jsonl", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_file(&audit);
    for args in [
        ["shift", "--green", "10"].as_slice(),
        ["promote", "--force"].as_slice(),
    ] {
        let mut args = args.to_vec();
        args.extend(["--audit-log", &audit]);
        let output = headless("denied-write", &estate.rule_config(), &args);
        let said = stderr(&output);
        assert_ne!(output.status.code(), Some(130), "not a signal: {said}");
        if said.contains("refused") {
            // promote may be refused by the guard first: exit 3, nothing sent.
            assert_eq!(output.status.code(), Some(3), "{said}");
            continue;
        }
        assert_eq!(output.status.code(), Some(1), "{said}");
        assert!(said.contains("AccessDenied"), "{said}");
    }
    let lines = audit_lines(&audit);
    assert_eq!(lines[0]["result"], "failed", "{lines:?}");
    assert_eq!(weights_in(&rule_actions(&elb().await, &rule).await)[1].1, 0);
}

#[tokio::test]
async fn a_headless_rollback_keeps_trying_while_aws_throttles() {
    let estate = Estate::build("rb-throttled", &["--rule", "--green-weight", "30"]);
    let rule = estate.rule_arn.clone().expect("rule");
    deny("ModifyRule", &rule, "Throttling");
    let (child, audit) = spawn_cutover(
        "rb-throttled",
        &estate.rule_config(),
        &["rollback", "--to", "blue"],
    );
    // Two attempts at least (2 s apart), then AWS lets writes through again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    allow("ModifyRule", &rule);
    let output = child.wait_with_output().expect("rollback ends");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("rollback attempt 1/8 failed"),
        "{}",
        stderr(&output)
    );
    assert_eq!(weights_in(&rule_actions(&elb().await, &rule).await)[1].1, 0);
    let last = audit_lines(&audit).pop().expect("a line");
    assert_eq!(last["result"], "applied");
}

#[test]
fn an_aws_profile_no_file_names_is_bad_input_even_with_keys_in_the_environment() {
    let estate = Estate::build("env-profile", &["--rule"]);
    let config = write_config("env-profile", &estate.rule_config());
    let home = format!("{}/env-profile-home", env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&home).expect("a home");
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args([
            "shift",
            "--green",
            "10",
            "--config",
            &config.to_string_lossy(),
        ])
        .args(["--log-file", &format!("{home}/log")])
        .args(["--audit-log", &format!("{home}/audit.jsonl")])
        .envs(aws_env())
        .env("AWS_PROFILE", "no-such-profile")
        .env("AWS_CONFIG_FILE", format!("{home}/none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", format!("{home}/none"))
        .output()
        .expect("cutover runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("'no-such-profile' (AWS_PROFILE in the environment)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        audit_lines(&format!("{home}/audit.jsonl")).len(),
        0,
        "nothing was attempted"
    );
}

const INSIGHTS_METRICS: &str = r#"
[[guard.metric]]
name = "queue depth"
expression = "SELECT MAX(ApproximateNumberOfMessagesVisible) FROM \"AWS/SQS\" WHERE QueueName = '{service}-jobs'"
max = 100

[[guard.metric]]
name = "jobs failed"
expression = "SELECT SUM(JobsFailed) FROM shop WHERE ServiceName = '{service}'"
max_increase = 5
"#;

#[tokio::test]
async fn metrics_insights_queries_each_get_their_own_call_and_faults_stay_in_their_row() {
    let estate = Estate::build(
        "insights",
        &["--rule", "--green-weight", "10", "--green-metrics", "ok"],
    );
    let text = format!("{}{INSIGHTS_METRICS}", estate.rule_config());
    let aws = platform("insights", &text).await;
    let observation = aws.observe().await.expect("observe");
    let before = aws.call_counts();
    let snapshot = aws
        .metrics()
        .await
        .expect("the double takes one SELECT a request");
    let calls = aws.call_counts();
    let made =
        |op: &str| calls.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0);
    assert_eq!(
        made("GetMetricData"),
        1 + 2 * 2,
        "the load balancer's series together, each SELECT per side alone: {calls:?}"
    );
    assert!(
        snapshot.custom.iter().all(|c| c.problem.is_none()),
        "{:?}",
        snapshot.custom
    );

    // A series CloudWatch could not read, and a query that returns several series.
    support::moto::series_fault("green_errors", "insights-", "InternalError", 1);
    support::moto::series_fault("custom1_green", "insights-", "Complete", 2);
    let snapshot = aws.metrics().await.expect("one refresh");
    let path = write_config("insights-check", &text);
    let config = config::load(&path, &AwsSettings::default()).expect("valid config");
    let evidence = cutover::shift::evidence(
        &snapshot,
        Some(&observation),
        Color::Green,
        None,
        aws.now(),
        &config.evidence,
    );
    let row = |label: &str| {
        evidence
            .checks
            .iter()
            .find(|c| c.kind.label() == label)
            .cloned()
            .unwrap_or_else(|| panic!("no {label} row: {:?}", evidence.checks))
    };
    assert_eq!(row("5xx").verdict, Verdict::Stale, "{:?}", row("5xx"));
    assert!(
        row("5xx").reason.contains("InternalError"),
        "{:?}",
        row("5xx")
    );
    assert_eq!(row("jobs failed").verdict, Verdict::Stale);
    assert!(
        row("jobs failed")
            .reason
            .contains("wrap it in SUM() or MAX()"),
        "{:?}",
        row("jobs failed")
    );
    assert_ne!(
        row("queue depth").verdict,
        Verdict::Stale,
        "the other rows stand"
    );
    assert_ne!(
        row("latency").verdict,
        Verdict::Stale,
        "the other rows stand"
    );
}

#[tokio::test]
async fn the_double_refuses_two_metrics_insights_queries_in_one_request() {
    let client = aws_sdk_cloudwatch::Client::new(&sdk().await);
    let select = |id: &str| {
        aws_sdk_cloudwatch::types::MetricDataQuery::builder()
            .id(id)
            .expression("SELECT SUM(x) FROM shop")
            .period(60)
            .build()
    };
    let now = aws_sdk_cloudwatch::primitives::DateTime::from_secs(epoch_secs_from_now(0));
    let start = aws_sdk_cloudwatch::primitives::DateTime::from_secs(epoch_secs_from_now(-600));
    let error = client
        .get_metric_data()
        .metric_data_queries(select("a"))
        .metric_data_queries(select("b"))
        .start_time(start)
        .end_time(now)
        .send()
        .await
        .expect_err("CloudWatch allows one SELECT a request");
    assert!(
        format!("{}", aws_sdk_cloudwatch::error::DisplayErrorContext(&error))
            .contains("Maximum number of queries (1) exceeded")
    );
}

#[tokio::test]
async fn an_audit_log_that_cannot_be_written_stops_a_move_but_never_a_rollback() {
    let estate = Estate::build(
        "audit-full",
        &["--rule", "--green-weight", "10", "--green-metrics", "ok"],
    );
    let rule = estate.rule_arn.clone().expect("rule");
    // A full disk: the file opens, every write to it fails.
    let output = headless(
        "audit-full",
        &estate.rule_config(),
        &[
            "shift",
            "--green",
            "20",
            "--force",
            "--audit-log",
            "/dev/full",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the audit log cannot be written"),
        "{}",
        stderr(&output)
    );
    let elb = elb().await;
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 10);
    let output = headless(
        "audit-full",
        &estate.rule_config(),
        &["rollback", "--to", "blue", "--audit-log", "/dev/full"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("written without its audit line"),
        "{}",
        stdout(&output)
    );
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 0);
}

#[tokio::test]
async fn an_attempt_a_dead_process_left_without_a_result_is_resolved_at_the_next_start() {
    let estate = Estate::build("attempt-left", &["--rule", "--green-weight", "10"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let audit = format!("{}/attempt-left.audit.jsonl", env!("CARGO_TARGET_TMPDIR"));
    // What a process killed between its ModifyRule and the answer leaves: the line written
    // ahead, and nothing after it. (The weights never moved: 90/10.)
    let left = serde_json::json!({
        "time": "2026-12-03T07:00:00Z", "actor": "alice", "action": "plan step",
        "target": rule, "from": {"blue": 90, "green": 10}, "to": {"blue": 75, "green": 25},
        "evidence": null, "result": "attempt", "reason": null,
    });
    std::fs::write(&audit, format!("{left}\n")).expect("a trail");
    let output = headless(
        "attempt-left",
        &estate.rule_config(),
        &["shift", "--green", "20", "--audit-log", &audit],
    );
    assert!(
        stderr(&output).contains("the plan step attempted at 2026-12-03T07:00:00Z had no result")
            && stderr(&output).contains("it was not applied"),
        "{}",
        stderr(&output)
    );
    let lines = audit_lines(&audit);
    assert_eq!(
        (lines[0]["action"].as_str(), lines[0]["result"].as_str()),
        (Some("resolved"), Some("failed")),
        "{lines:?}"
    );
}

#[test]
fn adopting_an_older_idle_build_onto_the_live_side_needs_force() {
    // Green is live on revision 2; blue, idle, still runs revision 1.
    let estate = Estate::build(
        "adopt-old",
        &[
            "--rule",
            "--green-weight",
            "100",
            "--green-metrics",
            "ok",
            "--blue-metrics",
            "none",
            "--promoted-minutes-ago",
            "10",
        ],
    );
    let output = headless("adopt-old", &estate.rule_config(), &["adopt"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is older than the live")
            && stderr(&output).contains("pass --force to adopt it"),
        "{}",
        stderr(&output)
    );
    let output = headless("adopt-old", &estate.rule_config(), &["adopt", "--force"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[tokio::test]
async fn the_double_allows_authentication_only_on_https_listeners() {
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, AuthenticateOidcActionConfig, ProtocolEnum,
    };
    let estate = Estate::build("auth-http", &["--rule"]);
    let elb = elb().await;
    let oidc = Action::builder()
        .r#type(ActionTypeEnum::AuthenticateOidc)
        .order(1)
        .authenticate_oidc_config(
            AuthenticateOidcActionConfig::builder()
                .issuer("https://idp.example.com")
                .authorization_endpoint("https://idp.example.com/auth")
                .token_endpoint("https://idp.example.com/token")
                .user_info_endpoint("https://idp.example.com/userinfo")
                .client_id("cutover-shop")
                .client_secret("s3cret")
                .build(),
        )
        .build();
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .order(2)
        .target_group_arn(estate.group("blue"))
        .build();
    let error = elb
        .create_listener()
        .load_balancer_arn(&estate.load_balancer_arn)
        .protocol(ProtocolEnum::Http)
        .port(8081)
        .default_actions(oidc)
        .default_actions(forward)
        .send()
        .await
        .expect_err("AWS allows authentication on HTTPS listeners only");
    let said = format!(
        "{}",
        aws_sdk_elasticloadbalancingv2::error::DisplayErrorContext(&error)
    );
    assert!(
        said.contains("InvalidConfigurationRequest") && said.contains("HTTPS"),
        "{said}"
    );
}

#[tokio::test]
async fn plan_run_under_another_operators_lock_pauses_with_4_like_every_command() {
    let estate = Estate::build("plan-locked", &["--rule", "--green-metrics", "ok"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let elb = elb().await;
    let theirs = format!("bob@bastion pid 4242 until {}", epoch_secs_from_now(600));
    put_lock(&elb, &rule, &theirs).await;
    let text = estate.rule_config() + "\n[plan]\nsteps = [10, 100]\nbake_seconds = 60\n";
    let (child, audit) = spawn_cutover("plan-locked", &text, &["plan", "run", "--refresh", "1"]);
    let output = child.wait_with_output().expect("plan run ends");
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("plan paused at 100/0: locked by bob@bastion pid 4242"),
        "{}",
        stderr(&output)
    );
    assert_eq!(weights_in(&rule_actions(&elb, &rule).await)[1].1, 0);
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 1, "one attempt, refused: {lines:?}");
    assert_eq!(lines[0]["result"], "refused");
}

/// The newest service deployment of a service, as ListServiceDeployments lists it.
async fn newest_deployment_arn(ecs: &aws_sdk_ecs::Client, cluster: &str, service: &str) -> String {
    let listed = ecs
        .list_service_deployments()
        .cluster(cluster)
        .service(service)
        .send()
        .await
        .expect("ListServiceDeployments");
    listed.service_deployments()[0]
        .service_deployment_arn()
        .expect("an ARN")
        .to_string()
}

/// Puts `color`'s task definition on the native service (blue's), and returns the service
/// deployment that starts.
async fn native_deploy(ecs: &aws_sdk_ecs::Client, estate: &Estate, color: &str) -> String {
    let (cluster, service) = (&estate.clusters["blue"], &estate.services["blue"]);
    ecs.update_service()
        .cluster(cluster)
        .service(service)
        .task_definition(&estate.task_definitions[color])
        .send()
        .await
        .expect("UpdateService");
    newest_deployment_arn(ecs, cluster, service).await
}

/// One service deployment, as DescribeServiceDeployments answers it.
async fn describe_deployment(
    ecs: &aws_sdk_ecs::Client,
    arn: &str,
) -> aws_sdk_ecs::types::ServiceDeployment {
    ecs.describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .expect("DescribeServiceDeployments")
        .service_deployments()[0]
        .clone()
}

/// CONTINUE at the gate `deployment` waits at, if it waits at one; true when it did.
async fn continue_at_gate(
    ecs: &aws_sdk_ecs::Client,
    deployment: &aws_sdk_ecs::types::ServiceDeployment,
) -> bool {
    let Some(hook) = deployment.lifecycle_hook_details().first() else {
        return false;
    };
    ecs.continue_service_deployment()
        .service_deployment_arn(deployment.service_deployment_arn().unwrap_or_default())
        .hook_id(hook.hook_id().unwrap_or_default())
        .action(aws_sdk_ecs::types::DeploymentLifecycleHookAction::Continue)
        .send()
        .await
        .expect("ContinueServiceDeployment");
    true
}

/// The weight `color`'s target group has in a forward, as moto holds it.
fn group_weight(estate: &Estate, color: &str, actions: &[Action]) -> Option<i32> {
    weights_in(actions)
        .into_iter()
        .find(|(name, _)| estate.group(color).contains(name.as_str()))
        .map(|(_, weight)| weight)
}

/// The target group a service revision's tasks register in.
fn revision_group(revision: &aws_sdk_ecs::types::ServiceRevision) -> Option<String> {
    revision
        .resolved_configuration()
        .and_then(|c| c.load_balancers().first())
        .and_then(|l| l.target_group_arn())
        .map(String::from)
}

/// The double's ECS-native deployments, driven through the real SDK as cutover will drive
/// them: what issue 21's driver builds on, checked before any code of cutover uses it.
#[tokio::test]
async fn the_double_runs_an_ecs_native_linear_deployment_gate_by_gate() {
    use aws_sdk_ecs::types::{
        DeploymentLifecycleHookAction, DeploymentLifecycleHookStatus, ServiceDeploymentStatus,
        StopServiceDeploymentStopType,
    };
    let estate = Estate::build("native-lin", &["--rule", "--native", "LINEAR"]);
    let (ecs, elb) = (ecs().await, elb().await);
    let rule = estate.rule_arn.clone().expect("rule");
    let (cluster, service) = (&estate.clusters["blue"], &estate.services["blue"]);
    let green_weight = |actions: &[Action]| group_weight(&estate, "green", actions);
    // A new build on the native service starts a service deployment.
    let arn = native_deploy(&ecs, &estate, "green").await;
    // DescribeServices says which deployment runs and how (moto alone drops both).
    let described = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .expect("DescribeServices");
    let now = &described.services()[0];
    assert_eq!(now.current_service_deployment(), Some(arn.as_str()));
    assert_eq!(
        now.deployment_configuration()
            .and_then(|c| c.strategy())
            .map(|s| s.as_str()),
        Some("LINEAR")
    );
    let describe = || describe_deployment(&ecs, &arn);
    // The two revisions, and which group each registers in: the new build the idle one.
    let first = describe().await;
    let revision_arns = [
        first.source_service_revisions()[0]
            .arn()
            .unwrap_or_default()
            .to_string(),
        first
            .target_service_revision()
            .and_then(|r| r.arn())
            .unwrap_or_default()
            .to_string(),
    ];
    let revisions = ecs
        .describe_service_revisions()
        .set_service_revision_arns(Some(revision_arns.to_vec()))
        .send()
        .await
        .expect("DescribeServiceRevisions");
    let group_of = |i: usize| revision_group(&revisions.service_revisions()[i]);
    assert_eq!(group_of(0).as_deref(), Some(estate.group("blue")));
    assert_eq!(group_of(1).as_deref(), Some(estate.group("green")));
    assert_eq!(
        revisions.service_revisions()[1].task_definition(),
        Some(estate.task_definitions["green"].as_str())
    );
    // Six stages of 30 s before production traffic, then the gate before the first step.
    native_clock(cluster, service, 180.0);
    let at_gate = describe().await;
    assert_eq!(
        at_gate.lifecycle_stage().map(|s| s.as_str()),
        Some("PRE_PRODUCTION_TRAFFIC_SHIFT")
    );
    let hook = &at_gate.lifecycle_hook_details()[0];
    assert_eq!(
        hook.status(),
        Some(&DeploymentLifecycleHookStatus::AwaitingAction)
    );
    assert_eq!(
        hook.timeout_action(),
        Some(&DeploymentLifecycleHookAction::Rollback)
    );
    let first_hook = hook.hook_id().expect("a hook id").to_string();
    assert_eq!(green_weight(&rule_actions(&elb, &rule).await), Some(0));
    // cutover's own reading of it: the stage by name, the gate that waits, what a timeout does.
    let read = cutover::platform::aws::native::newest(&ecs, cluster, service)
        .await
        .expect("reading the deployment")
        .expect("a deployment");
    assert_eq!(
        read.stage(),
        Some(cutover::domain::Stage::PreProductionTrafficShift)
    );
    let gate = read.awaiting_gate().expect("a gate waits");
    assert_eq!(gate.hook_id, first_hook);
    assert_eq!(gate.on_timeout, Some(cutover::domain::GateAction::Rollback));
    assert!(gate.expires_at.is_some());
    // CONTINUE: ECS shifts the first 20% in the production rule.
    ecs.continue_service_deployment()
        .service_deployment_arn(&arn)
        .hook_id(&first_hook)
        .action(DeploymentLifecycleHookAction::Continue)
        .send()
        .await
        .expect("ContinueServiceDeployment");
    assert_eq!(green_weight(&rule_actions(&elb, &rule).await), Some(200));
    let step = describe().await;
    assert_eq!(
        step.target_service_revision()
            .and_then(|r| r.requested_production_traffic_weight()),
        Some(20.0)
    );
    // That hook is spent: continuing it again is refused.
    let again = ecs
        .continue_service_deployment()
        .service_deployment_arn(&arn)
        .hook_id(&first_hook)
        .action(DeploymentLifecycleHookAction::Continue)
        .send()
        .await
        .expect_err("a hook not awaiting action");
    assert_eq!(again.code(), Some("InvalidParameterException"));
    // After the step's bake, the next gate with a fresh hook id.
    native_clock(cluster, service, 60.0);
    let next = describe().await;
    assert_eq!(
        next.lifecycle_stage().map(|s| s.as_str()),
        Some("PRE_PRODUCTION_TRAFFIC_SHIFT")
    );
    let second_hook = next.lifecycle_hook_details()[0]
        .hook_id()
        .unwrap_or_default();
    assert!(!second_hook.is_empty() && second_hook != first_hook);
    // The documented limits.
    let many: Vec<String> = (0..21).map(|i| format!("{arn}-{i}")).collect();
    let too_many = ecs
        .describe_service_deployments()
        .set_service_deployment_arns(Some(many))
        .send()
        .await
        .expect_err("21 ARNs");
    assert_eq!(too_many.code(), Some("InvalidParameterException"));
    let missing = ecs
        .describe_service_deployments()
        .service_deployment_arns(format!("{arn}-gone"))
        .send()
        .await
        .expect("an unknown ARN is a failure, not an error");
    assert_eq!(missing.failures()[0].reason(), Some("MISSING"));
    let unknown = ecs
        .continue_service_deployment()
        .service_deployment_arn(format!("{arn}-gone"))
        .hook_id(second_hook)
        .action(DeploymentLifecycleHookAction::Continue)
        .send()
        .await
        .expect_err("an unknown deployment");
    assert_eq!(unknown.code(), Some("ServiceDeploymentNotFoundException"));
    // Rollback: all production traffic back on the source revision, at once.
    ecs.stop_service_deployment()
        .service_deployment_arn(&arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .expect("StopServiceDeployment");
    assert_eq!(green_weight(&rule_actions(&elb, &rule).await), Some(0));
    assert_eq!(
        describe().await.status(),
        Some(&ServiceDeploymentStatus::RollbackSuccessful)
    );
    let over = ecs
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .expect_err("a finished deployment");
    assert_eq!(over.code(), Some("ConflictException"));
}

#[tokio::test]
async fn the_double_refuses_native_configurations_ecs_refuses() {
    use aws_sdk_ecs::types::{
        DeploymentConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookStage,
        DeploymentLifecycleHookTargetType, DeploymentStrategy, LinearConfiguration,
    };
    let estate = Estate::build("native-bad-config", &["--rule", "--native", "LINEAR"]);
    let ecs = ecs().await;
    let update = |config: DeploymentConfiguration| {
        ecs.update_service()
            .cluster(&estate.clusters["blue"])
            .service(&estate.services["blue"])
            .deployment_configuration(config)
            .send()
    };
    let pause_at = |stage: DeploymentLifecycleHookStage| {
        DeploymentConfiguration::builder()
            .strategy(DeploymentStrategy::Linear)
            .lifecycle_hooks(
                DeploymentLifecycleHook::builder()
                    .target_type(DeploymentLifecycleHookTargetType::Pause)
                    .lifecycle_stages(stage)
                    .build(),
            )
            .build()
    };
    let refused = update(pause_at(
        DeploymentLifecycleHookStage::ProductionTrafficShift,
    ))
    .await
    .expect_err("no PAUSE at PRODUCTION_TRAFFIC_SHIFT");
    assert_eq!(refused.code(), Some("InvalidParameterException"));
    let refused = update(
        DeploymentConfiguration::builder()
            .strategy(DeploymentStrategy::Linear)
            .linear_configuration(LinearConfiguration::builder().step_percent(2.0).build())
            .build(),
    )
    .await
    .expect_err("a step under 3%");
    assert_eq!(refused.code(), Some("InvalidParameterException"));
    update(pause_at(
        DeploymentLifecycleHookStage::PreProductionTrafficShift,
    ))
    .await
    .expect("a PAUSE before each production step is allowed");
}

#[test]
fn a_native_service_behind_the_rule_is_watched_and_never_written() {
    let estate = Estate::build("native-watch", &["--rule", "--native", "LINEAR"]);
    let config = write_config("native-watch", &estate.rule_config());
    let status = status_json(&config);
    assert!(
        status["writes_refused"]
            .as_str()
            .is_some_and(|why| why.contains("ECS blue/green owns the traffic")),
        "{status}"
    );
    let output = headless(
        "native-watch",
        &estate.rule_config(),
        &["shift", "--green", "10"],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not written"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn a_native_deployment_continued_at_every_gate_ends_with_the_new_group_live() {
    use aws_sdk_ecs::types::ServiceDeploymentStatus;
    let estate = Estate::build("native-end", &["--rule", "--native", "LINEAR"]);
    let (ecs, elb) = (ecs().await, elb().await);
    let rule = estate.rule_arn.clone().expect("rule");
    let (cluster, service) = (&estate.clusters["blue"], &estate.services["blue"]);

    let latest = || async {
        describe_deployment(&ecs, &newest_deployment_arn(&ecs, cluster, service).await).await
    };
    native_deploy(&ecs, &estate, "green").await;
    // Five gates of 20%: continued at each, the bakes run out on the double's clock.
    let mut gates = 0;
    for _ in 0..30 {
        let now = latest().await;
        if now.status() == Some(&ServiceDeploymentStatus::Successful) {
            break;
        }
        if continue_at_gate(&ecs, &now).await {
            gates += 1;
        }
        native_clock(cluster, service, 120.0);
    }
    assert_eq!(gates, 5, "a gate before each 20% step");
    assert_eq!(
        latest().await.status(),
        Some(&ServiceDeploymentStatus::Successful)
    );
    let actions = rule_actions(&elb, &rule).await;
    assert_eq!(
        group_weight(&estate, "green", &actions),
        Some(999),
        "{:?}",
        weights_in(&actions)
    );
    // The next deployment shifts back: its new revision registers in blue's group.
    native_deploy(&ecs, &estate, "blue").await;
    let next = latest().await;
    let target = next
        .target_service_revision()
        .and_then(|r| r.arn())
        .unwrap_or_default()
        .to_string();
    let revision = ecs
        .describe_service_revisions()
        .service_revision_arns(target)
        .send()
        .await
        .expect("DescribeServiceRevisions");
    assert_eq!(
        revision_group(&revision.service_revisions()[0]).as_deref(),
        Some(estate.group("blue"))
    );
}

#[tokio::test]
async fn a_native_deployment_over_a_rule_that_authenticates_fails_before_traffic_moves() {
    use aws_sdk_ecs::types::ServiceDeploymentStatus;
    let estate = Estate::build(
        "native-oidc",
        &["--rule", "--native", "LINEAR", "--native-keep-oidc"],
    );
    let (ecs, elb) = (ecs().await, elb().await);
    let rule = estate.rule_arn.clone().expect("rule");
    let (cluster, service) = (&estate.clusters["blue"], &estate.services["blue"]);
    let before = rule_actions(&elb, &rule).await;
    let arn = native_deploy(&ecs, &estate, "green").await;
    native_clock(cluster, service, 300.0);
    let failed = describe_deployment(&ecs, &arn).await;
    assert_eq!(
        failed.status(),
        Some(&ServiceDeploymentStatus::RollbackSuccessful)
    );
    assert!(
        failed
            .status_reason()
            .is_some_and(|r| r.contains("authenticate-oidc")),
        "{failed:?}"
    );
    assert_eq!(
        weights_in(&rule_actions(&elb, &rule).await),
        weights_in(&before),
        "no traffic moved"
    );
}

#[tokio::test]
async fn a_native_gate_left_waiting_takes_its_timeout_action_and_canary_has_two_steps() {
    use aws_sdk_ecs::types::ServiceDeploymentStatus;
    let (ecs, elb) = (ecs().await, elb().await);
    // Nobody at the gate: after its 60 minutes ECS takes the hook's action, ROLLBACK.
    let estate = Estate::build("native-wait", &["--rule", "--native", "LINEAR"]);
    let (cluster, service) = (&estate.clusters["blue"], &estate.services["blue"]);
    let arn = native_deploy(&ecs, &estate, "green").await;
    native_clock(cluster, service, 180.0 + 59.0 * 60.0);
    assert_eq!(
        describe_deployment(&ecs, &arn).await.status(),
        Some(&ServiceDeploymentStatus::InProgress),
        "still waiting a minute before its timeout"
    );
    native_clock(cluster, service, 60.0);
    let timed_out = describe_deployment(&ecs, &arn).await;
    assert_eq!(
        timed_out.status(),
        Some(&ServiceDeploymentStatus::RollbackSuccessful)
    );
    assert!(
        timed_out
            .rollback()
            .and_then(|r| r.reason())
            .is_some_and(|r| r.contains("timed out")),
        "{timed_out:?}"
    );
    // CANARY: one gate before the canary's 10%, one before the rest.
    let estate = Estate::build("native-canary", &["--rule", "--native", "CANARY"]);
    let rule = estate.rule_arn.clone().expect("rule");
    let (cluster, service) = (&estate.clusters["blue"], &estate.services["blue"]);
    let arn = native_deploy(&ecs, &estate, "green").await;
    let mut shares = Vec::new();
    for _ in 0..20 {
        native_clock(cluster, service, 120.0);
        let now = describe_deployment(&ecs, &arn).await;
        if now.status() == Some(&ServiceDeploymentStatus::Successful) {
            break;
        }
        if continue_at_gate(&ecs, &now).await {
            shares.extend(group_weight(
                &estate,
                "green",
                &rule_actions(&elb, &rule).await,
            ));
        }
    }
    assert_eq!(shares, [100, 999], "the canary's 10%, then everything");
}

/// Issue 21's "done when", on the double: a native LINEAR service stepped through its five
/// gates by `cutover continue`, each step judged by the guard and written by ECS (the
/// double's model) into moto's rule, never by cutover.
#[tokio::test]
async fn cutover_steps_a_native_linear_deployment_through_five_gates_on_the_double() {
    let estate = Estate::build(
        "native-drive",
        &["--rule", "--native", "LINEAR", "--green-metrics", "ok"],
    );
    let (ecs, elb) = (ecs().await, elb().await);
    let rule = estate.rule_arn.clone().expect("rule");
    let (cluster, service) = (&estate.clusters["blue"], &estate.services["blue"]);
    let text = estate.native_config();
    let audit = format!("{}/audit-native-drive.jsonl", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_file(&audit);

    // No deployment yet: nothing to continue (exit 3), and the weights are ECS's.
    let output = headless("native-drive", &text, &["continue"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no ECS deployment is running"),
        "{}",
        stderr(&output)
    );
    let output = headless("native-drive", &text, &["shift", "--green", "10"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ECS moves the weights"),
        "{}",
        stderr(&output)
    );

    native_deploy(&ecs, &estate, "green").await;
    native_clock(cluster, service, 180.0);
    let config = write_config("native-drive", &text);
    let status = status_json(&config);
    let native = &status["driver"]["native"];
    assert_eq!(status["driver"]["kind"], "ecs-native", "{status}");
    assert_eq!(native["strategy"], "LINEAR 20%");
    assert_eq!(native["candidate"], "green");
    assert_eq!(
        native["deployment"]["stage"],
        "PRE_PRODUCTION_TRAFFIC_SHIFT"
    );
    assert_eq!(native["deployment"]["hook"]["awaiting"], true);
    assert_eq!(native["deployment"]["hook"]["timeout_action"], "ROLLBACK");
    assert_eq!(
        status["blue"]["task_definition"], "native-drive-shop:1",
        "{status}"
    );
    assert_eq!(
        status["green"]["task_definition"], "native-drive-shop:2",
        "{status}"
    );

    for expected in [200, 400, 600, 800, 999] {
        let output = headless("native-drive", &text, &["continue"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let said = stdout(&output) + &stderr(&output);
        let percent = (expected + 1) / 10;
        assert!(
            said.contains(&format!("ECS shifts green to {percent}%")),
            "{said}"
        );
        let actions = rule_actions(&elb, &rule).await;
        assert_eq!(
            group_weight(&estate, "green", &actions),
            Some(expected),
            "{:?}",
            weights_in(&actions)
        );
        // A second continue at the same gate: it no longer waits.
        let again = headless("native-drive", &text, &["continue"]);
        assert_eq!(
            again.status.code(),
            Some(3),
            "{} {:?}",
            stderr(&again),
            weights_in(&rule_actions(&elb, &rule).await)
        );
        native_clock(cluster, service, 60.0);
    }
    native_clock(cluster, service, 200.0);
    let status = status_json(&config);
    assert_eq!(
        status["driver"]["native"]["deployment"]["status"], "SUCCESSFUL",
        "{status}"
    );
    let lines = std::fs::read_to_string(&audit).expect("the audit log");
    let applied = lines
        .lines()
        .filter(|l| l.contains("\"action\":\"continue\"") && l.contains("\"result\":\"applied\""))
        .count();
    assert_eq!(applied, 5, "{lines}");

    // The next build: deploy starts ECS's next deployment, toward blue's group this time, and
    // a second deploy is refused while it runs.
    let output = headless(
        "native-drive",
        &text,
        &["deploy", "--image", "example/shop:1.6.0"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("ECS starts a deployment"),
        "{}",
        stdout(&output)
    );
    let status = status_json(&config);
    let native = &status["driver"]["native"];
    assert_eq!(native["deployment"]["status"], "IN_PROGRESS", "{status}");
    assert_eq!(native["candidate"], "blue", "{status}");
    assert_eq!(status["blue"]["image"], "example/shop:1.6.0", "{status}");
    let again = headless(
        "native-drive",
        &text,
        &["deploy", "--image", "example/shop:1.6.1"],
    );
    assert_eq!(again.status.code(), Some(3), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("an ECS deployment is running"),
        "{}",
        stderr(&again)
    );
}

/// A bad revision on the double: `continue` is refused by the guard at the first gate, and
/// `rollback` answers that gate ROLLBACK: ECS ends ROLLBACK_SUCCESSFUL, all traffic on blue.
#[tokio::test]
async fn a_bad_native_revision_is_refused_at_its_gate_and_rolled_back_through_ecs() {
    let estate = Estate::build(
        "native-refuse",
        &[
            "--rule",
            "--native",
            "LINEAR",
            "--green-metrics",
            "bad",
            "--native-monitors",
        ],
    );
    let (ecs, elb) = (ecs().await, elb().await);
    let rule = estate.rule_arn.clone().expect("rule");
    let (cluster, service) = (&estate.clusters["blue"], &estate.services["blue"]);
    let text = estate.native_config();
    native_deploy(&ecs, &estate, "green").await;
    native_clock(cluster, service, 180.0);
    // ECS's own monitors, as the deployment reports them.
    let status = status_json(&write_config("native-refuse", &text));
    let deployment = &status["driver"]["native"]["deployment"];
    assert_eq!(
        deployment["circuit_breaker"], "circuit breaker MONITORING, 0 of 3 failed tasks",
        "{status}"
    );
    assert_eq!(
        deployment["alarms"],
        "alarms MONITORING: native-refuse-api-5xx"
    );
    let output = headless("native-refuse", &text, &["continue"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("green is worse"),
        "{}",
        stderr(&output)
    );
    let output = headless("native-refuse", &text, &["rollback"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let said = stdout(&output) + &stderr(&output);
    assert!(said.contains("roll back at gate"), "{said}");
    let deployment =
        describe_deployment(&ecs, &newest_deployment_arn(&ecs, cluster, service).await).await;
    assert_eq!(
        deployment.status(),
        Some(&aws_sdk_ecs::types::ServiceDeploymentStatus::RollbackSuccessful)
    );
    let actions = rule_actions(&elb, &rule).await;
    assert_eq!(group_weight(&estate, "green", &actions), Some(0));
    // Nothing left to roll back: said, not an error.
    let output = headless("native-refuse", &text, &["rollback"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// `init --service` for a native service: its rule and both groups from its load balancer's
/// advancedConfiguration, a file every command loads; a rule that authenticates is warned
/// about; a service that does not deploy itself is refused with what to use instead.
#[test]
fn init_writes_the_config_of_a_native_service_from_its_advanced_configuration() {
    let estate = Estate::build("init-native", &["--rule", "--native", "LINEAR"]);
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("init-native.toml");
    let _ = std::fs::remove_file(&path);
    let service = format!("{}/{}", estate.clusters["blue"], estate.services["blue"]);
    let init = |path: &std::path::Path, service: &str| {
        cutover(&[
            "init",
            "--config",
            path.to_str().expect("a UTF-8 path"),
            "--endpoint-url",
            &moto().endpoint,
            "--service",
            service,
        ])
    };
    let output = init(&path, &service);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("ECS moves the weights"),
        "{}",
        stdout(&output)
    );
    let text = std::fs::read_to_string(&path).expect("init wrote the file");
    for wanted in [
        "[service]".to_string(),
        format!(
            "rule_arn = \"{}\"",
            estate.rule_arn.as_deref().unwrap_or_default()
        ),
        format!("target_group_arn = \"{}\"", estate.group("blue")),
        format!("alternate_target_group_arn = \"{}\"", estate.group("green")),
    ] {
        assert!(text.contains(&wanted), "{wanted}: {text}");
    }
    assert!(!text.contains("Warning"), "{text}");
    let status = status_json(&path);
    assert_eq!(status["driver"]["kind"], "ecs-native", "{status}");

    let oidc = Estate::build(
        "init-native-oidc",
        &["--rule", "--native", "LINEAR", "--native-keep-oidc"],
    );
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("init-native-oidc.toml");
    let _ = std::fs::remove_file(&path);
    let output = init(
        &path,
        &format!("{}/{}", oidc.clusters["blue"], oidc.services["blue"]),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(
            "warning: the production rule has actions besides forward (authenticate-oidc)"
        ),
        "{}",
        stdout(&output)
    );

    let pair = Estate::build("init-not-native", &["--rule"]);
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("init-not-native.toml");
    let _ = std::fs::remove_file(&path);
    let output = init(
        &path,
        &format!("{}/{}", pair.clusters["blue"], pair.services["blue"]),
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("has no advancedConfiguration")
            && stderr(&output).contains("--blue"),
        "{}",
        stderr(&output)
    );
    assert!(!path.exists(), "nothing written");
}

/// A new user's path on the double: `init --service`, then the console, where `c` continues
/// at ECS's first gate (ECS writes 20% into the rule) and `R` rolls back at the second; every
/// keypress through the real SDK, nothing written to the rule by cutover itself.
#[tokio::test]
async fn in_the_console_c_continues_at_an_ecs_gate_and_r_rolls_back_at_the_next() {
    use aws_sdk_ecs::types::ServiceDeploymentStatus;
    let estate = Estate::build(
        "native-console",
        &["--rule", "--native", "LINEAR", "--green-metrics", "ok"],
    );
    let (ecs, elb) = (ecs().await, elb().await);
    let rule = estate.rule_arn.clone().expect("rule");
    let (cluster, service) = (&estate.clusters["blue"], &estate.services["blue"]);
    let config = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("native-console.toml");
    let _ = std::fs::remove_file(&config);
    let named = format!("{cluster}/{service}");
    let output = cutover(&[
        "init",
        "--config",
        &config.to_string_lossy(),
        "--endpoint-url",
        &moto().endpoint,
        "--service",
        &named,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let arn = native_deploy(&ecs, &estate, "green").await;
    native_clock(cluster, service, 180.0);
    let hook = |d: &aws_sdk_ecs::types::ServiceDeployment| {
        d.lifecycle_hook_details()
            .first()
            .and_then(|h| h.hook_id())
            .unwrap_or_default()
            .to_string()
    };
    let first = hook(&describe_deployment(&ecs, &arn).await);

    let log = format!("{}/native-console.log", env!("CARGO_TARGET_TMPDIR"));
    let audit = format!("{log}.audit.jsonl");
    let mut pty = support::pty::Pty::spawn_with_env(
        &[
            "--config",
            &config.to_string_lossy(),
            "--refresh",
            "1",
            "--log-file",
            &log,
            "--audit-log",
            &audit,
        ],
        &aws_env(),
    );
    pty.wait_for(&format!("GATE {first} waits for you"));
    pty.wait_for("metrics to ");
    pty.send(b"c");
    pty.wait_for("Continue?");
    // Read before answered: a yes typed ahead of the question does not count.
    std::thread::sleep(std::time::Duration::from_millis(400));
    pty.send(b"y");
    pty.wait_for(&format!("continue at gate {first}: ECS took it"));
    let actions = rule_actions(&elb, &rule).await;
    assert_eq!(group_weight(&estate, "green", &actions), Some(200));
    pty.wait_for("ECS moved the weights: 100/0 → 80/20");

    // ECS bakes the step and raises the next gate; R answers it ROLLBACK, no question asked.
    native_clock(cluster, service, 60.0);
    let second = hook(&describe_deployment(&ecs, &arn).await);
    assert_ne!(second, first, "a fresh hook at every gate");
    pty.wait_for(&format!("GATE {second} waits for you"));
    pty.send(b"R");
    pty.wait_for(&format!("roll back at gate {second}: ECS took it"));
    let deployment = describe_deployment(&ecs, &arn).await;
    assert_eq!(
        deployment.status(),
        Some(&ServiceDeploymentStatus::RollbackSuccessful)
    );
    let actions = rule_actions(&elb, &rule).await;
    assert_eq!(group_weight(&estate, "green", &actions), Some(0));
    pty.wait_for("ROLLBACK_SUCCESSFUL");
    pty.quit();
    assert!(pty.wait_exit().success());
    let lines = std::fs::read_to_string(&audit).expect("the audit log");
    for action in ["continue", "rollback"] {
        assert!(
            lines
                .lines()
                .any(|l| l.contains(&format!("\"action\":\"{action}\""))
                    && l.contains("\"result\":\"applied\"")),
            "{action}: {lines}"
        );
    }
}

/// A fleet estate built by `tests/moto/fleet.py`: its pairs' names, rules, groups, clusters.
fn build_fleet(name: &str, pairs: usize, flags: &[&str]) -> Value {
    let moto = moto();
    let output = Command::new(&moto.python)
        .arg(support::moto::moto_dir().join("fleet.py"))
        .arg(&moto.endpoint)
        .arg(name)
        .arg(pairs.to_string())
        .args(flags)
        .output()
        .expect("running fleet.py");
    assert!(
        output.status.success(),
        "fleet.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("fleet.py prints JSON")
}

/// Fifty pairs named `name-p0`…`name-p49` (100 services in five clusters, behind five
/// listeners of five ALBs), the 38th failing.
fn fifty_pairs(name: &str) -> Value {
    build_fleet(
        name,
        50,
        &["--clusters", "5", "--listeners", "5", "--bad", "37"],
    )
}

/// A minute of `pair`'s green answering `errors` of `requests` with 5xx, as CloudWatch
/// publishes it a minute late: the minute before this one.
async fn green_fails_now(built: &Value, pair: usize, requests: f64, errors: f64) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let pair = &built["pairs"][pair];
    // `…:listener-rule/app/NAME/ID/…` and `…:targetgroup/NAME/ID`: CloudWatch's dimensions.
    let rule = pair["rule_arn"].as_str().unwrap_or_default();
    let balancer = rule
        .split_once(":listener-rule/")
        .map(|(_, rest)| rest.split('/').take(3).collect::<Vec<_>>().join("/"))
        .unwrap_or_default();
    let group = pair["target_groups"]["green"]
        .as_str()
        .and_then(|arn| arn.rsplit_once(':'))
        .map(|(_, suffix)| suffix.to_string())
        .unwrap_or_default();
    let minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 60 * 60 - 60)
        .unwrap_or_default();
    let datum = |name: &str, value: f64| {
        MetricDatum::builder()
            .metric_name(name)
            .dimensions(
                Dimension::builder()
                    .name("LoadBalancer")
                    .value(&balancer)
                    .build(),
            )
            .dimensions(
                Dimension::builder()
                    .name("TargetGroup")
                    .value(&group)
                    .build(),
            )
            .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                minute as i64,
            ))
            .value(value)
            .unit(StandardUnit::Count)
            .build()
    };
    aws_sdk_cloudwatch::Client::new(&sdk().await)
        .put_metric_data()
        .namespace("AWS/ApplicationELB")
        .metric_data(datum("RequestCount", requests))
        .metric_data(datum("HTTPCode_Target_5XX_Count", errors))
        .send()
        .await
        .expect("PutMetricData");
}

/// The fleet file at `path` and its reader, on the double.
async fn aws_fleet(
    path: &std::path::Path,
) -> (
    config::fleet::Fleet,
    cutover::platform::aws::fleet::AwsFleet,
) {
    set_aws_env();
    let fleet = config::fleet::load(path, &AwsSettings::default()).expect("a fleet");
    let entries = fleet
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.estate.clone()))
        .collect();
    let source = cutover::platform::aws::fleet::AwsFleet::connect(entries, &fleet.aws, path)
        .await
        .expect("clients");
    (fleet, source)
}

/// The fleet file for what `build_fleet` made.
fn fleet_config(built: &Value) -> String {
    let mut text = format!(
        "[aws]\nregion = \"{}\"\nendpoint_url = \"{}\"\n",
        support::moto::REGION,
        moto().endpoint
    );
    for pair in built["pairs"].as_array().expect("pairs") {
        let name = pair["name"].as_str().unwrap_or_default();
        let cluster = pair["cluster"].as_str().unwrap_or_default();
        let group = |color: &str| {
            pair["target_groups"][color]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        text += &format!(
            "\n[[pair]]\nname = \"{name}\"\nrule_arn = \"{}\"\nblue = {{ cluster = \"{cluster}\", \
             service = \"{name}-blue\", target_group_arn = \"{}\" }}\ngreen = {{ cluster = \
             \"{cluster}\", service = \"{name}-green\", target_group_arn = \"{}\" }}\n",
            pair["rule_arn"].as_str().unwrap_or_default(),
            group("blue"),
            group("green"),
        );
    }
    text
}

/// Fifty pairs (100 services in five clusters, behind five listeners of five ALBs): one
/// refresh reads them in batches, never a call per row, and the pair whose green fails comes
/// first, judged by the same evidence as its console. `status --json` on the file says the
/// same rows.
#[tokio::test]
async fn a_fleet_of_fifty_is_read_in_batches_and_its_worse_row_comes_first() {
    let built = &fifty_pairs("fl50");
    let text = fleet_config(built);
    let path = write_config("fleet50", &text);
    let output = cutover(&[
        "fleet",
        "--once",
        "--json",
        "--config",
        &path.to_string_lossy(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: Value = serde_json::from_slice(&output.stdout).expect("JSON rows");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0]["name"], "fl50-p37", "{:?}", rows[0]);
    assert_eq!(rows[0]["needs"], "worse", "{:?}", rows[0]);
    assert!(rows[1..].iter().all(|r| r["needs"].is_null()), "{rows:?}");
    assert_eq!(
        rows[3]["healthy"]["green"], 2,
        "health from HealthyHostCount"
    );
    assert_eq!(rows[3]["weights"]["green"], 10);
    let status = status_json(&path);
    assert_eq!(
        status.as_array().map(Vec::len),
        Some(50),
        "status on a fleet file"
    );

    let (_, source) = aws_fleet(&path).await;
    use cutover::platform::fleet::FleetSource;
    let metrics = source.metrics().await.expect("metrics");
    assert_eq!(metrics.len(), 50);
    // Four series a group (requests, 5xx, p99, healthy hosts) and one ELB 5xx per load
    // balancer: 405 metrics a minute, $0.243 an hour at $0.01 per 1,000.
    assert_eq!(source.metrics_a_read(), Some(50 * 2 * 4 + 5));
    let states = source.states().await;
    assert!(states.iter().all(|(_, s)| s.is_ok()), "{states:?}");
    let calls = source.call_counts();
    for (operation, count) in [
        // 100 services, 20 a cluster: two calls of 10 per cluster.
        ("DescribeServices", 10),
        // One per listener, every rule in it.
        ("DescribeRules", 5),
        // 50 lock tags, 20 a call.
        ("DescribeTags", 3),
        // 405 metrics, 500 a call: one call a minute.
        ("GetMetricData", 1),
        ("DescribeTaskDefinition", 1),
    ] {
        // Every attempt is counted: a loaded machine may make the SDK try a call again, never
        // a call per row (fifty).
        let made = calls.get(operation).copied().unwrap_or(0);
        assert!(
            (count..=count * 3).contains(&made),
            "{operation}: {made} calls, {count} batches: {calls:?}"
        );
    }
    assert_eq!(calls.get("DescribeTargetHealth"), None, "{calls:?}");
    // A second refresh: task definitions are known, nothing else grows per row.
    let before = source.call_counts();
    source.states().await;
    let again = source.call_counts();
    assert_eq!(
        again.get("DescribeTaskDefinition"),
        before.get("DescribeTaskDefinition")
    );
    let services = again.get("DescribeServices").copied().unwrap_or(0)
        - before.get("DescribeServices").copied().unwrap_or(0);
    assert!((10..=30).contains(&services), "{services} DescribeServices");
}

/// `init --all --cluster`: every pair of the cluster in a fleet file, named after what its
/// services share, which `cutover fleet` then reads.
#[test]
fn init_all_writes_a_fleet_of_every_pair_in_the_cluster() {
    let built = build_fleet("fli", 4, &["--clusters", "1", "--listeners", "2"]);
    let cluster = built["pairs"][0]["cluster"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("init-all.toml");
    let _ = std::fs::remove_file(&path);
    let output = cutover(&[
        "init",
        "--config",
        &path.to_string_lossy(),
        "--endpoint-url",
        &moto().endpoint,
        "--all",
        "--cluster",
        &cluster,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("with 4 entries"),
        "{}",
        stdout(&output)
    );
    let text = std::fs::read_to_string(&path).expect("the fleet file");
    for p in 0..4 {
        assert!(text.contains(&format!("name = \"fli-p{p}\"")), "{text}");
    }
    // Blue carries 90 in each forward: it is the side with the greater weight.
    assert!(text.contains("service = \"fli-p0-blue\""), "{text}");
    let output = cutover(&[
        "fleet",
        "--once",
        "--json",
        "--config",
        &path.to_string_lossy(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: Value = serde_json::from_slice(&output.stdout).expect("JSON rows");
    assert_eq!(rows.as_array().map(Vec::len), Some(4));
    assert!(
        rows.as_array()
            .is_some_and(|r| r.iter().all(|row| row["weights"]["blue"] == 90))
    );
}

/// ELB throttling one listener's DescribeRules: the rows behind it are stale and say why,
/// after the SDK's tries; the rows behind the other listener are read as always. No row shows
/// weights it did not read.
#[test]
fn a_throttled_listener_makes_its_rows_stale_and_no_other_row_wrong() {
    let built = build_fleet("flt", 4, &["--clusters", "1", "--listeners", "2"]);
    let text = fleet_config(&built);
    let path = write_config("fleet-throttled", &text);
    // Pairs 0 and 2 sit behind the first listener.
    let rule = built["pairs"][0]["rule_arn"].as_str().unwrap_or_default();
    let listener = rule
        .replace(":listener-rule/", ":listener/")
        .rsplit_once('/')
        .map(|(listener, _)| listener.to_string())
        .unwrap_or_default();
    deny("DescribeRules", &listener, "Throttling");
    let output = cutover(&[
        "fleet",
        "--once",
        "--json",
        "--config",
        &path.to_string_lossy(),
    ]);
    allow("DescribeRules", &listener);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: Value = serde_json::from_slice(&output.stdout).expect("JSON rows");
    let rows = rows.as_array().expect("rows");
    for row in rows {
        let name = row["name"].as_str().unwrap_or_default();
        if name == "flt-p0" || name == "flt-p2" {
            assert_eq!(row["needs"], "stale", "{row}");
            assert!(
                row["why"].as_str().is_some_and(|w| w.contains("throttled")),
                "{row}"
            );
            assert!(
                row["weights"].is_null(),
                "no weights it did not read: {row}"
            );
        } else {
            assert!(row["needs"].is_null(), "{row}");
            assert_eq!(row["weights"]["green"], 10, "{row}");
        }
    }
}

/// Fifty pairs live in a terminal, signing as an account whose ELB calls the double meters
/// with the documented token buckets (the account's 40 tokens at 10 a second, each action's
/// own) while the account's other tools spend 8 of the 10 tokens a second: the list paces
/// itself to a tenth of the budget and is never throttled. Then the other tools spend
/// everything: the list's reads are throttled, every row keeps what it read before and says
/// so, the header says it is behind on every row and backs off, the worse row stays first;
/// when tokens come back, the rows are read again.
#[test]
fn the_fleet_list_keeps_to_its_elb_share_and_rides_out_throttling() {
    let built = &fifty_pairs("fll");
    let path = write_config("fleet50-live", &fleet_config(built));
    let key = "AKIAFLEETLIST0000001";
    elb_budget(key, "others=8");
    let mut env = aws_env().to_vec();
    env.retain(|(k, _)| *k != "AWS_ACCESS_KEY_ID");
    env.push(("AWS_ACCESS_KEY_ID", key));
    let mut pty = support::pty::Pty::spawn_with_env(
        &[
            "fleet",
            "--config",
            &path.to_string_lossy(),
            "--refresh",
            "1",
        ],
        &env,
    );
    pty.wait_for("50 rows, 1 need the eye");
    // Two reads of 8 ELB calls each (5 listeners' rules, 50 locks 20 a call).
    let patience = std::time::Duration::from_secs(60);
    pty.wait_until_within(patience, "two reads", |_| elb_spent(key).0 >= 16);
    let (calls, throttled, seconds) = elb_spent(key);
    assert_eq!(throttled, 0, "never throttled within its share");
    // A call a second after the first read's 8, and a read's worth for an attempt the SDK
    // made again; the --refresh 1 asked for, unpaced, would be 8 a second.
    assert!(
        calls as f64 <= 16.0 + seconds * 1.0,
        "{calls} ELB calls in {seconds:.1} s: more than a call a second"
    );
    let screen = pty.contents();
    assert!(
        screen.contains("fll-p37") && screen.contains("worse"),
        "{screen}"
    );
    // Pair 12's green starts failing: CloudWatch has the minute a minute later.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(green_fails_now(built, 12, 100.0, 60.0));
    let failing_since = std::time::Instant::now();

    // The account's other tools take every token.
    elb_budget(key, "others=10&tokens=0");
    pty.wait_until_within(patience, "a throttled read", |pty| {
        pty.contents().contains("behind on 50 rows")
    });
    let screen = pty.contents();
    assert!(screen.contains("AWS throttled: next read in"), "{screen}");
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains("fll-p")).collect();
    assert!(rows.len() > 20, "{screen}");
    assert!(
        rows[..2]
            .iter()
            .any(|r| r.contains("fll-p37") && r.contains("worse")),
        "the worse row stays on top: {screen}"
    );
    for row in &rows {
        // What was read before, never a split it did not read; stale unless it was worse.
        assert!(row.contains("90/10"), "{row}");
        assert!(
            row.contains("worse") || (row.contains("stale") && row.contains("throttled")),
            "{row}"
        );
    }
    let (_, throttled, _) = elb_spent(key);
    assert!(throttled > 0);

    // The tokens come back: after its backoff the list reads every row again.
    elb_budget(key, "others=0");
    pty.wait_until_within(patience, "the rows read again", |pty| {
        !pty.contents().contains("behind on")
    });

    // Within a metrics minute of CloudWatch having it (read a few seconds into the next), pair
    // 12 is judged worse and rises to the top with pair 37.
    pty.wait_until_within(Duration::from_secs(120), "pair 12 worse", |pty| {
        pty.contents()
            .lines()
            .filter(|l| l.contains("fll-p"))
            .take(2)
            .any(|l| l.contains("fll-p12") && l.contains("worse"))
    });
    let took = failing_since.elapsed();
    assert!(pty.contents().contains("50 rows, 2 need the eye"));
    eprintln!("pair 12 rose to the top {took:?} after its failing minute was put");
    pty.send(b"q");
    assert!(pty.wait_exit().success());
    elb_budget(key, "off=1");
}

/// `[guard] alarms` in a fleet file: read for every row in one DescribeAlarms, and an alarm
/// in ALARM makes every row whose candidate carries traffic worse, as in its console.
#[tokio::test]
async fn a_fleet_reads_its_alarms_once_for_every_row() {
    let built = build_fleet(
        "fla",
        4,
        &[
            "--clusters",
            "1",
            "--listeners",
            "2",
            "--alarm",
            "fla-orders=ALARM",
            "--alarm",
            "fla-queue=OK",
        ],
    );
    let text = format!(
        "{}\n[guard]\nalarms = [\"fla-orders\", \"fla-queue\"]\n",
        fleet_config(&built)
    );
    let path = write_config("fleet-alarms", &text);
    let (fleet, source) = aws_fleet(&path).await;
    let text = cutover::cmd::fleet::once(&source, &fleet.evidence, true).await;
    let rows: Value = serde_json::from_str(&text).expect("JSON rows");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    for row in rows {
        assert_eq!(row["needs"], "worse", "{row}");
        assert!(
            row["why"]
                .as_str()
                .is_some_and(|w| w.contains("in ALARM: fla-orders")),
            "{row}"
        );
    }
    let calls = source.call_counts();
    let made = calls.get("DescribeAlarms").copied().unwrap_or(0);
    assert!((1..=3).contains(&made), "one call for every row: {calls:?}");
}
