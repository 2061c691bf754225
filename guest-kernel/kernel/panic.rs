//! Panics (Linux's `kernel/panic.c`).
//!
//! [`panic`] prints `Kernel panic - not syncing: <why>` and the closing
//! `---[ end Kernel panic ... ]---` line, then stops the machine: with
//! `panic=exit` on the command line it writes 1 to the exit port 0xF4 (the
//! emulator and QEMU's `isa-debug-exit` end with status 3), otherwise it
//! halts with interrupts off. A Rust panic comes here too, with its message
//! and source location.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::x86_64::{cpu, io};
use crate::drivers::serial;
use crate::init::cmdline;
use crate::kernel::printk;

/// The exit device (QEMU `isa-debug-exit` compatible).
const EXIT_PORT: u16 = 0xF4;

static PANICKING: AtomicBool = AtomicBool::new(false);

/// Stops the kernel with a message.
pub fn panic(args: fmt::Arguments) -> ! {
    cpu::local_irq_disable();
    if PANICKING.swap(true, Ordering::SeqCst) {
        serial::emergency_write(b"\nKernel panic while panicking: halting\n");
        machine_stop();
    }
    printk::set_oops_in_progress();
    pr_emerg!("Kernel panic - not syncing: {}", args);
    pr_emerg!("---[ end Kernel panic - not syncing: {} ]---", args);
    machine_stop()
}

/// Leaves through the exit port if `panic=exit`, else halts forever.
pub fn machine_stop() -> ! {
    if cmdline::param("panic") == Some("exit") {
        // SAFETY: port 0xF4 is the exit device; nothing runs afterwards.
        unsafe { io::outb(EXIT_PORT, 0x01) };
    }
    cpu::halt_forever()
}

#[cfg(not(test))]
#[panic_handler]
fn rust_panic(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(loc) => panic(format_args!(
            "{} (at {}:{}:{})",
            info.message(),
            loc.file(),
            loc.line(),
            loc.column()
        )),
        None => panic(format_args!("{}", info.message())),
    }
}

/// `reboot(RB_POWER_OFF)`: flush the console, then leave through the exit
/// port with value 0 (the emulator exits with status 1, QEMU's
/// `isa-debug-exit` likewise), else halt.
pub fn power_off() -> ! {
    cpu::local_irq_disable();
    serial::enter_emergency_mode();
    // SAFETY: port 0xF4 is the exit device; nothing runs afterwards.
    unsafe { io::outb(EXIT_PORT, 0x00) };
    cpu::halt_forever()
}
