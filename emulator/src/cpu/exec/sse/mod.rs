//! SSE and SSE2: the 128-bit XMM instructions rustc's x86-64 baseline emits,
//! MXCSR, and FXSAVE/FXRSTOR (SDM Vol. 1, chapters 10 and 11; Vol. 2 one
//! page per instruction).
//!
//! - `host`: runs arithmetic on the host's own SSE unit under the guest's
//!   MXCSR (the implementation strategy for exact IEEE results and flags).
//! - `arith`: the table of `xmm = op(xmm, xmm/m128[, imm8])` instructions:
//!   integer SIMD, float arithmetic, compares, packed conversions.
//! - `integer`: the integer SIMD operations, computed in software.
//! - `moves`: data moves between XMM registers, memory and GPRs.
//! - `shuffle`: shuffles, byte shifts, PINSRW/PEXTRW, sign-mask extraction.
//! - `convert`: conversions to and from GPRs, COMISS/UCOMISS and friends.
//! - `approx`: RCPPS/RSQRTPS, computed in software so every host agrees.
//! - `state`: LDMXCSR, STMXCSR, FXSAVE, FXRSTOR.
//! - `hints`: fences, PAUSE, prefetches and CLFLUSH (no CR checks).
//!
//! Every instruction here first checks CR0 and CR4 (SDM Vol. 3A, 13.1,
//! Table 13-1 and 2.5): CR0.EM or a clear CR4.OSFXSR is #UD, CR0.TS is #NM.
//! A 16-byte memory operand must be 16-byte aligned (#GP(0)) except for the
//! explicitly unaligned moves MOVUPS, MOVUPD and MOVDQU.
//!
//! MMX forms of the shared mnemonics (an `mm` register operand) are not
//! implemented: they fall through to #UD. rustc's baseline never emits them.

mod approx;
mod arith;
mod convert;
mod hints;
pub mod host;
pub mod integer;
mod moves;
mod shuffle;
pub mod state;

use super::Handler;
use crate::cpu::decode::Insn;
use crate::cpu::state::{cr0, cr4};
use crate::cpu::{Cpu, Exception};
use crate::mmu::AccessKind;
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

/// MXCSR bits (SDM Vol. 1, 10.2.3, Figure 10-3).
pub mod mxcsr {
    /// Invalid operation flag.
    pub const IE: u32 = 1 << 0;
    /// Denormal operand flag.
    pub const DE: u32 = 1 << 1;
    /// Divide-by-zero flag.
    pub const ZE: u32 = 1 << 2;
    /// Overflow flag.
    pub const OE: u32 = 1 << 3;
    /// Underflow flag.
    pub const UE: u32 = 1 << 4;
    /// Precision (inexact) flag.
    pub const PE: u32 = 1 << 5;
    /// All six exception flags.
    pub const FLAGS: u32 = 0x3F;
    /// Flags raised before the computation (the operands alone decide).
    pub const PRE_COMPUTATION: u32 = IE | DE | ZE;
    /// Denormals-are-zeros.
    pub const DAZ: u32 = 1 << 6;
    /// The six exception masks, IM..PM.
    pub const MASKS: u32 = 0x3F << MASK_SHIFT;
    /// Distance from a flag to its mask bit.
    pub const MASK_SHIFT: u32 = 7;
    /// Rounding control.
    pub const RC: u32 = 3 << 13;
    /// Flush-to-zero.
    pub const FTZ: u32 = 1 << 15;
}

/// Picks a handler for an SSE/SSE2 instruction.
pub fn resolve(i: &Instruction) -> Option<Handler> {
    let has_mmx =
        (0..i.op_count()).any(|n| i.op_kind(n) == OpKind::Register && i.op_register(n).is_mm());
    // LOCK on any of these is #UD.
    if has_mmx || i.has_lock_prefix() {
        return None;
    }
    moves::resolve(i)
        .or_else(|| arith::resolve(i))
        .or_else(|| shuffle::resolve(i))
        .or_else(|| convert::resolve(i))
        .or_else(|| state::resolve(i))
        .or_else(|| hints::resolve(i))
}

/// The CR0/CR4 checks every SSE instruction makes before anything else
/// (SDM Vol. 3A, Table 13-1).
#[inline(always)]
pub fn check_sse(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.cr0 & cr0::EM != 0 || cpu.cr4 & cr4::OSFXSR == 0 {
        return Err(Exception::InvalidOpcode);
    }
    if cpu.cr0 & cr0::TS != 0 {
        return Err(Exception::DeviceNotAvailable);
    }
    Ok(())
}

