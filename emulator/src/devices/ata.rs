//! One ATA/IDE channel (primary 0x1F0-0x1F7 + 0x3F6, IRQ 14; secondary
//! 0x170-0x177 + 0x376, IRQ 15) with a master and a slave hard disk, PIO
//! only, as in ATA/ATAPI-6 (T13 1410D).
//!
//! Offsets (the board decides the ports):
//!
//! | off | read                     | write                  |
//! |-----|--------------------------|------------------------|
//! | 0   | Data (8/16/32-bit)       | Data                   |
//! | 1   | Error                    | Features               |
//! | 2   | Sector Count             | Sector Count           |
//! | 3-5 | LBA Low / Mid / High     | LBA Low / Mid / High   |
//! | 6   | Device (DEV bit 4, LBA bit 6) | Device            |
//! | 7   | Status (clears INTRQ)    | Command                |
//! | 8   | Alternate Status         | Device Control (nIEN bit 1, SRST bit 2, HOB bit 7) |
//!
//! Sector Count and the LBA registers are two-deep FIFOs (ATA-6 6.20): a
//! write pushes the previous value to the "high order byte", read back with
//! HOB set; the 48-bit commands take the address from both. Writing any
//! command block register clears HOB.
//!
//! Commands (ATA-6 clause 8): IDENTIFY DEVICE, READ/WRITE SECTORS (EXT),
//! READ/WRITE MULTIPLE (EXT), SET MULTIPLE MODE, READ VERIFY SECTORS (EXT),
//! FLUSH CACHE (EXT), SET FEATURES, EXECUTE DEVICE DIAGNOSTIC, INITIALIZE
//! DEVICE PARAMETERS, RECALIBRATE, CHECK POWER MODE, IDLE/STANDBY
//! (IMMEDIATE). Anything else, IDENTIFY PACKET DEVICE included, ends with
//! ERR and ABRT. The device is instantaneous, so BSY is never seen except
//! while SRST is held; the protocols (ATA-6 9.5 PIO data-in, 9.6 PIO
//! data-out, 9.4 non-data) keep their order:
//!
//! - PIO in: DRQ and INTRQ before each block (one sector, or the multiple
//!   count for READ MULTIPLE); after the last block is read, DRQ clears with
//!   no further interrupt.
//! - PIO out: DRQ without an interrupt for the first block; when the host
//!   has written a block the device commits it to the disk and raises INTRQ,
//!   with DRQ again if more blocks follow.
//! - Non-data: completion status and INTRQ at once.
//!
//! INTRQ is cleared by reading Status (not Alternate Status) and by writing
//! Command; nIEN keeps the wire low while set (the pending interrupt shows
//! again when nIEN is cleared).
//!
//! Choices where the standard leaves room, and simplifications:
//! - 8-bit Data accesses move one byte of the block; a Data access without
//!   DRQ reads all ones and writes are ignored.
//! - 16/32-bit accesses to other registers act as byte accesses to
//!   consecutive offsets within the command block (as the ISA bus would
//!   split them); the bytes past offset 7 read 0xFF.
//! - With no device on the channel every register reads 0xFF (floating
//!   bus). With a master only and the slave selected, the master answers:
//!   Status, Alternate Status and Error read 0 (ATA-6 9.16), the others
//!   return the shared registers.
//! - A transfer whose range lies (partly) beyond the disk is refused before
//!   any data moves, with IDNF and the first bad address in the LBA
//!   registers; a write to a read-only disk is refused with ABRT.
//! - LBA28 commands reach at most sector 0x0FFFFFFF; CHS addresses are
//!   translated with the current geometry (default 16 heads, 63 sectors per
//!   track, or the one set by INITIALIZE DEVICE PARAMETERS).
//! - DMA is not implemented: IDENTIFY reports no DMA and SET FEATURES
//!   aborts a DMA transfer mode.

use super::disk::{Disk, SECTOR_SIZE};
use super::{IrqLine, PortDevice};
use crate::machine::snapshot::{Persist, Result as SnapResult, SnapshotError, StateIo};
use crate::trace::{Category, Trace};

/// Register offsets.
pub mod reg {
    pub const DATA: u16 = 0;
    /// Error on read, Features on write.
    pub const ERROR: u16 = 1;
    pub const FEATURES: u16 = 1;
    pub const SECTOR_COUNT: u16 = 2;
    pub const LBA_LOW: u16 = 3;
    pub const LBA_MID: u16 = 4;
    pub const LBA_HIGH: u16 = 5;
    pub const DEVICE: u16 = 6;
    /// Status on read, Command on write.
    pub const STATUS: u16 = 7;
    pub const COMMAND: u16 = 7;
    /// Alternate Status on read, Device Control on write.
    pub const CONTROL: u16 = 8;
}

/// Status register bits.
pub mod status {
    pub const BSY: u8 = 0x80;
    pub const DRDY: u8 = 0x40;
    pub const DF: u8 = 0x20;
    pub const DSC: u8 = 0x10;
    pub const DRQ: u8 = 0x08;
    pub const CORR: u8 = 0x04;
    pub const IDX: u8 = 0x02;
    pub const ERR: u8 = 0x01;
}

/// Error register bits.
pub mod error {
    pub const UNC: u8 = 0x40;
    pub const IDNF: u8 = 0x10;
    pub const ABRT: u8 = 0x04;
    /// EXECUTE DEVICE DIAGNOSTIC / reset code: device 0 passed (device 1
    /// passed or absent).
    pub const DIAG_PASSED: u8 = 0x01;
}

/// Device register bits.
pub mod device {
    pub const DEV: u8 = 0x10;
    pub const LBA: u8 = 0x40;
    pub const HEAD_MASK: u8 = 0x0F;
}

/// Device Control register bits.
pub mod control {
    pub const NIEN: u8 = 0x02;
    pub const SRST: u8 = 0x04;
    pub const HOB: u8 = 0x80;
}

/// Command opcodes.
pub mod cmd {
    pub const RECALIBRATE: u8 = 0x10; // 0x10-0x1F
    pub const READ_SECTORS: u8 = 0x20;
    pub const READ_SECTORS_NO_RETRY: u8 = 0x21;
    pub const READ_SECTORS_EXT: u8 = 0x24;
    pub const READ_MULTIPLE_EXT: u8 = 0x29;
    pub const WRITE_SECTORS: u8 = 0x30;
    pub const WRITE_SECTORS_NO_RETRY: u8 = 0x31;
    pub const WRITE_SECTORS_EXT: u8 = 0x34;
    pub const WRITE_MULTIPLE_EXT: u8 = 0x39;
    pub const READ_VERIFY: u8 = 0x40;
    pub const READ_VERIFY_NO_RETRY: u8 = 0x41;
    pub const READ_VERIFY_EXT: u8 = 0x42;
    pub const EXECUTE_DEVICE_DIAGNOSTIC: u8 = 0x90;
    pub const INITIALIZE_DEVICE_PARAMETERS: u8 = 0x91;
    pub const IDENTIFY_PACKET_DEVICE: u8 = 0xA1;
    pub const READ_MULTIPLE: u8 = 0xC4;
    pub const WRITE_MULTIPLE: u8 = 0xC5;
    pub const SET_MULTIPLE_MODE: u8 = 0xC6;
    pub const STANDBY_IMMEDIATE: u8 = 0xE0;
    pub const IDLE_IMMEDIATE: u8 = 0xE1;
    pub const STANDBY: u8 = 0xE2;
    pub const IDLE: u8 = 0xE3;
    pub const CHECK_POWER_MODE: u8 = 0xE5;
    pub const FLUSH_CACHE: u8 = 0xE7;
    pub const FLUSH_CACHE_EXT: u8 = 0xEA;
    pub const IDENTIFY_DEVICE: u8 = 0xEC;
    pub const SET_FEATURES: u8 = 0xEF;
}

/// SET FEATURES subcommands (Features register) that are accepted.
pub mod feature {
    pub const ENABLE_WRITE_CACHE: u8 = 0x02;
    pub const SET_TRANSFER_MODE: u8 = 0x03;
    pub const DISABLE_READ_LOOK_AHEAD: u8 = 0x55;
    pub const DISABLE_REVERT_TO_DEFAULTS: u8 = 0x66;
    pub const DISABLE_WRITE_CACHE: u8 = 0x82;
    pub const ENABLE_READ_LOOK_AHEAD: u8 = 0xAA;
    pub const ENABLE_REVERT_TO_DEFAULTS: u8 = 0xCC;
}

/// READ/WRITE MULTIPLE block size limit reported in IDENTIFY word 47.
pub const MAX_MULTIPLE: u16 = 16;
/// The largest sector count an LBA28 command can address.
const LBA28_LIMIT: u64 = 0x0FFF_FFFF;
/// Default translation geometry (IDENTIFY words 1, 3, 6).
const DEFAULT_HEADS: u16 = 16;
const DEFAULT_SECTORS_PER_TRACK: u16 = 63;
const MAX_CYLINDERS: u64 = 16383;
/// CHECK POWER MODE: device in active or idle mode.
const POWER_ACTIVE: u8 = 0xFF;
/// The status of a ready device with no command in progress.
const READY: u8 = status::DRDY | status::DSC;
/// The value a floating bus reads.
const FLOATING: u8 = 0xFF;

