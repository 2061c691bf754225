//! Port I/O: IN, OUT (immediate-port and DX forms), INS and OUTS (with the
//! repeat prefixes, through the string engine in `string.rs`), all through
//! `Bus::io_read` / `Bus::io_write`.
//!
//! Protection (SDM Vol. 1, 19.5; Vol. 3A, 20.2.8 for virtual-8086 mode):
//! real mode checks nothing. In protected and long mode, CPL <= IOPL may
//! use every port; otherwise, and always in virtual-8086 mode, the I/O
//! permission bitmap of the current TSS decides. Its base is the 16-bit
//! field at TSS offset 0x66; every bit for ports `port ..= port + size - 1`
//! must be clear. The processor reads the bitmap two bytes at a time (the
//! word at `base + port / 8`), and both bytes must lie within the TSS
//! limit, which is why the SDM asks for an all-ones byte after the map:
//! ports past the limit are refused. TR must hold a 32-bit or 64-bit TSS
//! (type 9 or 11); anything else is #GP(0) too.
//!
//! IN and OUT end the block so the board can raise or take an interrupt
//! the access caused before the next instruction.

use super::string::{self, Element, RAX, RDX};
use super::Handler;
use crate::bus::Control;
use crate::cpu::decode::Insn;
use crate::cpu::state::{Mode, SegReg};
use crate::cpu::{Cpu, Exception};
use crate::mmu::AccessKind;
use crate::sized;
use iced_x86::{Instruction, Mnemonic, OpKind};

/// TSS offset of the I/O map base address field.
const TSS_IO_MAP_BASE: u64 = 0x66;
/// Available and busy 32-bit TSS (64-bit TSS in long mode).
const TSS32_AVAILABLE: u8 = 0x9;
const TSS32_BUSY: u8 = 0xB;

pub fn resolve(i: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    match i.mnemonic() {
        In => sized!(super::operand_size(i, 0), port_in),
        Out => sized!(super::operand_size(i, 1), port_out),
        Insb | Insw | Insd => string::pick::<Ins>(string::address_size(i)?, i.memory_size().size()),
        Outsb | Outsw | Outsd => {
            string::pick::<Outs>(string::address_size(i)?, i.memory_size().size())
        }
        _ => None,
    }
}

impl Cpu {
    /// Whether this code may access `size` ports from `port` on: #GP(0)
    /// unless IOPL or the TSS I/O permission bitmap allows it.
    pub fn check_io_permission(&mut self, port: u16, size: u8) -> Result<(), Exception> {
        if self.mode == Mode::Real || (self.mode != Mode::Virtual8086 && self.cpl <= self.iopl()) {
            return Ok(());
        }
        let denied = Exception::GeneralProtection(0);
        let tr = self.tr;
        let limit = tr.limit as u64;
        if !matches!(tr.system_type(), TSS32_AVAILABLE | TSS32_BUSY) || limit < TSS_IO_MAP_BASE + 1
        {
            return Err(denied);
        }
        let map = self.read_sys::<2>(tr.base.wrapping_add(TSS_IO_MAP_BASE))?;
        let at = map + port as u64 / 8;
        if at + 1 > limit {
            return Err(denied);
        }
        let bits = self.read_sys::<2>(tr.base.wrapping_add(at))?;
        let wanted = ((1u64 << size) - 1) << (port % 8);
        if bits & wanted != 0 {
            return Err(denied);
        }
        Ok(())
    }
}

/// The port an IN or OUT names in operand `n`: an immediate byte or DX.
fn port_operand(cpu: &Cpu, insn: &Insn, n: u32) -> u16 {
    if insn.op_kind(n) == OpKind::Immediate8 {
        insn.immediate8() as u16
    } else {
        cpu.gpr[RDX] as u16
    }
}

/// IN AL/AX/EAX, imm8/DX. A 32-bit read zero-extends into RAX.
fn port_in<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let port = port_operand(cpu, insn, 1);
    cpu.check_io_permission(port, N as u8)?;
    let v = cpu.port_read(port, N as u8);
    cpu.set_gpr_sized(RAX, N as u8, v as u64);
    cpu.exit_block = true;
    Ok(())
}

/// OUT imm8/DX, AL/AX/EAX.
fn port_out<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let port = port_operand(cpu, insn, 0);
    cpu.check_io_permission(port, N as u8)?;
    let v = cpu.gpr_sized(RAX, N as u8);
    cpu.port_write(port, N as u8, v as u32);
    cpu.exit_block = true;
    Ok(())
}

/// INS and OUTS check I/O permission once, before the first element, and
/// end the block after them (the device may now want an interrupt).
fn prepare_port_string(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let size = insn.memory_size().size() as u8;
    cpu.check_io_permission(cpu.gpr[RDX] as u16, size)?;
    cpu.exit_block = true;
    Ok(())
}

/// INS: ES:[rDI] = port DX. The destination is checked (segment and page)
/// before the port is read, since reading a port can change the device.
pub struct Ins;

impl Element for Ins {
    const SRC: bool = false;
    const DST: bool = true;
    const COMPARES: bool = false;

    fn prepare(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
        prepare_port_string(cpu, insn)
    }

    fn one<const N: usize>(cpu: &mut Cpu, _: &Insn, _: u64, di: u64) -> Result<(), Exception> {
        let user = cpu.user();
        let lin = cpu.linear(SegReg::Es, di, N as u64, AccessKind::Write)?;
        cpu.check_lin(lin, AccessKind::Write, user)?;
        cpu.check_lin(lin.wrapping_add(N as u64 - 1), AccessKind::Write, user)?;
        let v = cpu.port_read(cpu.gpr[RDX] as u16, N as u8);
        cpu.write_lin::<N>(lin, v as u64, user)
    }
}

/// OUTS: port DX = [seg:rSI].
pub struct Outs;

impl Element for Outs {
    const SRC: bool = true;
    const DST: bool = false;
    const COMPARES: bool = false;

    fn prepare(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
        prepare_port_string(cpu, insn)
    }

    fn one<const N: usize>(cpu: &mut Cpu, insn: &Insn, si: u64, _: u64) -> Result<(), Exception> {
        let v = cpu.read::<N>(insn.seg, si)?;
        cpu.port_write(cpu.gpr[RDX] as u16, N as u8, v as u32);
        Ok(())
    }
}

impl Cpu {
    /// Reads a port, after telling the board the current instruction count.
    pub fn port_read(&mut self, port: u16, size: u8) -> u32 {
        self.bus.sync(self.instret);
        self.bus.io_read(port, size)
    }

    /// Writes a port, then carries out what the write asked of the CPU's
    /// owner: A20 changes at once; reset and exit stop `run`.
    pub fn port_write(&mut self, port: u16, size: u8, value: u32) {
        self.bus.sync(self.instret);
        self.bus.io_write(port, size, value);
        while let Some(c) = self.bus.take_control() {
            match c {
                Control::SetA20(on) => self.set_a20(on),
                other => {
                    self.control = Some(other);
                    self.exit_block = true;
                }
            }
        }
    }
}
