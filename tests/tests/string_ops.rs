//! String instructions (MOVS, STOS, LODS, CMPS, SCAS) with and without the
//! repeat prefixes, in real, protected and long mode: direction flag,
//! address-size wrap, segment override, REPE/REPNE termination, overlap,
//! and precise, restartable faults in the middle of a REP.

use emulator::bare::BareMode;
use emulator::cpu::exec::string::MAX_ITERATIONS;
use emulator::cpu::state::{rflags, SegReg, Segment};
use iced_x86::code_asm::*;
use iced_x86::{Instruction, Register, RepPrefixKind};
use integration_tests::testbus::{MmioWrite, RecordingBus};
use integration_tests::traps::{self, halted_in_vector, punch_hole, stack_slot};
use integration_tests::{assemble, Vm, CODE_BASE};

const RAX: usize = 0;
const RCX: usize = 1;
const RSI: usize = 6;
const RDI: usize = 7;

/// Bytes that differ from their neighbours, so a misplaced copy shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

fn movsb_with(address_size: u32, segment: Register) -> Instruction {
    Instruction::with_movsb(address_size, segment, RepPrefixKind::None).unwrap()
}

// ---- MOVS -----------------------------------------------------------------

#[test]
fn rep_movsb_copies_a_buffer_spanning_several_pages_in_long_mode() {
    let (src, dst, len) = (0x20_0100u64, 0x30_0F80u64, 10_000u64);
    let data = pattern(len as usize);
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, src)?;
        a.mov(rdi, dst)?;
        a.mov(rcx, len)?;
        a.rep().movsb()?;
        a.hlt()
    });
    vm.cpu.write_phys(src, &data);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(dst, len as usize), &data[..]);
    assert_eq!(vm.cpu.gpr[RSI], src + len);
    assert_eq!(vm.cpu.gpr[RDI], dst + len);
    assert_eq!(vm.cpu.gpr[RCX], 0);
}

#[test]
fn rep_movsd_in_protected_mode_copies_dwords_and_steps_by_four() {
    let data = pattern(20);
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.mov(esi, 0x2000)?;
        a.mov(edi, 0x3000)?;
        a.mov(ecx, 5)?;
        a.rep().movsd()?;
        a.hlt()
    });
    vm.cpu.write_phys(0x2000, &data);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x3000, 20), &data[..]);
    assert_eq!(vm.cpu.gpr[RSI], 0x2014);
    assert_eq!(vm.cpu.gpr[RDI], 0x3014);
    assert_eq!(vm.cpu.gpr[RCX], 0);
}

#[test]
fn rep_movsq_in_long_mode_copies_quadwords() {
    let data = pattern(24);
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, 0x20_0000u64)?;
        a.mov(rdi, 0x20_1FF8u64)?; // the second quadword crosses a page
        a.mov(rcx, 3u64)?;
        a.rep().movsq()?;
        a.hlt()
    });
    vm.cpu.write_phys(0x20_0000, &data);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x20_1FF8, 24), &data[..]);
    assert_eq!(vm.cpu.gpr[RDI], 0x20_2010);
}

#[test]
fn movsb_with_df_set_steps_both_pointers_down() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, 0x20_0010u64)?;
        a.mov(rdi, 0x30_0010u64)?;
        a.movsb()?;
        a.hlt()
    });
    vm.cpu.write_phys(0x20_0010, &[0x5A]);
    vm.cpu.flags.assign(rflags::DF, true);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x30_0010, 1), &[0x5A]);
    assert_eq!(vm.cpu.gpr[RSI], 0x20_000F);
    assert_eq!(vm.cpu.gpr[RDI], 0x30_000F);
}

#[test]
fn rep_movsb_backwards_onto_an_overlapping_destination_moves_like_memmove() {
    let buf = 0x20_0000u64;
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, buf + 11)?;
        a.mov(rdi, buf + 15)?;
        a.mov(rcx, 12u64)?;
        a.rep().movsb()?;
        a.hlt()
    });
    vm.cpu.write_phys(buf, b"0123456789ABCDEF");
    vm.cpu.flags.assign(rflags::DF, true);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(buf, 16), b"01230123456789AB");
    assert_eq!(vm.cpu.gpr[RSI], buf - 1);
    assert_eq!(vm.cpu.gpr[RDI], buf + 3);
}

