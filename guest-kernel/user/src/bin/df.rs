//! `df [PATH]`: blocks and inodes used and free on the file system of PATH (default `/`), in 1K-blocks.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let args = &ulib::env::args()[1..];
    let path = args.first().copied().unwrap_or("/");
    match sys::statfs(path) {
        Ok(s) => {
            let k = s.bsize / 1024;
            let total = s.blocks * k;
            let free = s.bfree * k;
            println!("Filesystem     1K-blocks    Used Available Use% Inodes IFree Mounted on");
            let used = total - free;
            let pct = if total == 0 {
                0
            } else {
                (used * 100).div_ceil(total)
            };
            println!(
                "/dev/root      {total:>9} {used:>7} {:>9} {pct:>3}% {:>6} {:>5} {path}",
                s.bavail * k,
                s.files,
                s.ffree
            );
            0
        }
        Err(e) => {
            eprintln!("df: {path}: {e}");
            1
        }
    }
}
