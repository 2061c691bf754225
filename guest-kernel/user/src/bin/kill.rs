//! `kill [-s SIGNAL | -SIGNAL] PID...` sends a signal (TERM by default);
//! `kill -l` lists the signal names.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys::{self, SIGNAL_NAMES};

ulib::main!(main);

fn parse_signal(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (0..=64).contains(&n).then_some(n);
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    SIGNAL_NAMES
        .iter()
        .position(|&n| n.eq_ignore_ascii_case(name))
        .map(|i| i as i32 + 1)
}

fn main() -> i32 {
    let mut args = &ulib::env::args()[1..];
    let mut sig = sys::SIGTERM;
    match args.first() {
        Some(&"-l") => {
            for (i, name) in SIGNAL_NAMES.iter().enumerate() {
                println!("{:2}) SIG{}", i + 1, name);
            }
            return 0;
        }
        Some(&"-s") => {
            let Some(s) = args.get(1).and_then(|s| parse_signal(s)) else {
                eprintln!("kill: -s needs a signal name or number");
                return 1;
            };
            sig = s;
            args = &args[2..];
        }
        Some(a) if a.starts_with('-') && a.len() > 1 && a != &"--" => {
            let Some(s) = parse_signal(&a[1..]) else {
                eprintln!("kill: unknown signal '{}'", &a[1..]);
                return 1;
            };
            sig = s;
            args = &args[1..];
        }
        _ => {}
    }
    if args.first() == Some(&"--") {
        args = &args[1..];
    }
    if args.is_empty() {
        eprintln!("Usage: kill [-s SIGNAL | -SIGNAL] PID...  |  kill -l");
        return 1;
    }
    let mut status = 0;
    for a in args {
        match a.parse::<i32>() {
            Ok(pid) => {
                if let Err(e) = sys::kill(pid, sig) {
                    eprintln!("kill: ({pid}) - {e}");
                    status = 1;
                }
            }
            Err(_) => {
                eprintln!("kill: '{a}': not a process id");
                status = 1;
            }
        }
    }
    status
}
