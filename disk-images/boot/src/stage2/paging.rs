//! The kernel's higher-half mapping, added to the page tables `entry.s`
//! built (PML4 slot 0 identity-maps the first 4 GiB with 2 MiB pages).
//!
//! 4-level paging, SDM vol. 3A 4.5: PML4 -> PDPT -> PD -> PT, 9 bits of
//! the linear address each, 4 KiB leaves here. New tables come from a pool
//! in stage 2's `.bss` (below 1 MiB, as the boot contract says).

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const HUGE: u64 = 1 << 7;
const NO_EXECUTE: u64 = 1 << 63;
const ADDRESS: u64 = 0x000F_FFFF_FFFF_F000;

/// Tables the pool holds: 2 for the top (PDPT, PD) and one PT per 2 MiB of
/// kernel, so kernels up to about 60 MiB.
const POOL_TABLES: usize = 32;

#[repr(C, align(4096))]
struct Table([u64; 512]);

static mut POOL: [Table; POOL_TABLES] = [const { Table([0; 512]) }; POOL_TABLES];
static mut POOL_USED: usize = 0;

extern "C" {
    /// The PML4 `entry.s` loaded into CR3.
    static mut s2_pml4: [u64; 512];
}

#[derive(Clone, Copy, Debug)]
pub enum MapError {
    /// The pool of page tables ran out.
    OutOfTables,
    /// Two segments want one virtual page for different physical pages.
    Conflict { vaddr: u64 },
}

impl core::fmt::Display for MapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MapError::OutOfTables => write!(
                f,
                "the kernel is too large to map (page-table pool exhausted)"
            ),
            MapError::Conflict { vaddr } => {
                write!(f, "two segments map virtual {vaddr:#x} to different pages")
            }
        }
    }
}

/// Page permissions of a mapping.
#[derive(Clone, Copy)]
pub struct Access {
    pub writable: bool,
    pub executable: bool,
}

/// Maps the 4 KiB page at `vaddr` to `paddr`. A page mapped twice to the
/// same frame (two segments sharing a page) gets the union of the rights.
/// `nx` says whether EFER.NXE is on (the NX bit is reserved otherwise).
pub fn map_page(vaddr: u64, paddr: u64, access: Access, nx: bool) -> Result<(), MapError> {
    // Stage 2 is single-threaded and the only user of its page tables; the
    // PML4 and the pool are identity-mapped statics.
    let mut table: *mut u64 = (&raw mut s2_pml4).cast();
    for level in [39u32, 30, 21] {
        let index = ((vaddr >> level) & 511) as usize;
        // SAFETY: `table` points at a 512-entry table (the PML4 or one
        // from the pool, whose addresses are identity-mapped).
        let entry = unsafe { &mut *table.add(index) };
        if *entry & PRESENT == 0 {
            *entry = alloc_table()? | PRESENT | WRITABLE;
        } else if *entry & HUGE != 0 {
            return Err(MapError::Conflict { vaddr });
        }
        table = (*entry & ADDRESS) as *mut u64;
    }
    let index = ((vaddr >> 12) & 511) as usize;
    // SAFETY: as above, `table` is a page table from the pool.
    let leaf = unsafe { &mut *table.add(index) };
    let mut flags = PRESENT;
    let (mut writable, mut executable) = (access.writable, access.executable);
    if *leaf & PRESENT != 0 {
        if *leaf & ADDRESS != paddr {
            return Err(MapError::Conflict { vaddr });
        }
        writable |= *leaf & WRITABLE != 0;
        executable |= *leaf & NO_EXECUTE == 0;
    }
    if writable {
        flags |= WRITABLE;
    }
    if nx && !executable {
        flags |= NO_EXECUTE;
    }
    *leaf = paddr | flags;
    Ok(())
}

/// A zeroed table from the pool; its physical address.
fn alloc_table() -> Result<u64, MapError> {
    // SAFETY: single-threaded; the pool is only touched here.
    unsafe {
        let used = POOL_USED;
        if used == POOL_TABLES {
            return Err(MapError::OutOfTables);
        }
        POOL_USED = used + 1;
        let table = &raw mut POOL[used];
        (*table).0 = [0; 512];
        Ok(table as u64)
    }
}

/// Reloads CR3 so no stale translation survives the new mappings.
pub fn flush() {
    // SAFETY: writing back the current CR3 only flushes the TLB.
    unsafe {
        core::arch::asm!("mov {t}, cr3", "mov cr3, {t}", t = out(reg) _, options(nostack, preserves_flags));
    }
}
