//! The console terminal and its line discipline (Linux's
//! `drivers/tty/n_tty.c`, `tty_io.c`, `tty_ioctl.c`).
//!
//! Input arrives from the serial bottom half ([`receive`]). In canonical
//! mode (ICANON) it is edited into lines: echo (ECHO), erase (VERASE,
//! backspace), kill line (VKILL, ^U), end of file (VEOF, ^D: a read
//! returns what is typed so far, 0 at the start of a line); a line is
//! readable once it ends. With ISIG, ^C (VINTR) discards the pending input
//! and sends SIGINT to the foreground process group. In raw mode input is
//! readable byte by byte. `TCGETS`/`TCSETS*` read and set the `termios`,
//! `TIOCGPGRP`/`TIOCSPGRP` the foreground group.
//!
//! Until a process opens the console (no `/sbin/init`), complete lines go
//! to the kernel's console commands (`kernel/monitor.rs`) instead.

use alloc::collections::VecDeque;
use core::sync::atomic::{AtomicBool, Ordering};

use super::serial::console_write;
use crate::arch::x86_64::uaccess::{copy_from_user, copy_to_user, get_user, put_user};
use crate::fs::file::{File, FileOps, Stat, o, s};
use crate::kernel::errno::{EAGAIN, EINVAL, ENOTTY, KResult};
use crate::kernel::signal;
use crate::kernel::sync::SpinLock;
use crate::kernel::task::{self, Pid};
use crate::kernel::wait::WaitQueue;

pub const TCGETS: u32 = 0x5401;
pub const TCSETS: u32 = 0x5402;
pub const TCSETSW: u32 = 0x5403;
pub const TCSETSF: u32 = 0x5404;
pub const TIOCSCTTY: u32 = 0x540E;
pub const TIOCGPGRP: u32 = 0x540F;
pub const TIOCSPGRP: u32 = 0x5410;
pub const TIOCGWINSZ: u32 = 0x5413;
pub const TIOCSWINSZ: u32 = 0x5414;
pub const FIONREAD: u32 = 0x541B;
pub const TIOCNOTTY: u32 = 0x5422;
pub const TIOCGSID: u32 = 0x5429;

/// `c_iflag`.
const ICRNL: u32 = 0o400;
/// `c_oflag`.
const OPOST: u32 = 0o1;
const ONLCR: u32 = 0o4;
/// `c_lflag`.
const ISIG: u32 = 0o1;
const ICANON: u32 = 0o2;
const ECHO: u32 = 0o10;
const ECHOE: u32 = 0o20;
const ECHOK: u32 = 0o40;
const ECHOCTL: u32 = 0o1000;
const ECHOKE: u32 = 0o4000;
const IEXTEN: u32 = 0o100000;

/// `c_cc` indices.
const VINTR: usize = 0;
const VQUIT: usize = 1;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
const VTIME: usize = 5;
const VMIN: usize = 6;
const VSUSP: usize = 10;
const NCCS: usize = 19;

/// The kernel's `struct termios` (36 bytes; TCGETS uses this one, not
/// glibc's larger `struct termios`).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; NCCS],
}

impl Termios {
    /// Linux's `tty_std_termios`: 38400 8N1, cooked, echo.
    const fn standard() -> Termios {
        let mut cc = [0u8; NCCS];
        cc[VINTR] = 3;
        cc[VQUIT] = 0x1c;
        cc[VERASE] = 0x7f;
        cc[VKILL] = 0x15;
        cc[VEOF] = 4;
        cc[VTIME] = 0;
        cc[VMIN] = 1;
        cc[VSUSP] = 0x1a;
        Termios {
            iflag: ICRNL | 0o2000, // ICRNL | IXON
            oflag: OPOST | ONLCR,
            cflag: 0o17 | 0o60 | 0o200, // B38400 | CS8 | CREAD
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            line: 0,
            cc,
        }
    }
}

const LINE_MAX: usize = 4095;

struct Tty {
    termios: Termios,
    /// The line being edited (canonical mode).
    line: VecDeque<u8>,
    /// Input ready for readers.
    ready: VecDeque<u8>,
    /// End-of-file marks pending (^D), as positions in `ready`.
    eof_at: VecDeque<usize>,
    /// Complete lines in `ready`.
    lines: u64,
    lines_total: u64,
    /// The foreground process group and the session.
    pgrp: Pid,
    session: Pid,
    winsize: [u16; 4],
}

static TTY: SpinLock<Tty> = SpinLock::new(Tty {
    termios: Termios::standard(),
    line: VecDeque::new(),
    ready: VecDeque::new(),
    eof_at: VecDeque::new(),
    lines: 0,
    lines_total: 0,
    pgrp: 0,
    session: 0,
    winsize: [24, 80, 0, 0],
});

/// Readers waiting for input.
pub static READ_WAIT: WaitQueue = WaitQueue::new();
/// Whether user space owns the console (else lines go to the monitor).
static USER_CONSOLE: AtomicBool = AtomicBool::new(false);

