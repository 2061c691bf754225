//! Bit test and scan: BT, BTS, BTR, BTC, BSF, BSR (SDM Vol. 2A, "BT",
//! "BTC", "BTR", "BTS", "BSF", "BSR").
//!
//! - BTx with a register bit offset and a memory operand addresses the bit
//!   string beyond the operand: the offset is signed, and the operand read
//!   is the `N`-byte unit at `ea + (offset >> log2(8N)) * N`. With an
//!   immediate offset, or a register operand, the offset is taken modulo
//!   the operand width.
//! - BTx set CF to the selected bit. OF, SF, AF and PF are undefined and ZF
//!   is unaffected; we leave all of them unchanged.
//! - BSF/BSR with a zero source set ZF and leave the destination unchanged
//!   (what Intel and AMD processors do; AMD documents it). Otherwise ZF is
//!   cleared; the undefined CF, OF, AF are cleared and SF, PF follow the
//!   index written, as Bochs models Intel processors.
//! - POPCNT, LZCNT and TZCNT are not in the baseline we advertise (no
//!   BMI1/ABM in CPUID). On such a processor the F3-prefixed 0F BC / 0F BD
//!   encodings iced calls TZCNT / LZCNT execute as BSF / BSR (the prefix is
//!   ignored), so that is what they do here; POPCNT raises #UD.

use super::{Handler, Loc};
use crate::cpu::decode::Insn;
use crate::cpu::state::rflags::{CF, ZF};
use crate::cpu::{Cpu, Exception};
use crate::mmu::AccessKind;
use crate::sized;
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

/// What a bit-test instruction does to the selected bit.
const TEST: u8 = 0;
const SET: u8 = 1;
const RESET: u8 = 2;
const COMPLEMENT: u8 = 3;

pub fn resolve(i: &Instruction) -> Option<Handler> {
    let n = super::operand_size(i, 0);
    match i.mnemonic() {
        Mnemonic::Bt => sized!(n, bit_test::<TEST>),
        Mnemonic::Bts => sized!(n, bit_test::<SET>),
        Mnemonic::Btr => sized!(n, bit_test::<RESET>),
        Mnemonic::Btc => sized!(n, bit_test::<COMPLEMENT>),
        Mnemonic::Bsf | Mnemonic::Tzcnt => sized!(n, bit_scan::<true>),
        Mnemonic::Bsr | Mnemonic::Lzcnt => sized!(n, bit_scan::<false>),
        _ => None,
    }
}

/// BT/BTS/BTR/BTC: CF = the selected bit of op0, then `OP` on it.
fn bit_test<const OP: u8, const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let bits = N as u64 * 8;
    let raw = cpu.read_op::<N>(insn, 1)?;
    let bit = raw & (bits - 1);
    let loc = if insn.op0_kind() == OpKind::Memory {
        let mut ea = cpu.ea(insn);
        if insn.op1_kind() == OpKind::Register {
            // Signed bit offset: floor-divide by the width to find the unit.
            let shift = 64 - bits as u32;
            let signed = ((raw << shift) as i64) >> shift;
            let unit = signed >> bits.trailing_zeros();
            ea = ea.wrapping_add((unit * N as i64) as u64) & address_mask(insn);
        }
        let kind = if OP == TEST {
            AccessKind::Read
        } else {
            AccessKind::Write
        };
        Loc::Mem(cpu.linear(insn.seg, ea, N as u64, kind)?)
    } else {
        Loc::Reg(crate::cpu::regs::reg_code(insn.op0_register()))
    };
    let v = cpu.read_loc::<N>(loc)?;
    let m = 1u64 << bit;
    let res = match OP {
        SET => v | m,
        RESET => v & !m,
        COMPLEMENT => v ^ m,
        _ => v,
    };
    if OP != TEST {
        cpu.write_loc::<N>(loc, res)?;
    }
    cpu.flags.set_status(CF, if v & m != 0 { CF } else { 0 });
    Ok(())
}

/// The address-size wrap of the memory operand. The EA recipe's mask
/// comes from its registers; a 16-bit `[disp16]` operand has none, and
/// iced marks it by a 2-byte displacement.
fn address_mask(insn: &Insn) -> u64 {
    let no_regs = insn.memory_base() == Register::None && insn.memory_index() == Register::None;
    if no_regs && insn.memory_displ_size() == 2 {
        0xFFFF
    } else {
        insn.addr_mask
    }
}

/// BSF (`FORWARD`) and BSR: the index of the lowest / highest set bit.
fn bit_scan<const FORWARD: bool, const N: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    let src = cpu.read_op::<N>(insn, 1)?;
    if src == 0 {
        cpu.flags.set_status(ZF, ZF);
        return Ok(());
    }
    let index = if FORWARD {
        src.trailing_zeros()
    } else {
        63 - src.leading_zeros()
    } as u64;
    cpu.write_op::<N>(insn, 0, index)?;
    cpu.flags.set_result(N as u8, index, false, false, false);
    // A nonzero source clears ZF, even when the index is 0.
    cpu.flags.set_status(ZF, 0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::NullBus;
    use crate::cpu::decode::Insn;
    use crate::memory::PhysMemory;
    use iced_x86::{Decoder, DecoderOptions};

    fn run(cpu: &mut Cpu, bytes: &[u8]) -> Result<(), Exception> {
        let i = Decoder::with_ip(16, bytes, 0, DecoderOptions::NONE).decode();
        let insn = Insn::new(i, 16);
        (insn.handler)(cpu, &insn)
    }

    fn real_mode_cpu() -> Cpu {
        Cpu::new(PhysMemory::new(1 << 20).unwrap(), Box::new(NullBus))
    }

    #[test]
    fn bts_memory_negative_register_offset_addresses_below_the_operand() {
        let mut cpu = real_mode_cpu();
        cpu.seg[crate::cpu::state::SegReg::Ds as usize] = crate::cpu::state::Segment::real_mode(0);
        cpu.gpr[3] = 0x1000; // BX
        cpu.gpr[0] = 0xFFFF; // AX = -1: bit 15 of the word at BX - 2
        run(&mut cpu, &[0x0F, 0xAB, 0x07]).unwrap(); // bts [bx], ax
        assert_eq!(cpu.mem.read_u8(0x0FFF).unwrap(), 0x80);
        assert!(!cpu.flags.cf());
    }

    #[test]
    fn bsf_of_zero_sets_zf_and_keeps_destination() {
        let mut cpu = real_mode_cpu();
        cpu.gpr[0] = 0x1234;
        cpu.gpr[1] = 0;
        run(&mut cpu, &[0x0F, 0xBC, 0xC1]).unwrap(); // bsf ax, cx
        assert_eq!(cpu.gpr[0], 0x1234);
        assert!(cpu.flags.zf());
    }

    #[test]
    fn tzcnt_encoding_executes_as_bsf_without_bmi1() {
        let mut cpu = real_mode_cpu();
        cpu.gpr[1] = 0x0100;
        run(&mut cpu, &[0xF3, 0x0F, 0xBC, 0xC1]).unwrap(); // tzcnt ax, cx
        assert_eq!(cpu.gpr[0], 8);
        cpu.gpr[1] = 0;
        run(&mut cpu, &[0xF3, 0x0F, 0xBC, 0xC1]).unwrap();
        // TZCNT would write 16 and set CF; BSF leaves AX and sets ZF.
        assert_eq!(cpu.gpr[0], 8);
        assert!(cpu.flags.zf());
    }
}
