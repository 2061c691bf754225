//! Near control transfers: JMP, Jcc, CALL, RET, LOOP/LOOPcc, JCXZ family
//! (SDM Vol. 2). Far transfers, INT and IRET live in `far.rs`.

use super::Handler;
use crate::cpu::decode::Insn;
use crate::cpu::state::{Mode, SegReg};
use crate::cpu::{Cpu, Exception};
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

pub fn resolve(i: &Instruction) -> Option<Handler> {
    let size = near_size(i);
    Some(match i.mnemonic() {
        Mnemonic::Jmp if is_near_rel(i) => jmp_rel,
        Mnemonic::Jmp if i.op0_kind() == OpKind::Register || i.op0_kind() == OpKind::Memory => {
            match size {
                2 => jmp_ind::<2>,
                4 => jmp_ind::<4>,
                _ => jmp_ind::<8>,
            }
        }
        Mnemonic::Call if is_near_rel(i) => match size {
            2 => call_rel::<2>,
            4 => call_rel::<4>,
            _ => call_rel::<8>,
        },
        Mnemonic::Call if i.op0_kind() == OpKind::Register || i.op0_kind() == OpKind::Memory => {
            match size {
                2 => call_ind::<2>,
                4 => call_ind::<4>,
                _ => call_ind::<8>,
            }
        }
        Mnemonic::Ret => match size {
            2 => ret::<2>,
            4 => ret::<4>,
            _ => ret::<8>,
        },
        m if i.condition_code() != iced_x86::ConditionCode::None && is_jcc(m) => {
            JCC[i.condition_code() as usize - 1]
        }
        Mnemonic::Loop
        | Mnemonic::Loope
        | Mnemonic::Loopne
        | Mnemonic::Jcxz
        | Mnemonic::Jecxz
        | Mnemonic::Jrcxz => loop_handler(i)?,
        _ => return None,
    })
}

fn is_jcc(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Jo | Jno | Jb | Jae | Je | Jne | Jbe | Ja | Js | Jns | Jp | Jnp | Jl | Jge | Jle | Jg
    )
}

fn is_near_rel(i: &Instruction) -> bool {
    matches!(
        i.op0_kind(),
        OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
    )
}

/// Operand size of a near transfer: what is pushed, popped or loaded.
fn near_size(i: &Instruction) -> usize {
    match i.op0_kind() {
        OpKind::NearBranch16 => 2,
        OpKind::NearBranch32 => 4,
        OpKind::NearBranch64 => 8,
        OpKind::Register | OpKind::Memory if i.mnemonic() != Mnemonic::Ret => {
            super::operand_size(i, 0)
        }
        _ => match i.code() {
            Code::Retnw | Code::Retnw_imm16 => 2,
            Code::Retnd | Code::Retnd_imm16 => 4,
            _ => 8,
        },
    }
}

const JCC: [Handler; 16] = [
    jcc::<0>, jcc::<1>, jcc::<2>, jcc::<3>, jcc::<4>, jcc::<5>, jcc::<6>, jcc::<7>, jcc::<8>,
    jcc::<9>, jcc::<10>, jcc::<11>, jcc::<12>, jcc::<13>, jcc::<14>, jcc::<15>,
];

impl Cpu {
    /// Sets RIP to a near-branch target after the checks every near
    /// transfer makes: canonical in 64-bit mode, within CS.limit otherwise.
    #[inline(always)]
    pub fn near_branch(&mut self, target: u64) -> Result<(), Exception> {
        if self.mode == Mode::Long64 {
            if !crate::cpu::access::is_canonical(target) {
                return Err(Exception::GeneralProtection(0));
            }
        } else if target > self.seg[SegReg::Cs as usize].limit as u64 {
            return Err(Exception::GeneralProtection(0));
        }
        self.rip = target;
        Ok(())
    }
}

fn jmp_rel(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    cpu.near_branch(insn.imm)
}

fn jmp_ind<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let t = cpu.read_op::<N>(insn, 0)?;
    cpu.near_branch(t)
}

fn jcc<const CC: u8>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    if cpu.flags.condition(CC) {
        cpu.near_branch(insn.imm)?;
    }
    Ok(())
}

fn call_rel<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let target = insn.imm;
    call_to::<N>(cpu, target)
}

fn call_ind<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let target = cpu.read_op::<N>(insn, 0)?;
    call_to::<N>(cpu, target)
}

fn call_to<const N: usize>(cpu: &mut Cpu, target: u64) -> Result<(), Exception> {
    let ret = cpu.rip;
    let old_rsp = cpu.gpr[4];
    cpu.near_branch(target)?;
    if let Err(e) = cpu.push::<N>(ret) {
        cpu.gpr[4] = old_rsp;
        return Err(e);
    }
    Ok(())
}

fn ret<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let old_rsp = cpu.gpr[4];
    let target = cpu.pop::<N>()?;
    let r = cpu.near_branch(target);
    if r.is_err() {
        cpu.gpr[4] = old_rsp;
        return r;
    }
    if insn.op_count() == 1 {
        let width = cpu.stack_width();
        let sp = cpu.gpr[4].wrapping_add(insn.immediate16() as u64);
        cpu.set_gpr_sized(4, width, sp);
    }
    Ok(())
}

/// LOOP, LOOPE, LOOPNE decrement the count register; JCXZ and friends only
/// test it. The count register's width is the address size.
fn loop_handler(i: &Instruction) -> Option<Handler> {
    let name = format!("{:?}", i.code());
    // The count register is the address size: LOOP codes name it, JrCXZ
    // codes do not (Jrcxz_rel8_64, Jecxz_rel8_16/32/64).
    let width = if name.ends_with("_RCX") || i.mnemonic() == Mnemonic::Jrcxz {
        8
    } else if name.ends_with("_ECX") || i.mnemonic() == Mnemonic::Jecxz {
        4
    } else {
        2
    };
    const LOOP: u8 = 0;
    const LOOPE: u8 = 1;
    const LOOPNE: u8 = 2;
    const JCXZ: u8 = 3;
    let kind = match i.mnemonic() {
        Mnemonic::Loop => LOOP,
        Mnemonic::Loope => LOOPE,
        Mnemonic::Loopne => LOOPNE,
        _ => JCXZ,
    };
    macro_rules! pick {
        ($k:expr) => {
            match width {
                2 => loop_cc::<$k, 2>,
                4 => loop_cc::<$k, 4>,
                _ => loop_cc::<$k, 8>,
            }
        };
    }
    Some(match kind {
        LOOP => pick!(LOOP),
        LOOPE => pick!(LOOPE),
        LOOPNE => pick!(LOOPNE),
        _ => pick!(JCXZ),
    })
}

fn loop_cc<const KIND: u8, const W: u8>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let count = cpu.gpr_sized(1, W);
    let taken = if KIND == 3 {
        count == 0
    } else {
        let c = count.wrapping_sub(1) & crate::cpu::flags::size_mask(W);
        let zf = cpu.flags.zf();
        let t = c != 0
            && match KIND {
                1 => zf,
                2 => !zf,
                _ => true,
            };
        if t {
            cpu.near_branch(insn.imm)?;
        }
        cpu.set_gpr_sized(1, W, c);
        return Ok(());
    };
    if taken {
        cpu.near_branch(insn.imm)?;
    }
    Ok(())
}
