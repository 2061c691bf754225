//! `head [-n N | -N] [FILE]...`: the first N lines (10) of each file,
//! with `==> name <==` headers when there are several.
#![no_std]
#![no_main]

use ulib::io::{self, FdWriter, STDOUT};
use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn parse_count(s: &str) -> Option<u64> {
    s.parse().ok()
}

fn head(fd: sys::Fd, mut n: u64, out: &mut FdWriter) -> Result<(), Errno> {
    if n == 0 {
        return Ok(());
    }
    let mut buf = [0u8; 4096];
    loop {
        let len = io::read(fd, &mut buf)?;
        if len == 0 {
            return Ok(());
        }
        let mut end = len;
        for (i, &b) in buf[..len].iter().enumerate() {
            if b == b'\n' {
                n -= 1;
                if n == 0 {
                    end = i + 1;
                    break;
                }
            }
        }
        out.write_bytes(&buf[..end]);
        if n == 0 {
            return Ok(());
        }
    }
}

fn main() -> i32 {
    let args = &ulib::env::args()[1..];
    let mut lines = 10;
    let mut files = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        let count = if a == "-n" {
            i += 1;
            match args.get(i) {
                Some(v) => Some(*v),
                None => {
                    eprintln!("head: option requires an argument -- 'n'");
                    return 1;
                }
            }
        } else if let Some(v) = a.strip_prefix("-n") {
            Some(v)
        } else if a.len() > 1 && a.starts_with('-') {
            Some(&a[1..])
        } else {
            files.push(a);
            None
        };
        if let Some(c) = count {
            match parse_count(c) {
                Some(n) => lines = n,
                None => {
                    eprintln!("head: invalid number of lines: '{c}'");
                    return 1;
                }
            }
        }
        i += 1;
    }
    if files.is_empty() {
        files.push("-");
    }
    let mut status = 0;
    let mut out = FdWriter::new(STDOUT);
    for (k, &path) in files.iter().enumerate() {
        let Some(fd) = io::open_input(path) else {
            status = 1;
            continue;
        };
        if files.len() > 1 {
            let name = if path == "-" { "standard input" } else { path };
            let sep = if k > 0 { "\n" } else { "" };
            out.write_bytes(format!("{sep}==> {name} <==\n").as_bytes());
        }
        if let Err(e) = head(fd, lines, &mut out) {
            eprintln!("head: {path}: {e}");
            status = 1;
        }
        if fd != io::STDIN {
            let _ = sys::close(fd);
        }
    }
    if out.flush().is_err() {
        status = 1;
    }
    status
}
