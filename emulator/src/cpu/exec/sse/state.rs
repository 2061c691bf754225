//! MXCSR and the FXSAVE area (SDM Vol. 2, LDMXCSR, STMXCSR, FXSAVE,
//! FXRSTOR; the image is Vol. 1, 10.5.1, Tables 10-2 and 10-3).
//!
//! The 512-byte image: FCW, FSW, the abridged tag byte (bit i set when
//! physical register i is not empty), FOP, then the last instruction and
//! data pointers, either as 64-bit offsets (FXSAVE64, REX.W) or as 32-bit
//! offsets with 16-bit selectors (FXSAVE); MXCSR and MXCSR_MASK at 24 and
//! 28; ST0-ST7 in 16-byte slots from 32; XMM registers from 160 (16 of them
//! in 64-bit mode, 8 elsewhere). Reserved and software-available bytes are
//! left untouched. FCS and FDS are saved as 0 (this CPU does not track
//! them, like CPUs that deprecate FCS/FDS).
//!
//! Both instructions need a 16-byte-aligned operand (#GP(0)), raise #UD if
//! CR0.EM and #NM if CR0.TS; FXSAVE checks the whole area is writable
//! before it writes anything, and FXRSTOR reads and validates the whole
//! area (reserved MXCSR bits: #GP(0)) before it changes any register.

use super::{check_sse, read_mem, write_mem};
use crate::cpu::decode::Insn;
use crate::cpu::exec::Handler;
use crate::cpu::state::{cr0, Mode, MXCSR_MASK};
use crate::cpu::{Cpu, Exception};
use crate::mmu::AccessKind;
use iced_x86::{Instruction, Mnemonic};

/// Size of the FXSAVE area.
pub const FXSAVE_SIZE: usize = 512;
/// Byte offsets in the FXSAVE image.
pub mod offset {
    pub const FCW: usize = 0;
    pub const FSW: usize = 2;
    pub const FTW: usize = 4;
    pub const FOP: usize = 6;
    pub const FIP: usize = 8;
    pub const FDP: usize = 16;
    pub const MXCSR: usize = 24;
    pub const MXCSR_MASK: usize = 28;
    pub const ST: usize = 32;
    pub const XMM: usize = 160;
}

pub fn resolve(i: &Instruction) -> Option<Handler> {
    Some(match i.mnemonic() {
        Mnemonic::Ldmxcsr => ldmxcsr,
        Mnemonic::Stmxcsr => stmxcsr,
        Mnemonic::Fxsave => fxsave::<false>,
        Mnemonic::Fxsave64 => fxsave::<true>,
        Mnemonic::Fxrstor => fxrstor::<false>,
        Mnemonic::Fxrstor64 => fxrstor::<true>,
        _ => return None,
    })
}

/// LDMXCSR m32: a reserved bit set is #GP(0).
fn ldmxcsr(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_sse(cpu)?;
    let v = read_mem(cpu, insn, 4)? as u32;
    if v & !MXCSR_MASK != 0 {
        return Err(Exception::GeneralProtection(0));
    }
    cpu.mxcsr = v;
    Ok(())
}

fn stmxcsr(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_sse(cpu)?;
    write_mem(cpu, insn, 4, cpu.mxcsr as u128)
}

/// FXSAVE and FXRSTOR check CR0.EM (#UD) and CR0.TS (#NM) only.
fn check_fx(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.cr0 & cr0::EM != 0 {
        return Err(Exception::InvalidOpcode);
    }
    if cpu.cr0 & cr0::TS != 0 {
        return Err(Exception::DeviceNotAvailable);
    }
    Ok(())
}

/// The linear address of the 16-byte-aligned area, its segment checked.
fn area(cpu: &mut Cpu, insn: &Insn, kind: AccessKind) -> Result<u64, Exception> {
    let off = cpu.ea(insn);
    let lin = cpu.linear(insn.seg, off, FXSAVE_SIZE as u64, kind)?;
    if lin & 15 != 0 {
        return Err(Exception::GeneralProtection(0));
    }
    // The area spans at most two pages: check both before touching either.
    let user = cpu.user();
    cpu.check_lin(lin, kind, user)?;
    cpu.check_lin(lin + FXSAVE_SIZE as u64 - 1, kind, user)?;
    Ok(lin)
}

/// How many XMM registers the image holds in the current mode.
fn xmm_count(cpu: &Cpu) -> usize {
    if cpu.mode == Mode::Long64 {
        16
    } else {
        8
    }
}

/// The abridged tag byte: bit i set when physical register i is in use.
pub fn abridged_tag(ftw: u16) -> u8 {
    (0..8).fold(0, |t, i| t | (((ftw >> (2 * i)) & 3 != 3) as u8) << i)
}

/// The full tag of an 80-bit register from its contents (SDM Vol. 1,
/// 8.1.7): 00 valid, 01 zero, 10 special (NaN, infinity, denormal,
/// unsupported).
fn tag_of(reg: &[u8; 16]) -> u16 {
    let mantissa = u64::from_le_bytes(reg[..8].try_into().expect("8 bytes"));
    let exponent = u16::from_le_bytes([reg[8], reg[9]]) & 0x7FFF;
    match exponent {
        0 if mantissa == 0 => 1,
        0 | 0x7FFF => 2,
        _ if mantissa >> 63 == 0 => 2,
        _ => 0,
    }
}

