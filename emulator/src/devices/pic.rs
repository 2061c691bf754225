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
use crate::trace::{Category, Trace};
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
                if request == current && self.special_fully_nested() && self.cascades(request) =>
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
    /// Acknowledges and EOIs go to the trace (`trace`).
    pub trace: Trace,
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
            trace: Trace::off(),
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
        let (level, requested) = match self.master.requested() {
            Some(level) => {
                self.master.accept(level);
                (level, true)
            }
            None => (SPURIOUS_LEVEL, false),
        };
        let (vector, irq) = if self.master.cascades(level) {
            if self.slave.slave_id() == level {
                self.acknowledge_slave()
            } else {
                // CAS lines name a slave that is not there.
                (BUS_FLOAT, None)
            }
        } else {
            (self.master.vector(level), requested.then_some(level))
        };
        self.update_cascade();
        // With cpu events only, the handler is still named by its IRQ.
        if self.trace.wants(Category::Irq) || self.trace.wants(Category::Cpu) {
            if let Some(mut t) = self.trace.any() {
                t.pic_acknowledge(irq, vector);
            }
        }
        vector
    }

    /// The slave's part of an INTA cycle the master passed down: the
    /// vector and the IRQ (8-15) it answers, if any.
    fn acknowledge_slave(&mut self) -> (u8, Option<u8>) {
        let (level, irq) = match self.slave.requested() {
            Some(level) => {
                self.slave.accept(level);
                (level, Some(8 + level))
            }
            None => (SPURIOUS_LEVEL, None),
        };
        // The slave's INT is answered by this cycle: a request still
        // pending after it reaches the master as a new edge, not lost in a
        // line that never went low.
        self.slave_int = false;
        (self.slave.vector(level), irq)
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
                let byte = (value >> (8 * i)) as u8;
                let isr = chip.isr;
                chip.write(data, byte);
                let is_eoi =
                    !data && byte & (icw1::SELECT | ocw3::SELECT) == 0 && byte & ocw2::EOI != 0;
                if is_eoi && self.trace.is_on() {
                    let ended = isr & !self.chip(at).map_or(isr, |(c, _)| c.isr);
                    let base = if at >= 2 { 8 } else { 0 };
                    let irq = (ended != 0).then(|| base + ended.trailing_zeros() as u8);
                    if let Some(mut t) = self.trace.on(Category::Irq) {
                        let controller = if at >= 2 { "slave" } else { "master" };
                        t.pic_eoi(controller, irq, byte & ocw2::SPECIFIC != 0);
                    }
                }
            }
        }
        self.update_cascade();
    }
}

// Snapshots (`machine::snapshot`): every register of both chips and the
// IRQ lines they sample.
crate::persist_enum!(Role { Master, Slave });
crate::persist_enum!(Init {
    PowerOn,
    Icw2,
    Icw3,
    Icw4,
    Ready
});
crate::persist_fields!(Chip {
    role,
    init,
    icw1,
    icw2,
    icw3,
    icw4,
    irr,
    isr,
    imr,
    lowest,
    rotate_in_aeoi,
    special_mask,
    read_isr,
    poll,
});

