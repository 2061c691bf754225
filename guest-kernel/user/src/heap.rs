//! The global allocator. Small blocks (up to 4 KiB) come from power-of-two
//! size classes carved from memory got with `brk(2)`, each class with its
//! own free list; a block is aligned to its size, which covers any
//! alignment up to it. Bigger blocks are their own anonymous `mmap(2)` and
//! go back with `munmap(2)`. Programs are single-threaded and short-lived,
//! so nothing more is needed; a forked child gets a copy of it all.

use crate::sys;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;

const MIN_CLASS: usize = 4; // 16 bytes
const MAX_CLASS: usize = 12; // 4096 bytes
const CLASSES: usize = MAX_CLASS - MIN_CLASS + 1;
const PAGE: usize = 4096;
/// How much the break grows at a time.
const GROW: usize = 64 * 1024;

struct FreeBlock {
    next: *mut FreeBlock,
}

struct Heap {
    free: [*mut FreeBlock; CLASSES],
    /// Unused memory below the break: `[top, end)`.
    top: usize,
    end: usize,
}

pub struct Allocator(UnsafeCell<Heap>);

// SAFETY: programs are single-threaded.
unsafe impl Sync for Allocator {}

#[global_allocator]
static ALLOCATOR: Allocator = Allocator(UnsafeCell::new(Heap {
    free: [ptr::null_mut(); CLASSES],
    top: 0,
    end: 0,
}));

/// The size class for a layout, if it is small.
fn class(layout: Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    let bits = size.next_power_of_two().trailing_zeros() as usize;
    (bits <= MAX_CLASS).then(|| bits - MIN_CLASS)
}

impl Heap {
    /// A fresh block of `size` (a power of two) from below the break.
    fn carve(&mut self, size: usize) -> *mut u8 {
        if self.end == 0 {
            // SAFETY: brk(0) only asks for the current break.
            let start = unsafe { sys::brk(0) };
            self.top = start.next_multiple_of(PAGE);
            self.end = start;
        }
        let start = self.top.next_multiple_of(size);
        if start + size > self.end {
            let want = (start + size).max(self.end + GROW).next_multiple_of(PAGE);
            // SAFETY: growing the break maps new memory; nothing uses it yet.
            let got = unsafe { sys::brk(want) };
            if got < start + size {
                return ptr::null_mut();
            }
            self.end = got;
        }
        // The skipped gap [top, start) is lost; classes are carved in
        // increasing demand, so it stays small.
        self.top = start + size;
        start as *mut u8
    }
}

// SAFETY: blocks are disjoint, aligned to their class size (which is at
// least the layout's size and alignment), and only reused after dealloc.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded: no other reference to the heap is live.
        let heap = unsafe { &mut *self.0.get() };
        match class(layout) {
            Some(c) => {
                let head = heap.free[c];
                if head.is_null() {
                    heap.carve(1 << (c + MIN_CLASS))
                } else {
                    // SAFETY: free-list entries are blocks we own.
                    heap.free[c] = unsafe { (*head).next };
                    head as *mut u8
                }
            }
            None => {
                if layout.align() > PAGE {
                    return ptr::null_mut();
                }
                let len = layout.size().next_multiple_of(PAGE);
                let prot = sys::PROT_READ | sys::PROT_WRITE;
                let flags = sys::MAP_PRIVATE | sys::MAP_ANONYMOUS;
                // SAFETY: a new anonymous mapping replaces nothing.
                unsafe { sys::mmap(0, len, prot, flags, -1, 0) }
                    .map_or(ptr::null_mut(), |a| a as *mut u8)
            }
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: single-threaded: no other reference to the heap is live.
        let heap = unsafe { &mut *self.0.get() };
        match class(layout) {
            Some(c) => {
                let block = p as *mut FreeBlock;
                // SAFETY: `p` is a block of this class we handed out, at
                // least 16 bytes and aligned for a pointer.
                unsafe { (*block).next = heap.free[c] };
                heap.free[c] = block;
            }
            None => {
                // SAFETY: `p` is the start of a mapping of this length.
                let _ = unsafe { sys::munmap(p as usize, layout.size().next_multiple_of(PAGE)) };
            }
        }
    }
}
