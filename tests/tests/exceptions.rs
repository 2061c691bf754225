//! Exception delivery, per vector and per mode (SDM Vol. 3A, chapter 6):
//! the vector taken, the error code, and the frame pushed (the faulting
//! instruction's address for faults, the next one's for traps; CS, RFLAGS,
//! and SS:RSP where the mode pushes them), through the IVT in real mode,
//! 32-bit IDT gates (same privilege and from ring 3 with the TSS stack
//! switch), and 64-bit gates (RSP0 and IST stacks).
//!
//! Not covered here, because the instructions that raise them belong to
//! families outside this branch or are not implemented: #DE (DIV/IDIV),
//! #NM (x87/SSE with CR0.TS/EM), #XM (SSE), #MF (x87): those are tested
//! with their instruction families (`sse_faults.rs`, `x87.rs`,
//! `integer_muldiv.rs`).

use emulator::bare::{sel, BareMode, KERNEL_STACK, TSS_BASE};
use emulator::cpu::state::{rflags, SegReg};
use emulator::cpu::Stop;
use iced_x86::code_asm::*;
use integration_tests::sysenv::*;
use integration_tests::{assemble, Vm, CODE_BASE, REAL_CODE_BASE, STACK_TOP};

/// The byte length of a code fragment (to find instruction addresses).
fn len(bits: u32, f: Program) -> u64 {
    assemble(bits, CODE_BASE, f).len() as u64
}

/// Clears the present bit of a 64-bit gate.
fn make_gate64_absent(vm: &mut Vm, vector: u8) {
    let at = IDT_BASE + vector as u64 * 16;
    let lo = read_u64(vm, at) & !(1 << 47);
    write_u64(vm, at, lo);
}

// ---------------------------------------------------------------------
// Long mode
// ---------------------------------------------------------------------

#[test]
fn long_mode_int3_pushes_a_trap_frame_with_ss_rsp() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.int3());

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(3));
    assert_eq!(stack_u64(&vm, 0), CODE_BASE + 1, "RIP past INT3");
    assert_eq!(stack_u64(&vm, 1), sel::CODE64 as u64);
    assert_eq!(
        stack_u64(&vm, 2) & (rflags::FIXED1 | rflags::RF),
        rflags::FIXED1,
        "traps push RF = 0"
    );
    assert_eq!(stack_u64(&vm, 3), STACK_TOP);
    assert_eq!(stack_u64(&vm, 4), sel::DATA32 as u64);
    assert_eq!(vm.cpu.gpr[4], STACK_TOP - 40);
}

#[test]
fn long_mode_ud2_faults_at_the_instruction() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| {
        a.nop()?;
        a.ud2()
    });

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(6));
    assert_eq!(stack_u64(&vm, 0), CODE_BASE + 1);
    assert_ne!(stack_u64(&vm, 2) & rflags::RF, 0, "faults push RF = 1");
    assert!(
        !vm.cpu.flags.test(rflags::RF),
        "the handler runs with RF = 0"
    );
}

#[test]
fn long_mode_reserved_cr4_bit_raises_gp_with_error_code_zero() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.mov(cr4, rax));
    vm.cpu.gpr[0] = 1 << 0; // CR4.VME: not supported

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u64(&vm, 0), 0, "error code");
    assert_eq!(stack_u64(&vm, 1), CODE_BASE);
}

#[test]
fn long_mode_read_of_unmapped_page_raises_pf_with_cr2() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.mov(rax, qword_ptr(rbx)));
    vm.cpu.gpr[3] = 0x1_0000_0010;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(14));
    assert_eq!(vm.cpu.cr2, 0x1_0000_0010);
    assert_eq!(stack_u64(&vm, 0), 0, "not present, read, supervisor");
    assert_eq!(stack_u64(&vm, 1), CODE_BASE);
}

#[test]
fn long_mode_write_to_unmapped_page_sets_the_write_bit() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.mov(qword_ptr(rbx), rax));
    vm.cpu.gpr[3] = 0x1_0000_0000;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(14));
    assert_eq!(stack_u64(&vm, 0), 2);
}

#[test]
fn long_mode_fault_at_ring3_switches_to_rsp0_and_nulls_ss() {
    let mut vm = vm_with_idt(BareMode::Long64, iretq_to_ring3);
    place(&mut vm, 64, USER_CODE, |a| a.hlt());

    vm.run_to_hlt(20);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(vm.cpu.cpl, 0);
    assert_eq!(vm.cpu.gpr[4], KERNEL_STACK - 48);
    assert_eq!(stack_u64(&vm, 0), 0, "error code");
    assert_eq!(stack_u64(&vm, 1), USER_CODE);
    assert_eq!(stack_u64(&vm, 2), sel::USER_CODE64 as u64);
    assert_eq!(stack_u64(&vm, 4), USER_STACK);
    assert_eq!(stack_u64(&vm, 5), sel::USER_DATA as u64);
    assert_eq!(vm.cpu.segment(SegReg::Ss).selector, 0);
}