impl crate::machine::snapshot::Persist for PicPair {
    fn persist(
        &mut self,
        io: &mut crate::machine::snapshot::StateIo,
    ) -> crate::machine::snapshot::Result<()> {
        io.section("pic")?;
        self.master.persist(io)?;
        self.slave.persist(io)?;
        self.slave_int.persist(io)?;
        self.lines.persist(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER_CMD: u16 = 0;
    const MASTER_DATA: u16 = 1;
    const SLAVE_CMD: u16 = 2;
    const SLAVE_DATA: u16 = 3;

    /// ICW1 as the BIOS and Linux write it: edge-triggered, cascade, ICW4.
    const ICW1_EDGE: u8 = icw1::SELECT | icw1::IC4;
    const ICW1_LEVEL: u8 = ICW1_EDGE | icw1::LTIM;
    const ICW4_8086: u8 = icw4::UPM;

    const EOI: u8 = ocw2::NON_SPECIFIC_EOI;
    const READ_IRR: u8 = ocw3::SELECT | ocw3::RR;
    const READ_ISR: u8 = ocw3::SELECT | ocw3::RR | ocw3::RIS;

    fn out(pic: &mut PicPair, offset: u16, value: u8) {
        pic.write(offset, 1, u32::from(value));
    }

    fn inb(pic: &mut PicPair, offset: u16) -> u8 {
        pic.read(offset, 1) as u8
    }

    /// The initialisation sequence a driver writes to one chip.
    fn init_chip(pic: &mut PicPair, cmd: u16, icw1: u8, base: u8, icw3: u8, icw4: u8) {
        out(pic, cmd, icw1);
        out(pic, cmd + 1, base);
        out(pic, cmd + 1, icw3);
        out(pic, cmd + 1, icw4);
    }

    /// A pair with the given ICW1/ICW4 on both chips, master base 0x08,
    /// slave base 0x70 (the BIOS layout), all unmasked.
    fn pair_with(master_icw1: u8, slave_icw1: u8, icw4: u8) -> (Rc<IrqLines>, PicPair) {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        init_chip(&mut pic, MASTER_CMD, master_icw1, 0x08, 0x04, icw4);
        init_chip(&mut pic, SLAVE_CMD, slave_icw1, 0x70, 0x02, icw4);
        out(&mut pic, MASTER_DATA, 0x00);
        out(&mut pic, SLAVE_DATA, 0x00);
        (lines, pic)
    }

    /// The BIOS's setup: edge-triggered, 8086 mode, vectors 0x08 and 0x70.
    fn bios_pair() -> (Rc<IrqLines>, PicPair) {
        pair_with(ICW1_EDGE, ICW1_EDGE, ICW4_8086)
    }

    fn read_isr(pic: &mut PicPair, cmd: u16) -> u8 {
        out(pic, cmd, READ_ISR);
        inb(pic, cmd)
    }

    fn read_irr(pic: &mut PicPair, cmd: u16) -> u8 {
        out(pic, cmd, READ_IRR);
        inb(pic, cmd)
    }

    // --- initialisation ---

    #[test]
    fn an_uninitialised_pair_does_not_interrupt() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());

        lines.line(0).pulse();

        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn bios_initialisation_then_irq0_gives_vector_8_and_puts_it_in_service() {
        let (lines, mut pic) = bios_pair();

        lines.line(0).pulse();

        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x08);
        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x01);
        assert_eq!(read_irr(&mut pic, MASTER_CMD), 0x00);
        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn linux_initialisation_with_masks_gives_vectors_from_0x20_and_0x28() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        out(&mut pic, MASTER_DATA, 0xFF);
        out(&mut pic, SLAVE_DATA, 0xFF);
        init_chip(&mut pic, MASTER_CMD, ICW1_EDGE, 0x20, 0x04, ICW4_8086);
        init_chip(&mut pic, SLAVE_CMD, ICW1_EDGE, 0x28, 0x02, ICW4_8086);
        out(&mut pic, MASTER_DATA, 0xFA); // IRQ 0 and the cascade open
        out(&mut pic, SLAVE_DATA, 0xFE); // IRQ 8 open

        lines.line(1).pulse();
        lines.line(8).pulse();

