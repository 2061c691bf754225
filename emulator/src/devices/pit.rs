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
//! Gates (the datasheet's "Gate pin operations summary"): in modes 0 and
//! 4 the gate level enables counting; in modes 1 and 5 a rising edge
//! (re)triggers, loading the count on the next pulse; in modes 2 and 3 a
//! low gate stops counting and forces OUT high, a rising edge reloads.
//!
//! Choices where the datasheet leaves the behaviour undefined:
//! - illegal counts of 1 in modes 2 and 3 leave OUT high (no pulses);
//! - at power-on a counter is in mode 0 with no count, OUT low, reading 0;
//! - a control word also drops pending count and status latches (all
//!   "control logic is reset");
//! - a mode 0 or 4 count written while the gate is low is loaded at once
//!   and counts from the first pulse after the gate rises;
//! - BCD counts with nibbles above 9 are weighed as decimal digits anyway.
//!
//! IRQ 0 follows OUT0. When the board advances across several edges, the
//! line still shows one rising edge (the 8259A latches one anyway).

use super::{IrqLine, Nanos, Now, PortDevice, Timed};
use crate::machine::snapshot::{Persist, Result as SnapResult, SnapshotError, StateIo};
use crate::trace::{Category, Trace};

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
#[derive(Debug, Clone, Copy, Default)]
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

#[derive(Debug, Clone, Copy, Default)]
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
#[derive(Debug, Clone, Copy, Default)]
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
#[derive(Debug)]
pub struct Pit {
    counters: [Counter; 3],
    speaker: bool,
    irq0: IrqLine,
    now: Now,
    /// The pulse up to which IRQ 0 reflects counter 0's OUT.
    irq_tick: u64,
    /// Reprogramming goes to the trace (`trace`).
    pub trace: Trace,
}

