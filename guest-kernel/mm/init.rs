//! The kernel's own page tables (Linux's `arch/x86/mm/init_64.c`).
//!
//! Stage 2's tables identity-map the first 4 GiB; we replace them with:
//! - the *direct map*: all RAM (up to the highest usable E820 address) at
//!   [`PAGE_OFFSET`] + physical, read-write and no-execute, in 2 MiB pages;
//!   the 2 MiB blocks holding the kernel image are split into 4 KiB pages
//!   so the image's text and rodata are read-only there too;
//! - the *kernel image* at [`KERNEL_VIRT_BASE`] + physical in 4 KiB pages,
//!   per section (the linker script's symbols): text read + execute, rodata
//!   read-only + NX, data and bss read-write + NX, the stacks' guard pages
//!   left out;
//! - nothing in the lower half, so a NULL dereference faults.
//!
//! With EFER.NXE and CR0.WP on, no kernel page is both writable and
//! executable, and the kernel cannot write through a read-only mapping (W^X).
//! The tables come from a pool in `.bss`: they must exist before the page
//! allocator, which itself needs the direct map.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use ondisk::bootinfo::KERNEL_VIRT_BASE;

use super::{PAGE_OFFSET, PAGE_SIZE, e820, virt_to_phys};
use crate::arch::x86_64::cpu::{self, EFER_NXE, MSR_EFER, cr0, cr4};
use crate::arch::x86_64::pgtable::{HUGE_PAGE_SIZE, PageTable, flags, index};
use crate::arch::x86_64::tss;

/// Page-table pages available before the page allocator: enough for the
/// kernel's own tables and a direct map of 32 GiB (one page directory per
/// GiB).
const POOL_PAGES: usize = 48;
/// The most RAM the direct map covers.
const DIRECT_MAP_MAX: u64 = 32 << 30;

struct Pool(UnsafeCell<[PageTable; POOL_PAGES]>);
// SAFETY: used only during single-threaded boot, through `alloc_table`.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool(UnsafeCell::new([const { PageTable::new() }; POOL_PAGES]));
static POOL_USED: AtomicUsize = AtomicUsize::new(0);
/// One past the highest byte the direct map covers.
static DIRECT_MAP_END: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" {
    safe static _text: [u8; 0];
    safe static _etext: [u8; 0];
    safe static __start_rodata: [u8; 0];
    safe static __end_rodata: [u8; 0];
    safe static _sdata: [u8; 0];
    safe static _edata: [u8; 0];
    safe static __bss_start: [u8; 0];
    safe static __bss_stop: [u8; 0];
    safe static _end: [u8; 0];
}

/// The kernel image's parts, as virtual address ranges.
pub struct KernelLayout {
    pub text: (u64, u64),
    pub rodata: (u64, u64),
    pub data: (u64, u64),
    pub bss: (u64, u64),
}

/// Where the linker put text, rodata, data and bss.
pub fn kernel_layout() -> KernelLayout {
    let a = |s: &[u8; 0]| s.as_ptr() as u64;
    KernelLayout {
        text: (a(&_text), a(&_etext)),
        rodata: (a(&__start_rodata), a(&__end_rodata)),
        data: (a(&_sdata), a(&_edata)),
        bss: (a(&__bss_start), a(&__bss_stop)),
    }
}

/// The kernel image's physical range (page-rounded).
pub fn kernel_phys_range() -> (u64, u64) {
    let end = (&raw const _end) as u64;
    (
        virt_to_phys((&raw const _text) as u64).0,
        virt_to_phys(end.div_ceil(PAGE_SIZE) * PAGE_SIZE).0,
    )
}

/// One past the highest physical byte the direct map covers.
pub fn direct_map_end() -> u64 {
    DIRECT_MAP_END.load(Ordering::Relaxed)
}

/// A zeroed page-table page from the pool, and its physical address.
fn alloc_table() -> u64 {
    let i = POOL_USED.fetch_add(1, Ordering::Relaxed);
    assert!(i < POOL_PAGES, "paging_init: page-table pool exhausted");
    // SAFETY: each pool page is handed out once.
    let table = unsafe { &mut (*POOL.0.get())[i] };
    virt_to_phys(table as *mut PageTable as u64).0
}

/// The page-table page at physical `pa`: pool pages are in the kernel
/// image, reachable through its mapping before and after the switch.
fn table_at(pa: u64) -> &'static mut PageTable {
    // SAFETY: every table we build came from `alloc_table`, which lies in
    // the kernel's .bss, mapped at KERNEL_VIRT_BASE + pa.
    unsafe { &mut *((KERNEL_VIRT_BASE + pa) as *mut PageTable) }
}

/// The table one level below entry `idx` of `table`, created if missing.
fn next_table(table: &mut PageTable, idx: usize) -> &'static mut PageTable {
    let entry = table.entries[idx];
    if entry & flags::PRESENT != 0 {
        assert!(
            entry & flags::HUGE == 0,
            "paging_init: split of a huge page"
        );
        return table_at(entry & crate::arch::x86_64::pgtable::ADDR_MASK);
    }
    let pa = alloc_table();
    // Intermediate entries allow everything; the leaves restrict.
    table.entries[idx] = pa | flags::PRESENT | flags::WRITE;
    table_at(pa)
}

