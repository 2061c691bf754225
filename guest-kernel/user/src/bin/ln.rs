//! `ln [-s] TARGET LINK`: a hard link (or with `-s` a symbolic link) named LINK to TARGET; LINK may be a directory to put it in.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let mut symbolic = false;
    let mut names = Vec::new();
    for &arg in &ulib::env::args()[1..] {
        match arg {
            "-s" => symbolic = true,
            "-f" => {}
            _ => names.push(arg),
        }
    }
    let [target, link] = names[..] else {
        eprintln!("usage: ln [-s] TARGET LINK");
        return 2;
    };
    let link: String = match sys::stat(link) {
        Ok(st) if ulib::fs::is_dir(st.mode) => {
            format!("{link}/{}", target.rsplit('/').next().unwrap_or(target))
        }
        _ => link.into(),
    };
    let r = if symbolic {
        sys::symlink(target, &link)
    } else {
        sys::link(target, &link)
    };
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ln: failed to create link '{link}': {e}");
            1
        }
    }
}
