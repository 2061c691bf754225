//! The CPU benchmark image: a tiny higher-half kernel that stage 2 loads as
//! `/boot/kernel` (long mode, paging on, SSE on), runs the shared workload
//! ([`work`]) the number of times `/boot/cmdline` asks for
//! (`iterations=N`), prints the checksum on COM1 and leaves:
//!
//! ```text
//! bench: 1000 iterations
//! bench: checksum 0x0123456789abcdef
//! bench: done
//! ```
//!
//! Leaving: a write of 0 to port 0xF4 ends emu and QEMU
//! (`isa-debug-exit`; both exit with status 1); Bochs has no such device
//! but ends on the string "Shutdown" written to port 0x8900 (its
//! `unmapped` device: "Shutdown port: shutdown requested", exit status 1).
//! The bench stops its clock at `bench: done` on every machine and ends
//! the process itself, so how a machine ends does not count.

#![no_std]
#![no_main]

mod work;

use core::arch::asm;
use core::fmt::{self, Write};
use ondisk::bootinfo::BootInfo;

const COM1: u16 = 0x3F8;
/// QEMU's `isa-debug-exit` and emu's exit port.
const EXIT_PORT: u16 = 0xF4;
/// Bochs' shutdown port.
const BOCHS_SHUTDOWN: u16 = 0x8900;

fn outb(port: u16, v: u8) {
    // SAFETY: CPL 0; COM1 and the exit ports have no memory effects.
    unsafe { asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack)) };
}

fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as for outb.
    unsafe { asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack)) };
    v
}

/// COM1, polled (the BIOS and stage 2 have set it up: 115200 8N1).
struct Serial;

impl Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.write_str("\r")?;
            }
            // LSR bit 5: the transmit holding register is empty.
            while inb(COM1 + 5) & 0x20 == 0 {}
            outb(COM1, b);
        }
        Ok(())
    }
}

macro_rules! println {
    ($($arg:tt)*) => {{ let _ = writeln!(Serial, $($arg)*); }};
}

/// The entry point (see `ondisk::bootinfo` for the state stage 2 leaves):
/// RDI holds the boot info, the stack is aligned as after a call.
///
/// # Safety
/// `info` points to a `BootInfo` (stage 2 passes its identity-mapped
/// address).
#[no_mangle]
#[link_section = ".text.start"]
pub unsafe extern "C" fn _start(info: *const BootInfo) -> ! {
    // SAFETY: stage 2 passes the identity-mapped address of its BootInfo.
    let info = unsafe { &*info };
    if !info.is_valid() {
        println!("bench: bad boot info");
        exit();
    }
    let Some(iterations) = iterations(info.cmdline()) else {
        println!("bench: no iterations=N on the command line");
        exit();
    };
    println!("bench: {iterations} iterations");
    let mut work = work::Work::new();
    let checksum = work.run(core::hint::black_box(iterations));
    println!("bench: checksum {checksum:#018x}");
    println!("bench: done");
    exit()
}

/// The `iterations=N` word of the command line.
fn iterations(cmdline: &str) -> Option<u64> {
    cmdline
        .split_ascii_whitespace()
        .find_map(|w| w.strip_prefix("iterations="))
        .and_then(|n| n.parse().ok())
}

/// Ends the machine: the exit port, then Bochs' shutdown port, then halts.
fn exit() -> ! {
    outb(EXIT_PORT, 0);
    for b in *b"Shutdown" {
        outb(BOCHS_SHUTDOWN, b);
    }
    loop {
        // SAFETY: nothing left to do; interrupts are off.
        unsafe { asm!("cli", "hlt") };
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("bench: panic: {}", info.message());
    exit()
}

// The memory functions `core` calls.

/// # Safety
/// `d` and `s` valid for `n` bytes, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract; rep movsb cannot recurse into memcpy.
    unsafe { asm!("rep movsb", inout("rcx") n => _, inout("rdi") d => _, inout("rsi") s => _) };
    d
}

/// # Safety
/// `d` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { asm!("rep stosb", inout("rcx") n => _, inout("rdi") d => _, in("al") c as u8) };
    d
}

/// # Safety
/// `d` and `s` valid for `n` bytes; they may overlap.
#[no_mangle]
pub unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    if (d as usize) <= (s as usize) {
        for i in 0..n {
            // SAFETY: the caller's contract; forwards is safe when d <= s.
            unsafe { d.add(i).write_volatile(s.add(i).read_volatile()) };
        }
    } else {
        for i in (0..n).rev() {
            // SAFETY: the caller's contract; backwards is safe when d > s.
            unsafe { d.add(i).write_volatile(s.add(i).read_volatile()) };
        }
    }
    d
}

/// # Safety
/// `a` and `b` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller's contract.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
/// As for [`memcmp`].
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { memcmp(a, b, n) }
}

/// Referenced by the precompiled `core` (built with unwinding); never
/// called: panics abort.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
