//! `mount [-t TYPE] SOURCE TARGET`, or with no arguments the mount table (`/proc/mounts`).
#![no_std]
#![no_main]

use ulib::io;
use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let args = &ulib::env::args()[1..];
    let (fstype, rest) = match args {
        ["-t", t, rest @ ..] => (*t, rest),
        rest => ("", rest),
    };
    match rest {
        [] => {
            let Some(fd) = io::open_input("/proc/mounts") else {
                return 1;
            };
            let r = io::for_each_chunk(fd, |c| io::write_all(io::STDOUT, c));
            let _ = sys::close(fd);
            i32::from(r.is_err())
        }
        [source, target] => match sys::mount(source, target, fstype, 0) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("mount: {target}: {e}");
                1
            }
        },
        _ => {
            eprintln!("usage: mount [-t TYPE] SOURCE TARGET");
            2
        }
    }
}