const MODEL: &str = "EMU HARDDISK";
const FIRMWARE: &str = "1.0";

/// Cylinders / heads / sectors-per-track used to translate CHS addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    cylinders: u16,
    heads: u16,
    sectors: u16,
}

impl Geometry {
    fn for_capacity(total: u64, heads: u16, sectors: u16) -> Geometry {
        let cylinders = (total / (heads as u64 * sectors as u64)).min(MAX_CYLINDERS);
        Geometry {
            cylinders: cylinders as u16,
            heads,
            sectors,
        }
    }

    fn capacity(&self) -> u64 {
        self.cylinders as u64 * self.heads as u64 * self.sectors as u64
    }
}

/// Which way a PIO transfer moves data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Direction {
    /// Device to host (reads, IDENTIFY).
    #[default]
    In,
    /// Host to device (writes).
    Out,
}

/// A PIO data transfer in progress on one device.
#[derive(Debug, Default)]
struct Transfer {
    direction: Direction,
    /// The current DRQ block.
    buf: Vec<u8>,
    /// Bytes of `buf` already moved.
    pos: usize,
    /// The disk address of `buf`'s first sector (`None` for IDENTIFY).
    lba: Option<u64>,
    /// Sectors after the current block.
    remaining: u64,
    /// Sectors per DRQ block.
    block: u64,
}

/// One device (master or slave) on the channel.
#[derive(Debug)]
struct Drive {
    disk: Disk,
    /// Which device this is: 0 master, 1 slave (IDENTIFY serial number).
    index: u8,
    status: u8,
    error: u8,
    /// Sectors per READ/WRITE MULTIPLE block; 0 while multiple mode is off.
    multiple: u16,
    default_geometry: Geometry,
    geometry: Geometry,
    write_cache: bool,
    transfer: Option<Transfer>,
}

/// A register of the command block that keeps its previous value for the
/// 48-bit commands.
#[derive(Debug, Default, Clone, Copy)]
struct Fifo {
    current: u8,
    previous: u8,
}

impl Fifo {
    fn push(&mut self, value: u8) {
        self.previous = self.current;
        self.current = value;
    }
    fn read(&self, hob: bool) -> u8 {
        if hob {
            self.previous
        } else {
            self.current
        }
    }
    fn set(&mut self, value: u8) {
        self.current = value;
    }
}

/// The command block registers, written to both devices at once.
#[derive(Debug, Default)]
struct TaskFile {
    features: Fifo,
    count: Fifo,
    lba_low: Fifo,
    lba_mid: Fifo,
    lba_high: Fifo,
    device: u8,
}

/// How a command ends.
enum Outcome {
    /// A PIO transfer was set up.
    Transfer,
    /// A non-data command completed.
    Done,
    /// The command failed with this Error register value.
    Fail(u8),
}

/// One ATA channel with up to two hard disks.
#[derive(Debug)]
pub struct AtaChannel {
    /// Commands and their completion go to the trace (`trace`) as
    /// channel `trace_channel`.
    pub trace: Trace,
    pub trace_channel: usize,
    /// The drive whose command is open in the trace.
    trace_open: Option<usize>,
    irq: IrqLine,
    drives: [Option<Drive>; 2],
    regs: TaskFile,
    /// Device Control: nIEN, SRST, HOB.
    control: u8,
    /// INTRQ as the selected device asserts it, before nIEN.
    intrq: bool,
}

impl AtaChannel {
    pub fn new(irq: IrqLine, master: Option<Disk>, slave: Option<Disk>) -> AtaChannel {
        let mut channel = AtaChannel {
            trace: Trace::off(),
            trace_channel: 0,
            trace_open: None,
            irq,
            drives: [
                master.map(|d| Drive::new(d, 0)),
                slave.map(|d| Drive::new(d, 1)),
            ],
            regs: TaskFile::default(),
            control: 0,
            intrq: false,
        };
        channel.write_signature();
        channel.update_irq();
        channel
    }

    /// The disk behind device `index` (0 master, 1 slave).
    pub fn disk(&self, index: usize) -> Option<&Disk> {
        self.drives.get(index)?.as_ref().map(|d| &d.disk)
    }

    /// Flushes both disks (e.g. before the machine exits).
    pub fn flush(&mut self) -> Result<(), super::disk::DiskError> {
        for drive in self.drives.iter_mut().flatten() {
            drive.disk.flush()?;
        }
        Ok(())
    }

    fn selected(&self) -> usize {
        usize::from(self.regs.device & device::DEV != 0)
    }

    fn no_devices(&self) -> bool {
        self.drives.iter().all(Option::is_none)
    }

    fn hob(&self) -> bool {
        self.control & control::HOB != 0
    }

    fn raise(&mut self) {
        self.intrq = true;
        self.update_irq();
    }

    fn clear_intrq(&mut self) {
        self.intrq = false;
        self.update_irq();
    }

    fn update_irq(&self) {
        self.irq
            .set_level(self.intrq && self.control & control::NIEN == 0);
    }

    /// The reset / diagnostic signature of an ATA device (ATA-6 9.12).
    fn write_signature(&mut self) {
        self.regs.count.set(1);
        self.regs.lba_low.set(1);
        self.regs.lba_mid.set(0);
        self.regs.lba_high.set(0);
        self.regs.device = 0;
        for drive in self.drives.iter_mut().flatten() {
            drive.error = error::DIAG_PASSED;
            drive.status = READY;
            drive.transfer = None;
        }
    }

    fn status(&self) -> u8 {
        if self.no_devices() {
            return FLOATING;
        }
        if self.control & control::SRST != 0 {
            return status::BSY;
        }
        match &self.drives[self.selected()] {
            Some(drive) => drive.status,
            None => 0,
        }
    }

    fn read_register(&mut self, offset: u16) -> u8 {
        if self.no_devices() {
            return FLOATING;
        }
        let hob = self.hob();
        let present = self.drives[self.selected()].is_some();
        match offset {
            reg::DATA => self.read_data(1) as u8,
            reg::ERROR => match &self.drives[self.selected()] {
                Some(drive) => drive.error,
                None => 0,
            },
            reg::SECTOR_COUNT => self.regs.count.read(hob),
            reg::LBA_LOW => self.regs.lba_low.read(hob),
            reg::LBA_MID => self.regs.lba_mid.read(hob),
            reg::LBA_HIGH => self.regs.lba_high.read(hob),
            reg::DEVICE => self.regs.device,
            reg::STATUS => {
                let value = self.status();
                if present {
                    self.clear_intrq();
                }
                value
            }
            reg::CONTROL => self.status(),
            _ => FLOATING,
        }
    }

    fn write_register(&mut self, offset: u16, value: u8) {
        if (reg::FEATURES..=reg::COMMAND).contains(&offset) {
            self.control &= !control::HOB;
        }
        match offset {
            reg::DATA => self.write_data(1, value as u32),
            reg::FEATURES => self.regs.features.push(value),
            reg::SECTOR_COUNT => self.regs.count.push(value),
            reg::LBA_LOW => self.regs.lba_low.push(value),
            reg::LBA_MID => self.regs.lba_mid.push(value),
            reg::LBA_HIGH => self.regs.lba_high.push(value),
            reg::DEVICE => self.regs.device = value,
            reg::COMMAND => self.command(value),
            reg::CONTROL => self.write_control(value),
            _ => {}
        }
    }

    fn write_control(&mut self, value: u8) {
        let was_reset = self.control & control::SRST != 0;
        self.control = value;
        if value & control::SRST != 0 {
            // Reset asserted: abandon everything; BSY until SRST clears.
            self.intrq = false;
            for drive in self.drives.iter_mut().flatten() {
                drive.transfer = None;
            }
        } else if was_reset {
            // Reset released: the devices come back ready with their
            // signature; no interrupt (ATA-6 9.2).
            self.write_signature();
        }
        self.update_irq();
    }

    // --- Data port ---

    fn read_data(&mut self, size: u8) -> u32 {
        let index = self.selected();
        let Some(drive) = self.drives[index].as_mut() else {
            return u32::MAX;
        };
        let Some(t) = drive.transfer.as_mut() else {
            return u32::MAX;
        };
        if t.direction != Direction::In {
            return u32::MAX;
        }
        let mut value = 0u32;
        for i in 0..size as usize {
            if t.pos < t.buf.len() {
                value |= (t.buf[t.pos] as u32) << (8 * i);
                t.pos += 1;
            } else {
                value |= 0xFF << (8 * i);
            }
        }
        if t.pos == t.buf.len() {
            self.block_done(index);
        }
        value
    }

    fn write_data(&mut self, size: u8, value: u32) {
        let index = self.selected();
        let Some(drive) = self.drives[index].as_mut() else {
            return;
        };
        let Some(t) = drive.transfer.as_mut() else {
            return;
        };
        if t.direction != Direction::Out {
            return;
        }
        for i in 0..size as usize {
            if t.pos < t.buf.len() {
                t.buf[t.pos] = (value >> (8 * i)) as u8;
                t.pos += 1;
            }
        }
        if t.pos == t.buf.len() {
            self.block_done(index);
        }
    }

