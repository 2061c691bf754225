//! Edge cases of the integer instruction families, one behaviour a test,
//! with the SDM rule (or the hardware behaviour) each one pins down. A few
//! are checked against the host CPU with `asm!` as well.

use emulator::bare::BareMode;
use emulator::cpu::decode::Insn;
use emulator::cpu::state::rflags;
use emulator::cpu::Exception;
use iced_x86::code_asm::*;
use iced_x86::{Decoder, DecoderOptions};
use integration_tests::golden::exec_one;
use integration_tests::Vm;

/// A machine in `mode` with nothing loaded; instructions run by `exec_one`.
fn vm(mode: BareMode) -> Vm {
    Vm::new(mode, &[])
}

const DATA: u64 = 0x20_0000;

#[test]
fn idiv_int_min_by_minus_one_raises_de() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 0x8000_0000_0000_0000; // RAX
    vm.cpu.gpr[2] = u64::MAX; // RDX: sign extension of RAX
    vm.cpu.gpr[3] = u64::MAX; // RBX = -1
    let r = exec_one(&mut vm.cpu, &[0x48, 0xF7, 0xFB]); // idiv rbx
    assert_eq!(r, Err(Exception::DivideError));
    assert_eq!(vm.cpu.gpr[0], 0x8000_0000_0000_0000, "RAX unchanged");
    assert_eq!(vm.cpu.gpr[2], u64::MAX, "RDX unchanged");
}

#[test]
fn idiv8_int_min_by_minus_one_raises_de() {
    let mut vm = vm(BareMode::Real);
    vm.cpu.gpr[0] = 0xFF80; // AX = -128
    vm.cpu.gpr[3] = 0xFF; // BL = -1
    assert_eq!(
        exec_one(&mut vm.cpu, &[0xF6, 0xFB]), // idiv bl
        Err(Exception::DivideError)
    );
}

#[test]
fn div_quotient_too_large_raises_de() {
    let mut vm = vm(BareMode::Protected32);
    vm.cpu.gpr[0] = 0;
    vm.cpu.gpr[2] = 2; // EDX:EAX = 2 << 32
    vm.cpu.gpr[3] = 2;
    assert_eq!(
        exec_one(&mut vm.cpu, &[0xF7, 0xF3]), // div ebx: quotient 1 << 32
        Err(Exception::DivideError)
    );
}

#[test]
fn div_by_zero_raises_de_and_leaves_rip_at_the_instruction() {
    let mut vm = vm(BareMode::Long64);
    let rip = vm.cpu.rip;
    assert_eq!(
        exec_one(&mut vm.cpu, &[0x48, 0xF7, 0xF3]), // div rbx, rbx = 0
        Err(Exception::DivideError)
    );
    assert_eq!(vm.cpu.rip, rip);
}

#[test]
fn idiv_remainder_takes_the_dividend_sign() {
    let mut vm = vm(BareMode::Protected32);
    vm.cpu.gpr[0] = (-7i32) as u32 as u64;
    vm.cpu.gpr[2] = 0xFFFF_FFFF;
    vm.cpu.gpr[3] = 2;
    exec_one(&mut vm.cpu, &[0xF7, 0xFB]).unwrap(); // idiv ebx
    assert_eq!(vm.cpu.gpr[0], (-3i32) as u32 as u64);
    assert_eq!(vm.cpu.gpr[2], (-1i32) as u32 as u64);
}

#[test]
fn rcl_8bit_count_is_mod_9() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 0x81;
    vm.cpu.gpr[1] = 9; // CL
    vm.cpu.flags.set(rflags::FIXED1);
    exec_one(&mut vm.cpu, &[0xD2, 0xD0]).unwrap(); // rcl al, cl
                                                   // A 9-bit rotate by 9 is the identity.
    assert_eq!(vm.cpu.gpr[0], 0x81);
    assert!(!vm.cpu.flags.cf());
}

#[test]
fn rcr_16bit_count_is_mod_17() {
    let mut vm = vm(BareMode::Real);
    vm.cpu.gpr[0] = 0x0001;
    vm.cpu.gpr[1] = 18; // CL: 18 mod 17 = 1
    exec_one(&mut vm.cpu, &[0xD3, 0xD8]).unwrap(); // rcr ax, cl
    assert_eq!(vm.cpu.gpr[0], 0);
    assert!(vm.cpu.flags.cf());
}

