//! Intel 8254 Programmable Interval Timer (82C54 datasheet), as wired on
//! the PC, plus the PIT-related bits of system control port B.
//!
//! Offsets (the board maps them):
//! - 0, 1, 2: counters 0, 1, 2 (ports 0x40-0x42): write the count, read
//!   the count or a latched count/status.
//! - 3: control word register (port 0x43), write only: mode programming,
//!   counter latch command, read-back command.
//! - 4: system control port B (port 0x61): bit 0 GATE2, bit 1 speaker data
//!   enable (stored only), bit 4 refresh request (toggles every 15.085 us),
//!   bit 5 OUT2; other bits read as 0.
//!
//! The input clock is 1.193182 MHz. Counter 0's OUT drives IRQ 0; the
//! gates of counters 0 and 1 are tied high, counter 2's gate is port B
//! bit 0.
//!
//! Nothing ticks: a counter remembers the clock pulse at which its count
//! was loaded (a `Run`) and derives its value and OUT from the number of
//! pulses since then. Every datasheet mode is a formula of that elapsed
//! count (`Run::out`, `Run::value`, `Run::next_change`); writes and gate
//! edges start a new `Run`. Datasheet timing kept exactly:
//! - a written count is loaded into the counting element on the next CLK
//!   pulse, which does not decrement it (mode 0: OUT goes high N+1 pulses
//!   after the write);
//! - modes 2 and 3 take a new count written while counting at the end of
//!   the current period (mode 2) or half-cycle (mode 3);
//! - mode 3 with an odd count N: OUT high for (N+1)/2 pulses, low for
//!   (N-1)/2, the counting element counting N-1, N-3, ... by twos;
//! - a count of 0 is 65536 (10000 in BCD); modes 6 and 7 are modes 2 and 3.
//!
//! Illegal counts of 1 in modes 2 and 3 leave OUT high (no pulses).

use super::{IrqLine, Nanos, Now, PortDevice, Timed};

/// The input clock of the PC's 8254.
pub const CLOCK_HZ: u64 = 1_193_182;
const NS_PER_S: u64 = 1_000_000_000;
/// Port B's refresh request bit toggles every this many nanoseconds (the
/// DRAM refresh period, counter 1's job on the original PC).
pub const REFRESH_TOGGLE_NS: Nanos = 15_085;

/// Offsets within the device.
pub const OFFSET_CONTROL: u16 = 3;
pub const OFFSET_PORT_B: u16 = 4;

/// Control word fields.
const CW_SELECT_SHIFT: u8 = 6;
const CW_SELECT_READ_BACK: u8 = 3;
const CW_ACCESS_SHIFT: u8 = 4;
const CW_ACCESS_LATCH: u8 = 0;
const CW_MODE_SHIFT: u8 = 1;
const CW_BCD: u8 = 1 << 0;

/// Read-back command fields (active-low COUNT and STATUS).
const RB_NO_COUNT: u8 = 1 << 5;
const RB_NO_STATUS: u8 = 1 << 4;
const RB_COUNTER0: u8 = 1 << 1;

/// Status byte fields.
const STATUS_OUTPUT: u8 = 1 << 7;
const STATUS_NULL_COUNT: u8 = 1 << 6;

/// Port B bits.
pub const PORT_B_GATE2: u8 = 1 << 0;
pub const PORT_B_SPEAKER: u8 = 1 << 1;
pub const PORT_B_REFRESH: u8 = 1 << 4;
pub const PORT_B_OUT2: u8 = 1 << 5;

/// Clock pulses that have occurred by time `ns`.
fn ticks_at(ns: Nanos) -> u64 {
    (ns as u128 * CLOCK_HZ as u128 / NS_PER_S as u128) as u64
}

/// The first time at which `tick` pulses have occurred.
fn time_of_tick(tick: u64) -> Nanos {
    let ns = (tick as u128 * NS_PER_S as u128).div_ceil(CLOCK_HZ as u128);
    ns.min(Nanos::MAX as u128) as Nanos
}

/// How the counter register is read and written (control word RW bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Lsb = 1,
    Msb = 2,
    Word = 3,
}

