//! `rm [-r] [-f] FILE...`: removes files (with `-r`, directories and what they hold; with `-f`, missing files are no error).
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let (mut recursive, mut force) = (false, false);
    let mut status = 0;
    for &arg in &ulib::env::args()[1..] {
        if arg.starts_with('-') && arg.len() > 1 {
            recursive |= arg.contains('r') || arg.contains('R');
            force |= arg.contains('f');
            continue;
        }
        match remove(arg, recursive) {
            Ok(()) => {}
            Err(Errno::ENOENT) if force => {}
            Err(e) => {
                eprintln!("rm: cannot remove '{arg}': {e}");
                status = 1;
            }
        }
    }
    status
}

fn remove(path: &str, recursive: bool) -> Result<(), Errno> {
    let st = sys::lstat(path)?;
    if !ulib::fs::is_dir(st.mode) {
        return sys::unlink(path);
    }
    if !recursive {
        return Err(Errno::EISDIR);
    }
    for entry in ulib::fs::read_dir(path)? {
        if entry.name == "." || entry.name == ".." {
            continue;
        }
        remove(&format!("{path}/{}", entry.name), true)?;
    }
    sys::rmdir(path)
}
