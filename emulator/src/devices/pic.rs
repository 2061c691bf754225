//! The Intel 8259A Programmable Interrupt Controller, as the cascaded pair
//! of the PC/AT: the master answers at ports 0x20-0x21, the slave at
//! 0xA0-0xA1, and the slave's INT output drives the master's IR2.
//! Reference: Intel 8259A datasheet (order number 231468).
//!
//! Each chip has, for its eight inputs IR0-IR7:
//!
//! - IRR, the interrupt request register: the inputs asking for service.
//!   Edge-triggered (ICW1 LTIM = 0): a rising edge sets the bit. Level-
//!   triggered (LTIM = 1): the bit follows the input level.
//! - ISR, the in-service register: the levels the CPU has acknowledged and
//!   not yet ended (EOI).
//! - IMR, the interrupt mask register (OCW1).
//! - The priority resolver: IR(lowest+1) has the highest priority, going
//!   round to IR(lowest). After initialisation IR7 is lowest (fully nested:
//!   IR0 first); the rotate commands of OCW2 move `lowest`.
//!
//! Programming (A0 is bit 0 of the offset within a chip):
//!
//! | A0 | D4 | D3 | register |
//! |----|----|----|----------|
//! | 0  | 1  | -  | ICW1: starts initialisation |
//! | 1  | -  | -  | ICW2, ICW3 (if cascaded), ICW4 (if ICW1 IC4) during initialisation; OCW1 (IMR) after |
//! | 0  | 0  | 0  | OCW2: EOI and rotation commands |
//! | 0  | 0  | 1  | OCW3: read register select, poll, special mask mode |
//!
//! Reads: A0 = 0 gives IRR or ISR as OCW3 selected, A0 = 1 gives IMR; after
//! an OCW3 poll command the next read of either port is the poll byte.
//!
//! The INTA sequence (datasheet "Interrupt Sequence", 8086 mode): the master
//! resolves the highest-priority request, sets its ISR bit (unless AEOI) and
//! clears its IRR bit. If that input has a slave (ICW3), it puts the input
//! number on the CAS lines and the slave whose ICW3 ID matches resolves its
//! own request and supplies the vector; otherwise the master supplies
//! ICW2 T7-T3 | level. If no request is left at acknowledge time (it went
//! away), the chip answers as if IR7 had asked, without touching ISR: the
//! spurious interrupt. A spurious slave interrupt therefore leaves master
//! IR2 in service and gives the slave's IR7 vector (IRQ 15).
//!
//! Interface: `PicPair` is a `PortDevice` over four offsets (0-1 master,
//! 2-3 slave); the board calls `interrupt_pending` (the INTR pin) and
//! `acknowledge` (the INTA cycle). Both first sample the `IrqLines`.
//!
//! Choices where the datasheet leaves room or the emulator differs from
//! silicon (each is also noted at the code):
//!
//! - Edge-triggered requests are latched in IRR until acknowledged (or until
//!   ICW1): devices `pulse()` their line in zero time, so the datasheet's
//!   "IR must stay high until the first INTA" cannot be kept. A request
//!   still "goes away" when it is masked or its level drops (level mode).
//! - A chip does not request interrupts before its initialisation sequence
//!   has completed (its vector base is not known yet).
//! - ICW1 also clears ISR and IRR, as the reset it describes implies and as
//!   QEMU and Bochs do.
//! - MCS-80/85 mode (ICW4 uPM = 0, also the result of ICW1 without IC4): the
//!   x86 CPU takes the byte of the second INTA pulse, which in that mode is
//!   the low byte of the CALL address (ICW1 A7-A5 with the interval-4 or
//!   interval-8 level bits); `acknowledge` returns that byte.
//! - Buffered mode (ICW4 BUF, M/S) is accepted and stored; which chip is
//!   master is fixed by the board's wiring.
//! - IrqLines line 2 is not connected: master IR2 is the slave's output. The
//!   AT routes the ISA bus's IRQ 2 pin to slave IR1, so the board gives such
//!   a device line 9.
//! - Accesses wider than a byte are split into byte accesses at consecutive
//!   offsets, as the ISA bus splits them for an 8-bit device; a byte that
//!   falls outside the chip's two ports is ignored (reads 0xFF), as are
//!   offsets beyond 3.

use super::{IrqLines, PortDevice};
use std::rc::Rc;

/// Offsets of the two chips' port pairs within the device.
pub const MASTER_OFFSET: u16 = 0;
pub const SLAVE_OFFSET: u16 = 2;

