//! Far control transfers and software interrupts: far JMP, far CALL, far
//! RET, INT n, INT3, INTO, BOUND, INT1 and IRET (SDM Vol. 2, the pseudocode of
//! each; Vol. 3A, 5.8 for call gates and privilege changes, 6.12-6.14 for
//! IRET's frame).
//!
//! Real and virtual-8086 mode load CS as `selector << 4`. Protected and long
//! mode check the target descriptor: conforming or non-conforming code,
//! or a call gate (16/32-bit in legacy mode, with parameter copying on a
//! privilege change; 16-byte 64-bit gates in long mode).
//!
//! Not supported: hardware task switching. A far JMP or CALL to a TSS or a
//! task gate raises #GP(selector), and IRET with NT set raises #GP(0),
//! instead of switching tasks.

use super::Handler;
use crate::cpu::access::is_canonical;
use crate::cpu::decode::Insn;
use crate::cpu::flags::size_mask;
use crate::cpu::interrupt::Source;
use crate::cpu::segment::Selector;
use crate::cpu::state::{attr, efer, rflags, Mode, SegReg, Segment};
use crate::cpu::{Cpu, Exception};
use iced_x86::{Code, Instruction, OpKind};

/// System-descriptor types a far transfer meets (SDM Vol. 3A, Table 3-2).
mod sys_type {
    pub const TSS16_AVAIL: u8 = 0x1;
    pub const CALL_GATE16: u8 = 0x4;
    pub const TASK_GATE: u8 = 0x5;
    pub const TSS32_AVAIL: u8 = 0x9;
    /// 32-bit call gate in legacy mode; the 64-bit call gate in long mode.
    pub const CALL_GATE32: u8 = 0xC;
}

pub fn resolve(i: &Instruction) -> Option<Handler> {
    use Code::*;
    Some(match i.code() {
        Jmp_ptr1616 | Jmp_ptr1632 => far_ptr::<false>,
        Call_ptr1616 | Call_ptr1632 => far_ptr::<true>,
        Jmp_m1616 => far_mem::<false, 2>,
        Jmp_m1632 => far_mem::<false, 4>,
        Jmp_m1664 => far_mem::<false, 8>,
        Call_m1616 => far_mem::<true, 2>,
        Call_m1632 => far_mem::<true, 4>,
        Call_m1664 => far_mem::<true, 8>,
        Retfw | Retfw_imm16 => retf::<2>,
        Retfd | Retfd_imm16 => retf::<4>,
        Retfq | Retfq_imm16 => retf::<8>,
        Int_imm8 => int_n,
        Int3 => int3,
        Into => into,
        Bound_r16_m1616 => bound::<2>,
        Bound_r32_m3232 => bound::<4>,
        Int1 => int1,
        Iretw => iret::<2>,
        Iretd => iret::<4>,
        Iretq => iret::<8>,
        _ => return None,
    })
}

/// JMP/CALL ptr16:16 and ptr16:32.
fn far_ptr<const CALL: bool>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let (offset, size) = if insn.op0_kind() == OpKind::FarBranch16 {
        (insn.far_branch16() as u64, 2)
    } else {
        (insn.far_branch32() as u64, 4)
    };
    cpu.far_transfer(CALL, insn.far_branch_selector(), offset, size)
}

/// JMP/CALL m16:16, m16:32, m16:64: the offset, then the selector.
fn far_mem<const CALL: bool, const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let ea = cpu.ea(insn);
    let offset = cpu.read::<N>(insn.seg, ea)?;
    let sel = cpu.read::<2>(insn.seg, ea.wrapping_add(N as u64) & insn.addr_mask)? as u16;
    cpu.far_transfer(CALL, sel, offset, N as u8)
}

/// RETF [imm16].
fn retf<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let imm = if insn.op_count() == 1 {
        insn.immediate16() as u64
    } else {
        0
    };
    cpu.far_return(N as u8, imm)
}

/// INT n: IOPL-sensitive in virtual-8086 mode, gate DPL checked.
fn int_n(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    cpu.software_interrupt(insn.immediate8())
}

