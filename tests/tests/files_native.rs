//! The file utilities (`mkdir`, `rmdir`, `rm`, `ln`, `mv`, `cp`, `touch`,
//! `stat`, `df`, `sync`, `mkfifo`) on this host's Linux, next to the
//! host's coreutils: the same operations in two scratch trees leave the
//! same trees and exit statuses. (The same binaries run in the guest:
//! `tests/tests/files.rs`.)

use emulator::artifacts::USER_BIN_DIR;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ours(name: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(PathBuf::from(USER_BIN_DIR).join(name))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"))
}

fn theirs(name: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(name)
        .args(args)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("run host {name}: {e}"))
}

/// A tree as (relative path, kind, contents or link target, link count),
/// sorted.
fn tree(root: &Path) -> Vec<(String, char, Vec<u8>, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).expect("read_dir") {
            let e = e.expect("entry");
            let path = e.path();
            let meta = fs::symlink_metadata(&path).expect("lstat");
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let ft = meta.file_type();
            let (kind, data) = if ft.is_dir() {
                stack.push(path.clone());
                ('d', Vec::new())
            } else if ft.is_symlink() {
                (
                    'l',
                    fs::read_link(&path)
                        .unwrap()
                        .to_string_lossy()
                        .as_bytes()
                        .to_vec(),
                )
            } else if ft.is_fifo() {
                ('p', Vec::new())
            } else {
                ('f', fs::read(&path).expect("read"))
            };
            let nlink = if ft.is_dir() { 0 } else { meta.nlink() };
            out.push((rel, kind, data, nlink));
        }
    }
    out.sort();
    out
}

/// Runs the same commands with ours and the host's in two fresh trees
/// and compares exit statuses and the trees left behind.
fn same_trees(commands: &[(&str, &[&str])]) {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    for (dir, _) in [(a.path(), 0), (b.path(), 1)] {
        fs::write(dir.join("seed.txt"), b"seed contents\n").unwrap();
    }
    for (name, args) in commands {
        let o = ours(name, a.path(), args);
        let t = theirs(name, b.path(), args);
        assert_eq!(
            o.status.code(),
            t.status.code(),
            "{name} {args:?}: exit status differs; ours said {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert_eq!(
        tree(a.path()),
        tree(b.path()),
        "the trees differ after {commands:?}"
    );
}

#[test]
fn mkdir_rmdir_and_touch_match_coreutils() {
    same_trees(&[
        ("mkdir", &["d", "e"]),
        ("mkdir", &["d"]),
        ("mkdir", &["-p", "x/y/z"]),
        ("mkdir", &["-p", "x/y"]),
        ("rmdir", &["e"]),
        ("rmdir", &["x"]),
        ("rmdir", &["missing"]),
        ("touch", &["d/new", "seed.txt"]),
    ]);
}

#[test]
fn ln_mv_cp_rm_match_coreutils() {
    same_trees(&[
        ("ln", &["seed.txt", "hard"]),
        ("ln", &["-s", "seed.txt", "soft"]),
        ("ln", &["seed.txt", "hard"]),
        ("mkdir", &["dir"]),
        ("cp", &["seed.txt", "copy"]),
        ("cp", &["seed.txt", "dir"]),
        ("cp", &["missing", "x"]),
        ("mv", &["copy", "moved"]),
        ("mv", &["moved", "dir"]),
        ("mv", &["hard", "dir/seed.txt"]),
        ("mkdir", &["dir/sub"]),
        ("touch", &["dir/sub/f"]),
        ("rm", &["dir"]),
        ("rm", &["-r", "dir"]),
        ("rm", &["missing"]),
        ("rm", &["-f", "missing"]),
        ("mkfifo", &["pipe"]),
        ("sync", &[]),
    ]);
}

#[test]
fn stat_and_df_report_what_the_host_sees() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("f"), b"12345").unwrap();
    let out = ours("stat", dir.path(), &["f"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let meta = fs::metadata(dir.path().join("f")).unwrap();
    assert!(out.status.success());
    assert!(text.contains("Size: 5 "), "{text}");
    assert!(text.contains(&format!("Inode: {} ", meta.ino())), "{text}");
    assert!(text.contains("Links: 1"), "{text}");
    assert!(text.contains("regular file"), "{text}");

    let out = ours("df", dir.path(), &["."]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let host = theirs("df", dir.path(), &["-k", "--output=size", "."]);
    let host_size: u64 = String::from_utf8_lossy(&host.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("host df size");
    let our_size: u64 = text
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("our df size");
    assert_eq!(our_size, host_size, "ours:\n{text}");
}