        assert_eq!(pic.acknowledge(), 0x28);
        assert_eq!(inb(&mut pic, MASTER_DATA), 0xFA);
        assert_eq!(inb(&mut pic, SLAVE_DATA), 0xFE);
    }

    #[test]
    fn icw2_low_three_bits_are_ignored_in_8086_mode() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        init_chip(&mut pic, MASTER_CMD, ICW1_EDGE, 0x0F, 0x04, ICW4_8086);

        lines.line(3).pulse();

        assert_eq!(pic.acknowledge(), 0x0B);
    }

    #[test]
    fn icw1_clears_the_mask_and_resets_the_read_select_to_irr() {
        let (lines, mut pic) = bios_pair();
        out(&mut pic, MASTER_DATA, 0xFF);
        out(&mut pic, MASTER_CMD, READ_ISR);

        init_chip(&mut pic, MASTER_CMD, ICW1_EDGE, 0x08, 0x04, ICW4_8086);
        lines.line(5).pulse();

        assert_eq!(inb(&mut pic, MASTER_DATA), 0x00);
        assert_eq!(inb(&mut pic, MASTER_CMD), 0x20, "IRR, not ISR");
    }

    #[test]
    fn icw1_discards_edges_seen_before_it() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        lines.line(4).pulse();

        init_chip(&mut pic, MASTER_CMD, ICW1_EDGE, 0x08, 0x04, ICW4_8086);

        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn a_line_high_across_icw1_needs_a_new_rising_edge() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        lines.line(4).raise();
        init_chip(&mut pic, MASTER_CMD, ICW1_EDGE, 0x08, 0x04, ICW4_8086);
        let before = pic.interrupt_pending();

        lines.line(4).lower();
        lines.line(4).raise();

        assert!(!before);
        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x0C);
    }

    #[test]
    fn icw1_single_without_icw4_takes_only_icw2_then_port_1_is_the_mask() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        out(&mut pic, MASTER_CMD, icw1::SELECT | icw1::SNGL);
        out(&mut pic, MASTER_DATA, 0x08);

        out(&mut pic, MASTER_DATA, 0xF7);

        assert_eq!(inb(&mut pic, MASTER_DATA), 0xF7);
    }

    #[test]
    fn without_icw4_the_chip_is_in_mcs80_mode_and_gives_the_call_address_byte() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        // Interval 4, call table at A7-A5 = 0xE0: IR3 is at 0xE0 + 3 * 4.
        out(
            &mut pic,
            MASTER_CMD,
            0xE0 | icw1::SELECT | icw1::SNGL | icw1::ADI,
        );
        out(&mut pic, MASTER_DATA, 0x12);

        lines.line(3).pulse();

        assert_eq!(pic.acknowledge(), 0xEC);
    }

    #[test]
    fn mcs80_mode_interval_8_puts_the_level_in_bits_5_to_3() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        out(&mut pic, MASTER_CMD, 0xC0 | icw1::SELECT | icw1::SNGL);
        out(&mut pic, MASTER_DATA, 0x12);

        lines.line(3).pulse();

        assert_eq!(pic.acknowledge(), 0xD8);
    }

    #[test]
    fn icw4_buffered_mode_bits_are_accepted() {
        let icw4 = ICW4_8086 | icw4::BUF | icw4::MS;
        let (lines, mut pic) = pair_with(ICW1_EDGE, ICW1_EDGE, icw4);

        lines.line(6).pulse();

        assert_eq!(pic.acknowledge(), 0x0E);
    }

    // --- priority ---

    #[test]
    fn irq0_beats_irq1() {
        let (lines, mut pic) = bios_pair();
        lines.line(1).pulse();
        lines.line(0).pulse();

        let first = pic.acknowledge();

        assert_eq!(first, 0x08);
        assert_eq!(read_irr(&mut pic, MASTER_CMD), 0x02);
    }

    #[test]
    fn a_lower_request_waits_for_the_eoi_of_the_level_in_service() {
        let (lines, mut pic) = bios_pair();
        lines.line(3).pulse();
        pic.acknowledge();

        lines.line(4).pulse();
        let during = pic.interrupt_pending();
        out(&mut pic, MASTER_CMD, EOI);

        assert!(!during);
        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x0C);
    }

    #[test]
    fn a_higher_request_nests_inside_a_lower_one_in_service() {
        let (lines, mut pic) = bios_pair();
        lines.line(4).pulse();
        pic.acknowledge();

        lines.line(1).pulse();

        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x09);
        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x12);
    }

    #[test]
    fn non_specific_eoi_ends_the_highest_level_in_service() {
        let (lines, mut pic) = bios_pair();
        lines.line(4).pulse();
        pic.acknowledge();
        lines.line(1).pulse();
        pic.acknowledge();

        out(&mut pic, MASTER_CMD, EOI);

        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x10);
    }

    #[test]
    fn specific_eoi_ends_the_named_level() {
        let (lines, mut pic) = bios_pair();
        lines.line(4).pulse();
        pic.acknowledge();
        lines.line(1).pulse();
        pic.acknowledge();

        out(&mut pic, MASTER_CMD, ocw2::SPECIFIC_EOI | 4);

        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x02);
    }

    #[test]
    fn rotate_on_non_specific_eoi_makes_the_ended_level_lowest() {
        let (lines, mut pic) = bios_pair();
        lines.line(0).pulse();
        pic.acknowledge();
        out(&mut pic, MASTER_CMD, ocw2::ROTATE_ON_NON_SPECIFIC_EOI);

        lines.line(0).pulse();
        lines.line(1).pulse();

        assert_eq!(pic.acknowledge(), 0x09, "IRQ 1 now beats IRQ 0");
    }

    #[test]
    fn set_priority_makes_the_named_level_lowest() {
        let (lines, mut pic) = bios_pair();
        out(&mut pic, MASTER_CMD, ocw2::SET_PRIORITY | 4);

        lines.line(3).pulse();
        lines.line(5).pulse();

        assert_eq!(pic.acknowledge(), 0x0D, "IRQ 5 is now highest");
    }

    #[test]
    fn rotate_on_specific_eoi_ends_and_lowers_the_named_level() {
        let (lines, mut pic) = bios_pair();
        lines.line(6).pulse();
        pic.acknowledge();

        out(&mut pic, MASTER_CMD, ocw2::ROTATE_ON_SPECIFIC_EOI | 6);
        lines.line(0).pulse();
        lines.line(7).pulse();

        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x00);
        assert_eq!(pic.acknowledge(), 0x0F, "IRQ 7 follows 6 as highest");
    }

    #[test]
    fn a_rotated_priority_also_decides_nesting() {
        let (lines, mut pic) = bios_pair();
        out(&mut pic, MASTER_CMD, ocw2::SET_PRIORITY | 2); // order 3,4,...,7,0,1,2
        lines.line(5).pulse();
        pic.acknowledge();

        lines.line(0).pulse();
        let lower_nests = pic.interrupt_pending();
        lines.line(3).pulse();

        assert!(!lower_nests, "IRQ 0 is below IRQ 5 now");
        assert_eq!(pic.acknowledge(), 0x0B);
    }

    #[test]
    fn ocw2_no_operation_changes_nothing() {
        let (lines, mut pic) = bios_pair();
        lines.line(3).pulse();
        pic.acknowledge();

        out(&mut pic, MASTER_CMD, ocw2::NO_OPERATION | 3);

        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x08);
    }

    // --- masking ---

    #[test]
    fn a_masked_request_waits_in_irr_without_intr() {
        let (lines, mut pic) = bios_pair();
        out(&mut pic, MASTER_DATA, 0x01);

        lines.line(0).pulse();

        assert!(!pic.interrupt_pending());
        assert_eq!(read_irr(&mut pic, MASTER_CMD), 0x01);
    }

    #[test]
    fn unmasking_delivers_the_waiting_request() {
        let (lines, mut pic) = bios_pair();
        out(&mut pic, MASTER_DATA, 0x01);
        lines.line(0).pulse();

        out(&mut pic, MASTER_DATA, 0x00);

        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x08);
    }

    #[test]
    fn a_masked_higher_request_lets_a_lower_one_through() {
        let (lines, mut pic) = bios_pair();
        out(&mut pic, MASTER_DATA, 0x01);

        lines.line(0).pulse();
        lines.line(1).pulse();

        assert_eq!(pic.acknowledge(), 0x09);
    }

    // --- edge and level triggering ---

    #[test]
    fn an_edge_request_is_latched_after_the_line_drops() {
        let (lines, mut pic) = bios_pair();

        lines.line(3).raise();
        lines.line(3).lower();

        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x0B);
    }

    #[test]
    fn an_edge_line_held_high_does_not_request_again_after_eoi() {
        let (lines, mut pic) = bios_pair();
        lines.line(3).raise();
        pic.acknowledge();

        out(&mut pic, MASTER_CMD, EOI);

        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn an_edge_during_service_is_delivered_after_eoi() {
        let (lines, mut pic) = bios_pair();
        lines.line(3).pulse();
        pic.acknowledge();
        lines.line(3).pulse();
        let during = pic.interrupt_pending();

        out(&mut pic, MASTER_CMD, EOI);

        assert!(!during);
        assert_eq!(pic.acknowledge(), 0x0B);
    }

    #[test]
    fn level_triggered_irr_follows_the_line() {
        let (lines, mut pic) = pair_with(ICW1_LEVEL, ICW1_LEVEL, ICW4_8086);
        out(&mut pic, MASTER_DATA, 0xFF);
        lines.line(5).raise();
        let high = read_irr(&mut pic, MASTER_CMD);

        lines.line(5).lower();

        assert_eq!(high, 0x20);
        assert_eq!(read_irr(&mut pic, MASTER_CMD), 0x00);
    }

    #[test]
    fn a_level_still_high_after_eoi_interrupts_again() {
        let (lines, mut pic) = pair_with(ICW1_LEVEL, ICW1_LEVEL, ICW4_8086);
        lines.line(5).raise();
        pic.acknowledge();
        let in_service = pic.interrupt_pending();

        out(&mut pic, MASTER_CMD, EOI);

        assert!(!in_service);
        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x0D);
    }

    #[test]
    fn a_level_lowered_before_eoi_does_not_interrupt_again() {
        let (lines, mut pic) = pair_with(ICW1_LEVEL, ICW1_LEVEL, ICW4_8086);
        lines.line(5).raise();
        pic.acknowledge();
        lines.line(5).lower();

        out(&mut pic, MASTER_CMD, EOI);

        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn level_mode_needs_no_edge_a_line_already_high_requests() {
        let lines = IrqLines::new();
        lines.line(6).raise();
        lines.take_rising();
        let mut pic = PicPair::new(lines.clone());

        init_chip(&mut pic, MASTER_CMD, ICW1_LEVEL, 0x08, 0x04, ICW4_8086);

        assert_eq!(pic.acknowledge(), 0x0E);
    }

    // --- spurious interrupts ---

    #[test]
    fn a_level_request_gone_before_inta_gives_spurious_irq7_without_isr() {
        let (lines, mut pic) = pair_with(ICW1_LEVEL, ICW1_LEVEL, ICW4_8086);
        lines.line(5).raise();
        assert!(pic.interrupt_pending());

        lines.line(5).lower();

        assert_eq!(pic.acknowledge(), 0x0F);
        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x00);
    }

    #[test]
    fn an_edge_request_masked_before_inta_gives_spurious_irq7() {
        let (lines, mut pic) = bios_pair();
        lines.line(1).pulse();
        assert!(pic.interrupt_pending());

        out(&mut pic, MASTER_DATA, 0x02);

        assert_eq!(pic.acknowledge(), 0x0F);
        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x00);
        assert_eq!(read_irr(&mut pic, MASTER_CMD), 0x02, "still requested");
    }

    #[test]
    fn a_slave_level_request_gone_before_inta_gives_irq15_with_master_ir2_in_service() {
        let (lines, mut pic) = pair_with(ICW1_EDGE, ICW1_LEVEL, ICW4_8086);
        lines.line(10).raise();
        assert!(pic.interrupt_pending());

        lines.line(10).lower();

        assert_eq!(pic.acknowledge(), 0x77);
        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x04);
        assert_eq!(read_isr(&mut pic, SLAVE_CMD), 0x00);
    }

    #[test]
    fn a_slave_request_masked_before_inta_gives_irq15() {
        let (lines, mut pic) = bios_pair();
        lines.line(10).pulse();
        assert!(pic.interrupt_pending());

        out(&mut pic, SLAVE_DATA, 0x04);

        assert_eq!(pic.acknowledge(), 0x77);
        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x04);
        assert_eq!(read_isr(&mut pic, SLAVE_CMD), 0x00);
    }

    // --- cascade ---

    #[test]
    fn a_slave_interrupt_acknowledges_master_ir2_and_gives_the_slave_vector() {
        let (lines, mut pic) = bios_pair();

        lines.line(12).pulse();

        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x74);
        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x04);
        assert_eq!(read_isr(&mut pic, SLAVE_CMD), 0x10);
        assert_eq!(read_irr(&mut pic, MASTER_CMD), 0x00);
    }

    #[test]
    fn the_slave_ranks_at_ir2_between_irq1_and_irq3() {
        let (lines, mut pic) = bios_pair();
        lines.line(3).pulse();
        lines.line(8).pulse();
        lines.line(1).pulse();

        let first = pic.acknowledge();
        out(&mut pic, MASTER_CMD, EOI);
        let second = pic.acknowledge();
        out(&mut pic, SLAVE_CMD, EOI);
        out(&mut pic, MASTER_CMD, EOI);
        let third = pic.acknowledge();

        assert_eq!([first, second, third], [0x09, 0x70, 0x0B]);
    }

    #[test]
    fn eoi_to_the_slave_alone_leaves_master_ir2_in_service() {
        let (lines, mut pic) = bios_pair();
        lines.line(12).pulse();
        pic.acknowledge();

        out(&mut pic, SLAVE_CMD, EOI);
        lines.line(3).pulse();

        assert!(!pic.interrupt_pending(), "IRQ 3 waits for the master EOI");
        out(&mut pic, MASTER_CMD, EOI);
        assert_eq!(pic.acknowledge(), 0x0B);
    }

    #[test]
    fn a_second_slave_request_arrives_after_both_eois() {
        let (lines, mut pic) = bios_pair();
        lines.line(12).pulse();
        pic.acknowledge();
        lines.line(14).pulse();
        let during = pic.interrupt_pending();

        out(&mut pic, SLAVE_CMD, EOI);
        out(&mut pic, MASTER_CMD, EOI);

        assert!(!during);
        assert_eq!(pic.acknowledge(), 0x76);
    }

    #[test]
    fn irq_line_2_is_not_connected_to_the_master() {
        let (lines, mut pic) = bios_pair();

        lines.line(2).pulse();

        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn a_master_in_single_mode_answers_ir2_itself() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        out(&mut pic, MASTER_CMD, ICW1_EDGE | icw1::SNGL);
        out(&mut pic, MASTER_DATA, 0x08);
        out(&mut pic, MASTER_DATA, ICW4_8086); // no ICW3 in single mode
        init_chip(&mut pic, SLAVE_CMD, ICW1_EDGE, 0x70, 0x02, ICW4_8086);

        lines.line(9).pulse();

        assert_eq!(pic.acknowledge(), 0x0A);
        assert_eq!(read_isr(&mut pic, SLAVE_CMD), 0x00);
    }

    #[test]
    fn a_cascade_address_with_no_matching_slave_floats_the_bus() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        init_chip(&mut pic, MASTER_CMD, ICW1_EDGE, 0x08, 0x04, ICW4_8086);
        init_chip(&mut pic, SLAVE_CMD, ICW1_EDGE, 0x70, 0x05, ICW4_8086);

        lines.line(8).pulse();

        assert_eq!(pic.acknowledge(), 0xFF);
    }

    #[test]
    fn special_fully_nested_mode_lets_a_higher_slave_request_through_ir2_in_service() {
        let icw4 = ICW4_8086 | icw4::SFNM;
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        init_chip(&mut pic, MASTER_CMD, ICW1_EDGE, 0x08, 0x04, icw4);
        init_chip(&mut pic, SLAVE_CMD, ICW1_EDGE, 0x70, 0x02, ICW4_8086);
        lines.line(12).pulse();
        pic.acknowledge();

        lines.line(8).pulse();

        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x70);
        assert_eq!(read_isr(&mut pic, SLAVE_CMD), 0x11);
    }

    #[test]
    fn without_special_fully_nested_mode_a_higher_slave_request_waits() {
        let (lines, mut pic) = bios_pair();
        lines.line(12).pulse();
        pic.acknowledge();

        lines.line(8).pulse();

        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn special_fully_nested_mode_still_blocks_lower_master_inputs() {
        let icw4 = ICW4_8086 | icw4::SFNM;
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        init_chip(&mut pic, MASTER_CMD, ICW1_EDGE, 0x08, 0x04, icw4);
        init_chip(&mut pic, SLAVE_CMD, ICW1_EDGE, 0x70, 0x02, ICW4_8086);
        lines.line(12).pulse();
        pic.acknowledge();

        lines.line(5).pulse();

        assert!(!pic.interrupt_pending());
    }

    // --- auto EOI ---

    #[test]
    fn auto_eoi_leaves_nothing_in_service() {
        let (lines, mut pic) = pair_with(ICW1_EDGE, ICW1_EDGE, ICW4_8086 | icw4::AEOI);
        lines.line(4).pulse();

        pic.acknowledge();
        lines.line(5).pulse();

        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x00);
        assert_eq!(pic.acknowledge(), 0x0D, "no EOI needed");
    }

    #[test]
    fn rotate_in_auto_eoi_makes_the_served_level_lowest() {
        let (lines, mut pic) = pair_with(ICW1_EDGE, ICW1_EDGE, ICW4_8086 | icw4::AEOI);
        out(&mut pic, MASTER_CMD, ocw2::SET_ROTATE_IN_AEOI);
        lines.line(0).pulse();
        pic.acknowledge();

        lines.line(0).pulse();
        lines.line(1).pulse();

        assert_eq!(pic.acknowledge(), 0x09);
    }

    #[test]
    fn clear_rotate_in_auto_eoi_keeps_the_fixed_priority() {
        let (lines, mut pic) = pair_with(ICW1_EDGE, ICW1_EDGE, ICW4_8086 | icw4::AEOI);
        out(&mut pic, MASTER_CMD, ocw2::SET_ROTATE_IN_AEOI);
        out(&mut pic, MASTER_CMD, ocw2::CLEAR_ROTATE_IN_AEOI);
        lines.line(0).pulse();
        pic.acknowledge();

        lines.line(0).pulse();
        lines.line(1).pulse();

        assert_eq!(pic.acknowledge(), 0x08);
    }

    #[test]
    fn an_auto_eoi_slave_still_pending_reaches_the_master_again() {
        let (lines, mut pic) = pair_with(ICW1_EDGE, ICW1_EDGE, ICW4_8086 | icw4::AEOI);
        lines.line(8).pulse();
        lines.line(9).pulse();

        let first = pic.acknowledge();

        assert_eq!(first, 0x70);
        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x71);
    }

    // --- poll mode ---

    #[test]
    fn poll_returns_the_highest_request_and_acknowledges_it() {
        let (lines, mut pic) = bios_pair();
        lines.line(6).pulse();
        lines.line(3).pulse();

        out(&mut pic, MASTER_CMD, ocw3::SELECT | ocw3::POLL);
        let polled = inb(&mut pic, MASTER_CMD);

        assert_eq!(polled, POLL_INTERRUPT | 3);
        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x08);
        assert_eq!(read_irr(&mut pic, MASTER_CMD), 0x40);
    }

    #[test]
    fn poll_with_no_request_returns_zero() {
        let (_lines, mut pic) = bios_pair();

        out(&mut pic, MASTER_CMD, ocw3::SELECT | ocw3::POLL);

        assert_eq!(inb(&mut pic, MASTER_DATA), 0x00);
    }

    #[test]
    fn poll_answers_only_the_next_read() {
        let (lines, mut pic) = bios_pair();
        out(&mut pic, MASTER_DATA, 0x80);
        lines.line(1).pulse();

        out(&mut pic, MASTER_CMD, ocw3::SELECT | ocw3::POLL);
        let polled = inb(&mut pic, MASTER_DATA);

        assert_eq!(polled, POLL_INTERRUPT | 1);
        assert_eq!(inb(&mut pic, MASTER_DATA), 0x80, "IMR again");
    }

    #[test]
    fn polling_the_slave_acknowledges_only_the_slave() {
        let (lines, mut pic) = bios_pair();
        out(&mut pic, MASTER_DATA, 0xFF);
        lines.line(13).pulse();

        out(&mut pic, SLAVE_CMD, ocw3::SELECT | ocw3::POLL);

        assert_eq!(inb(&mut pic, SLAVE_CMD), POLL_INTERRUPT | 5);
        assert_eq!(read_isr(&mut pic, SLAVE_CMD), 0x20);
        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x00);
    }

    #[test]
    fn poll_takes_precedence_over_a_register_read_in_the_same_ocw3() {
        let (lines, mut pic) = bios_pair();
        lines.line(2 + 2).pulse();

        out(
            &mut pic,
            MASTER_CMD,
            ocw3::SELECT | ocw3::POLL | ocw3::RR | ocw3::RIS,
        );

        assert_eq!(inb(&mut pic, MASTER_CMD), POLL_INTERRUPT | 4);
        assert_eq!(inb(&mut pic, MASTER_CMD), 0x10, "then ISR");
    }

    // --- special mask mode ---

    #[test]
    fn special_mask_mode_lets_lower_levels_in_while_the_masked_one_is_in_service() {
        let (lines, mut pic) = bios_pair();
        lines.line(1).pulse();
        pic.acknowledge();
        out(&mut pic, MASTER_CMD, ocw3::SELECT | ocw3::ESMM | ocw3::SMM);
        out(&mut pic, MASTER_DATA, 0x02);

        lines.line(5).pulse();

        assert!(pic.interrupt_pending());
        assert_eq!(pic.acknowledge(), 0x0D);
        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x22);
    }

    #[test]
    fn resetting_special_mask_mode_restores_nesting() {
        let (lines, mut pic) = bios_pair();
        lines.line(1).pulse();
        pic.acknowledge();
        out(&mut pic, MASTER_CMD, ocw3::SELECT | ocw3::ESMM | ocw3::SMM);
        out(&mut pic, MASTER_DATA, 0x02);

        out(&mut pic, MASTER_CMD, ocw3::SELECT | ocw3::ESMM);
        lines.line(5).pulse();

        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn smm_bit_without_esmm_changes_nothing() {
        let (lines, mut pic) = bios_pair();
        lines.line(1).pulse();
        pic.acknowledge();
        out(&mut pic, MASTER_DATA, 0x02);

        out(&mut pic, MASTER_CMD, ocw3::SELECT | ocw3::SMM);
        lines.line(5).pulse();

        assert!(!pic.interrupt_pending());
    }

    #[test]
    fn non_specific_eoi_in_special_mask_mode_skips_masked_levels() {
        let (lines, mut pic) = bios_pair();
        lines.line(1).pulse();
        pic.acknowledge();
        out(&mut pic, MASTER_CMD, ocw3::SELECT | ocw3::ESMM | ocw3::SMM);
        out(&mut pic, MASTER_DATA, 0x02);
        lines.line(5).pulse();
        pic.acknowledge();

        out(&mut pic, MASTER_CMD, EOI);

        assert_eq!(read_isr(&mut pic, MASTER_CMD), 0x02);
    }

    // --- register reads and odd accesses ---

    #[test]
    fn the_read_register_selection_persists_across_reads() {
        let (lines, mut pic) = bios_pair();
        lines.line(0).pulse();
        pic.acknowledge();
        lines.line(0).pulse();

        out(&mut pic, MASTER_CMD, READ_ISR);
        let first = inb(&mut pic, MASTER_CMD);
        let second = inb(&mut pic, MASTER_CMD);
        out(&mut pic, MASTER_CMD, ocw3::SELECT); // RR = 0: no change
        let third = inb(&mut pic, MASTER_CMD);

        assert_eq!([first, second, third], [0x01, 0x01, 0x01]);
        assert_eq!(read_irr(&mut pic, MASTER_CMD), 0x01);
    }

    #[test]
    fn a_word_write_is_two_byte_writes_to_consecutive_ports() {
        let (_lines, mut pic) = bios_pair();

        // Low byte: OCW3 read ISR; high byte: IMR.
        pic.write(MASTER_CMD, 2, 0xA5_0B);

        assert_eq!(pic.read(MASTER_CMD, 2), 0xA5_00);
    }

    #[test]
    fn bytes_beyond_a_chips_two_ports_are_ignored() {
        let (_lines, mut pic) = bios_pair();

        pic.write(MASTER_DATA, 2, 0xFF_33);

        assert_eq!(inb(&mut pic, MASTER_DATA), 0x33);
        assert_eq!(inb(&mut pic, SLAVE_CMD), 0x00, "slave not written");
        assert_eq!(pic.read(MASTER_DATA, 4), 0xFFFF_FF33);
    }

    #[test]
    fn offsets_beyond_the_device_read_all_ones_and_ignore_writes() {
        let (_lines, mut pic) = bios_pair();

        pic.write(4, 1, 0x11);
        pic.write(0xFFFF, 4, 0x11);

        assert_eq!(pic.read(4, 1), 0xFF);
        assert_eq!(pic.read(0xFFFF, 2), 0xFFFF);
        assert_eq!(inb(&mut pic, MASTER_DATA), 0x00);
    }

    #[test]
    fn any_byte_at_any_offset_and_size_is_survived() {
        let lines = IrqLines::new();
        let mut pic = PicPair::new(lines.clone());
        let sizes = [0u8, 1, 2, 3, 4, 8];

        for value in 0..=255u32 {
            for offset in 0..6u16 {
                let size = sizes[(value as usize + offset as usize) % sizes.len()];
                lines.line((value % 16) as u8).set_level(value & 1 != 0);
                pic.write(offset, size, value * 0x0101_0101);
                pic.read(offset, size);
                if pic.interrupt_pending() {
                    pic.acknowledge();
                }
            }
        }

        pic.acknowledge();
    }
}
