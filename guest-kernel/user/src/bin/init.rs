//! `/sbin/init`, PID 1: mounts `/proc`, makes the console standard input,
//! output and error, starts a shell on it, reaps every orphan the kernel
//! hands over, and starts a new shell whenever the last one ends.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::process::{self, WaitStatus};
use ulib::{env, sys};

ulib::main!(main);

const SHELL: &str = "/bin/sh";
const CONSOLE: &str = "/dev/console";
/// The environment the shell starts with.
const ENVIRONMENT: [&str; 4] = ["PATH=/bin:/sbin", "HOME=/root", "TERM=vt100", "PWD=/"];

/// Makes the console descriptors 0, 1 and 2 unless they are open already
/// (the kernel may start init with them).
fn open_console() {
    if sys::fstat(0).is_ok() && sys::fstat(1).is_ok() && sys::fstat(2).is_ok() {
        return;
    }
    match sys::open(CONSOLE, sys::O_RDWR, 0) {
        Ok(fd) => {
            for target in 0..3 {
                if fd != target {
                    let _ = sys::dup2(fd, target);
                }
            }
            if fd > 2 {
                let _ = sys::close(fd);
            }
        }
        // Nowhere to say so but the kernel log, which needs a console too.
        Err(_) => sys::exit(1),
    }
}

/// Starts the shell; its PID.
fn start_shell() -> Option<i32> {
    match sys::fork() {
        Ok(0) => {
            let _ = sys::chdir("/");
            let e = process::exec(SHELL, &["sh", "-i"], &ENVIRONMENT);
            eprintln!("init: cannot run {SHELL}: {e}");
            sys::exit(127)
        }
        Ok(pid) => Some(pid),
        Err(e) => {
            eprintln!("init: fork: {e}");
            None
        }
    }
}

fn main() -> i32 {
    if sys::getpid() != 1 {
        eprintln!("init: must be run as PID 1");
        return 1;
    }
    open_console();
    // The kernel may have mounted /proc itself (or not know `proc`: the
    // system works without `ps`).
    if sys::stat("/proc/1").is_err()
        && let Err(e) = sys::mount("proc", "/proc", "proc", 0)
    {
        eprintln!("init: mount /proc: {e}");
    }
    for (k, v) in ENVIRONMENT.iter().filter_map(|v| v.split_once('=')) {
        env::set_var(k, v);
    }
    let mut shell = start_shell();
    let mut failures = 0u32;
    loop {
        match sys::wait4(-1, 0) {
            Ok((pid, status)) if Some(pid) == shell => {
                let status = WaitStatus::from_raw(status);
                // A shell that cannot start would spin: back off after a few.
                if status == WaitStatus::Exited(127) {
                    failures += 1;
                } else {
                    failures = 0;
                }
                if failures >= 3 {
                    eprintln!("init: {SHELL} keeps failing; waiting 5 s");
                    let _ = ulib::time::sleep_ns(5_000_000_000);
                    failures = 0;
                }
                shell = start_shell();
            }
            // An orphan reaped.
            Ok(_) => {}
            Err(Errno::ECHILD) => {
                // No children at all (the shell failed to fork): try again.
                let _ = ulib::time::sleep_ns(1_000_000_000);
                shell = start_shell();
            }
            Err(_) => {}
        }
    }
}
