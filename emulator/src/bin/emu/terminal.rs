//! The host terminal: raw mode while the guest owns the console, and the
//! Ctrl-A escape keys.
//!
//! Raw mode is entered only when standard input is a terminal, and is
//! restored on every way out: normal exit (the guard's `Drop`), errors, and
//! panics (a panic hook restores it before the message is printed).

use crossbeam_channel::Sender;
use std::io::{IsTerminal, Read};
use std::sync::Mutex;

/// The terminal settings to put back, while raw mode is on.
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

/// Raw mode for as long as this lives.
pub struct RawMode;

impl RawMode {
    /// Enters raw mode if stdin is a terminal; `None` otherwise.
    pub fn enter() -> Option<RawMode> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        // SAFETY: termios is a plain C struct; zeroed is a valid value to
        // be overwritten by tcgetattr.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 is open for the life of the process and `t` is a
        // valid, writable termios.
        if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
            return None;
        }
        *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
        let previous_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous_hook(info);
        }));
        let mut raw = t;
        // SAFETY: `raw` is a valid termios to modify in place.
        unsafe { libc::cfmakeraw(&mut raw) };
        // Keep output post-processing so "\n" still returns the carriage
        // for the emulator's own messages on stderr.
        raw.c_oflag |= libc::OPOST;
        // SAFETY: fd 0 is a terminal (checked above); `raw` is valid.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &raw) };
        Some(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the saved terminal settings back, once.
pub fn restore() {
    if let Some(t) = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take() {
        // SAFETY: `t` came from tcgetattr on fd 0.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
    }
}

/// The escape character: Ctrl-A.
pub const ESCAPE: u8 = 0x01;

pub const HELP: &str =
    "\r\nC-a h    print this help\r\nC-a x    exit emulator\r\nC-a C-a  send C-a\r\n";

/// What the user's keystrokes mean.
#[derive(Debug, Default)]
pub struct EscapeReader {
    pending: bool,
}

/// One interpreted keystroke.
#[derive(Debug, PartialEq, Eq)]
pub enum Key {
    /// A byte for the guest.
    Guest(u8),
    Quit,
    Help,
    /// Swallowed (the escape itself, or an unknown escape sequence).
    Nothing,
}

impl EscapeReader {
    pub fn feed(&mut self, b: u8) -> Key {
        if !self.pending {
            if b == ESCAPE {
                self.pending = true;
                return Key::Nothing;
            }
            return Key::Guest(b);
        }
        self.pending = false;
        match b {
            b'x' | b'X' => Key::Quit,
            b'h' | b'H' | b'?' => Key::Help,
            ESCAPE => Key::Guest(ESCAPE),
            _ => Key::Nothing,
        }
    }
}

/// Reads stdin on its own thread: bytes for the guest go to `guest`, a
/// quit request to `quit`. Ends at end of input.
pub fn spawn_input(guest: Sender<u8>, quit: Sender<()>) {
    std::thread::spawn(move || {
        let mut keys = EscapeReader::default();
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 256];
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            for &b in &buf[..n] {
                match keys.feed(b) {
                    Key::Guest(g) => {
                        if guest.send(g).is_err() {
                            return;
                        }
                    }
                    Key::Quit => {
                        let _ = quit.send(());
                        return;
                    }
                    Key::Help => eprint!("{HELP}"),
                    Key::Nothing => {}
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_a_x_quits() {
        let mut k = EscapeReader::default();
        assert_eq!(k.feed(ESCAPE), Key::Nothing);
        assert_eq!(k.feed(b'x'), Key::Quit);
    }

    #[test]
    fn ctrl_a_ctrl_a_sends_one_ctrl_a() {
        let mut k = EscapeReader::default();
        k.feed(ESCAPE);
        assert_eq!(k.feed(ESCAPE), Key::Guest(ESCAPE));
        assert_eq!(k.feed(b'a'), Key::Guest(b'a'));
    }

    #[test]
    fn ctrl_a_h_asks_for_help() {
        let mut k = EscapeReader::default();
        k.feed(ESCAPE);
        assert_eq!(k.feed(b'h'), Key::Help);
    }
}
