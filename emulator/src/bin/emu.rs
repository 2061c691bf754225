//! `emu`: the emulator's command line.

use clap::{Parser, Subcommand, ValueEnum};
use emulator::bare::{self, BareMode};
use emulator::bus::NullBus;
use emulator::cpu::{Cpu, Stop};
use emulator::memory::PhysMemory;
use std::path::PathBuf;
use std::process::ExitCode;

/// An x86-64 PC emulator.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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

#[derive(Clone, Copy, ValueEnum)]
enum ExecMode {
    Real,
    Protected32,
    Long64,
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let r = if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16)
    } else {
        s.parse()
    };
    r.map_err(|e| format!("not a number: {s} ({e})"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Exec {
            file,
            mode,
            load,
            mem,
            max_instructions,
        } => exec(&file, mode, load, mem, max_instructions),
    }
}

fn exec(file: &PathBuf, mode: ExecMode, load: u64, mem_mib: u64, max: u64) -> ExitCode {
    let code = match std::fs::read(file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("emu: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let mem = match PhysMemory::new(mem_mib << 20) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("emu: {e}");
            return ExitCode::from(2);
        }
    };
    if load.saturating_add(code.len() as u64) > mem.ram_size() {
        eprintln!(
            "emu: {} ({} bytes) does not fit in RAM at {load:#x}",
            file.display(),
            code.len()
        );
        return ExitCode::from(2);
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
    match stop {
        Stop::Halted => ExitCode::SUCCESS,
        Stop::Budget => ExitCode::from(3),
        Stop::TripleFault => ExitCode::from(4),
        // No board: nothing can ask for a reset or an exit.
        Stop::Control(_) => ExitCode::from(5),
    }
}
