//! Port I/O: IN, OUT, INS, OUTS through a recording bus, in real,
//! protected and long mode, and the protection rules: IOPL and the TSS I/O
//! permission bitmap for code at CPL 3.

use emulator::bare::{self, BareMode};
use emulator::cpu::state::{rflags, SegReg};
use emulator::cpu::Cpu;
use iced_x86::code_asm::*;
use iced_x86::IcedError;
use integration_tests::testbus::{PortAccess, PortLog, RecordingBus};
use integration_tests::traps::{self, halted_in_vector, punch_hole, stack_slot};
use integration_tests::Vm;

const RAX: usize = 0;
const RCX: usize = 1;
const RSI: usize = 6;
const RDI: usize = 7;

const GP: u8 = 13;
const UD: u8 = 6;

/// A machine in `mode` running `f`'s program on a recording bus.
fn vm_on_recording_bus(
    mode: BareMode,
    f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> (Vm, PortLog) {
    let mut vm = Vm::with_asm(mode, f);
    let (bus, log) = RecordingBus::new();
    vm.cpu.bus = Box::new(bus);
    (vm, log)
}

fn write(port: u16, size: u8, value: u32) -> PortAccess {
    PortAccess::Write { port, size, value }
}

fn read(port: u16, size: u8, value: u32) -> PortAccess {
    PortAccess::Read { port, size, value }
}

// ---- IN and OUT ----------------------------------------------------------------

#[test]
fn real_mode_out_imm8_writes_al_to_the_port() {
    let (mut vm, log) = vm_on_recording_bus(BareMode::Real, |a| {
        a.mov(al, 0x42)?;
        a.out(0x80, al)?;
        a.hlt()
    });

    vm.run_to_hlt(100);

    assert_eq!(log.accesses(), [write(0x80, 1, 0x42)]);
}

#[test]
fn protected_mode_out_dx_ax_writes_a_word() {
    let (mut vm, log) = vm_on_recording_bus(BareMode::Protected32, |a| {
        a.mov(dx, 0x1F0)?;
        a.mov(eax, 0xAAAA_1234u32)?;
        a.out(dx, ax)?;
        a.hlt()
    });

    vm.run_to_hlt(100);

    assert_eq!(log.accesses(), [write(0x1F0, 2, 0x1234)]);
}

#[test]
fn protected_mode_in_ax_imm8_keeps_the_upper_half_of_eax() {
    let (mut vm, log) = vm_on_recording_bus(BareMode::Protected32, |a| {
        a.mov(eax, 0x1234_5678u32)?;
        a.in_(ax, 0x60)?;
        a.hlt()
    });
    log.script(0x60, &[0xBEEF]);

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.gpr[RAX], 0x1234_BEEF);
    assert_eq!(log.accesses(), [read(0x60, 2, 0xBEEF)]);
}

#[test]
fn long_mode_in_eax_from_dx_zero_extends_into_rax() {
    let (mut vm, log) = vm_on_recording_bus(BareMode::Long64, |a| {
        a.mov(rax, -1i64)?;
        a.mov(dx, 0xCFC)?;
        a.in_(eax, dx)?;
        a.hlt()
    });
    log.script(0xCFC, &[0xDEAD_BEEF]);

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.gpr[RAX], 0xDEAD_BEEF);
    assert_eq!(log.accesses(), [read(0xCFC, 4, 0xDEAD_BEEF)]);
}

// ---- INS and OUTS --------------------------------------------------------------

#[test]
fn long_mode_rep_outsb_sends_the_buffer_in_order() {
    let (mut vm, log) = vm_on_recording_bus(BareMode::Long64, |a| {
        a.mov(dx, 0x3F8)?;
        a.mov(rsi, 0x20_0000u64)?;
        a.mov(rcx, 3u64)?;
        a.rep().outsb()?;
        a.hlt()
    });
    vm.cpu.write_phys(0x20_0000, b"abc");

    vm.run_to_hlt(100);

    let sent = [
        write(0x3F8, 1, 0x61),
        write(0x3F8, 1, 0x62),
        write(0x3F8, 1, 0x63),
    ];
    assert_eq!(log.accesses(), sent);
    assert_eq!(vm.cpu.gpr[RSI], 0x20_0003);
    assert_eq!(vm.cpu.gpr[RCX], 0);
}

