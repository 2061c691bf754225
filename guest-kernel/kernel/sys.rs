//! The system-call table (Linux's `arch/x86/entry/syscall_64.c` and
//! `syscalls/syscall_64.tbl`) and the smaller calls themselves.
//!
//! Both entries (`syscall` and `int 0x80`) arrive at [`do_syscall`] with
//! the x86-64 convention: number in RAX, arguments in RDI, RSI, RDX, R10,
//! R8, R9, result (or `-errno`) in RAX. Unknown numbers give ENOSYS.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::arch::x86_64::cpu;
use crate::arch::x86_64::entry::TrapFrame;
use crate::arch::x86_64::uaccess::{
    copy_from_user, copy_to_user, get_user, put_user, strncpy_from_user, user_path,
};
use crate::fs::file::{File, o, s};
use crate::fs::{exec, namei, pipe};
use crate::kernel::errno::*;
use crate::kernel::signal::{self, SigAction};
use crate::kernel::task::{self, Pid, TaskState, current, policy};
use crate::kernel::{exit, fork, sched, time};
use crate::mm::PAGE_SIZE;
use crate::mm::mmap::{PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE, VmaKind};

/// `uname -v`.
pub const UTS_VERSION: &str = "#1 SMP PREEMPT_NONE 2026-01-01";

/// Linux's x86-64 numbers for the calls we have.
mod nr {
    pub const READ: u64 = 0;
    pub const WRITE: u64 = 1;
    pub const OPEN: u64 = 2;
    pub const CLOSE: u64 = 3;
    pub const STAT: u64 = 4;
    pub const FSTAT: u64 = 5;
    pub const LSTAT: u64 = 6;
    pub const LSEEK: u64 = 8;
    pub const MMAP: u64 = 9;
    pub const MPROTECT: u64 = 10;
    pub const MUNMAP: u64 = 11;
    pub const BRK: u64 = 12;
    pub const RT_SIGACTION: u64 = 13;
    pub const RT_SIGPROCMASK: u64 = 14;
    pub const IOCTL: u64 = 16;
    pub const PREAD64: u64 = 17;
    pub const READV: u64 = 19;
    pub const WRITEV: u64 = 20;
    pub const ACCESS: u64 = 21;
    pub const PIPE: u64 = 22;
    pub const SCHED_YIELD: u64 = 24;
    pub const MADVISE: u64 = 28;
    pub const DUP: u64 = 32;
    pub const DUP2: u64 = 33;
    pub const PAUSE: u64 = 34;
    pub const NANOSLEEP: u64 = 35;
    pub const GETPID: u64 = 39;
    pub const CLONE: u64 = 56;
    pub const FORK: u64 = 57;
    pub const VFORK: u64 = 58;
    pub const EXECVE: u64 = 59;
    pub const EXIT: u64 = 60;
    pub const WAIT4: u64 = 61;
    pub const KILL: u64 = 62;
    pub const UNAME: u64 = 63;
    pub const FCNTL: u64 = 72;
    pub const GETCWD: u64 = 79;
    pub const CHDIR: u64 = 80;
    pub const FCHDIR: u64 = 81;
    pub const RENAME: u64 = 82;
    pub const MKDIR: u64 = 83;
    pub const RMDIR: u64 = 84;
    pub const CREAT: u64 = 85;
    pub const LINK: u64 = 86;
    pub const UNLINK: u64 = 87;
    pub const SYMLINK: u64 = 88;
    pub const READLINK: u64 = 89;
    pub const CHMOD: u64 = 90;
    pub const UMASK: u64 = 95;
    pub const GETTIMEOFDAY: u64 = 96;
    pub const GETRLIMIT: u64 = 97;
    pub const GETRUSAGE: u64 = 98;
    pub const SYSINFO: u64 = 99;
    pub const TIMES: u64 = 100;
    pub const GETUID: u64 = 102;
    pub const SYSLOG: u64 = 103;
    pub const GETGID: u64 = 104;
    pub const SETUID: u64 = 105;
    pub const SETGID: u64 = 106;
    pub const GETEUID: u64 = 107;
    pub const GETEGID: u64 = 108;
    pub const SETPGID: u64 = 109;
    pub const GETPPID: u64 = 110;
    pub const GETPGRP: u64 = 111;
    pub const SETSID: u64 = 112;
    pub const GETPGID: u64 = 121;
    pub const GETSID: u64 = 124;
    pub const SIGALTSTACK: u64 = 131;
    pub const GETPRIORITY: u64 = 140;
    pub const SETPRIORITY: u64 = 141;
    pub const SCHED_SETPARAM: u64 = 142;
    pub const SCHED_GETPARAM: u64 = 143;
    pub const SCHED_SETSCHEDULER: u64 = 144;
    pub const SCHED_GETSCHEDULER: u64 = 145;
    pub const SCHED_GET_PRIORITY_MAX: u64 = 146;
    pub const SCHED_GET_PRIORITY_MIN: u64 = 147;
    pub const SCHED_RR_GET_INTERVAL: u64 = 148;
    pub const ARCH_PRCTL: u64 = 158;
    pub const SYNC: u64 = 162;
    pub const MOUNT: u64 = 165;
    pub const UMOUNT2: u64 = 166;
    pub const REBOOT: u64 = 169;
    pub const GETTID: u64 = 186;
    pub const TKILL: u64 = 200;
    pub const TIME: u64 = 201;
    pub const GETDENTS64: u64 = 217;
    pub const SET_TID_ADDRESS: u64 = 218;
    pub const CLOCK_GETTIME: u64 = 228;
    pub const CLOCK_GETRES: u64 = 229;
    pub const CLOCK_NANOSLEEP: u64 = 230;
    pub const EXIT_GROUP: u64 = 231;
    pub const TGKILL: u64 = 234;
    pub const OPENAT: u64 = 257;
    pub const MKDIRAT: u64 = 258;
    pub const PWRITE64: u64 = 18;
    pub const FSYNC: u64 = 74;
    pub const FDATASYNC: u64 = 75;
    pub const TRUNCATE: u64 = 76;
    pub const FTRUNCATE: u64 = 77;
    pub const FCHMOD: u64 = 91;
    pub const CHOWN: u64 = 92;
    pub const FCHOWN: u64 = 93;
    pub const LCHOWN: u64 = 94;
    pub const MKNOD: u64 = 133;
    pub const STATFS: u64 = 137;
    pub const FSTATFS: u64 = 138;
    pub const MKNODAT: u64 = 259;
    pub const FCHOWNAT: u64 = 260;
    pub const RENAMEAT: u64 = 264;
    pub const LINKAT: u64 = 265;
    pub const SYMLINKAT: u64 = 266;
    pub const FCHMODAT: u64 = 268;
    pub const UTIMENSAT: u64 = 280;
    pub const SYNCFS: u64 = 306;
    pub const RENAMEAT2: u64 = 316;
    pub const POLL: u64 = 7;
    pub const SELECT: u64 = 23;
    pub const PSELECT6: u64 = 270;
    pub const PPOLL: u64 = 271;
    pub const NEWFSTATAT: u64 = 262;
    pub const UNLINKAT: u64 = 263;
    pub const READLINKAT: u64 = 267;
    pub const FACCESSAT: u64 = 269;
    pub const SET_ROBUST_LIST: u64 = 273;
    pub const DUP3: u64 = 292;
    pub const PIPE2: u64 = 293;
    pub const PRLIMIT64: u64 = 302;
    pub const GETRANDOM: u64 = 318;
    pub const FACCESSAT2: u64 = 439;
}

