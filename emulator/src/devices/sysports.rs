//! The small single-port devices of the board:
//!
//! - **Port 0x92**, "system control port A" (PS/2): bit 1 opens the A20
//!   gate ("fast A20"), a 0-to-1 write of bit 0 resets the machine; reads
//!   return the bits last written, with bit 0 reading 0.
//! - **Port 0x80**, the POST code port: the firmware writes its progress
//!   here; the codes are kept so the last one can be shown when a boot fails.
//! - **Port 0xE9**, the Bochs/QEMU debug console: bytes written go to the
//!   host; reads return 0xE9 so software can detect it.
//! - **Port 0xF4**, the exit device, compatible with QEMU's
//!   `isa-debug-exit` (iobase 0xF4, iosize 4): writing v stops the machine
//!   with exit status (v << 1) | 1.

use super::{ControlQueue, PortDevice};
use crate::bus::{all_ones, Control};
use crate::machine::snapshot::{Persist, Result as SnapResult, StateIo};
use crossbeam_channel::Sender;

/// Port 0x92: fast A20 and reset.
pub struct SystemControlA {
    value: u8,
    control: ControlQueue,
}

const A20: u8 = 1 << 1;
const RESET: u8 = 1 << 0;

impl SystemControlA {
    /// A20 starts enabled, as our firmware expects (the gate is real: the
    /// guest can close it).
    pub fn new(control: ControlQueue) -> Self {
        SystemControlA {
            value: A20,
            control,
        }
    }
}

impl PortDevice for SystemControlA {
    fn read(&mut self, _offset: u16, size: u8) -> u32 {
        (all_ones(size) as u32 & !0xFF) | (self.value & !RESET) as u32
    }
    fn write(&mut self, _offset: u16, _size: u8, value: u32) {
        let v = value as u8;
        if (v ^ self.value) & A20 != 0 {
            self.control.push(Control::SetA20(v & A20 != 0));
        }
        if v & RESET != 0 && self.value & RESET == 0 {
            self.control.push(Control::Reset);
        }
        self.value = v;
    }
}

/// Port 0x80: POST codes.
#[derive(Debug, Default)]
pub struct PostPort {
    codes: Vec<u8>,
    /// Codes go to the trace (`trace`).
    pub trace: crate::trace::Trace,
}

impl PostPort {
    /// Every code written so far, oldest first (at most the last 256).
    pub fn codes(&self) -> &[u8] {
        &self.codes
    }
    /// The last code written.
    pub fn last(&self) -> Option<u8> {
        self.codes.last().copied()
    }
}

impl PortDevice for PostPort {
    fn read(&mut self, _offset: u16, size: u8) -> u32 {
        // Reading port 0x80 is used as a short I/O delay; it floats.
        all_ones(size) as u32
    }
    fn write(&mut self, _offset: u16, _size: u8, value: u32) {
        if self.codes.len() == 256 {
            self.codes.remove(0);
        }
        self.codes.push(value as u8);
        if let Some(mut t) = self.trace.on(crate::trace::Category::Post) {
            t.post_code(value as u8);
        }
    }
}

/// Port 0xE9: the debug console.
pub struct DebugConsole {
    out: Sender<u8>,
}

impl DebugConsole {
    pub fn new(out: Sender<u8>) -> Self {
        DebugConsole { out }
    }
}

impl PortDevice for DebugConsole {
    fn read(&mut self, _offset: u16, _size: u8) -> u32 {
        0xE9
    }
    fn write(&mut self, _offset: u16, _size: u8, value: u32) {
        // A host that stopped listening loses the byte, not the machine.
        let _ = self.out.send(value as u8);
    }
}

/// Port 0xF4: the exit device.
pub struct ExitPort {
    control: ControlQueue,
}

impl ExitPort {
    pub fn new(control: ControlQueue) -> Self {
        ExitPort { control }
    }
}

impl PortDevice for ExitPort {
    fn read(&mut self, _offset: u16, size: u8) -> u32 {
        all_ones(size) as u32
    }
    fn write(&mut self, _offset: u16, _size: u8, value: u32) {
        // QEMU exits with (value << 1) | 1; a process status keeps 8 bits.
        let status = ((value << 1) | 1) as u8;
        self.control.push(Control::Exit(status));
    }
}

// Snapshots (`machine::snapshot`). The debug console and the exit port
// hold no state.
impl Persist for SystemControlA {
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("port92")?;
        self.value.persist(io)
    }
}

impl Persist for PostPort {
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("post")?;
        self.codes.persist(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_92_bit_1_toggles_a20_and_bit_0_resets() {
        let q = ControlQueue::default();
        let mut p = SystemControlA::new(q.clone());

        p.write(0, 1, 0x00);
        p.write(0, 1, 0x03);

        assert_eq!(q.pop(), Some(Control::SetA20(false)));
        assert_eq!(q.pop(), Some(Control::SetA20(true)));
        assert_eq!(q.pop(), Some(Control::Reset));
        assert_eq!(p.read(0, 1), 0x02, "bit 0 reads back as 0");
    }

    #[test]
    fn exit_port_status_is_value_shifted_left_or_one() {
        let q = ControlQueue::default();
        let mut p = ExitPort::new(q.clone());

        p.write(0, 1, 5);

        assert_eq!(q.pop(), Some(Control::Exit(11)));
    }

    #[test]
    fn post_port_keeps_the_codes_in_order() {
        let mut p = PostPort::default();
        p.write(0, 1, 0x10);
        p.write(0, 1, 0x20);
        assert_eq!(p.codes(), &[0x10, 0x20]);
        assert_eq!(p.last(), Some(0x20));
    }

    #[test]
    fn debug_console_sends_bytes_to_the_host_and_identifies_itself() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut p = DebugConsole::new(tx);
        p.write(0, 1, b'A' as u32);
        assert_eq!(rx.try_recv(), Ok(b'A'));
        assert_eq!(p.read(0, 1), 0xE9);
    }
}
