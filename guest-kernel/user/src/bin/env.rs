//! `env [-i] [NAME=VALUE]... [COMMAND [ARG]...]`: prints the environment,
//! or runs a command in a changed one.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::{env, process};

ulib::main!(main);

fn main() -> i32 {
    let mut args = &env::args()[1..];
    if args.first() == Some(&"-i") {
        for v in env::vars() {
            if let Some((k, _)) = v.split_once('=') {
                env::remove_var(k);
            }
        }
        args = &args[1..];
    }
    while let Some((k, v)) = args.first().and_then(|a| a.split_once('=')) {
        env::set_var(k, v);
        args = &args[1..];
    }
    if args.is_empty() {
        for v in env::vars() {
            println!("{v}");
        }
        return 0;
    }
    let path_var = env::var("PATH").unwrap_or_else(|| String::from("/bin:/sbin"));
    let Some(path) = process::find_in_path(args[0], &path_var) else {
        eprintln!("env: '{}': No such file or directory", args[0]);
        return 127;
    };
    let e = process::exec(&path, args, &env::vars());
    eprintln!("env: '{}': {e}", args[0]);
    if e == Errno::ENOENT { 127 } else { 126 }
}
