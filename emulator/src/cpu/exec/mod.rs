//! Instruction handlers, one module per family, and `resolve`, which picks
//! a handler for a decoded instruction once, at decode time.
//!
//! Handlers are generic over operand size (`const N: usize`, in bytes) and,
//! where a family shares one shape, over the operation: one `alu::<OP, N>`
//! serves ADD, OR, ADC, SBB, AND, SUB, XOR and CMP at every width.
//!
//! A handler must leave no architectural effect when it returns `Err`:
//! memory writes that can fault come before register and flag updates.

pub mod alu;
pub mod bits;
pub mod control;
pub mod data;
pub mod far;
pub mod io;
pub mod muldiv;
pub mod shift;
pub mod sse;
pub mod stack;
pub mod string;
pub mod system;
pub mod x87;

use super::decode::{Insn, NO_REG, OPK_IMM, OPK_MEM, OPK_REG};
use super::flags::size_mask;
use super::{Cpu, Exception};
use crate::mmu::AccessKind;
use iced_x86::{Instruction, OpKind};

pub use super::decode::Handler;

/// Picks the handler for a decoded instruction. Anything no family claims
/// raises #UD when executed.
pub fn resolve(i: &Instruction) -> Handler {
    if i.is_invalid() || i.has_lock_prefix() && !lockable(i) {
        return undefined;
    }
    // `far` precedes `control`, which would take far JMP/CALL m16:xx for
    // near indirect ones; `system` precedes `data`, which would take MOV
    // to memory from a segment register for a plain MOV.
    let families: [fn(&Instruction) -> Option<Handler>; 13] = [
        far::resolve,
        system::resolve,
        alu::resolve,
        data::resolve,
        control::resolve,
        stack::resolve,
        shift::resolve,
        bits::resolve,
        muldiv::resolve,
        string::resolve,
        io::resolve,
        sse::resolve,
        x87::resolve,
    ];
    families.iter().find_map(|f| f(i)).unwrap_or(undefined)
}

/// Whether a LOCK prefix is allowed: only on the read-modify-write
/// instructions the SDM lists (Vol. 2A, "LOCK"), and only with a memory
/// destination; anything else is #UD. (iced already decodes most such
/// cases as invalid; this keeps the rule whatever the decoder options.)
fn lockable(i: &Instruction) -> bool {
    use iced_x86::Mnemonic::*;
    let rmw = [
        Add, Adc, And, Btc, Btr, Bts, Cmpxchg, Cmpxchg8b, Cmpxchg16b, Dec, Inc, Neg, Not, Or, Sbb,
        Sub, Xor, Xadd, Xchg,
    ];
    rmw.contains(&i.mnemonic()) && i.op0_kind() == OpKind::Memory
}

/// #UD: an invalid opcode, or one this CPU does not implement.
pub fn undefined(_: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    Err(Exception::InvalidOpcode)
}

/// Operand size in bytes of operand `n` (a register or memory operand).
pub fn operand_size(i: &Instruction, n: u32) -> usize {
    match i.op_kind(n) {
        OpKind::Register => i.op_register(n).size(),
        _ => i.memory_size().size(),
    }
}

/// Instantiates a handler generic over `const N: usize` for a runtime size.
#[macro_export]
macro_rules! sized {
    ($size:expr, $f:ident $(::<$($c:tt),*>)?) => {
        match $size {
            1 => Some($f::<$($($c,)*)? 1> as $crate::cpu::exec::Handler),
            2 => Some($f::<$($($c,)*)? 2> as $crate::cpu::exec::Handler),
            4 => Some($f::<$($($c,)*)? 4> as $crate::cpu::exec::Handler),
            8 => Some($f::<$($($c,)*)? 8> as $crate::cpu::exec::Handler),
            _ => None,
        }
    };
}

