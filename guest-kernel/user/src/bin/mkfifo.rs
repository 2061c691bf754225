//! `mkfifo NAME...`: makes named pipes.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let mut status = 0;
    for &arg in &ulib::env::args()[1..] {
        if let Err(e) = sys::mknod(arg, ulib::fs::S_IFIFO | 0o666, 0) {
            eprintln!("mkfifo: cannot create fifo '{arg}': {e}");
            status = 1;
        }
    }
    status
}