#[test]
fn rep_movsb_forward_onto_the_next_byte_repeats_the_first_byte() {
    // Element by element, each byte read is the one just written: the
    // classic "rep movsb with di = si + 1" fill, not a memmove.
    let buf = 0x20_0000u64;
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, buf)?;
        a.mov(rdi, buf + 1)?;
        a.mov(rcx, 8u64)?;
        a.rep().movsb()?;
        a.hlt()
    });
    vm.cpu.write_phys(buf, b"x12345678");

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(buf, 9), b"xxxxxxxxx");
}

#[test]
fn rep_movsw_backwards_onto_the_previous_word_repeats_the_last_word() {
    // DF = 1 with the destination one element below the source: each
    // word read is the one just written, as in the forward case mirrored.
    let buf = 0x20_0000u64;
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, buf + 8)?;
        a.mov(rdi, buf + 6)?;
        a.mov(rcx, 4u64)?;
        a.rep().movsw()?;
        a.hlt()
    });
    vm.cpu.write_phys(buf, b"0011223344");
    vm.cpu.flags.assign(rflags::DF, true);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(buf, 10), b"4444444444");
    assert_eq!(vm.cpu.gpr[RDI], buf - 2);
}

#[test]
fn real_mode_rep_stosw_into_mmio_reaches_the_bus_one_word_at_a_time() {
    // 0xA0000 is the legacy video window: MMIO, never the direct path.
    let mut vm = Vm::with_asm(BareMode::Real, |a| {
        a.mov(ax, 0x0741)?;
        a.mov(di, 0x0FFE)?;
        a.mov(cx, 3)?;
        a.rep().stosw()?;
        a.hlt()
    });
    let (bus, log) = RecordingBus::new();
    vm.cpu.bus = Box::new(bus);
    vm.cpu.seg[SegReg::Es as usize] = Segment::real_mode(0xA000);

    vm.run_to_hlt(100);

    let word = |addr| MmioWrite {
        addr,
        size: 2,
        value: 0x0741,
    };
    assert_eq!(
        log.mmio_writes(),
        [word(0xA0FFE), word(0xA1000), word(0xA1002)]
    );
    assert_eq!(vm.cpu.gpr[RDI] & 0xFFFF, 0x1004);
}

#[test]
fn rep_movsb_with_zero_count_copies_nothing_and_moves_nothing() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, 0x20_0000u64)?;
        a.mov(rdi, 0x30_0000u64)?;
        a.xor(ecx, ecx)?;
        a.rep().movsb()?;
        a.hlt()
    });
    vm.cpu.write_phys(0x20_0000, &[0x11]);
    vm.cpu.write_phys(0x30_0000, &[0x22]);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x30_0000, 1), &[0x22]);
    assert_eq!(vm.cpu.gpr[RSI], 0x20_0000);
    assert_eq!(vm.cpu.gpr[RDI], 0x30_0000);
}

#[test]
fn real_mode_rep_movsb_wraps_si_from_ffff_to_zero() {
    let mut vm = Vm::with_asm(BareMode::Real, |a| {
        a.mov(si, 0xFFFE)?;
        a.mov(di, 0x3000)?;
        a.mov(cx, 4)?;
        a.rep().movsb()?;
        a.hlt()
    });
    vm.cpu.write_phys(0xFFFE, &[0xA1, 0xA2]);
    vm.cpu.write_phys(0x0000, &[0xA3, 0xA4]);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x3000, 4), &[0xA1, 0xA2, 0xA3, 0xA4]);
    assert_eq!(vm.cpu.gpr[RSI] & 0xFFFF, 2);
    assert_eq!(vm.cpu.gpr[RDI] & 0xFFFF, 0x3004);
}

#[test]
fn fs_override_makes_movsb_read_through_fs_in_long_mode() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, 0x10u64)?;
        a.mov(rdi, 0x50_0000u64)?;
        a.add_instruction(movsb_with(64, Register::FS))?;
        a.hlt()
    });
    vm.cpu.seg[SegReg::Fs as usize].base = 0x40_0000;
    vm.cpu.write_phys(0x40_0010, &[0x66]);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x50_0000, 1), &[0x66]);
    assert_eq!(vm.cpu.gpr[RSI], 0x11);
}

#[test]
fn addr32_movsb_in_long_mode_uses_esi_edi_and_zero_extends_them() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, 0x1_0020_0000u64)?;
        a.mov(rdi, 0x7_0030_0000u64)?;
        a.add_instruction(movsb_with(32, Register::None))?;
        a.hlt()
    });
    vm.cpu.write_phys(0x20_0000, &[0x3C]);

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x30_0000, 1), &[0x3C]);
    assert_eq!(vm.cpu.gpr[RSI], 0x20_0001);
    assert_eq!(vm.cpu.gpr[RDI], 0x30_0001);
}

