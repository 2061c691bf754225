//! Creating processes (Linux's `kernel/fork.c`, `copy_thread`).
//!
//! A task's kernel stack, from the top: the [`TrapFrame`] of its user
//! registers, the 512-byte FXSAVE area of its user SSE state (both as
//! `common_entry` leaves them), and, while it is switched out, the
//! callee-saved registers `__switch_to_asm` pops. A new task gets a copy
//! of its parent's frame (RAX = 0, fork's return in the child) and a
//! switch frame that "returns" to `ret_from_fork`, which leaves through
//! the common exit path straight to user mode.

use alloc::boxed::Box;

use crate::arch::x86_64::entry::{TrapFrame, ret_from_fork};
use crate::kernel::errno::{ENOMEM, KResult};
use crate::kernel::sched;
use crate::kernel::task::{self, KSTACK_ORDER, KSTACK_SIZE, Pid, Task, TaskState, current, pf};
use crate::mm::page_alloc;

/// `sizeof(TrapFrame)`.
const FRAME_SIZE: u64 = core::mem::size_of::<TrapFrame>() as u64;

/// The user frame at the top of a kernel stack.
pub fn frame_at(kstack_top: u64) -> *mut TrapFrame {
    (kstack_top - FRAME_SIZE) as *mut TrapFrame
}

/// The FXSAVE area below it (as `common_entry` aligns it).
pub fn fxsave_at(kstack_top: u64) -> *mut u8 {
    ((kstack_top - FRAME_SIZE - 512) & !15) as *mut u8
}

/// A task with a fresh kernel stack whose first switch enters user mode
/// with `frame` and the SSE image at `fx`.
fn new_task(pid: Pid, comm: &str, frame: &TrapFrame, fx: *const u8) -> KResult<Box<Task>> {
    let stack = page_alloc::alloc_pages(KSTACK_ORDER).ok_or(ENOMEM)?;
    let mut t = Box::new(Task::new(pid, comm));
    t.kstack = stack.to_virt() as u64;
    t.kstack_top = t.kstack + KSTACK_SIZE;
    let frame_ptr = frame_at(t.kstack_top);
    let fx_ptr = fxsave_at(t.kstack_top);
    // SAFETY: the new stack is ours alone; the frame, the FXSAVE area and
    // the switch frame below it all fit in its 16 KiB.
    unsafe {
        frame_ptr.write(*frame);
        core::ptr::copy_nonoverlapping(fx, fx_ptr, 512);
        let sw = (fx_ptr as u64 - 7 * 8) as *mut u64;
        // r15, r14, r13, r12, rbx (the frame, for ret_from_fork), rbp, ret
        let words = [
            0,
            0,
            0,
            0,
            frame_ptr as u64,
            0,
            ret_from_fork as *const () as u64,
        ];
        for (i, w) in words.iter().enumerate() {
            sw.add(i).write(*w);
        }
        t.ksp = sw as u64;
    }
    Ok(t)
}

/// `fork`: a copy of the current process, returning in the child with 0.
pub fn do_fork(frame: &TrapFrame) -> KResult<Pid> {
    let parent = current();
    let mm = match &parent.mm {
        Some(m) => Some(Box::new(m.duplicate()?)),
        None => None,
    };
    let pid = task::alloc_pid();
    let mut child_frame = *frame;
    child_frame.rax = 0;
    let mut child = new_task(
        pid,
        parent.comm(),
        &child_frame,
        fxsave_at(parent.kstack_top),
    )?;
    child.mm = mm;
    child.ppid = parent.pid;
    child.pgid = parent.pgid;
    child.sid = parent.sid;
    child.cwd = parent.cwd.clone();
    child.cred = parent.cred;
    child.umask = parent.umask;
    child.policy = parent.policy;
    child.rt_priority = parent.rt_priority;
    child.nice = parent.nice;
    child.files = parent.files.clone();
    child.signals.actions = parent.signals.actions;
    child.signals.blocked = parent.signals.blocked;
    child.fs_base = parent.fs_base;
    child.cmdline = parent.cmdline.clone();
    child.flags = pf::FORKNOEXEC;
    // Linux 2.4: the parent's remaining quantum is split with the child,
    // so forking does not create CPU time.
    if parent.is_realtime() {
        child.counter = sched::RR_TIMESLICE;
    } else {
        child.counter = (parent.counter + 1) / 2;
        parent.counter /= 2;
    }
    child.state = TaskState::Running;
    child.seq = sched::next_seq();
    task::insert(child);
    crate::kernel::trace::process_start(pid, parent.pid, parent.comm());
    Ok(pid)
}

/// Creates PID 1 with an empty frame, runnable once `exec` filled it.
pub fn create_init_task() -> KResult<&'static mut Task> {
    let pid = task::alloc_pid();
    let clean = crate::arch::x86_64::fpu::FpuState::new();
    let t = new_task(pid, "init", &TrapFrame::zeroed(), (&raw const clean).cast())?;
    let p = task::insert(t);
    // SAFETY: just inserted; lives until reaped (init never is).
    let t = unsafe { &mut *p };
    t.state = TaskState::Stopped; // not runnable until exec succeeds
    t.counter = sched::nice_to_ticks(0);
    Ok(t)
}

/// Starts a kernel thread (Linux's `kernel_thread`): a task with no user
/// address space whose first switch "returns" into `entry`, which must
/// enable interrupts and never return.
pub fn kernel_thread(comm: &str, entry: extern "C" fn() -> !) -> KResult<Pid> {
    let stack = page_alloc::alloc_pages(KSTACK_ORDER).ok_or(ENOMEM)?;
    let pid = task::alloc_pid();
    let mut t = Box::new(Task::new(pid, comm));
    t.kstack = stack.to_virt() as u64;
    t.kstack_top = t.kstack + KSTACK_SIZE;
    let fx_ptr = fxsave_at(t.kstack_top);
    // SAFETY: the new stack is ours alone. The switch frame (six
    // callee-saved registers, then the return address) sits one word
    // below the 16-aligned FXSAVE area, so `entry` starts with RSP = 8
    // (mod 16), as after a call.
    unsafe {
        let sw = (fx_ptr as u64 - 8 * 8) as *mut u64;
        let words = [0, 0, 0, 0, 0, 0, entry as *const () as u64, 0];
        for (i, w) in words.iter().enumerate() {
            sw.add(i).write(*w);
        }
        t.ksp = sw as u64;
    }
    t.ppid = 0;
    t.counter = sched::nice_to_ticks(0);
    t.state = TaskState::Running;
    t.seq = sched::next_seq();
    task::insert(t);
    Ok(pid)
}
