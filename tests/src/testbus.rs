//! A recording bus for port I/O tests: every port access is logged in
//! order, and port reads return values the test scripted beforehand
//! (all-ones, like an undriven bus, once the script for a port runs out).
//! MMIO writes are logged too; MMIO reads float to all-ones. An interrupt
//! request can be scheduled to rise after the CPU has polled INTR a given
//! number of times, to catch the CPU between two chosen instructions.
//!
//! The bus moves into the CPU (`vm.cpu.bus = Box::new(bus)`); the test keeps
//! a `PortLog` handle to the same state to script reads and inspect the log.

use emulator::bus::{all_ones, AccessSize, Bus};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// One port access as the CPU made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortAccess {
    Read {
        port: u16,
        size: AccessSize,
        value: u32,
    },
    Write {
        port: u16,
        size: AccessSize,
        value: u32,
    },
}

/// One MMIO write as the CPU made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmioWrite {
    pub addr: u64,
    pub size: AccessSize,
    pub value: u64,
}

#[derive(Debug, Default)]
struct State {
    accesses: Vec<PortAccess>,
    mmio_writes: Vec<MmioWrite>,
    replies: HashMap<u16, VecDeque<u32>>,
    /// (polls left before INTR rises, vector).
    interrupt: Option<(u32, u8)>,
}

/// The test's handle on a `RecordingBus`.
#[derive(Debug, Clone, Default)]
pub struct PortLog(Rc<RefCell<State>>);

impl PortLog {
    /// Queues `values` as the answers to the next reads of `port`.
    pub fn script(&self, port: u16, values: &[u32]) {
        self.0
            .borrow_mut()
            .replies
            .entry(port)
            .or_default()
            .extend(values.iter().copied());
    }

    /// Raises INTR with `vector` once the CPU has found it low `polls`
    /// times; it drops again when acknowledged.
    pub fn raise_interrupt_after(&self, polls: u32, vector: u8) {
        self.0.borrow_mut().interrupt = Some((polls, vector));
    }

    /// Every access so far, oldest first.
    pub fn accesses(&self) -> Vec<PortAccess> {
        self.0.borrow().accesses.clone()
    }

    /// Every MMIO write so far, oldest first.
    pub fn mmio_writes(&self) -> Vec<MmioWrite> {
        self.0.borrow().mmio_writes.clone()
    }
}

/// A board whose only device is a scripted, recording port space.
#[derive(Debug, Default)]
pub struct RecordingBus {
    log: PortLog,
}

impl RecordingBus {
    /// A bus and the handle the test keeps.
    pub fn new() -> (RecordingBus, PortLog) {
        let log = PortLog::default();
        (RecordingBus { log: log.clone() }, log)
    }
}

impl Bus for RecordingBus {
    fn io_read(&mut self, port: u16, size: AccessSize) -> u32 {
        let mut s = self.log.0.borrow_mut();
        let mask = all_ones(size) as u32;
        let value = s
            .replies
            .get_mut(&port)
            .and_then(|q| q.pop_front())
            .unwrap_or(mask)
            & mask;
        s.accesses.push(PortAccess::Read { port, size, value });
        value
    }

    fn io_write(&mut self, port: u16, size: AccessSize, value: u32) {
        let mut s = self.log.0.borrow_mut();
        s.accesses.push(PortAccess::Write { port, size, value });
    }

    fn mmio_read(&mut self, _addr: u64, size: AccessSize) -> u64 {
        all_ones(size)
    }

    fn mmio_write(&mut self, addr: u64, size: AccessSize, value: u64) {
        let w = MmioWrite { addr, size, value };
        self.log.0.borrow_mut().mmio_writes.push(w);
    }

    fn interrupt_pending(&self) -> bool {
        match &mut self.log.0.borrow_mut().interrupt {
            Some((0, _)) => true,
            Some((polls, _)) => {
                *polls -= 1;
                false
            }
            None => false,
        }
    }

    fn acknowledge_interrupt(&mut self) -> u8 {
        match self.log.0.borrow_mut().interrupt.take() {
            Some((_, vector)) => vector,
            None => 0x0F, // spurious, as the 8259A answers
        }
    }
}
