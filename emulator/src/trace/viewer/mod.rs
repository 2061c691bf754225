//! The terminal trace viewer: `emu trace attach ADDR` (live, from
//! [`super::live`]), `emu trace show FILE` (a recorded trace) and
//! `emu trace stats FILE` (a summary, no screen).
//!
//! - [`decode`]: the packet stream, split incrementally.
//! - [`model`]: tracks, events, processes, counters built from packets.
//! - [`ui`]: the screen and keys (ratatui), testable on a `TestBackend`.
//!
//! A reader thread turns the socket or file into packets (and writes each
//! to the `--save` file as received); the screen thread applies them to
//! the model and redraws. docs/tracing-viewer.md is the user's guide.

pub mod decode;
pub mod model;
pub mod ui;

use super::live::{self, ListenAddr, LiveError};
use crate::trace::proto::TracePacket;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use decode::{DecodeError, PacketStream};
use model::{seconds, EventKind, Model};
use ratatui::crossterm::event::{self, Event as TermEvent, KeyEventKind};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use ui::{SourceState, ViewState};

/// Errors of the viewer commands.
#[derive(Debug, thiserror::Error)]
pub enum ViewerError {
    #[error(transparent)]
    Live(#[from] LiveError),
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Decode { path: PathBuf, source: DecodeError },
    #[error("the terminal: {0}")]
    Terminal(std::io::Error),
}

/// What the reader thread tells the screen.
enum SourceMsg {
    Packet(Box<TracePacket>),
    /// The stream ended: cleanly (`None`) or with this error.
    End(Option<String>),
}

/// Reads `input` to its end on a thread of its own, sending packets (and
/// appending each, as received, to `save`).
fn spawn_reader(
    mut input: Box<dyn Read + Send>,
    mut save: Option<std::fs::File>,
) -> Receiver<SourceMsg> {
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        let mut stream = PacketStream::new();
        let mut buf = vec![0u8; 64 * 1024];
        let end = loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break stream.finish().err().map(|e| e.to_string()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => break Some(e.to_string()),
            };
            stream.push(&buf[..n]);
            let mut failed = None;
            loop {
                match stream.next_packet() {
                    Ok(Some(p)) => {
                        if let Some(f) = &mut save {
                            if let Err(e) = f.write_all(&p.raw) {
                                failed = Some(format!("--save: {e}"));
                                break;
                            }
                        }
                        if tx.send(SourceMsg::Packet(Box::new(p.packet))).is_err() {
                            return; // the screen is gone
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some(e.to_string());
                        break;
                    }
                }
            }
            if failed.is_some() {
                break failed;
            }
        };
        if let Some(f) = &mut save {
            let _ = f.flush();
        }
        let _ = tx.send(SourceMsg::End(end));
    });
    rx
}

/// `emu trace attach ADDR [--save FILE]`.
pub fn attach(addr: &str, save: Option<&Path>) -> Result<(), ViewerError> {
    let addr = ListenAddr::parse(addr)?;
    let save_file = match save {
        Some(p) => Some(
            std::fs::File::create(p).map_err(|source| ViewerError::File {
                path: p.into(),
                source,
            })?,
        ),
        None => None,
    };
    let input = live::connect(&addr)?;
    let rx = spawn_reader(input, save_file);
    let mut view = ViewState::new(addr.to_string(), SourceState::Live);
    view.saving = save.map(|p| p.display().to_string());
    run_screen(rx, view)
}

/// `emu trace show FILE`.
pub fn show(path: &Path) -> Result<(), ViewerError> {
    let file = std::fs::File::open(path).map_err(|source| ViewerError::File {
        path: path.into(),
        source,
    })?;
    let rx = spawn_reader(Box::new(std::io::BufReader::new(file)), None);
    let view = ViewState::new(path.display().to_string(), SourceState::File);
    run_screen(rx, view)
}

/// The terminal in raw mode on the alternate screen while this lives;
/// restored on drop and (by ratatui's hook) on panic.
struct Screen(ratatui::DefaultTerminal);

