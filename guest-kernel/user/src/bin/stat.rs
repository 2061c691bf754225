//! `stat FILE...`: what `stat(2)` (`lstat`) says about each file.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

fn main() -> i32 {
    let mut status = 0;
    for &arg in &ulib::env::args()[1..] {
        match sys::lstat(arg) {
            Ok(st) => {
                let kind = match st.mode & ulib::fs::S_IFMT {
                    ulib::fs::S_IFREG if st.size == 0 => "regular empty file",
                    ulib::fs::S_IFREG => "regular file",
                    ulib::fs::S_IFDIR => "directory",
                    ulib::fs::S_IFLNK => "symbolic link",
                    ulib::fs::S_IFIFO => "fifo",
                    ulib::fs::S_IFCHR => "character special file",
                    ulib::fs::S_IFBLK => "block special file",
                    _ => "socket",
                };
                println!("  File: {arg}");
                println!(
                    "  Size: {}  Blocks: {}  IO Block: {}  {kind}",
                    st.size, st.blocks, st.blksize
                );
                println!(
                    "Device: {:x}h/{}d  Inode: {}  Links: {}",
                    st.dev, st.dev, st.ino, st.nlink
                );
                println!(
                    "Access: ({:04o})  Uid: {}  Gid: {}",
                    st.mode & 0o7777,
                    st.uid,
                    st.gid
                );
                println!("Modify: {}", st.mtime);
            }
            Err(e) => {
                eprintln!("stat: cannot statx '{arg}': {e}");
                status = 1;
            }
        }
    }
    status
}