    /// The host has moved a whole DRQ block.
    fn block_done(&mut self, index: usize) {
        let Some(drive) = self.drives[index].as_mut() else {
            return;
        };
        let Some(mut t) = drive.transfer.take() else {
            return;
        };
        if t.direction == Direction::Out {
            let lba = t.lba.unwrap_or(0);
            if let Err(e) = drive.disk.write(lba, &t.buf) {
                eprintln!("warning: ata: {e}");
                drive.fail(error::ABRT);
                self.raise();
                return;
            }
        }
        if t.remaining == 0 {
            drive.status = READY;
            if t.direction == Direction::Out {
                self.raise();
            }
            return;
        }
        // The next block.
        let lba = t.lba.unwrap_or(0) + (t.buf.len() / SECTOR_SIZE) as u64;
        let sectors = t.remaining.min(t.block);
        t.lba = Some(lba);
        t.remaining -= sectors;
        t.pos = 0;
        t.buf.resize(sectors as usize * SECTOR_SIZE, 0);
        if t.direction == Direction::In {
            if let Err(e) = drive.disk.read(lba, &mut t.buf) {
                eprintln!("warning: ata: {e}");
                drive.fail(error::UNC);
                self.raise();
                return;
            }
        }
        drive.status = READY | status::DRQ;
        drive.transfer = Some(t);
        self.raise();
    }

    // --- Commands ---

    fn command(&mut self, opcode: u8) {
        let index = self.selected();
        if self.control & control::SRST != 0 {
            return;
        }
        if opcode == cmd::EXECUTE_DEVICE_DIAGNOSTIC {
            // Both devices run it; device 0 reports (ATA-6 8.11).
            if self.no_devices() {
                return;
            }
            self.write_signature();
            self.raise();
            return;
        }
        if self.drives[index].is_none() {
            return;
        }
        // Writing Command clears a pending interrupt (ATA-6 5.2.9) and
        // ends any transfer the host abandoned.
        self.intrq = false;
        let drive = self.drives[index].as_mut().expect("present");
        drive.transfer = None;
        drive.error = 0;
        if self.trace.is_on() {
            self.trace_command(index, opcode);
        }
        let outcome = self.execute(index, opcode);
        match outcome {
            Outcome::Transfer => {
                let drive = self.drives[index].as_mut().expect("present");
                let t = drive.transfer.as_ref().expect("transfer set up");
                drive.status = READY | status::DRQ;
                // PIO in interrupts before the first block; PIO out waits
                // for the host's data.
                if t.direction == Direction::In {
                    self.raise();
                } else {
                    self.update_irq();
                }
            }
            Outcome::Done => {
                self.drives[index].as_mut().expect("present").status = READY;
                self.raise();
            }
            Outcome::Fail(err) => {
                self.drives[index].as_mut().expect("present").fail(err);
                self.raise();
            }
        }
    }

    /// Opens the command's slice in the trace, with the address and count
    /// the registers hold now.
    #[cold]
    fn trace_command(&mut self, index: usize, opcode: u8) {
        let ext = matches!(
            opcode,
            cmd::READ_SECTORS_EXT
                | cmd::READ_MULTIPLE_EXT
                | cmd::WRITE_SECTORS_EXT
                | cmd::WRITE_MULTIPLE_EXT
                | cmd::READ_VERIFY_EXT
        );
        let lba = self.address(index, ext).unwrap_or(0);
        let count = self.count(ext) as u32;
        if let Some(mut t) = self.trace.on(Category::Ata) {
            t.ata_command(self.trace_channel, index as u8, opcode, lba, count);
            self.trace_open = Some(index);
        }
    }

    /// Closes the command's slice once its data phase is over.
    fn trace_check_done(&mut self) {
        let Some(index) = self.trace_open else { return };
        let Some(drive) = self.drives[index].as_ref() else {
            return;
        };
        if drive.transfer.is_some() {
            return;
        }
        let (status, error) = (drive.status, drive.error);
        self.trace_open = None;
        if let Some(mut t) = self.trace.on(Category::Ata) {
            t.ata_complete(self.trace_channel, status, error);
        }
    }

    fn execute(&mut self, index: usize, opcode: u8) -> Outcome {
        let multiple = self.drives[index].as_ref().map_or(0, |d| d.multiple) as u64;
        match opcode {
            cmd::IDENTIFY_DEVICE => {
                let drive = self.drives[index].as_mut().expect("present");
                let buf = drive.identify().to_vec();
                drive.start(Direction::In, buf, None, 0, 1);
                Outcome::Transfer
            }
            cmd::READ_SECTORS | cmd::READ_SECTORS_NO_RETRY => {
                self.pio(index, Direction::In, false, 1)
            }
            cmd::READ_SECTORS_EXT => self.pio(index, Direction::In, true, 1),
            cmd::WRITE_SECTORS | cmd::WRITE_SECTORS_NO_RETRY => {
                self.pio(index, Direction::Out, false, 1)
            }
            cmd::WRITE_SECTORS_EXT => self.pio(index, Direction::Out, true, 1),
            cmd::READ_MULTIPLE => self.pio(index, Direction::In, false, multiple),
            cmd::READ_MULTIPLE_EXT => self.pio(index, Direction::In, true, multiple),
            cmd::WRITE_MULTIPLE => self.pio(index, Direction::Out, false, multiple),
            cmd::WRITE_MULTIPLE_EXT => self.pio(index, Direction::Out, true, multiple),
            cmd::READ_VERIFY | cmd::READ_VERIFY_NO_RETRY => self.verify(index, false),
            cmd::READ_VERIFY_EXT => self.verify(index, true),
            cmd::SET_MULTIPLE_MODE => {
                let count = self.regs.count.current as u16;
                // 0 disables multiple mode; otherwise a power of two up to
                // the limit in IDENTIFY word 47.
                if count > MAX_MULTIPLE || (count != 0 && !count.is_power_of_two()) {
                    return Outcome::Fail(error::ABRT);
                }
                self.drives[index].as_mut().expect("present").multiple = count;
                Outcome::Done
            }
            cmd::FLUSH_CACHE | cmd::FLUSH_CACHE_EXT => {
                let drive = self.drives[index].as_mut().expect("present");
                match drive.disk.flush() {
                    Ok(()) => Outcome::Done,
                    Err(e) => {
                        eprintln!("warning: ata: {e}");
                        Outcome::Fail(error::ABRT)
                    }
                }
            }
            cmd::SET_FEATURES => self.set_features(index),
            cmd::INITIALIZE_DEVICE_PARAMETERS => {
                let sectors = self.regs.count.current as u16;
                let heads = (self.regs.device & device::HEAD_MASK) as u16 + 1;
                if sectors == 0 {
                    return Outcome::Fail(error::ABRT);
                }
                let drive = self.drives[index].as_mut().expect("present");
                let total = drive.disk.sectors();
                drive.geometry = Geometry::for_capacity(total, heads, sectors);
                Outcome::Done
            }
            cmd::CHECK_POWER_MODE => {
                self.regs.count.set(POWER_ACTIVE);
                Outcome::Done
            }
            0x10..=0x1F
            | cmd::STANDBY_IMMEDIATE
            | cmd::IDLE_IMMEDIATE
            | cmd::STANDBY
            | cmd::IDLE => Outcome::Done,
            // IDENTIFY PACKET DEVICE: this is not a packet device.
            cmd::IDENTIFY_PACKET_DEVICE => Outcome::Fail(error::ABRT),
            _ => Outcome::Fail(error::ABRT),
        }
    }

    fn set_features(&mut self, index: usize) -> Outcome {
        let drive = self.drives[index].as_mut().expect("present");
        match self.regs.features.current {
            feature::SET_TRANSFER_MODE => {
                let mode = self.regs.count.current;
                // 00h/01h PIO default; 08h-0Ch PIO flow-control modes 0-4.
                // Multiword DMA (20h) and Ultra DMA (40h) are not offered.
                match mode {
                    0x00 | 0x01 | 0x08..=0x0C => Outcome::Done,
                    _ => Outcome::Fail(error::ABRT),
                }
            }
            feature::ENABLE_WRITE_CACHE => {
                drive.write_cache = true;
                Outcome::Done
            }
            feature::DISABLE_WRITE_CACHE => {
                drive.write_cache = false;
                Outcome::Done
            }
            feature::DISABLE_READ_LOOK_AHEAD
            | feature::ENABLE_READ_LOOK_AHEAD
            | feature::DISABLE_REVERT_TO_DEFAULTS
            | feature::ENABLE_REVERT_TO_DEFAULTS => Outcome::Done,
            _ => Outcome::Fail(error::ABRT),
        }
    }

