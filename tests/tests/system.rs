//! System instructions run as guest code: privilege rules of CLI/POPF,
//! segment-register loads, control registers and the TLB, descriptor
//! tables, LAR/LSL/VERR/VERW/ARPL, CPUID, TSC and MSRs, SYSCALL/SYSRET,
//! SWAPGS, and far transfers (direct, through a call gate with a stack
//! switch, and IRETQ to compatibility mode).

use emulator::bare::{sel, BareMode, KERNEL_STACK, PML4_BASE};
use emulator::cpu::state::{cr0, efer, msr, rflags, Mode, SegReg};
use emulator::cpu::Stop;
use iced_x86::code_asm::*;
use integration_tests::sysenv::*;
use integration_tests::{assemble, Vm, CODE_BASE, REAL_CODE_BASE, STACK_TOP};

const TARGET: u64 = CODE_BASE + 0x200;

// ---------------------------------------------------------------------
// IF, IOPL and RFLAGS
// ---------------------------------------------------------------------

#[test]
fn cli_at_ring3_with_iopl0_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Long64, iretq_to_ring3);
    place(&mut vm, 64, USER_CODE, |a| a.cli());

    vm.run_to_hlt(20);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u64(&vm, 1), USER_CODE);
}

#[test]
fn popf_at_ring3_leaves_iopl_and_if_alone_without_faulting() {
    let mut vm = vm_with_idt(BareMode::Long64, iretq_to_ring3);
    place(&mut vm, 64, USER_CODE, |a| {
        a.pushfq()?;
        a.or(
            qword_ptr(rsp),
            (rflags::IOPL | rflags::IF | rflags::CF) as i32,
        )?;
        a.popfq()?;
        a.hlt() // #GP: shows the flags in its frame
    });

    vm.run_to_hlt(30);

    assert_eq!(halted_vector(&vm), Some(13));
    let pushed = stack_u64(&vm, 3);
    assert_eq!(pushed & (rflags::IOPL | rflags::IF), 0);
    assert_ne!(pushed & rflags::CF, 0, "status flags do change");
}

#[test]
fn popf_at_ring0_sets_iopl_but_never_vm_or_rf() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.push((rflags::IOPL | rflags::VM | rflags::RF | rflags::FIXED1) as i32)?;
        a.popfd()?;
        a.hlt()
    });

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.iopl(), 3);
    assert!(!vm.cpu.flags.test(rflags::VM));
    assert!(!vm.cpu.flags.test(rflags::RF));
    assert_eq!(vm.cpu.mode, Mode::Protected32);
}

#[test]
fn sixteen_bit_popf_changes_only_the_low_word() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.push(0u32)?;
        a.popf()?; // 16-bit: AC (bit 18) untouched
        a.hlt()
    });
    vm.cpu.flags.set(rflags::AC | rflags::CF | rflags::FIXED1);

    vm.run_to_hlt(10);

    assert!(vm.cpu.flags.test(rflags::AC));
    assert!(!vm.cpu.flags.test(rflags::CF));
}

#[test]
fn sti_sets_if_in_real_mode() {
    let mut vm = Vm::with_asm(BareMode::Real, |a| {
        a.sti()?;
        a.hlt()
    });

    vm.run_to_hlt(10);

    assert!(vm.cpu.flags.test(rflags::IF));
}

// ---------------------------------------------------------------------
// Segment registers
// ---------------------------------------------------------------------

#[test]
fn mov_to_cs_is_invalid() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.db(&[0x8E, 0xC8]));

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(6));
}

#[test]
fn loading_ss_with_a_null_selector_in_protected_mode_raises_gp0() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.mov(ss, ax));
    vm.cpu.gpr[0] = 0;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u32(&vm, 0), 0);
}

#[test]
fn loading_a_not_present_data_segment_raises_np_with_its_selector() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.mov(ds, ax));
    set_gdt_entry(&mut vm, 0x58, descriptor(0, 0xFFFFF, 0x13, 0xC));
    vm.cpu.gpr[0] = 0x58;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(11));
    assert_eq!(stack_u32(&vm, 0), 0x58);
}

#[test]
fn loading_ds_with_a_code_segment_that_is_not_readable_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.mov(ds, ax));
    set_gdt_entry(&mut vm, 0x58, descriptor(0, 0xFFFFF, 0x99, 0xC));
    vm.cpu.gpr[0] = 0x58;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u32(&vm, 0), 0x58);
}

