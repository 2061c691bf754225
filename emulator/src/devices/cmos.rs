//! The PC/AT CMOS: a Motorola MC146818A real-time clock with 128 bytes of
//! battery-backed RAM (datasheet: Motorola MC146818A, "Real-Time Clock Plus
//! RAM"; register use: IBM PC/AT Technical Reference, "Real-Time Clock/CMOS
//! RAM"; memory-size and boot-order bytes: QEMU `hw/rtc/mc146818rtc.c` and
//! `hw/i386/pc.c`, as SeaBIOS reads them).
//!
//! # Ports (offsets; the board puts them at 0x70 and 0x71, IRQ 8)
//!
//! | offset | port | use |
//! |---|---|---|
//! | 0 | 0x70 | index (bits 6:0) and NMI mask (bit 7 = 1 masks NMIs); write-only, reads 0xFF |
//! | 1 | 0x71 | the byte at the index |
//!
//! Wider accesses are split into byte accesses at consecutive offsets (an
//! `out 0x70, ax` writes the index and then the data), as the ISA bus does.
//!
//! # Registers
//!
//! | index | register |
//! |---|---|
//! | 0x00 / 0x01 | seconds / seconds alarm |
//! | 0x02 / 0x03 | minutes / minutes alarm |
//! | 0x04 / 0x05 | hours / hours alarm (12-hour mode: bit 7 = PM) |
//! | 0x06 | day of week (1 = Sunday .. 7) |
//! | 0x07 / 0x08 / 0x09 | day of month, month, year (two digits) |
//! | 0x0A | register A: UIP (bit 7, read-only), divider DV2-0 (6:4), rate RS3-0 (3:0) |
//! | 0x0B | register B: SET, PIE, AIE, UIE, SQWE, DM (1 = binary), 24/12, DSE |
//! | 0x0C | register C (read-only, cleared by reading): IRQF, PF, AF, UF |
//! | 0x0D | register D (read-only): VRT = 1, the battery is good |
//! | 0x32 | century (IBM convention; kept by the clock, like QEMU does) |
//!
//! Time and date bytes are BCD or binary as register B's DM bit says, at
//! the time they are read or written. An alarm byte of 0xC0-0xFF is "don't
//! care" and matches every value.
//!
//! # Configuration bytes (filled from `CmosConfig` at power-on)
//!
//! | index | contents |
//! |---|---|
//! | 0x10 | floppy drive types: 0, no floppies |
//! | 0x12 | hard disk types: 0xF in the high nibble for disk 0, low for disk 1 ("see 0x19/0x1A") |
//! | 0x14 | equipment byte: 0x02 (no floppy, math coprocessor present, EGA/VGA-class video) |
//! | 0x15-0x16 | base memory in KiB: 640 |
//! | 0x17-0x18 | extended memory above 1 MiB in KiB, at most 0xFFFF |
//! | 0x19 / 0x1A | extended type of disk 0 / 1: 47 (user-defined) when present |
//! | 0x2E-0x2F | checksum of 0x10-0x2D: their byte sum, high byte at 0x2E |
//! | 0x30-0x31 | copy of 0x17-0x18 (what POST found) |
//! | 0x34-0x35 | RAM between 16 MiB and 4 GiB in 64 KiB blocks, at most 0xFFFF (QEMU/SeaBIOS) |
//! | 0x38 | bits 7:4 third boot device (QEMU/SeaBIOS) |
//! | 0x3D | bits 3:0 first, bits 7:4 second boot device (1 = floppy, 2 = hard disk, 3 = CD-ROM) |
//! | 0x5B-0x5D | RAM above 4 GiB in 64 KiB blocks, at most 0xFFFFFF (QEMU/SeaBIOS) |
//!
//! Multi-byte values are little-endian except the checksum. RAM below 4 GiB
//! stops at 0xFFFF0000, where the firmware ROM is mirrored (see `memory`).
//! The firmware reads these; nothing in the chip keeps them (or the
//! checksum) up to date after power-on.
//!
//! # Timing, on the virtual clock
//!
//! The divider chain counts 32768 Hz ticks from an origin. Every 32768
//! ticks the update cycle advances the time by a second, sets UF and, if
//! hours, minutes and seconds now match the alarm, AF. UIP reads 1 during
//! the last 8 ticks (244 us) before an update. The periodic flag PF is set
//! every 2^(rate-1) ticks (rate n gives 32768 >> (n-1) Hz; rates 1 and 2
//! alias 8 and 9; rate 0 is off). Flags are set whether or not their
//! interrupts are enabled; IRQF = PF&PIE | AF&AIE | UF&UIE drives IRQ 8
//! (high while IRQF is set, so the PIC sees one edge per interrupt until
//! register C is read).
//!
//! SET stops the update cycles (and clears UIE and UIP) so the time can be
//! written; clearing SET starts the clock from the written time at the next
//! update of the running divider. Divider values 11x hold the chain in
//! reset (no updates, no periodic interrupts); leaving reset puts the first
//! update 500 ms later. Any other divider value runs the chain at 32768 Hz.
//!
//! The clock is a count of seconds since 1970-01-01 00:00:00 in the RTC's
//! own time zone (UTC for `RtcBase::Host`), from which the registers are
//! encoded; the calendar is proleptic Gregorian (leap years: divisible by 4,
//! not by 100 unless by 400). Time written by the guest is decoded into that
//! count, so out-of-range values are normalised (the 61st second is the
//! next minute's first) rather than kept as written, and switching DM or
//! 24/12 with SET clear converts the time bytes instead of reinterpreting
//! them (QEMU does the same). Not modelled: daylight-saving updates (DSE is
//! stored but has no effect) and the square-wave output pin (not wired on a
//! PC).

use super::{IrqLine, Nanos, Now, PortDevice, Timed};
use crate::machine::snapshot::{Persist, Result as SnapResult, StateIo};

/// What the CMOS holds at power-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmosConfig {
    /// Guest RAM in bytes, from physical address 0.
    pub ram_size: u64,
    /// Boot devices, first to try first (at most three are recorded).
    pub boot_order: Vec<BootDevice>,
    /// Where the clock starts.
    pub rtc_base: RtcBase,
    /// Number of hard disks (0-2 are recorded).
    pub hard_disks: u8,
}

/// A boot device as the firmware's boot order names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootDevice {
    HardDisk,
    Floppy,
    CdRom,
}

