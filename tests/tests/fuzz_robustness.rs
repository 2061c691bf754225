//! Robustness fuzzing: random bytes executed as code in real, protected,
//! compatibility and 64-bit mode must never panic the emulator or keep it
//! from returning within its instruction budget. Whatever the guest does
//! (halt in a fault handler, run out of budget, triple fault) is fine.
//!
//! Every vector's handler is a HLT (`trap.rs`). Each mode runs a fixed-seed
//! set of blobs on a worker thread; the test thread watches its progress
//! and names the blob that panicked or stopped making progress.

use emulator::bare::{self, BareMode};
use emulator::bus::NullBus;
use emulator::cpu::{Cpu, Stop};
use emulator::memory::PhysMemory;
use integration_tests::diff::Rng;
use integration_tests::{trap, Vm};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BLOBS: usize = 2500;
const MAX_BLOB: u64 = 256;
/// Instructions each blob may retire.
const BUDGET: u64 = 5_000;
/// One blob taking this long means the emulator is stuck.
const STUCK: Duration = Duration::from_secs(20);
const STACK_TOP: u64 = 0x8_0000;
const REAL_STACK_TOP: u64 = 0x7000;

fn blob(seed: u64, index: usize) -> (Vec<u8>, [u64; 16]) {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let len = 1 + rng.below(MAX_BLOB) as usize;
    let bytes = (0..len).map(|_| rng.next_u64() as u8).collect();
    let mut gpr = [0u64; 16];
    for g in gpr.iter_mut() {
        // Mostly small values, so memory operands often land in RAM.
        *g = if rng.one_in(2) {
            rng.below(0x100_0000)
        } else {
            rng.interesting()
        };
    }
    (bytes, gpr)
}

/// Runs one blob from a fresh machine state.
fn run_blob(cpu: &mut Cpu, mode: BareMode, code: &[u8], gpr: &[u64; 16]) -> Stop {
    let entry = Vm::code_base(mode);
    let stack = if mode == BareMode::Real {
        REAL_STACK_TOP
    } else {
        STACK_TOP
    };
    bare::setup(cpu, mode, entry, stack);
    trap::install(cpu, mode);
    cpu.write_phys(entry, code);
    for (i, g) in gpr.iter().enumerate().filter(|&(i, _)| i != 4) {
        cpu.gpr[i] = if mode == BareMode::Real
            || mode == BareMode::Protected32
            || mode == BareMode::Compat32
        {
            *g & 0xFFFF_FFFF
        } else {
            *g
        };
    }
    cpu.run(BUDGET)
}

fn fuzz(mode: BareMode, seed: u64) {
    let progress = Arc::new(AtomicUsize::new(0));
    let worker_progress = progress.clone();
    let worker = std::thread::spawn(move || {
        let mem = PhysMemory::new(16 << 20).expect("RAM");
        let mut cpu = Cpu::new(mem, Box::new(NullBus));
        let (mut stops, mut retired, mut vectors) = ([0usize; 4], 0, [0usize; 256]);
        for index in 0..BLOBS {
            worker_progress.store(index, Ordering::SeqCst);
            let (code, gpr) = blob(seed, index);
            let before = cpu.instret;
            let stop = run_blob(&mut cpu, mode, &code, &gpr);
            retired += cpu.instret.wrapping_sub(before);
            stops[stop_index(stop)] += 1;
            if let Some(v) = trap::halted_vector(&cpu) {
                vectors[v as usize] += 1;
            }
        }
        worker_progress.store(BLOBS, Ordering::SeqCst);
        let top: Vec<String> = (0..256)
            .filter(|&v| vectors[v] > 0)
            .map(|v| format!("#{v}: {}", vectors[v]))
            .collect();
        eprintln!(
            "{mode:?}: {BLOBS} blobs, {retired} instructions retired; \
             budget {} halted {} triple fault {}; halted in handler {}",
            stops[stop_index(Stop::Budget)],
            stops[stop_index(Stop::Halted)],
            stops[stop_index(Stop::TripleFault)],
            top.join(", ")
        );
    });
    let mut last = (0, Instant::now());
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
        let now = progress.load(Ordering::SeqCst);
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > STUCK {
            let (code, _) = blob(seed, now);
            panic!(
                "{mode:?}: blob {now} has not returned for {STUCK:?} (budget {BUDGET}): {}",
                hex(&code)
            );
        }
    }
    if worker.join().is_err() {
        let index = progress.load(Ordering::SeqCst);
        let (code, gpr) = blob(seed, index);
        panic!(
            "{mode:?}: the emulator panicked on blob {index}: {}\nregisters: {gpr:x?}",
            hex(&code)
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn random_code_in_real_mode_never_panics_or_hangs() {
    fuzz(BareMode::Real, 0xF0);
}

#[test]
fn random_code_in_protected_mode_never_panics_or_hangs() {
    fuzz(BareMode::Protected32, 0xF1);
}

#[test]
fn random_code_in_compatibility_mode_never_panics_or_hangs() {
    fuzz(BareMode::Compat32, 0xF2);
}

#[test]
fn random_code_in_64_bit_mode_never_panics_or_hangs() {
    fuzz(BareMode::Long64, 0xF3);
}

/// A slot per kind of stop, for the summary.
fn stop_index(stop: Stop) -> usize {
    match stop {
        Stop::Budget => 0,
        Stop::Halted => 1,
        Stop::TripleFault => 2,
        Stop::Control(_) => 3,
    }
}
