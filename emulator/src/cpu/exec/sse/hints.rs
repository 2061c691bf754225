//! SSE/SSE2 ordering and cache hints (SDM Vol. 2, one page each): LFENCE,
//! SFENCE, MFENCE, PAUSE, PREFETCHT0/T1/T2/NTA and CLFLUSH.
//!
//! This machine has one CPU and no caches, so every memory access is
//! already globally visible in program order: the fences and hints do
//! nothing. None of them checks CR0.EM/TS or CR4.OSFXSR (SDM Vol. 3A, 2.5).
//! CLFLUSH still faults like a one-byte read of its operand (segment
//! checks, #PF); prefetches never fault.

use crate::cpu::decode::Insn;
use crate::cpu::exec::Handler;
use crate::cpu::{Cpu, Exception};
use crate::mmu::AccessKind;
use iced_x86::{Instruction, Mnemonic};

pub fn resolve(i: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    match i.mnemonic() {
        Lfence | Sfence | Mfence | Pause | Prefetcht0 | Prefetcht1 | Prefetcht2 | Prefetchnta => {
            Some(nothing)
        }
        Clflush => Some(clflush),
        _ => None,
    }
}

fn nothing(_: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    Ok(())
}

fn clflush(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let off = cpu.ea(insn);
    let lin = cpu.linear(insn.seg, off, 1, AccessKind::Read)?;
    let user = cpu.user();
    cpu.check_lin(lin, AccessKind::Read, user)
}
