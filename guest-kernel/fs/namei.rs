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
use crate::kernel::errno::{
    EBADF, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, EPERM, EROFS, KResult,
};
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
        _ => {
            let name = path.strip_prefix("/dev/")?;
            let dev = crate::block::lookup(name)?;
            Some(Box::new(super::blockdev::BlockDevFile { dev }))
        }
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
            Some((3, minor)) if inode.format() == ondisk::ext2::S_IFBLK => {
                let name = if minor == 0 {
                    String::from("hda")
                } else {
                    alloc::format!("hda{minor}")
                };
                let dev = crate::block::lookup(&name).ok_or(crate::kernel::errno::ENXIO)?;
                Ok(Box::new(super::blockdev::BlockDevFile { dev }))
            }
            _ => Err(crate::kernel::errno::ENXIO),
        };
    }
    Ok(Box::new(Ext2Node::open(ino)?))
}

/// Whether `path` is outside the ext2 root (`/proc`, device files).
fn special(path: &str) -> bool {
    path == "/proc" || path.starts_with("/proc/") || device(path).is_some()
}

/// Opens absolute path `path` with `O_*` `flags`, creating it with
/// `mode` (less the umask) under `O_CREAT`.
pub fn open_mode(path: &str, flags: u32, mode: u32) -> KResult<Arc<File>> {
    let ops = match lookup_ops(path, flags & o::NOFOLLOW == 0) {
        Ok(_) if flags & o::CREAT != 0 && flags & o::EXCL != 0 => return Err(EEXIST),
        Ok(ops) => {
            if ops.ext2_ino().is_some() {
                let st = ops.stat()?;
                let mut mask = 0;
                if flags & o::ACCMODE != o::WRONLY {
                    mask |= ext2::ops::MAY_READ;
                }
                if flags & o::ACCMODE != o::RDONLY || flags & o::TRUNC != 0 {
                    mask |= ext2::ops::MAY_WRITE;
                }
                ext2::ops::permission(st.mode, st.uid, st.gid, mask)?;
            }
            ops
        }
        Err(ENOENT) if flags & o::CREAT != 0 && !special(path) => {
            let t = task::current();
            let mode = (mode & !t.umask & 0o7777) as u16 | ondisk::ext2::S_IFREG;
            let (uid, gid) = (t.cred.euid, t.cred.egid);
            let (ino, _) = ext2::with_fs(|fs| fs.create(path, mode, uid, gid))?;
            Box::new(Ext2Node::open(ino)?)
        }
        Err(e) => return Err(e),
    };
    let st = ops.stat()?;
    if st.mode & s::IFMT == s::IFIFO
        && let Some(ino) = ops.ext2_ino()
    {
        let end = super::pipe::open_fifo(ino, flags)?;
        return Ok(File::new(end, flags, String::from(path)));
    }
    if st.mode & s::IFMT == 0o120000 {
        // O_NOFOLLOW on a symbolic link (O_PATH is not supported).
        return Err(ELOOP);
    }
    let is_dir = st.mode & s::IFMT == s::IFDIR;
    if flags & o::DIRECTORY != 0 && !is_dir {
        return Err(ENOTDIR);
    }
    if is_dir && (flags & o::ACCMODE != o::RDONLY || flags & o::CREAT != 0) {
        return Err(EISDIR);
    }
    let regular = st.mode & s::IFMT == s::IFREG;
    if let Some(ino) = ops.ext2_ino() {
        if regular && (flags & o::ACCMODE != o::RDONLY || flags & o::TRUNC != 0) && !ext2::is_rw() {
            return Err(EROFS);
        }
        if regular && flags & o::TRUNC != 0 && flags & o::ACCMODE != o::RDONLY && st.size != 0 {
            ext2::with_fs(|fs| {
                let mut inode = fs.read_inode(ino)?;
                fs.truncate(ino, &mut inode, 0)?;
                fs.write_inode(ino, &inode)
            })?;
        }
    }
    Ok(File::new(ops, flags, String::from(path)))
}