    /// The sector count of the command in the registers: LBA28 0 means
    /// 256, LBA48 0 means 65536.
    fn count(&self, ext: bool) -> u64 {
        let c = &self.regs.count;
        match (ext, c.current, c.previous) {
            (false, 0, _) => 256,
            (false, n, _) => n as u64,
            (true, 0, 0) => 65536,
            (true, lo, hi) => u16::from_le_bytes([lo, hi]) as u64,
        }
    }

    /// The starting address of the command, translating CHS, or `None`
    /// for a CHS address outside the geometry.
    fn address(&self, index: usize, ext: bool) -> Option<u64> {
        let r = &self.regs;
        if ext {
            return Some(u64::from_le_bytes([
                r.lba_low.current,
                r.lba_mid.current,
                r.lba_high.current,
                r.lba_low.previous,
                r.lba_mid.previous,
                r.lba_high.previous,
                0,
                0,
            ]));
        }
        if r.device & device::LBA != 0 {
            return Some(u64::from_le_bytes([
                r.lba_low.current,
                r.lba_mid.current,
                r.lba_high.current,
                r.device & device::HEAD_MASK,
                0,
                0,
                0,
                0,
            ]));
        }
        // CHS (ATA-6 6.2): LBA = (C * heads + H) * sectors + S - 1.
        let g = self.drives[index].as_ref()?.geometry;
        let cylinder = u16::from_le_bytes([r.lba_mid.current, r.lba_high.current]);
        let head = (r.device & device::HEAD_MASK) as u16;
        let sector = r.lba_low.current as u16;
        if sector == 0 || sector > g.sectors || head >= g.heads || cylinder >= g.cylinders {
            return None;
        }
        Some(
            (cylinder as u64 * g.heads as u64 + head as u64) * g.sectors as u64 + sector as u64 - 1,
        )
    }

    /// Writes a sector address back to the LBA registers (error outputs).
    fn report_address(&mut self, ext: bool, lba: u64) {
        if self.regs.device & device::LBA == 0 && !ext {
            return; // CHS: the address registers keep what the host wrote.
        }
        let b = lba.to_le_bytes();
        let r = &mut self.regs;
        r.lba_low.set(b[0]);
        r.lba_mid.set(b[1]);
        r.lba_high.set(b[2]);
        if ext {
            r.lba_low.previous = b[3];
            r.lba_mid.previous = b[4];
            r.lba_high.previous = b[5];
        } else {
            r.device = (r.device & !device::HEAD_MASK) | (b[3] & device::HEAD_MASK);
        }
    }

    /// Checks the command's range; returns (lba, count) or the error.
    fn range(&mut self, index: usize, ext: bool) -> Result<(u64, u64), u8> {
        let count = self.count(ext);
        let Some(lba) = self.address(index, ext) else {
            return Err(error::IDNF);
        };
        let capacity = self.drives[index].as_ref().map_or(0, |d| d.disk.sectors());
        let limit = if ext {
            capacity
        } else {
            capacity.min(LBA28_LIMIT + 1)
        };
        if lba + count > limit {
            self.report_address(ext, lba.max(limit));
            return Err(error::IDNF);
        }
        Ok((lba, count))
    }

    /// Sets up a PIO data transfer of the command's sectors in blocks of
    /// `block` sectors (0: multiple mode is off, the command aborts).
    fn pio(&mut self, index: usize, direction: Direction, ext: bool, block: u64) -> Outcome {
        if block == 0 {
            return Outcome::Fail(error::ABRT);
        }
        let (lba, count) = match self.range(index, ext) {
            Ok(r) => r,
            Err(e) => return Outcome::Fail(e),
        };
        let drive = self.drives[index].as_mut().expect("present");
        if direction == Direction::Out && drive.disk.read_only() {
            return Outcome::Fail(error::ABRT);
        }
        let first = count.min(block);
        let mut buf = vec![0; first as usize * SECTOR_SIZE];
        if direction == Direction::In {
            if let Err(e) = drive.disk.read(lba, &mut buf) {
                eprintln!("warning: ata: {e}");
                return Outcome::Fail(error::UNC);
            }
        }
        drive.start(direction, buf, Some(lba), count - first, block);
        Outcome::Transfer
    }

    fn verify(&mut self, index: usize, ext: bool) -> Outcome {
        match self.range(index, ext) {
            Ok(_) => Outcome::Done,
            Err(e) => Outcome::Fail(e),
        }
    }
}

impl Drive {
    fn new(disk: Disk, index: u8) -> Drive {
        let geometry =
            Geometry::for_capacity(disk.sectors(), DEFAULT_HEADS, DEFAULT_SECTORS_PER_TRACK);
        Drive {
            disk,
            index,
            status: READY,
            error: error::DIAG_PASSED,
            multiple: 0,
            default_geometry: geometry,
            geometry,
            write_cache: true,
            transfer: None,
        }
    }

    fn start(
        &mut self,
        direction: Direction,
        buf: Vec<u8>,
        lba: Option<u64>,
        remaining: u64,
        block: u64,
    ) {
        self.transfer = Some(Transfer {
            direction,
            buf,
            pos: 0,
            lba,
            remaining,
            block,
        });
    }

    fn fail(&mut self, err: u8) {
        self.transfer = None;
        self.error = err;
        self.status = READY | status::ERR;
    }

    /// The IDENTIFY DEVICE data (ATA-6 8.15, table 16), as 256 words.
    fn identify(&self) -> [u8; SECTOR_SIZE] {
        let mut w = [0u16; 256];
        let total = self.disk.sectors();
        let lba28 = total.min(LBA28_LIMIT);
        let d = self.default_geometry;
        let g = self.geometry;
        w[0] = 0x0040; // ATA device, fixed (not removable) media
        w[1] = d.cylinders;
        w[3] = d.heads;
        w[6] = d.sectors;
        let serial = format!("EMU{:017}", self.index as u32 + 1);
        put_string(&mut w[10..20], &serial);
        put_string(&mut w[23..27], FIRMWARE);
        put_string(&mut w[27..47], MODEL);
        w[47] = 0x8000 | MAX_MULTIPLE;
        w[49] = 1 << 9; // LBA supported; no DMA
        w[50] = 0x4000;
        w[51] = 0x0200; // PIO timing mode 2 (obsolete field)
        w[53] = 0x0003; // words 54-58 and 64-70 valid
        w[54] = g.cylinders;
        w[55] = g.heads;
        w[56] = g.sectors;
        let chs = g.capacity();
        w[57] = chs as u16;
        w[58] = (chs >> 16) as u16;
        w[59] = if self.multiple != 0 {
            0x0100 | self.multiple
        } else {
            0
        };
        w[60] = lba28 as u16;
        w[61] = (lba28 >> 16) as u16;
        w[64] = 0x0003; // PIO modes 3 and 4
        w[65] = 120;
        w[66] = 120;
        w[67] = 120;
        w[68] = 120;
        w[80] = 0x007E; // ATA-1 .. ATA-6
                        // Words 82-87: supported / enabled feature sets.
        const WRITE_CACHE: u16 = 1 << 5;
        const VALID: u16 = 1 << 14;
        const LBA48: u16 = 1 << 10;
        const FLUSH: u16 = 1 << 12;
        const FLUSH_EXT: u16 = 1 << 13;
        w[82] = WRITE_CACHE;
        w[83] = VALID | FLUSH_EXT | FLUSH | LBA48;
        w[84] = VALID;
        w[85] = if self.write_cache { WRITE_CACHE } else { 0 };
        w[86] = FLUSH_EXT | FLUSH | LBA48;
        w[87] = VALID;
        for (i, word) in w[100..104].iter_mut().enumerate() {
            *word = (total >> (16 * i)) as u16;
        }
        let mut bytes = [0u8; SECTOR_SIZE];
        for (i, word) in w.iter().enumerate() {
            bytes[2 * i..2 * i + 2].copy_from_slice(&word.to_le_bytes());
        }
        // Word 255: signature A5h and a checksum making all bytes sum to 0.
        bytes[510] = 0xA5;
        let sum = bytes[..511].iter().fold(0u8, |a, &b| a.wrapping_add(b));
        bytes[511] = sum.wrapping_neg();
        bytes
    }
}

/// An ATA string: space padded, two characters per word with the first in
/// the high byte.
fn put_string(words: &mut [u16], s: &str) {
    let mut chars = s.bytes().chain(std::iter::repeat(b' '));
    for word in words {
        let hi = chars.next().unwrap_or(b' ');
        let lo = chars.next().unwrap_or(b' ');
        *word = u16::from_be_bytes([hi, lo]);
    }
}

impl PortDevice for AtaChannel {
    fn read(&mut self, offset: u16, size: u8) -> u32 {
        let v = self.port_read(offset, size);
        if self.trace_open.is_some() {
            self.trace_check_done();
        }
        v
    }

    fn write(&mut self, offset: u16, size: u8, value: u32) {
        self.port_write(offset, size, value);
        if self.trace_open.is_some() {
            self.trace_check_done();
        }
    }
}

