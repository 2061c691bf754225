//! SSE faults: CR0.EM / CR4.OSFXSR (#UD), CR0.TS (#NM), misaligned 16-byte
//! operands (#GP(0)), reserved MXCSR bits, and unmasked SIMD exceptions
//! (#XM, or #UD without CR4.OSXMMEXCPT). Each faulting instruction is the
//! first of its program, at `CODE_BASE`, and must leave its destination
//! unchanged.

use emulator::bare::BareMode;
use emulator::cpu::state::{cr0, cr4};
use iced_x86::code_asm::*;
use iced_x86::IcedError;
use integration_tests::ssehost::{catch_faults, fault};
use integration_tests::{Vm, CODE_BASE};

const UD: u8 = 6;
const NM: u8 = 7;
const GP: u8 = 13;
const XM: u8 = 19;

/// Data buffer, 16-byte aligned; RSI points at it.
const DATA: u64 = 0x20_0000;
const XMM0_BEFORE: u128 = 0x1111_2222_3333_4444_5555_6666_7777_8888;

fn run(
    setup: impl FnOnce(&mut Vm),
    body: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> Vm {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        body(a)?;
        a.hlt()
    });
    catch_faults(&mut vm);
    vm.cpu.gpr[6] = DATA;
    vm.cpu.xmm[0] = XMM0_BEFORE;
    vm.cpu.xmm[1] = 0x4000_0000_4000_0000_4000_0000_4000_0000; // 2.0f32 x4
    setup(&mut vm);
    vm.run_to_hlt(100);
    vm
}

fn no_setup(_: &mut Vm) {}

#[test]
fn movaps_from_misaligned_memory_is_gp0_and_leaves_xmm0() {
    let vm = run(no_setup, |a| a.movaps(xmm0, xmmword_ptr(rsi + 8)));
    assert_eq!(fault(&vm, true), Some((GP, CODE_BASE)));
    assert_eq!(vm.mem(vm.cpu.gpr[4], 8), &[0; 8], "error code 0");
    assert_eq!(vm.cpu.xmm[0], XMM0_BEFORE);
}

#[test]
fn movaps_store_to_misaligned_memory_is_gp0_and_writes_nothing() {
    let vm = run(no_setup, |a| a.movaps(xmmword_ptr(rsi + 4), xmm1));
    assert_eq!(fault(&vm, true), Some((GP, CODE_BASE)));
    assert_eq!(vm.mem(DATA, 32), &[0; 32]);
}

#[test]
fn movdqu_and_movups_accept_misaligned_memory() {
    let vm = run(no_setup, |a| {
        a.movdqu(xmmword_ptr(rsi + 3), xmm1)?;
        a.movups(xmm0, xmmword_ptr(rsi + 3))
    });
    assert_eq!(fault(&vm, false), None);
    assert_eq!(vm.cpu.xmm[0], vm.cpu.xmm[1]);
}

#[test]
fn packed_arithmetic_on_misaligned_memory_is_gp0_but_scalar_is_not() {
    let vm = run(no_setup, |a| a.addps(xmm0, xmmword_ptr(rsi + 4)));
    assert_eq!(fault(&vm, true), Some((GP, CODE_BASE)));
    let vm = run(no_setup, |a| a.addss(xmm0, dword_ptr(rsi + 4)));
    assert_eq!(fault(&vm, false), None);
}

#[test]
fn cr0_em_makes_sse_undefined() {
    let vm = run(|vm| vm.cpu.cr0 |= cr0::EM, |a| a.addps(xmm0, xmm1));
    assert_eq!(fault(&vm, false), Some((UD, CODE_BASE)));
}

#[test]
fn cr0_em_wins_over_cr0_ts() {
    let vm = run(
        |vm| vm.cpu.cr0 |= cr0::EM | cr0::TS,
        |a| a.movaps(xmm0, xmm1),
    );
    assert_eq!(fault(&vm, false), Some((UD, CODE_BASE)));
}