impl BootDevice {
    /// The QEMU/SeaBIOS code in the boot-order nibbles.
    fn code(self) -> u8 {
        match self {
            BootDevice::Floppy => 1,
            BootDevice::HardDisk => 2,
            BootDevice::CdRom => 3,
        }
    }
}

/// The wall-clock time the RTC reads at power-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcBase {
    /// This many seconds since 1970-01-01 00:00:00 (deterministic runs),
    /// clamped to the years 0000-9999.
    Fixed(i64),
    /// The host's time (UTC) when the device is made.
    Host,
}

// Offsets.
const PORT_INDEX: u16 = 0;
const PORT_DATA: u16 = 1;
const INDEX_MASK: u8 = 0x7F;
const INDEX_NMI_MASK: u8 = 0x80;

// Clock registers.
const REG_SECONDS: u8 = 0x00;
const REG_SECONDS_ALARM: u8 = 0x01;
const REG_MINUTES: u8 = 0x02;
const REG_MINUTES_ALARM: u8 = 0x03;
const REG_HOURS: u8 = 0x04;
const REG_HOURS_ALARM: u8 = 0x05;
const REG_DAY_OF_WEEK: u8 = 0x06;
const REG_DAY_OF_MONTH: u8 = 0x07;
const REG_MONTH: u8 = 0x08;
const REG_YEAR: u8 = 0x09;
const REG_A: u8 = 0x0A;
const REG_B: u8 = 0x0B;
const REG_C: u8 = 0x0C;
const REG_D: u8 = 0x0D;
const REG_CENTURY: u8 = 0x32;

// Configuration bytes.
const REG_FLOPPY_TYPES: u8 = 0x10;
const REG_DISK_TYPES: u8 = 0x12;
const REG_EQUIPMENT: u8 = 0x14;
const REG_BASE_MEMORY: u8 = 0x15;
const REG_EXTENDED_MEMORY: u8 = 0x17;
const REG_DISK0_TYPE: u8 = 0x19;
const REG_DISK1_TYPE: u8 = 0x1A;
const CHECKSUM_FIRST: u8 = 0x10;
const CHECKSUM_LAST: u8 = 0x2D;
const REG_CHECKSUM: u8 = 0x2E;
const REG_EXTENDED_MEMORY_POST: u8 = 0x30;
const REG_MEMORY_ABOVE_16M: u8 = 0x34;
const REG_BOOT_ORDER_THIRD: u8 = 0x38;
const REG_BOOT_ORDER: u8 = 0x3D;
const REG_MEMORY_ABOVE_4G: u8 = 0x5B;

const DISK_TYPE_EXTENDED: u8 = 0xF;
const DISK_TYPE_USER_DEFINED: u8 = 47;
const EQUIPMENT_FPU: u8 = 0x02;
const BASE_MEMORY_KIB: u16 = 640;

// Register A.
const A_UIP: u8 = 0x80;
/// DV2-0 = 11x: the divider chain is held in reset.
const A_DIVIDER_RESET: u8 = 0x60;
const A_RATE: u8 = 0x0F;
/// Power-on value the firmware also writes: 32768 Hz time base, 1024 Hz rate.
const A_DEFAULT: u8 = 0x26;

// Register B.
const B_SET: u8 = 0x80;
const B_PIE: u8 = 0x40;
const B_AIE: u8 = 0x20;
const B_UIE: u8 = 0x10;
const B_BINARY: u8 = 0x04;
const B_24_HOUR: u8 = 0x02;
/// Power-on value: 24-hour, BCD.
const B_DEFAULT: u8 = B_24_HOUR;

// Register C: the flags sit at the same bits as their enables in B.
const C_IRQF: u8 = 0x80;
const C_PF: u8 = 0x40;
const C_AF: u8 = 0x20;
const C_UF: u8 = 0x10;
const C_FLAGS: u8 = C_PF | C_AF | C_UF;

// Register D.
const D_VRT: u8 = 0x80;

const HOUR_PM: u8 = 0x80;
const ALARM_DONT_CARE: u8 = 0xC0;

const TICKS_PER_SECOND: i128 = 32768;
const NANOS_PER_SECOND: i128 = 1_000_000_000;
/// UIP is set this many ticks (244 us) before an update.
const UIP_TICKS: i128 = 8;
/// The first update after the divider leaves reset comes this much later.
const DIVIDER_RESTART_NANOS: i128 = NANOS_PER_SECOND / 2;

const SECONDS_PER_DAY: i64 = 86_400;
const MINUTES_PER_DAY: i64 = 1440;
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const BLOCK_64K: u64 = 64 * KIB;
const FOUR_GIB: u64 = 4096 * MIB;
/// The firmware ROM's mirror below 4 GiB hides the RAM from here up.
const ROM_MIRROR: u64 = 0xFFFF_0000;

/// The MC146818A with the PC/AT's NVRAM contents.
#[derive(Debug)]
pub struct Cmos {
    ram: [u8; 128],
    index: u8,
    nmi_masked: bool,
    irq8: IrqLine,
    now: Now,
    /// Virtual time (ns, may precede power-on) of divider tick 0; updates
    /// happen every `TICKS_PER_SECOND` ticks from here.
    origin: i128,
    /// The divider tick the device was last brought up to.
    tick: i128,
    /// The clock: seconds since 1970-01-01 00:00:00, RTC time.
    seconds: i64,
    /// Added to the weekday the date implies, so a written day of week
    /// keeps counting from what the guest wrote.
    weekday_offset: i64,
}

impl Cmos {
    pub fn new(irq8: IrqLine, now: Now, config: CmosConfig) -> Cmos {
        let t = now.get() as i128;
        let (seconds, fraction) = match config.rtc_base {
            RtcBase::Fixed(s) => (s, 0),
            RtcBase::Host => host_time(),
        };
        // Years 0000-9999: what a BCD century and year can show.
        let first = calendar::days_from_civil(0, 1, 1) * SECONDS_PER_DAY;
        let last = calendar::days_from_civil(10_000, 1, 1) * SECONDS_PER_DAY - 1;
        let seconds = seconds.clamp(first, last);
        // Line the updates up with the host's second boundaries.
        let origin = t - fraction as i128;
        let mut cmos = Cmos {
            ram: [0; 128],
            index: 0,
            nmi_masked: false,
            irq8,
            now,
            origin,
            tick: 0,
            seconds,
            weekday_offset: 0,
        };
        cmos.tick = cmos.tick_at(t);
        cmos.ram[REG_A as usize] = A_DEFAULT;
        cmos.ram[REG_B as usize] = B_DEFAULT;
        cmos.ram[REG_D as usize] = D_VRT;
        cmos.fill_configuration(&config);
        cmos.encode_time();
        cmos
    }