/// The master input the slave's INT output is wired to.
pub const CASCADE_IR: u8 = 2;

/// ICW1 (A0 = 0, D4 = 1).
pub mod icw1 {
    /// ICW4 needed.
    pub const IC4: u8 = 0x01;
    /// Single chip: no ICW3.
    pub const SNGL: u8 = 0x02;
    /// Call address interval 4 (MCS-80/85 mode only).
    pub const ADI: u8 = 0x04;
    /// Level-triggered inputs.
    pub const LTIM: u8 = 0x08;
    /// Marks a write at A0 = 0 as ICW1.
    pub const SELECT: u8 = 0x10;
    /// A7-A5 of the MCS-80/85 interrupt vector address.
    pub const ADDRESS_INTERVAL_4: u8 = 0xE0;
    /// A7-A6 of the MCS-80/85 interrupt vector address.
    pub const ADDRESS_INTERVAL_8: u8 = 0xC0;
}

/// ICW2: the vector base; in 8086 mode only T7-T3 count.
pub const ICW2_VECTOR_BASE: u8 = 0xF8;

/// ICW3 on a slave: its cascade ID.
pub const ICW3_SLAVE_ID: u8 = 0x07;

/// ICW4.
pub mod icw4 {
    /// 8086/8088 mode (else MCS-80/85).
    pub const UPM: u8 = 0x01;
    /// Automatic end of interrupt.
    pub const AEOI: u8 = 0x02;
    /// Buffered mode: this chip is the master.
    pub const MS: u8 = 0x04;
    /// Buffered mode.
    pub const BUF: u8 = 0x08;
    /// Special fully nested mode.
    pub const SFNM: u8 = 0x10;
}

/// OCW2 (A0 = 0, D4 = 0, D3 = 0).
pub mod ocw2 {
    pub const ROTATE: u8 = 0x80;
    pub const SPECIFIC: u8 = 0x40;
    pub const EOI: u8 = 0x20;
    pub const LEVEL: u8 = 0x07;
    /// The command: R, SL and EOI together.
    pub const COMMAND: u8 = ROTATE | SPECIFIC | EOI;
    pub const NON_SPECIFIC_EOI: u8 = EOI;
    pub const NO_OPERATION: u8 = SPECIFIC;
    pub const SPECIFIC_EOI: u8 = SPECIFIC | EOI;
    pub const SET_ROTATE_IN_AEOI: u8 = ROTATE;
    pub const ROTATE_ON_NON_SPECIFIC_EOI: u8 = ROTATE | EOI;
    pub const SET_PRIORITY: u8 = ROTATE | SPECIFIC;
    pub const ROTATE_ON_SPECIFIC_EOI: u8 = ROTATE | SPECIFIC | EOI;
    pub const CLEAR_ROTATE_IN_AEOI: u8 = 0;
}

/// OCW3 (A0 = 0, D4 = 0, D3 = 1).
pub mod ocw3 {
    /// Enable special mask mode change (with SMM).
    pub const ESMM: u8 = 0x40;
    /// Special mask mode on / off (when ESMM).
    pub const SMM: u8 = 0x20;
    /// Marks a write at A0 = 0 (with D4 = 0) as OCW3.
    pub const SELECT: u8 = 0x08;
    /// Poll command.
    pub const POLL: u8 = 0x04;
    /// Read register command (with RIS).
    pub const RR: u8 = 0x02;
    /// Read ISR (else IRR) when RR.
    pub const RIS: u8 = 0x01;
}

/// The poll byte's "interrupt present" bit; the low 3 bits are the level.
pub const POLL_INTERRUPT: u8 = 0x80;

/// The level a chip reports when the request went away before INTA.
pub const SPURIOUS_LEVEL: u8 = 7;

/// What the data bus floats to when no chip answers an INTA cycle.
const BUS_FLOAT: u8 = 0xFF;

/// Which chip a `Chip` is, by wiring (the SP/EN pin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Master,
    Slave,
}

/// Where in the initialisation sequence a chip is: what a write at A0 = 1
/// means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Init {
    /// Never initialised: A0 = 1 writes go to IMR, no interrupts.
    PowerOn,
    Icw2,
    Icw3,
    Icw4,
    Ready,
}

/// One 8259A.
#[derive(Debug, Clone)]
struct Chip {
    role: Role,
    init: Init,
    icw1: u8,
    icw2: u8,
    /// Master: bit n set = a slave on IRn. Slave: its ID in bits 2-0.
    icw3: u8,
    icw4: u8,
    irr: u8,
    isr: u8,
    imr: u8,
    /// The lowest-priority level; `lowest + 1` (mod 8) is the highest.
    lowest: u8,
    rotate_in_aeoi: bool,
    special_mask: bool,
    /// OCW3 RR/RIS: reads at A0 = 0 return ISR (else IRR).
    read_isr: bool,
    /// OCW3 P: the next read is a poll.
    poll: bool,
}

