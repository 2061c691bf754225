//! System calls: the raw `syscall` instruction and one typed wrapper per
//! call the programs use. Numbers and structures are Linux x86-64's
//! (`arch/x86/entry/syscalls/syscall_64.tbl`, `include/uapi/...`).
//!
//! Convention (x86-64 psABI A.2.1): number in `rax`, arguments in `rdi`,
//! `rsi`, `rdx`, `r10`, `r8`, `r9`; the kernel clobbers `rcx` and `r11`;
//! a return value in `-4095..=-1` is `-errno`.

use crate::errno::Errno;
use core::arch::asm;

/// The result of a system call.
pub type SysResult<T> = Result<T, Errno>;

pub mod nr {
    pub const READ: usize = 0;
    pub const WRITE: usize = 1;
    pub const OPEN: usize = 2;
    pub const CLOSE: usize = 3;
    pub const STAT: usize = 4;
    pub const FSTAT: usize = 5;
    pub const LSTAT: usize = 6;
    pub const LSEEK: usize = 8;
    pub const MMAP: usize = 9;
    pub const MPROTECT: usize = 10;
    pub const MUNMAP: usize = 11;
    pub const BRK: usize = 12;
    pub const RT_SIGACTION: usize = 13;
    pub const IOCTL: usize = 16;
    pub const PIPE: usize = 22;
    pub const SCHED_YIELD: usize = 24;
    pub const DUP: usize = 32;
    pub const DUP2: usize = 33;
    pub const NANOSLEEP: usize = 35;
    pub const GETPID: usize = 39;
    pub const FORK: usize = 57;
    pub const EXECVE: usize = 59;
    pub const EXIT: usize = 60;
    pub const WAIT4: usize = 61;
    pub const KILL: usize = 62;
    pub const UNAME: usize = 63;
    pub const GETCWD: usize = 79;
    pub const CHDIR: usize = 80;
    pub const READLINK: usize = 89;
    pub const SYSINFO: usize = 99;
    pub const SYSLOG: usize = 103;
    pub const GETPPID: usize = 110;
    pub const SETSID: usize = 112;
    pub const GETPRIORITY: usize = 140;
    pub const SETPRIORITY: usize = 141;
    pub const SCHED_GETPARAM: usize = 143;
    pub const SCHED_SETSCHEDULER: usize = 144;
    pub const SCHED_GETSCHEDULER: usize = 145;
    pub const SCHED_GET_PRIORITY_MAX: usize = 146;
    pub const SCHED_GET_PRIORITY_MIN: usize = 147;
    pub const MOUNT: usize = 165;
    pub const SCHED_SETAFFINITY: usize = 203;
    pub const GETDENTS64: usize = 217;
    pub const CLOCK_GETTIME: usize = 228;
    pub const EXIT_GROUP: usize = 231;
    pub const PWRITE64: usize = 18;
    pub const FSYNC: usize = 74;
    pub const TRUNCATE: usize = 76;
    pub const FTRUNCATE: usize = 77;
    pub const RENAME: usize = 82;
    pub const MKDIR: usize = 83;
    pub const RMDIR: usize = 84;
    pub const LINK: usize = 86;
    pub const UNLINK: usize = 87;
    pub const SYMLINK: usize = 88;
    pub const CHMOD: usize = 90;
    pub const UMASK: usize = 95;
    pub const MKNOD: usize = 133;
    pub const STATFS: usize = 137;
    pub const SYNC: usize = 162;
    pub const UMOUNT2: usize = 166;
    pub const REBOOT: usize = 169;
    pub const UTIMENSAT: usize = 280;
}

