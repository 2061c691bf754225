//! The kernel heap: `kmalloc` with power-of-two size classes (Linux's
//! `mm/slab_common.c` `kmalloc_caches`, without the slab bookkeeping), and
//! Rust's `#[global_allocator]` on top of it.
//!
//! Requests up to 2 KiB come from the cache of the smallest class that
//! holds them (8 bytes to 2 KiB); each cache carves whole pages from the
//! page allocator into objects kept on a free list threaded through the
//! free objects. Objects are aligned to their class size, so an alignment
//! up to the size is free. Larger requests take whole 2^order page blocks
//! from the page allocator directly.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

use super::{PAGE_SIZE, PhysAddr, page_alloc, virt_to_phys};
use crate::kernel::sync::SpinLock;

/// Class sizes: 8, 16, ..., 2048.
const MIN_SHIFT: u32 = 3;
const MAX_SHIFT: u32 = 11;
const NR_CLASSES: usize = (MAX_SHIFT - MIN_SHIFT + 1) as usize;

struct Cache {
    /// First free object, or null.
    free: *mut u8,
    /// Objects handed out and not returned.
    active: usize,
    /// Pages carved so far.
    pages: usize,
}

// SAFETY: the free list is only reached through the lock.
unsafe impl Send for Cache {}

static CACHES: SpinLock<[Cache; NR_CLASSES]> = SpinLock::new(
    [const {
        Cache {
            free: ptr::null_mut(),
            active: 0,
            pages: 0,
        }
    }; NR_CLASSES],
);

/// The class index for `size` bytes, or None if too big for a class.
fn class_of(size: usize) -> Option<usize> {
    let size = size.max(1 << MIN_SHIFT);
    let shift = size.next_power_of_two().trailing_zeros();
    (shift <= MAX_SHIFT).then(|| (shift - MIN_SHIFT) as usize)
}

/// The page-allocator order for `size` bytes.
fn order_of(size: usize) -> usize {
    let pages = size.div_ceil(PAGE_SIZE as usize);
    pages.next_power_of_two().trailing_zeros() as usize
}

/// Allocates `size` bytes aligned to `align` (a power of two), or null.
pub fn kmalloc(size: usize, align: usize) -> *mut u8 {
    let size = size.max(align);
    match class_of(size) {
        Some(class) => {
            let mut caches = CACHES.lock();
            let cache = &mut caches[class];
            if cache.free.is_null() {
                let Some(page) = page_alloc::alloc_pages(0) else {
                    return ptr::null_mut();
                };
                cache.pages += 1;
                let obj = 1usize << (class as u32 + MIN_SHIFT);
                let base = page.to_virt();
                // Thread the new page's objects onto the free list.
                for i in (0..PAGE_SIZE as usize / obj).rev() {
                    // SAFETY: the page is ours; each object is in it and
                    // at least 8 bytes, 8-aligned.
                    unsafe {
                        let p = base.add(i * obj);
                        p.cast::<*mut u8>().write(cache.free);
                        cache.free = p;
                    }
                }
            }
            let p = cache.free;
            // SAFETY: `p` is a free object whose first word links the next.
            cache.free = unsafe { p.cast::<*mut u8>().read() };
            cache.active += 1;
            p
        }
        None => match page_alloc::alloc_pages(order_of(size)) {
            Some(pa) => pa.to_virt(),
            None => ptr::null_mut(),
        },
    }
}

/// Frees what [`kmalloc`] returned for the same `size` and `align`.
pub fn kfree(p: *mut u8, size: usize, align: usize) {
    let size = size.max(align);
    match class_of(size) {
        Some(class) => {
            let mut caches = CACHES.lock();
            let cache = &mut caches[class];
            // SAFETY: `p` was an object of this class, now unused.
            unsafe { p.cast::<*mut u8>().write(cache.free) };
            cache.free = p;
            cache.active -= 1;
        }
        None => {
            let pa: PhysAddr = virt_to_phys(p as u64);
            page_alloc::free_pages(pa, order_of(size));
        }
    }
}

/// Calls `f(object_size, active_objects, pages)` per class, for
/// `/proc/slabinfo`.
pub fn for_each_cache(mut f: impl FnMut(usize, usize, usize)) {
    let caches = CACHES.lock();
    for (i, c) in caches.iter().enumerate() {
        f(1 << (i as u32 + MIN_SHIFT), c.active, c.pages);
    }
}

/// Checks the heap once at boot.
pub fn init() {
    use alloc::{boxed::Box, collections::BTreeMap, string::String, vec::Vec};
    let mut v: Vec<u64> = (0..1000).collect();
    v.push(1000);
    let b = Box::new([0u8; 8192]);
    let mut m = BTreeMap::new();
    m.insert(String::from("heap"), v.iter().sum::<u64>());
    assert_eq!(m["heap"], 500_500);
    assert_eq!(b.len(), 8192);
    pr_info!(
        "kmalloc: size classes 8..{} bytes, larger from the page allocator",
        1 << MAX_SHIFT
    );
}

struct KernelHeap;

// SAFETY: kmalloc returns fresh, suitably aligned memory of at least the
// size asked for, or null; kfree takes back exactly what it gave.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        kmalloc(layout.size(), layout.align())
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        kfree(p, layout.size(), layout.align());
    }
}

#[cfg_attr(not(test), global_allocator)]
static HEAP: KernelHeap = KernelHeap;
