//! System-level test environment: interrupt tables whose every handler is
//! a HLT at a known address, gate and descriptor builders, and readers
//! for the frame an exception pushed.
//!
//! Handler `v` sits at `HANDLERS + v * HANDLER_STRIDE` and is a single
//! HLT, so after `run_to_hlt` the vector that was delivered is
//! `(rip - 1 - HANDLERS) / HANDLER_STRIDE` and the stack still holds the
//! frame exactly as the CPU pushed it.

use crate::Vm;
use emulator::bare::sel;
use emulator::bare::{self, BareMode};
use emulator::cpu::state::TableRegister;
use iced_x86::code_asm::CodeAssembler;
use iced_x86::IcedError;

pub use emulator::bare::descriptor;

/// Where the IDT (or, in real mode, the IVT at 0) is built.
pub const IDT_BASE: u64 = 0x3000;
/// First handler stub; each vector gets `HANDLER_STRIDE` bytes.
pub const HANDLERS: u64 = 0x4000;
pub const HANDLER_STRIDE: u64 = 16;
/// How many vectors get a gate.
pub const VECTORS: u64 = 64;
/// Stack that IST1 names in long mode.
pub const IST1_STACK: u64 = 0x9_8000;

const HLT: u8 = 0xF4;

/// Gate types (SDM Vol. 3A, Table 3-2).
pub const INTERRUPT_GATE: u8 = 0xE;
pub const TRAP_GATE: u8 = 0xF;

/// An 8-byte 32-bit interrupt or trap gate.
pub fn gate32(offset: u32, selector: u16, ty: u8, dpl: u8) -> u64 {
    (offset as u64 & 0xFFFF)
        | ((selector as u64) << 16)
        | ((0x80 | (dpl as u64) << 5 | ty as u64) << 40)
        | ((offset as u64 >> 16) << 48)
}

/// A 16-byte 64-bit interrupt or trap gate (low, high quadwords).
pub fn gate64(offset: u64, selector: u16, ty: u8, dpl: u8, ist: u8) -> [u64; 2] {
    let lo = (offset & 0xFFFF)
        | ((selector as u64) << 16)
        | ((ist as u64 & 7) << 32)
        | ((0x80 | (dpl as u64) << 5 | ty as u64) << 40)
        | (((offset >> 16) & 0xFFFF) << 48);
    [lo, offset >> 32]
}

/// A 32-bit call gate to `selector:offset` copying `params` dwords.
pub fn call_gate32(offset: u32, selector: u16, dpl: u8, params: u8) -> u64 {
    (offset as u64 & 0xFFFF)
        | ((selector as u64) << 16)
        | ((params as u64 & 0x1F) << 32)
        | ((0x80 | (dpl as u64) << 5 | 0xC) << 40)
        | ((offset as u64 >> 16) << 48)
}

/// The handler address of `vector`.
pub fn handler(vector: u8) -> u64 {
    HANDLERS + vector as u64 * HANDLER_STRIDE
}

pub fn write_u64(vm: &mut Vm, addr: u64, v: u64) {
    vm.cpu.write_phys(addr, &v.to_le_bytes());
}

pub fn write_u32(vm: &mut Vm, addr: u64, v: u32) {
    vm.cpu.write_phys(addr, &v.to_le_bytes());
}

pub fn read_u64(vm: &Vm, addr: u64) -> u64 {
    u64::from_le_bytes(vm.mem(addr, 8).try_into().unwrap())
}

pub fn read_u32(vm: &Vm, addr: u64) -> u32 {
    u32::from_le_bytes(vm.mem(addr, 4).try_into().unwrap())
}

pub fn read_u16(vm: &Vm, addr: u64) -> u16 {
    u16::from_le_bytes(vm.mem(addr, 2).try_into().unwrap())
}

/// Writes a GDT entry of the bare GDT (growing GDTR's limit if needed).
pub fn set_gdt_entry(vm: &mut Vm, selector: u16, desc: u64) {
    let off = (selector & !7) as u64;
    write_u64(vm, bare::GDT_BASE + off, desc);
    let limit = (off + 7) as u16;
    if vm.cpu.gdtr.limit < limit {
        vm.cpu.gdtr.limit = limit;
    }
}

