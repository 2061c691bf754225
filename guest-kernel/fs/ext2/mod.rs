//! ext2, read and write (Linux's `fs/ext2/`), over the buffer cache.
//!
//! The on-disk structures are `ondisk::ext2`'s (shared with the host
//! image builder); this module keeps one mounted [`Ext2`] (superblock
//! counts, group descriptors, the table of open inodes) behind a sleeping
//! lock and reads and writes every block through [`crate::fs::buffer`].
//!
//! - [`alloc`]: blocks and inodes through the group bitmaps, keeping the
//!   group descriptors' and the superblock's free counts consistent
//!   (`balloc.c`, `ialloc.c`);
//! - [`inode`]: inodes in the inode tables, block mapping through 12 direct
//!   and single/double/triple indirect blocks, reading, writing (holes
//!   stay sparse) and truncating file data (`inode.c`);
//! - [`dir`]: directory entries, inserted by splitting an entry's slack
//!   `rec_len`, removed by merging into the previous entry (`dir.c`);
//! - [`ops`]: names: lookup with symbolic links, create, mkdir, unlink,
//!   rmdir, link, symlink, rename, mknod (`namei.c`);
//! - [`node`]: open files and directories (`file.c`), and the open count
//!   that keeps an unlinked inode alive until its last close.

pub mod alloc;
pub mod dir;
pub mod inode;
pub mod node;
pub mod ops;

use ::alloc::collections::BTreeMap;
use ::alloc::vec::Vec;

use ondisk::ext2::{
    EXT2_ERROR_FS, EXT2_VALID_FS, FEATURE_INCOMPAT_FILETYPE, GROUP_DESCRIPTOR_SIZE,
    GroupDescriptor, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, Superblock,
};

use crate::block::BlockDevice;
use crate::fs::buffer;
use crate::kernel::errno::{EIO, ENOENT, EROFS, KResult};
use crate::kernel::sync::Mutex;

pub use node::Ext2Node;
pub use ops::{lookup, readlink};

/// `st_dev` of the root: 3:1 (hda1).
pub const ROOT_DEV: u64 = 0x301;

/// A mounted ext2 file system.
pub struct Ext2 {
    pub dev: &'static BlockDevice,
    /// Block size in bytes.
    pub bs: usize,
    pub sb: Superblock,
    pub groups: Vec<GroupDescriptor>,
    /// First block of the group descriptor table.
    gdt_block: u32,
    pub inode_size: usize,
    /// Mounted read-write.
    pub rw: bool,
    filetype: bool,
    /// The in-memory inode table: open references per inode number, and
    /// whether the inode lost its last link while open (an orphan, freed
    /// at the last close).
    pub open: BTreeMap<u32, (usize, bool)>,
}

static FS: Mutex<Option<Ext2>> = Mutex::new(None);

/// Runs `f` on the mounted root ext2.
pub fn with_fs<R>(f: impl FnOnce(&mut Ext2) -> KResult<R>) -> KResult<R> {
    let mut guard = FS.lock();
    let fs = guard.as_mut().ok_or(ENOENT)?;
    f(fs)
}

/// Seconds since the epoch, for inode times.
pub fn now() -> u32 {
    (crate::kernel::time::realtime_ns() / 1_000_000_000) as u32
}

impl Ext2 {
    /// Reads the superblock and group descriptors of `dev`.
    pub fn open(dev: &'static BlockDevice, rw: bool) -> KResult<Ext2> {
        let mut raw = [0u8; SUPERBLOCK_SIZE];
        let mut sector_buf = [0u8; SUPERBLOCK_SIZE];
        crate::block::read_sectors(dev, SUPERBLOCK_OFFSET / 512, &mut sector_buf)
            .map_err(|_| EIO)?;
        raw.copy_from_slice(&sector_buf);
        let sb = Superblock::parse(&raw);
        sb.validate().map_err(|_| EIO)?;
        let bs = sb.block_size().ok_or(EIO)? as usize;
        let gdt_block = sb.first_data_block + 1;
        let mut fs = Ext2 {
            dev,
            bs,
            sb,
            groups: Vec::new(),
            gdt_block,
            inode_size: sb.inode_size() as usize,
            rw,
            filetype: sb.feature_incompat & FEATURE_INCOMPAT_FILETYPE != 0,
            open: BTreeMap::new(),
        };
        for g in 0..sb.group_count() {
            let (blk, off) = fs.gd_location(g);
            let gd = fs.bread(blk, |b| {
                let mut d = [0u8; GROUP_DESCRIPTOR_SIZE];
                d.copy_from_slice(&b[off..off + GROUP_DESCRIPTOR_SIZE]);
                GroupDescriptor::parse(&d)
            })?;
            fs.groups.push(gd);
        }
        if rw {
            // Mounted and not yet cleanly unmounted: e2fsck checks it if
            // the machine stops before `unmount` (ext2_setup_super).
            fs.sb.state &= !EXT2_VALID_FS;
            fs.sb.mnt_count = fs.sb.mnt_count.wrapping_add(1);
            fs.sb.mtime = now();
            fs.write_super()?;
            buffer::sync()?;
        }
        Ok(fs)
    }