impl Access {
    fn from_bits(bits: u8) -> Access {
        match bits & 3 {
            1 => Access::Lsb,
            2 => Access::Msb,
            _ => Access::Word,
        }
    }

    /// Picks the next byte of `value` to read, advancing the word
    /// flip-flop; returns the byte and whether the value is now fully read.
    fn read_byte(self, value: u16, msb_next: &mut bool) -> (u8, bool) {
        match self {
            Access::Lsb => (value as u8, true),
            Access::Msb => ((value >> 8) as u8, true),
            Access::Word if !*msb_next => {
                *msb_next = true;
                (value as u8, false)
            }
            Access::Word => {
                *msb_next = false;
                ((value >> 8) as u8, true)
            }
        }
    }
}

/// A count loaded into the counting element at clock pulse `load`: the
/// counter's whole future until the next write or gate edge.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// The pulse that loaded `n` (the counting element holds `n` after it).
    load: u64,
    /// The count, 1..=modulus, in binary.
    n: u32,
    /// Modes 0, 1, 4, 5: the terminal count is still ahead.
    tc_pending: bool,
    /// Mode 3: the run starts with the low half-cycle.
    start_low: bool,
    /// OUT and the counting element before `load`.
    pre_out: bool,
    pre_value: u32,
    /// Modes 2 and 3: a count written while counting, taken at `at`.
    reload: Option<Reload>,
}

#[derive(Debug, Clone, Copy)]
struct Reload {
    n: u32,
    at: u64,
    start_low: bool,
}

/// Mode 3 half-cycle lengths for count `n`: (high, low).
fn square_halves(n: u32) -> (u64, u64) {
    let low = n as u64 / 2;
    (n as u64 - low, low)
}

impl Run {
    fn new(load: u64, n: u32, pre_out: bool, pre_value: u32) -> Run {
        Run {
            load,
            n,
            tc_pending: true,
            start_low: false,
            pre_out,
            pre_value,
            reload: None,
        }
    }

    /// The run in force at pulse `t` (a due reload replaces it).
    fn at(&self, t: u64) -> Run {
        match self.reload {
            Some(r) if t >= r.at => Run {
                load: r.at,
                n: r.n,
                tc_pending: true,
                start_low: r.start_low,
                pre_out: self.pre_out,
                pre_value: self.pre_value,
                reload: None,
            },
            _ => *self,
        }
    }

    /// Mode 3: the position within the period, counted from the start of
    /// the high half-cycle.
    fn square_phase(&self, e: u64) -> u64 {
        let shift = if self.start_low {
            square_halves(self.n).0
        } else {
            0
        };
        (e + shift) % self.n as u64
    }

    /// OUT after pulse `t` (`self` already `at(t)`).
    fn out(&self, mode: u8, t: u64) -> bool {
        if t < self.load {
            return self.pre_out;
        }
        let e = t - self.load;
        let n = self.n as u64;
        match mode {
            0 | 1 => !self.tc_pending || e >= n,
            4 | 5 => !(self.tc_pending && e == n),
            2 => n == 1 || e % n != n - 1,
            _ => self.square_phase(e) < square_halves(self.n).0,
        }
    }

    /// The counting element after pulse `t`, in binary, below `modulus`.
    fn value(&self, mode: u8, modulus: u32, t: u64) -> u32 {
        if t < self.load {
            return self.pre_value;
        }
        let e = t - self.load;
        let (n, m) = (self.n as u64, modulus as u64);
        let v = match mode {
            0 | 1 | 4 | 5 => n + m - e % m,
            2 => n - e % n,
            _ => {
                let (high, _) = square_halves(self.n);
                let p = self.square_phase(e);
                let into_half = if p < high { p } else { p - high };
                (n & !1) - 2 * into_half
            }
        };
        (v % m) as u32
    }