#[test]
fn clear_cr4_osfxsr_makes_sse_undefined() {
    let vm = run(|vm| vm.cpu.cr4 &= !cr4::OSFXSR, |a| a.pxor(xmm0, xmm1));
    assert_eq!(fault(&vm, false), Some((UD, CODE_BASE)));
}

#[test]
fn cr0_ts_makes_sse_device_not_available() {
    let vm = run(|vm| vm.cpu.cr0 |= cr0::TS, |a| a.movd(eax, xmm1));
    assert_eq!(fault(&vm, false), Some((NM, CODE_BASE)));
    let vm = run(|vm| vm.cpu.cr0 |= cr0::TS, |a| a.ldmxcsr(dword_ptr(rsi)));
    assert_eq!(fault(&vm, false), Some((NM, CODE_BASE)));
}

#[test]
fn movnti_ignores_cr0_ts() {
    let vm = run(
        |vm| vm.cpu.cr0 |= cr0::TS,
        |a| a.movnti(dword_ptr(rsi), esi),
    );
    assert_eq!(fault(&vm, false), None);
    assert_eq!(vm.mem(DATA, 4), &(DATA as u32).to_le_bytes());
}

#[test]
fn ldmxcsr_with_a_reserved_bit_is_gp0() {
    let vm = run(
        |vm| vm.cpu.write_phys(DATA, &0x1_1F80u32.to_le_bytes()),
        |a| a.ldmxcsr(dword_ptr(rsi)),
    );
    assert_eq!(fault(&vm, true), Some((GP, CODE_BASE)));
    assert_eq!(vm.cpu.mxcsr, 0x1F80);
}

#[test]
fn ldmxcsr_and_stmxcsr_round_trip() {
    let vm = run(
        |vm| vm.cpu.write_phys(DATA, &0xFFFFu32.to_le_bytes()),
        |a| {
            a.ldmxcsr(dword_ptr(rsi))?;
            a.stmxcsr(dword_ptr(rsi + 4))
        },
    );
    assert_eq!(vm.cpu.mxcsr, 0xFFFF);
    assert_eq!(vm.mem(DATA + 4, 4), &0xFFFFu32.to_le_bytes());
}

#[test]
fn unmasked_divide_by_zero_is_xm_and_leaves_the_destination() {
    // ZM (bit 9) clear; xmm0 / 0.
    let vm = run(
        |vm| {
            vm.cpu.mxcsr = 0x1F80 & !(1 << 9);
            vm.cpu.xmm[0] = 0x3F80_0000;
            vm.cpu.xmm[1] = 0;
        },
        |a| a.divss(xmm0, xmm1),
    );
    assert_eq!(fault(&vm, false), Some((XM, CODE_BASE)));
    assert_eq!(vm.cpu.xmm[0], 0x3F80_0000);
    assert_eq!(vm.cpu.mxcsr & 0x3F, 0x04, "ZE set");
}

#[test]
fn unmasked_exception_without_osxmmexcpt_is_ud() {
    let vm = run(
        |vm| {
            vm.cpu.cr4 &= !cr4::OSXMMEXCPT;
            vm.cpu.mxcsr = 0x1F80 & !(1 << 7); // IM clear
            vm.cpu.xmm[0] = 0xFF80_0000; // -inf
            vm.cpu.xmm[1] = 0x7F80_0000; // +inf
        },
        |a| a.addss(xmm0, xmm1),
    );
    assert_eq!(fault(&vm, false), Some((UD, CODE_BASE)));
    assert_eq!(vm.cpu.mxcsr & 0x3F, 0x01, "IE set");
}

#[test]
fn unmasked_exception_that_does_not_occur_does_not_fault() {
    // Every exception unmasked; 2 + 2 is exact.
    let vm = run(|vm| vm.cpu.mxcsr = 0, |a| a.addps(xmm1, xmm1));
    assert_eq!(fault(&vm, false), None);
    assert_eq!(vm.cpu.xmm[1], 0x4080_0000_4080_0000_4080_0000_4080_0000);
}

