//! The guest kernel, booted directly (`emu run --kernel`): the boot
//! sequence's log lines, and the oops report for deliberate faults.

use emulator::artifacts::KERNEL;
use emulator::machine::Outcome;
use integration_tests::guestboot::{boot, Boot, BootRun};
use std::path::Path;

const LIMIT: u64 = 400_000_000;

fn boot_kernel(cmdline: &str, until: Option<&str>) -> BootRun {
    boot(
        Boot::Kernel {
            elf: Path::new(KERNEL),
            cmdline,
        },
        &[],
        until,
        LIMIT,
    )
}

#[test]
fn kernel_brings_up_memory_interrupts_timer_and_serial() {
    let run = boot_kernel("loglevel=7", Some("Boot complete in"));

    run.expect("Command line: loglevel=7");
    run.expect("BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable");
    run.expect("paging: direct map 0x0-0x10000000 at 0xffff888000000000");
    run.expect("i8259: PIC remapped to vectors 0x20 (IRQ 0-7) and 0x28 (IRQ 8-15)");
    run.expect("clocksource: PIT at HZ=100:");
    run.expect("x86/fpu: SSE state kept across a task switch and 3 interrupts");
    run.expect("serial: ttyS0 at I/O 0x3f8 (irq = 4) is a 16550A, interrupt-driven");
    run.expect("Boot complete in");
}

#[test]
fn memory_totals_match_the_ram_the_map_reports() {
    let run = boot_kernel("", Some("Boot complete in"));

    let line = run
        .serial
        .lines()
        .find(|l| l.contains("Memory: "))
        .unwrap_or_else(|| panic!("no Memory: line in\n{}", run.serial));
    let total: u64 = line
        .split('/')
        .nth(1)
        .and_then(|s| s.split('K').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("unreadable: {line}"));
    // Whole pages of the E820 RAM: 636 KiB of the 639 below 0x9FC00, and
    // the 255 MiB above 1 MiB.
    assert_eq!(total, 0x9F000 / 1024 + 255 * 1024, "{line}");
}

#[test]
fn deliberate_page_fault_prints_the_oops_report_and_exits() {
    let run = boot_kernel("panic=exit crash=pagefault", None);

    assert_eq!(run.outcome, Outcome::Exit(3), "{}", run.serial);
    run.expect("BUG: unable to handle page fault for address: ffffc90000dead00");
    run.expect("#PF: supervisor read access in kernel mode");
    run.expect("#PF: error_code(0x0000) - not-present page");
    run.expect("Oops: page fault (#PF, vector 14) error_code 0x0000 [#1]");
    run.expect("RIP: 0010:ffffffff801");
    for reg in [
        "RAX:", "RBX:", "RCX:", "RDX:", "RSI:", "RDI:", "RBP:", "R08:", "R15:",
    ] {
        run.expect(reg);
    }
    run.expect("CR2: ffffc90000dead00");
    run.expect("Kernel panic - not syncing: Fatal exception");
}

#[test]
fn write_to_kernel_text_faults_because_of_w_xor_x() {
    let run = boot_kernel("panic=exit crash=wp", None);

    assert_eq!(run.outcome, Outcome::Exit(3), "{}", run.serial);
    run.expect("#PF: supervisor write access in kernel mode");
    run.expect("error_code(0x0003) - permissions violation");
}

#[test]
fn jump_into_kernel_data_faults_because_of_nx() {
    let run = boot_kernel("panic=exit crash=nx", None);

    assert_eq!(run.outcome, Outcome::Exit(3), "{}", run.serial);
    run.expect("kernel tried to execute NX-protected page");
}

#[test]
fn divide_error_is_reported_with_its_vector() {
    let run = boot_kernel("panic=exit crash=divide", None);

    assert_eq!(run.outcome, Outcome::Exit(3), "{}", run.serial);
    run.expect("Oops: divide error (#DE, vector 0) error_code 0x0000 [#1]");
}

#[test]
fn rust_panic_names_its_message_and_location() {
    let run = boot_kernel("panic=exit crash=panic", None);

    assert_eq!(run.outcome, Outcome::Exit(3), "{}", run.serial);
    run.expect("Kernel panic - not syncing: crash=panic requested on the command line");
}

#[test]
fn without_panic_exit_a_fault_halts_with_interrupts_off() {
    let run = boot_kernel("crash=pagefault", None);

    assert!(matches!(run.outcome, Outcome::Hung(_)), "{:?}", run.outcome);
    run.expect("Kernel panic - not syncing: Fatal exception");
}

#[test]
fn the_same_boot_prints_the_same_log() {
    let first = boot_kernel("panic=exit crash=panic", None);
    let second = boot_kernel("panic=exit crash=panic", None);

    assert_eq!(first.serial, second.serial);
}
