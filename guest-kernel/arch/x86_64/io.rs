//! Port I/O: `in` and `out` (SDM Vol. 1 §19.2, Vol. 2 IN/OUT/INS/OUTS).
//!
//! Every function is `unsafe`: a port write can reprogram the machine under
//! the kernel's feet, so callers own the device they touch.
//! This is the whole set; each driver uses the widths it needs.
#![allow(dead_code)]

use core::arch::asm;

/// Reads a byte from `port`.
///
/// # Safety
/// The caller owns the device behind `port`.
#[inline]
pub unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: port I/O has no memory effects; the caller owns the device.
    unsafe {
        asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Writes a byte to `port`.
///
/// # Safety
/// The caller owns the device behind `port`.
#[inline]
pub unsafe fn outb(port: u16, v: u8) {
    // SAFETY: port I/O has no memory effects; the caller owns the device.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags))
    };
}

/// Reads a 16-bit word from `port`.
///
/// # Safety
/// The caller owns the device behind `port`.
#[inline]
pub unsafe fn inw(port: u16) -> u16 {
    let v: u16;
    // SAFETY: port I/O has no memory effects; the caller owns the device.
    unsafe {
        asm!("in ax, dx", out("ax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Writes a 16-bit word to `port`.
///
/// # Safety
/// The caller owns the device behind `port`.
#[inline]
pub unsafe fn outw(port: u16, v: u16) {
    // SAFETY: port I/O has no memory effects; the caller owns the device.
    unsafe {
        asm!("out dx, ax", in("dx") port, in("ax") v, options(nomem, nostack, preserves_flags))
    };
}

/// Reads a 32-bit doubleword from `port`.
///
/// # Safety
/// The caller owns the device behind `port`.
#[inline]
pub unsafe fn inl(port: u16) -> u32 {
    let v: u32;
    // SAFETY: port I/O has no memory effects; the caller owns the device.
    unsafe {
        asm!("in eax, dx", out("eax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Writes a 32-bit doubleword to `port`.
///
/// # Safety
/// The caller owns the device behind `port`.
#[inline]
pub unsafe fn outl(port: u16, v: u32) {
    // SAFETY: port I/O has no memory effects; the caller owns the device.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags))
    };
}

/// Reads `buf.len()` words from `port` into `buf` (`rep insw`): the ATA
/// data register's PIO transfer.
///
/// # Safety
/// The caller owns the device behind `port`.
#[inline]
pub unsafe fn insw(port: u16, buf: &mut [u16]) {
    // SAFETY: `rep insw` writes exactly `buf.len()` words at `buf`, which
    // the borrow makes ours; DF is clear per the ABI.
    unsafe {
        asm!("rep insw", in("dx") port, inout("rdi") buf.as_mut_ptr() => _,
             inout("rcx") buf.len() => _, options(nostack, preserves_flags))
    };
}

/// Writes the words of `buf` to `port` (`rep outsw`).
///
/// # Safety
/// The caller owns the device behind `port`.
#[inline]
pub unsafe fn outsw(port: u16, buf: &[u16]) {
    // SAFETY: `rep outsw` reads exactly `buf.len()` words at `buf`; DF is
    // clear per the ABI.
    unsafe {
        asm!("rep outsw", in("dx") port, inout("rsi") buf.as_ptr() => _,
             inout("rcx") buf.len() => _, options(nostack, preserves_flags, readonly))
    };
}

/// A short delay: a write to the POST port 0x80, as Linux's `io_delay`.
///
/// # Safety
/// Port 0x80 is the POST diagnostic port; writing it has no effect.
#[inline]
pub unsafe fn io_delay() {
    // SAFETY: see above.
    unsafe { outb(0x80, 0) };
}