/// INT3: a software interrupt (gate DPL checked) that is not
/// IOPL-sensitive in virtual-8086 mode.
fn int3(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    cpu.deliver(3, None, Source::Software)
}

/// INTO: #OF when OF is set (the decoder already makes it #UD in 64-bit
/// mode).
fn into(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    if cpu.flags.of() {
        cpu.deliver(4, None, Source::Software)
    } else {
        Ok(())
    }
}

/// BOUND r, m: #BR (a fault) unless lower <= r <= upper, compared as
/// signed N-byte values; the bounds pair sits at m.
fn bound<const N: usize>(cpu: &mut Cpu, insn: &Insn) -> Result<(), Exception> {
    let shift = 64 - 8 * N as u32;
    let signed = |v: u64| ((v << shift) as i64) >> shift;
    let a = cpu.ea(insn);
    let lower = signed(cpu.read::<N>(insn.seg, a)?);
    let upper = signed(cpu.read::<N>(insn.seg, a.wrapping_add(N as u64) & insn.addr_mask)?);
    let index = signed(cpu.reg::<N>(insn.op0_register()));
    if index < lower || index > upper {
        return Err(Exception::BoundRange);
    }
    Ok(())
}

/// INT1 (ICEBP): a #DB trap delivered like a hardware exception, without
/// the gate DPL check (SDM Vol. 3A, 6.15, "Interrupt 1").
fn int1(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    cpu.deliver(1, None, Source::Exception)
}

/// IRET, IRETD, IRETQ.
fn iret<const N: usize>(cpu: &mut Cpu, _: &Insn) -> Result<(), Exception> {
    cpu.interrupt_return(N as u8)?;
    cpu.trace_interrupt_return();
    Ok(())
}

/// The null stack-segment cache 64-bit mode uses for SS = 0..3.
fn null_ss(rpl: u8) -> Segment {
    Segment {
        selector: rpl as u16,
        base: 0,
        limit: 0,
        attr: attr::DB | ((rpl as u16) << attr::DPL_SHIFT),
    }
}

impl Cpu {
    /// Reads `size` bytes at `skip` bytes above the stack pointer without
    /// popping them.
    fn stack_peek(&mut self, skip: u64, size: u8) -> Result<u64, Exception> {
        let mask = size_mask(self.stack_width());
        let sp = self.gpr[4].wrapping_add(skip) & mask;
        match size {
            2 => self.read::<2>(SegReg::Ss, sp),
            4 => self.read::<4>(SegReg::Ss, sp),
            _ => self.read::<8>(SegReg::Ss, sp),
        }
    }

    /// Runs `f`, restoring SS, RSP and CPL if it fails (pushes that fault
    /// must leave no trace).
    fn with_stack_rollback(
        &mut self,
        f: impl FnOnce(&mut Cpu) -> Result<(), Exception>,
    ) -> Result<(), Exception> {
        let (ss, rsp, cpl) = (self.seg[SegReg::Ss as usize], self.gpr[4], self.cpl);
        let r = f(self);
        if r.is_err() {
            self.seg[SegReg::Ss as usize] = ss;
            self.gpr[4] = rsp;
            self.cpl = cpl;
        }
        r
    }

    /// #GP(0) unless `offset` is a valid target in code segment `cs`:
    /// canonical for 64-bit code, within the limit otherwise.
    fn check_far_offset(&self, cs: &Segment, offset: u64) -> Result<(), Exception> {
        let ok = if self.efer & efer::LMA != 0 && cs.long() {
            is_canonical(offset)
        } else {
            offset <= cs.limit as u64
        };
        if ok {
            Ok(())
        } else {
            Err(Exception::GeneralProtection(0))
        }
    }

    /// Reads the descriptor of a far-transfer target; #GP(0) for a null
    /// selector, #GP(selector) outside the table.
    fn target_descriptor(&mut self, sel: Selector) -> Result<u64, Exception> {
        if sel.is_null() {
            return Err(Exception::GeneralProtection(0));
        }
        self.read_descriptor(sel)
    }