    /// Whether NMIs are masked by port 0x70 bit 7 (the board asks).
    pub fn nmi_masked(&self) -> bool {
        self.nmi_masked
    }

    fn fill_configuration(&mut self, config: &CmosConfig) {
        let ram = config.ram_size;
        self.ram[REG_FLOPPY_TYPES as usize] = 0;
        let mut disk_types = 0;
        if config.hard_disks >= 1 {
            disk_types |= DISK_TYPE_EXTENDED << 4;
            self.ram[REG_DISK0_TYPE as usize] = DISK_TYPE_USER_DEFINED;
        }
        if config.hard_disks >= 2 {
            disk_types |= DISK_TYPE_EXTENDED;
            self.ram[REG_DISK1_TYPE as usize] = DISK_TYPE_USER_DEFINED;
        }
        self.ram[REG_DISK_TYPES as usize] = disk_types;
        self.ram[REG_EQUIPMENT as usize] = EQUIPMENT_FPU;
        self.put_le(REG_BASE_MEMORY, BASE_MEMORY_KIB as u32, 2);

        let extended_kib = (ram.saturating_sub(MIB) / KIB).min(0xFFFF) as u32;
        self.put_le(REG_EXTENDED_MEMORY, extended_kib, 2);
        self.put_le(REG_EXTENDED_MEMORY_POST, extended_kib, 2);
        let below_4g = ram.min(ROM_MIRROR);
        let above_16m = (below_4g.saturating_sub(16 * MIB) / BLOCK_64K).min(0xFFFF) as u32;
        self.put_le(REG_MEMORY_ABOVE_16M, above_16m, 2);
        let above_4g = (ram.saturating_sub(FOUR_GIB) / BLOCK_64K).min(0xFF_FFFF) as u32;
        self.put_le(REG_MEMORY_ABOVE_4G, above_4g, 3);

        let boot = |i: usize| config.boot_order.get(i).map_or(0, |d| d.code());
        self.ram[REG_BOOT_ORDER as usize] = (boot(1) << 4) | boot(0);
        self.ram[REG_BOOT_ORDER_THIRD as usize] = boot(2) << 4;

        let sum: u16 = (CHECKSUM_FIRST..=CHECKSUM_LAST)
            .map(|i| self.ram[i as usize] as u16)
            .sum();
        self.ram[REG_CHECKSUM as usize] = (sum >> 8) as u8;
        self.ram[REG_CHECKSUM as usize + 1] = sum as u8;
    }

    fn put_le(&mut self, at: u8, value: u32, bytes: usize) {
        let at = at as usize;
        self.ram[at..at + bytes].copy_from_slice(&value.to_le_bytes()[..bytes]);
    }

    // --- the divider chain ---

    fn reg(&self, r: u8) -> u8 {
        self.ram[r as usize]
    }

    fn divider_running(&self) -> bool {
        self.reg(REG_A) & A_DIVIDER_RESET != A_DIVIDER_RESET
    }

    fn updating(&self) -> bool {
        self.divider_running() && self.reg(REG_B) & B_SET == 0
    }

    /// The divider tick current at virtual time `t`.
    fn tick_at(&self, t: i128) -> i128 {
        ((t - self.origin) * TICKS_PER_SECOND).div_euclid(NANOS_PER_SECOND)
    }

    /// The virtual time at which divider tick `tick` begins.
    fn time_of_tick(&self, tick: i128) -> Nanos {
        let t = self.origin + (tick * NANOS_PER_SECOND + TICKS_PER_SECOND - 1) / TICKS_PER_SECOND;
        t.clamp(0, Nanos::MAX as i128) as Nanos
    }

    /// Ticks between periodic flags, if the rate selects any.
    fn periodic_ticks(&self) -> Option<i128> {
        match self.reg(REG_A) & A_RATE {
            0 => None,
            1 => Some(1 << 7),
            2 => Some(1 << 8),
            n => Some(1 << (n - 1)),
        }
    }

    /// Brings the chip up to virtual time `t`: periodic flags, update
    /// cycles, alarms, and the interrupt line.
    fn sync(&mut self, t: Nanos) {
        let tick = self.tick_at(t as i128);
        if tick <= self.tick {
            return;
        }
        if self.divider_running() {
            if let Some(period) = self.periodic_ticks() {
                if tick.div_euclid(period) > self.tick.div_euclid(period) {
                    self.ram[REG_C as usize] |= C_PF;
                }
            }
            let updates =
                (tick.div_euclid(TICKS_PER_SECOND) - self.tick.div_euclid(TICKS_PER_SECOND)) as i64;
            if updates > 0 && self.updating() {
                let before = self.seconds;
                self.seconds = before.saturating_add(updates);
                let mut flags = C_UF;
                if self.next_alarm(before).is_some_and(|a| a <= self.seconds) {
                    flags |= C_AF;
                }
                self.ram[REG_C as usize] |= flags;
                self.encode_time();
            }
        }
        self.tick = tick;
        self.update_irq();
    }

    fn sync_now(&mut self) {
        self.sync(self.now.get());
    }

    /// Restarts the divider chain so the first update comes in 500 ms.
    fn restart_divider(&mut self) {
        let t = self.now.get() as i128;
        self.origin = t + DIVIDER_RESTART_NANOS - NANOS_PER_SECOND;
        self.tick = self.tick_at(t);
    }

    fn update_in_progress(&self) -> bool {
        self.updating() && self.tick.rem_euclid(TICKS_PER_SECOND) >= TICKS_PER_SECOND - UIP_TICKS
    }

    /// IRQF = PF&PIE | AF&AIE | UF&UIE; the line follows IRQF.
    fn update_irq(&mut self) {
        let c = self.reg(REG_C);
        let pending = c & self.reg(REG_B) & C_FLAGS != 0;
        if pending && c & C_IRQF == 0 {
            self.ram[REG_C as usize] |= C_IRQF;
            self.irq8.raise();
        } else if !pending && c & C_IRQF != 0 {
            self.ram[REG_C as usize] &= !C_IRQF;
            self.irq8.lower();
        }
    }

