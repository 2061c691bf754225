//! `usertests` cases for files, directories, links, rename, unlink while
//! open and FIFOs. Each case works in a directory of its own under the
//! scratch directory (`$USERTESTS_DIR`, else `/tmp`) and removes it.
//! On a read-only root the file cases are skipped, and `usertests` says so.

use ulib::errno::Errno;
use ulib::fs::{S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG};
use ulib::prelude::*;
use ulib::sys::{self, Fd};

use super::{Case, Outcome, fork_run, wait};

pub const FILE_CASES: &[Case] = &[
    ("file_create_write_read", file_create_write_read),
    ("file_truncate", file_truncate),
    ("file_large_sparse", file_large_sparse),
    ("dir_many_files", dir_many_files),
    ("dir_mkdir_rmdir", dir_mkdir_rmdir),
    ("link_hard_and_symbolic", link_hard_and_symbolic),
    ("rename_replaces", rename_replaces),
    ("unlink_while_open", unlink_while_open),
    ("fifo_two_processes", fifo_two_processes),
];

/// The scratch directory.
pub fn scratch() -> String {
    ulib::env::var("USERTESTS_DIR").unwrap_or_else(|| String::from("/tmp"))
}

/// Whether the scratch directory takes new files (else: why not).
pub fn scratch_writable() -> Result<(), Errno> {
    let probe = format!("{}/usertests-probe-{}", scratch(), sys::getpid());
    sys::mkdir(&probe, 0o700)?;
    sys::rmdir(&probe)
}

/// A fresh directory for one case.
fn workdir(name: &str) -> Result<String, String> {
    let dir = format!("{}/ut-{}-{name}", scratch(), sys::getpid());
    let _ = remove_tree(&dir);
    sys::mkdir(&dir, 0o755).map_err(|e| format!("mkdir {dir}: {e:?}"))?;
    Ok(dir)
}

fn remove_tree(path: &str) -> Result<(), Errno> {
    let st = sys::lstat(path)?;
    if st.mode & S_IFMT != S_IFDIR {
        return sys::unlink(path);
    }
    for e in ulib::fs::read_dir(path)? {
        if e.name != "." && e.name != ".." {
            remove_tree(&format!("{path}/{}", e.name))?;
        }
    }
    sys::rmdir(path)
}

fn err<T>(what: &str, r: Result<T, Errno>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e:?}"))
}

fn write_file(path: &str, data: &[u8], flags: u32) -> Result<(), String> {
    let fd = err(
        &format!("open {path}"),
        sys::open(path, sys::O_WRONLY | sys::O_CREAT | flags, 0o644),
    )?;
    err("write", ulib::io::write_all(fd, data))?;
    err("close", sys::close(fd))
}

fn read_file(path: &str) -> Result<Vec<u8>, String> {
    let fd = err(&format!("open {path}"), sys::open(path, sys::O_RDONLY, 0))?;
    let data = err("read", ulib::io::read_to_end(fd));
    let _ = sys::close(fd);
    data
}

fn finish(dir: &str, r: Outcome) -> Outcome {
    let cleaned = remove_tree(dir).map_err(|e| format!("cleaning {dir}: {e:?}"));
    r.and(cleaned)
}

fn file_create_write_read() -> Outcome {
    let dir = workdir("create")?;
    let r = (|| {
        let f = format!("{dir}/a");
        write_file(&f, b"hello, ", sys::O_TRUNC)?;
        write_file(&f, b"world\n", sys::O_APPEND)?;
        check!(
            read_file(&f)? == b"hello, world\n",
            "contents {:?}",
            read_file(&f)?
        );
        let e = sys::open(&f, sys::O_WRONLY | sys::O_CREAT | O_EXCL, 0o644);
        check!(
            e == Err(Errno::EEXIST),
            "O_EXCL on an existing file gave {e:?}"
        );
        let st = err("stat", sys::stat(&f))?;
        check!(
            st.mode & S_IFMT == S_IFREG && st.size == 13,
            "stat: mode {:o} size {}",
            st.mode,
            st.size
        );
        let e = sys::open(&format!("{dir}/missing"), sys::O_RDONLY, 0);
        check!(e == Err(Errno::ENOENT), "opening a missing file gave {e:?}");
        let e = sys::open(&f, sys::O_RDONLY | sys::O_DIRECTORY, 0);
        check!(e == Err(Errno::ENOTDIR), "O_DIRECTORY on a file gave {e:?}");
        // pwrite leaves the offset alone.
        let fd = err("open rw", sys::open(&f, sys::O_RDWR, 0))?;
        err("pwrite", sys::pwrite(fd, b"J", 7))?;
        let mut buf = [0u8; 5];
        err("read", sys::read(fd, &mut buf))?;
        let _ = sys::close(fd);
        check!(&buf == b"hello", "read after pwrite: {buf:?}");
        check!(
            read_file(&f)? == b"hello, Jorld\n",
            "after pwrite: {:?}",
            read_file(&f)?
        );
        Ok(())
    })();
    finish(&dir, r)
}

