//! Data movement and the small integer instructions around it (SDM Vol. 2,
//! one page each):
//!
//! - MOV (including the moffs forms), LEA, NOP;
//! - MOVZX, MOVSX, MOVSXD; CBW/CWDE/CDQE, CWD/CDQ/CQO;
//! - XCHG, XADD, CMPXCHG, CMPXCHG8B, CMPXCHG16B; BSWAP;
//! - CMOVcc, SETcc; LAHF, SAHF; CLC, STC, CMC, CLD, STD;
//! - XLAT; the BCD adjusts DAA, DAS, AAA, AAS, AAM, AAD;
//! - ENTER, LEAVE, PUSHA/PUSHAD, POPA/POPAD; BOUND.
//!
//! Choices where the SDM leaves results undefined (documented on each
//! handler): BSWAP of a 16-bit register clears it, as Intel processors do;
//! DAA/DAS clear OF; AAA/AAS set SF, ZF, PF from AL and clear OF; AAM/AAD
//! clear CF, OF, AF. MOVBE is not advertised, so iced's MOVBE is left
//! unclaimed and raises #UD. The BCD instructions, PUSHA/POPA and BOUND do
//! not exist in 64-bit mode; iced decodes them as invalid there.

use super::{Handler, Loc};
use crate::cpu::decode::Insn;
use crate::cpu::flags::{sign_bit, size_mask, LazyOp};
use crate::cpu::state::rflags::{AF, CF, DF, PF, SF, ZF};
use crate::cpu::state::SegReg;
use crate::cpu::{Cpu, Exception};
use crate::{formed, sized};
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

const RAX: usize = 0;
const RCX: usize = 1;
const RDX: usize = 2;
const RBX: usize = 3;
const RSP: usize = 4;
const RBP: usize = 5;

/// The five flags LAHF and SAHF move through AH.
const AH_FLAGS: u64 = SF | ZF | AF | PF | CF;

/// Which BCD adjust a handler performs.
const DAA: u8 = 0;
const DAS: u8 = 1;
const AAA: u8 = 2;
const AAS: u8 = 3;

pub fn resolve(i: &Instruction) -> Option<Handler> {
    let n = super::operand_size(i, 0);
    let m = i.mnemonic();
    if (Mnemonic::Cmova as u32..=Mnemonic::Cmovs as u32).contains(&(m as u32)) {
        return sized!(n, cmov);
    }
    if (Mnemonic::Seta as u32..=Mnemonic::Sets as u32).contains(&(m as u32)) {
        return Some(setcc);
    }
    let stack_size = i.stack_pointer_increment().unsigned_abs() as usize;
    match m {
        Mnemonic::Mov
            if i.op0_kind() != OpKind::Register
                || i.op0_register().is_gpr()
                    && (i.op1_kind() != OpKind::Register || i.op1_register().is_gpr()) =>
        {
            formed!(i, n, mov)
        }
        Mnemonic::Lea => sized!(n, lea),
        Mnemonic::Nop => Some(nop),
        Mnemonic::Movzx | Mnemonic::Movsx | Mnemonic::Movsxd => {
            extend_handler(m != Mnemonic::Movzx, n, super::operand_size(i, 1))
        }
        Mnemonic::Cbw => Some(widen_accumulator::<2>),
        Mnemonic::Cwde => Some(widen_accumulator::<4>),
        Mnemonic::Cdqe => Some(widen_accumulator::<8>),
        Mnemonic::Cwd => Some(sign_fill::<2>),
        Mnemonic::Cdq => Some(sign_fill::<4>),
        Mnemonic::Cqo => Some(sign_fill::<8>),
        Mnemonic::Xchg => sized!(n, xchg),
        Mnemonic::Xadd => sized!(n, xadd),
        Mnemonic::Cmpxchg => sized!(n, cmpxchg),
        Mnemonic::Cmpxchg8b if i.op0_kind() == OpKind::Memory => Some(cmpxchg8b),
        Mnemonic::Cmpxchg16b if i.op0_kind() == OpKind::Memory => Some(cmpxchg16b),
        Mnemonic::Bswap => sized!(n, bswap),
        Mnemonic::Lahf => Some(lahf),
        Mnemonic::Sahf => Some(sahf),
        Mnemonic::Clc => Some(set_flag::<CF, 0>),
        Mnemonic::Stc => Some(set_flag::<CF, 1>),
        Mnemonic::Cmc => Some(set_flag::<CF, 2>),
        Mnemonic::Cld => Some(set_flag::<DF, 0>),
        Mnemonic::Std => Some(set_flag::<DF, 1>),
        Mnemonic::Xlatb => Some(xlat),
        Mnemonic::Daa => Some(bcd_adjust::<DAA>),
        Mnemonic::Das => Some(bcd_adjust::<DAS>),
        Mnemonic::Aaa => Some(bcd_adjust::<AAA>),
        Mnemonic::Aas => Some(bcd_adjust::<AAS>),
        Mnemonic::Aam => Some(aam),
        Mnemonic::Aad => Some(aad),
        Mnemonic::Enter => match i.code() {
            Code::Enterw_imm16_imm8 => Some(enter::<2>),
            Code::Enterd_imm16_imm8 => Some(enter::<4>),
            _ => Some(enter::<8>),
        },
        Mnemonic::Leave => match i.code() {
            Code::Leavew => Some(leave::<2>),
            Code::Leaved => Some(leave::<4>),
            _ => Some(leave::<8>),
        },
        Mnemonic::Pusha | Mnemonic::Pushad => sized!(stack_size / 8, pusha),
        Mnemonic::Popa | Mnemonic::Popad => sized!(stack_size / 8, popa),
        Mnemonic::Bound if i.op1_kind() == OpKind::Memory => sized!(n, bound),
        _ => None,
    }
}

