//! SSE: enabling it and saving its state (SDM Vol. 3A §13.1.4 "Initialization
//! of the SSE Extensions", Vol. 1 §10.5 FXSAVE area). Linux's
//! `arch/x86/kernel/fpu/`.

use core::arch::asm;

use super::cpu::{self, cr0, cr4};

/// The MXCSR power-on value: all exceptions masked, round to nearest.
const MXCSR_DEFAULT: u32 = 0x1F80;

/// CPUID.1:EDX feature bits.
const CPUID_FXSR: u32 = 1 << 24;
const CPUID_SSE: u32 = 1 << 25;
const CPUID_SSE2: u32 = 1 << 26;

/// Checks for FXSR/SSE/SSE2 and turns SSE on: CR0.EM = 0, CR0.MP = 1,
/// CR0.NE = 1, CR0.TS = 0, CR4.OSFXSR and CR4.OSXMMEXCPT; then resets the
/// x87 and MXCSR. Returns false if the CPU lacks them.
pub fn init() -> bool {
    let (_, _, _, edx) = cpu::cpuid(1);
    let needed = CPUID_FXSR | CPUID_SSE | CPUID_SSE2;
    if edx & needed != needed {
        return false;
    }
    // SAFETY: the bits follow SDM §13.1.4; stage 2 already enabled SSE, so
    // code using XMM registers keeps working.
    unsafe {
        cpu::write_cr0((cpu::read_cr0() & !(cr0::EM | cr0::TS)) | cr0::MP | cr0::NE);
        cpu::write_cr4(cpu::read_cr4() | cr4::OSFXSR | cr4::OSXMMEXCPT);
        let mxcsr = MXCSR_DEFAULT;
        asm!("fninit", "ldmxcsr [{}]", in(reg) &mxcsr, options(nostack));
    }
    true
}

/// The FXSAVE image of the x87/SSE registers (512 bytes, 16-aligned).
#[repr(C, align(16))]
pub struct FpuState {
    bytes: [u8; 512],
}

impl FpuState {
    /// A clean state: FCW 0x037F, MXCSR 0x1F80 (what `fninit` and reset
    /// give).
    pub const fn new() -> Self {
        let mut bytes = [0; 512];
        bytes[0] = 0x7F;
        bytes[1] = 0x03;
        bytes[24] = 0x80;
        bytes[25] = 0x1F;
        FpuState { bytes }
    }

    /// Saves the CPU's x87/SSE registers here.
    pub fn save(&mut self) {
        // SAFETY: the area is 512 bytes and 16-aligned, as FXSAVE needs.
        unsafe {
            asm!("fxsave [{}]", in(reg) self.bytes.as_mut_ptr(), options(nostack, preserves_flags))
        };
    }

    /// Loads the x87/SSE registers from here.
    pub fn restore(&self) {
        // SAFETY: the area holds a valid image (reserved MXCSR bits clear).
        unsafe {
            asm!("fxrstor [{}]", in(reg) self.bytes.as_ptr(), options(nostack, preserves_flags, readonly))
        };
    }
}

impl Default for FpuState {
    fn default() -> Self {
        Self::new()
    }
}