#[test]
fn push_ds_then_pop_es_copies_the_selector() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.mov(ax, sel::USER_DATA as u32)?;
        a.mov(ds, ax)?;
        a.push(ds)?;
        a.pop(es)?;
        a.hlt()
    });

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.segment(SegReg::Es).selector, sel::USER_DATA);
    assert_eq!(vm.cpu.gpr[4], STACK_TOP);
}

#[test]
fn lss_loads_ss_and_esp_from_a_far_pointer() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.lss(esp, fword_ptr(0x2000))?;
        a.hlt()
    });
    write_u32(&mut vm, 0x2000, 0x6_0000);
    vm.cpu.write_phys(0x2004, &sel::DATA32.to_le_bytes());

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.gpr[4], 0x6_0000);
    assert_eq!(vm.cpu.segment(SegReg::Ss).selector, sel::DATA32);
}

#[test]
fn mov_from_segment_register_to_memory_stores_the_selector() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.mov(word_ptr(0x2000), cs)?;
        a.hlt()
    });

    vm.run_to_hlt(10);

    assert_eq!(read_u16(&vm, 0x2000), sel::CODE32);
}

// ---------------------------------------------------------------------
// Control and debug registers
// ---------------------------------------------------------------------

#[test]
fn setting_pg_without_pe_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.mov(cr0, eax));
    vm.cpu.gpr[0] = cr0::PG | cr0::ET;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(vm.cpu.mode, Mode::Protected32);
}

#[test]
fn clearing_pae_in_long_mode_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| {
        a.mov(rax, cr4)?;
        a.and(eax, !0x20)?;
        a.mov(cr4, rax)
    });

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
}

#[test]
fn clearing_pg_in_64_bit_mode_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| {
        a.mov(rax, cr0)?;
        a.and(eax, 0x7FFF_FFFF)?;
        a.mov(cr0, rax)
    });

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_ne!(vm.cpu.efer & efer::LMA, 0);
}

#[test]
fn reloading_cr3_makes_a_changed_page_table_entry_visible() {
    // PD[1] maps 2-4 MiB; point it at 4-6 MiB and reload CR3.
    let pd0 = PML4_BASE + 0x2000;
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rax, qword_ptr(0x20_0000))?;
        a.mov(qword_ptr(pd0 + 8), rbx)?;
        a.mov(rcx, cr3)?;
        a.mov(cr3, rcx)?;
        a.mov(rdx, qword_ptr(0x20_0000))?;
        a.hlt()
    });
    write_u64(&mut vm, 0x20_0000, 0x1111);
    write_u64(&mut vm, 0x40_0000, 0x2222);
    vm.cpu.gpr[3] = 0x40_0000 | 0x87;

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.gpr[0], 0x1111);
    assert_eq!(vm.cpu.gpr[2], 0x2222);
}

#[test]
fn invlpg_makes_a_changed_page_table_entry_visible() {
    let pd0 = PML4_BASE + 0x2000;
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rax, qword_ptr(0x20_0000))?;
        a.mov(qword_ptr(pd0 + 8), rbx)?;
        a.invlpg(byte_ptr(0x20_0000))?;
        a.mov(rdx, qword_ptr(0x20_0000))?;
        a.hlt()
    });
    write_u64(&mut vm, 0x20_0000, 0x1111);
    write_u64(&mut vm, 0x40_0000, 0x2222);
    vm.cpu.gpr[3] = 0x40_0000 | 0x87;

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.gpr[2], 0x2222);
}

#[test]
fn cr8_holds_four_bits_and_rejects_more() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| {
        a.mov(eax, 0xA)?;
        a.mov(cr8, rax)?;
        a.mov(rbx, cr8)?;
        a.mov(eax, 0x10)?;
        a.mov(cr8, rax)
    });

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.gpr[3], 0xA);
    assert_eq!(halted_vector(&vm), Some(13));
}

#[test]
fn dr4_aliases_dr6_while_cr4_de_is_clear() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.mov(eax, dr4)?;
        a.hlt()
    });

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.gpr[0], 0xFFFF_0FF0);
}

#[test]
fn dr4_is_invalid_when_cr4_de_is_set() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.mov(eax, dr4));
    vm.cpu.cr4 |= 1 << 3;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(6));
}

#[test]
fn mov_to_cr0_at_ring3_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Protected32, iretd_to_ring3);
    place(&mut vm, 32, USER_CODE, |a| a.mov(cr0, eax));

    vm.run_to_hlt(20);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u32(&vm, 1) as u64, USER_CODE);
}