const O_EXCL: u32 = 0o200;

fn file_truncate() -> Outcome {
    let dir = workdir("trunc")?;
    let r = (|| {
        let f = format!("{dir}/t");
        write_file(&f, &[b'x'; 3000], sys::O_TRUNC)?;
        err("truncate", sys::truncate(&f, 10))?;
        check!(read_file(&f)? == [b'x'; 10], "after truncate to 10");
        let fd = err("open", sys::open(&f, sys::O_RDWR, 0))?;
        err("ftruncate", sys::ftruncate(fd, 2000))?;
        let _ = sys::close(fd);
        let data = read_file(&f)?;
        check!(data.len() == 2000, "size {} after growing", data.len());
        check!(
            data[..10] == [b'x'; 10] && data[10..].iter().all(|&b| b == 0),
            "grown part is not zeros"
        );
        write_file(&f, b"new", sys::O_TRUNC)?;
        check!(read_file(&f)? == b"new", "O_TRUNC did not empty the file");
        Ok(())
    })();
    finish(&dir, r)
}

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 9)) as u8
}

/// 600 KiB: with 1 KiB blocks, past the 12 direct and 256 single-indirect
/// blocks into the double-indirect ones; a hole in the middle stays zeros.
fn file_large_sparse() -> Outcome {
    let dir = workdir("large")?;
    let r = (|| {
        let f = format!("{dir}/big");
        let fd = err("create", sys::open(&f, sys::O_RDWR | sys::O_CREAT, 0o644))?;
        let chunk: Vec<u8> = (0..64 * 1024).map(pattern).collect();
        let mut at = 0u64;
        for k in 0..10 {
            if k == 4 {
                at += chunk.len() as u64; // leave a hole
                continue;
            }
            let n = err("pwrite", sys::pwrite(fd, &chunk, at))?;
            check!(n == chunk.len(), "short pwrite {n}");
            at += chunk.len() as u64;
        }
        let st = err("fstat", sys::fstat(fd))?;
        let _ = sys::close(fd);
        check!(st.size as u64 == at, "size {} not {at}", st.size);
        check!(
            (st.blocks as u64) * 512 < at + 64 * 1024,
            "blocks {} : the hole takes space",
            st.blocks
        );
        let data = read_file(&f)?;
        for (k, piece) in data.chunks(chunk.len()).enumerate() {
            if k == 4 {
                check!(piece.iter().all(|&b| b == 0), "the hole reads as non-zero");
            } else {
                check!(piece == &chunk[..], "chunk {k} differs");
            }
        }
        err("truncate", sys::truncate(&f, 100_000))?;
        let data = read_file(&f)?;
        check!(
            data.len() == 100_000,
            "size {} after truncating",
            data.len()
        );
        check!(
            data[..65536] == chunk[..] && data[65536..] == chunk[..100_000 - 65536],
            "after truncating the large file"
        );
        Ok(())
    })();
    finish(&dir, r)
}

fn dir_many_files() -> Outcome {
    let dir = workdir("many")?;
    let r = (|| {
        const N: usize = 300;
        for i in 0..N {
            write_file(
                &format!("{dir}/file-with-a-longish-name-{i}"),
                format!("{i}").as_bytes(),
                0,
            )?;
        }
        let names = err("read_dir", ulib::fs::read_dir(&dir))?;
        let count = names
            .iter()
            .filter(|e| e.name.starts_with("file-with"))
            .count();
        check!(count == N, "{count} entries, not {N}");
        for i in (0..N).step_by(2) {
            err(
                "unlink",
                sys::unlink(&format!("{dir}/file-with-a-longish-name-{i}")),
            )?;
        }
        check!(
            read_file(&format!("{dir}/file-with-a-longish-name-7"))? == b"7",
            "file 7 lost"
        );
        let count = err("read_dir", ulib::fs::read_dir(&dir))?.len();
        check!(count == N / 2 + 2, "{count} entries after removing half");
        Ok(())
    })();
    finish(&dir, r)
}

