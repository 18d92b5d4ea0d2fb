//! Turns a recording (`cutover demo --record FILE`, asciicast v2) into an animated SVG: the
//! README's picture of the demo. Each screen the terminal showed is replayed through a terminal
//! emulator and drawn as text; the frames take turns on a loop.
//!
//!     cargo run --example cast_svg -- assets/demo.cast assets/demo.svg
//!
//! Pauses longer than two seconds are shortened to two, and frames closer than half a second
//! are merged, so the picture stays small and moves at a reading pace.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde_json::Value;

const CELL_WIDTH: f64 = 8.4;
const CELL_HEIGHT: f64 = 17.0;
const FONT_SIZE: f64 = 14.0;
const LONGEST_PAUSE: f64 = 2.0;
const SHORTEST_FRAME: f64 = 0.5;
const BACKGROUND: &str = "#1d1f21";
const FOREGROUND: &str = "#d0d0d0";

/// The 16 colours of the terminal, as a dark theme draws them.
const PALETTE: [&str; 16] = [
    "#1d1f21", "#cc6666", "#8fb35a", "#d7b95f", "#5f8fd7", "#b294bb", "#5fafaf", "#c5c8c6",
    "#666666", "#ff7b7b", "#b5e07a", "#f0d070", "#82aaff", "#d7a6e0", "#8ad8d8", "#ffffff",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: cast_svg INPUT.cast OUTPUT.svg");
        return ExitCode::from(2);
    };
    match convert(input, output) {
        Ok(frames) => {
            println!("{output}: {frames} frames");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("cast_svg: {why}");
            ExitCode::FAILURE
        }
    }
}

/// One screen as shown, and for how long.
struct Frame {
    at: f64,
    screen: vt100::Screen,
}

fn convert(input: &str, output: &str) -> Result<usize, String> {
    let text = std::fs::read_to_string(input).map_err(|e| format!("reading {input}: {e}"))?;
    let mut lines = text.lines();
    let header: Value = lines
        .next()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("{input} has no asciicast header line"))?;
    let size = |key: &str| {
        header[key]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| format!("the header has no {key}"))
    };
    let (width, height) = (size("width")?, size("height")?);
    let mut terminal = vt100::Parser::new(height, width, 0);
    let mut frames: Vec<Frame> = Vec::new();
    let (mut clock, mut last) = (0.0_f64, 0.0_f64);
    for line in lines {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(time), Some(kind), Some(data)) =
            (event[0].as_f64(), event[1].as_str(), event[2].as_str())
        else {
            continue;
        };
        clock += (time - last).min(LONGEST_PAUSE);
        last = time;
        match kind {
            "o" => terminal.process(data.as_bytes()),
            "r" => {
                if let Some((w, h)) = data.split_once('x')
                    && let (Ok(w), Ok(h)) = (w.parse(), h.parse())
                {
                    terminal.screen_mut().set_size(h, w);
                }
                continue;
            }
            _ => continue,
        }
        let screen = terminal.screen().clone();
        match frames.last_mut() {
            // Merged into the frame before: shown too briefly to read.
            Some(previous) if clock - previous.at < SHORTEST_FRAME => previous.screen = screen,
            Some(previous)
                if previous.screen.contents_formatted() == screen.contents_formatted() => {}
            _ => frames.push(Frame { at: clock, screen }),
        }
    }
    if frames.is_empty() {
        return Err(format!("{input} shows nothing"));
    }
    let total = clock.max(frames.last().map_or(0.0, |f| f.at)) + LONGEST_PAUSE;
    let svg = render(&frames, width, height, total);
    std::fs::write(output, svg).map_err(|e| format!("writing {output}: {e}"))?;
    Ok(frames.len())
}