    fn gd_location(&self, g: u32) -> (u32, usize) {
        let byte = g as usize * GROUP_DESCRIPTOR_SIZE;
        (self.gdt_block + (byte / self.bs) as u32, byte % self.bs)
    }

    pub fn bread<R>(&self, blk: u32, f: impl FnOnce(&[u8]) -> R) -> KResult<R> {
        if blk == 0 || blk >= self.sb.blocks_count {
            return Err(EIO);
        }
        buffer::read(self.dev, u64::from(blk), self.bs, f)
    }

    pub fn bmodify<R>(&self, blk: u32, f: impl FnOnce(&mut [u8]) -> R) -> KResult<R> {
        if blk == 0 || blk >= self.sb.blocks_count {
            return Err(EIO);
        }
        if !self.rw {
            return Err(EROFS);
        }
        buffer::modify(self.dev, u64::from(blk), self.bs, f)
    }

    /// A freshly allocated block, zeroed, without reading it.
    pub fn bzero(&self, blk: u32) -> KResult<()> {
        if !self.rw {
            return Err(EROFS);
        }
        buffer::overwrite(self.dev, u64::from(blk), self.bs, |b| b.fill(0))
    }

    /// Writes group descriptor `g`'s counts back to the table.
    pub fn write_gd(&self, g: u32) -> KResult<()> {
        let (blk, off) = self.gd_location(g);
        let gd = self.groups[g as usize];
        self.bmodify(blk, |b| {
            let d = &mut b[off..off + GROUP_DESCRIPTOR_SIZE];
            d[12..14].copy_from_slice(&gd.free_blocks_count.to_le_bytes());
            d[14..16].copy_from_slice(&gd.free_inodes_count.to_le_bytes());
            d[16..18].copy_from_slice(&gd.used_dirs_count.to_le_bytes());
        })
    }

    /// Writes the primary superblock's changing fields (counts, state,
    /// times) into its block, leaving the other bytes as they are.
    pub fn write_super(&mut self) -> KResult<()> {
        self.sb.wtime = now();
        let sb = self.sb;
        let blk = (SUPERBLOCK_OFFSET as usize / self.bs) as u32;
        let off = SUPERBLOCK_OFFSET as usize % self.bs;
        let put32 = |b: &mut [u8], at: usize, v: u32| {
            b[off + at..off + at + 4].copy_from_slice(&v.to_le_bytes())
        };
        let put16 = |b: &mut [u8], at: usize, v: u16| {
            b[off + at..off + at + 2].copy_from_slice(&v.to_le_bytes())
        };
        let write = |b: &mut [u8]| {
            put32(b, 12, sb.free_blocks_count);
            put32(b, 16, sb.free_inodes_count);
            put32(b, 44, sb.mtime);
            put32(b, 48, sb.wtime);
            put16(b, 52, sb.mnt_count);
            put16(b, 58, sb.state);
        };
        if blk == 0 {
            // 1 KiB of boot block first: block 0 is never handed out, so
            // write through the cache without the range check.
            buffer::modify(self.dev, 0, self.bs, write)
        } else {
            self.bmodify(blk, write)
        }
    }

    /// The directory-entry type byte for `mode`, if the feature is on.
    pub fn dirent_type(&self, mode: u16) -> u8 {
        if self.filetype {
            ondisk::ext2::file_type_for_mode(mode)
        } else {
            0
        }
    }

    /// Writes everything back and marks the file system clean (unmount).
    pub fn unmount(&mut self) -> KResult<()> {
        if self.rw {
            self.sb.state = (self.sb.state & !EXT2_ERROR_FS) | EXT2_VALID_FS;
            self.write_super()?;
        }
        buffer::sync()
    }
}

/// Mounts `dev` as the root ext2.
pub fn mount(dev: &'static BlockDevice, rw: bool) -> KResult<()> {
    let fs = Ext2::open(dev, rw)?;
    *FS.lock() = Some(fs);
    Ok(())
}

/// `sync`: writes the superblock's counts and every dirty buffer.
pub fn sync() -> KResult<()> {
    {
        let mut guard = FS.lock();
        if let Some(fs) = guard.as_mut().filter(|fs| fs.rw) {
            fs.write_super()?;
        }
    }
    buffer::sync()
}

/// Unmounts the root at power-off: flushes and marks it clean.
pub fn unmount_root() -> KResult<()> {
    let mut guard = FS.lock();
    match guard.as_mut() {
        Some(fs) => {
            let r = fs.unmount();
            fs.rw = false;
            r
        }
        None => Ok(()),
    }
}

/// (free blocks, total blocks, free inodes, total inodes, block size).
pub fn statfs() -> KResult<(u64, u64, u64, u64, u64)> {
    with_fs(|fs| {
        Ok((
            u64::from(fs.sb.free_blocks_count),
            u64::from(fs.sb.blocks_count),
            u64::from(fs.sb.free_inodes_count),
            u64::from(fs.sb.inodes_count),
            fs.bs as u64,
        ))
    })
}

/// Whether the root is mounted read-write.
pub fn is_rw() -> bool {
    with_fs(|fs| Ok(fs.rw)).unwrap_or(false)
}