/// Index 0-15 of an XMM register.
#[inline(always)]
pub fn xmm_index(r: Register) -> usize {
    r as usize - Register::XMM0 as usize
}

/// Whether a 16-byte memory operand of this instruction may be unaligned.
fn allows_unaligned(i: &Instruction) -> bool {
    matches!(
        i.mnemonic(),
        Mnemonic::Movups | Mnemonic::Movupd | Mnemonic::Movdqu
    )
}

/// The linear address of the memory operand, with the 16-byte alignment
/// check legacy SSE makes on 128-bit operands.
fn linear_checked(cpu: &Cpu, insn: &Insn, size: usize, kind: AccessKind) -> Result<u64, Exception> {
    let off = cpu.ea(insn);
    let lin = cpu.linear(insn.seg, off, size as u64, kind)?;
    if size == 16 && lin & 15 != 0 && !allows_unaligned(insn) {
        return Err(Exception::GeneralProtection(0));
    }
    Ok(lin)
}

/// Reads `size` bytes of the memory operand, zero-extended.
pub fn read_mem(cpu: &mut Cpu, insn: &Insn, size: usize) -> Result<u128, Exception> {
    linear_checked(cpu, insn, size, AccessKind::Read)?;
    let off = cpu.ea(insn);
    Ok(match size {
        1 => cpu.read::<1>(insn.seg, off)? as u128,
        2 => cpu.read::<2>(insn.seg, off)? as u128,
        4 => cpu.read::<4>(insn.seg, off)? as u128,
        8 => cpu.read::<8>(insn.seg, off)? as u128,
        _ => cpu.read_u128(insn.seg, off)?,
    })
}

/// Writes the low `size` bytes of `v` to the memory operand.
pub fn write_mem(cpu: &mut Cpu, insn: &Insn, size: usize, v: u128) -> Result<(), Exception> {
    linear_checked(cpu, insn, size, AccessKind::Write)?;
    let off = cpu.ea(insn);
    match size {
        2 => cpu.write::<2>(insn.seg, off, v as u64),
        4 => cpu.write::<4>(insn.seg, off, v as u64),
        8 => cpu.write::<8>(insn.seg, off, v as u64),
        _ => cpu.write_u128(insn.seg, off, v),
    }
}

/// Reads operand `n` as a vector source: an XMM register, memory of the
/// instruction's memory size (zero-extended), or an immediate (the shift
/// count of the `imm8` shift forms).
#[inline(always)]
pub fn read_src(cpu: &mut Cpu, insn: &Insn, n: u32) -> Result<u128, Exception> {
    match insn.op_kind(n) {
        OpKind::Register => Ok(cpu.xmm[xmm_index(insn.op_register(n))]),
        OpKind::Memory => read_mem(cpu, insn, insn.memory_size().size()),
        _ => Ok(insn.immediate(n) as u128),
    }
}

/// Merges newly raised exception `flags` into MXCSR. If any of them is
/// unmasked the instruction faults: #XM with CR4.OSXMMEXCPT set, else #UD
/// (SDM Vol. 1, 11.5.1). Of the flags, an unmasked pre-computation
/// exception (IE, DE, ZE) reports only the pre-computation flags, because
/// the computation then never happens (11.5.2).
pub fn raise_flags(cpu: &mut Cpu, flags: u32) -> Result<(), Exception> {
    use mxcsr::*;
    let unmasked = flags & !(cpu.mxcsr >> MASK_SHIFT) & FLAGS;
    if unmasked == 0 {
        cpu.mxcsr |= flags;
        return Ok(());
    }
    let pre = flags & PRE_COMPUTATION;
    cpu.mxcsr |= if pre & unmasked != 0 { pre } else { flags };
    if cpu.cr4 & cr4::OSXMMEXCPT != 0 {
        Err(Exception::SimdFloatingPoint)
    } else {
        Err(Exception::InvalidOpcode)
    }
}

/// Splits a vector into `L` lanes of `W` bytes (lane 0 = lowest).
#[inline(always)]
pub fn lanes<const L: usize>(v: u128) -> [u64; L] {
    let bits = 128 / L;
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    core::array::from_fn(|i| (v >> (i * bits)) as u64 & mask)
}

/// Joins `L` lanes back into a vector.
#[inline(always)]
pub fn join<const L: usize>(l: [u64; L]) -> u128 {
    let bits = 128 / L;
    l.iter()
        .enumerate()
        .fold(0u128, |acc, (i, &x)| acc | (x as u128) << (i * bits))
}
