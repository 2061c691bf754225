//! Page faults end to end: a long-mode program faults, the #PF handler
//! (a HLT behind a 64-bit interrupt gate) receives the error code on its
//! stack, the faulting RIP, and CR2 holds the faulting linear address.
//! The faulting instruction leaves no partial effect.

use emulator::bare::BareMode;
use iced_x86::code_asm::*;
use integration_tests::paging::{self, P, US};
use integration_tests::Vm;

const IDT: u64 = 0x1_F000;
const HANDLER: u64 = 0x1F_0000;
/// Page table that replaces the bare 2 MiB identity page at 0x400000.
const PT: u64 = 0x2_0000;

/// The error code, RIP and CR2 the handler saw.
fn fault_frame(vm: &Vm) -> (u64, u64, u64) {
    let cpu = &vm.cpu;
    let stack = cpu.gpr[4];
    (
        paging::phys_u64(cpu, stack),
        paging::phys_u64(cpu, stack + 8),
        cpu.cr2,
    )
}

fn with_pf_handler(mut vm: Vm) -> Vm {
    vm.cpu.write_phys(HANDLER, &[0xF4]); // hlt
    paging::install_gate64(&mut vm.cpu, IDT, 14, HANDLER);
    vm
}

#[test]
fn write_to_an_unmapped_address_delivers_pf_with_cr2() {
    let mut vm = with_pf_handler(Vm::with_asm(BareMode::Long64, |a| {
        a.mov(qword_ptr(rax + 8), rcx)?;
        a.hlt()
    }));
    vm.cpu.gpr[0] = 0x1_0000_0000; // PDPT[4]: not present
    vm.cpu.gpr[1] = 0x1234;
    vm.run_to_hlt(100);
    let (code, fault_rip, fault_addr) = fault_frame(&vm);
    assert_eq!(code, 0x2, "W/R set, P clear, supervisor");
    assert_eq!(fault_addr, 0x1_0000_0008);
    assert_eq!(fault_rip, 0x10_0000, "RIP of the faulting mov");
    assert_eq!(vm.cpu.rip, HANDLER + 1);
}

#[test]
fn write_crossing_into_a_read_only_page_faults_on_the_second_page_and_writes_nothing() {
    let mut vm = with_pf_handler(Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rbx, 0x40_0FFCu64)?;
        a.mov(rcx, -1i64)?;
        a.mov(qword_ptr(rbx), rcx)?;
        a.hlt()
    }));
    paging::split_bare_2m(&mut vm.cpu, 0x40_0000, PT);
    let pte = paging::bare_pte_addr(PT, 0x40_1000);
    paging::set_entry(&mut vm.cpu, pte, 0x40_1000 | P | US, 8); // read-only
    vm.cpu.write_phys(0x40_0FFC, &[1, 2, 3, 4]);

    vm.run_to_hlt(100);

    let (code, _, fault_addr) = fault_frame(&vm);
    assert_eq!(code, 0x3, "protection violation on a write");
    assert_eq!(fault_addr, 0x40_1000, "the second page's address");
    assert_eq!(vm.mem(0x40_0FFC, 4), &[1, 2, 3, 4]);
}

#[test]
fn instruction_crossing_into_a_missing_page_faults_with_the_second_page_address() {
    let mut vm = with_pf_handler(Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rax, 0x40_0FFEu64)?;
        a.jmp(rax)
    }));
    paging::split_bare_2m(&mut vm.cpu, 0x40_0000, PT);
    let pte = paging::bare_pte_addr(PT, 0x40_1000);
    paging::set_entry(&mut vm.cpu, pte, 0, 8);
    // mov eax, 0x12345678: two bytes on the first page, three on the next.
    vm.cpu
        .write_phys(0x40_0FFE, &[0xB8, 0x78, 0x56, 0x34, 0x12]);

    vm.run_to_hlt(100);

    let (code, fault_rip, fault_addr) = fault_frame(&vm);
    assert_eq!(code, 0x10, "instruction fetch (NXE is on), not present");
    assert_eq!(fault_addr, 0x40_1000);
    assert_eq!(fault_rip, 0x40_0FFE);
}

#[test]
fn instruction_crossing_a_page_boundary_runs_from_both_pages() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rax, 0x40_0FFEu64)?;
        a.jmp(rax)
    });
    // Map 0x401000 to a distant physical page holding the instruction's tail.
    paging::split_bare_2m(&mut vm.cpu, 0x40_0000, PT);
    let pte = paging::bare_pte_addr(PT, 0x40_1000);
    paging::set_entry(&mut vm.cpu, pte, 0x70_0000 | P | US, 8);
    vm.cpu.write_phys(0x40_0FFE, &[0xB8, 0x78]);
    vm.cpu.write_phys(0x70_0000, &[0x56, 0x34, 0x12, 0xF4]); // ..., hlt

    vm.run_to_hlt(100);

    assert_eq!(vm.cpu.gpr[0], 0x1234_5678);
}
