//! The `xmm = op(xmm, xmm/mem[, imm8])` instructions, as one table: integer
//! SIMD (PADD..PSADBW, shifts by xmm or imm8, unpacks, packs), packed and
//! scalar float arithmetic (ADD, SUB, MUL, DIV, SQRT, MIN, MAX), logic
//! (AND/ANDN/OR/XOR PS/PD), compares (CMPPS/PD/SS/SD with predicates 0-7)
//! and the XMM-to-XMM conversions (CVTSS2SD ... CVTPD2PS).
//!
//! Float rows name the host instruction that computes them (see `host`);
//! integer rows name their software function in `integer`. The one generic
//! handler `binary` does the operand reads, the CR checks, the MXCSR
//! exception logic and the write-back. Scalar forms read only 32 or
//! 64 bits from memory and, like the register forms, keep the upper part
//! of the destination.

use super::host::host_binop;
use super::{approx, check_sse, integer, raise_flags, read_src, xmm_index};
use crate::cpu::decode::Insn;
use crate::cpu::exec::Handler;
use crate::cpu::{Cpu, Exception};
use iced_x86::{Code, Instruction, Mnemonic};

/// The one handler shape: reads destination and source, computes, raises
/// any unmasked exception before writing, then writes the destination.
#[inline(always)]
pub(super) fn binary(
    cpu: &mut Cpu,
    insn: &Insn,
    f: impl Fn(u128, u128, u32, u8) -> (u128, u32),
) -> Result<(), Exception> {
    check_sse(cpu)?;
    let src = read_src(cpu, insn, 1)?;
    let d = xmm_index(insn.op0_register());
    let imm = if insn.op_count() == 3 {
        insn.immediate8()
    } else {
        0
    };
    let (res, flags) = f(cpu.xmm[d], src, cpu.mxcsr, imm);
    if flags != 0 {
        raise_flags(cpu, flags)?;
    }
    cpu.xmm[d] = res;
    Ok(())
}

/// Rows `Mnemonic => "host instruction"` of ops that use MXCSR.
macro_rules! float_ops {
    ($i:expr; $($m:ident => $op:literal),* $(,)?) => {
        match $i.mnemonic() {
            $(Mnemonic::$m => Some(
                (|cpu: &mut Cpu, insn: &Insn| {
                    binary(cpu, insn, |d, s, csr, _| host_binop!($op, d, s, csr))
                }) as Handler,
            ),)*
            _ => None,
        }
    };
}

/// Rows `Mnemonic => integer::function` of ops computed in software
/// (they never touch MXCSR).
macro_rules! soft_ops {
    ($i:expr; $($m:ident => $f:ident),* $(,)?) => {
        match $i.mnemonic() {
            $(Mnemonic::$m => Some(
                (|cpu: &mut Cpu, insn: &Insn| software(cpu, insn, integer::$f)) as Handler,
            ),)*
            _ => None,
        }
    };
}

/// A compare with its imm8 predicate (only bits 2:0 count for the legacy
/// SSE encodings, SDM Vol. 2, CMPPS, Table 3-1).
macro_rules! compare {
    ($op:literal) => {
        Some(
            (|cpu: &mut Cpu, insn: &Insn| {
                binary(cpu, insn, |d, s, csr, imm| match imm & 7 {
                    0 => host_binop!($op, d, s, csr, "0"),
                    1 => host_binop!($op, d, s, csr, "1"),
                    2 => host_binop!($op, d, s, csr, "2"),
                    3 => host_binop!($op, d, s, csr, "3"),
                    4 => host_binop!($op, d, s, csr, "4"),
                    5 => host_binop!($op, d, s, csr, "5"),
                    6 => host_binop!($op, d, s, csr, "6"),
                    _ => host_binop!($op, d, s, csr, "7"),
                })
            }) as Handler,
        )
    };
}

