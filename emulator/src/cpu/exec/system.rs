//! System instructions (SDM Vol. 2, one page each; Vol. 3A, chapters 2-5
//! for the registers they touch):
//!
//! - interrupt flag and RFLAGS: CLI, STI (one-instruction shadow), PUSHF,
//!   POPF;
//! - segment registers: MOV Sreg, PUSH/POP Sreg, LDS/LES/LFS/LGS/LSS;
//! - control and debug registers: MOV CRn, MOV DRn, CLTS, LMSW, SMSW;
//! - descriptor tables: LGDT, LIDT, SGDT, SIDT, LLDT, SLDT, LTR, STR;
//! - descriptor queries: LAR, LSL, VERR, VERW, ARPL;
//! - caches and TLB: INVLPG, WBINVD, INVD, CLFLUSH, fences, PAUSE,
//!   PREFETCHh (no-ops here except INVLPG);
//! - identification, time and MSRs: CPUID, RDTSC, RDTSCP, RDMSR, WRMSR;
//! - fast system calls: SYSCALL, SYSRET, SWAPGS, SYSENTER, SYSEXIT;
//! - HLT, UD2.
//!
//! Not implemented: VME/PVI (CR4 bits refused), debug breakpoints in DR0-DR3 (the registers hold
//! values but never trigger), alignment checking (#AC is never raised),
//! UMIP. Far transfers, INT and IRET are in `far.rs`.

use super::Handler;
use crate::cpu::access::is_canonical;
use crate::cpu::decode::Insn;
use crate::cpu::flags::size_mask;
use crate::cpu::segment::Selector;
use crate::cpu::state::{attr, cr0, cr4, efer, msr, rflags, Mode, SegReg, Segment};
use crate::cpu::{Cpu, Exception};
use crate::sized;
use iced_x86::{Code, Instruction, Mnemonic, OpKind, Register};

pub fn resolve(i: &Instruction) -> Option<Handler> {
    use Mnemonic as M;
    let sreg_op =
        |n: u32| i.op_kind(n) == OpKind::Register && i.op_register(n).is_segment_register();
    let stack = i.stack_pointer_increment().unsigned_abs();
    Some(match i.mnemonic() {
        M::Hlt => hlt,
        M::Cli => cli,
        M::Sti => sti,
        M::Pushf | M::Pushfd | M::Pushfq => sized!(stack, pushf)?,
        M::Popf | M::Popfd | M::Popfq => sized!(stack, popf)?,
        M::Mov if sreg_op(0) => mov_to_sreg,
        M::Mov if sreg_op(1) => mov_from_sreg,
        M::Push if sreg_op(0) => sized!(stack, push_sreg)?,
        M::Pop if sreg_op(0) => sized!(stack, pop_sreg)?,
        M::Lds | M::Les | M::Lfs | M::Lgs | M::Lss => {
            sized!(super::operand_size(i, 0), load_far_pointer)?
        }
        M::Mov if i.op0_kind() == OpKind::Register && i.op0_register().is_cr() => mov_to_cr,
        M::Mov if i.op1_kind() == OpKind::Register && i.op1_register().is_cr() => mov_from_cr,
        M::Mov if i.op0_kind() == OpKind::Register && i.op0_register().is_dr() => mov_to_dr,
        M::Mov if i.op1_kind() == OpKind::Register && i.op1_register().is_dr() => mov_from_dr,
        M::Clts => clts,
        M::Lmsw => lmsw,
        M::Smsw => smsw,
        M::Lgdt | M::Lidt => load_table_register,
        M::Sgdt | M::Sidt => store_table_register,
        M::Lldt => lldt,
        M::Ltr => ltr,
        M::Sldt | M::Str => store_system_selector,
        M::Lar => lar,
        M::Lsl => lsl,
        M::Verr => verify::<false>,
        M::Verw => verify::<true>,
        M::Arpl => arpl,
        M::Invlpg if i.code() == Code::Invlpg_m => invlpg,
        M::Wbinvd | M::Invd => privileged_nop,
        M::Lfence | M::Sfence | M::Mfence | M::Pause => nop,
        M::Prefetchnta | M::Prefetcht0 | M::Prefetcht1 | M::Prefetcht2 => nop,
        M::Clflush | M::Prefetchw | M::Prefetch => nop,
        M::Cpuid => cpuid,
        M::Rdtsc => rdtsc::<false>,
        M::Rdtscp => rdtsc::<true>,
        M::Rdmsr => rdmsr,
        M::Wrmsr => wrmsr,
        M::Syscall => syscall,
        M::Sysret => sysret::<4>,
        M::Sysretq => sysret::<8>,
        M::Swapgs => swapgs,
        M::Sysenter => sysenter,
        M::Sysexit => sysexit::<4>,
        M::Sysexitq => sysexit::<8>,
        M::Ud2 => super::undefined,
        _ => return None,
    })
}

// ---------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------

/// #GP(0) unless the CPU runs at CPL 0 (virtual-8086 mode runs at CPL 3).
fn require_cpl0(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.cpl == 0 {
        Ok(())
    } else {
        Err(Exception::GeneralProtection(0))
    }
}

/// #UD in real and virtual-8086 mode (LLDT, LTR, LAR, VERR, ...).
fn require_protected(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.mode.is_protected() {
        Ok(())
    } else {
        Err(Exception::InvalidOpcode)
    }
}

/// Reads a 16-bit selector operand: the low word of a register, or a word
/// in memory.
fn read_word(cpu: &mut Cpu, insn: &Insn, n: u32) -> Result<u16, Exception> {
    match insn.op_kind(n) {
        OpKind::Register => Ok(cpu.reg_any(insn.op_register(n)) as u16),
        _ => {
            let a = cpu.ea(insn);
            Ok(cpu.read::<2>(insn.seg, a)? as u16)
        }
    }
}