fn bit(level: u8) -> u8 {
    1 << level
}

impl Chip {
    fn new(role: Role) -> Chip {
        Chip {
            role,
            init: Init::PowerOn,
            icw1: 0,
            icw2: 0,
            icw3: ICW3_SLAVE_ID,
            icw4: 0,
            irr: 0,
            isr: 0,
            imr: 0,
            lowest: 7,
            rotate_in_aeoi: false,
            special_mask: false,
            read_isr: false,
            poll: false,
        }
    }

    fn level_triggered(&self) -> bool {
        self.icw1 & icw1::LTIM != 0
    }

    fn single(&self) -> bool {
        self.icw1 & icw1::SNGL != 0
    }

    fn auto_eoi(&self) -> bool {
        self.icw4 & icw4::AEOI != 0
    }

    fn special_fully_nested(&self) -> bool {
        self.icw4 & icw4::SFNM != 0
    }

    /// Whether input `level` has a slave behind it (master in cascade mode).
    fn cascades(&self, level: u8) -> bool {
        self.role == Role::Master && !self.single() && self.icw3 & bit(level) != 0
    }

    fn slave_id(&self) -> u8 {
        self.icw3 & ICW3_SLAVE_ID
    }

    /// Priority rank of `level`: 0 is the highest.
    fn rank(&self, level: u8) -> u8 {
        level.wrapping_sub(self.lowest).wrapping_sub(1) & 7
    }

    /// The highest-priority level set in `bits`.
    fn highest(&self, bits: u8) -> Option<u8> {
        (1..=8)
            .map(|i| (self.lowest + i) & 7)
            .find(|&level| bits & bit(level) != 0)
    }

    /// Takes the inputs in `inputs` (a bit mask) at `levels`, with rising
    /// edges `rising`, into IRR.
    fn sample(&mut self, inputs: u8, levels: u8, rising: u8) {
        if self.level_triggered() {
            // Level mode: IRR follows the input.
            self.irr = (self.irr & !inputs) | (levels & inputs);
        } else {
            // Edge mode: a rising edge sets IRR; it stays set until the
            // INTA cycle (latched, see the module docs).
            self.irr |= rising & inputs;
        }
    }

    /// The priority resolver: the level this chip would have the CPU
    /// serve now, if any (its INT output is `requested().is_some()`).
    fn requested(&self) -> Option<u8> {
        if self.init != Init::Ready {
            return None;
        }
        let requests = self.irr & !self.imr;
        if self.special_mask {
            // Special mask mode: "a mask bit ... inhibits further interrupts
            // at that level and enables interrupts from all other levels
            // (lower as well as higher) that are not masked": only a
            // level's own ISR bit holds it back.
            return self.highest(requests & !self.isr);
        }
        let request = self.highest(requests)?;
        match self.highest(self.isr) {
            None => Some(request),
            Some(current) if self.rank(request) < self.rank(current) => Some(request),
            // Special fully nested mode: a slave in service does not lock
            // out its own master input, so a higher request inside the
            // slave reaches the CPU.
            Some(current)
                if request == current
                    && self.special_fully_nested()
                    && self.cascades(request) =>
            {
                Some(request)
            }
            Some(_) => None,
        }
    }

    /// The INTA (or poll) acknowledgement of `level`: IRR bit reset, ISR bit
    /// set, or with AEOI reset again at the end of the cycle.
    fn accept(&mut self, level: u8) {
        self.irr &= !bit(level);
        if self.auto_eoi() {
            if self.rotate_in_aeoi {
                self.lowest = level;
            }
        } else {
            self.isr |= bit(level);
        }
    }

    /// The byte this chip puts on the bus for `level` in the INTA cycle the
    /// CPU reads (the second pulse).
    fn vector(&self, level: u8) -> u8 {
        if self.icw4 & icw4::UPM != 0 {
            (self.icw2 & ICW2_VECTOR_BASE) | level
        } else if self.icw1 & icw1::ADI != 0 {
            // MCS-80/85 mode: the low byte of the CALL address.
            (self.icw1 & icw1::ADDRESS_INTERVAL_4) | (level << 2)
        } else {
            (self.icw1 & icw1::ADDRESS_INTERVAL_8) | (level << 3)
        }
    }