impl Drop for Screen {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// The screen loop: apply what arrived, redraw, handle keys, until `q`.
fn run_screen(rx: Receiver<SourceMsg>, mut view: ViewState) -> Result<(), ViewerError> {
    let mut model = Model::new();
    let mut screen = Screen(ratatui::try_init().map_err(ViewerError::Terminal)?);
    // Not every terminal blanks its alternate screen; the first frame
    // only writes what is not blank.
    ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::terminal::Clear(ratatui::crossterm::terminal::ClearType::All)
    )
    .map_err(ViewerError::Terminal)?;
    let mut source_open = true;
    while !view.quit {
        if source_open {
            // Wait a little for packets when nothing else is going on.
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(m) => source_open = take(&mut model, &mut view, m),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => source_open = false,
            }
            for m in rx.try_iter().take(100_000) {
                source_open &= take(&mut model, &mut view, m);
            }
        }
        screen
            .0
            .draw(|f| view.render(f, &model))
            .map_err(ViewerError::Terminal)?;
        if event::poll(Duration::from_millis(50)).map_err(ViewerError::Terminal)? {
            if let TermEvent::Key(k) = event::read().map_err(ViewerError::Terminal)? {
                if k.kind == KeyEventKind::Press {
                    view.key(k, &model);
                }
            }
        }
    }
    drop(screen);
    Ok(())
}

/// Applies one message; false once the source has ended.
fn take(model: &mut Model, view: &mut ViewState, m: SourceMsg) -> bool {
    match m {
        SourceMsg::Packet(p) => {
            model.apply(&p);
            true
        }
        SourceMsg::End(why) => {
            view.state = match (why, &view.state) {
                (Some(e), _) => SourceState::Ended(e),
                (None, SourceState::File) => SourceState::File,
                (None, _) => SourceState::Ended("the run finished".into()),
            };
            false
        }
    }
}

/// Reads a whole trace file into a model, a chunk at a time.
pub fn load(path: &Path) -> Result<Model, ViewerError> {
    let file_err = |source| ViewerError::File {
        path: path.into(),
        source,
    };
    let decode_err = |source| ViewerError::Decode {
        path: path.into(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(file_err)?;
    let mut stream = PacketStream::new();
    let mut model = Model::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(file_err(e)),
        };
        stream.push(&buf[..n]);
        while let Some(p) = stream.next_packet().map_err(decode_err)? {
            model.apply(&p.packet);
        }
    }
    stream.finish().map_err(decode_err)?;
    Ok(model)
}

/// `emu trace stats FILE`: a summary of a recorded trace.
pub fn stats(path: &Path) -> Result<String, ViewerError> {
    let model = load(path)?;
    Ok(summary(&path.display().to_string(), &model))
}

/// The text `emu trace stats` prints.
pub fn summary(name: &str, m: &Model) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{name}: {} packets ({} track descriptors, {} events)",
        m.packets, m.descriptors, m.events
    );
    match (m.first_timestamp, m.last_timestamp) {
        (Some(a), Some(b)) => {
            let _ = writeln!(
                s,
                "time: {} s .. {} s ({} s)",
                seconds(a),
                seconds(b),
                seconds(b - a)
            );
        }
        _ => {
            let _ = writeln!(s, "time: no timestamps");
        }
    }
    let _ = writeln!(
        s,
        "dropped: {} events ({} markers)",
        m.dropped_events, m.drop_markers
    );
    let _ = writeln!(s, "processes: {}", m.processes.len());
    for p in m.processes.values() {
        let _ = writeln!(s, "  {:>5} {} ({} threads)", p.pid, p.name, p.threads.len());
    }
    let rows = m.track_rows();
    let _ = writeln!(s, "tracks: {}", rows.len());
    let _ = writeln!(
        s,
        "  {:<36} {:>9} {:>9} {:>9} {:>9}",
        "track", "events", "slices", "instants", "counters"
    );
    for (depth, uuid) in rows {
        let t = &m.tracks[&uuid];
        let n = |k| t.counts.get(&k).copied().unwrap_or(0);
        let name = format!("{}{}", "  ".repeat(depth.min(6)), t.name);
        let _ = writeln!(
            s,
            "  {name:<36} {:>9} {:>9} {:>9} {:>9}",
            t.events(),
            n(EventKind::SliceBegin),
            n(EventKind::Instant),
            n(EventKind::Counter)
        );
    }
    s
}
