//! `emu`: the emulator's command line.

mod junit;
mod mkimage;
mod terminal;
mod test;
mod trace_args;
mod trace_cmd;

use clap::{Parser, Subcommand, ValueEnum};
use emulator::bare::{self, BareMode};
use emulator::bus::NullBus;
use emulator::cpu::{Cpu, Stop};
use emulator::devices::disk::DiskMode;
use emulator::machine::clock::ClockMode;
use emulator::machine::direct_boot;
use emulator::machine::session::{SessionRunner, SnapshotTrigger};
use emulator::machine::{DiskSpec, HostIo, Machine, MachineConfig, Outcome};
use emulator::memory::{PhysMemory, ROM_SIZE, ROM_SIZE_LARGE};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Process exit statuses. The guest's exit-port values are odd
/// ((v << 1) | 1); the emulator's own are even.
mod status {
    pub const QUIT: u8 = 0;
    /// `emu test`: every session passed.
    pub const PASSED: u8 = 0;
    pub const HOST_ERROR: u8 = 2;
    pub const TRIPLE_FAULT: u8 = 4;
    pub const TIMEOUT: u8 = 6;
    pub const INSTRUCTION_LIMIT: u8 = 8;
    pub const HUNG: u8 = 10;
    /// `emu test`: a `--fail-on` pattern matched.
    pub const FAILED: u8 = 12;
}