/// Hands the console to user space: `pgrp` in the foreground of
/// `session`.
pub fn attach_user_console(session: Pid, pgrp: Pid) {
    let mut t = TTY.lock();
    t.session = session;
    t.pgrp = pgrp;
    USER_CONSOLE.store(true, Ordering::Relaxed);
}

/// The console's foreground process group.
pub fn foreground_pgrp() -> Pid {
    TTY.lock().pgrp
}

/// Echo of a control character as `^X`.
fn echo_ctl(b: u8) {
    console_write(&[b'^', b ^ 0x40]);
}

/// Takes received bytes (from the serial bottom half).
pub fn receive(bytes: &[u8]) {
    if !USER_CONSOLE.load(Ordering::Relaxed) {
        return monitor_receive(bytes);
    }
    for &b in bytes {
        let mut t = TTY.lock();
        let tio = t.termios;
        let mut c = b;
        if c == b'\r' && tio.iflag & ICRNL != 0 {
            c = b'\n';
        }
        let echo = tio.lflag & ECHO != 0;
        if tio.lflag & ISIG != 0 && (c == tio.cc[VINTR] || c == tio.cc[VQUIT]) && c != 0 {
            t.line.clear();
            t.ready.clear();
            t.eof_at.clear();
            t.lines = 0;
            let pgrp = t.pgrp;
            drop(t);
            if echo {
                echo_ctl(c);
                console_write(b"\n");
            }
            let sig = if c == tio.cc[VINTR] {
                signal::SIGINT
            } else {
                signal::SIGQUIT
            };
            if pgrp != 0 {
                signal::kill_pgrp(pgrp, sig);
            }
            continue;
        }
        if tio.lflag & ICANON == 0 {
            t.ready.push_back(c);
            drop(t);
            if echo {
                console_write(&[c]);
            }
            READ_WAIT.wake_up_all();
            continue;
        }
        if c == tio.cc[VERASE] || c == 0x08 {
            if t.line.pop_back().is_some() && echo {
                drop(t);
                console_write(b"\x08 \x08");
            }
        } else if c == tio.cc[VKILL] {
            let n = t.line.len();
            t.line.clear();
            drop(t);
            if echo {
                for _ in 0..n {
                    console_write(b"\x08 \x08");
                }
            }
        } else if c == tio.cc[VEOF] {
            let line: alloc::vec::Vec<u8> = t.line.drain(..).collect();
            t.ready.extend(line);
            let at = t.ready.len();
            t.eof_at.push_back(at);
            drop(t);
            READ_WAIT.wake_up_all();
        } else if c == b'\n' {
            let line: alloc::vec::Vec<u8> = t.line.drain(..).collect();
            t.ready.extend(line);
            t.ready.push_back(b'\n');
            t.lines += 1;
            t.lines_total += 1;
            drop(t);
            if echo || tio.lflag & 0o100 != 0 {
                console_write(b"\n");
            }
            READ_WAIT.wake_up_all();
        } else {
            if t.line.len() < LINE_MAX {
                t.line.push_back(c);
            }
            drop(t);
            if echo {
                if c < 0x20 && c != b'\t' && tio.lflag & ECHOCTL != 0 {
                    echo_ctl(c);
                } else {
                    console_write(&[c]);
                }
            }
        }
    }
}

/// Whether a read would not block.
fn readable(t: &Tty) -> bool {
    if t.termios.lflag & ICANON != 0 {
        t.lines > 0 || !t.eof_at.is_empty()
    } else {
        !t.ready.is_empty()
    }
}

/// `read(2)` on the terminal.
fn tty_read(file: &File, buf: &mut [u8]) -> KResult<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let nonblock = file.flags.load(Ordering::Relaxed) & o::NONBLOCK != 0;
    if nonblock && !readable(&TTY.lock()) {
        return Err(EAGAIN);
    }
    READ_WAIT.wait_event_interruptible(|| readable(&TTY.lock()))?;
    let mut t = TTY.lock();
    let canon = t.termios.lflag & ICANON != 0;
    let mut n = 0;
    if canon {
        // Up to the end of one line, or to an EOF mark.
        let limit = t.eof_at.front().copied();
        let mut hit_eof = false;
        while n < buf.len() {
            if limit == Some(n) {
                hit_eof = true;
                break;
            }
            let Some(c) = t.ready.pop_front() else { break };
            buf[n] = c;
            n += 1;
            if c == b'\n' {
                t.lines -= 1;
                break;
            }
        }
        if !hit_eof && limit == Some(n) && n < buf.len() {
            // Stopped right at the mark for another reason than a newline.
            hit_eof = n > 0 && buf[n - 1] != b'\n';
        }
        // Consumed bytes shift the EOF marks; a mark reached is used up.
        let used = n;
        let mut marks: VecDeque<usize> = t.eof_at.iter().map(|&m| m - used.min(m)).collect();
        if hit_eof {
            marks.pop_front();
        }
        t.eof_at = marks;
    } else {
        while n < buf.len() {
            let Some(c) = t.ready.pop_front() else { break };
            buf[n] = c;
            n += 1;
        }
    }
    Ok(n)
}

