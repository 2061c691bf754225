//! `touch FILE...`: creates empty files, or sets the times of existing ones to now.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let mut status = 0;
    for &arg in &ulib::env::args()[1..] {
        let r = match sys::open(arg, sys::O_WRONLY | sys::O_CREAT | sys::O_CLOEXEC, 0o666) {
            Ok(fd) => {
                let _ = sys::close(fd);
                sys::touch_times(arg)
            }
            Err(Errno::EISDIR) => sys::touch_times(arg),
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            eprintln!("touch: cannot touch '{arg}': {e}");
            status = 1;
        }
    }
    status
}
