//! `echo [-n] [ARG]...`: the arguments separated by spaces, then a newline
//! (none with `-n`).
#![no_std]
#![no_main]

use ulib::io::{FdWriter, STDOUT};
use ulib::prelude::*;

ulib::main!(main);

fn main() -> i32 {
    let mut args = &ulib::env::args()[1..];
    let newline = args.first() != Some(&"-n");
    if !newline {
        args = &args[1..];
    }
    let mut out = FdWriter::new(STDOUT);
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.write_bytes(b" ");
        }
        out.write_bytes(a.as_bytes());
    }
    if newline {
        out.write_bytes(b"\n");
    }
    match out.flush() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("echo: write error: {e}");
            1
        }
    }
}