/// Stores a 16-bit system value: zero-extended into a register of any
/// width, or as a word in memory (SLDT, STR, SMSW, MOV from Sreg).
fn store_word(cpu: &mut Cpu, insn: &Insn, n: u32, v: u64) -> Result<(), Exception> {
    match insn.op_kind(n) {
        OpKind::Register => {
            cpu.set_reg_any(insn.op_register(n), v);
            Ok(())
        }
        _ => {
            let a = cpu.ea(insn);
            cpu.write::<2>(insn.seg, a, v & 0xFFFF)
        }
    }
}

fn nop(_: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    Ok(())
}

/// WBINVD, INVD: caches are not modelled; only the privilege check.
fn privileged_nop(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)
}

// ---------------------------------------------------------------------
// HLT, CLI, STI, PUSHF, POPF
// ---------------------------------------------------------------------

/// HLT: privileged; the CPU stops until an interrupt or NMI.
fn hlt(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    cpu.halted = true;
    cpu.exit_block = true;
    if let Some(mut t) = cpu.trace.on(crate::trace::Category::Cpu) {
        t.halt(cpu.instret, cpu.rip);
    }
    Ok(())
}

/// Whether CLI/STI may change IF: always in real mode, when CPL <= IOPL
/// in protected mode, when IOPL = 3 in virtual-8086 mode (no VME/PVI).
fn may_change_if(cpu: &Cpu) -> bool {
    match cpu.mode {
        Mode::Real => true,
        Mode::Virtual8086 => cpu.iopl() == 3,
        _ => cpu.cpl <= cpu.iopl(),
    }
}

fn cli(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if !may_change_if(cpu) {
        return Err(Exception::GeneralProtection(0));
    }
    cpu.flags.assign(rflags::IF, false);
    Ok(())
}

/// STI: when IF was clear, interrupts stay inhibited until the next
/// instruction has run (SDM STI, "interrupt shadow").
fn sti(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if !may_change_if(cpu) {
        return Err(Exception::GeneralProtection(0));
    }
    if !cpu.flags.test(rflags::IF) {
        cpu.flags.assign(rflags::IF, true);
        cpu.interrupt_shadow = true;
        cpu.exit_block = true;
    }
    Ok(())
}

/// PUSHF/PUSHFD/PUSHFQ: VM and RF are pushed as 0.
fn pushf<const N: usize>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if cpu.mode == Mode::Virtual8086 && cpu.iopl() < 3 {
        return Err(Exception::GeneralProtection(0));
    }
    let v = cpu.flags.get() & !(rflags::VM | rflags::RF);
    cpu.push_sized(N as u8, v & size_mask(N as u8))
}

/// The RFLAGS bits POPF may change (SDM POPF, Table "Effect of POPF"):
/// never VM, RF, VIF, VIP; IOPL only at CPL 0; IF only when CPL <= IOPL;
/// only the low 16 bits with a 16-bit operand.
fn popf_mask(cpu: &Cpu, size: u8) -> u64 {
    let mut may = rflags::ARITH | rflags::TF | rflags::DF | rflags::NT;
    if size >= 4 {
        may |= rflags::AC | rflags::ID;
    }
    if cpu.mode != Mode::Virtual8086 && cpu.cpl == 0 {
        may |= rflags::IOPL;
    }
    if may_change_if(cpu) {
        may |= rflags::IF;
    }
    may & size_mask(size)
}

fn popf<const N: usize>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if cpu.mode == Mode::Virtual8086 && cpu.iopl() < 3 {
        return Err(Exception::GeneralProtection(0));
    }
    let may = popf_mask(cpu, N as u8);
    let v = cpu.pop_sized(N as u8)?;
    let cur = cpu.flags.get() & !rflags::RF;
    cpu.flags.set((cur & !may) | (v & may));
    // TF or IF may have changed: look again before the next instruction.
    cpu.exit_block = true;
    Ok(())
}

// ---------------------------------------------------------------------
// Segment registers
// ---------------------------------------------------------------------

/// MOV Sreg, r/m16. MOV CS is #UD; MOV SS starts an interrupt shadow
/// (`load_segment` does that).
fn mov_to_sreg(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let s = SegReg::from_iced(insn.op0_register()).ok_or(Exception::InvalidOpcode)?;
    if s == SegReg::Cs {
        return Err(Exception::InvalidOpcode);
    }
    let sel = read_word(cpu, insn, 1)?;
    cpu.load_segment(s, sel)
}

fn mov_from_sreg(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let s = SegReg::from_iced(insn.op1_register()).ok_or(Exception::InvalidOpcode)?;
    let v = cpu.segment(s).selector as u64;
    store_word(cpu, insn, 0, v)
}

/// PUSH Sreg: the selector, zero-extended to the operand size.
fn push_sreg<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let s = SegReg::from_iced(insn.op0_register()).ok_or(Exception::InvalidOpcode)?;
    let v = cpu.segment(s).selector as u64;
    cpu.push_sized(N as u8, v)
}

/// POP Sreg: the segment is loaded (and checked) before RSP moves.
fn pop_sreg<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let s = SegReg::from_iced(insn.op0_register()).ok_or(Exception::InvalidOpcode)?;
    if s == SegReg::Cs {
        return Err(Exception::InvalidOpcode);
    }
    let width = cpu.stack_width();
    let sp = cpu.gpr[4] & size_mask(width);
    let v = cpu.read::<2>(SegReg::Ss, sp)?;
    cpu.load_segment(s, v as u16)?;
    cpu.set_gpr_sized(4, width, sp.wrapping_add(N as u64));
    Ok(())
}

/// LDS, LES, LFS, LGS, LSS r, m16:N: offset first, selector after it.
fn load_far_pointer<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let s = match insn.mnemonic() {
        Mnemonic::Lds => SegReg::Ds,
        Mnemonic::Les => SegReg::Es,
        Mnemonic::Lfs => SegReg::Fs,
        Mnemonic::Lgs => SegReg::Gs,
        _ => SegReg::Ss,
    };
    let a = cpu.ea(insn);
    let offset = cpu.read::<N>(insn.seg, a)?;
    let sel = cpu.read::<2>(insn.seg, a.wrapping_add(N as u64) & insn.addr_mask)?;
    cpu.load_segment(s, sel as u16)?;
    cpu.set_reg::<N>(insn.op0_register(), offset);
    Ok(())
}

