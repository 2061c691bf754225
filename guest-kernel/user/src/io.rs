//! Output and input helpers.
//!
//! `print!` and friends format into a small buffer that is written out
//! when full and when the macro ends, so one `println!` is usually one
//! `write(2)`. Nothing stays buffered between calls: output interleaves
//! correctly with children that share the descriptor.

use crate::errno::Errno;
use crate::sys::{self, Fd, SysResult};
use alloc::vec::Vec;
use core::fmt;

pub const STDIN: Fd = 0;
pub const STDOUT: Fd = 1;
pub const STDERR: Fd = 2;

/// Writes all of `buf`, retrying short writes and `EINTR`.
pub fn write_all(fd: Fd, mut buf: &[u8]) -> SysResult<()> {
    while !buf.is_empty() {
        match sys::write(fd, buf) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads into `buf`, retrying `EINTR`.
pub fn read(fd: Fd, buf: &mut [u8]) -> SysResult<usize> {
    loop {
        match sys::read(fd, buf) {
            Err(Errno::EINTR) => {}
            r => return r,
        }
    }
}

/// A formatting sink that writes to a descriptor through a buffer.
pub struct FdWriter {
    fd: Fd,
    buf: [u8; 512],
    len: usize,
    /// The first write error, if any (later output is dropped).
    pub error: Option<Errno>,
}

impl FdWriter {
    pub fn new(fd: Fd) -> Self {
        FdWriter {
            fd,
            buf: [0; 512],
            len: 0,
            error: None,
        }
    }

    pub fn flush(&mut self) -> SysResult<()> {
        if self.error.is_none()
            && self.len > 0
            && let Err(e) = write_all(self.fd, &self.buf[..self.len])
        {
            self.error = Some(e);
        }
        self.len = 0;
        self.error.map_or(Ok(()), Err)
    }

    pub fn write_bytes(&mut self, mut s: &[u8]) {
        while !s.is_empty() {
            if self.len == self.buf.len() {
                let _ = self.flush();
            }
            let n = s.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
            self.len += n;
            s = &s[n..];
        }
    }
}

impl fmt::Write for FdWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

impl Drop for FdWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Formats to a descriptor; the first error, if any.
pub fn write_fmt(fd: Fd, args: fmt::Arguments<'_>) -> SysResult<()> {
    let mut w = FdWriter::new(fd);
    let _ = fmt::Write::write_fmt(&mut w, args);
    w.flush()
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { let _ = $crate::io::write_fmt($crate::io::STDOUT, format_args!($($arg)*)); };
}

#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { let _ = $crate::io::write_fmt($crate::io::STDOUT, format_args!("{}\n", format_args!($($arg)*))); };
}

#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => { let _ = $crate::io::write_fmt($crate::io::STDERR, format_args!($($arg)*)); };
}

#[macro_export]
macro_rules! eprintln {
    () => { $crate::eprint!("\n") };
    ($($arg:tt)*) => { let _ = $crate::io::write_fmt($crate::io::STDERR, format_args!("{}\n", format_args!($($arg)*))); };
}

/// Reads lines from a descriptor, each without its `\n`.
pub struct LineReader {
    fd: Fd,
    buf: Vec<u8>,
    eof: bool,
}

impl LineReader {
    pub fn new(fd: Fd) -> Self {
        LineReader {
            fd,
            buf: Vec::new(),
            eof: false,
        }
    }

    /// The next line (the last one may lack its newline); `None` at end of
    /// input.
    pub fn next_line(&mut self) -> SysResult<Option<Vec<u8>>> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line = self.buf[..i].to_vec();
                self.buf.drain(..=i);
                return Ok(Some(line));
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(core::mem::take(&mut self.buf)));
            }
            let mut chunk = [0u8; 512];
            let n = read(self.fd, &mut chunk)?;
            if n == 0 {
                self.eof = true;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Reads a whole file.
pub fn read_file(path: &str) -> SysResult<Vec<u8>> {
    let fd = sys::open(path, sys::O_RDONLY | sys::O_CLOEXEC, 0)?;
    let r = read_to_end(fd);
    let _ = sys::close(fd);
    r
}

/// Reads a descriptor to its end.
pub fn read_to_end(fd: Fd) -> SysResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = read(fd, &mut chunk)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// Calls `f` with each chunk read from `fd`.
pub fn for_each_chunk(fd: Fd, mut f: impl FnMut(&[u8]) -> SysResult<()>) -> SysResult<()> {
    let mut chunk = [0u8; 4096];
    loop {
        let n = read(fd, &mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        f(&chunk[..n])?;
    }
}

/// Opens `path` for reading, `-` meaning standard input; reports failure
/// as `prog: path: error` and returns `None`.
pub fn open_input(path: &str) -> Option<Fd> {
    if path == "-" {
        return Some(STDIN);
    }
    match sys::open(path, sys::O_RDONLY | sys::O_CLOEXEC, 0) {
        Ok(fd) => Some(fd),
        Err(e) => {
            crate::eprintln!("{}: {}: {}", crate::env::program_name(), path, e);
            None
        }
    }
}
