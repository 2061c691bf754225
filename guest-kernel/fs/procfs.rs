//! A minimal, read-only `/proc` (Linux's `fs/proc/`): the PIDs, and per
//! process `stat`, `status`, `cmdline`; `uptime`, `meminfo`, `loadavg`,
//! `stat`. A file's text is made when it is opened and read from that
//! snapshot, as Linux's seq files do for small files.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::file::{DirEntry, File, FileOps, Stat, dt, s};
use crate::kernel::errno::{EISDIR, ENOENT, KResult};
use crate::kernel::task::{self, Pid, Task};
use crate::kernel::time;
use crate::mm::{PAGE_SIZE, page_alloc};

/// `st_dev` of /proc.
const PROC_DEV: u64 = 0x16;

/// A snapshot file.
struct ProcFile {
    data: Vec<u8>,
    ino: u64,
}

impl FileOps for ProcFile {
    fn read(&self, _f: &File, buf: &mut [u8], pos: u64) -> KResult<usize> {
        let pos = (pos as usize).min(self.data.len());
        let n = buf.len().min(self.data.len() - pos);
        buf[..n].copy_from_slice(&self.data[pos..pos + n]);
        Ok(n)
    }
    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            dev: PROC_DEV,
            ino: self.ino,
            nlink: 1,
            mode: s::IFREG | 0o444,
            blksize: 1024,
            ..Stat::default()
        })
    }
}

/// A directory: `/proc` or `/proc/PID`.
struct ProcDir {
    entries: Vec<DirEntry>,
    ino: u64,
    uid: u32,
}

impl FileOps for ProcDir {
    fn read(&self, _f: &File, _buf: &mut [u8], _pos: u64) -> KResult<usize> {
        Err(EISDIR)
    }
    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            dev: PROC_DEV,
            ino: self.ino,
            nlink: 2,
            mode: s::IFDIR | 0o555,
            uid: self.uid,
            gid: self.uid,
            blksize: 1024,
            ..Stat::default()
        })
    }
    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Ok(self.entries.clone())
    }
}

fn entry(ino: u64, dtype: u8, name: &str) -> DirEntry {
    DirEntry {
        ino,
        dtype,
        name: String::from(name),
    }
}