// ---------------------------------------------------------------------
// Control and debug registers
// ---------------------------------------------------------------------

/// Physical-address width this CPU reports (CPUID 0x80000008).
const PHYS_ADDR_BITS: u32 = 40;
const LINEAR_ADDR_BITS: u32 = 48;

/// CR3 bits that must be 0 in long mode: above the physical-address width.
const CR3_RESERVED_LONG: u64 = !((1u64 << PHYS_ADDR_BITS) - 1);

fn mov_from_cr(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let v = match insn.op1_register() {
        Register::CR0 => cpu.cr0,
        Register::CR2 => cpu.cr2,
        Register::CR3 => cpu.cr3,
        Register::CR4 => cpu.cr4,
        Register::CR8 if cpu.mode == Mode::Long64 => cpu.cr8,
        _ => return Err(Exception::InvalidOpcode),
    };
    cpu.set_reg_any(insn.op0_register(), v);
    Ok(())
}

fn mov_to_cr(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let v = cpu.reg_any(insn.op1_register());
    match insn.op0_register() {
        Register::CR0 => cpu.write_cr0(v),
        Register::CR2 => {
            cpu.cr2 = v;
            Ok(())
        }
        Register::CR3 => cpu.write_cr3(v),
        Register::CR4 => cpu.write_cr4(v),
        Register::CR8 if cpu.mode == Mode::Long64 => {
            if v & !0xF != 0 {
                return Err(Exception::GeneralProtection(0));
            }
            cpu.cr8 = v;
            cpu.exit_block = true;
            Ok(())
        }
        _ => Err(Exception::InvalidOpcode),
    }
}

impl Cpu {
    /// MOV CR0 (SDM Vol. 3A, 2.5 and 9.8.5): reserved bits, PG without
    /// PE and NW without CD are #GP(0); setting PG with EFER.LME enters
    /// long mode (needs CR4.PAE and CS.L = 0), clearing PG leaves it (not
    /// from 64-bit code).
    pub fn write_cr0(&mut self, v: u64) -> Result<(), Exception> {
        let gp = Err(Exception::GeneralProtection(0));
        let v = v | cr0::ET;
        if v & !cr0::WRITABLE != 0 {
            return gp;
        }
        if (v & cr0::PG != 0 && v & cr0::PE == 0) || (v & cr0::NW != 0 && v & cr0::CD == 0) {
            return gp;
        }
        let old = self.cr0;
        let enabling = v & cr0::PG != 0 && old & cr0::PG == 0;
        let disabling = v & cr0::PG == 0 && old & cr0::PG != 0;
        let mut new_efer = self.efer;
        if enabling && self.efer & efer::LME != 0 {
            if self.cr4 & cr4::PAE == 0 || self.seg[SegReg::Cs as usize].long() {
                return gp;
            }
            new_efer |= efer::LMA;
        }
        if disabling && self.efer & efer::LMA != 0 {
            if self.mode == Mode::Long64 {
                return gp;
            }
            new_efer &= !efer::LMA;
        }
        if v & cr0::PE == 0 && self.efer & efer::LMA != 0 && new_efer & efer::LMA != 0 {
            return gp;
        }
        self.cr0 = v;
        self.efer = new_efer;
        if v & cr0::PE != 0 && old & cr0::PE == 0 {
            // The real-mode CS cache stays in use until the far jump that
            // follows; it is executable whatever type bits it was built with.
            let cs = &mut self.seg[SegReg::Cs as usize];
            if !cs.is_code() {
                cs.attr =
                    (cs.attr & !attr::TYPE) | attr::S | attr::CODE | attr::RW | attr::ACCESSED;
            }
        }
        if (old ^ v) & (cr0::PG | cr0::WP | cr0::PE) != 0 {
            self.tlb.flush_all();
        }
        self.update_mode();
        Ok(())
    }

    /// MOV CR3: flushes the non-global TLB entries.
    pub fn write_cr3(&mut self, v: u64) -> Result<(), Exception> {
        let v = if self.efer & efer::LMA != 0 {
            if v & CR3_RESERVED_LONG != 0 {
                return Err(Exception::GeneralProtection(0));
            }
            v
        } else {
            v & 0xFFFF_FFFF
        };
        self.cr3 = v;
        self.tlb.flush_non_global();
        self.exit_block = true;
        Ok(())
    }

    /// MOV CR4: unsupported bits are #GP(0), as is clearing PAE in long
    /// mode; PGE, PSE and PAE changes flush the whole TLB.
    pub fn write_cr4(&mut self, v: u64) -> Result<(), Exception> {
        if v & !cr4::SUPPORTED != 0 {
            return Err(Exception::GeneralProtection(0));
        }
        if self.efer & efer::LMA != 0 && v & cr4::PAE == 0 {
            return Err(Exception::GeneralProtection(0));
        }
        let old = self.cr4;
        self.cr4 = v;
        if (old ^ v) & (cr4::PGE | cr4::PSE | cr4::PAE) != 0 {
            self.tlb.flush_all();
        }
        self.update_mode();
        Ok(())
    }
}

/// DR4 and DR5 name DR6 and DR7 unless CR4.DE is set, when they are #UD.
fn debug_register(cpu: &Cpu, r: Register) -> Result<usize, Exception> {
    let n = r.number();
    match n {
        4 | 5 if cpu.cr4 & cr4::DE != 0 => Err(Exception::InvalidOpcode),
        4 | 5 => Ok(n + 2),
        0..=7 => Ok(n),
        _ => Err(Exception::InvalidOpcode),
    }
}

/// DR6: bits 4-11 and 16-31 read as 1, bit 12 as 0.
const DR6_FIXED1: u64 = 0xFFFF_0FF0;
const DR6_WRITABLE: u64 = 0xE00F;
/// DR7: bit 10 reads as 1, bits 11, 12, 14, 15 as 0.
const DR7_FIXED1: u64 = 0x400;
const DR7_FIXED0: u64 = 0xD800;