/// Fills the interrupt table of `mode` with handlers that HLT: the IVT at
/// 0 in real mode, 8-byte interrupt gates in protected mode, 16-byte ones
/// in long mode (no IST). Loads IDTR.
pub fn install_idt(vm: &mut Vm, mode: BareMode) {
    for v in 0..VECTORS as u8 {
        vm.cpu.write_phys(handler(v), &[HLT]);
        match mode {
            BareMode::Real => write_u32(vm, v as u64 * 4, handler(v) as u32),
            BareMode::Protected32 => {
                let g = gate32(handler(v) as u32, bare::sel::CODE32, INTERRUPT_GATE, 0);
                write_u64(vm, IDT_BASE + v as u64 * 8, g);
            }
            BareMode::Long64 | BareMode::Compat32 => set_gate64(
                vm,
                v,
                gate64(handler(v), bare::sel::CODE64, INTERRUPT_GATE, 0, 0),
            ),
        }
    }
    vm.cpu.idtr = match mode {
        BareMode::Real => TableRegister {
            base: 0,
            limit: 0x3FF,
        },
        BareMode::Protected32 => TableRegister {
            base: IDT_BASE,
            limit: (VECTORS * 8 - 1) as u16,
        },
        _ => TableRegister {
            base: IDT_BASE,
            limit: (VECTORS * 16 - 1) as u16,
        },
    };
    // The 64-bit TSS's IST1 (at offset 0x24).
    if matches!(mode, BareMode::Long64 | BareMode::Compat32) {
        write_u64(vm, bare::TSS_BASE + 0x24, IST1_STACK);
    }
}

pub fn set_gate64(vm: &mut Vm, vector: u8, g: [u64; 2]) {
    write_u64(vm, IDT_BASE + vector as u64 * 16, g[0]);
    write_u64(vm, IDT_BASE + vector as u64 * 16 + 8, g[1]);
}

pub fn set_gate32(vm: &mut Vm, vector: u8, g: u64) {
    write_u64(vm, IDT_BASE + vector as u64 * 8, g);
}

/// The vector whose handler the CPU halted in, if it halted in one.
pub fn halted_vector(vm: &Vm) -> Option<u8> {
    let rip = vm.cpu.segment(emulator::cpu::state::SegReg::Cs).base + vm.cpu.rip;
    let at = rip.checked_sub(1 + HANDLERS)?;
    (at % HANDLER_STRIDE == 0 && at / HANDLER_STRIDE < VECTORS)
        .then_some((at / HANDLER_STRIDE) as u8)
}

/// The `i`-th 8-byte slot of the current stack (0 = top).
pub fn stack_u64(vm: &Vm, i: u64) -> u64 {
    read_u64(vm, vm.cpu.gpr[4] + 8 * i)
}

/// The `i`-th 4-byte slot of the current (flat) stack.
pub fn stack_u32(vm: &Vm, i: u64) -> u32 {
    read_u32(vm, (vm.cpu.gpr[4] & 0xFFFF_FFFF) + 4 * i)
}

/// The `i`-th 2-byte slot of the current real-mode stack (SS base added).
pub fn stack_u16(vm: &Vm, i: u64) -> u16 {
    let ss = vm.cpu.segment(emulator::cpu::state::SegReg::Ss).base;
    read_u16(vm, ss + (vm.cpu.gpr[4] & 0xFFFF) + 2 * i)
}

/// Continues after a checkpoint HLT.
pub fn resume(vm: &mut Vm) {
    vm.cpu.resume_from_halt();
}

/// Ring-3 code is placed here by tests that drop to CPL 3.
pub const USER_CODE: u64 = crate::CODE_BASE + 0x100;
/// The ring-3 stack.
pub const USER_STACK: u64 = 0x7_0000;

/// A test program.
pub type Program = fn(&mut CodeAssembler) -> Result<(), IcedError>;

/// A machine in `mode` with the HLT-handler IDT installed.
pub fn vm_with_idt(mode: BareMode, f: Program) -> Vm {
    let mut vm = Vm::with_asm(mode, f);
    install_idt(&mut vm, mode);
    vm
}

/// Assembles `f` for `bits` at `at` and loads it there.
pub fn place(vm: &mut Vm, bits: u32, at: u64, f: Program) {
    let code = crate::assemble(bits, at, f);
    vm.cpu.write_phys(at, &code);
}

/// Kernel code that enters the 64-bit ring-3 code at `USER_CODE`.
pub fn iretq_to_ring3(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.push(sel::USER_DATA as i32)?;
    a.push(USER_STACK as i32)?;
    a.pushfq()?;
    a.push(sel::USER_CODE64 as i32)?;
    a.push(USER_CODE as i32)?;
    a.iretq()
}

/// Kernel code that enters the 32-bit ring-3 code at `USER_CODE`.
pub fn iretd_to_ring3(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.push(sel::USER_DATA as i32)?;
    a.push(USER_STACK as i32)?;
    a.pushfd()?;
    a.push(sel::USER_CODE32 as i32)?;
    a.push(USER_CODE as i32)?;
    a.iretd()
}