/// MOV; `D` and `S` are the operand kinds (`formed!`).
fn mov<const D: u8, const S: u8, const N: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    let v = cpu.read_as::<S, N>(insn, 1)?;
    cpu.write_as::<D, N>(insn, 0, v)
}

fn lea<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let a = cpu.ea(insn);
    // LEA's destination is always a general register: its code is in
    // `insn.reg[0]`, no need to ask iced-x86 for the name.
    cpu.set_reg_by_code::<N>(insn.reg[0], a);
    Ok(())
}

fn nop(_: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    Ok(())
}

/// Sign-extends an `n`-byte value to 64 bits.
#[inline(always)]
fn sext(v: u64, n: usize) -> u64 {
    let shift = 64 - n as u32 * 8;
    (((v << shift) as i64) >> shift) as u64
}

/// The MOVZX/MOVSX/MOVSXD handler for destination size `d` and source
/// size `s` (MOVSXD without REX.W has `d == s` and is a plain move).
fn extend_handler(signed: bool, d: usize, s: usize) -> Option<Handler> {
    Some(match (signed, d, s) {
        (false, 2, 1) => extend::<false, 2, 1>,
        (false, 4, 1) => extend::<false, 4, 1>,
        (false, 8, 1) => extend::<false, 8, 1>,
        (false, 4, 2) => extend::<false, 4, 2>,
        (false, 8, 2) => extend::<false, 8, 2>,
        (false, 2, 2) => extend::<false, 2, 2>,
        (true, 2, 1) => extend::<true, 2, 1>,
        (true, 4, 1) => extend::<true, 4, 1>,
        (true, 8, 1) => extend::<true, 8, 1>,
        (true, 4, 2) => extend::<true, 4, 2>,
        (true, 8, 2) => extend::<true, 8, 2>,
        (true, 2, 2) => extend::<true, 2, 2>,
        (true, 8, 4) => extend::<true, 8, 4>,
        (true, 4, 4) => extend::<true, 4, 4>,
        _ => return None,
    })
}

/// MOVZX / MOVSX (`SIGNED`) / MOVSXD: op0 (`D` bytes) = extend(op1, `S`).
fn extend<const SIGNED: bool, const D: usize, const S: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    let v = cpu.read_op::<S>(insn, 1)?;
    let v = if SIGNED { sext(v, S) } else { v };
    cpu.write_op::<D>(insn, 0, v & size_mask(D as u8))
}

/// CBW / CWDE / CDQE: the accumulator (`N` bytes) = sign-extend its low
/// half.
fn widen_accumulator<const N: usize>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let v = sext(cpu.gpr[RAX], N / 2);
    cpu.set_gpr_sized(RAX, N as u8, v);
    Ok(())
}

/// CWD / CDQ / CQO: rDX (`N` bytes) = copies of the accumulator's sign.
fn sign_fill<const N: usize>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let negative = cpu.gpr[RAX] & sign_bit(N as u8) != 0;
    cpu.set_gpr_sized(RDX, N as u8, if negative { u64::MAX } else { 0 });
    Ok(())
}

/// XCHG: swaps op0 (register or memory, implicitly locked) and op1.
fn xchg<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let b = cpu.read_op::<N>(insn, 1)?;
    let loc = cpu.locate::<N>(insn, 0)?;
    let a = cpu.read_loc::<N>(loc)?;
    cpu.write_loc::<N>(loc, b)?;
    cpu.write_op::<N>(insn, 1, a)
}

