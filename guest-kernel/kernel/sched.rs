//! The scheduler (Linux 2.4's `kernel/sched.c`, with its epochs).
//!
//! **Classes.** SCHED_FIFO and SCHED_RR tasks have a fixed priority 1..99
//! and always win over SCHED_OTHER ones (goodness 1000 + priority).
//! SCHED_FIFO runs until it blocks or yields; SCHED_RR gets a quantum and
//! goes to the back of its priority when it expires. SCHED_OTHER tasks
//! share the CPU by quanta: each has a `counter` of ticks left; goodness
//! is `counter + 20 - nice`, 0 once the counter is spent. When every
//! runnable SCHED_OTHER task has spent its quantum an *epoch* ends: every
//! task's counter becomes `counter / 2 + quantum(nice)`, so sleepers keep
//! half their unused time as a bonus. The quantum is `(20 - nice) / 2`
//! ticks: 100 ms at nice 0 with HZ = 100, 200 ms at -20, 10 ms at 19.
//! Equal goodness goes to the task that has waited longest (`seq`).
//!
//! **Preemption model.** The timer tick (a top half, on an IST stack) only
//! charges the tick and sets `need_resched`; it never switches. Tasks
//! switch only on their own kernel stack, at safe points:
//! - on the way back to user mode ([`exit_to_user_mode`]), so user code is
//!   preempted at the next tick after its quantum ends or a more
//!   important task wakes;
//! - when a task sleeps ([`crate::kernel::wait::WaitQueue`]) or yields;
//! - at explicit preemption points in long kernel loops ([`cond_resched`]:
//!   fork's page copying, exec's loading, big reads and writes).
//!
//! The idle task (PID 0) runs `hlt` when nothing else can run.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::arch::x86_64::cpu;
use crate::arch::x86_64::entry::{__switch_to_asm, TrapFrame};
use crate::kernel::softirq;
use crate::kernel::task::{self, Task, TaskState, current, policy};

static NEED_RESCHED: AtomicBool = AtomicBool::new(false);
static SEQ: AtomicU64 = AtomicU64::new(1);
/// Context switches so far (`/proc/stat` ctxt).
static CONTEXT_SWITCHES: AtomicU64 = AtomicU64::new(0);

/// MSR_FS_BASE.
const MSR_FS_BASE: u32 = 0xC000_0100;

/// Asks for a reschedule at the next safe point.
pub fn set_need_resched() {
    NEED_RESCHED.store(true, Ordering::Relaxed);
}

pub fn need_resched() -> bool {
    NEED_RESCHED.load(Ordering::Relaxed)
}

pub fn context_switches() -> u64 {
    CONTEXT_SWITCHES.load(Ordering::Relaxed)
}

