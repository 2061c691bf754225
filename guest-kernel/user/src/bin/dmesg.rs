//! `dmesg`: the kernel log (`syslog(2)`, `SYSLOG_ACTION_READ_ALL`), with
//! the `<level>` prefixes of each line removed as util-linux does.
#![no_std]
#![no_main]

use ulib::io::{FdWriter, STDOUT};
use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let size = sys::syslog(sys::SYSLOG_ACTION_SIZE_BUFFER, &mut [])
        .unwrap_or(1 << 16)
        .max(4096);
    let mut buf = vec![0u8; size];
    let n = match sys::syslog(sys::SYSLOG_ACTION_READ_ALL, &mut buf) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("dmesg: read kernel buffer failed: {e}");
            return 1;
        }
    };
    let mut out = FdWriter::new(STDOUT);
    for line in buf[..n].split_inclusive(|&b| b == b'\n') {
        let text = match line.iter().position(|&b| b == b'>') {
            Some(end) if line.first() == Some(&b'<') && end <= 4 => &line[end + 1..],
            _ => line,
        };
        out.write_bytes(text);
    }
    if n > 0 && buf[n - 1] != b'\n' {
        out.write_bytes(b"\n");
    }
    if out.flush().is_err() { 1 } else { 0 }
}
