//! `cp SOURCE DEST`: copies a file (into DEST if it is a directory), keeping its permission bits.
#![no_std]
#![no_main]

use ulib::io;
use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let args = &ulib::env::args()[1..];
    let [src, dst] = args[..] else {
        eprintln!("usage: cp SOURCE DEST");
        return 2;
    };
    let dst: String = match sys::stat(dst) {
        Ok(st) if ulib::fs::is_dir(st.mode) => {
            format!("{dst}/{}", src.rsplit('/').next().unwrap_or(src))
        }
        _ => dst.into(),
    };
    match copy(src, &dst) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("cp: cannot copy '{src}' to '{dst}': {e}");
            1
        }
    }
}

fn copy(src: &str, dst: &str) -> Result<(), Errno> {
    let st = sys::stat(src)?;
    if ulib::fs::is_dir(st.mode) {
        return Err(Errno::EISDIR);
    }
    let from = sys::open(src, sys::O_RDONLY | sys::O_CLOEXEC, 0)?;
    let to = match sys::open(
        dst,
        sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC | sys::O_CLOEXEC,
        st.mode & 0o7777,
    ) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = sys::close(from);
            return Err(e);
        }
    };
    let r = io::for_each_chunk(from, |chunk| io::write_all(to, chunk));
    let _ = sys::close(from);
    let closed = sys::close(to);
    r.and(closed)
}