#[test]
fn clts_clears_ts_and_lmsw_cannot_clear_pe() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.clts()?;
        a.xor(eax, eax)?;
        a.lmsw(ax)?;
        a.smsw(bx)?;
        a.hlt()
    });
    vm.cpu.cr0 |= cr0::TS;

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.cr0 & cr0::TS, 0);
    assert_ne!(vm.cpu.cr0 & cr0::PE, 0);
    assert_eq!(vm.cpu.cr0 & cr0::MP, 0, "LMSW cleared MP");
    assert_eq!(vm.cpu.gpr[3] & 0xF, cr0::PE);
}

// ---------------------------------------------------------------------
// Descriptor tables
// ---------------------------------------------------------------------

#[test]
fn lgdt_with_16_bit_operand_keeps_24_bits_of_base() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.db(&[0x66, 0x0F, 0x01, 0x15, 0x00, 0x20, 0x00, 0x00])?; // o16 lgdt [0x2000]
        a.hlt()
    });
    vm.cpu
        .write_phys(0x2000, &[0x17, 0x00, 0x00, 0x05, 0x00, 0xAB]);

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.gdtr.limit, 0x17);
    assert_eq!(vm.cpu.gdtr.base, 0x500);
}

#[test]
fn sgdt_in_64_bit_mode_stores_a_64_bit_base() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.sgdt(ptr(0x2000))?;
        a.hlt()
    });
    vm.cpu.gdtr.base = 0xFFFF_8000_0000_0500;
    write_u64(&mut vm, 0x2008, u64::MAX);

    vm.run_to_hlt(10);

    assert_eq!(read_u16(&vm, 0x2000), vm.cpu.gdtr.limit);
    assert_eq!(read_u64(&vm, 0x2002), 0xFFFF_8000_0000_0500);
}

#[test]
fn ltr_marks_the_tss_descriptor_busy() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.ltr(ax)?;
        a.str(bx)?;
        a.hlt()
    });
    let tss_desc_type = emulator::bare::GDT_BASE + sel::TSS as u64 + 5;
    vm.cpu.write_phys(tss_desc_type, &[0x89]);
    vm.cpu.gpr[0] = sel::TSS as u64;

    vm.run_to_hlt(10);

    assert_eq!(vm.mem(tss_desc_type, 1)[0], 0x8B);
    assert_eq!(vm.cpu.tr.selector, sel::TSS);
    assert_eq!(vm.cpu.gpr[3] & 0xFFFF, sel::TSS as u64);
}

#[test]
fn ltr_of_a_busy_tss_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.ltr(ax));
    let tss_desc_type = emulator::bare::GDT_BASE + sel::TSS as u64 + 5;
    vm.cpu.write_phys(tss_desc_type, &[0x8B]);
    vm.cpu.gpr[0] = sel::TSS as u64;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u32(&vm, 0), sel::TSS as u32);
}

#[test]
fn ltr_in_long_mode_reads_the_upper_base_from_the_16_byte_descriptor() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.ltr(ax)?;
        a.hlt()
    });
    let desc = emulator::bare::GDT_BASE + sel::TSS as u64;
    vm.cpu.write_phys(desc + 5, &[0x89]);
    write_u64(&mut vm, desc + 8, 0x0000_0000_FFFF_FFFF);
    vm.cpu.gpr[0] = sel::TSS as u64;

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.tr.base >> 32, 0xFFFF_FFFF);
}

#[test]
fn lldt_of_a_selector_in_the_ldt_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.lldt(ax));
    vm.cpu.gpr[0] = 0x0C;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u32(&vm, 0), 0x0C);
}

#[test]
fn lldt_loads_an_ldt_that_sldt_reports() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.lldt(ax)?;
        a.sldt(bx)?;
        a.hlt()
    });
    set_gdt_entry(&mut vm, 0x58, descriptor(0x8000, 0xFF, 0x82, 0));
    vm.cpu.gpr[0] = 0x58;

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.ldtr.base, 0x8000);
    assert_eq!(vm.cpu.gpr[3] & 0xFFFF, 0x58);
}

// ---------------------------------------------------------------------
// LAR, LSL, VERR, VERW, ARPL
// ---------------------------------------------------------------------

#[test]
fn lar_reports_the_access_rights_of_a_data_segment() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.lar(ebx, eax)?;
        a.hlt()
    });
    vm.cpu.gpr[0] = sel::DATA32 as u64;

    vm.run_to_hlt(10);

    assert!(vm.cpu.flags.zf());
    assert_eq!(vm.cpu.gpr[3] & 0x00F0_FE00, 0x00C0_9200);
}

