//! The BIOS E820 memory map (Linux's `arch/x86/kernel/e820.c`), as stage 2
//! collected it with int 15h, EAX = E820h (ACPI spec §15 "System Address
//! Map Interfaces").

use ondisk::bootinfo::{
    E820_ACPI_NVS, E820_ACPI_RECLAIM, E820_BAD, E820_RAM, E820_RESERVED, MemoryRegion,
};

use super::PAGE_SIZE;
use crate::init::boot_info;

fn type_name(kind: u32) -> &'static str {
    match kind {
        E820_RAM => "usable",
        E820_RESERVED => "reserved",
        E820_ACPI_RECLAIM => "ACPI data",
        E820_ACPI_NVS => "ACPI NVS",
        E820_BAD => "unusable",
        _ => "type unknown",
    }
}

/// The map's entries.
pub fn regions() -> &'static [MemoryRegion] {
    boot_info().memory_map()
}

/// Prints the map as Linux does at boot.
pub fn print_map() {
    pr_info!("BIOS-provided physical RAM map:");
    for r in regions() {
        pr_info!(
            "BIOS-e820: [mem {:#018x}-{:#018x}] {}",
            r.base,
            (r.base + r.length).saturating_sub(1),
            type_name(r.kind)
        );
    }
}

/// The usable RAM ranges, shrunk to whole pages: `(start, end)` byte
/// addresses, end exclusive.
pub fn usable_ranges() -> impl Iterator<Item = (u64, u64)> {
    regions()
        .iter()
        .filter(|r| r.kind == E820_RAM)
        .filter_map(|r| {
            let start = r.base.div_ceil(PAGE_SIZE) * PAGE_SIZE;
            let end = (r.base.saturating_add(r.length)) / PAGE_SIZE * PAGE_SIZE;
            (start < end).then_some((start, end))
        })
}

/// One past the highest usable RAM byte.
pub fn max_ram_end() -> u64 {
    usable_ranges().map(|(_, end)| end).max().unwrap_or(0)
}

/// Total usable RAM in bytes.
pub fn total_ram() -> u64 {
    usable_ranges().map(|(s, e)| e - s).sum()
}