/// XADD: TEMP = op0 + op1; op1 = op0; op0 = TEMP (so `xadd eax, eax`
/// leaves the sum). Flags as ADD.
fn xadd<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let src = cpu.read_op::<N>(insn, 1)?;
    let loc = cpu.locate::<N>(insn, 0)?;
    let dst = cpu.read_loc::<N>(loc)?;
    let sum = dst.wrapping_add(src) & size_mask(N as u8);
    match loc {
        Loc::Mem(_) => {
            cpu.write_loc::<N>(loc, sum)?;
            cpu.write_op::<N>(insn, 1, dst)?;
        }
        Loc::Reg(_) => {
            cpu.write_op::<N>(insn, 1, dst)?;
            cpu.write_loc::<N>(loc, sum)?;
        }
    }
    cpu.flags.set_lazy(LazyOp::Add, N as u8, dst, src, sum);
    Ok(())
}

/// CMPXCHG: compares the accumulator with op0 (flags as CMP). Equal: op0 =
/// op1. Not equal: the accumulator = op0. A memory op0 is always written
/// (with its own value when not equal), as the SDM says; a register op0 is
/// left alone when not equal.
fn cmpxchg<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let src = cpu.read_op::<N>(insn, 1)?;
    let loc = cpu.locate::<N>(insn, 0)?;
    let dst = cpu.read_loc::<N>(loc)?;
    let acc = cpu.gpr_sized(RAX, N as u8);
    let equal = acc == dst;
    match (equal, loc) {
        (true, _) => cpu.write_loc::<N>(loc, src)?,
        (false, Loc::Mem(_)) => cpu.write_loc::<N>(loc, dst)?,
        (false, Loc::Reg(_)) => {}
    }
    if !equal {
        cpu.set_gpr_sized(RAX, N as u8, dst);
    }
    cpu.flags
        .set_lazy(LazyOp::Sub, N as u8, acc, dst, acc.wrapping_sub(dst));
    Ok(())
}

/// CMPXCHG8B: compares EDX:EAX with m64. Equal: m64 = ECX:EBX, ZF = 1.
/// Not equal: EDX:EAX = m64 (zero-extended in 64-bit mode), ZF = 0; m64 is
/// written back either way. Other flags are unchanged.
fn cmpxchg8b(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let loc = cpu.locate::<8>(insn, 0)?;
    let mem = cpu.read_loc::<8>(loc)?;
    let pair = |lo: usize, hi: usize| (cpu.gpr[lo] & 0xFFFF_FFFF) | (cpu.gpr[hi] << 32);
    let expected = pair(RAX, RDX);
    let new = pair(RBX, RCX);
    let equal = mem == expected;
    cpu.write_loc::<8>(loc, if equal { new } else { mem })?;
    if !equal {
        cpu.set_gpr_sized(RAX, 4, mem);
        cpu.set_gpr_sized(RDX, 4, mem >> 32);
    }
    cpu.flags.set_status(ZF, if equal { ZF } else { 0 });
    Ok(())
}

/// CMPXCHG16B: as CMPXCHG8B with RDX:RAX, RCX:RBX and m128; #GP(0) if the
/// operand is not 16-byte aligned.
fn cmpxchg16b(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let ea = cpu.ea(insn);
    if cpu.linear(insn.seg, ea, 16, crate::mmu::AccessKind::Write)? & 15 != 0 {
        return Err(Exception::GeneralProtection(0));
    }
    let mem = cpu.read_u128(insn.seg, ea)?;
    let pair = |lo: usize, hi: usize| cpu.gpr[lo] as u128 | ((cpu.gpr[hi] as u128) << 64);
    let expected = pair(RAX, RDX);
    let new = pair(RBX, RCX);
    let equal = mem == expected;
    cpu.write_u128(insn.seg, ea, if equal { new } else { mem })?;
    if !equal {
        cpu.gpr[RAX] = mem as u64;
        cpu.gpr[RDX] = (mem >> 64) as u64;
    }
    cpu.flags.set_status(ZF, if equal { ZF } else { 0 });
    Ok(())
}

/// BSWAP: reverses the bytes of a 32- or 64-bit register. The 16-bit form
/// is undefined in the SDM; Intel processors clear the low word, and so do
/// we.
fn bswap<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let v = cpu.read_op::<N>(insn, 0)?;
    let r = match N {
        4 => (v as u32).swap_bytes() as u64,
        8 => v.swap_bytes(),
        _ => 0,
    };
    cpu.write_op::<N>(insn, 0, r)
}

