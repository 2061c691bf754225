//! Path names to open files (Linux's `fs/namei.c`, `fs/open.c`,
//! `fs/stat.c`), over the three places files come from for now: `/proc`,
//! the console and memory devices under `/dev`, and the root ext2.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::ext2::{self, Ext2Node};
use super::file::{File, FileOps, NullDev, Stat, o, s};
use super::procfs;
use crate::drivers::tty::TtyFile;
use crate::kernel::errno::{EBADF, EINVAL, EISDIR, ENOENT, ENOTDIR, EROFS, KResult};
use crate::kernel::task;

/// `AT_FDCWD`.
pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_EMPTY_PATH: u32 = 0x1000;

/// Joins `path` to `base` (if relative) and removes `.`, `..` and
/// repeated slashes.
pub fn normalize(base: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let full = if path.starts_with('/') {
        [path, ""]
    } else {
        [base, path]
    };
    for piece in full {
        for c in piece.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                c => parts.push(c),
            }
        }
    }
    let mut out = String::new();
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The absolute path `path` names relative to `dirfd`.
pub fn resolve_at(dirfd: i32, path: &str) -> KResult<String> {
    let t = task::current();
    if path.starts_with('/') {
        return Ok(normalize("/", path));
    }
    if dirfd == AT_FDCWD {
        return Ok(normalize(&t.cwd, path));
    }
    let dir = t.files.get(dirfd)?;
    if path.is_empty() {
        return Ok(dir.path.clone());
    }
    if !dir.is_dir() {
        return Err(ENOTDIR);
    }
    Ok(normalize(&dir.path, path))
}

/// Device files by path (no device nodes needed on the disk).
fn device(path: &str) -> Option<Box<dyn FileOps>> {
    match path {
        "/dev/console" | "/dev/tty" | "/dev/ttyS0" | "/dev/tty0" => Some(Box::new(TtyFile)),
        "/dev/null" => Some(Box::new(NullDev { zero: false })),
        "/dev/zero" => Some(Box::new(NullDev { zero: true })),
        _ => None,
    }
}

/// The operations for the file at absolute path `path`.
fn lookup_ops(path: &str, follow: bool) -> KResult<Box<dyn FileOps>> {
    if path == "/proc" || path.starts_with("/proc/") {
        return procfs::open(path);
    }
    if let Some(dev) = device(path) {
        return Ok(dev);
    }
    let (ino, inode) = ext2::lookup(path, follow)?;
    if inode.is_device() {
        // Character devices on the disk: the console and memory devices.
        return match inode.device() {
            Some((5, 0 | 1)) | Some((4, _)) => Ok(Box::new(TtyFile)),
            Some((1, 3)) => Ok(Box::new(NullDev { zero: false })),
            Some((1, 5)) => Ok(Box::new(NullDev { zero: true })),
            _ => Err(crate::kernel::errno::ENXIO),
        };
    }
    Ok(Box::new(Ext2Node { ino, inode }))
}

/// Opens absolute path `path` with `O_*` `flags`.
pub fn open(path: &str, flags: u32) -> KResult<Arc<File>> {
    let ops = match lookup_ops(path, flags & o::NOFOLLOW == 0) {
        Ok(ops) => ops,
        Err(ENOENT) if flags & o::CREAT != 0 => return Err(EROFS),
        Err(e) => return Err(e),
    };
    let st = ops.stat()?;
    let is_dir = st.mode & s::IFMT == s::IFDIR;
    if flags & o::DIRECTORY != 0 && !is_dir {
        return Err(ENOTDIR);
    }
    if is_dir && flags & o::ACCMODE != o::RDONLY {
        return Err(EISDIR);
    }
    let regular = st.mode & s::IFMT == s::IFREG;
    if regular && (flags & o::ACCMODE != o::RDONLY || flags & o::TRUNC != 0) {
        // The root is mounted read-only until the writable VFS.
        return Err(EROFS);
    }
    if flags & o::CREAT != 0 && flags & o::EXCL != 0 {
        return Err(crate::kernel::errno::EEXIST);
    }
    Ok(File::new(ops, flags, String::from(path)))
}

/// `stat` of absolute path `path`.
pub fn stat(path: &str, follow: bool) -> KResult<Stat> {
    lookup_ops(path, follow)?.stat()
}

/// `readlink` of absolute path `path`.
pub fn readlink(path: &str) -> KResult<Vec<u8>> {
    if path == "/proc/self" {
        return Ok(alloc::format!("{}", task::current().pid).into_bytes());
    }
    if path.starts_with("/proc") || device(path).is_some() {
        return Err(EINVAL);
    }
    let (ino, inode) = ext2::lookup(path, false)?;
    if !inode.is_symlink() {
        return Err(EINVAL);
    }
    ext2::readlink(ino, &inode)
}

/// The whole contents of the regular file at `path` (for exec).
pub fn read_whole(path: &str) -> KResult<Vec<u8>> {
    let file = open(path, o::RDONLY)?;
    let st = file.ops.stat()?;
    if st.mode & s::IFMT != s::IFREG {
        return Err(crate::kernel::errno::EACCES);
    }
    if st.size as u64 > super::root::MAX_FILE_READ {
        return Err(crate::kernel::errno::EFBIG);
    }
    let mut data = alloc::vec![0u8; st.size as usize];
    let mut done = 0;
    while done < data.len() {
        let n = file.read(&mut data[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    data.truncate(done);
    Ok(data)
}

/// A file by descriptor, for syscalls.
pub fn fget(fd: i32) -> KResult<Arc<File>> {
    task::current().files.get(fd).map_err(|_| EBADF)
}
