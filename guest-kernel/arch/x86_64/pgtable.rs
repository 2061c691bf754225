//! 4-level page tables (SDM Vol. 3A §4.5 "4-Level Paging", Table 4-14 to
//! 4-20 for the entry formats). Linux's `arch/x86/include/asm/pgtable*.h`.

/// Page-table entry bits.
pub mod flags {
    pub const PRESENT: u64 = 1 << 0;
    pub const WRITE: u64 = 1 << 1;
    /// User-mode access allowed (U/S).
    pub const USER: u64 = 1 << 2;
    /// In a PDE: maps a 2 MiB page.
    pub const HUGE: u64 = 1 << 7;
    pub const GLOBAL: u64 = 1 << 8;
    /// Execute-disable (needs EFER.NXE).
    pub const NX: u64 = 1 << 63;
}

/// Bits 51:12 of an entry: the next table or the page.
pub const ADDR_MASK: u64 = 0x000F_FFFF_FFFF_F000;
pub const HUGE_PAGE_SIZE: u64 = 2 << 20;
pub const ENTRIES: usize = 512;

/// One page-table page, at any level.
#[repr(C, align(4096))]
pub struct PageTable {
    pub entries: [u64; ENTRIES],
}

impl PageTable {
    pub const fn new() -> Self {
        PageTable {
            entries: [0; ENTRIES],
        }
    }
}

impl Default for PageTable {
    fn default() -> Self {
        Self::new()
    }
}

/// The index into the table at `level` (4 = PML4 .. 1 = page table) for
/// virtual address `va`: 9 bits each from bit 39, 30, 21, 12.
pub fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * (level - 1))) & 0x1ff) as usize
}
