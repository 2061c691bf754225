//! Memory management (Linux's `mm/` and `arch/x86/mm/`).
//!
//! Boot order: [`e820`] reads the firmware's map; [`init::paging_init`]
//! builds the kernel's own page tables (the direct map of all RAM at
//! [`PAGE_OFFSET`], the kernel image in the higher half with W^X);
//! [`page_alloc`] then hands out the free pages (a buddy allocator);
//! [`slab`] serves `kmalloc` and Rust's `alloc` from those pages.

/// The BIOS E820 memory map.
pub mod e820;
/// Kernel page tables: the direct map and the kernel image (W^X).
pub mod init;
/// User address spaces.
pub mod mmap;
/// The physical page allocator (buddy system).
pub mod page_alloc;
/// The kernel heap: size-class caches, `#[global_allocator]`.
pub mod slab;

use ondisk::bootinfo::KERNEL_VIRT_BASE;

/// Where all physical memory is mapped (Linux's `PAGE_OFFSET`, the
/// `__PAGE_OFFSET_BASE_L4` of 4-level paging).
pub const PAGE_OFFSET: u64 = 0xFFFF_8880_0000_0000;
pub const PAGE_SIZE: u64 = 4096;
pub const PAGE_SHIFT: u32 = 12;

/// A physical address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PhysAddr(pub u64);

impl PhysAddr {
    /// Its page frame number.
    pub fn pfn(self) -> u64 {
        self.0 >> PAGE_SHIFT
    }

    /// Where the direct map shows it (Linux's `__va`).
    pub fn to_virt(self) -> *mut u8 {
        (PAGE_OFFSET + self.0) as *mut u8
    }
}

/// The physical address of a kernel virtual address, in the direct map
/// or in the kernel image (Linux's `__pa`).
pub fn virt_to_phys(va: u64) -> PhysAddr {
    if va >= KERNEL_VIRT_BASE {
        PhysAddr(va - KERNEL_VIRT_BASE)
    } else {
        PhysAddr(va - PAGE_OFFSET)
    }
}

/// Sets up all of memory management, in order.
pub fn mm_init() {
    e820::print_map();
    init::paging_init();
    page_alloc::init();
    slab::init();
    mmap::init();
}
