//! System instructions (to be completed): HLT.

use super::Handler;
use crate::cpu::decode::Insn;
use crate::cpu::{Cpu, Exception};
use iced_x86::{Instruction, Mnemonic};

pub fn resolve(i: &Instruction) -> Option<Handler> {
    match i.mnemonic() {
        Mnemonic::Hlt => Some(hlt),
        _ => None,
    }
}

/// HLT: privileged; the CPU stops until an interrupt or NMI.
fn hlt(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if cpu.cpl != 0 {
        return Err(Exception::GeneralProtection(0));
    }
    cpu.halted = true;
    cpu.exit_block = true;
    Ok(())
}
