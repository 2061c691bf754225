//! Exception handlers and the oops report (Linux's `arch/x86/kernel/traps.c`
//! and `arch/x86/mm/fault.c`, `arch/x86/kernel/dumpstack.c`).
//!
//! Every vector arrives at [`trap_dispatch`]. Hardware interrupts go to
//! `irq.rs`. An exception in kernel mode is a kernel bug: [`die`] prints a
//! report in Linux's oops format (vector, name, error code, faulting
//! address for #PF, all registers, control registers, a frame-pointer call
//! trace), polled on the serial port, then panics with "Fatal exception".
//! Only #BP (int3) and NMI return. A fault while reporting a fault prints
//! one line and stops; a fault while delivering a fault is a double fault,
//! which has its own IST stack and reports like any other.

use core::sync::atomic::{AtomicU32, Ordering};

use super::cpu;
use super::entry::{SYSCALL_VECTOR, TrapFrame};
use super::irq;
use crate::drivers::serial;
use crate::kernel::{panic, printk, task};

/// Vectors 0x20-0x2F carry the remapped ISA IRQs.
pub const FIRST_EXTERNAL_VECTOR: u64 = 0x20;

/// SDM Vol. 3A §6.15, Table 6-1.
const EXCEPTIONS: [(&str, &str); 32] = [
    ("divide error", "#DE"),
    ("debug", "#DB"),
    ("non-maskable interrupt", "NMI"),
    ("int3", "#BP"),
    ("overflow", "#OF"),
    ("bounds", "#BR"),
    ("invalid opcode", "#UD"),
    ("device not available", "#NM"),
    ("double fault", "#DF"),
    ("coprocessor segment overrun", "#MF"),
    ("invalid TSS", "#TS"),
    ("segment not present", "#NP"),
    ("stack segment", "#SS"),
    ("general protection fault", "#GP"),
    ("page fault", "#PF"),
    ("reserved", "#15"),
    ("coprocessor error", "#MF"),
    ("alignment check", "#AC"),
    ("machine check", "#MC"),
    ("SIMD exception", "#XM"),
    ("virtualization exception", "#VE"),
    ("control protection", "#CP"),
    ("reserved", "#22"),
    ("reserved", "#23"),
    ("reserved", "#24"),
    ("reserved", "#25"),
    ("reserved", "#26"),
    ("reserved", "#27"),
    ("hypervisor injection", "#HV"),
    ("VMM communication", "#VC"),
    ("security exception", "#SX"),
    ("reserved", "#31"),
];

/// Page-fault error code bits (SDM Vol. 3A §4.7, Figure 4-12).
mod pf {
    pub const PRESENT: u64 = 1 << 0;
    pub const WRITE: u64 = 1 << 1;
    pub const USER: u64 = 1 << 2;
    pub const RSVD: u64 = 1 << 3;
    pub const INSTR: u64 = 1 << 4;
}

/// Oopses so far (Linux's `die_counter`).
static DIE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Called by `common_entry` for every vector, with interrupts off, on the
/// vector's IST stack.
#[unsafe(no_mangle)]
pub extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    let user = frame.user_mode();
    match frame.vector {
        SYSCALL_VECTOR | 0x80 if user => {
            cpu::local_irq_enable();
            crate::kernel::sys::do_syscall(frame);
        }
        2 => pr_emerg!("NMI received at RIP {:016x}", frame.rip),
        3 if !user => pr_warn!("int3 at RIP {:016x}", frame.rip),
        0..=31 if user => user_fault(frame),
        14 => {
            if crate::arch::x86_64::uaccess::fixup_exception(frame) {
                let tid = task::current_ids().0;
                crate::kernel::trace::fault_handled(tid, cpu::read_cr2(), frame.error_code);
            } else {
                die(frame)
            }
        }
        0..=31 => die(frame),
        v if (FIRST_EXTERNAL_VECTOR..FIRST_EXTERNAL_VECTOR + 16).contains(&v) => {
            irq::dispatch((v - FIRST_EXTERNAL_VECTOR) as u8);
            if v == FIRST_EXTERNAL_VECTOR {
                crate::kernel::sched::scheduler_tick(user);
            }
        }
        v => pr_warn!("unexpected interrupt on vector {:#x}", v),
    }
    if user {
        crate::kernel::sched::exit_to_user_mode(frame);
    }
}

/// An exception in user mode: the signal Linux sends for it, and the
/// `segfault at` line Linux logs (`show_signal_msg`).
fn user_fault(frame: &mut TrapFrame) {
    use crate::kernel::signal::*;
    let sig = match frame.vector {
        0 | 16 | 19 => SIGFPE,
        1 | 3 => SIGTRAP,
        6 => SIGILL,
        17 => SIGBUS,
        _ => SIGSEGV,
    };
    let (pid, comm) = task::current_ids();
    if frame.vector == 14 {
        pr_info!(
            "{}[{}]: segfault at {:x} ip {:016x} sp {:016x} error {:x}",
            comm,
            pid,
            cpu::read_cr2(),
            frame.rip,
            frame.rsp,
            frame.error_code
        );
    } else {
        let (name, _) = EXCEPTIONS[frame.vector as usize];
        pr_info!(
            "traps: {}[{}] {} ip:{:x} sp:{:x} error:{:x}",
            comm,
            pid,
            name,
            frame.rip,
            frame.rsp,
            frame.error_code
        );
    }
    force_sig(sig);
}