// ---- STOS -----------------------------------------------------------------

#[test]
fn rep_stosq_fills_quadwords_with_rax() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rax, 0x1122_3344_5566_7788u64)?;
        a.mov(rdi, 0x20_0000u64)?;
        a.mov(rcx, 3u64)?;
        a.rep().stosq()?;
        a.hlt()
    });

    vm.run_to_hlt(100);

    assert_eq!(
        vm.mem(0x20_0000, 24),
        [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11].repeat(3)
    );
    assert_eq!(vm.mem(0x20_0018, 1), &[0]);
    assert_eq!(vm.cpu.gpr[RDI], 0x20_0018);
}

#[test]
fn real_mode_rep_stosw_fills_words_at_es_di() {
    let mut vm = Vm::with_asm(BareMode::Real, |a| {
        a.mov(ax, 0xABCD)?;
        a.mov(di, 0x3000)?;
        a.mov(cx, 4)?;
        a.rep().stosw()?;
        a.hlt()
    });

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x3000, 8), [0xCD, 0xAB].repeat(4));
    assert_eq!(vm.cpu.gpr[RDI] & 0xFFFF, 0x3008);
    assert_eq!(vm.cpu.gpr[RCX] & 0xFFFF, 0);
}

#[test]
fn protected_mode_stosb_writes_through_the_es_base() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.mov(al, 0x77)?;
        a.mov(edi, 0x5000)?;
        a.stosb()?;
        a.hlt()
    });
    vm.cpu.seg[SegReg::Es as usize].base = 0x1000;

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x6000, 1), &[0x77]);
    assert_eq!(vm.mem(0x5000, 1), &[0]);
}

#[test]
fn long_mode_stosb_ignores_the_es_base() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(al, 0x77)?;
        a.mov(rdi, 0x50_0000u64)?;
        a.stosb()?;
        a.hlt()
    });
    vm.cpu.seg[SegReg::Es as usize].base = 0x1000;

    vm.run_to_hlt(100);

    assert_eq!(vm.mem(0x50_0000, 1), &[0x77]);
    assert_eq!(vm.mem(0x50_1000, 1), &[0]);
}

#[test]
fn rep_stosb_longer_than_the_iteration_budget_resumes_to_completion() {
    let (dst, len) = (0x40_0000u64, 3 * 65536 + 5);
    let mut vm = Vm::new(BareMode::Long64, &[0xF3, 0xAA, 0xF4]); // rep stosb; hlt
    vm.cpu.gpr[RAX] = 0x5A;
    vm.cpu.gpr[RDI] = dst;
    vm.cpu.gpr[RCX] = len;

    vm.run_to_hlt(100);

    assert!(vm.mem(dst, len as usize).iter().all(|&b| b == 0x5A));
    assert_eq!(vm.mem(dst + len, 1), &[0]);
    assert_eq!(vm.cpu.gpr[RCX], 0);
    // Three suspensions at 64 Ki elements each, the fourth run finishes,
    // then HLT: each pass retires as one instruction.
    assert_eq!(vm.cpu.instret, 5);
}

#[test]
fn interrupt_is_taken_between_passes_of_a_long_rep_stosb() {
    let (dst, len) = (0x40_0000u64, 0x2_0000u64);
    let mut vm = Vm::new(BareMode::Long64, &[0xF3, 0xAA, 0xF4]); // rep stosb; hlt
    traps::halt_on_exceptions(&mut vm.cpu);
    let (bus, log) = RecordingBus::new();
    vm.cpu.bus = Box::new(bus);
    // INTR is low when the CPU first looks (before the rep stosb) and
    // high when it looks next (after the first pass).
    log.raise_interrupt_after(1, 31);
    vm.cpu.flags.assign(rflags::IF, true);
    vm.cpu.gpr[RDI] = dst;
    vm.cpu.gpr[RCX] = len;

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(31));
    assert_eq!(
        stack_slot(&vm.cpu, 0, 8),
        CODE_BASE,
        "returns to the rep stosb"
    );
    assert_eq!(vm.cpu.gpr[RCX], len - MAX_ITERATIONS);
    assert_eq!(vm.cpu.gpr[RDI], dst + MAX_ITERATIONS);
}

// ---- LODS -----------------------------------------------------------------

