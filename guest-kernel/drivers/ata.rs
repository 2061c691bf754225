//! ATA hard disks on the two legacy IDE channels, PIO, interrupt-driven
//! (Linux's old `drivers/ide`: `ide-probe.c`, `ide-io.c`, `ide-disk.c`),
//! after ATA/ATAPI-6 (T13 1410D).
//!
//! | channel | command block | control block | IRQ | master | slave |
//! |---------|---------------|---------------|-----|--------|-------|
//! | ide0    | 0x1F0-0x1F7   | 0x3F6         | 14  | hda    | hdb   |
//! | ide1    | 0x170-0x177   | 0x376         | 15  | hdc    | hdd   |
//!
//! **Probe** (polled, nIEN set): select each device, send IDENTIFY DEVICE,
//! read its 256 words (model, LBA28 and LBA48 capacity), register a
//! [`Gendisk`] per ATA disk. Then the channel's IRQ handler is installed
//! and nIEN cleared: from here on the channel works by interrupts.
//!
//! **I/O**: one request per channel in flight (master and slave share the
//! registers). The block layer's `request_fn` or the bottom half starts the
//! next request from either disk's queue: READ SECTOR(S) / WRITE SECTOR(S),
//! or their EXT forms for addresses past LBA28. Then the work is split:
//!
//! - **top half** ([`Channel::interrupt`], IRQ 14/15, interrupts off):
//!   read Status (which acknowledges INTRQ), check ERR/DF, move the one
//!   sector the interrupt is for (PIO data-in: each INTRQ announces a
//!   sector to read; PIO data-out: each INTRQ says a written sector was
//!   taken, and the next is written), count it, and when the request is
//!   over park it as finished and schedule the channel's tasklet;
//! - **bottom half** ([`Channel::bottom_half`], a tasklet, interrupts on):
//!   log a failure, end the finished request (which wakes its submitter)
//!   and start the next queued one.
//!
//! Errors (ERR or DF in Status, a device that stays busy or never asks for
//! data, a command with no interrupt for [`COMMAND_TIMEOUT`]) end the
//! request with [`BlockError::Io`] / [`BlockError::Timeout`] and a
//! Linux-style log line decoding Status and Error; a timeout also resets
//! the channel.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt::Write;

use crate::arch::x86_64::io::{inb, insw, outb, outsw};
use crate::arch::x86_64::irq::request_irq;
use crate::block::{self, BlockDriver, BlockError, Gendisk, Op, Request, SECTOR_SIZE};
use crate::kernel::softirq::{Tasklet, tasklet_schedule};
use crate::kernel::sync::SpinLock;
use crate::kernel::time::{self, HZ};

/// Command block register offsets (ATA-6 clause 7, "Register
/// descriptions"). Reads and writes of one offset may reach different
/// registers.
mod reg {
    pub const DATA: u16 = 0;
    /// Error on read.
    pub const ERROR: u16 = 1;
    pub const SECTOR_COUNT: u16 = 2;
    pub const LBA_LOW: u16 = 3;
    pub const LBA_MID: u16 = 4;
    pub const LBA_HIGH: u16 = 5;
    pub const DEVICE: u16 = 6;
    /// Status on read (acknowledges INTRQ), Command on write.
    pub const STATUS: u16 = 7;
    pub const COMMAND: u16 = 7;
}

/// Status register bits (ATA-6 clause 7, Status register).
mod status {
    pub const BSY: u8 = 0x80;
    pub const DF: u8 = 0x20;
    pub const DRQ: u8 = 0x08;
    pub const ERR: u8 = 0x01;
    /// What an empty channel's floating bus reads.
    pub const FLOATING: u8 = 0xFF;
}

/// Device register bits (ATA-6 clause 7, Device register).
mod device {
    /// Obsolete bits 7 and 5, set by convention.
    pub const OBSOLETE: u8 = 0xA0;
    pub const LBA: u8 = 0x40;
    pub const DEV: u8 = 0x10;
}

/// Device Control register bits (ATA-6 clause 7, Device Control
/// register), in the control block.
mod control {
    pub const NIEN: u8 = 0x02;
    pub const SRST: u8 = 0x04;
}

/// Command opcodes (ATA-6 clause 8).
mod cmd {
    pub const READ_SECTORS: u8 = 0x20;
    pub const READ_SECTORS_EXT: u8 = 0x24;
    pub const WRITE_SECTORS: u8 = 0x30;
    pub const WRITE_SECTORS_EXT: u8 = 0x34;
    pub const IDENTIFY_DEVICE: u8 = 0xEC;
}

