//! `chrt`: shows or sets a process's scheduling policy and real-time
//! priority (`sched(7)`), as util-linux chrt:
//!
//! - `chrt -p PID`: show;
//! - `chrt [-o|-f|-r|-b|-i] -p PRIO PID`: set for a running process;
//! - `chrt [-o|-f|-r|-b|-i] PRIO COMMAND [ARG]...`: run a command so;
//! - `chrt -m`: the priority range of each policy.
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::{env, process, sys};

ulib::main!(main);

const POLICIES: [(i32, &str, char); 5] = [
    (sys::SCHED_OTHER, "SCHED_OTHER", 'o'),
    (sys::SCHED_FIFO, "SCHED_FIFO", 'f'),
    (sys::SCHED_RR, "SCHED_RR", 'r'),
    (sys::SCHED_BATCH, "SCHED_BATCH", 'b'),
    (sys::SCHED_IDLE, "SCHED_IDLE", 'i'),
];

fn policy_name(p: i32) -> &'static str {
    POLICIES
        .iter()
        .find(|(n, _, _)| *n == p)
        .map_or("SCHED_?", |(_, name, _)| name)
}

fn usage() -> i32 {
    eprintln!("Usage: chrt [-o|-f|-r|-b|-i] [-p] PRIO (PID | COMMAND [ARG]...)");
    eprintln!("       chrt -p PID  |  chrt -m");
    1
}

fn show(pid: i32) -> i32 {
    // As util-linux: `0` means this process, shown by its number.
    let pid = if pid == 0 { sys::getpid() } else { pid };
    let policy = match sys::sched_getscheduler(pid) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("chrt: failed to get pid {pid}'s policy: {e}");
            return 1;
        }
    };
    let prio = sys::sched_getparam(pid).unwrap_or(0);
    println!(
        "pid {pid}'s current scheduling policy: {}",
        policy_name(policy)
    );
    println!("pid {pid}'s current scheduling priority: {prio}");
    0
}

fn main() -> i32 {
    let mut args = &env::args()[1..];
    let mut policy = None;
    let mut pid_mode = false;
    while let Some(a) = args.first().filter(|a| a.starts_with('-') && a.len() > 1) {
        for f in a[1..].chars() {
            if let Some((p, _, _)) = POLICIES.iter().find(|(_, _, c)| *c == f) {
                policy = Some(*p);
            } else if f == 'p' {
                pid_mode = true;
            } else if f == 'm' {
                for (p, name, _) in POLICIES {
                    let (min, max) = sys::sched_priority_range(p).unwrap_or((0, 0));
                    println!("{name} min/max priority\t: {min}/{max}");
                }
                return 0;
            } else {
                eprintln!("chrt: invalid option -- '{f}'");
                return usage();
            }
        }
        args = &args[1..];
    }
    if pid_mode && args.len() == 1 {
        return match args[0].parse() {
            Ok(pid) => show(pid),
            Err(_) => usage(),
        };
    }
    let Some(prio) = args.first().and_then(|a| a.parse::<i32>().ok()) else {
        return usage();
    };
    let policy = policy.unwrap_or(sys::SCHED_RR);
    if pid_mode {
        let Some(pid) = args.get(1).and_then(|a| a.parse::<i32>().ok()) else {
            return usage();
        };
        return match sys::sched_setscheduler(pid, policy, prio) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("chrt: failed to set pid {pid}'s policy: {e}");
                1
            }
        };
    }
    let command = &args[1..];
    if command.is_empty() {
        return usage();
    }
    if let Err(e) = sys::sched_setscheduler(0, policy, prio) {
        eprintln!("chrt: failed to set pid 0's policy: {e}");
        return 1;
    }
    let path_var = env::var("PATH").unwrap_or_else(|| String::from("/bin:/sbin"));
    let Some(path) = process::find_in_path(command[0], &path_var) else {
        eprintln!(
            "chrt: failed to execute {}: No such file or directory",
            command[0]
        );
        return 127;
    };
    let e = process::exec(&path, command, &env::vars());
    eprintln!("chrt: failed to execute {}: {e}", command[0]);
    126
}
