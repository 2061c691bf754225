//! Shifts and rotates: SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR (SDM Vol. 2B,
//! "RCL/RCR/ROL/ROR" and "SAL/SAR/SHL/SHR") and the double shifts SHLD,
//! SHRD (Vol. 2B, "SHLD", "SHRD").
//!
//! The count is masked to 5 bits (6 for 64-bit operands). A masked count of
//! 0 changes no flags and no memory; a 32-bit register destination is still
//! written, so its upper half is cleared as for any 32-bit write (what
//! hardware does). RCL and RCR of 8- and 16-bit operands rotate through CF
//! by the count modulo 9 and 17.
//!
//! Flags the SDM leaves undefined, and what we do (following what Intel
//! hardware and Bochs do):
//! - OF for counts above 1 is computed with the count-1 formula applied to
//!   the final result: SHL, ROL, RCL: `MSB(result) ^ CF`; SHR, ROR, RCR,
//!   SHRD: `MSB(result) ^ MSB-1(result)`; SHLD: `MSB(result) ^ CF`; SAR: 0.
//! - AF after SHL/SHR/SAR/SHLD/SHRD (count != 0) is cleared.
//! - CF after SHL/SHR of an 8- or 16-bit operand by more than its width is
//!   the last bit shifted out of the (wider) value, i.e. 0.
//! - SHLD/SHRD of a 16-bit operand by 17..31 (result undefined) shift the
//!   48-bit string `dst:src:dst` like P6-family processors do.

use super::{Handler, Loc};
use crate::cpu::decode::Insn;
use crate::cpu::flags::{sign_bit, size_mask};
use crate::cpu::state::rflags::{CF, OF};
use crate::cpu::{Cpu, Exception};
use crate::sized;
use iced_x86::{Instruction, Mnemonic};

const ROL: u8 = 0;
const ROR: u8 = 1;
const RCL: u8 = 2;
const RCR: u8 = 3;
const SHL: u8 = 4;
const SHR: u8 = 5;
const SAR: u8 = 7;

pub fn resolve(i: &Instruction) -> Option<Handler> {
    let n = super::operand_size(i, 0);
    match i.mnemonic() {
        Mnemonic::Rol => sized!(n, shift::<ROL>),
        Mnemonic::Ror => sized!(n, shift::<ROR>),
        Mnemonic::Rcl => sized!(n, shift::<RCL>),
        Mnemonic::Rcr => sized!(n, shift::<RCR>),
        Mnemonic::Shl | Mnemonic::Sal => sized!(n, shift::<SHL>),
        Mnemonic::Shr => sized!(n, shift::<SHR>),
        Mnemonic::Sar => sized!(n, shift::<SAR>),
        Mnemonic::Shld if n > 1 => sized!(n, double_shift::<true>),
        Mnemonic::Shrd if n > 1 => sized!(n, double_shift::<false>),
        _ => None,
    }
}

/// The count mask: 6 bits for 64-bit operands, 5 otherwise.
#[inline(always)]
fn count_mask(n: usize) -> u64 {
    if n == 8 {
        0x3F
    } else {
        0x1F
    }
}

/// Writes back a result whose masked count was 0: memory is left alone,
/// a register is rewritten (a 32-bit one is zero-extended).
#[inline(always)]
fn write_unchanged<const N: usize>(cpu: &mut Cpu, loc: Loc, v: u64) -> Result<(), Exception> {
    match loc {
        Loc::Reg(_) => cpu.write_loc::<N>(loc, v),
        Loc::Mem(_) => Ok(()),
    }
}

/// MSB(v) ^ MSB-1(v) for an `n`-byte value: the OF of right rotates/shifts.
#[inline(always)]
fn top_two_differ(v: u64, n: usize) -> bool {
    ((v ^ (v << 1)) & sign_bit(n as u8)) != 0
}

/// Computes `OP` on `dst` by a masked, nonzero `count` with carry-in `cf`.
/// Returns (result, CF, OF).
#[inline(always)]
fn compute<const OP: u8, const N: usize>(dst: u64, count: u32, cf: bool) -> (u64, bool, bool) {
    let bits = N as u32 * 8;
    let mask = size_mask(N as u8);
    let msb = |v: u64| v & sign_bit(N as u8) != 0;
    match OP {
        ROL | ROR => {
            let c = count % bits;
            let res = if OP == ROL {
                ((dst << c) | (dst >> ((bits - c) % bits))) & mask
            } else {
                ((dst >> c) | (dst << ((bits - c) % bits))) & mask
            };
            if OP == ROL {
                let cf = res & 1 != 0;
                (res, cf, msb(res) != cf)
            } else {
                (res, msb(res), top_two_differ(res, N))
            }
        }
        RCL | RCR => {
            // Rotate the (bits + 1)-bit value CF:dst.
            let w = bits + 1;
            let c = count % w;
            let wmask = (1u128 << w) - 1;
            let v = ((cf as u128) << bits) | dst as u128;
            let rot = if c == 0 {
                v
            } else if OP == RCL {
                ((v << c) | (v >> (w - c))) & wmask
            } else {
                ((v >> c) | (v << (w - c))) & wmask
            };
            let res = rot as u64 & mask;
            let cf = (rot >> bits) & 1 != 0;
            if OP == RCL {
                (res, cf, msb(res) != cf)
            } else {
                (res, cf, top_two_differ(res, N))
            }
        }
        SHL => {
            let res = if count >= 64 {
                0
            } else {
                (dst << count) & mask
            };
            let cf = count <= bits && (dst >> (bits - count)) & 1 != 0;
            (res, cf, msb(res) != cf)
        }
        SHR => {
            let res = dst >> count;
            let cf = (dst >> (count - 1)) & 1 != 0;
            (res, cf, top_two_differ(res, N))
        }
        _ => {
            // SAR: shift the sign-extended value.
            let s = ((dst << (64 - bits)) as i64) >> (64 - bits);
            let res = (s >> count.min(63)) as u64 & mask;
            let cf = (s >> (count - 1).min(63)) & 1 != 0;
            (res, cf, false)
        }
    }
}

