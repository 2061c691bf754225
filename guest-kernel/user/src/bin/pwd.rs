//! `pwd`: the working directory.
#![no_std]
#![no_main]

use ulib::prelude::*;

ulib::main!(main);

fn main() -> i32 {
    match ulib::fs::cwd() {
        Ok(cwd) => {
            println!("{cwd}");
            0
        }
        Err(e) => {
            eprintln!("pwd: {e}");
            1
        }
    }
}