    /// The first pulse after `t` at which OUT differs from OUT at `t`
    /// (`self` already `at(t)`; a due reload changes OUT the same way).
    fn next_change(&self, mode: u8, t: u64) -> Option<u64> {
        if t < self.load {
            if self.out(mode, self.load) != self.pre_out {
                return Some(self.load);
            }
            return self.next_change(mode, self.load);
        }
        let e = t - self.load;
        let n = self.n as u64;
        match mode {
            0 | 1 => (self.tc_pending && e < n).then_some(self.load + n),
            4 | 5 if self.tc_pending && e < n => Some(self.load + n),
            4 | 5 if self.tc_pending && e == n => Some(t + 1),
            4 | 5 => None,
            2 if n == 1 => None,
            2 => {
                let p = e % n;
                Some(if p < n - 1 { t + (n - 1 - p) } else { t + 1 })
            }
            _ => {
                let (high, low) = square_halves(self.n);
                if low == 0 {
                    return None;
                }
                let p = self.square_phase(e);
                Some(if p < high {
                    t + (high - p)
                } else {
                    t + (n - p)
                })
            }
        }
    }
}

/// What the counting element is doing.
#[derive(Debug, Clone, Copy)]
enum Counting {
    /// Not counting: no count yet, waiting for a trigger, or stopped by
    /// the gate in modes 2 and 3.
    Stopped {
        value: u32,
        out: bool,
    },
    /// Modes 0 and 4 with the gate low: frozen, resumes when it rises.
    Paused {
        value: u32,
        out: bool,
        tc_pending: bool,
    },
    Running(Run),
}

/// A count or status held for reading.
#[derive(Debug, Clone, Copy)]
struct Latch {
    value: u16,
    msb_next: bool,
}

/// One of the three counters.
#[derive(Debug, Clone)]
struct Counter {
    access: Access,
    /// The mode bits as programmed (6 and 7 read back as written).
    mode_bits: u8,
    bcd: bool,
    gate: bool,
    /// The count register as written (raw, BCD if `bcd`).
    count_register: u16,
    count_written: bool,
    /// Word access: the low byte written, waiting for the high byte.
    low_byte_written: Option<u8>,
    /// Word access read flip-flop for unlatched reads.
    read_msb_next: bool,
    latch: Option<Latch>,
    status_latch: Option<u8>,
    /// NULL COUNT reads 1 before this pulse (the count register's value
    /// not yet in the counting element).
    null_count_until: u64,
    counting: Counting,
}

impl Counter {
    fn new(gate: bool) -> Counter {
        Counter {
            access: Access::Word,
            mode_bits: 0,
            bcd: false,
            gate,
            count_register: 0,
            count_written: false,
            low_byte_written: None,
            read_msb_next: false,
            latch: None,
            status_latch: None,
            null_count_until: 0,
            counting: Counting::Stopped {
                value: 0,
                out: false,
            },
        }
    }

    /// The operating mode (6 and 7 are 2 and 3).
    fn mode(&self) -> u8 {
        match self.mode_bits {
            6 => 2,
            7 => 3,
            m => m,
        }
    }

    /// 65536 in binary, 10000 in BCD.
    fn modulus(&self) -> u32 {
        if self.bcd {
            10_000
        } else {
            0x1_0000
        }
    }

    /// A raw count as a binary number of pulses, 0 meaning the modulus.
    fn count_of(&self, raw: u16) -> u32 {
        let n = if self.bcd {
            // Nibbles above 9 are not BCD; weigh them anyway and wrap.
            (0..4)
                .rev()
                .fold(0, |acc, i| acc * 10 + (raw as u32 >> (4 * i) & 0xf))
                % 10_000
        } else {
            raw as u32
        };
        if n == 0 {
            self.modulus()
        } else {
            n
        }
    }

    /// A binary counting-element value as read from the chip.
    fn raw_of(&self, value: u32) -> u16 {
        if self.bcd {
            let v = value % 10_000;
            (0..4).fold(0u16, |acc, i| {
                acc | (((v / 10u32.pow(i)) % 10) as u16) << (4 * i)
            })
        } else {
            value as u16
        }
    }

    /// Applies a reload that fell due by pulse `t`.
    fn settle(&mut self, t: u64) {
        if let Counting::Running(run) = self.counting {
            self.counting = Counting::Running(run.at(t));
        }
    }

