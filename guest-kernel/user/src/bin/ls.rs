//! `ls [-lia1d] [FILE]...`: lists directories (sorted by name, bytes
//! order as in the C locale); `-l` long format with owner names from
//! `/etc/passwd` and `/etc/group`, `-i` inode numbers, `-a` dot files,
//! `-d` directories themselves.
#![no_std]
#![no_main]

use ulib::fs::{self, S_IFBLK, S_IFCHR, S_IFLNK, S_IFMT};
use ulib::io::{FdWriter, STDOUT};
use ulib::prelude::*;
use ulib::sys::{self, Stat};

ulib::main!(main);

#[derive(Default)]
struct Options {
    long: bool,
    inode: bool,
    all: bool,
    one_per_line: bool,
    directory: bool,
}

/// `uid -> name` from an `/etc/passwd`-style file.
fn names(path: &str) -> Vec<(u32, String)> {
    let Ok(text) = ulib::io::read_file(path) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?.parse().ok()?;
            Some((id, String::from(name)))
        })
        .collect()
}

fn lookup(table: &[(u32, String)], id: u32) -> String {
    table
        .iter()
        .find(|(i, _)| *i == id)
        .map_or_else(|| id.to_string(), |(_, n)| n.clone())
}

struct Listing {
    opt: Options,
    users: Vec<(u32, String)>,
    groups: Vec<(u32, String)>,
    /// The time now, for the date column.
    now: i64,
    out: FdWriter,
}

struct Item {
    name: String,
    path: String,
    st: Stat,
}

impl Listing {
    fn show(&mut self, items: &[Item], total: bool) {
        if self.opt.long || self.opt.one_per_line || !sys::isatty(STDOUT) {
            if self.opt.long && total {
                let blocks: i64 = items.iter().map(|i| i.st.blocks).sum();
                self.out
                    .write_bytes(format!("total {}\n", blocks / 2).as_bytes());
            }
            let rows: Vec<Vec<String>> = items.iter().map(|i| self.long_fields(i)).collect();
            let columns = rows.first().map_or(0, Vec::len);
            let widths: Vec<usize> = (0..columns)
                .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
                .collect();
            for (item, row) in items.iter().zip(&rows) {
                let mut line = String::new();
                for (c, field) in row.iter().enumerate() {
                    // Names and dates are left-aligned; numbers right-aligned.
                    let left = self.opt.long && (c == columns - 3 || c == columns - 4);
                    if left {
                        line.push_str(&format!("{field:<w$} ", w = widths[c]));
                    } else {
                        line.push_str(&format!("{field:>w$} ", w = widths[c]));
                    }
                }
                line.push_str(&item.name);
                if self.opt.long && item.st.mode & S_IFMT == S_IFLNK {
                    let mut buf = [0u8; 4096];
                    if let Ok(n) = sys::readlink(&item.path, &mut buf) {
                        line.push_str(" -> ");
                        line.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
                line.push('\n');
                self.out.write_bytes(line.as_bytes());
            }
        } else {
            // Terminal: names across, wrapped at 80 columns.
            let width = items
                .iter()
                .map(|i| i.name.len() + if self.opt.inode { 9 } else { 0 })
                .max()
                .unwrap_or(0)
                + 2;
            let per_line = (80 / width).max(1);
            for (k, item) in items.iter().enumerate() {
                let cell = if self.opt.inode {
                    format!("{:>8} {}", item.st.ino, item.name)
                } else {
                    item.name.clone()
                };
                let last = k + 1 == items.len() || (k + 1) % per_line == 0;
                if last {
                    self.out.write_bytes(format!("{cell}\n").as_bytes());
                } else {
                    self.out.write_bytes(format!("{cell:<width$}").as_bytes());
                }
            }
        }
    }

    /// The columns before the name.
    fn long_fields(&self, item: &Item) -> Vec<String> {
        let st = &item.st;
        let mut f = Vec::new();
        if self.opt.inode {
            f.push(st.ino.to_string());
        }
        if self.opt.long {
            f.push(fs::mode_string(st.mode));
            f.push(st.nlink.to_string());
            f.push(lookup(&self.users, st.uid));
            f.push(lookup(&self.groups, st.gid));
            let kind = st.mode & S_IFMT;
            if kind == S_IFCHR || kind == S_IFBLK {
                // Linux's new_encode_dev split (`include/linux/kdev_t.h`).
                let major = (st.rdev >> 8) & 0xfff;
                let minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
                f.push(format!("{major}, {minor}"));
            } else {
                f.push(st.size.to_string());
            }
            f.push(ulib::time::ls_date(st.mtime, self.now));
        }
        f
    }
}

fn main() -> i32 {
    let mut opt = Options::default();
    let mut paths = Vec::new();
    for &a in &ulib::env::args()[1..] {
        if a.len() > 1 && a.starts_with('-') {
            for f in a[1..].chars() {
                match f {
                    'l' => opt.long = true,
                    'i' => opt.inode = true,
                    'a' => opt.all = true,
                    '1' => opt.one_per_line = true,
                    'd' => opt.directory = true,
                    _ => {
                        eprintln!("ls: invalid option -- '{f}'");
                        eprintln!("Usage: ls [-lia1d] [FILE]...");
                        return 2;
                    }
                }
            }
        } else {
            paths.push(a);
        }
    }
    if paths.is_empty() {
        paths.push(".");
    }
    let (users, groups) = if opt.long {
        (names("/etc/passwd"), names("/etc/group"))
    } else {
        (Vec::new(), Vec::new())
    };
    let now = sys::clock_gettime(sys::CLOCK_REALTIME).map_or(0, |t| t.sec);
    let mut ls = Listing {
        opt,
        users,
        groups,
        now,
        out: FdWriter::new(STDOUT),
    };
    let mut status = 0;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for &p in &paths {
        let st = if ls.opt.long {
            sys::lstat(p)
        } else {
            sys::stat(p)
        };
        match st {
            Ok(st) if fs::is_dir(st.mode) && !ls.opt.directory => dirs.push(String::from(p)),
            Ok(st) => files.push(Item {
                name: String::from(p),
                path: String::from(p),
                st,
            }),
            Err(e) => {
                eprintln!("ls: cannot access '{p}': {e}");
                status = 2;
            }
        }
    }
    files.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    dirs.sort();
    if !files.is_empty() {
        ls.show(&files, false);
    }
    let headers = paths.len() > 1;
    for (k, dir) in dirs.iter().enumerate() {
        if headers {
            let sep = if k > 0 || !files.is_empty() { "\n" } else { "" };
            ls.out.write_bytes(format!("{sep}{dir}:\n").as_bytes());
        }
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("ls: cannot open directory '{dir}': {e}");
                status = 2;
                continue;
            }
        };
        let mut items = Vec::new();
        for e in entries {
            if !ls.opt.all && e.name.starts_with('.') {
                continue;
            }
            let path = fs::join(dir, &e.name);
            let st = if ls.opt.long || ls.opt.inode {
                match sys::lstat(&path) {
                    Ok(st) => st,
                    Err(err) => {
                        eprintln!("ls: cannot access '{path}': {err}");
                        status = 1;
                        continue;
                    }
                }
            } else {
                Stat {
                    ino: e.ino,
                    ..Stat::default()
                }
            };
            items.push(Item {
                name: e.name,
                path,
                st,
            });
        }
        items.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        ls.show(&items, true);
    }
    if ls.out.flush().is_err() {
        status = 2;
    }
    status
}