/// The full tag word FXRSTOR rebuilds from the abridged byte.
fn full_tag(abridged: u8, top: usize, st: &[[u8; 16]; 8]) -> u16 {
    (0..8).fold(0, |ftw, phys| {
        let tag = if abridged >> phys & 1 == 0 {
            3
        } else {
            tag_of(&st[(phys + 8 - top) & 7])
        };
        ftw | tag << (2 * phys)
    })
}

fn top(fsw: u16) -> usize {
    ((fsw >> 11) & 7) as usize
}

/// Builds the image FXSAVE (`WIDE`: FXSAVE64) writes, as little-endian
/// quadwords, with a flag per quadword saying whether it is written.
fn image<const WIDE: bool>(cpu: &Cpu) -> [Option<u64>; FXSAVE_SIZE / 8] {
    let x = &cpu.x87;
    let mut q = [None; FXSAVE_SIZE / 8];
    q[0] = Some(
        x.fcw as u64
            | (x.fsw as u64) << 16
            | (abridged_tag(x.ftw) as u64) << 32
            | (x.fop as u64) << 48,
    );
    let (fip, fdp) = if WIDE {
        (x.fip, x.fdp)
    } else {
        // 32-bit offsets; FCS and FDS (bits 32-47) saved as zero.
        (x.fip & 0xFFFF_FFFF, x.fdp & 0xFFFF_FFFF)
    };
    q[offset::FIP / 8] = Some(fip);
    q[offset::FDP / 8] = Some(fdp);
    q[offset::MXCSR / 8] = Some(cpu.mxcsr as u64 | (MXCSR_MASK as u64) << 32);
    for (i, st) in x.st.iter().enumerate() {
        let at = (offset::ST + 16 * i) / 8;
        q[at] = Some(u64::from_le_bytes(st[..8].try_into().expect("8 bytes")));
        q[at + 1] = Some(u16::from_le_bytes([st[8], st[9]]) as u64);
    }
    for i in 0..xmm_count(cpu) {
        let at = (offset::XMM + 16 * i) / 8;
        q[at] = Some(cpu.xmm[i] as u64);
        q[at + 1] = Some((cpu.xmm[i] >> 64) as u64);
    }
    q
}

fn fxsave<const WIDE: bool>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_fx(cpu)?;
    let lin = area(cpu, insn, AccessKind::Write)?;
    let user = cpu.user();
    for (i, q) in image::<WIDE>(cpu).iter().enumerate() {
        if let Some(v) = q {
            cpu.write_lin::<8>(lin + 8 * i as u64, *v, user)?;
        }
    }
    Ok(())
}

fn fxrstor<const WIDE: bool>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    check_fx(cpu)?;
    let lin = area(cpu, insn, AccessKind::Read)?;
    let user = cpu.user();
    let mut q = [0u64; FXSAVE_SIZE / 8];
    for (i, v) in q.iter_mut().enumerate().take(offset::XMM / 8 + 32) {
        *v = cpu.read_lin::<8>(lin + 8 * i as u64, user)?;
    }
    let mxcsr = q[offset::MXCSR / 8] as u32;
    if mxcsr & !MXCSR_MASK != 0 {
        return Err(Exception::GeneralProtection(0));
    }
    let x = &mut cpu.x87;
    x.fcw = q[0] as u16;
    x.fsw = (q[0] >> 16) as u16;
    x.fop = (q[0] >> 48) as u16;
    let (fip, fdp) = (q[offset::FIP / 8], q[offset::FDP / 8]);
    (x.fip, x.fdp) = if WIDE {
        (fip, fdp)
    } else {
        (fip & 0xFFFF_FFFF, fdp & 0xFFFF_FFFF)
    };
    for (i, st) in x.st.iter_mut().enumerate() {
        let at = (offset::ST + 16 * i) / 8;
        st[..8].copy_from_slice(&q[at].to_le_bytes());
        st[8..10].copy_from_slice(&(q[at + 1] as u16).to_le_bytes());
        st[10..].fill(0);
    }
    x.ftw = full_tag((q[0] >> 32) as u8, top(x.fsw), &x.st);
    cpu.mxcsr = mxcsr;
    for i in 0..xmm_count(cpu) {
        let at = (offset::XMM + 16 * i) / 8;
        cpu.xmm[i] = q[at] as u128 | (q[at + 1] as u128) << 64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abridged_tag_marks_non_empty_registers() {
        assert_eq!(abridged_tag(0xFFFF), 0);
        assert_eq!(abridged_tag(0xFFFC), 0b0000_0001);
        assert_eq!(abridged_tag(0x3FFF), 0b1000_0000);
    }

    #[test]
    fn fxrstor_rebuilds_zero_valid_and_special_tags() {
        let mut st = [[0u8; 16]; 8];
        // ST0: 1.0 (valid); ST1: +0 (zero); ST2: infinity (special).
        st[0][7] = 0x80;
        st[0][8..10].copy_from_slice(&0x3FFFu16.to_le_bytes());
        st[2][7] = 0x80;
        st[2][8..10].copy_from_slice(&0x7FFFu16.to_le_bytes());
        let ftw = full_tag(0b0000_0111, 0, &st);
        assert_eq!(ftw, 0xFFE4);
    }
}