    /// Makes `cache` (from `desc`, named by `sel`) the code segment at `cpl`
    /// with RIP = `offset`, marking the descriptor accessed.
    fn enter_code(
        &mut self,
        sel: Selector,
        desc: u64,
        cpl: u8,
        offset: u64,
    ) -> Result<(), Exception> {
        let desc = self.mark_accessed(sel, desc)?;
        self.set_cs(Segment::from_descriptor(sel.0, desc), cpl);
        self.rip = offset;
        Ok(())
    }

    /// Far JMP or CALL to `sel:offset` with operand size `size`.
    pub fn far_transfer(
        &mut self,
        call: bool,
        sel: u16,
        offset: u64,
        size: u8,
    ) -> Result<(), Exception> {
        let offset = offset & size_mask(size);
        self.exit_block = true;
        if !self.mode.is_protected() {
            return self.far_transfer_real(call, sel, offset, size);
        }
        let s = Selector(sel);
        let desc = self.target_descriptor(s)?;
        let target = Segment::from_descriptor(sel, desc);
        let gp = Exception::GeneralProtection(s.error_code());
        if target.attr & attr::S != 0 {
            if !target.is_code() {
                return Err(gp);
            }
            self.check_code_target(s, &target)?;
            self.check_far_offset(&target, offset)?;
            let cpl = self.cpl;
            if call {
                let ret_cs = self.seg[SegReg::Cs as usize].selector as u64;
                let ret_ip = self.rip;
                self.with_stack_rollback(|c| {
                    c.push_sized(size, ret_cs)?;
                    c.push_sized(size, ret_ip)
                })?;
            }
            return self.enter_code(s, desc, cpl, offset);
        }
        let long = self.efer & efer::LMA != 0;
        match target.system_type() {
            sys_type::CALL_GATE32 => {
                self.through_call_gate(call, s, desc, if long { 8 } else { 4 })
            }
            sys_type::CALL_GATE16 if !long => self.through_call_gate(call, s, desc, 2),
            // Hardware task switching is not implemented (see module docs).
            sys_type::TASK_GATE | sys_type::TSS16_AVAIL | sys_type::TSS32_AVAIL => Err(gp),
            _ => Err(gp),
        }
    }

    fn far_transfer_real(
        &mut self,
        call: bool,
        sel: u16,
        offset: u64,
        size: u8,
    ) -> Result<(), Exception> {
        if offset > self.seg[SegReg::Cs as usize].limit as u64 {
            return Err(Exception::GeneralProtection(0));
        }
        if call {
            let ret_cs = self.seg[SegReg::Cs as usize].selector as u64;
            let ret_ip = self.rip;
            self.with_stack_rollback(|c| {
                c.push_sized(size, ret_cs)?;
                c.push_sized(size, ret_ip)
            })?;
        }
        self.load_real_cs(sel);
        self.rip = offset;
        Ok(())
    }

    /// CS in real and virtual-8086 mode: only selector and base change.
    fn load_real_cs(&mut self, sel: u16) {
        let cs = &mut self.seg[SegReg::Cs as usize];
        cs.selector = sel;
        cs.base = (sel as u64) << 4;
        if self.mode == Mode::Virtual8086 {
            *cs = Segment::real_mode(sel);
            cs.attr |= attr::CODE | (3 << attr::DPL_SHIFT);
        }
        self.update_mode();
    }

    /// Privilege and presence checks for a direct far JMP/CALL to a code
    /// segment (SDM Vol. 3A, 5.8.1).
    fn check_code_target(&self, s: Selector, target: &Segment) -> Result<(), Exception> {
        let gp = Exception::GeneralProtection(s.error_code());
        if target.conforming() {
            if target.dpl() > self.cpl {
                return Err(gp);
            }
        } else if s.rpl() > self.cpl || target.dpl() != self.cpl {
            return Err(gp);
        }
        if self.efer & efer::LMA != 0 && target.long() && target.big() {
            return Err(gp);
        }
        if !target.present() {
            return Err(Exception::SegmentNotPresent(s.error_code()));
        }
        Ok(())
    }

