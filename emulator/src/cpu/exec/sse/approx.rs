//! RCPPS, RCPSS, RSQRTPS, RSQRTSS: approximate reciprocals (SDM Vol. 2,
//! RCPPS and RSQRTPS).
//!
//! The SDM only bounds the error (|relative error| <= 1.5 * 2^-12) and real
//! CPUs differ in the exact bits, so running the host's instruction would
//! make guests see different results on different hosts. Instead this CPU
//! computes the value in f64 and rounds it to a full single-precision
//! significand (relative error <= 2^-24, far inside the SDM bound), the
//! same on every host; any real CPU's answer is then within the SDM bound
//! of ours too. Special cases follow the SDM: ±0 and denormal
//! inputs give ±infinity, ±infinity gives ±0, a NaN is returned quieted,
//! RSQRT of a negative number is the QNaN indefinite, and a reciprocal too
//! small for a normal float is flushed to ±0. No MXCSR flag is raised and
//! MXCSR's rounding mode, DAZ and FTZ play no part.

use super::arith::software;
use super::{join, lanes};
use crate::cpu::decode::Insn;
use crate::cpu::exec::Handler;
use crate::cpu::Cpu;
use iced_x86::{Instruction, Mnemonic};

const SIGN: u32 = 0x8000_0000;
const EXP: u32 = 0x7F80_0000;
const FRACTION: u32 = 0x007F_FFFF;
const QUIET: u32 = 0x0040_0000;
const INFINITY: u32 = EXP;
/// The QNaN floating-point indefinite.
const INDEFINITE: u32 = 0xFFC0_0000;
/// Significant bits kept of the approximation.
const PRECISION: u32 = 24;

/// Rounds a positive finite f64 to `PRECISION` significant bits, then to
/// f32 bits (flushing a result below the normal range to zero).
fn approximate(x: f64) -> u32 {
    let drop = 52 - (PRECISION - 1);
    let bits = x.to_bits();
    let rounded = f64::from_bits((bits + (1 << (drop - 1))) & !((1u64 << drop) - 1));
    if rounded < f32::MIN_POSITIVE as f64 {
        0
    } else {
        (rounded as f32).to_bits()
    }
}

/// Operands with no ordinary value: NaN, infinity, zero or denormal.
fn special(x: u32) -> Option<u32> {
    let sign = x & SIGN;
    match (x & EXP, x & FRACTION) {
        (EXP, 0) => Some(sign),
        (EXP, _) => Some(x | QUIET),
        (0, _) => Some(sign | INFINITY),
        _ => None,
    }
}

/// An approximation of 1/x.
pub fn rcp(x: u32) -> u32 {
    special(x).unwrap_or_else(|| (x & SIGN) | approximate(1.0 / f32::from_bits(x & !SIGN) as f64))
}

/// An approximation of 1/sqrt(x).
pub fn rsqrt(x: u32) -> u32 {
    if x & SIGN != 0 && x & EXP != 0 && x & EXP != EXP || x == SIGN | INFINITY {
        return INDEFINITE;
    }
    special(x).unwrap_or_else(|| approximate(1.0 / (f32::from_bits(x) as f64).sqrt()))
}

fn packed(v: u128, f: fn(u32) -> u32) -> u128 {
    join(lanes::<4>(v).map(|l| f(l as u32) as u64))
}

fn scalar(d: u128, s: u128, f: fn(u32) -> u32) -> u128 {
    (d & !0xFFFF_FFFF) | f(s as u32) as u128
}

pub fn resolve(i: &Instruction) -> Option<Handler> {
    Some(match i.mnemonic() {
        Mnemonic::Rcpps => |c: &mut Cpu, n: &Insn| software(c, n, |_, s| packed(s, rcp)),
        Mnemonic::Rcpss => |c: &mut Cpu, n: &Insn| software(c, n, |d, s| scalar(d, s, rcp)),
        Mnemonic::Rsqrtps => |c: &mut Cpu, n: &Insn| software(c, n, |_, s| packed(s, rsqrt)),
        Mnemonic::Rsqrtss => |c: &mut Cpu, n: &Insn| software(c, n, |d, s| scalar(d, s, rsqrt)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relative_error(approx: u32, exact: f64) -> f64 {
        ((f32::from_bits(approx) as f64 - exact) / exact).abs()
    }

    #[test]
    fn rcp_of_normal_values_is_within_the_sdm_bound() {
        for x in [1.0f32, 3.0, -7.5, 1e-30, 1e30, 0.1, 123456.78] {
            let err = relative_error(rcp(x.to_bits()), 1.0 / x as f64);
            assert!(err <= 1.5 / 4096.0, "rcp({x}) error {err}");
        }
    }

    #[test]
    fn rsqrt_of_normal_values_is_within_the_sdm_bound() {
        for x in [1.0f32, 3.0, 7.5, 1e-30, 1e30, 0.1, 123456.78] {
            let err = relative_error(rsqrt(x.to_bits()), 1.0 / (x as f64).sqrt());
            assert!(err <= 1.5 / 4096.0, "rsqrt({x}) error {err}");
        }
    }

    #[test]
    fn rcp_special_operands_follow_the_sdm() {
        assert_eq!(rcp(0), INFINITY);
        assert_eq!(rcp(SIGN), SIGN | INFINITY);
        assert_eq!(rcp(1), INFINITY, "denormal input counts as zero");
        assert_eq!(rcp(SIGN | INFINITY), SIGN);
        assert_eq!(rcp(0x7F80_0001), 0x7FC0_0001, "SNaN is quieted");
        assert_eq!(
            rcp(f32::MAX.to_bits()),
            0,
            "tiny reciprocal flushes to zero"
        );
    }

    #[test]
    fn rsqrt_of_negative_is_indefinite_but_of_negative_zero_is_minus_infinity() {
        assert_eq!(rsqrt((-4.0f32).to_bits()), INDEFINITE);
        assert_eq!(rsqrt(SIGN | INFINITY), INDEFINITE);
        assert_eq!(rsqrt(SIGN), SIGN | INFINITY);
        assert_eq!(rsqrt(INFINITY), 0);
    }
}