/// IDENTIFY DEVICE words used here (ATA-6 clause 8, IDENTIFY DEVICE).
mod identify {
    /// Words 27-46: model number, 40 ASCII characters, two per word with
    /// the first in the high byte.
    pub const MODEL: core::ops::Range<usize> = 27..47;
    /// Word 49 bit 9: LBA supported.
    pub const CAPABILITIES: usize = 49;
    pub const CAP_LBA: u16 = 1 << 9;
    /// Words 60-61: sectors addressable by LBA28 commands.
    pub const LBA28_SECTORS: usize = 60;
    /// Word 83 bit 10: the 48-bit Address feature set is supported.
    pub const COMMAND_SET_2: usize = 83;
    pub const CMD2_LBA48: u16 = 1 << 10;
    /// Words 100-103: sectors addressable by LBA48 commands.
    pub const LBA48_SECTORS: usize = 100;
}

/// The highest sector LBA28 commands can reach, plus one.
const LBA28_END: u64 = 1 << 28;
/// Sectors per request: what an LBA28 count register holds (0 means 256).
const MAX_SECTORS: u32 = 256;
/// Polls of Alternate Status before a busy device is given up on: about a
/// second on real hardware, where each ISA read takes about a microsecond.
const POLL_LIMIT: u32 = 1_000_000;
/// How long a command may go without finishing before it is abandoned and
/// the channel reset (Linux's ide `WAIT_CMD`).
const COMMAND_TIMEOUT: u64 = 10 * HZ;

/// What IDENTIFY DEVICE said about a disk.
#[derive(Debug, PartialEq, Eq)]
struct Identity {
    model: String,
    sectors: u64,
    lba48: bool,
}

/// Decodes IDENTIFY DEVICE data; `None` for a device without LBA (CHS
/// only), which this driver does not drive.
fn parse_identify(words: &[u16; 256]) -> Option<Identity> {
    if words[identify::CAPABILITIES] & identify::CAP_LBA == 0 {
        return None;
    }
    let mut model = String::new();
    for word in &words[identify::MODEL] {
        for byte in word.to_be_bytes() {
            model.push(if byte.is_ascii_graphic() || byte == b' ' {
                byte as char
            } else {
                '?'
            });
        }
    }
    let model = String::from(model.trim());
    let lba48 = words[identify::COMMAND_SET_2] & identify::CMD2_LBA48 != 0;
    let dword = |at: usize| u32::from(words[at]) | u32::from(words[at + 1]) << 16;
    let sectors = if lba48 {
        (0..4).fold(0u64, |acc, i| {
            acc | u64::from(words[identify::LBA48_SECTORS + i]) << (16 * i)
        })
    } else {
        u64::from(dword(identify::LBA28_SECTORS))
    };
    Some(Identity {
        model,
        sectors,
        lba48,
    })
}

/// A disk found on a channel.
#[derive(Clone, Copy)]
struct Drive {
    disk: &'static Gendisk,
    lba48: bool,
}

/// The request the hardware is working on.
struct Active {
    request: Request,
    /// 0 master, 1 slave.
    drive: usize,
    /// Sectors moved so far.
    moved: u32,
    /// When the command was sent, in jiffies.
    started: u64,
}

/// Why a request failed, kept for the bottom half to log.
#[derive(Clone, Copy, Debug)]
enum Failure {
    /// The device set ERR or DF.
    Device { status: u8, error: u8 },
    /// The device did not become ready or ask for data.
    Timeout { status: u8 },
    /// Status said neither error nor data when data was due.
    NoData { status: u8 },
    /// The sectors lie past LBA28 on a disk without LBA48.
    Unaddressable,
}

impl Failure {
    fn block_error(self) -> BlockError {
        match self {
            Failure::Timeout { .. } => BlockError::Timeout,
            Failure::Device { .. } | Failure::NoData { .. } | Failure::Unaddressable => {
                BlockError::Io
            }
        }
    }
}

/// A request the top half (or a failed start) has finished with.
struct Finished {
    request: Request,
    drive: usize,
    outcome: Result<(), Failure>,
}

/// What changes as the channel works.
struct ChannelState {
    drives: [Option<Drive>; 2],
    active: Option<Active>,
    /// At most one: the next request starts only after the bottom half
    /// has taken this one.
    finished: Option<Finished>,
    /// The drive that got the last request; the other goes first next.
    last_drive: usize,
}