    fn out(&self, t: u64) -> bool {
        match self.counting {
            Counting::Stopped { out, .. } | Counting::Paused { out, .. } => out,
            Counting::Running(run) => run.at(t).out(self.mode(), t),
        }
    }

    fn value(&self, t: u64) -> u32 {
        match self.counting {
            Counting::Stopped { value, .. } | Counting::Paused { value, .. } => value,
            Counting::Running(run) => run.at(t).value(self.mode(), self.modulus(), t),
        }
    }

    fn next_change(&self, t: u64) -> Option<u64> {
        match self.counting {
            Counting::Running(run) => run.at(t).next_change(self.mode(), t),
            _ => None,
        }
    }

    /// Whether OUT rose at some pulse in (from, to].
    fn rose_between(&self, from: u64, to: u64) -> bool {
        let mut t = from;
        // OUT alternates, so the second change at the latest is a rise.
        for _ in 0..2 {
            match self.next_change(t) {
                Some(c) if c <= to => {
                    if self.out(c) {
                        return true;
                    }
                    t = c;
                }
                _ => return false,
            }
        }
        false
    }

    fn status(&self, t: u64) -> u8 {
        let mut s = (self.access as u8) << CW_ACCESS_SHIFT
            | self.mode_bits << CW_MODE_SHIFT
            | if self.bcd { CW_BCD } else { 0 };
        if self.out(t) {
            s |= STATUS_OUTPUT;
        }
        if t < self.null_count_until {
            s |= STATUS_NULL_COUNT;
        }
        s
    }

    fn latch_count(&mut self, t: u64) {
        if self.latch.is_none() {
            self.latch = Some(Latch {
                value: self.raw_of(self.value(t)),
                msb_next: false,
            });
        }
    }

    fn latch_status(&mut self, t: u64) {
        if self.status_latch.is_none() {
            self.status_latch = Some(self.status(t));
        }
    }

    /// A control word for this counter (not a latch command).
    fn program(&mut self, control: u8, t: u64) {
        let value = self.value(t);
        self.access = Access::from_bits(control >> CW_ACCESS_SHIFT);
        self.mode_bits = (control >> CW_MODE_SHIFT) & 7;
        self.bcd = control & CW_BCD != 0;
        self.count_written = false;
        self.low_byte_written = None;
        self.read_msb_next = false;
        self.latch = None;
        self.status_latch = None;
        self.null_count_until = u64::MAX;
        // Mode 0 starts with OUT low, every other mode with OUT high.
        self.counting = Counting::Stopped {
            value: value % self.modulus(),
            out: self.mode() != 0,
        };
    }

    fn read(&mut self, t: u64) -> u8 {
        if let Some(status) = self.status_latch.take() {
            return status;
        }
        if let Some(mut latch) = self.latch {
            let (byte, done) = self.access.read_byte(latch.value, &mut latch.msb_next);
            self.latch = if done { None } else { Some(latch) };
            return byte;
        }
        let value = self.raw_of(self.value(t));
        self.access.read_byte(value, &mut self.read_msb_next).0
    }

    fn write(&mut self, byte: u8, t: u64) {
        let raw = match self.access {
            Access::Lsb => byte as u16,
            Access::Msb => (byte as u16) << 8,
            Access::Word => match self.low_byte_written.take() {
                None => {
                    self.low_byte_written = Some(byte);
                    if self.mode() == 0 {
                        // Writing the first byte stops counting, OUT low.
                        self.counting = Counting::Stopped {
                            value: self.value(t),
                            out: false,
                        };
                    }
                    return;
                }
                Some(low) => u16::from_le_bytes([low, byte]),
            },
        };
        self.load(raw, t);
    }