#[test]
fn lar_of_a_null_selector_clears_zf() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.lar(ebx, eax)?;
        a.hlt()
    });
    vm.cpu.flags.set(rflags::ZF | rflags::FIXED1);
    vm.cpu.gpr[0] = 0;

    vm.run_to_hlt(10);

    assert!(!vm.cpu.flags.zf());
}

#[test]
fn lsl_applies_granularity_to_the_limit() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.lsl(ebx, eax)?;
        a.hlt()
    });
    vm.cpu.gpr[0] = sel::DATA32 as u64;

    vm.run_to_hlt(10);

    assert!(vm.cpu.flags.zf());
    assert_eq!(vm.cpu.gpr[3], 0xFFFF_FFFF);
}

#[test]
fn verw_of_a_code_segment_clears_zf_and_verr_of_readable_code_sets_it() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.verw(ax)?;
        a.hlt()?;
        a.verr(ax)?;
        a.hlt()
    });
    vm.cpu.gpr[0] = sel::CODE32 as u64;
    vm.run_to_hlt(10);
    let after_verw = vm.cpu.flags.zf();

    resume(&mut vm);
    vm.run_to_hlt(10);

    assert!(!after_verw);
    assert!(vm.cpu.flags.zf());
}

#[test]
fn verr_at_ring3_of_a_ring0_data_segment_clears_zf() {
    let mut vm = vm_with_idt(BareMode::Protected32, iretd_to_ring3);
    place(&mut vm, 32, USER_CODE, |a| {
        a.mov(eax, sel::DATA32 as u32)?;
        a.verr(ax)?;
        a.hlt() // #GP: the frame carries EFLAGS
    });

    vm.run_to_hlt(20);

    assert_eq!(stack_u32(&vm, 3) as u64 & rflags::ZF, 0);
}

#[test]
fn arpl_raises_the_destination_rpl() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.arpl(ax, bx)?;
        a.hlt()
    });
    vm.cpu.gpr[0] = 0x10;
    vm.cpu.gpr[3] = 0x3B;

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.gpr[0], 0x13);
    assert!(vm.cpu.flags.zf());
}

#[test]
fn lar_is_invalid_in_real_mode() {
    let mut vm = vm_with_idt(BareMode::Real, |a| a.lar(bx, ax));

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(6));
}

// ---------------------------------------------------------------------
// CPUID, TSC, MSRs
// ---------------------------------------------------------------------

#[test]
fn cpuid_leaf0_returns_the_vendor_in_ebx_edx_ecx() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.xor(eax, eax)?;
        a.cpuid()?;
        a.hlt()
    });

    vm.run_to_hlt(10);

    let mut vendor = Vec::new();
    for r in [3, 2, 1] {
        vendor.extend_from_slice(&(vm.cpu.gpr[r] as u32).to_le_bytes());
    }
    assert_eq!(&vendor, b"GenuineIntel");
}

#[test]
fn cpuid_extended_leaf_advertises_long_mode_and_nx() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(eax, 0x8000_0001u32)?;
        a.cpuid()?;
        a.hlt()
    });

    vm.run_to_hlt(10);

    assert_ne!(vm.cpu.gpr[2] & (1 << 29), 0, "LM");
    assert_ne!(vm.cpu.gpr[2] & (1 << 20), 0, "NX");
}

#[test]
fn rdtsc_counts_on_from_the_value_wrmsr_wrote() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(ecx, msr::TSC)?;
        a.xor(edx, edx)?;
        a.mov(eax, 1_000_000)?;
        a.wrmsr()?;
        a.rdtsc()?;
        a.hlt()
    });

    vm.run_to_hlt(10);

    // The counter runs on retired instructions, counted a decoded block at
    // a time: only a few instructions can separate the two.
    assert!(
        (1_000_000..1_000_010).contains(&vm.cpu.gpr[0]),
        "{}",
        vm.cpu.gpr[0]
    );
    assert_eq!(vm.cpu.gpr[2], 0);
}

#[test]
fn rdtsc_at_ring3_with_cr4_tsd_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Long64, iretq_to_ring3);
    place(&mut vm, 64, USER_CODE, |a| a.rdtsc());
    vm.cpu.cr4 |= 1 << 2;

    vm.run_to_hlt(20);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u64(&vm, 1), USER_CODE);
}

#[test]
fn rdmsr_of_an_unknown_msr_raises_gp0() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.rdmsr());
    vm.cpu.gpr[1] = 0x1234;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u64(&vm, 0), 0);
}