fn mov_from_dr(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let n = debug_register(cpu, insn.op1_register())?;
    let v = cpu.dr[n];
    cpu.set_reg_any(insn.op0_register(), v);
    Ok(())
}

fn mov_to_dr(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let n = debug_register(cpu, insn.op0_register())?;
    let v = cpu.reg_any(insn.op1_register());
    cpu.dr[n] = match n {
        6 | 7 if v >> 32 != 0 => return Err(Exception::GeneralProtection(0)),
        6 => (v & DR6_WRITABLE) | DR6_FIXED1,
        7 => (v & !DR7_FIXED0) | DR7_FIXED1,
        _ => v,
    };
    Ok(())
}

fn clts(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    cpu.cr0 &= !cr0::TS;
    Ok(())
}

/// LMSW: loads PE, MP, EM, TS from the operand; it cannot clear PE.
fn lmsw(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let w = read_word(cpu, insn, 0)? as u64;
    let low = cr0::PE | cr0::MP | cr0::EM | cr0::TS;
    let v = (cpu.cr0 & !(low & !cr0::PE)) | (w & low);
    cpu.write_cr0(v)
}

/// SMSW: the low bits of CR0 (not privileged: no UMIP).
fn smsw(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let v = cpu.cr0;
    let v = match insn.op0_kind() {
        OpKind::Register => v & size_mask(insn.op0_register().size() as u8),
        _ => v & 0xFFFF,
    };
    store_word(cpu, insn, 0, v)
}

// ---------------------------------------------------------------------
// Descriptor-table registers
// ---------------------------------------------------------------------

/// LGDT/LIDT m16&32 (24-bit base with a 16-bit operand) or m16&64.
fn load_table_register(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let a = cpu.ea(insn);
    let limit = cpu.read::<2>(insn.seg, a)? as u16;
    let base_at = a.wrapping_add(2) & insn.addr_mask;
    let base = match insn.code() {
        Code::Lgdt_m1664 | Code::Lidt_m1664 => {
            let b = cpu.read::<8>(insn.seg, base_at)?;
            if !is_canonical(b) {
                return Err(Exception::GeneralProtection(0));
            }
            b
        }
        Code::Lgdt_m1632_16 | Code::Lidt_m1632_16 => cpu.read::<4>(insn.seg, base_at)? & 0xFF_FFFF,
        _ => cpu.read::<4>(insn.seg, base_at)?,
    };
    let reg = if insn.mnemonic() == Mnemonic::Lgdt {
        &mut cpu.gdtr
    } else {
        &mut cpu.idtr
    };
    reg.base = base;
    reg.limit = limit;
    Ok(())
}

/// SGDT/SIDT: limit, then a 4-byte base (8 in 64-bit mode).
fn store_table_register(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let reg = if insn.mnemonic() == Mnemonic::Sgdt {
        cpu.gdtr
    } else {
        cpu.idtr
    };
    let a = cpu.ea(insn);
    let base_at = a.wrapping_add(2) & insn.addr_mask;
    if cpu.mode == Mode::Long64 {
        cpu.write::<8>(insn.seg, base_at, reg.base)?;
    } else {
        cpu.write::<4>(insn.seg, base_at, reg.base & 0xFFFF_FFFF)?;
    }
    cpu.write::<2>(insn.seg, a, reg.limit as u64)
}

impl Cpu {
    /// Reads a system descriptor from the GDT: 8 bytes, or 16 in long mode
    /// (the upper half gives base bits 63:32). #GP(selector) for an LDT
    /// selector or one outside the GDT.
    fn system_descriptor(&mut self, sel: Selector) -> Result<(Segment, u64), Exception> {
        if sel.ldt() {
            return Err(Exception::GeneralProtection(sel.error_code()));
        }
        let long = self.efer & efer::LMA != 0;
        let addr = self.descriptor_address(sel, if long { 16 } else { 8 })?;
        let lo = self.read_sys::<8>(addr)?;
        let mut seg = Segment::from_descriptor(sel.0, lo);
        if long {
            let hi = self.read_sys::<8>(addr + 8)?;
            if (hi >> 40) & 0x1F != 0 {
                return Err(Exception::GeneralProtection(sel.error_code()));
            }
            seg.base |= (hi & 0xFFFF_FFFF) << 32;
            if !is_canonical(seg.base) {
                return Err(Exception::GeneralProtection(sel.error_code()));
            }
        }
        Ok((seg, addr))
    }
}

/// LLDT: a null selector leaves LDTR unusable.
fn lldt(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_protected(cpu)?;
    require_cpl0(cpu)?;
    let sel = Selector(read_word(cpu, insn, 0)?);
    if sel.is_null() {
        cpu.ldtr = Segment {
            selector: sel.0,
            ..Segment::default()
        };
        return Ok(());
    }
    let (seg, _) = cpu.system_descriptor(sel)?;
    if seg.attr & attr::S != 0 || seg.system_type() != 2 {
        return Err(Exception::GeneralProtection(sel.error_code()));
    }
    if !seg.present() {
        return Err(Exception::SegmentNotPresent(sel.error_code()));
    }
    cpu.ldtr = seg;
    Ok(())
}

/// LTR: loads an available TSS and marks it busy in the GDT.
fn ltr(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_protected(cpu)?;
    require_cpl0(cpu)?;
    let sel = Selector(read_word(cpu, insn, 0)?);
    if sel.is_null() {
        return Err(Exception::GeneralProtection(0));
    }
    let (mut seg, addr) = cpu.system_descriptor(sel)?;
    let long = cpu.efer & efer::LMA != 0;
    let available = match seg.system_type() {
        0x9 => true,
        0x1 => !long,
        _ => false,
    };
    if seg.attr & attr::S != 0 || !available {
        return Err(Exception::GeneralProtection(sel.error_code()));
    }
    if !seg.present() {
        return Err(Exception::SegmentNotPresent(sel.error_code()));
    }
    seg.attr |= 2;
    cpu.write_sys::<1>(addr + 5, (seg.attr & 0xFF) as u64)?;
    cpu.tr = seg;
    Ok(())
}