#[test]
fn protected_mode_rep_insw_stores_the_words_read() {
    let (mut vm, log) = vm_on_recording_bus(BareMode::Protected32, |a| {
        a.mov(dx, 0x1F0)?;
        a.mov(edi, 0x4000)?;
        a.mov(ecx, 3)?;
        a.rep().insw()?;
        a.hlt()
    });
    log.script(0x1F0, &[0x1111, 0x2222, 0x3333]);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x4000, 6), &[0x11, 0x11, 0x22, 0x22, 0x33, 0x33]);
    assert_eq!(vm.cpu.gpr[RDI], 0x4006);
    assert_eq!(log.accesses().len(), 3);
}

#[test]
fn real_mode_insb_with_df_set_stores_downwards() {
    let (mut vm, log) = vm_on_recording_bus(BareMode::Real, |a| {
        a.mov(dx, 0x60)?;
        a.mov(di, 0x3001)?;
        a.mov(cx, 2)?;
        a.rep().insb()?;
        a.hlt()
    });
    log.script(0x60, &[0xA1, 0xA2]);
    vm.cpu.flags.assign(rflags::DF, true);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x3000, 2), &[0xA2, 0xA1]);
    assert_eq!(vm.cpu.gpr[RDI] & 0xFFFF, 0x2FFF);
}

#[test]
fn insb_past_the_es_limit_faults_before_reading_the_port() {
    let (mut vm, log) = vm_on_recording_bus(BareMode::Protected32, |a| {
        a.mov(dx, 0x60)?;
        a.mov(edi, 0x4000)?;
        a.insb()?;
        a.hlt()
    });
    traps::halt_on_exceptions(&mut vm.cpu);
    vm.cpu.seg[SegReg::Es as usize].limit = 0x3FFF;

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(GP));
    assert_eq!(log.accesses(), []);
}

#[test]
fn insb_into_an_unmapped_page_faults_before_reading_the_port() {
    let hole = 0x20_3000u64;
    let (mut vm, log) = vm_on_recording_bus(BareMode::Long64, |a| {
        a.mov(dx, 0x60)?;
        a.mov(rdi, hole + 0x10)?;
        a.insb()?;
        a.hlt()
    });
    traps::halt_on_exceptions(&mut vm.cpu);
    punch_hole(&mut vm.cpu, hole);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(14));
    assert_eq!(vm.cpu.cr2, hole + 0x10);
    assert_eq!(log.accesses(), []);
}

// ---- Protection: IOPL and the I/O permission bitmap ----------------------------

/// Offset of the bitmap in the bare TSS (its I/O map base field says 0x68).
const IO_MAP: u64 = 0x68;

/// Gives the bare TSS an I/O permission bitmap of `len` bytes in which
/// only `allowed` ports are open, followed (if `trailer`) by the all-ones
/// byte the SDM asks for; the TSS limit ends right after.
fn io_bitmap(cpu: &mut Cpu, len: usize, allowed: &[u16], trailer: bool) {
    let mut map = vec![0xFFu8; len + trailer as usize];
    for &p in allowed {
        map[p as usize / 8] &= !(1 << (p % 8));
    }
    cpu.write_phys(bare::TSS_BASE + IO_MAP, &map);
    cpu.tr.limit = (IO_MAP + map.len() as u64 - 1) as u32;
}

/// A long-mode machine on a recording bus whose program `f` runs at CPL 3
/// (IOPL 0) and ends in UD2, so success halts in the #UD handler and a
/// refused port access in the #GP handler.
fn user_program(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> (Vm, PortLog) {
    let (mut vm, log) = vm_on_recording_bus(BareMode::Long64, |a| {
        f(a)?;
        a.ud2()
    });
    traps::halt_on_exceptions(&mut vm.cpu);
    traps::enter_user64(&mut vm.cpu, 0x7_0000);
    (vm, log)
}

#[test]
fn cpl3_out_to_a_port_the_bitmap_opens_reaches_the_bus() {
    let (mut vm, log) = user_program(|a| {
        a.mov(al, 0x11)?;
        a.out(0x80, al)
    });
    io_bitmap(&mut vm.cpu, 0x2000, &[0x80], true);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(UD));
    assert_eq!(log.accesses(), [write(0x80, 1, 0x11)]);
}

#[test]
fn cpl3_out_to_a_port_the_bitmap_closes_raises_gp0_without_touching_the_bus() {
    let (mut vm, log) = user_program(|a| {
        a.mov(al, 0x11)?;
        a.out(0x81, al)
    });
    io_bitmap(&mut vm.cpu, 0x2000, &[0x80], true);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(GP));
    assert_eq!(stack_slot(&vm.cpu, 0, 8), 0, "#GP(0)");
    assert_eq!(log.accesses(), []);
}

