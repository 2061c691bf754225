//! `usertests`: checks the kernel's process, pipe, memory and scheduling
//! system calls against the behaviour Linux documents (and shows: the same
//! binary runs on a Linux host, where every case passes).
//!
//! Each case runs in its own child process, so a case that crashes or
//! hangs (killed after a deadline) fails alone. One line per case, then
//! `usertests: N passed, M failed`; the exit status is 0 only if all pass.
//! `usertests NAME...` runs only the named cases; `usertests -l` lists them.
//!
//! Programs it runs (`true`, `false`, `echo`) are looked up next to itself
//! (the directory of `argv[0]`, `/bin` if it has none). The bad-ELF cases
//! use files from the image (`/usr/lib/usertests/`) or, on a host, files
//! they write to `/tmp`.

#![no_std]
#![no_main]

use ulib::errno::Errno;
use ulib::prelude::*;
use ulib::process::{self, WaitStatus};
use ulib::sys::{self, Fd, nr};
use ulib::time;

ulib::main!(main);

type Outcome = Result<(), String>;
/// A case: its name (as printed and as given on the command line) and body.
type Case = (&'static str, fn() -> Outcome);

/// Fails the case with a message unless `cond` holds.
macro_rules! check {
    ($cond:expr, $($msg:tt)*) => {
        if !$cond {
            return Err(format!($($msg)*));
        }
    };
}

/// Unwraps a system call result or fails the case, naming the call.
macro_rules! try_sys {
    ($e:expr) => {
        $e.map_err(|e: Errno| format!("{}: {:?}", stringify!($e), e))?
    };
}

#[path = "../usertests/files.rs"]
mod files;

const CASES: &[Case] = &[
    ("fork_exit_status", fork_exit_status),
    ("fork_child_pids", fork_child_pids),
    ("fork_copy_on_write", fork_copy_on_write),
    ("wait_killed_by_signal", wait_killed_by_signal),
    ("wait_nohang", wait_nohang),
    ("wait_echild", wait_echild),
    ("exec_true_false", exec_true_false),
    ("exec_args_env", exec_args_env),
    ("exec_keeps_fds", exec_keeps_fds),
    ("exec_enoent_eacces", exec_enoent_eacces),
    ("exec_bad_elf_enoexec", exec_bad_elf_enoexec),
    ("zombie_until_waited", zombie_until_waited),
    ("orphan_reparented", orphan_reparented),
    ("many_processes", many_processes),
    ("deep_fork_chain", deep_fork_chain),
    ("pipe_large_transfer", pipe_large_transfer),
    ("pipe_eof", pipe_eof),
    ("pipe_epipe_errno", pipe_epipe_errno),
    ("pipe_epipe_signal", pipe_epipe_signal),
    ("efault_bad_pointers", efault_bad_pointers),
    ("ebadf_bad_descriptors", ebadf_bad_descriptors),
    ("segv_null_deref", segv_null_deref),
    ("brk_grow_shrink", brk_grow_shrink),
    ("mmap_anonymous", mmap_anonymous),
    ("mmap_edge_cases", mmap_edge_cases),
    ("munmap_then_fault", munmap_then_fault),
    ("mmap_readonly_fault", mmap_readonly_fault),
    ("preemption", preemption),
    ("sched_fifo_preempts_other", sched_fifo_preempts_other),
    ("poll_select_pipe", files::poll_select_pipe),
];

/// How long one case may take before it is killed.
const CASE_DEADLINE_NS: u64 = 60_000_000_000;

// Helpers.

/// Forks; the child runs `f` and exits with what it returns.
fn fork_run(f: impl FnOnce() -> i32) -> Result<i32, String> {
    match sys::fork() {
        Ok(0) => sys::exit(f()),
        Ok(pid) => Ok(pid),
        Err(e) => Err(format!("fork: {e:?}")),
    }
}

fn wait(pid: i32) -> Result<WaitStatus, String> {
    process::wait_pid(pid).map_err(|e| format!("wait4({pid}): {e:?}"))
}

/// Forks `f` and waits for it.
fn run_child(f: impl FnOnce() -> i32) -> Result<WaitStatus, String> {
    let pid = fork_run(f)?;
    wait(pid)
}

/// Where `true`, `false` and `echo` are: next to this program.
fn sibling(name: &str) -> String {
    let me = ulib::env::args().first().copied().unwrap_or("");
    match me.rfind('/') {
        Some(i) => format!("{}/{}", &me[..i], name),
        None => format!("/bin/{name}"),
    }
}

fn read_all(fd: Fd) -> Result<Vec<u8>, String> {
    ulib::io::read_to_end(fd).map_err(|e| format!("read: {e:?}"))
}

/// A raw system call with an arbitrary (possibly bad) pointer.
fn raw(n: usize, args: &[usize]) -> Result<usize, Errno> {
    // SAFETY: the calls used with bad pointers only make the kernel read
    // or write at them; the kernel must refuse (EFAULT) rather than touch
    // memory the process does not own.
    unsafe { sys::syscall(n, args) }
}

fn now_ns() -> u64 {
    time::monotonic_ns().unwrap_or(0)
}

// Processes.

fn fork_exit_status() -> Outcome {
    for code in [0, 1, 42, 255] {
        let status = run_child(|| code)?;
        check!(
            status == WaitStatus::Exited(code),
            "exit({code}) gave {status:?}"
        );
    }
    // exit() keeps the low 8 bits.
    let status = run_child(|| 256 + 7)?;
    check!(status == WaitStatus::Exited(7), "exit(263) gave {status:?}");
    Ok(())
}

fn fork_child_pids() -> Outcome {
    let parent = sys::getpid();
    let (r, w) = try_sys!(sys::pipe());
    let pid = fork_run(|| {
        let msg = format!("{} {}", sys::getpid(), sys::getppid());
        let _ = ulib::io::write_all(w, msg.as_bytes());
        0
    })?;
    try_sys!(sys::close(w));
    let text = String::from_utf8(read_all(r)?).unwrap_or_default();
    let status = wait(pid)?;
    check!(
        status == WaitStatus::Exited(0),
        "child ended with {status:?}"
    );
    check!(
        pid > 0 && pid != parent,
        "fork returned {pid} in the parent (pid {parent})"
    );
    let expected = format!("{pid} {parent}");
    check!(
        text == expected,
        "child saw 'getpid getppid' = '{text}', expected '{expected}'"
    );
    Ok(())
}

fn fork_copy_on_write() -> Outcome {
    let mut value = vec![7u8; 8192];
    let pid = fork_run(|| {
        if value.iter().any(|&b| b != 7) {
            return 1;
        }
        value.fill(9);
        if value.iter().all(|&b| b == 9) { 0 } else { 2 }
    })?;
    let status = wait(pid)?;
    check!(
        status == WaitStatus::Exited(0),
        "child saw the wrong memory: {status:?}"
    );
    check!(
        value.iter().all(|&b| b == 7),
        "the child's writes reached the parent"
    );
    Ok(())
}

fn wait_killed_by_signal() -> Outcome {
    let status = run_child(|| {
        let _ = sys::kill(sys::getpid(), sys::SIGKILL);
        0
    })?;
    check!(
        status == WaitStatus::Signaled(sys::SIGKILL),
        "kill(self, SIGKILL) gave {status:?}"
    );
    let pid = fork_run(|| {
        loop {
            let _ = time::sleep_ns(10_000_000);
        }
    })?;
    try_sys!(sys::kill(pid, sys::SIGTERM));
    let status = wait(pid)?;
    check!(
        status == WaitStatus::Signaled(sys::SIGTERM),
        "kill(child, SIGTERM) gave {status:?}"
    );
    Ok(())
}

fn wait_nohang() -> Outcome {
    let pid = fork_run(|| {
        let _ = time::sleep_ns(200_000_000);
        5
    })?;
    let (got, _) = try_sys!(sys::wait4(pid, sys::WNOHANG));
    check!(
        got == 0,
        "WNOHANG on a running child returned {got}, expected 0"
    );
    let status = wait(pid)?;
    check!(status == WaitStatus::Exited(5), "then wait gave {status:?}");
    Ok(())
}

fn wait_echild() -> Outcome {
    let r = sys::wait4(-1, 0);
    check!(
        r == Err(Errno::ECHILD),
        "wait4(-1) with no children gave {r:?}"
    );
    let r = sys::wait4(1, 0);
    check!(r == Err(Errno::ECHILD), "wait4(1) (not a child) gave {r:?}");
    Ok(())
}

fn exec_true_false() -> Outcome {
    for (name, code) in [("true", 0), ("false", 1)] {
        let path = sibling(name);
        let pid = process::spawn(&path, &[name]).map_err(|e| format!("spawn {path}: {e:?}"))?;
        let status = wait(pid)?;
        check!(status == WaitStatus::Exited(code), "{path} gave {status:?}");
    }
    Ok(())
}

/// The child half of `exec_args_env`: checks its own argv and environment.
fn check_args_env() -> i32 {
    let args = ulib::env::args();
    let expected = ["usertests", "--check-args-env", "two words", "", "last"];
    if args != expected {
        return 3;
    }
    if ulib::env::var("USERTESTS_VAR").as_deref() != Some("value=with=equals") {
        return 4;
    }
    if ulib::env::vars().len() != 2 {
        return 5;
    }
    0
}

fn exec_args_env() -> Outcome {
    let me = sibling("usertests");
    let me = me.as_str();
    let argv = ["usertests", "--check-args-env", "two words", "", "last"];
    let envp = ["USERTESTS_VAR=value=with=equals", "OTHER="];
    let pid = fork_run(|| {
        let e = process::exec(me, &argv, &envp);
        eprintln!("usertests: exec {me}: {e}");
        100
    })?;
    let status = wait(pid)?;
    let why = match status {
        WaitStatus::Exited(3) => "argv differed",
        WaitStatus::Exited(4) => "the environment variable differed",
        WaitStatus::Exited(5) => "the environment had the wrong size",
        WaitStatus::Exited(100) => "exec failed",
        _ => "",
    };
    check!(
        status == WaitStatus::Exited(0),
        "child gave {status:?} {why}"
    );
    Ok(())
}

fn exec_keeps_fds() -> Outcome {
    let (r, w) = try_sys!(sys::pipe());
    let echo = sibling("echo");
    let pid = fork_run(|| {
        let _ = sys::close(r);
        if sys::dup2(w, 1).is_err() {
            return 100;
        }
        let _ = sys::close(w);
        let e = process::exec(&echo, &["echo", "through", "the pipe"], &[] as &[&str]);
        eprintln!("usertests: exec {echo}: {e}");
        101
    })?;
    try_sys!(sys::close(w));
    let out = read_all(r)?;
    let _ = sys::close(r);
    let status = wait(pid)?;
    check!(status == WaitStatus::Exited(0), "echo gave {status:?}");
    check!(
        out == b"through the pipe\n",
        "read {:?}",
        String::from_utf8_lossy(&out)
    );
    Ok(())
}

fn exec_enoent_eacces() -> Outcome {
    let e = process::exec("/nonexistent/program", &["x"], &[] as &[&str]);
    check!(e == Errno::ENOENT, "exec of a missing file gave {e:?}");
    let e = process::exec("/", &["x"], &[] as &[&str]);
    check!(e == Errno::EACCES, "exec of a directory gave {e:?}");
    Ok(())
}

/// Files that are not valid executables: from the image, or written now.
fn bad_elf_files() -> Result<Vec<String>, String> {
    const IN_IMAGE: [&str; 2] = [
        "/usr/lib/usertests/not-elf",
        "/usr/lib/usertests/truncated-elf",
    ];
    if IN_IMAGE.iter().all(|p| sys::stat(p).is_ok()) {
        return Ok(IN_IMAGE.iter().map(|p| String::from(*p)).collect());
    }
    let pid = sys::getpid();
    let contents: [&[u8]; 2] = [b"this is not an executable\n", b"\x7fELF\x02\x01\x01"];
    let mut paths = Vec::new();
    for (k, body) in contents.iter().enumerate() {
        let path = format!("/tmp/usertests-{pid}-bad{k}");
        let flags = sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC;
        let fd = sys::open(&path, flags, 0o755).map_err(|e| format!("create {path}: {e:?}"))?;
        ulib::io::write_all(fd, body).map_err(|e| format!("write {path}: {e:?}"))?;
        try_sys!(sys::close(fd));
        paths.push(path);
    }
    Ok(paths)
}

fn exec_bad_elf_enoexec() -> Outcome {
    let files = bad_elf_files()?;
    let mut result = Ok(());
    for path in &files {
        let e = process::exec(path, &["bad"], &[] as &[&str]);
        if e != Errno::ENOEXEC && result.is_ok() {
            result = Err(format!("exec of {path} gave {e:?}, expected ENOEXEC"));
        }
    }
    for path in files.iter().filter(|p| p.starts_with("/tmp/")) {
        let _ = sys::with_cstr(path.as_bytes(), |p| {
            // SAFETY: `p` is a NUL-terminated path (unlink, nr 87).
            unsafe { sys::syscall(87, &[p as usize]) }
        });
    }
    result
}

fn zombie_until_waited() -> Outcome {
    let pid = fork_run(|| 3)?;
    // Let it exit; it stays a zombie until waited for.
    let _ = time::sleep_ns(50_000_000);
    let alive = sys::kill(pid, 0);
    check!(
        alive.is_ok(),
        "kill(zombie, 0) gave {alive:?}, expected success"
    );
    let status = wait(pid)?;
    check!(status == WaitStatus::Exited(3), "wait gave {status:?}");
    let gone = sys::kill(pid, 0);
    check!(
        gone == Err(Errno::ESRCH),
        "kill(reaped, 0) gave {gone:?}, expected ESRCH"
    );
    let again = sys::wait4(pid, 0);
    check!(again == Err(Errno::ECHILD), "a second wait gave {again:?}");
    Ok(())
}

fn orphan_reparented() -> Outcome {
    let (r, w) = try_sys!(sys::pipe());
    let child = fork_run(|| {
        let _ = sys::close(r);
        let me = sys::getpid();
        match sys::fork() {
            Ok(0) => {
                // The grandchild: wait (bounded) for its parent to go.
                let start = now_ns();
                while sys::getppid() == me && now_ns() - start < 10_000_000_000 {
                    let _ = time::sleep_ns(5_000_000);
                }
                let msg = format!("{}", sys::getppid());
                let _ = ulib::io::write_all(w, msg.as_bytes());
                0
            }
            Ok(_) => 0,
            Err(_) => 1,
        }
    })?;
    try_sys!(sys::close(w));
    let status = wait(child)?;
    check!(status == WaitStatus::Exited(0), "the child gave {status:?}");
    let text = String::from_utf8(read_all(r)?).unwrap_or_default();
    let ppid: i32 = text
        .parse()
        .map_err(|_| format!("the grandchild said '{text}'"))?;
    check!(
        ppid != child,
        "the orphan's parent is still its dead parent {child}"
    );
    check!(ppid > 0, "the orphan's parent is {ppid}");
    Ok(())
}

fn many_processes() -> Outcome {
    const N: i32 = 64;
    let mut pids = Vec::new();
    for i in 0..N {
        pids.push(fork_run(|| i + 1)?);
    }
    for (i, &pid) in pids.iter().enumerate().rev() {
        let status = wait(pid)?;
        check!(
            status == WaitStatus::Exited(i as i32 + 1),
            "child {i} gave {status:?}"
        );
    }
    // Twice more, reaped in any order.
    for _ in 0..2 {
        for i in 0..N {
            fork_run(|| i)?;
        }
        let mut sum = 0;
        for _ in 0..N {
            let (_, raw) = try_sys!(sys::wait4(-1, 0));
            sum += WaitStatus::from_raw(raw).code();
        }
        check!(sum == N * (N - 1) / 2, "exit statuses summed to {sum}");
    }
    Ok(())
}

/// A chain of processes, each the child of the last: the innermost exits
/// 0 and each parent exits with its child's status plus one.
fn chain(depth: i32) -> i32 {
    if depth == 0 {
        return 0;
    }
    match sys::fork() {
        Ok(0) => sys::exit(chain(depth - 1)),
        Ok(pid) => match process::wait_pid(pid) {
            Ok(WaitStatus::Exited(c)) => c + 1,
            _ => 200,
        },
        Err(_) => 201,
    }
}

fn deep_fork_chain() -> Outcome {
    const DEPTH: i32 = 40;
    let got = chain(DEPTH);
    check!(got == DEPTH, "a chain of {DEPTH} processes gave {got}");
    Ok(())
}

// Pipes.

fn pattern(i: usize) -> u8 {
    (i * 7 + i / 251) as u8
}

fn pipe_large_transfer() -> Outcome {
    const TOTAL: usize = 512 * 1024;
    let (r, w) = try_sys!(sys::pipe());
    let pid = fork_run(|| {
        let _ = sys::close(r);
        // Odd-sized writes so reads see partial chunks.
        let mut sent = 0;
        let mut chunk = [0u8; 3001];
        while sent < TOTAL {
            let n = chunk.len().min(TOTAL - sent);
            for (k, b) in chunk[..n].iter_mut().enumerate() {
                *b = pattern(sent + k);
            }
            if ulib::io::write_all(w, &chunk[..n]).is_err() {
                return 1;
            }
            sent += n;
        }
        0
    })?;
    try_sys!(sys::close(w));
    let mut got = 0;
    let mut buf = [0u8; 1000];
    loop {
        let n = try_sys!(ulib::io::read(r, &mut buf));
        if n == 0 {
            break;
        }
        for (k, &b) in buf[..n].iter().enumerate() {
            check!(
                b == pattern(got + k),
                "byte {} is {b:#x}, expected {:#x}",
                got + k,
                pattern(got + k)
            );
        }
        got += n;
    }
    let _ = sys::close(r);
    let status = wait(pid)?;
    check!(
        status == WaitStatus::Exited(0),
        "the writer gave {status:?}"
    );
    check!(got == TOTAL, "read {got} bytes, expected {TOTAL}");
    Ok(())
}

fn pipe_eof() -> Outcome {
    let (r, w) = try_sys!(sys::pipe());
    try_sys!(sys::close(w));
    let mut buf = [0u8; 16];
    let n = try_sys!(sys::read(r, &mut buf));
    check!(
        n == 0,
        "read from a pipe without writers gave {n}, expected 0 (EOF)"
    );
    try_sys!(sys::close(r));
    // EOF when the last writer, a child, exits after writing.
    let (r, w) = try_sys!(sys::pipe());
    let pid = fork_run(|| {
        let _ = sys::write(w, b"bye");
        0
    })?;
    try_sys!(sys::close(w));
    let data = read_all(r)?;
    check!(data == b"bye", "read {:?}", String::from_utf8_lossy(&data));
    wait(pid)?;
    Ok(())
}

fn pipe_epipe_errno() -> Outcome {
    let status = run_child(|| {
        if sys::signal_disposition(sys::SIGPIPE, sys::SIG_IGN).is_err() {
            return 10;
        }
        let Ok((r, w)) = sys::pipe() else { return 11 };
        let _ = sys::close(r);
        match sys::write(w, b"x") {
            Err(Errno::EPIPE) => 0,
            Err(_) => 12,
            Ok(_) => 13,
        }
    })?;
    check!(
        status == WaitStatus::Exited(0),
        "write to a pipe without readers (SIGPIPE ignored) gave {status:?} (10: sigaction failed, 12: other error, 13: success)"
    );
    Ok(())
}

fn pipe_epipe_signal() -> Outcome {
    let status = run_child(|| {
        let Ok((r, w)) = sys::pipe() else { return 11 };
        let _ = sys::close(r);
        let _ = sys::write(w, b"x");
        12
    })?;
    check!(
        status == WaitStatus::Signaled(sys::SIGPIPE),
        "the writer gave {status:?}, expected SIGPIPE"
    );
    Ok(())
}

// Bad arguments.

/// An address below the first mapping, one past user space's top half,
/// and one in the kernel's direct map: none is the process's.
const BAD_POINTERS: [usize; 3] = [
    0x10,
    0x0000_7fff_ffff_f000 + 0x1000 * 0x10,
    0xffff_8880_0000_0000,
];

fn efault_bad_pointers() -> Outcome {
    for &bad in &BAD_POINTERS {
        // A fresh pipe each time: whether a failed read consumed the data
        // is not what this case is about.
        let (r, w) = try_sys!(sys::pipe());
        try_sys!(sys::write(w, b"data"));
        let e = raw(nr::READ, &[r as usize, bad, 4]);
        check!(e == Err(Errno::EFAULT), "read into {bad:#x} gave {e:?}");
        let e = raw(nr::WRITE, &[w as usize, bad, 4]);
        check!(e == Err(Errno::EFAULT), "write from {bad:#x} gave {e:?}");
        let e = raw(nr::OPEN, &[bad, 0, 0]);
        check!(
            e == Err(Errno::EFAULT),
            "open of a path at {bad:#x} gave {e:?}"
        );
        let e = raw(nr::STAT, &[c"/".as_ptr() as usize, bad]);
        check!(e == Err(Errno::EFAULT), "stat into {bad:#x} gave {e:?}");
        let e = raw(nr::PIPE, &[bad]);
        check!(e == Err(Errno::EFAULT), "pipe into {bad:#x} gave {e:?}");
        let e = raw(nr::EXECVE, &[bad, 0, 0]);
        check!(
            e == Err(Errno::EFAULT),
            "execve of a path at {bad:#x} gave {e:?}"
        );
        let _ = sys::close(r);
        let _ = sys::close(w);
    }
    // A child waited for with a bad status pointer.
    let pid = fork_run(|| 0)?;
    let e = raw(nr::WAIT4, &[pid as usize, BAD_POINTERS[2], 0, 0]);
    check!(
        e == Err(Errno::EFAULT),
        "wait4 into a bad status pointer gave {e:?}"
    );
    let _ = sys::wait4(pid, 0);
    Ok(())
}

fn ebadf_bad_descriptors() -> Outcome {
    let mut buf = [0u8; 4];
    for fd in [-1, 999, 1 << 20] {
        let e = sys::read(fd, &mut buf);
        check!(e == Err(Errno::EBADF), "read({fd}) gave {e:?}");
        let e = sys::write(fd, b"x");
        check!(e == Err(Errno::EBADF), "write({fd}) gave {e:?}");
        let e = sys::close(fd);
        check!(e == Err(Errno::EBADF), "close({fd}) gave {e:?}");
        let e = sys::fstat(fd).map(drop);
        check!(e == Err(Errno::EBADF), "fstat({fd}) gave {e:?}");
        let e = sys::dup(fd);
        check!(e == Err(Errno::EBADF), "dup({fd}) gave {e:?}");
    }
    let e = sys::dup2(999, 10);
    check!(e == Err(Errno::EBADF), "dup2(999, 10) gave {e:?}");
    let (r, w) = try_sys!(sys::pipe());
    let e = sys::write(r, b"x");
    check!(
        e == Err(Errno::EBADF),
        "write to a pipe's read end gave {e:?}"
    );
    let e = sys::read(w, &mut buf);
    check!(
        e == Err(Errno::EBADF),
        "read from a pipe's write end gave {e:?}"
    );
    try_sys!(sys::close(w));
    let e = sys::close(w);
    check!(e == Err(Errno::EBADF), "closing twice gave {e:?}");
    try_sys!(sys::close(r));
    Ok(())
}

fn segv_null_deref() -> Outcome {
    let status = run_child(|| {
        // SAFETY: deliberately faults: the case checks the kernel turns a
        // user page fault into SIGSEGV.
        unsafe { core::ptr::read_volatile(core::ptr::null::<u64>()) as i32 }
    })?;
    check!(
        status == WaitStatus::Signaled(sys::SIGSEGV),
        "reading address 0 gave {status:?}"
    );
    let status = run_child(|| {
        // SAFETY: as above, a write to kernel memory.
        unsafe { core::ptr::write_volatile(BAD_POINTERS[2] as *mut u64, 1) };
        0
    })?;
    check!(
        status == WaitStatus::Signaled(sys::SIGSEGV),
        "writing kernel memory gave {status:?}"
    );
    Ok(())
}

// Memory.

const PAGE: usize = 4096;

fn brk_grow_shrink() -> Outcome {
    // SAFETY (all brk calls): the break is moved above the allocator's
    // memory and back to exactly where it was.
    let start = unsafe { sys::brk(0) };
    check!(start != 0 && start % 8 == 0, "brk(0) gave {start:#x}");
    let size = 256 * 1024;
    let grown = unsafe { sys::brk(start + size) };
    check!(
        grown == start + size,
        "growing the break to {:#x} gave {grown:#x}",
        start + size
    );
    let mem = start.next_multiple_of(PAGE);
    for page in (mem..start + size).step_by(PAGE) {
        // SAFETY: the page is below the new break.
        let v = unsafe { core::ptr::read_volatile(page as *const u64) };
        check!(v == 0, "new heap memory at {page:#x} is not zero");
        // SAFETY: as above.
        unsafe { core::ptr::write_volatile(page as *mut u64, 0x5555) };
    }
    let shrunk = unsafe { sys::brk(start) };
    check!(shrunk == start, "shrinking back gave {shrunk:#x}");
    let again = unsafe { sys::brk(start + size) };
    check!(again == start + size, "growing again gave {again:#x}");
    // SAFETY: below the break again.
    let v = unsafe { core::ptr::read_volatile((mem + PAGE) as *const u64) };
    check!(v == 0, "memory given back and taken again is not zero");
    let _ = unsafe { sys::brk(start) };
    let huge = unsafe { sys::brk(start + (1 << 47)) };
    check!(
        huge == start,
        "an impossible break gave {huge:#x}, expected the old {start:#x}"
    );
    let low = unsafe { sys::brk(PAGE) };
    check!(
        low == start,
        "a break below the program gave {low:#x}, expected the old {start:#x}"
    );
    Ok(())
}

fn map_anon(len: usize, prot: usize) -> Result<usize, Errno> {
    // SAFETY: a new anonymous private mapping replaces nothing.
    unsafe { sys::mmap(0, len, prot, sys::MAP_PRIVATE | sys::MAP_ANONYMOUS, -1, 0) }
}

fn mmap_anonymous() -> Outcome {
    let len = 64 * PAGE;
    let addr = try_sys!(map_anon(len, sys::PROT_READ | sys::PROT_WRITE));
    check!(addr % PAGE == 0, "mmap gave the unaligned {addr:#x}");
    for page in (addr..addr + len).step_by(PAGE) {
        // SAFETY: inside the mapping.
        let v = unsafe { core::ptr::read_volatile((page + 8) as *const u64) };
        check!(v == 0, "anonymous memory at {page:#x} is not zero");
        // SAFETY: inside the writable mapping.
        unsafe { core::ptr::write_volatile(page as *mut u64, page as u64) };
    }
    for page in (addr..addr + len).step_by(PAGE) {
        // SAFETY: inside the mapping.
        let v = unsafe { core::ptr::read_volatile(page as *const u64) };
        check!(
            v == page as u64,
            "memory at {page:#x} did not keep its value"
        );
    }
    let second = try_sys!(map_anon(PAGE, sys::PROT_READ | sys::PROT_WRITE));
    check!(
        second + PAGE <= addr || second >= addr + len,
        "a second mapping {second:#x} overlaps the first"
    );
    // SAFETY: nothing uses these mappings any more.
    try_sys!(unsafe { sys::munmap(addr, len) });
    // SAFETY: as above.
    try_sys!(unsafe { sys::munmap(second, PAGE) });
    // A big mapping is only paid for where it is touched.
    let big = 64 << 20;
    let addr = try_sys!(map_anon(big, sys::PROT_READ | sys::PROT_WRITE));
    // SAFETY: the first and last pages of the mapping.
    unsafe {
        core::ptr::write_volatile(addr as *mut u8, 1);
        core::ptr::write_volatile((addr + big - 1) as *mut u8, 2);
    }
    // SAFETY: nothing uses the mapping any more.
    try_sys!(unsafe { sys::munmap(addr, big) });
    Ok(())
}

fn mmap_edge_cases() -> Outcome {
    let rw = sys::PROT_READ | sys::PROT_WRITE;
    let anon = sys::MAP_PRIVATE | sys::MAP_ANONYMOUS;
    let e = map_anon(0, rw);
    check!(e == Err(Errno::EINVAL), "mmap of length 0 gave {e:?}");
    // SAFETY: the calls below fail or map only where nothing is.
    let e = unsafe { sys::mmap(0x1000_0001, PAGE, rw, anon | sys::MAP_FIXED, -1, 0) };
    check!(
        e == Err(Errno::EINVAL),
        "MAP_FIXED at an unaligned address gave {e:?}"
    );
    // SAFETY: as above.
    let e = unsafe { sys::mmap(0, PAGE, rw, sys::MAP_ANONYMOUS, -1, 0) };
    check!(
        e == Err(Errno::EINVAL),
        "mmap without MAP_PRIVATE or MAP_SHARED gave {e:?}"
    );
    // SAFETY: as above.
    let e = unsafe { sys::mmap(0, PAGE, rw, sys::MAP_PRIVATE, 999, 0) };
    check!(
        e == Err(Errno::EBADF),
        "a file mapping of a bad descriptor gave {e:?}"
    );
    let e = map_anon(1 << 47, rw);
    check!(
        e == Err(Errno::ENOMEM),
        "a mapping as big as user space gave {e:?}"
    );
    // SAFETY: an unaligned munmap fails and unmaps nothing.
    let e = unsafe { sys::munmap(0x1000_0001, PAGE) };
    check!(
        e == Err(Errno::EINVAL),
        "munmap of an unaligned address gave {e:?}"
    );
    // MAP_FIXED replaces what was there with fresh zeroed memory.
    let addr = try_sys!(map_anon(4 * PAGE, rw));
    // SAFETY: inside the mapping.
    unsafe { core::ptr::write_volatile((addr + PAGE) as *mut u64, 77) };
    // SAFETY: replaces a page of our own mapping, which nothing else uses.
    let fixed = try_sys!(unsafe { sys::mmap(addr + PAGE, PAGE, rw, anon | sys::MAP_FIXED, -1, 0) });
    check!(
        fixed == addr + PAGE,
        "MAP_FIXED gave {fixed:#x}, expected {:#x}",
        addr + PAGE
    );
    // SAFETY: inside the (new) mapping.
    let v = unsafe { core::ptr::read_volatile(fixed as *const u64) };
    check!(v == 0, "memory mapped over with MAP_FIXED kept {v}");
    // Unmapping a hole in the middle, and a range partly unmapped, work.
    // SAFETY: our own mapping, no longer used.
    try_sys!(unsafe { sys::munmap(addr + PAGE, PAGE) });
    // SAFETY: as above.
    try_sys!(unsafe { sys::munmap(addr, 4 * PAGE) });
    Ok(())
}

fn munmap_then_fault() -> Outcome {
    let status = run_child(|| {
        let Ok(addr) = map_anon(PAGE, sys::PROT_READ | sys::PROT_WRITE) else {
            return 10;
        };
        // SAFETY: the mapping is ours; after munmap the read must fault.
        unsafe {
            core::ptr::write_volatile(addr as *mut u8, 1);
            if sys::munmap(addr, PAGE).is_err() {
                return 11;
            }
            core::ptr::read_volatile(addr as *const u8) as i32
        }
    })?;
    check!(
        status == WaitStatus::Signaled(sys::SIGSEGV),
        "reading unmapped memory gave {status:?}"
    );
    Ok(())
}

fn mmap_readonly_fault() -> Outcome {
    let status = run_child(|| {
        let Ok(addr) = map_anon(PAGE, sys::PROT_READ) else {
            return 10;
        };
        // SAFETY: reading the read-only mapping is fine; the write must fault.
        unsafe {
            if core::ptr::read_volatile(addr as *const u8) != 0 {
                return 11;
            }
            core::ptr::write_volatile(addr as *mut u8, 1);
        }
        12
    })?;
    check!(
        status == WaitStatus::Signaled(sys::SIGSEGV),
        "writing read-only memory gave {status:?}"
    );
    Ok(())
}

// Scheduling.

/// Pure computation the optimizer cannot remove.
fn spin(iterations: u64) -> u64 {
    let mut x = 0x1234_5678u64;
    for i in 0..iterations {
        x = core::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
    }
    x
}

/// Iterations of [`spin`] that take about `ns` nanoseconds.
fn calibrate(ns: u64) -> u64 {
    let mut n = 1000;
    loop {
        let t0 = now_ns();
        spin(n);
        let dt = now_ns().saturating_sub(t0);
        if dt >= 2_000_000 || n >= 1 << 40 {
            return (n as u128 * ns as u128 / dt.max(1) as u128).max(1) as u64;
        }
        n *= 2;
    }
}

/// Spins `count` slices of `per_slice` iterations, writing `mark` after
/// each: the marks' order shows who ran when.
fn spin_marking(w: Fd, mark: u8, count: usize, per_slice: u64) {
    for _ in 0..count {
        spin(per_slice);
        let _ = sys::write(w, &[mark]);
    }
}

/// Number of changes from one letter to another.
fn switches(marks: &[u8]) -> usize {
    marks.windows(2).filter(|p| p[0] != p[1]).count()
}

/// Reads marks one at a time until `done` says the story is complete
/// (then true) or the writers are gone (false).
fn read_marks(
    r: Fd,
    marks: &mut Vec<u8>,
    mut done: impl FnMut(&[u8]) -> bool,
) -> Result<bool, String> {
    let mut byte = [0u8; 1];
    loop {
        if done(marks) {
            return Ok(true);
        }
        let n = try_sys!(ulib::io::read(r, &mut byte));
        if n == 0 {
            return Ok(false);
        }
        marks.push(byte[0]);
    }
}

/// Stops and reaps the children.
fn kill_all(pids: &[i32]) {
    for &pid in pids {
        let _ = sys::kill(pid, sys::SIGKILL);
        let _ = sys::wait4(pid, 0);
    }
}

/// Two CPU-bound processes on one CPU both make progress: their marks
/// interleave. Each would spin for about 3 s; they are stopped once the
/// marks show four changes of turn.
fn preemption() -> Outcome {
    // One CPU, as the guest has: the two must share it.
    let _ = sys::pin_to_cpu0(0);
    let per_slice = calibrate(1_000_000);
    let (r, w) = try_sys!(sys::pipe());
    let mut pids = Vec::new();
    for mark in [b'A', b'B'] {
        pids.push(fork_run(|| {
            let _ = sys::close(r);
            spin_marking(w, mark, 3000, per_slice);
            0
        })?);
    }
    try_sys!(sys::close(w));
    let mut marks = Vec::new();
    let complete = read_marks(r, &mut marks, |m| switches(m) >= 4);
    let _ = sys::close(r);
    kill_all(&pids);
    let shown = String::from_utf8_lossy(&marks).into_owned();
    check!(
        complete?,
        "the CPU-bound processes did not take turns: {shown}"
    );
    Ok(())
}

/// A SCHED_OTHER process spins; a SCHED_FIFO one sleeps 100 ms, then
/// spins about 60 ms: when it wakes it must take the CPU at once and keep
/// it until it is done (no SCHED_OTHER marks among its own), and the
/// other runs again afterwards.
fn sched_fifo_preempts_other() -> Outcome {
    let _ = sys::pin_to_cpu0(0);
    let per_slice = calibrate(2_000_000);
    let (r, w) = try_sys!(sys::pipe());
    let other = fork_run(|| {
        let _ = sys::close(r);
        spin_marking(w, b'o', 5000, per_slice);
        0
    })?;
    let fifo = fork_run(|| {
        let _ = sys::close(r);
        if sys::sched_setscheduler(0, sys::SCHED_FIFO, 10).is_err() {
            let _ = sys::write(w, b"E");
            return 1;
        }
        if sys::sched_getscheduler(0) != Ok(sys::SCHED_FIFO) {
            let _ = sys::write(w, b"G");
            return 1;
        }
        let _ = time::sleep_ns(100_000_000);
        spin_marking(w, b'F', 30, per_slice);
        let _ = sys::write(w, b"D");
        0
    })?;
    try_sys!(sys::close(w));
    let mut marks = Vec::new();
    // Until the FIFO process is done and the other has run 3 times since.
    let complete = read_marks(r, &mut marks, |m| {
        m.contains(&b'E')
            || m.contains(&b'G')
            || m.iter()
                .position(|&c| c == b'D')
                .is_some_and(|d| m[d..].iter().filter(|&&c| c == b'o').count() >= 3)
    });
    let _ = sys::close(r);
    kill_all(&[other, fifo]);
    let shown = String::from_utf8_lossy(&marks).into_owned();
    check!(
        !marks.contains(&b'E'),
        "sched_setscheduler(SCHED_FIFO) failed"
    );
    check!(
        !marks.contains(&b'G'),
        "sched_getscheduler did not report SCHED_FIFO"
    );
    check!(complete?, "the marks stopped early: {shown}");
    let first = marks.iter().position(|&m| m == b'F');
    let done = marks.iter().position(|&m| m == b'D');
    let (Some(first), Some(done)) = (first, done) else {
        return Err(format!("no marks from the FIFO process: {shown}"));
    };
    check!(
        marks[..first].contains(&b'o'),
        "the SCHED_OTHER process did not run before: {shown}"
    );
    check!(
        marks[first..done].iter().all(|&m| m == b'F') && done - first == 30,
        "the SCHED_OTHER process ran while the SCHED_FIFO one was runnable: {shown}"
    );
    Ok(())
}

// The runner.

/// Runs one case in a child, killing it after the deadline.
fn run_case(name: &str, case: fn() -> Outcome) -> bool {
    let pid = match sys::fork() {
        Ok(0) => match case() {
            Ok(()) => {
                println!("{name}: ok");
                sys::exit(0)
            }
            Err(msg) => {
                println!("{name}: FAILED: {msg}");
                sys::exit(1)
            }
        },
        Ok(pid) => pid,
        Err(e) => {
            println!("{name}: FAILED: fork: {e:?}");
            return false;
        }
    };
    let start = now_ns();
    loop {
        match sys::wait4(pid, sys::WNOHANG) {
            Ok((0, _)) => {
                if now_ns().saturating_sub(start) > CASE_DEADLINE_NS {
                    let _ = sys::kill(pid, sys::SIGKILL);
                    let _ = sys::wait4(pid, 0);
                    println!(
                        "{name}: FAILED: still running after {} s",
                        CASE_DEADLINE_NS / 1_000_000_000
                    );
                    return false;
                }
                let _ = time::sleep_ns(2_000_000);
            }
            Ok((_, raw)) => {
                return match WaitStatus::from_raw(raw) {
                    WaitStatus::Exited(0) => true,
                    WaitStatus::Exited(1) => false,
                    other => {
                        println!("{name}: FAILED: the case's process ended with {other:?}");
                        false
                    }
                };
            }
            Err(Errno::EINTR) => {}
            Err(e) => {
                println!("{name}: FAILED: wait4: {e:?}");
                return false;
            }
        }
    }
}

fn main() -> i32 {
    let args = &ulib::env::args()[1..];
    if args.first() == Some(&"--check-args-env") {
        return check_args_env();
    }
    let all = || CASES.iter().chain(files::FILE_CASES);
    if args.first() == Some(&"-l") {
        for (name, _) in all() {
            println!("{name}");
        }
        return 0;
    }
    if let Some(unknown) = args.iter().find(|a| !all().any(|(n, _)| n == *a)) {
        eprintln!("usertests: no case named '{unknown}' (usertests -l lists them)");
        return 2;
    }
    let file_cases: &[Case] = match files::scratch_writable() {
        Ok(()) => files::FILE_CASES,
        Err(e) => {
            println!(
                "usertests: file cases skipped: {} is not writable ({e:?})",
                files::scratch()
            );
            &[]
        }
    };
    let (mut passed, mut failed) = (0, 0);
    for (name, case) in CASES.iter().chain(file_cases) {
        if !args.is_empty() && !args.contains(name) {
            continue;
        }
        if run_case(name, *case) {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!("usertests: {passed} passed, {failed} failed");
    if failed == 0 { 0 } else { 1 }
}
