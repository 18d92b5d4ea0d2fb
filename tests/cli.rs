//! The command line: flags, bad input and exit codes, run as a user would.

use std::process::{Command, Output, Stdio};

fn cutover(args: &[&str]) -> Output {
    let log = format!("{}/cli.log", env!("CARGO_TARGET_TMPDIR"));
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .args(["--log-file", &log])
        .stdin(Stdio::null())
        .output()
        .expect("cutover runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_explains_the_commands_and_flags() {
    let output = cutover(&["--help"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for word in [
        "demo",
        "status",
        "--config",
        "--read-only",
        "--refresh",
        "--log-file",
        "--endpoint-url",
    ] {
        assert!(text.contains(word), "--help mentions {word}:\n{text}");
    }
    let demo = cutover(&["demo", "--help"]);
    let text = String::from_utf8_lossy(&demo.stdout);
    for word in [
        "--scenario",
        "bad-green",
        "slow-green",
        "flaky-api",
        "--speed",
        "--seed",
    ] {
        assert!(text.contains(word), "demo --help mentions {word}:\n{text}");
    }
}

#[test]
fn version_is_printed() {
    let output = cutover(&["--version"]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("cutover {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_demo_flags_name_the_value_and_the_range() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["demo", "--speed", "0"],
            "0 is out of range: --speed takes 0.1 to 100",
        ),
        (&["demo", "--speed", "fast"], "'fast' is not a number"),
        (
            &["demo", "--scenario", "nope"],
            "unknown scenario 'nope': choose one of healthy, bad-green, slow-green, crashy-green, alarm-green, flaky-api",
        ),
        (&["demo", "--refresh", "0"], "0 is out of range: 1 to 3600"),
    ];
    for (args, message) in cases {
        let output = cutover(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_bad_percentage_is_refused_before_anything_runs() {
    for (value, message) in [
        ("150", "150 is out of range"),
        ("abc", "'abc' is not a whole number"),
        ("-5", "-5 is out of range"),
    ] {
        let output = cutover(&["shift", &format!("--green={value}")]);
        assert_eq!(output.status.code(), Some(2), "{value}");
        assert!(
            stderr(&output).contains(message),
            "{value}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn help_documents_the_exit_codes() {
    let output = cutover(&["--help"]);
    let text = String::from_utf8_lossy(&output.stdout);
    for code in [
        "0 done",
        "3 refused by the guard",
        "4 the weights changed outside",
        "5 the plan was rolled back",
        "6 a deploy was not ready in time",
        "130 stopped",
    ] {
        assert!(text.contains(code), "--help explains {code:?}:\n{text}");
    }
}

#[test]
fn aws_commands_without_a_config_say_how_to_write_one() {
    for args in [
        &["status", "--config", "/nonexistent/cutover.toml"][..],
        &["--config", "/nonexistent/cutover.toml"],
    ] {
        let output = cutover(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let text = stderr(&output);
        assert!(
            text.contains("/nonexistent/cutover.toml: no such file"),
            "{args:?}: {text}"
        );
        assert!(text.contains("--config PATH"), "{text}");
    }
}

#[test]
fn the_console_without_a_terminal_fails_cleanly() {
    let output = cutover(&["demo"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("setting up the terminal"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

/// The actions a policy in `assets/iam/` allows, as `service:Action`.
fn policy_actions(name: &str) -> Vec<String> {
    let path = format!("{}/assets/iam/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the policy file");
    let policy: serde_json::Value = serde_json::from_str(&text).expect("the policy is JSON");
    let mut actions = Vec::new();
    for statement in policy["Statement"].as_array().expect("statements") {
        assert_eq!(statement["Effect"], "Allow", "{name}: {statement}");
        match &statement["Action"] {
            serde_json::Value::String(one) => actions.push(one.clone()),
            serde_json::Value::Array(many) => actions.extend(
                many.iter()
                    .map(|a| a.as_str().expect("an action").to_string()),
            ),
            other => panic!("{name}: an Action of {other}"),
        }
    }
    actions
}

#[test]
fn the_iam_policies_allow_every_call_and_no_more_than_their_job() {
    let watch = [
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "ecs:ListClusters",
        "ecs:ListServices",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags",
        "cloudwatch:GetMetricData",
        "cloudwatch:DescribeAlarms",
        "ecs:ListServiceDeployments",
        "ecs:DescribeServiceDeployments",
        "ecs:DescribeServiceRevisions",
    ];
    let lock = [
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:RemoveTags",
    ];
    let traffic = [
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyRule",
        "ecs:ContinueServiceDeployment",
        "ecs:StopServiceDeployment",
    ];
    let deploy = [
        "ecs:RegisterTaskDefinition",
        "ecs:TagResource",
        "ecs:UpdateService",
        "iam:PassRole",
    ];
    let sorted = |parts: &[&[&str]]| {
        let mut all: Vec<String> = parts.concat().iter().map(|a| a.to_string()).collect();
        all.sort();
        all
    };
    let actions = |name: &str| {
        let mut all = policy_actions(name);
        all.sort();
        all
    };
    assert_eq!(actions("watch"), sorted(&[&watch]));
    assert_eq!(actions("operate"), sorted(&[&watch, &lock, &traffic]));
    assert_eq!(actions("deploy"), sorted(&[&watch, &lock, &deploy]));

    let text = std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR")))
        .expect("the README");
    for name in ["watch", "operate", "deploy"] {
        assert!(
            text.contains(&format!("assets/iam/{name}.json")),
            "the README's IAM table names {name}.json"
        );
    }
    for command in ["`scale-idle`", "`adopt`", "`deploy`", "`rollback`"] {
        let table = text
            .split("### IAM permissions")
            .nth(1)
            .and_then(|t| t.split("### Exit codes").next())
            .expect("the IAM section");
        assert!(table.contains(command), "the IAM table covers {command}");
    }
}

#[test]
fn negative_numbers_in_flags_must_be_at_least_zero() {
    for (args, expected) in [
        (
            &["status", "--refresh", "-5"][..],
            "invalid value '-5' for '--refresh <SECONDS>': must be ≥ 1",
        ),
        (
            &["scale-idle", "--to", "-1"][..],
            "invalid value '-1' for '--to <N>': must be ≥ 0",
        ),
        (
            &["deploy", "--image", "x:1", "--timeout", "-3"][..],
            "invalid value '-3' for '--timeout <SECONDS>': must be ≥ 1",
        ),
        (
            &["demo", "--seed", "-2"][..],
            "invalid value '-2' for '--seed <N>': must be ≥ 0",
        ),
    ] {
        let output = cutover(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn the_demo_has_the_headless_commands_on_the_simulator() {
    let audit = format!("{}/demo-headless.jsonl", env!("CARGO_TARGET_TMPDIR"));
    let output = cutover(&[
        "demo",
        "plan",
        "run",
        "--scenario",
        "bad-green",
        "--speed",
        "100",
        "--audit-log",
        &audit,
    ]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the guard rolled back to 100/0: 5xx: green"),
        "{}",
        stderr(&output)
    );
    let output = cutover(&["demo", "shift", "--green", "10", "--audit-log", &audit]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "100/0 → 90/10 (blue/green), read back"
    );
    // ECS-native: the autopilot rolls the bad revision back through ECS (exit 5).
    let output = cutover(&[
        "demo",
        "plan",
        "run",
        "--scenario",
        "native-bad",
        "--speed",
        "100",
        "--audit-log",
        &audit,
    ]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the guard rolled back to 100/0: 5xx: green"),
        "{}",
        stderr(&output)
    );
    let output = cutover(&[
        "demo",
        "continue",
        "--scenario",
        "native-linear",
        "--audit-log",
        &audit,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("ECS shifts green to 20%"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn completions_generate_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _cutover"),
        ("zsh", "#compdef cutover"),
        ("fish", "complete -c cutover"),
    ] {
        let output = cutover(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains(marker), "{shell}: {marker:?} in\n{script}");
        for word in ["init", "status", "deploy", "blue", "config"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
    }
    let output = cutover(&["completions", "tcsh"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unknown shell is bad input"
    );
}

#[test]
fn the_man_page_is_roff_with_every_command() {
    let output = cutover(&["man"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH cutover"),
        "{page}"
    );
    for word in [
        "init",
        "status",
        "demo",
        "completions",
        "\\-\\-config",
        ".SH FILES",
        ".SH ENVIRONMENT",
        "CUTOVER_CONFIG",
        "audit.jsonl",
    ] {
        assert!(page.contains(word), "the man page names {word}");
    }
    // One page: no cutover-init(1) and the like, which are not installed.
    assert!(
        !page.contains("cutover\\-init(1)") && !page.contains("cutover-init(1)"),
        "{page}"
    );
}

#[test]
fn completion_offers_the_scenarios_and_help_sets_global_flags_apart() {
    let output = cutover(&["completions", "bash"]);
    let script = String::from_utf8_lossy(&output.stdout);
    assert!(
        script.contains(
            "compgen -W \"healthy bad-green slow-green crashy-green alarm-green flaky-api native-linear native-canary native-bad\""
        ),
        "--scenario completes its names, not file names"
    );
    let output = cutover(&["status", "--help"]);
    let help = String::from_utf8_lossy(&output.stdout);
    let (own, global) = help
        .split_once("Global options:")
        .expect("a heading for the global flags");
    assert!(
        own.contains("--json") && !own.contains("--profile"),
        "{help}"
    );
    assert!(global.contains("--profile"), "{help}");
}

#[test]
fn every_command_has_a_one_line_help_and_examples() {
    use clap::CommandFactory;
    let mut pending = vec![cutover::cli::Cli::command()];
    let mut seen = 0;
    while let Some(command) = pending.pop() {
        for sub in command.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            seen += 1;
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            assert!(
                !about.trim().is_empty(),
                "{} has a one-line help",
                sub.get_name()
            );
            let examples = sub
                .get_after_help()
                .map(|a| a.to_string())
                .unwrap_or_default();
            assert!(
                examples.contains("Example") && examples.contains("cutover "),
                "{} shows an example: {examples:?}",
                sub.get_name()
            );
            pending.push(sub.clone());
        }
    }
    assert!(seen >= 13, "{seen} commands");
}

#[test]
fn init_with_one_service_for_both_sides_is_the_flags_mistake() {
    let path = format!("{}/init-same.toml", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_file(&path);
    let output = cutover(&[
        "init",
        "--blue",
        "shop/shop-blue",
        "--green",
        "shop/shop-blue",
        "--config",
        &path,
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--blue and --green both name shop/shop-blue"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn demo_fleet_once_lists_the_day_attention_first() {
    let output = cutover(&["demo", "fleet", "--once"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 13, "a header and a dozen rows:\n{table}");
    // The gates that wait come first, then the worse candidates, then the unreadable one;
    // the quiet rows last, unmarked.
    assert!(
        lines[1].starts_with("!") && lines[1].contains("gate waits"),
        "{table}"
    );
    let worse = lines
        .iter()
        .position(|l| l.split_whitespace().any(|w| w == "payments"))
        .unwrap_or(0);
    let stale = lines
        .iter()
        .position(|l| l.split_whitespace().any(|w| w == "notifications"))
        .unwrap_or(0);
    let quiet = lines
        .iter()
        .position(|l| l.split_whitespace().any(|w| w == "checkout"))
        .unwrap_or(0);
    assert!(worse < stale && stale < quiet, "{table}");
    assert!(lines[worse].contains("worse: 5xx"), "{table}");
    assert!(!lines[quiet].starts_with('!'), "{table}");

    let output = cutover(&["demo", "fleet", "--once", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON rows");
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 12);
    assert_eq!(rows[0]["needs"], "gate");
    assert!(
        rows.iter()
            .any(|r| r["name"] == "search" && r["driver"] == "ECS LINEAR 20%")
    );
}
