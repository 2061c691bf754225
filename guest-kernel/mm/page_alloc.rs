//! The physical page allocator: a binary buddy system (Linux's
//! `mm/page_alloc.c`; Knuth, TAOCP Vol. 1 §2.5).
//!
//! Free memory is kept as blocks of 2^order pages, order 0 to
//! [`MAX_ORDER`], each aligned to its size, on one free list per order.
//! Allocating splits a larger block in halves until the order fits;
//! freeing merges a block with its *buddy* (the other half of the block it
//! came from: `pfn ^ (1 << order)`) while the buddy is free too. The free
//! lists are linked through the free pages themselves (via the direct
//! map); one byte per page frame (`mem_map`, Linux's `struct page` reduced
//! to "free block head of order n or not") says whether a buddy is free.
//!
//! At boot every usable E820 page is freed into the lists except the first
//! 1 MiB (BIOS data, stage 2), the kernel image and `mem_map` itself.

use core::ptr;

use super::{PAGE_SIZE, PhysAddr, e820, init};
use crate::kernel::sync::SpinLock;

/// The largest block: 2^10 pages = 4 MiB (Linux's MAX_PAGE_ORDER).
pub const MAX_ORDER: usize = 10;
const NONE: u64 = u64::MAX;
/// `mem_map` byte for a page that heads a free block (the order is ORed in).
const PAGE_BUDDY: u8 = 0x80;
/// Below this, memory stays reserved.
const LOW_MEMORY_END: u64 = 1 << 20;

/// The links a free block keeps in its first bytes.
#[repr(C)]
struct FreeLinks {
    next: u64,
    prev: u64,
}

struct Zone {
    mem_map: &'static mut [u8],
    free_head: [u64; MAX_ORDER + 1],
    nr_free: [usize; MAX_ORDER + 1],
    free_pages: usize,
    managed_pages: usize,
}

static ZONE: SpinLock<Option<Zone>> = SpinLock::new(None);

fn links(pfn: u64) -> *mut FreeLinks {
    PhysAddr(pfn * PAGE_SIZE).to_virt().cast()
}

impl Zone {
    fn push(&mut self, pfn: u64, order: usize) {
        let head = self.free_head[order];
        // SAFETY: `pfn` heads a free block we own, mapped by the direct map.
        unsafe {
            links(pfn).write(FreeLinks {
                next: head,
                prev: NONE,
            })
        };
        if head != NONE {
            // SAFETY: as above, for the old head.
            unsafe { (*links(head)).prev = pfn };
        }
        self.free_head[order] = pfn;
        self.mem_map[pfn as usize] = PAGE_BUDDY | order as u8;
        self.nr_free[order] += 1;
    }

    fn remove(&mut self, pfn: u64, order: usize) {
        // SAFETY: `pfn` is on free list `order`, so its links are ours.
        let FreeLinks { next, prev } = unsafe { links(pfn).read() };
        if prev == NONE {
            self.free_head[order] = next;
        } else {
            // SAFETY: `prev` is on the same list.
            unsafe { (*links(prev)).next = next };
        }
        if next != NONE {
            // SAFETY: `next` is on the same list.
            unsafe { (*links(next)).prev = prev };
        }
        self.mem_map[pfn as usize] = 0;
        self.nr_free[order] -= 1;
    }

    fn alloc(&mut self, order: usize) -> Option<u64> {
        let mut current = (order..=MAX_ORDER).find(|&o| self.free_head[o] != NONE)?;
        let pfn = self.free_head[current];
        self.remove(pfn, current);
        // Split: keep the lower half, free the upper halves.
        while current > order {
            current -= 1;
            self.push(pfn + (1 << current), current);
        }
        self.free_pages -= 1 << order;
        Some(pfn)
    }

    fn free(&mut self, mut pfn: u64, mut order: usize) {
        self.free_pages += 1 << order;
        while order < MAX_ORDER {
            let buddy = pfn ^ (1 << order);
            if self.mem_map.get(buddy as usize) != Some(&(PAGE_BUDDY | order as u8)) {
                break;
            }
            self.remove(buddy, order);
            pfn = pfn.min(buddy);
            order += 1;
        }
        self.push(pfn, order);
    }

    /// Frees `[start, end)` (pfns) in the largest aligned blocks.
    fn free_range(&mut self, mut start: u64, end: u64) {
        while start < end {
            let mut order = MAX_ORDER;
            while order > 0 && (start & ((1 << order) - 1) != 0 || start + (1 << order) > end) {
                order -= 1;
            }
            self.managed_pages += 1 << order;
            self.free(start, order);
            start += 1 << order;
        }
    }
}

