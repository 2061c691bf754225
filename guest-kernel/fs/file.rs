//! Open files (Linux's `struct file`, `struct files_struct`,
//! `struct file_operations`).
//!
//! Three levels, as in Linux, so the VFS can slot in underneath:
//! - a per-process [`FdTable`]: descriptor number -> open file + close-on-exec;
//! - shared [`File`] objects (`Arc`, shared by `dup` and `fork`) with the
//!   offset and the status flags;
//! - behind each, a [`FileOps`] object for its kind (an ext2 file or
//!   directory, a pipe end, the terminal, a `/proc` file, `/dev/null`),
//!   the inode-like part that knows how to read, write, stat, list.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::kernel::errno::{EBADF, EINVAL, EMFILE, ENOTDIR, ENOTTY, ESPIPE, KResult};

/// `open` flags (asm-generic/fcntl.h).
pub mod o {
    pub const RDONLY: u32 = 0;
    pub const WRONLY: u32 = 1;
    pub const RDWR: u32 = 2;
    pub const ACCMODE: u32 = 3;
    pub const CREAT: u32 = 0o100;
    pub const EXCL: u32 = 0o200;
    pub const TRUNC: u32 = 0o1000;
    pub const APPEND: u32 = 0o2000;
    pub const NONBLOCK: u32 = 0o4000;
    pub const DIRECTORY: u32 = 0o200000;
    pub const NOFOLLOW: u32 = 0o400000;
    pub const CLOEXEC: u32 = 0o2000000;
}

/// `poll` event bits (asm-generic/poll.h).
pub mod poll {
    pub const IN: u32 = 0x1;
    pub const PRI: u32 = 0x2;
    pub const OUT: u32 = 0x4;
    pub const ERR: u32 = 0x8;
    pub const HUP: u32 = 0x10;
    pub const NVAL: u32 = 0x20;
}

/// File type bits of `st_mode`.
pub mod s {
    pub const IFMT: u32 = 0o170000;
    pub const IFIFO: u32 = 0o010000;
    pub const IFCHR: u32 = 0o020000;
    pub const IFDIR: u32 = 0o040000;
    pub const IFREG: u32 = 0o100000;
}

/// `d_type` values.
pub mod dt {
    pub const FIFO: u8 = 1;
    pub const CHR: u8 = 2;
    pub const DIR: u8 = 4;
    pub const REG: u8 = 8;
    pub const LNK: u8 = 10;
}

/// What `stat` reports (x86-64 `struct stat`, 144 bytes).
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
}

impl Stat {
    /// The x86-64 layout (arch/x86/include/uapi/asm/stat.h).
    pub fn to_bytes(self) -> [u8; 144] {
        let mut b = [0u8; 144];
        let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
        put(0, &self.dev.to_le_bytes());
        put(8, &self.ino.to_le_bytes());
        put(16, &self.nlink.to_le_bytes());
        put(24, &self.mode.to_le_bytes());
        put(28, &self.uid.to_le_bytes());
        put(32, &self.gid.to_le_bytes());
        put(40, &self.rdev.to_le_bytes());
        put(48, &self.size.to_le_bytes());
        put(56, &self.blksize.to_le_bytes());
        put(64, &self.blocks.to_le_bytes());
        put(72, &self.atime.to_le_bytes());
        put(88, &self.mtime.to_le_bytes());
        put(104, &self.ctime.to_le_bytes());
        b
    }
}

/// One directory entry, for `getdents64`.
#[derive(Clone, Debug)]
pub struct DirEntry {
    pub ino: u64,
    pub dtype: u8,
    pub name: String,
}

/// The operations of one kind of open file. Defaults are what Linux
/// answers when a kind lacks the operation.
pub trait FileOps: Send + Sync {
    /// Reads at `pos` (ignored by streams).
    fn read(&self, _file: &File, _buf: &mut [u8], _pos: u64) -> KResult<usize> {
        Err(EINVAL)
    }
    fn write(&self, _file: &File, _buf: &[u8], _pos: u64) -> KResult<usize> {
        Err(EINVAL)
    }
    fn stat(&self) -> KResult<Stat>;
    /// Every entry of a directory, `.` and `..` first.
    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Err(ENOTDIR)
    }
    fn ioctl(&self, _cmd: u32, _arg: u64) -> KResult<i64> {
        Err(ENOTTY)
    }
    /// Whether the file has an offset (`lseek` works).
    fn seekable(&self) -> bool {
        true
    }
    /// Readiness for `poll`/`select`: `POLLIN`, `POLLOUT`, `POLLHUP`
    /// bits (regular files and devices are always ready).
    fn poll(&self) -> u32 {
        poll::IN | poll::OUT
    }
    /// The ext2 inode number behind it, for the calls that change an
    /// inode (`ftruncate`, `fchmod`, ...).
    fn ext2_ino(&self) -> Option<u32> {
        None
    }
}

/// An open file.
pub struct File {
    pub ops: Box<dyn FileOps>,
    /// `O_*` status flags and access mode.
    pub flags: AtomicU32,
    pub pos: AtomicU64,
    /// The path it was opened by (for `fchdir`, `openat` relative to it).
    pub path: String,
}

impl File {
    pub fn new(ops: Box<dyn FileOps>, flags: u32, path: String) -> Arc<File> {
        Arc::new(File {
            ops,
            flags: AtomicU32::new(flags & !o::CLOEXEC),
            pos: AtomicU64::new(0),
            path,
        })
    }

    pub fn access(&self) -> u32 {
        self.flags.load(Ordering::Relaxed) & o::ACCMODE
    }

    pub fn readable(&self) -> bool {
        self.access() != o::WRONLY
    }