impl AtaChannel {
    fn port_read(&mut self, offset: u16, size: u8) -> u32 {
        let size = size.clamp(1, 4);
        if offset == reg::DATA {
            if self.no_devices() {
                return u32::MAX >> (32 - 8 * size as u32);
            }
            return self.read_data(size) & (u32::MAX >> (32 - 8 * size as u32));
        }
        let mut value = 0u32;
        for i in 0..size as u16 {
            let at = offset.saturating_add(i);
            let byte = if i > 0 && (at > reg::COMMAND || offset == reg::CONTROL) {
                FLOATING
            } else {
                self.read_register(at)
            };
            value |= (byte as u32) << (8 * i);
        }
        value
    }

    fn port_write(&mut self, offset: u16, size: u8, value: u32) {
        let size = size.clamp(1, 4);
        if offset == reg::DATA {
            self.write_data(size, value);
            return;
        }
        for i in 0..size as u16 {
            let at = offset.saturating_add(i);
            if i > 0 && (at > reg::COMMAND || offset == reg::CONTROL) {
                break;
            }
            self.write_register(at, (value >> (8 * i)) as u8);
        }
    }
}

// Snapshots (`machine::snapshot`): the task file, each drive's registers
// and PIO transfer in flight, and its disk (identity and overlay).
crate::persist_enum!(Direction { In, Out });
crate::persist_fields!(Geometry {
    cylinders,
    heads,
    sectors
});
impl Persist for Transfer {
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        self.direction.persist(io)?;
        self.buf.persist(io)?;
        self.pos.persist(io)?;
        self.lba.persist(io)?;
        self.remaining.persist(io)?;
        self.block.persist(io)?;
        if self.pos > self.buf.len() {
            return Err(SnapshotError::Malformed(format!(
                "ATA transfer at byte {} of {}",
                self.pos,
                self.buf.len()
            )));
        }
        Ok(())
    }
}
crate::persist_fields!(Drive {
    disk,
    index,
    status,
    error,
    multiple,
    default_geometry,
    geometry,
    write_cache,
    transfer,
});
crate::persist_fields!(Fifo { current, previous });
crate::persist_fields!(TaskFile {
    features,
    count,
    lba_low,
    lba_mid,
    lba_high,
    device,
});

impl Persist for AtaChannel {
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("ata")?;
        for (i, drive) in self.drives.iter_mut().enumerate() {
            io.expect(&format!("ATA drive {i} attached"), drive.is_some())?;
            if let Some(d) = drive {
                d.persist(io)?;
            }
        }
        self.regs.persist(io)?;
        self.control.persist(io)?;
        self.intrq.persist(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::disk::DiskMode;
    use crate::devices::IrqLines;
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::rc::Rc;

    const PRIMARY_IRQ: u8 = 14;
    const LBA_MODE: u8 = 0xE0;

    /// Sector `lba` of the test pattern: every byte names its sector.
    fn pattern(lba: u64) -> Vec<u8> {
        (0..SECTOR_SIZE)
            .map(|i| (lba as u8).wrapping_mul(7) ^ i as u8)
            .collect()
    }

    fn patterned_disk(sectors: u64) -> Disk {
        Disk::from_bytes((0..sectors).flat_map(pattern).collect()).unwrap()
    }

    fn channel_with(master: Option<Disk>, slave: Option<Disk>) -> (AtaChannel, Rc<IrqLines>) {
        let lines = IrqLines::new();
        let ch = AtaChannel::new(lines.line(PRIMARY_IRQ), master, slave);
        (ch, lines)
    }

    fn channel(disk: Disk) -> (AtaChannel, Rc<IrqLines>) {
        channel_with(Some(disk), None)
    }

    fn outb(ch: &mut AtaChannel, offset: u16, value: u8) {
        ch.write(offset, 1, value as u32);
    }

    fn inb(ch: &mut AtaChannel, offset: u16) -> u8 {
        ch.read(offset, 1) as u8
    }

    fn irq_high(lines: &IrqLines) -> bool {
        lines.levels() & (1 << PRIMARY_IRQ) != 0
    }

    /// An LBA28 command on the master, the way a driver issues it.
    fn issue28(ch: &mut AtaChannel, opcode: u8, lba: u32, count: u8) {
        outb(ch, reg::DEVICE, LBA_MODE | (lba >> 24) as u8 & 0x0F);
        outb(ch, reg::SECTOR_COUNT, count);
        outb(ch, reg::LBA_LOW, lba as u8);
        outb(ch, reg::LBA_MID, (lba >> 8) as u8);
        outb(ch, reg::LBA_HIGH, (lba >> 16) as u8);
        outb(ch, reg::COMMAND, opcode);
    }

    /// An LBA48 command: high-order bytes first, then the low-order ones.
    fn issue48(ch: &mut AtaChannel, opcode: u8, lba: u64, count: u16) {
        outb(ch, reg::DEVICE, device::LBA);
        outb(ch, reg::SECTOR_COUNT, (count >> 8) as u8);
        outb(ch, reg::LBA_LOW, (lba >> 24) as u8);
        outb(ch, reg::LBA_MID, (lba >> 32) as u8);
        outb(ch, reg::LBA_HIGH, (lba >> 40) as u8);
        outb(ch, reg::SECTOR_COUNT, count as u8);
        outb(ch, reg::LBA_LOW, lba as u8);
        outb(ch, reg::LBA_MID, (lba >> 8) as u8);
        outb(ch, reg::LBA_HIGH, (lba >> 16) as u8);
        outb(ch, reg::COMMAND, opcode);
    }

    fn read_block16(ch: &mut AtaChannel) -> Vec<u8> {
        (0..SECTOR_SIZE / 2)
            .flat_map(|_| (ch.read(reg::DATA, 2) as u16).to_le_bytes())
            .collect()
    }

    fn read_block32(ch: &mut AtaChannel) -> Vec<u8> {
        (0..SECTOR_SIZE / 4)
            .flat_map(|_| ch.read(reg::DATA, 4).to_le_bytes())
            .collect()
    }

    fn write_block16(ch: &mut AtaChannel, data: &[u8]) {
        for pair in data.chunks_exact(2) {
            ch.write(reg::DATA, 2, u16::from_le_bytes([pair[0], pair[1]]) as u32);
        }
    }

    fn write_block32(ch: &mut AtaChannel, data: &[u8]) {
        for quad in data.chunks_exact(4) {
            ch.write(reg::DATA, 4, u32::from_le_bytes(quad.try_into().unwrap()));
        }
    }

    fn identify(ch: &mut AtaChannel) -> Vec<u8> {
        outb(ch, reg::DEVICE, 0xA0);
        outb(ch, reg::COMMAND, cmd::IDENTIFY_DEVICE);
        assert_eq!(inb(ch, reg::STATUS), READY | status::DRQ);
        read_block16(ch)
    }

    fn word(id: &[u8], n: usize) -> u16 {
        u16::from_le_bytes([id[2 * n], id[2 * n + 1]])
    }

    /// Un-swaps an ATA string.
    fn string(id: &[u8], words: std::ops::Range<usize>) -> String {
        words
            .flat_map(|n| word(id, n).to_be_bytes())
            .map(char::from)
            .collect()
    }

    fn image(sectors: u64) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let bytes: Vec<u8> = (0..sectors).flat_map(pattern).collect();
        f.write_all(&bytes).unwrap();
        f.flush().unwrap();
        f
    }

