//! Tasks (Linux's `struct task_struct`, `include/linux/sched.h`).
//!
//! Every task is a leaked `Box<Task>` listed in the task table; the
//! running one is [`current`]. There is one CPU and task fields change only
//! in task context or with interrupts off (the timer tick touches the
//! running task's CPU-time counters and quantum), so no per-task lock is
//! needed: the discipline is Linux's on a uniprocessor without kernel
//! preemption (see `sched.rs` for where tasks switch).
//!
//! PID 0 (`swapper`) is the boot task and later the idle task, running on
//! the boot stack. Every other task has its own 16 KiB kernel stack, a
//! trap frame at its top while it is in the kernel on behalf of user mode.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::ptr;

use crate::arch::x86_64::fpu::FpuState;
use crate::arch::x86_64::tss;
use crate::fs::file::FdTable;
use crate::kernel::signal::SignalState;
use crate::kernel::sync::SpinLock;
use crate::kernel::wait::WaitQueue;
use crate::mm::mmap::Mm;

pub type Pid = u32;

/// Linux's task states (`TASK_RUNNING` ...), with the letter `ps` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Runnable or running.
    Running,
    /// Sleeping; a signal wakes it.
    Interruptible,
    /// Sleeping; only the event wakes it (disk I/O).
    Uninterruptible,
    /// Stopped by a signal.
    Stopped,
    /// Exited, not yet reaped by its parent.
    Zombie,
    /// Reaped; about to be freed.
    Dead,
}

impl TaskState {
    /// The letter in `/proc/PID/stat` and `ps`.
    pub fn letter(self) -> char {
        match self {
            TaskState::Running => 'R',
            TaskState::Interruptible => 'S',
            TaskState::Uninterruptible => 'D',
            TaskState::Stopped => 'T',
            TaskState::Zombie => 'Z',
            TaskState::Dead => 'X',
        }
    }

    /// The name in `/proc/PID/status`.
    pub fn name(self) -> &'static str {
        match self {
            TaskState::Running => "R (running)",
            TaskState::Interruptible => "S (sleeping)",
            TaskState::Uninterruptible => "D (disk sleep)",
            TaskState::Stopped => "T (stopped)",
            TaskState::Zombie => "Z (zombie)",
            TaskState::Dead => "X (dead)",
        }
    }
}

/// Task flags (Linux's `PF_*`, same values).
pub mod pf {
    /// The idle task.
    pub const IDLE: u32 = 0x0000_0002;
    /// Getting shut down.
    pub const EXITING: u32 = 0x0000_0004;
    /// Forked but has not exec'd.
    pub const FORKNOEXEC: u32 = 0x0000_0040;
    /// Dumped core / killed by a signal.
    pub const SIGNALED: u32 = 0x0000_0400;
    /// A kernel thread (no user address space).
    pub const KTHREAD: u32 = 0x0020_0000;
}

/// Scheduling policies (Linux's `SCHED_*`).
pub mod policy {
    pub const SCHED_OTHER: u32 = 0;
    pub const SCHED_FIFO: u32 = 1;
    pub const SCHED_RR: u32 = 2;
    pub const SCHED_BATCH: u32 = 3;
    pub const SCHED_IDLE: u32 = 5;
}

/// Credentials (everyone is root for now, but they are real fields).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cred {
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
}

/// Kernel stack size of every task but the idle task.
pub const KSTACK_ORDER: usize = 2;
pub const KSTACK_SIZE: u64 = 4096 << KSTACK_ORDER;