#[test]
fn writing_efer_lme_while_paging_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| {
        a.mov(ecx, msr::EFER)?;
        a.rdmsr()?;
        a.and(eax, !(efer::LME as i32))?;
        a.wrmsr()
    });

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
}

#[test]
fn fs_base_msr_sets_the_base_fs_relative_loads_use() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(ecx, msr::FS_BASE)?;
        a.mov(eax, 0x2000)?;
        a.xor(edx, edx)?;
        a.wrmsr()?;
        a.mov(rbx, qword_ptr(8).fs())?;
        a.hlt()
    });
    write_u64(&mut vm, 0x2008, 0xFEED);

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.segment(SegReg::Fs).base, 0x2000);
    assert_eq!(vm.cpu.gpr[3], 0xFEED);
}

#[test]
fn non_canonical_gs_base_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.wrmsr());
    vm.cpu.gpr[1] = msr::GS_BASE as u64;
    vm.cpu.gpr[2] = 0x8000;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
}

// ---------------------------------------------------------------------
// SYSCALL, SYSRET, SWAPGS
// ---------------------------------------------------------------------

/// STAR: SYSCALL CS = 0x18 (SS 0x20), SYSRET base 0x30 (SS 0x3B, CS64 0x43).
const STAR: u64 = (0x30 << 48) | (0x18 << 32);

#[test]
fn syscall_enters_lstar_at_ring0_with_rcx_r11_and_masked_flags() {
    let mut vm = vm_with_idt(BareMode::Long64, iretq_to_ring3);
    place(&mut vm, 64, USER_CODE, |a| a.syscall());
    place(&mut vm, 64, TARGET, |a| a.hlt());
    vm.cpu.msrs.star = STAR;
    vm.cpu.msrs.lstar = TARGET;
    vm.cpu.msrs.sfmask = rflags::IF | rflags::DF;
    vm.cpu.flags.set(rflags::IF | rflags::DF | rflags::FIXED1);

    vm.run_to_hlt(20);

    assert_eq!(vm.cpu.rip, TARGET + 1);
    assert_eq!(vm.cpu.cpl, 0);
    assert_eq!(vm.cpu.segment(SegReg::Cs).selector, 0x18);
    assert_eq!(vm.cpu.segment(SegReg::Ss).selector, 0x20);
    assert_eq!(vm.cpu.gpr[1], USER_CODE + 2, "RCX");
    assert_ne!(vm.cpu.gpr[11] & rflags::IF, 0, "R11 holds the old RFLAGS");
    assert!(!vm.cpu.flags.test(rflags::IF));
    assert!(!vm.cpu.flags.test(rflags::DF));
}

#[test]
fn sysretq_returns_to_64_bit_ring3_with_r11_flags() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.sysretq());
    place(&mut vm, 64, USER_CODE, |a| a.hlt());
    vm.cpu.msrs.star = STAR;
    vm.cpu.gpr[1] = USER_CODE;
    vm.cpu.gpr[11] = rflags::CF | rflags::FIXED1;

    vm.run_to_hlt(20);

    // HLT at ring 3 faulted: the frame shows where SYSRET went.
    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u64(&vm, 1), USER_CODE);
    assert_eq!(stack_u64(&vm, 2), 0x43);
    assert_eq!(stack_u64(&vm, 3) & rflags::CF, rflags::CF);
    assert_eq!(stack_u64(&vm, 5), 0x3B);
}

#[test]
fn sysret_to_a_non_canonical_rcx_raises_gp_at_ring0() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.sysretq());
    vm.cpu.msrs.star = STAR;
    vm.cpu.gpr[1] = 0x8000_0000_0000_0000;

    vm.run_to_hlt(20);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u64(&vm, 2), sel::CODE64 as u64, "still ring 0");
}

#[test]
fn syscall_without_efer_sce_is_invalid() {
    let mut vm = vm_with_idt(BareMode::Long64, |a| a.syscall());
    vm.cpu.efer &= !efer::SCE;

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(6));
}

#[test]
fn swapgs_exchanges_gs_base_and_kernel_gs_base() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.swapgs()?;
        a.hlt()
    });
    vm.cpu.msrs.kernel_gs_base = 0xABC000;

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.segment(SegReg::Gs).base, 0xABC000);
    assert_eq!(vm.cpu.msrs.kernel_gs_base, 0);
}

// ---------------------------------------------------------------------
// Far transfers
// ---------------------------------------------------------------------

