//! Shuffles and lane moves (SDM Vol. 2, one page each): PSHUFD, PSHUFLW,
//! PSHUFHW, SHUFPS, SHUFPD, the byte shifts PSLLDQ/PSRLDQ, PINSRW, PEXTRW,
//! and the sign-mask extractions MOVMSKPS, MOVMSKPD, PMOVMSKB.
//!
//! None of these touch MXCSR; they are plain lane arithmetic.

use super::arith::binary;
use super::{check_sse, join, lanes, read_mem, xmm_index};
use crate::cpu::decode::Insn;
use crate::cpu::exec::Handler;
use crate::cpu::{Cpu, Exception};
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

/// `binary` for an immediate-controlled lane operation `f(dst, src, imm8)`.
macro_rules! lanewise {
    ($f:expr) => {
        Some(
            (|cpu: &mut Cpu, insn: &Insn| {
                binary(cpu, insn, |d, s, _, imm| {
                    let imm = if insn.op_count() == 3 { imm } else { s as u8 };
                    ($f(d, s, imm), 0)
                })
            }) as Handler,
        )
    };
}

pub fn resolve(i: &Instruction) -> Option<Handler> {
    match i.code() {
        Code::Pinsrw_xmm_r32m16_imm8 | Code::Pinsrw_xmm_r64m16_imm8 => return Some(pinsrw),
        Code::Pextrw_r32_xmm_imm8 => return Some(pextrw::<4>),
        Code::Pextrw_r64_xmm_imm8 => return Some(pextrw::<8>),
        _ => {}
    }
    match i.mnemonic() {
        Mnemonic::Pshufd => lanewise!(|_, s, imm| pshufd(s, imm)),
        Mnemonic::Pshuflw => lanewise!(|_, s, imm| pshuflw(s, imm)),
        Mnemonic::Pshufhw => lanewise!(|_, s, imm| pshufhw(s, imm)),
        Mnemonic::Shufps => lanewise!(shufps),
        Mnemonic::Shufpd => lanewise!(shufpd),
        Mnemonic::Pslldq => lanewise!(|d, _, imm| pslldq(d, imm)),
        Mnemonic::Psrldq => lanewise!(|d, _, imm| psrldq(d, imm)),
        Mnemonic::Movmskps => Some(|c: &mut Cpu, n: &Insn| extract(c, n, movmskps)),
        Mnemonic::Movmskpd => Some(|c: &mut Cpu, n: &Insn| extract(c, n, movmskpd)),
        Mnemonic::Pmovmskb => Some(|c: &mut Cpu, n: &Insn| extract(c, n, pmovmskb)),
        _ => None,
    }
}

/// Picks lane `imm[2k+1:2k]` of `v` for each of the four lanes `k`.
fn select4(v: [u64; 4], imm: u8) -> [u64; 4] {
    core::array::from_fn(|k| v[(imm as usize >> (2 * k)) & 3])
}

pub fn pshufd(s: u128, imm: u8) -> u128 {
    join(select4(lanes::<4>(s), imm))
}

pub fn pshuflw(s: u128, imm: u8) -> u128 {
    let words = lanes::<8>(s);
    let picked: [u64; 4] = core::array::from_fn(|k| words[(imm as usize >> (2 * k)) & 3]);
    (s & !(u64::MAX as u128)) | pack_words(picked)
}

pub fn pshufhw(s: u128, imm: u8) -> u128 {
    let words = lanes::<8>(s);
    let picked: [u64; 4] = core::array::from_fn(|k| words[4 + ((imm as usize >> (2 * k)) & 3)]);
    (s & u64::MAX as u128) | pack_words(picked) << 64
}

/// Four 16-bit words into the low 64 bits.
fn pack_words(w: [u64; 4]) -> u128 {
    w.iter().rev().fold(0u128, |acc, &x| acc << 16 | x as u128)
}

/// SHUFPS: the two low lanes come from the destination, the two high from
/// the source.
pub fn shufps(d: u128, s: u128, imm: u8) -> u128 {
    let (d, s) = (lanes::<4>(d), lanes::<4>(s));
    let i = |k: usize| (imm as usize >> (2 * k)) & 3;
    join([d[i(0)], d[i(1)], s[i(2)], s[i(3)]])
}

pub fn shufpd(d: u128, s: u128, imm: u8) -> u128 {
    let (d, s) = (lanes::<2>(d), lanes::<2>(s));
    join([d[imm as usize & 1], s[(imm as usize >> 1) & 1]])
}

/// PSLLDQ: shifts left by whole bytes; a count over 15 clears the register.
pub fn pslldq(d: u128, imm: u8) -> u128 {
    if imm > 15 {
        0
    } else {
        d << (8 * imm as u32)
    }
}

pub fn psrldq(d: u128, imm: u8) -> u128 {
    if imm > 15 {
        0
    } else {
        d >> (8 * imm as u32)
    }
}

/// PINSRW xmm, r32/m16, imm8: replaces word `imm8[2:0]`.
fn pinsrw(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_sse(cpu)?;
    let w = match insn.op1_kind() {
        OpKind::Register => cpu.reg::<2>(insn.op1_register().full_register32()) as u128,
        _ => read_mem(cpu, insn, 2)?,
    } & 0xFFFF;
    let shift = 16 * (insn.immediate8() as u32 & 7);
    let d = &mut cpu.xmm[xmm_index(insn.op0_register())];
    *d = (*d & !(0xFFFF << shift)) | w << shift;
    Ok(())
}

/// PEXTRW r32/r64, xmm, imm8: word `imm8[2:0]`, zero-extended.
fn pextrw<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_sse(cpu)?;
    let shift = 16 * (insn.immediate8() as u32 & 7);
    let w = (cpu.xmm[xmm_index(insn.op1_register())] >> shift) as u64 & 0xFFFF;
    cpu.set_reg::<N>(insn.op0_register(), w);
    Ok(())
}

pub fn movmskps(s: u128) -> u64 {
    lanes::<4>(s)
        .iter()
        .enumerate()
        .fold(0, |m, (k, &l)| m | (l >> 31) << k)
}

pub fn movmskpd(s: u128) -> u64 {
    lanes::<2>(s)
        .iter()
        .enumerate()
        .fold(0, |m, (k, &l)| m | (l >> 63) << k)
}

pub fn pmovmskb(s: u128) -> u64 {
    lanes::<16>(s)
        .iter()
        .enumerate()
        .fold(0, |m, (k, &l)| m | (l >> 7) << k)
}

/// MOVMSKPS-style handlers: a GPR (32 or 64 bits, zero-extended either
/// way) gets `f` of the source register.
fn extract(cpu: &mut Cpu, insn: &Insn, f: impl Fn(u128) -> u64) -> Result<(), Exception> {
    check_sse(cpu)?;
    let s = cpu.xmm[xmm_index(insn.op1_register())];
    cpu.set_reg_any(insn.op0_register(), f(s));
    Ok(())
}
