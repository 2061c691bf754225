//! SSE2 integer SIMD computed in software, lane by lane (SDM Vol. 2, one
//! page each): PADD/PSUB (wrapping and saturating), logic, compares,
//! multiplies, averages, min/max, PSADBW, shifts, unpacks and packs, and
//! the bitwise float logic (ANDPS ... XORPD), which is the same bit
//! operation.
//!
//! Each operation is a function `(dst, src) -> dst` over 128-bit values,
//! built from `map2`, which applies a lane function to `L` lanes. Shifts
//! take their count from the low quadword of the source (the `imm8` forms
//! pass the immediate there).

use super::{join, lanes};

/// Applies `f` to each pair of `L` lanes, keeping `128 / L` bits of each
/// result.
#[inline(always)]
fn map2<const L: usize>(d: u128, s: u128, f: impl Fn(u64, u64) -> u64) -> u128 {
    let bits = 128 / L;
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    let (d, s) = (lanes::<L>(d), lanes::<L>(s));
    join::<L>(core::array::from_fn(|i| f(d[i], s[i]) & mask))
}

/// A lane of `bits` bits read as signed.
#[inline(always)]
fn sx(v: u64, bits: u32) -> i64 {
    ((v << (64 - bits)) as i64) >> (64 - bits)
}

/// Signed saturation of `v` to `bits` bits.
#[inline(always)]
fn sat_signed(v: i64, bits: u32) -> u64 {
    let max = (1i64 << (bits - 1)) - 1;
    v.clamp(-max - 1, max) as u64
}

/// Unsigned saturation of `v` to `bits` bits.
#[inline(always)]
fn sat_unsigned(v: i64, bits: u32) -> u64 {
    v.clamp(0, (1i64 << bits) - 1) as u64
}

fn all_ones(on: bool) -> u64 {
    if on {
        u64::MAX
    } else {
        0
    }
}

// Wrapping add and subtract.
pub fn paddb(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, u64::wrapping_add)
}
pub fn paddw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, u64::wrapping_add)
}
pub fn paddd(d: u128, s: u128) -> u128 {
    map2::<4>(d, s, u64::wrapping_add)
}
pub fn paddq(d: u128, s: u128) -> u128 {
    map2::<2>(d, s, u64::wrapping_add)
}
pub fn psubb(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, u64::wrapping_sub)
}
pub fn psubw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, u64::wrapping_sub)
}
pub fn psubd(d: u128, s: u128) -> u128 {
    map2::<4>(d, s, u64::wrapping_sub)
}
pub fn psubq(d: u128, s: u128) -> u128 {
    map2::<2>(d, s, u64::wrapping_sub)
}

// Saturating add and subtract, signed (S) and unsigned (US).
pub fn paddsb(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, |a, b| sat_signed(sx(a, 8) + sx(b, 8), 8))
}
pub fn paddsw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| sat_signed(sx(a, 16) + sx(b, 16), 16))
}
pub fn paddusb(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, |a, b| sat_unsigned(a as i64 + b as i64, 8))
}
pub fn paddusw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| sat_unsigned(a as i64 + b as i64, 16))
}
pub fn psubsb(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, |a, b| sat_signed(sx(a, 8) - sx(b, 8), 8))
}
pub fn psubsw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| sat_signed(sx(a, 16) - sx(b, 16), 16))
}
pub fn psubusb(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, |a, b| sat_unsigned(a as i64 - b as i64, 8))
}
pub fn psubusw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| sat_unsigned(a as i64 - b as i64, 16))
}

// Bitwise logic (also ANDPS, ANDNPS, ORPS, XORPS and the PD forms).
pub fn and(d: u128, s: u128) -> u128 {
    d & s
}
pub fn andn(d: u128, s: u128) -> u128 {
    !d & s
}
pub fn or(d: u128, s: u128) -> u128 {
    d | s
}
pub fn xor(d: u128, s: u128) -> u128 {
    d ^ s
}

