//! Starting the first process (Linux's `kernel_init` and
//! `run_init_process` in `init/main.c`).
//!
//! PID 1 runs `/sbin/init` (or `init=PATH`) with the console as file
//! descriptors 0, 1 and 2, in its own session and process group, which
//! the console's foreground becomes. Without an init, the kernel logs the
//! error and keeps its console commands.

use alloc::vec::Vec;

use super::cmdline;
use crate::drivers::tty;
use crate::fs::file::o;
use crate::fs::{exec, namei};
use crate::kernel::fork::{self, frame_at, fxsave_at};
use crate::kernel::task::{self, TaskState};

/// The environment init starts with (Linux's `envp_init`).
const ENVP_INIT: [&str; 3] = ["HOME=/", "TERM=linux", "PATH=/sbin:/bin:/usr/sbin:/usr/bin"];

/// Creates PID 1 running init; false (logged) if that fails.
pub fn run_init_process() -> bool {
    let path = cmdline::param("init").unwrap_or("/sbin/init");
    let t = match fork::create_init_task() {
        Ok(t) => t,
        Err(e) => {
            pr_err!("init: cannot create PID 1 (error -{})", e.0);
            return false;
        }
    };
    let argv: Vec<Vec<u8>> = alloc::vec![Vec::from(path.as_bytes())];
    let envp: Vec<Vec<u8>> = ENVP_INIT.iter().map(|e| Vec::from(e.as_bytes())).collect();
    let loaded = match exec::load(path, &argv, &envp) {
        Ok(l) => l,
        Err(e) => {
            pr_err!(
                "Failed to execute {} (error -{}); staying in the kernel console",
                path,
                e.0
            );
            let pid = t.pid;
            t.state = TaskState::Zombie;
            task::release(pid);
            return false;
        }
    };
    // SAFETY: the frame and FXSAVE area at the top of PID 1's new kernel
    // stack, which nothing else uses until it first runs.
    let frame = unsafe { &mut *frame_at(t.kstack_top) };
    exec::install(t, loaded, frame, fxsave_at(t.kstack_top));
    let name = path.rsplit('/').next().unwrap_or(path);
    crate::kernel::trace::process_start(t.pid, 0, name);
    match namei::open("/dev/console", o::RDWR) {
        Ok(console) => {
            for fd in 0..3 {
                t.files.install_at(fd, console.clone(), false);
            }
        }
        Err(e) => pr_warn!(
            "Warning: unable to open an initial console (error -{})",
            e.0
        ),
    }
    tty::attach_user_console(t.sid, t.pgid);
    pr_info!("Run {} as init process", path);
    t.state = TaskState::Running;
    t.seq = crate::kernel::sched::next_seq();
    crate::kernel::sched::set_need_resched();
    true
}