    /// A read at A0 = 0 (`data` false) or A0 = 1.
    fn read(&mut self, data: bool) -> u8 {
        if self.poll {
            // Poll command: this read is the acknowledge.
            self.poll = false;
            return match self.requested() {
                Some(level) => {
                    self.accept(level);
                    POLL_INTERRUPT | level
                }
                None => 0,
            };
        }
        match (data, self.read_isr) {
            (true, _) => self.imr,
            (false, true) => self.isr,
            (false, false) => self.irr,
        }
    }

    /// A write at A0 = 0 (`data` false) or A0 = 1.
    fn write(&mut self, data: bool, value: u8) {
        if data {
            self.write_data(value);
        } else if value & icw1::SELECT != 0 {
            self.write_icw1(value);
        } else if value & ocw3::SELECT != 0 {
            // An OCW2/OCW3 in the middle of initialisation is not defined by
            // the datasheet; it is executed, as QEMU and Bochs do.
            self.write_ocw3(value);
        } else {
            self.write_ocw2(value);
        }
    }

    /// ICW1 starts initialisation. The datasheet lists its effects: the
    /// edge sense circuit is reset (a new low-to-high transition is needed),
    /// IMR is cleared, IR7 gets the lowest priority, the slave address is
    /// 7, special mask mode is cleared and status read is set to IRR, and
    /// without IC4 all ICW4 functions are zero. ISR is cleared too.
    fn write_icw1(&mut self, value: u8) {
        *self = Chip {
            icw1: value,
            init: Init::Icw2,
            ..Chip::new(self.role)
        };
    }

    fn write_data(&mut self, value: u8) {
        self.init = match self.init {
            Init::Icw2 => {
                self.icw2 = value;
                if !self.single() {
                    Init::Icw3
                } else {
                    self.after_icw3()
                }
            }
            Init::Icw3 => {
                self.icw3 = value;
                self.after_icw3()
            }
            Init::Icw4 => {
                self.icw4 = value;
                Init::Ready
            }
            Init::PowerOn | Init::Ready => {
                self.imr = value; // OCW1
                self.init
            }
        };
    }

    fn after_icw3(&self) -> Init {
        if self.icw1 & icw1::IC4 != 0 {
            Init::Icw4
        } else {
            Init::Ready
        }
    }

    /// The ISR bit a non-specific EOI resets: the highest-priority one; in
    /// special mask mode, ISR bits masked in IMR are not reset (datasheet
    /// note under "End of Interrupt").
    fn eoi_level(&self) -> Option<u8> {
        let candidates = if self.special_mask {
            self.isr & !self.imr
        } else {
            self.isr
        };
        self.highest(candidates)
    }

    fn write_ocw2(&mut self, value: u8) {
        let level = value & ocw2::LEVEL;
        match value & ocw2::COMMAND {
            ocw2::NON_SPECIFIC_EOI => {
                if let Some(done) = self.eoi_level() {
                    self.isr &= !bit(done);
                }
            }
            ocw2::SPECIFIC_EOI => self.isr &= !bit(level),
            ocw2::ROTATE_ON_NON_SPECIFIC_EOI => {
                if let Some(done) = self.eoi_level() {
                    self.isr &= !bit(done);
                    self.lowest = done;
                }
            }
            ocw2::ROTATE_ON_SPECIFIC_EOI => {
                self.isr &= !bit(level);
                self.lowest = level;
            }
            ocw2::SET_PRIORITY => self.lowest = level,
            ocw2::SET_ROTATE_IN_AEOI => self.rotate_in_aeoi = true,
            ocw2::CLEAR_ROTATE_IN_AEOI => self.rotate_in_aeoi = false,
            _ => {} // ocw2::NO_OPERATION
        }
    }

    fn write_ocw3(&mut self, value: u8) {
        if value & ocw3::ESMM != 0 {
            self.special_mask = value & ocw3::SMM != 0;
        }
        // If both P and RR are set, the poll wins the next read; the
        // register selection still stands for the reads after it.
        if value & ocw3::POLL != 0 {
            self.poll = true;
        }
        if value & ocw3::RR != 0 {
            self.read_isr = value & ocw3::RIS != 0;
        }
    }
}

/// The PC/AT's two 8259As: master at offsets 0-1, slave at 2-3, the slave's
/// INT on master IR2.
#[derive(Debug)]
pub struct PicPair {
    lines: Rc<IrqLines>,
    master: Chip,
    slave: Chip,
    /// The slave's INT output as the master's IR2 last saw it (for edges).
    slave_int: bool,
}