const EXIT_STATUS_HELP: &str = "\
Exit status:
  (v << 1) | 1  the guest wrote v to the exit port 0xF4 (QEMU isa-debug-exit)
  0             you quit with Ctrl-A X (emu test: every session passed)
  2             host error: bad option, missing or malformed image or
                snapshot, a snapshot refused
  4             triple fault (with --no-reboot)
  6             --timeout passed (emu test: or an expect's own timeout)
  8             --max-instructions reached
  10            the CPU halted with interrupts disabled (nothing can wake it)
  12            emu test: a --fail-on / fail-on pattern matched

Console keys (emu run): Ctrl-A X quits, Ctrl-A H lists the keys,
Ctrl-A Ctrl-A sends Ctrl-A to the guest.";

/// An x86-64 PC emulator: boots disk images on an emulated PC/AT with a
/// serial console, deterministic by default.
#[derive(Parser)]
#[command(version, about, after_help = EXIT_STATUS_HELP)]
struct Cli {
    /// What to do; with none, `emu` boots the default image.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Boots a PC with the given disk images (the default image when none
    /// is given).
    ///
    /// The guest's serial console (COM1) is this terminal: its output goes
    /// to stdout, your keys go to the guest (the terminal is in raw mode
    /// while it runs, when stdin is a terminal). Emulator messages go to
    /// stderr.
    #[command(after_help = EXIT_STATUS_HELP)]
    Run(RunArgs),
    /// Runs boot tests: boots (or loads a snapshot), then waits for
    /// output and types input as session files say, on the virtual clock,
    /// and reports passed or failed (exit status, JUnit XML).
    ///
    /// Each --session FILE is one test case on a fresh machine (from
    /// --load-snapshot when given); --expect and --fail-on make one more
    /// from the command line. Disks given as IMAGE are copy-on-write here
    /// (PATH,snapshot): tests never change the image, and many can run at
    /// once.
    #[command(after_help = EXIT_STATUS_HELP)]
    Test(test::TestArgs),
    /// Views traces: `attach ADDR` to a running `emu run --trace-listen`,
    /// `show FILE` to browse a recorded one, `stats FILE` for a summary.
    Trace(trace_cmd::TraceArgs),
    /// Prints the path of the default disk image this build made, to take
    /// it to QEMU, `dd` or `debugfs`.
    Image,
    /// Builds a disk image from a recipe (MBR, stage 2, ext2 root, swap),
    /// or checks one: `emu mkimage check IMG`.
    Mkimage(mkimage::MkimageArgs),
    /// Runs a flat binary on a bare CPU (no firmware, no devices) until it
    /// executes HLT, then prints the registers.
    ///
    /// The CPU starts directly in the chosen mode with flat segments (and,
    /// for long mode, an identity map of the first 4 GiB); the file is
    /// loaded at --load and executed from there.
    Exec {
        /// The flat binary to run.
        file: PathBuf,
        /// The mode the code is written for.
        #[arg(long, value_enum, default_value = "long64")]
        mode: ExecMode,
        /// Physical address to load the file at and start from.
        #[arg(long, default_value = "0x100000", value_parser = parse_u64)]
        load: u64,
        /// Guest RAM in MiB.
        #[arg(long, default_value_t = 64)]
        mem: u64,
        /// Stop after this many instructions.
        #[arg(long, default_value_t = 1_000_000_000)]
        max_instructions: u64,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Disk images, attached in order (ATA0 master, ATA0 slave, ATA1
    /// master, ATA1 slave). Writes go to the image file (`emu run`) or
    /// stay in memory (`emu test`). Without any disk (and without
    /// --kernel), the default image (`emu image`) boots.
    images: Vec<PathBuf>,
    /// Another disk: PATH, PATH,readonly (writes fail) or PATH,snapshot
    /// (writes are kept in memory; the file is never changed).
    #[arg(long = "disk", value_name = "PATH[,readonly|,snapshot]")]
    disks: Vec<String>,
    /// Guest RAM: a number of MiB, or with a K, M or G suffix.
    #[arg(long, default_value = "256M", value_parser = parse_size)]
    mem: u64,
    /// A firmware ROM to boot instead of the built-in BIOS (64 or 128 KiB).
    #[arg(long, value_name = "FILE")]
    bios: Option<PathBuf>,
    /// Where COM1 goes: stdio, file:PATH, or none.
    #[arg(long, default_value = "stdio", value_parser = parse_serial)]
    serial: Serial,
    /// Time source: virtual (deterministic, from retired instructions),
    /// host (wall time), or auto: host when `emu run` has a terminal on
    /// stdin (a person typing), virtual otherwise and always for `emu test`.
    #[arg(long, value_enum, default_value = "auto")]
    clock: ClockArg,
    /// Stop on a triple fault with a register dump instead of resetting.
    #[arg(long)]
    no_reboot: bool,
    /// Stop after this many instructions.
    #[arg(long, value_name = "N")]
    max_instructions: Option<u64>,
    /// Stop after this many seconds of host time.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Boot this kernel ELF directly, skipping the firmware and the boot
    /// loader (as QEMU's -kernel does): the CPU starts in long mode at its
    /// entry point with the boot-info hand-off stage 2 would give it.
    /// Disks still attach.
    #[arg(long, value_name = "ELF")]
    kernel: Option<PathBuf>,
    /// The kernel command line for --kernel.
    #[arg(long, value_name = "CMDLINE", requires = "kernel", default_value = "")]
    append: String,
    /// Resume from a snapshot instead of powering on. The machine must be
    /// built the same way (--mem, firmware, the same disk images).
    #[arg(long, value_name = "FILE")]
    load_snapshot: Option<PathBuf>,
    /// Save a snapshot when --snapshot-on or --snapshot-after says (CPU,
    /// devices, RAM, and the disks' copy-on-write overlays).
    #[arg(long, value_name = "FILE")]
    save_snapshot: Option<PathBuf>,
    /// Save the snapshot when the serial output matches this regex.
    #[arg(long, value_name = "REGEX", requires = "save_snapshot")]
    snapshot_on: Option<String>,
    /// Save the snapshot after this many instructions.
    #[arg(
        long,
        value_name = "N",
        requires = "save_snapshot",
        conflicts_with = "snapshot_on"
    )]
    snapshot_after: Option<u64>,
    /// Serve the trace live to viewers (`emu trace attach ADDR`) at ADDR:
    /// HOST:PORT on loopback TCP (port 0 picks one; stderr says which) or
    /// a Unix socket (unix:PATH). Any number of viewers may attach and
    /// leave while the guest runs; a slow one loses events, never slows
    /// the guest.
    #[arg(long, value_name = "ADDR")]
    trace_listen: Option<String>,
    #[command(flatten)]
    trace: trace_args::TraceArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExecMode {
    Real,
    Protected32,
    Long64,
}

#[derive(Clone, Copy, ValueEnum)]
enum ClockArg {
    Auto,
    Virtual,
    Host,
}

#[derive(Clone, Debug)]
enum Serial {
    Stdio,
    File(PathBuf),
    None,
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let r = if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16)
    } else {
        s.parse()
    };
    r.map_err(|e| format!("not a number: {s} ({e})"))
}

/// "256", "256M", "256MiB", "1G", "65536K": bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().trim_end_matches("iB").trim_end_matches('B');
    let (num, shift) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 30),
        _ => (t, 20),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("not a size: {s} (try 256M or 1G)"))?;
    let bytes = n
        .checked_shl(shift)
        .filter(|b| b >> shift == n)
        .ok_or(format!("size too large: {s}"))?;
    if bytes < (1 << 20) || bytes % 4096 != 0 {
        return Err(format!("RAM must be at least 1M and a multiple of 4K: {s}"));
    }
    Ok(bytes)
}

