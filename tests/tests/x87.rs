//! x87 control state: FNINIT, FNSTSW, FNSTCW, FLDCW, FNCLEX and WAIT,
//! compared with the host where the host can run them, and the CR0.EM /
//! CR0.TS / CR0.MP device-not-available rules of SDM Vol. 3A, Table 2-1.

use emulator::bare::BareMode;
use emulator::cpu::state::cr0;
use iced_x86::code_asm::*;
use iced_x86::IcedError;
use integration_tests::ssehost::{catch_faults, fault, run_both};
use integration_tests::{Vm, CODE_BASE};

const UD: u8 = 6;
const NM: u8 = 7;
const MF: u8 = 16;

#[test]
fn control_words_match_host_after_fninit_and_fldcw() {
    let body = |a: &mut CodeAssembler| -> Result<(), IcedError> {
        a.fninit()?;
        a.fnstcw(word_ptr(rdi))?;
        a.fnstsw(word_ptr(rdi + 2))?;
        for (i, cw) in [0x0000u32, 0xFFFF, 0x0A7F, 0x137F, 0x0C3F]
            .into_iter()
            .enumerate()
        {
            let at = 16 + 4 * i as i32;
            a.mov(word_ptr(rdi + 64), cw)?;
            a.fldcw(word_ptr(rdi + 64))?;
            a.fnstcw(word_ptr(rdi + at))?;
            a.fnstsw(ax)?;
            a.mov(word_ptr(rdi + at + 2), ax)?;
        }
        a.fninit()?;
        a.fnclex()?;
        a.fnstsw(word_ptr(rdi + 4))?;
        a.fxsave64(ptr(rdi + 128))
    };
    let (host, guest) = run_both(&body, 128 + 512);
    assert_eq!(guest[..40], host[..40]);
    assert_eq!(
        guest[128..134],
        host[128..134],
        "FCW, FSW, FTW in the FXSAVE image"
    );
    assert_eq!(&guest[0..2], &0x037Fu16.to_le_bytes());
}

fn run(
    setup: impl FnOnce(&mut Vm),
    body: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> Vm {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        body(a)?;
        a.hlt()
    });
    catch_faults(&mut vm);
    vm.cpu.gpr[6] = 0x20_0000;
    setup(&mut vm);
    vm.run_to_hlt(100);
    vm
}

#[test]
fn fninit_sets_the_documented_state() {
    let vm = run(
        |vm| {
            vm.cpu.x87.fcw = 0;
            vm.cpu.x87.fsw = 0xFFFF;
            vm.cpu.x87.ftw = 0;
        },
        |a| a.fninit(),
    );
    assert_eq!(fault(&vm, false), None);
    assert_eq!(
        (vm.cpu.x87.fcw, vm.cpu.x87.fsw, vm.cpu.x87.ftw),
        (0x037F, 0, 0xFFFF)
    );
}

#[test]
fn x87_control_instructions_with_em_or_ts_are_nm() {
    let vm = run(|vm| vm.cpu.cr0 |= cr0::EM, |a| a.fninit());
    assert_eq!(fault(&vm, false), Some((NM, CODE_BASE)));
    let vm = run(|vm| vm.cpu.cr0 |= cr0::TS, |a| a.fnstsw(ax));
    assert_eq!(fault(&vm, false), Some((NM, CODE_BASE)));
    let vm = run(|vm| vm.cpu.cr0 |= cr0::TS, |a| a.fldcw(word_ptr(rsi)));
    assert_eq!(fault(&vm, false), Some((NM, CODE_BASE)));
}

#[test]
fn wait_is_nm_only_with_both_ts_and_mp() {
    let vm = run(|vm| vm.cpu.cr0 |= cr0::TS | cr0::MP, |a| a.wait());
    assert_eq!(fault(&vm, false), Some((NM, CODE_BASE)));
    let vm = run(
        |vm| vm.cpu.cr0 = (vm.cpu.cr0 | cr0::TS) & !cr0::MP,
        |a| a.wait(),
    );
    assert_eq!(fault(&vm, false), None);
    let vm = run(
        |vm| vm.cpu.cr0 = (vm.cpu.cr0 | cr0::EM) & !cr0::MP,
        |a| a.wait(),
    );
    assert_eq!(fault(&vm, false), None, "EM alone does not affect WAIT");
}

#[test]
fn fldcw_unmasking_a_raised_flag_makes_the_next_wait_raise_mf() {
    // FSW.IE set and masked; FLDCW clears IM; FWAIT then takes #MF (CR0.NE).
    let vm = run(
        |vm| {
            vm.cpu.x87.fcw = 0x037F;
            vm.cpu.x87.fsw = 0x0001;
            vm.cpu.write_phys(0x20_0000, &0x037Eu16.to_le_bytes());
        },
        |a| {
            a.fldcw(word_ptr(rsi))?;
            a.wait()
        },
    );
    let fldcw_len = 2;
    assert_eq!(fault(&vm, false), Some((MF, CODE_BASE + fldcw_len)));
    assert_eq!(vm.cpu.x87.fsw, 0x8081, "ES and B set");
}

#[test]
fn fnclex_clears_a_pending_exception() {
    let vm = run(
        |vm| vm.cpu.x87.fsw = 0x80C1,
        |a| {
            a.fnclex()?;
            a.wait()
        },
    );
    assert_eq!(fault(&vm, false), None);
    assert_eq!(vm.cpu.x87.fsw, 0);
}

#[test]
fn unimplemented_x87_arithmetic_is_ud_but_nm_first_when_ts_is_set() {
    let vm = run(|_| {}, |a| a.fld1());
    assert_eq!(fault(&vm, false), Some((UD, CODE_BASE)));
    let vm = run(|vm| vm.cpu.cr0 |= cr0::TS, |a| a.fld1());
    assert_eq!(fault(&vm, false), Some((NM, CODE_BASE)));
}
