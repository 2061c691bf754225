//! The BIOS: 16-bit real-mode assembly, assembled by rustc's `global_asm!`
//! (stable Rust, no external assembler) and linked by `bios.ld` into a
//! 64 KiB ROM that `emulator/build.rs` extracts and embeds.
//!
//! The assembly is AT&T syntax: LLVM's Intel-syntax parser assembles `call`
//! and `ret` as 32-bit forms in `.code16`, which would break the 16-bit
//! calling conventions every BIOS caller relies on.
//!
//! Files, in the order they are assembled (constants first):
//! - `defs.s`: ports, BIOS data area offsets, POST codes.
//! - `entry.s`: the reset vector and the start of POST.
//! - `util.s`: serial output helpers shared by everything else.
//! - `ata.s`: ATA PIO driver and drive detection.
//! - `int13.s`, `int10.s`, `int16.s`: disk, video (serial console) and
//!   keyboard (serial input) services.
//! - `post.s`: the power-on self test; `memtest.s`: its memory step.
//! - `sys.s`: default handlers, int 08h/11h/12h/18h/1Ah, CMOS helpers.
//! - `int15.s`: int 15h system services (E820, A20, wait, ...).
//! - `boot.s`: int 19h, the bootstrap loader.

#![no_std]
#![no_main]

use core::arch::global_asm;

global_asm!(include_str!("defs.s"), options(att_syntax, raw));
global_asm!(include_str!("entry.s"), options(att_syntax, raw));
global_asm!(include_str!("util.s"), options(att_syntax, raw));
global_asm!(include_str!("ata.s"), options(att_syntax, raw));
global_asm!(include_str!("int13.s"), options(att_syntax, raw));
global_asm!(include_str!("int10.s"), options(att_syntax, raw));
global_asm!(include_str!("int16.s"), options(att_syntax, raw));
global_asm!(include_str!("post.s"), options(att_syntax, raw));
global_asm!(include_str!("memtest.s"), options(att_syntax, raw));
global_asm!(include_str!("sys.s"), options(att_syntax, raw));
global_asm!(include_str!("int15.s"), options(att_syntax, raw));
global_asm!(include_str!("boot.s"), options(att_syntax, raw));

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
