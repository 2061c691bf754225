//! Disks and partitions as files (Linux's `fs/block_dev.c`): `/dev/hda`,
//! `/dev/hda1`, ... read at any byte offset through whole-sector reads.
//! Read-only here: writing under a mounted file system's buffer cache
//! would undo its writes.

use alloc::vec;

use super::file::{File, FileOps, Stat};
use crate::block::{self, BlockDevice, SECTOR_SIZE};
use crate::kernel::errno::{EIO, EPERM, KResult};

/// An open block device.
pub struct BlockDevFile {
    pub dev: &'static BlockDevice,
}

impl FileOps for BlockDevFile {
    fn read(&self, _f: &File, buf: &mut [u8], pos: u64) -> KResult<usize> {
        let size = self.dev.size_bytes();
        if pos >= size || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min((size - pos) as usize).min(64 * 1024);
        let first = pos / SECTOR_SIZE as u64;
        let last = (pos + want as u64).div_ceil(SECTOR_SIZE as u64);
        let mut data = vec![0u8; (last - first) as usize * SECTOR_SIZE];
        block::read_sectors(self.dev, first, &mut data).map_err(|_| EIO)?;
        let skip = (pos % SECTOR_SIZE as u64) as usize;
        buf[..want].copy_from_slice(&data[skip..skip + want]);
        Ok(want)
    }

    fn write(&self, _f: &File, _buf: &[u8], _pos: u64) -> KResult<usize> {
        Err(EPERM)
    }

    fn stat(&self) -> KResult<Stat> {
        let minor = u64::from(self.dev.partno());
        Ok(Stat {
            mode: 0o060000 | 0o660,
            rdev: (3 << 8) | minor,
            nlink: 1,
            ino: 0x300 + minor,
            dev: 5,
            size: 0,
            blksize: 1024,
            ..Stat::default()
        })
    }
}