    pub fn writable(&self) -> bool {
        self.access() != o::RDONLY
    }

    /// `read(2)` at the file offset.
    pub fn read(&self, buf: &mut [u8]) -> KResult<usize> {
        if !self.readable() {
            return Err(EBADF);
        }
        let pos = self.pos.load(Ordering::Relaxed);
        let n = self.ops.read(self, buf, pos)?;
        if self.ops.seekable() {
            self.pos.store(pos + n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }

    /// `write(2)` at the file offset.
    pub fn write(&self, buf: &[u8]) -> KResult<usize> {
        if !self.writable() {
            return Err(EBADF);
        }
        let append = self.flags.load(Ordering::Relaxed) & o::APPEND != 0;
        let pos = if append && self.ops.seekable() {
            self.ops.stat()?.size as u64
        } else {
            self.pos.load(Ordering::Relaxed)
        };
        let n = self.ops.write(self, buf, pos)?;
        if self.ops.seekable() {
            self.pos.store(pos + n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }

    pub fn is_dir(&self) -> bool {
        self.ops
            .stat()
            .is_ok_and(|st| st.mode & s::IFMT == s::IFDIR)
    }

    /// `lseek(2)`.
    pub fn lseek(&self, off: i64, whence: u32) -> KResult<u64> {
        if !self.ops.seekable() {
            return Err(ESPIPE);
        }
        let base = match whence {
            0 => 0,
            1 => self.pos.load(Ordering::Relaxed) as i64,
            2 => self.ops.stat()?.size,
            _ => return Err(EINVAL),
        };
        let new = base.checked_add(off).ok_or(EINVAL)?;
        if new < 0 {
            return Err(EINVAL);
        }
        self.pos.store(new as u64, Ordering::Relaxed);
        Ok(new as u64)
    }
}

/// `/dev/null` and `/dev/zero`.
pub struct NullDev {
    pub zero: bool,
}

impl FileOps for NullDev {
    fn read(&self, _f: &File, buf: &mut [u8], _pos: u64) -> KResult<usize> {
        if self.zero {
            buf.fill(0);
            Ok(buf.len())
        } else {
            Ok(0)
        }
    }
    fn write(&self, _f: &File, buf: &[u8], _pos: u64) -> KResult<usize> {
        Ok(buf.len())
    }
    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            mode: s::IFCHR | 0o666,
            rdev: if self.zero { 0x105 } else { 0x103 },
            nlink: 1,
            ino: if self.zero { 5 } else { 3 },
            dev: 5,
            blksize: 4096,
            ..Stat::default()
        })
    }
    fn seekable(&self) -> bool {
        false
    }
}

/// The most descriptors a process may have (`RLIMIT_NOFILE`).
pub const NR_OPEN: usize = 1024;

#[derive(Clone)]
struct FdEntry {
    file: Arc<File>,
    cloexec: bool,
}

/// A process's descriptors.
#[derive(Clone, Default)]
pub struct FdTable {
    fds: Vec<Option<FdEntry>>,
}

impl FdTable {
    pub const fn new() -> Self {
        FdTable { fds: Vec::new() }
    }

    pub fn get(&self, fd: i32) -> KResult<Arc<File>> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get(i))
            .and_then(|e| e.as_ref())
            .map(|e| e.file.clone())
            .ok_or(EBADF)
    }

    /// Installs `file` at the lowest free descriptor `>= min`.
    pub fn install_from(&mut self, file: Arc<File>, cloexec: bool, min: usize) -> KResult<i32> {
        let mut i = min;
        while i < self.fds.len() && self.fds[i].is_some() {
            i += 1;
        }
        if i >= NR_OPEN {
            return Err(EMFILE);
        }
        self.install_at(i, file, cloexec);
        Ok(i as i32)
    }

    pub fn install(&mut self, file: Arc<File>, cloexec: bool) -> KResult<i32> {
        self.install_from(file, cloexec, 0)
    }

    /// Puts `file` at `fd`, closing what was there.
    pub fn install_at(&mut self, fd: usize, file: Arc<File>, cloexec: bool) {
        if self.fds.len() <= fd {
            self.fds.resize(fd + 1, None);
        }
        self.fds[fd] = Some(FdEntry { file, cloexec });
    }

    pub fn close(&mut self, fd: i32) -> KResult<()> {
        let i = usize::try_from(fd).map_err(|_| EBADF)?;
        match self.fds.get_mut(i) {
            Some(slot @ Some(_)) => {
                *slot = None;
                Ok(())
            }
            _ => Err(EBADF),
        }
    }

    pub fn cloexec(&self, fd: i32) -> KResult<bool> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get(i))
            .and_then(|e| e.as_ref())
            .map(|e| e.cloexec)
            .ok_or(EBADF)
    }

    pub fn set_cloexec(&mut self, fd: i32, on: bool) -> KResult<()> {
        let e = usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get_mut(i))
            .and_then(|e| e.as_mut())
            .ok_or(EBADF)?;
        e.cloexec = on;
        Ok(())
    }

    /// Closes the close-on-exec descriptors (exec).
    pub fn close_on_exec(&mut self) {
        for slot in self.fds.iter_mut() {
            if slot.as_ref().is_some_and(|e| e.cloexec) {
                *slot = None;
            }
        }
    }

    /// The open descriptors, lowest first (`/proc/PID/fd`).
    pub fn open_fds(&self) -> Vec<(i32, Arc<File>)> {
        self.fds
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i as i32, e.file.clone())))
            .collect()
    }

    /// Closes everything (exit).
    pub fn close_all(&mut self) {
        self.fds.clear();
    }
}