/// One IDE channel: two devices behind one set of registers.
pub struct Channel {
    name: &'static str,
    /// Command block base port.
    base: u16,
    /// Control block port: Alternate Status / Device Control.
    ctrl: u16,
    irq: u8,
    disk_names: [&'static str; 2],
    top_half: fn(),
    tasklet: &'static Tasklet,
    state: SpinLock<ChannelState>,
}

fn ide0_interrupt() {
    CHANNELS[0].interrupt();
}
fn ide1_interrupt() {
    CHANNELS[1].interrupt();
}
fn ide0_bottom_half() {
    CHANNELS[0].bottom_half();
}
fn ide1_bottom_half() {
    CHANNELS[1].bottom_half();
}

static IDE0_TASKLET: Tasklet = Tasklet::new(ide0_bottom_half);
static IDE1_TASKLET: Tasklet = Tasklet::new(ide1_bottom_half);

static CHANNELS: [Channel; 2] = [
    Channel::new(
        "ide0",
        0x1F0,
        0x3F6,
        14,
        ["hda", "hdb"],
        ide0_interrupt,
        &IDE0_TASKLET,
    ),
    Channel::new(
        "ide1",
        0x170,
        0x376,
        15,
        ["hdc", "hdd"],
        ide1_interrupt,
        &IDE1_TASKLET,
    ),
];

/// Probes both channels and registers the disks found.
pub fn init() {
    for channel in &CHANNELS {
        channel.probe();
    }
}

impl Channel {
    const fn new(
        name: &'static str,
        base: u16,
        ctrl: u16,
        irq: u8,
        disk_names: [&'static str; 2],
        top_half: fn(),
        tasklet: &'static Tasklet,
    ) -> Channel {
        Channel {
            name,
            base,
            ctrl,
            irq,
            disk_names,
            top_half,
            tasklet,
            state: SpinLock::new(ChannelState {
                drives: [None, None],
                active: None,
                finished: None,
                last_drive: 1,
            }),
        }
    }

    // --- Registers ---

    fn read(&self, reg: u16) -> u8 {
        // SAFETY: the channel's command block ports belong to this driver;
        // reading them has no effect beyond the ATA protocol's.
        unsafe { inb(self.base + reg) }
    }

    fn write(&self, reg: u16, value: u8) {
        // SAFETY: as in `read`: only this driver touches these ports.
        unsafe { outb(self.base + reg, value) }
    }

    /// Alternate Status: Status without acknowledging INTRQ.
    fn alt_status(&self) -> u8 {
        // SAFETY: the control block port belongs to this driver.
        unsafe { inb(self.ctrl) }
    }

    fn set_control(&self, value: u8) {
        // SAFETY: as in `alt_status`.
        unsafe { outb(self.ctrl, value) }
    }

    /// Status is valid 400 ns after a command or device selection (ATA-6
    /// clause 9): four Alternate Status reads take at least that long.
    fn delay_400ns(&self) {
        for _ in 0..4 {
            self.alt_status();
        }
    }

    /// Polls until BSY clears; returns the last Status or `Err` with it.
    fn wait_not_busy(&self) -> Result<u8, u8> {
        let mut status = self.alt_status();
        for _ in 0..POLL_LIMIT {
            if status & status::BSY == 0 {
                return Ok(status);
            }
            status = self.alt_status();
        }
        Err(status)
    }

    /// Polls until BSY clears and DRQ or ERR/DF sets.
    fn wait_drq(&self) -> Result<u8, Failure> {
        let mut status = self.alt_status();
        for _ in 0..POLL_LIMIT {
            if status & status::BSY == 0 {
                if status & (status::ERR | status::DF) != 0 {
                    let error = self.read(reg::ERROR);
                    return Err(Failure::Device { status, error });
                }
                if status & status::DRQ != 0 {
                    return Ok(status);
                }
            }
            status = self.alt_status();
        }
        Err(Failure::Timeout { status })
    }

    /// Device selection protocol (ATA-6 clause 9): BSY must be clear
    /// before and after writing the Device register. `high` goes in bits
    /// 6 and 3-0 (LBA mode, LBA28 address bits 27-24).
    fn select(&self, drive: usize, high: u8) -> Result<(), Failure> {
        self.wait_not_busy()
            .map_err(|status| Failure::Timeout { status })?;
        let dev = if drive == 1 { device::DEV } else { 0 };
        self.write(reg::DEVICE, device::OBSOLETE | dev | high);
        self.delay_400ns();
        self.wait_not_busy()
            .map_err(|status| Failure::Timeout { status })?;
        Ok(())
    }

    /// PIO data-in of one sector: 256 words from the Data register.
    fn read_sector_data(&self, buf: &mut [u8]) {
        let mut words = [0u16; SECTOR_SIZE / 2];
        // SAFETY: the Data port of this channel; DRQ is set, so each read
        // takes the next word of the device's sector buffer.
        unsafe { insw(self.base + reg::DATA, &mut words) };
        for (pair, word) in buf.chunks_exact_mut(2).zip(words) {
            pair.copy_from_slice(&word.to_le_bytes());
        }
    }

    /// PIO data-out of one sector.
    fn write_sector_data(&self, buf: &[u8]) {
        let mut words = [0u16; SECTOR_SIZE / 2];
        for (word, pair) in words.iter_mut().zip(buf.chunks_exact(2)) {
            *word = u16::from_le_bytes([pair[0], pair[1]]);
        }
        // SAFETY: the Data port of this channel, with DRQ set: the device
        // takes the 256 words as the sector.
        unsafe { outsw(self.base + reg::DATA, &words) };
    }

    // --- Probe ---

    /// Finds the channel's disks, then switches it to interrupts.
    fn probe(&'static self) {
        if self.read(reg::STATUS) == status::FLOATING {
            pr_debug!("{}: no devices (floating bus)", self.name);
            return;
        }
        // Probe with interrupts off at the device: IDENTIFY is polled.
        self.set_control(control::NIEN);
        let mut found = [None, None];
        for (drive, slot) in found.iter_mut().enumerate() {
            *slot = self.identify(drive);
        }
        if found.iter().all(Option::is_none) {
            return;
        }
        pr_info!(
            "{}: ATA at {:#x}-{:#x},{:#x} on irq {}",
            self.name,
            self.base,
            self.base + 7,
            self.ctrl,
            self.irq
        );
        let mut disks = [None, None];
        {
            let mut state = self.state.lock();
            for (drive, identity) in found.iter().enumerate() {
                let Some(identity) = identity else { continue };
                let name = self.disk_names[drive];
                pr_info!(
                    "{}: {}, {} sectors ({}), {}",
                    name,
                    identity.model,
                    identity.sectors,
                    HumanSize(identity.sectors * SECTOR_SIZE as u64),
                    if identity.lba48 { "LBA48" } else { "LBA28" }
                );
                let disk: &'static Gendisk = Box::leak(Box::new(Gendisk::new(
                    name,
                    identity.sectors,
                    MAX_SECTORS,
                    self,
                )));
                state.drives[drive] = Some(Drive {
                    disk,
                    lba48: identity.lba48,
                });
                disks[drive] = Some(disk);
            }
        }
        request_irq(self.irq, self.name, self.top_half);
        // Drop an INTRQ left pending by the probe, then let the device
        // interrupt (nIEN clear).
        self.read(reg::STATUS);
        self.set_control(0);
        for disk in disks.into_iter().flatten() {
            block::add_disk(disk);
        }
    }

    /// IDENTIFY DEVICE (ATA-6 clause 8; PIO data-in protocol, 9.5; polled).
    fn identify(&self, drive: usize) -> Option<Identity> {
        let name = self.disk_names[drive];
        if self.select(drive, 0).is_err() {
            pr_warn!("{}: busy, not probed", name);
            return None;
        }
        for r in [reg::SECTOR_COUNT, reg::LBA_LOW, reg::LBA_MID, reg::LBA_HIGH] {
            self.write(r, 0);
        }
        self.write(reg::COMMAND, cmd::IDENTIFY_DEVICE);
        self.delay_400ns();
        // No device answers with Status 0 (or a floating bus).
        let status = self.alt_status();
        if status == 0 || status == status::FLOATING {
            return None;
        }
        if self.wait_not_busy().is_err() {
            pr_warn!("{}: stays busy after IDENTIFY, ignored", name);
            return None;
        }
        // A packet (ATAPI) or SATA device aborts IDENTIFY DEVICE and leaves
        // its signature in LBA Mid/High (ATA-6 9.12).
        let signature = (self.read(reg::LBA_MID), self.read(reg::LBA_HIGH));
        if signature != (0, 0) {
            pr_info!(
                "{}: not an ATA disk (signature {:#04x} {:#04x}), ignored",
                name,
                signature.0,
                signature.1
            );
            self.read(reg::STATUS);
            return None;
        }
        if let Err(failure) = self.wait_drq() {
            pr_warn!("{}: IDENTIFY failed: {}", name, FailureReport(failure));
            self.read(reg::STATUS);
            return None;
        }
        let mut bytes = [0u8; SECTOR_SIZE];
        self.read_sector_data(&mut bytes);
        self.read(reg::STATUS);
        let mut words = [0u16; 256];
        for (word, pair) in words.iter_mut().zip(bytes.chunks_exact(2)) {
            *word = u16::from_le_bytes([pair[0], pair[1]]);
        }
        let identity = parse_identify(&words);
        if identity.is_none() {
            pr_warn!("{}: no LBA support, ignored", name);
        }
        identity
    }

    // --- Starting requests ---

    /// Starts the next queued request if the channel is idle, alternating
    /// between master and slave when both have work.
    fn start_next(&self) {
        let mut state = self.state.lock();
        if state.active.is_some() || state.finished.is_some() {
            return;
        }
        let first = 1 - state.last_drive;
        for drive in [first, 1 - first] {
            let Some(d) = state.drives[drive] else {
                continue;
            };
            let Some(mut request) = d.disk.queue.fetch() else {
                continue;
            };
            state.last_drive = drive;
            match self.issue(drive, d.lba48, &mut request) {
                Ok(()) => {
                    state.active = Some(Active {
                        request,
                        drive,
                        moved: 0,
                        started: time::jiffies(),
                    });
                }
                Err(failure) => {
                    state.finished = Some(Finished {
                        request,
                        drive,
                        outcome: Err(failure),
                    });
                    tasklet_schedule(self.tasklet);
                }
            }
            return;
        }
    }

    /// Programs the task file and sends the command: READ SECTOR(S) /
    /// WRITE SECTOR(S) (ATA-6 clause 8), or their EXT forms when the range
    /// reaches past LBA28. For a write, the first sector is
    /// written at once (PIO data-out, 9.6: the device asks for it with DRQ
    /// but no interrupt); the interrupt comes when the device has taken it.
    /// Runs with the channel lock held, so the first interrupt waits.
    fn issue(&self, drive: usize, lba48: bool, request: &mut Request) -> Result<(), Failure> {
        let lba = request.sector;
        let count = request.count;
        let ext = lba + u64::from(count) > LBA28_END;
        if ext && !lba48 {
            // The disk's capacity came from LBA28, so the block layer's
            // bounds check keeps requests below; never reached.
            return Err(Failure::Unaddressable);
        }
        let command = if ext {
            // 48-bit: each register takes its high-order byte first (the
            // "previous" content), then the low-order byte (ATA-6 6.20).
            self.select(drive, device::LBA)?;
            let b = |shift: u32| (lba >> shift) as u8;
            self.write(reg::SECTOR_COUNT, (count >> 8) as u8);
            self.write(reg::LBA_LOW, b(24));
            self.write(reg::LBA_MID, b(32));
            self.write(reg::LBA_HIGH, b(40));
            self.write(reg::SECTOR_COUNT, count as u8);
            self.write(reg::LBA_LOW, b(0));
            self.write(reg::LBA_MID, b(8));
            self.write(reg::LBA_HIGH, b(16));
            match request.op {
                Op::Read => cmd::READ_SECTORS_EXT,
                Op::Write => cmd::WRITE_SECTORS_EXT,
            }
        } else {
            self.select(drive, device::LBA | ((lba >> 24) as u8 & 0x0F))?;
            // A count of 256 is written as 0.
            self.write(reg::SECTOR_COUNT, count as u8);
            self.write(reg::LBA_LOW, lba as u8);
            self.write(reg::LBA_MID, (lba >> 8) as u8);
            self.write(reg::LBA_HIGH, (lba >> 16) as u8);
            match request.op {
                Op::Read => cmd::READ_SECTORS,
                Op::Write => cmd::WRITE_SECTORS,
            }
        };
        self.write(reg::COMMAND, command);
        if request.op == Op::Write {
            self.delay_400ns();
            self.wait_drq()?;
            self.write_sector_data(request.sector_buffer(0));
        }
        Ok(())
    }

    // --- Interrupts ---

    /// The top half: runs on IRQ 14/15 with interrupts off. Moves one
    /// sector and, when the request is over, hands it to the bottom half.
    fn interrupt(&self) {
        let mut state = self.state.lock();
        // Reading Status acknowledges INTRQ (ATA-6 clause 7); it must happen
        // even for an interrupt nobody expects, or the line stays high.
        let status = self.read(reg::STATUS);
        let Some(active) = state.active.as_mut() else {
            pr_debug!(
                "{}: unexpected interrupt, status={:#04x}",
                self.name,
                status
            );
            return;
        };
        if status & status::BSY != 0 {
            // Not for us yet (a shared or early interrupt).
            return;
        }
        let Some(outcome) = self.transfer(active, status) else {
            return;
        };
        if let Some(active) = state.active.take() {
            state.finished = Some(Finished {
                request: active.request,
                drive: active.drive,
                outcome,
            });
            tasklet_schedule(self.tasklet);
        }
    }

    /// The PIO step one interrupt asks for; `Some` once the request is
    /// over. Data-in (ATA-6 9.5): the interrupt announces a sector in the
    /// device's buffer, DRQ set. Data-out (9.6): the interrupt says the
    /// last sector written was taken; DRQ asks for the next.
    fn transfer(&self, active: &mut Active, status: u8) -> Option<Result<(), Failure>> {
        if status & (status::ERR | status::DF) != 0 {
            let error = self.read(reg::ERROR);
            return Some(Err(Failure::Device { status, error }));
        }
        let count = active.request.count;
        match active.request.op {
            Op::Read => {
                if status & status::DRQ == 0 {
                    return Some(Err(Failure::NoData { status }));
                }
                self.read_sector_data(active.request.sector_buffer(active.moved));
                active.moved += 1;
                (active.moved == count).then_some(Ok(()))
            }
            Op::Write => {
                active.moved += 1;
                if active.moved == count {
                    return Some(Ok(()));
                }
                if status & status::DRQ == 0 {
                    return Some(Err(Failure::NoData { status }));
                }
                self.write_sector_data(active.request.sector_buffer(active.moved));
                None
            }
        }
    }

    /// The bottom half: a tasklet, interrupts on. Ends the finished
    /// request, waking its submitter, and starts the next one.
    fn bottom_half(&self) {
        // A request that fails to start is parked as finished at once, so
        // keep going until the channel is busy or out of work.
        loop {
            let finished = self.state.lock().finished.take();
            let Some(finished) = finished else { break };
            let result = finished.outcome.map_err(|failure| {
                self.report(&finished, failure);
                failure.block_error()
            });
            finished.request.end(result);
            self.start_next();
        }
        self.start_next();
    }

    /// Logs a failed request like Linux's `ide_dump_status`, and resets the
    /// channel if the device stopped answering.
    fn report(&self, finished: &Finished, failure: Failure) {
        let request = &finished.request;
        pr_err!(
            "{}: {} of sectors {}+{} failed: {}",
            self.disk_names[finished.drive],
            match request.op {
                Op::Read => "read",
                Op::Write => "write",
            },
            request.sector,
            request.count,
            FailureReport(failure)
        );
        if matches!(failure, Failure::Timeout { .. }) {
            self.reset();
        }
    }

    /// Software reset (ATA-6 9.2): SRST for at least 5 us, then wait for
    /// the devices to come back; nIEN stays clear.
    fn reset(&self) {
        let _state = self.state.lock();
        self.set_control(control::SRST);
        self.delay_400ns();
        self.delay_400ns();
        self.set_control(0);
        if self.wait_not_busy().is_err() {
            pr_err!("{}: still busy after reset", self.name);
        }
    }
}

