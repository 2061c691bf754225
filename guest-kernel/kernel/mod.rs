//! Core kernel services (Linux's `kernel/`).

/// printk: the kernel log, its levels, timestamps and ring buffer.
#[macro_use]
pub mod printk;
/// Error numbers and the kernel's result type.
pub mod errno;
/// Process exit and `wait4`.
pub mod exit;
/// Process creation: `fork`, the first process.
pub mod fork;
/// Console commands that show kernel state until a shell exists.
pub mod monitor;
/// Panics and the final halt (or exit, with `panic=exit`).
pub mod panic;
/// The scheduler: classes, epochs, preemption points, the idle loop.
pub mod sched;
/// Signals with their default actions.
pub mod signal;
/// Bottom halves: softirqs and tasklets, and the hard-IRQ nesting count.
pub mod softirq;
/// Spin locks with irqsave semantics, and a set-once cell.
pub mod sync;
/// The system-call table and the smaller calls.
pub mod sys;
/// Tasks: the per-task state, including the saved SSE registers.
pub mod task;
/// Time: jiffies at HZ, and nanoseconds since boot from the TSC.
pub mod time;
/// Annotations for the emulator's tracer (processes, switches, syscalls).
pub mod trace;
/// Wait queues: sleep until a condition holds.
pub mod wait;
