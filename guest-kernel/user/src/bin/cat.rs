//! `cat [FILE]...`: copies the files (standard input with none, or `-`)
//! to standard output.
#![no_std]
#![no_main]

use ulib::io::{self, STDOUT};
use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let args = &ulib::env::args()[1..];
    let files: &[&str] = if args.is_empty() { &["-"] } else { args };
    let mut status = 0;
    for &path in files {
        let Some(fd) = io::open_input(path) else {
            status = 1;
            continue;
        };
        let r = io::for_each_chunk(fd, |chunk| io::write_all(STDOUT, chunk));
        if fd != io::STDIN {
            let _ = sys::close(fd);
        }
        if let Err(e) = r {
            eprintln!("cat: {path}: {e}");
            status = 1;
            if e == Errno::EPIPE {
                break;
            }
        }
    }
    status
}