/// Instantiates a two-operand handler `f::<..., D, S, N>` for the operand
/// kinds (`OPK_*`) of an instruction's operands 0 (D) and 1 (S) and a
/// runtime size. Handlers read their operands with `read_as::<K, N>` and
/// friends: with K a constant the kind test folds away and the handler is
/// straight-line code for its form (`add rax, rcx` never looks at how a
/// memory operand would be read). Forms other than reg/mem/imm get the
/// `OPK_OTHER` instance, which asks iced-x86 at run time.
#[macro_export]
macro_rules! formed {
    ($i:expr, $size:expr, $f:ident $(::<$($c:tt),*>)?) => {{
        use $crate::cpu::decode::{OPK_IMM, OPK_MEM, OPK_OTHER, OPK_REG};
        use $crate::sized;
        let i: &iced_x86::Instruction = $i;
        let k = |n| $crate::cpu::decode::operand_kind(i, n);
        match (k(0), k(1)) {
            (OPK_REG, OPK_REG) => sized!($size, $f::<$($($c,)*)? OPK_REG, OPK_REG>),
            (OPK_REG, OPK_MEM) => sized!($size, $f::<$($($c,)*)? OPK_REG, OPK_MEM>),
            (OPK_REG, OPK_IMM) => sized!($size, $f::<$($($c,)*)? OPK_REG, OPK_IMM>),
            (OPK_MEM, OPK_REG) => sized!($size, $f::<$($($c,)*)? OPK_MEM, OPK_REG>),
            (OPK_MEM, OPK_IMM) => sized!($size, $f::<$($($c,)*)? OPK_MEM, OPK_IMM>),
            _ => sized!($size, $f::<$($($c,)*)? OPK_OTHER, OPK_OTHER>),
        }
    }};
}

/// `formed!` for one-operand handlers `f::<..., D, N>` (operand 0's kind).
#[macro_export]
macro_rules! formed1 {
    ($i:expr, $size:expr, $f:ident $(::<$($c:tt),*>)?) => {{
        use $crate::cpu::decode::{OPK_MEM, OPK_OTHER, OPK_REG};
        use $crate::sized;
        match $crate::cpu::decode::operand_kind($i, 0) {
            OPK_REG => sized!($size, $f::<$($($c,)*)? OPK_REG>),
            OPK_MEM => sized!($size, $f::<$($($c,)*)? OPK_MEM>),
            _ => sized!($size, $f::<$($($c,)*)? OPK_OTHER>),
        }
    }};
}

/// Where an operand lives, once its address is worked out.
#[derive(Debug, Clone, Copy)]
pub enum Loc {
    /// A general register, by `regs::reg_code`.
    Reg(u8),
    /// A linear address (segmentation already applied).
    Mem(u64),
}

impl Cpu {
    /// The effective address (offset within the segment) of the memory
    /// operand.
    #[inline(always)]
    pub fn ea(&self, insn: &Insn) -> u64 {
        // `& 15`: the compiler cannot see that a register other than
        // NO_REG is below 16; the mask drops the bounds checks.
        let mut a = insn.disp;
        if insn.base != NO_REG {
            a = a.wrapping_add(self.gpr[(insn.base & 15) as usize]);
        }
        if insn.index != NO_REG {
            a = a.wrapping_add(self.gpr[(insn.index & 15) as usize] << insn.scale);
        }
        a & insn.addr_mask
    }

    /// Reads operand `n` as an `N`-byte value (register, memory or
    /// immediate; immediates are sign-extended then cut to N bytes).
    #[inline(always)]
    pub fn read_op<const N: usize>(&mut self, insn: &Insn, n: u32) -> Result<u64, Exception> {
        if n < 2 {
            match insn.kind[n as usize] {
                OPK_REG => return Ok(self.reg_by_code::<N>(insn.reg[n as usize])),
                OPK_MEM => {
                    let a = self.ea(insn);
                    return self.read::<N>(insn.seg, a);
                }
                OPK_IMM => return Ok(insn.imm & size_mask(N as u8)),
                _ => {}
            }
        }
        match insn.op_kind(n) {
            OpKind::Register => Ok(self.reg::<N>(insn.op_register(n))),
            OpKind::Memory => {
                let a = self.ea(insn);
                self.read::<N>(insn.seg, a)
            }
            _ => Ok(insn.immediate(n) & size_mask(N as u8)),
        }
    }

