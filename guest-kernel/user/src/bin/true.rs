//! `true`: exits 0.
#![no_std]
#![no_main]

ulib::main!(main);

fn main() -> i32 {
    0
}
