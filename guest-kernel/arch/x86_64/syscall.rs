//! The `syscall` instruction's MSRs (SDM Vol. 2B SYSCALL, Vol. 3A §5.8.8;
//! Linux's `syscall_init`).
//!
//! STAR[47:32] = 0x10: `syscall` loads CS 0x10, SS 0x18; STAR[63:48] =
//! 0x23: `sysret` would load CS 0x33 and SS 0x2b, the GDT's user segments.
//! LSTAR is `entry_syscall_64`; SFMASK clears IF, DF, TF and AC on entry.

use super::cpu;
use super::entry::entry_syscall_64;

const MSR_STAR: u32 = 0xC000_0081;
const MSR_LSTAR: u32 = 0xC000_0082;
const MSR_SYSCALL_MASK: u32 = 0xC000_0084;
const EFER_SCE: u64 = 1 << 0;

/// RFLAGS bits cleared on `syscall`: TF, IF, DF, AC (and NT, IOPL).
const SFMASK: u64 = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 18) | (1 << 14) | (3 << 12);

/// Enables `syscall`.
pub fn init() {
    // SAFETY: architectural MSRs present on every x86-64 CPU; the entry
    // point is valid kernel text.
    unsafe {
        cpu::wrmsr(MSR_STAR, (0x23u64 << 48) | (0x10u64 << 32));
        cpu::wrmsr(MSR_LSTAR, entry_syscall_64 as *const () as u64);
        cpu::wrmsr(MSR_SYSCALL_MASK, SFMASK);
        cpu::wrmsr(cpu::MSR_EFER, cpu::rdmsr(cpu::MSR_EFER) | EFER_SCE);
    }
}
