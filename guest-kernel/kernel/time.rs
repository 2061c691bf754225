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
    TIMER_WAIT.wake_up_all();
}

/// Sleeps for at least `ms` milliseconds, as Linux's `msleep`: whole ticks,
/// plus one so a partial first tick does not count. Task context with
/// interrupts enabled.
pub fn msleep(ms: u64) {
    let target = jiffies() + ms.div_ceil(1000 / HZ) + 1;
    TIMER_WAIT.wait_event(|| jiffies() >= target);
}