/// Reports a fatal exception and stops (Linux's `die`).
fn die(frame: &TrapFrame) -> ! {
    let n = DIE_COUNTER.fetch_add(1, Ordering::SeqCst) + 1;
    if n > 1 {
        // Our own report faulted: say so without formatting and stop.
        serial::emergency_write(b"\nBUG: fault while reporting a fault; halting\n");
        panic::machine_stop();
    }
    printk::set_oops_in_progress();
    let vector = frame.vector as usize;
    let (name, mnemonic) = EXCEPTIONS[vector];
    let cr2 = cpu::read_cr2();
    if vector == 14 {
        report_page_fault(cr2, frame.error_code);
    }
    pr_emerg!(
        "Oops: {} ({}, vector {}) error_code 0x{:04x} [#{}]",
        name,
        mnemonic,
        vector,
        frame.error_code,
        n
    );
    let (pid, comm) = task::current_ids();
    pr_emerg!(
        "CPU: 0 PID: {} Comm: {} Not tainted {}",
        pid,
        comm,
        env!("CARGO_PKG_VERSION")
    );
    show_regs(frame, cr2);
    show_trace(frame);
    panic::panic(format_args!("Fatal exception"))
}

/// The two lines Linux's `show_fault_oops` prints before the oops.
fn report_page_fault(addr: u64, code: u64) {
    if let Some((lo, hi)) = super::tss::guard_hit(addr) {
        pr_emerg!(
            "BUG: stack guard page was hit at {:016x} (stack is {:016x}..{:016x})",
            addr,
            lo,
            hi
        );
    }
    pr_emerg!(
        "BUG: unable to handle page fault for address: {:016x}",
        addr
    );
    let who = if code & pf::USER != 0 {
        "user"
    } else {
        "supervisor"
    };
    let what = if code & pf::WRITE != 0 {
        "write access"
    } else if code & pf::INSTR != 0 {
        "instruction fetch"
    } else {
        "read access"
    };
    let mode = if code & pf::USER != 0 {
        "user"
    } else {
        "kernel"
    };
    if code & (pf::INSTR | pf::PRESENT) == pf::INSTR | pf::PRESENT {
        pr_emerg!("kernel tried to execute NX-protected page - exploit attempt?");
    }
    pr_emerg!("#PF: {} {} in {} mode", who, what, mode);
    let why = if code & pf::RSVD != 0 {
        "reserved bit violation"
    } else if code & pf::PRESENT != 0 {
        "permissions violation"
    } else {
        "not-present page"
    };
    pr_emerg!("#PF: error_code(0x{:04x}) - {}", code, why);
}

/// The register dump (Linux's `__show_regs`).
fn show_regs(f: &TrapFrame, cr2: u64) {
    pr_emerg!("RIP: {:04x}:{:016x}", f.cs, f.rip);
    pr_emerg!("RSP: {:04x}:{:016x} EFLAGS: {:08x}", f.ss, f.rsp, f.rflags);
    pr_emerg!(
        "RAX: {:016x} RBX: {:016x} RCX: {:016x}",
        f.rax,
        f.rbx,
        f.rcx
    );
    pr_emerg!(
        "RDX: {:016x} RSI: {:016x} RDI: {:016x}",
        f.rdx,
        f.rsi,
        f.rdi
    );
    pr_emerg!("RBP: {:016x} R08: {:016x} R09: {:016x}", f.rbp, f.r8, f.r9);
    pr_emerg!(
        "R10: {:016x} R11: {:016x} R12: {:016x}",
        f.r10,
        f.r11,
        f.r12
    );
    pr_emerg!(
        "R13: {:016x} R14: {:016x} R15: {:016x}",
        f.r13,
        f.r14,
        f.r15
    );
    let (ds, es, fs, gs) = data_segments();
    pr_emerg!(
        "CS:  {:04x} DS: {:04x} ES: {:04x} SS: {:04x} FS: {:04x} GS: {:04x}",
        f.cs,
        ds,
        es,
        f.ss,
        fs,
        gs
    );
    pr_emerg!(
        "CR0: {:016x} CR2: {:016x} CR3: {:016x} CR4: {:016x}",
        cpu::read_cr0(),
        cr2,
        cpu::read_cr3(),
        cpu::read_cr4()
    );
}

/// The data segment selectors (unchanged by the trap).
fn data_segments() -> (u16, u16, u16, u16) {
    let (ds, es, fs, gs): (u16, u16, u16, u16);
    // SAFETY: reading segment registers has no side effects.
    unsafe {
        core::arch::asm!(
            "mov {0:x}, ds", "mov {1:x}, es", "mov {2:x}, fs", "mov {3:x}, gs",
            out(reg) ds, out(reg) es, out(reg) fs, out(reg) gs,
            options(nomem, nostack, preserves_flags)
        )
    };
    (ds, es, fs, gs)
}

/// Walks the frame-pointer chain from the faulting frame (the kernel is
/// built with frame pointers; the prebuilt `core` is not, so the walk stops
/// at the first link that leaves the kernel stacks).
fn show_trace(f: &TrapFrame) {
    pr_emerg!("Call Trace:");
    pr_emerg!(" [<{:016x}>] (fault)", f.rip);
    let mut rbp = f.rbp;
    for _ in 0..16 {
        if !rbp.is_multiple_of(8)
            || !super::tss::on_kernel_stack(rbp)
            || !super::tss::on_kernel_stack(rbp + 8)
        {
            break;
        }
        // SAFETY: `rbp` and `rbp + 8` lie on a kernel stack, which is mapped.
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if ret == 0 {
            break;
        }
        pr_emerg!(" [<{:016x}>]", ret);
        if next <= rbp {
            break;
        }
        rbp = next;
    }
}
