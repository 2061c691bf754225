//! The devices of the PC board, one file each, and the small interfaces
//! they share with the board (`machine`):
//!
//! - `PortDevice`: reads and writes at *offsets* within the device's port
//!   range; the board decides where the device sits.
//! - `Timed`: devices with timers run on the virtual clock: the board asks
//!   when the next event is due and advances them to a time.
//! - `IrqLine` (`irq.rs`): how a device raises an interrupt, without
//!   knowing which controller or vector is behind the line.
//! - `Now`: the current virtual time, readable during a port access (a PIT
//!   counter or the RTC depends on it).
//! - `ControlQueue`: how a device asks for what lies beyond the bus (A20,
//!   reset, exit).

pub mod ata;
pub mod cmos;
pub mod disk;
pub mod i8042;
pub mod irq;
pub mod pic;
pub mod pit;
pub mod sysports;
pub mod uart;

use crate::bus::Control;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

pub use irq::{IrqLine, IrqLines};

/// Virtual time in nanoseconds since power-on.
pub type Nanos = u64;

/// A device on the port bus.
pub trait PortDevice {
    /// Reads `size` (1, 2 or 4) bytes at `offset` within the device's range.
    fn read(&mut self, offset: u16, size: u8) -> u32;
    /// Writes `size` bytes at `offset`.
    fn write(&mut self, offset: u16, size: u8, value: u32);
}

/// A device with timers on the virtual clock.
pub trait Timed {
    /// Brings the device up to time `now`, firing whatever fell due.
    fn advance(&mut self, now: Nanos);
    /// When the device next has something to do, if ever.
    fn next_event(&self) -> Option<Nanos>;
}

/// The current virtual time, shared read-only with devices. The board
/// updates it before every port access and every `advance`.
#[derive(Debug, Clone, Default)]
pub struct Now(Rc<Cell<Nanos>>);

impl Now {
    pub fn get(&self) -> Nanos {
        self.0.get()
    }
    /// Sets the time (the board, and tests stepping time by hand).
    pub fn set(&self, t: Nanos) {
        self.0.set(t)
    }
}

/// Requests from devices to the machine (see `bus::Control`).
#[derive(Debug, Clone, Default)]
pub struct ControlQueue(Rc<RefCell<VecDeque<Control>>>);

impl ControlQueue {
    pub fn push(&self, c: Control) {
        self.0.borrow_mut().push_back(c);
    }
    pub fn pop(&self) -> Option<Control> {
        self.0.borrow_mut().pop_front()
    }
}

impl crate::machine::snapshot::Persist for ControlQueue {
    /// Requests not yet taken by the CPU (snapshots, `machine::snapshot`).
    fn persist(
        &mut self,
        io: &mut crate::machine::snapshot::StateIo,
    ) -> crate::machine::snapshot::Result<()> {
        use crate::machine::snapshot::SnapshotError;
        let mut q = self.0.borrow_mut();
        let mut n = q.len();
        io.len(&mut n)?;
        let mut items: Vec<Control> = q.drain(..).collect();
        items.resize(n, Control::Reset);
        for c in &mut items {
            let (mut tag, mut arg) = match *c {
                Control::SetA20(on) => (0u8, on as u8),
                Control::Reset => (1, 0),
                Control::Exit(v) => (2, v),
            };
            tag.persist(io)?;
            arg.persist(io)?;
            *c = match tag {
                0 => Control::SetA20(arg != 0),
                1 => Control::Reset,
                2 => Control::Exit(arg),
                _ => return Err(SnapshotError::Malformed(format!("control request {tag}"))),
            };
        }
        q.extend(items);
        Ok(())
    }
}
