//! `grep [-vicnqF] PATTERN [FILE]...`: lines containing a fixed string.
//! Exit status 0 if a line was selected, 1 if none, 2 on error.
#![no_std]
#![no_main]

use ulib::io::{self, FdWriter, LineReader, STDOUT};
use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

#[derive(Default)]
struct Options {
    invert: bool,
    ignore_case: bool,
    count: bool,
    number: bool,
    quiet: bool,
}

fn contains(line: &[u8], pat: &[u8], ignore_case: bool) -> bool {
    if pat.is_empty() {
        return true;
    }
    line.windows(pat.len()).any(|w| {
        if ignore_case {
            w.eq_ignore_ascii_case(pat)
        } else {
            w == pat
        }
    })
}

fn main() -> i32 {
    let args = &ulib::env::args()[1..];
    let mut opt = Options::default();
    let mut rest = Vec::new();
    let mut options_done = false;
    for &a in args {
        if !options_done && a == "--" {
            options_done = true;
        } else if !options_done && a.len() > 1 && a.starts_with('-') {
            for f in a[1..].chars() {
                match f {
                    'v' => opt.invert = true,
                    'i' => opt.ignore_case = true,
                    'c' => opt.count = true,
                    'n' => opt.number = true,
                    'q' => opt.quiet = true,
                    'F' => {}
                    _ => {
                        eprintln!("grep: invalid option -- '{f}'");
                        eprintln!("Usage: grep [-vicnqF] PATTERN [FILE]...");
                        return 2;
                    }
                }
            }
        } else {
            rest.push(a);
        }
    }
    let Some((&pattern, files)) = rest.split_first() else {
        eprintln!("Usage: grep [-vicnqF] PATTERN [FILE]...");
        return 2;
    };
    let files: Vec<&str> = if files.is_empty() {
        vec!["-"]
    } else {
        files.to_vec()
    };
    let prefix = files.len() > 1;
    let mut out = FdWriter::new(STDOUT);
    let mut any = false;
    let mut error = false;
    for &path in &files {
        let Some(fd) = io::open_input(path) else {
            error = true;
            continue;
        };
        let name = if path == "-" {
            "(standard input)"
        } else {
            path
        };
        let mut reader = LineReader::new(fd);
        let mut n = 0u64;
        let mut count = 0u64;
        loop {
            let line = match reader.next_line() {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => {
                    eprintln!("grep: {path}: {e}");
                    error = true;
                    break;
                }
            };
            n += 1;
            if contains(&line, pattern.as_bytes(), opt.ignore_case) == opt.invert {
                continue;
            }
            any = true;
            count += 1;
            if opt.quiet {
                return 0;
            }
            if opt.count {
                continue;
            }
            if prefix {
                out.write_bytes(name.as_bytes());
                out.write_bytes(b":");
            }
            if opt.number {
                out.write_bytes(format!("{n}:").as_bytes());
            }
            out.write_bytes(&line);
            out.write_bytes(b"\n");
        }
        if opt.count && !opt.quiet {
            if prefix {
                out.write_bytes(format!("{name}:").as_bytes());
            }
            out.write_bytes(format!("{count}\n").as_bytes());
        }
        if fd != io::STDIN {
            let _ = sys::close(fd);
        }
    }
    if out.flush().is_err() {
        error = true;
    }
    if error {
        2
    } else if any {
        0
    } else {
        1
    }
}