impl BlockDriver for Channel {
    fn request_fn(&self, _disk: &'static Gendisk) {
        self.start_next();
    }

    /// Abandons the channel's command if it has run longer than
    /// [`COMMAND_TIMEOUT`]: the bottom half logs it, resets the channel
    /// and ends the request with [`BlockError::Timeout`].
    fn timed_out(&self, _disk: &'static Gendisk) {
        let mut state = self.state.lock();
        let overdue = state
            .active
            .as_ref()
            .is_some_and(|a| time::jiffies().saturating_sub(a.started) >= COMMAND_TIMEOUT);
        if !overdue {
            return;
        }
        let status = self.alt_status();
        if let Some(active) = state.active.take() {
            state.finished = Some(Finished {
                request: active.request,
                drive: active.drive,
                outcome: Err(Failure::Timeout { status }),
            });
            tasklet_schedule(self.tasklet);
        }
    }
}

/// A failure decoded like Linux's `ide_dump_status`.
struct FailureReport(Failure);

impl core::fmt::Display for FailureReport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        const STATUS_BITS: [(u8, &str); 8] = [
            (0x80, "Busy"),
            (0x40, "DriveReady"),
            (0x20, "DeviceFault"),
            (0x10, "SeekComplete"),
            (0x08, "DataRequest"),
            (0x04, "CorrectedError"),
            (0x02, "Index"),
            (0x01, "Error"),
        ];
        const ERROR_BITS: [(u8, &str); 8] = [
            (0x80, "BadCRC"),
            (0x40, "UncorrectableError"),
            (0x20, "MediaChanged"),
            (0x10, "SectorIdNotFound"),
            (0x08, "MediaChangeRequested"),
            (0x04, "DriveStatusError"),
            (0x02, "TrackZeroNotFound"),
            (0x01, "AddrMarkNotFound"),
        ];
        let bits = |f: &mut core::fmt::Formatter<'_>, value: u8, names: &[(u8, &str)]| {
            let mut list = String::new();
            for &(bit, name) in names {
                if value & bit != 0 {
                    let _ = write!(list, " {name}");
                }
            }
            write!(f, "{value:#04x} {{{list} }}")
        };
        let status = match self.0 {
            Failure::Device { status, .. } => status,
            Failure::Timeout { status } => {
                f.write_str("timeout, ")?;
                status
            }
            Failure::NoData { status } => {
                f.write_str("no data request, ")?;
                status
            }
            Failure::Unaddressable => return f.write_str("beyond LBA28 without LBA48"),
        };
        f.write_str("status=")?;
        bits(f, status, &STATUS_BITS)?;
        if let Failure::Device { error, .. } = self.0 {
            f.write_str(", error=")?;
            bits(f, error, &ERROR_BITS)?;
        }
        Ok(())
    }
}