    /// A far JMP or CALL through a call gate; `gate_size` is 2, 4 (legacy
    /// 16/32-bit gates) or 8 (long-mode gate).
    fn through_call_gate(
        &mut self,
        call: bool,
        gs: Selector,
        lo: u64,
        gate_size: u8,
    ) -> Result<(), Exception> {
        let gate = Segment::from_descriptor(gs.0, lo);
        let gp_gate = Exception::GeneralProtection(gs.error_code());
        if gate.dpl() < self.cpl || gs.rpl() > gate.dpl() {
            return Err(gp_gate);
        }
        if !gate.present() {
            return Err(Exception::SegmentNotPresent(gs.error_code()));
        }
        let mut offset = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF_0000);
        if gate_size == 8 {
            // A long-mode gate is 16 bytes; the upper half's type must be 0.
            let addr = self.descriptor_address(gs, 16)?;
            let hi = self.read_sys::<8>(addr + 8)?;
            if (hi >> 40) & 0x1F != 0 {
                return Err(gp_gate);
            }
            offset |= hi << 32;
        } else if gate_size == 2 {
            offset &= 0xFFFF;
        }
        let cs_sel = Selector((lo >> 16) as u16);
        let cs_desc = self.target_descriptor(cs_sel)?;
        let cs = Segment::from_descriptor(cs_sel.0, cs_desc);
        let gp_cs = Exception::GeneralProtection(cs_sel.error_code());
        if !cs.is_code() || cs.dpl() > self.cpl {
            return Err(gp_cs);
        }
        if !call && !cs.conforming() && cs.dpl() != self.cpl {
            return Err(gp_cs);
        }
        if gate_size == 8 && !cs.is_64bit_code() {
            return Err(gp_cs);
        }
        if !cs.present() {
            return Err(Exception::SegmentNotPresent(cs_sel.error_code()));
        }
        self.check_far_offset(&cs, offset)?;
        if !call {
            let cpl = self.cpl;
            return self.enter_code(cs_sel, cs_desc, cpl, offset);
        }
        let ret_cs = self.seg[SegReg::Cs as usize].selector as u64;
        let ret_ip = self.rip;
        if !cs.conforming() && cs.dpl() < self.cpl {
            let new_cpl = cs.dpl();
            let param_count = if gate_size == 8 { 0 } else { (lo >> 32) & 0x1F };
            self.call_gate_inner_stack(new_cpl, gate_size, param_count, ret_cs, ret_ip)?;
            return self.enter_code(cs_sel, cs_desc, new_cpl, offset);
        }
        self.with_stack_rollback(|c| {
            c.push_sized(gate_size, ret_cs)?;
            c.push_sized(gate_size, ret_ip)
        })?;
        let cpl = self.cpl;
        self.enter_code(cs_sel, cs_desc, cpl, offset)
    }

    /// The stack switch of a CALL through a gate to a more privileged
    /// level (SDM Vol. 3A, 5.8.5 and Figure 5-13): the new SS:ESP comes
    /// from the TSS; the old SS:ESP, `param_count` parameters, CS and EIP
    /// are pushed on it.
    fn call_gate_inner_stack(
        &mut self,
        new_cpl: u8,
        size: u8,
        param_count: u64,
        ret_cs: u64,
        ret_ip: u64,
    ) -> Result<(), Exception> {
        let old_ss = self.seg[SegReg::Ss as usize].selector as u64;
        let old_sp = self.gpr[4];
        let mut params = Vec::with_capacity(param_count as usize);
        for i in 0..param_count {
            params.push(self.stack_peek(i * size as u64, size)?);
        }
        let (new_ss, new_sp) = if size == 8 {
            let off = 4 + 8 * new_cpl as u64;
            if off + 7 > self.tr.limit as u64 {
                return Err(Exception::InvalidTss(self.tr.selector & !3));
            }
            let rsp = self.read_sys::<8>(self.tr.base + off)?;
            if !is_canonical(rsp) {
                return Err(Exception::StackFault(0));
            }
            (null_ss(new_cpl), rsp)
        } else {
            self.tss_stack(new_cpl)?
        };
        self.with_stack_rollback(|c| {
            c.seg[SegReg::Ss as usize] = new_ss;
            c.gpr[4] = new_sp;
            // The pushes are made at the new privilege level.
            c.cpl = new_cpl;
            c.push_sized(size, old_ss)?;
            c.push_sized(size, old_sp)?;
            for p in params.iter().rev() {
                c.push_sized(size, *p)?;
            }
            c.push_sized(size, ret_cs)?;
            c.push_sized(size, ret_ip)
        })
    }

    /// SS:ESP for privilege level `cpl` from a 16- or 32-bit TSS, with the
    /// checks of SDM Vol. 3A, 5.8.5 (#TS for a bad SS, #SS if not present).
    pub fn tss_stack(&mut self, cpl: u8) -> Result<(Segment, u64), Exception> {
        let tss32 = matches!(self.tr.system_type(), 0x9 | 0xB);
        let (sp_off, ss_off) = if tss32 {
            (4 + 8 * cpl as u64, 8 + 8 * cpl as u64)
        } else {
            (2 + 4 * cpl as u64, 4 + 4 * cpl as u64)
        };
        if ss_off + 1 > self.tr.limit as u64 {
            return Err(Exception::InvalidTss(self.tr.selector & !3));
        }
        let sp = if tss32 {
            self.read_sys::<4>(self.tr.base + sp_off)?
        } else {
            self.read_sys::<2>(self.tr.base + sp_off)?
        };
        let ss_sel = Selector(self.read_sys::<2>(self.tr.base + ss_off)? as u16);
        let ts = Exception::InvalidTss(ss_sel.error_code());
        if ss_sel.is_null() {
            return Err(ts);
        }
        let d = self.read_descriptor(ss_sel).map_err(|_| ts)?;
        let ss = Segment::from_descriptor(ss_sel.0, d);
        if ss_sel.rpl() != cpl || ss.dpl() != cpl || !ss.writable() {
            return Err(ts);
        }
        if !ss.present() {
            return Err(Exception::StackFault(ss_sel.error_code()));
        }
        let d = self.mark_accessed(ss_sel, d)?;
        Ok((Segment::from_descriptor(ss_sel.0, d), sp))
    }

    /// Checks the code segment a RETF or IRET returns to (SDM RET and
    /// IRET pseudocode): returns its descriptor and cache.
    fn return_code_segment(&mut self, sel: Selector) -> Result<(u64, Segment), Exception> {
        let desc = self.target_descriptor(sel)?;
        let cs = Segment::from_descriptor(sel.0, desc);
        let gp = Exception::GeneralProtection(sel.error_code());
        if sel.rpl() < self.cpl || !cs.is_code() {
            return Err(gp);
        }
        if cs.conforming() && cs.dpl() > sel.rpl() {
            return Err(gp);
        }
        if !cs.conforming() && cs.dpl() != sel.rpl() {
            return Err(gp);
        }
        if self.efer & efer::LMA != 0 && cs.long() && cs.big() {
            return Err(gp);
        }
        if !cs.present() {
            return Err(Exception::SegmentNotPresent(sel.error_code()));
        }
        Ok((desc, cs))
    }

    /// Checks the SS a return to an outer level (or IRET in 64-bit mode)
    /// loads. A null SS is allowed only when returning to 64-bit code at
    /// RPL < 3.
    fn return_stack_segment(
        &mut self,
        sel: Selector,
        rpl: u8,
        to_64: bool,
    ) -> Result<Segment, Exception> {
        if sel.is_null() {
            if to_64 && rpl < 3 && sel.rpl() == rpl {
                return Ok(null_ss(rpl));
            }
            return Err(Exception::GeneralProtection(0));
        }
        let d = self.read_descriptor(sel)?;
        let ss = Segment::from_descriptor(sel.0, d);
        if sel.rpl() != rpl || ss.dpl() != rpl || !ss.writable() {
            return Err(Exception::GeneralProtection(sel.error_code()));
        }
        if !ss.present() {
            return Err(Exception::StackFault(sel.error_code()));
        }
        let d = self.mark_accessed(sel, d)?;
        Ok(Segment::from_descriptor(sel.0, d))
    }

    /// Writes a stack pointer popped with operand size `size`.
    fn set_popped_sp(&mut self, size: u8, sp: u64) {
        let width = if size == 2 { 2 } else { 8 };
        self.set_gpr_sized(4, width, sp);
    }

    /// RETF with operand size `size`, releasing `imm` bytes of parameters.
    pub fn far_return(&mut self, size: u8, imm: u64) -> Result<(), Exception> {
        self.exit_block = true;
        let offset = self.stack_peek(0, size)?;
        let sel = self.stack_peek(size as u64, size)? as u16;
        let after = 2 * size as u64 + imm;
        let width = self.stack_width();
        if !self.mode.is_protected() {
            if offset > self.seg[SegReg::Cs as usize].limit as u64 {
                return Err(Exception::GeneralProtection(0));
            }
            self.load_real_cs(sel);
            self.rip = offset;
            let sp = self.gpr[4].wrapping_add(after);
            self.set_gpr_sized(4, width, sp);
            return Ok(());
        }
        let s = Selector(sel);
        let (desc, cs) = self.return_code_segment(s)?;
        self.check_far_offset(&cs, offset)?;
        let rpl = s.rpl();
        if rpl == self.cpl {
            self.enter_code(s, desc, rpl, offset)?;
            let sp = self.gpr[4].wrapping_add(after);
            self.set_gpr_sized(4, width, sp);
            return Ok(());
        }
        // Return to an outer privilege level: SS:ESP follow the parameters.
        let new_sp = self.stack_peek(after, size)?;
        let ss_sel = Selector(self.stack_peek(after + size as u64, size)? as u16);
        let to_64 = self.mode == Mode::Long64 && cs.long();
        let ss = self.return_stack_segment(ss_sel, rpl, to_64)?;
        self.enter_code(s, desc, rpl, offset)?;
        self.seg[SegReg::Ss as usize] = ss;
        self.set_popped_sp(size, new_sp);
        let width = self.stack_width();
        let sp = self.gpr[4].wrapping_add(imm);
        self.set_gpr_sized(4, width, sp);
        self.null_inaccessible_segments();
        Ok(())
    }

    /// RFLAGS after IRET pops `popped`: which bits may change depends on
    /// operand size, CPL and IOPL (SDM IRET pseudocode).
    fn iret_flags(&self, popped: u64, size: u8) -> u64 {
        let cur = self.flags.get();
        let mut may = rflags::ARITH | rflags::TF | rflags::DF | rflags::NT;
        if size >= 4 {
            may |= rflags::RF | rflags::AC | rflags::ID;
        }
        if self.mode == Mode::Virtual8086 {
            may |= rflags::IF;
        } else {
            if self.cpl == 0 {
                may |= rflags::IOPL;
                if size >= 4 && self.mode.is_protected() {
                    may |= rflags::VIF | rflags::VIP;
                }
            }
            if self.cpl <= self.iopl() {
                may |= rflags::IF;
            }
        }
        may &= size_mask(size);
        (cur & !may) | (popped & may) | rflags::FIXED1
    }

    /// IRET with operand size `size` (SDM Vol. 2, IRET; Vol. 3A, 6.12.1
    /// and 6.14.3).
    pub fn interrupt_return(&mut self, size: u8) -> Result<(), Exception> {
        self.exit_block = true;
        if self.mode == Mode::Virtual8086 && self.iopl() < 3 {
            return Err(Exception::GeneralProtection(0));
        }
        let offset = self.stack_peek(0, size)?;
        let sel = self.stack_peek(size as u64, size)? as u16;
        let popped = self.stack_peek(2 * size as u64, size)?;
        let frame = 3 * size as u64;
        if !self.mode.is_protected() {
            if offset > self.seg[SegReg::Cs as usize].limit as u64 {
                return Err(Exception::GeneralProtection(0));
            }
            let flags = self.iret_flags(popped, size);
            let width = self.stack_width();
            let sp = self.gpr[4].wrapping_add(frame);
            self.set_gpr_sized(4, width, sp);
            self.load_real_cs(sel);
            self.rip = offset;
            self.flags.set(flags);
            self.nmi_blocked = false;
            return Ok(());
        }
        if self.flags.test(rflags::NT) {
            // A nested-task return would switch tasks: not supported (and
            // #GP(0) is what long mode does anyway).
            return Err(Exception::GeneralProtection(0));
        }
        if size == 4 && popped & rflags::VM != 0 && self.cpl == 0 && !self.mode.is_long() {
            return self.return_to_v86(offset, sel, popped);
        }
        let s = Selector(sel);
        let (desc, cs) = self.return_code_segment(s)?;
        let rpl = s.rpl();
        let offset = offset & size_mask(size);
        self.check_far_offset(&cs, offset)?;
        let new_flags = self.iret_flags(popped, size);
        // 64-bit mode always pops SS:RSP; elsewhere only on a change to an
        // outer privilege level.
        if rpl == self.cpl && self.mode != Mode::Long64 {
            self.enter_code(s, desc, rpl, offset)?;
            let width = self.stack_width();
            let sp = self.gpr[4].wrapping_add(frame);
            self.set_gpr_sized(4, width, sp);
            self.flags.set(new_flags);
            self.nmi_blocked = false;
            return Ok(());
        }
        let new_sp = self.stack_peek(frame, size)?;
        let ss_sel = Selector(self.stack_peek(frame + size as u64, size)? as u16);
        let to_64 = self.mode == Mode::Long64 && cs.long();
        let ss = self.return_stack_segment(ss_sel, rpl, to_64)?;
        let outer = rpl != self.cpl;
        self.enter_code(s, desc, rpl, offset)?;
        self.flags.set(new_flags);
        self.seg[SegReg::Ss as usize] = ss;
        self.set_popped_sp(size, new_sp);
        if outer {
            self.null_inaccessible_segments();
        }
        self.nmi_blocked = false;
        Ok(())
    }

    /// IRETD at CPL 0 with VM set in the popped EFLAGS: the frame also holds
    /// ESP, SS, ES, DS, FS and GS (SDM IRET, RETURN-TO-VIRTUAL-8086-MODE).
    fn return_to_v86(&mut self, eip: u64, cs: u16, flags: u64) -> Result<(), Exception> {
        let mut rest = [0u64; 6];
        for (i, v) in rest.iter_mut().enumerate() {
            *v = self.stack_peek(12 + 4 * i as u64, 4)?;
        }
        let [esp, ss, es, ds, fs, gs] = rest;
        self.flags.set((flags & rflags::ALL) | rflags::FIXED1);
        for (s, v) in [
            (SegReg::Cs, cs as u64),
            (SegReg::Ss, ss),
            (SegReg::Es, es),
            (SegReg::Ds, ds),
            (SegReg::Fs, fs),
            (SegReg::Gs, gs),
        ] {
            let mut seg = Segment::real_mode(v as u16);
            seg.attr |= 3 << attr::DPL_SHIFT;
            if s == SegReg::Cs {
                seg.attr |= attr::CODE;
            }
            self.seg[s as usize] = seg;
        }
        self.cpl = 3;
        self.gpr[4] = esp & 0xFFFF_FFFF;
        self.rip = eip & 0xFFFF;
        self.nmi_blocked = false;
        self.update_mode();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::bare::{self, BareMode};
    use crate::bus::NullBus;
    use crate::cpu::{Cpu, Stop};
    use crate::memory::PhysMemory;

    fn cpu_running(mode: BareMode, code: &[u8]) -> Cpu {
        let mut cpu = Cpu::new(PhysMemory::new(1 << 21).unwrap(), Box::new(NullBus));
        bare::setup(&mut cpu, mode, 0x1000, 0x8000);
        cpu.write_phys(0x1000, code);
        cpu
    }

    #[test]
    fn iret_unblocks_nmis() {
        // pushf; push cs; push 0x1006; iret; (0x1006:) hlt
        let mut cpu = cpu_running(BareMode::Real, &[0x9C, 0x0E, 0x68, 0x06, 0x10, 0xCF, 0xF4]);
        cpu.nmi_blocked = true;

        let stop = cpu.run(10);

        assert_eq!(stop, Stop::Halted);
        assert_eq!(cpu.rip, 0x1007);
        assert!(!cpu.nmi_blocked);
    }
}