/// A new queue position: the back of the line.
pub fn next_seq() -> u64 {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// Ticks in a SCHED_OTHER quantum at `nice` (100 ms at nice 0).
pub fn nice_to_ticks(nice: i32) -> i64 {
    (i64::from(20 - nice) / 2).max(1)
}

/// Ticks in a SCHED_RR quantum.
pub const RR_TIMESLICE: i64 = 10;

/// How much `t` wants the CPU (Linux 2.4's `goodness`): -1 never, 0 has
/// spent its quantum, 1000+ real time.
fn goodness(t: &Task) -> i64 {
    if t.is_idle() {
        return -1;
    }
    if t.is_realtime() {
        return 1000 + i64::from(t.rt_priority);
    }
    if t.counter <= 0 {
        return 0;
    }
    let mut w = t.counter + i64::from(20 - t.nice);
    if t.policy == policy::SCHED_IDLE || t.policy == policy::SCHED_BATCH {
        w = w.min(1);
    }
    w
}

/// Picks the next task: the best goodness among the runnable, else idle.
fn pick_next() -> *mut Task {
    loop {
        let mut best: Option<(*mut Task, i64, u64)> = None;
        let mut idle = core::ptr::null_mut();
        for p in task::all() {
            // SAFETY: table entries are live; interrupts are off.
            let t = unsafe { &*p };
            if t.is_idle() {
                idle = p;
                continue;
            }
            if t.state != TaskState::Running {
                continue;
            }
            let g = goodness(t);
            let better = match best {
                None => true,
                Some((_, bg, bs)) => g > bg || (g == bg && t.seq < bs),
            };
            if better {
                best = Some((p, g, t.seq));
            }
        }
        match best {
            None => return idle,
            Some((_, 0, _)) => {
                // A new epoch: recompute every quantum.
                task::for_each(|t| {
                    if !t.is_realtime() && !t.is_idle() {
                        t.counter = t.counter / 2 + nice_to_ticks(t.nice);
                    }
                });
            }
            Some((p, _, _)) => return p,
        }
    }
}

/// Gives the CPU to the best runnable task (maybe the caller again).
/// Task context only, never in an interrupt handler.
pub fn schedule() {
    let irq = cpu::local_irq_save();
    NEED_RESCHED.store(false, Ordering::Relaxed);
    let prev = current() as *mut Task;
    let next = pick_next();
    if next != prev && !next.is_null() {
        // SAFETY: both are live tasks; interrupts are off.
        unsafe { context_switch(&mut *prev, &mut *next) };
    }
    cpu::local_irq_restore(irq);
}

/// Switches address space, kernel stack, FS base and registers.
///
/// # Safety
/// Interrupts off; `next` runnable with a valid saved `ksp`.
unsafe fn context_switch(prev: &mut Task, next: &mut Task) {
    CONTEXT_SWITCHES.fetch_add(1, Ordering::Relaxed);
    if prev.state == TaskState::Running {
        prev.nivcsw += 1;
    } else {
        prev.nvcsw += 1;
    }
    let cr3 = match &next.mm {
        Some(mm) => mm.pml4(),
        None => crate::mm::mmap::kernel_pml4(),
    };
    // SAFETY: every address space maps the kernel's upper half the same
    // way, so the switch does not pull the code or stack from under us;
    // the stack top and FS base belong to `next`.
    unsafe {
        if cpu::read_cr3() != cr3 {
            cpu::write_cr3(cr3);
        }
        crate::arch::x86_64::tss::set_rsp0(next.kstack_top);
        cpu::wrmsr(MSR_FS_BASE, next.fs_base);
        crate::kernel::trace::context_switch(prev.pid, next.pid);
        task::set_current(next);
        __switch_to_asm(&mut prev.ksp, next.ksp);
    }
}

/// The first thing a new task runs (from `ret_from_fork`): the switch
/// that started it left interrupts off; the common exit path takes it
/// from here to user mode.
pub extern "C" fn schedule_tail(frame: &mut TrapFrame) {
    exit_to_user_mode(frame);
}

/// Wakes `t` if it sleeps: runnable at the back of the line, and a
/// reschedule if it beats the running task.
pub fn wake_up_process(t: &mut Task) {
    let irq = cpu::local_irq_save();
    if matches!(
        t.state,
        TaskState::Interruptible | TaskState::Uninterruptible
    ) {
        t.state = TaskState::Running;
        t.wait_on = core::ptr::null();
        t.wake_at = 0;
        t.seq = next_seq();
        let cur = current();
        if cur.is_idle() || goodness(t) > goodness(cur) {
            set_need_resched();
        }
    }
    cpu::local_irq_restore(irq);
}

/// The tick's share (called from the timer top half): charge the running
/// task and end its quantum when it is spent.
pub fn scheduler_tick(user: bool) {
    if !task::tasks_ready() {
        return;
    }
    let t = current();
    if t.is_idle() {
        return;
    }
    if user {
        t.utime += 1;
    } else {
        t.stime += 1;
    }
    match t.policy {
        policy::SCHED_FIFO => {}
        policy::SCHED_RR => {
            t.counter -= 1;
            if t.counter <= 0 {
                t.counter = RR_TIMESLICE;
                t.seq = next_seq();
                set_need_resched();
            }
        }
        _ => {
            t.counter -= 1;
            if t.counter <= 0 {
                t.counter = 0;
                t.seq = next_seq();
                set_need_resched();
            }
        }
    }
}

/// The timer softirq's share: wake tasks whose sleep timeout has passed.
pub fn wake_timeouts() {
    let now = crate::kernel::time::jiffies();
    task::for_each(|t| {
        if t.wake_at != 0 && t.wake_at <= now {
            wake_up_process(t);
        }
    });
}

/// `sched_yield`: to the back of the line.
pub fn yield_now() {
    let t = current();
    t.seq = next_seq();
    if !t.is_realtime() && t.counter > 0 {
        // Linux 2.4 gave up the rest of the quantum's advantage.
        t.counter = t.counter.min(1);
    }
    schedule();
}

/// An explicit preemption point in a long kernel loop.
pub fn cond_resched() {
    if need_resched() && task::tasks_ready() && !softirq::in_interrupt() {
        schedule();
    }
}

/// The way back to user mode: bottom halves, a pending reschedule,
/// signals. Returns with interrupts off, ready for `iretq`.
pub fn exit_to_user_mode(frame: &mut TrapFrame) {
    loop {
        cpu::local_irq_enable();
        softirq::do_softirq();
        if need_resched() {
            schedule();
            continue;
        }
        if crate::kernel::signal::has_deliverable() {
            crate::kernel::signal::do_signal(frame);
            continue;
        }
        cpu::local_irq_disable();
        if softirq::softirq_pending() || need_resched() || crate::kernel::signal::has_deliverable()
        {
            continue;
        }
        return;
    }
}

/// The idle loop: bottom halves, other tasks, else halt until the next
/// interrupt.
pub fn cpu_idle() -> ! {
    loop {
        softirq::do_softirq();
        if need_resched() {
            schedule();
            continue;
        }
        cpu::local_irq_disable();
        if softirq::softirq_pending() || need_resched() {
            cpu::local_irq_enable();
        } else {
            cpu::safe_halt();
        }
    }
}
