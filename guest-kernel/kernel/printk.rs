//! printk: the kernel log (Linux's `kernel/printk/printk.c`).
//!
//! Every message gets a level (`KERN_EMERG` 0 .. `KERN_DEBUG` 7) and a
//! timestamp, seconds since boot as dmesg shows them: `[    0.012345] text`.
//! All messages are kept in a ring buffer ([`LOG_BUF_LEN`] bytes, oldest
//! lines dropped first) as `<level>[timestamp] text` lines, the format of
//! `dmesg -r`; the console only shows levels below the console log level
//! (`loglevel=N` on the command line, default 7: everything but debug).
//!
//! After an oops ([`oops_in_progress`]) printk stops taking locks and writes
//! to the serial port by polling.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::drivers::serial;
use crate::kernel::sync::SpinLock;
use crate::kernel::time;

pub const KERN_EMERG: u8 = 0;
// 1 (alert) and 2 (critical) exist in Linux; nothing here needs them.
pub const KERN_ERR: u8 = 3;
pub const KERN_WARNING: u8 = 4;
pub const KERN_NOTICE: u8 = 5;
pub const KERN_INFO: u8 = 6;
pub const KERN_DEBUG: u8 = 7;

/// Linux's CONFIG_LOG_BUF_SHIFT = 16.
pub const LOG_BUF_LEN: usize = 1 << 16;
/// Longest message; longer ones are cut.
const LINE_MAX: usize = 1024;

/// Messages with a level below this reach the console.
static CONSOLE_LOGLEVEL: AtomicU8 = AtomicU8::new(7);
static OOPS_IN_PROGRESS: AtomicBool = AtomicBool::new(false);
static LOG_BUF: SpinLock<LogBuf> = SpinLock::new(LogBuf::new());

#[macro_export]
macro_rules! printk {
    ($level:expr, $($arg:tt)*) => {
        $crate::kernel::printk::printk($level, format_args!($($arg)*))
    };
}
#[macro_export]
macro_rules! pr_emerg { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::KERN_EMERG, $($arg)*) }; }
#[macro_export]
macro_rules! pr_err { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::KERN_ERR, $($arg)*) }; }
#[macro_export]
macro_rules! pr_warn { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::KERN_WARNING, $($arg)*) }; }
#[macro_export]
macro_rules! pr_notice { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::KERN_NOTICE, $($arg)*) }; }
#[macro_export]
macro_rules! pr_info { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::KERN_INFO, $($arg)*) }; }
#[macro_export]
macro_rules! pr_debug { ($($arg:tt)*) => { $crate::printk!($crate::kernel::printk::KERN_DEBUG, $($arg)*) }; }

/// Sets the console log level (`loglevel=N`).
pub fn set_console_loglevel(level: u8) {
    CONSOLE_LOGLEVEL.store(level.min(8), Ordering::Relaxed);
}

/// Switches printk to its lock-free, polled path for an oops or panic
/// (Linux's `oops_in_progress` / `bust_spinlocks`).
pub fn set_oops_in_progress() {
    OOPS_IN_PROGRESS.store(true, Ordering::SeqCst);
    serial::enter_emergency_mode();
}

/// Whether an oops or panic is being reported.
pub fn oops_in_progress() -> bool {
    OOPS_IN_PROGRESS.load(Ordering::Relaxed)
}

/// Logs one message at `level`. Use the `pr_*!` macros.
pub fn printk(level: u8, args: fmt::Arguments) {
    let mut text = LineBuf::new();
    let _ = text.write_fmt(args);
    let ns = time::uptime_ns();
    let mut stamp = LineBuf::new();
    let _ = write!(
        stamp,
        "[{:5}.{:06}] ",
        ns / 1_000_000_000,
        (ns / 1000) % 1_000_000
    );
    let to_console = level < CONSOLE_LOGLEVEL.load(Ordering::Relaxed);
    let body = text.as_bytes();
    let body = body.strip_suffix(b"\n").unwrap_or(body);

    if oops_in_progress() {
        // SAFETY: during an oops nothing else runs; the code that faulted
        // may hold the log lock and never release it.
        let log = unsafe { LOG_BUF.force_get() };
        for line in body.split(|&b| b == b'\n') {
            log.store(level, stamp.as_bytes(), line);
            if to_console {
                serial::emergency_write(stamp.as_bytes());
                serial::emergency_write(line);
                serial::emergency_write(b"\n");
            }
        }
        return;
    }
    let mut log = LOG_BUF.lock();
    for line in body.split(|&b| b == b'\n') {
        log.store(level, stamp.as_bytes(), line);
        if to_console {
            serial::console_write(stamp.as_bytes());
            serial::console_write(line);
            serial::console_write(b"\n");
        }
    }
}

/// Calls `f` with the log's contents, oldest first, as `<level>[time] text`
/// lines (in up to two pieces, as the ring wraps).
pub fn read_log(mut f: impl FnMut(&[u8])) {
    let log = LOG_BUF.lock();
    let (a, b) = log.contents();
    f(a);
    f(b);
}

/// A byte ring of whole lines.
struct LogBuf {
    buf: [u8; LOG_BUF_LEN],
    /// Bytes ever written; the next byte goes to `head % LEN`.
    head: usize,
    /// Start of the oldest kept line, as a count like `head`.
    tail: usize,
}

impl LogBuf {
    const fn new() -> Self {
        LogBuf {
            buf: [0; LOG_BUF_LEN],
            head: 0,
            tail: 0,
        }
    }

    fn store(&mut self, level: u8, stamp: &[u8], text: &[u8]) {
        self.push(&[b'<', b'0' + level.min(7), b'>']);
        self.push(stamp.strip_suffix(b" ").unwrap_or(stamp));
        self.push(b" ");
        self.push(text);
        self.push(b"\n");
    }

    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.head - self.tail == LOG_BUF_LEN {
                // Drop the oldest line to make room.
                while self.tail < self.head {
                    let old = self.buf[self.tail % LOG_BUF_LEN];
                    self.tail += 1;
                    if old == b'\n' {
                        break;
                    }
                }
            }
            self.buf[self.head % LOG_BUF_LEN] = b;
            self.head += 1;
        }
    }

    fn contents(&self) -> (&[u8], &[u8]) {
        let start = self.tail % LOG_BUF_LEN;
        let len = self.head - self.tail;
        if start + len <= LOG_BUF_LEN {
            (&self.buf[start..start + len], &[])
        } else {
            (&self.buf[start..], &self.buf[..start + len - LOG_BUF_LEN])
        }
    }
}

/// A fixed buffer `core::fmt` writes into, cutting what does not fit.
struct LineBuf {
    buf: [u8; LINE_MAX],
    len: usize,
}

impl LineBuf {
    fn new() -> Self {
        LineBuf {
            buf: [0; LINE_MAX],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(LINE_MAX - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