impl Pit {
    pub fn new(irq0: IrqLine, now: Now) -> Pit {
        let irq_tick = ticks_at(now.get());
        Pit {
            counters: [Counter::new(true), Counter::new(true), Counter::new(false)],
            speaker: false,
            irq0,
            trace: Trace::off(),
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
            0..=2 => {
                let c = &mut self.counters[offset as usize];
                c.write(value, t);
                // A complete count (both bytes of a word access) is loaded.
                if c.low_byte_written.is_none() {
                    if let Some(mut tr) = self.trace.on(Category::Pit) {
                        tr.pit_program(offset as u8, c.mode(), c.count_of(c.count_register));
                    }
                }
            }
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

// Snapshots (`machine::snapshot`): the three counters as they stand; the
// time base is the board's clock, saved with it.
crate::persist_enum!(Access { Lsb, Msb, Word });
crate::persist_fields!(Reload { n, at, start_low });
crate::persist_fields!(Run {
    load,
    n,
    tc_pending,
    start_low,
    pre_out,
    pre_value,
    reload,
});
crate::persist_fields!(Latch { value, msb_next });

impl Persist for Counting {
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        let mut tag: u8 = match self {
            Counting::Stopped { .. } => 0,
            Counting::Paused { .. } => 1,
            Counting::Running(_) => 2,
        };
        tag.persist(io)?;
        if io.is_loading() {
            *self = match tag {
                0 => Counting::Stopped {
                    value: 0,
                    out: false,
                },
                1 => Counting::Paused {
                    value: 0,
                    out: false,
                    tc_pending: false,
                },
                2 => Counting::Running(Run::default()),
                _ => return Err(SnapshotError::Malformed(format!("PIT counting {tag}"))),
            };
        }
        match self {
            Counting::Stopped { value, out } => {
                value.persist(io)?;
                out.persist(io)
            }
            Counting::Paused {
                value,
                out,
                tc_pending,
            } => {
                value.persist(io)?;
                out.persist(io)?;
                tc_pending.persist(io)
            }
            Counting::Running(run) => run.persist(io),
        }
    }
}

crate::persist_fields!(Counter {
    access,
    mode_bits,
    bcd,
    gate,
    count_register,
    count_written,
    low_byte_written,
    read_msb_next,
    latch,
    status_latch,
    null_count_until,
    counting,
});

impl Persist for Pit {
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("pit")?;
        self.counters.persist(io)?;
        self.speaker.persist(io)?;
        self.irq_tick.persist(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::IrqLines;
    use std::rc::Rc;

    const CH0: u16 = 0;
    const CH2: u16 = 2;
    const IRQ0: u16 = 1 << 0;

    /// A PIT with its IRQ lines and clock, stepped by hand in clock pulses.
    struct Bench {
        pit: Pit,
        now: Now,
        lines: Rc<IrqLines>,
    }

    fn bench() -> Bench {
        let lines = IrqLines::new();
        let now = Now::default();
        let pit = Pit::new(lines.line(0), now.clone());
        Bench { pit, now, lines }
    }

    impl Bench {
        /// Moves the clock to the first instant after `tick` pulses.
        fn at(&mut self, tick: u64) -> &mut Self {
            let t = time_of_tick(tick);
            self.now.set(t);
            self.pit.advance(t);
            self
        }
        fn outb(&mut self, offset: u16, value: u8) {
            self.pit.write(offset, 1, value as u32);
        }
        fn inb(&mut self, offset: u16) -> u8 {
            self.pit.read(offset, 1) as u8
        }
        /// Control word, then the count low byte first (word access).
        fn program(&mut self, control: u8, count: u16) {
            let counter = (control >> 6) as u16;
            self.outb(OFFSET_CONTROL, control);
            self.outb(counter, count as u8);
            self.outb(counter, (count >> 8) as u8);
        }
        /// A new word-access count, low byte first, without a control word.
        fn program_count_only(&mut self, counter: u16, count: u16) {
            self.outb(counter, count as u8);
            self.outb(counter, (count >> 8) as u8);
        }
        /// Reads a word-access count, low byte first.
        fn read_count(&mut self, counter: u16) -> u16 {
            let lo = self.inb(counter) as u16;
            lo | (self.inb(counter) as u16) << 8
        }
        fn irq0_high(&self) -> bool {
            self.lines.levels() & IRQ0 != 0
        }
        fn irq0_rose(&self) -> bool {
            self.lines.take_rising() & IRQ0 != 0
        }
        fn out2(&mut self) -> bool {
            self.inb(OFFSET_PORT_B) & PORT_B_OUT2 != 0
        }
        fn next_event_tick(&self) -> Option<u64> {
            self.pit.next_event().map(ticks_at)
        }
    }

    // Control words: counter << 6 | access << 4 | mode << 1 | bcd.
    const CH0_WORD_MODE0: u8 = 0x30;
    const CH0_WORD_MODE2: u8 = 0x34;
    const CH0_WORD_MODE3: u8 = 0x36;
    const CH0_WORD_MODE4: u8 = 0x38;
    const CH2_WORD_MODE0: u8 = 0xb0;
    const CH2_WORD_MODE1: u8 = 0xb2;
    const CH2_WORD_MODE2: u8 = 0xb4;
    const CH2_WORD_MODE3: u8 = 0xb6;
    const CH2_WORD_MODE5: u8 = 0xba;

    #[test]
    fn clock_conversion_is_exact_at_one_second() {
        assert_eq!(ticks_at(1_000_000_000), CLOCK_HZ);
        assert_eq!(time_of_tick(CLOCK_HZ), 1_000_000_000);
        assert_eq!(ticks_at(time_of_tick(12_345)), 12_345);
        assert_eq!(ticks_at(time_of_tick(12_345) - 1), 12_344);
    }

    #[test]
    fn clock_conversion_does_not_overflow_after_centuries() {
        let t = Nanos::MAX / 2;

        assert_eq!(ticks_at(t) as u128, t as u128 * 1_193_182 / 1_000_000_000);
    }

    #[test]
    fn bios_mode3_count0_interrupts_at_18_2_hz() {
        let mut b = bench();
        b.program(CH0_WORD_MODE3, 0);
        b.irq0_rose();

        // Loaded at pulse 1, high for 32768 pulses, low for 32768.
        assert_eq!(b.next_event_tick(), Some(1 + 32768));
        b.at(1 + 32768);
        assert!(!b.irq0_high());
        assert_eq!(b.next_event_tick(), Some(1 + 65536));
        b.at(1 + 65536);
        assert!(b.irq0_rose());

        let period = time_of_tick(1 + 65536) - time_of_tick(1);
        let millihertz = 1_000_000_000_000 / period;
        assert_eq!(millihertz, 18_206, "18.2065 Hz");
    }

    #[test]
    fn linux_mode2_latch_raises_irq0_once_per_period() {
        let mut b = bench();
        let latch = ((CLOCK_HZ + 500) / 1000) as u16; // HZ = 1000
        b.program(CH0_WORD_MODE2, latch);
        assert!(b.irq0_high(), "mode 2 starts with OUT high");
        b.irq0_rose();

        // OUT low for one pulse when the count reaches 1.
        assert_eq!(b.next_event_tick(), Some(latch as u64));
        b.at(latch as u64);
        assert!(!b.irq0_high());
        assert_eq!(b.next_event_tick(), Some(1 + latch as u64));
        b.at(1 + latch as u64);
        assert!(b.irq0_rose());
        assert_eq!(b.next_event_tick(), Some(2 * latch as u64));
    }

    #[test]
    fn mode2_large_step_still_shows_the_pic_an_edge() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 100);
        b.irq0_rose();

        b.at(1 + 10 * 100 + 50);

        assert!(b.irq0_rose(), "ten periods passed");
        assert!(b.irq0_high());
    }

    #[test]
    fn mode2_step_landing_on_the_low_pulse_still_leaves_an_edge() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 100);
        b.irq0_rose();