#[test]
fn protected_mode_lodsd_loads_eax_and_steps_esi() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.mov(esi, 0x2000)?;
        a.lodsd()?;
        a.hlt()
    });
    vm.cpu.write_phys(0x2000, &0xCAFE_F00Du32.to_le_bytes());

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.gpr[RAX], 0xCAFE_F00D);
    assert_eq!(vm.cpu.gpr[RSI], 0x2004);
}

#[test]
fn real_mode_lodsb_wraps_si_at_64k_and_keeps_the_upper_esi_bits() {
    let mut vm = Vm::with_asm(BareMode::Real, |a| {
        a.mov(esi, 0x1234_FFFFu32)?;
        a.lodsb()?;
        a.mov(bl, al)?;
        a.lodsb()?;
        a.hlt()
    });
    vm.cpu.write_phys(0xFFFF, &[0x5A]);
    vm.cpu.write_phys(0x0000, &[0xA5]);

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.gpr[3] & 0xFF, 0x5A);
    assert_eq!(vm.cpu.gpr[RAX] & 0xFF, 0xA5);
    assert_eq!(vm.cpu.gpr[RSI], 0x1234_0001);
}

// ---- CMPS and SCAS ----------------------------------------------------------

#[test]
fn repe_cmpsb_stops_after_the_first_difference_with_its_flags() {
    let (a_buf, b_buf) = (0x20_0000u64, 0x30_0000u64);
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, a_buf)?;
        a.mov(rdi, b_buf)?;
        a.mov(rcx, 8u64)?;
        a.repe().cmpsb()?;
        a.hlt()
    });
    vm.cpu.write_phys(a_buf, b"abcdefgh");
    vm.cpu.write_phys(b_buf, b"abcdezgh");

    vm.run_to_hlt(100);

    // Six elements compared ('f' against 'z' was the last): 0x66 - 0x7A.
    assert_eq!(vm.cpu.gpr[RCX], 2);
    assert_eq!(vm.cpu.gpr[RSI], a_buf + 6);
    assert_eq!(vm.cpu.gpr[RDI], b_buf + 6);
    assert!(!vm.cpu.flags.zf());
    assert!(vm.cpu.flags.cf());
    assert!(vm.cpu.flags.sf());
}

#[test]
fn protected_mode_repe_cmpsw_of_equal_buffers_runs_out_with_zf_set() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.mov(esi, 0x2000)?;
        a.mov(edi, 0x3000)?;
        a.mov(ecx, 4)?;
        a.repe().cmpsw()?;
        a.hlt()
    });
    vm.cpu.write_phys(0x2000, b"same8byt");
    vm.cpu.write_phys(0x3000, b"same8byt");

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.gpr[RCX], 0);
    assert_eq!(vm.cpu.gpr[RSI], 0x2008);
    assert!(vm.cpu.flags.zf());
}

#[test]
fn repe_cmpsb_with_zero_count_leaves_the_flags_alone() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.xor(ecx, ecx)?;
        a.mov(rsi, 0x20_0000u64)?;
        a.mov(rdi, 0x20_0000u64)?;
        a.cmp(ecx, 1)?; // CF = 1, ZF = 0
        a.repe().cmpsb()?;
        a.hlt()
    });

    vm.run_to_hlt(100);

    assert!(vm.cpu.flags.cf());
    assert!(!vm.cpu.flags.zf());
    assert_eq!(vm.cpu.gpr[RSI], 0x20_0000);
}

#[test]
fn repne_scasb_finds_the_terminating_zero() {
    let buf = 0x20_0000u64;
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.xor(eax, eax)?;
        a.mov(rdi, buf)?;
        a.mov(rcx, -1i64)?;
        a.repne().scasb()?;
        a.hlt()
    });
    vm.cpu.write_phys(buf, b"hello\0world");

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.gpr[RDI], buf + 6);
    assert_eq!(vm.cpu.gpr[RCX], u64::MAX - 6);
    assert!(vm.cpu.flags.zf());
}

#[test]
fn repe_cmpsd_finds_a_difference_beyond_a_page_boundary() {
    // 0x600 dwords starting mid-page; they first differ at dword 0x500.
    let (a_buf, b_buf, count) = (0x20_0800u64, 0x30_0400u64, 0x600u64);
    let same = pattern(4 * count as usize);
    let mut other = same.clone();
    other[4 * 0x500 + 2] ^= 0x80;
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rsi, a_buf)?;
        a.mov(rdi, b_buf)?;
        a.mov(rcx, count)?;
        a.repe().cmpsd()?;
        a.hlt()
    });
    vm.cpu.write_phys(a_buf, &same);
    vm.cpu.write_phys(b_buf, &other);

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.gpr[RCX], count - 0x501);
    assert_eq!(vm.cpu.gpr[RSI], a_buf + 4 * 0x501);
    assert_eq!(vm.cpu.gpr[RDI], b_buf + 4 * 0x501);
    assert!(!vm.cpu.flags.zf());
}