/// What the kernel keeps per task.
pub struct Task {
    pub pid: Pid,
    /// Thread group: the same as `pid` (no threads yet).
    pub tgid: Pid,
    /// Parent's PID (0 for init and the idle task).
    pub ppid: Pid,
    pub pgid: Pid,
    pub sid: Pid,
    pub state: TaskState,
    /// `PF_*`.
    pub flags: u32,
    /// The executable's name, at most 15 bytes (`TASK_COMM_LEN`).
    pub comm: [u8; 16],
    /// The argument vector, NUL-separated (`/proc/PID/cmdline`).
    pub cmdline: Vec<u8>,
    /// The `wait4` status once a zombie.
    pub exit_status: i32,
    /// Base of the kernel stack (direct-mapped pages), 0 for the idle task.
    pub kstack: u64,
    /// Top of the kernel stack (TSS.RSP0 while running).
    pub kstack_top: u64,
    /// Saved RSP while switched out (`thread.sp`).
    pub ksp: u64,
    /// The user address space; `None` for kernel-only tasks.
    pub mm: Option<Box<Mm>>,
    pub files: FdTable,
    /// Working directory, an absolute normalised path.
    pub cwd: String,
    pub cred: Cred,
    pub umask: u32,
    pub policy: u32,
    /// 1..=99 for SCHED_FIFO/SCHED_RR.
    pub rt_priority: u32,
    /// -20..=19.
    pub nice: i32,
    /// Ticks left in this quantum (Linux 2.4's `counter`).
    pub counter: i64,
    /// Queue position: lower runs first among equals (round robin).
    pub seq: u64,
    /// CPU time in ticks, user and system; children's once reaped.
    pub utime: u64,
    pub stime: u64,
    pub cutime: u64,
    pub cstime: u64,
    /// Context switches (voluntary, involuntary).
    pub nvcsw: u64,
    pub nivcsw: u64,
    /// Jiffies at fork.
    pub start_time: u64,
    pub signals: SignalState,
    /// `arch_prctl(ARCH_SET_FS)`.
    pub fs_base: u64,
    /// The queue it sleeps on, or null.
    pub wait_on: *const WaitQueue,
    /// Jiffy at which the timer wakes it, 0 for none.
    pub wake_at: u64,
    /// `set_tid_address`.
    pub clear_child_tid: u64,
    /// For the FPU self-test of the boot sequence.
    pub fpu: FpuState,
}

// SAFETY: tasks are only touched on the one CPU, under the discipline in
// the module docs; the raw pointer is an identity, never dereferenced
// without the queue being alive (queues are statics or live in objects
// that outlive their sleepers).
unsafe impl Send for Task {}

impl Task {
    pub fn new(pid: Pid, comm: &str) -> Self {
        let mut t = Task {
            pid,
            tgid: pid,
            ppid: 0,
            pgid: pid,
            sid: pid,
            state: TaskState::Running,
            flags: 0,
            comm: [0; 16],
            cmdline: Vec::new(),
            exit_status: 0,
            kstack: 0,
            kstack_top: 0,
            ksp: 0,
            mm: None,
            files: FdTable::new(),
            cwd: String::from("/"),
            cred: Cred::default(),
            umask: 0o022,
            policy: policy::SCHED_OTHER,
            rt_priority: 0,
            nice: 0,
            counter: 0,
            seq: 0,
            utime: 0,
            stime: 0,
            cutime: 0,
            cstime: 0,
            nvcsw: 0,
            nivcsw: 0,
            start_time: crate::kernel::time::jiffies(),
            signals: SignalState::new(),
            fs_base: 0,
            wait_on: ptr::null(),
            wake_at: 0,
            clear_child_tid: 0,
            fpu: FpuState::new(),
        };
        t.set_comm(comm.as_bytes());
        t
    }

    pub fn set_comm(&mut self, name: &[u8]) {
        self.comm = [0; 16];
        let n = name.len().min(15);
        self.comm[..n].copy_from_slice(&name[..n]);
    }

    pub fn comm(&self) -> &str {
        let n = self.comm.iter().position(|&b| b == 0).unwrap_or(16);
        core::str::from_utf8(&self.comm[..n]).unwrap_or("?")
    }

    pub fn is_idle(&self) -> bool {
        self.flags & pf::IDLE != 0
    }

    pub fn is_realtime(&self) -> bool {
        matches!(self.policy, policy::SCHED_FIFO | policy::SCHED_RR)
    }
}

/// All tasks, by PID order of creation.
struct TaskTable {
    tasks: Vec<*mut Task>,
    next_pid: Pid,
}

// SAFETY: the pointers are leaked boxes, only used on this CPU.
unsafe impl Send for TaskTable {}

