//! Wait queues (Linux's `include/linux/wait.h`, `kernel/sched/wait.c`).
//!
//! A task waits by marking itself asleep (interruptible or not), noting
//! the queue in `Task::wait_on`, and calling the scheduler; `wake_up_all`
//! makes every task noted on the queue runnable again, and each re-checks
//! its condition. Bottom halves run in the loop first, in task context on
//! the task's stack with interrupts enabled. Every sleep also carries a
//! timeout (a deadline, or one second as a safety net), so a condition
//! that depends on time (a request's deadline) is re-checked.
//!
//! The idle task never sleeps (something must run): when it waits (at
//! boot, before init exists), it halts until the next interrupt instead
//! (`sti; hlt` is atomic, so a wake-up between the check and the halt is
//! not lost).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::x86_64::cpu;
use crate::kernel::task::{self, TaskState};
use crate::kernel::{sched, signal, softirq, time};

/// Tasks waiting for an event.
pub struct WaitQueue {
    wakeups: AtomicU64,
}

/// A wait interrupted by a signal (the caller returns `-EINTR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

impl WaitQueue {
    pub const fn new() -> Self {
        WaitQueue {
            wakeups: AtomicU64::new(0),
        }
    }

    /// Sleeps (uninterruptibly) until `cond()` returns true. Task context
    /// only, with interrupts enabled.
    pub fn wait_event(&self, cond: impl FnMut() -> bool) {
        let _ = self.sleep(cond, false, 0);
    }

    /// Sleeps until `cond()` holds or a signal arrives.
    pub fn wait_event_interruptible(&self, cond: impl FnMut() -> bool) -> Result<(), Interrupted> {
        self.sleep(cond, true, 0)
    }

    /// Sleeps until `cond()` holds, a signal arrives, or jiffy `deadline`
    /// (the timer wakes the task then; `cond` should test the time).
    pub fn wait_event_deadline(
        &self,
        cond: impl FnMut() -> bool,
        deadline: u64,
        interruptible: bool,
    ) -> Result<(), Interrupted> {
        self.sleep(cond, interruptible, deadline)
    }

    fn sleep(
        &self,
        mut cond: impl FnMut() -> bool,
        interruptible: bool,
        deadline: u64,
    ) -> Result<(), Interrupted> {
        debug_assert!(!softirq::in_irq(), "wait_event in a top half");
        let idle = !task::tasks_ready() || task::current().is_idle();
        loop {
            softirq::do_softirq();
            cpu::local_irq_disable();
            if cond() {
                cpu::local_irq_enable();
                return Ok(());
            }
            if interruptible && !idle && signal::signal_pending(task::current()) {
                cpu::local_irq_enable();
                return Err(Interrupted);
            }
            if softirq::softirq_pending() {
                cpu::local_irq_enable();
                continue;
            }
            if idle {
                cpu::safe_halt();
                continue;
            }
            let t = task::current();
            t.state = if interruptible {
                TaskState::Interruptible
            } else {
                TaskState::Uninterruptible
            };
            t.wait_on = self;
            t.wake_at = if deadline != 0 {
                deadline
            } else {
                time::jiffies() + time::HZ
            };
            sched::schedule();
            let t = task::current();
            t.state = TaskState::Running;
            t.wait_on = core::ptr::null();
            t.wake_at = 0;
            cpu::local_irq_enable();
        }
    }

    /// Wakes every task sleeping on this queue.
    pub fn wake_up_all(&self) {
        self.wakeups.fetch_add(1, Ordering::Relaxed);
        if !task::tasks_ready() {
            return;
        }
        let me: *const WaitQueue = self;
        task::for_each(|t| {
            if core::ptr::eq(t.wait_on, me) {
                sched::wake_up_process(t);
            }
        });
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}
