//! x87 FPU control state (SDM Vol. 1, chapter 8; Vol. 2 one page each):
//! FNINIT/FINIT, FNSTSW/FSTSW (AX or m16), FNSTCW/FSTCW, FLDCW,
//! FNCLEX/FCLEX, and WAIT/FWAIT.
//!
//! Device-not-available rules (SDM Vol. 3A, 2.5, Table 2-1): every x87
//! instruction raises #NM if CR0.EM or CR0.TS is set; WAIT/FWAIT only if
//! CR0.TS and CR0.MP are both set.
//!
//! The "waiting" forms (FINIT, FSTSW, FSTCW, FCLEX, WAIT) first check for a
//! pending unmasked x87 exception (FSW.ES): with CR0.NE it is #MF. With
//! CR0.NE clear a PC would signal it through FERR# and IRQ 13, which this
//! machine does not wire, so it is ignored there.
//!
//! Known gap: the x87 arithmetic and load/store instructions (FLD, FST,
//! FADD, ...) are not implemented. With CR0.EM or CR0.TS set they raise
//! #NM as the SDM says (so a guest that emulates or lazily switches the FPU
//! works); otherwise they raise #UD, although CPUID reports an FPU. Rust
//! code for x86-64 uses SSE2 for all floating point and never emits them.

use super::Handler;
use crate::cpu::decode::Insn;
use crate::cpu::state::{cr0, X87};
use crate::cpu::{Cpu, Exception};
use iced_x86::{CpuidFeature, Instruction, Mnemonic, OpKind};

/// FSW bits (SDM Vol. 1, 8.1.3).
pub mod fsw {
    /// The six exception flags IE, DE, ZE, OE, UE, PE.
    pub const EXCEPTIONS: u16 = 0x3F;
    /// Stack fault.
    pub const SF: u16 = 1 << 6;
    /// Exception summary: an unmasked exception is pending.
    pub const ES: u16 = 1 << 7;
    /// FPU busy (mirrors ES).
    pub const B: u16 = 1 << 15;
}

/// FCW exception mask bits IM..PM (SDM Vol. 1, 8.1.5).
const FCW_MASKS: u16 = 0x3F;

pub fn resolve(i: &Instruction) -> Option<Handler> {
    if i.has_lock_prefix() {
        return None;
    }
    Some(match i.mnemonic() {
        Mnemonic::Fninit => fninit::<false>,
        Mnemonic::Finit => fninit::<true>,
        Mnemonic::Fnstsw => fstsw::<false>,
        Mnemonic::Fstsw => fstsw::<true>,
        Mnemonic::Fnstcw => fstcw::<false>,
        Mnemonic::Fstcw => fstcw::<true>,
        Mnemonic::Fldcw => fldcw,
        Mnemonic::Fnclex => fclex::<false>,
        Mnemonic::Fclex => fclex::<true>,
        Mnemonic::Wait => wait,
        _ if i.cpuid_features().contains(&CpuidFeature::FPU) => unimplemented_x87,
        _ => return None,
    })
}

/// #NM if CR0.EM or CR0.TS; then, for the waiting forms, #MF if an
/// unmasked exception is pending and CR0.NE is set.
fn check<const WAIT: bool>(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.cr0 & (cr0::EM | cr0::TS) != 0 {
        return Err(Exception::DeviceNotAvailable);
    }
    if WAIT {
        pending(cpu)?;
    }
    Ok(())
}

fn pending(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.x87.fsw & fsw::ES != 0 && cpu.cr0 & cr0::NE != 0 {
        return Err(Exception::FloatingPoint);
    }
    Ok(())
}

/// FNINIT: FCW = 0x37F, FSW = 0, every register empty, pointers cleared.
/// The register contents are left as they were, as on hardware.
fn fninit<const WAIT: bool>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    check::<WAIT>(cpu)?;
    cpu.x87 = X87 {
        st: cpu.x87.st,
        ..X87::default()
    };
    Ok(())
}

fn fstsw<const WAIT: bool>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check::<WAIT>(cpu)?;
    let v = cpu.x87.fsw as u64;
    match insn.op0_kind() {
        OpKind::Register => {
            cpu.set_reg::<2>(insn.op0_register(), v);
            Ok(())
        }
        _ => cpu.write_op::<2>(insn, 0, v),
    }
}

fn fstcw<const WAIT: bool>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check::<WAIT>(cpu)?;
    cpu.write_op::<2>(insn, 0, cpu.x87.fcw as u64)
}

/// FLDCW: a flag whose mask is cleared becomes a pending exception
/// (FSW.ES and FSW.B), raised by the next waiting instruction.
fn fldcw(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check::<false>(cpu)?;
    let fcw = cpu.read_op::<2>(insn, 0)? as u16;
    let x = &mut cpu.x87;
    // Bits 6 and 13-15 are reserved; bit 6 reads as 1 on every x87 since
    // the 387, and FNSTCW returns it so (FNINIT leaves 0x37F).
    x.fcw = (fcw & 0x1F3F) | 0x40;
    let unmasked = x.fsw & fsw::EXCEPTIONS & !(x.fcw & FCW_MASKS) != 0;
    if unmasked {
        x.fsw |= fsw::ES | fsw::B;
    } else {
        x.fsw &= !(fsw::ES | fsw::B);
    }
    Ok(())
}

/// FNCLEX: clears the exception flags, SF, ES and B.
fn fclex<const WAIT: bool>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    check::<WAIT>(cpu)?;
    cpu.x87.fsw &= !(fsw::EXCEPTIONS | fsw::SF | fsw::ES | fsw::B);
    Ok(())
}

/// WAIT/FWAIT: #NM only with both CR0.TS and CR0.MP; then pending
/// exceptions.
fn wait(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if cpu.cr0 & (cr0::TS | cr0::MP) == cr0::TS | cr0::MP {
        return Err(Exception::DeviceNotAvailable);
    }
    pending(cpu)
}

/// The x87 instructions this CPU does not implement (see the module docs).
fn unimplemented_x87(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    check::<false>(cpu)?;
    Err(Exception::InvalidOpcode)
}
