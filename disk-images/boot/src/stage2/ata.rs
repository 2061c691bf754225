//! An ATA PIO driver: IDENTIFY DEVICE to find the disks, READ SECTORS (LBA28)
//! and READ SECTORS EXT (LBA48), polling with bounded waits (ATA/ATAPI-6,
//! sections 8.15, 8.34, 8.35, and 9.7 "PIO data-in command protocol").
//!
//! Interrupts stay off (nIEN in the device control register): stage 2
//! polls the status register.

use crate::port::{inb, insw, outb};

/// Command block registers, offsets from the channel's base port.
const REG_DATA: u16 = 0;
const REG_ERROR: u16 = 1;
const REG_COUNT: u16 = 2;
const REG_LBA_LOW: u16 = 3;
const REG_LBA_MID: u16 = 4;
const REG_LBA_HIGH: u16 = 5;
const REG_DEVICE: u16 = 6;
const REG_STATUS: u16 = 7;
const REG_COMMAND: u16 = 7;

const STATUS_ERR: u8 = 1 << 0;
const STATUS_DRQ: u8 = 1 << 3;
const STATUS_DF: u8 = 1 << 5;
const STATUS_BSY: u8 = 1 << 7;

/// Device control register (the control block's only writable register).
const CONTROL_NIEN: u8 = 1 << 1;

/// Device register: bit 6 selects LBA addressing; bits 7 and 5 are
/// obsolete and set by tradition; bit 4 selects the slave.
const DEVICE_LBA: u8 = 0x40;
const DEVICE_LEGACY: u8 = 0xA0;

const CMD_IDENTIFY: u8 = 0xEC;
const CMD_READ_SECTORS: u8 = 0x20;
const CMD_READ_SECTORS_EXT: u8 = 0x24;

/// Polls before a wait gives up (each poll is one port read, a
/// microsecond or so on real hardware).
const POLL_LIMIT: u32 = 2_000_000;

/// The two legacy channels: command block base and control port.
const CHANNELS: [(u16, u16); 2] = [(0x1F0, 0x3F6), (0x170, 0x376)];

/// Sectors one command may move: LBA28 counts to 256, and 128 keeps one
/// rule for both commands.
pub const MAX_SECTORS_PER_COMMAND: usize = 128;

pub const SECTOR_SIZE: usize = 512;

#[derive(Clone, Copy, Debug)]
pub enum AtaError {
    /// BSY stayed set, or DRQ never came.
    Timeout,
    /// The drive set ERR (error register) or DF.
    Device { status: u8, error: u8 },
    /// A read past the end of the disk.
    OutOfRange,
}

impl core::fmt::Display for AtaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AtaError::Timeout => write!(f, "the drive did not answer in time"),
            AtaError::Device { status, error } => {
                write!(
                    f,
                    "the drive reported an error (status {status:#04x}, error {error:#04x})"
                )
            }
            AtaError::OutOfRange => write!(f, "read past the end of the disk"),
        }
    }
}

/// One ATA hard disk that answered IDENTIFY DEVICE.
#[derive(Clone, Copy)]
pub struct AtaDisk {
    /// 0 primary, 1 secondary.
    pub channel: u8,
    /// 0 master, 1 slave.
    pub drive: u8,
    /// Addressable sectors (LBA48 count if supported, else LBA28).
    pub sectors: u64,
    pub lba48: bool,
    base: u16,
    control: u16,
}

impl AtaDisk {
    /// Probes channel/drive with IDENTIFY DEVICE; `None` if nothing (or not
    /// an ATA disk: ATAPI devices abort IDENTIFY with their signature).
    pub fn probe(channel: u8, drive: u8) -> Option<AtaDisk> {
        let (base, control) = CHANNELS[usize::from(channel)];
        outb(control, CONTROL_NIEN);
        if inb(base + REG_STATUS) == 0xFF {
            return None; // floating bus: no drive on this channel
        }
        outb(base + REG_DEVICE, DEVICE_LEGACY | (drive << 4));
        delay_400ns(control);
        outb(base + REG_COUNT, 0);
        outb(base + REG_LBA_LOW, 0);
        outb(base + REG_LBA_MID, 0);
        outb(base + REG_LBA_HIGH, 0);
        outb(base + REG_COMMAND, CMD_IDENTIFY);
        delay_400ns(control);
        if inb(base + REG_STATUS) == 0 {
            return None; // no device
        }
        wait_not_busy(base).ok()?;
        if inb(base + REG_LBA_MID) != 0 || inb(base + REG_LBA_HIGH) != 0 {
            return None; // a packet (ATAPI) or SATA signature, not ATA
        }
        let status = wait_drq(base).ok()?;
        if status & STATUS_DRQ == 0 {
            return None;
        }
        let mut raw = [0u8; SECTOR_SIZE];
        insw(base + REG_DATA, &mut raw);
        let id = |word: usize| u16::from_le_bytes([raw[2 * word], raw[2 * word + 1]]);
        // Word 49 bit 9: LBA supported. Words 60-61: LBA28 sectors. Word 83
        // bit 10: the 48-bit feature set; words 100-103: LBA48 sectors.
        if id(49) & (1 << 9) == 0 {
            return None;
        }
        let lba28 = u64::from(id(60)) | (u64::from(id(61)) << 16);
        let lba48 = id(83) & (1 << 10) != 0;
        let sectors = if lba48 {
            (0..4).fold(0u64, |acc, i| acc | (u64::from(id(100 + i)) << (16 * i)))
        } else {
            lba28
        };
        Some(AtaDisk {
            channel,
            drive,
            sectors,
            lba48,
            base,
            control,
        })
    }

