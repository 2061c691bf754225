//! `umount TARGET`: unmounts a file system.
#![no_std]
#![no_main]

use ulib::prelude::*;

ulib::main!(main);

fn main() -> i32 {
    let args = &ulib::env::args()[1..];
    let [target] = args[..] else {
        eprintln!("usage: umount TARGET");
        return 2;
    };
    match ulib::sys::umount(target) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("umount: {target}: {e}");
            1
        }
    }
}
