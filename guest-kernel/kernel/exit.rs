//! Ending processes and reaping them (Linux's `kernel/exit.c`).
//!
//! An exiting task closes its files, drops its address space, hands its
//! children to init, becomes a ZOMBIE holding its `wait4` status, tells
//! its parent (SIGCHLD and a wake-up) and switches away for good. The
//! parent's `wait4` reaps it: adds its CPU times to the parent's
//! children's times and frees the task and its kernel stack.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::kernel::errno::{ECHILD, KResult};
use crate::kernel::sched;
use crate::kernel::signal::{self, SIGCHLD};
use crate::kernel::task::{self, Pid, Task, TaskState, current, pf};
use crate::kernel::wait::WaitQueue;

/// Parents waiting in `wait4`.
static CHILD_WAIT: WaitQueue = WaitQueue::new();
/// Bumped whenever a child changes state.
static CHILD_EVENTS: AtomicU64 = AtomicU64::new(0);

pub const WNOHANG: u32 = 1;
pub const WUNTRACED: u32 = 2;

/// Tells `t`'s parent it changed state.
pub fn notify_parent(t: &Task) {
    if let Some(parent) = task::find(t.ppid) {
        signal::send_signal(parent, SIGCHLD);
    }
    CHILD_EVENTS.fetch_add(1, Ordering::Relaxed);
    CHILD_WAIT.wake_up_all();
}

/// `exit`/`exit_group` with code `code`.
pub fn do_exit_code(code: i32) -> ! {
    do_exit((code & 0xff) << 8)
}

/// Death by signal `sig`. The 0x80 "core dumped" bit is never set: no
/// core files are written (as on Linux with a core size limit of 0).
pub fn do_exit_signal(sig: u32, core: bool) -> ! {
    let _ = core;
    current().flags |= pf::SIGNALED;
    do_exit(sig as i32)
}

/// Ends the current task with wait status `status`.
pub fn do_exit(status: i32) -> ! {
    let t = current();
    if t.pid == 1 {
        panic!("Attempted to kill init! exitcode=0x{:08x}", status);
    }
    t.flags |= pf::EXITING;
    t.files.close_all();
    if let Some(mm) = t.mm.take() {
        // SAFETY: the kernel's tables map everything the kernel uses.
        unsafe { crate::arch::x86_64::cpu::write_cr3(crate::mm::mmap::kernel_pml4()) };
        drop(mm);
    }
    let me = t.pid;
    let mut orphan_zombie = false;
    task::for_each(|c| {
        if c.ppid == me && !c.is_idle() {
            c.ppid = 1;
            orphan_zombie |= c.state == TaskState::Zombie;
        }
    });
    crate::arch::x86_64::cpu::local_irq_disable();
    t.exit_status = status;
    crate::kernel::trace::process_exit(me, status);
    t.state = TaskState::Zombie;
    notify_parent(t);
    if orphan_zombie && let Some(init) = task::find(1) {
        signal::send_signal(init, SIGCHLD);
    }
    loop {
        sched::schedule();
    }
}

/// What `wait4` found.
pub struct Reaped {
    pub pid: Pid,
    pub status: i32,
    pub utime: u64,
    pub stime: u64,
}

/// `wait4(pid, ..., options)`: `Ok(None)` for WNOHANG with nothing yet.
pub fn do_wait(pid: i64, options: u32) -> KResult<Option<Reaped>> {
    loop {
        let events = CHILD_EVENTS.load(Ordering::Relaxed);
        let me = current();
        let (my_pid, my_pgid) = (me.pid, me.pgid);
        let mut has_child = false;
        let mut zombie: Option<&mut Task> = None;
        task::for_each(|c| {
            if c.ppid != my_pid || c.is_idle() || c.state == TaskState::Dead {
                return;
            }
            let selected = match pid {
                -1 => true,
                0 => c.pgid == my_pgid,
                p if p > 0 => i64::from(c.pid) == p,
                p => i64::from(c.pgid) == -p,
            };
            if !selected {
                return;
            }
            has_child = true;
            if c.state == TaskState::Zombie && zombie.is_none() {
                // SAFETY: `c` is a live task; we only keep it until
                // `release` below, in this task.
                zombie = Some(unsafe { &mut *(c as *mut Task) });
            }
        });
        if let Some(z) = zombie {
            let r = Reaped {
                pid: z.pid,
                status: z.exit_status,
                utime: z.utime + z.cutime,
                stime: z.stime + z.cstime,
            };
            z.state = TaskState::Dead;
            let me = current();
            me.cutime += r.utime;
            me.cstime += r.stime;
            task::release(r.pid);
            return Ok(Some(r));
        }
        if !has_child {
            return Err(ECHILD);
        }
        if options & WNOHANG != 0 {
            return Ok(None);
        }
        CHILD_WAIT.wait_event_interruptible(|| CHILD_EVENTS.load(Ordering::Relaxed) != events)?;
    }
}