    /// `read_op` for an operand whose kind `K` (`OPK_*`) was fixed at
    /// decode time (see `formed!`); `OPK_OTHER` falls back to `read_op`.
    #[inline(always)]
    pub fn read_as<const K: u8, const N: usize>(
        &mut self,
        insn: &Insn,
        n: u32,
    ) -> Result<u64, Exception> {
        match K {
            OPK_REG => Ok(self.reg_by_code::<N>(insn.reg[n as usize])),
            OPK_MEM => {
                let a = self.ea(insn);
                self.read::<N>(insn.seg, a)
            }
            OPK_IMM => Ok(insn.imm & size_mask(N as u8)),
            _ => self.read_op::<N>(insn, n),
        }
    }

    /// `write_op` for an operand of kind `K` fixed at decode time.
    #[inline(always)]
    pub fn write_as<const K: u8, const N: usize>(
        &mut self,
        insn: &Insn,
        n: u32,
        v: u64,
    ) -> Result<(), Exception> {
        match K {
            OPK_REG => {
                self.set_reg_by_code::<N>(insn.reg[n as usize], v);
                Ok(())
            }
            OPK_MEM => {
                let a = self.ea(insn);
                self.write::<N>(insn.seg, a, v)
            }
            _ => self.write_op::<N>(insn, n, v),
        }
    }

    /// `locate` for an operand of kind `K` fixed at decode time.
    #[inline(always)]
    pub fn locate_as<const K: u8, const N: usize>(
        &mut self,
        insn: &Insn,
        n: u32,
    ) -> Result<Loc, Exception> {
        match K {
            OPK_REG => Ok(Loc::Reg(insn.reg[n as usize])),
            _ => self.locate::<N>(insn, n),
        }
    }

    /// Writes operand `n` (register or memory).
    #[inline(always)]
    pub fn write_op<const N: usize>(
        &mut self,
        insn: &Insn,
        n: u32,
        v: u64,
    ) -> Result<(), Exception> {
        if n < 2 && insn.kind[n as usize] == OPK_REG {
            self.set_reg_by_code::<N>(insn.reg[n as usize], v);
            return Ok(());
        }
        match insn.op_kind(n) {
            OpKind::Register => {
                self.set_reg::<N>(insn.op_register(n), v);
                Ok(())
            }
            _ => {
                let a = self.ea(insn);
                self.write::<N>(insn.seg, a, v)
            }
        }
    }

    /// Locates operand `n` for a read-modify-write: segmentation is checked
    /// for a write once, then `read_loc`/`write_loc` use the linear address.
    #[inline(always)]
    pub fn locate<const N: usize>(&mut self, insn: &Insn, n: u32) -> Result<Loc, Exception> {
        if n < 2 && insn.kind[n as usize] == OPK_REG {
            return Ok(Loc::Reg(insn.reg[n as usize]));
        }
        match insn.op_kind(n) {
            OpKind::Register => Ok(Loc::Reg(super::regs::reg_code(insn.op_register(n)))),
            _ => {
                let a = self.ea(insn);
                Ok(Loc::Mem(self.linear(
                    insn.seg,
                    a,
                    N as u64,
                    AccessKind::Write,
                )?))
            }
        }
    }

    #[inline(always)]
    pub fn read_loc<const N: usize>(&mut self, loc: Loc) -> Result<u64, Exception> {
        match loc {
            Loc::Reg(r) => Ok(self.reg_by_code::<N>(r)),
            Loc::Mem(lin) => self.read_lin::<N>(lin, self.user()),
        }
    }

    #[inline(always)]
    pub fn write_loc<const N: usize>(&mut self, loc: Loc, v: u64) -> Result<(), Exception> {
        match loc {
            Loc::Reg(r) => {
                self.set_reg_by_code::<N>(r, v);
                Ok(())
            }
            Loc::Mem(lin) => self.write_lin::<N>(lin, v, self.user()),
        }
    }
}
