//! TLB coherence (SDM Vol. 3A, 4.10): cached translations stay in use until
//! the architecture says they go, and go when it does. Also the physical
//! side of the MMU: ROM stays read-only, A20 masking, page-crossing
//! accesses using both translations, and the counters.
//!
//! The MMU is driven from Rust: paging registers set directly, `read_lin` /
//! `write_lin` for accesses, `tlb.flush_page` for INVLPG,
//! `tlb.flush_non_global` for a MOV to CR3, `paging_control_changed` for
//! MOV to CR0/CR4.

use emulator::bare::BareMode;
use emulator::cpu::state::{cr0, cr4, efer};
use emulator::cpu::{Cpu, Exception};
use emulator::memory::ROM_SIZE;
use emulator::mmu::{AccessKind, FlushCause};
use integration_tests::paging::{self, Paging, A, D, G, P, PS, RW, US};
use integration_tests::Vm;

/// Linear page the tests map and remap.
const LIN: u64 = 0x4000_0000;
/// Physical pages the mapping points at before and after a change.
const OLD: u64 = 0x20_0000;
const NEW: u64 = 0x30_0000;
const PML4: u64 = 0x40000;
const PDPT: u64 = 0x41000;
const PD: u64 = 0x42000;
const PT: u64 = 0x43000;

/// PTE address for the `i`th 4 KiB page from `LIN`.
fn pte(i: u64) -> u64 {
    PT + i * 8
}

/// A CPU with 4-level paging: LIN.. mapped through PT (empty), PML4[0] ->
/// PDPT, PDPT[1] -> PD, PD[0] -> PT. Markers at OLD and NEW tell which
/// physical page an access reached.
fn machine(cr4_extra: u64) -> Vm {
    let mut vm = Vm::new(BareMode::Protected32, &[]);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, PML4, PDPT | P | RW | US, 8);
    paging::set_entry(cpu, PDPT + 8, PD | P | RW | US, 8);
    paging::set_entry(cpu, PD, PT | P | RW | US, 8);
    cpu.write_phys(OLD, &0x01D_u64.to_le_bytes());
    cpu.write_phys(NEW, &0x2EE_u64.to_le_bytes());
    paging::enter(cpu, Paging::Level4, PML4, cr4_extra, efer::NXE, true);
    vm
}

fn read(cpu: &mut Cpu, lin: u64) -> u64 {
    cpu.read_lin::<8>(lin, false).expect("read")
}

#[test]
fn stale_translation_is_used_until_invlpg() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), OLD | P | RW, 8);
    assert_eq!(read(cpu, LIN), 0x01D);

    paging::set_entry(cpu, pte(0), NEW | P | RW, 8);
    assert_eq!(read(cpu, LIN), 0x01D, "the TLB still holds the old page");

    cpu.tlb.flush_page(LIN + 0x808);
    assert_eq!(read(cpu, LIN), 0x2EE);
}

#[test]
fn stale_translation_of_an_mmio_page_is_used_until_invlpg() {
    // The slow path (MMIO) keeps the cached translation too.
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), 0xFEB0_0000 | P | RW, 8);
    assert_eq!(read(cpu, LIN), u64::MAX, "unclaimed MMIO reads all-ones");

    paging::set_entry(cpu, pte(0), NEW | P | RW, 8);
    assert_eq!(read(cpu, LIN), u64::MAX);

    cpu.tlb.flush_page(LIN);
    assert_eq!(read(cpu, LIN), 0x2EE);
}

#[test]
fn global_page_survives_a_cr3_write() {
    let mut vm = machine(cr4::PGE);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), OLD | P | RW | G, 8);
    paging::set_entry(cpu, pte(1), (OLD + 0x1000) | P | RW, 8);
    read(cpu, LIN);
    read(cpu, LIN + 0x1000);
    cpu.write_phys(OLD + 0x1000, &0x0A_u64.to_le_bytes());
    cpu.write_phys(NEW + 0x1000, &0x0B_u64.to_le_bytes());

    paging::set_entry(cpu, pte(0), NEW | P | RW | G, 8);
    paging::set_entry(cpu, pte(1), (NEW + 0x1000) | P | RW, 8);
    cpu.tlb.flush_non_global();

    assert_eq!(read(cpu, LIN), 0x01D, "global entry kept");
    assert_eq!(read(cpu, LIN + 0x1000), 0x0B, "non-global entry dropped");
}

#[test]
fn global_bit_without_cr4_pge_does_not_survive_a_cr3_write() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), OLD | P | RW | G, 8);
    read(cpu, LIN);
    paging::set_entry(cpu, pte(0), NEW | P | RW | G, 8);
    cpu.tlb.flush_non_global();
    assert_eq!(read(cpu, LIN), 0x2EE);
}