#[test]
fn unmasked_invalid_conversion_faults_before_writing_the_gpr() {
    let vm = run(
        |vm| {
            vm.cpu.mxcsr = 0x1F80 & !(1 << 7);
            vm.cpu.xmm[1] = 0x7FC0_0000; // QNaN
            vm.cpu.gpr[0] = 0x1234;
        },
        |a| a.cvttss2si(eax, xmm1),
    );
    assert_eq!(fault(&vm, false), Some((XM, CODE_BASE)));
    assert_eq!(vm.cpu.gpr[0], 0x1234);
}

#[test]
fn fxsave_with_ts_is_nm_and_with_em_is_ud() {
    let vm = run(|vm| vm.cpu.cr0 |= cr0::TS, |a| a.fxsave(ptr(rsi)));
    assert_eq!(fault(&vm, false), Some((NM, CODE_BASE)));
    let vm = run(|vm| vm.cpu.cr0 |= cr0::EM, |a| a.fxrstor(ptr(rsi)));
    assert_eq!(fault(&vm, false), Some((UD, CODE_BASE)));
}

#[test]
fn fxsave_to_misaligned_memory_is_gp0() {
    let vm = run(no_setup, |a| a.fxsave64(ptr(rsi + 8)));
    assert_eq!(fault(&vm, true), Some((GP, CODE_BASE)));
    assert_eq!(vm.mem(DATA, 528), &[0; 528][..]);
}

#[test]
fn exact_tiny_result_with_underflow_unmasked_is_xm() {
    // 2^-126 * 0.5 = 2^-127: a denormal, exact. UM (bit 11) clear.
    let vm = run(
        |vm| {
            vm.cpu.mxcsr = 0x1F80 & !(1 << 11);
            vm.cpu.xmm[0] = 0x0080_0000;
            vm.cpu.xmm[1] = 0x3F00_0000;
        },
        |a| a.mulss(xmm0, xmm1),
    );
    assert_eq!(fault(&vm, false), Some((XM, CODE_BASE)));
    assert_eq!(vm.cpu.xmm[0], 0x0080_0000);
    assert_ne!(vm.cpu.mxcsr & 0x10, 0, "UE set");
}

#[test]
fn exact_tiny_result_with_underflow_masked_raises_no_flag() {
    let vm = run(
        |vm| {
            vm.cpu.xmm[0] = 0x0080_0000;
            vm.cpu.xmm[1] = 0x3F00_0000;
        },
        |a| a.mulss(xmm0, xmm1),
    );
    assert_eq!(fault(&vm, false), None);
    assert_eq!(vm.cpu.xmm[0], 0x0040_0000);
    assert_eq!(vm.cpu.mxcsr, 0x1F80);
}

#[test]
fn lock_prefix_on_sse_is_ud() {
    // F0 0F 58 C1: lock addps xmm0, xmm1.
    let mut vm = Vm::new(BareMode::Long64, &[0xF0, 0x0F, 0x58, 0xC1, 0xF4]);
    catch_faults(&mut vm);
    vm.run_to_hlt(10);
    assert_eq!(fault(&vm, false), Some((UD, CODE_BASE)));
}

#[test]
fn fences_pause_and_prefetch_run_even_with_cr0_ts() {
    let vm = run(
        |vm| vm.cpu.cr0 |= cr0::TS,
        |a| {
            a.lfence()?;
            a.sfence()?;
            a.mfence()?;
            a.pause()?;
            a.prefetcht0(byte_ptr(rsi))?;
            a.prefetchnta(byte_ptr(rsi))?;
            a.clflush(byte_ptr(rsi))
        },
    );
    assert_eq!(fault(&vm, false), None);
}