/// SLDT, STR.
fn store_system_selector(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_protected(cpu)?;
    let v = if insn.mnemonic() == Mnemonic::Sldt {
        cpu.ldtr.selector
    } else {
        cpu.tr.selector
    };
    store_word(cpu, insn, 0, v as u64)
}

// ---------------------------------------------------------------------
// LAR, LSL, VERR, VERW, ARPL
// ---------------------------------------------------------------------

/// Which descriptor a LAR/LSL/VERR/VERW may report on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Query {
    Lar,
    Lsl,
    Verr,
    Verw,
}

impl Cpu {
    /// The descriptor `sel` names if the query may see it (valid type for
    /// the query, and DPL >= max(CPL, RPL) unless conforming code), else
    /// None. Table-limit and null-selector misses are None too.
    fn query_descriptor(
        &mut self,
        sel: Selector,
        q: Query,
    ) -> Result<Option<(u64, Segment)>, Exception> {
        if sel.is_null() {
            return Ok(None);
        }
        let addr = match self.descriptor_address(sel, 8) {
            Ok(a) => a,
            Err(_) => return Ok(None),
        };
        let desc = self.read_sys::<8>(addr)?;
        let seg = Segment::from_descriptor(sel.0, desc);
        let long = self.efer & efer::LMA != 0;
        let type_ok = if seg.attr & attr::S == 0 {
            let t = seg.system_type();
            match q {
                Query::Lar if long => matches!(t, 0x2 | 0x9 | 0xB | 0xC),
                Query::Lar => matches!(t, 0x1 | 0x2 | 0x3 | 0x4 | 0x5 | 0x9 | 0xB | 0xC),
                Query::Lsl if long => matches!(t, 0x2 | 0x9 | 0xB),
                Query::Lsl => matches!(t, 0x1 | 0x2 | 0x3 | 0x9 | 0xB),
                Query::Verr | Query::Verw => false,
            }
        } else {
            match q {
                Query::Lar | Query::Lsl => true,
                Query::Verr => seg.readable(),
                Query::Verw => seg.writable(),
            }
        };
        let dpl = seg.dpl();
        let priv_ok = seg.conforming() || (dpl >= self.cpl && dpl >= sel.rpl());
        Ok((type_ok && priv_ok).then_some((desc, seg)))
    }
}

/// The shared part of LAR and LSL: look up the selector in operand 1 and
/// report in ZF whether the query succeeded.
fn query_selector(
    cpu: &mut Cpu,
    insn: &Insn,
    q: Query,
) -> Result<Option<(u64, Segment)>, Exception> {
    require_protected(cpu)?;
    let sel = Selector(read_word(cpu, insn, 1)?);
    let found = cpu.query_descriptor(sel, q)?;
    cpu.flags
        .set_status(rflags::ZF, if found.is_some() { rflags::ZF } else { 0 });
    Ok(found)
}

/// LAR: access rights (descriptor bits 8-23 of the high dword, masked).
fn lar(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    if let Some((desc, _)) = query_selector(cpu, insn, Query::Lar)? {
        let dst = insn.op0_register();
        let rights = (desc >> 32) & if dst.size() == 2 { 0xFF00 } else { 0x00F0_FF00 };
        cpu.set_reg_any(dst, rights);
    }
    Ok(())
}

/// LSL: the segment limit in bytes (granularity applied).
fn lsl(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    if let Some((_, seg)) = query_selector(cpu, insn, Query::Lsl)? {
        let dst = insn.op0_register();
        cpu.set_reg_any(dst, seg.limit as u64 & size_mask(dst.size() as u8));
    }
    Ok(())
}

/// VERR / VERW: ZF = the segment can be read / written at this CPL.
fn verify<const WRITE: bool>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_protected(cpu)?;
    let sel = Selector(read_word(cpu, insn, 0)?);
    let q = if WRITE { Query::Verw } else { Query::Verr };
    let ok = cpu.query_descriptor(sel, q)?.is_some();
    cpu.flags
        .set_status(rflags::ZF, if ok { rflags::ZF } else { 0 });
    Ok(())
}

/// ARPL r/m16, r16: raises the destination's RPL to the source's (only
/// outside 64-bit mode, where the opcode is MOVSXD).
fn arpl(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_protected(cpu)?;
    let src = cpu.reg_any(insn.op1_register()) & 3;
    let loc = cpu.locate::<2>(insn, 0)?;
    let dst = cpu.read_loc::<2>(loc)?;
    if dst & 3 < src {
        cpu.write_loc::<2>(loc, (dst & !3) | src)?;
        cpu.flags.set_status(rflags::ZF, rflags::ZF);
    } else {
        cpu.flags.set_status(rflags::ZF, 0);
    }
    Ok(())
}

// ---------------------------------------------------------------------
// TLB
// ---------------------------------------------------------------------

/// INVLPG m: drops the translation of the page holding the operand.
fn invlpg(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let ea = cpu.ea(insn);
    let lin = if cpu.mode == Mode::Long64 {
        let base = if matches!(insn.seg, SegReg::Fs | SegReg::Gs) {
            cpu.segment(insn.seg).base
        } else {
            0
        };
        base.wrapping_add(ea)
    } else {
        cpu.segment(insn.seg).base.wrapping_add(ea) & 0xFFFF_FFFF
    };
    cpu.tlb.flush_page(lin);
    cpu.exit_block = true;
    Ok(())
}

// ---------------------------------------------------------------------
// CPUID
// ---------------------------------------------------------------------

