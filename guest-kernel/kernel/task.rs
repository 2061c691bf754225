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

/// Checks at boot that SSE state survives both paths that must keep it:
/// a context switch (per-task save/restore) and interrupts (whose entry
/// saves it). Call with interrupts enabled and the timer running.
pub fn fpu_selftest() {
    let mut a = Task::new(1, "fpu-a");
    let b = Task::new(2, "fpu-b");
    set_xmm0(0x1111_2222_3333_4444);
    switch_fpu(&mut a, &b); // a saved, b's clean state loaded
    assert_eq!(xmm0(), 0, "task b's xmm0 should be clean");
    a.fpu.restore();
    assert_eq!(
        xmm0(),
        0x1111_2222_3333_4444,
        "task a's xmm0 lost in the switch"
    );
    // Now across interrupts: the handlers run Rust code that uses XMM.
    // One asm block, so no compiler-generated code touches xmm0 between.
    let pattern: u64 = 0x5555_6666_7777_8888;
    let after: u64;
    // SAFETY: halts through three interrupts with xmm0 set; xmm0 and rcx
    // are declared clobbered.
    unsafe {
        core::arch::asm!(
            "movq xmm0, {p}",
            "mov ecx, 3",
            "2: sti",
            "hlt",
            "dec ecx",
            "jnz 2b",
            "movq {a}, xmm0",
            p = in(reg) pattern,
            a = lateout(reg) after,
            out("rcx") _,
            out("xmm0") _,
        )
    };
    assert_eq!(after, pattern, "xmm0 clobbered by an interrupt");
    pr_info!("x86/fpu: SSE state kept across a task switch and 3 interrupts");
}

fn set_xmm0(v: u64) {
    // SAFETY: xmm0 is caller-saved and nothing between here and the check
    // is Rust code that could reuse it (only `hlt` and interrupts).
    unsafe {
        core::arch::asm!("movq xmm0, {}", in(reg) v, options(nomem, nostack, preserves_flags))
    };
}

fn xmm0() -> u64 {
    let v: u64;
    // SAFETY: reading a register.
    unsafe {
        core::arch::asm!("movq {}, xmm0", out(reg) v, options(nomem, nostack, preserves_flags))
    };
    v
}

/// The FPU half of a context switch: saves the outgoing task's SSE state
/// and loads the incoming one's (Linux's `switch_fpu_prepare/finish`).
pub fn switch_fpu(prev: &mut Task, next: &Task) {
    prev.fpu.save();
    next.fpu.restore();
}
