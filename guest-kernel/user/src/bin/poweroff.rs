//! `poweroff`: syncs, then powers the machine off (the kernel writes everything back and unmounts the root first).
#![no_std]
#![no_main]

use ulib::prelude::*;

ulib::main!(main);

fn main() -> i32 {
    ulib::sys::sync();
    match ulib::sys::power_off() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("poweroff: {e}");
            1
        }
    }
}