#[test]
fn real_mode_far_call_and_retf_round_trip() {
    let mut vm = Vm::with_asm(BareMode::Real, |a| {
        a.call_far(0x0700, 0x0010)?; // linear 0x7010
        a.hlt()
    });
    place(&mut vm, 16, 0x7010, |a| {
        a.mov(ax, cs)?;
        a.retf()
    });

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.gpr[0] & 0xFFFF, 0x0700);
    assert_eq!(vm.cpu.rip, REAL_CODE_BASE + 6);
    assert_eq!(vm.cpu.gpr[4] & 0xFFFF, 0x7000);
}

#[test]
fn protected_mode_far_call_pushes_cs_and_eip() {
    let mut vm = Vm::with_asm(BareMode::Protected32, |a| {
        a.call_far(sel::CODE32, TARGET as u32)?;
        a.hlt()
    });
    place(&mut vm, 32, TARGET, |a| a.hlt());

    vm.run_to_hlt(10);

    assert_eq!(vm.cpu.rip, TARGET + 1);
    assert_eq!(stack_u32(&vm, 0) as u64, CODE_BASE + 7);
    assert_eq!(stack_u32(&vm, 1), sel::CODE32 as u32);
}

#[test]
fn far_jump_to_a_ring3_code_segment_from_ring0_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.jmp_far(sel::USER_CODE32, 0));

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u32(&vm, 0), (sel::USER_CODE32 & !3) as u32);
}

#[test]
fn far_jump_to_a_not_present_code_segment_raises_np() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.jmp_far(0x58, 0));
    set_gdt_entry(&mut vm, 0x58, descriptor(0, 0xFFFFF, 0x1B, 0xC));

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(11));
    assert_eq!(stack_u32(&vm, 0), 0x58);
}

#[test]
fn far_jump_to_a_tss_is_refused_with_gp() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.jmp_far(sel::TSS, 0));

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u32(&vm, 0), sel::TSS as u32);
}

const GATE: u16 = 0x60;

/// Ring 3 pushes two parameters and calls a DPL-3 gate to ring-0 code,
/// which stops at a checkpoint, then returns with RETF 8.
fn call_gate_vm() -> Vm {
    let mut vm = vm_with_idt(BareMode::Protected32, iretd_to_ring3);
    place(&mut vm, 32, USER_CODE, |a| {
        a.push(0x1111_1111)?;
        a.push(0x2222_2222)?;
        a.call_far(GATE | 3, 0)?;
        a.hlt() // #GP at ring 3 after the return
    });
    place(&mut vm, 32, TARGET, |a| {
        a.hlt()?;
        a.retf_1(8)
    });
    set_gdt_entry(&mut vm, GATE, call_gate32(TARGET as u32, sel::CODE32, 3, 2));
    vm
}

#[test]
fn call_gate_to_ring0_switches_stacks_and_copies_parameters() {
    let mut vm = call_gate_vm();

    vm.run_to_hlt(30);

    assert_eq!(vm.cpu.rip, TARGET + 1);
    assert_eq!(vm.cpu.cpl, 0);
    assert_eq!(vm.cpu.gpr[4], KERNEL_STACK - 24);
    assert_eq!(stack_u32(&vm, 0) as u64, USER_CODE + 5 + 5 + 7);
    assert_eq!(stack_u32(&vm, 1), sel::USER_CODE32 as u32);
    assert_eq!(stack_u32(&vm, 2), 0x2222_2222);
    assert_eq!(stack_u32(&vm, 3), 0x1111_1111);
    assert_eq!(stack_u32(&vm, 4) as u64, USER_STACK - 8);
    assert_eq!(stack_u32(&vm, 5), sel::USER_DATA as u32);
}

#[test]
fn retf_through_a_call_gate_returns_to_ring3_and_releases_parameters() {
    let mut vm = call_gate_vm();
    vm.run_to_hlt(30);

    resume(&mut vm);
    vm.run_to_hlt(30);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(
        stack_u32(&vm, 1) as u64,
        USER_CODE + 5 + 5 + 7,
        "ring-3 HLT"
    );
    assert_eq!(stack_u32(&vm, 2), sel::USER_CODE32 as u32);
    assert_eq!(stack_u32(&vm, 4) as u64, USER_STACK, "parameters released");
}

#[test]
fn call_gate_with_dpl0_is_refused_from_ring3() {
    let mut vm = call_gate_vm();
    set_gdt_entry(&mut vm, GATE, call_gate32(TARGET as u32, sel::CODE32, 0, 2));

    vm.run_to_hlt(30);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u32(&vm, 0), GATE as u32);
}

