//! Open ext2 files and directories on the root (the ext2 part of Linux's
//! `fs/ext2/file.c`, `dir.c`, `inode.c`), read-only.
//!
//! One `Volume` on the root device is kept behind a sleeping
//! [`Mutex`](crate::kernel::sync::Mutex) with its chunk cache, so reads
//! share the cache and may sleep on the disk while holding it. The buffer
//! cache and the VFS inode cache replace this later.

use alloc::string::String;
use alloc::vec::Vec;

use ondisk::ext2::{Inode, Volume};

use super::bdev_reader::BlockDeviceReader;
use super::file::{DirEntry, File, FileOps, Stat, dt};
use crate::kernel::errno::{EIO, EISDIR, ENOENT, KResult};
use crate::kernel::sync::Mutex;

static VOLUME: Mutex<Option<Volume<BlockDeviceReader>>> = Mutex::new(None);

/// Runs `f` on the root volume (opened on first use).
pub fn with_volume<R>(f: impl FnOnce(&mut Volume<BlockDeviceReader>) -> KResult<R>) -> KResult<R> {
    let mut guard = VOLUME.lock();
    if guard.is_none() {
        let device = super::root::root_device().ok_or(ENOENT)?;
        *guard = Some(Volume::open(BlockDeviceReader::new(device)).map_err(|_| EIO)?);
    }
    f(guard.as_mut().ok_or(EIO)?)
}

/// `st_dev` of the root: 3:1 (hda1).
pub const ROOT_DEV: u64 = 0x301;

/// Looks `path` (absolute, normalised) up; follows symbolic links if
/// `follow`.
pub fn lookup(path: &str, follow: bool) -> KResult<(u32, Inode)> {
    with_volume(|v| {
        Ok(if follow {
            v.lookup(path)?
        } else {
            v.lookup_nofollow(path)?
        })
    })
}

/// `stat` of an ext2 inode.
pub fn stat_of(ino: u32, inode: &Inode) -> Stat {
    Stat {
        dev: ROOT_DEV,
        ino: u64::from(ino),
        nlink: u64::from(inode.links_count()),
        mode: u32::from(inode.mode()),
        uid: inode.uid(),
        gid: inode.gid(),
        rdev: inode
            .device()
            .map_or(0, |(ma, mi)| u64::from((ma << 8) | (mi & 0xff))),
        size: inode.size() as i64,
        blksize: 1024,
        blocks: i64::from(inode.blocks),
        atime: i64::from(inode.atime),
        mtime: i64::from(inode.mtime),
        ctime: i64::from(inode.ctime),
    }
}

/// The target of a symbolic link.
pub fn readlink(ino: u32, inode: &Inode) -> KResult<Vec<u8>> {
    let _ = ino;
    with_volume(|v| {
        if inode.is_fast_symlink(v.block_size()) {
            let bytes = inode.inline_bytes();
            let n = (inode.size() as usize).min(bytes.len());
            return Ok(bytes[..n].to_vec());
        }
        let mut buf = alloc::vec![0u8; inode.size() as usize];
        let n = v.read(inode, 0, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    })
}

/// An open ext2 regular file or directory.
pub struct Ext2Node {
    pub ino: u32,
    pub inode: Inode,
}

impl FileOps for Ext2Node {
    fn read(&self, _f: &File, buf: &mut [u8], pos: u64) -> KResult<usize> {
        if self.inode.is_dir() {
            return Err(EISDIR);
        }
        let size = self.inode.size();
        if pos >= size {
            return Ok(0);
        }
        let want = buf.len().min((size - pos) as usize).min(64 * 1024);
        let n = with_volume(|v| Ok(v.read(&self.inode, pos, &mut buf[..want])?))?;
        crate::kernel::sched::cond_resched();
        Ok(n)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(stat_of(self.ino, &self.inode))
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        with_volume(|v| {
            let mut out = Vec::new();
            v.for_each_dir_entry(&self.inode, |ino, ft, name| {
                out.push(DirEntry {
                    ino: u64::from(ino),
                    dtype: match ft {
                        1 => dt::REG,
                        2 => dt::DIR,
                        3 => dt::CHR,
                        4 => 6,
                        5 => dt::FIFO,
                        6 => 12,
                        7 => dt::LNK,
                        _ => 0,
                    },
                    name: String::from_utf8_lossy(name).into_owned(),
                });
                true
            })?;
            Ok(out)
        })
    }
}
