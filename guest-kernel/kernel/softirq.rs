//! Bottom halves: softirqs and tasklets (Linux's `kernel/softirq.c`).
//!
//! An interrupt handler is split in two. The *top half* runs in the
//! interrupt itself (IF = 0, on an IST stack, see `arch/x86_64/irq.rs`): it
//! talks to the device, moves data into a buffer and schedules the rest.
//! The *bottom half* runs later with interrupts ENABLED on the normal kernel
//! stack, never on an IST stack: [`do_softirq`] is called from the idle
//! loop, from wait loops ([`crate::kernel::wait::WaitQueue::wait_event`])
//! and, once user mode exists, on the return to user mode. It is never run
//! on the way out of an interrupt, because the IST stack the interrupt came
//! in on would be reused by the next interrupt while the bottom half still
//! runs on it.
//!
//! Softirqs are a small fixed set of vectors (numbered as Linux numbers
//! them); tasklets are queued callbacks run from [`TASKLET_SOFTIRQ`], each
//! at most once per schedule, as drivers want.

use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use crate::arch::x86_64::cpu;
use crate::kernel::sync::SpinLock;

pub const TIMER_SOFTIRQ: usize = 1;
pub const TASKLET_SOFTIRQ: usize = 6;
pub const NR_SOFTIRQS: usize = 10;

/// Names for `/proc/softirqs`, by number.
pub const SOFTIRQ_NAMES: [&str; NR_SOFTIRQS] = [
    "HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU",
];

/// Restarts within one `do_softirq` before leaving the rest for later
/// (Linux's MAX_SOFTIRQ_RESTART).
const MAX_SOFTIRQ_RESTART: usize = 10;

static PENDING: AtomicU32 = AtomicU32::new(0);
/// A softirq's handler (Linux's `softirq_action`).
pub type SoftirqAction = fn();

static HANDLERS: SpinLock<[Option<SoftirqAction>; NR_SOFTIRQS]> =
    SpinLock::new([None; NR_SOFTIRQS]);
static COUNTS: [AtomicUsize; NR_SOFTIRQS] = [const { AtomicUsize::new(0) }; NR_SOFTIRQS];
/// Hard-interrupt nesting depth (Linux's HARDIRQ part of preempt_count).
static HARDIRQ_COUNT: AtomicUsize = AtomicUsize::new(0);
/// Whether `do_softirq` is running (Linux's SOFTIRQ part).
static IN_SOFTIRQ: AtomicBool = AtomicBool::new(false);

/// Registers the handler for softirq `nr` (Linux's `open_softirq`).
pub fn open_softirq(nr: usize, action: SoftirqAction) {
    HANDLERS.lock()[nr] = Some(action);
}

/// Marks softirq `nr` pending; safe from a top half.
pub fn raise_softirq(nr: usize) {
    PENDING.fetch_or(1 << nr, Ordering::Release);
}

/// Whether any softirq is pending.
pub fn softirq_pending() -> bool {
    PENDING.load(Ordering::Acquire) != 0
}

/// How many times softirq `nr` has run.
pub fn softirq_count(nr: usize) -> usize {
    COUNTS[nr].load(Ordering::Relaxed)
}

/// Entered a top half (called by the interrupt dispatcher).
pub fn irq_enter() {
    HARDIRQ_COUNT.fetch_add(1, Ordering::Relaxed);
}

/// Left a top half. Unlike Linux, pending softirqs are NOT run here: we are
/// still on the interrupt's IST stack (see the module docs).
pub fn irq_exit() {
    HARDIRQ_COUNT.fetch_sub(1, Ordering::Relaxed);
}

/// Whether we are in a top half.
pub fn in_irq() -> bool {
    HARDIRQ_COUNT.load(Ordering::Relaxed) != 0
}

/// Whether we are in a top or bottom half (not in task context).
pub fn in_interrupt() -> bool {
    in_irq() || IN_SOFTIRQ.load(Ordering::Relaxed)
}

/// Runs the pending softirqs with interrupts enabled, on the caller's
/// stack. Does nothing inside a top half or a softirq (no nesting).
pub fn do_softirq() {
    if in_interrupt() || !softirq_pending() {
        return;
    }
    let irq_was_enabled = cpu::local_irq_save();
    IN_SOFTIRQ.store(true, Ordering::Relaxed);
    for _ in 0..MAX_SOFTIRQ_RESTART {
        let pending = PENDING.swap(0, Ordering::Acquire);
        if pending == 0 {
            break;
        }
        cpu::local_irq_enable();
        for (nr, count) in COUNTS.iter().enumerate() {
            if pending & (1 << nr) != 0 {
                count.fetch_add(1, Ordering::Relaxed);
                let action = HANDLERS.lock()[nr];
                if let Some(action) = action {
                    action();
                }
            }
        }
        cpu::local_irq_disable();
    }
    IN_SOFTIRQ.store(false, Ordering::Relaxed);
    cpu::local_irq_restore(irq_was_enabled);
}

/// A deferred callback a top half schedules (Linux's `tasklet_struct`).
/// Scheduling a tasklet that is already queued does nothing; one that is
/// running may be queued again and runs once more afterwards.
pub struct Tasklet {
    func: fn(),
    scheduled: AtomicBool,
    next: AtomicPtr<Tasklet>,
}

impl Tasklet {
    pub const fn new(func: fn()) -> Self {
        Tasklet {
            func,
            scheduled: AtomicBool::new(false),
            next: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

struct TaskletList {
    head: Option<&'static Tasklet>,
    tail: Option<&'static Tasklet>,
}

static TASKLET_VEC: SpinLock<TaskletList> = SpinLock::new(TaskletList {
    head: None,
    tail: None,
});

/// Queues `t` to run in the tasklet softirq; callable from a top half.
pub fn tasklet_schedule(t: &'static Tasklet) {
    if t.scheduled.swap(true, Ordering::AcqRel) {
        return;
    }
    let mut list = TASKLET_VEC.lock();
    t.next.store(ptr::null_mut(), Ordering::Relaxed);
    match list.tail {
        Some(tail) => tail
            .next
            .store(ptr::from_ref(t).cast_mut(), Ordering::Relaxed),
        None => list.head = Some(t),
    }
    list.tail = Some(t);
    drop(list);
    raise_softirq(TASKLET_SOFTIRQ);
}

/// The tasklet softirq: runs every queued tasklet in order.
fn tasklet_action() {
    let mut next = {
        let mut list = TASKLET_VEC.lock();
        list.tail = None;
        list.head.take()
    };
    while let Some(t) = next {
        let n = t.next.load(Ordering::Relaxed);
        // SAFETY: `next` only ever holds null or a `&'static Tasklet`.
        next = unsafe { n.as_ref() };
        t.scheduled.store(false, Ordering::Release);
        (t.func)();
    }
}

/// Registers the tasklet softirq.
pub fn softirq_init() {
    open_softirq(TASKLET_SOFTIRQ, tasklet_action);
}
