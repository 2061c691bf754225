//! The boot sequence (Linux's `init/main.c`, `start_kernel`).

use ondisk::bootinfo::BootInfo;

use crate::arch::x86_64::{cpu, fpu, gdt, i8253, i8259, idt, irq, syscall};
use crate::drivers::serial;
use crate::kernel::{printk, softirq, time};
use crate::{block, fs, mm};

use super::cmdline;

/// Called by `_start` on the boot stack, with the physical address of
/// stage 2's [`BootInfo`] (identity-mapped until `paging_init`).
pub extern "C" fn kernel_main(boot_info_pa: u64) -> ! {
    time::mark_boot();
    // SAFETY: the entry contract puts a BootInfo at this identity-mapped
    // address; we copy it before the identity map goes away.
    let info = unsafe { (boot_info_pa as *const BootInfo).read() };
    serial::early_init();
    if !info.is_valid() {
        serial::emergency_write(b"kernel: bad BootInfo magic or version; halting\n");
        cpu::halt_forever();
    }
    super::save_boot_info(info);
    if let Some(level) = cmdline::param("loglevel").and_then(|v| v.parse().ok()) {
        printk::set_console_loglevel(level);
    }

    // CPU tables first: from here on a fault gets a report.
    gdt::init();
    idt::init();
    syscall::init();
    crate::kernel::trace::init();
    if !fpu::init() {
        panic!("CPU lacks FXSR/SSE/SSE2");
    }
    let calibrated = i8253::calibrate_tsc();
    time::set_tsc_khz(calibrated.unwrap_or(1_000_000));
    pr_notice!(
        "Linux-like kernel {} (rustc, stable) starting on x86-64",
        env!("CARGO_PKG_VERSION")
    );
    pr_info!("Command line: {}", cmdline::cmdline());
    if calibrated.is_none() {
        pr_warn!("tsc: PIT channel 2 never fired; assuming 1 GHz");
    }
    pr_info!(
        "tsc: Detected {}.{:03} MHz processor",
        time::tsc_khz() / 1000,
        time::tsc_khz() % 1000
    );
    pr_info!("x86/fpu: SSE enabled, FXSAVE area 512 bytes, saved per trap and per task");

    mm::mm_init();
    crash_if_asked();

    softirq::softirq_init();
    crate::kernel::task::init_idle();
    softirq::open_softirq(softirq::TIMER_SOFTIRQ, time::run_timer_softirq);
    i8259::init();
    pr_info!("i8259: PIC remapped to vectors 0x20 (IRQ 0-7) and 0x28 (IRQ 8-15)");
    i8253::init_tick();
    irq::request_irq(0, "timer", i8253::timer_interrupt);
    serial::init_irq();
    cpu::local_irq_enable();
    let t0 = time::uptime_ns();
    time::msleep(20);
    pr_info!(
        "clocksource: PIT at HZ={}: msleep(20) took {} us, {} jiffies so far",
        time::HZ,
        (time::uptime_ns() - t0) / 1000,
        time::jiffies()
    );
    crate::kernel::task::fpu_selftest();
    pr_info!("serial: ttyS0 at I/O 0x3f8 (irq = 4) is a 16550A, interrupt-driven");

    time::read_persistent_clock();

    block::init();
    fs::mount_root_and_show_motd();

    if super::init_process::run_init_process() {
        fs::start_bdflush();
        crate::kernel::sched::cpu_idle()
    }
    pr_info!(
        "Boot complete in {} jiffies; idle (console input is echoed)",
        time::jiffies()
    );
    crate::kernel::sched::cpu_idle()
}

/// `crash=...`: fault on purpose, to show the oops report.
fn crash_if_asked() {
    match cmdline::param("crash") {
        Some("pagefault") => {
            let addr = 0xffff_c900_00de_ad00_u64 as *const u64;
            pr_notice!("crash=pagefault: reading {:p}", addr);
            // SAFETY: deliberately unsound: nothing is mapped there, so the
            // read faults and the oops path stops the kernel.
            let v = unsafe { addr.read_volatile() };
            pr_err!("crash=pagefault: read {:#x} and survived?", v);
        }
        Some("divide") => {
            pr_notice!("crash=divide: dividing by zero");
            // SAFETY: deliberately raises #DE; the oops path stops the kernel.
            unsafe {
                core::arch::asm!("xor ecx, ecx", "div ecx", out("eax") _, out("edx") _, out("ecx") _)
            };
        }
        Some("panic") => panic!("crash=panic requested on the command line"),
        Some("wp") => {
            let text = crash_if_asked as *const u8 as *mut u8;
            pr_notice!("crash=wp: writing to kernel text at {:p}", text);
            // SAFETY: deliberately unsound: text is read-only (CR0.WP), so
            // the write faults and the oops path stops the kernel.
            unsafe { text.write_volatile(0xcc) };
        }
        Some("nx") => {
            let data = &raw const CRASH_NX_TARGET;
            pr_notice!("crash=nx: calling into kernel data at {:p}", data);
            // SAFETY: deliberately unsound: data pages are no-execute, so
            // the fetch faults and the oops path stops the kernel.
            let f: extern "C" fn() = unsafe { core::mem::transmute(data) };
            f();
        }
        Some("doublefault") => {
            pr_notice!("crash=doublefault: #PF with its IDT gate marked not present");
            // A #PF whose delivery raises #GP (the gate is not present) is a
            // double fault (SDM Vol. 3A §6.15, Table 6-5).
            idt::set_present(14, false);
            // SAFETY: deliberately unsound: faults, see above.
            unsafe { (0xffff_c900_00de_ad00_u64 as *const u64).read_volatile() };
        }
        Some("stack") => {
            pr_notice!("crash=stack: unbounded recursion into the guard page");
            recurse(0);
        }
        Some(other) => pr_warn!(
            "crash={}: unknown (pagefault, divide, panic, wp, nx, doublefault, stack)",
            other
        ),
        None => {}
    }
}

/// Recurses until the boot stack's guard page stops it (`crash=stack`).
fn recurse(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 64]);
    if frame[7] == u64::MAX {
        return 0;
    }
    recurse(frame[7] + 1) + frame[3]
}

/// A `ret` instruction in writable data, for `crash=nx`.
static mut CRASH_NX_TARGET: [u8; 1] = [0xc3];