    /// A complete count written to the count register at pulse `t`.
    fn load(&mut self, raw: u16, t: u64) {
        self.count_register = raw;
        self.count_written = true;
        let n = self.count_of(raw);
        let value = self.value(t);
        let mode = self.mode();
        match mode {
            0 | 4 => {
                let out = mode == 4;
                if self.gate {
                    self.counting = Counting::Running(Run::new(t + 1, n, out, value));
                    self.null_count_until = t + 1;
                } else {
                    self.counting = Counting::Paused {
                        value: n % self.modulus(),
                        out,
                        tc_pending: true,
                    };
                    self.null_count_until = t;
                }
            }
            // A trigger (gate rising edge) loads the count.
            1 | 5 => self.null_count_until = u64::MAX,
            _ => match self.counting {
                Counting::Running(mut run) if t >= run.load => {
                    // Taken at the end of the period (mode 2) or the
                    // half-cycle (mode 3).
                    let at = if mode == 2 {
                        t + (run.n as u64 - (t - run.load) % run.n as u64)
                    } else {
                        run.next_change(mode, t).unwrap_or(t + 1)
                    };
                    let start_low = mode == 3 && run.out(mode, t);
                    run.reload = Some(Reload { n, at, start_low });
                    self.counting = Counting::Running(run);
                    self.null_count_until = at;
                }
                Counting::Running(mut run) => {
                    run.n = n;
                    self.counting = Counting::Running(run);
                }
                _ if self.gate => {
                    self.counting = Counting::Running(Run::new(t + 1, n, true, value));
                    self.null_count_until = t + 1;
                }
                _ => self.null_count_until = u64::MAX,
            },
        }
    }

    /// The gate input changes to `high` at pulse `t`.
    fn set_gate(&mut self, high: bool, t: u64) {
        if high == self.gate {
            return;
        }
        self.gate = high;
        let (out, value) = (self.out(t), self.value(t));
        match (self.mode(), high) {
            // Modes 0 and 4: the gate level enables counting.
            (0 | 4, false) => {
                if let Counting::Running(run) = self.counting {
                    let run = run.at(t);
                    let tc_pending =
                        run.tc_pending && (t < run.load || t - run.load < run.n as u64);
                    self.counting = Counting::Paused {
                        value,
                        out,
                        tc_pending,
                    };
                }
            }
            (0 | 4, true) => {
                if let Counting::Paused {
                    value,
                    out,
                    tc_pending,
                } = self.counting
                {
                    let n = if value == 0 { self.modulus() } else { value };
                    let mut run = Run::new(t, n, out, value);
                    run.tc_pending = tc_pending;
                    self.counting = Counting::Running(run);
                }
            }
            // Modes 1 and 5: a rising edge (re)triggers.
            (1 | 5, true) if self.count_written => {
                let n = self.count_of(self.count_register);
                self.counting = Counting::Running(Run::new(t + 1, n, out, value));
                self.null_count_until = t + 1;
            }
            (1 | 5, _) => {}
            // Modes 2 and 3: low stops counting with OUT high, a rising
            // edge reloads.
            (_, false) => self.counting = Counting::Stopped { value, out: true },
            (_, true) if self.count_written => {
                let n = self.count_of(self.count_register);
                self.counting = Counting::Running(Run::new(t + 1, n, true, value));
                self.null_count_until = t + 1;
            }
            (_, true) => {}
        }
    }
}

/// The 8254 with the PC's wiring.
pub struct Pit {
    counters: [Counter; 3],
    speaker: bool,
    irq0: IrqLine,
    now: Now,
    /// The pulse up to which IRQ 0 reflects counter 0's OUT.
    irq_tick: u64,
}

impl Pit {
    pub fn new(irq0: IrqLine, now: Now) -> Pit {
        let irq_tick = ticks_at(now.get());
        Pit {
            counters: [Counter::new(true), Counter::new(true), Counter::new(false)],
            speaker: false,
            irq0,
            now,
            irq_tick,
        }
    }

    /// Brings every counter and IRQ 0 up to pulse `t`.
    fn sync(&mut self, t: u64) {
        let t = t.max(self.irq_tick);
        let counter0 = &self.counters[0];
        if counter0.rose_between(self.irq_tick, t) {
            // An edge the PIC must latch even if OUT is low again, or high
            // again after a low pulse between two samples.
            self.irq0.lower();
            self.irq0.raise();
        }
        self.irq0.set_level(counter0.out(t));
        self.irq_tick = t;
        for c in &mut self.counters {
            c.settle(t);
        }
    }

