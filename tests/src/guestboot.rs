//! Boot tests of the real boot chain: power on a machine with disk images
//! (or a kernel booted directly), on the deterministic virtual clock, and
//! collect the serial console until a line appears, the guest exits, or an
//! instruction limit is reached.

use crossbeam_channel::{bounded, unbounded};
use emulator::devices::disk::DiskMode;
use emulator::firmware::BIOS;
use emulator::machine::clock::ClockMode;
use emulator::machine::direct_boot;
use emulator::machine::session::{self, SessionRunner, Step};
use emulator::machine::{DiskSpec, HostIo, Machine, MachineConfig, Outcome};
use std::path::Path;

/// 2026-01-01T00:00:00Z, the RTC's start under the virtual clock.
const RTC_START: i64 = 1_767_225_600;

/// What to boot.
pub enum Boot<'a> {
    /// Power on and boot the first disk through the firmware.
    Disk,
    /// Enter this kernel ELF directly with this command line.
    Kernel { elf: &'a Path, cmdline: &'a str },
}

/// A finished boot.
pub struct BootRun {
    pub outcome: Outcome,
    /// Everything written to COM1.
    pub serial: String,
}

impl BootRun {
    /// Panics with the whole console when `text` is missing.
    #[track_caller]
    pub fn expect(&self, text: &str) {
        assert!(
            self.serial.contains(text),
            "{text:?} missing from the console; outcome {:?}; console:\n{}",
            self.outcome,
            self.serial
        );
    }
}

/// Boots `boot` with `disks` attached as snapshots (the files never
/// change), 256 MiB of RAM and `--no-reboot`, and runs until `until`
/// appears on the console (checked between slices of the run), the guest
/// exits or halts for good, or `max_instructions` retire.
pub fn boot(boot: Boot, disks: &[&Path], until: Option<&str>, max_instructions: u64) -> BootRun {
    scripted(boot, disks, &[], until, max_instructions)
}

/// Like [`boot`], typing into the console as it goes: for each
/// `(wait_for, send)`, once the console (after the previous match) shows
/// `wait_for`, `send` is typed. Matching and typing happen on the
/// machine's thread between slices, at points fixed by the instruction
/// count, so the transcript is the same on every run.
pub fn scripted(
    boot: Boot,
    disks: &[&Path],
    script: &[(&str, &[u8])],
    until: Option<&str>,
    max_instructions: u64,
) -> BootRun {
    run(
        boot,
        disks,
        DiskMode::Snapshot,
        script,
        until,
        max_instructions,
    )
}

/// Like [`scripted`], with `disks` attached read-write: the guest's
/// writes go to the image files (for tests that check an image after the
/// guest wrote to it).
pub fn scripted_rw(
    boot: Boot,
    disks: &[&Path],
    script: &[(&str, &[u8])],
    until: Option<&str>,
    max_instructions: u64,
) -> BootRun {
    run(
        boot,
        disks,
        DiskMode::ReadWrite,
        script,
        until,
        max_instructions,
    )
}

fn run(
    boot: Boot,
    disks: &[&Path],
    mode: DiskMode,
    script: &[(&str, &[u8])],
    until: Option<&str>,
    max_instructions: u64,
) -> BootRun {
    let config = MachineConfig {
        ram_size: 256 << 20,
        bios: BIOS.to_vec(),
        disks: disks
            .iter()
            .map(|p| DiskSpec {
                path: p.to_path_buf(),
                mode,
            })
            .collect(),
        clock: ClockMode::Virtual,
        no_reboot: true,
        max_instructions: Some(max_instructions),
        timeout: None,
        rtc_start: Some(RTC_START),
    };
    let (com1_out, com1_rx) = unbounded::<u8>();
    let (com1_tx, com1_in) = unbounded();
    let (com2_out, _com2_rx) = unbounded();
    let (_com2_tx, com2_in) = unbounded();
    let (debug_out, _debug_rx) = unbounded();
    let (_quit_tx, quit) = bounded(1);
    let io = HostIo {
        com1_out,
        com1_in,
        com2_out,
        com2_in,
        debug_out,
        quit,
    };
    let mut machine = Machine::new(config, io).expect("machine");
    if let Boot::Kernel { elf, cmdline } = boot {
        let bytes = std::fs::read(elf).unwrap_or_else(|e| panic!("{}: {e}", elf.display()));
        direct_boot::boot_kernel(&mut machine.cpu, &bytes, cmdline).expect("direct boot");
    }

    // The session engine `emu test` uses: the console is matched on the
    // machine's thread, so the run stops at the same instruction every time.
    let literal = |text: &str| Step::Expect(session::regex(&regex::escape(text)).expect("regex"));
    let mut steps = vec![Step::Timeout(u64::MAX)];
    for (wait_for, send) in script {
        steps.push(literal(wait_for));
        steps.push(Step::Send(send.to_vec()));
    }
    if let Some(text) = until {
        steps.push(literal(text));
    }
    let mut runner = SessionRunner::new(steps, com1_rx, com1_tx);
    if until.is_none() {
        runner.keep_running();
    }
    let outcome = machine.run_with(&mut runner);
    runner.finish();
    drop(machine);
    let serial = String::from_utf8_lossy(runner.log()).into_owned();
    BootRun { outcome, serial }
}
