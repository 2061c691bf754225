//! Exception and interrupt vectors that stop the CPU where a test can see
//! which vector was taken: every vector's handler is a single `HLT` at
//! `HANDLERS + vector`, so after `Stop::Halted` the RIP tells the vector.
//!
//! The tables are an IVT in real mode (SDM Vol. 3A, 20.1.4), a 32-bit IDT
//! of interrupt gates in protected mode and a 64-bit IDT in long mode
//! (Vol. 3A, 6.11 and 6.14.1).

use emulator::bare::{sel, BareMode};
use emulator::cpu::state::TableRegister;
use emulator::cpu::Cpu;

/// Physical address of the IDT (or of the IVT, at 0, in real mode).
pub const IDT_BASE: u64 = 0x2000;
/// The 256 one-byte `HLT` handlers start here.
pub const HANDLERS: u64 = 0x6000;
const HLT: u8 = 0xF4;
/// Present, DPL 0, interrupt gate (32-bit or 64-bit by mode).
const INTERRUPT_GATE: u64 = 0x8E;

/// Writes the handlers and the vector table for `mode` and loads IDTR.
pub fn install(cpu: &mut Cpu, mode: BareMode) {
    cpu.write_phys(HANDLERS, &[HLT; 256]);
    match mode {
        BareMode::Real => {
            let mut ivt = Vec::with_capacity(1024);
            for v in 0..256u64 {
                let offset = (HANDLERS + v) as u16;
                ivt.extend_from_slice(&offset.to_le_bytes());
                ivt.extend_from_slice(&0u16.to_le_bytes());
            }
            cpu.write_phys(0, &ivt);
            cpu.idtr = TableRegister {
                base: 0,
                limit: 0x3FF,
            };
        }
        BareMode::Protected32 => {
            let mut idt = Vec::with_capacity(256 * 8);
            for v in 0..256u64 {
                let h = HANDLERS + v;
                let gate = (h & 0xFFFF)
                    | ((sel::CODE32 as u64) << 16)
                    | (INTERRUPT_GATE << 40)
                    | ((h >> 16) << 48);
                idt.extend_from_slice(&gate.to_le_bytes());
            }
            cpu.write_phys(IDT_BASE, &idt);
            cpu.idtr = TableRegister {
                base: IDT_BASE,
                limit: (256 * 8 - 1) as u16,
            };
        }
        BareMode::Long64 | BareMode::Compat32 => {
            let mut idt = Vec::with_capacity(256 * 16);
            for v in 0..256u64 {
                let h = HANDLERS + v;
                let low = (h & 0xFFFF)
                    | ((sel::CODE64 as u64) << 16)
                    | (INTERRUPT_GATE << 40)
                    | (((h >> 16) & 0xFFFF) << 48);
                idt.extend_from_slice(&low.to_le_bytes());
                idt.extend_from_slice(&(h >> 32).to_le_bytes());
            }
            cpu.write_phys(IDT_BASE, &idt);
            cpu.idtr = TableRegister {
                base: IDT_BASE,
                limit: (256 * 16 - 1) as u16,
            };
        }
    }
}

/// The vector whose handler the CPU halted in, if it halted in one.
pub fn halted_vector(cpu: &Cpu) -> Option<u8> {
    let lin = cpu
        .rip
        .wrapping_add(cpu.segment(emulator::cpu::state::SegReg::Cs).base);
    let v = lin.wrapping_sub(HANDLERS + 1);
    (cpu.is_halted() && v < 256).then_some(v as u8)
}

/// Whether `vector` pushes an error code (SDM Vol. 3A, Table 6-1).
pub fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17 | 21)
}