#[test]
fn long_mode_ist_gate_switches_stacks_without_a_privilege_change() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.int3());
    set_gate64(
        &mut vm,
        3,
        gate64(handler(3), sel::CODE64, INTERRUPT_GATE, 0, 1),
    );

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(3));
    assert_eq!(vm.cpu.gpr[4], IST1_STACK - 40);
    assert_eq!(stack_u64(&vm, 3), STACK_TOP, "old RSP");
}

#[test]
fn long_mode_push_to_non_canonical_rsp_raises_ss_on_the_ist_stack() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.push(rax));
    set_gate64(
        &mut vm,
        12,
        gate64(handler(12), sel::CODE64, INTERRUPT_GATE, 0, 1),
    );
    vm.cpu.gpr[4] = 0x8000_0000_0000_0008;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(12));
    assert_eq!(stack_u64(&vm, 0), 0, "error code");
    assert_eq!(stack_u64(&vm, 1), CODE_BASE);
    assert_eq!(stack_u64(&vm, 4), 0x8000_0000_0000_0008, "old RSP");
}

#[test]
fn long_mode_ist_entry_beyond_the_tss_limit_raises_ts_with_the_tss_selector() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.int(0x30));
    set_gate64(
        &mut vm,
        0x30,
        gate64(handler(0x30), sel::CODE64, INTERRUPT_GATE, 0, 2),
    );
    set_gate64(
        &mut vm,
        10,
        gate64(handler(10), sel::CODE64, INTERRUPT_GATE, 0, 1),
    );
    vm.cpu.tr.limit = 0x2B; // IST1 fits, IST2 (0x2C..0x33) does not

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(10));
    assert_eq!(stack_u64(&vm, 0), sel::TSS as u64, "TSS selector, EXT=0");
    assert_eq!(stack_u64(&vm, 1), CODE_BASE, "the INT instruction");
}

#[test]
fn long_mode_int_through_absent_gate_raises_np_naming_the_idt_entry() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.int(0x31));
    make_gate64_absent(&mut vm, 0x31);

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(11));
    assert_eq!(stack_u64(&vm, 0), 0x31 << 3 | 2, "IDT bit set, EXT clear");
    assert_eq!(stack_u64(&vm, 1), CODE_BASE);
}

#[test]
fn long_mode_int_to_dpl0_gate_from_ring3_raises_gp_naming_the_gate() {
    let mut vm = vm_with_idt(BareMode::Long64, iretq_to_ring3);
    place(&mut vm, 64, USER_CODE, |a| a.int(0x30));

    vm.run_to_hlt(20);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u64(&vm, 0), 0x30 << 3 | 2);
    assert_eq!(stack_u64(&vm, 1), USER_CODE);
}

#[test]
fn gp_whose_gate_is_absent_becomes_a_double_fault_with_error_code_zero() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.mov(cr4, rax));
    vm.cpu.gpr[0] = 1;
    make_gate64_absent(&mut vm, 13);

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(8));
    assert_eq!(stack_u64(&vm, 0), 0, "#DF error code");
    assert_eq!(stack_u64(&vm, 1), CODE_BASE);
}

#[test]
fn fault_while_delivering_a_double_fault_is_a_triple_fault() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.mov(cr4, rax));
    vm.cpu.gpr[0] = 1;
    make_gate64_absent(&mut vm, 13);
    make_gate64_absent(&mut vm, 8);

    let stop = vm.cpu.run(10);

    assert_eq!(stop, Stop::TripleFault);
}

#[test]
fn page_fault_during_ud_delivery_is_delivered_alone() {
    // #UD is benign, so a #PF while pushing its frame is just a #PF.
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.ud2());
    set_gate64(
        &mut vm,
        14,
        gate64(handler(14), sel::CODE64, INTERRUPT_GATE, 0, 1),
    );
    vm.cpu.gpr[4] = 0x1_0000_1000; // unmapped stack

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(14));
    assert_eq!(vm.cpu.cr2, 0x1_0000_0FF8);
    assert_eq!(stack_u64(&vm, 0), 2, "write, not present");
}