#[test]
fn global_page_is_dropped_by_a_cr4_pge_toggle() {
    let mut vm = machine(cr4::PGE);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), OLD | P | RW | G, 8);
    read(cpu, LIN);
    paging::set_entry(cpu, pte(0), NEW | P | RW | G, 8);

    let before = cpu.paging_regs();
    cpu.cr4 &= !cr4::PGE;
    cpu.paging_control_changed(before);

    assert_eq!(read(cpu, LIN), 0x2EE);
    assert_eq!(cpu.tlb.stats.flushes(FlushCause::Cr4), 1);
}

#[test]
fn invlpg_anywhere_inside_a_2m_page_drops_all_of_it() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    let lin = LIN + 0x20_0000; // PD[1]
    cpu.write_phys(0x40_1000, &1u64.to_le_bytes());
    cpu.write_phys(0x5F_F000, &2u64.to_le_bytes());
    cpu.write_phys(0x60_1000, &3u64.to_le_bytes());
    cpu.write_phys(0x7F_F000, &4u64.to_le_bytes());
    paging::set_entry(cpu, PD + 8, 0x40_0000 | P | RW | PS, 8);
    assert_eq!(read(cpu, lin + 0x1000), 1);
    assert_eq!(read(cpu, lin + 0x1F_F000), 2);

    paging::set_entry(cpu, PD + 8, 0x60_0000 | P | RW | PS, 8);
    assert_eq!(read(cpu, lin + 0x1000), 1, "stale before invlpg");
    cpu.tlb.flush_page(lin + 0x12_3456);

    assert_eq!(read(cpu, lin + 0x1000), 3);
    assert_eq!(read(cpu, lin + 0x1F_F000), 4);
}

#[test]
fn invlpg_anywhere_inside_a_1g_page_drops_all_of_it() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    let lin = 0x8000_0000; // PDPT[2]
    cpu.write_phys(0x20_0000, &7u64.to_le_bytes());
    paging::set_entry(cpu, PDPT + 16, P | RW | PS, 8);
    assert_eq!(read(cpu, lin + 0x20_0000), 7);

    // Remap to 1 GiB, where nothing answers.
    paging::set_entry(cpu, PDPT + 16, 0x4000_0000 | P | RW | PS, 8);
    assert_eq!(read(cpu, lin + 0x20_0000), 7, "stale before invlpg");
    cpu.tlb.flush_page(lin + 0x3000_0000);

    assert_eq!(read(cpu, lin + 0x20_0000), u64::MAX);
}

#[test]
fn cr0_wp_change_takes_effect_for_cached_pages() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), OLD | P, 8);
    let before = cpu.paging_regs();
    cpu.cr0 &= !cr0::WP;
    cpu.paging_control_changed(before);
    cpu.write_lin::<8>(LIN, 5, false)
        .expect("WP=0: supervisor writes anywhere");

    let before = cpu.paging_regs();
    cpu.cr0 |= cr0::WP;
    cpu.paging_control_changed(before);
    assert_eq!(
        cpu.write_lin::<8>(LIN, 6, false),
        Err(Exception::PageFault { addr: LIN, code: 3 })
    );
    assert_eq!(read(cpu, LIN), 5);
}

#[test]
fn first_write_to_a_cached_clean_page_walks_to_set_dirty() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), OLD | P | RW, 8);
    read(cpu, LIN);
    assert_eq!(paging::entry(cpu, pte(0), 8), OLD | P | RW | A);

    cpu.write_lin::<8>(LIN, 9, false).unwrap();
    assert_eq!(paging::entry(cpu, pte(0), 8), OLD | P | RW | A | D);
}

#[test]
fn counters_report_misses_walks_hits_and_flushes() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), 0xFEB0_0000 | P | RW, 8);
    let start = cpu.tlb.stats;

    read(cpu, LIN); // miss and walk
    read(cpu, LIN); // MMIO: slow path, cached translation
    cpu.tlb.flush_page(LIN);
    read(cpu, LIN); // miss again

    let s = cpu.tlb.stats;
    assert_eq!(s.misses - start.misses, 2);
    assert_eq!(s.walks - start.walks, 2);
    assert_eq!(s.slow_hits - start.slow_hits, 1);
    assert_eq!(
        s.flushes(FlushCause::Invlpg) - start.flushes(FlushCause::Invlpg),
        1
    );
}

#[test]
fn page_fault_counts_and_drops_the_faulting_page() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    let faults = cpu.tlb.stats.faults;
    assert!(cpu.read_lin::<1>(LIN, false).is_err());
    assert_eq!(cpu.tlb.stats.faults, faults + 1);
}

#[test]
fn rom_stays_read_only_through_a_writable_mapping() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    cpu.mem.load_rom(&[0x5A; ROM_SIZE]).unwrap();
    paging::set_entry(cpu, pte(0), 0xF_0000 | P | RW | D, 8);
    assert_eq!(cpu.read_lin::<1>(LIN, false), Ok(0x5A));

    cpu.write_lin::<1>(LIN, 0x11, false)
        .expect("ROM writes are ignored, not faults");
    cpu.write_lin::<1>(LIN, 0x22, false).unwrap();

    assert_eq!(cpu.read_lin::<1>(LIN, false), Ok(0x5A));
}