/// The x86 condition-code nibble of a Jcc/SETcc/CMOVcc.
#[inline(always)]
fn condition(cpu: &Cpu, insn: &Insn) -> bool {
    cpu.flags.condition(insn.condition_code() as u8 - 1)
}

/// CMOVcc: the source is read (and may fault) whatever the condition; a
/// 32-bit destination is zero-extended even when the condition is false.
fn cmov<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let src = cpu.read_op::<N>(insn, 1)?;
    let v = if condition(cpu, insn) {
        src
    } else {
        cpu.read_op::<N>(insn, 0)?
    };
    cpu.write_op::<N>(insn, 0, v)
}

/// SETcc: op0 (a byte) = 1 if the condition holds, else 0.
fn setcc(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let v = condition(cpu, insn) as u64;
    cpu.write_op::<1>(insn, 0, v)
}

/// LAHF: AH = SF:ZF:0:AF:0:PF:1:CF.
fn lahf(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let v = cpu.flags.get() & 0xFF;
    cpu.gpr[RAX] = (cpu.gpr[RAX] & !0xFF00) | (v << 8);
    Ok(())
}

/// SAHF: SF, ZF, AF, PF, CF = the matching bits of AH.
fn sahf(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let ah = (cpu.gpr[RAX] >> 8) & 0xFF;
    cpu.flags.set_status(AH_FLAGS, ah);
    Ok(())
}

/// CLC/STC/CMC/CLD/STD: `HOW` 0 clears `FLAG`, 1 sets it, 2 complements.
fn set_flag<const FLAG: u64, const HOW: u8>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let on = match HOW {
        0 => false,
        1 => true,
        _ => !cpu.flags.test(FLAG),
    };
    cpu.flags.assign(FLAG, on);
    Ok(())
}

/// XLAT: AL = [seg:rBX + AL], the sum wrapped to the address size. (iced
/// names AL as the index register; our EA recipe would use all of RAX.)
fn xlat(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let mask = size_mask(insn.memory_base().size() as u8);
    let a = cpu.gpr[RBX].wrapping_add(cpu.gpr[RAX] & 0xFF) & mask;
    let v = cpu.read::<1>(insn.seg, a)?;
    cpu.set_gpr_sized(RAX, 1, v);
    Ok(())
}

/// DAA, DAS, AAA, AAS (SDM pseudocode). OF is undefined for all four and
/// cleared; SF, ZF, PF (undefined for AAA/AAS) follow AL.
fn bcd_adjust<const OP: u8>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let al = cpu.gpr[RAX] & 0xFF;
    let old_cf = cpu.flags.cf();
    let low_adjust = (al & 0x0F) > 9 || cpu.flags.af();
    let (cf, af) = match OP {
        DAA | DAS => {
            let mut v = al;
            let mut cf = false;
            if low_adjust {
                cf = old_cf || if OP == DAA { al > 0xF9 } else { al < 6 };
                v = if OP == DAA { v + 6 } else { v.wrapping_sub(6) } & 0xFF;
            }
            if al > 0x99 || old_cf {
                v = if OP == DAA {
                    v + 0x60
                } else {
                    v.wrapping_sub(0x60)
                } & 0xFF;
                cf = true;
            } else if OP == DAA {
                cf = false;
            }
            cpu.set_gpr_sized(RAX, 1, v);
            (cf, low_adjust)
        }
        _ => {
            let mut ax = cpu.gpr[RAX] & 0xFFFF;
            if low_adjust {
                ax = if OP == AAA {
                    ax.wrapping_add(0x106)
                } else {
                    ax.wrapping_sub(6).wrapping_sub(0x100)
                };
            }
            // The high byte keeps its adjustment; AL keeps its low nibble.
            cpu.set_gpr_sized(RAX, 2, ax & 0xFF0F);
            (low_adjust, low_adjust)
        }
    };
    let al = cpu.gpr[RAX] & 0xFF;
    cpu.flags.set_result(1, al, cf, false, af);
    Ok(())
}

/// AAM imm8: AH = AL / imm8, AL = AL % imm8; #DE if imm8 is 0. SF, ZF, PF
/// follow AL; the undefined CF, OF, AF are cleared.
fn aam(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let base = insn.immediate8() as u64;
    if base == 0 {
        return Err(Exception::DivideError);
    }
    let al = cpu.gpr[RAX] & 0xFF;
    let (q, r) = (al / base, al % base);
    cpu.set_gpr_sized(RAX, 2, (q << 8) | r);
    cpu.flags.set_result(1, r, false, false, false);
    Ok(())
}

