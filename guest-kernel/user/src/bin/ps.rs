//! `ps`: every process, read from `/proc/<pid>/stat` (the format of
//! `proc(5)`) and `/proc/<pid>/cmdline`, as Linux's ps does. Columns: PID,
//! PPID, state, scheduling class, priority and nice (the kernel's
//! `priority` and `nice` fields), real-time priority, CPU time, command.
#![no_std]
#![no_main]

use ulib::io::{FdWriter, STDOUT};
use ulib::prelude::*;
use ulib::sys;

ulib::main!(main);

/// `USER_HZ`: the unit of the stat file's times.
const CLOCK_TICKS: u64 = 100;

struct Process {
    pid: i32,
    ppid: i32,
    state: char,
    priority: i64,
    nice: i64,
    rt_priority: u64,
    policy: u64,
    ticks: u64,
    command: String,
}

/// Parses a stat line: `pid (comm) state ppid ...`; `comm` may hold
/// spaces and parentheses, so the fields start after the last `)`.
fn parse_stat(text: &str) -> Option<(String, Vec<&str>)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = String::from(text.get(open + 1..close)?);
    let fields: Vec<&str> = text.get(close + 1..)?.split_ascii_whitespace().collect();
    Some((comm, fields))
}

fn read_process(pid: i32) -> Option<Process> {
    let stat = ulib::io::read_file(&format!("/proc/{pid}/stat")).ok()?;
    let stat = String::from_utf8_lossy(&stat).into_owned();
    let (comm, f) = parse_stat(&stat)?;
    // `f[0]` is field 3 (state) of proc(5); field n is f[n - 3].
    let num = |n: usize| -> Option<i64> { f.get(n - 3)?.parse().ok() };
    let cmdline = ulib::io::read_file(&format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let command = if args.is_empty() {
        format!("[{comm}]")
    } else {
        args.join(" ")
    };
    Some(Process {
        pid,
        ppid: num(4)? as i32,
        state: f.first()?.chars().next()?,
        priority: num(18)?,
        nice: num(19)?,
        rt_priority: num(40).unwrap_or(0) as u64,
        policy: num(41).unwrap_or(0) as u64,
        ticks: (num(14)? + num(15)?) as u64,
        command,
    })
}

fn class(policy: u64) -> &'static str {
    match policy as i32 {
        sys::SCHED_OTHER => "TS",
        sys::SCHED_FIFO => "FF",
        sys::SCHED_RR => "RR",
        sys::SCHED_BATCH => "B",
        sys::SCHED_IDLE => "IDL",
        _ => "?",
    }
}

fn main() -> i32 {
    if ulib::env::args().len() > 1 {
        eprintln!("ps: takes no options (it lists every process)");
        return 1;
    }
    let entries = match ulib::fs::read_dir("/proc") {
        Ok(e) => e,
        Err(e) => {
            eprintln!("ps: /proc: {e}");
            return 1;
        }
    };
    let mut pids: Vec<i32> = entries.iter().filter_map(|e| e.name.parse().ok()).collect();
    pids.sort_unstable();
    let mut out = FdWriter::new(STDOUT);
    out.write_bytes(
        format!(
            "{:>5} {:>5} S CLS PRI  NI RTPRIO     TIME CMD\n",
            "PID", "PPID"
        )
        .as_bytes(),
    );
    for pid in pids {
        // A process may exit between the listing and the read.
        let Some(p) = read_process(pid) else { continue };
        let secs = p.ticks / CLOCK_TICKS;
        let rt = if p.rt_priority > 0 || p.policy == 1 || p.policy == 2 {
            p.rt_priority.to_string()
        } else {
            String::from("-")
        };
        out.write_bytes(
            format!(
                "{:>5} {:>5} {} {:<3} {:>3} {:>3} {:>6} {:02}:{:02}:{:02} {}\n",
                p.pid,
                p.ppid,
                p.state,
                class(p.policy),
                p.priority,
                p.nice,
                rt,
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                p.command
            )
            .as_bytes(),
        );
    }
    if out.flush().is_err() { 1 } else { 0 }
}
