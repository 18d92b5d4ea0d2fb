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
            "unknown scenario 'nope': choose one of healthy, bad-green, slow-green, flaky-api",
        ),
        (&["demo", "--refresh", "0"], "0 is not in 1..=3600"),
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
