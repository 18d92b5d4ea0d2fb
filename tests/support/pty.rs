//! The built binary in a real pseudo-terminal, read through a terminal emulator.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const ROWS: u16 = 48;
pub const COLS: u16 = 160;
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The binary running in a pty, with a terminal emulator reading what it draws.
pub struct Pty {
    pub screen: Arc<Mutex<vt100::Parser>>,
    writer: Option<Box<dyn Write + Send>>,
    child: Box<dyn Child + Send + Sync>,
    master: Option<Box<dyn MasterPty + Send>>,
    /// Set to stop the emulator's reader, which holds a descriptor of the pty's master side.
    stop_reading: Arc<AtomicBool>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Pty {
    pub fn spawn(args: &[&str]) -> Pty {
        Pty::spawn_sized(ROWS, COLS, args, &[])
    }

    pub fn spawn_with_env(args: &[&str], env: &[(&str, &str)]) -> Pty {
        Pty::spawn_sized(ROWS, COLS, args, env)
    }

    pub fn spawn_sized(rows: u16, cols: u16, args: &[&str], env: &[(&str, &str)]) -> Pty {
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
        for (key, value) in env {
            command.env(key, value);
        }
        let child = pair.slave.spawn_command(command).expect("cutover starts");
        drop(pair.slave);
        // Our own descriptors of the master side (close-on-exec dups): closing them does no
        // more than close them, where portable-pty's writer types a newline and EOF into the
        // console on drop, and the reader can wait on its own descriptor.
        let master_fd = pair.master.as_raw_fd().expect("the pty's descriptor");
        // SAFETY: the master is open for the whole of this function.
        let master_fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(master_fd) };
        let dup = || {
            std::fs::File::from(
                master_fd
                    .try_clone_to_owned()
                    .expect("a descriptor of the pty"),
            )
        };
        let (mut reader, writer) = (dup(), dup());
        let screen = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let feed = Arc::clone(&screen);
        let stop_reading = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stop_reading);
        let reader = thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while !stop.load(Ordering::SeqCst) {
                // Waits a little for output at a time, so that a hang-up can stop this reader
                // (and close its descriptor) without the child writing anything.
                let mut ready = [rustix::event::PollFd::new(
                    &reader,
                    rustix::event::PollFlags::IN,
                )];
                let wait = rustix::event::Timespec {
                    tv_sec: 0,
                    tv_nsec: 50_000_000,
                };
                match rustix::event::poll(&mut ready, Some(&wait)) {
                    Ok(0) => continue,
                    Ok(_) => {}
                    Err(_) => break,
                }
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => feed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .process(&buf[..n]),
                }
            }
        });
        Pty {
            screen,
            writer: Some(Box::new(writer)),
            child,
            master: Some(pair.master),
            stop_reading,
            reader: Some(reader),
        }
    }

    /// The terminal goes away, as when an SSH session drops: every descriptor of the pty's
    /// master side is closed, and the kernel hangs up cutover's terminal (SIGHUP, then EIO on
    /// its reads and writes).
    /// The reader goes on draining output until it stops (within 50 ms), as a terminal does
    /// until it is gone: the console is never left blocked on a full pty.
    pub fn hang_up(&mut self) {
        self.stop_reading.store(true, Ordering::SeqCst);
        self.writer = None;
        self.master = None;
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }

    pub fn contents(&self) -> String {
        self.screen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .screen()
            .contents()
    }

    pub fn wait_for(&self, needle: &str) -> String {
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

    pub fn send(&mut self, bytes: &[u8]) {
        let writer = self.writer.as_mut().expect("the pty is still there");
        writer.write_all(bytes).expect("typing into the pty");
        writer.flush().expect("flushing the pty");
        // Keys typed one after another, as a person would; a lone Esc must not run into the
        // next byte or it reads as Alt+key.
        thread::sleep(Duration::from_millis(150));
    }

    /// Sends `signal` (`TERM`, `INT`, `HUP`) to cutover, as `kill -SIGNAL` would.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.process_id().expect("cutover's process id");
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("cutover's process id")
    }

    /// Whether the terminal is in line mode (ICANON and ECHO on): raw mode given back.
    pub fn cooked(&self) -> bool {
        use std::os::fd::BorrowedFd;
        let fd = self
            .master
            .as_ref()
            .and_then(|m| m.as_raw_fd())
            .expect("the pty's descriptor");
        // The master lives as long as `self`.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let modes = rustix::termios::tcgetattr(fd)
            .expect("the pty's modes")
            .local_modes;
        modes.contains(rustix::termios::LocalModes::ICANON | rustix::termios::LocalModes::ECHO)
    }

    /// The process state letter of /proc (`T` stopped, `S` sleeping, …).
    pub fn process_state(&self) -> char {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // "pid (comm) S …": the state follows the closing parenthesis.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .unwrap_or('?')
    }

    /// Waits until `check` holds, or fails with `what` and the screen.
    pub fn wait_until(&self, what: &str, check: impl Fn(&Pty) -> bool) {
        self.wait_until_within(PATIENCE, what, check);
    }

    /// The same, for something that takes longer than `PATIENCE` by design (a backoff).
    pub fn wait_until_within(&self, patience: Duration, what: &str, check: impl Fn(&Pty) -> bool) {
        let deadline = Instant::now() + patience;
        while !check(self) {
            assert!(
                Instant::now() < deadline,
                "waited for {what}; the screen shows:\n{}",
                self.contents()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn alternate_screen(&self) -> bool {
        self.screen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .screen()
            .alternate_screen()
    }

    pub fn cursor_hidden(&self) -> bool {
        self.screen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .screen()
            .hide_cursor()
    }

    /// `q`, and a second `q` if cutover asks first (a split or a plan would be left
    /// unwatched): the console quits either way.
    pub fn quit(&mut self) {
        self.send(b"q");
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if self.contents().contains("Quit and leave it unwatched?") {
                self.send(b"q");
                return;
            }
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
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
        self.stop_reading.store(true, Ordering::SeqCst);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}
