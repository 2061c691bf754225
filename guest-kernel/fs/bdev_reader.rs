//! Byte-addressed reads of a block device, for `ondisk::ext2::Volume`,
//! with a small cache of recently read chunks.
//!
//! The ext2 reader asks for many small pieces (a 4-byte block pointer, an
//! 8-byte directory-entry header), each of which would otherwise be a disk
//! request of its own. This adapter reads whole [`CHUNK_SIZE`] chunks and
//! keeps the last [`CACHED_CHUNKS`] of them, least recently used out
//! first. It is read-only and private to the first root mount; the buffer
//! cache proper (hash lookup, LRU, dirty lists, write-back) replaces it
//! when the file system becomes writable.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use ondisk::ext2::{IoError, ReadAt};

use crate::block::{self, BlockDevice, SECTOR_SIZE};

/// Bytes read from the disk at a time (8 sectors: one 4 KiB ext2 block, or
/// four 1 KiB ones).
pub const CHUNK_SIZE: usize = 4096;
const SECTORS_PER_CHUNK: u64 = (CHUNK_SIZE / SECTOR_SIZE) as u64;
/// Chunks kept: 64 KiB.
pub const CACHED_CHUNKS: usize = 16;

/// One cached chunk.
struct Chunk {
    /// Chunk number: byte offset / `CHUNK_SIZE`.
    index: u64,
    /// Valid bytes (less than `CHUNK_SIZE` only for the device's last
    /// chunk).
    len: usize,
    data: Box<[u8]>,
}

/// A block device read at byte offsets through a small chunk cache.
pub struct BlockDeviceReader {
    device: &'static BlockDevice,
    /// Most recently used last.
    chunks: Vec<Chunk>,
}

impl BlockDeviceReader {
    pub fn new(device: &'static BlockDevice) -> BlockDeviceReader {
        BlockDeviceReader {
            device,
            chunks: Vec::with_capacity(CACHED_CHUNKS),
        }
    }

    /// Chunk `index`, from the cache or the disk; it ends up most recently
    /// used (last).
    fn chunk(&mut self, index: u64) -> Result<&Chunk, IoError> {
        if let Some(at) = self.chunks.iter().position(|c| c.index == index) {
            let chunk = self.chunks.remove(at);
            self.chunks.push(chunk);
        } else {
            let chunk = self.read_chunk(index)?;
            if self.chunks.len() == CACHED_CHUNKS {
                self.chunks.remove(0);
            }
            self.chunks.push(chunk);
        }
        self.chunks.last().ok_or(IoError)
    }

    fn read_chunk(&self, index: u64) -> Result<Chunk, IoError> {
        let first = index.checked_mul(SECTORS_PER_CHUNK).ok_or(IoError)?;
        let sectors = self
            .device
            .sectors()
            .checked_sub(first)
            .ok_or(IoError)?
            .min(SECTORS_PER_CHUNK);
        if sectors == 0 {
            return Err(IoError);
        }
        let len = sectors as usize * SECTOR_SIZE;
        let mut data = vec![0u8; CHUNK_SIZE].into_boxed_slice();
        block::read_sectors(self.device, first, &mut data[..len]).map_err(|_| IoError)?;
        Ok(Chunk { index, len, data })
    }
}

impl ReadAt for BlockDeviceReader {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset.checked_add(done as u64).ok_or(IoError)?;
            let index = at / CHUNK_SIZE as u64;
            let within = (at % CHUNK_SIZE as u64) as usize;
            let chunk = self.chunk(index)?;
            let available = chunk.len.checked_sub(within).ok_or(IoError)?;
            if available == 0 {
                return Err(IoError);
            }
            let n = available.min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&chunk.data[within..within + n]);
            done += n;
        }
        Ok(())
    }
}