#[test]
fn shift_count_is_masked_to_5_bits_for_32bit_operands() {
    let mut vm = vm(BareMode::Protected32);
    vm.cpu.gpr[0] = 1;
    vm.cpu.gpr[1] = 33; // masked to 1
    exec_one(&mut vm.cpu, &[0xD3, 0xE0]).unwrap(); // shl eax, cl
    assert_eq!(vm.cpu.gpr[0], 2);
}

#[test]
fn shift_count_is_masked_to_6_bits_for_64bit_operands() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 1;
    vm.cpu.gpr[1] = 65; // masked to 1; 33 would stay 33
    exec_one(&mut vm.cpu, &[0x48, 0xD3, 0xE0]).unwrap(); // shl rax, cl
    assert_eq!(vm.cpu.gpr[0], 2);
    vm.cpu.gpr[1] = 33;
    exec_one(&mut vm.cpu, &[0x48, 0xD3, 0xE0]).unwrap();
    assert_eq!(vm.cpu.gpr[0], 1 << 34);
}

#[test]
fn shift32_by_zero_keeps_flags_and_still_zero_extends() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 0xFFFF_FFFF_0000_0001;
    vm.cpu.gpr[1] = 32; // masked to 0
    let flags = rflags::FIXED1 | rflags::CF | rflags::OF | rflags::ZF;
    vm.cpu.flags.set(flags);
    exec_one(&mut vm.cpu, &[0xD3, 0xE0]).unwrap(); // shl eax, cl
    assert_eq!(vm.cpu.gpr[0], 1);
    assert_eq!(vm.cpu.flags.get(), flags);
}

#[test]
fn cmov32_false_still_zero_extends() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 0xFFFF_FFFF_1111_1111;
    vm.cpu.gpr[3] = 0x2222_2222;
    vm.cpu.flags.set(rflags::FIXED1); // ZF = 0: CMOVE is false
    exec_one(&mut vm.cpu, &[0x0F, 0x44, 0xC3]).unwrap(); // cmove eax, ebx
    assert_eq!(vm.cpu.gpr[0], 0x1111_1111);
}

#[test]
fn cmov_with_false_condition_still_faults_on_its_memory_source() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[3] = 0x8000_0000_0000_0000; // non-canonical
    vm.cpu.flags.set(rflags::FIXED1);
    assert_eq!(
        exec_one(&mut vm.cpu, &[0x0F, 0x44, 0x03]), // cmove eax, [rbx]
        Err(Exception::GeneralProtection(0))
    );
}

#[test]
fn bsf_zero_source_sets_zf_and_keeps_the_whole_destination() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 0xFFFF_FFFF_1234_5678;
    vm.cpu.gpr[3] = 0;
    exec_one(&mut vm.cpu, &[0x0F, 0xBC, 0xC3]).unwrap(); // bsf eax, ebx
    assert_eq!(vm.cpu.gpr[0], 0xFFFF_FFFF_1234_5678);
    assert!(vm.cpu.flags.zf());
}

#[test]
fn bsr_finds_the_highest_set_bit_and_clears_zf() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[3] = 0x0000_0100_0000_0001;
    vm.cpu.flags.set(rflags::FIXED1 | rflags::ZF);
    exec_one(&mut vm.cpu, &[0x48, 0x0F, 0xBD, 0xC3]).unwrap(); // bsr rax, rbx
    assert_eq!(vm.cpu.gpr[0], 40);
    assert!(!vm.cpu.flags.zf());
}

#[test]
fn bt_memory_negative_register_offset_reads_below_the_operand() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.write_phys(DATA - 8, &(1u64 << 63).to_le_bytes());
    vm.cpu.gpr[3] = DATA;
    vm.cpu.gpr[0] = u64::MAX; // -1: bit 63 of the qword at DATA - 8
    exec_one(&mut vm.cpu, &[0x48, 0x0F, 0xA3, 0x03]).unwrap(); // bt [rbx], rax
    assert!(vm.cpu.flags.cf());
}

