//! `rmdir DIR...`: removes empty directories.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let mut status = 0;
    for &arg in &ulib::env::args()[1..] {
        if let Err(e) = sys::rmdir(arg) {
            eprintln!("rmdir: failed to remove '{arg}': {e}");
            status = 1;
        }
    }
    status
}