/// CPUID feature bits this CPU advertises (SDM Vol. 2, CPUID, Tables 3-10
/// and 3-11). Only what is implemented.
mod feature {
    // Leaf 1, EDX.
    pub const FPU: u32 = 1 << 0;
    pub const DE: u32 = 1 << 2;
    pub const PSE: u32 = 1 << 3;
    pub const TSC: u32 = 1 << 4;
    pub const MSR: u32 = 1 << 5;
    pub const PAE: u32 = 1 << 6;
    pub const CX8: u32 = 1 << 8;
    pub const SEP: u32 = 1 << 11;
    pub const PGE: u32 = 1 << 13;
    pub const CMOV: u32 = 1 << 15;
    pub const PAT: u32 = 1 << 16;
    pub const PSE36: u32 = 1 << 17;
    pub const CLFSH: u32 = 1 << 19;
    pub const FXSR: u32 = 1 << 24;
    pub const SSE: u32 = 1 << 25;
    pub const SSE2: u32 = 1 << 26;
    // Leaf 1, ECX.
    pub const CX16: u32 = 1 << 13;
    // Leaf 0x80000001, EDX.
    pub const SYSCALL: u32 = 1 << 11;
    pub const NX: u32 = 1 << 20;
    pub const PDPE1GB: u32 = 1 << 26;
    pub const RDTSCP: u32 = 1 << 27;
    pub const LM: u32 = 1 << 29;
    // Leaf 0x80000001, ECX.
    pub const LAHF_SAHF: u32 = 1 << 0;
}

/// Highest basic and extended leaves.
const MAX_BASIC_LEAF: u32 = 7;
const MAX_EXTENDED_LEAF: u32 = 0x8000_0008;
/// Family 6, model 6, stepping 3: the signature EDX holds after reset.
const SIGNATURE: u32 = 0x0000_0663;
const VENDOR: &[u8; 12] = b"GenuineIntel";
const BRAND: &[u8; 48] = b"x86-64 system emulator CPU\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// EAX, EBX, ECX, EDX for a CPUID leaf. Leaves past the highest return
/// the highest basic leaf's data, as Intel processors do.
pub fn cpuid_leaf(leaf: u32, _subleaf: u32) -> [u32; 4] {
    use feature::*;
    match leaf {
        0 => [
            MAX_BASIC_LEAF,
            le32(&VENDOR[0..4]),
            le32(&VENDOR[8..12]),
            le32(&VENDOR[4..8]),
        ],
        1 => {
            // EBX: CLFLUSH line size 8 * 8 = 64 bytes, one logical CPU.
            let ebx = (1 << 16) | (8 << 8);
            let edx = FPU
                | DE
                | PSE
                | TSC
                | MSR
                | PAE
                | CX8
                | SEP
                | PGE
                | CMOV
                | PAT
                | PSE36
                | CLFSH
                | FXSR
                | SSE
                | SSE2;
            [SIGNATURE, ebx, CX16, edx]
        }
        0x8000_0000 => [MAX_EXTENDED_LEAF, 0, 0, 0],
        0x8000_0001 => [0, 0, LAHF_SAHF, SYSCALL | NX | PDPE1GB | RDTSCP | LM],
        0x8000_0002..=0x8000_0004 => {
            let at = (leaf - 0x8000_0002) as usize * 16;
            let b = &BRAND[at..at + 16];
            [
                le32(&b[0..4]),
                le32(&b[4..8]),
                le32(&b[8..12]),
                le32(&b[12..16]),
            ]
        }
        0x8000_0008 => [(LINEAR_ADDR_BITS << 8) | PHYS_ADDR_BITS, 0, 0, 0],
        2..=MAX_BASIC_LEAF | 0x8000_0005..=MAX_EXTENDED_LEAF => [0; 4],
        _ => cpuid_leaf(MAX_BASIC_LEAF, 0),
    }
}

