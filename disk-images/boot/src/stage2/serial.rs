//! COM1, a polled 16550A UART at 0x3F8 (the start-up code set it to
//! 115200 8N1): where every stage-2 message goes, through [`print!`] and
//! [`println!`].

use crate::port;
use core::fmt;

const COM1: u16 = 0x3F8;
/// Line status register (offset 5), bit 5: transmitter holding register empty.
const LSR: u16 = COM1 + 5;
const LSR_THRE: u8 = 1 << 5;

/// The serial console; a zero-sized handle because the port is global.
pub struct Serial;

impl Serial {
    pub fn write_byte(&mut self, byte: u8) {
        // A bounded wait: a missing UART must not hang the loader.
        for _ in 0..100_000 {
            if port::inb(LSR) & LSR_THRE != 0 {
                break;
            }
        }
        port::outb(COM1, byte);
    }
}

impl fmt::Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(b);
        }
        Ok(())
    }
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = write!($crate::serial::Serial, $($arg)*);
    }};
}

#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::serial::Serial, $($arg)*);
    }};
}