#[test]
fn bts_immediate_offset_wraps_within_the_operand() {
    let mut vm = vm(BareMode::Protected32);
    vm.cpu.gpr[3] = DATA;
    exec_one(&mut vm.cpu, &[0x0F, 0xBA, 0x2B, 33]).unwrap(); // bts dword [ebx], 33
    assert_eq!(vm.mem(DATA, 8), &[2, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn bswap16_clears_the_low_word() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 0x1122_3344_5566_7788;
    exec_one(&mut vm.cpu, &[0x66, 0x0F, 0xC8]).unwrap(); // bswap ax
    assert_eq!(vm.cpu.gpr[0], 0x1122_3344_5566_0000);
}

#[test]
fn cmpxchg16b_unaligned_operand_raises_gp() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[6] = DATA + 8; // RSI
    assert_eq!(
        exec_one(&mut vm.cpu, &[0x48, 0x0F, 0xC7, 0x0E]), // cmpxchg16b [rsi]
        Err(Exception::GeneralProtection(0))
    );
}

#[test]
fn cmpxchg16b_equal_stores_rcx_rbx() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu
        .write_phys(DATA, &[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
    vm.cpu.gpr[0] = 1;
    vm.cpu.gpr[2] = 2;
    vm.cpu.gpr[3] = 0xB;
    vm.cpu.gpr[1] = 0xC;
    vm.cpu.gpr[6] = DATA;
    exec_one(&mut vm.cpu, &[0x48, 0x0F, 0xC7, 0x0E]).unwrap();
    assert!(vm.cpu.flags.zf());
    assert_eq!(vm.mem(DATA, 16)[0], 0xB);
    assert_eq!(vm.mem(DATA, 16)[8], 0xC);
}

#[test]
fn cmpxchg32_mismatch_loads_eax_and_leaves_the_register_destination() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 0xFFFF_FFFF_0000_0005;
    vm.cpu.gpr[3] = 0xFFFF_FFFF_0000_0006; // destination EBX
    vm.cpu.gpr[1] = 9;
    exec_one(&mut vm.cpu, &[0x0F, 0xB1, 0xCB]).unwrap(); // cmpxchg ebx, ecx
    assert_eq!(vm.cpu.gpr[0], 6, "EAX loaded and zero-extended");
    assert_eq!(vm.cpu.gpr[3], 0xFFFF_FFFF_0000_0006, "EBX not written");
    assert!(!vm.cpu.flags.zf());
}

#[test]
fn xadd_with_the_same_register_leaves_the_sum() {
    let mut vm = vm(BareMode::Protected32);
    vm.cpu.gpr[0] = 21;
    exec_one(&mut vm.cpu, &[0x0F, 0xC1, 0xC0]).unwrap(); // xadd eax, eax
    assert_eq!(vm.cpu.gpr[0], 42);
}

#[test]
fn xchg_with_faulting_memory_leaves_the_register() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 7;
    vm.cpu.gpr[3] = 0x0000_8000_0000_0000; // non-canonical
    assert_eq!(
        exec_one(&mut vm.cpu, &[0x48, 0x87, 0x03]), // xchg [rbx], rax
        Err(Exception::GeneralProtection(0))
    );
    assert_eq!(vm.cpu.gpr[0], 7);
}

#[test]
fn lock_on_a_register_destination_is_ud() {
    let mut vm = vm(BareMode::Long64);
    assert_eq!(
        exec_one(&mut vm.cpu, &[0xF0, 0x01, 0xD8]), // lock add eax, ebx
        Err(Exception::InvalidOpcode)
    );
}

#[test]
fn lock_rule_holds_even_when_the_decoder_accepts_the_prefix() {
    // With NO_INVALID_CHECK iced accepts `lock add eax, ebx` and `lock mov`;
    // the resolver must still pick #UD.
    let mut vm = vm(BareMode::Long64);
    for bytes in [&[0xF0, 0x01, 0xD8][..], &[0xF0, 0x89, 0x03][..]] {
        // By default iced already decodes both as invalid.
        assert!(Decoder::with_ip(64, bytes, 0, DecoderOptions::NONE)
            .decode()
            .is_invalid());
        let i = Decoder::with_ip(64, bytes, 0, DecoderOptions::NO_INVALID_CHECK).decode();
        assert!(!i.is_invalid() && i.has_lock_prefix(), "{i}");
        let insn = Insn::new(i, 64);
        assert_eq!(
            (insn.handler)(&mut vm.cpu, &insn),
            Err(Exception::InvalidOpcode),
            "{bytes:02x?}"
        );
    }
}

