//! Integer arithmetic and logic: ADD, OR, ADC, SBB, AND, SUB, XOR, CMP,
//! TEST, INC, DEC, NEG, NOT (SDM Vol. 2, one page each; flags per
//! Vol. 1, Appendix A).

use super::Handler;
use crate::cpu::decode::Insn;
use crate::cpu::flags::{sign_bit, size_mask, LazyOp};
use crate::cpu::{Cpu, Exception};
use crate::{formed, formed1};
use iced_x86::{Instruction, Mnemonic};

const ADD: u8 = 0;
const OR: u8 = 1;
const ADC: u8 = 2;
const SBB: u8 = 3;
const AND: u8 = 4;
const SUB: u8 = 5;
const XOR: u8 = 6;
const CMP: u8 = 7;
const TEST: u8 = 8;

pub fn resolve(i: &Instruction) -> Option<Handler> {
    let n = super::operand_size(i, 0);
    match i.mnemonic() {
        Mnemonic::Add => formed!(i, n, alu::<ADD>),
        Mnemonic::Or => formed!(i, n, alu::<OR>),
        Mnemonic::Adc => formed!(i, n, alu::<ADC>),
        Mnemonic::Sbb => formed!(i, n, alu::<SBB>),
        Mnemonic::And => formed!(i, n, alu::<AND>),
        Mnemonic::Sub => formed!(i, n, alu::<SUB>),
        Mnemonic::Xor => formed!(i, n, alu::<XOR>),
        Mnemonic::Cmp => formed!(i, n, alu::<CMP>),
        Mnemonic::Test => formed!(i, n, alu::<TEST>),
        Mnemonic::Inc => formed1!(i, n, inc_dec::<true>),
        Mnemonic::Dec => formed1!(i, n, inc_dec::<false>),
        Mnemonic::Neg => formed1!(i, n, neg),
        Mnemonic::Not => formed1!(i, n, not),
        _ => None,
    }
}

/// The two-operand ALU group: `op0 = op0 OP op1`, flags from the result.
/// `D` and `S` are the operand kinds (`formed!`).
fn alu<const OP: u8, const D: u8, const S: u8, const N: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    let src = cpu.read_as::<S, N>(insn, 1)?;
    if OP == CMP || OP == TEST {
        let dst = cpu.read_as::<D, N>(insn, 0)?;
        if OP == CMP {
            cpu.flags
                .set_lazy(LazyOp::Sub, N as u8, dst, src, dst.wrapping_sub(src));
        } else {
            cpu.flags
                .set_lazy(LazyOp::Logic, N as u8, dst, src, dst & src);
        }
        return Ok(());
    }
    let loc = cpu.locate_as::<D, N>(insn, 0)?;
    let dst = cpu.read_loc::<N>(loc)?;
    let mask = size_mask(N as u8);
    let res = match OP {
        ADD => dst.wrapping_add(src),
        OR => dst | src,
        AND => dst & src,
        SUB => dst.wrapping_sub(src),
        XOR => dst ^ src,
        ADC => dst.wrapping_add(src).wrapping_add(cpu.flags.cf() as u64),
        _ => dst.wrapping_sub(src).wrapping_sub(cpu.flags.cf() as u64),
    } & mask;
    cpu.write_loc::<N>(loc, res)?;
    match OP {
        ADD => cpu.flags.set_lazy(LazyOp::Add, N as u8, dst, src, res),
        SUB => cpu.flags.set_lazy(LazyOp::Sub, N as u8, dst, src, res),
        OR | AND | XOR => cpu.flags.set_lazy(LazyOp::Logic, N as u8, dst, src, res),
        ADC => {
            let c = cpu.flags.cf() as u128;
            let cf = dst as u128 + src as u128 + c > mask as u128;
            let of = (dst ^ res) & (src ^ res) & sign_bit(N as u8) != 0;
            let af = (dst ^ src ^ res) & 0x10 != 0;
            cpu.flags.set_result(N as u8, res, cf, of, af);
        }
        _ => {
            let c = cpu.flags.cf() as u128;
            let cf = (dst as u128) < src as u128 + c;
            let of = (dst ^ src) & (dst ^ res) & sign_bit(N as u8) != 0;
            let af = (dst ^ src ^ res) & 0x10 != 0;
            cpu.flags.set_result(N as u8, res, cf, of, af);
        }
    }
    Ok(())
}

/// INC (`UP`) and DEC: CF is left as it was.
fn inc_dec<const UP: bool, const D: u8, const N: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    let loc = cpu.locate_as::<D, N>(insn, 0)?;
    let dst = cpu.read_loc::<N>(loc)?;
    let mask = size_mask(N as u8);
    let res = if UP {
        dst.wrapping_add(1)
    } else {
        dst.wrapping_sub(1)
    } & mask;
    cpu.write_loc::<N>(loc, res)?;
    let op = if UP { LazyOp::Inc } else { LazyOp::Dec };
    cpu.flags.set_lazy(op, N as u8, dst, 1, res);
    Ok(())
}

/// NEG: `0 - op0`; CF is set unless the operand was zero.
fn neg<const D: u8, const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let loc = cpu.locate_as::<D, N>(insn, 0)?;
    let src = cpu.read_loc::<N>(loc)?;
    let res = 0u64.wrapping_sub(src) & size_mask(N as u8);
    cpu.write_loc::<N>(loc, res)?;
    cpu.flags.set_lazy(LazyOp::Sub, N as u8, 0, src, res);
    Ok(())
}

/// NOT: no flags change.
fn not<const D: u8, const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let loc = cpu.locate_as::<D, N>(insn, 0)?;
    let v = cpu.read_loc::<N>(loc)?;
    cpu.write_loc::<N>(loc, !v & size_mask(N as u8))
}
