//! The buffer cache (Linux 2.4's `fs/buffer.c`): file-system blocks kept
//! in memory, found by a hash of (device, block number), reused least
//! recently used first, with a dirty count that drives write-back.
//!
//! - [`read`] / [`modify`] / [`overwrite`] run a closure on a block's bytes
//!   under the cache lock, reading it from the disk on a miss; `modify`
//!   and `overwrite` mark it dirty.
//! - Write-back: [`sync`] writes every dirty buffer (the `sync` system
//!   call, `fsync`, unmount); the `bdflush` kernel thread ([`bdflush`])
//!   writes when the dirty share passes [`DIRTY_PERCENT`] and, every
//!   [`FLUSH_INTERVAL_MS`], the buffers dirty for longer than
//!   [`DIRTY_AGE_MS`] (the `kupdate` half of the pair).
//! - A miss with the cache full evicts the least recently used clean
//!   buffer; if all are dirty, they are written first.
//!
//! One sleeping lock covers the cache: disk I/O happens under it.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::block::{self, BlockDevice, SECTOR_SIZE};
use crate::kernel::errno::{EIO, KResult};
use crate::kernel::sync::Mutex;
use crate::kernel::time;

/// Buffers kept (4 MiB of 1 KiB blocks).
pub const MAX_BUFFERS: usize = 4096;
/// Hash buckets.
const BUCKETS: usize = 1024;
/// `bdflush` writes once this share of the cache is dirty.
pub const DIRTY_PERCENT: usize = 40;
/// How often `bdflush` wakes.
pub const FLUSH_INTERVAL_MS: u64 = 500;
/// Dirty buffers older than this are written by the periodic pass.
pub const DIRTY_AGE_MS: u64 = 5000;

/// One cached block.
struct Buffer {
    dev: &'static BlockDevice,
    block: u64,
    data: Vec<u8>,
    dirty: bool,
    /// LRU clock value of the last use.
    used: u64,
    /// When it became dirty (ns of uptime).
    dirtied_ns: u64,
}

/// The cache: buffers in a slab, buckets of slab indices.
struct Cache {
    buffers: Vec<Buffer>,
    buckets: Vec<Vec<usize>>,
    clock: u64,
    dirty: usize,
    hits: u64,
    misses: u64,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    buffers: Vec::new(),
    buckets: Vec::new(),
    clock: 0,
    dirty: 0,
    hits: 0,
    misses: 0,
});

/// Set when writers pass the dirty threshold, so `bdflush` runs at once.
static FLUSH_WANTED: AtomicBool = AtomicBool::new(false);

