//! Mode transitions driven by guest code alone: a program starts in real
//! mode with no tables, builds its GDT, enters protected mode, enables PAE
//! paging and long mode, runs 64-bit code, and then walks back down to
//! real mode the way SDM Vol. 3A, 9.8 and 9.9.2 describe. Each step ends in
//! a checkpoint HLT where the test looks at the CPU.

use emulator::bare::BareMode;
use emulator::cpu::state::{cr0, efer, Mode, SegReg};
use iced_x86::code_asm::*;
use integration_tests::sysenv::resume;
use integration_tests::{assemble, Vm, REAL_CODE_BASE};

const GDT: u64 = 0x1000;
const GDTR: u64 = 0x1100;
const FAR_PTR: u64 = 0x1200;
const PML4: u64 = 0x2_0000;
const PM32: u64 = 0x8000;
const LONG64: u64 = 0x9000;
const COMPAT: u64 = 0xA000;
const PM16: u64 = 0xB000;
const REAL_AGAIN: u64 = 0xB100;

const CODE32: u16 = 0x08;
const DATA32: u16 = 0x10;
const CODE64: u16 = 0x18;
const CODE16: u16 = 0x20;
const DATA16: u16 = 0x28;

/// Descriptors the real-mode code stores, as (low, high) dwords.
const DESCRIPTORS: [(u32, u32); 6] = [
    (0, 0),
    (0x0000_FFFF, 0x00CF_9B00), // code32, flat
    (0x0000_FFFF, 0x00CF_9300), // data32, flat
    (0x0000_FFFF, 0x00AF_9B00), // code64
    (0x0000_FFFF, 0x0000_9B00), // code16, 64 KiB
    (0x0000_FFFF, 0x0000_9300), // data16, 64 KiB
];

fn real_mode_entry(a: &mut CodeAssembler) -> Result<(), IcedError> {
    for (i, (lo, hi)) in DESCRIPTORS.iter().enumerate() {
        let at = GDT + 8 * i as u64;
        a.mov(dword_ptr(at), *lo)?;
        a.mov(dword_ptr(at + 4), *hi)?;
    }
    a.mov(word_ptr(GDTR), (DESCRIPTORS.len() * 8 - 1) as u32)?;
    a.mov(dword_ptr(GDTR + 2), GDT as u32)?;
    a.lgdt(fword_ptr(GDTR))?;
    a.mov(eax, cr0)?;
    a.or(eax, cr0::PE as i32)?;
    a.mov(cr0, eax)?;
    a.jmp_far(CODE32, PM32 as u32)
}

fn protected32(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.mov(ax, DATA32 as u32)?;
    a.mov(ds, ax)?;
    a.mov(es, ax)?;
    a.mov(ss, ax)?;
    a.mov(esp, 0x7000)?;
    a.hlt()?; // checkpoint 1: protected mode
              // Identity-map the first 2 MiB with one large page.
    a.mov(dword_ptr(PML4 as u32), (PML4 + 0x1000 + 3) as u32)?;
    a.mov(dword_ptr(PML4 as u32 + 0x1000), (PML4 + 0x2000 + 3) as u32)?;
    a.mov(dword_ptr(PML4 as u32 + 0x2000), 0x83)?;
    a.mov(eax, cr4)?;
    a.or(eax, 0x20)?; // PAE
    a.mov(cr4, eax)?;
    a.mov(eax, PML4 as u32)?;
    a.mov(cr3, eax)?;
    a.mov(ecx, 0xC000_0080u32)?;
    a.rdmsr()?;
    a.or(eax, efer::LME as i32)?;
    a.wrmsr()?;
    a.mov(eax, cr0)?;
    a.or(eax, cr0::PG as u32 as i32)?;
    a.mov(cr0, eax)?;
    a.hlt()?; // checkpoint 2: IA-32e mode, still 32-bit code
    a.jmp_far(CODE64, LONG64 as u32)
}

fn long64(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.mov(rax, 0x1234_5678_9ABC_DEF0u64)?;
    a.hlt()?; // checkpoint 3: 64-bit mode
    a.mov(dword_ptr(FAR_PTR), COMPAT as u32)?;
    a.mov(word_ptr(FAR_PTR + 4), CODE32 as u32)?;
    a.jmp(fword_ptr(FAR_PTR))
}

fn compat_then_leave_long_mode(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.hlt()?; // checkpoint 4: compatibility mode
    a.mov(eax, cr0)?;
    a.and(eax, !(cr0::PG as u32) as i32)?;
    a.mov(cr0, eax)?;
    a.mov(ecx, 0xC000_0080u32)?;
    a.rdmsr()?;
    a.and(eax, !(efer::LME as u32) as i32)?;
    a.wrmsr()?;
    a.mov(eax, cr4)?;
    a.and(eax, !0x20)?;
    a.mov(cr4, eax)?;
    a.hlt()?; // checkpoint 5: protected mode again, paging off
    a.jmp_far(CODE16, PM16 as u32)
}

