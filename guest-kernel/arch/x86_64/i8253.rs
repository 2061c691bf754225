//! The 8253/8254 programmable interval timer (Intel 82C54 datasheet, order
//! no. 231244: control word p. 7, modes p. 10-14). Linux's
//! `arch/x86/kernel/i8253.c` and the PIT part of `tsc.c`.
//!
//! Channel 0 interrupts on IRQ 0 HZ times a second (mode 2, rate
//! generator). Channel 2, whose gate and output appear on port 0x61, times
//! a 10 ms window once at boot to measure the TSC rate.

use super::cpu;
use super::io::{inb, outb};
use crate::kernel::time::{self, HZ};

const CHANNEL0: u16 = 0x40;
const CHANNEL2: u16 = 0x42;
const MODE_CMD: u16 = 0x43;
/// NMI status and control: bit 0 channel 2 gate, bit 1 speaker enable,
/// bit 5 channel 2 output.
const PORT_61: u16 = 0x61;

/// The PIT's input clock, Hz.
pub const PIT_TICK_RATE: u64 = 1_193_182;
/// The channel 0 divisor for HZ (Linux's LATCH).
pub const LATCH: u16 = ((PIT_TICK_RATE + HZ / 2) / HZ) as u16;

/// Starts channel 0 as the HZ tick.
pub fn init_tick() {
    // SAFETY: the PIT is ours. Control word 0x34: channel 0, lobyte/hibyte,
    // mode 2, binary.
    unsafe {
        outb(MODE_CMD, 0x34);
        outb(CHANNEL0, LATCH as u8);
        outb(CHANNEL0, (LATCH >> 8) as u8);
    }
}

/// The timer top half: one jiffy.
pub fn timer_interrupt() {
    time::tick();
    crate::kernel::softirq::raise_softirq(crate::kernel::softirq::TIMER_SOFTIRQ);
}

/// Measures the TSC rate in kHz against a 10 ms channel-2 countdown
/// (Linux's `pit_calibrate_tsc`), or `None` if channel 2's output never
/// rises.
pub fn calibrate_tsc() -> Option<u64> {
    const MS: u64 = 10;
    let count = (PIT_TICK_RATE * MS / 1000) as u16;
    // SAFETY: channel 2 and port 0x61 are ours; the speaker stays off.
    let (t0, t1) = unsafe {
        outb(PORT_61, (inb(PORT_61) & !0x02) | 0x01);
        // Channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count).
        outb(MODE_CMD, 0xB0);
        outb(CHANNEL2, count as u8);
        outb(CHANNEL2, (count >> 8) as u8);
        let t0 = cpu::rdtsc();
        let mut spins: u64 = 0;
        while inb(PORT_61) & 0x20 == 0 {
            spins += 1;
            if spins > 50_000_000 {
                return None;
            }
        }
        (t0, cpu::rdtsc())
    };
    Some((t1 - t0) / MS)
}
