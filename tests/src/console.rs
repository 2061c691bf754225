//! Scripted console sessions: boot a disk image on the deterministic
//! virtual clock and type into the serial console, each line once the
//! console shows what the step waits for (a prompt, a message). The
//! session engine of `emu test` matches and types on the machine's thread,
//! so the transcript is the same on every run.

use std::path::Path;

use crate::guestboot::{scripted, Boot, BootRun};

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
    let script: Vec<(&str, &[u8])> = steps.iter().map(|s| (s.wait_for, s.send)).collect();
    scripted(Boot::Disk, disks, &script, Some(until), max_instructions)
}
