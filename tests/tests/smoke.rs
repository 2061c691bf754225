//! First light: small programs in each mode run to HLT with the expected
//! results.

use emulator::bare::BareMode;
use iced_x86::code_asm::*;
use integration_tests::Vm;

#[test]
fn long_mode_loop_sums_one_to_ten() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        let mut top = a.create_label();
        a.xor(rax, rax)?;
        a.mov(rcx, 10u64)?;
        a.set_label(&mut top)?;
        a.add(rax, rcx)?;
        a.dec(rcx)?;
        a.jnz(top)?;
        a.hlt()
    });
    vm.run_to_hlt(1000);
    assert_eq!(vm.cpu.gpr[0], 55);
}

#[test]
fn real_mode_call_and_ret_use_a_16_bit_stack() {
    let mut vm = Vm::with_asm(BareMode::Real, |a| {
        let mut f = a.create_label();
        a.mov(ax, 1)?;
        a.call(f)?;
        a.hlt()?;
        a.set_label(&mut f)?;
        a.add(ax, 41)?;
        a.ret()
    });
    vm.run_to_hlt(100);
    assert_eq!(vm.cpu.gpr[0] & 0xFFFF, 42);
    assert_eq!(vm.cpu.gpr[4], 0x7000);
}

#[test]
fn protected_mode_memory_round_trip() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.mov(dword_ptr(0x2000), 0x1234_5678)?;
        a.mov(ebx, dword_ptr(0x2000))?;
        a.push(ebx)?;
        a.pop(ecx)?;
        a.hlt()
    });
    vm.run_to_hlt(100);
    assert_eq!(vm.cpu.gpr[3], 0x1234_5678);
    assert_eq!(vm.cpu.gpr[1], 0x1234_5678);
    assert_eq!(vm.mem(0x2000, 4), &[0x78, 0x56, 0x34, 0x12]);
}
