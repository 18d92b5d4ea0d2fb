//! End to end: the built binary in a real pseudo-terminal, keys in, screen text out.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const ROWS: u16 = 48;
const COLS: u16 = 160;
const PATIENCE: Duration = Duration::from_secs(20);

/// The binary running in a pty, with a terminal emulator reading what it draws.
struct Pty {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
}

impl Pty {
    fn spawn(args: &[&str]) -> Pty {
        Pty::spawn_sized(ROWS, COLS, args)
    }

    fn spawn_sized(rows: u16, cols: u16, args: &[&str]) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_cutover"));
        command.args(args);
        command.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(command).expect("cutover starts");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let feed = Arc::clone(&screen);
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .process(&buf[..n]);
            }
        });
        Pty {
            screen,
            writer,
            child,
            _master: pair.master,
        }
    }

    fn contents(&self) -> String {
        self.screen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .screen()
            .contents()
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let contents = self.contents();
            if contents.contains(needle) {
                return contents;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {needle:?}; the screen shows:\n{contents}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("typing into the pty");
        self.writer.flush().expect("flushing the pty");
        // Keys typed one after another, as a person would; a lone Esc must not run into the
        // next byte or it reads as Alt+key.
        thread::sleep(Duration::from_millis(150));
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "cutover did not exit; screen:\n{}",
                self.contents()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn log_file(name: &str) -> String {
    format!("{}/{name}.log", env!("CARGO_TARGET_TMPDIR"))
}

#[test]
fn the_demo_moves_traffic_rolls_back_shows_help_and_quits_cleanly() {
    let log = log_file("e2e-demo");
    let mut pty = Pty::spawn(&["demo", "--speed", "20", "--seed", "3", "--log-file", &log]);
    pty.wait_for("BLUE 100%");
    pty.wait_for("has reached a steady state.");
    assert!(
        pty.screen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .screen()
            .alternate_screen()
    );

    pty.send(b"l");
    pty.wait_for("▲ staged 10% green");
    pty.send(b"\r");
    let screen = pty.wait_for("apply: read back 90/10");
    assert!(screen.contains("BLUE  90%"), "{screen}");

    pty.send(b"R");
    let screen = pty.wait_for("rollback: read back 100/0");
    assert!(screen.contains("BLUE 100%"), "{screen}");

    pty.send(b"?");
    pty.wait_for("roll back: all traffic to blue, at once");
    pty.send(b"\x1b");
    let deadline = Instant::now() + PATIENCE;
    while pty.contents().contains("closes this help") {
        assert!(Instant::now() < deadline, "Esc did not close the help");
        thread::sleep(Duration::from_millis(50));
    }

    pty.send(b"q");
    let status = pty.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    thread::sleep(Duration::from_millis(200));
    let parser = pty.screen.lock().unwrap_or_else(|p| p.into_inner());
    assert!(
        !parser.screen().alternate_screen(),
        "the terminal was restored"
    );
    drop(parser);
    let logged = std::fs::read_to_string(&log).expect("the log file was written");
    assert!(logged.contains("apply 100/0 → 90/10"), "{logged}");
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    let mut pty = Pty::spawn(&["demo", "--log-file", &log_file("e2e-ctrl-c")]);
    pty.wait_for("BLUE");
    pty.send(b"\x03");
    assert!(pty.wait_exit().success());
    thread::sleep(Duration::from_millis(200));
    assert!(
        !pty.screen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .screen()
            .alternate_screen()
    );
}

#[test]
fn a_tiny_terminal_says_so() {
    let mut pty = Pty::spawn_sized(20, 70, &["demo", "--log-file", &log_file("e2e-small")]);
    pty.wait_for("terminal too small");
    pty.send(b"q");
    assert!(
        pty.wait_exit().success(),
        "q quits from the too-small screen"
    );
}
