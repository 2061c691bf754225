//! The C memory functions the compiler calls (`memcpy` for big moves,
//! `memset` for zeroing, `memcmp`/`bcmp` for slice comparison). Written
//! with string instructions so the compiler cannot turn them back into
//! calls to themselves.

use core::arch::asm;

/// # Safety
/// As C's `memcpy`: `n` bytes readable at `src`, writable at `dst`, no overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: from the caller; DF is clear per the ABI.
    unsafe {
        asm!("rep movsb", inout("rdi") dst => _, inout("rsi") src => _, inout("rcx") n => _,
            options(nostack, preserves_flags));
    }
    dst
}

/// # Safety
/// As C's `memmove`: `n` bytes readable at `src`, writable at `dst`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // Forward copy is safe: dst is below src or past its end.
        // SAFETY: from the caller.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: from the caller; copying backwards (DF set, restored) handles
    // dst inside [src, src+n).
    unsafe {
        asm!("std", "rep movsb", "cld",
            inout("rdi") dst.add(n).wrapping_sub(1) => _,
            inout("rsi") src.add(n).wrapping_sub(1) => _,
            inout("rcx") n => _,
            options(nostack));
    }
    dst
}

/// # Safety
/// As C's `memset`: `n` bytes writable at `dst`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: from the caller.
    unsafe {
        asm!("rep stosb", inout("rdi") dst => _, inout("rcx") n => _, in("al") c as u8,
            options(nostack, preserves_flags));
    }
    dst
}

/// # Safety
/// As C's `memcmp`: `n` bytes readable at both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: `i < n`, in bounds per the caller.
        let (x, y) = unsafe {
            (
                core::ptr::read_volatile(a.add(i)),
                core::ptr::read_volatile(b.add(i)),
            )
        };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// # Safety
/// As C's `bcmp`: `n` bytes readable at both.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: from the caller.
    unsafe { memcmp(a, b, n) }
}

/// The length of a NUL-terminated string.
///
/// # Safety
/// `s` points to a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: from the caller: every byte up to the NUL is readable.
    while unsafe { core::ptr::read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}
