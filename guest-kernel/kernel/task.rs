//! Tasks (Linux's `struct task_struct`, much reduced).
//!
//! Only the boot task exists so far (PID 0, `swapper`, running the boot
//! sequence and then the idle loop). Each task owns an [`FpuState`]: the
//! kernel's Rust code uses SSE registers everywhere (the prebuilt `core`
//! does), so a context switch must save and restore them per task with
//! `fxsave`/`fxrstor` ([`switch_fpu`]); interrupts save them on entry
//! (`arch/x86_64/entry.rs`).

use crate::arch::x86_64::fpu::FpuState;
use crate::kernel::sync::SpinLock;

/// What the kernel keeps per task.
pub struct Task {
    pub pid: u32,
    pub comm: &'static str,
    /// The SSE registers while the task is switched out.
    pub fpu: FpuState,
}

impl Task {
    pub const fn new(pid: u32, comm: &'static str) -> Self {
        Task {
            pid,
            comm,
            fpu: FpuState::new(),
        }
    }
}

/// The boot task, later the idle task.
static INIT_TASK: SpinLock<Task> = SpinLock::new(Task::new(0, "swapper"));

/// The running task's PID and name, for the oops report.
pub fn current_ids() -> (u32, &'static str) {
    match INIT_TASK.try_lock() {
        Some(t) => (t.pid, t.comm),
        None => (0, "swapper"),
    }
}

/// The FPU half of a context switch: saves the outgoing task's SSE state
/// and loads the incoming one's (Linux's `switch_fpu_prepare/finish`).
pub fn switch_fpu(prev: &mut Task, next: &Task) {
    prev.fpu.save();
    next.fpu.restore();
}
