//! Annotations for the emulator's tracer: what only the kernel knows
//! (processes, context switches, system calls, handled faults) told to the
//! host through the annotation port, so a Perfetto trace shows guest
//! processes and threads beside the machine's events. The protocol is in
//! `docs/tracing.md` ("Guest annotations").
//!
//! The port answers its magic only while a trace with guest events is
//! being taken (set up before the machine starts); anywhere else (QEMU, a
//! run without a trace) it reads all ones. The answer is read once at boot,
//! so with no trace every annotation costs one test of a flag.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::x86_64::cpu;
use crate::arch::x86_64::io::{inl, outb, outl};

/// Read: the magic; write: commit an event of the kind in the low byte.
const PORT_COMMIT: u16 = 0x540;
/// Write: push one 32-bit argument.
const PORT_ARG: u16 = 0x544;
/// Write: append one byte of the event's name.
const PORT_NAME: u16 = 0x548;
/// "TRCE" in memory order.
const MAGIC: u32 = 0x4543_5254;
/// The tracer keeps at most this much of a name.
const NAME_MAX: usize = 64;

/// Event kinds.
mod kind {
    pub const PROCESS_START: u32 = 1;
    pub const PROCESS_EXIT: u32 = 2;
    pub const CONTEXT_SWITCH: u32 = 4;
    pub const SYSCALL_ENTRY: u32 = 5;
    pub const SYSCALL_EXIT: u32 = 6;
    pub const FAULT_HANDLED: u32 = 7;
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Asks the port whether a trace is being taken.
pub fn init() {
    // SAFETY: reading an I/O port has no side effect here; an absent
    // device reads as all ones.
    let answer = unsafe { inl(PORT_COMMIT) };
    ENABLED.store(answer == MAGIC, Ordering::Relaxed);
    if answer == MAGIC {
        pr_info!("trace: the emulator is tracing; annotating processes, switches and system calls");
    }
}

#[inline(always)]
fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Sends one event. Interrupts stay off from the first argument to the
/// commit, so two annotations never interleave.
fn annotate(kind: u32, args: &[u32], name: &[u8]) {
    let irq = cpu::local_irq_save();
    // SAFETY: the annotation port only records what is written to it.
    unsafe {
        for &a in args {
            outl(PORT_ARG, a);
        }
        for &b in name.iter().take(NAME_MAX) {
            outb(PORT_NAME, b);
        }
        outl(PORT_COMMIT, kind);
    }
    cpu::local_irq_restore(irq);
}

fn split(v: u64) -> [u32; 2] {
    [v as u32, (v >> 32) as u32]
}

/// A process was created (fork) or became another program (execve).
pub fn process_start(pid: u32, ppid: u32, name: &str) {
    if enabled() {
        annotate(kind::PROCESS_START, &[pid, ppid], name.as_bytes());
    }
}

/// A process became a zombie with wait status `status`.
pub fn process_exit(pid: u32, status: i32) {
    if enabled() {
        annotate(kind::PROCESS_EXIT, &[pid, status as u32], &[]);
    }
}

/// The CPU goes from `prev` to `next` (0: the idle task).
pub fn context_switch(prev: u32, next: u32) {
    if enabled() {
        annotate(kind::CONTEXT_SWITCH, &[prev, next], &[]);
    }
}

/// A system call starts (Linux x86-64 number).
pub fn syscall_entry(tid: u32, nr: u64) {
    if enabled() {
        annotate(kind::SYSCALL_ENTRY, &[tid, nr as u32], &[]);
    }
}

/// A system call returns `result` (a value or -errno).
pub fn syscall_exit(tid: u32, result: i64) {
    if enabled() {
        let [lo, hi] = split(result as u64);
        annotate(kind::SYSCALL_EXIT, &[tid, lo, hi], &[]);
    }
}

/// A page fault the kernel resolved: today, a user copy turned into
/// EFAULT by its fixup (there is no demand paging yet).
pub fn fault_handled(tid: u32, addr: u64, error_code: u64) {
    if enabled() {
        let [lo, hi] = split(addr);
        annotate(kind::FAULT_HANDLED, &[tid, lo, hi, error_code as u32], &[]);
    }
}