#[test]
fn single_step_trap_fires_after_the_instruction_following_popf() {
    fn prefix(a: &mut CodeAssembler) -> Result<(), IcedError> {
        a.pushfq()?;
        a.or(qword_ptr(rsp), rflags::TF as i32)?;
        a.popfq()?;
        a.nop()
    }
    let second_nop = CODE_BASE + len(64, prefix);
    let mut vm = vm_with_idt(BareMode::Long64, |a| {
        prefix(a)?;
        a.nop()?;
        a.nop()
    });

    vm.run_to_hlt(20);

    assert_eq!(halted_vector(&vm), Some(1));
    assert_eq!(
        stack_u64(&vm, 1 - 1),
        second_nop,
        "trap: RIP of the next instruction"
    );
    assert_ne!(stack_u64(&vm, 2) & rflags::TF, 0, "pushed RFLAGS has TF");
    assert!(!vm.cpu.flags.test(rflags::TF), "handler runs with TF clear");
    assert_ne!(vm.cpu.dr[6] & (1 << 14), 0, "DR6.BS");
}

// ---------------------------------------------------------------------
// 32-bit protected mode
// ---------------------------------------------------------------------

#[test]
fn protected_mode_ud2_at_ring0_pushes_eflags_cs_eip_only() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.ud2());

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(6));
    assert_eq!(vm.cpu.gpr[4], STACK_TOP - 12);
    assert_eq!(stack_u32(&vm, 0) as u64, CODE_BASE);
    assert_eq!(stack_u32(&vm, 1), sel::CODE32 as u32);
    assert_eq!(
        stack_u32(&vm, 2) & rflags::FIXED1 as u32,
        rflags::FIXED1 as u32
    );
}

#[test]
fn protected_mode_into_with_of_set_traps_past_the_instruction() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.into());
    vm.cpu.flags.set(rflags::OF | rflags::FIXED1);

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(4));
    assert_eq!(stack_u32(&vm, 0) as u64, CODE_BASE + 1);
}

#[test]
fn protected_mode_into_with_of_clear_does_nothing() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| {
        a.into()?;
        a.hlt()
    });

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), None);
    assert_eq!(vm.cpu.rip, CODE_BASE + 2);
}

#[test]
fn protected_mode_bound_out_of_range_faults_with_br() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.bound(ebx, qword_ptr(0x2000)));
    write_u32(&mut vm, 0x2000, 0);
    write_u32(&mut vm, 0x2004, 10);
    vm.cpu.gpr[3] = 11;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(5));
    assert_eq!(stack_u32(&vm, 0) as u64, CODE_BASE, "a fault");
}

#[test]
fn protected_mode_int1_is_a_debug_trap() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.int1());

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(1));
    assert_eq!(stack_u32(&vm, 0) as u64, CODE_BASE + 1);
}

#[test]
fn protected_mode_fault_at_ring3_switches_to_the_tss_stack() {
    let mut vm = vm_with_idt(BareMode::Protected32, iretd_to_ring3);
    place(&mut vm, 32, USER_CODE, |a| a.hlt());

    vm.run_to_hlt(20);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(vm.cpu.cpl, 0);
    assert_eq!(vm.cpu.segment(SegReg::Ss).selector, sel::DATA32);
    assert_eq!(vm.cpu.gpr[4], KERNEL_STACK - 24);
    assert_eq!(stack_u32(&vm, 0), 0, "error code");
    assert_eq!(stack_u32(&vm, 1) as u64, USER_CODE);
    assert_eq!(stack_u32(&vm, 2), sel::USER_CODE32 as u32);
    assert_eq!(stack_u32(&vm, 4) as u64, USER_STACK);
    assert_eq!(stack_u32(&vm, 5), sel::USER_DATA as u32);
}

#[test]
fn protected_mode_bad_ss0_in_the_tss_raises_ts() {
    let mut vm = vm_with_idt(BareMode::Protected32, iretd_to_ring3);
    place(&mut vm, 32, USER_CODE, |a| a.int(0x30));
    set_gate32(
        &mut vm,
        0x30,
        gate32(handler(0x30) as u32, sel::CODE32, INTERRUPT_GATE, 3),
    );
    // SS0 names a code segment. #TS is handled by a conforming ring-0
    // segment, so its own delivery needs no stack switch.
    vm.cpu.write_phys(TSS_BASE + 8, &sel::CODE32.to_le_bytes());
    const CONFORMING: u16 = 0x58;
    set_gdt_entry(&mut vm, CONFORMING, descriptor(0, 0xFFFFF, 0x9F, 0xC));
    // The handler runs at CPL 3, where HLT faults: it pops the error
    // code and return address into EAX and EBX and spins.
    const TS_HANDLER: u64 = 0x5000;
    let stub = assemble(32, TS_HANDLER, |a| {
        let mut spin = a.create_label();
        a.pop(eax)?;
        a.pop(ebx)?;
        a.set_label(&mut spin)?;
        a.jmp(spin)
    });
    vm.cpu.write_phys(TS_HANDLER, &stub);
    set_gate32(
        &mut vm,
        10,
        gate32(TS_HANDLER as u32, CONFORMING, INTERRUPT_GATE, 0),
    );

    let stop = vm.cpu.run(50);

    assert_eq!(stop, Stop::Budget);
    assert_eq!(vm.cpu.cpl, 3, "conforming handler keeps CPL");
    assert_eq!(vm.cpu.gpr[0], sel::CODE32 as u64, "SS0 selector, EXT=0");
    assert_eq!(vm.cpu.gpr[3], USER_CODE, "the INT instruction");
}