fn cpuid(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let r = cpuid_leaf(cpu.gpr[0] as u32, cpu.gpr[1] as u32);
    for (reg, v) in [0usize, 3, 1, 2].into_iter().zip(r) {
        cpu.gpr[reg] = v as u64;
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Time stamp counter and MSRs
// ---------------------------------------------------------------------

impl Cpu {
    /// The time-stamp counter: the board's cycle count (`Bus::cycles`)
    /// plus the offset a WRMSR to IA32_TSC sets.
    pub fn tsc(&self) -> u64 {
        self.bus
            .cycles(self.instret)
            .wrapping_add(self.msrs.tsc_offset)
    }

    fn set_edx_eax(&mut self, v: u64) {
        self.gpr[0] = v & 0xFFFF_FFFF;
        self.gpr[2] = v >> 32;
    }
}

/// RDTSC / RDTSCP (RDTSCP also loads ECX with IA32_TSC_AUX).
fn rdtsc<const AUX: bool>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if cpu.cr4 & cr4::TSD != 0 && cpu.cpl != 0 {
        return Err(Exception::GeneralProtection(0));
    }
    let t = cpu.tsc();
    cpu.set_edx_eax(t);
    if AUX {
        cpu.gpr[1] = cpu.msrs.tsc_aux & 0xFFFF_FFFF;
    }
    Ok(())
}

/// Memory types PAT entries may hold (UC, WC, WT, WP, WB, UC-).
fn valid_pat(v: u64) -> bool {
    v.to_le_bytes()
        .iter()
        .all(|&t| matches!(t, 0 | 1 | 4 | 5 | 6 | 7))
}

impl Cpu {
    /// RDMSR's view of an MSR; unknown MSRs are #GP(0).
    pub fn read_msr(&self, index: u32) -> Result<u64, Exception> {
        let m = &self.msrs;
        Ok(match index {
            msr::TSC => self.tsc(),
            msr::APIC_BASE => m.apic_base,
            // No MTRRs: VCNT = 0, no fixed ranges, no WC.
            msr::MTRRCAP => 0,
            msr::SYSENTER_CS => m.sysenter_cs,
            msr::SYSENTER_ESP => m.sysenter_esp,
            msr::SYSENTER_EIP => m.sysenter_eip,
            msr::MISC_ENABLE => m.misc_enable,
            msr::PAT => m.pat,
            msr::EFER => self.efer,
            msr::STAR => m.star,
            msr::LSTAR => m.lstar,
            msr::CSTAR => m.cstar,
            msr::SFMASK => m.sfmask,
            msr::FS_BASE => self.seg[SegReg::Fs as usize].base,
            msr::GS_BASE => self.seg[SegReg::Gs as usize].base,
            msr::KERNEL_GS_BASE => m.kernel_gs_base,
            msr::TSC_AUX => m.tsc_aux,
            _ => return Err(Exception::GeneralProtection(0)),
        })
    }

    /// WRMSR: checks each MSR's reserved bits and canonical addresses.
    pub fn write_msr(&mut self, index: u32, v: u64) -> Result<(), Exception> {
        let gp = Err(Exception::GeneralProtection(0));
        let canonical = |v: u64| {
            if is_canonical(v) {
                Ok(v)
            } else {
                Err(Exception::GeneralProtection(0))
            }
        };
        match index {
            msr::TSC => self.msrs.tsc_offset = v.wrapping_sub(self.bus.cycles(self.instret)),
            msr::APIC_BASE => self.msrs.apic_base = v,
            msr::SYSENTER_CS => self.msrs.sysenter_cs = v & 0xFFFF_FFFF,
            msr::SYSENTER_ESP => self.msrs.sysenter_esp = canonical(v)?,
            msr::SYSENTER_EIP => self.msrs.sysenter_eip = canonical(v)?,
            msr::MISC_ENABLE => self.msrs.misc_enable = v,
            msr::PAT if valid_pat(v) => self.msrs.pat = v,
            msr::EFER => {
                if v & !(efer::WRITABLE | efer::LMA) != 0 {
                    return gp;
                }
                let changed = (self.efer ^ v) & efer::WRITABLE;
                if changed & efer::LME != 0 && self.cr0 & cr0::PG != 0 {
                    return gp;
                }
                self.efer = (self.efer & efer::LMA) | (v & efer::WRITABLE);
                if changed & efer::NXE != 0 {
                    self.tlb.flush_all();
                }
            }
            msr::STAR => self.msrs.star = v,
            msr::LSTAR => self.msrs.lstar = canonical(v)?,
            msr::CSTAR => self.msrs.cstar = canonical(v)?,
            msr::SFMASK if v >> 32 == 0 => self.msrs.sfmask = v,
            msr::FS_BASE => self.seg[SegReg::Fs as usize].base = canonical(v)?,
            msr::GS_BASE => self.seg[SegReg::Gs as usize].base = canonical(v)?,
            msr::KERNEL_GS_BASE => self.msrs.kernel_gs_base = canonical(v)?,
            msr::TSC_AUX if v >> 32 == 0 => self.msrs.tsc_aux = v,
            _ => return gp,
        }
        self.exit_block = true;
        Ok(())
    }
}

fn rdmsr(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let v = cpu.read_msr(cpu.gpr[1] as u32)?;
    cpu.set_edx_eax(v);
    Ok(())
}

fn wrmsr(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    require_cpl0(cpu)?;
    let v = (cpu.gpr[2] << 32) | (cpu.gpr[0] & 0xFFFF_FFFF);
    cpu.write_msr(cpu.gpr[1] as u32, v)
}

// ---------------------------------------------------------------------
// SYSCALL, SYSRET, SWAPGS (SDM Vol. 2; Vol. 3A, 5.8.8)
// ---------------------------------------------------------------------

/// The flat segment caches SYSCALL and SYSRET load (they read no
/// descriptor).
fn flat_code(selector: u16, dpl: u8, long: bool) -> Segment {
    let size = if long { attr::L } else { attr::DB };
    Segment {
        selector,
        base: 0,
        limit: 0xFFFF_FFFF,
        attr: attr::PRESENT
            | attr::S
            | attr::CODE
            | attr::RW
            | attr::ACCESSED
            | attr::G
            | size
            | ((dpl as u16) << attr::DPL_SHIFT),
    }
}

fn flat_stack(selector: u16, dpl: u8) -> Segment {
    Segment {
        selector,
        base: 0,
        limit: 0xFFFF_FFFF,
        attr: attr::PRESENT
            | attr::S
            | attr::RW
            | attr::ACCESSED
            | attr::G
            | attr::DB
            | ((dpl as u16) << attr::DPL_SHIFT),
    }
}

/// SYSCALL: Intel allows it only in 64-bit mode with EFER.SCE (#UD
/// otherwise, including compatibility mode, which only AMD supports).
fn syscall(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if cpu.efer & efer::SCE == 0 || cpu.mode != Mode::Long64 {
        return Err(Exception::InvalidOpcode);
    }
    let sel = ((cpu.msrs.star >> 32) & 0xFFFC) as u16;
    cpu.gpr[1] = cpu.rip;
    let flags = cpu.flags.get();
    cpu.gpr[11] = flags & !rflags::RF;
    cpu.flags.set(flags & !cpu.msrs.sfmask & !rflags::RF);
    cpu.seg[SegReg::Ss as usize] = flat_stack(sel.wrapping_add(8), 0);
    cpu.set_cs(flat_code(sel, 0, true), 0);
    cpu.rip = cpu.msrs.lstar;
    Ok(())
}

/// SYSRET (to compatibility mode, EIP = ECX) and SYSRETQ (to 64-bit mode,
/// RIP = RCX, which must be canonical). RFLAGS come from R11.
fn sysret<const N: usize>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if cpu.efer & efer::SCE == 0 || cpu.mode != Mode::Long64 {
        return Err(Exception::InvalidOpcode);
    }
    require_cpl0(cpu)?;
    let base = ((cpu.msrs.star >> 48) & 0xFFFF) as u16;
    let (cs, rip) = if N == 8 {
        if !is_canonical(cpu.gpr[1]) {
            return Err(Exception::GeneralProtection(0));
        }
        (flat_code(base.wrapping_add(16) | 3, 3, true), cpu.gpr[1])
    } else {
        (flat_code(base | 3, 3, false), cpu.gpr[1] & 0xFFFF_FFFF)
    };
    let flags = (cpu.gpr[11] & rflags::ALL & !(rflags::RF | rflags::VM)) | rflags::FIXED1;
    cpu.flags.set(flags);
    cpu.seg[SegReg::Ss as usize] = flat_stack(base.wrapping_add(8) | 3, 3);
    cpu.set_cs(cs, 3);
    cpu.rip = rip;
    Ok(())
}

