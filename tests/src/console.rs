//! Scripted console sessions: boot a disk image on the deterministic
//! virtual clock and type into the serial console, each line once the
//! console shows what the step waits for (a prompt, a message). What the
//! guest prints does not depend on when the host thread delivers the
//! bytes, so the transcript is the same on every run.

use crossbeam_channel::{bounded, unbounded};
use emulator::devices::disk::DiskMode;
use emulator::firmware::BIOS;
use emulator::machine::clock::ClockMode;
use emulator::machine::{DiskSpec, HostIo, Machine, MachineConfig};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::guestboot::BootRun;

/// 2026-01-01T00:00:00Z, the RTC's start under the virtual clock.
const RTC_START: i64 = 1_767_225_600;

/// One step: when the console (since the previous step's input) contains
/// `wait_for`, type `send`.
pub struct Step<'a> {
    pub wait_for: &'a str,
    pub send: &'a [u8],
}

/// Waits for `wait_for`, then types `send`.
pub fn step<'a>(wait_for: &'a str, send: &'a [u8]) -> Step<'a> {
    Step { wait_for, send }
}

/// Boots `disks` (snapshots) with 256 MiB and `--no-reboot`, plays
/// `steps`, and stops once `until` appears after the last step (or the
/// guest exits, or `max_instructions` retire).
pub fn session(disks: &[&Path], steps: &[Step], until: &str, max_instructions: u64) -> BootRun {
    let config = MachineConfig {
        ram_size: 256 << 20,
        bios: BIOS.to_vec(),
        disks: disks
            .iter()
            .map(|p| DiskSpec {
                path: p.to_path_buf(),
                mode: DiskMode::Snapshot,
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
    let (quit_tx, quit) = bounded(1);
    let io = HostIo {
        com1_out,
        com1_in,
        com2_out,
        com2_in,
        debug_out,
        quit,
    };
    let mut machine = Machine::new(config, io).expect("machine");
    let script: Vec<(String, Vec<u8>)> = steps
        .iter()
        .map(|s| (s.wait_for.to_string(), s.send.to_vec()))
        .collect();
    let serial = Arc::new(Mutex::new(Vec::new()));
    let collector = {
        let serial = serial.clone();
        let until = until.as_bytes().to_vec();
        std::thread::spawn(move || {
            let mut next = 0;
            let mut from = 0;
            let mut quit_sent = false;
            for b in com1_rx {
                let mut s = serial.lock().unwrap();
                s.push(b);
                if next < script.len() {
                    let (wait_for, send) = &script[next];
                    if s[from..].ends_with(wait_for.as_bytes()) {
                        for &c in send {
                            let _ = com1_tx.send(c);
                        }
                        next += 1;
                        from = s.len();
                    }
                } else if !quit_sent && s[from..].ends_with(&until) {
                    quit_sent = quit_tx.try_send(()).is_ok();
                }
            }
        })
    };
    let outcome = machine.run();
    drop(machine);
    collector.join().expect("collector");
    let serial = String::from_utf8_lossy(&serial.lock().unwrap()).into_owned();
    BootRun { outcome, serial }
}