/// A byte count in binary units: `64 MiB`.
struct HumanSize(u64);

impl core::fmt::Display for HumanSize {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        const KIB: u64 = 1 << 10;
        const MIB: u64 = 1 << 20;
        const GIB: u64 = 1 << 30;
        match self.0 {
            n if n >= 16 * GIB => write!(f, "{} GiB", n / GIB),
            n if n >= MIB => write!(f, "{} MiB", n / MIB),
            n => write!(f, "{} KiB", n / KIB),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identify_words(model: &str, lba28: u32, lba48: Option<u64>) -> [u16; 256] {
        let mut w = [0u16; 256];
        let mut bytes = [b' '; 40];
        bytes[..model.len()].copy_from_slice(model.as_bytes());
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            w[27 + i] = u16::from_be_bytes([pair[0], pair[1]]);
        }
        w[49] = 1 << 9;
        w[60] = lba28 as u16;
        w[61] = (lba28 >> 16) as u16;
        if let Some(total) = lba48 {
            w[83] = 1 << 10;
            for i in 0..4 {
                w[100 + i] = (total >> (16 * i)) as u16;
            }
        }
        w
    }

    #[test]
    fn identify_gives_model_and_lba48_capacity() {
        let words = identify_words("EMU HARDDISK", 0x0FFF_FFFF, Some(0x1_2345_6789));
        let id = parse_identify(&words).expect("LBA disk");
        assert_eq!(id.model, "EMU HARDDISK");
        assert_eq!(id.sectors, 0x1_2345_6789);
        assert!(id.lba48);
    }

    #[test]
    fn identify_without_lba48_uses_the_lba28_capacity() {
        let words = identify_words("OLD DISK", 131072, None);
        let id = parse_identify(&words).expect("LBA disk");
        assert_eq!(id.sectors, 131072);
        assert!(!id.lba48);
    }

    #[test]
    fn identify_without_lba_is_refused() {
        let mut words = identify_words("CHS DISK", 1000, None);
        words[49] = 0;
        assert_eq!(parse_identify(&words), None);
    }

    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(alloc::format!("{}", HumanSize(64 << 20)), "64 MiB");
        assert_eq!(alloc::format!("{}", HumanSize(512 << 10)), "512 KiB");
        assert_eq!(alloc::format!("{}", HumanSize(20 << 30)), "20 GiB");
    }
}