    /// The current pulse, with everything brought up to it.
    fn tick_now(&mut self) -> u64 {
        let t = ticks_at(self.now.get()).max(self.irq_tick);
        self.sync(t);
        t
    }

    fn write_control(&mut self, control: u8, t: u64) {
        let select = control >> CW_SELECT_SHIFT;
        if select == CW_SELECT_READ_BACK {
            for (i, c) in self.counters.iter_mut().enumerate() {
                if control & (RB_COUNTER0 << i) == 0 {
                    continue;
                }
                if control & RB_NO_COUNT == 0 {
                    c.latch_count(t);
                }
                if control & RB_NO_STATUS == 0 {
                    c.latch_status(t);
                }
            }
            return;
        }
        let counter = &mut self.counters[select as usize];
        if (control >> CW_ACCESS_SHIFT) & 3 == CW_ACCESS_LATCH {
            counter.latch_count(t);
        } else {
            counter.program(control, t);
        }
    }

    fn read_port_b(&self, t: u64) -> u8 {
        let mut b = 0;
        if self.counters[2].gate {
            b |= PORT_B_GATE2;
        }
        if self.speaker {
            b |= PORT_B_SPEAKER;
        }
        if (self.now.get() / REFRESH_TOGGLE_NS) & 1 != 0 {
            b |= PORT_B_REFRESH;
        }
        if self.counters[2].out(t) {
            b |= PORT_B_OUT2;
        }
        b
    }

    fn read_byte(&mut self, offset: u16, t: u64) -> u8 {
        match offset {
            0..=2 => self.counters[offset as usize].read(t),
            OFFSET_PORT_B => self.read_port_b(t),
            // The control register cannot be read (the bus floats).
            _ => 0xff,
        }
    }

    fn write_byte(&mut self, offset: u16, value: u8, t: u64) {
        match offset {
            0..=2 => self.counters[offset as usize].write(value, t),
            OFFSET_CONTROL => self.write_control(value, t),
            OFFSET_PORT_B => {
                self.speaker = value & PORT_B_SPEAKER != 0;
                self.counters[2].set_gate(value & PORT_B_GATE2 != 0, t);
            }
            // Past the device's range: ignored, like a write nobody decodes.
            _ => {}
        }
        // A new mode or count may move OUT0 at once.
        self.irq0.set_level(self.counters[0].out(t));
    }

    /// The byte offsets a `size`-byte access at `offset` touches: the
    /// counter/control ports are consecutive, port B stands alone.
    fn byte_offsets(offset: u16, size: u8) -> impl Iterator<Item = Option<u16>> {
        (0..size.clamp(1, 4) as u16).map(move |i| match offset {
            0..=3 if offset + i <= OFFSET_CONTROL => Some(offset + i),
            OFFSET_PORT_B if i == 0 => Some(OFFSET_PORT_B),
            _ => None,
        })
    }
}

impl PortDevice for Pit {
    fn read(&mut self, offset: u16, size: u8) -> u32 {
        let t = self.tick_now();
        let mut value = 0;
        for (i, byte) in Self::byte_offsets(offset, size).enumerate() {
            let b = match byte {
                Some(o) => self.read_byte(o, t),
                None => 0xff,
            };
            value |= (b as u32) << (8 * i);
        }
        value
    }

    fn write(&mut self, offset: u16, size: u8, value: u32) {
        let t = self.tick_now();
        for (i, byte) in Self::byte_offsets(offset, size).enumerate() {
            // Bytes past the device's range go nowhere.
            if let Some(o) = byte {
                self.write_byte(o, (value >> (8 * i)) as u8, t);
            }
        }
    }
}

impl Timed for Pit {
    fn advance(&mut self, now: Nanos) {
        self.sync(ticks_at(now));
    }

    fn next_event(&self) -> Option<Nanos> {
        self.counters[0]
            .next_change(self.irq_tick)
            .map(time_of_tick)
    }
}