static TABLE: SpinLock<TaskTable> = SpinLock::new(TaskTable {
    tasks: Vec::new(),
    next_pid: 1,
});

/// The running task.
static mut CURRENT: *mut Task = ptr::null_mut();

/// The running task.
#[allow(clippy::mut_from_ref)]
pub fn current() -> &'static mut Task {
    // SAFETY: set by `sched_init` before anything calls this, and always
    // a live task (the running one is never freed).
    unsafe { &mut *CURRENT }
}

/// Whether the task machinery is up.
pub fn tasks_ready() -> bool {
    // SAFETY: a plain read of a pointer written during boot / switches.
    unsafe { !CURRENT.is_null() }
}

/// Sets the running task (the context switch).
///
/// # Safety
/// `t` must be a live task that is about to run.
pub unsafe fn set_current(t: *mut Task) {
    // SAFETY: one CPU; the caller has interrupts off.
    unsafe { CURRENT = t };
}

/// A new PID.
pub fn alloc_pid() -> Pid {
    let mut table = TABLE.lock();
    let pid = table.next_pid;
    table.next_pid += 1;
    pid
}

/// Adds a task to the table; returns its stable pointer.
pub fn insert(task: Box<Task>) -> *mut Task {
    let p = Box::into_raw(task);
    TABLE.lock().tasks.push(p);
    p
}

/// Removes and frees a reaped task, with its kernel stack.
pub fn release(pid: Pid) {
    let p = {
        let mut table = TABLE.lock();
        let Some(i) = table.tasks.iter().position(|&t| {
            // SAFETY: table entries are live tasks.
            unsafe { (*t).pid == pid }
        }) else {
            return;
        };
        table.tasks.remove(i)
    };
    // SAFETY: the task is a zombie that never runs again and is no longer
    // listed: this is the last reference.
    let task = unsafe { Box::from_raw(p) };
    if task.kstack != 0 {
        crate::mm::page_alloc::free_pages(crate::mm::virt_to_phys(task.kstack), KSTACK_ORDER);
    }
    drop(task);
}

/// A snapshot of the task pointers (interrupts off while copying).
pub fn all() -> Vec<*mut Task> {
    TABLE.lock().tasks.clone()
}

/// Calls `f` on every task.
pub fn for_each(mut f: impl FnMut(&mut Task)) {
    for p in all() {
        // SAFETY: tasks are freed only by `release`, from task context;
        // `f` must not release tasks.
        f(unsafe { &mut *p });
    }
}

/// The task with this PID, if any.
pub fn find(pid: Pid) -> Option<&'static mut Task> {
    let table = TABLE.lock();
    table
        .tasks
        .iter()
        .find(|&&t| {
            // SAFETY: table entries are live tasks.
            unsafe { (*t).pid == pid }
        })
        // SAFETY: as above; freed only by `release` in task context.
        .map(|&t| unsafe { &mut *t })
}

/// The running task's PID and name, for the oops report.
pub fn current_ids() -> (u32, &'static str) {
    if !tasks_ready() {
        return (0, "swapper");
    }
    let t = current();
    (t.pid, t.comm())
}

/// Makes the boot task PID 0, the idle task, and the current one.
pub fn init_idle() {
    let mut idle = Box::new(Task::new(0, "swapper"));
    idle.flags = pf::IDLE | pf::KTHREAD;
    idle.kstack_top = tss::BOOT_STACK.top();
    idle.pgid = 0;
    idle.sid = 0;
    let p = insert(idle);
    // SAFETY: the idle task is live forever and is what runs now.
    unsafe { set_current(p) };
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

/// The FPU half of a context switch between kernel contexts that keep
/// live SSE state across the switch (the self-test). The scheduler's
/// switch does not need it: it happens inside a function call, where every
/// XMM register is caller-saved (SysV ABI), and user SSE state is saved
/// in the FXSAVE area of the task's trap frame on kernel entry.
pub fn switch_fpu(prev: &mut Task, next: &Task) {
    prev.fpu.save();
    next.fpu.restore();
}
