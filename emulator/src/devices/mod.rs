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