        b.at(1 + 3 * 100 - 1);

        assert!(!b.irq0_high());
        assert!(b.irq0_rose(), "two periods ended in between");
    }

    #[test]
    fn mode2_step_within_one_period_has_no_edge() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 100);
        b.irq0_rose();

        b.at(90);

        assert!(!b.irq0_rose());
    }

    #[test]
    fn mode2_counter_counts_n_down_to_1_then_reloads() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 1000);

        assert_eq!(b.at(1).read_count(CH0), 1000);
        assert_eq!(b.at(1 + 999).read_count(CH0), 1);
        assert_eq!(b.at(1 + 1000).read_count(CH0), 1000);
        assert_eq!(b.at(1 + 1001).read_count(CH0), 999);
    }

    #[test]
    fn latched_count_holds_while_the_counter_runs() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 1000);
        b.at(1 + 100);

        b.outb(OFFSET_CONTROL, 0x00); // latch counter 0
        b.at(1 + 300);

        assert_eq!(b.read_count(CH0), 900);
        assert_eq!(b.read_count(CH0), 700, "latch released after both bytes");
    }

    #[test]
    fn second_latch_command_before_reading_is_ignored() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 1000);
        b.at(1 + 100);
        b.outb(OFFSET_CONTROL, 0x00);
        b.at(1 + 200);

        b.outb(OFFSET_CONTROL, 0x00);

        assert_eq!(b.read_count(CH0), 900);
    }

    #[test]
    fn word_reads_alternate_low_then_high_byte() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 0x1234);
        b.at(1 + 0x34); // count now 0x1200

        let lo = b.inb(CH0);
        b.at(1 + 0x35); // count now 0x11ff
        let hi = b.inb(CH0);

        assert_eq!(
            (lo, hi),
            (0x00, 0x11),
            "unlatched bytes come from the live count"
        );
    }

    #[test]
    fn lsb_only_access_writes_and_reads_the_low_byte() {
        let mut b = bench();
        b.outb(OFFSET_CONTROL, 0x14); // counter 0, LSB only, mode 2
        b.outb(CH0, 0x50);
        b.at(1 + 0x10);

        assert_eq!(b.inb(CH0), 0x40);
        assert_eq!(b.inb(CH0), 0x40, "no flip-flop in LSB mode");
    }

    #[test]
    fn msb_only_access_writes_and_reads_the_high_byte() {
        let mut b = bench();
        b.outb(OFFSET_CONTROL, 0x24); // counter 0, MSB only, mode 2
        b.outb(CH0, 0x02); // count 0x200

        b.at(1 + 0x100);

        assert_eq!(b.inb(CH0), 0x01);
        assert_eq!(b.next_event_tick(), Some(0x200), "low pulse at count 1");
    }

    #[test]
    fn read_back_latches_status_then_count() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 1000);
        b.at(1 + 10);

        b.outb(OFFSET_CONTROL, 0xc2); // read-back: count and status, counter 0
        b.at(1 + 500);

        // OUTPUT=1, NULL COUNT=0, RW=3, mode 2, binary.
        assert_eq!(b.inb(CH0), 0xb4);
        assert_eq!(b.read_count(CH0), 990);
    }

    #[test]
    fn read_back_status_shows_null_count_until_the_count_is_loaded() {
        let mut b = bench();
        b.at(5);
        b.program(CH0_WORD_MODE0, 100);

        b.outb(OFFSET_CONTROL, 0xe2); // status only, counter 0
        let before_load = b.inb(CH0);
        b.at(6);
        b.outb(OFFSET_CONTROL, 0xe2);
        let after_load = b.inb(CH0);

        assert_eq!(before_load, STATUS_NULL_COUNT | 0x30);
        assert_eq!(after_load, 0x30, "OUT low in mode 0, count loaded");
    }

    #[test]
    fn read_back_latches_counts_of_several_counters() {
        let mut b = bench();
        b.program(0x74, 3000); // counter 1, mode 2
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);
        b.program(CH2_WORD_MODE2, 2000);
        b.program(CH0_WORD_MODE2, 1000);
        b.at(1 + 100);

        b.outb(OFFSET_CONTROL, 0xde); // counts only, counters 0, 1, 2
        b.at(1 + 400);

        assert_eq!(b.read_count(0), 900);
        assert_eq!(b.read_count(1), 2900);
        assert_eq!(b.read_count(2), 1900);
    }

    #[test]
    fn status_reports_mode_6_as_programmed_and_runs_it_as_mode_2() {
        let mut b = bench();
        b.program(0x3c, 10); // counter 0, word, mode 6

        b.outb(OFFSET_CONTROL, 0xe2);

        assert_eq!(b.inb(CH0) & 0x0e, 6 << 1);
        assert_eq!(b.next_event_tick(), Some(10), "low pulse at count 1");
    }

    #[test]
    fn mode7_runs_as_a_square_wave() {
        let mut b = bench();
        b.program(0x3e, 10); // counter 0, word, mode 7

        assert_eq!(b.next_event_tick(), Some(1 + 5));
    }

    #[test]
    fn bcd_counter_counts_in_decimal() {
        let mut b = bench();
        b.program(CH0_WORD_MODE0 | CW_BCD, 0x1234);

        b.at(1 + 35);

        assert_eq!(b.read_count(CH0), 0x1199);
    }

    #[test]
    fn bcd_count_0_is_10000() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2 | CW_BCD, 0);

        b.at(2);

        assert_eq!(b.read_count(CH0), 0x9999);
        assert_eq!(b.next_event_tick(), Some(10_000), "low pulse at count 1");
    }

    #[test]
    fn binary_count_0_is_65536() {
        let mut b = bench();
        b.program(CH0_WORD_MODE0, 0);

        assert_eq!(b.at(1).read_count(CH0), 0);
        assert_eq!(b.at(2).read_count(CH0), 0xffff);
        assert_eq!(b.next_event_tick(), Some(1 + 65536));
    }

    #[test]
    fn mode0_out_rises_n_plus_1_pulses_after_the_write() {
        let mut b = bench();
        b.at(10);
        b.program(CH0_WORD_MODE0, 100);
        assert!(!b.irq0_high());

        assert_eq!(b.next_event_tick(), Some(10 + 101));
        b.at(10 + 100);
        assert!(!b.irq0_high());
        b.at(10 + 101);
        assert!(b.irq0_rose());
        assert_eq!(b.next_event_tick(), None, "OUT stays high");
    }

    #[test]
    fn mode0_counter_wraps_after_terminal_count() {
        let mut b = bench();
        b.program(CH0_WORD_MODE0, 100);

        b.at(1 + 101);

        assert_eq!(b.read_count(CH0), 0xffff);
        assert!(b.irq0_high());
    }

    #[test]
    fn mode0_first_byte_of_a_new_count_stops_counting_until_the_second() {
        let mut b = bench();
        b.program(CH0_WORD_MODE0, 100);
        b.at(1 + 50);

        b.outb(CH0, 0x20); // low byte of 0x0020
        b.at(1 + 80);
        let frozen = b.read_count(CH0);
        b.outb(CH0, 0x00);

        assert_eq!(frozen, 50);
        assert_eq!(b.next_event_tick(), Some(81 + 1 + 0x20));
    }

    #[test]
    fn mode0_control_word_sets_out_low_and_stops_counting() {
        let mut b = bench();
        b.program(CH0_WORD_MODE0, 10);
        b.at(20);
        assert!(b.irq0_high());

        b.outb(OFFSET_CONTROL, CH0_WORD_MODE0);

        assert!(!b.irq0_high());
        assert_eq!(b.next_event_tick(), None, "no count written yet");
    }

    #[test]
    fn mode4_strobes_out_low_for_one_pulse_at_terminal_count() {
        let mut b = bench();
        b.program(CH0_WORD_MODE4, 10);
        b.irq0_rose();

        assert_eq!(b.next_event_tick(), Some(1 + 10));
        b.at(1 + 10);
        assert!(!b.irq0_high());
        b.at(1 + 11);
        assert!(b.irq0_rose());
        assert_eq!(b.next_event_tick(), None, "one strobe per count");
    }

    #[test]
    fn mode3_odd_count_is_high_one_pulse_longer_than_low() {
        let mut b = bench();
        b.program(CH0_WORD_MODE3, 5);

        assert_eq!(b.next_event_tick(), Some(1 + 3));
        b.at(1 + 3);
        assert_eq!(b.next_event_tick(), Some(1 + 5));
    }

    #[test]
    fn mode3_odd_count_counts_n_minus_1_by_twos() {
        let mut b = bench();
        b.program(CH0_WORD_MODE3, 5);

        assert_eq!(b.at(1).read_count(CH0), 4);
        assert_eq!(b.at(2).read_count(CH0), 2);
        assert_eq!(b.at(3).read_count(CH0), 0);
        assert_eq!(b.at(4).read_count(CH0), 4, "low half-cycle");
        assert_eq!(b.at(5).read_count(CH0), 2);
        assert_eq!(b.at(6).read_count(CH0), 4, "high again");
    }

    #[test]
    fn mode3_even_count_counts_by_twos() {
        let mut b = bench();
        b.program(CH0_WORD_MODE3, 6);

        assert_eq!(b.at(1).read_count(CH0), 6);
        assert_eq!(b.at(3).read_count(CH0), 2);
        assert_eq!(b.at(4).read_count(CH0), 6);
        assert!(!b.irq0_high());
    }

    #[test]
    fn mode3_new_count_takes_effect_at_the_end_of_the_half_cycle() {
        let mut b = bench();
        b.program(CH0_WORD_MODE3, 100);
        b.at(1 + 10);

        b.outb(CH0, 20);
        b.outb(CH0, 0);

        assert_eq!(
            b.next_event_tick(),
            Some(1 + 50),
            "this half-cycle ends as before"
        );
        b.at(1 + 50);
        assert!(!b.irq0_high());
        assert_eq!(b.next_event_tick(), Some(1 + 50 + 10), "then halves of 10");
        b.at(1 + 60);
        assert_eq!(b.next_event_tick(), Some(1 + 70));
    }

    #[test]
    fn mode2_new_count_takes_effect_at_the_end_of_the_period() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 100);
        b.at(1 + 10);

        b.outb(CH0, 30);
        b.outb(CH0, 0);
        b.outb(OFFSET_CONTROL, 0xe2);
        let null_count = b.inb(CH0) & STATUS_NULL_COUNT;

        assert_ne!(null_count, 0, "the new count waits in the count register");
        assert_eq!(b.next_event_tick(), Some(100));
        b.at(1 + 100);
        assert_eq!(b.read_count(CH0), 30);
        assert_eq!(b.next_event_tick(), Some(1 + 100 + 29));
    }

    #[test]
    fn linux_tsc_calibration_polls_out2_in_port_b() {
        let mut b = bench();
        let latch: u16 = 11932; // 10 ms
        let port_b = b.inb(OFFSET_PORT_B);
        b.outb(OFFSET_PORT_B, (port_b & !PORT_B_SPEAKER) | PORT_B_GATE2);
        b.program(CH2_WORD_MODE0, latch);

        assert!(!b.at(latch as u64).out2());
        assert!(b.at(latch as u64 + 1).out2());
        assert_eq!(b.next_event_tick(), None, "counter 2 is not IRQ 0");
    }

    #[test]
    fn gate2_low_pauses_mode0_counting() {
        let mut b = bench();
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);
        b.program(CH2_WORD_MODE0, 100);
        b.at(1 + 40);

        b.outb(OFFSET_PORT_B, 0);
        b.at(1 + 90);
        let paused = b.read_count(CH2);
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);

        assert_eq!(paused, 60);
        assert!(!b.at(1 + 90 + 59).out2());
        assert!(
            b.at(1 + 90 + 60).out2(),
            "terminal count 60 pulses after resuming"
        );
    }

    #[test]
    fn gate2_mode1_one_shot_starts_on_the_rising_edge() {
        let mut b = bench();
        b.program(CH2_WORD_MODE1, 5);
        b.at(10);
        assert!(b.out2(), "no trigger while the gate is low");

        b.outb(OFFSET_PORT_B, PORT_B_GATE2);

        assert!(b.out2(), "OUT falls on the pulse after the trigger");
        assert!(!b.at(11).out2());
        assert!(!b.at(15).out2());
        assert!(b.at(16).out2());
    }

    #[test]
    fn gate2_mode1_retrigger_restarts_the_pulse() {
        let mut b = bench();
        b.program(CH2_WORD_MODE1, 5);
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);
        b.at(13);

        b.outb(OFFSET_PORT_B, 0);
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);

        assert!(!b.at(16).out2(), "first one-shot would have ended here");
        assert!(b.at(14 + 5).out2());
    }

    #[test]
    fn gate2_low_forces_mode2_out_high_and_rising_reloads() {
        let mut b = bench();
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);
        b.program(CH2_WORD_MODE2, 10);
        b.at(1 + 9);
        assert!(!b.out2());

        b.outb(OFFSET_PORT_B, 0);
        assert!(b.out2(), "gate low sets OUT high at once");
        b.at(100);
        assert_eq!(b.read_count(CH2), 1, "counting stopped");
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);

        assert_eq!(b.at(101).read_count(CH2), 10, "reloaded on the next pulse");
        assert!(!b.at(101 + 9).out2());
    }

    #[test]
    fn gate2_mode3_low_forces_out_high_and_rising_restarts_the_wave() {
        let mut b = bench();
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);
        b.program(CH2_WORD_MODE3, 10);
        b.at(1 + 7);
        assert!(!b.out2());

        b.outb(OFFSET_PORT_B, 0);
        assert!(b.out2());
        b.at(50);
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);

        assert!(b.at(51 + 4).out2());
        assert!(!b.at(51 + 5).out2());
    }

    #[test]
    fn gate2_mode2_waits_for_the_gate_before_loading() {
        let mut b = bench();
        b.program(CH2_WORD_MODE2, 10);
        b.at(30);

        b.outb(OFFSET_PORT_B, PORT_B_GATE2);

        assert_eq!(b.at(31).read_count(CH2), 10);
    }

    #[test]
    fn gate2_mode5_strobes_n_pulses_after_the_trigger() {
        let mut b = bench();
        b.program(CH2_WORD_MODE5, 8);
        b.at(20);

        b.outb(OFFSET_PORT_B, PORT_B_GATE2);

        assert!(b.at(21 + 7).out2());
        assert!(!b.at(21 + 8).out2());
        assert!(b.at(21 + 9).out2());
    }

    #[test]
    fn port_b_reads_gate_speaker_and_nothing_else() {
        let mut b = bench();

        b.outb(OFFSET_PORT_B, 0xff);

        // OUT2 high: mode 0 never programmed reads low, refresh low at t=0.
        assert_eq!(b.inb(OFFSET_PORT_B), PORT_B_GATE2 | PORT_B_SPEAKER);
    }

    #[test]
    fn port_b_refresh_bit_toggles_every_15085_ns() {
        let mut b = bench();

        b.now.set(REFRESH_TOGGLE_NS - 1);
        let before = b.inb(OFFSET_PORT_B) & PORT_B_REFRESH;
        b.now.set(REFRESH_TOGGLE_NS);
        let after = b.inb(OFFSET_PORT_B) & PORT_B_REFRESH;
        b.now.set(2 * REFRESH_TOGGLE_NS);
        let again = b.inb(OFFSET_PORT_B) & PORT_B_REFRESH;

        assert_eq!((before, after, again), (0, PORT_B_REFRESH, 0));
    }

    #[test]
    fn odd_accesses_are_ignored_without_panicking() {
        let mut b = bench();

        b.pit.write(9, 4, 0xffff_ffff);
        b.pit.write(OFFSET_CONTROL, 4, 0xffff_ffff);
        b.pit.write(OFFSET_PORT_B, 2, 0x0000);

        assert_eq!(b.pit.read(OFFSET_CONTROL, 1), 0xff);
        assert_eq!(b.pit.read(7, 2), 0xffff);
        assert_eq!(b.pit.read(OFFSET_PORT_B, 4) >> 8, 0x00ff_ffff);
    }

    #[test]
    fn word_port_read_spans_counters_0_and_1() {
        let mut b = bench();
        b.outb(OFFSET_CONTROL, 0x14); // counter 0, LSB, mode 2
        b.outb(CH0, 0x40);
        b.outb(OFFSET_CONTROL, 0x54); // counter 1, LSB, mode 2
        b.outb(1, 0x80);
        b.at(1);

        assert_eq!(b.pit.read(CH0, 2), 0x8040);
    }

    #[test]
    fn illegal_count_1_in_mode2_leaves_out_high() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 1);

        b.at(100);

        assert!(b.irq0_high());
        assert_eq!(b.next_event_tick(), None);
    }

    #[test]
    fn mode3_large_step_into_the_low_half_leaves_an_edge() {
        let mut b = bench();
        b.program(CH0_WORD_MODE3, 100);
        b.irq0_rose();

        b.at(1 + 5 * 100 + 70);

        assert!(!b.irq0_high());
        assert!(b.irq0_rose());
    }

    #[test]
    fn next_event_after_a_large_step_counts_from_the_step() {
        let mut b = bench();
        b.program(CH0_WORD_MODE2, 100);

        b.at(1 + 7 * 100 + 20);

        assert_eq!(b.next_event_tick(), Some(1 + 7 * 100 + 99));
    }

    #[test]
    fn mode4_new_count_restarts_the_strobe() {
        let mut b = bench();
        b.program(CH0_WORD_MODE4, 100);
        b.at(50);

        b.program_count_only(CH0, 10);

        assert_eq!(b.next_event_tick(), Some(51 + 10));
    }

    #[test]
    fn mode0_lsb_only_write_reloads_on_the_next_pulse() {
        let mut b = bench();
        b.outb(OFFSET_CONTROL, 0x10); // counter 0, LSB only, mode 0
        b.outb(CH0, 100);
        b.at(1 + 101);
        assert!(b.irq0_high());

        b.outb(CH0, 20);

        assert!(!b.irq0_high(), "a new count sets OUT low");
        assert_eq!(
            b.next_event_tick(),
            Some(102 + 1 + 20),
            "N+1 pulses after the write"
        );
    }

    #[test]
    fn mode1_new_count_waits_for_the_next_trigger() {
        let mut b = bench();
        b.program(CH2_WORD_MODE1, 5);
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);
        b.at(3);

        b.program_count_only(CH2, 50);

        assert!(b.at(6).out2(), "the running one-shot keeps its count");
        b.outb(OFFSET_PORT_B, 0);
        b.outb(OFFSET_PORT_B, PORT_B_GATE2);
        assert!(!b.at(7 + 49).out2());
        assert!(b.at(7 + 50).out2());
    }

    /// `Run::next_change` against OUT computed pulse by pulse, for every
    /// mode and small counts (the failure names mode, count and pulse).
    #[test]
    fn next_change_agrees_with_out_pulse_by_pulse() {
        for mode in 0..=5u8 {
            for n in 1..=7u32 {
                for start_low in [false, true] {
                    let mut run = Run::new(3, n, mode != 0, 0);
                    run.start_low = start_low;
                    for t in 0..40u64 {
                        let expected = (t + 1..60).find(|&u| run.out(mode, u) != run.out(mode, t));
                        assert_eq!(
                            run.next_change(mode, t),
                            expected,
                            "mode {mode} n {n} start_low {start_low} pulse {t}"
                        );
                    }
                }
            }
        }
    }
}
