//! `sync`: writes every dirty buffer to the disk.
#![no_std]
#![no_main]

ulib::main!(main);

fn main() -> i32 {
    ulib::sys::sync();
    0
}