/// `write(2)` on the terminal (OPOST/ONLCR: the serial driver sends
/// `\r\n`).
fn tty_write(buf: &[u8]) -> KResult<usize> {
    for chunk in buf.chunks(256) {
        console_write(chunk);
        crate::kernel::sched::cond_resched();
    }
    Ok(buf.len())
}

fn tty_ioctl(cmd: u32, arg: u64) -> KResult<i64> {
    match cmd {
        TCGETS => {
            let tio = TTY.lock().termios;
            put_user(arg, &tio)?;
        }
        TCSETS | TCSETSW | TCSETSF => {
            let mut tio = Termios::default();
            // SAFETY: Termios is plain data.
            let bytes = unsafe {
                core::slice::from_raw_parts_mut(
                    (&raw mut tio).cast::<u8>(),
                    core::mem::size_of::<Termios>(),
                )
            };
            copy_from_user(bytes, arg)?;
            let mut t = TTY.lock();
            let was_canon = t.termios.lflag & ICANON != 0;
            t.termios = tio;
            if cmd == TCSETSF {
                t.ready.clear();
                t.eof_at.clear();
                t.lines = 0;
            }
            if was_canon && tio.lflag & ICANON == 0 {
                // Going raw: the line being edited becomes input.
                let line: alloc::vec::Vec<u8> = t.line.drain(..).collect();
                t.ready.extend(line);
            }
            drop(t);
            READ_WAIT.wake_up_all();
        }
        TIOCGPGRP => {
            let pgrp = TTY.lock().pgrp as i32;
            put_user(arg, &pgrp)?;
        }
        TIOCSPGRP => {
            let pgrp: i32 = get_user(arg)?;
            if pgrp <= 0 {
                return Err(EINVAL);
            }
            TTY.lock().pgrp = pgrp as Pid;
        }
        TIOCGSID => {
            let sid = TTY.lock().session as i32;
            put_user(arg, &sid)?;
        }
        TIOCGWINSZ => {
            let ws = TTY.lock().winsize;
            let mut b = [0u8; 8];
            for (i, v) in ws.iter().enumerate() {
                b[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
            }
            copy_to_user(arg, &b)?;
        }
        TIOCSWINSZ => {
            let mut b = [0u8; 8];
            copy_from_user(&mut b, arg)?;
            let mut ws = [0u16; 4];
            for (i, v) in ws.iter_mut().enumerate() {
                *v = u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
            }
            TTY.lock().winsize = ws;
        }
        FIONREAD => {
            let n = TTY.lock().ready.len() as i32;
            put_user(arg, &n)?;
        }
        TIOCSCTTY => {
            let t = task::current();
            let mut tty = TTY.lock();
            tty.session = t.sid;
            tty.pgrp = t.pgid;
        }
        TIOCNOTTY => {}
        _ => return Err(ENOTTY),
    }
    Ok(0)
}

/// The console as an open file (`/dev/console`, `/dev/tty`, `/dev/ttyS0`).
pub struct TtyFile;

impl FileOps for TtyFile {
    fn poll(&self) -> u32 {
        use crate::fs::file::poll;
        if TTY.lock().ready.is_empty() {
            poll::OUT
        } else {
            poll::IN | poll::OUT
        }
    }

    fn read(&self, file: &File, buf: &mut [u8], _pos: u64) -> KResult<usize> {
        tty_read(file, buf)
    }
    fn write(&self, _file: &File, buf: &[u8], _pos: u64) -> KResult<usize> {
        tty_write(buf)
    }
    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            mode: s::IFCHR | 0o620,
            rdev: (5 << 8) | 1,
            ino: 7,
            nlink: 1,
            dev: 5,
            blksize: 1024,
            ..Stat::default()
        })
    }
    fn ioctl(&self, cmd: u32, arg: u64) -> KResult<i64> {
        tty_ioctl(cmd, arg)
    }
    fn seekable(&self) -> bool {
        false
    }
}

/// The kernel console commands' line editing (no user space yet).
fn monitor_receive(bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'\r' | b'\n' => {
                console_write(b"\n");
                let mut t = TTY.lock();
                let text: alloc::vec::Vec<u8> = t.line.drain(..).collect();
                t.lines_total += 1;
                drop(t);
                READ_WAIT.wake_up_all();
                if let Ok(cmd) = core::str::from_utf8(&text) {
                    crate::kernel::monitor::run(cmd);
                }
            }
            0x08 | 0x7f => {
                if TTY.lock().line.pop_back().is_some() {
                    console_write(b"\x08 \x08");
                }
            }
            _ => {
                let mut t = TTY.lock();
                if t.line.len() < LINE_MAX {
                    t.line.push_back(b);
                }
                drop(t);
                console_write(&[b]);
            }
        }
    }
}

/// Lines completed so far.
pub fn lines_received() -> u64 {
    TTY.lock().lines_total
}