fn hash(dev: &BlockDevice, block: u64) -> usize {
    let d = dev.start_sector() ^ u64::from(dev.partno()) << 56;
    ((d ^ block).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize % BUCKETS
}

fn write_buffer(b: &Buffer) -> KResult<()> {
    let spb = (b.data.len() / SECTOR_SIZE) as u64;
    block::write_sectors(b.dev, b.block * spb, &b.data).map_err(|_| EIO)
}

impl Cache {
    fn find(&self, dev: &BlockDevice, block: u64) -> Option<usize> {
        if self.buckets.is_empty() {
            return None;
        }
        self.buckets[hash(dev, block)]
            .iter()
            .copied()
            .find(|&i| core::ptr::eq(self.buffers[i].dev, dev) && self.buffers[i].block == block)
    }

    /// Writes dirty buffers selected by `pick`, in block order.
    fn write_back(&mut self, mut pick: impl FnMut(&Buffer) -> bool) -> KResult<()> {
        let mut order: Vec<usize> = (0..self.buffers.len())
            .filter(|&i| self.buffers[i].dirty && pick(&self.buffers[i]))
            .collect();
        order.sort_by_key(|&i| (self.buffers[i].dev.start_sector(), self.buffers[i].block));
        for i in order {
            write_buffer(&self.buffers[i])?;
            self.buffers[i].dirty = false;
            self.dirty -= 1;
        }
        Ok(())
    }

    /// The slot for a new buffer: a fresh one, or the least recently used
    /// clean one taken out of its bucket.
    fn slot(&mut self) -> KResult<usize> {
        if self.buckets.is_empty() {
            self.buckets = vec![Vec::new(); BUCKETS];
        }
        if self.buffers.len() < MAX_BUFFERS {
            return Ok(usize::MAX);
        }
        if self.dirty == self.buffers.len() {
            self.write_back(|_| true)?;
        }
        let victim = (0..self.buffers.len())
            .filter(|&i| !self.buffers[i].dirty)
            .min_by_key(|&i| self.buffers[i].used)
            .ok_or(EIO)?;
        let b = &self.buffers[victim];
        let bucket = hash(b.dev, b.block);
        self.buckets[bucket].retain(|&i| i != victim);
        Ok(victim)
    }

    /// The index of `block`, read from the disk unless `fill` is false
    /// (the caller overwrites it whole).
    fn get(
        &mut self,
        dev: &'static BlockDevice,
        block: u64,
        size: usize,
        fill: bool,
    ) -> KResult<usize> {
        self.clock += 1;
        if let Some(i) = self.find(dev, block) {
            self.hits += 1;
            self.buffers[i].used = self.clock;
            return Ok(i);
        }
        self.misses += 1;
        let mut data = vec![0u8; size];
        if fill {
            let spb = (size / SECTOR_SIZE) as u64;
            block::read_sectors(dev, block * spb, &mut data).map_err(|_| EIO)?;
        }
        let buffer = Buffer {
            dev,
            block,
            data,
            dirty: false,
            used: self.clock,
            dirtied_ns: 0,
        };
        let slot = self.slot()?;
        let i = if slot == usize::MAX {
            self.buffers.push(buffer);
            self.buffers.len() - 1
        } else {
            self.buffers[slot] = buffer;
            slot
        };
        self.buckets[hash(dev, block)].push(i);
        Ok(i)
    }

    fn mark_dirty(&mut self, i: usize) {
        let b = &mut self.buffers[i];
        if !b.dirty {
            b.dirty = true;
            b.dirtied_ns = time::uptime_ns();
            self.dirty += 1;
            if self.dirty * 100 > MAX_BUFFERS * DIRTY_PERCENT {
                FLUSH_WANTED.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Runs `f` on the bytes of `block` (of `size` bytes) of `dev`.
pub fn read<R>(
    dev: &'static BlockDevice,
    block: u64,
    size: usize,
    f: impl FnOnce(&[u8]) -> R,
) -> KResult<R> {
    let mut c = CACHE.lock();
    let i = c.get(dev, block, size, true)?;
    Ok(f(&c.buffers[i].data))
}

/// Runs `f` on the bytes of `block` and marks it dirty.
pub fn modify<R>(
    dev: &'static BlockDevice,
    block: u64,
    size: usize,
    f: impl FnOnce(&mut [u8]) -> R,
) -> KResult<R> {
    let mut c = CACHE.lock();
    let i = c.get(dev, block, size, true)?;
    let r = f(&mut c.buffers[i].data);
    c.mark_dirty(i);
    Ok(r)
}

/// Like [`modify`] without reading the old contents: for a block just
/// allocated, which `f` fills whole (it starts zeroed on a miss).
pub fn overwrite<R>(
    dev: &'static BlockDevice,
    block: u64,
    size: usize,
    f: impl FnOnce(&mut [u8]) -> R,
) -> KResult<R> {
    let mut c = CACHE.lock();
    let i = c.get(dev, block, size, false)?;
    let r = f(&mut c.buffers[i].data);
    c.mark_dirty(i);
    Ok(r)
}

/// Writes every dirty buffer (`sync`).
pub fn sync() -> KResult<()> {
    CACHE.lock().write_back(|_| true)
}

/// (bytes cached, bytes dirty), for `/proc/meminfo`.
pub fn stats() -> (usize, usize) {
    let c = CACHE.lock();
    let size = c.buffers.first().map_or(0, |b| b.data.len());
    (c.buffers.len() * size, c.dirty * size)
}

/// The `bdflush`/`kupdate` kernel thread: every [`FLUSH_INTERVAL_MS`]
/// writes the buffers dirty for longer than [`DIRTY_AGE_MS`], or all of
/// them once writers passed the threshold.
pub extern "C" fn bdflush() -> ! {
    crate::arch::x86_64::cpu::local_irq_enable();
    loop {
        time::msleep(FLUSH_INTERVAL_MS);
        let all = FLUSH_WANTED.swap(false, Ordering::Relaxed);
        let now = time::uptime_ns();
        let mut c = CACHE.lock();
        if c.dirty == 0 {
            continue;
        }
        let result = if all {
            c.write_back(|_| true)
        } else {
            c.write_back(|b| now.saturating_sub(b.dirtied_ns) >= DIRTY_AGE_MS * 1_000_000)
        };
        drop(c);
        if result.is_err() {
            pr_err!("bdflush: write-back failed");
        }
    }
}
