//! What the CPU needs from the board around it: port I/O, memory-mapped
//! devices, and the interrupt controller's INTR line.
//!
//! The CPU never reaches into a device. It calls this trait; the board
//! (`machine`, a later module) decides which device answers.

/// Width of one port or MMIO access, in bytes (1, 2, 4 or 8).
pub type AccessSize = u8;

/// The board as the CPU sees it.
pub trait Bus {
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
