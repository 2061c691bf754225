//! `mv SOURCE DEST`: renames SOURCE to DEST (into DEST if it is a directory), replacing DEST atomically.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let args = &ulib::env::args()[1..];
    let [src, dst] = args[..] else {
        eprintln!("usage: mv SOURCE DEST");
        return 2;
    };
    let dst: String = match sys::stat(dst) {
        Ok(st)
            if ulib::fs::is_dir(st.mode)
                && !sys::lstat(src).is_ok_and(|s| ulib::fs::is_dir(s.mode)) =>
        {
            format!(
                "{dst}/{}",
                src.trim_end_matches('/').rsplit('/').next().unwrap_or(src)
            )
        }
        _ => dst.into(),
    };
    match sys::rename(src, &dst) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("mv: cannot move '{src}' to '{dst}': {e}");
            1
        }
    }
}