/// Called from the trap dispatcher for `syscall` and `int 0x80`, with
/// interrupts enabled, on the task's kernel stack.
pub fn do_syscall(frame: &mut TrapFrame) {
    let (n, a) = (
        frame.rax,
        [
            frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
        ],
    );
    let tid = current().pid;
    crate::kernel::trace::syscall_entry(tid, n);
    let r = dispatch(n, a, frame);
    // A successful execve has replaced the frame: there is no return.
    if !(n == nr::EXECVE && r.is_ok()) {
        let v = match r {
            Ok(v) => v,
            Err(Errno(e)) => -i64::from(e),
        };
        crate::kernel::trace::syscall_exit(tid, v);
    }
    frame.rax = match r {
        Ok(v) => v as u64,
        Err(Errno(e)) => (-i64::from(e)) as u64,
    };
}

fn dispatch(n: u64, a: [u64; 6], frame: &mut TrapFrame) -> KResult<i64> {
    let fd = a[0] as i32;
    match n {
        nr::READ => sys_read(fd, a[1], a[2] as usize),
        nr::WRITE => sys_write(fd, a[1], a[2] as usize),
        nr::OPEN => sys_openat(namei::AT_FDCWD, a[0], a[1] as u32, a[2] as u32),
        nr::CREAT => sys_openat(
            namei::AT_FDCWD,
            a[0],
            o::CREAT | o::WRONLY | o::TRUNC,
            a[1] as u32,
        ),
        nr::OPENAT => sys_openat(a[0] as i32, a[1], a[2] as u32, a[3] as u32),
        nr::CLOSE => current().files.close(fd).map(|_| 0),
        nr::STAT => sys_fstatat(namei::AT_FDCWD, a[0], a[1], 0),
        nr::LSTAT => sys_fstatat(namei::AT_FDCWD, a[0], a[1], namei::AT_SYMLINK_NOFOLLOW),
        nr::NEWFSTATAT => sys_fstatat(a[0] as i32, a[1], a[2], a[3] as u32),
        nr::FSTAT => {
            let st = namei::fget(fd)?.ops.stat()?;
            copy_to_user(a[1], &st.to_bytes())?;
            Ok(0)
        }
        nr::LSEEK => Ok(namei::fget(fd)?.lseek(a[1] as i64, a[2] as u32)? as i64),
        nr::PREAD64 => sys_pread(fd, a[1], a[2] as usize, a[3] as i64),
        nr::READV => sys_rwv(fd, a[1], a[2] as usize, false),
        nr::WRITEV => sys_rwv(fd, a[1], a[2] as usize, true),
        nr::MMAP => sys_mmap(a),
        nr::MPROTECT => sys_mprotect(a[0], a[1], a[2] as u32),
        nr::MUNMAP => sys_munmap(a[0], a[1]),
        nr::BRK => sys_brk(a[0]),
        nr::MADVISE => Ok(0),
        nr::RT_SIGACTION | nr::RT_SIGPROCMASK if a[3] != 8 => Err(EINVAL),
        nr::RT_SIGACTION => sys_rt_sigaction(a[0] as u32, a[1], a[2]),
        nr::RT_SIGPROCMASK => sys_rt_sigprocmask(a[0] as u32, a[1], a[2]),
        nr::SIGALTSTACK => Ok(0),
        nr::IOCTL => namei::fget(fd)?.ops.ioctl(a[1] as u32, a[2]),
        nr::ACCESS => sys_faccessat(namei::AT_FDCWD, a[0]),
        nr::FACCESSAT | nr::FACCESSAT2 => sys_faccessat(a[0] as i32, a[1]),
        nr::PIPE => sys_pipe2(a[0], 0),
        nr::PIPE2 => sys_pipe2(a[0], a[1] as u32),
        nr::SCHED_YIELD => {
            sched::yield_now();
            Ok(0)
        }
        nr::DUP => {
            let f = namei::fget(fd)?;
            current().files.install(f, false).map(i64::from)
        }
        nr::DUP2 => sys_dup3(fd, a[1] as i32, 0, true),
        nr::DUP3 => sys_dup3(fd, a[1] as i32, a[2] as u32, false),
        nr::PAUSE => {
            let q = crate::kernel::wait::WaitQueue::new();
            q.wait_event_interruptible(|| false)?;
            Err(EINTR)
        }
        nr::NANOSLEEP => sys_nanosleep(a[0], a[1]),
        nr::CLOCK_NANOSLEEP => sys_clock_nanosleep(a[0] as u32, a[1] as u32, a[2], a[3]),
        nr::GETPID => Ok(i64::from(current().tgid)),
        nr::GETTID => Ok(i64::from(current().pid)),
        nr::GETPPID => Ok(i64::from(current().ppid)),
        nr::FORK | nr::VFORK => fork::do_fork(frame).map(i64::from),
        nr::CLONE => {
            // Only a fork-like clone (no shared VM or threads yet).
            const CLONE_VM: u64 = 0x100;
            const CLONE_THREAD: u64 = 0x10000;
            if a[0] & (CLONE_VM | CLONE_THREAD) != 0 && a[0] & 0x4000 == 0 {
                return Err(ENOSYS);
            }
            fork::do_fork(frame).map(i64::from)
        }
        nr::EXECVE => sys_execve(a[0], a[1], a[2], frame),
        nr::EXIT | nr::EXIT_GROUP => exit::do_exit_code(a[0] as i32),
        nr::WAIT4 => sys_wait4(a[0] as i32 as i64, a[1], a[2] as u32, a[3]),
        nr::KILL => sys_kill(a[0] as i32, a[1] as u32),
        nr::TKILL => sys_kill(a[0] as i32, a[1] as u32),
        nr::TGKILL => sys_kill(a[1] as i32, a[2] as u32),
        nr::UNAME => sys_uname(a[0]),
        nr::FCNTL => sys_fcntl(fd, a[1] as u32, a[2]),
        nr::GETCWD => sys_getcwd(a[0], a[1] as usize),
        nr::CHDIR => {
            let path = namei::resolve_at(namei::AT_FDCWD, &user_path(a[0])?)?;
            chdir(path)
        }
        nr::FCHDIR => {
            let f = namei::fget(fd)?;
            chdir(f.path.clone())
        }
        nr::RENAME => sys_renameat(namei::AT_FDCWD, a[0], namei::AT_FDCWD, a[1], 0),
        nr::RENAMEAT => sys_renameat(a[0] as i32, a[1], a[2] as i32, a[3], 0),
        nr::RENAMEAT2 => sys_renameat(a[0] as i32, a[1], a[2] as i32, a[3], a[4] as u32),
        nr::MKDIR => sys_mkdirat(namei::AT_FDCWD, a[0], a[1] as u32),
        nr::MKDIRAT => sys_mkdirat(a[0] as i32, a[1], a[2] as u32),
        nr::MKNOD => sys_mknodat(namei::AT_FDCWD, a[0], a[1] as u32, a[2]),
        nr::MKNODAT => sys_mknodat(a[0] as i32, a[1], a[2] as u32, a[3]),
        nr::RMDIR => sys_unlinkat(namei::AT_FDCWD, a[0], AT_REMOVEDIR),
        nr::UNLINK => sys_unlinkat(namei::AT_FDCWD, a[0], 0),
        nr::UNLINKAT => sys_unlinkat(a[0] as i32, a[1], a[2] as u32),
        nr::LINK => sys_linkat(namei::AT_FDCWD, a[0], namei::AT_FDCWD, a[1], 0),
        nr::LINKAT => sys_linkat(a[0] as i32, a[1], a[2] as i32, a[3], a[4] as u32),
        nr::SYMLINK => sys_symlinkat(a[0], namei::AT_FDCWD, a[1]),
        nr::SYMLINKAT => sys_symlinkat(a[0], a[1] as i32, a[2]),
        nr::TRUNCATE => {
            let ino = path_ino(namei::AT_FDCWD, a[0], true)?;
            do_truncate(ino, a[1] as i64)
        }
        nr::FTRUNCATE => {
            let f = namei::fget(fd)?;
            if !f.writable() {
                return Err(EINVAL);
            }
            do_truncate(f.ops.ext2_ino().ok_or(EINVAL)?, a[1] as i64)
        }
        nr::FSYNC | nr::FDATASYNC => {
            namei::fget(fd)?;
            crate::fs::ext2::sync().map(|_| 0)
        }
        nr::CHMOD => do_chmod(path_ino(namei::AT_FDCWD, a[0], true)?, a[1] as u32),
        nr::FCHMODAT => do_chmod(path_ino(a[0] as i32, a[1], true)?, a[2] as u32),
        nr::FCHMOD => do_chmod(namei::fget(fd)?.ops.ext2_ino().ok_or(EPERM)?, a[1] as u32),
        nr::CHOWN => do_chown(
            path_ino(namei::AT_FDCWD, a[0], true)?,
            a[1] as u32,
            a[2] as u32,
        ),
        nr::LCHOWN => do_chown(
            path_ino(namei::AT_FDCWD, a[0], false)?,
            a[1] as u32,
            a[2] as u32,
        ),
        nr::FCHOWN => do_chown(
            namei::fget(fd)?.ops.ext2_ino().ok_or(EPERM)?,
            a[1] as u32,
            a[2] as u32,
        ),
        nr::FCHOWNAT => {
            let follow = a[4] as u32 & namei::AT_SYMLINK_NOFOLLOW == 0;
            do_chown(
                path_ino(a[0] as i32, a[1], follow)?,
                a[2] as u32,
                a[3] as u32,
            )
        }
        nr::UTIMENSAT => sys_utimensat(a[0] as i32, a[1], a[2], a[3] as u32),
        nr::STATFS | nr::FSTATFS => sys_statfs(a[1]),
        nr::PWRITE64 => sys_pwrite(fd, a[1], a[2] as usize, a[3] as i64),
        nr::POLL => {
            let t = a[2] as i32;
            let timeout = (t >= 0).then(|| t as u64 * 1_000_000);
            crate::fs::select::do_poll(a[0], a[1] as usize, timeout)
        }
        nr::PPOLL => {
            let timeout = crate::fs::select::timeout_of(a[2], false)?;
            crate::fs::select::do_poll(a[0], a[1] as usize, timeout)
        }
        nr::SELECT => {
            let timeout = crate::fs::select::timeout_of(a[4], true)?;
            crate::fs::select::do_select(a[0] as usize, a[1], a[2], a[3], timeout)
        }
        nr::PSELECT6 => {
            let timeout = crate::fs::select::timeout_of(a[4], false)?;
            crate::fs::select::do_select(a[0] as usize, a[1], a[2], a[3], timeout)
        }
        nr::READLINK => sys_readlinkat(namei::AT_FDCWD, a[0], a[1], a[2] as usize),
        nr::READLINKAT => sys_readlinkat(a[0] as i32, a[1], a[2], a[3] as usize),
        nr::UMASK => {
            let t = current();
            let old = t.umask;
            t.umask = a[0] as u32 & 0o777;
            Ok(i64::from(old))
        }
        nr::GETTIMEOFDAY => {
            if a[0] != 0 {
                let ns = time::realtime_ns();
                put_user(a[0], &[ns / 1_000_000_000, ns % 1_000_000_000 / 1000])?;
            }
            Ok(0)
        }
        nr::TIME => {
            let secs = time::realtime_ns() / 1_000_000_000;
            if a[0] != 0 {
                put_user(a[0], &secs)?;
            }
            Ok(secs as i64)
        }
        nr::GETRLIMIT => {
            put_user(a[1], &rlimit(a[0] as u32))?;
            Ok(0)
        }
        nr::PRLIMIT64 => {
            if a[3] != 0 {
                put_user(a[3], &rlimit(a[1] as u32))?;
            }
            Ok(0)
        }
        nr::GETRUSAGE => sys_getrusage(a[0] as i32, a[1]),
        nr::SYSINFO => sys_sysinfo(a[0]),
        nr::TIMES => {
            let t = current();
            if a[0] != 0 {
                put_user(a[0], &[t.utime, t.stime, t.cutime, t.cstime])?;
            }
            Ok(time::jiffies() as i64)
        }
        nr::GETUID => Ok(i64::from(current().cred.uid)),
        nr::GETEUID => Ok(i64::from(current().cred.euid)),
        nr::GETGID => Ok(i64::from(current().cred.gid)),
        nr::GETEGID => Ok(i64::from(current().cred.egid)),
        nr::SETUID => {
            let c = &mut current().cred;
            c.uid = a[0] as u32;
            c.euid = a[0] as u32;
            Ok(0)
        }
        nr::SETGID => {
            let c = &mut current().cred;
            c.gid = a[0] as u32;
            c.egid = a[0] as u32;
            Ok(0)
        }
        nr::SYSLOG => sys_syslog(a[0] as u32, a[1], a[2] as usize),
        nr::SETPGID => sys_setpgid(a[0] as Pid, a[1] as i32),
        nr::GETPGRP => Ok(i64::from(current().pgid)),
        nr::GETPGID => with_task(a[0] as Pid, |t| i64::from(t.pgid)),
        nr::GETSID => with_task(a[0] as Pid, |t| i64::from(t.sid)),
        nr::SETSID => {
            let t = current();
            if t.pgid == t.pid {
                return Err(EPERM);
            }
            t.sid = t.pid;
            t.pgid = t.pid;
            Ok(i64::from(t.pid))
        }
        nr::GETPRIORITY => sys_getpriority(a[0] as u32, a[1] as Pid),
        nr::SETPRIORITY => sys_setpriority(a[0] as u32, a[1] as Pid, a[2] as i32),
        nr::SCHED_SETPARAM => {
            let prio: i32 = get_user(a[1])?;
            let pol = with_task(a[0] as Pid, |t| i64::from(t.policy))?;
            sched_set(a[0] as Pid, pol as u32, prio)
        }
        nr::SCHED_GETPARAM => {
            let prio = with_task(a[0] as Pid, |t| i64::from(t.rt_priority))?;
            put_user(a[1], &(prio as i32))?;
            Ok(0)
        }
        nr::SCHED_SETSCHEDULER => {
            let prio: i32 = get_user(a[2])?;
            sched_set(a[0] as Pid, a[1] as u32, prio)
        }
        nr::SCHED_GETSCHEDULER => with_task(a[0] as Pid, |t| i64::from(t.policy)),
        nr::SCHED_GET_PRIORITY_MAX => match a[0] as u32 {
            policy::SCHED_FIFO | policy::SCHED_RR => Ok(99),
            policy::SCHED_OTHER | policy::SCHED_BATCH | policy::SCHED_IDLE => Ok(0),
            _ => Err(EINVAL),
        },
        nr::SCHED_GET_PRIORITY_MIN => match a[0] as u32 {
            policy::SCHED_FIFO | policy::SCHED_RR => Ok(1),
            policy::SCHED_OTHER | policy::SCHED_BATCH | policy::SCHED_IDLE => Ok(0),
            _ => Err(EINVAL),
        },
        nr::SCHED_RR_GET_INTERVAL => {
            let ticks = with_task(a[0] as Pid, |t| match t.policy {
                policy::SCHED_FIFO => 0,
                policy::SCHED_RR => sched::RR_TIMESLICE,
                _ => sched::nice_to_ticks(t.nice),
            })?;
            let ns = ticks as u64 * 1_000_000_000 / time::HZ;
            put_user(a[1], &[ns / 1_000_000_000, ns % 1_000_000_000])?;
            Ok(0)
        }
        nr::ARCH_PRCTL => sys_arch_prctl(a[0] as u32, a[1]),
        nr::SYNC | nr::SYNCFS => crate::fs::ext2::sync().map(|_| 0),
        nr::MOUNT => sys_mount(a[0], a[1], a[2]),
        nr::UMOUNT2 => {
            // The root and /proc are the only mounts, and both stay busy.
            let target = namei::resolve_at(namei::AT_FDCWD, &user_path(a[0])?)?;
            if current().cred.euid != 0 {
                return Err(EPERM);
            }
            match target.as_str() {
                "/" | "/proc" => Err(EBUSY),
                _ => Err(EINVAL),
            }
        }
        nr::REBOOT => sys_reboot(a[0] as u32, a[1] as u32, a[2] as u32),
        nr::GETDENTS64 => sys_getdents64(fd, a[1], a[2] as usize),
        nr::SET_TID_ADDRESS => {
            current().clear_child_tid = a[0];
            Ok(i64::from(current().pid))
        }
        nr::CLOCK_GETTIME => {
            let ns = clock_ns(a[0] as u32)?;
            put_user(a[1], &[ns / 1_000_000_000, ns % 1_000_000_000])?;
            Ok(0)
        }
        nr::CLOCK_GETRES => {
            clock_ns(a[0] as u32)?;
            if a[1] != 0 {
                put_user(a[1], &[0u64, 1])?;
            }
            Ok(0)
        }
        nr::SET_ROBUST_LIST => Ok(0),
        nr::GETRANDOM => {
            let mut buf = alloc::vec![0u8; (a[1] as usize).min(256)];
            let mut x = cpu::rdtsc() | 1;
            for b in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            copy_to_user(a[0], &buf)?;
            Ok(buf.len() as i64)
        }
        _ => Err(ENOSYS),
    }
}