    /// Every ATA disk present, in the BIOS's order (primary master, primary
    /// slave, secondary master, secondary slave).
    pub fn probe_all() -> ([Option<AtaDisk>; 4], usize) {
        let mut found = [None; 4];
        let mut n = 0;
        for channel in 0..2 {
            for drive in 0..2 {
                if let Some(disk) = AtaDisk::probe(channel, drive) {
                    found[n] = Some(disk);
                    n += 1;
                }
            }
        }
        (found, n)
    }

    /// Reads `buf.len() / 512` sectors from `lba` (PIO data-in protocol).
    pub fn read(&self, lba: u64, buf: &mut [u8]) -> Result<(), AtaError> {
        let mut lba = lba;
        for chunk in buf.chunks_mut(MAX_SECTORS_PER_COMMAND * SECTOR_SIZE) {
            let count = chunk.len() / SECTOR_SIZE;
            self.read_command(lba, count, chunk)?;
            lba += count as u64;
        }
        Ok(())
    }

    fn read_command(&self, lba: u64, count: usize, buf: &mut [u8]) -> Result<(), AtaError> {
        let end = lba.checked_add(count as u64).ok_or(AtaError::OutOfRange)?;
        if end > self.sectors {
            return Err(AtaError::OutOfRange);
        }
        let base = self.base;
        wait_not_busy(base)?;
        let slave = self.drive << 4;
        if end <= 0x0FFF_FFFF || !self.lba48 {
            outb(
                base + REG_DEVICE,
                DEVICE_LEGACY | DEVICE_LBA | slave | ((lba >> 24) as u8 & 0x0F),
            );
            delay_400ns(self.control);
            outb(base + REG_COUNT, count as u8); // 0 would mean 256
            outb(base + REG_LBA_LOW, lba as u8);
            outb(base + REG_LBA_MID, (lba >> 8) as u8);
            outb(base + REG_LBA_HIGH, (lba >> 16) as u8);
            outb(base + REG_COMMAND, CMD_READ_SECTORS);
        } else {
            // LBA48: each register takes its high-order byte first.
            outb(base + REG_DEVICE, DEVICE_LBA | slave);
            delay_400ns(self.control);
            outb(base + REG_COUNT, (count >> 8) as u8);
            outb(base + REG_LBA_LOW, (lba >> 24) as u8);
            outb(base + REG_LBA_MID, (lba >> 32) as u8);
            outb(base + REG_LBA_HIGH, (lba >> 40) as u8);
            outb(base + REG_COUNT, count as u8);
            outb(base + REG_LBA_LOW, lba as u8);
            outb(base + REG_LBA_MID, (lba >> 8) as u8);
            outb(base + REG_LBA_HIGH, (lba >> 16) as u8);
            outb(base + REG_COMMAND, CMD_READ_SECTORS_EXT);
        }
        for sector in buf.chunks_exact_mut(SECTOR_SIZE).take(count) {
            delay_400ns(self.control);
            let status = wait_drq(base)?;
            if status & (STATUS_ERR | STATUS_DF) != 0 || status & STATUS_DRQ == 0 {
                return Err(AtaError::Device {
                    status,
                    error: inb(base + REG_ERROR),
                });
            }
            insw(base + REG_DATA, sector);
        }
        let status = inb(base + REG_STATUS);
        if status & (STATUS_ERR | STATUS_DF) != 0 {
            return Err(AtaError::Device {
                status,
                error: inb(base + REG_ERROR),
            });
        }
        Ok(())
    }
}

/// Reading the alternate status register four times takes the 400 ns a
/// drive needs before its status is valid after a command or select.
fn delay_400ns(control: u16) {
    for _ in 0..4 {
        inb(control);
    }
}

fn wait_not_busy(base: u16) -> Result<u8, AtaError> {
    for _ in 0..POLL_LIMIT {
        let status = inb(base + REG_STATUS);
        if status & STATUS_BSY == 0 {
            return Ok(status);
        }
    }
    Err(AtaError::Timeout)
}

/// Waits for BSY clear and then DRQ or ERR/DF; returns the status.
fn wait_drq(base: u16) -> Result<u8, AtaError> {
    for _ in 0..POLL_LIMIT {
        let status = inb(base + REG_STATUS);
        if status & STATUS_BSY == 0 && status & (STATUS_DRQ | STATUS_ERR | STATUS_DF) != 0 {
            return Ok(status);
        }
    }
    Err(AtaError::Timeout)
}
