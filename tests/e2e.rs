//! End to end: the built binary in a real pseudo-terminal, keys in, screen text out.

mod support;

use std::thread;
use std::time::{Duration, Instant};

use support::pty::{PATIENCE, Pty};

fn log_file(name: &str) -> String {
    format!("{}/{name}.log", env!("CARGO_TARGET_TMPDIR"))
}

/// The texts of the demo's decision records written beside `audit`.
fn decision_records(audit: &str) -> Vec<String> {
    let folder = std::path::Path::new(audit).parent().expect("a folder");
    std::fs::read_dir(folder)
        .expect("the audit folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("demo-decision-"))
        })
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

/// The demo at 20×, green up, after a first 10% applied by hand (`l`, Enter).
fn demo_at_90_10(name: &str, audit: &str) -> Pty {
    let mut pty = Pty::spawn(&[
        "demo",
        "--speed",
        "20",
        "--log-file",
        &log_file(name),
        "--audit-log",
        audit,
    ]);
    pty.wait_for("(service shop-green) has reached a steady state.");
    pty.send(b"l");
    pty.send(b"\r");
    pty.wait_for("apply: read back 90/10");
    pty
}

#[test]
fn the_demo_moves_traffic_rolls_back_shows_help_and_quits_cleanly() {
    let log = log_file("e2e-demo");
    let audit_dir = format!("{}/e2e-audit", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_dir_all(&audit_dir);
    let audit = format!("{audit_dir}/audit.jsonl");
    let cast = format!("{}/e2e-demo.cast", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_file(&cast);
    let mut pty = Pty::spawn(&[
        "demo",
        "--speed",
        "20",
        "--seed",
        "3",
        "--log-file",
        &log,
        "--audit-log",
        &audit,
        "--record",
        &cast,
    ]);
    pty.wait_for("BLUE 100%");
    pty.wait_for("(service shop-green) has reached a steady state.");
    assert!(
        pty.screen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .screen()
            .alternate_screen()
    );

    pty.send(b"l");
    pty.wait_for("▲ staged green 10%");
    pty.send(b"\r");
    let screen = pty.wait_for("apply: read back 90/10");
    assert!(screen.contains("BLUE  90%"), "{screen}");

    pty.send(b"R");
    let screen = pty.wait_for("rollback: read back 100/0");
    assert!(screen.contains("BLUE 100%"), "{screen}");

    pty.send(b"?");
    pty.wait_for("roll back: all traffic to the live side, at once");
    pty.send(b"\x1b");
    let deadline = Instant::now() + PATIENCE;
    while pty.contents().contains("closes it.") {
        assert!(Instant::now() < deadline, "Esc did not close the help");
        thread::sleep(Duration::from_millis(50));
    }

    pty.send(b"q");
    let status = pty.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    pty.wait_until("the terminal restored", |p| !p.alternate_screen());
    let logged = std::fs::read_to_string(&log).expect("the log file was written");
    assert!(logged.contains("apply 100/0 → 90/10"), "{logged}");
    // Every write attempt is one JSON line; the session's writes leave a decision record.
    let (attempts, lines): (Vec<serde_json::Value>, Vec<serde_json::Value>) =
        std::fs::read_to_string(&audit)
            .expect("the audit log was written")
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
            .partition(|l| l["result"] == "attempt");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        attempts.len(),
        2,
        "each write was announced ahead of its call: {attempts:?}"
    );
    assert_eq!(
        (lines[0]["action"].as_str(), lines[0]["result"].as_str()),
        (Some("apply"), Some("applied"))
    );
    assert_eq!(lines[0]["to"]["green"], 10);
    assert_eq!(
        (lines[1]["action"].as_str(), lines[1]["result"].as_str()),
        (Some("rollback"), Some("applied"))
    );
    assert!(
        lines[0]["actor"]
            .as_str()
            .is_some_and(|a| a.ends_with("(demo)"))
    );
    let records = decision_records(&audit);
    assert_eq!(records.len(), 1, "one decision record, named as the demo's");
    let record = &records[0];
    assert!(
        record.starts_with("# cutover demo decision record (simulated"),
        "{record}"
    );
    assert!(
        record.contains("| apply | 100/0 → 90/10 | Applied |"),
        "{record}"
    );
    // What the operator saw, as an asciicast v2 file the decision record names.
    assert!(record.contains(&format!("recorded to {cast}")), "{record}");
    let text = std::fs::read_to_string(&cast).expect("the recording");
    let mut lines = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"));
    let header = lines.next().expect("a header");
    assert_eq!(header["version"], 2);
    assert!(
        header["width"].as_u64().is_some_and(|w| w >= 80),
        "{header}"
    );
    let frames: Vec<serde_json::Value> = lines.collect();
    // Replayed as a terminal would: every screen the operator saw, in order.
    let size = |key: &str| header[key].as_u64().unwrap_or(0) as u16;
    let mut terminal = vt100::Parser::new(size("height"), size("width"), 0);
    let screens: Vec<String> = frames
        .iter()
        .filter(|f| f[1] == "o")
        .filter_map(|f| f[2].as_str())
        .map(|bytes| {
            terminal.process(bytes.as_bytes());
            terminal.screen().contents()
        })
        .collect();
    for seen in [
        "BLUE 100%",
        "apply: read back 90/10",
        "rollback: read back 100/0",
    ] {
        assert!(
            screens.iter().any(|s| s.contains(seen)),
            "the recording lacks {seen:?}"
        );
    }
    let times: Vec<f64> = frames.iter().filter_map(|f| f[0].as_f64()).collect();
    assert!(
        times.windows(2).all(|t| t[0] <= t[1]) && times.len() > 3,
        "timed frames in order: {times:?}"
    );
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    let audit = log_file("e2e-ctrl-c-audit");
    let mut pty = Pty::spawn(&[
        "demo",
        "--log-file",
        &log_file("e2e-ctrl-c"),
        "--audit-log",
        &audit,
    ]);
    pty.wait_for("BLUE");
    pty.send(b"\x03");
    assert!(pty.wait_exit().success());
    pty.wait_until("the main screen back", |p| !p.alternate_screen());
}

#[test]
fn a_tiny_terminal_says_so() {
    let audit = log_file("e2e-small-audit");
    let mut pty = Pty::spawn_sized(
        20,
        70,
        &[
            "demo",
            "--log-file",
            &log_file("e2e-small"),
            "--audit-log",
            &audit,
        ],
        &[],
    );
    pty.wait_for("the console needs 80×24");
    pty.send(b"q");
    assert!(
        pty.wait_exit().success(),
        "q quits from the too-small screen"
    );
}

#[test]
fn a_bracketed_paste_lands_in_the_prompt_as_text_and_writes_nothing() {
    let audit = log_file("e2e-paste-audit");
    let _ = std::fs::remove_file(&audit);
    let mut pty = Pty::spawn(&[
        "demo",
        "--speed",
        "20",
        "--log-file",
        &log_file("e2e-paste"),
        "--audit-log",
        &audit,
    ]);
    pty.wait_for("(service shop-green) has reached a steady state.");
    let pasting = |pty: &Pty| {
        pty.screen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .screen()
            .bracketed_paste()
    };
    assert!(pasting(&pty), "the console turns bracketed paste on");
    pty.send(b"%");
    pty.wait_for("Enter");
    // What a terminal sends for a paste of "60⏎⏎y" once bracketed paste is on.
    pty.send(b"\x1b[200~60\r\ry\x1b[201~");
    let screen = pty.wait_for("60y");
    assert!(screen.contains("BLUE 100%"), "nothing applied: {screen}");
    assert!(!screen.contains("staged"), "nothing staged: {screen}");
    pty.send(b"\x1b");
    pty.send(b"q");
    assert!(pty.wait_exit().success());
    // What the process wrote last reaches the emulator through its reader thread.
    pty.wait_until("bracketed paste off again on quit", |p| !pasting(p));
    assert!(
        std::fs::read_to_string(&audit)
            .unwrap_or_default()
            .is_empty(),
        "no write was audited"
    );
}

/// The terminal as a shell needs it back: main screen, cursor shown, line mode.
fn restored(pty: &Pty) -> bool {
    !pty.alternate_screen() && !pty.cursor_hidden() && pty.cooked()
}

/// The console's own: alternate screen, cursor hidden, raw mode.
fn taken(pty: &Pty) -> bool {
    pty.alternate_screen() && pty.cursor_hidden() && !pty.cooked()
}

#[test]
fn ctrl_z_gives_the_terminal_back_and_fg_resumes_in_raw_mode() {
    let audit = log_file("e2e-ctrl-z-audit");
    let mut pty = Pty::spawn(&[
        "demo",
        "--log-file",
        &log_file("e2e-ctrl-z"),
        "--audit-log",
        &audit,
    ]);
    pty.wait_for("BLUE");
    // The screen's words can reach the emulator before the escape that hides the cursor.
    pty.wait_until("the console taking the terminal", taken);
    for stop in ["Ctrl-Z", "TSTP"] {
        if stop == "Ctrl-Z" {
            pty.send(b"\x1a");
        } else {
            pty.signal(stop);
        }
        pty.wait_until(&format!("{stop} to stop the process"), |p| {
            p.process_state() == 'T'
        });
        // The process stops after it gave the terminal back; what it wrote reaches the
        // emulator through a reader thread, which a loaded machine may run a moment later.
        pty.wait_until(&format!("{stop}: the terminal given back first"), restored);
        assert!(pty.contents().contains("fg resumes"), "{}", pty.contents());
        // What `fg` does.
        pty.signal("CONT");
        pty.wait_until(&format!("the console back after {stop}"), |p| {
            taken(p) && p.contents().contains("BLUE")
        });
        // Raw mode: a key acts at once, no Enter needed.
        pty.send(b"?");
        pty.wait_for("closes it.");
        pty.send(b"\x1b");
    }
    pty.send(b"q");
    assert!(pty.wait_exit().success());
}

#[test]
fn kill_int_stops_with_130_and_restores_the_terminal() {
    let audit = log_file("e2e-kill-int-audit");
    let mut pty = Pty::spawn(&[
        "demo",
        "--log-file",
        &log_file("e2e-kill-int"),
        "--audit-log",
        &audit,
    ]);
    pty.wait_for("BLUE");
    pty.signal("INT");
    let status = pty.wait_exit();
    assert_eq!(status.exit_code(), 130, "a signal from outside is a stop");
    pty.wait_until("main screen, cursor shown, line mode", restored);
}

#[test]
fn q_mid_plan_asks_and_the_exit_says_what_is_left_unwatched() {
    let audit = log_file("e2e-quit-plan-audit");
    let _ = std::fs::remove_file(&audit);
    let mut pty = Pty::spawn(&[
        "demo",
        "--speed",
        "3",
        "--log-file",
        &log_file("e2e-quit-plan"),
        "--audit-log",
        &audit,
    ]);
    pty.wait_for("(service shop-green) has reached a steady state.");
    pty.send(b"a");
    pty.wait_for("plan step: read back 90/10");
    pty.send(b"q");
    pty.wait_for("Quit and leave it unwatched?");
    let screen = pty.wait_for("pause first");
    assert!(screen.contains("A plan is running at 90/10"), "{screen}");
    // Read, then answered.
    thread::sleep(Duration::from_millis(600));
    pty.send(b"y");
    assert!(pty.wait_exit().success());
    let screen = pty.wait_for("cutover: left 90/10 (blue/green) as last read");
    assert!(screen.contains("plan stopped while"), "{screen}");
    let record = decision_records(&audit)
        .into_iter()
        .find(|text| text.contains("left 90/10 (blue/green) as last read; plan stopped"));
    assert!(
        record.is_some(),
        "the decision record says where traffic was left"
    );
}

#[test]
fn r_typed_in_a_field_is_a_letter_and_ctrl_r_rolls_back_from_it() {
    let audit = log_file("e2e-fields-audit");
    let _ = std::fs::remove_file(&audit);
    let mut pty = demo_at_90_10("e2e-fields", &audit);
    // The event log's filter takes R as text: nothing is written, the filter shows it.
    pty.send(b"/");
    pty.send(b"R");
    pty.wait_for("filter: R");
    pty.send(b"\x1b");
    // So does the % field: "2R" is no share, and no rollback.
    pty.send(b"%");
    pty.send(b"2R");
    let screen = pty.wait_for("> 2R");
    assert!(screen.contains("BLUE  90%"), "{screen}");
    // Ctrl-R rolls back from inside the field.
    pty.send(b"\x12");
    pty.wait_for("rollback: read back 100/0");
    pty.quit();
    assert!(pty.wait_exit().success());
    let actions: Vec<String> = std::fs::read_to_string(&audit)
        .expect("the audit log")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["result"] != "attempt")
        .filter_map(|l| l["action"].as_str().map(String::from))
        .collect();
    assert_eq!(actions, ["apply", "rollback"], "no write from typing");
}

#[test]
fn a_terminal_that_goes_away_still_audits_releases_and_writes_the_record() {
    let dir = format!("{}/e2e-hangup", env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::remove_dir_all(&dir);
    let audit = format!("{dir}/audit.jsonl");
    let mut pty = demo_at_90_10("e2e-hangup", &audit);
    // The SSH session drops: the pty's master side is closed under the running console.
    pty.hang_up();
    let status = pty.wait_exit();
    assert_eq!(
        status.exit_code(),
        130,
        "the hang-up ends the run as a signal: {status:?}"
    );
    let record = decision_records(&audit)
        .pop()
        .expect("a decision record, written with nobody to read the screen");
    assert!(
        record.contains("left 90/10 (blue/green) as last read"),
        "{record}"
    );
}