/// SYSENTER (SDM Vol. 2): to CPL 0 at SYSENTER_CS:SYSENTER_EIP with
/// SS:ESP = SYSENTER_CS + 8:SYSENTER_ESP; 64-bit code in IA-32e mode.
fn sysenter(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let base = (cpu.msrs.sysenter_cs & 0xFFFC) as u16;
    if !cpu.mode.is_protected() || base == 0 {
        return Err(Exception::GeneralProtection(0));
    }
    let long = cpu.efer & efer::LMA != 0;
    let mask = if long { u64::MAX } else { 0xFFFF_FFFF };
    let flags = cpu.flags.get() & !(rflags::VM | rflags::IF | rflags::RF);
    cpu.flags.set(flags);
    cpu.seg[SegReg::Ss as usize] = flat_stack(base.wrapping_add(8), 0);
    cpu.set_cs(flat_code(base, 0, long), 0);
    cpu.rip = cpu.msrs.sysenter_eip & mask;
    cpu.gpr[4] = cpu.msrs.sysenter_esp & mask;
    Ok(())
}

/// SYSEXIT (to 32-bit code, EIP = EDX, ESP = ECX) and SYSEXITQ (to
/// 64-bit code; RDX must be canonical), both at CPL 3.
fn sysexit<const N: usize>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    let base = (cpu.msrs.sysenter_cs & 0xFFFC) as u16;
    if !cpu.mode.is_protected() || base == 0 {
        return Err(Exception::GeneralProtection(0));
    }
    require_cpl0(cpu)?;
    let (cs, ss, rip, rsp) = if N == 8 {
        if !is_canonical(cpu.gpr[2]) || !is_canonical(cpu.gpr[1]) {
            return Err(Exception::GeneralProtection(0));
        }
        (
            flat_code(base.wrapping_add(32) | 3, 3, true),
            base.wrapping_add(40),
            cpu.gpr[2],
            cpu.gpr[1],
        )
    } else {
        let (rip, rsp) = (cpu.gpr[2] & 0xFFFF_FFFF, cpu.gpr[1] & 0xFFFF_FFFF);
        (
            flat_code(base.wrapping_add(16) | 3, 3, false),
            base.wrapping_add(24),
            rip,
            rsp,
        )
    };
    cpu.seg[SegReg::Ss as usize] = flat_stack(ss | 3, 3);
    cpu.set_cs(cs, 3);
    cpu.rip = rip;
    cpu.gpr[4] = rsp;
    Ok(())
}

/// SWAPGS: exchanges GS.base and IA32_KERNEL_GS_BASE (64-bit mode, CPL 0).
fn swapgs(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if cpu.mode != Mode::Long64 {
        return Err(Exception::InvalidOpcode);
    }
    require_cpl0(cpu)?;
    let gs = &mut cpu.seg[SegReg::Gs as usize].base;
    std::mem::swap(gs, &mut cpu.msrs.kernel_gs_base);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuid_leaf0_names_genuine_intel() {
        let [_, ebx, ecx, edx] = cpuid_leaf(0, 0);
        let mut s = Vec::new();
        for r in [ebx, edx, ecx] {
            s.extend_from_slice(&r.to_le_bytes());
        }
        assert_eq!(&s, b"GenuineIntel");
    }

    #[test]
    fn cpuid_leaf1_advertises_sse2_and_sep_but_not_mmx() {
        let [_, _, _, edx] = cpuid_leaf(1, 0);
        assert_ne!(edx & feature::SSE2, 0);
        assert_ne!(edx & feature::SEP, 0);
        assert_eq!(edx & (1 << 23), 0, "MMX");
    }

    #[test]
    fn cpuid_reports_40_physical_and_48_linear_address_bits() {
        assert_eq!(cpuid_leaf(0x8000_0008, 0)[0], 0x3028);
    }

    #[test]
    fn pat_with_a_reserved_memory_type_is_invalid() {
        assert!(valid_pat(0x0007_0406_0007_0406));
        assert!(!valid_pat(0x0007_0406_0007_0402));
    }
}

#[cfg(test)]
mod shadow_tests {
    use crate::bare::{self, BareMode};
    use crate::bus::NullBus;
    use crate::cpu::state::rflags;
    use crate::cpu::Cpu;
    use crate::memory::PhysMemory;

    fn cpu_running(code: &[u8]) -> Cpu {
        let mut cpu = Cpu::new(PhysMemory::new(1 << 21).unwrap(), Box::new(NullBus));
        bare::setup(&mut cpu, BareMode::Real, 0x1000, 0x8000);
        cpu.write_phys(0x1000, code);
        cpu
    }

    #[test]
    fn sti_with_if_clear_inhibits_interrupts_for_one_instruction() {
        let mut cpu = cpu_running(&[0xFB, 0xF4]); // sti; hlt

        cpu.run(1);

        assert!(cpu.flags.test(rflags::IF));
        assert!(cpu.interrupt_shadow);
    }

    #[test]
    fn sti_with_if_already_set_opens_no_shadow() {
        let mut cpu = cpu_running(&[0xFB, 0xF4]);
        cpu.flags.set(rflags::IF | rflags::FIXED1);

        cpu.run(1);

        assert!(!cpu.interrupt_shadow);
    }

    #[test]
    fn mov_ss_inhibits_interrupts_for_one_instruction() {
        let mut cpu = cpu_running(&[0x8E, 0xD0, 0xF4]); // mov ss, ax; hlt

        cpu.run(1);

        assert!(cpu.interrupt_shadow);
    }
}
