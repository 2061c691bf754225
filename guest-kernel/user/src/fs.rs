//! Files and directories: listing a directory (`getdents64(2)`), the
//! mode bits of `inode(7)`, `ls -l` mode strings.

use crate::sys::{self, SysResult};
use alloc::string::String;
use alloc::vec::Vec;

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

pub fn is_dir(mode: u32) -> bool {
    mode & S_IFMT == S_IFDIR
}

/// One directory entry.
pub struct DirEntry {
    pub ino: u64,
    pub kind: u8,
    pub name: String,
}

/// The entries of a directory, in the order the kernel returns them.
pub fn read_dir(path: &str) -> SysResult<Vec<DirEntry>> {
    let fd = sys::open(path, sys::O_RDONLY | sys::O_DIRECTORY | sys::O_CLOEXEC, 0)?;
    let r = read_dir_fd(fd);
    let _ = sys::close(fd);
    r
}

fn read_dir_fd(fd: sys::Fd) -> SysResult<Vec<DirEntry>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        let n = sys::getdents64(fd, &mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        // struct linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name.
        let mut off = 0;
        while off + 19 <= n {
            let rec = &buf[off..n];
            let ino = u64::from_le_bytes(rec[0..8].try_into().unwrap_or_default());
            let reclen = u16::from_le_bytes([rec[16], rec[17]]) as usize;
            if reclen < 19 || reclen > rec.len() {
                return Err(crate::Errno::EIO);
            }
            let kind = rec[18];
            let name = &rec[19..reclen];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            out.push(DirEntry {
                ino,
                kind,
                name: String::from_utf8_lossy(name).into_owned(),
            });
            off += reclen;
        }
    }
}

/// The `ls -l` mode string: type letter and nine permission letters.
pub fn mode_string(mode: u32) -> String {
    let kind = match mode & S_IFMT {
        S_IFDIR => 'd',
        S_IFLNK => 'l',
        S_IFCHR => 'c',
        S_IFBLK => 'b',
        S_IFIFO => 'p',
        S_IFSOCK => 's',
        _ => '-',
    };
    let mut s = String::new();
    s.push(kind);
    for (i, who) in [(6, 0o4000), (3, 0o2000), (0, 0o1000)] {
        let bits = (mode >> i) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        let special = mode & who != 0;
        let x = bits & 1 != 0;
        s.push(match (special, x, i) {
            (true, true, 0) => 't',
            (true, false, 0) => 'T',
            (true, true, _) => 's',
            (true, false, _) => 'S',
            (false, true, _) => 'x',
            (false, false, _) => '-',
        });
    }
    s
}

/// Joins a directory and a name.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        alloc::format!("{dir}{name}")
    } else {
        alloc::format!("{dir}/{name}")
    }
}

/// The working directory.
pub fn cwd() -> SysResult<String> {
    let mut buf = [0u8; 4096];
    let n = sys::getcwd(&mut buf)?;
    // The kernel's length counts the NUL.
    let path = &buf[..n.saturating_sub(1)];
    Ok(String::from_utf8_lossy(path).into_owned())
}