#[test]
fn repne_scasb_with_df_set_finds_the_last_match_searching_backwards() {
    let buf = 0x20_0000u64;
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(al, b'/' as u32)?;
        a.mov(rdi, buf + 6)?;
        a.mov(rcx, 7u64)?;
        a.repne().scasb()?;
        a.hlt()
    });
    vm.cpu.write_phys(buf, b"usr/bin");
    vm.cpu.flags.assign(rflags::DF, true);

    vm.run_to_hlt(100);

    assert!(vm.cpu.flags.zf());
    assert_eq!(vm.cpu.gpr[RDI], buf + 2, "one below the '/' at offset 3");
    assert_eq!(vm.cpu.gpr[RCX], 3);
}

#[test]
fn real_mode_repne_scasb_runs_out_of_count_without_a_match() {
    let mut vm = Vm::with_asm(BareMode::Real, |a| {
        a.mov(al, 0x21)?;
        a.mov(di, 0x3000)?;
        a.mov(cx, 4)?;
        a.repne().scasb()?;
        a.hlt()
    });
    vm.cpu.write_phys(0x3000, b"abcd!");

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.gpr[RCX] & 0xFFFF, 0);
    assert_eq!(vm.cpu.gpr[RDI] & 0xFFFF, 0x3004);
    assert!(!vm.cpu.flags.zf());
}

// ---- Faults in the middle of a REP ------------------------------------------

const HOLE: u64 = 0x20_3000;
const FAULT_SRC: u64 = 0x21_0000;
const FAULT_DST: u64 = 0x20_2800;
const FAULT_LEN: u64 = 0x2000;

/// `rep movsb` at CODE_BASE copying FAULT_LEN bytes into a destination
/// whose third 2 KiB runs into the hole.
fn movsb_into_hole() -> (Vm, u64) {
    let mut vm = Vm::new(BareMode::Long64, &[0xF3, 0xA4, 0xF4]); // rep movsb; hlt
    traps::halt_on_exceptions(&mut vm.cpu);
    let pte = punch_hole(&mut vm.cpu, HOLE);
    vm.cpu.write_phys(FAULT_SRC, &pattern(FAULT_LEN as usize));
    vm.cpu.gpr[RSI] = FAULT_SRC;
    vm.cpu.gpr[RDI] = FAULT_DST;
    vm.cpu.gpr[RCX] = FAULT_LEN;
    (vm, pte)
}

#[test]
fn page_fault_mid_rep_movsb_leaves_the_registers_at_the_progress_point() {
    let (mut vm, _) = movsb_into_hole();
    let done = HOLE - FAULT_DST;

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(14));
    assert_eq!(vm.cpu.cr2, HOLE);
    assert_eq!(
        stack_slot(&vm.cpu, 0, 8),
        0b010,
        "error code: write, not present"
    );
    assert_eq!(
        stack_slot(&vm.cpu, 1, 8),
        CODE_BASE,
        "RIP stays on the rep movsb"
    );
    assert_eq!(vm.cpu.gpr[RSI], FAULT_SRC + done);
    assert_eq!(vm.cpu.gpr[RDI], HOLE);
    assert_eq!(vm.cpu.gpr[RCX], FAULT_LEN - done);
    assert_eq!(
        vm.mem(FAULT_DST, done as usize),
        &pattern(FAULT_LEN as usize)[..done as usize]
    );
}

#[test]
fn rep_movsb_completes_after_the_page_fault_handler_maps_the_page() {
    let (mut vm, pte) = movsb_into_hole();
    // The handler maps the page, drops the 6-slot frame and jumps back to
    // the faulting instruction (IRET lives in another module).
    let handler = 0x19_0000u64;
    let code = assemble(64, handler, |a| {
        a.mov(rax, HOLE | 0x7)?;
        a.mov(rbx, pte)?;
        a.mov(qword_ptr(rbx), rax)?;
        a.add(rsp, 48)?;
        a.mov(rax, CODE_BASE)?;
        a.jmp(rax)
    });
    vm.cpu.write_phys(handler, &code);
    traps::set_gate(&mut vm.cpu, 14, handler);

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.rip, CODE_BASE + 3, "halted after the rep movsb");
    assert_eq!(
        vm.mem(FAULT_DST, FAULT_LEN as usize),
        &pattern(FAULT_LEN as usize)[..]
    );
    assert_eq!(vm.cpu.gpr[RSI], FAULT_SRC + FAULT_LEN);
    assert_eq!(vm.cpu.gpr[RDI], FAULT_DST + FAULT_LEN);
    assert_eq!(vm.cpu.gpr[RCX], 0);
}