/// Opens `/proc/...` (absolute, normalised).
pub fn open(path: &str) -> KResult<Box<dyn FileOps>> {
    let rest = path.strip_prefix("/proc").unwrap_or("");
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let file = |ino: u64, text: String| -> KResult<Box<dyn FileOps>> {
        Ok(Box::new(ProcFile {
            data: text.into_bytes(),
            ino,
        }))
    };
    match parts.as_slice() {
        [] => {
            let mut entries = alloc::vec![entry(1, dt::DIR, "."), entry(1, dt::DIR, "..")];
            for name in [
                "uptime",
                "meminfo",
                "loadavg",
                "stat",
                "version",
                "mounts",
                "filesystems",
                "interrupts",
            ] {
                entries.push(entry(2, dt::REG, name));
            }
            entries.push(entry(3, dt::LNK, "self"));
            task::for_each(|t| {
                if !t.is_idle() {
                    entries.push(entry(u64::from(t.pid) << 8, dt::DIR, &format!("{}", t.pid)));
                }
            });
            Ok(Box::new(ProcDir {
                entries,
                ino: 1,
                uid: 0,
            }))
        }
        ["uptime"] => {
            let ns = time::uptime_ns();
            let mut idle = 0;
            if let Some(t) = task::find(0) {
                idle = t.stime;
            }
            let _ = idle;
            file(
                4,
                format!(
                    "{}.{:02} {}.{:02}\n",
                    ns / 1_000_000_000,
                    ns / 10_000_000 % 100,
                    ns / 1_000_000_000,
                    ns / 10_000_000 % 100
                ),
            )
        }
        ["meminfo"] => file(5, meminfo()),
        ["mounts"] => file(
            9,
            format!(
                "/dev/root / ext2 {},relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n",
                if crate::fs::ext2::is_rw() { "rw" } else { "ro" }
            ),
        ),
        ["loadavg"] => {
            let mut running = 0;
            let mut total = 0;
            task::for_each(|t| {
                if !t.is_idle() {
                    total += 1;
                    if t.state == task::TaskState::Running {
                        running += 1;
                    }
                }
            });
            file(6, format!("0.00 0.00 0.00 {running}/{total} {total}\n"))
        }
        ["stat"] => {
            let mut text = String::new();
            let (mut u, mut sy) = (0, 0);
            task::for_each(|t| {
                u += t.utime + t.cutime;
                sy += t.stime + t.cstime;
            });
            let idle = time::jiffies().saturating_sub(u + sy);
            let _ = writeln!(text, "cpu  {u} 0 {sy} {idle} 0 0 0 0 0 0");
            let _ = writeln!(text, "cpu0 {u} 0 {sy} {idle} 0 0 0 0 0 0");
            let _ = writeln!(text, "ctxt {}", crate::kernel::sched::context_switches());
            let _ = writeln!(
                text,
                "btime {}",
                time::realtime_ns() / 1_000_000_000 - time::uptime_ns() / 1_000_000_000
            );
            file(7, text)
        }
        ["filesystems"] => file(10, String::from("nodev\tproc\nnodev\tpipefs\n\text2\n")),
        ["interrupts"] => {
            let mut text = String::from("           CPU0\n");
            crate::arch::x86_64::irq::for_each_irq(|n, count, name| {
                let _ = writeln!(text, "{n:3}: {count:10}   XT-PIC  {name}");
            });
            let _ = writeln!(
                text,
                "ERR: {:10}",
                crate::arch::x86_64::irq::spurious_count()
            );
            file(11, text)
        }
        ["version"] => file(
            8,
            format!(
                "Linux version {} (rustc, stable) #1 {}\n",
                env!("CARGO_PKG_VERSION"),
                crate::kernel::sys::UTS_VERSION
            ),
        ),
        [pid, tail @ ..] => {
            let pid: Pid = if *pid == "self" {
                task::current().pid
            } else {
                pid.parse().map_err(|_| ENOENT)?
            };
            let t = task::find(pid).filter(|t| !t.is_idle()).ok_or(ENOENT)?;
            let base = u64::from(pid) << 8;
            match tail {
                [] => {
                    let mut entries =
                        alloc::vec![entry(base, dt::DIR, "."), entry(1, dt::DIR, "..")];
                    for (i, name) in ["stat", "status", "cmdline", "comm", "maps"]
                        .iter()
                        .enumerate()
                    {
                        entries.push(entry(base + 1 + i as u64, dt::REG, name));
                    }
                    entries.push(entry(base + 6, dt::DIR, "fd"));
                    Ok(Box::new(ProcDir {
                        entries,
                        ino: base,
                        uid: t.cred.uid,
                    }))
                }
                ["stat"] => file(base + 1, pid_stat(t)),
                ["status"] => file(base + 2, pid_status(t)),
                ["cmdline"] => Ok(Box::new(ProcFile {
                    data: t.cmdline.clone(),
                    ino: base + 3,
                })),
                ["comm"] => file(base + 4, format!("{}\n", t.comm())),
                ["maps"] => file(base + 5, pid_maps(t)),
                ["fd"] => {
                    let mut entries =
                        alloc::vec![entry(base + 6, dt::DIR, "."), entry(base, dt::DIR, "..")];
                    for (fd, _) in t.files.open_fds() {
                        entries.push(entry(
                            base + 0x80 + (fd as u64 & 0x7f),
                            dt::LNK,
                            &format!("{fd}"),
                        ));
                    }
                    Ok(Box::new(ProcDir {
                        entries,
                        ino: base + 6,
                        uid: t.cred.uid,
                    }))
                }
                ["fd", n] => {
                    let fd: i32 = n.parse().map_err(|_| ENOENT)?;
                    let file = t.files.get(fd).map_err(|_| ENOENT)?;
                    Ok(Box::new(FdLink { file }))
                }
                _ => Err(ENOENT),
            }
        }
    }
}

/// `/proc/PID/fd/N`: opening it opens the same file (Linux's magic
/// link); its `readlink` is the path the file was opened by.
struct FdLink {
    file: alloc::sync::Arc<File>,
}

impl FileOps for FdLink {
    fn read(&self, f: &File, buf: &mut [u8], pos: u64) -> KResult<usize> {
        let _ = f;
        self.file.ops.read(&self.file, buf, pos)
    }
    fn write(&self, f: &File, buf: &[u8], pos: u64) -> KResult<usize> {
        let _ = f;
        self.file.ops.write(&self.file, buf, pos)
    }
    fn stat(&self) -> KResult<Stat> {
        self.file.ops.stat()
    }
    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        self.file.ops.readdir()
    }
    fn poll(&self) -> u32 {
        self.file.ops.poll()
    }
    fn seekable(&self) -> bool {
        self.file.ops.seekable()
    }
}

/// The target of `/proc/PID/fd/N`, if `path` names one.
pub fn fd_link_target(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/proc/")?;
    let mut parts = rest.split('/');
    let pid = parts.next()?;
    if parts.next()? != "fd" {
        return None;
    }
    let fd: i32 = parts.next()?.parse().ok()?;
    let pid: Pid = if pid == "self" {
        task::current().pid
    } else {
        pid.parse().ok()?
    };
    let t = task::find(pid)?;
    let file = t.files.get(fd).ok()?;
    Some(file.path.clone())
}