// Compares: all ones where true.
pub fn pcmpeqb(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, |a, b| all_ones(a == b))
}
pub fn pcmpeqw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| all_ones(a == b))
}
pub fn pcmpeqd(d: u128, s: u128) -> u128 {
    map2::<4>(d, s, |a, b| all_ones(a == b))
}
pub fn pcmpgtb(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, |a, b| all_ones(sx(a, 8) > sx(b, 8)))
}
pub fn pcmpgtw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| all_ones(sx(a, 16) > sx(b, 16)))
}
pub fn pcmpgtd(d: u128, s: u128) -> u128 {
    map2::<4>(d, s, |a, b| all_ones(sx(a, 32) > sx(b, 32)))
}

// Multiplies.
pub fn pmullw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, u64::wrapping_mul)
}
pub fn pmulhw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| ((sx(a, 16) * sx(b, 16)) >> 16) as u64)
}
pub fn pmulhuw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| (a * b) >> 16)
}
/// PMULUDQ: the even doublewords, multiplied to full quadwords.
pub fn pmuludq(d: u128, s: u128) -> u128 {
    map2::<2>(d, s, |a, b| (a & 0xFFFF_FFFF) * (b & 0xFFFF_FFFF))
}
/// PMADDWD: adjacent signed word products summed into doublewords.
pub fn pmaddwd(d: u128, s: u128) -> u128 {
    map2::<4>(d, s, |a, b| {
        let lo = sx(a & 0xFFFF, 16) * sx(b & 0xFFFF, 16);
        let hi = sx(a >> 16, 16) * sx(b >> 16, 16);
        // Only -32768 * -32768 twice overflows; it wraps to 0x80000000.
        (lo + hi) as u64
    })
}

// Averages (rounded up), minimum and maximum.
pub fn pavgb(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, |a, b| (a + b + 1) >> 1)
}
pub fn pavgw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| (a + b + 1) >> 1)
}
pub fn pminub(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, u64::min)
}
pub fn pmaxub(d: u128, s: u128) -> u128 {
    map2::<16>(d, s, u64::max)
}
pub fn pminsw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| if sx(a, 16) < sx(b, 16) { a } else { b })
}
pub fn pmaxsw(d: u128, s: u128) -> u128 {
    map2::<8>(d, s, |a, b| if sx(a, 16) > sx(b, 16) { a } else { b })
}

/// PSADBW: per quadword, the sum of absolute byte differences in the low
/// word, the rest zero.
pub fn psadbw(d: u128, s: u128) -> u128 {
    map2::<2>(d, s, |a, b| {
        (0..8)
            .map(|i| ((a >> (8 * i)) & 0xFF).abs_diff((b >> (8 * i)) & 0xFF))
            .sum()
    })
}

// Shifts by the count in the source's low quadword. Logical shifts past
// the lane width clear it; arithmetic ones fill it with the sign.
fn shift_left<const L: usize>(d: u128, s: u128) -> u128 {
    let (count, bits) = (s as u64, 128 / L as u64);
    map2::<L>(d, 0, |a, _| if count >= bits { 0 } else { a << count })
}
fn shift_right<const L: usize>(d: u128, s: u128) -> u128 {
    let (count, bits) = (s as u64, 128 / L as u64);
    map2::<L>(d, 0, |a, _| if count >= bits { 0 } else { a >> count })
}
fn shift_arith<const L: usize>(d: u128, s: u128) -> u128 {
    let bits = 128 / L as u64;
    let count = (s as u64).min(bits - 1);
    map2::<L>(d, 0, |a, _| (sx(a, bits as u32) >> count) as u64)
}
pub fn psllw(d: u128, s: u128) -> u128 {
    shift_left::<8>(d, s)
}
pub fn pslld(d: u128, s: u128) -> u128 {
    shift_left::<4>(d, s)
}
pub fn psllq(d: u128, s: u128) -> u128 {
    shift_left::<2>(d, s)
}
pub fn psrlw(d: u128, s: u128) -> u128 {
    shift_right::<8>(d, s)
}
pub fn psrld(d: u128, s: u128) -> u128 {
    shift_right::<4>(d, s)
}
pub fn psrlq(d: u128, s: u128) -> u128 {
    shift_right::<2>(d, s)
}
pub fn psraw(d: u128, s: u128) -> u128 {
    shift_arith::<8>(d, s)
}
pub fn psrad(d: u128, s: u128) -> u128 {
    shift_arith::<4>(d, s)
}

