//! `wc [-lwc] [FILE]...`: counts lines, words and bytes, laid out as GNU
//! wc does (a single number alone; otherwise right-aligned columns, 7 wide
//! when standard input or a non-regular file is among the inputs).
#![no_std]
#![no_main]

use ulib::io;
use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

#[derive(Default, Clone, Copy)]
struct Counts {
    lines: u64,
    words: u64,
    bytes: u64,
}

fn count(fd: sys::Fd) -> Result<Counts, Errno> {
    let mut c = Counts::default();
    let mut in_word = false;
    io::for_each_chunk(fd, |chunk| {
        c.bytes += chunk.len() as u64;
        for &b in chunk {
            if b == b'\n' {
                c.lines += 1;
            }
            let space = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
            if !space && !in_word {
                c.words += 1;
            }
            in_word = !space;
        }
        Ok(())
    })?;
    Ok(c)
}

fn main() -> i32 {
    let (mut lines, mut words, mut bytes) = (false, false, false);
    let mut files = Vec::new();
    for &a in &ulib::env::args()[1..] {
        if a.len() > 1 && a.starts_with('-') {
            for f in a[1..].chars() {
                match f {
                    'l' => lines = true,
                    'w' => words = true,
                    'c' => bytes = true,
                    _ => {
                        eprintln!("wc: invalid option -- '{f}'");
                        return 1;
                    }
                }
            }
        } else {
            files.push(a);
        }
    }
    if !(lines || words || bytes) {
        (lines, words, bytes) = (true, true, true);
    }
    if files.is_empty() {
        files.push("-");
    }
    let mut status = 0;
    let mut results = Vec::new();
    let mut all_regular = true;
    for &path in &files {
        let Some(fd) = io::open_input(path) else {
            status = 1;
            continue;
        };
        if path == "-"
            || sys::fstat(fd).map_or(true, |st| st.mode & ulib::fs::S_IFMT != ulib::fs::S_IFREG)
        {
            all_regular = false;
        }
        match count(fd) {
            Ok(c) => results.push((path, c)),
            Err(e) => {
                eprintln!("wc: {path}: {e}");
                status = 1;
            }
        }
        if fd != io::STDIN {
            let _ = sys::close(fd);
        }
    }
    let mut total = Counts::default();
    for (_, c) in &results {
        total.lines += c.lines;
        total.words += c.words;
        total.bytes += c.bytes;
    }
    let numbers = usize::from(lines) + usize::from(words) + usize::from(bytes);
    let width = if numbers == 1 && files.len() == 1 {
        0
    } else if !all_regular {
        7
    } else {
        let max = total.lines.max(total.words).max(total.bytes);
        max.to_string().len()
    };
    let show = |c: &Counts, name: &str| {
        let mut parts = Vec::new();
        for (on, v) in [(lines, c.lines), (words, c.words), (bytes, c.bytes)] {
            if on {
                parts.push(format!("{v:>width$}"));
            }
        }
        let mut line = parts.join(" ");
        if name != "-" {
            line.push(' ');
            line.push_str(name);
        }
        println!("{line}");
    };
    for (name, c) in &results {
        show(c, name);
    }
    if files.len() > 1 {
        show(&total, "total");
    }
    status
}