/// AAD imm8: AL = AL + AH * imm8 (mod 256), AH = 0. SF, ZF, PF follow AL;
/// the undefined CF, OF, AF are cleared.
fn aad(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let base = insn.immediate8() as u64;
    let ax = cpu.gpr[RAX] & 0xFFFF;
    let al = ((ax & 0xFF) + (ax >> 8) * base) & 0xFF;
    cpu.set_gpr_sized(RAX, 2, al);
    cpu.flags.set_result(1, al, false, false, false);
    Ok(())
}

/// ENTER alloc, level (`N`-byte operand size): push rBP; copy `level - 1`
/// frame pointers from the old frame; push the new frame pointer if the
/// level is not 0; rBP = the frame; rSP -= alloc. The level is taken
/// modulo 32; the old-frame pointer steps with the stack-address size.
/// Registers are restored if a push or read faults.
fn enter<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let (saved_sp, saved_bp) = (cpu.gpr[RSP], cpu.gpr[RBP]);
    let r = enter_frame::<N>(cpu, insn);
    if r.is_err() {
        cpu.gpr[RSP] = saved_sp;
        cpu.gpr[RBP] = saved_bp;
    }
    r
}

fn enter_frame<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let alloc = insn.immediate16() as u64;
    let level = insn.immediate8_2nd() as u64 % 32;
    let width = cpu.stack_width();
    let wmask = size_mask(width);
    cpu.push_sized(N as u8, cpu.gpr[RBP])?;
    let frame = cpu.gpr[RSP] & size_mask(N as u8);
    if level > 0 {
        let mut bp = cpu.gpr[RBP];
        for _ in 1..level {
            bp = bp.wrapping_sub(N as u64) & wmask;
            let v = match N {
                2 => cpu.read::<2>(SegReg::Ss, bp)?,
                4 => cpu.read::<4>(SegReg::Ss, bp)?,
                _ => cpu.read::<8>(SegReg::Ss, bp)?,
            };
            cpu.push_sized(N as u8, v)?;
        }
        cpu.push_sized(N as u8, frame)?;
    }
    let sp = cpu.gpr[RSP].wrapping_sub(alloc) & wmask;
    cpu.set_gpr_sized(RSP, width, sp);
    cpu.set_gpr_sized(RBP, N as u8, frame);
    Ok(())
}

/// LEAVE: rSP = rBP (stack-address size), then pop rBP (`N` bytes).
fn leave<const N: usize>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let saved_sp = cpu.gpr[RSP];
    let width = cpu.stack_width();
    cpu.set_gpr_sized(RSP, width, cpu.gpr[RBP]);
    match cpu.pop_sized(N as u8) {
        Ok(v) => {
            cpu.set_gpr_sized(RBP, N as u8, v);
            Ok(())
        }
        Err(e) => {
            cpu.gpr[RSP] = saved_sp;
            Err(e)
        }
    }
}

/// PUSHA/PUSHAD: pushes AX, CX, DX, BX, the original SP, BP, SI, DI.
fn pusha<const N: usize>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let saved = cpu.gpr;
    for i in 0..8 {
        if let Err(e) = cpu.push_sized(N as u8, saved[i]) {
            cpu.gpr = saved;
            return Err(e);
        }
    }
    Ok(())
}

/// POPA/POPAD: pops DI, SI, BP, (skips SP), BX, DX, CX, AX.
fn popa<const N: usize>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let saved = cpu.gpr;
    for i in (0..8).rev() {
        match cpu.pop_sized(N as u8) {
            Ok(v) if i != RSP => cpu.set_gpr_sized(i, N as u8, v),
            Ok(_) => {}
            Err(e) => {
                cpu.gpr = saved;
                return Err(e);
            }
        }
    }
    Ok(())
}

/// BOUND: #BR unless lower <= op0 <= upper (signed), the bounds being the
/// two `N`-byte values at the memory operand.
fn bound<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let ea = cpu.ea(insn);
    let (lower, upper) = match N {
        2 => (
            cpu.read::<2>(insn.seg, ea)?,
            cpu.read::<2>(insn.seg, ea.wrapping_add(2) & insn.addr_mask)?,
        ),
        _ => (
            cpu.read::<4>(insn.seg, ea)?,
            cpu.read::<4>(insn.seg, ea.wrapping_add(4) & insn.addr_mask)?,
        ),
    };
    let index = sext(cpu.read_op::<N>(insn, 0)?, N) as i64;
    if index < sext(lower, N) as i64 || index > sext(upper, N) as i64 {
        return Err(Exception::BoundRange);
    }
    Ok(())
}
