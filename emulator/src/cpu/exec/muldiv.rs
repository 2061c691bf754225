//! Multiply and divide: MUL, IMUL (one-, two- and three-operand forms),
//! DIV, IDIV (SDM Vol. 2A/2B, "MUL", "IMUL", "DIV", "IDIV").
//!
//! The one-operand forms use the accumulator pair: AX for bytes (AL * src,
//! AX / src -> AL rem AH), DX:AX, EDX:EAX, RDX:RAX for wider operands.
//!
//! Flags:
//! - MUL/IMUL set CF = OF when the full product does not fit the low half
//!   (MUL: the high half is not zero; IMUL: the product is not the sign
//!   extension of its low half). SF, ZF, AF, PF are undefined: we set SF,
//!   ZF and PF from the low half of the product (the value written to the
//!   destination for the two- and three-operand forms) and clear AF, as
//!   Bochs models Intel processors.
//! - DIV/IDIV leave every flag undefined; we leave them unchanged.
//! - DIV/IDIV raise #DE when the divisor is 0 or the quotient does not fit
//!   the destination (including INT_MIN / -1), before anything changes.

use super::Handler;
use crate::cpu::decode::Insn;
use crate::cpu::flags::size_mask;
use crate::cpu::{Cpu, Exception};
use crate::sized;
use iced_x86::{Instruction, Mnemonic};

const RAX: usize = 0;
const RDX: usize = 2;

pub fn resolve(i: &Instruction) -> Option<Handler> {
    let n = super::operand_size(i, 0);
    match (i.mnemonic(), i.op_count()) {
        (Mnemonic::Mul, 1) => sized!(n, widening::<false>),
        (Mnemonic::Imul, 1) => sized!(n, widening::<true>),
        (Mnemonic::Imul, 2 | 3) => sized!(n, imul_truncating),
        (Mnemonic::Div, 1) => sized!(n, divide::<false>),
        (Mnemonic::Idiv, 1) => sized!(n, divide::<true>),
        _ => None,
    }
}

/// Sign-extends an `n`-byte value to i128.
#[inline(always)]
fn signed(v: u64, n: usize) -> i128 {
    let shift = 64 - n as u32 * 8;
    (((v << shift) as i64) >> shift) as i128
}

/// Reads the double-width dividend (AX, DX:AX, EDX:EAX or RDX:RAX).
#[inline(always)]
fn dividend<const N: usize>(cpu: &Cpu) -> u128 {
    if N == 1 {
        (cpu.gpr[RAX] & 0xFFFF) as u128
    } else {
        let m = size_mask(N as u8) as u128;
        ((cpu.gpr[RDX] as u128 & m) << (N * 8)) | (cpu.gpr[RAX] as u128 & m)
    }
}

/// Writes a (low, high) pair to AL:AH or to rAX and rDX.
#[inline(always)]
fn write_pair<const N: usize>(cpu: &mut Cpu, low: u64, high: u64) {
    if N == 1 {
        cpu.set_gpr_sized(RAX, 2, (low & 0xFF) | ((high & 0xFF) << 8));
    } else {
        cpu.set_gpr_sized(RAX, N as u8, low);
        cpu.set_gpr_sized(RDX, N as u8, high);
    }
}

/// One-operand MUL and IMUL (`SIGNED`): accumulator * op0, double width.
fn widening<const SIGNED: bool, const N: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    let src = cpu.read_op::<N>(insn, 0)?;
    let acc = cpu.gpr_sized(RAX, N as u8);
    let bits = N * 8;
    let mask = size_mask(N as u8);
    let (low, high, overflow) = if SIGNED {
        let p = signed(acc, N) * signed(src, N);
        let low = p as u64 & mask;
        let high = (p >> bits) as u64 & mask;
        (low, high, p != signed(low, N))
    } else {
        let p = acc as u128 * src as u128;
        let low = p as u64 & mask;
        let high = (p >> bits) as u64 & mask;
        (low, high, high != 0)
    };
    write_pair::<N>(cpu, low, high);
    cpu.flags
        .set_result(N as u8, low, overflow, overflow, false);
    Ok(())
}

/// Two- and three-operand IMUL: op0 = op0 * op1, or op0 = op1 * imm,
/// truncated to the operand size.
fn imul_truncating<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let (a, b) = if insn.op_count() == 3 {
        (cpu.read_op::<N>(insn, 1)?, cpu.read_op::<N>(insn, 2)?)
    } else {
        (cpu.read_op::<N>(insn, 0)?, cpu.read_op::<N>(insn, 1)?)
    };
    let p = signed(a, N) * signed(b, N);
    let res = p as u64 & size_mask(N as u8);
    let overflow = p != signed(res, N);
    cpu.write_op::<N>(insn, 0, res)?;
    cpu.flags
        .set_result(N as u8, res, overflow, overflow, false);
    Ok(())
}

/// DIV and IDIV (`SIGNED`): the double-width accumulator by op0.
fn divide<const SIGNED: bool, const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let divisor = cpu.read_op::<N>(insn, 0)?;
    if divisor == 0 {
        return Err(Exception::DivideError);
    }
    let mask = size_mask(N as u8);
    let num = dividend::<N>(cpu);
    let (q, r) = if SIGNED {
        let bits = 2 * N as u32 * 8;
        // Sign-extend the 2N-byte dividend to i128.
        let n = ((num << (128 - bits)) as i128) >> (128 - bits);
        let d = signed(divisor, N);
        // checked_div fails only for i128::MIN / -1, itself out of range.
        let q = n.checked_div(d).ok_or(Exception::DivideError)?;
        let r = n - q * d;
        let half = 1i128 << (N * 8 - 1);
        if q < -half || q >= half {
            return Err(Exception::DivideError);
        }
        (q as u64 & mask, r as u64 & mask)
    } else {
        let d = divisor as u128;
        let q = num / d;
        if q > mask as u128 {
            return Err(Exception::DivideError);
        }
        (q as u64, (num % d) as u64)
    };
    write_pair::<N>(cpu, q, r);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_sign_extends_each_width() {
        assert_eq!(signed(0x80, 1), -128);
        assert_eq!(signed(0x7FFF, 2), 0x7FFF);
        assert_eq!(signed(u64::MAX, 8), -1);
    }
}
