//! Wait queues (Linux's `include/linux/wait.h`).
//!
//! There is one task so far, so waiting means: run the pending bottom
//! halves, check the condition with interrupts off, and if it does not hold
//! halt until the next interrupt (`sti; hlt` is atomic, so a wake-up between
//! the check and the halt is not lost). Bottom halves run here, in task
//! context on the task's stack, with interrupts enabled. When a scheduler
//! arrives, `wait_event` puts the task to sleep and `wake_up_all` makes the
//! queue's sleepers runnable; callers do not change.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::x86_64::cpu;
use crate::kernel::softirq;

/// Tasks waiting for an event.
pub struct WaitQueue {
    wakeups: AtomicU64,
}

impl WaitQueue {
    pub const fn new() -> Self {
        WaitQueue {
            wakeups: AtomicU64::new(0),
        }
    }

    /// Sleeps until `cond()` returns true. Task context only, with
    /// interrupts enabled (else nothing could ever wake us).
    pub fn wait_event(&self, mut cond: impl FnMut() -> bool) {
        debug_assert!(!softirq::in_irq(), "wait_event in a top half");
        loop {
            softirq::do_softirq();
            cpu::local_irq_disable();
            if cond() {
                cpu::local_irq_enable();
                return;
            }
            if softirq::softirq_pending() {
                cpu::local_irq_enable();
                continue;
            }
            cpu::safe_halt();
        }
    }

    /// Wakes every waiter. Waiters re-check their condition after every
    /// interrupt anyway; this counts the wake-ups.
    pub fn wake_up_all(&self) {
        self.wakeups.fetch_add(1, Ordering::Relaxed);
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}
