//! Stack instructions: PUSH, POP (registers, memory, immediates). PUSHF,
//! POPF and segment-register pushes are in `system.rs`; ENTER, LEAVE,
//! PUSHA, POPA in `data.rs`.

use super::Handler;
use crate::cpu::access::is_canonical;
use crate::cpu::decode::Insn;
use crate::cpu::state::Mode;
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
    cpu.push::<N>(v)
}

fn pop<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let old_rsp = cpu.gpr[4];
    let v = cpu.pop::<N>()?;
    // A memory destination's address uses the incremented RSP (SDM POP).
    if let Err(e) = cpu.write_op::<N>(insn, 0, v) {
        cpu.gpr[4] = old_rsp;
        return Err(e);
    }
    Ok(())
}

impl Cpu {
    /// Pushes an `N`-byte value: the common 64-bit case directly (SS has no
    /// base or limit in 64-bit mode, only the canonical check), anything
    /// else through `push_sized`.
    #[inline(always)]
    pub fn push<const N: usize>(&mut self, v: u64) -> Result<(), Exception> {
        if N == 8 && self.mode == Mode::Long64 {
            let sp = self.gpr[4].wrapping_sub(8);
            if !is_canonical(sp) {
                return Err(Exception::StackFault(0));
            }
            self.write_lin::<8>(sp, v, self.user())?;
            self.gpr[4] = sp;
            return Ok(());
        }
        self.push_sized(N as u8, v)
    }

    /// Pops an `N`-byte value (see `push`).
    #[inline(always)]
    pub fn pop<const N: usize>(&mut self) -> Result<u64, Exception> {
        if N == 8 && self.mode == Mode::Long64 {
            let sp = self.gpr[4];
            if !is_canonical(sp) {
                return Err(Exception::StackFault(0));
            }
            let v = self.read_lin::<8>(sp, self.user())?;
            self.gpr[4] = sp.wrapping_add(8);
            return Ok(v);
        }
        self.pop_sized(N as u8)
    }
}