impl PicPair {
    /// Both chips at power-on: uninitialised, requesting nothing until the
    /// guest programs them.
    pub fn new(lines: Rc<IrqLines>) -> PicPair {
        PicPair {
            lines,
            master: Chip::new(Role::Master),
            slave: Chip::new(Role::Slave),
            slave_int: false,
        }
    }

    /// INTR: whether the master asks the CPU for an interrupt now.
    pub fn interrupt_pending(&mut self) -> bool {
        self.sample();
        self.master.requested().is_some()
    }

    /// The INTA cycle: the vector for the CPU (updates ISR/IRR as the
    /// datasheet says; a request that went away gives the IR7 vector of the
    /// chip that answers, with its ISR untouched).
    pub fn acknowledge(&mut self) -> u8 {
        self.sample();
        let level = match self.master.requested() {
            Some(level) => {
                self.master.accept(level);
                level
            }
            None => SPURIOUS_LEVEL,
        };
        let vector = if self.master.cascades(level) {
            if self.slave.slave_id() == level {
                self.acknowledge_slave()
            } else {
                // CAS lines name a slave that is not there.
                BUS_FLOAT
            }
        } else {
            self.master.vector(level)
        };
        self.update_cascade();
        vector
    }

    /// The slave's part of an INTA cycle the master passed down.
    fn acknowledge_slave(&mut self) -> u8 {
        let level = match self.slave.requested() {
            Some(level) => {
                self.slave.accept(level);
                level
            }
            None => SPURIOUS_LEVEL,
        };
        // The slave's INT is answered by this cycle: a request still
        // pending after it reaches the master as a new edge, not lost in a
        // line that never went low.
        self.slave_int = false;
        self.slave.vector(level)
    }

    /// Takes the device lines into the IRRs: IRQ 0-7 (but 2) to the master,
    /// IRQ 8-15 to the slave, then the slave's output to master IR2.
    fn sample(&mut self) {
        let levels = self.lines.levels();
        let rising = self.lines.take_rising();
        let [master_levels, slave_levels] = levels.to_le_bytes();
        let [master_rising, slave_rising] = rising.to_le_bytes();
        self.slave.sample(0xFF, slave_levels, slave_rising);
        let device_inputs = !bit(CASCADE_IR);
        self.master
            .sample(device_inputs, master_levels, master_rising);
        self.update_cascade();
    }

    /// Carries the slave's INT output to master IR2.
    fn update_cascade(&mut self) {
        let int = self.slave.requested().is_some();
        let rose = int && !self.slave_int;
        self.slave_int = int;
        let cascade = bit(CASCADE_IR);
        self.master.sample(
            cascade,
            if int { cascade } else { 0 },
            if rose { cascade } else { 0 },
        );
    }

    /// The chip at `offset` and whether the access is at A0 = 1.
    fn chip(&mut self, offset: u16) -> Option<(&mut Chip, bool)> {
        let data = offset & 1 != 0;
        match offset & !1 {
            MASTER_OFFSET => Some((&mut self.master, data)),
            SLAVE_OFFSET => Some((&mut self.slave, data)),
            _ => None,
        }
    }

    /// The offsets of the bytes of a `size`-byte access at `offset` that
    /// reach a chip (byte i of the access at offset + i, within the same
    /// port pair), with their byte index.
    fn bytes(offset: u16, size: u8) -> impl Iterator<Item = (u32, u16)> {
        (0..u16::from(size.min(4))).filter_map(move |i| {
            let at = offset.checked_add(i)?;
            (at / 2 == offset / 2).then_some((u32::from(i), at))
        })
    }
}

impl PortDevice for PicPair {
    fn read(&mut self, offset: u16, size: u8) -> u32 {
        self.sample();
        let mut value = u32::MAX >> (32 - 8 * u32::from(size.clamp(1, 4)));
        for (i, at) in Self::bytes(offset, size) {
            if let Some((chip, data)) = self.chip(at) {
                let byte = chip.read(data);
                value = (value & !(0xFF << (8 * i))) | (u32::from(byte) << (8 * i));
            }
        }
        self.update_cascade();
        value
    }

    fn write(&mut self, offset: u16, size: u8, value: u32) {
        // Sample first, so ICW1's edge-sense reset discards the edges that
        // came before it and a mask applies to what was already requested.
        self.sample();
        for (i, at) in Self::bytes(offset, size) {
            if let Some((chip, data)) = self.chip(at) {
                chip.write(data, (value >> (8 * i)) as u8);
            }
        }
        self.update_cascade();
    }
}
