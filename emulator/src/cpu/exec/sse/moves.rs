//! SSE/SSE2 data moves (SDM Vol. 2, one page each): MOVAPS/MOVAPD/MOVDQA
//! (aligned), MOVUPS/MOVUPD/MOVDQU, the non-temporal MOVNTPS/MOVNTPD/
//! MOVNTDQ (aligned; the cache hint means nothing here) and MOVNTI,
//! MOVSS/MOVSD, MOVD/MOVQ, MOVLPS/MOVHPS/MOVLPD/MOVHPD, MOVHLPS/MOVLHPS.

use super::{check_sse, read_mem, read_src, write_mem, xmm_index};
use crate::cpu::decode::Insn;
use crate::cpu::exec::Handler;
use crate::cpu::{Cpu, Exception};
use crate::sized;
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

const LOW64: u128 = u64::MAX as u128;

pub fn resolve(i: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    match i.code() {
        Code::Movss_xmm_xmmm32 | Code::Movss_xmmm32_xmm => return Some(mov_scalar::<4>),
        Code::Movsd_xmm_xmmm64 | Code::Movsd_xmmm64_xmm => return Some(mov_scalar::<8>),
        Code::Movd_xmm_rm32 | Code::Movq_xmm_rm64 | Code::Movq_xmm_xmmm64 => {
            return Some(if i.code() == Code::Movd_xmm_rm32 {
                to_xmm::<4>
            } else {
                to_xmm::<8>
            })
        }
        Code::Movd_rm32_xmm => return Some(from_xmm::<4>),
        Code::Movq_rm64_xmm | Code::Movq_xmmm64_xmm => return Some(from_xmm::<8>),
        _ => {}
    }
    match i.mnemonic() {
        Movaps | Movapd | Movdqa | Movups | Movupd | Movdqu | Movntps | Movntpd | Movntdq => {
            Some(mov128)
        }
        Movnti => sized!(super::super::operand_size(i, 0), movnti),
        Movlps | Movlpd => Some(mov_half::<false, false>),
        Movhps | Movhpd => Some(mov_half::<true, true>),
        Movhlps => Some(mov_half::<false, true>),
        Movlhps => Some(mov_half::<true, false>),
        _ => None,
    }
}

/// Whole-register moves; `read_src`/`write_mem` apply the alignment rule.
fn mov128(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_sse(cpu)?;
    let v = read_src(cpu, insn, 1)?;
    match insn.op0_kind() {
        OpKind::Register => cpu.xmm[xmm_index(insn.op0_register())] = v,
        _ => write_mem(cpu, insn, 16, v)?,
    }
    Ok(())
}

/// MOVSS/MOVSD: between registers only the low `N` bytes change; a load
/// zeroes the rest of the register; a store writes `N` bytes.
fn mov_scalar<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_sse(cpu)?;
    let mask = u128::MAX >> (128 - 8 * N);
    let v = read_src(cpu, insn, 1)? & mask;
    match insn.op0_kind() {
        OpKind::Register => {
            let d = &mut cpu.xmm[xmm_index(insn.op0_register())];
            *d = if insn.op1_kind() == OpKind::Register {
                (*d & !mask) | v
            } else {
                v
            };
        }
        _ => write_mem(cpu, insn, N, v)?,
    }
    Ok(())
}

/// MOVD/MOVQ into an XMM register from a GPR, memory or (MOVQ) the low
/// quadword of an XMM register: the rest of the register is zeroed.
fn to_xmm<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_sse(cpu)?;
    let r = insn.op1_register();
    let v = match insn.op1_kind() {
        OpKind::Register if r.is_xmm() => cpu.xmm[xmm_index(r)] & LOW64,
        OpKind::Register => cpu.reg::<N>(r) as u128,
        _ => read_mem(cpu, insn, N)?,
    };
    cpu.xmm[xmm_index(insn.op0_register())] = v;
    Ok(())
}

/// MOVD/MOVQ out of an XMM register to a GPR (zero-extended as any 32-bit
/// GPR write), memory, or (MOVQ xmm, xmm) an XMM register, zeroing its top.
fn from_xmm<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_sse(cpu)?;
    let v = cpu.xmm[xmm_index(insn.op1_register())] & (u128::MAX >> (128 - 8 * N));
    let r = insn.op0_register();
    match insn.op0_kind() {
        OpKind::Register if r.is_xmm() => cpu.xmm[xmm_index(r)] = v,
        OpKind::Register => cpu.set_reg::<N>(r, v as u64),
        _ => write_mem(cpu, insn, N, v)?,
    }
    Ok(())
}

/// Moves one quadword between halves: the source half `SRC_HIGH` of an XMM
/// register or a 64-bit memory operand, into the destination half
/// `DST_HIGH` of an XMM register or into memory.
fn mov_half<const DST_HIGH: bool, const SRC_HIGH: bool>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    check_sse(cpu)?;
    let v = match insn.op1_kind() {
        OpKind::Register => {
            let s = cpu.xmm[xmm_index(insn.op1_register())];
            if SRC_HIGH {
                s >> 64
            } else {
                s & LOW64
            }
        }
        _ => read_mem(cpu, insn, 8)?,
    };
    match insn.op0_kind() {
        OpKind::Register => {
            let d = &mut cpu.xmm[xmm_index(insn.op0_register())];
            *d = if DST_HIGH {
                (*d & LOW64) | v << 64
            } else {
                (*d & !LOW64) | v
            };
        }
        _ => write_mem(cpu, insn, 8, v)?,
    }
    Ok(())
}

/// MOVNTI: a plain GPR store (SSE2, but no CR0/CR4 checks apply).
fn movnti<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let v = cpu.read_op::<N>(insn, 1)?;
    cpu.write_op::<N>(insn, 0, v)
}
