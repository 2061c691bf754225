//! Shared helpers for the integration tests: a bare machine in a chosen
//! mode, and assembling test programs with iced-x86's `CodeAssembler`.

/// Boot-sector programs that exercise the BIOS services.
pub mod bootdisk;
/// Scripted console sessions with a booted guest.
pub mod console;
/// Differential testing against the host CPU: generated cases, both runs, comparison.
pub mod diff;
/// Golden-file runner for instruction tests.
pub mod golden;
/// Booting the real boot chain (or a kernel directly) and reading the console.
pub mod guestboot;
/// The default recipe's inputs from this build, for variants of the default image.
pub mod imageinputs;
/// Running code snippets natively on the host CPU.
pub mod native;
/// Page tables in guest memory and paging state for MMU tests.
pub mod paging;
/// Exception vectors whose handlers halt, to see which fault a test hit.
pub mod trap;

pub use emulator;
pub use iced_x86;

/// Booting the real BIOS on the board: machines, boot sectors, disk images.
pub mod bootsector;
/// Differential SSE tests against the host CPU.
pub mod ssehost;
pub mod sysenv;

use emulator::bare::{self, BareMode};
use emulator::bus::NullBus;
use emulator::cpu::{Cpu, Stop};
use emulator::memory::PhysMemory;
use iced_x86::code_asm::CodeAssembler;
use iced_x86::IcedError;

/// Where test code is loaded and started.
pub const CODE_BASE: u64 = 0x10_0000;
/// Where the test stack starts (grows down).
pub const STACK_TOP: u64 = 0x8_0000;
/// Real-mode code runs from here (CS = 0).
pub const REAL_CODE_BASE: u64 = 0x7C00;

/// Assembles a program for `bitness` at address `ip`.
pub fn assemble(
    bitness: u32,
    ip: u64,
    f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> Vec<u8> {
    let mut a = CodeAssembler::new(bitness).expect("valid bitness");
    f(&mut a).expect("assembly failed");
    a.assemble(ip).expect("assembly failed")
}

/// A CPU with 16 MiB of RAM on a bus with no devices.
pub struct Vm {
    pub cpu: Cpu,
}

impl Vm {
    /// A machine in `mode` with `code` loaded at the mode's code base.
    pub fn new(mode: BareMode, code: &[u8]) -> Vm {
        let mem = PhysMemory::new(16 << 20).expect("RAM");
        let mut cpu = Cpu::new(mem, Box::new(NullBus));
        let entry = Self::code_base(mode);
        bare::setup(&mut cpu, mode, entry, Self::stack_top(mode));
        cpu.write_phys(entry, code);
        Vm { cpu }
    }

    /// A machine in `mode` running the program `f` assembles.
    pub fn with_asm(
        mode: BareMode,
        f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
    ) -> Vm {
        let bitness = match mode {
            BareMode::Real => 16,
            BareMode::Protected32 | BareMode::Compat32 => 32,
            BareMode::Long64 => 64,
        };
        let code = assemble(bitness, Self::code_base(mode), f);
        Vm::new(mode, &code)
    }

    pub fn code_base(mode: BareMode) -> u64 {
        if mode == BareMode::Real {
            REAL_CODE_BASE
        } else {
            CODE_BASE
        }
    }

    fn stack_top(mode: BareMode) -> u64 {
        if mode == BareMode::Real {
            0x7000
        } else {
            STACK_TOP
        }
    }

    /// Runs until HLT (or `max` instructions); panics with a register dump
    /// on anything but a halt.
    pub fn run_to_hlt(&mut self, max: u64) {
        let stop = self.cpu.run(max);
        assert_eq!(stop, Stop::Halted, "did not halt:\n{}", self.cpu.dump());
    }

    /// Reads `len` bytes of guest physical memory.
    pub fn mem(&self, addr: u64, len: usize) -> &[u8] {
        &self.cpu.mem.ram()[addr as usize..addr as usize + len]
    }
}

pub mod testbus;
pub mod traps;
