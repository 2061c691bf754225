//! The same boots on emu's library in this process, for what the `emu`
//! binary does not print: instructions retired, and which guest RAM pages
//! the host actually backs. Under the virtual clock a run is
//! deterministic, so these counts are those of the binary's timed runs.

use crossbeam_channel::{bounded, unbounded};
use emulator::devices::disk::DiskMode;
use emulator::firmware::BIOS;
use emulator::machine::clock::ClockMode;
use emulator::machine::{DiskSpec, HostIo, Machine, MachineConfig, Outcome};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::machines::RAM_MIB;

/// What the library run found.
pub struct Counts {
    /// Instructions retired when the marker appeared (checked between
    /// slices of the run loop, so up to one slice — 1 M instructions —
    /// late; exact when the guest exits right after it).
    pub instret: u64,
    /// Wall time of the library run, seconds (no process start-up).
    pub seconds: f64,
    /// Guest RAM pages resident in the host (`mincore` on the RAM mapping:
    /// pages the guest wrote, or read and got the shared zero page for).
    pub touched_pages: u64,
    pub serial: String,
}

/// Boots `image` (as a snapshot disk) until `marker` appears on COM1 or the
/// guest exits.
pub fn boot(image: &Path, marker: &str) -> Result<Counts, String> {
    let config = MachineConfig {
        ram_size: RAM_MIB << 20,
        bios: BIOS.to_vec(),
        disks: vec![DiskSpec {
            path: image.to_path_buf(),
            mode: DiskMode::Snapshot,
        }],
        clock: ClockMode::Virtual,
        no_reboot: true,
        max_instructions: Some(20_000_000_000),
        timeout: None,
        rtc_start: Some(1_767_225_600),
    };
    let (com1_out, com1_rx) = unbounded::<u8>();
    let (_com1_tx, com1_in) = unbounded();
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
    let mut machine = Machine::new(config, io).map_err(|e| format!("emu library: {e}"))?;
    let serial = Arc::new(Mutex::new(Vec::new()));
    let collector = {
        let serial = serial.clone();
        let marker = marker.as_bytes().to_vec();
        std::thread::spawn(move || {
            let mut sent = false;
            for b in com1_rx {
                let mut s = serial.lock().expect("serial buffer");
                s.push(b);
                if !sent && s.ends_with(&marker) {
                    sent = quit_tx.try_send(()).is_ok();
                }
            }
        })
    };
    let start = Instant::now();
    let outcome = machine.run();
    let seconds = start.elapsed().as_secs_f64();
    let instret = machine.cpu.instret;
    let touched_pages = resident_pages(machine.cpu.mem.ram());
    drop(machine);
    collector
        .join()
        .map_err(|_| "the serial collector panicked")?;
    let serial = String::from_utf8_lossy(&serial.lock().expect("serial buffer")).into_owned();
    match outcome {
        Outcome::Quit | Outcome::Exit(_) if serial.contains(marker) => Ok(Counts {
            instret,
            seconds,
            touched_pages,
            serial,
        }),
        other => Err(format!(
            "emu library run ended with {other:?} before {marker:?}; console:\n{serial}"
        )),
    }
}

/// Pages of `ram` the host has mapped (`mincore(2)`).
fn resident_pages(ram: &[u8]) -> u64 {
    const PAGE: usize = 4096;
    let mut vec = vec![0u8; ram.len().div_ceil(PAGE)];
    // SAFETY: `ram` is one page-aligned mapping (memmap2 maps whole pages)
    // of `ram.len()` bytes, and `vec` has one byte per page of it.
    let rc = unsafe {
        libc::mincore(
            ram.as_ptr() as *mut libc::c_void,
            ram.len(),
            vec.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return 0;
    }
    vec.iter().filter(|&&b| b & 1 != 0).count() as u64
}
