//! Conversions between XMM and general registers, and the scalar ordered
//! compares that set RFLAGS (SDM Vol. 2, one page each):
//!
//! - CVTSI2SS/CVTSI2SD: a 32- or 64-bit integer (GPR or memory) into the
//!   low lane, rounded per MXCSR.RC; the rest of the register is kept.
//! - CVTSS2SI/CVTSD2SI round per MXCSR.RC, CVTTSS2SI/CVTTSD2SI truncate; a
//!   NaN or out-of-range value gives the integer indefinite (0x80000000 or
//!   0x8000000000000000) and IE.
//! - COMISS/COMISD (IE on any NaN) and UCOMISS/UCOMISD (IE on SNaN only):
//!   ZF, PF, CF = 111 unordered, 000 greater, 001 less, 100 equal; OF, SF
//!   and AF are cleared.
//!
//! The arithmetic runs on the host (see `host`).

use super::host::{from_m128, host_asm, to_m128};
use super::{check_sse, raise_flags, read_mem, read_src, xmm_index};
use crate::cpu::decode::Insn;
use crate::cpu::exec::{operand_size, Handler};
use crate::cpu::state::rflags;
use crate::cpu::{Cpu, Exception};
use iced_x86::{Instruction, Mnemonic, OpKind};

const CVTSS2SI: u8 = 0;
const CVTTSS2SI: u8 = 1;
const CVTSD2SI: u8 = 2;
const CVTTSD2SI: u8 = 3;

const COMISS: u8 = 0;
const UCOMISS: u8 = 1;
const COMISD: u8 = 2;
const UCOMISD: u8 = 3;

pub fn resolve(i: &Instruction) -> Option<Handler> {
    let wide = |n| operand_size(i, n) == 8;
    Some(
        match (i.mnemonic(), i.op_count() == 2 && wide(1), wide(0)) {
            (Mnemonic::Cvtsi2ss, false, _) => from_int::<false, 4>,
            (Mnemonic::Cvtsi2ss, true, _) => from_int::<false, 8>,
            (Mnemonic::Cvtsi2sd, false, _) => from_int::<true, 4>,
            (Mnemonic::Cvtsi2sd, true, _) => from_int::<true, 8>,
            (Mnemonic::Cvtss2si, _, false) => to_int::<CVTSS2SI, 4>,
            (Mnemonic::Cvtss2si, _, true) => to_int::<CVTSS2SI, 8>,
            (Mnemonic::Cvttss2si, _, false) => to_int::<CVTTSS2SI, 4>,
            (Mnemonic::Cvttss2si, _, true) => to_int::<CVTTSS2SI, 8>,
            (Mnemonic::Cvtsd2si, _, false) => to_int::<CVTSD2SI, 4>,
            (Mnemonic::Cvtsd2si, _, true) => to_int::<CVTSD2SI, 8>,
            (Mnemonic::Cvttsd2si, _, false) => to_int::<CVTTSD2SI, 4>,
            (Mnemonic::Cvttsd2si, _, true) => to_int::<CVTTSD2SI, 8>,
            (Mnemonic::Comiss, ..) => compare::<COMISS>,
            (Mnemonic::Ucomiss, ..) => compare::<UCOMISS>,
            (Mnemonic::Comisd, ..) => compare::<COMISD>,
            (Mnemonic::Ucomisd, ..) => compare::<UCOMISD>,
            _ => return None,
        },
    )
}

/// CVTSI2SS (`DOUBLE` false) / CVTSI2SD from an `N`-byte integer.
fn from_int<const DOUBLE: bool, const N: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    check_sse(cpu)?;
    let v = match insn.op1_kind() {
        OpKind::Register => cpu.reg::<N>(insn.op1_register()),
        _ => read_mem(cpu, insn, N)? as u64,
    };
    let d = xmm_index(insn.op0_register());
    let mut x = to_m128(cpu.xmm[d]);
    let csr = cpu.mxcsr;
    let flags = match (DOUBLE, N) {
        (false, 4) => host_asm!(csr; "cvtsi2ss {x}, {r:e}"; x = inout(xmm_reg) x, r = in(reg) v,),
        (false, _) => host_asm!(csr; "cvtsi2ss {x}, {r}"; x = inout(xmm_reg) x, r = in(reg) v,),
        (true, 4) => host_asm!(csr; "cvtsi2sd {x}, {r:e}"; x = inout(xmm_reg) x, r = in(reg) v,),
        (true, _) => host_asm!(csr; "cvtsi2sd {x}, {r}"; x = inout(xmm_reg) x, r = in(reg) v,),
    };
    if flags != 0 {
        raise_flags(cpu, flags)?;
    }
    cpu.xmm[d] = from_m128(x);
    Ok(())
}

/// The four float-to-integer conversions into an `N`-byte GPR.
fn to_int<const OP: u8, const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_sse(cpu)?;
    let x = to_m128(read_src(cpu, insn, 1)?);
    let csr = cpu.mxcsr;
    let mut r: u64 = 0;
    macro_rules! run {
        ($op:literal) => {
            if N == 4 {
                host_asm!(csr; concat!($op, " {r:e}, {x}"); r = out(reg) r, x = in(xmm_reg) x,)
            } else {
                host_asm!(csr; concat!($op, " {r}, {x}"); r = out(reg) r, x = in(xmm_reg) x,)
            }
        };
    }
    let flags = match OP {
        CVTSS2SI => run!("cvtss2si"),
        CVTTSS2SI => run!("cvttss2si"),
        CVTSD2SI => run!("cvtsd2si"),
        _ => run!("cvttsd2si"),
    };
    if flags != 0 {
        raise_flags(cpu, flags)?;
    }
    cpu.set_reg::<N>(insn.op0_register(), r);
    Ok(())
}

/// COMISS, UCOMISS, COMISD, UCOMISD.
fn compare<const OP: u8>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_sse(cpu)?;
    let b = to_m128(read_src(cpu, insn, 1)?);
    let a = to_m128(cpu.xmm[xmm_index(insn.op0_register())]);
    let csr = cpu.mxcsr;
    let (mut z, mut p, mut c): (u8, u8, u8) = (0, 0, 0);
    macro_rules! run {
        ($op:literal) => {
            host_asm!(csr; concat!($op, " {a}, {b}\nsetz {z}\nsetp {p}\nsetc {c}");
                a = in(xmm_reg) a, b = in(xmm_reg) b,
                z = out(reg_byte) z, p = out(reg_byte) p, c = out(reg_byte) c,)
        };
    }
    let flags = match OP {
        COMISS => run!("comiss"),
        UCOMISS => run!("ucomiss"),
        COMISD => run!("comisd"),
        _ => run!("ucomisd"),
    };
    if flags != 0 {
        raise_flags(cpu, flags)?;
    }
    let bit = |on: u8, f: u64| if on != 0 { f } else { 0 };
    let values = bit(z, rflags::ZF) | bit(p, rflags::PF) | bit(c, rflags::CF);
    cpu.flags.set_status(rflags::ARITH, values);
    Ok(())
}
