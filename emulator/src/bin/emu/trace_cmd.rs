//! `emu trace attach|show|stats` (the viewer, `emulator::trace::viewer`)
//! and `emu run --trace-listen` (the live server,
//! `emulator::trace::live`). docs/tracing-viewer.md is the guide.

use clap::Subcommand;
use emulator::trace::live::{ListenAddr, LiveServer};
use emulator::trace::viewer;
use emulator::trace::TraceSink;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct TraceArgs {
    #[command(subcommand)]
    command: TraceCommand,
}

#[derive(Subcommand)]
enum TraceCommand {
    /// Attaches to a running `emu run --trace-listen ADDR` and shows its
    /// trace live: tracks, events, counters, the guest's processes.
    ///
    /// Keys: up/down select a track, / filters by text, k cycles the
    /// event kind, space pauses, PgUp/PgDn scroll, End follows again,
    /// q quits.
    Attach {
        /// HOST:PORT (loopback TCP) or a Unix socket (unix:PATH, or any
        /// path with a '/').
        addr: String,
        /// Also record what is received into this Perfetto trace file.
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
    },
    /// Browses a recorded trace (`emu run --trace FILE`, or `--save`) in
    /// the same viewer.
    Show {
        /// A Perfetto trace file.
        file: PathBuf,
    },
    /// Prints a summary of a recorded trace: packets, time span, dropped
    /// events, processes, and each track's event counts.
    Stats {
        /// A Perfetto trace file.
        file: PathBuf,
    },
}

pub fn trace(args: TraceArgs) -> ExitCode {
    let result = match args.command {
        TraceCommand::Attach { addr, save } => viewer::attach(&addr, save.as_deref()),
        TraceCommand::Show { file } => viewer::show(&file),
        TraceCommand::Stats { file } => viewer::stats(&file).map(|s| print!("{s}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(crate::host_error(e)),
    }
}

/// Sinks to hand to the machine's tracer.
pub type Sinks = Vec<Box<dyn TraceSink>>;

/// `--trace-listen ADDR`: starts the server, says where it listens (on
/// stderr: `emu: trace server listening on ADDR`, with the port TCP port
/// 0 picked), and gives the sink to add to the machine's trace.
pub fn serve(addr: Option<&str>) -> Result<(Option<LiveServer>, Sinks), String> {
    let Some(addr) = addr else {
        return Ok((None, Vec::new()));
    };
    let addr = ListenAddr::parse(addr).map_err(|e| e.to_string())?;
    let (server, sink) = LiveServer::listen(&addr).map_err(|e| e.to_string())?;
    eprintln!("emu: trace server listening on {}", server.addr());
    Ok((Some(server), vec![Box::new(sink)]))
}

/// At the end of the run: lets viewers take what is queued (a second at
/// most) and reports viewers that lost events.
pub fn finish(server: LiveServer) {
    for c in server.finish(Duration::from_secs(1)) {
        if c.dropped > 0 {
            eprintln!(
                "emu: trace viewer {}: {} events dropped (it was too slow)",
                c.peer, c.dropped
            );
        }
    }
}
