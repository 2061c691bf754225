//! Time: the jiffies tick and a nanosecond clock (Linux's
//! `kernel/time/`).
//!
//! The PIT interrupts HZ times a second; its top half counts [`jiffies`].
//! Finer time comes from the TSC, whose rate is measured against the PIT at
//! boot (`arch/x86_64/i8253.rs`); before that, the clock reads 0, as Linux's
//! early printk timestamps do.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::x86_64::cpu;
use crate::kernel::wait::WaitQueue;

/// Timer interrupts per second.
pub const HZ: u64 = 100;

static JIFFIES: AtomicU64 = AtomicU64::new(0);
static BOOT_TSC: AtomicU64 = AtomicU64::new(0);
static TSC_KHZ: AtomicU64 = AtomicU64::new(0);
/// Tasks sleeping until some jiffy.
static TIMER_WAIT: WaitQueue = WaitQueue::new();

/// Timer ticks since the PIT started.
pub fn jiffies() -> u64 {
    JIFFIES.load(Ordering::Relaxed)
}

/// One tick (the timer top half).
pub fn tick() {
    JIFFIES.fetch_add(1, Ordering::Relaxed);
}

/// Remembers the TSC at kernel entry: time zero.
pub fn mark_boot() {
    BOOT_TSC.store(cpu::rdtsc(), Ordering::Relaxed);
}

/// Sets the measured TSC rate.
pub fn set_tsc_khz(khz: u64) {
    TSC_KHZ.store(khz, Ordering::Relaxed);
}

/// The measured TSC rate, 0 before calibration.
pub fn tsc_khz() -> u64 {
    TSC_KHZ.load(Ordering::Relaxed)
}

/// Nanoseconds since kernel entry (0 before the TSC is calibrated).
pub fn uptime_ns() -> u64 {
    let khz = TSC_KHZ.load(Ordering::Relaxed);
    if khz == 0 {
        return 0;
    }
    let cycles = cpu::rdtsc().wrapping_sub(BOOT_TSC.load(Ordering::Relaxed));
    (u128::from(cycles) * 1_000_000 / u128::from(khz)) as u64
}

/// The timer softirq, the tick's bottom half: wakes sleepers (Linux also
/// runs the expired timer lists here).
pub fn run_timer_softirq() {
    crate::kernel::sched::wake_timeouts();
}

/// Sleeps for at least `ms` milliseconds, as Linux's `msleep`: whole ticks,
/// plus one so a partial first tick does not count. Task context with
/// interrupts enabled.
pub fn msleep(ms: u64) {
    let target = jiffies() + ms.div_ceil(1000 / HZ) + 1;
    let _ = TIMER_WAIT.wait_event_deadline(|| jiffies() >= target, target, false);
}

/// Seconds since the epoch at boot, read from the CMOS clock.
static BOOT_REALTIME: AtomicU64 = AtomicU64::new(0);

/// Reads the MC146818 real-time clock (BCD or binary, 24-hour assumed
/// unless the status says 12-hour) and remembers the wall time at boot.
pub fn read_persistent_clock() {
    use crate::arch::x86_64::io::{inb, outb};
    let rd = |reg: u8| {
        // SAFETY: the CMOS index/data ports; reading the clock registers
        // has no side effects (NMI stays enabled: bit 7 clear).
        unsafe {
            outb(0x70, reg);
            inb(0x71)
        }
    };
    // Wait for no update in progress (status A bit 7).
    for _ in 0..100_000 {
        if rd(0x0A) & 0x80 == 0 {
            break;
        }
    }
    let status_b = rd(0x0B);
    let bcd = status_b & 0x04 == 0;
    let conv = |v: u8| {
        if bcd {
            u64::from((v & 0x0f) + (v >> 4) * 10)
        } else {
            u64::from(v)
        }
    };
    let sec = conv(rd(0x00));
    let min = conv(rd(0x02));
    let mut hour = rd(0x04);
    let pm = hour & 0x80 != 0;
    hour &= 0x7f;
    let mut hour = conv(hour);
    if status_b & 0x02 == 0 && pm {
        hour = (hour % 12) + 12;
    }
    let day = conv(rd(0x07));
    let mon = conv(rd(0x08));
    let year = 2000 + conv(rd(0x09));
    let days = days_from_civil(year as i64, mon as i64, day as i64);
    let secs = days as u64 * 86400 + hour * 3600 + min * 60 + sec;
    let up = uptime_ns() / 1_000_000_000;
    BOOT_REALTIME.store(secs.saturating_sub(up), Ordering::Relaxed);
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Nanoseconds since the epoch (CLOCK_REALTIME).
pub fn realtime_ns() -> u64 {
    BOOT_REALTIME.load(Ordering::Relaxed) * 1_000_000_000 + uptime_ns()
}