    // --- the clock registers ---

    fn binary(&self) -> bool {
        self.reg(REG_B) & B_BINARY != 0
    }

    fn encode(&self, value: i64) -> u8 {
        let v = value.rem_euclid(256) as u8;
        if self.binary() {
            v
        } else {
            ((v / 10 % 10) << 4) | (v % 10)
        }
    }

    fn decode(&self, byte: u8) -> i64 {
        if self.binary() {
            byte as i64
        } else {
            (byte >> 4) as i64 * 10 + (byte & 0xF) as i64
        }
    }

    fn encode_hour(&self, hour: i64) -> u8 {
        if self.reg(REG_B) & B_24_HOUR != 0 {
            return self.encode(hour);
        }
        let pm = if hour >= 12 { HOUR_PM } else { 0 };
        match hour % 12 {
            0 => self.encode(12) | pm,
            h => self.encode(h) | pm,
        }
    }

    fn decode_hour(&self, byte: u8) -> i64 {
        if self.reg(REG_B) & B_24_HOUR != 0 {
            return self.decode(byte);
        }
        let pm = if byte & HOUR_PM != 0 { 12 } else { 0 };
        self.decode(byte & !HOUR_PM) % 12 + pm
    }

    /// Writes the clock into the time and date registers.
    fn encode_time(&mut self) {
        let days = self.seconds.div_euclid(SECONDS_PER_DAY);
        let second_of_day = self.seconds.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = calendar::civil_from_days(days);
        let weekday = (calendar::weekday(days) + self.weekday_offset).rem_euclid(7) + 1;
        let bytes = [
            (REG_SECONDS, self.encode(second_of_day % 60)),
            (REG_MINUTES, self.encode(second_of_day / 60 % 60)),
            (REG_HOURS, self.encode_hour(second_of_day / 3600)),
            (REG_DAY_OF_WEEK, self.encode(weekday)),
            (REG_DAY_OF_MONTH, self.encode(day)),
            (REG_MONTH, self.encode(month)),
            (REG_YEAR, self.encode(year.rem_euclid(100))),
            (REG_CENTURY, self.encode(year.div_euclid(100))),
        ];
        for (reg, byte) in bytes {
            self.ram[reg as usize] = byte;
        }
    }

    /// Sets the clock from the time and date registers as written.
    fn decode_time(&mut self) {
        let year = self.decode(self.reg(REG_CENTURY)) * 100 + self.decode(self.reg(REG_YEAR));
        let days = calendar::days_from_civil(
            year,
            self.decode(self.reg(REG_MONTH)),
            self.decode(self.reg(REG_DAY_OF_MONTH)),
        );
        let second_of_day = self.decode_hour(self.reg(REG_HOURS)) * 3600
            + self.decode(self.reg(REG_MINUTES)) * 60
            + self.decode(self.reg(REG_SECONDS));
        self.seconds = days * SECONDS_PER_DAY + second_of_day;
        let days = self.seconds.div_euclid(SECONDS_PER_DAY);
        let written_weekday = self.decode(self.reg(REG_DAY_OF_WEEK)) - 1;
        self.weekday_offset = (written_weekday - calendar::weekday(days)).rem_euclid(7);
        self.encode_time();
    }

    fn is_time_register(r: u8) -> bool {
        matches!(
            r,
            REG_SECONDS
                | REG_MINUTES
                | REG_HOURS
                | REG_DAY_OF_WEEK
                | REG_DAY_OF_MONTH
                | REG_MONTH
                | REG_YEAR
                | REG_CENTURY
        )
    }

    /// The first second after `after` at which the alarm matches.
    fn next_alarm(&self, after: i64) -> Option<i64> {
        let alarm_hour = self.reg(REG_HOURS_ALARM);
        let alarm_minute = self.reg(REG_MINUTES_ALARM);
        let alarm_second = self.reg(REG_SECONDS_ALARM);
        let matches =
            |alarm: u8, now: u8| alarm & ALARM_DONT_CARE == ALARM_DONT_CARE || alarm == now;
        let exact_second = if alarm_second & ALARM_DONT_CARE == ALARM_DONT_CARE {
            None
        } else {
            // An alarm second no time encodes to never matches.
            Some((0..60).find(|&s| self.encode(s) == alarm_second)?)
        };
        let start = after.checked_add(1)?;
        let first_minute = start.div_euclid(60);
        // A day and a minute cover every hour and minute the alarm can name.
        for minute in first_minute..=first_minute + MINUTES_PER_DAY {
            let minute_of_day = minute.rem_euclid(MINUTES_PER_DAY);
            if !matches(alarm_hour, self.encode_hour(minute_of_day / 60))
                || !matches(alarm_minute, self.encode(minute_of_day % 60))
            {
                continue;
            }
            let earliest = if minute == first_minute {
                start.rem_euclid(60)
            } else {
                0
            };
            match exact_second {
                None => return Some(minute * 60 + earliest),
                Some(s) if s >= earliest => return Some(minute * 60 + s),
                Some(_) => continue,
            }
        }
        None
    }

    // --- register access ---

    fn read_data(&mut self) -> u8 {
        self.sync_now();
        match self.index {
            REG_A => self.reg(REG_A) | if self.update_in_progress() { A_UIP } else { 0 },
            REG_C => {
                let c = self.reg(REG_C);
                self.ram[REG_C as usize] = 0;
                if c & C_IRQF != 0 {
                    self.irq8.lower();
                }
                c
            }
            REG_D => D_VRT,
            i => self.ram[i as usize],
        }
    }

    fn write_data(&mut self, value: u8) {
        self.sync_now();
        match self.index {
            REG_A => {
                let was_running = self.divider_running();
                self.ram[REG_A as usize] = value & !A_UIP;
                if !was_running && self.divider_running() {
                    self.restart_divider();
                }
            }
            REG_B => {
                let old = self.reg(REG_B);
                let new = if value & B_SET != 0 {
                    value & !B_UIE
                } else {
                    value
                };
                self.ram[REG_B as usize] = new;
                if new & B_SET == 0 {
                    if old & B_SET != 0 {
                        // The written time, read in the mode now chosen.
                        self.decode_time();
                    } else if (old ^ new) & (B_BINARY | B_24_HOUR) != 0 {
                        self.encode_time();
                    }
                }
                self.update_irq();
            }
            REG_C | REG_D => {}
            i if Self::is_time_register(i) => {
                self.ram[i as usize] = value;
                if self.reg(REG_B) & B_SET == 0 {
                    self.decode_time();
                }
            }
            i => self.ram[i as usize] = value,
        }
    }