/// The shift and rotate group: `op0 = op0 OP count`, count from op1 (an
/// immediate, 1, or CL).
fn shift<const OP: u8, const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let count = cpu.read_op::<1>(insn, 1)? & count_mask(N);
    let loc = cpu.locate::<N>(insn, 0)?;
    let dst = cpu.read_loc::<N>(loc)?;
    if count == 0 {
        return write_unchanged::<N>(cpu, loc, dst);
    }
    let (res, cf, of) = compute::<OP, N>(dst, count as u32, cpu.flags.cf());
    cpu.write_loc::<N>(loc, res)?;
    if matches!(OP, ROL | ROR | RCL | RCR) {
        // Rotates change only CF and OF.
        cpu.flags
            .set_status(CF | OF, (cf as u64 * CF) | (of as u64 * OF));
    } else {
        cpu.flags.set_result(N as u8, res, cf, of, false);
    }
    Ok(())
}

/// SHLD (`LEFT`) and SHRD: shift op0, filling from op1; count from op2.
fn double_shift<const LEFT: bool, const N: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    let count = (cpu.read_op::<1>(insn, 2)? & count_mask(N)) as u32;
    let src = cpu.read_op::<N>(insn, 1)? as u128;
    let loc = cpu.locate::<N>(insn, 0)?;
    let dst = cpu.read_loc::<N>(loc)?;
    if count == 0 {
        return write_unchanged::<N>(cpu, loc, dst);
    }
    let (res, cf, of) = double_compute::<LEFT, N>(dst, src, count);
    cpu.write_loc::<N>(loc, res)?;
    cpu.flags.set_result(N as u8, res, cf, of, false);
    Ok(())
}

/// SHLD/SHRD of `dst` by a masked, nonzero `count`. Returns (result, CF,
/// OF). Counts above the operand width only happen for 16-bit operands.
#[inline(always)]
fn double_compute<const LEFT: bool, const N: usize>(
    dst: u64,
    src: u128,
    count: u32,
) -> (u64, bool, bool) {
    let b = N as u32 * 8;
    let mask = size_mask(N as u8) as u128;
    let d = dst as u128;
    if LEFT {
        let res = if count <= b {
            ((d << count) | (src >> (b - count))) & mask
        } else {
            // dst:src:dst, 48 bits, shifted left; the top 16 bits remain.
            let triple = (d << (2 * b)) | (src << b) | d;
            (triple << count >> (2 * b)) & mask
        };
        let cf = (((d << b) | src) >> (2 * b - count)) & 1 != 0;
        let res = res as u64;
        (res, cf, (res & sign_bit(N as u8) != 0) != cf)
    } else {
        let res = ((((src << b) | d) >> count) | (d << (2 * b - count))) & mask;
        let cf = (d >> (count - 1)) & 1 != 0;
        let res = res as u64;
        (res, cf, top_two_differ(res, N))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcl_8bit_count_is_mod_9() {
        // Rotating the 9-bit CF:dst by 9 gives it back unchanged.
        assert_eq!(compute::<RCL, 1>(0x81, 9, true), (0x81, true, false));
        assert_eq!(compute::<RCL, 1>(0x81, 10, false), (0x02, true, true));
    }

    #[test]
    fn rcr_16bit_count_is_mod_17() {
        assert_eq!(compute::<RCR, 2>(0x8001, 17, false).0, 0x8001);
        assert_eq!(compute::<RCR, 2>(0x0001, 18, false), (0x0000, true, false));
    }

    #[test]
    fn shl_8bit_by_more_than_width_clears_result_and_cf() {
        assert_eq!(compute::<SHL, 1>(0xFF, 9, false), (0, false, false));
        assert_eq!(compute::<SHL, 1>(0x01, 8, false), (0, true, true));
    }

    #[test]
    fn sar_8bit_by_31_fills_with_sign() {
        assert_eq!(compute::<SAR, 1>(0x80, 31, false), (0xFF, true, false));
    }

    #[test]
    fn shld_16bit_count_above_16_shifts_dst_src_dst() {
        // dst:src:dst = 1234:5678:1234, << 20, top 16 bits = 0x6781.
        assert_eq!(double_compute::<true, 2>(0x1234, 0x5678, 20).0, 0x6781);
        // SHRD: src:dst >> 20 | dst << 12 = 0x0567 | 0x4000 (masked 16).
        assert_eq!(double_compute::<false, 2>(0x1234, 0x5678, 20).0, 0x4567);
    }
}
