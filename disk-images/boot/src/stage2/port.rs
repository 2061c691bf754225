//! x86 port I/O.

use core::arch::asm;

pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: stage 2 runs at CPL 0 and owns the machine; reading a port
    // has no memory effects.
    unsafe {
        asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

pub fn outb(port: u16, v: u8) {
    // SAFETY: as for `inb`; the callers only write device registers.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags))
    };
}

/// Fills `buf` with `buf.len() / 2` 16-bit words from `port` (`rep insw`),
/// each stored little-endian as the data register delivers it.
pub fn insw(port: u16, buf: &mut [u8]) {
    // SAFETY: `buf` is valid for its length, which covers len/2 words;
    // `rep insw` has no alignment requirement; DF is clear.
    unsafe {
        asm!("rep insw", in("dx") port, inout("rdi") buf.as_mut_ptr() => _,
             inout("rcx") buf.len() / 2 => _, options(nostack, preserves_flags));
    }
}
