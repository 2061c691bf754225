//! Exception plumbing for tests that expect a fault: an IDT whose gates
//! each lead to their own HLT, so after `run_to_hlt` the test can tell
//! which vector was taken and inspect the frame the CPU pushed; and a way
//! to drop a bare long-mode CPU to CPL 3.

use emulator::bare::{self, descriptor, sel};
use emulator::cpu::state::{Mode, SegReg, Segment, TableRegister};
use emulator::cpu::Cpu;

/// Where the IDT is built.
pub const IDT_BASE: u64 = 0x3_0000;
/// Vector `v`'s handler is a lone HLT at `HALT_HANDLERS + v`.
pub const HALT_HANDLERS: u64 = 0x18_0000;
/// Exception vectors that get a gate.
const VECTORS: u64 = 32;

/// Points gate `vector` at `handler` (ring-0 interrupt gate, for the
/// CPU's current mode: 16-byte gates to the 64-bit code segment in long
/// mode, 8-byte 32-bit gates to the 32-bit code segment otherwise).
pub fn set_gate(cpu: &mut Cpu, vector: u8, handler: u64) {
    const INTERRUPT_GATE_PRESENT: u64 = 0x8E;
    let long = cpu.mode.is_long();
    let code = if long { sel::CODE64 } else { sel::CODE32 };
    let lo = (handler & 0xFFFF)
        | (code as u64) << 16
        | INTERRUPT_GATE_PRESENT << 40
        | ((handler >> 16) & 0xFFFF) << 48;
    let (width, bytes) = if long {
        let mut b = lo.to_le_bytes().to_vec();
        b.extend_from_slice(&(handler >> 32).to_le_bytes());
        (16, b)
    } else {
        (8, lo.to_le_bytes().to_vec())
    };
    cpu.write_phys(IDT_BASE + vector as u64 * width, &bytes);
    cpu.idtr = TableRegister {
        base: IDT_BASE,
        limit: (VECTORS * width - 1) as u16,
    };
}

/// Gives every exception vector a handler that halts at once.
pub fn halt_on_exceptions(cpu: &mut Cpu) {
    cpu.write_phys(HALT_HANDLERS, &[0xF4; VECTORS as usize]);
    for v in 0..VECTORS as u8 {
        set_gate(cpu, v, HALT_HANDLERS + v as u64);
    }
}

/// The vector whose halt handler the CPU stopped in, if any.
pub fn halted_in_vector(cpu: &Cpu) -> Option<u8> {
    let v = cpu.rip.checked_sub(HALT_HANDLERS + 1)?;
    (v < VECTORS).then_some(v as u8)
}

/// Reads the `i`-th stack slot of `width` bytes above the stack pointer
/// (flat, identity-mapped stack).
pub fn stack_slot(cpu: &Cpu, i: u64, width: u64) -> u64 {
    let at = (cpu.gpr[4] + i * width) as usize;
    let mut b = [0u8; 8];
    b[..width as usize].copy_from_slice(&cpu.mem.ram()[at..at + width as usize]);
    u64::from_le_bytes(b)
}

/// Puts a bare long-mode CPU at CPL 3 in 64-bit user code, with user data
/// segments and the stack pointer at `stack`.
pub fn enter_user64(cpu: &mut Cpu, stack: u64) {
    let code = Segment::from_descriptor(sel::USER_CODE64, descriptor(0, 0xFFFFF, 0xFB, 0xA));
    let data = Segment::from_descriptor(sel::USER_DATA, descriptor(0, 0xFFFFF, 0xF3, 0xC));
    for s in [SegReg::Ds, SegReg::Es, SegReg::Ss, SegReg::Fs, SegReg::Gs] {
        cpu.seg[s as usize] = data;
    }
    cpu.seg[SegReg::Cs as usize] = code;
    cpu.cpl = 3;
    cpu.update_mode();
    assert_eq!(cpu.mode, Mode::Long64);
    cpu.gpr[4] = stack;
}

/// A 4 KiB page table for splitting one 2 MiB page of the bare map.
const PAGE_TABLE: u64 = 0x4_0000;

/// Remaps the 2 MiB region holding `hole` (bare long mode) with 4 KiB
/// pages, all present but the one holding `hole`, and flushes the TLB.
/// Returns the physical address of the hole's PTE, for a handler to fix.
pub fn punch_hole(cpu: &mut Cpu, hole: u64) -> u64 {
    let region = hole & !0x1F_FFFF;
    for i in 0..512u64 {
        let page = region + i * 0x1000;
        let pte = if page == hole & !0xFFF { 0 } else { page | 0x7 };
        cpu.write_phys(PAGE_TABLE + i * 8, &pte.to_le_bytes());
    }
    let pd = bare::PML4_BASE + 0x2000 + (hole >> 30) * 0x1000;
    let pde = pd + ((hole >> 21) & 511) * 8;
    cpu.write_phys(pde, &(PAGE_TABLE | 0x7).to_le_bytes());
    cpu.tlb.flush_all();
    PAGE_TABLE + ((hole >> 12) & 511) * 8
}