// ---------------------------------------------------------------------
// Real mode
// ---------------------------------------------------------------------

#[test]
fn real_mode_int3_uses_the_ivt_and_pushes_flags_cs_ip() {
    let mut vm = vm_with_idt(BareMode::Real, |a| a.int3());
    vm.cpu.flags.set(rflags::IF | rflags::FIXED1);

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(3));
    assert_eq!(vm.cpu.gpr[4] & 0xFFFF, 0x7000 - 6);
    assert_eq!(stack_u16(&vm, 0) as u64, REAL_CODE_BASE + 1);
    assert_eq!(stack_u16(&vm, 1), 0, "CS");
    assert_ne!(stack_u16(&vm, 2) as u64 & rflags::IF, 0, "pushed FLAGS");
    assert!(!vm.cpu.flags.test(rflags::IF), "IF cleared");
}

#[test]
fn real_mode_invalid_opcode_reports_the_faulting_ip() {
    let mut vm = vm_with_idt(BareMode::Real, |a| a.ud2());

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(6));
    assert_eq!(stack_u16(&vm, 0) as u64, REAL_CODE_BASE);
}

#[test]
fn real_mode_iret_returns_to_the_interrupted_code() {
    let mut vm = vm_with_idt(BareMode::Real, |a| {
        a.int(0x20)?;
        a.hlt()
    });
    let stub = assemble(16, 0x6000, |a| {
        a.mov(ax, 0x55)?;
        a.iret()
    });
    vm.cpu.write_phys(0x6000, &stub);
    write_u32(&mut vm, 0x20 * 4, 0x6000);

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.gpr[0] & 0xFFFF, 0x55);
    assert_eq!(vm.cpu.rip, REAL_CODE_BASE + 3);
    assert_eq!(vm.cpu.gpr[4] & 0xFFFF, 0x7000);
}

#[test]
fn into_is_invalid_in_64_bit_mode() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.db(&[0xCE]));
    vm.cpu.flags.set(rflags::OF | rflags::FIXED1);

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(6));
}

// ---------------------------------------------------------------------
// Alignment check
// ---------------------------------------------------------------------

/// Ring-3 code that sets RFLAGS.AC, then loads a dword from an odd address.
fn misaligned_user_load(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.pushfq()?;
    a.or(qword_ptr(rsp), rflags::AC as i32)?;
    a.popfq()?;
    a.mov(eax, dword_ptr(USER_STACK - 0x1FF))?;
    a.hlt()
}

#[test]
fn misaligned_load_at_ring3_with_am_and_ac_raises_ac_with_error_code_zero() {
    let mut vm = vm_with_idt(BareMode::Long64, iretq_to_ring3);
    vm.cpu.cr0 |= emulator::cpu::state::cr0::AM;
    place(&mut vm, 64, USER_CODE, misaligned_user_load);

    vm.run_to_hlt(50);

    assert_eq!(halted_vector(&vm), Some(17));
    assert_eq!(stack_u64(&vm, 0), 0, "error code");
    let load_at = USER_CODE
        + len(64, |a| {
            a.pushfq()?;
            a.or(qword_ptr(rsp), rflags::AC as i32)?;
            a.popfq()
        });
    assert_eq!(stack_u64(&vm, 1), load_at, "RIP of the faulting load");
}

#[test]
fn misaligned_load_without_cr0_am_is_not_checked() {
    let mut vm = vm_with_idt(BareMode::Long64, iretq_to_ring3);
    place(&mut vm, 64, USER_CODE, misaligned_user_load);

    vm.run_to_hlt(50);

    // The user-mode HLT itself faults with #GP: the load went through.
    assert_eq!(halted_vector(&vm), Some(13));
}