fn parse_serial(s: &str) -> Result<Serial, String> {
    match s {
        "stdio" => Ok(Serial::Stdio),
        "none" => Ok(Serial::None),
        _ => match s.strip_prefix("file:") {
            Some(p) if !p.is_empty() => Ok(Serial::File(PathBuf::from(p))),
            _ => Err(format!("expected stdio, file:PATH or none, got {s}")),
        },
    }
}

fn parse_disk(s: &str) -> Result<DiskSpec, String> {
    let (path, mode) = match s.rsplit_once(',') {
        Some((p, "readonly")) => (p, DiskMode::ReadOnly),
        Some((p, "snapshot")) => (p, DiskMode::Snapshot),
        Some((_, other)) if !other.contains('/') => {
            return Err(format!(
                "unknown disk option '{other}' (readonly or snapshot)"
            ))
        }
        _ => (s, DiskMode::ReadWrite),
    };
    Ok(DiskSpec {
        path: PathBuf::from(path),
        mode,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli
        .command
        .unwrap_or_else(|| Cli::parse_from(["emu", "run"]).command.expect("run"));
    match command {
        Command::Run(args) => ExitCode::from(run(args)),
        Command::Test(args) => ExitCode::from(test::test(args)),
        Command::Mkimage(args) => mkimage::mkimage(args),
        Command::Trace(args) => trace_cmd::trace(args),
        Command::Image => {
            println!("{}", emulator::artifacts::DEFAULT_IMAGE);
            ExitCode::SUCCESS
        }
        Command::Exec {
            file,
            mode,
            load,
            mem,
            max_instructions,
        } => exec(&file, mode, load, mem, max_instructions),
    }
}

fn host_error(msg: impl std::fmt::Display) -> u8 {
    eprintln!("emu: {msg}");
    status::HOST_ERROR
}

/// A machine built from the command line, with the host ends of its
/// streams.
struct Prepared {
    machine: Machine,
    com1_rx: crossbeam_channel::Receiver<u8>,
    com1_tx: crossbeam_channel::Sender<u8>,
    debug_rx: crossbeam_channel::Receiver<u8>,
    quit_tx: crossbeam_channel::Sender<()>,
}

/// Builds the machine `args` describe: firmware, disks (IMAGE arguments
/// copy-on-write when `cow_images`), then a direct kernel boot or a
/// snapshot load.
/// `cow_images`: plain image arguments are copy-on-write (`emu test`);
/// `interactive`: the run may follow the wall clock (`emu run`).
fn prepare(args: &RunArgs, cow_images: bool, interactive: bool) -> Result<Prepared, String> {
    let bios = match &args.bios {
        None => emulator::firmware::BIOS.to_vec(),
        Some(path) => match std::fs::read(path) {
            Ok(b) if b.len() == ROM_SIZE || b.len() == ROM_SIZE_LARGE => b,
            Ok(b) => {
                return Err(format!(
                    "{}: a BIOS ROM must be 65536 or 131072 bytes, this one is {}",
                    path.display(),
                    b.len()
                ))
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        },
    };
    let mut images = args.images.clone();
    if images.is_empty() && args.disks.is_empty() && args.kernel.is_none() {
        images.push(PathBuf::from(emulator::artifacts::DEFAULT_IMAGE));
    }
    let image_mode = if cow_images {
        DiskMode::Snapshot
    } else {
        DiskMode::ReadWrite
    };
    let mut disks: Vec<DiskSpec> = images
        .iter()
        .map(|p| DiskSpec {
            path: p.clone(),
            mode: image_mode,
        })
        .collect();
    for d in &args.disks {
        disks.push(parse_disk(d)?);
    }
    let clock = match args.clock {
        ClockArg::Virtual => ClockMode::Virtual,
        ClockArg::Host => ClockMode::Host,
        // An idle guest under the virtual clock skips ahead to its next
        // timer at once, so at a prompt its time would race ahead of the
        // person typing; interactive runs follow the wall clock instead.
        ClockArg::Auto if interactive && std::io::stdin().is_terminal() => ClockMode::Host,
        ClockArg::Auto => ClockMode::Virtual,
    };
    let config = MachineConfig {
        ram_size: args.mem,
        bios,
        disks,
        clock,
        no_reboot: args.no_reboot,
        max_instructions: args.max_instructions,
        timeout: args.timeout.map(Duration::from_secs_f64),
        // Virtual time starts at a fixed date so runs repeat exactly.
        rtc_start: (clock == ClockMode::Virtual).then_some(FIXED_RTC_START),
    };

    let (com1_out, com1_rx) = crossbeam_channel::unbounded();
    let (com1_tx, com1_in) = crossbeam_channel::unbounded();
    let (com2_out, _com2_rx) = crossbeam_channel::unbounded();
    let (_com2_tx, com2_in) = crossbeam_channel::unbounded();
    let (debug_out, debug_rx) = crossbeam_channel::unbounded::<u8>();
    let (quit_tx, quit) = crossbeam_channel::bounded(1);
    let io = HostIo {
        com1_out,
        com1_in,
        com2_out,
        com2_in,
        debug_out,
        quit,
    };
    let mut machine = Machine::new(config, io).map_err(|e| e.to_string())?;

    if let Some(path) = &args.load_snapshot {
        machine.load_snapshot(path).map_err(|e| e.to_string())?;
    } else if let Some(path) = &args.kernel {
        let elf = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        direct_boot::boot_kernel(&mut machine.cpu, &elf, &args.append)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(Prepared {
        machine,
        com1_rx,
        com1_tx,
        debug_rx,
        quit_tx,
    })
}

/// The --snapshot-on / --snapshot-after condition, if any.
fn snapshot_trigger(args: &RunArgs) -> Result<Option<(SnapshotTrigger, PathBuf)>, String> {
    let Some(path) = &args.save_snapshot else {
        return Ok(None);
    };
    let trigger = match (&args.snapshot_on, args.snapshot_after) {
        (Some(re), _) => SnapshotTrigger::Output(emulator::machine::session::regex(re)?),
        (None, Some(n)) => SnapshotTrigger::Instructions(n),
        (None, None) => {
            return Err("--save-snapshot needs --snapshot-on REGEX or --snapshot-after N".into())
        }
    };
    Ok(Some((trigger, path.clone())))
}

/// Output written into a channel (to the thread that drains COM1).
struct ChannelWriter(crossbeam_channel::Sender<u8>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            let _ = self.0.send(b);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run(args: RunArgs) -> u8 {
    let trigger = match snapshot_trigger(&args) {
        Ok(t) => t,
        Err(e) => return host_error(e),
    };
    let Prepared {
        mut machine,
        com1_rx,
        com1_tx,
        debug_rx,
        quit_tx,
    } = match prepare(&args, false, true) {
        Ok(p) => p,
        Err(e) => return host_error(e),
    };
    let (live_server, live_sinks) = match trace_cmd::serve(args.trace_listen.as_deref()) {
        Ok(l) => l,
        Err(e) => return host_error(e),
    };
    if let Err(e) = args.trace.start(&mut machine, live_sinks) {
        return host_error(e);
    }

    // With a snapshot to take, a monitor on the machine's thread watches
    // the output (and forwards it to the console).
    let (output_rx, mut monitor) = match trigger {
        None => (com1_rx, None),
        Some((trigger, path)) => {
            let (tx, rx) = crossbeam_channel::unbounded();
            let mut m = SessionRunner::new(Vec::new(), com1_rx, com1_tx.clone());
            m.save_snapshot_when(trigger, path);
            m.keep_running();
            m.echo_to(Box::new(ChannelWriter(tx)));
            (rx, Some(m))
        }
    };
    let writer = match spawn_output(args.serial, output_rx) {
        Ok(w) => w,
        Err(e) => return host_error(e),
    };
    let debug_writer = std::thread::spawn(move || {
        for b in debug_rx {
            let _ = std::io::stderr().write_all(&[b]);
        }
    });
    let raw = terminal::RawMode::enter();
    terminal::spawn_input(com1_tx, quit_tx);

    let outcome = match &mut monitor {
        None => machine.run(),
        Some(m) => {
            let outcome = machine.run_with(m);
            m.finish();
            outcome
        }
    };
    machine.finish_trace();
    let post = machine.post_codes();
    drop(machine); // closes the output channels and flushes the disks
    if let Some(server) = live_server {
        trace_cmd::finish(server);
    }
    let verdict = monitor.as_ref().and_then(|m| m.verdict().cloned());
    if let Some(m) = &monitor {
        for s in m.saved() {
            eprintln!(
                "emu: snapshot saved to {} ({} bytes) after {} instructions",
                s.path.display(),
                s.bytes,
                s.instret
            );
        }
    }
    drop(monitor);
    let _ = writer.join();
    let _ = debug_writer.join();
    drop(raw);

    if let Some(emulator::machine::session::Verdict::HostError(e)) = verdict {
        return host_error(e);
    }
    outcome_status(&outcome, &post)
}

/// Reports how the machine stopped on stderr and returns the exit status.
fn outcome_status(outcome: &Outcome, post: &[u8]) -> u8 {
    match outcome {
        Outcome::Exit(code) => *code,
        Outcome::Quit => status::QUIT,
        Outcome::TripleFault(dump) => {
            eprintln!("emu: triple fault\n{dump}{}", last_post(post));
            status::TRIPLE_FAULT
        }
        Outcome::Timeout => {
            eprintln!("emu: timeout{}", last_post(post));
            status::TIMEOUT
        }
        Outcome::InstructionLimit => {
            eprintln!("emu: instruction limit reached{}", last_post(post));
            status::INSTRUCTION_LIMIT
        }
        Outcome::Hung(msg) => {
            eprintln!("emu: {msg}{}", last_post(post));
            status::HUNG
        }
        // Only a monitor ends a run this way; its verdict says why.
        Outcome::Finished => status::QUIT,
    }
}

/// 2026-01-01T00:00:00Z: where the RTC starts under the virtual clock.
const FIXED_RTC_START: i64 = 1_767_225_600;

fn last_post(codes: &[u8]) -> String {
    match codes.last() {
        Some(c) => format!(" (last POST code {c:#04x})"),
        None => String::new(),
    }
}

/// Drains COM1 output to where --serial says, on its own thread.
fn spawn_output(
    serial: Serial,
    rx: crossbeam_channel::Receiver<u8>,
) -> Result<std::thread::JoinHandle<()>, String> {
    let mut sink: Box<dyn Write + Send> = match serial {
        Serial::Stdio => Box::new(std::io::stdout()),
        Serial::None => Box::new(std::io::sink()),
        Serial::File(p) => {
            Box::new(std::fs::File::create(&p).map_err(|e| format!("{}: {e}", p.display()))?)
        }
    };
    Ok(std::thread::spawn(move || {
        while let Ok(b) = rx.recv() {
            let mut chunk = vec![b];
            chunk.extend(rx.try_iter());
            if sink.write_all(&chunk).and_then(|_| sink.flush()).is_err() {
                return;
            }
        }
    }))
}

fn exec(file: &PathBuf, mode: ExecMode, load: u64, mem_mib: u64, max: u64) -> ExitCode {
    let code = match std::fs::read(file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("emu: cannot read {}: {e}", file.display());
            return ExitCode::from(status::HOST_ERROR);
        }
    };
    let mem = match PhysMemory::new(mem_mib << 20) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("emu: {e}");
            return ExitCode::from(status::HOST_ERROR);
        }
    };
    if load.saturating_add(code.len() as u64) > mem.ram_size() {
        eprintln!(
            "emu: {} ({} bytes) does not fit in RAM at {load:#x}",
            file.display(),
            code.len()
        );
        return ExitCode::from(status::HOST_ERROR);
    }
    let mut cpu = Cpu::new(mem, Box::new(NullBus));
    let bare_mode = match mode {
        ExecMode::Real => BareMode::Real,
        ExecMode::Protected32 => BareMode::Protected32,
        ExecMode::Long64 => BareMode::Long64,
    };
    bare::setup(&mut cpu, bare_mode, load, 0x9_0000);
    cpu.write_phys(load, &code);
    let stop = cpu.run(max);
    eprint!("{}", cpu.dump());
    eprintln!("stopped: {stop:?} after {} instructions", cpu.instret);
    ExitCode::from(match stop {
        Stop::Halted => 0,
        Stop::Budget => status::INSTRUCTION_LIMIT,
        Stop::TripleFault => status::TRIPLE_FAULT,
        // No board: nothing can ask for a reset or an exit.
        Stop::Control(_) => status::HOST_ERROR,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes_and_default_to_mib() {
        assert_eq!(parse_size("256"), Ok(256 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert!(parse_size("12K").is_err(), "below 1 MiB");
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn disk_options_select_the_mode() {
        assert_eq!(
            parse_disk("a.img,snapshot").unwrap().mode,
            DiskMode::Snapshot
        );
        assert_eq!(
            parse_disk("a.img,readonly").unwrap().mode,
            DiskMode::ReadOnly
        );
        assert_eq!(parse_disk("a.img").unwrap().mode, DiskMode::ReadWrite);
        assert!(parse_disk("a.img,fast").is_err());
    }
}