#[test]
fn cpl3_word_out_across_a_bitmap_byte_needs_both_port_bits_open() {
    let (mut vm, log) = user_program(|a| {
        a.mov(dx, 0x107)?;
        a.out(dx, ax)
    });
    io_bitmap(&mut vm.cpu, 0x2000, &[0x107, 0x108], true);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(UD));
    assert_eq!(log.accesses().len(), 1);
}

#[test]
fn cpl3_word_out_across_a_bitmap_byte_with_the_second_port_closed_raises_gp() {
    let (mut vm, log) = user_program(|a| {
        a.mov(dx, 0x107)?;
        a.out(dx, ax)
    });
    io_bitmap(&mut vm.cpu, 0x2000, &[0x107], true);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(GP));
    assert_eq!(log.accesses(), []);
}

#[test]
fn cpl3_port_beyond_a_short_bitmap_is_refused() {
    // 0x80 bytes map ports 0..=0x3FF; port 0x400 lies past the TSS limit.
    let (mut vm, log) = user_program(|a| {
        a.mov(dx, 0x400)?;
        a.in_(al, dx)
    });
    io_bitmap(&mut vm.cpu, 0x80, &[0x400 - 8], true);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(GP));
    assert_eq!(log.accesses(), []);
}

#[test]
fn cpl3_port_in_the_last_bitmap_byte_is_refused_without_the_trailing_ones_byte() {
    // The bitmap is read two bytes at a time (SDM Vol. 1, 19.5.2): the
    // byte after the map must be inside the TSS limit.
    let (mut vm, log) = user_program(|a| {
        a.mov(dx, 0x3F8)?;
        a.in_(al, dx)
    });
    io_bitmap(&mut vm.cpu, 0x80, &[0x3F8], false);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(GP));
    assert_eq!(log.accesses(), []);
}

#[test]
fn cpl3_port_in_the_last_bitmap_byte_is_allowed_with_the_trailing_ones_byte() {
    let (mut vm, log) = user_program(|a| {
        a.mov(dx, 0x3F8)?;
        a.in_(al, dx)
    });
    io_bitmap(&mut vm.cpu, 0x80, &[0x3F8], true);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(UD));
    assert_eq!(log.accesses(), [read(0x3F8, 1, 0xFF)]);
}

#[test]
fn cpl3_with_iopl_3_skips_the_bitmap() {
    let (mut vm, log) = user_program(|a| {
        a.mov(al, 0x22)?;
        a.out(0x81, al)
    });
    io_bitmap(&mut vm.cpu, 0x2000, &[], true);
    vm.cpu.flags.set(vm.cpu.flags.get() | rflags::IOPL);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(UD));
    assert_eq!(log.accesses(), [write(0x81, 1, 0x22)]);
}

#[test]
fn cpl3_port_access_with_a_16_bit_tss_raises_gp() {
    let (mut vm, log) = user_program(|a| a.out(0x80, al));
    io_bitmap(&mut vm.cpu, 0x2000, &[0x80], true);
    vm.cpu.tr.attr = (vm.cpu.tr.attr & !0xF) | 0x3; // busy 16-bit TSS

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(GP));
    assert_eq!(log.accesses(), []);
}

#[test]
fn cpl3_rep_outsb_to_a_closed_port_faults_before_any_element() {
    let (mut vm, log) = user_program(|a| {
        a.mov(dx, 0x3F8)?;
        a.mov(rsi, 0x20_0000u64)?;
        a.mov(rcx, 4u64)?;
        a.rep().outsb()
    });
    io_bitmap(&mut vm.cpu, 0x2000, &[], true);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(GP));
    assert_eq!(log.accesses(), []);
    assert_eq!(vm.cpu.gpr[RSI], 0x20_0000);
    assert_eq!(vm.cpu.gpr[RCX], 4);
}

#[test]
fn cpl3_rep_insb_to_an_open_port_fills_the_user_buffer() {
    let (mut vm, log) = user_program(|a| {
        a.mov(dx, 0x60)?;
        a.mov(rdi, 0x20_0000u64)?;
        a.mov(rcx, 2u64)?;
        a.rep().insb()
    });
    io_bitmap(&mut vm.cpu, 0x2000, &[0x60], true);
    log.script(0x60, &[0x12, 0x34]);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(UD));
    assert_eq!(vm.mem(0x20_0000, 2), &[0x12, 0x34]);
    assert_eq!(vm.cpu.gpr[RDI], 0x20_0002);
}
