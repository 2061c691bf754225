//! `nice`: prints the niceness; `nice [-n N | -N] COMMAND [ARG]...` runs a
//! command with the niceness raised by N (10 by default), as coreutils
//! nice (`setpriority(2)`).
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::{env, process, sys};

ulib::main!(main);

fn main() -> i32 {
    let mut args = &env::args()[1..];
    let current = match sys::getpriority(sys::PRIO_PROCESS, 0) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("nice: cannot get niceness: {e}");
            return 125;
        }
    };
    if args.is_empty() {
        println!("{current}");
        return 0;
    }
    let mut adjust = 10;
    let adjustment = if args[0] == "-n" {
        let a = args.get(1).copied();
        args = args.get(2..).unwrap_or(&[]);
        a
    } else if let Some(n) = args[0].strip_prefix("-n") {
        args = &args[1..];
        Some(n)
    } else if args[0].len() > 1 && args[0].starts_with('-') {
        let n = &args[0][1..];
        args = &args[1..];
        Some(n)
    } else {
        None
    };
    if let Some(a) = adjustment {
        match a.parse::<i32>() {
            Ok(n) => adjust = n,
            Err(_) => {
                eprintln!("nice: invalid adjustment '{a}'");
                return 125;
            }
        }
    }
    if args.is_empty() {
        eprintln!("nice: a command must be given with an adjustment");
        return 125;
    }
    let target = (current + adjust).clamp(-20, 19);
    if let Err(e) = sys::setpriority(sys::PRIO_PROCESS, 0, target) {
        eprintln!("nice: cannot set niceness: {e}");
    }
    let path_var = env::var("PATH").unwrap_or_else(|| String::from("/bin:/sbin"));
    let Some(path) = process::find_in_path(args[0], &path_var) else {
        eprintln!("nice: '{}': No such file or directory", args[0]);
        return 127;
    };
    let e = process::exec(&path, args, &env::vars());
    eprintln!("nice: '{}': {e}", args[0]);
    if e == Errno::ENOENT { 127 } else { 126 }
}