/// Raw system call with up to six arguments.
///
/// # Safety
/// The arguments must be what the kernel expects for `n`: pointers must
/// point to memory of the right size that may be read or written as the
/// call does.
#[inline(always)]
pub unsafe fn syscall6(n: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; `syscall` clobbers
    // only rcx, r11 and rax (declared), and touches no stack.
    unsafe {
        asm!("syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    ret
}

/// A raw system call's return value as a `Result`.
pub fn check(ret: isize) -> SysResult<usize> {
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// `syscall6` with fewer arguments, checked.
///
/// # Safety
/// As for [`syscall6`].
#[inline(always)]
pub unsafe fn syscall(n: usize, args: &[usize]) -> SysResult<usize> {
    let mut a = [0usize; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: forwarded from the caller.
    check(unsafe { syscall6(n, a) })
}

/// A file descriptor number.
pub type Fd = i32;

pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_CREAT: u32 = 0o100;
pub const O_TRUNC: u32 = 0o1000;
pub const O_APPEND: u32 = 0o2000;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_CLOEXEC: u32 = 0o2000000;

/// Copies `path` into a NUL-terminated stack buffer and calls `f` with it.
pub fn with_cstr<T>(path: &[u8], f: impl FnOnce(*const u8) -> SysResult<T>) -> SysResult<T> {
    const PATH_MAX: usize = 4096;
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if path.contains(&0) {
        return Err(Errno::EINVAL);
    }
    let mut buf = [0u8; PATH_MAX];
    buf[..path.len()].copy_from_slice(path);
    f(buf.as_ptr())
}

pub fn read(fd: Fd, buf: &mut [u8]) -> SysResult<usize> {
    // SAFETY: the buffer is valid for writes of its length.
    unsafe {
        syscall(
            nr::READ,
            &[fd as usize, buf.as_mut_ptr() as usize, buf.len()],
        )
    }
}

pub fn write(fd: Fd, buf: &[u8]) -> SysResult<usize> {
    // SAFETY: the buffer is valid for reads of its length.
    unsafe { syscall(nr::WRITE, &[fd as usize, buf.as_ptr() as usize, buf.len()]) }
}

pub fn open(path: &str, flags: u32, mode: u32) -> SysResult<Fd> {
    with_cstr(path.as_bytes(), |p| {
        // SAFETY: `p` is a NUL-terminated string.
        unsafe { syscall(nr::OPEN, &[p as usize, flags as usize, mode as usize]) }
            .map(|fd| fd as Fd)
    })
}

pub fn close(fd: Fd) -> SysResult<()> {
    // SAFETY: no pointers.
    unsafe { syscall(nr::CLOSE, &[fd as usize]) }.map(drop)
}

pub fn lseek(fd: Fd, offset: i64, whence: u32) -> SysResult<u64> {
    // SAFETY: no pointers.
    unsafe { syscall(nr::LSEEK, &[fd as usize, offset as usize, whence as usize]) }
        .map(|o| o as u64)
}

pub fn dup(fd: Fd) -> SysResult<Fd> {
    // SAFETY: no pointers.
    unsafe { syscall(nr::DUP, &[fd as usize]) }.map(|fd| fd as Fd)
}

pub fn dup2(old: Fd, new: Fd) -> SysResult<Fd> {
    // SAFETY: no pointers.
    unsafe { syscall(nr::DUP2, &[old as usize, new as usize]) }.map(|fd| fd as Fd)
}

/// `pipe(2)`: `(read end, write end)`.
pub fn pipe() -> SysResult<(Fd, Fd)> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` holds the two ints the kernel writes.
    unsafe { syscall(nr::PIPE, &[fds.as_mut_ptr() as usize]) }?;
    Ok((fds[0], fds[1]))
}

/// `struct stat` (x86-64, `arch/x86/include/uapi/asm/stat.h`).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub _pad0: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: i64,
    pub atime_nsec: i64,
    pub mtime: i64,
    pub mtime_nsec: i64,
    pub ctime: i64,
    pub ctime_nsec: i64,
    pub _unused: [i64; 3],
}

fn stat_call(n: usize, path: &str) -> SysResult<Stat> {
    let mut st = Stat::default();
    with_cstr(path.as_bytes(), |p| {
        // SAFETY: `p` is a NUL-terminated string, `st` a `struct stat`.
        unsafe { syscall(n, &[p as usize, &raw mut st as usize]) }
    })?;
    Ok(st)
}

pub fn stat(path: &str) -> SysResult<Stat> {
    stat_call(nr::STAT, path)
}

pub fn lstat(path: &str) -> SysResult<Stat> {
    stat_call(nr::LSTAT, path)
}

pub fn fstat(fd: Fd) -> SysResult<Stat> {
    let mut st = Stat::default();
    // SAFETY: `st` is a `struct stat`.
    unsafe { syscall(nr::FSTAT, &[fd as usize, &raw mut st as usize]) }?;
    Ok(st)
}

pub fn readlink(path: &str, buf: &mut [u8]) -> SysResult<usize> {
    with_cstr(path.as_bytes(), |p| {
        // SAFETY: `p` is a NUL-terminated string; `buf` is writable.
        unsafe {
            syscall(
                nr::READLINK,
                &[p as usize, buf.as_mut_ptr() as usize, buf.len()],
            )
        }
    })
}

pub fn getdents64(fd: Fd, buf: &mut [u8]) -> SysResult<usize> {
    // SAFETY: the buffer is valid for writes of its length.
    unsafe {
        syscall(
            nr::GETDENTS64,
            &[fd as usize, buf.as_mut_ptr() as usize, buf.len()],
        )
    }
}

pub fn getcwd(buf: &mut [u8]) -> SysResult<usize> {
    // SAFETY: the buffer is valid for writes of its length.
    unsafe { syscall(nr::GETCWD, &[buf.as_mut_ptr() as usize, buf.len()]) }
}

pub fn chdir(path: &str) -> SysResult<()> {
    with_cstr(path.as_bytes(), |p| {
        // SAFETY: `p` is a NUL-terminated string.
        unsafe { syscall(nr::CHDIR, &[p as usize]) }.map(drop)
    })
}

pub fn ioctl(fd: Fd, request: u32, arg: usize) -> SysResult<usize> {
    // SAFETY: callers pass requests whose argument is `arg` as the kernel
    // expects (a pointer to the right structure, or a value).
    unsafe { syscall(nr::IOCTL, &[fd as usize, request as usize, arg]) }
}

/// Whether `fd` is a terminal (`TCGETS` succeeds), as `isatty(3)`.
pub fn isatty(fd: Fd) -> bool {
    const TCGETS: u32 = 0x5401;
    let mut termios = [0u8; 64];
    ioctl(fd, TCGETS, termios.as_mut_ptr() as usize).is_ok()
}

pub fn mount(source: &str, target: &str, fstype: &str, flags: u64) -> SysResult<()> {
    with_cstr(source.as_bytes(), |s| {
        with_cstr(target.as_bytes(), |t| {
            with_cstr(fstype.as_bytes(), |f| {
                // SAFETY: three NUL-terminated strings, no data.
                unsafe {
                    syscall(
                        nr::MOUNT,
                        &[s as usize, t as usize, f as usize, flags as usize, 0],
                    )
                }
                .map(drop)
            })
        })
    })
}

// Memory.

pub const PROT_NONE: usize = 0;
pub const PROT_READ: usize = 1;
pub const PROT_WRITE: usize = 2;
pub const MAP_SHARED: usize = 0x01;
pub const MAP_PRIVATE: usize = 0x02;
pub const MAP_FIXED: usize = 0x10;
pub const MAP_ANONYMOUS: usize = 0x20;

/// `mmap(2)`.
///
/// # Safety
/// With `MAP_FIXED` it may replace live mappings.
pub unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: usize,
    flags: usize,
    fd: Fd,
    off: usize,
) -> SysResult<usize> {
    // SAFETY: forwarded from the caller.
    unsafe { syscall(nr::MMAP, &[addr, len, prot, flags, fd as usize, off]) }
}

/// `munmap(2)`.
///
/// # Safety
/// Nothing may use the range afterwards.
pub unsafe fn munmap(addr: usize, len: usize) -> SysResult<()> {
    // SAFETY: forwarded from the caller.
    unsafe { syscall(nr::MUNMAP, &[addr, len]) }.map(drop)
}

/// `mprotect(2)`.
///
/// # Safety
/// Nothing may use the range in ways the new protection forbids.
pub unsafe fn mprotect(addr: usize, len: usize, prot: usize) -> SysResult<()> {
    // SAFETY: forwarded from the caller.
    unsafe { syscall(nr::MPROTECT, &[addr, len, prot]) }.map(drop)
}

/// The raw `brk(2)`: returns the new break (the old one on failure).
///
/// # Safety
/// Shrinking the break frees memory that must no longer be used.
pub unsafe fn brk(addr: usize) -> usize {
    // SAFETY: forwarded from the caller; brk never returns an error code.
    unsafe { syscall6(nr::BRK, [addr, 0, 0, 0, 0, 0]) as usize }
}

// Processes.

pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall6(nr::GETPID, [0; 6]) as i32 }
}

pub fn getppid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall6(nr::GETPPID, [0; 6]) as i32 }
}

/// `fork(2)`: `Ok(0)` in the child, the child's PID in the parent.
pub fn fork() -> SysResult<i32> {
    // SAFETY: the child gets a copy of the whole address space; there are
    // no threads and no locks held across the call.
    unsafe { syscall(nr::FORK, &[]) }.map(|pid| pid as i32)
}

pub fn setsid() -> SysResult<i32> {
    // SAFETY: no arguments.
    unsafe { syscall(nr::SETSID, &[]) }.map(|sid| sid as i32)
}

/// `execve(2)` with NUL-terminated pointer arrays; returns only on failure.
///
/// # Safety
/// `path` is NUL-terminated; `argv` and `envp` are NULL-terminated arrays
/// of NUL-terminated strings.
pub unsafe fn execve(path: *const u8, argv: *const *const u8, envp: *const *const u8) -> Errno {
    // SAFETY: forwarded from the caller.
    match unsafe { syscall(nr::EXECVE, &[path as usize, argv as usize, envp as usize]) } {
        Err(e) => e,
        Ok(_) => Errno::EINVAL,
    }
}

/// `exit_group(2)`: ends the process.
pub fn exit(status: i32) -> ! {
    // SAFETY: no pointers; the call does not return.
    unsafe {
        syscall6(nr::EXIT_GROUP, [status as usize, 0, 0, 0, 0, 0]);
        syscall6(nr::EXIT, [status as usize, 0, 0, 0, 0, 0]);
    }
    loop {
        core::hint::spin_loop();
    }
}

pub const WNOHANG: u32 = 1;

/// `wait4(2)` without the resource usage: `(pid, raw status)`.
pub fn wait4(pid: i32, options: u32) -> SysResult<(i32, i32)> {
    let mut status = 0i32;
    // SAFETY: `status` is an int the kernel writes.
    let pid = unsafe {
        syscall(
            nr::WAIT4,
            &[pid as usize, &raw mut status as usize, options as usize, 0],
        )
    }?;
    Ok((pid as i32, status))
}

pub fn kill(pid: i32, sig: i32) -> SysResult<()> {
    // SAFETY: no pointers.
    unsafe { syscall(nr::KILL, &[pid as usize, sig as usize]) }.map(drop)
}

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGKILL: i32 = 9;
pub const SIGSEGV: i32 = 11;
pub const SIGPIPE: i32 = 13;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;

/// Signal names, numbers 1 to 31 (`signal(7)`).
pub const SIGNAL_NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// The kernel's `struct sigaction` for `rt_sigaction(2)` (x86-64).
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

pub const SIG_DFL: usize = 0;
pub const SIG_IGN: usize = 1;

/// Sets `sig` to `SIG_DFL` or `SIG_IGN` (no handlers: the runtime has no
/// signal trampoline).
pub fn signal_disposition(sig: i32, disposition: usize) -> SysResult<()> {
    debug_assert!(disposition == SIG_DFL || disposition == SIG_IGN);
    let act = KernelSigaction {
        handler: disposition,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: `act` is a kernel sigaction; no old action is asked for.
    unsafe {
        syscall(
            nr::RT_SIGACTION,
            &[sig as usize, &raw const act as usize, 0, 8],
        )
    }
    .map(drop)
}

pub fn sched_yield() {
    // SAFETY: no arguments.
    unsafe { syscall6(nr::SCHED_YIELD, [0; 6]) };
}

// Scheduling (`sched(7)`).

pub const SCHED_OTHER: i32 = 0;
pub const SCHED_FIFO: i32 = 1;
pub const SCHED_RR: i32 = 2;
pub const SCHED_BATCH: i32 = 3;
pub const SCHED_IDLE: i32 = 5;

pub fn sched_getscheduler(pid: i32) -> SysResult<i32> {
    // SAFETY: no pointers.
    unsafe { syscall(nr::SCHED_GETSCHEDULER, &[pid as usize]) }.map(|p| p as i32)
}

pub fn sched_setscheduler(pid: i32, policy: i32, priority: i32) -> SysResult<()> {
    let param = priority;
    // SAFETY: `param` is a `struct sched_param` (one int).
    unsafe {
        syscall(
            nr::SCHED_SETSCHEDULER,
            &[pid as usize, policy as usize, &raw const param as usize],
        )
    }
    .map(drop)
}

pub fn sched_getparam(pid: i32) -> SysResult<i32> {
    let mut param = 0i32;
    // SAFETY: `param` is a `struct sched_param` (one int).
    unsafe { syscall(nr::SCHED_GETPARAM, &[pid as usize, &raw mut param as usize]) }?;
    Ok(param)
}

pub fn sched_priority_range(policy: i32) -> SysResult<(i32, i32)> {
    // SAFETY: no pointers.
    let max = unsafe { syscall(nr::SCHED_GET_PRIORITY_MAX, &[policy as usize]) }?;
    // SAFETY: no pointers.
    let min = unsafe { syscall(nr::SCHED_GET_PRIORITY_MIN, &[policy as usize]) }?;
    Ok((min as i32, max as i32))
}

/// Pins `pid` to CPU 0 (so CPU-bound tests behave on a multi-core host as
/// on the guest's single CPU).
pub fn pin_to_cpu0(pid: i32) -> SysResult<()> {
    let mask: u64 = 1;
    // SAFETY: `mask` is an 8-byte cpu set.
    unsafe {
        syscall(
            nr::SCHED_SETAFFINITY,
            &[pid as usize, 8, &raw const mask as usize],
        )
    }
    .map(drop)
}

pub const PRIO_PROCESS: i32 = 0;

/// `getpriority(2)` as the C library returns it: the nice value.
pub fn getpriority(which: i32, who: i32) -> SysResult<i32> {
    // SAFETY: no pointers. The raw call returns 20 - nice.
    unsafe { syscall(nr::GETPRIORITY, &[which as usize, who as usize]) }.map(|v| 20 - v as i32)
}

pub fn setpriority(which: i32, who: i32, nice: i32) -> SysResult<()> {
    // SAFETY: no pointers.
    unsafe {
        syscall(
            nr::SETPRIORITY,
            &[which as usize, who as usize, nice as usize],
        )
    }
    .map(drop)
}

// System information.

/// `struct new_utsname`: six 65-byte fields.
#[repr(C)]
pub struct Utsname {
    pub sysname: [u8; 65],
    pub nodename: [u8; 65],
    pub release: [u8; 65],
    pub version: [u8; 65],
    pub machine: [u8; 65],
    pub domainname: [u8; 65],
}

pub fn uname() -> SysResult<Utsname> {
    let mut u = Utsname {
        sysname: [0; 65],
        nodename: [0; 65],
        release: [0; 65],
        version: [0; 65],
        machine: [0; 65],
        domainname: [0; 65],
    };
    // SAFETY: `u` is a `struct new_utsname`.
    unsafe { syscall(nr::UNAME, &[&raw mut u as usize]) }?;
    Ok(u)
}

/// `struct sysinfo` (x86-64).
#[repr(C)]
#[derive(Default)]
pub struct Sysinfo {
    pub uptime: i64,
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub sharedram: u64,
    pub bufferram: u64,
    pub totalswap: u64,
    pub freeswap: u64,
    pub procs: u16,
    pub _pad: u16,
    pub totalhigh: u64,
    pub freehigh: u64,
    pub mem_unit: u32,
    pub _f: [u8; 4],
}

pub fn sysinfo() -> SysResult<Sysinfo> {
    let mut s = Sysinfo::default();
    // SAFETY: `s` is a `struct sysinfo`.
    unsafe { syscall(nr::SYSINFO, &[&raw mut s as usize]) }?;
    Ok(s)
}

pub const SYSLOG_ACTION_READ_ALL: i32 = 3;
pub const SYSLOG_ACTION_SIZE_BUFFER: i32 = 10;

/// `syslog(2)` (`klogctl`).
pub fn syslog(action: i32, buf: &mut [u8]) -> SysResult<usize> {
    // SAFETY: the buffer is valid for writes of its length.
    unsafe {
        syscall(
            nr::SYSLOG,
            &[action as usize, buf.as_mut_ptr() as usize, buf.len()],
        )
    }
}

// Time.

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

pub const CLOCK_REALTIME: i32 = 0;
pub const CLOCK_MONOTONIC: i32 = 1;

pub fn clock_gettime(clock: i32) -> SysResult<Timespec> {
    let mut ts = Timespec::default();
    // SAFETY: `ts` is a `struct timespec`.
    unsafe { syscall(nr::CLOCK_GETTIME, &[clock as usize, &raw mut ts as usize]) }?;
    Ok(ts)
}

pub fn nanosleep(ts: &Timespec) -> SysResult<()> {
    // SAFETY: `ts` is a `struct timespec`; no remainder is asked for.
    unsafe { syscall(nr::NANOSLEEP, &[ts as *const Timespec as usize, 0]) }.map(drop)
}

// Files and directories (changing the tree).

/// Calls `n` with one path argument and `rest`.
fn path_call(n: usize, path: &str, rest: &[usize]) -> SysResult<usize> {
    with_cstr(path.as_bytes(), |p| {
        let mut args = [0usize; 6];
        args[0] = p as usize;
        args[1..1 + rest.len()].copy_from_slice(rest);
        // SAFETY: `p` is a NUL-terminated string; the other arguments are
        // values or pointers the caller made valid.
        unsafe { syscall(n, &args[..1 + rest.len()]) }
    })
}

/// Calls `n` with two path arguments.
fn path2_call(n: usize, a: &str, b: &str) -> SysResult<()> {
    with_cstr(a.as_bytes(), |pa| {
        with_cstr(b.as_bytes(), |pb| {
            // SAFETY: two NUL-terminated strings.
            unsafe { syscall(n, &[pa as usize, pb as usize]) }.map(drop)
        })
    })
}

pub fn mkdir(path: &str, mode: u32) -> SysResult<()> {
    path_call(nr::MKDIR, path, &[mode as usize]).map(drop)
}

pub fn rmdir(path: &str) -> SysResult<()> {
    path_call(nr::RMDIR, path, &[]).map(drop)
}

pub fn unlink(path: &str) -> SysResult<()> {
    path_call(nr::UNLINK, path, &[]).map(drop)
}

pub fn link(old: &str, new: &str) -> SysResult<()> {
    path2_call(nr::LINK, old, new)
}

pub fn symlink(target: &str, path: &str) -> SysResult<()> {
    path2_call(nr::SYMLINK, target, path)
}

pub fn rename(old: &str, new: &str) -> SysResult<()> {
    path2_call(nr::RENAME, old, new)
}

pub fn truncate(path: &str, size: u64) -> SysResult<()> {
    path_call(nr::TRUNCATE, path, &[size as usize]).map(drop)
}

pub fn ftruncate(fd: Fd, size: u64) -> SysResult<()> {
    // SAFETY: no pointers.
    unsafe { syscall(nr::FTRUNCATE, &[fd as usize, size as usize]) }.map(drop)
}

pub fn fsync(fd: Fd) -> SysResult<()> {
    // SAFETY: no pointers.
    unsafe { syscall(nr::FSYNC, &[fd as usize]) }.map(drop)
}

pub fn sync() {
    // SAFETY: no arguments.
    let _ = unsafe { syscall(nr::SYNC, &[]) };
}

pub fn chmod(path: &str, mode: u32) -> SysResult<()> {
    path_call(nr::CHMOD, path, &[mode as usize]).map(drop)
}

pub fn umask(mask: u32) -> u32 {
    // SAFETY: no pointers.
    unsafe { syscall(nr::UMASK, &[mask as usize]) }.unwrap_or(0) as u32
}

pub fn mknod(path: &str, mode: u32, dev: u64) -> SysResult<()> {
    path_call(nr::MKNOD, path, &[mode as usize, dev as usize]).map(drop)
}

pub fn pwrite(fd: Fd, buf: &[u8], offset: u64) -> SysResult<usize> {
    // SAFETY: the buffer is valid for reads of its length.
    unsafe {
        syscall(
            nr::PWRITE64,
            &[
                fd as usize,
                buf.as_ptr() as usize,
                buf.len(),
                offset as usize,
            ],
        )
    }
}

/// `utimensat(AT_FDCWD, path, NULL, 0)`: both times to now.
pub fn touch_times(path: &str) -> SysResult<()> {
    const AT_FDCWD: isize = -100;
    with_cstr(path.as_bytes(), |p| {
        // SAFETY: `p` is a NUL-terminated string; NULL times.
        unsafe { syscall(nr::UTIMENSAT, &[AT_FDCWD as usize, p as usize, 0, 0]) }.map(drop)
    })
}

/// What `statfs(2)` reports, the fields `df` needs.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatFs {
    pub fs_type: u64,
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
}

pub fn statfs(path: &str) -> SysResult<StatFs> {
    let mut raw = [0u64; 15];
    path_call(nr::STATFS, path, &[raw.as_mut_ptr() as usize])?;
    Ok(StatFs {
        fs_type: raw[0],
        bsize: raw[1],
        blocks: raw[2],
        bfree: raw[3],
        bavail: raw[4],
        files: raw[5],
        ffree: raw[6],
    })
}

pub fn umount(target: &str) -> SysResult<()> {
    path_call(nr::UMOUNT2, target, &[0]).map(drop)
}

/// `reboot(RB_POWER_OFF)`.
pub fn power_off() -> SysResult<()> {
    const MAGIC1: usize = 0xfee1_dead;
    const MAGIC2: usize = 672_274_793;
    const POWER_OFF: usize = 0x4321_fedc;
    // SAFETY: no pointers.
    unsafe { syscall(nr::REBOOT, &[MAGIC1, MAGIC2, POWER_OFF]) }.map(drop)
}
