//! `uname [-asnrvm]`: system name, node name, release, version, machine
//! (`uname(2)`); `-s` by default.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn field(f: &[u8; 65]) -> &str {
    let len = f.iter().position(|&b| b == 0).unwrap_or(f.len());
    core::str::from_utf8(&f[..len]).unwrap_or("?")
}

fn main() -> i32 {
    let mut want = [false; 5]; // s n r v m
    for &a in &ulib::env::args()[1..] {
        let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
            eprintln!("uname: extra operand '{a}'");
            return 1;
        };
        for f in flags.chars() {
            match f {
                'a' => want = [true; 5],
                's' => want[0] = true,
                'n' => want[1] = true,
                'r' => want[2] = true,
                'v' => want[3] = true,
                'm' => want[4] = true,
                _ => {
                    eprintln!("uname: invalid option -- '{f}'");
                    return 1;
                }
            }
        }
    }
    if !want.iter().any(|&w| w) {
        want[0] = true;
    }
    let u = match sys::uname() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("uname: {e}");
            return 1;
        }
    };
    let fields = [&u.sysname, &u.nodename, &u.release, &u.version, &u.machine];
    let parts: Vec<&str> = fields
        .iter()
        .zip(want)
        .filter(|(_, w)| *w)
        .map(|(f, _)| field(f))
        .collect();
    println!("{}", parts.join(" "));
    0
}