#[test]
fn a20_gate_off_masks_bit_20_with_paging_off() {
    let mut vm = Vm::new(BareMode::Protected32, &[]);
    let cpu = &mut vm.cpu;
    cpu.write_lin::<4>(0x10_0010, 0xAAAA, false).unwrap();

    cpu.set_a20(false);
    cpu.write_lin::<4>(0x10_0010, 0xBBBB, false).unwrap();

    assert_eq!(cpu.read_lin::<4>(0x10, false), Ok(0xBBBB));
    cpu.set_a20(true);
    assert_eq!(cpu.read_lin::<4>(0x10_0010, false), Ok(0xAAAA));
    assert_eq!(cpu.tlb.stats.flushes(FlushCause::A20), 2);
}

#[test]
fn a20_gate_off_masks_the_walk_result_and_the_tables() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), 0x10_5000 | P | RW, 8);
    cpu.write_phys(0x5000, &0x77u64.to_le_bytes());
    cpu.set_a20(false);
    assert_eq!(read(cpu, LIN), 0x77);
}

#[test]
fn page_crossing_read_uses_both_translations() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), OLD | P | RW, 8);
    paging::set_entry(cpu, pte(1), NEW | P | RW, 8);
    cpu.write_phys(OLD + 0xFFC, &[1, 2, 3, 4]);
    cpu.write_phys(NEW, &[5, 6, 7, 8]);

    assert_eq!(read(cpu, LIN + 0xFFC), 0x0807_0605_0403_0201);
}

#[test]
fn page_crossing_write_faulting_on_the_second_page_changes_nothing() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, pte(0), OLD | P | RW, 8);
    paging::set_entry(cpu, pte(1), NEW | P, 8); // read-only, CR0.WP=1
    cpu.write_phys(OLD + 0xFFC, &[1, 2, 3, 4]);

    let r = cpu.write_lin::<8>(LIN + 0xFFC, u64::MAX, false);

    assert_eq!(
        r,
        Err(Exception::PageFault {
            addr: LIN + 0x1000,
            code: 3
        })
    );
    assert_eq!(&cpu.mem.ram()[(OLD + 0xFFC) as usize..][..4], &[1, 2, 3, 4]);
    assert_eq!(
        paging::entry(cpu, pte(0), 8),
        OLD | P | RW,
        "no A/D on the first page"
    );
}

#[test]
fn page_crossing_access_faulting_on_both_pages_reports_the_first() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    let r = cpu.read_lin::<4>(LIN + 0xFFE, true);
    assert_eq!(
        r,
        Err(Exception::PageFault {
            addr: LIN + 0xFFE,
            code: 4
        })
    );
}

#[test]
fn check_span_faults_on_the_lowest_bad_page_without_side_effects() {
    let mut vm = machine(0);
    let cpu = &mut vm.cpu;
    for i in 0..3 {
        paging::set_entry(cpu, pte(i), (OLD + i * 0x1000) | P | RW, 8);
    }
    paging::set_entry(cpu, pte(1), (OLD + 0x1000) | P, 8);

    let r = cpu.check_span(LIN + 0x800, 0x1000 + 0x900, AccessKind::Write, false);

    assert_eq!(
        r,
        Err(Exception::PageFault {
            addr: LIN + 0x1000,
            code: 3
        })
    );
    assert_eq!(paging::entry(cpu, pte(0), 8), OLD | P | RW);
    assert_eq!(paging::entry(cpu, pte(2), 8), (OLD + 0x2000) | P | RW);
}

#[test]
fn pae_pdptes_are_registers_loaded_from_cr3() {
    // SDM 4.4.1: changing the PDPT in memory has no effect until reload.
    let mut vm = Vm::new(BareMode::Protected32, &[]);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, 0x30000, 0x31001, 8);
    paging::set_entry(cpu, 0x31000, OLD | P | RW | PS, 8);
    cpu.write_phys(OLD, &0x01D_u64.to_le_bytes());
    paging::enter(cpu, Paging::Pae, 0x30000, 0, 0, true);
    paging::set_entry(cpu, 0x30000, 0, 8);
    assert_eq!(cpu.read_lin::<8>(0, false), Ok(0x01D));

    cpu.tlb.flush_all();
    cpu.load_pdptes().unwrap();
    assert!(cpu.read_lin::<8>(0, false).is_err());
}

#[test]
fn pae_pdpte_with_reserved_bits_is_a_general_protection_fault() {
    let mut vm = Vm::new(BareMode::Protected32, &[]);
    let cpu = &mut vm.cpu;
    paging::set_entry(cpu, 0x30008, 0x31001 | RW, 8); // bit 1 is reserved
    cpu.cr0 |= cr0::PG;
    cpu.cr4 |= cr4::PAE;
    cpu.cr3 = 0x30000;
    assert_eq!(cpu.load_pdptes(), Err(Exception::GeneralProtection(0)));
    assert_eq!(cpu.pdptes, [0; 4], "registers unchanged");
}