/// Interleaves the low (`HIGH` false) or high halves of `L` lanes: d0 s0
/// d1 s1 ...
fn unpack<const L: usize, const HIGH: bool>(d: u128, s: u128) -> u128 {
    let (d, s) = (lanes::<L>(d), lanes::<L>(s));
    let base = if HIGH { L / 2 } else { 0 };
    join::<L>(core::array::from_fn(|i| {
        let k = base + i / 2;
        if i % 2 == 0 {
            d[k]
        } else {
            s[k]
        }
    }))
}
pub fn punpcklbw(d: u128, s: u128) -> u128 {
    unpack::<16, false>(d, s)
}
pub fn punpcklwd(d: u128, s: u128) -> u128 {
    unpack::<8, false>(d, s)
}
pub fn punpckldq(d: u128, s: u128) -> u128 {
    unpack::<4, false>(d, s)
}
pub fn punpcklqdq(d: u128, s: u128) -> u128 {
    unpack::<2, false>(d, s)
}
pub fn punpckhbw(d: u128, s: u128) -> u128 {
    unpack::<16, true>(d, s)
}
pub fn punpckhwd(d: u128, s: u128) -> u128 {
    unpack::<8, true>(d, s)
}
pub fn punpckhdq(d: u128, s: u128) -> u128 {
    unpack::<4, true>(d, s)
}
pub fn punpckhqdq(d: u128, s: u128) -> u128 {
    unpack::<2, true>(d, s)
}

/// Narrows the `L` lanes of the destination then of the source to half
/// their width with saturation `sat`.
fn pack<const L: usize, const L2: usize>(d: u128, s: u128, sat: impl Fn(u64) -> u64) -> u128 {
    let (d, s) = (lanes::<L>(d), lanes::<L>(s));
    join::<L2>(core::array::from_fn(|i| {
        sat(if i < L { d[i] } else { s[i - L] })
    }))
}
pub fn packsswb(d: u128, s: u128) -> u128 {
    pack::<8, 16>(d, s, |w| sat_signed(sx(w, 16), 8) & 0xFF)
}
pub fn packssdw(d: u128, s: u128) -> u128 {
    pack::<4, 8>(d, s, |w| sat_signed(sx(w, 32), 16) & 0xFFFF)
}
pub fn packuswb(d: u128, s: u128) -> u128 {
    pack::<8, 16>(d, s, |w| sat_unsigned(sx(w, 16), 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paddsw_saturates_at_both_ends() {
        assert_eq!(paddsw(0x7FFF, 1), 0x7FFF);
        assert_eq!(paddsw(0x8000, 0xFFFF), 0x8000);
    }

    #[test]
    fn psraw_by_more_than_fifteen_fills_with_the_sign() {
        assert_eq!(psraw(0x8000_0001, 40), 0xFFFF_0000);
    }

    #[test]
    fn pmaddwd_of_two_minimum_pairs_wraps() {
        assert_eq!(pmaddwd(0x8000_8000, 0x8000_8000), 0x8000_0000);
    }

    #[test]
    fn packuswb_clamps_negative_words_to_zero() {
        assert_eq!(packuswb(0x0100_FFFF_0080_0042, 0), 0xFF_00_80_42);
    }
}
