//! Stack instructions: PUSH, POP (registers, memory, immediates). PUSHF,
//! POPF and segment-register pushes are in `system.rs`; ENTER, LEAVE,
//! PUSHA, POPA in `data.rs`.

use super::Handler;
use crate::cpu::decode::Insn;
use crate::cpu::{Cpu, Exception};
use iced_x86::{Instruction, Mnemonic, OpKind};

pub fn resolve(i: &Instruction) -> Option<Handler> {
    let is_sreg = i.op0_kind() == OpKind::Register && i.op0_register().is_segment_register();
    if is_sreg {
        return None;
    }
    let size = i.stack_pointer_increment().unsigned_abs();
    match i.mnemonic() {
        Mnemonic::Push => match size {
            2 => Some(push::<2>),
            4 => Some(push::<4>),
            8 => Some(push::<8>),
            _ => None,
        },
        Mnemonic::Pop => match size {
            2 => Some(pop::<2>),
            4 => Some(pop::<4>),
            8 => Some(pop::<8>),
            _ => None,
        },
        _ => None,
    }
}

fn push<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    // PUSH RSP pushes the value RSP had before the instruction.
    let v = cpu.read_op::<N>(insn, 0)?;
    cpu.push_sized(N as u8, v)
}

fn pop<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let old_rsp = cpu.gpr[4];
    let v = cpu.pop_sized(N as u8)?;
    // A memory destination's address uses the incremented RSP (SDM POP).
    if let Err(e) = cpu.write_op::<N>(insn, 0, v) {
        cpu.gpr[4] = old_rsp;
        return Err(e);
    }
    Ok(())
}