#[test]
fn lock_on_a_memory_rmw_is_allowed() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[3] = DATA;
    vm.cpu.gpr[0] = 5;
    exec_one(&mut vm.cpu, &[0xF0, 0x48, 0x0F, 0xAB, 0x03]).unwrap(); // lock bts [rbx], rax
    assert_eq!(vm.mem(DATA, 1), &[0x20]);
}

#[test]
fn aam_zero_raises_de() {
    let mut vm = vm(BareMode::Protected32);
    assert_eq!(
        exec_one(&mut vm.cpu, &[0xD4, 0x00]),
        Err(Exception::DivideError)
    );
}

#[test]
fn bcd_and_pusha_are_ud_in_long_mode() {
    let mut vm = vm(BareMode::Long64);
    for b in [0x27u8, 0x2F, 0x37, 0x3F, 0x60, 0x61] {
        assert_eq!(
            exec_one(&mut vm.cpu, &[b]),
            Err(Exception::InvalidOpcode),
            "{b:#x}"
        );
    }
}

#[test]
fn movbe_popcnt_are_ud_because_they_are_not_advertised() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[3] = DATA;
    let movbe = [0x0F, 0x38, 0xF0, 0x03];
    let popcnt = [0xF3, 0x0F, 0xB8, 0xC3];
    assert_eq!(exec_one(&mut vm.cpu, &movbe), Err(Exception::InvalidOpcode));
    assert_eq!(
        exec_one(&mut vm.cpu, &popcnt),
        Err(Exception::InvalidOpcode)
    );
}

#[test]
fn tzcnt_encoding_runs_as_bsf() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 0x7777;
    vm.cpu.gpr[3] = 0;
    exec_one(&mut vm.cpu, &[0xF3, 0x0F, 0xBC, 0xC3]).unwrap(); // tzcnt eax, ebx
    assert_eq!(vm.cpu.gpr[0], 0x7777, "BSF leaves the destination");
    assert!(vm.cpu.flags.zf());
}

#[test]
fn bound_out_of_range_raises_br() {
    let mut vm = vm(BareMode::Protected32);
    vm.cpu.write_phys(DATA, &[10, 0, 0, 0, 20, 0, 0, 0]);
    vm.cpu.gpr[3] = DATA;
    vm.cpu.gpr[0] = 21;
    assert_eq!(
        exec_one(&mut vm.cpu, &[0x62, 0x03]),
        Err(Exception::BoundRange)
    );
}

#[test]
fn lahf_sahf_round_trip_the_five_flags() {
    let mut vm = vm(BareMode::Long64);
    vm.cpu.gpr[0] = 0xD5 << 8; // AH: SF ZF AF PF CF
    vm.cpu.flags.set(rflags::FIXED1 | rflags::OF);
    exec_one(&mut vm.cpu, &[0x9E]).unwrap(); // sahf
    let f = vm.cpu.flags.get();
    assert_eq!(f & rflags::ARITH, rflags::ARITH, "OF kept, five loaded");
    vm.cpu.gpr[0] = 0;
    exec_one(&mut vm.cpu, &[0x9F]).unwrap(); // lahf
    assert_eq!(vm.cpu.gpr[0], 0xD7 << 8, "bit 1 reads as 1");
}

#[test]
fn integer_program_runs_through_the_block_cache() {
    // The handlers wired into the normal run loop, not just exec_one.
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rax, 0x1234_5678_9ABC_DEF0u64)?;
        a.bswap(rax)?;
        a.mov(ecx, 4u32)?;
        a.rol(rax, cl)?;
        a.movzx(edx, al)?;
        a.imul_3(rdx, rdx, 3)?;
        a.bsr(rbx, rax)?;
        a.xor(esi, esi)?;
        a.cmp(rbx, 59)?;
        a.sete(sil)?;
        a.hlt()
    });
    vm.run_to_hlt(100);
    let expected = 0xF0DE_BC9A_7856_3412u64.rotate_left(4);
    assert_eq!(vm.cpu.gpr[0], expected);
    assert_eq!(vm.cpu.gpr[2], (expected & 0xFF) * 3);
    assert_eq!(vm.cpu.gpr[3], 63 - expected.leading_zeros() as u64);
    assert_eq!(vm.cpu.gpr[3], 59);
    assert_eq!(vm.cpu.gpr[6], 1);
}

/// The host CPU as oracle for a few register-only cases: result and the
/// flags the SDM defines.
mod native {
    use super::{exec_one, rflags, vm, BareMode};
    use std::arch::asm;

