//! What the CPU needs from the board around it: port I/O, memory-mapped
//! devices, and the interrupt controller's INTR line.
//!
//! The CPU never reaches into a device. It calls this trait; the board
//! (`machine`, a later module) decides which device answers.

/// Width of one port or MMIO access, in bytes (1, 2, 4 or 8).
pub type AccessSize = u8;

/// What the board asks of the CPU's owner after a port write: things a
/// device cannot do itself because they reach beyond the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Open (true) or close the A20 gate (8042 output port, port 0x92).
    SetA20(bool),
    /// Reset the machine (8042 command 0xFE, port 0x92 bit 0, port 0xCF9).
    Reset,
    /// Stop with this exit status (the exit port: (v << 1) | 1).
    Exit(u8),
}

/// The board as the CPU sees it.
pub trait Bus {
    /// Tells the board how many instructions have retired, just before a
    /// port or MMIO access, so device timers read the exact virtual time.
    fn sync(&mut self, _instret: u64) {}
    /// The CPU's cycle count after `instret` retired instructions, which
    /// the time-stamp counter reads. A board with a clock answers with its
    /// time at 1 GHz, so the TSC keeps counting while the CPU idles in HLT;
    /// without one, a cycle is an instruction.
    fn cycles(&self, instret: u64) -> u64 {
        instret
    }
    /// A request the last port write raised, if any (see `Control`).
    fn take_control(&mut self) -> Option<Control> {
        None
    }
    /// Reads `size` bytes from an I/O port. Unclaimed ports read all-ones.
    fn io_read(&mut self, port: u16, size: AccessSize) -> u32;
    /// Writes `size` bytes to an I/O port. Unclaimed ports ignore writes.
    fn io_write(&mut self, port: u16, size: AccessSize, value: u32);
    /// Reads from a physical address that is neither RAM nor ROM.
    fn mmio_read(&mut self, addr: u64, size: AccessSize) -> u64;
    /// Writes to a physical address that is neither RAM nor ROM.
    fn mmio_write(&mut self, addr: u64, size: AccessSize, value: u64);
    /// The level of the INTR pin (an unmasked interrupt request is waiting).
    fn interrupt_pending(&self) -> bool;
    /// The interrupt-acknowledge cycle: the controller hands over a vector.
    fn acknowledge_interrupt(&mut self) -> u8;
}

/// A board with nothing on it: every port and MMIO address is unclaimed and
/// no interrupt is ever requested. Bare CPU tests and benchmarks run on it.
#[derive(Debug, Default)]
pub struct NullBus;

impl Bus for NullBus {
    fn io_read(&mut self, _port: u16, size: AccessSize) -> u32 {
        all_ones(size) as u32
    }
    fn io_write(&mut self, _port: u16, _size: AccessSize, _value: u32) {}
    fn mmio_read(&mut self, _addr: u64, size: AccessSize) -> u64 {
        all_ones(size)
    }
    fn mmio_write(&mut self, _addr: u64, _size: AccessSize, _value: u64) {}
    fn interrupt_pending(&self) -> bool {
        false
    }
    fn acknowledge_interrupt(&mut self) -> u8 {
        // A spurious acknowledge: the 8259A answers with its IRQ 7 vector.
        0x0F
    }
}

/// The value an undriven bus floats to for an access of `size` bytes.
pub fn all_ones(size: AccessSize) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (size as u32 * 8)) - 1
    }
}
