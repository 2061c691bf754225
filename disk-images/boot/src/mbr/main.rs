//! The MBR boot code: 16-bit real-mode assembly (`mbr.s`), assembled by
//! rustc's `global_asm!` and linked by `mbr.ld` at 0x7C00.
//!
//! It checks for the int 13h extensions, loads stage 2 from LBA 1 to
//! 0x8000 (its first sector carries a header with a magic number and its
//! length), and jumps to it with DL = the BIOS boot drive. See the
//! README for the memory map.

#![no_std]
#![no_main]

core::arch::global_asm!(include_str!("mbr.s"), options(att_syntax, raw));

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