pub fn resolve(i: &Instruction) -> Option<Handler> {
    if i.op_count() == 0 || !i.op0_register().is_xmm() {
        return None;
    }
    // CMPSD shares its mnemonic with the string instruction.
    match i.code() {
        Code::Cmpps_xmm_xmmm128_imm8 => return compare!("cmpps"),
        Code::Cmppd_xmm_xmmm128_imm8 => return compare!("cmppd"),
        Code::Cmpss_xmm_xmmm32_imm8 => return compare!("cmpss"),
        Code::Cmpsd_xmm_xmmm64_imm8 => return compare!("cmpsd"),
        _ => {}
    }
    approx::resolve(i)
        .or_else(|| {
            float_ops!(i;
                Addps => "addps", Addss => "addss", Addpd => "addpd", Addsd => "addsd",
                Subps => "subps", Subss => "subss", Subpd => "subpd", Subsd => "subsd",
                Mulps => "mulps", Mulss => "mulss", Mulpd => "mulpd", Mulsd => "mulsd",
                Divps => "divps", Divss => "divss", Divpd => "divpd", Divsd => "divsd",
                Sqrtps => "sqrtps", Sqrtss => "sqrtss", Sqrtpd => "sqrtpd", Sqrtsd => "sqrtsd",
                Minps => "minps", Minss => "minss", Minpd => "minpd", Minsd => "minsd",
                Maxps => "maxps", Maxss => "maxss", Maxpd => "maxpd", Maxsd => "maxsd",
                Cvtss2sd => "cvtss2sd", Cvtsd2ss => "cvtsd2ss",
                Cvtdq2ps => "cvtdq2ps", Cvtps2dq => "cvtps2dq", Cvttps2dq => "cvttps2dq",
                Cvtdq2pd => "cvtdq2pd", Cvtpd2dq => "cvtpd2dq", Cvttpd2dq => "cvttpd2dq",
                Cvtps2pd => "cvtps2pd", Cvtpd2ps => "cvtpd2ps",
            )
        })
        .or_else(|| {
            soft_ops!(i;
                Andps => and, Andnps => andn, Orps => or, Xorps => xor,
                Andpd => and, Andnpd => andn, Orpd => or, Xorpd => xor,
                Pand => and, Pandn => andn, Por => or, Pxor => xor,
                Unpcklps => punpckldq, Unpckhps => punpckhdq,
                Unpcklpd => punpcklqdq, Unpckhpd => punpckhqdq,
                Paddb => paddb, Paddw => paddw, Paddd => paddd, Paddq => paddq,
                Psubb => psubb, Psubw => psubw, Psubd => psubd, Psubq => psubq,
                Paddsb => paddsb, Paddsw => paddsw, Paddusb => paddusb, Paddusw => paddusw,
                Psubsb => psubsb, Psubsw => psubsw, Psubusb => psubusb, Psubusw => psubusw,
                Pcmpeqb => pcmpeqb, Pcmpeqw => pcmpeqw, Pcmpeqd => pcmpeqd,
                Pcmpgtb => pcmpgtb, Pcmpgtw => pcmpgtw, Pcmpgtd => pcmpgtd,
                Pmullw => pmullw, Pmulhw => pmulhw, Pmulhuw => pmulhuw,
                Pmuludq => pmuludq, Pmaddwd => pmaddwd,
                Pavgb => pavgb, Pavgw => pavgw,
                Pminub => pminub, Pmaxub => pmaxub, Pminsw => pminsw, Pmaxsw => pmaxsw,
                Psadbw => psadbw,
                Psllw => psllw, Pslld => pslld, Psllq => psllq,
                Psrlw => psrlw, Psrld => psrld, Psrlq => psrlq,
                Psraw => psraw, Psrad => psrad,
                Punpcklbw => punpcklbw, Punpcklwd => punpcklwd,
                Punpckldq => punpckldq, Punpcklqdq => punpcklqdq,
                Punpckhbw => punpckhbw, Punpckhwd => punpckhwd,
                Punpckhdq => punpckhdq, Punpckhqdq => punpckhqdq,
                Packsswb => packsswb, Packssdw => packssdw, Packuswb => packuswb,
            )
        })
}

/// The handler shape for software ops (`integer`, `approx`).
pub(super) fn software(
    cpu: &mut Cpu,
    insn: &Insn,
    f: impl Fn(u128, u128) -> u128,
) -> Result<(), Exception> {
    binary(cpu, insn, |d, s, _, _| (f(d, s), 0))
}
