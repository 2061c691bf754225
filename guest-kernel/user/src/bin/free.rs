//! `free`: memory and swap in KiB, from `sysinfo(2)`, laid out as procps
//! free. (`sysinfo` has no page-cache figure: buff/cache is the buffer
//! memory it reports.)
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let s = match sys::sysinfo() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("free: {e}");
            return 1;
        }
    };
    let unit = u64::from(s.mem_unit.max(1));
    let kib = |v: u64| v * unit / 1024;
    let total = kib(s.totalram);
    let free = kib(s.freeram);
    let buffers = kib(s.bufferram);
    let shared = kib(s.sharedram);
    let used = total.saturating_sub(free).saturating_sub(buffers);
    let available = free + buffers;
    println!(
        "{:>20} {:>11} {:>11} {:>11} {:>11} {:>11}",
        "total", "used", "free", "shared", "buff/cache", "available"
    );
    println!(
        "{:<8}{total:>12} {used:>11} {free:>11} {shared:>11} {buffers:>11} {available:>11}",
        "Mem:"
    );
    let (st, sf) = (kib(s.totalswap), kib(s.freeswap));
    println!("{:<8}{st:>12} {:>11} {sf:>11}", "Swap:", st - sf.min(st));
    0
}
