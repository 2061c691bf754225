//! `sleep SECONDS`: waits (fractions allowed: `sleep 0.5`).
#![no_std]
#![no_main]

use ulib::prelude::*;

ulib::main!(main);

/// `12.5` as nanoseconds.
fn parse_seconds(s: &str) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut ns = 0u64;
    let mut scale = 100_000_000;
    for b in frac.bytes().take(9) {
        ns += u64::from(b - b'0') * scale;
        scale /= 10;
    }
    whole.checked_mul(1_000_000_000)?.checked_add(ns)
}

fn main() -> i32 {
    let args = &ulib::env::args()[1..];
    if args.is_empty() {
        eprintln!("sleep: missing operand");
        return 1;
    }
    let mut total = 0u64;
    for a in args {
        match parse_seconds(a) {
            Some(ns) => total = total.saturating_add(ns),
            None => {
                eprintln!("sleep: invalid time interval '{a}'");
                return 1;
            }
        }
    }
    match ulib::time::sleep_ns(total) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sleep: {e}");
            1
        }
    }
}
