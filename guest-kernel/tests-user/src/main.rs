//! `ktest`: checks of the kernel's process machinery, run inside the guest
//! by the boot tests (`tests/tests/processes.rs`). Freestanding, raw
//! system calls, so it depends on nothing but the kernel.
//!
//! - `ktest fault`: bad pointers give EFAULT, a bad ELF gives ENOEXEC,
//!   fork/exec/wait with exit statuses and death by signal, pipe EOF and
//!   EPIPE.
//! - `ktest preempt`: two CPU-bound children, each writing its letter to a
//!   pipe every 5 ms; time sharing shows as interleaving.
//! - `ktest fifo`: a SCHED_FIFO child's letters come in one run, never
//!   interrupted by the SCHED_OTHER child's.
//! - `ktest spin`: spins forever (for ^C).
#![no_std]
#![no_main]

use core::arch::{asm, global_asm};

global_asm!(
    ".globl _start",
    "_start:",
    "    mov rdi, rsp",
    "    and rsp, -16",
    "    call {main}",
    "    ud2",
    main = sym start_rust,
);

unsafe fn syscall6(n: u64, a: [u64; 6]) -> i64 {
    let r: i64;
    // SAFETY: the Linux x86-64 system-call convention; the kernel only
    // clobbers RCX and R11.
    unsafe {
        asm!("syscall", inlateout("rax") n as i64 => r, in("rdi") a[0], in("rsi") a[1],
             in("rdx") a[2], in("r10") a[3], in("r8") a[4], in("r9") a[5],
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    r
}

fn sys(n: u64, a0: u64, a1: u64, a2: u64) -> i64 {
    // SAFETY: every call below passes valid or deliberately bad pointers;
    // the kernel checks them.
    unsafe { syscall6(n, [a0, a1, a2, 0, 0, 0]) }
}

fn sys_int80(n: u64, a0: u64, a1: u64, a2: u64) -> i64 {
    let r: i64;
    // SAFETY: the same call through the int 0x80 gate.
    unsafe {
        asm!("int 0x80", inlateout("rax") n as i64 => r, in("rdi") a0, in("rsi") a1,
             in("rdx") a2, options(nostack));
    }
    r
}

const READ: u64 = 0;
const WRITE: u64 = 1;
const CLOSE: u64 = 3;
const PIPE: u64 = 22;
const SCHED_YIELD: u64 = 24;
const GETPID: u64 = 39;
const FORK: u64 = 57;
const EXECVE: u64 = 59;
const EXIT: u64 = 60;
const WAIT4: u64 = 61;
const KILL: u64 = 62;
const OPEN: u64 = 2;
const SCHED_SETSCHEDULER: u64 = 144;
const CLOCK_GETTIME: u64 = 228;
const RT_SIGACTION: u64 = 13;

fn write(fd: u64, s: &[u8]) -> i64 {
    sys(WRITE, fd, s.as_ptr() as u64, s.len() as u64)
}

fn print(s: &str) {
    write(1, s.as_bytes());
}

fn print_num(mut v: i64) {
    let mut buf = [0u8; 24];
    let mut i = buf.len();
    let neg = v < 0;
    if neg {
        v = -v;
    }
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    write(1, &buf[i..]);
}

fn exit(code: u64) -> ! {
    sys(EXIT, code, 0, 0);
    loop {
        core::hint::spin_loop();
    }
}

static mut FAILS: u32 = 0;

fn check(name: &str, got: i64, want: i64) {
    print(if got == want { "ok   " } else { "FAIL " });
    print(name);
    print(" = ");
    print_num(got);
    if got != want {
        print(" (want ");
        print_num(want);
        print(")");
        // SAFETY: single-threaded.
        unsafe { FAILS += 1 };
    }
    print("\n");
}

fn now_ns() -> i64 {
    let mut ts = [0i64; 2];
    sys(CLOCK_GETTIME, 1, ts.as_mut_ptr() as u64, 0);
    ts[0] * 1_000_000_000 + ts[1]
}

/// Two processes bounce a byte over two pipes: each round trip is two
/// context switches and four system calls.
fn pingpong() {
    const ROUNDS: i64 = 1000;
    let mut a = [0i32; 2];
    let mut b = [0i32; 2];
    sys(PIPE, a.as_mut_ptr() as u64, 0, 0);
    sys(PIPE, b.as_mut_ptr() as u64, 0, 0);
    let pid = sys(FORK, 0, 0, 0);
    let mut byte = [0u8; 1];
    if pid == 0 {
        sys(CLOSE, a[1] as u64, 0, 0);
        while sys(READ, a[0] as u64, byte.as_mut_ptr() as u64, 1) == 1 {
            write(b[1] as u64, &byte);
        }
        exit(0);
    }
    sys(CLOSE, a[0] as u64, 0, 0);
    sys(CLOSE, b[1] as u64, 0, 0);
    let t0 = now_ns();
    let mut ok = 0;
    for _ in 0..ROUNDS {
        write(a[1] as u64, b"x");
        ok += sys(READ, b[0] as u64, byte.as_mut_ptr() as u64, 1);
    }
    let dt = now_ns() - t0;
    sys(CLOSE, a[1] as u64, 0, 0);
    check("pingpong: child status", i64::from(wait(pid)), 0);
    check("pingpong: round trips", ok, ROUNDS);
    print("pingpong: ns per round trip (2 switches, 4 syscalls) = ");
    print_num(dt / ROUNDS);
    print("\n");
    let t0 = now_ns();
    for _ in 0..ROUNDS {
        sys(GETPID, 0, 0, 0);
    }
    print("pingpong: ns per getpid = ");
    print_num((now_ns() - t0) / ROUNDS);
    print("\n");
}

fn now_ms() -> i64 {
    let mut ts = [0i64; 2];
    sys(CLOCK_GETTIME, 1, ts.as_mut_ptr() as u64, 0);
    ts[0] * 1000 + ts[1] / 1_000_000
}

fn wait(pid: i64) -> i32 {
    let mut status = 0i32;
    sys(WAIT4, pid as u64, (&raw mut status) as u64, 0);
    status
}

fn fault() {
    check("write(1, 0x1, 5)", write_raw(1, 0x1, 5), -14);
    check(
        "write(1, kernel address, 5)",
        write_raw(1, 0xffff_8880_0000_0000, 5),
        -14,
    );
    check(
        "read(0, non-canonical, 1)",
        sys(READ, 0, 0x8000_0000_0000_0000, 1),
        -14,
    );
    check("open(NULL)", sys(OPEN, 0, 0, 0), -14);
    check("pipe(0x10)", sys(PIPE, 0x10, 0, 0), -14);
    check(
        "wait4(-1, 0x10 status) with no child",
        sys(WAIT4, u64::MAX, 0x10, 0),
        -10,
    );
    // (Only in the guest: Linux's int 0x80 is the i386 ABI.)
    check(
        "getpid via int 0x80 == syscall",
        sys_int80(GETPID, 0, 0, 0),
        sys(GETPID, 0, 0, 0),
    );
    let argv = [c"/bin/badelf".as_ptr() as u64, 0];
    check(
        "execve(/bin/badelf)",
        sys(
            EXECVE,
            c"/bin/badelf".as_ptr() as u64,
            argv.as_ptr() as u64,
            0,
        ),
        -8,
    );
    check(
        "execve(/bin/truncelf)",
        sys(
            EXECVE,
            c"/bin/truncelf".as_ptr() as u64,
            argv.as_ptr() as u64,
            0,
        ),
        -8,
    );
    check(
        "execve(/etc/motd) (not executable)",
        sys(
            EXECVE,
            c"/etc/motd".as_ptr() as u64,
            argv.as_ptr() as u64,
            0,
        ),
        -13,
    );
    check(
        "execve(bad argv pointer)",
        sys(EXECVE, c"/bin/ktest".as_ptr() as u64, 0x10, 0),
        -14,
    );
    // fork + exit status
    let pid = sys(FORK, 0, 0, 0);
    if pid == 0 {
        exit(42);
    }
    check("child exit status (42 << 8)", i64::from(wait(pid)), 42 << 8);
    // death by SIGSEGV: status 11 | 0x80 (core)
    let pid = sys(FORK, 0, 0, 0);
    if pid == 0 {
        // SAFETY: deliberately faults.
        unsafe { (0x10 as *mut u8).write_volatile(1) };
        exit(0);
    }
    check("segfaulting child status", i64::from(wait(pid)), 11);
    // kill with SIGTERM
    let pid = sys(FORK, 0, 0, 0);
    if pid == 0 {
        loop {
            sys(SCHED_YIELD, 0, 0, 0);
        }
    }
    check("kill(child, SIGTERM)", sys(KILL, pid as u64, 15, 0), 0);
    check("SIGTERMed child status", i64::from(wait(pid)), 15);
    // exec of a program and its exit status
    let pid = sys(FORK, 0, 0, 0);
    if pid == 0 {
        let argv = [c"ktest".as_ptr() as u64, c"exit7".as_ptr() as u64, 0];
        sys(
            EXECVE,
            c"/bin/ktest".as_ptr() as u64,
            argv.as_ptr() as u64,
            0,
        );
        exit(99);
    }
    check("exec'd child exit status", i64::from(wait(pid)), 7 << 8);
    // pipes: EOF when writers close, EPIPE when readers close
    let mut fds = [0i32; 2];
    check("pipe", sys(PIPE, fds.as_mut_ptr() as u64, 0, 0), 0);
    write(fds[1] as u64, b"abc");
    sys(CLOSE, fds[1] as u64, 0, 0);
    let mut buf = [0u8; 8];
    check(
        "read pipe",
        sys(READ, fds[0] as u64, buf.as_mut_ptr() as u64, 8),
        3,
    );
    check(
        "read pipe at EOF",
        sys(READ, fds[0] as u64, buf.as_mut_ptr() as u64, 8),
        0,
    );
    sys(CLOSE, fds[0] as u64, 0, 0);
    sys(PIPE, fds.as_mut_ptr() as u64, 0, 0);
    sys(CLOSE, fds[0] as u64, 0, 0);
    let sa = [1u64, 0, 0, 0]; // SIG_IGN for SIGPIPE
    // SAFETY: a valid sigaction and sigsetsize 8.
    unsafe { syscall6(RT_SIGACTION, [13, sa.as_ptr() as u64, 0, 8, 0, 0]) };
    check(
        "write to a pipe without readers",
        write(fds[1] as u64, b"x"),
        -32,
    );
    // A mapping larger than memory fails cleanly and leaves none behind.
    // SAFETY: anonymous private mapping, no pointers passed.
    let huge = unsafe { syscall6(9, [0, 1 << 30, 3, 0x22, u64::MAX, 0]) };
    check("mmap(1 GiB) without the memory", huge, -12);
    // SAFETY: as above, a small one.
    let small = unsafe { syscall6(9, [0, 1 << 20, 3, 0x22, u64::MAX, 0]) };
    check("mmap(1 MiB) still works", i64::from(small > 0), 1);
    print("fault: done\n");
}

fn write_raw(fd: u64, p: u64, n: u64) -> i64 {
    sys(WRITE, fd, p, n)
}

/// Spins for `ms` of wall time.
fn spin_ms(ms: i64) {
    let end = now_ms() + ms;
    while now_ms() < end {}
}

/// A child that writes `letter` every 5 ms of its own running, `n` times.
fn worker(fd: i32, letter: u8, n: u32, fifo: bool) -> i64 {
    let pid = sys(FORK, 0, 0, 0);
    if pid == 0 {
        if fifo {
            let prio = 50i32;
            let r = sys(SCHED_SETSCHEDULER, 0, 1, (&raw const prio) as u64);
            if r != 0 {
                exit(3);
            }
        }
        for _ in 0..n {
            spin_ms(5);
            write(fd as u64, &[letter]);
        }
        exit(0);
    }
    pid
}

fn collect(fd: i32, buf: &mut [u8]) -> usize {
    let mut n = 0;
    loop {
        let r = sys(
            READ,
            fd as u64,
            buf[n..].as_mut_ptr() as u64,
            (buf.len() - n) as u64,
        );
        if r <= 0 {
            return n;
        }
        n += r as usize;
    }
}

fn transitions(s: &[u8]) -> usize {
    s.windows(2).filter(|w| w[0] != w[1]).count()
}

fn preempt() {
    let mut fds = [0i32; 2];
    sys(PIPE, fds.as_mut_ptr() as u64, 0, 0);
    let a = worker(fds[1], b'A', 40, false);
    let b = worker(fds[1], b'B', 40, false);
    sys(CLOSE, fds[1] as u64, 0, 0);
    let mut buf = [0u8; 256];
    let n = collect(fds[0], &mut buf);
    wait(a);
    wait(b);
    print("preempt: ");
    write(1, &buf[..n]);
    print("\n");
    check("preempt: letters", n as i64, 80);
    let t = transitions(&buf[..n]) as i64;
    check("preempt: time-shared (>= 3 switches)", i64::from(t >= 3), 1);
}

fn fifo() {
    let mut fds = [0i32; 2];
    sys(PIPE, fds.as_mut_ptr() as u64, 0, 0);
    let o = worker(fds[1], b'O', 30, false);
    spin_ms(20);
    let f = worker(fds[1], b'F', 10, true);
    sys(CLOSE, fds[1] as u64, 0, 0);
    let mut buf = [0u8; 256];
    let n = collect(fds[0], &mut buf);
    check("fifo: child status", i64::from(wait(f)), 0);
    wait(o);
    print("fifo: ");
    write(1, &buf[..n]);
    print("\n");
    let s = &buf[..n];
    let first = s.iter().position(|&c| c == b'F').unwrap_or(0);
    let last = s.iter().rposition(|&c| c == b'F').unwrap_or(0);
    let os_inside = s[first..=last].iter().filter(|&&c| c == b'O').count();
    check(
        "fifo: SCHED_OTHER letters inside the FIFO run",
        os_inside as i64,
        0,
    );
    check(
        "fifo: the FIFO child ran before the other finished",
        i64::from(last < n - 1),
        1,
    );
}

/// Raw mode: TCGETS, ICANON and ECHO off by TCSETS, one byte read
/// without a newline, the old mode back.
fn raw() {
    const IOCTL: u64 = 16;
    const TCGETS: u64 = 0x5401;
    const TCSETS: u64 = 0x5402;
    let mut tio = [0u8; 36];
    check("TCGETS", sys(IOCTL, 0, TCGETS, tio.as_mut_ptr() as u64), 0);
    let saved = tio;
    let lflag = u32::from_le_bytes([tio[12], tio[13], tio[14], tio[15]]);
    check("ICANON was on", i64::from(lflag & 2 != 0), 1);
    let raw = lflag & !(2 | 0o10); // ICANON, ECHO
    tio[12..16].copy_from_slice(&raw.to_le_bytes());
    check("TCSETS raw", sys(IOCTL, 0, TCSETS, tio.as_ptr() as u64), 0);
    print("raw>");
    let mut b = [0u8; 4];
    let n = sys(READ, 0, b.as_mut_ptr() as u64, 4);
    check("raw read without a newline", n, 1);
    check("the byte", i64::from(b[0]), i64::from(b'x'));
    check(
        "TCSETS back",
        sys(IOCTL, 0, TCSETS, saved.as_ptr() as u64),
        0,
    );
    check("TIOCGPGRP", sys(IOCTL, 0, 0x540F, b.as_mut_ptr() as u64), 0);
}

extern "C" fn start_rust(sp: *const u64) -> ! {
    // SAFETY: the kernel's initial stack: argc, argv[], NULL, ...
    let (argc, argv) = unsafe { (*sp as usize, sp.add(1)) };
    let arg = |i: usize| -> &[u8] {
        if i >= argc {
            return b"";
        }
        // SAFETY: argv[i] is a NUL-terminated string on the stack.
        unsafe {
            let p = *argv.add(i) as *const u8;
            let mut n = 0;
            while *p.add(n) != 0 {
                n += 1;
            }
            core::slice::from_raw_parts(p, n)
        }
    };
    match arg(1) {
        b"fault" => fault(),
        b"preempt" => preempt(),
        b"fifo" => fifo(),
        b"exit7" => exit(7),
        b"pingpong" => pingpong(),
        b"raw" => raw(),
        b"spin" => loop {
            core::hint::spin_loop();
        },
        _ => print("usage: ktest fault|preempt|fifo|pingpong|raw|spin\n"),
    }
    // SAFETY: single-threaded.
    let fails = unsafe { FAILS };
    if fails == 0 {
        print("ktest: PASS\n");
    } else {
        print("ktest: FAILED\n");
    }
    exit(u64::from(fails != 0))
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    print("ktest: panic\n");
    exit(2)
}

#[unsafe(no_mangle)]
extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller's buffer.
        unsafe { d.add(i).write_volatile(c as u8) };
    }
    d
}

#[unsafe(no_mangle)]
extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller's buffers.
        unsafe { d.add(i).write_volatile(s.add(i).read()) };
    }
    d
}

#[unsafe(no_mangle)]
extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    if (d as usize) < (s as usize) {
        memcpy(d, s, n)
    } else {
        for i in (0..n).rev() {
            // SAFETY: the caller's buffers.
            unsafe { d.add(i).write_volatile(s.add(i).read()) };
        }
        d
    }
}

#[unsafe(no_mangle)]
extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller's buffers.
        let (x, y) = unsafe { (a.add(i).read(), b.add(i).read()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

#[unsafe(no_mangle)]
extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    memcmp(a, b, n)
}

#[unsafe(no_mangle)]
extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the caller's NUL-terminated string.
    while unsafe { s.add(n).read_volatile() } != 0 {
        n += 1;
    }
    n
}