/// Builds the free lists from the E820 map and reports the totals.
pub fn init() {
    let dm_end = init::direct_map_end();
    let max_pfn = dm_end / PAGE_SIZE;
    let (kstart, kend) = init::kernel_phys_range();

    // mem_map goes in the first usable range above the kernel with room.
    let map_bytes = (max_pfn as usize).div_ceil(PAGE_SIZE as usize) * PAGE_SIZE as usize;
    let map_start = e820::usable_ranges()
        .map(|(s, e)| (s.max(kend).max(LOW_MEMORY_END), e.min(dm_end)))
        .find(|&(s, e)| s + map_bytes as u64 <= e)
        .map(|(s, _)| s)
        .expect("page_alloc: no room for mem_map");
    let map_end = map_start + map_bytes as u64;
    // SAFETY: the range is usable RAM, inside the direct map, reserved
    // below from the free lists, and handed out nowhere else.
    let mem_map = unsafe {
        let p = PhysAddr(map_start).to_virt();
        ptr::write_bytes(p, 0, map_bytes);
        core::slice::from_raw_parts_mut(p, max_pfn as usize)
    };
    let mut zone = Zone {
        mem_map,
        free_head: [NONE; MAX_ORDER + 1],
        nr_free: [0; MAX_ORDER + 1],
        free_pages: 0,
        managed_pages: 0,
    };
    let reserved = [(0, LOW_MEMORY_END), (kstart, kend), (map_start, map_end)];
    for (start, end) in e820::usable_ranges() {
        let end = end.min(dm_end);
        // Cut the reserved ranges out of [start, end).
        let mut cursor = start;
        while cursor < end {
            match reserved
                .iter()
                .find(|&&(rs, re)| rs <= cursor && cursor < re)
            {
                Some(&(_, re)) => cursor = re,
                None => {
                    let stop = reserved
                        .iter()
                        .filter(|&&(rs, _)| rs > cursor)
                        .map(|&(rs, _)| rs)
                        .min()
                        .unwrap_or(end)
                        .min(end);
                    pr_debug!("page_alloc: free [mem {:#018x}-{:#018x}]", cursor, stop - 1);
                    zone.free_range(cursor / PAGE_SIZE, stop / PAGE_SIZE);
                    cursor = stop;
                }
            }
        }
    }

    let total_kib = e820::total_ram() / 1024;
    let avail_kib = zone.free_pages as u64 * PAGE_SIZE / 1024;
    let l = init::kernel_layout();
    let kib = |r: (u64, u64)| (r.1 - r.0) / 1024;
    pr_info!(
        "Memory: {}K/{}K available ({}K kernel code, {}K rwdata, {}K rodata, {}K bss, {}K reserved)",
        avail_kib,
        total_kib,
        kib(l.text),
        kib(l.data),
        kib(l.rodata),
        kib(l.bss),
        total_kib - avail_kib
    );
    *ZONE.lock() = Some(zone);
    selftest();
}

/// Checks splitting and merging once at boot: a block of every order comes
/// back aligned to its size, and freeing them all restores the free lists.
fn selftest() {
    let before = buddyinfo();
    let mut blocks = [PhysAddr(0); MAX_ORDER + 1];
    for (order, block) in blocks.iter_mut().enumerate() {
        *block = alloc_pages(order).expect("page_alloc selftest: out of memory");
        assert!(
            block.0.is_multiple_of(PAGE_SIZE << order),
            "page_alloc selftest: misaligned block"
        );
    }
    for (order, block) in blocks.iter().enumerate().rev() {
        free_pages(*block, order);
    }
    assert_eq!(
        buddyinfo(),
        before,
        "page_alloc selftest: buddies did not merge back"
    );
}

/// Allocates 2^order contiguous pages, aligned to their size.
pub fn alloc_pages(order: usize) -> Option<PhysAddr> {
    if order > MAX_ORDER {
        return None;
    }
    let pfn = ZONE.lock().as_mut()?.alloc(order)?;
    Some(PhysAddr(pfn * PAGE_SIZE))
}

/// Returns pages from [`alloc_pages`] with the same order.
pub fn free_pages(addr: PhysAddr, order: usize) {
    let mut zone = ZONE.lock();
    let zone = zone.as_mut().expect("free_pages before page_alloc::init");
    zone.free(addr.pfn(), order);
}

/// Free pages now.
pub fn nr_free_pages() -> usize {
    ZONE.lock().as_ref().map_or(0, |z| z.free_pages)
}

/// Pages the allocator manages (free or allocated).
pub fn managed_pages() -> usize {
    ZONE.lock().as_ref().map_or(0, |z| z.managed_pages)
}

/// Free blocks per order (Linux's `/proc/buddyinfo`).
pub fn buddyinfo() -> [usize; MAX_ORDER + 1] {
    ZONE.lock()
        .as_ref()
        .map_or([0; MAX_ORDER + 1], |z| z.nr_free)
}