    fn read_byte(&mut self, offset: u16) -> u8 {
        match offset {
            PORT_DATA => self.read_data(),
            // The index register is write-only.
            _ => 0xFF,
        }
    }

    fn write_byte(&mut self, offset: u16, value: u8) {
        match offset {
            PORT_INDEX => {
                self.index = value & INDEX_MASK;
                self.nmi_masked = value & INDEX_NMI_MASK != 0;
            }
            PORT_DATA => self.write_data(value),
            _ => eprintln!("cmos: write {value:#04x} to offset {offset} ignored"),
        }
    }
}

impl PortDevice for Cmos {
    fn read(&mut self, offset: u16, size: u8) -> u32 {
        let mut value = 0;
        for i in 0..size.min(4) as u16 {
            value |= (self.read_byte(offset.wrapping_add(i)) as u32) << (8 * i);
        }
        value
    }

    fn write(&mut self, offset: u16, size: u8, value: u32) {
        for i in 0..size.min(4) as u16 {
            self.write_byte(offset.wrapping_add(i), (value >> (8 * i)) as u8);
        }
    }
}

impl Timed for Cmos {
    fn advance(&mut self, now: Nanos) {
        self.sync(now);
    }

    fn next_event(&self) -> Option<Nanos> {
        // While IRQF is set the line is already high: nothing new to signal
        // until register C is read (a port access, which syncs).
        if self.reg(REG_C) & C_IRQF != 0 || !self.divider_running() {
            return None;
        }
        let b = self.reg(REG_B);
        let mut next: Option<i128> = None;
        let mut consider = |tick: i128| next = Some(next.map_or(tick, |n| n.min(tick)));
        if b & B_PIE != 0 {
            if let Some(period) = self.periodic_ticks() {
                consider((self.tick.div_euclid(period) + 1) * period);
            }
        }
        if self.updating() {
            let next_update = self.tick.div_euclid(TICKS_PER_SECOND) + 1;
            if b & B_UIE != 0 {
                consider(next_update * TICKS_PER_SECOND);
            }
            if b & B_AIE != 0 {
                if let Some(alarm) = self.next_alarm(self.seconds) {
                    let updates = (alarm - self.seconds) as i128;
                    consider((next_update + updates - 1) * TICKS_PER_SECOND);
                }
            }
        }
        next.map(|tick| self.time_of_tick(tick))
    }
}

/// Seconds since the Unix epoch now, and the nanoseconds into that second.
fn host_time() -> (i64, u32) {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(_) => (0, 0),
    }
}

/// The proleptic Gregorian calendar as day counts from 1970-01-01 (Howard
/// Hinnant, "chrono-Compatible Low-Level Date Algorithms").
mod calendar {
    /// Days since 1970-01-01 of `year`-`month`-`day`. Out-of-range months
    /// and days carry into the neighbouring ones (month 13 is January of
    /// the next year, day 0 the previous month's last day).
    pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
        let year = year + (month - 1).div_euclid(12);
        let month = (month - 1).rem_euclid(12) + 1;
        // Years start in March, so the leap day ends the year.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let year_of_era = y - era * 400;
        let day_of_year = (153 * ((month + 9) % 12) + 2) / 5;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468 + (day - 1)
    }

    /// (year, month 1-12, day 1-31) of day `days` since 1970-01-01.
    pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
        (year, month, day)
    }

    /// Day of the week of day `days`, 0 = Sunday (1970-01-01 was a Thursday).
    pub fn weekday(days: i64) -> i64 {
        (days + 4).rem_euclid(7)
    }
}

impl Persist for Cmos {
    /// Snapshots (`machine::snapshot`): the 128 bytes, the index and the
    /// clock's position; the time base is the board's clock, saved with it.
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("cmos")?;
        self.ram.persist(io)?;
        self.index.persist(io)?;
        self.nmi_masked.persist(io)?;
        self.origin.persist(io)?;
        self.tick.persist(io)?;
        self.seconds.persist(io)?;
        self.weekday_offset.persist(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::IrqLines;
    use std::rc::Rc;

    const MS: Nanos = 1_000_000;
    const SECOND: Nanos = 1_000_000_000;
    /// 2024-02-28 23:59:58 UTC, a Wednesday.
    const LEAP_EVE: i64 = 1_709_164_798;

    struct Rig {
        cmos: Cmos,
        lines: Rc<IrqLines>,
        now: Now,
    }

    impl Rig {
        fn with_config(config: CmosConfig) -> Rig {
            let lines = IrqLines::new();
            let now = Now::default();
            let cmos = Cmos::new(lines.line(8), now.clone(), config);
            Rig { cmos, lines, now }
        }

        fn at(base: i64) -> Rig {
            Rig::with_config(config(256 * MIB, RtcBase::Fixed(base)))
        }

        fn read(&mut self, reg: u8) -> u8 {
            self.cmos.write(PORT_INDEX, 1, reg as u32);
            self.cmos.read(PORT_DATA, 1) as u8
        }

        fn write(&mut self, reg: u8, value: u8) {
            self.cmos.write(PORT_INDEX, 1, reg as u32);
            self.cmos.write(PORT_DATA, 1, value as u32);
        }

        /// Steps the virtual clock to `t` and lets the chip catch up.
        fn step_to(&mut self, t: Nanos) {
            self.now.set(t);
            self.cmos.advance(t);
        }

        fn irq8_high(&self) -> bool {
            self.lines.levels() & (1 << 8) != 0
        }

        fn irq8_edges(&self) -> u16 {
            self.lines.take_rising() & (1 << 8)
        }

        /// (century, year, month, day, hours, minutes, seconds) as read.
        fn date_time(&mut self) -> [u8; 7] {
            [
                self.read(REG_CENTURY),
                self.read(REG_YEAR),
                self.read(REG_MONTH),
                self.read(REG_DAY_OF_MONTH),
                self.read(REG_HOURS),
                self.read(REG_MINUTES),
                self.read(REG_SECONDS),
            ]
        }
    }

    fn config(ram_size: u64, rtc_base: RtcBase) -> CmosConfig {
        CmosConfig {
            ram_size,
            boot_order: vec![BootDevice::HardDisk],
            rtc_base,
            hard_disks: 1,
        }
    }

    fn unix(year: i64, month: i64, day: i64, h: i64, m: i64, s: i64) -> i64 {
        calendar::days_from_civil(year, month, day) * SECONDS_PER_DAY + h * 3600 + m * 60 + s
    }

    #[test]
    fn calendar_agrees_with_known_dates() {
        assert_eq!(calendar::days_from_civil(1970, 1, 1), 0);
        assert_eq!(calendar::days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(calendar::days_from_civil(1900, 3, 1), -25_508);
        assert_eq!(calendar::civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(calendar::civil_from_days(-25_508), (1900, 3, 1));
        assert_eq!(calendar::weekday(19_782), 4, "2024-02-29 was a Thursday");
    }

    #[test]
    fn time_reads_in_bcd_by_default() {
        let mut rig = Rig::at(LEAP_EVE);

        let time = rig.date_time();

        assert_eq!(time, [0x20, 0x24, 0x02, 0x28, 0x23, 0x59, 0x58]);
        assert_eq!(rig.read(REG_DAY_OF_WEEK), 4, "Wednesday");
    }

    #[test]
    fn time_reads_in_binary_with_dm_set() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.write(REG_B, B_BINARY | B_24_HOUR);

        assert_eq!(rig.date_time(), [20, 24, 2, 28, 23, 59, 58]);
    }

    #[test]
    fn twelve_hour_mode_marks_pm_in_bit_7() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.write(REG_B, 0);

        assert_eq!(rig.read(REG_HOURS), HOUR_PM | 0x11, "11 PM");
    }

    #[test]
    fn twelve_hour_mode_reads_midnight_as_12_am() {
        let mut rig = Rig::at(LEAP_EVE + 2);

        rig.write(REG_B, 0);

        assert_eq!(rig.read(REG_HOURS), 0x12);
    }

    #[test]
    fn twelve_hour_time_written_with_pm_bit_is_afternoon() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_B, B_SET | B_BINARY);
        rig.write(REG_HOURS, HOUR_PM | 3);
        rig.write(REG_MINUTES, 0);
        rig.write(REG_SECONDS, 0);
        rig.write(REG_B, B_BINARY);

