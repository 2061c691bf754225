//! The terminal line discipline (Linux's `drivers/tty/n_tty.c`, canonical
//! mode): echoes what the console receives, handles backspace, and
//! collects input into lines for a future reader. Until one exists, a
//! complete line goes to the console commands (`kernel/monitor.rs`).

use crate::kernel::sync::SpinLock;
use crate::kernel::wait::WaitQueue;

use super::serial::console_write;

const LINE_MAX: usize = 256;

struct Line {
    buf: [u8; LINE_MAX],
    len: usize,
    /// Completed lines so far.
    lines: u64,
}

static LINE: SpinLock<Line> = SpinLock::new(Line {
    buf: [0; LINE_MAX],
    len: 0,
    lines: 0,
});
/// Readers waiting for a complete line.
pub static READ_WAIT: WaitQueue = WaitQueue::new();

/// Takes received bytes (from the serial bottom half).
pub fn receive(bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'\r' | b'\n' => {
                console_write(b"\n");
                let mut line = LINE.lock();
                let mut text = [0u8; LINE_MAX];
                let n = line.len;
                text[..n].copy_from_slice(&line.buf[..n]);
                line.len = 0;
                line.lines += 1;
                drop(line);
                READ_WAIT.wake_up_all();
                if let Ok(cmd) = core::str::from_utf8(&text[..n]) {
                    crate::kernel::monitor::run(cmd);
                }
            }
            0x08 | 0x7f => {
                let mut line = LINE.lock();
                if line.len > 0 {
                    line.len -= 1;
                    drop(line);
                    console_write(b"\x08 \x08");
                }
            }
            _ => {
                let mut line = LINE.lock();
                if line.len < LINE_MAX {
                    let n = line.len;
                    line.buf[n] = b;
                    line.len += 1;
                }
                drop(line);
                console_write(&[b]);
            }
        }
    }
}

/// Lines completed so far.
pub fn lines_received() -> u64 {
    LINE.lock().lines
}