    /// A sparse image file of `sectors` sectors (cheap however large).
    fn sparse_image(sectors: u64) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        f.as_file().set_len(sectors * SECTOR_SIZE as u64).unwrap();
        f
    }

    fn file_sector(path: &std::path::Path, lba: u64) -> Vec<u8> {
        let mut f = std::fs::File::open(path).unwrap();
        f.seek(SeekFrom::Start(lba * SECTOR_SIZE as u64)).unwrap();
        let mut buf = vec![0; SECTOR_SIZE];
        f.read_exact(&mut buf).unwrap();
        buf
    }

    fn write_file_sector(path: &std::path::Path, lba: u64, data: &[u8]) {
        let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        f.seek(SeekFrom::Start(lba * SECTOR_SIZE as u64)).unwrap();
        f.write_all(data).unwrap();
    }

    // --- IDENTIFY DEVICE ---

    #[test]
    fn identify_reports_byte_swapped_space_padded_strings() {
        let (mut ch, _) = channel(patterned_disk(64));

        let id = identify(&mut ch);

        assert_eq!(string(&id, 27..47), format!("{MODEL:<40}"));
        assert_eq!(string(&id, 23..27), format!("{FIRMWARE:<8}"));
        assert_eq!(string(&id, 10..20), "EMU00000000000000001");
        assert_eq!(&id[54..56], b"ME", "first character in the high byte");
    }

    #[test]
    fn identify_reports_capacity_and_feature_words() {
        let (mut ch, _) = channel(patterned_disk(20_000));

        let id = identify(&mut ch);

        assert_eq!(word(&id, 0), 0x0040);
        assert_eq!(word(&id, 47), 0x8000 | MAX_MULTIPLE);
        assert_eq!(word(&id, 49) & (1 << 9), 1 << 9, "LBA");
        assert_eq!(word(&id, 49) & (1 << 8), 0, "no DMA");
        assert_eq!(word(&id, 59), 0, "multiple mode off");
        assert_eq!(word(&id, 60), 20_000);
        assert_eq!(word(&id, 61), 0);
        assert_eq!(word(&id, 80) & (1 << 6), 1 << 6, "ATA-6");
        assert_eq!(word(&id, 83) & (1 << 10), 1 << 10, "48-bit supported");
        assert_eq!(word(&id, 86) & (1 << 10), 1 << 10, "48-bit enabled");
        assert_eq!(word(&id, 100), 20_000);
        assert_eq!(word(&id, 101), 0);
    }

    #[test]
    fn identify_reports_16_heads_63_sectors_chs_geometry() {
        let (mut ch, _) = channel(patterned_disk(20_000));

        let id = identify(&mut ch);

        let cylinders = 20_000 / (16 * 63);
        assert_eq!(
            (word(&id, 1), word(&id, 3), word(&id, 6)),
            (cylinders, 16, 63)
        );
        assert_eq!(
            (word(&id, 54), word(&id, 55), word(&id, 56)),
            (cylinders, 16, 63)
        );
        assert_eq!(word(&id, 53) & 1, 1, "words 54-58 valid");
        let chs = cylinders as u32 * 16 * 63;
        assert_eq!(word(&id, 57) as u32 | (word(&id, 58) as u32) << 16, chs);
    }

    #[test]
    fn identify_of_a_disk_beyond_lba28_caps_words_60_61_and_cylinders() {
        let sectors = (1u64 << 28) + 1000;
        let file = sparse_image(sectors);
        let (mut ch, _) = channel(Disk::open(file.path(), DiskMode::ReadOnly).unwrap());

        let id = identify(&mut ch);

        assert_eq!(
            word(&id, 60) as u64 | (word(&id, 61) as u64) << 16,
            0x0FFF_FFFF
        );
        let lba48 = (0..4).fold(0u64, |a, i| a | (word(&id, 100 + i) as u64) << (16 * i));
        assert_eq!(lba48, sectors);
        assert_eq!(word(&id, 1), 16383);
    }

    #[test]
    fn identify_checksum_makes_all_512_bytes_sum_to_zero() {
        let (mut ch, _) = channel(patterned_disk(1234));

        let id = identify(&mut ch);

        assert_eq!(id[510], 0xA5);
        assert_eq!(id.iter().fold(0u8, |a, &b| a.wrapping_add(b)), 0);
    }

    #[test]
    fn identify_packet_device_aborts_on_a_hard_disk() {
        let (mut ch, _) = channel(patterned_disk(8));

        outb(&mut ch, reg::COMMAND, cmd::IDENTIFY_PACKET_DEVICE);

        assert_eq!(inb(&mut ch, reg::STATUS), READY | status::ERR);
        assert_eq!(inb(&mut ch, reg::ERROR), error::ABRT);
    }

    // --- PIO data-in ---

    #[test]
    fn read_sectors_through_16_bit_data_port_returns_the_disk_contents() {
        let (mut ch, _) = channel(patterned_disk(64));

        issue28(&mut ch, cmd::READ_SECTORS, 10, 2);
        let status_first = inb(&mut ch, reg::STATUS);
        let first = read_block16(&mut ch);
        let status_second = inb(&mut ch, reg::STATUS);
        let second = read_block16(&mut ch);

        assert_eq!(status_first, READY | status::DRQ);
        assert_eq!(first, pattern(10));
        assert_eq!(status_second, READY | status::DRQ);
        assert_eq!(second, pattern(11));
        assert_eq!(
            inb(&mut ch, reg::STATUS),
            READY,
            "DRQ clears after the last block"
        );
    }

    #[test]
    fn read_sectors_through_32_bit_data_port_returns_the_disk_contents() {
        let (mut ch, _) = channel(patterned_disk(64));

        issue28(&mut ch, cmd::READ_SECTORS, 63, 1);
        let data = read_block32(&mut ch);

        assert_eq!(data, pattern(63));
        assert_eq!(inb(&mut ch, reg::STATUS), READY);
    }

    #[test]
    fn byte_wide_data_reads_move_one_byte_each() {
        let (mut ch, _) = channel(patterned_disk(4));
        issue28(&mut ch, cmd::READ_SECTORS, 2, 1);

        let first = ch.read(reg::DATA, 1);
        let second = ch.read(reg::DATA, 1);

        assert_eq!([first as u8, second as u8], [pattern(2)[0], pattern(2)[1]]);
    }

    #[test]
    fn read_raises_intrq_before_each_block_and_not_after_the_last() {
        let (mut ch, lines) = channel(patterned_disk(64));

        issue28(&mut ch, cmd::READ_SECTORS, 0, 2);
        let before_first = irq_high(&lines);
        inb(&mut ch, reg::STATUS);
        let after_status_read = irq_high(&lines);
        read_block16(&mut ch);
        let before_second = irq_high(&lines);
        inb(&mut ch, reg::STATUS);
        read_block16(&mut ch);
        let after_last = irq_high(&lines);

        assert!(before_first);
        assert!(!after_status_read);
        assert!(before_second);
        assert!(!after_last);
    }

    #[test]
    fn alternate_status_read_leaves_intrq_pending() {
        let (mut ch, lines) = channel(patterned_disk(8));
        issue28(&mut ch, cmd::READ_VERIFY, 0, 1);

        let alt = inb(&mut ch, reg::CONTROL);

        assert_eq!(alt, READY);
        assert!(irq_high(&lines));
    }

    #[test]
    fn lba28_sector_count_zero_transfers_256_sectors() {
        let (mut ch, _) = channel(patterned_disk(300));
        issue28(&mut ch, cmd::READ_SECTORS, 0, 0);

        let blocks: Vec<Vec<u8>> = (0..256).map(|_| read_block32(&mut ch)).collect();

        assert_eq!(blocks[255], pattern(255));
        assert_eq!(inb(&mut ch, reg::STATUS), READY);
    }

    #[test]
    fn read_sectors_ext_reaches_beyond_2_pow_28_sectors() {
        let lba = (1u64 << 28) + 5;
        let file = sparse_image(lba + 10);
        write_file_sector(file.path(), lba, &pattern(9));
        let (mut ch, _) = channel(Disk::open(file.path(), DiskMode::ReadOnly).unwrap());

        issue48(&mut ch, cmd::READ_SECTORS_EXT, lba, 1);
        let data = read_block16(&mut ch);

        assert_eq!(data, pattern(9));
        assert_eq!(inb(&mut ch, reg::STATUS), READY);
    }

    #[test]
    fn lba28_read_beyond_the_lba28_limit_fails_with_idnf() {
        let file = sparse_image((1u64 << 28) + 10);
        let (mut ch, _) = channel(Disk::open(file.path(), DiskMode::ReadOnly).unwrap());

        issue28(&mut ch, cmd::READ_SECTORS, 0x0FFF_FFFF, 2);

        assert_eq!(inb(&mut ch, reg::STATUS), READY | status::ERR);
        assert_eq!(inb(&mut ch, reg::ERROR), error::IDNF);
    }

    #[test]
    fn lba48_sector_count_zero_means_65536_sectors() {
        let short = sparse_image(65535);
        let exact = sparse_image(65536);
        let (mut too_small, _) = channel(Disk::open(short.path(), DiskMode::ReadOnly).unwrap());
        let (mut big_enough, _) = channel(Disk::open(exact.path(), DiskMode::ReadOnly).unwrap());

        issue48(&mut too_small, cmd::READ_VERIFY_EXT, 0, 0);
        issue48(&mut big_enough, cmd::READ_VERIFY_EXT, 0, 0);

        assert_eq!(inb(&mut too_small, reg::ERROR), error::IDNF);
        assert_eq!(inb(&mut big_enough, reg::STATUS), READY);
    }

    #[test]
    fn chs_address_is_translated_with_the_identify_geometry() {
        let (mut ch, _) = channel(patterned_disk(3000));
        // Cylinder 1, head 2, sector 3: (1 * 16 + 2) * 63 + 3 - 1 = 1136.
        outb(&mut ch, reg::DEVICE, 0xA0 | 2);
        outb(&mut ch, reg::SECTOR_COUNT, 1);
        outb(&mut ch, reg::LBA_LOW, 3);
        outb(&mut ch, reg::LBA_MID, 1);
        outb(&mut ch, reg::LBA_HIGH, 0);

        outb(&mut ch, reg::COMMAND, cmd::READ_SECTORS);
        let data = read_block16(&mut ch);

        assert_eq!(data, pattern(1136));
    }

    #[test]
    fn chs_sector_zero_fails_with_idnf() {
        let (mut ch, _) = channel(patterned_disk(3000));
        outb(&mut ch, reg::DEVICE, 0xA0);
        outb(&mut ch, reg::SECTOR_COUNT, 1);
        outb(&mut ch, reg::LBA_LOW, 0);

        outb(&mut ch, reg::COMMAND, cmd::READ_SECTORS);

        assert_eq!(inb(&mut ch, reg::ERROR), error::IDNF);
    }

    #[test]
    fn initialize_device_parameters_changes_the_chs_translation() {
        let (mut ch, _) = channel(patterned_disk(3000));
        outb(&mut ch, reg::DEVICE, 0xA0 | 3); // 4 heads
        outb(&mut ch, reg::SECTOR_COUNT, 10); // 10 sectors per track
        outb(&mut ch, reg::COMMAND, cmd::INITIALIZE_DEVICE_PARAMETERS);
        let status = inb(&mut ch, reg::STATUS);
        // Cylinder 2, head 1, sector 5: (2 * 4 + 1) * 10 + 4 = 94.
        outb(&mut ch, reg::DEVICE, 0xA0 | 1);
        outb(&mut ch, reg::SECTOR_COUNT, 1);
        outb(&mut ch, reg::LBA_LOW, 5);
        outb(&mut ch, reg::LBA_MID, 2);
        outb(&mut ch, reg::LBA_HIGH, 0);

        outb(&mut ch, reg::COMMAND, cmd::READ_SECTORS);
        let data = read_block16(&mut ch);

        assert_eq!(status, READY);
        assert_eq!(data, pattern(94));
    }

    // --- PIO data-out ---

    #[test]
    fn write_sectors_waits_for_data_without_interrupt_then_commits_and_interrupts() {
        let (mut ch, lines) = channel(patterned_disk(16));

        issue28(&mut ch, cmd::WRITE_SECTORS, 3, 1);
        let asking = inb(&mut ch, reg::CONTROL);
        let irq_before_data = irq_high(&lines);
        write_block16(&mut ch, &[0x5A; SECTOR_SIZE]);
        let irq_after_data = irq_high(&lines);
        let done = inb(&mut ch, reg::STATUS);

        assert_eq!(asking, READY | status::DRQ);
        assert!(!irq_before_data);
        assert!(irq_after_data);
        assert_eq!(done, READY);
        let memory = ch.disk(0).unwrap().memory().unwrap();
        assert_eq!(
            &memory[3 * SECTOR_SIZE..4 * SECTOR_SIZE],
            &[0x5A; SECTOR_SIZE]
        );
    }

    #[test]
    fn write_sectors_reach_the_image_file() {
        let file = image(16);
        let (mut ch, _) = channel(Disk::open(file.path(), DiskMode::ReadWrite).unwrap());

        issue28(&mut ch, cmd::WRITE_SECTORS, 4, 2);
        write_block16(&mut ch, &pattern(100));
        inb(&mut ch, reg::STATUS);
        write_block32(&mut ch, &pattern(101));
        outb(&mut ch, reg::COMMAND, cmd::FLUSH_CACHE);

        assert_eq!(inb(&mut ch, reg::STATUS), READY);
        assert_eq!(file_sector(file.path(), 3), pattern(3));
        assert_eq!(file_sector(file.path(), 4), pattern(100));
        assert_eq!(file_sector(file.path(), 5), pattern(101));
        assert_eq!(file_sector(file.path(), 6), pattern(6));
    }

    #[test]
    fn write_sectors_ext_beyond_2_pow_28_reaches_the_image_file() {
        let lba = (1u64 << 28) + 3;
        let file = sparse_image(lba + 1);
        let (mut ch, _) = channel(Disk::open(file.path(), DiskMode::ReadWrite).unwrap());

        issue48(&mut ch, cmd::WRITE_SECTORS_EXT, lba, 1);
        write_block32(&mut ch, &pattern(42));
        drop(ch);

        assert_eq!(file_sector(file.path(), lba), pattern(42));
    }

    #[test]
    fn write_to_a_read_only_disk_aborts_before_asking_for_data() {
        let file = image(8);
        let (mut ch, lines) = channel(Disk::open(file.path(), DiskMode::ReadOnly).unwrap());

        issue28(&mut ch, cmd::WRITE_SECTORS, 1, 1);

        assert!(irq_high(&lines));
        assert_eq!(inb(&mut ch, reg::STATUS), READY | status::ERR);
        assert_eq!(inb(&mut ch, reg::ERROR), error::ABRT);
    }

    #[test]
    fn snapshot_disk_reads_back_writes_and_leaves_the_file_unchanged() {
        let file = image(8);
        let before = std::fs::read(file.path()).unwrap();
        let (mut ch, _) = channel(Disk::open(file.path(), DiskMode::Snapshot).unwrap());

        issue28(&mut ch, cmd::WRITE_SECTORS, 2, 1);
        write_block16(&mut ch, &pattern(77));
        outb(&mut ch, reg::COMMAND, cmd::FLUSH_CACHE_EXT);
        issue28(&mut ch, cmd::READ_SECTORS, 2, 1);
        let data = read_block16(&mut ch);
        drop(ch);

        assert_eq!(data, pattern(77));
        assert_eq!(std::fs::read(file.path()).unwrap(), before);
    }

    // --- READ/WRITE MULTIPLE ---

    fn set_multiple(ch: &mut AtaChannel, count: u8) -> u8 {
        outb(ch, reg::SECTOR_COUNT, count);
        outb(ch, reg::COMMAND, cmd::SET_MULTIPLE_MODE);
        inb(ch, reg::STATUS)
    }

    #[test]
    fn read_multiple_without_set_multiple_mode_aborts() {
        let (mut ch, _) = channel(patterned_disk(16));

        issue28(&mut ch, cmd::READ_MULTIPLE, 0, 4);

        assert_eq!(inb(&mut ch, reg::STATUS), READY | status::ERR);
        assert_eq!(inb(&mut ch, reg::ERROR), error::ABRT);
    }

    #[test]
    fn set_multiple_mode_with_a_non_power_of_two_aborts() {
        let (mut ch, _) = channel(patterned_disk(16));

        let status = set_multiple(&mut ch, 3);

        assert_eq!(status, READY | status::ERR);
        assert_eq!(inb(&mut ch, reg::ERROR), error::ABRT);
    }

    #[test]
    fn set_multiple_mode_above_the_identify_limit_aborts() {
        let (mut ch, _) = channel(patterned_disk(16));

        let status = set_multiple(&mut ch, 32);

        assert_eq!(status, READY | status::ERR);
    }

    #[test]
    fn set_multiple_mode_shows_in_identify_word_59() {
        let (mut ch, _) = channel(patterned_disk(16));

        let status = set_multiple(&mut ch, 8);
        let id = identify(&mut ch);

        assert_eq!(status, READY);
        assert_eq!(word(&id, 59), 0x0100 | 8);
    }

    #[test]
    fn read_multiple_interrupts_once_per_block_of_the_multiple_count() {
        let (mut ch, lines) = channel(patterned_disk(16));
        set_multiple(&mut ch, 4);

        issue28(&mut ch, cmd::READ_MULTIPLE, 1, 6);
        let first_irq = irq_high(&lines);
        inb(&mut ch, reg::STATUS);
        let first_block: Vec<Vec<u8>> = (0..3).map(|_| read_block16(&mut ch)).collect();
        let mid_block_irq = irq_high(&lines);
        let fourth = read_block16(&mut ch);
        let second_irq = irq_high(&lines);
        inb(&mut ch, reg::STATUS);
        let fifth = read_block32(&mut ch);
        let sixth = read_block32(&mut ch);

        assert!(first_irq);
        assert_eq!(first_block, vec![pattern(1), pattern(2), pattern(3)]);
        assert!(!mid_block_irq, "no interrupt within a block");
        assert_eq!(fourth, pattern(4));
        assert!(second_irq);
        assert_eq!((fifth, sixth), (pattern(5), pattern(6)));
        assert_eq!(inb(&mut ch, reg::STATUS), READY);
        assert!(!irq_high(&lines));
    }

    #[test]
    fn write_multiple_ext_commits_each_block_and_interrupts_after_it() {
        let (mut ch, lines) = channel(patterned_disk(16));
        set_multiple(&mut ch, 2);

        issue48(&mut ch, cmd::WRITE_MULTIPLE_EXT, 8, 3);
        write_block16(&mut ch, &pattern(200));
        let mid_block_irq = irq_high(&lines);
        write_block16(&mut ch, &pattern(201));
        let block_irq = irq_high(&lines);
        let between = inb(&mut ch, reg::STATUS);
        write_block16(&mut ch, &pattern(202));
        let last_irq = irq_high(&lines);
        let done = inb(&mut ch, reg::STATUS);

        assert!(!mid_block_irq);
        assert!(block_irq);
        assert_eq!(between, READY | status::DRQ);
        assert!(last_irq);
        assert_eq!(done, READY);
        let memory = ch.disk(0).unwrap().memory().unwrap();
        assert_eq!(&memory[8 * SECTOR_SIZE..9 * SECTOR_SIZE], &pattern(200)[..]);
        assert_eq!(
            &memory[10 * SECTOR_SIZE..11 * SECTOR_SIZE],
            &pattern(202)[..]
        );
    }

    // --- Errors ---

    #[test]
    fn unknown_command_aborts_with_an_interrupt() {
        let (mut ch, lines) = channel(patterned_disk(8));

        outb(&mut ch, reg::COMMAND, 0xB0); // SMART: not offered

        assert!(irq_high(&lines));
        assert_eq!(inb(&mut ch, reg::STATUS), READY | status::ERR);
        assert_eq!(inb(&mut ch, reg::ERROR), error::ABRT);
    }

    #[test]
    fn read_past_the_end_fails_with_idnf_and_reports_the_first_bad_sector() {
        let (mut ch, _) = channel(patterned_disk(8));

        issue28(&mut ch, cmd::READ_SECTORS, 6, 4);

        assert_eq!(inb(&mut ch, reg::STATUS), READY | status::ERR);
        assert_eq!(inb(&mut ch, reg::ERROR), error::IDNF);
        assert_eq!(inb(&mut ch, reg::LBA_LOW), 8);
    }

    #[test]
    fn a_good_command_after_an_error_clears_err() {
        let (mut ch, _) = channel(patterned_disk(8));
        outb(&mut ch, reg::COMMAND, 0xB0);

        issue28(&mut ch, cmd::READ_VERIFY, 0, 8);

        assert_eq!(inb(&mut ch, reg::STATUS), READY);
        assert_eq!(inb(&mut ch, reg::ERROR), 0);
    }

    #[test]
    fn a_new_command_abandons_an_unfinished_transfer() {
        let (mut ch, _) = channel(patterned_disk(8));
        issue28(&mut ch, cmd::READ_SECTORS, 0, 2);
        ch.read(reg::DATA, 2);

        outb(&mut ch, reg::COMMAND, cmd::CHECK_POWER_MODE);

        assert_eq!(inb(&mut ch, reg::STATUS), READY);
        assert_eq!(ch.read(reg::DATA, 2), 0xFFFF, "no data without DRQ");
    }

    #[test]
    fn set_features_accepts_write_cache_and_pio_mode_but_aborts_dma_and_unknown() {
        let (mut ch, _) = channel(patterned_disk(8));
        let mut set_features = |sub: u8, count: u8| {
            outb(&mut ch, reg::FEATURES, sub);
            outb(&mut ch, reg::SECTOR_COUNT, count);
            outb(&mut ch, reg::COMMAND, cmd::SET_FEATURES);
            inb(&mut ch, reg::STATUS)
        };

        let pio4 = set_features(feature::SET_TRANSFER_MODE, 0x0C);
        let udma = set_features(feature::SET_TRANSFER_MODE, 0x45);
        let cache_off = set_features(feature::DISABLE_WRITE_CACHE, 0);
        let unknown = set_features(0x99, 0);

        assert_eq!(pio4, READY);
        assert_eq!(udma, READY | status::ERR);
        assert_eq!(cache_off, READY);
        assert_eq!(unknown, READY | status::ERR);
        let id = identify(&mut ch);
        assert_eq!(word(&id, 85) & (1 << 5), 0, "write cache disabled");
    }

    #[test]
    fn check_power_mode_reports_active() {
        let (mut ch, _) = channel(patterned_disk(8));

        outb(&mut ch, reg::COMMAND, cmd::CHECK_POWER_MODE);

        assert_eq!(inb(&mut ch, reg::STATUS), READY);
        assert_eq!(inb(&mut ch, reg::SECTOR_COUNT), POWER_ACTIVE);
    }

    #[test]
    fn recalibrate_and_idle_immediate_complete_with_an_interrupt() {
        let (mut ch, lines) = channel(patterned_disk(8));

        outb(&mut ch, reg::COMMAND, 0x1F);
        let recalibrate = (irq_high(&lines), inb(&mut ch, reg::STATUS));
        outb(&mut ch, reg::COMMAND, cmd::IDLE_IMMEDIATE);
        let idle = (irq_high(&lines), inb(&mut ch, reg::STATUS));

        assert_eq!(recalibrate, (true, READY));
        assert_eq!(idle, (true, READY));
    }

    // --- Reset, diagnostics, interrupts, device selection ---

    #[test]
    fn software_reset_leaves_the_ata_signature() {
        let (mut ch, _) = channel(patterned_disk(8));
        issue28(&mut ch, cmd::READ_SECTORS, 5, 3);

        outb(&mut ch, reg::CONTROL, control::SRST);
        let during = inb(&mut ch, reg::CONTROL);
        outb(&mut ch, reg::CONTROL, 0);

        assert_eq!(during, status::BSY);
        assert_eq!(inb(&mut ch, reg::STATUS), READY, "no DRQ left over");
        assert_eq!(inb(&mut ch, reg::SECTOR_COUNT), 1);
        assert_eq!(inb(&mut ch, reg::LBA_LOW), 1);
        assert_eq!(inb(&mut ch, reg::LBA_MID), 0);
        assert_eq!(inb(&mut ch, reg::LBA_HIGH), 0);
        assert_eq!(inb(&mut ch, reg::ERROR), error::DIAG_PASSED);
    }

    #[test]
    fn execute_device_diagnostic_reports_passed_and_the_signature() {
        let (mut ch, lines) = channel_with(Some(patterned_disk(8)), Some(patterned_disk(8)));
        outb(&mut ch, reg::DEVICE, 0xB0);
        outb(&mut ch, reg::LBA_MID, 0x12);

        outb(&mut ch, reg::COMMAND, cmd::EXECUTE_DEVICE_DIAGNOSTIC);

        assert!(irq_high(&lines));
        assert_eq!(
            inb(&mut ch, reg::DEVICE) & device::DEV,
            0,
            "device 0 selected"
        );
        assert_eq!(inb(&mut ch, reg::ERROR), error::DIAG_PASSED);
        assert_eq!(inb(&mut ch, reg::LBA_MID), 0);
        assert_eq!(inb(&mut ch, reg::SECTOR_COUNT), 1);
    }

    #[test]
    fn nien_keeps_the_line_low_until_cleared() {
        let (mut ch, lines) = channel(patterned_disk(8));
        outb(&mut ch, reg::CONTROL, control::NIEN);

        issue28(&mut ch, cmd::READ_VERIFY, 0, 1);
        let masked = irq_high(&lines);
        outb(&mut ch, reg::CONTROL, 0);
        let unmasked = irq_high(&lines);

        assert!(!masked);
        assert!(unmasked);
    }

    #[test]
    fn status_read_lowers_the_interrupt_line() {
        let (mut ch, lines) = channel(patterned_disk(8));
        issue28(&mut ch, cmd::READ_VERIFY, 0, 1);
        let raised = irq_high(&lines);

        inb(&mut ch, reg::STATUS);

        assert!(raised);
        assert!(!irq_high(&lines));
    }

    #[test]
    fn hob_reads_the_high_order_bytes_of_the_lba48_registers() {
        let (mut ch, _) = channel(patterned_disk(8));
        outb(&mut ch, reg::LBA_LOW, 0x11);
        outb(&mut ch, reg::LBA_LOW, 0x22);
        outb(&mut ch, reg::SECTOR_COUNT, 0x33);
        outb(&mut ch, reg::SECTOR_COUNT, 0x44);

        outb(&mut ch, reg::CONTROL, control::HOB);
        let high = (inb(&mut ch, reg::LBA_LOW), inb(&mut ch, reg::SECTOR_COUNT));
        outb(&mut ch, reg::CONTROL, 0);
        let low = (inb(&mut ch, reg::LBA_LOW), inb(&mut ch, reg::SECTOR_COUNT));

        assert_eq!(high, (0x11, 0x33));
        assert_eq!(low, (0x22, 0x44));
    }

    #[test]
    fn absent_slave_selected_reads_status_zero() {
        let (mut ch, _) = channel(patterned_disk(8));

        outb(&mut ch, reg::DEVICE, 0xB0);

        assert_eq!(inb(&mut ch, reg::STATUS), 0);
        assert_eq!(inb(&mut ch, reg::CONTROL), 0);
    }

    #[test]
    fn a_channel_without_devices_floats_high() {
        let (mut ch, _) = channel_with(None, None);

        outb(&mut ch, reg::COMMAND, cmd::IDENTIFY_DEVICE);

        assert_eq!(inb(&mut ch, reg::STATUS), 0xFF);
        assert_eq!(ch.read(reg::DATA, 2), 0xFFFF);
    }

    #[test]
    fn the_slave_answers_its_own_identify() {
        let (mut ch, _) = channel_with(Some(patterned_disk(8)), Some(patterned_disk(40)));

        outb(&mut ch, reg::DEVICE, 0xB0);
        outb(&mut ch, reg::COMMAND, cmd::IDENTIFY_DEVICE);
        let id = read_block16(&mut ch);

        assert_eq!(word(&id, 60), 40);
        assert_eq!(string(&id, 10..20), "EMU00000000000000002");
    }

    #[test]
    fn odd_sizes_and_offsets_are_ignored_without_panicking() {
        let (mut ch, _) = channel(patterned_disk(8));

        ch.write(9, 4, 0xFFFF_FFFF);
        ch.write(reg::CONTROL, 4, 0);
        let far = ch.read(0xFFFF, 4);
        let wide = ch.read(reg::LBA_HIGH, 4);

        assert_eq!(far, 0xFFFF_FFFF);
        assert_eq!(wide >> 24, 0xFF, "bytes past the command block float");
    }
}