/// Opens absolute path `path` with `O_*` `flags`.
pub fn open(path: &str, flags: u32) -> KResult<Arc<File>> {
    open_mode(path, flags, 0o666)
}

/// Fails with EROFS/EPERM for names outside the ext2 root.
fn on_ext2(path: &str) -> KResult<()> {
    if special(path) {
        return Err(if path.starts_with("/proc") {
            EROFS
        } else {
            EPERM
        });
    }
    Ok(())
}

/// `mkdir`.
pub fn mkdir(path: &str, mode: u32) -> KResult<()> {
    on_ext2(path)?;
    let t = task::current();
    let mode = (mode & !t.umask & 0o7777) as u16 | ondisk::ext2::S_IFDIR;
    let (uid, gid) = (t.cred.euid, t.cred.egid);
    ext2::with_fs(|fs| fs.create(path, mode, uid, gid)).map(|_| ())
}

/// `mknod` (FIFOs and device nodes).
pub fn mknod(path: &str, mode: u32, dev: u64) -> KResult<()> {
    on_ext2(path)?;
    let t = task::current();
    let kind = mode & s::IFMT;
    let kind = if kind == 0 { s::IFREG } else { kind };
    if !matches!(kind, s::IFREG | s::IFIFO | s::IFCHR | 0o060000 | 0o140000) {
        return Err(EINVAL);
    }
    if matches!(kind, s::IFCHR | 0o060000) && t.cred.euid != 0 {
        return Err(EPERM);
    }
    let mode = (mode & !t.umask & 0o7777) as u16 | kind as u16;
    let (uid, gid) = (t.cred.euid, t.cred.egid);
    ext2::with_fs(|fs| {
        let (ino, mut inode) = fs.create(path, mode, uid, gid)?;
        if matches!(kind, s::IFCHR | 0o060000) {
            inode.set_device(((dev >> 8) & 0xfff) as u32, (dev & 0xff) as u32);
            fs.write_inode(ino, &inode)?;
        }
        Ok(())
    })
}

/// `unlink` / `rmdir`.
pub fn unlink(path: &str, rmdir: bool) -> KResult<()> {
    on_ext2(path)?;
    ext2::with_fs(|fs| fs.unlink(path, rmdir))
}

/// `link`.
pub fn link(old: &str, new: &str, follow: bool) -> KResult<()> {
    on_ext2(old)?;
    on_ext2(new)?;
    ext2::with_fs(|fs| fs.link(old, new, follow))
}

/// `symlink`.
pub fn symlink(target: &[u8], path: &str) -> KResult<()> {
    on_ext2(path)?;
    let t = task::current();
    let (uid, gid) = (t.cred.euid, t.cred.egid);
    ext2::with_fs(|fs| fs.symlink(target, path, uid, gid))
}

/// `rename`.
pub fn rename(old: &str, new: &str, noreplace: bool) -> KResult<()> {
    on_ext2(old)?;
    on_ext2(new)?;
    ext2::with_fs(|fs| fs.rename(old, new, noreplace))
}

/// The ext2 inode of `path`, for the calls that change inodes.
pub fn ext2_ino(path: &str, follow: bool) -> KResult<u32> {
    on_ext2(path)?;
    Ok(ext2::lookup(path, follow)?.0)
}

/// Changes inode `ino` with `f` (truncate, chmod, chown, utimes).
pub fn setattr(
    ino: u32,
    f: impl FnOnce(&mut ext2::Ext2, &mut ondisk::ext2::Inode) -> KResult<()>,
) -> KResult<()> {
    ext2::with_fs(|fs| {
        if !fs.rw {
            return Err(EROFS);
        }
        let mut inode = fs.read_inode(ino)?;
        f(fs, &mut inode)?;
        fs.write_inode(ino, &inode)
    })
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
    if let Some(target) = procfs::fd_link_target(path) {
        return Ok(target.into_bytes());
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