    const DEFINED_SHIFT1: u64 = rflags::CF | rflags::OF | rflags::ZF | rflags::SF | rflags::PF;

    /// Runs `bytes` in the emulator (long mode) with RAX, RCX, RDX, flags.
    fn emulate(bytes: &[u8], a: u64, c: u64, d: u64, flags: u64) -> (u64, u64, u64) {
        let mut vm = vm(BareMode::Long64);
        vm.cpu.gpr[0] = a;
        vm.cpu.gpr[1] = c;
        vm.cpu.gpr[2] = d;
        vm.cpu.flags.set(flags | rflags::FIXED1);
        exec_one(&mut vm.cpu, bytes).unwrap();
        (vm.cpu.gpr[0], vm.cpu.gpr[2], vm.cpu.flags.get())
    }

    macro_rules! host {
        ($insn:literal, $rax:expr, $rcx:expr, $rdx:expr, $flags:expr) => {{
            let (mut a, mut d, mut fl): (u64, u64, u64) = ($rax, $rdx, $flags);
            // SAFETY: the instruction only reads and writes RAX, RCX, RDX
            // and RFLAGS, all declared; the stack use of pushfq/popfq is
            // balanced.
            unsafe {
                asm!(
                    "push {f}", "popfq", $insn, "pushfq", "pop {f}",
                    f = inout(reg) fl,
                    inout("rax") a,
                    in("rcx") $rcx,
                    inout("rdx") d,
                );
            }
            (a, d, fl)
        }};
    }

    #[test]
    fn rcl_by_one_matches_the_host() {
        for (v, cf) in [(0x8000_0001u64, 1u64), (0x4000_0000, 0), (0xFFFF_FFFF, 1)] {
            let h = host!("rcl eax, 1", v, 0u64, 0u64, 0x202 | cf);
            let e = emulate(&[0xD1, 0xD0], v, 0, 0, cf);
            assert_eq!(e.0, h.0, "rcl {v:#x}");
            assert_eq!(
                e.2 & (rflags::CF | rflags::OF),
                h.2 & (rflags::CF | rflags::OF)
            );
        }
    }

    #[test]
    fn sar_by_one_matches_the_host() {
        for v in [0x8000_0001u64, 0x7FFF_FFFF, 1] {
            let h = host!("sar eax, 1", v, 0u64, 0u64, 0x202);
            let e = emulate(&[0xD1, 0xF8], v, 0, 0, 0);
            assert_eq!(e.0, h.0, "sar {v:#x}");
            assert_eq!(e.2 & DEFINED_SHIFT1, h.2 & DEFINED_SHIFT1);
        }
    }

    #[test]
    fn shld_by_cl_matches_the_host() {
        for (v, c) in [(0x1234_5678u64, 4u64), (0x8000_0000, 1), (0xFFFF_0000, 31)] {
            let h = host!("shld eax, edx, cl", v, c, 0x9ABC_DEF0u64, 0x202);
            let e = emulate(&[0x0F, 0xA5, 0xD0], v, c, 0x9ABC_DEF0, 0);
            assert_eq!(e.0, h.0, "shld {v:#x} by {c}");
            assert_eq!(e.2 & rflags::CF, h.2 & rflags::CF);
        }
    }

    #[test]
    fn mul64_matches_the_host() {
        for (a, b) in [(u64::MAX, u64::MAX), (1 << 63, 2), (12345, 678)] {
            let h = host!("mul rcx", a, b, 0u64, 0x202);
            let e = emulate(&[0x48, 0xF7, 0xE1], a, b, 0, 0);
            assert_eq!((e.0, e.1), (h.0, h.1), "mul {a:#x} * {b:#x}");
            assert_eq!(
                e.2 & (rflags::CF | rflags::OF),
                h.2 & (rflags::CF | rflags::OF)
            );
        }
    }

    #[test]
    fn idiv64_matches_the_host() {
        for (a, d, b) in [
            (7u64, 0u64, 2u64),
            ((-7i64) as u64, u64::MAX, 2),
            (5, 0, u64::MAX),
        ] {
            let h = host!("idiv rcx", a, b, d, 0x202);
            let e = emulate(&[0x48, 0xF7, 0xF9], a, b, d, 0);
            assert_eq!((e.0, e.1), (h.0, h.1), "idiv {d:#x}:{a:#x} / {b:#x}");
        }
    }
}