#[test]
fn iretq_to_a_32_bit_code_segment_enters_compatibility_mode() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.push(sel::DATA32 as i32)?;
        a.push(0x6_0000)?;
        a.pushfq()?;
        a.push(sel::CODE32 as i32)?;
        a.push(TARGET as i32)?;
        a.iretq()
    });
    place(&mut vm, 32, TARGET, |a| a.hlt());

    vm.run_to_hlt(20);

    assert_eq!(vm.cpu.mode, Mode::Compat32);
    assert_eq!(vm.cpu.gpr[4], 0x6_0000);
    assert_eq!(vm.cpu.rip, TARGET + 1);
}

#[test]
fn iret_to_ring3_nulls_data_segments_the_new_cpl_may_not_use() {
    let mut vm = vm_with_idt(BareMode::Protected32, iretd_to_ring3);
    place(&mut vm, 32, USER_CODE, |a| a.hlt());

    vm.run_to_hlt(20);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(vm.cpu.segment(SegReg::Ds).selector, 0);
    assert_eq!(vm.cpu.segment(SegReg::Es).selector, 0);
}

#[test]
fn hlt_with_if_clear_and_nothing_pending_stops_the_cpu() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| a.hlt());

    let stop = vm.cpu.run(10);

    assert_eq!(stop, Stop::Halted);
}

/// Ring 3 in long mode calls through a 64-bit call gate (16 bytes at
/// GATE) to ring-0 code, which stops at a checkpoint, then returns with
/// RETFQ.
fn long_call_gate_vm() -> Vm {
    let mut vm = vm_with_idt(BareMode::Long64, iretq_to_ring3);
    place(&mut vm, 64, USER_CODE, |a| {
        a.call(tword_ptr(0x2000))?;
        a.hlt()
    });
    place(&mut vm, 64, TARGET, |a| {
        a.hlt()?;
        a.db(&[0x48, 0xCB]) // retfq
    });
    vm.cpu.write_phys(0x2008, &(GATE | 3).to_le_bytes());
    let [lo, hi] = gate64(TARGET, sel::CODE64, 0xC, 3, 0);
    set_gdt_entry(&mut vm, GATE, lo);
    set_gdt_entry(&mut vm, GATE + 8, hi);
    vm
}

fn long_call_len() -> u64 {
    assemble(64, USER_CODE, |a| a.call(tword_ptr(0x2000))).len() as u64
}

#[test]
fn long_mode_call_gate_to_ring0_pushes_ss_rsp_cs_rip_on_rsp0() {
    let mut vm = long_call_gate_vm();

    vm.run_to_hlt(30);

    assert_eq!(vm.cpu.rip, TARGET + 1);
    assert_eq!(vm.cpu.cpl, 0);
    assert_eq!(vm.cpu.segment(SegReg::Ss).selector, 0, "null SS");
    assert_eq!(vm.cpu.gpr[4], KERNEL_STACK - 32);
    assert_eq!(stack_u64(&vm, 0), USER_CODE + long_call_len());
    assert_eq!(stack_u64(&vm, 1), sel::USER_CODE64 as u64);
    assert_eq!(stack_u64(&vm, 2), USER_STACK);
    assert_eq!(stack_u64(&vm, 3), sel::USER_DATA as u64);
}

#[test]
fn retfq_to_ring3_restores_the_user_stack() {
    let mut vm = long_call_gate_vm();
    vm.run_to_hlt(30);

    resume(&mut vm);
    vm.run_to_hlt(30);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u64(&vm, 1), USER_CODE + long_call_len());
    assert_eq!(stack_u64(&vm, 2), sel::USER_CODE64 as u64);
    assert_eq!(stack_u64(&vm, 4), USER_STACK);
}

// ---------------------------------------------------------------------
// Virtual-8086 mode
// ---------------------------------------------------------------------

const V86_CODE: u64 = 0x5000;

