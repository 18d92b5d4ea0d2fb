//! `--record FILE`: what the console showed, as an asciicast v2 file (asciinema's format: a
//! JSON header line, then one `[seconds, "o", text]` line per frame written to the terminal),
//! so a release can be replayed as the operator saw it (`asciinema play FILE`).

use std::fs::File;
use std::io::{self, BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;

/// The cast being written: frames as the terminal got them, with the time since the start.
pub struct Recorder {
    path: PathBuf,
    file: BufWriter<File>,
    started: Instant,
    /// Bytes of the frame being drawn, written as one event when the terminal is flushed (a
    /// frame's UTF-8 is never split across events).
    pending: Vec<u8>,
    size: (u16, u16),
}

impl Recorder {
    /// Creates `path` (truncating it) and writes the header with the terminal's size now.
    pub fn create(path: &Path, size: (u16, u16)) -> anyhow::Result<Recorder> {
        let file = File::create(path)
            .with_context(|| format!("creating the recording {}", path.display()))?;
        let mut file = BufWriter::new(file);
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let header = serde_json::json!({
            "version": 2,
            "width": size.0,
            "height": size.1,
            "timestamp": timestamp,
            "title": "cutover",
            "env": {"TERM": std::env::var("TERM").unwrap_or_default()},
        });
        writeln!(file, "{header}")
            .and_then(|()| file.flush())
            .with_context(|| format!("writing the recording {}", path.display()))?;
        Ok(Recorder {
            path: path.to_path_buf(),
            file,
            started: Instant::now(),
            pending: Vec::new(),
            size,
        })
    }

    fn event(&mut self, kind: &str, data: &str) -> io::Result<()> {
        let seconds = self.started.elapsed().as_secs_f64();
        let line = serde_json::json!([(seconds * 1e6).round() / 1e6, kind, data]);
        writeln!(self.file, "{line}")
    }

    /// Ends the frame: a resize first if the terminal changed size, then what was drawn.
    fn frame(&mut self, size: Option<(u16, u16)>) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if let Some(size) = size.filter(|s| *s != self.size) {
            self.size = size;
            self.event("r", &format!("{}x{}", size.0, size.1))?;
        }
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        self.event("o", &text)?;
        self.file.flush()
    }
}

/// The console's terminal output: the terminal, and the recording when there is one. A
/// recording that cannot be written is given up with a warning; the console goes on.
pub struct Output {
    stdout: Stdout,
    recorder: Option<Recorder>,
}

impl Output {
    pub fn new(recorder: Option<Recorder>) -> Output {
        Output {
            stdout: io::stdout(),
            recorder,
        }
    }

    fn give_up(&mut self, error: &io::Error) {
        if let Some(recorder) = self.recorder.take() {
            tracing::warn!("the recording {} stopped: {error}", recorder.path.display());
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.stdout.write(buf)?;
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.pending.extend_from_slice(&buf[..written]);
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.stdout.flush();
        if let Some(recorder) = self.recorder.as_mut() {
            let size = crossterm::terminal::size().ok();
            if let Err(error) = recorder.frame(size) {
                self.give_up(&error);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cast_is_a_header_then_timed_frames_whole_and_resizes() {
        let path = std::env::temp_dir().join(format!("cutover-cast-{}.cast", std::process::id()));
        let mut recorder = Recorder::create(&path, (80, 24)).expect("a recording");
        recorder
            .pending
            .extend_from_slice("blue 90% · gr".as_bytes());
        recorder.pending.extend_from_slice("een 10%".as_bytes());
        recorder.frame(Some((80, 24))).expect("a frame");
        recorder.pending.extend_from_slice(b"\x1b[2J");
        recorder.frame(Some((100, 30))).expect("a frame");
        recorder
            .frame(Some((100, 30)))
            .expect("nothing drawn: no event");
        drop(recorder);
        let text = std::fs::read_to_string(&path).expect("the cast");
        let _ = std::fs::remove_file(&path);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(lines[0]["width"], 80);
        assert_eq!(lines[1][1], "o");
        assert_eq!(lines[1][2], "blue 90% · green 10%");
        assert_eq!(lines[2][1], "r");
        assert_eq!(lines[2][2], "100x30");
        assert_eq!(lines[3][2], "\u{1b}[2J");
        assert!(lines[3][0].as_f64() >= lines[1][0].as_f64());
    }
}