/// The most bytes one read or write moves (Linux's `MAX_RW_COUNT` is
/// near 2 GiB; ours bounds the kernel buffer).
const MAX_RW: usize = 64 * 1024;

fn sys_read(fd: i32, buf: u64, count: usize) -> KResult<i64> {
    let f = namei::fget(fd)?;
    if f.is_dir() {
        return Err(EISDIR);
    }
    let mut kbuf = alloc::vec![0u8; count.min(MAX_RW)];
    // Check the destination is writable before consuming input (a pipe
    // or the terminal must keep its bytes when the copy would fail).
    probe_writable(buf, kbuf.len())?;
    let n = f.read(&mut kbuf)?;
    copy_to_user(buf, &kbuf[..n])?;
    Ok(n as i64)
}

/// Touches every page of `[addr, addr + len)` with a read and a write of
/// the same byte, so a later copy there cannot fault (one CPU, no
/// threads: nothing can unmap it in between).
fn probe_writable(addr: u64, len: usize) -> KResult<()> {
    if len == 0 {
        return Ok(());
    }
    let end = addr.checked_add(len as u64).ok_or(EFAULT)?;
    if end > TASK_SIZE {
        return Err(EFAULT);
    }
    let mut at = addr;
    while at < end {
        let mut b = [0u8; 1];
        copy_from_user(&mut b, at)?;
        copy_to_user(at, &b)?;
        at = (at & !(PAGE_SIZE - 1)) + PAGE_SIZE;
    }
    let mut b = [0u8; 1];
    copy_from_user(&mut b, end - 1)?;
    copy_to_user(end - 1, &b)
}