fn dir_mkdir_rmdir() -> Outcome {
    let dir = workdir("dirs")?;
    let r = (|| {
        let links = err("stat", sys::stat(&dir))?.nlink;
        let sub = format!("{dir}/sub");
        err("mkdir", sys::mkdir(&sub, 0o755))?;
        check!(sys::mkdir(&sub, 0o755) == Err(Errno::EEXIST), "mkdir twice");
        check!(
            err("stat", sys::stat(&dir))?.nlink == links + 1,
            "parent link count did not grow"
        );
        let st = err("stat sub", sys::stat(&sub))?;
        check!(
            st.mode & S_IFMT == S_IFDIR && st.nlink == 2,
            "sub: mode {:o} nlink {}",
            st.mode,
            st.nlink
        );
        write_file(&format!("{sub}/f"), b"x", 0)?;
        check!(
            sys::rmdir(&sub) == Err(Errno::ENOTEMPTY),
            "rmdir of a non-empty directory"
        );
        check!(
            sys::unlink(&sub) == Err(Errno::EISDIR),
            "unlink of a directory"
        );
        check!(
            sys::rmdir(&format!("{sub}/f")) == Err(Errno::ENOTDIR),
            "rmdir of a file"
        );
        err("unlink f", sys::unlink(&format!("{sub}/f")))?;
        err("rmdir", sys::rmdir(&sub))?;
        check!(
            sys::stat(&sub).err() == Some(Errno::ENOENT),
            "sub still there"
        );
        check!(
            err("stat", sys::stat(&dir))?.nlink == links,
            "parent link count did not shrink"
        );
        Ok(())
    })();
    finish(&dir, r)
}

fn link_hard_and_symbolic() -> Outcome {
    let dir = workdir("links")?;
    let r = (|| {
        let a = format!("{dir}/a");
        let b = format!("{dir}/b");
        let s = format!("{dir}/s");
        write_file(&a, b"data", 0)?;
        err("link", sys::link(&a, &b))?;
        let (sa, sb) = (err("stat a", sys::stat(&a))?, err("stat b", sys::stat(&b))?);
        check!(
            sa.ino == sb.ino && sa.nlink == 2,
            "hard link: ino {} {} nlink {}",
            sa.ino,
            sb.ino,
            sa.nlink
        );
        err("unlink a", sys::unlink(&a))?;
        check!(
            err("stat b", sys::stat(&b))?.nlink == 1,
            "nlink after unlink"
        );
        check!(read_file(&b)? == b"data", "data through the other name");
        err("symlink", sys::symlink("b", &s))?;
        let mut buf = [0u8; 64];
        let n = err("readlink", sys::readlink(&s, &mut buf))?;
        check!(&buf[..n] == b"b", "readlink gave {:?}", &buf[..n]);
        check!(
            err("lstat", sys::lstat(&s))?.mode & S_IFMT == S_IFLNK,
            "lstat is not a link"
        );
        check!(read_file(&s)? == b"data", "reading through the symlink");
        let long: String = core::iter::repeat_n('x', 100).collect();
        let ls = format!("{dir}/long");
        err("long symlink", sys::symlink(&long, &ls))?;
        let mut buf = [0u8; 200];
        let n = err("readlink long", sys::readlink(&ls, &mut buf))?;
        check!(&buf[..n] == long.as_bytes(), "slow symlink target");
        let l1 = format!("{dir}/loop1");
        err("symlink loop", sys::symlink("loop2", &l1))?;
        err(
            "symlink loop",
            sys::symlink("loop1", &format!("{dir}/loop2")),
        )?;
        let e = sys::open(&l1, sys::O_RDONLY, 0);
        check!(e == Err(Errno::ELOOP), "open of a symlink loop gave {e:?}");
        Ok(())
    })();
    finish(&dir, r)
}

fn rename_replaces() -> Outcome {
    let dir = workdir("rename")?;
    let r = (|| {
        let (a, b) = (format!("{dir}/a"), format!("{dir}/b"));
        write_file(&a, b"new", 0)?;
        write_file(&b, b"old", 0)?;
        err("rename", sys::rename(&a, &b))?;
        check!(
            sys::stat(&a).err() == Some(Errno::ENOENT),
            "old name still there"
        );
        check!(read_file(&b)? == b"new", "target not replaced");
        let (d1, d2) = (format!("{dir}/d1"), format!("{dir}/d2"));
        err("mkdir", sys::mkdir(&d1, 0o755))?;
        err("mkdir", sys::mkdir(&d2, 0o755))?;
        err("rename into", sys::rename(&b, &format!("{d1}/b")))?;
        err("rename dir", sys::rename(&d1, &format!("{d2}/moved")))?;
        check!(
            read_file(&format!("{d2}/moved/b"))? == b"new",
            "file in moved directory"
        );
        check!(err("stat", sys::stat(&d2))?.nlink == 3, "d2 link count");
        let e = sys::rename(&d2, &format!("{d2}/moved/inside"));
        check!(
            e == Err(Errno::EINVAL),
            "moving a directory into itself gave {e:?}"
        );
        Ok(())
    })();
    finish(&dir, r)
}

