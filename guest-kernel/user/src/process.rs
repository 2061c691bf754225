//! Starting programs: `execve` with Rust strings, PATH lookup, `fork` +
//! `exec` in one call, and decoding `wait4` statuses (`wait(2)`'s
//! `WIFEXITED`, `WEXITSTATUS`, `WIFSIGNALED`, `WTERMSIG`).

use crate::errno::Errno;
use crate::sys::{self, SysResult};
use alloc::string::String;
use alloc::vec::Vec;

/// How a child ended (or changed state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    Exited(i32),
    Signaled(i32),
    /// Stopped or continued: not an end.
    Other(i32),
}

impl WaitStatus {
    pub fn from_raw(status: i32) -> Self {
        let sig = status & 0x7f;
        if sig == 0 {
            WaitStatus::Exited((status >> 8) & 0xff)
        } else if sig != 0x7f && status & 0xffff != 0xffff {
            WaitStatus::Signaled(sig)
        } else {
            WaitStatus::Other(status)
        }
    }

    /// The shell's `$?`: the exit status, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            WaitStatus::Exited(c) => c,
            WaitStatus::Signaled(s) => 128 + s,
            WaitStatus::Other(_) => 0,
        }
    }
}

/// A NULL-terminated array of NUL-terminated strings for `execve`.
struct CStrings {
    _bytes: Vec<Vec<u8>>,
    ptrs: Vec<*const u8>,
}

impl CStrings {
    fn new<S: AsRef<str>>(items: &[S]) -> Self {
        let bytes: Vec<Vec<u8>> = items
            .iter()
            .map(|s| {
                let mut v = s.as_ref().as_bytes().to_vec();
                v.push(0);
                v
            })
            .collect();
        let mut ptrs: Vec<*const u8> = bytes.iter().map(|b| b.as_ptr()).collect();
        ptrs.push(core::ptr::null());
        CStrings {
            _bytes: bytes,
            ptrs,
        }
    }
}

/// `execve(path, argv, envp)`; returns only on failure.
pub fn exec<A: AsRef<str>, E: AsRef<str>>(path: &str, argv: &[A], envp: &[E]) -> Errno {
    let argv = CStrings::new(argv);
    let envp = CStrings::new(envp);
    match sys::with_cstr(path.as_bytes(), |p| {
        // SAFETY: `p`, `argv` and `envp` are NUL/NULL-terminated and live
        // until the call returns.
        Err::<(), _>(unsafe { sys::execve(p, argv.ptrs.as_ptr(), envp.ptrs.as_ptr()) })
    }) {
        Err(e) => e,
        Ok(()) => Errno::EINVAL,
    }
}

/// Finds `name` in `path` (colon-separated directories), as the shell
/// does: a name with a `/` is used as it is. The first candidate that
/// exists and is a regular file wins.
pub fn find_in_path(name: &str, path: &str) -> Option<String> {
    if name.contains('/') {
        return Some(String::from(name));
    }
    path.split(':').find_map(|dir| {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = crate::fs::join(dir, name);
        let st = sys::stat(&candidate).ok()?;
        (st.mode & crate::fs::S_IFMT == crate::fs::S_IFREG).then_some(candidate)
    })
}

/// Forks; the child execs `path` with `argv` and the current environment
/// (exiting 127 if it cannot). Returns the child's PID.
pub fn spawn<A: AsRef<str>>(path: &str, argv: &[A]) -> SysResult<i32> {
    let envp = crate::env::vars();
    match sys::fork()? {
        0 => {
            let e = exec(path, argv, &envp);
            crate::eprintln!("{}: {}", path, e);
            sys::exit(127)
        }
        pid => Ok(pid),
    }
}

/// Waits for `pid`, retrying `EINTR`.
pub fn wait_pid(pid: i32) -> SysResult<WaitStatus> {
    loop {
        match sys::wait4(pid, 0) {
            Ok((_, status)) => return Ok(WaitStatus::from_raw(status)),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}