        rig.write(REG_B, B_BINARY | B_24_HOUR);

        assert_eq!(rig.read(REG_HOURS), 15);
    }

    #[test]
    fn midnight_rolls_into_the_leap_day() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.step_to(2 * SECOND);

        assert_eq!(rig.date_time(), [0x20, 0x24, 0x02, 0x29, 0x00, 0x00, 0x00]);
        assert_eq!(rig.read(REG_DAY_OF_WEEK), 5, "Thursday");
    }

    #[test]
    fn leap_day_rolls_into_march() {
        let mut rig = Rig::at(unix(2024, 2, 29, 23, 59, 59));

        rig.step_to(SECOND);

        assert_eq!(rig.date_time(), [0x20, 0x24, 0x03, 0x01, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn february_of_a_common_year_ends_on_the_28th() {
        let mut rig = Rig::at(unix(2023, 2, 28, 23, 59, 59));

        rig.step_to(SECOND);

        assert_eq!(rig.date_time(), [0x20, 0x23, 0x03, 0x01, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn year_2100_is_not_a_leap_year() {
        let mut rig = Rig::at(unix(2100, 2, 28, 23, 59, 59));

        rig.step_to(SECOND);

        assert_eq!(rig.date_time(), [0x21, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn new_year_rolls_the_century() {
        let mut rig = Rig::at(unix(1999, 12, 31, 23, 59, 59));

        rig.step_to(SECOND);

        assert_eq!(rig.date_time(), [0x20, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00]);
        assert_eq!(rig.read(REG_DAY_OF_WEEK), 7, "Saturday");
    }

    #[test]
    fn month_end_rolls_into_the_next_month() {
        let mut rig = Rig::at(unix(2024, 4, 30, 23, 59, 59));

        rig.step_to(SECOND);

        assert_eq!(rig.date_time(), [0x20, 0x24, 0x05, 0x01, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn the_clock_does_not_tick_between_updates() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.step_to(SECOND - 1);

        assert_eq!(rig.read(REG_SECONDS), 0x58);
    }

    #[test]
    fn uip_is_clear_until_244_us_before_the_update() {
        let mut rig = Rig::at(LEAP_EVE);

        // Tick 32760 starts at 999_755_859.375 ns.
        rig.now.set(999_755_859);

        assert_eq!(rig.read(REG_A) & A_UIP, 0);
    }

    #[test]
    fn uip_is_set_in_the_last_244_us_before_the_update() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.now.set(999_755_860);

        assert_eq!(rig.read(REG_A), A_UIP | A_DEFAULT);
    }

    #[test]
    fn uip_clears_when_the_update_is_done() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.now.set(SECOND);

        assert_eq!(rig.read(REG_A), A_DEFAULT);
        assert_eq!(rig.read(REG_SECONDS), 0x59);
    }

    #[test]
    fn set_stops_the_clock_and_clears_uip() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_B, B_SET | B_24_HOUR);

        rig.now.set(5 * SECOND - 100_000);

        assert_eq!(rig.read(REG_SECONDS), 0x58);
        assert_eq!(rig.read(REG_A) & A_UIP, 0);
    }

    #[test]
    fn clearing_set_runs_the_clock_from_the_written_time() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_B, B_SET | B_24_HOUR);
        rig.write(REG_HOURS, 0x07);
        rig.write(REG_MINUTES, 0x30);
        rig.write(REG_SECONDS, 0x00);
        rig.step_to(5 * SECOND + 500 * MS);
        rig.write(REG_B, B_24_HOUR);

        rig.step_to(6 * SECOND);

        assert_eq!(rig.date_time(), [0x20, 0x24, 0x02, 0x28, 0x07, 0x30, 0x01]);
    }

    #[test]
    fn setting_set_clears_uie() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.write(REG_B, B_SET | B_UIE | B_24_HOUR);

        assert_eq!(rig.read(REG_B), B_SET | B_24_HOUR);
    }

    #[test]
    fn a_time_register_written_without_set_changes_the_clock() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.write(REG_YEAR, 0x25);
        rig.step_to(2 * SECOND);

        assert_eq!(rig.date_time(), [0x20, 0x25, 0x03, 0x01, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn a_written_day_of_week_keeps_counting() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_DAY_OF_WEEK, 7);

        rig.step_to(2 * SECOND);

        assert_eq!(rig.read(REG_DAY_OF_WEEK), 1);
    }

    #[test]
    fn divider_reset_holds_the_clock_and_release_updates_500_ms_later() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_A, 0x70);
        rig.step_to(3 * SECOND + 200 * MS);
        assert_eq!(rig.read(REG_SECONDS), 0x58);
        rig.write(REG_A, 0x26);

        rig.step_to(3 * SECOND + 700 * MS - 1);
        let before = rig.read(REG_SECONDS);
        rig.step_to(3 * SECOND + 700 * MS);

        assert_eq!(before, 0x58);
        assert_eq!(rig.read(REG_SECONDS), 0x59);
    }

    #[test]
    fn periodic_interrupt_at_rate_6_comes_every_976_us() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_A, 0x26);
        rig.write(REG_B, B_PIE | B_24_HOUR);

        let first = rig.cmos.next_event();
        rig.step_to(976_562);
        let early = rig.irq8_high();
        rig.step_to(976_563);

        assert_eq!(first, Some(976_563), "32 ticks of 30.5 us");
        assert!(!early);
        assert!(rig.irq8_high());
        assert_eq!(rig.irq8_edges(), 1 << 8);
    }

    #[test]
    fn periodic_interrupt_waits_for_register_c_then_comes_again() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_B, B_PIE | B_24_HOUR);
        rig.step_to(976_563);
        assert_eq!(rig.cmos.next_event(), None, "IRQF is already set");

        let c = rig.read(REG_C);

        assert_eq!(c, C_IRQF | C_PF);
        assert!(!rig.irq8_high());
        assert_eq!(rig.cmos.next_event(), Some(1_953_125));
    }

    #[test]
    fn periodic_rate_1_aliases_rate_8() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.write(REG_A, 0x21);
        rig.write(REG_B, B_PIE | B_24_HOUR);

        assert_eq!(rig.cmos.next_event(), Some(3_906_250), "256 Hz");
    }

    #[test]
    fn periodic_rate_15_is_2_hz() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.write(REG_A, 0x2F);
        rig.write(REG_B, B_PIE | B_24_HOUR);

        assert_eq!(rig.cmos.next_event(), Some(500 * MS));
    }

    #[test]
    fn rate_0_has_no_periodic_interrupt() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.write(REG_A, 0x20);
        rig.write(REG_B, B_PIE | B_24_HOUR);

        assert_eq!(rig.cmos.next_event(), None);
    }

    #[test]
    fn flags_without_enables_set_register_c_but_not_irq8() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.step_to(SECOND);

        assert!(!rig.irq8_high());
        assert_eq!(rig.irq8_edges(), 0);
        assert_eq!(rig.read(REG_C), C_PF | C_UF);
    }

    #[test]
    fn enabling_an_interrupt_whose_flag_is_set_raises_irq8() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.step_to(SECOND);

        rig.write(REG_B, B_UIE | B_24_HOUR);

        assert!(rig.irq8_high());
    }

    #[test]
    fn update_ended_interrupt_comes_once_a_second() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_A, 0x20);
        rig.write(REG_B, B_UIE | B_24_HOUR);

        let next = rig.cmos.next_event();
        rig.step_to(SECOND);

        assert_eq!(next, Some(SECOND));
        assert_eq!(rig.irq8_edges(), 1 << 8);
        assert_eq!(rig.read(REG_C), C_IRQF | C_UF);
    }

    #[test]
    fn alarm_interrupt_comes_when_the_time_matches() {
        let mut rig = Rig::at(unix(2024, 5, 1, 12, 0, 0));
        rig.write(REG_A, 0x20);
        rig.write(REG_HOURS_ALARM, 0x12);
        rig.write(REG_MINUTES_ALARM, 0x00);
        rig.write(REG_SECONDS_ALARM, 0x05);
        rig.write(REG_B, B_AIE | B_24_HOUR);

        let next = rig.cmos.next_event();
        rig.step_to(4 * SECOND);
        let early = rig.irq8_high();
        rig.step_to(5 * SECOND);

        assert_eq!(next, Some(5 * SECOND));
        assert!(!early);
        assert!(rig.irq8_high());
        assert_eq!(rig.read(REG_C), C_IRQF | C_AF | C_UF);
    }

    #[test]
    fn alarm_passed_over_in_one_step_still_sets_af() {
        let mut rig = Rig::at(unix(2024, 5, 1, 12, 0, 0));
        rig.write(REG_HOURS_ALARM, 0x12);
        rig.write(REG_MINUTES_ALARM, 0x00);
        rig.write(REG_SECONDS_ALARM, 0x05);

        rig.step_to(10 * SECOND);

        assert_eq!(rig.read(REG_C) & C_AF, C_AF);
    }

    #[test]
    fn alarm_with_dont_care_hours_and_minutes_comes_next_minute() {
        let mut rig = Rig::at(unix(2024, 5, 1, 12, 0, 10));
        rig.write(REG_HOURS_ALARM, 0xFF);
        rig.write(REG_MINUTES_ALARM, 0xC0);
        rig.write(REG_SECONDS_ALARM, 0x05);

        rig.write(REG_B, B_AIE | B_24_HOUR);

        assert_eq!(rig.cmos.next_event(), Some(55 * SECOND));
    }

    #[test]
    fn alarm_of_all_dont_cares_comes_every_second() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_HOURS_ALARM, 0xC0);
        rig.write(REG_MINUTES_ALARM, 0xC0);
        rig.write(REG_SECONDS_ALARM, 0xC0);

        rig.write(REG_B, B_AIE | B_24_HOUR);

        assert_eq!(rig.cmos.next_event(), Some(SECOND));
    }

    #[test]
    fn alarm_no_time_can_match_never_comes() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_SECONDS_ALARM, 0x61);

        rig.write(REG_B, B_AIE | B_24_HOUR);

        assert_eq!(rig.cmos.next_event(), None);
    }

    #[test]
    fn reading_register_c_clears_it_and_lowers_irq8() {
        let mut rig = Rig::at(LEAP_EVE);
        rig.write(REG_B, B_UIE | B_24_HOUR);
        rig.step_to(SECOND);
        assert!(rig.irq8_high());

        let first = rig.read(REG_C);
        let second = rig.read(REG_C);

        assert_eq!(first & C_IRQF, C_IRQF);
        assert_eq!(second, 0);
        assert!(!rig.irq8_high());
    }

    #[test]
    fn register_d_reports_a_good_battery() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.write(REG_D, 0);

        assert_eq!(rig.read(REG_D), D_VRT);
    }

    #[test]
    fn nmi_mask_follows_bit_7_of_the_index_port() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.cmos.write(PORT_INDEX, 1, 0x80 | REG_SECONDS as u32);
        let masked = rig.cmos.nmi_masked();
        let seconds = rig.cmos.read(PORT_DATA, 1);
        rig.cmos.write(PORT_INDEX, 1, REG_SECONDS as u32);

        assert!(masked);
        assert_eq!(seconds, 0x58, "bit 7 is not part of the index");
        assert!(!rig.cmos.nmi_masked());
    }

    #[test]
    fn nvram_bytes_keep_what_was_written() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.write(0x7F, 0xA5);

        assert_eq!(rig.read(0x7F), 0xA5);
    }

    #[test]
    fn a_word_write_to_the_index_port_also_writes_the_data_port() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.cmos.write(PORT_INDEX, 2, 0x5A40);

        assert_eq!(rig.read(0x40), 0x5A);
    }

    #[test]
    fn accesses_outside_the_two_ports_are_ignored() {
        let mut rig = Rig::at(LEAP_EVE);

        rig.cmos.write(7, 4, 0xFFFF_FFFF);

        assert_eq!(rig.cmos.read(7, 1), 0xFF);
        assert_eq!(rig.read(REG_SECONDS), 0x58);
    }

    #[test]
    fn memory_bytes_for_256_mib() {
        let mut rig = Rig::at(LEAP_EVE);

        let bytes = [
            0x10, 0x12, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x30, 0x31, 0x34, 0x35,
        ];
        let read = bytes.map(|r| rig.read(r));

        assert_eq!(
            read,
            [0x00, 0xF0, 0x02, 0x80, 0x02, 0xFF, 0xFF, 47, 0xFF, 0xFF, 0x00, 0x0F]
        );
        assert_eq!([rig.read(0x5B), rig.read(0x5C), rig.read(0x5D)], [0, 0, 0]);
        assert_eq!(
            [rig.read(0x3D), rig.read(0x38)],
            [0x02, 0x00],
            "boot from disk"
        );
    }

    #[test]
    fn checksum_for_256_mib_sums_0x10_to_0x2d() {
        let mut rig = Rig::at(LEAP_EVE);

        let checksum = [rig.read(0x2E), rig.read(0x2F)];

        // 0xF0 + 0x02 + 0x80 + 0x02 + 0xFF + 0xFF + 47 = 0x3A1
        assert_eq!(checksum, [0x03, 0xA1]);
    }

    #[test]
    fn memory_bytes_for_8_mib_are_not_capped() {
        let mut rig = Rig::with_config(config(8 * MIB, RtcBase::Fixed(0)));

        let read = [0x17, 0x18, 0x34, 0x35].map(|r| rig.read(r));

        assert_eq!(read, [0x00, 0x1C, 0x00, 0x00], "7168 KiB extended");
    }

    #[test]
    fn memory_bytes_for_4_gib_stop_at_the_rom_mirror() {
        let mut rig = Rig::with_config(config(4096 * MIB, RtcBase::Fixed(0)));

        let read = [0x17, 0x18, 0x34, 0x35, 0x5B, 0x5C, 0x5D].map(|r| rig.read(r));

        assert_eq!(read, [0xFF, 0xFF, 0xFF, 0xFE, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn memory_bytes_for_6_gib_count_2_gib_above_4_gib() {
        let mut rig = Rig::with_config(config(6144 * MIB, RtcBase::Fixed(0)));

        let read = [0x34, 0x35, 0x5B, 0x5C, 0x5D].map(|r| rig.read(r));

        assert_eq!(read, [0xFF, 0xFE, 0x00, 0x80, 0x00]);
    }

    #[test]
    fn checksum_for_4_gib() {
        let mut rig = Rig::with_config(config(4096 * MIB, RtcBase::Fixed(0)));

        let checksum = [rig.read(0x2E), rig.read(0x2F)];

        assert_eq!(checksum, [0x03, 0xA1], "same bytes in 0x10-0x2D as 256 MiB");
    }

    #[test]
    fn boot_order_fills_nibbles_in_qemu_order() {
        let mut rig = Rig::with_config(CmosConfig {
            boot_order: vec![BootDevice::CdRom, BootDevice::HardDisk, BootDevice::Floppy],
            ..config(256 * MIB, RtcBase::Fixed(0))
        });

        assert_eq!([rig.read(0x3D), rig.read(0x38)], [0x23, 0x10]);
    }

    #[test]
    fn host_base_reads_a_plausible_year() {
        let mut rig = Rig::with_config(config(256 * MIB, RtcBase::Host));

        let century = rig.read(REG_CENTURY);

        assert_eq!(century, 0x20);
    }

    #[test]
    fn an_extreme_fixed_base_is_clamped_to_year_9999() {
        let mut rig = Rig::at(i64::MAX);

        assert_eq!(rig.date_time(), [0x99, 0x99, 0x12, 0x31, 0x23, 0x59, 0x59]);
    }

    #[test]
    fn any_sequence_of_guest_accesses_leaves_the_chip_usable() {
        let mut rig = Rig::at(i64::MIN);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for step in 0..20_000u64 {
            let r = next();
            let offset = (r % 3) as u16;
            let size = [1, 2, 4][(r >> 8) as usize % 3];
            if r >> 16 & 1 == 0 {
                rig.cmos.write(offset, size, (r >> 32) as u32);
            } else {
                rig.cmos.read(offset, size);
            }
            rig.step_to(step * 37 * MS);
            let _ = rig.cmos.next_event();
        }

        rig.write(REG_B, B_24_HOUR);
        rig.write(REG_A, A_DEFAULT);
        rig.write(REG_C, 0);
        rig.read(REG_C);

        assert_eq!(rig.read(REG_D), D_VRT);
        assert!(!rig.irq8_high());
    }
}