#[test]
fn page_fault_mid_backward_rep_stosb_reports_the_faulting_element_in_cr2() {
    let mut vm = Vm::new(BareMode::Long64, &[0xF3, 0xAA, 0xF4]); // rep stosb; hlt
    traps::halt_on_exceptions(&mut vm.cpu);
    punch_hole(&mut vm.cpu, HOLE);
    vm.cpu.flags.assign(rflags::DF, true);
    vm.cpu.gpr[RAX] = 0xEE;
    vm.cpu.gpr[RDI] = HOLE + 0x1010; // 0x11 bytes above the hole
    vm.cpu.gpr[RCX] = 0x100;

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(14));
    assert_eq!(vm.cpu.cr2, HOLE + 0xFFF);
    assert_eq!(vm.cpu.gpr[RDI], HOLE + 0xFFF);
    assert_eq!(vm.cpu.gpr[RCX], 0x100 - 0x11);
    assert!(vm.mem(HOLE + 0x1000, 0x11).iter().all(|&b| b == 0xEE));
}

#[test]
fn protected_mode_rep_stosb_past_the_es_limit_faults_at_the_limit() {
    let mut vm = Vm::new(BareMode::Protected32, &[0xF3, 0xAA, 0xF4]); // rep stosb; hlt
    traps::halt_on_exceptions(&mut vm.cpu);
    vm.cpu.seg[SegReg::Es as usize].limit = 0x50FF;
    vm.cpu.gpr[RAX] = 0xEE;
    vm.cpu.gpr[RDI] = 0x5000;
    vm.cpu.gpr[RCX] = 0x200;

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(13));
    assert_eq!(stack_slot(&vm.cpu, 0, 4), 0, "#GP(0)");
    assert_eq!(stack_slot(&vm.cpu, 1, 4), CODE_BASE);
    assert_eq!(vm.cpu.gpr[RDI], 0x5100);
    assert_eq!(vm.cpu.gpr[RCX], 0x100);
    assert!(vm.mem(0x5000, 0x100).iter().all(|&b| b == 0xEE));
    assert_eq!(vm.mem(0x5100, 1), &[0]);
}

#[test]
fn single_step_traps_after_one_iteration_of_rep_movsb() {
    let mut vm = Vm::new(BareMode::Long64, &[0xF3, 0xA4, 0xF4]); // rep movsb; hlt
    traps::halt_on_exceptions(&mut vm.cpu);
    vm.cpu.write_phys(0x20_0000, b"abcde");
    vm.cpu.gpr[RSI] = 0x20_0000;
    vm.cpu.gpr[RDI] = 0x30_0000;
    vm.cpu.gpr[RCX] = 5;
    vm.cpu.flags.assign(rflags::TF, true);

    vm.run_to_hlt(100);

    assert_eq!(halted_in_vector(&vm.cpu), Some(1));
    assert_eq!(
        stack_slot(&vm.cpu, 0, 8),
        CODE_BASE,
        "#DB returns to the rep movsb"
    );
    assert_eq!(vm.cpu.gpr[RCX], 4);
    assert_eq!(vm.mem(0x30_0000, 2), b"a\0");
}

// ---- Self-modifying code ------------------------------------------------------

#[test]
fn rep_movsb_over_already_decoded_code_runs_the_new_code() {
    // rep movsb; mov eax, 1; hlt -- the copy replaces `mov eax, 1`, which
    // was decoded with it in the same block, by `mov eax, 2`.
    let mut vm = Vm::new(BareMode::Long64, &[0xF3, 0xA4, 0xB8, 1, 0, 0, 0, 0xF4]);
    vm.cpu.write_phys(0x50_0000, &[0xB8, 2, 0, 0, 0]);
    vm.cpu.gpr[RSI] = 0x50_0000;
    vm.cpu.gpr[RDI] = CODE_BASE + 2;
    vm.cpu.gpr[RCX] = 5;

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.gpr[RAX], 2);
}