fn meminfo() -> String {
    let kb = PAGE_SIZE / 1024;
    let total = page_alloc::managed_pages() as u64 * kb;
    let free = page_alloc::nr_free_pages() as u64 * kb;
    let (buffers, dirty) = crate::fs::buffer::stats();
    format!(
        "MemTotal:       {total:>8} kB\nMemFree:        {free:>8} kB\nMemAvailable:   {free:>8} kB\nBuffers:        {:>8} kB\nCached:         {:>8} kB\nSwapCached:     {:>8} kB\nSwapTotal:      {:>8} kB\nSwapFree:       {:>8} kB\nShmem:          {:>8} kB\nDirty:          {:>8} kB\n",
        buffers / 1024,
        0,
        0,
        0,
        0,
        0,
        dirty / 1024
    )
}

/// The vsize (bytes) and rss (pages) of `t`.
fn vm(t: &Task) -> (u64, u64) {
    t.mm.as_ref().map_or((0, 0), |m| (m.total_vm(), m.rss))
}

/// `/proc/PID/stat`, Linux's field order (proc(5)).
fn pid_stat(t: &Task) -> String {
    let (vsize, rss) = vm(t);
    let tty_nr = if t.sid != 0 { (5 << 8) | 1 } else { 0 };
    let priority: i64 = if t.is_realtime() {
        -1 - i64::from(t.rt_priority)
    } else {
        20 + i64::from(t.nice)
    };
    let start_stack = t.mm.as_ref().map_or(0, |m| m.start_stack);
    format!(
        "{pid} ({comm}) {state} {ppid} {pgrp} {session} {tty_nr} {tpgid} {flags} 0 0 0 0 {utime} {stime} {cutime} {cstime} {priority} {nice} 1 0 {start} {vsize} {rss} 18446744073709551615 0 0 {start_stack} 0 0 {sig} {blocked} {ignored} {caught} 0 0 0 17 0 {rt} {policy} 0 0 0\n",
        pid = t.pid,
        comm = t.comm(),
        state = t.state.letter(),
        ppid = t.ppid,
        pgrp = t.pgid,
        session = t.sid,
        tpgid = if t.sid != 0 {
            i64::from(crate::drivers::tty::foreground_pgrp())
        } else {
            -1
        },
        sig = t.signals.pending,
        blocked = t.signals.blocked,
        ignored = mask_of(t, |h| h == crate::kernel::signal::SIG_IGN),
        caught = mask_of(t, |h| h > crate::kernel::signal::SIG_IGN),
        flags = t.flags,
        utime = t.utime,
        stime = t.stime,
        cutime = t.cutime,
        cstime = t.cstime,
        nice = t.nice,
        start = t.start_time,
        rt = t.rt_priority,
        policy = t.policy,
    )
}

/// The signals whose handler matches `f`, as a mask.
fn mask_of(t: &Task, f: impl Fn(u64) -> bool) -> u64 {
    t.signals
        .actions
        .iter()
        .enumerate()
        .filter(|(_, a)| f(a.handler))
        .fold(0, |m, (i, _)| m | 1 << i)
}

/// `/proc/PID/maps`: one line per area.
fn pid_maps(t: &Task) -> String {
    let mut out = String::new();
    let Some(mm) = &t.mm else { return out };
    let mut vmas = mm.vmas.clone();
    vmas.sort_by_key(|v| v.start);
    for v in vmas {
        let bit = |b: u32, c: char| if v.prot & b != 0 { c } else { '-' };
        let _ = writeln!(
            out,
            "{:08x}-{:08x} {}{}{}p 00000000 00:00 0          {}",
            v.start,
            v.end,
            bit(crate::mm::mmap::PROT_READ, 'r'),
            bit(crate::mm::mmap::PROT_WRITE, 'w'),
            bit(crate::mm::mmap::PROT_EXEC, 'x'),
            v.name()
        );
    }
    out
}

/// `/proc/PID/status`.
fn pid_status(t: &Task) -> String {
    let (vsize, rss) = vm(t);
    let c = t.cred;
    format!(
        "Name:\t{}\nUmask:\t{:04o}\nState:\t{}\nTgid:\t{}\nPid:\t{}\nPPid:\t{}\nUid:\t{u}\t{eu}\t{eu}\t{eu}\nGid:\t{g}\t{eg}\t{eg}\t{eg}\nFDSize:\t64\nVmSize:\t{:>8} kB\nVmRSS:\t{:>8} kB\nThreads:\t1\nSigPnd:\t{:016x}\nSigBlk:\t{:016x}\nvoluntary_ctxt_switches:\t{}\nnonvoluntary_ctxt_switches:\t{}\n",
        t.comm(),
        t.umask,
        t.state.name(),
        t.tgid,
        t.pid,
        t.ppid,
        vsize / 1024,
        rss * 4,
        t.signals.pending,
        t.signals.blocked,
        t.nvcsw,
        t.nivcsw,
        u = c.uid,
        eu = c.euid,
        g = c.gid,
        eg = c.egid,
    )
}
