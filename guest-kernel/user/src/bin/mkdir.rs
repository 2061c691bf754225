//! `mkdir [-p] DIR...`: makes directories (with `-p`, their parents too, and no error if they exist).
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let mut parents = false;
    let mut status = 0;
    for &arg in &ulib::env::args()[1..] {
        if arg == "-p" {
            parents = true;
            continue;
        }
        let r = if parents {
            make_all(arg)
        } else {
            sys::mkdir(arg, 0o777)
        };
        if let Err(e) = r {
            eprintln!("mkdir: cannot create directory '{arg}': {e}");
            status = 1;
        }
    }
    status
}

/// `mkdir -p`: each prefix in turn; existing directories are fine.
fn make_all(path: &str) -> Result<(), Errno> {
    let mut end = 0;
    while end < path.len() {
        end = path[end + 1..]
            .find('/')
            .map_or(path.len(), |i| end + 1 + i);
        let prefix = &path[..end];
        if prefix.is_empty() {
            continue;
        }
        match sys::mkdir(prefix, 0o777) {
            Ok(()) => {}
            Err(Errno::EEXIST) if sys::stat(prefix).is_ok_and(|s| ulib::fs::is_dir(s.mode)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
