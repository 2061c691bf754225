//! Data movement: MOV, LEA, NOP (more to come in this family: MOVZX,
//! MOVSX, XCHG, CMOVcc, SETcc, ...).

use super::Handler;
use crate::cpu::decode::Insn;
use crate::cpu::{Cpu, Exception};
use crate::sized;
use iced_x86::{Instruction, Mnemonic, OpKind};

pub fn resolve(i: &Instruction) -> Option<Handler> {
    let n = super::operand_size(i, 0);
    match i.mnemonic() {
        Mnemonic::Mov
            if i.op0_kind() != OpKind::Register
                || i.op0_register().is_gpr()
                    && (i.op1_kind() != OpKind::Register || i.op1_register().is_gpr()) =>
        {
            sized!(n, mov)
        }
        Mnemonic::Lea => sized!(n, lea),
        Mnemonic::Nop => Some(nop),
        _ => None,
    }
}

fn mov<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let v = cpu.read_op::<N>(insn, 1)?;
    cpu.write_op::<N>(insn, 0, v)
}

fn lea<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let a = cpu.ea(insn);
    cpu.set_reg::<N>(insn.op0_register(), a);
    Ok(())
}

fn nop(_: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    Ok(())
}
