//! Signals, default actions only (Linux's `kernel/signal.c`).
//!
//! A signal sets a bit in the target's pending set and wakes it from an
//! interruptible sleep; the target acts on it on its way back to user mode
//! ([`do_signal`]): terminate (SIGKILL, SIGTERM, SIGINT, SIGPIPE, ...),
//! ignore (SIGCHLD, SIGWINCH, SIGURG), stop (SIGSTOP, SIGTSTP, ...) or
//! continue (SIGCONT). `rt_sigaction` records handlers; SIG_IGN is honoured
//! (a signal whose action is to be ignored is discarded when sent, as
//! Linux does). Running user handlers (signal frames, `rt_sigreturn`)
//! comes with full signal handling: until then a caught signal interrupts
//! a sleep (EINTR) and is otherwise discarded.

use crate::arch::x86_64::entry::TrapFrame;
use crate::kernel::sched;
use crate::kernel::task::{self, Pid, Task, TaskState, current};

pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGSEGV: u32 = 11;
pub const SIGPIPE: u32 = 13;
pub const SIGCHLD: u32 = 17;
pub const SIGCONT: u32 = 18;
pub const SIGSTOP: u32 = 19;
pub const SIGTSTP: u32 = 20;
pub const SIGTTIN: u32 = 21;
pub const SIGTTOU: u32 = 22;
pub const SIGURG: u32 = 23;
pub const SIGXCPU: u32 = 24;
pub const SIGXFSZ: u32 = 25;
pub const SIGWINCH: u32 = 28;
pub const SIGSYS: u32 = 31;
pub const NSIG: u32 = 64;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// `struct sigaction` as the kernel sees it (x86-64 `kernel_sigaction`).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

/// Per-task signal state.
pub struct SignalState {
    pub pending: u64,
    pub blocked: u64,
    pub actions: [SigAction; NSIG as usize],
}

impl SignalState {
    pub const fn new() -> Self {
        SignalState {
            pending: 0,
            blocked: 0,
            actions: [SigAction {
                handler: 0,
                flags: 0,
                restorer: 0,
                mask: 0,
            }; NSIG as usize],
        }
    }

    /// After exec: handlers are reset, ignored signals stay ignored.
    pub fn reset_handlers(&mut self) {
        for a in self.actions.iter_mut() {
            if a.handler != SIG_IGN {
                *a = SigAction::default();
            }
        }
    }
}

impl Default for SignalState {
    fn default() -> Self {
        Self::new()
    }
}

fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// What a signal does by default.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Default_ {
    Terminate,
    CoreDump,
    Ignore,
    Stop,
    Continue,
}

fn default_action(sig: u32) -> Default_ {
    match sig {
        SIGCHLD | SIGURG | SIGWINCH => Default_::Ignore,
        SIGCONT => Default_::Continue,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => Default_::Stop,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => Default_::CoreDump,
        32..=64 => Default_::Terminate,
        _ => Default_::Terminate,
    }
}

/// Whether `sig` sent to `t` would be dropped at once.
fn ignored(t: &Task, sig: u32) -> bool {
    if sig == SIGKILL || sig == SIGSTOP {
        return false;
    }
    let h = t.signals.actions[sig as usize - 1].handler;
    h == SIG_IGN || (h == SIG_DFL && default_action(sig) == Default_::Ignore)
}

/// Sends `sig` (1..=64) to `t` (Linux's `send_signal`).
pub fn send_signal(t: &mut Task, sig: u32) {
    if sig == 0 || sig > NSIG || matches!(t.state, TaskState::Zombie | TaskState::Dead) {
        return;
    }
    if t.is_idle() {
        return;
    }
    if sig == SIGKILL || sig == SIGCONT {
        // Continue a stopped task; drop pending stops.
        t.signals.pending &= !(bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU));
        if t.state == TaskState::Stopped {
            t.state = TaskState::Interruptible;
            sched::wake_up_process(t);
        }
    }
    if matches!(sig, SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU) {
        t.signals.pending &= !bit(SIGCONT);
    }
    if ignored(t, sig) {
        return;
    }
    // Init gets only the signals it has handlers for (Linux's
    // SIGNAL_UNKILLABLE): a stray ^C or `kill -9 1` must not end the system.
    if t.pid == 1 && t.signals.actions[sig as usize - 1].handler == SIG_DFL {
        return;
    }
    t.signals.pending |= bit(sig);
    if t.state == TaskState::Interruptible
        && (t.signals.pending & !t.signals.blocked != 0 || sig == SIGKILL)
    {
        sched::wake_up_process(t);
    }
}

/// Sends `sig` to every task in process group `pgid`; false if none.
pub fn kill_pgrp(pgid: Pid, sig: u32) -> bool {
    let mut found = false;
    task::for_each(|t| {
        if t.pgid == pgid && !t.is_idle() && t.state != TaskState::Zombie {
            found = true;
            send_signal(t, sig);
        }
    });
    found
}

/// Whether `t` has a signal that should end an interruptible sleep.
pub fn signal_pending(t: &Task) -> bool {
    t.signals.pending & !(t.signals.blocked & !(bit(SIGKILL) | bit(SIGSTOP))) != 0
}

/// Whether the current task has a signal to act on.
pub fn has_deliverable() -> bool {
    if !task::tasks_ready() {
        return false;
    }
    let t = current();
    !t.is_idle() && signal_pending(t)
}

/// Acts on the current task's pending signals (on the way to user mode).
pub fn do_signal(_frame: &mut TrapFrame) {
    let t = current();
    let deliverable = t.signals.pending & !(t.signals.blocked & !(bit(SIGKILL) | bit(SIGSTOP)));
    if deliverable == 0 {
        return;
    }
    let sig = deliverable.trailing_zeros() + 1;
    t.signals.pending &= !bit(sig);
    let action = t.signals.actions[sig as usize - 1];
    if sig != SIGKILL && sig != SIGSTOP {
        if action.handler == SIG_IGN {
            return;
        }
        if action.handler != SIG_DFL {
            // No signal frames yet: a caught signal only interrupted a
            // sleep.
            return;
        }
    }
    match default_action(sig) {
        Default_::Ignore | Default_::Continue => {}
        Default_::Stop => {
            t.state = TaskState::Stopped;
            t.exit_status = ((sig as i32) << 8) | 0x7f;
            crate::kernel::exit::notify_parent(t);
            sched::schedule();
        }
        Default_::Terminate => crate::kernel::exit::do_exit_signal(sig, false),
        Default_::CoreDump => crate::kernel::exit::do_exit_signal(sig, true),
    }
}

/// Forces a fatal signal caused by the task itself (a fault in user mode).
pub fn force_sig(sig: u32) {
    let t = current();
    let a = &mut t.signals.actions[sig as usize - 1];
    if a.handler != SIG_DFL {
        *a = SigAction::default();
    }
    t.signals.blocked &= !bit(sig);
    t.signals.pending |= bit(sig);
}