fn color(color: vt100::Color, default: &str) -> String {
    match color {
        vt100::Color::Default => default.to_string(),
        vt100::Color::Idx(i) if usize::from(i) < PALETTE.len() => PALETTE[usize::from(i)].into(),
        // The 6×6×6 cube and the greys of the 256-colour palette.
        vt100::Color::Idx(i) if i >= 232 => {
            let level = 8 + 10 * (u32::from(i) - 232);
            format!("#{level:02x}{level:02x}{level:02x}")
        }
        vt100::Color::Idx(i) => {
            let i = u32::from(i) - 16;
            let step = |n: u32| if n == 0 { 0 } else { 55 + 40 * n };
            format!(
                "#{:02x}{:02x}{:02x}",
                step(i / 36),
                step(i / 6 % 6),
                step(i % 6)
            )
        }
        vt100::Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A cell's look: foreground, background, bold.
fn look(cell: &vt100::Cell) -> (String, String, bool) {
    let (mut fg, mut bg) = (
        color(cell.fgcolor(), FOREGROUND),
        color(cell.bgcolor(), BACKGROUND),
    );
    if cell.inverse() {
        std::mem::swap(&mut fg, &mut bg);
    }
    (fg, bg, cell.bold())
}

/// The frames on one loop. Each frame draws only the rows that changed since the one before,
/// over a blank row, and stays until the loop ends: a later frame paints over what changed, so
/// the picture stays a fraction of the size of whole frames.
fn render(frames: &[Frame], width: u16, height: u16, total: f64) -> String {
    let (w, h) = (
        f64::from(width) * CELL_WIDTH,
        f64::from(height) * CELL_HEIGHT,
    );
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
         viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"DejaVu Sans Mono,Menlo,Consolas,monospace\" \
         font-size=\"{FONT_SIZE}\">\n<rect width=\"100%\" height=\"100%\" fill=\"{BACKGROUND}\"/>\n\
         <rect width=\"0\" height=\"0\"><animate id=\"loop\" attributeName=\"width\" from=\"0\" \
         to=\"0\" dur=\"{total:.2}s\" begin=\"0s;loop.end\"/></rect>\n"
    );
    let mut shown: Vec<Vec<Run>> = vec![Vec::new(); usize::from(height)];
    for frame in frames {
        let mut rows = String::new();
        for row in 0..height {
            let runs = runs(&frame.screen, row, width);
            let slot = &mut shown[usize::from(row)];
            if *slot != runs {
                rows.push_str(&row_svg(&runs, row, width));
                *slot = runs;
            }
        }
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            svg,
            "<g visibility=\"hidden\"><set attributeName=\"visibility\" to=\"visible\" \
             begin=\"loop.begin+{:.2}s\" dur=\"{:.2}s\"/>",
            frame.at,
            (total - frame.at).max(0.01)
        );
        svg.push_str(&rows);
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

/// A stretch of one row in one look: (foreground, background, bold), its first column, its
/// text.
type Run = ((String, String, bool), u16, String);

fn runs(screen: &vt100::Screen, row: u16, width: u16) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for col in 0..width {
        let Some(cell) = screen.cell(row, col) else {
            continue;
        };
        if cell.is_wide_continuation() {
            continue;
        }
        let text = if cell.has_contents() {
            cell.contents().to_string()
        } else {
            " ".to_string()
        };
        let look = look(cell);
        match runs.last_mut() {
            Some((last, _, run)) if *last == look => run.push_str(&text),
            _ => runs.push((look, col, text)),
        }
    }
    runs
}

/// One row over a blank one: background runs as rectangles, text runs as text of one look.
fn row_svg(runs: &[Run], row: u16, width: u16) -> String {
    let y = f64::from(row) * CELL_HEIGHT;
    let mut out = format!(
        "<rect y=\"{y:.1}\" width=\"{:.1}\" height=\"{CELL_HEIGHT}\" fill=\"{BACKGROUND}\"/>\n",
        f64::from(width) * CELL_WIDTH
    );
    for ((_, bg, _), col, run) in runs {
        if bg != BACKGROUND {
            let _ = writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{CELL_HEIGHT}\" fill=\"{bg}\"/>",
                f64::from(*col) * CELL_WIDTH,
                run.chars().count() as f64 * CELL_WIDTH
            );
        }
    }
    let baseline = y + CELL_HEIGHT * 0.78;
    for ((fg, _, bold), col, run) in runs {
        if run.trim().is_empty() {
            continue;
        }
        let weight = if *bold { " font-weight=\"bold\"" } else { "" };
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{baseline:.1}\" fill=\"{fg}\"{weight} \
             xml:space=\"preserve\" textLength=\"{:.1}\">{}</text>",
            f64::from(*col) * CELL_WIDTH,
            run.chars().count() as f64 * CELL_WIDTH,
            escape(run)
        );
    }
    out
}
