//! Self-modifying code: a write into a page holding decoded instructions
//! drops them, so the CPU runs the new bytes, whether the write comes
//! through the same linear address or through another virtual alias of the
//! same physical page.

use emulator::bare::BareMode;
use iced_x86::code_asm::*;
use integration_tests::paging::{self, P, PS, RW};
use integration_tests::Vm;

/// The bare identity map sends 1 GiB.. to nothing; the tests map a 2 MiB
/// alias of physical 0.. here. Its TLB index differs from the identity
/// mapping's (bit 21 of the linear address is set), so the alias entry is
/// not simply evicted when the code is fetched through the identity map.
const ALIAS: u64 = 0x4020_0000;

fn map_alias(vm: &mut Vm) {
    paging::set_entry(&mut vm.cpu, paging::bare_pde_addr(ALIAS), P | RW | PS, 8);
    vm.cpu.tlb.flush_all();
}

#[test]
fn program_that_rewrites_its_next_instruction_runs_the_new_bytes() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        let mut next = a.create_label();
        a.lea(rax, ptr(next))?;
        // `mov ecx, imm32` is B9 imm32: byte 1 is the immediate's low byte.
        a.mov(byte_ptr(rax + 1), 42)?;
        a.set_label(&mut next)?;
        a.mov(ecx, 1)?;
        a.hlt()
    });
    vm.run_to_hlt(100);
    assert_eq!(vm.cpu.gpr[1], 42);
}

#[test]
fn code_written_through_an_alias_mapping_runs_the_new_bytes() {
    // The function lives at physical (and linear) 0x101000; the program
    // writes it only through the alias ALIAS + 0x101000.
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rax, ALIAS + 0x10_1000)?;
        a.mov(byte_ptr(rax), 0xB9)?; // mov ecx, 1
        a.mov(byte_ptr(rax + 1), 1)?;
        a.mov(byte_ptr(rax + 5), 0xC3)?; // ret
        a.mov(rdx, 0x10_1000u64)?;
        a.call(rdx)?;
        a.mov(esi, ecx)?;
        // The page now holds decoded code; the alias must not bypass that.
        a.mov(byte_ptr(rax + 1), 42)?;
        a.call(rdx)?;
        a.hlt()
    });
    map_alias(&mut vm);
    vm.run_to_hlt(100);
    assert_eq!(vm.cpu.gpr[6], 1, "first call ran the first version");
    assert_eq!(vm.cpu.gpr[1], 42, "second call ran the rewritten code");
}

#[test]
fn code_rewritten_in_place_after_running_runs_the_new_bytes() {
    // Same physical page, same linear address: the block cache must drop
    // the function's decoded block.
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rax, 0x10_1000u64)?;
        a.mov(byte_ptr(rax), 0xB9)?;
        a.mov(byte_ptr(rax + 1), 1)?;
        a.mov(byte_ptr(rax + 5), 0xC3)?;
        a.call(rax)?;
        a.mov(esi, ecx)?;
        a.mov(byte_ptr(rax + 1), 7)?;
        a.call(rax)?;
        a.hlt()
    });
    vm.run_to_hlt(100);
    assert_eq!(vm.cpu.gpr[6], 1);
    assert_eq!(vm.cpu.gpr[1], 7);
}
