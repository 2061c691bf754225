//! Open ext2 files and directories (Linux's `fs/ext2/file.c`). Each open
//! node holds a reference in the mounted file system's inode table
//! ([`Ext2::open`](super::Ext2)); an inode unlinked while open is freed
//! when the last reference goes.

use ::alloc::string::String;
use ::alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::{ops::stat_of, with_fs};
use crate::fs::file::{DirEntry, File, FileOps, Stat, dt, o};
use crate::kernel::errno::{EISDIR, KResult};

/// An open ext2 inode.
pub struct Ext2Node {
    pub ino: u32,
}

impl Ext2Node {
    /// Takes a reference to inode `ino`.
    pub fn open(ino: u32) -> KResult<Ext2Node> {
        with_fs(|fs| {
            fs.open.entry(ino).or_insert((0, false)).0 += 1;
            Ok(())
        })?;
        Ok(Ext2Node { ino })
    }
}

impl Drop for Ext2Node {
    fn drop(&mut self) {
        let ino = self.ino;
        let r = with_fs(|fs| {
            let Some(entry) = fs.open.get_mut(&ino) else {
                return Ok(());
            };
            entry.0 -= 1;
            if entry.0 > 0 {
                return Ok(());
            }
            let orphan = entry.1;
            fs.open.remove(&ino);
            if orphan {
                let mut inode = fs.read_inode(ino)?;
                fs.free_node(ino, &mut inode)?;
            }
            Ok(())
        });
        if r.is_err() {
            pr_warn!("EXT2-fs: releasing inode {} failed", ino);
        }
    }
}

fn dtype(ft: u8) -> u8 {
    match ft {
        1 => dt::REG,
        2 => dt::DIR,
        3 => dt::CHR,
        4 => 6,
        5 => dt::FIFO,
        6 => 12,
        7 => dt::LNK,
        _ => 0,
    }
}

impl FileOps for Ext2Node {
    fn read(&self, _f: &File, buf: &mut [u8], pos: u64) -> KResult<usize> {
        let want = buf.len().min(64 * 1024);
        let n = with_fs(|fs| {
            let mut inode = fs.read_inode(self.ino)?;
            if inode.is_dir() {
                return Err(EISDIR);
            }
            fs.read_data(self.ino, &mut inode, pos, &mut buf[..want])
        })?;
        crate::kernel::sched::cond_resched();
        Ok(n)
    }

    fn write(&self, f: &File, buf: &[u8], pos: u64) -> KResult<usize> {
        let want = buf.len().min(64 * 1024);
        let append = f.flags.load(Ordering::Relaxed) & o::APPEND != 0;
        let n = with_fs(|fs| {
            let mut inode = fs.read_inode(self.ino)?;
            if inode.is_dir() {
                return Err(EISDIR);
            }
            let pos = if append { inode.size() } else { pos };
            let n = fs.write_data(self.ino, &mut inode, pos, &buf[..want])?;
            fs.write_inode(self.ino, &inode)?;
            Ok(n)
        })?;
        crate::kernel::sched::cond_resched();
        Ok(n)
    }

    fn stat(&self) -> KResult<Stat> {
        with_fs(|fs| Ok(stat_of(self.ino, &fs.read_inode(self.ino)?)))
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        with_fs(|fs| {
            let mut inode = fs.read_inode(self.ino)?;
            if !inode.is_dir() {
                return Err(crate::kernel::errno::ENOTDIR);
            }
            let entries = fs.dir_entries(self.ino, &mut inode)?;
            Ok(entries
                .into_iter()
                .map(|(ino, ft, name)| DirEntry {
                    ino: u64::from(ino),
                    dtype: dtype(ft),
                    name: String::from_utf8_lossy(&name).into_owned(),
                })
                .collect())
        })
    }

    fn ext2_ino(&self) -> Option<u32> {
        Some(self.ino)
    }
}