fn sys_write(fd: i32, buf: u64, count: usize) -> KResult<i64> {
    let f = namei::fget(fd)?;
    let mut done = 0;
    while done < count {
        let n = (count - done).min(MAX_RW);
        let mut kbuf = alloc::vec![0u8; n];
        copy_from_user(&mut kbuf, buf + done as u64)?;
        match f.write(&kbuf) {
            Ok(w) => {
                done += w;
                if w < n {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done as i64)
}

fn sys_pread(fd: i32, buf: u64, count: usize, off: i64) -> KResult<i64> {
    let f = namei::fget(fd)?;
    if !f.ops.seekable() {
        return Err(ESPIPE);
    }
    if off < 0 {
        return Err(EINVAL);
    }
    let mut kbuf = alloc::vec![0u8; count.min(MAX_RW)];
    let n = f.ops.read(&f, &mut kbuf, off as u64)?;
    copy_to_user(buf, &kbuf[..n])?;
    Ok(n as i64)
}

fn sys_rwv(fd: i32, iov: u64, cnt: usize, write: bool) -> KResult<i64> {
    if cnt > 1024 {
        return Err(EINVAL);
    }
    let mut total = 0i64;
    for i in 0..cnt as u64 {
        let [base, len]: [u64; 2] = get_user(iov + i * 16)?;
        if len == 0 {
            continue;
        }
        let n = if write {
            sys_write(fd, base, len as usize)
        } else {
            sys_read(fd, base, len as usize)
        };
        match n {
            Ok(n) => {
                total += n;
                if (n as u64) < len {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

fn sys_openat(dirfd: i32, path: u64, flags: u32, mode: u32) -> KResult<i64> {
    let p = user_path(path)?;
    if p.is_empty() {
        return Err(ENOENT);
    }
    let abs = namei::resolve_at(dirfd, &p)?;
    let f = namei::open_mode(&abs, flags, mode)?;
    current()
        .files
        .install(f, flags & o::CLOEXEC != 0)
        .map(i64::from)
}

fn sys_fstatat(dirfd: i32, path: u64, statbuf: u64, flags: u32) -> KResult<i64> {
    let p = user_path(path)?;
    let st = if p.is_empty() && flags & namei::AT_EMPTY_PATH != 0 {
        let t = current();
        let f = if dirfd == namei::AT_FDCWD {
            namei::open(&t.cwd.clone(), o::RDONLY)?
        } else {
            t.files.get(dirfd)?
        };
        f.ops.stat()?
    } else {
        if p.is_empty() {
            return Err(ENOENT);
        }
        let abs = namei::resolve_at(dirfd, &p)?;
        namei::stat(&abs, flags & namei::AT_SYMLINK_NOFOLLOW == 0)?
    };
    copy_to_user(statbuf, &st.to_bytes())?;
    Ok(0)
}

fn sys_faccessat(dirfd: i32, path: u64) -> KResult<i64> {
    let p = user_path(path)?;
    let abs = namei::resolve_at(dirfd, &p)?;
    namei::stat(&abs, true)?;
    Ok(0)
}

fn sys_readlinkat(dirfd: i32, path: u64, buf: u64, size: usize) -> KResult<i64> {
    let p = user_path(path)?;
    let abs = namei::resolve_at(dirfd, &p)?;
    let target = namei::readlink(&abs)?;
    let n = target.len().min(size);
    copy_to_user(buf, &target[..n])?;
    Ok(n as i64)
}

fn sys_getdents64(fd: i32, buf: u64, count: usize) -> KResult<i64> {
    let f = namei::fget(fd)?;
    let entries = f.ops.readdir()?;
    let mut pos = f.pos.load(core::sync::atomic::Ordering::Relaxed) as usize;
    let mut out = Vec::new();
    while pos < entries.len() {
        let e = &entries[pos];
        let reclen = (19 + e.name.len() + 1).div_ceil(8) * 8;
        if out.len() + reclen > count {
            if out.is_empty() {
                return Err(EINVAL);
            }
            break;
        }
        let start = out.len();
        out.extend_from_slice(&e.ino.to_le_bytes());
        out.extend_from_slice(&((pos + 1) as i64).to_le_bytes());
        out.extend_from_slice(&(reclen as u16).to_le_bytes());
        out.push(e.dtype);
        out.extend_from_slice(e.name.as_bytes());
        out.resize(start + reclen, 0);
        pos += 1;
    }
    copy_to_user(buf, &out)?;
    f.pos
        .store(pos as u64, core::sync::atomic::Ordering::Relaxed);
    Ok(out.len() as i64)
}

fn sys_pipe2(fds: u64, flags: u32) -> KResult<i64> {
    if flags & !(o::CLOEXEC | o::NONBLOCK) != 0 {
        return Err(EINVAL);
    }
    let (r, w) = pipe::pipe(flags);
    let t = current();
    let cloexec = flags & o::CLOEXEC != 0;
    let rfd = t.files.install(r, cloexec)?;
    let wfd = match t.files.install(w, cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = t.files.close(rfd);
            return Err(e);
        }
    };
    if let Err(e) = put_user(fds, &[rfd, wfd]) {
        let _ = t.files.close(rfd);
        let _ = t.files.close(wfd);
        return Err(e);
    }
    Ok(0)
}

fn sys_dup3(old: i32, new: i32, flags: u32, dup2: bool) -> KResult<i64> {
    let t = current();
    let f = t.files.get(old)?;
    if old == new {
        return if dup2 {
            Ok(i64::from(new))
        } else {
            Err(EINVAL)
        };
    }
    if flags & !o::CLOEXEC != 0 || !(0..crate::fs::file::NR_OPEN as i32).contains(&new) {
        return Err(if new < 0 { EBADF } else { EINVAL });
    }
    t.files.install_at(new as usize, f, flags & o::CLOEXEC != 0);
    Ok(i64::from(new))
}

fn sys_fcntl(fd: i32, cmd: u32, arg: u64) -> KResult<i64> {
    const F_DUPFD: u32 = 0;
    const F_GETFD: u32 = 1;
    const F_SETFD: u32 = 2;
    const F_GETFL: u32 = 3;
    const F_SETFL: u32 = 4;
    const F_DUPFD_CLOEXEC: u32 = 1030;
    let t = current();
    let f = t.files.get(fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => t
            .files
            .install_from(f, cmd == F_DUPFD_CLOEXEC, arg as usize)
            .map(i64::from),
        F_GETFD => Ok(i64::from(t.files.cloexec(fd)?)),
        F_SETFD => t.files.set_cloexec(fd, arg & 1 != 0).map(|_| 0),
        F_GETFL => Ok(i64::from(
            f.flags.load(core::sync::atomic::Ordering::Relaxed),
        )),
        F_SETFL => {
            let keep =
                f.flags.load(core::sync::atomic::Ordering::Relaxed) & !(o::NONBLOCK | o::APPEND);
            f.flags.store(
                keep | (arg as u32 & (o::NONBLOCK | o::APPEND)),
                core::sync::atomic::Ordering::Relaxed,
            );
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

fn chdir(path: String) -> KResult<i64> {
    let st = namei::stat(&path, true)?;
    if st.mode & s::IFMT != s::IFDIR {
        return Err(ENOTDIR);
    }
    current().cwd = path;
    Ok(0)
}

fn sys_getcwd(buf: u64, size: usize) -> KResult<i64> {
    let mut cwd = current().cwd.clone().into_bytes();
    cwd.push(0);
    if cwd.len() > size {
        return Err(ERANGE);
    }
    copy_to_user(buf, &cwd)?;
    Ok(cwd.len() as i64)
}

/// Copies a NULL-terminated array of strings from user space.
fn user_strings(mut p: u64) -> KResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if p == 0 {
        return Ok(out);
    }
    loop {
        let s: u64 = get_user(p)?;
        if s == 0 {
            return Ok(out);
        }
        out.push(strncpy_from_user(s, 128 * 1024)?);
        if out.len() > 4096 {
            return Err(E2BIG);
        }
        p += 8;
    }
}

fn sys_execve(path: u64, argv: u64, envp: u64, frame: &mut TrapFrame) -> KResult<i64> {
    let p = user_path(path)?;
    let abs = namei::resolve_at(namei::AT_FDCWD, &p)?;
    let argv = user_strings(argv)?;
    let envp = user_strings(envp)?;
    let loaded = exec::load(&abs, &argv, &envp)?;
    let t = current();
    let fx = fork::fxsave_at(t.kstack_top);
    exec::install(t, loaded, frame, fx);
    let name = abs.rsplit('/').next().unwrap_or(&abs);
    crate::kernel::trace::process_start(t.pid, t.ppid, name);
    Ok(0)
}

fn sys_wait4(pid: i64, status: u64, options: u32, rusage: u64) -> KResult<i64> {
    if options & !(exit::WNOHANG | exit::WUNTRACED | 0x8 | 0x4000_0000 | 0x8000_0000) != 0 {
        return Err(EINVAL);
    }
    match exit::do_wait(pid, options)? {
        None => Ok(0),
        Some(r) => {
            if status != 0 {
                put_user(status, &r.status)?;
            }
            if rusage != 0 {
                let mut ru = [0u64; 18];
                ru[0] = r.utime / time::HZ;
                ru[1] = r.utime % time::HZ * (1_000_000 / time::HZ);
                ru[2] = r.stime / time::HZ;
                ru[3] = r.stime % time::HZ * (1_000_000 / time::HZ);
                put_user(rusage, &ru)?;
            }
            Ok(i64::from(r.pid))
        }
    }
}

fn sys_kill(pid: i32, sig: u32) -> KResult<i64> {
    if sig > signal::NSIG {
        return Err(EINVAL);
    }
    let me = current();
    let my_pid = me.pid;
    match pid {
        p if p > 0 => {
            let t = task::find(p as Pid)
                .filter(|t| !t.is_idle() && t.state != TaskState::Dead)
                .ok_or(ESRCH)?;
            signal::send_signal(t, sig);
        }
        0 => {
            let pgid = me.pgid;
            if !signal::kill_pgrp(pgid, sig) {
                return Err(ESRCH);
            }
        }
        -1 => {
            task::for_each(|t| {
                if t.pid > 1 && t.pid != my_pid {
                    signal::send_signal(t, sig);
                }
            });
        }
        p => {
            if !signal::kill_pgrp((-p) as Pid, sig) {
                return Err(ESRCH);
            }
        }
    }
    Ok(0)
}

fn sys_uname(buf: u64) -> KResult<i64> {
    let mut u = [0u8; 65 * 6];
    let fields = [
        "Linux",
        "localhost",
        env!("CARGO_PKG_VERSION"),
        UTS_VERSION,
        "x86_64",
        "(none)",
    ];
    for (i, f) in fields.iter().enumerate() {
        u[i * 65..i * 65 + f.len()].copy_from_slice(f.as_bytes());
    }
    copy_to_user(buf, &u)?;
    Ok(0)
}

fn rlimit(resource: u32) -> [u64; 2] {
    const RLIMIT_STACK: u32 = 3;
    const RLIMIT_NOFILE: u32 = 7;
    match resource {
        RLIMIT_STACK => [crate::mm::mmap::STACK_SIZE, crate::mm::mmap::STACK_SIZE],
        RLIMIT_NOFILE => [crate::fs::file::NR_OPEN as u64; 2],
        _ => [u64::MAX, u64::MAX],
    }
}

fn sys_getrusage(who: i32, buf: u64) -> KResult<i64> {
    let t = current();
    let (u, s) = match who {
        0 => (t.utime, t.stime),
        -1 => (t.cutime, t.cstime),
        _ => return Err(EINVAL),
    };
    let mut ru = [0u64; 18];
    let us = 1_000_000 / time::HZ;
    ru[0] = u / time::HZ;
    ru[1] = u % time::HZ * us;
    ru[2] = s / time::HZ;
    ru[3] = s % time::HZ * us;
    ru[14] = t.nvcsw;
    ru[15] = t.nivcsw;
    put_user(buf, &ru)?;
    Ok(0)
}

fn sys_sysinfo(buf: u64) -> KResult<i64> {
    use crate::mm::page_alloc;
    let mut b = [0u8; 112];
    let up = time::uptime_ns() / 1_000_000_000;
    b[0..8].copy_from_slice(&up.to_le_bytes());
    let total = page_alloc::managed_pages() as u64 * PAGE_SIZE;
    let free = page_alloc::nr_free_pages() as u64 * PAGE_SIZE;
    b[32..40].copy_from_slice(&total.to_le_bytes());
    b[40..48].copy_from_slice(&free.to_le_bytes());
    let mut procs = 0u16;
    task::for_each(|t| {
        if !t.is_idle() {
            procs += 1;
        }
    });
    b[80..82].copy_from_slice(&procs.to_le_bytes());
    b[104..108].copy_from_slice(&1u32.to_le_bytes());
    copy_to_user(buf, &b)?;
    Ok(0)
}

fn sys_syslog(ty: u32, buf: u64, len: usize) -> KResult<i64> {
    const READ_ALL: u32 = 3;
    const SIZE_BUFFER: u32 = 10;
    match ty {
        0 | 1 | 6 | 7 | 8 => Ok(0),
        2 | READ_ALL | 4 => {
            let mut log = Vec::new();
            crate::kernel::printk::read_log(|b| log.extend_from_slice(b));
            let start = log.len().saturating_sub(len);
            let part = &log[start..];
            copy_to_user(buf, part)?;
            Ok(part.len() as i64)
        }
        5 => Ok(0),
        9 => Ok(0),
        SIZE_BUFFER => Ok(crate::kernel::printk::LOG_BUF_LEN as i64),
        _ => Err(EINVAL),
    }
}

fn sys_setpgid(pid: Pid, pgid: i32) -> KResult<i64> {
    if pgid < 0 {
        return Err(EINVAL);
    }
    let me = current();
    let my_pid = me.pid;
    let target = if pid == 0 { my_pid } else { pid };
    let t = task::find(target).ok_or(ESRCH)?;
    if t.pid != my_pid && t.ppid != my_pid {
        return Err(ESRCH);
    }
    t.pgid = if pgid == 0 { t.pid } else { pgid as Pid };
    Ok(0)
}

fn with_task(pid: Pid, f: impl FnOnce(&task::Task) -> i64) -> KResult<i64> {
    let t = if pid == 0 {
        Some(current())
    } else {
        task::find(pid)
    };
    t.filter(|t| !t.is_idle()).map(|t| f(t)).ok_or(ESRCH)
}

fn sys_getpriority(which: u32, who: Pid) -> KResult<i64> {
    if which != 0 {
        return Err(EINVAL);
    }
    // The kernel returns 20 - nice (1..=40); libc converts.
    with_task(who, |t| i64::from(20 - t.nice))
}

fn sys_setpriority(which: u32, who: Pid, nice: i32) -> KResult<i64> {
    if which != 0 {
        return Err(EINVAL);
    }
    let t = if who == 0 {
        current()
    } else {
        task::find(who).ok_or(ESRCH)?
    };
    t.nice = nice.clamp(-20, 19);
    sched::set_need_resched();
    Ok(0)
}

fn sched_set(pid: Pid, pol: u32, prio: i32) -> KResult<i64> {
    let pol = pol & !0x4000_0000; // SCHED_RESET_ON_FORK
    let ok = match pol {
        policy::SCHED_FIFO | policy::SCHED_RR => (1..=99).contains(&prio),
        policy::SCHED_OTHER | policy::SCHED_BATCH | policy::SCHED_IDLE => prio == 0,
        _ => return Err(EINVAL),
    };
    if !ok {
        return Err(EINVAL);
    }
    let t = if pid == 0 {
        current()
    } else {
        task::find(pid).ok_or(ESRCH)?
    };
    t.policy = pol;
    t.rt_priority = prio as u32;
    t.counter = if t.is_realtime() {
        sched::RR_TIMESLICE
    } else {
        sched::nice_to_ticks(t.nice)
    };
    sched::set_need_resched();
    Ok(0)
}

fn sys_arch_prctl(code: u32, addr: u64) -> KResult<i64> {
    const ARCH_SET_GS: u32 = 0x1001;
    const ARCH_SET_FS: u32 = 0x1002;
    const ARCH_GET_FS: u32 = 0x1003;
    const ARCH_GET_GS: u32 = 0x1004;
    let t = current();
    match code {
        ARCH_SET_FS => {
            if addr >= TASK_SIZE {
                return Err(EPERM);
            }
            t.fs_base = addr;
            // SAFETY: MSR_FS_BASE with a canonical user address.
            unsafe { cpu::wrmsr(0xC000_0100, addr) };
            Ok(0)
        }
        ARCH_GET_FS => {
            put_user(addr, &t.fs_base)?;
            Ok(0)
        }
        ARCH_SET_GS | ARCH_GET_GS => Err(EINVAL),
        _ => Err(EINVAL),
    }
}

/// `mount`: `/proc` is always there (mounting `proc` on it succeeds);
/// other file systems come with the VFS.
fn sys_mount(source: u64, target: u64, fstype: u64) -> KResult<i64> {
    let _ = source;
    let target = namei::resolve_at(namei::AT_FDCWD, &user_path(target)?)?;
    let fstype = if fstype == 0 {
        String::new()
    } else {
        user_path(fstype)?
    };
    match (fstype.as_str(), target.as_str()) {
        ("proc", "/proc") => Ok(0),
        ("proc" | "sysfs" | "devtmpfs" | "tmpfs" | "ext2", _) => Err(EBUSY),
        _ => Err(ENODEV),
    }
}

fn sys_reboot(magic1: u32, magic2: u32, cmd: u32) -> KResult<i64> {
    const MAGIC1: u32 = 0xfee1_dead;
    const CMD_POWER_OFF: u32 = 0x4321_fedc;
    const CMD_HALT: u32 = 0xcdef_0123;
    const CMD_RESTART: u32 = 0x0123_4567;
    if magic1 != MAGIC1 || !matches!(magic2, 672_274_793 | 85_072_278 | 369_367_448 | 537_993_216) {
        return Err(EINVAL);
    }
    match cmd {
        CMD_POWER_OFF | CMD_HALT | CMD_RESTART => {
            if current().cred.euid != 0 {
                return Err(EPERM);
            }
            // Write everything back and mark the root clean (Linux's
            // kernel_power_off -> emergency sync and unmount).
            match crate::fs::ext2::unmount_root() {
                Ok(()) => pr_info!("EXT2-fs: root unmounted cleanly"),
                Err(_) => pr_err!("EXT2-fs: unmounting the root failed"),
            }
            pr_emerg!("reboot: Power down");
            crate::kernel::panic::power_off()
        }
        _ => Err(EINVAL),
    }
}

fn clock_ns(clock: u32) -> KResult<u64> {
    match clock {
        0 | 8 => Ok(time::realtime_ns()),
        1 | 4 | 6 | 7 | 9 => Ok(time::uptime_ns()),
        5 => Ok(time::realtime_ns()),
        2 | 3 => {
            let t = current();
            Ok((t.utime + t.stime) * (1_000_000_000 / time::HZ))
        }
        _ => Err(EINVAL),
    }
}

/// Sleeps until `deadline_ns` of the monotonic clock (whole ticks).
/// [`sleep_until`] for other modules (`poll`, `select`).
pub fn sleep_until_pub(deadline_ns: u64) -> KResult<()> {
    sleep_until(deadline_ns)
}

fn sleep_until(deadline_ns: u64) -> KResult<()> {
    let now = time::uptime_ns();
    if deadline_ns <= now {
        return Ok(());
    }
    let tick_ns = 1_000_000_000 / time::HZ;
    let target = time::jiffies() + (deadline_ns - now).div_ceil(tick_ns);
    let q = crate::kernel::wait::WaitQueue::new();
    q.wait_event_deadline(|| time::jiffies() >= target, target, true)?;
    Ok(())
}

fn sys_nanosleep(req: u64, rem: u64) -> KResult<i64> {
    let [sec, nsec]: [i64; 2] = get_user(req)?;
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    let start = time::uptime_ns();
    let deadline = start.saturating_add(sec as u64 * 1_000_000_000 + nsec as u64);
    if let Err(e) = sleep_until(deadline) {
        if rem != 0 {
            let left = deadline.saturating_sub(time::uptime_ns());
            put_user(rem, &[left / 1_000_000_000, left % 1_000_000_000])?;
        }
        return Err(e);
    }
    Ok(0)
}

fn sys_clock_nanosleep(clock: u32, flags: u32, req: u64, rem: u64) -> KResult<i64> {
    let [sec, nsec]: [i64; 2] = get_user(req)?;
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    let ns = sec as u64 * 1_000_000_000 + nsec as u64;
    let deadline = if flags & 1 != 0 {
        // TIMER_ABSTIME
        let now_clock = clock_ns(clock)?;
        time::uptime_ns() + ns.saturating_sub(now_clock)
    } else {
        time::uptime_ns() + ns
    };
    if let Err(e) = sleep_until(deadline) {
        if rem != 0 && flags & 1 == 0 {
            let left = deadline.saturating_sub(time::uptime_ns());
            put_user(rem, &[left / 1_000_000_000, left % 1_000_000_000])?;
        }
        return Err(e);
    }
    Ok(0)
}

fn sys_rt_sigaction(sig: u32, act: u64, oact: u64) -> KResult<i64> {
    if sig == 0 || sig > signal::NSIG {
        return Err(EINVAL);
    }
    let t = current();
    let old = t.signals.actions[sig as usize - 1];
    if act != 0 {
        if sig == signal::SIGKILL || sig == signal::SIGSTOP {
            return Err(EINVAL);
        }
        let [handler, flags, restorer, mask]: [u64; 4] = get_user(act)?;
        t.signals.actions[sig as usize - 1] = SigAction {
            handler,
            flags,
            restorer,
            mask,
        };
        if handler == signal::SIG_IGN {
            t.signals.pending &= !(1 << (sig - 1));
        }
    }
    if oact != 0 {
        put_user(oact, &[old.handler, old.flags, old.restorer, old.mask])?;
    }
    Ok(0)
}

fn sys_rt_sigprocmask(how: u32, set: u64, oset: u64) -> KResult<i64> {
    let t = current();
    let old = t.signals.blocked;
    if set != 0 {
        let s: u64 = get_user(set)?;
        let s = s & !((1 << (signal::SIGKILL - 1)) | (1 << (signal::SIGSTOP - 1)));
        t.signals.blocked = match how {
            0 => old | s,
            1 => old & !s,
            2 => s,
            _ => return Err(EINVAL),
        };
    }
    if oset != 0 {
        put_user(oset, &old)?;
    }
    Ok(0)
}

fn page_align(v: u64) -> Option<u64> {
    v.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1))
}

fn sys_brk(addr: u64) -> KResult<i64> {
    let t = current();
    let mm = t.mm.as_mut().ok_or(ENOMEM)?;
    if addr < mm.start_brk || addr >= crate::mm::mmap::MMAP_BASE {
        return Ok(mm.brk as i64);
    }
    let old_end = page_align(mm.brk).ok_or(ENOMEM)?;
    let new_end = page_align(addr).ok_or(ENOMEM)?;
    let free = crate::mm::page_alloc::nr_free_pages() as u64;
    if new_end > old_end && (new_end - old_end) / PAGE_SIZE + 256 > free {
        return Ok(mm.brk as i64);
    }
    if new_end > old_end {
        if mm
            .map_anon(old_end, new_end, PROT_READ | PROT_WRITE, VmaKind::Heap)
            .is_err()
        {
            mm.unmap(old_end, new_end);
            return Ok(mm.brk as i64);
        }
    } else if new_end < old_end {
        mm.unmap(new_end, old_end);
    }
    mm.brk = addr;
    Ok(addr as i64)
}

fn sys_mmap(a: [u64; 6]) -> KResult<i64> {
    const MAP_SHARED: u64 = 1;
    const MAP_PRIVATE: u64 = 2;
    const MAP_FIXED: u64 = 0x10;
    const MAP_ANONYMOUS: u64 = 0x20;
    let [addr, len, prot, flags, fd, off] = a;
    if len == 0 || flags & (MAP_SHARED | MAP_PRIVATE) == 0 || off % PAGE_SIZE != 0 {
        return Err(EINVAL);
    }
    let len = page_align(len).ok_or(ENOMEM)?;
    let file: Option<Arc<File>> = if flags & MAP_ANONYMOUS == 0 {
        let f = namei::fget(fd as i32)?;
        if !f.ops.seekable() {
            return Err(ENODEV);
        }
        Some(f)
    } else {
        None
    };
    let t = current();
    let mm = t.mm.as_mut().ok_or(ENOMEM)?;
    let start = if flags & MAP_FIXED != 0 {
        if addr % PAGE_SIZE != 0 || addr.checked_add(len).is_none_or(|e| e > TASK_SIZE) {
            return Err(EINVAL);
        }
        mm.unmap(addr, addr + len);
        addr
    } else {
        let s = mm.mmap_next;
        if s + len > crate::mm::mmap::STACK_TOP - crate::mm::mmap::STACK_SIZE {
            return Err(ENOMEM);
        }
        mm.mmap_next = s + len + PAGE_SIZE; // a guard gap
        s
    };
    let p = prot as u32 & (PROT_READ | PROT_WRITE | PROT_EXEC);
    // Keep some memory for the kernel: no demand paging, so a mapping
    // takes its pages now.
    let free = crate::mm::page_alloc::nr_free_pages() as u64;
    if len / PAGE_SIZE + 256 > free {
        return Err(ENOMEM);
    }
    if let Err(e) = mm.map_anon(start, start + len, p | PROT_WRITE, VmaKind::Anon) {
        mm.unmap(start, start + len);
        return Err(e);
    }
    if let Some(f) = file {
        // A private copy of the file's bytes (no page cache yet).
        let mut buf = alloc::vec![0u8; len as usize];
        let mut done = 0;
        while done < buf.len() {
            let n = f.ops.read(&f, &mut buf[done..], off + done as u64)?;
            if n == 0 {
                break;
            }
            done += n;
        }
        mm.write_bytes(start, &buf[..done])?;
    }
    if p & PROT_WRITE == 0 {
        mm.protect(start, start + len, p);
    }
    Ok(start as i64)
}

fn sys_munmap(addr: u64, len: u64) -> KResult<i64> {
    if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
        return Err(EINVAL);
    }
    let end = addr
        .checked_add(page_align(len).ok_or(EINVAL)?)
        .filter(|&e| e <= TASK_SIZE)
        .ok_or(EINVAL)?;
    let mm = current().mm.as_mut().ok_or(EINVAL)?;
    mm.unmap(addr, end);
    Ok(0)
}

fn sys_mprotect(addr: u64, len: u64, prot: u32) -> KResult<i64> {
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(EINVAL);
    }
    let end = addr
        .checked_add(page_align(len).ok_or(EINVAL)?)
        .filter(|&e| e <= TASK_SIZE)
        .ok_or(ENOMEM)?;
    let mm = current().mm.as_mut().ok_or(EINVAL)?;
    mm.protect(addr, end, prot & 7);
    Ok(0)
}

/// `unlinkat` flag: remove a directory.
const AT_REMOVEDIR: u32 = 0x200;
/// `linkat` flag: follow a final symbolic link of the old name.
const AT_SYMLINK_FOLLOW: u32 = 0x400;

/// A path argument relative to `dirfd`, made absolute.
fn at_path(dirfd: i32, path: u64) -> KResult<String> {
    let p = user_path(path)?;
    if p.is_empty() {
        return Err(ENOENT);
    }
    namei::resolve_at(dirfd, &p)
}

fn path_ino(dirfd: i32, path: u64, follow: bool) -> KResult<u32> {
    namei::ext2_ino(&at_path(dirfd, path)?, follow)
}

fn sys_mkdirat(dirfd: i32, path: u64, mode: u32) -> KResult<i64> {
    namei::mkdir(&at_path(dirfd, path)?, mode).map(|_| 0)
}

fn sys_mknodat(dirfd: i32, path: u64, mode: u32, dev: u64) -> KResult<i64> {
    namei::mknod(&at_path(dirfd, path)?, mode, dev).map(|_| 0)
}

fn sys_unlinkat(dirfd: i32, path: u64, flags: u32) -> KResult<i64> {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(EINVAL);
    }
    namei::unlink(&at_path(dirfd, path)?, flags & AT_REMOVEDIR != 0).map(|_| 0)
}

fn sys_linkat(olddir: i32, old: u64, newdir: i32, new: u64, flags: u32) -> KResult<i64> {
    let old = at_path(olddir, old)?;
    let new = at_path(newdir, new)?;
    namei::link(&old, &new, flags & AT_SYMLINK_FOLLOW != 0).map(|_| 0)
}

fn sys_symlinkat(target: u64, dirfd: i32, path: u64) -> KResult<i64> {
    let target = user_path(target)?;
    namei::symlink(target.as_bytes(), &at_path(dirfd, path)?).map(|_| 0)
}

fn sys_renameat(olddir: i32, old: u64, newdir: i32, new: u64, flags: u32) -> KResult<i64> {
    const RENAME_NOREPLACE: u32 = 1;
    if flags & !RENAME_NOREPLACE != 0 {
        return Err(EINVAL);
    }
    let old = at_path(olddir, old)?;
    let new = at_path(newdir, new)?;
    namei::rename(&old, &new, flags & RENAME_NOREPLACE != 0).map(|_| 0)
}

fn do_truncate(ino: u32, size: i64) -> KResult<i64> {
    if size < 0 {
        return Err(EINVAL);
    }
    namei::setattr(ino, |fs, inode| {
        if inode.is_dir() {
            return Err(crate::kernel::errno::EISDIR);
        }
        if !inode.is_file() {
            return Err(EINVAL);
        }
        fs.truncate(ino, inode, size as u64)
    })
    .map(|_| 0)
}

/// Only the owner (or root) may change an inode's mode and times.
fn owner_check(inode: &ondisk::ext2::Inode) -> KResult<()> {
    let euid = current().cred.euid;
    if euid != 0 && euid != inode.uid() {
        return Err(EPERM);
    }
    Ok(())
}

fn do_chmod(ino: u32, mode: u32) -> KResult<i64> {
    namei::setattr(ino, |_, inode| {
        owner_check(inode)?;
        inode.mode = (inode.mode & 0o170000) | (mode & 0o7777) as u16;
        inode.ctime = crate::fs::ext2::now();
        Ok(())
    })
    .map(|_| 0)
}

fn do_chown(ino: u32, uid: u32, gid: u32) -> KResult<i64> {
    namei::setattr(ino, |_, inode| {
        if current().cred.euid != 0 {
            return Err(EPERM);
        }
        if uid != u32::MAX {
            inode.uid = uid;
        }
        if gid != u32::MAX {
            inode.gid = gid;
        }
        inode.ctime = crate::fs::ext2::now();
        Ok(())
    })
    .map(|_| 0)
}

fn sys_utimensat(dirfd: i32, path: u64, times: u64, flags: u32) -> KResult<i64> {
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    let ino = if path == 0 {
        namei::fget(dirfd)?.ops.ext2_ino().ok_or(EPERM)?
    } else {
        path_ino(dirfd, path, flags & namei::AT_SYMLINK_NOFOLLOW == 0)?
    };
    let now = crate::fs::ext2::now();
    let mut t = [(0i64, UTIME_NOW), (0, UTIME_NOW)];
    if times != 0 {
        let mut raw = [0u8; 32];
        copy_from_user(&mut raw, times)?;
        let word =
            |i: usize| i64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        t = [(word(0), word(1)), (word(2), word(3))];
    }
    namei::setattr(ino, |_, inode| {
        let pick = |(sec, nsec): (i64, i64), old: u32| match nsec {
            UTIME_OMIT => old,
            UTIME_NOW => now,
            _ => sec as u32,
        };
        if times != 0 {
            owner_check(inode)?;
        }
        inode.atime = pick(t[0], inode.atime);
        inode.mtime = pick(t[1], inode.mtime);
        inode.ctime = now;
        Ok(())
    })
    .map(|_| 0)
}

/// `statfs`/`fstatfs` (x86-64 `struct statfs`, 120 bytes): the root.
fn sys_statfs(buf: u64) -> KResult<i64> {
    const EXT2_SUPER_MAGIC: u64 = 0xEF53;
    let (bfree, blocks, ffree, files, bsize) = crate::fs::ext2::statfs()?;
    let mut b = [0u8; 120];
    let words = [
        EXT2_SUPER_MAGIC,
        bsize,
        blocks,
        bfree,
        bfree,
        files,
        ffree,
        0,
        255,
        bsize,
    ];
    for (i, w) in words.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    copy_to_user(buf, &b)?;
    Ok(0)
}

fn sys_pwrite(fd: i32, buf: u64, count: usize, off: i64) -> KResult<i64> {
    if off < 0 {
        return Err(EINVAL);
    }
    let f = namei::fget(fd)?;
    if !f.writable() {
        return Err(EBADF);
    }
    if !f.ops.seekable() {
        return Err(crate::kernel::errno::ESPIPE);
    }
    let mut data = alloc::vec![0u8; count.min(1 << 20)];
    copy_from_user(&mut data, buf)?;
    Ok(f.ops.write(&f, &data, off as u64)? as i64)
}
