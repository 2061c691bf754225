//! The CPU workload, one source for the guest image (`main.rs`) and the
//! native run on the host (`emulator/benches/peers`, by `#[path]`): only
//! `core`, no allocation, no I/O.
//!
//! Each iteration walks a 4 KiB array of 512 words as
//! `emulator/benches/cpu.rs` does: a load, ALU work (add, xor, a
//! multiply-add), a branch on the low bit of the result (data-dependent,
//! so unpredictable), a call on one side and a store on the other; then
//! copies the array out with `rep movsb` and back with `rep movsq`. The
//! running value `d` carries from element to element, so the loop cannot
//! be vectorised or reordered: it executes one element at a time in both
//! places. About 8,200 instructions per iteration (emu's count, where a
//! `rep movs` is one instruction).

use core::arch::asm;

/// Words in the work array (4 KiB).
pub const WORDS: usize = 512;

/// The work array, its copy target, and the two running values.
pub struct Work {
    array: [u64; WORDS],
    copy: [u64; WORDS],
    b: u64,
    d: u64,
}

impl Work {
    /// The array seeded with a fixed pattern (Knuth's multiplicative hash of
    /// the index), so every machine computes the same checksum.
    pub const fn new() -> Work {
        let mut array = [0u64; WORDS];
        let mut i = 0;
        while i < WORDS {
            array[i] = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7;
            i += 1;
        }
        Work {
            array,
            copy: [0; WORDS],
            b: 0,
            d: 0x1234_5678,
        }
    }

    /// Runs `iterations` passes and returns the checksum: the running
    /// values and every word of the array folded together.
    pub fn run(&mut self, iterations: u64) -> u64 {
        for _ in 0..iterations {
            self.pass();
        }
        self.array
            .iter()
            .fold(self.b ^ self.d.rotate_left(17), |s, &w| {
                s.rotate_left(5) ^ w
            })
    }

    /// One pass over the array, then the two string copies.
    #[inline(never)]
    fn pass(&mut self) {
        let mut d = self.d;
        for i in 0..WORDS {
            let x = (self.array[i].wrapping_add(i as u64)) ^ d;
            d = x.wrapping_mul(3).wrapping_add(7);
            if x & 1 != 0 {
                d = odd(&mut self.b, x, d);
            } else {
                d = d.wrapping_sub(i as u64);
                self.array[i] = d;
            }
        }
        self.d = d;
        copy_bytes(&mut self.copy, &self.array);
        copy_words(&mut self.array, &self.copy);
    }
}

impl Default for Work {
    fn default() -> Self {
        Self::new()
    }
}

/// The called side of the branch: kept out of line so it stays a real
/// `call` and `ret`.
#[inline(never)]
fn odd(b: &mut u64, x: u64, d: u64) -> u64 {
    *b = b.wrapping_add(x);
    d ^ *b
}

/// `rep movsb` of the whole array (4,096 one-byte moves).
fn copy_bytes(dst: &mut [u64; WORDS], src: &[u64; WORDS]) {
    // SAFETY: both arrays are WORDS * 8 bytes, distinct (one is borrowed
    // mutably) and valid for the whole copy; DF is clear (the ABI says so).
    unsafe {
        asm!(
            "rep movsb",
            inout("rcx") WORDS * 8 => _,
            inout("rdi") dst.as_mut_ptr() => _,
            inout("rsi") src.as_ptr() => _,
            options(nostack, preserves_flags),
        );
    }
}

/// `rep movsq` of the whole array (512 eight-byte moves).
fn copy_words(dst: &mut [u64; WORDS], src: &[u64; WORDS]) {
    // SAFETY: as for copy_bytes.
    unsafe {
        asm!(
            "rep movsq",
            inout("rcx") WORDS => _,
            inout("rdi") dst.as_mut_ptr() => _,
            inout("rsi") src.as_ptr() => _,
            options(nostack, preserves_flags),
        );
    }
}