/// Maps the 4 KiB page at `va` to `pa`.
fn map_page(pml4: &mut PageTable, va: u64, pa: u64, leaf: u64) {
    let pdpt = next_table(pml4, index(va, 4));
    let pd = next_table(pdpt, index(va, 3));
    let pt = next_table(pd, index(va, 2));
    pt.entries[index(va, 1)] = pa | leaf;
}

/// Maps the 2 MiB page at `va` to `pa`.
fn map_huge(pml4: &mut PageTable, va: u64, pa: u64, leaf: u64) {
    let pdpt = next_table(pml4, index(va, 4));
    let pd = next_table(pdpt, index(va, 3));
    pd.entries[index(va, 2)] = pa | leaf | flags::HUGE;
}

/// The optional entry bits this CPU supports.
struct PageBits {
    /// [`flags::NX`] if the CPU has it: without it the bit is reserved and
    /// W^X is reduced to "text is read-only".
    nx: u64,
    /// [`flags::GLOBAL`] if the CPU has PGE.
    global: u64,
}

/// The leaf flags for kernel-image page `va` (W^X by section).
fn image_flags(layout: &KernelLayout, bits: &PageBits, va: u64) -> u64 {
    let base = flags::PRESENT | bits.global;
    if (layout.text.0..layout.text.1).contains(&va) {
        base
    } else if (layout.rodata.0..layout.rodata.1).contains(&va) {
        base | bits.nx
    } else {
        base | flags::WRITE | bits.nx
    }
}

/// Builds the kernel page tables and switches to them.
pub fn paging_init() {
    let layout = kernel_layout();
    let (kstart, kend) = kernel_phys_range();
    let bits = PageBits {
        nx: if cpu::has_nx() { flags::NX } else { 0 },
        global: if cpu::has_pge() { flags::GLOBAL } else { 0 },
    };
    if bits.nx == 0 {
        pr_warn!("paging: CPU lacks NX; kernel data stays executable");
    }
    let pml4_pa = alloc_table();
    let pml4 = table_at(pml4_pa);

    // The kernel image, 4 KiB pages, minus the stack guard pages.
    let image_end = (&raw const _end) as u64;
    let mut va = layout.text.0;
    while va < image_end {
        if !tss::guard_pages().any(|g| g == va) {
            map_page(
                pml4,
                va,
                virt_to_phys(va).0,
                image_flags(&layout, &bits, va),
            );
        }
        va += PAGE_SIZE;
    }

    // The direct map.
    let ram_end = e820::max_ram_end();
    let dm_end = ram_end.min(DIRECT_MAP_MAX).div_ceil(HUGE_PAGE_SIZE) * HUGE_PAGE_SIZE;
    if ram_end > DIRECT_MAP_MAX {
        pr_warn!(
            "direct map covers only the first {} GiB of RAM",
            DIRECT_MAP_MAX >> 30
        );
    }
    let rw = flags::PRESENT | flags::WRITE | bits.nx | bits.global;
    let mut pa = 0;
    while pa < dm_end {
        let block = pa..pa + HUGE_PAGE_SIZE;
        if block.start < kend && kstart < block.end {
            // Split: the image's alias follows the image's rights, minus X.
            for page in (block.start..block.end).step_by(PAGE_SIZE as usize) {
                let f = if (kstart..kend).contains(&page) {
                    image_flags(&layout, &bits, KERNEL_VIRT_BASE + page) | bits.nx
                } else {
                    rw
                };
                map_page(pml4, PAGE_OFFSET + page, page, f);
            }
        } else {
            map_huge(pml4, PAGE_OFFSET + pa, pa, rw);
        }
        pa += HUGE_PAGE_SIZE;
    }
    DIRECT_MAP_END.store(dm_end, Ordering::Relaxed);

    // SAFETY: the new tables map everything the kernel touches from here
    // on (its image, stacks, .bss, the direct map); the old identity map is
    // no longer needed since BootInfo was copied. Clearing CR4.PGE around
    // the CR3 write also flushes stage 2's global entries (SDM Vol. 3A
    // §4.10.4.1).
    unsafe {
        if bits.nx != 0 {
            cpu::wrmsr(MSR_EFER, cpu::rdmsr(MSR_EFER) | EFER_NXE);
        }
        let cr4v = cpu::read_cr4();
        cpu::write_cr4(cr4v & !cr4::PGE);
        cpu::write_cr3(pml4_pa);
        if bits.global != 0 {
            cpu::write_cr4(cr4v | cr4::PGE);
        }
        cpu::write_cr0(cpu::read_cr0() | cr0::WP);
    }
    pr_info!(
        "paging: direct map {:#x}-{:#x} at {:#x}, kernel text {:#x}-{:#x} RX, rodata R, data RW+NX ({} table pages)",
        0,
        dm_end,
        PAGE_OFFSET,
        layout.text.0,
        layout.text.1,
        POOL_USED.load(Ordering::Relaxed)
    );
}