fn protected16_then_real(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.mov(ax, DATA16 as u32)?;
    a.mov(ds, ax)?;
    a.mov(es, ax)?;
    a.mov(ss, ax)?;
    a.mov(eax, cr0)?;
    a.and(eax, !(cr0::PE as u32) as i32)?;
    a.mov(cr0, eax)?;
    a.jmp_far(0, REAL_AGAIN as u32)
}

fn real_again(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.xor(ax, ax)?;
    a.mov(ds, ax)?;
    a.mov(ss, ax)?;
    a.mov(sp, 0x6000)?;
    a.hlt() // checkpoint 6: real mode
}

/// The whole journey loaded at its addresses, stopped at checkpoint 1.
fn journey() -> Vm {
    let mut vm = Vm::new(
        BareMode::Real,
        &assemble(16, REAL_CODE_BASE, real_mode_entry),
    );
    for (bits, at, f) in [
        (
            32,
            PM32,
            protected32 as fn(&mut CodeAssembler) -> Result<(), IcedError>,
        ),
        (64, LONG64, long64),
        (32, COMPAT, compat_then_leave_long_mode),
        (16, PM16, protected16_then_real),
        (16, REAL_AGAIN, real_again),
    ] {
        let code = assemble(bits, at, f);
        vm.cpu.write_phys(at, &code);
    }
    vm.run_to_hlt(1000);
    vm
}

fn next_checkpoint(vm: &mut Vm) {
    resume(vm);
    vm.run_to_hlt(1000);
}

#[test]
fn real_mode_code_enters_protected_mode_through_its_own_gdt() {
    let vm = journey();

    assert_eq!(vm.cpu.mode, Mode::Protected32);
    assert_eq!(vm.cpu.segment(SegReg::Cs).selector, CODE32);
    assert_eq!(vm.cpu.segment(SegReg::Ss).selector, DATA32);
    assert_eq!(vm.cpu.cpl, 0);
    assert_eq!(vm.cpu.gdtr.base, GDT);
    assert_eq!(vm.cpu.gdtr.limit, 47);
}

#[test]
fn setting_pg_with_lme_and_pae_activates_ia32e_mode_in_32_bit_code() {
    let mut vm = journey();

    next_checkpoint(&mut vm);

    assert_eq!(vm.cpu.mode, Mode::Compat32);
    assert_ne!(vm.cpu.efer & efer::LMA, 0);
    assert_ne!(vm.cpu.cr0 & cr0::PG, 0);
}

#[test]
fn far_jump_to_a_long_code_segment_runs_64_bit_code() {
    let mut vm = journey();
    next_checkpoint(&mut vm);

    next_checkpoint(&mut vm);

    assert_eq!(vm.cpu.mode, Mode::Long64);
    assert_eq!(vm.cpu.segment(SegReg::Cs).selector, CODE64);
    assert_eq!(vm.cpu.gpr[0], 0x1234_5678_9ABC_DEF0);
}

#[test]
fn far_jump_through_memory_returns_to_compatibility_mode() {
    let mut vm = journey();
    next_checkpoint(&mut vm);
    next_checkpoint(&mut vm);

    next_checkpoint(&mut vm);

    assert_eq!(vm.cpu.mode, Mode::Compat32);
    assert_eq!(vm.cpu.segment(SegReg::Cs).selector, CODE32);
    assert_eq!(vm.cpu.rip, COMPAT + 1);
}

#[test]
fn clearing_pg_in_compatibility_mode_leaves_long_mode() {
    let mut vm = journey();
    for _ in 0..3 {
        next_checkpoint(&mut vm);
    }

    next_checkpoint(&mut vm);

    assert_eq!(vm.cpu.mode, Mode::Protected32);
    assert_eq!(vm.cpu.efer & (efer::LMA | efer::LME), 0);
    assert_eq!(vm.cpu.cr0 & cr0::PG, 0);
    assert_eq!(vm.cpu.cr4 & 0x20, 0);
}

#[test]
fn clearing_pe_from_16_bit_protected_code_returns_to_real_mode() {
    let mut vm = journey();
    for _ in 0..4 {
        next_checkpoint(&mut vm);
    }

    next_checkpoint(&mut vm);

    assert_eq!(vm.cpu.mode, Mode::Real);
    let code = vm.cpu.segment(SegReg::Cs);
    assert_eq!((code.selector, code.base), (0, 0));
    // xor ax,ax (2) + mov ds,ax (2) + mov ss,ax (2) + mov sp,imm16 (3) + hlt.
    assert_eq!(vm.cpu.rip, REAL_AGAIN + 10);
    assert_eq!(vm.cpu.gpr[4] & 0xFFFF, 0x6000);
}