fn unlink_while_open() -> Outcome {
    let dir = workdir("unlinkopen")?;
    let r = (|| {
        let f = format!("{dir}/f");
        write_file(&f, b"still here", 0)?;
        let fd: Fd = err("open", sys::open(&f, sys::O_RDWR, 0))?;
        err("unlink", sys::unlink(&f))?;
        check!(
            sys::stat(&f).err() == Some(Errno::ENOENT),
            "name still there"
        );
        let st = err("fstat", sys::fstat(fd))?;
        check!(st.nlink == 0, "nlink {} after unlink", st.nlink);
        err("write", sys::pwrite(fd, b"!", 10))?;
        err("lseek", sys::lseek(fd, 0, 0))?;
        let data = err("read", ulib::io::read_to_end(fd))?;
        check!(data == b"still here!", "data {:?}", data);
        err("close", sys::close(fd))?;
        Ok(())
    })();
    finish(&dir, r)
}

fn fifo_two_processes() -> Outcome {
    let dir = workdir("fifo")?;
    let r = (|| {
        let f = format!("{dir}/fifo");
        err("mknod", sys::mknod(&f, S_IFIFO | 0o600, 0))?;
        check!(
            err("stat", sys::stat(&f))?.mode & S_IFMT == S_IFIFO,
            "not a FIFO"
        );
        let path = f.clone();
        let pid = fork_run(move || {
            let Ok(fd) = sys::open(&path, sys::O_WRONLY, 0) else {
                return 1;
            };
            for i in 0..100 {
                if ulib::io::write_all(fd, format!("line {i}\n").as_bytes()).is_err() {
                    return 2;
                }
            }
            let _ = sys::close(fd);
            0
        })?;
        let fd = err("open reader", sys::open(&f, sys::O_RDONLY, 0))?;
        let data = err("read", ulib::io::read_to_end(fd))?;
        let _ = sys::close(fd);
        let status = wait(pid)?;
        check!(
            status == ulib::process::WaitStatus::Exited(0),
            "writer: {status:?}"
        );
        let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
        check!(
            data == expected.as_bytes(),
            "read {} bytes, not the writer's lines",
            data.len()
        );
        Ok(())
    })();
    finish(&dir, r)
}

/// `poll` and `select` on a pipe: nothing to read at first (a timeout of
/// 0 and of 50 ms both return 0), the write end is writable; after a
/// write the read end is readable; after the writer closes, POLLHUP.
pub fn poll_select_pipe() -> Outcome {
    const POLLIN: i16 = 1;
    const POLLOUT: i16 = 4;
    const POLLHUP: i16 = 0x10;
    let (r, w) = err("pipe", sys::pipe())?;
    let poll = |fds: &mut [[i16; 4]], timeout: i32| -> Result<usize, String> {
        // struct pollfd { int fd; short events; short revents; } as 4 shorts.
        // SAFETY: `fds` is an array of pollfd-sized records, writable.
        let ret = unsafe {
            sys::syscall(
                7,
                &[
                    fds.as_mut_ptr() as usize,
                    fds.len(),
                    timeout as isize as usize,
                ],
            )
        };
        err("poll", ret)
    };
    let pfd = |fd: Fd, events: i16| [fd as i16, (fd >> 16) as i16, events, 0];
    let mut fds = [pfd(r, POLLIN), pfd(w, POLLOUT)];
    check!(
        poll(&mut fds, 0)? == 1,
        "poll: only the write end should be ready"
    );
    check!(fds[0][3] == 0 && fds[1][3] == POLLOUT, "revents {:?}", fds);
    let mut only_r = [pfd(r, POLLIN)];
    check!(
        poll(&mut only_r, 50)? == 0,
        "poll with nothing to read did not time out"
    );
    err("write", sys::write(w, b"x"))?;
    check!(
        poll(&mut only_r, -1)? == 1 && only_r[0][3] & POLLIN != 0,
        "not readable after a write"
    );
    // select: the read end in the read set.
    let mut set = [0u64; 16];
    set[r as usize / 64] |= 1 << (r as usize % 64);
    let mut tv = [0i64, 0];
    // SAFETY: a 1024-bit fd_set and a timeval, both writable.
    let n = err("select", unsafe {
        sys::syscall(
            23,
            &[
                r as usize + 1,
                set.as_mut_ptr() as usize,
                0,
                0,
                tv.as_mut_ptr() as usize,
            ],
        )
    })?;
    check!(
        n == 1 && set[r as usize / 64] & (1 << (r as usize % 64)) != 0,
        "select: {n}"
    );
    let mut buf = [0u8; 1];
    err("read", sys::read(r, &mut buf))?;
    err("close", sys::close(w))?;
    let mut only_r = [pfd(r, POLLIN)];
    check!(
        poll(&mut only_r, -1)? == 1 && only_r[0][3] & POLLHUP != 0,
        "no POLLHUP: {:?}",
        only_r
    );
    let _ = sys::close(r);
    Ok(())
}