/// IRETD from ring 0 with VM set in the frame: enters virtual-8086 mode
/// at 0000:5000 with SS:SP = 0000:6000 and DS = 0x100.
fn v86_vm(iopl: u64, v86: Program) -> Vm {
    // The frame: GS, FS, DS, ES, SS, ESP, then EFLAGS (VM, the chosen
    // IOPL, reserved bit 1), CS, EIP.
    let code = assemble(32, CODE_BASE, |a| {
        for v in [0, 0, 0x100, 0, 0, 0x6000] {
            a.push(v)?;
        }
        a.push((rflags::VM | (iopl << 12) | rflags::FIXED1) as i32)?;
        a.push(0)?;
        a.push(V86_CODE as i32)?;
        a.iretd()
    });
    let mut vm = Vm::new(BareMode::Protected32, &code);
    install_idt(&mut vm, BareMode::Protected32);
    place(&mut vm, 16, V86_CODE, v86);
    set_gate32(
        &mut vm,
        0x30,
        gate32(handler(0x30) as u32, sel::CODE32, INTERRUPT_GATE, 3),
    );
    vm
}

#[test]
fn iretd_with_vm_set_enters_virtual_8086_mode() {
    let mut vm = v86_vm(3, |a| {
        a.mov(ax, ds)?;
        a.int(0x30)
    });

    vm.run_to_hlt(30);

    // The handler's frame shows the V86 state, including DS.
    assert_eq!(halted_vector(&vm), Some(0x30));
    assert_eq!(stack_u32(&vm, 0) as u64, V86_CODE + 4, "EIP past INT");
    assert_eq!(stack_u32(&vm, 1), 0, "CS");
    assert_ne!(stack_u32(&vm, 2) as u64 & rflags::VM, 0, "EFLAGS.VM");
    assert_eq!(stack_u32(&vm, 3), 0x6000, "ESP");
    assert_eq!(stack_u32(&vm, 6), 0x100, "DS");
    assert_eq!(vm.cpu.gpr[0] & 0xFFFF, 0x100);
}

#[test]
fn interrupt_from_virtual_8086_mode_switches_to_ring0_and_clears_data_segments() {
    let mut vm = v86_vm(3, |a| a.int(0x30));

    vm.run_to_hlt(30);

    assert_eq!(vm.cpu.mode, Mode::Protected32);
    assert_eq!(vm.cpu.cpl, 0);
    assert_eq!(vm.cpu.gpr[4], KERNEL_STACK - 36);
    assert_eq!(vm.cpu.segment(SegReg::Ds).selector, 0);
}

#[test]
fn int_in_virtual_8086_mode_with_iopl_below_3_raises_gp0() {
    let mut vm = v86_vm(0, |a| a.int(0x30));

    vm.run_to_hlt(30);

    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u32(&vm, 0), 0, "error code");
    assert_eq!(stack_u32(&vm, 1) as u64, V86_CODE, "EIP of the INT");
}

#[test]
fn sysenter_enters_ring0_at_the_sysenter_msrs() {
    let mut vm = vm_with_idt(BareMode::Protected32, iretd_to_ring3);
    place(&mut vm, 32, USER_CODE, |a| a.sysenter());
    place(&mut vm, 32, TARGET, |a| a.hlt());
    vm.cpu.msrs.sysenter_cs = sel::CODE32 as u64;
    vm.cpu.msrs.sysenter_eip = TARGET;
    vm.cpu.msrs.sysenter_esp = 0x6_0000;

    vm.run_to_hlt(20);

    assert_eq!(vm.cpu.rip, TARGET + 1);
    assert_eq!(vm.cpu.cpl, 0);
    assert_eq!(vm.cpu.segment(SegReg::Ss).selector, sel::DATA32);
    assert_eq!(vm.cpu.gpr[4], 0x6_0000);
}

#[test]
fn sysexit_returns_to_ring3_at_edx_with_esp_from_ecx() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.sysexit());
    place(&mut vm, 32, USER_CODE, |a| a.hlt());
    vm.cpu.msrs.sysenter_cs = sel::CODE32 as u64; // +16: 0x18 | 3, +24: 0x20 | 3
    vm.cpu.gpr[2] = USER_CODE;
    vm.cpu.gpr[1] = USER_STACK;

    vm.run_to_hlt(20);

    // HLT at ring 3 faulted; the frame shows the SYSEXIT state.
    assert_eq!(halted_vector(&vm), Some(13));
    assert_eq!(stack_u32(&vm, 1) as u64, USER_CODE);
    assert_eq!(stack_u32(&vm, 2), 0x1B);
    assert_eq!(stack_u32(&vm, 4) as u64, USER_STACK);
    assert_eq!(stack_u32(&vm, 5), 0x23);
}

#[test]
fn sysenter_with_a_null_sysenter_cs_raises_gp() {
    let mut vm = vm_with_idt(BareMode::Protected32, |a| a.sysenter());

    vm.run_to_hlt(10);

    assert_eq!(halted_vector(&vm), Some(13));
}
