//! Exception and interrupt delivery (SDM Vol. 3A, chapter 6).
//!
//! - Real mode: the IVT at IDTR.base, 4 bytes a vector; FLAGS, CS, IP are
//!   pushed and IF, TF, AC cleared (Vol. 3A, 20.1.4).
//! - Protected mode: 8-byte IDT gates; interrupt and trap gates, 16- or
//!   32-bit; a switch to the inner stack from the TSS when the handler is
//!   more privileged (6.12.1); from virtual-8086 mode the frame also
//!   holds GS, FS, DS, ES, which are then nulled (20.3.1.1). Task gates
//!   are not supported (no hardware task switching): they are #GP.
//! - Long mode: 16-byte gates, always a 64-bit frame with SS:RSP, RSP
//!   aligned to 16, and the IST stacks (6.14).
//!
//! A fault while delivering an exception is handled as Table 6-5 says:
//! benign ones are delivered in turn, two contributory ones (or a page
//! fault then a contributory fault or page fault) become a double fault,
//! and a fault while delivering a double fault shuts the CPU down.
//! Fault-class exceptions push RF = 1 in the saved flags (17.3.1.1).

use super::exception::{is_double_fault, Exception};
use super::segment::Selector;
use super::state::{attr, rflags, Mode, SegReg, Segment};
use super::{Cpu, Stop};
use crate::trace::tracer::Delivery;
use crate::trace::Category;

/// What caused an event: it decides the EXT bit of error codes and whether
/// the gate's DPL is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An exception the CPU detected (EXT = 1 in error codes).
    Exception,
    /// A hardware interrupt or NMI (EXT = 1).
    External,
    /// INT n, INT3, INTO (gate DPL must be >= CPL; EXT = 0).
    Software,
}

/// Whether `e` is a fault (reported at the faulting instruction) rather
/// than a trap (#DB single step, #BP, #OF) or an abort (#DF).
fn is_fault(e: Exception) -> bool {
    !matches!(
        e,
        Exception::Debug | Exception::Breakpoint | Exception::Overflow | Exception::DoubleFault
    )
}

impl Cpu {
    /// Delivers an exception raised by an instruction (RIP already points
    /// at the faulting instruction, or past it for traps).
    pub fn raise(&mut self, e: Exception) {
        let mut current = e;
        // Each round delivers `current`; a fault while doing so is combined
        // with it per Table 6-5. Three rounds always end in success,
        // a double fault, or shutdown.
        for _ in 0..4 {
            if let Exception::PageFault { addr, .. } = current {
                self.cr2 = addr;
            }
            if self.trace.is_on() {
                self.trace_exception(current);
            }
            // Fault-class exceptions push RF = 1 so that the faulting
            // instruction, restarted by IRET, does not hit an instruction
            // breakpoint again (SDM Vol. 3A, 17.3.1.1).
            let rf = self.flags.test(rflags::RF);
            if is_fault(current) {
                self.flags.assign(rflags::RF, true);
            }
            let r = self.deliver(current.vector(), current.error_code(), Source::Exception);
            let Err(next) = r else { return };
            self.flags.assign(rflags::RF, rf);
            if current == Exception::DoubleFault {
                break;
            }
            current = if is_double_fault(current.class(), next.class()) {
                Exception::DoubleFault
            } else {
                next
            };
        }
        self.triple_fault = true;
        if let Some(mut t) = self.trace.on(Category::Cpu) {
            t.triple_fault(self.instret);
        }
    }

    /// Delivers a hardware interrupt or NMI with the given vector.
    pub fn deliver_external(&mut self, vector: u8) {
        if let Err(e) = self.deliver(vector, None, Source::External) {
            self.raise(e);
        }
    }

    /// INT n / INT3 / INTO / INT1 from an instruction handler; RIP already
    /// points past the instruction.
    pub fn software_interrupt(&mut self, vector: u8) -> Result<(), Exception> {
        if self.mode == Mode::Virtual8086 && self.iopl() < 3 {
            return Err(Exception::GeneralProtection(0));
        }
        self.deliver(vector, None, Source::Software)
    }

    /// Leaves the HLT state without delivering anything, as a debugger's
    /// "continue" does; tests use it to run on past a checkpoint HLT.
    pub fn resume_from_halt(&mut self) {
        self.halted = false;
    }

    /// Transfers control to the handler of `vector`.
    pub fn deliver(
        &mut self,
        vector: u8,
        error: Option<u32>,
        src: Source,
    ) -> Result<(), Exception> {
        self.halted = false;
        self.exit_block = true;
        let r = match self.mode {
            Mode::Real => self.deliver_real(vector),
            m if m.is_long() => self.deliver_long(vector, error, src),
            _ => self.deliver_protected(vector, error, src),
        };
        if r.is_ok() && self.trace.is_on() {
            self.trace_delivery(vector, src);
        }
        r
    }

    /// Records an exception about to be delivered (`trace`, category cpu;
    /// page faults also on the MMU track).
    #[cold]
    fn trace_exception(&mut self, e: Exception) {
        let address = match e {
            Exception::PageFault { addr, .. } => Some(addr),
            _ => None,
        };
        let (instret, rip) = (self.instret, self.rip);
        if !self.trace.wants(Category::Cpu) && !self.trace.wants(Category::Mmu) {
            return;
        }
        if let Some(mut t) = self.trace.any() {
            t.exception(
                instret,
                e.mnemonic(),
                e.vector(),
                e.error_code(),
                address,
                rip,
            );
        }
    }

    /// Records that a handler was entered (a slice on the CPU track that
    /// the matching IRET ends).
    #[cold]
    fn trace_delivery(&mut self, vector: u8, src: Source) {
        let how = match src {
            Source::Exception => Delivery::Exception,
            Source::External => Delivery::External,
            Source::Software => Delivery::Software,
        };
        let instret = self.instret;
        if let Some(mut t) = self.trace.any() {
            // The interrupt count feeds the counters even when cpu events
            // are not recorded.
            if t.wants(Category::Cpu) {
                t.interrupt_enter(instret, vector, how);
            } else if how == Delivery::External {
                t.count_interrupt();
            }
        }
    }

    /// IRET completed: ends the innermost handler slice when tracing.
    #[inline]
    pub fn trace_interrupt_return(&mut self) {
        if let Some(mut t) = self.trace.on(Category::Cpu) {
            t.interrupt_return(self.instret);
        }
    }

    /// Whether the next [`step`](Self::step) executes the instruction at
    /// CS:RIP (rather than taking an interrupt or staying halted).
    pub fn will_execute(&mut self) -> bool {
        if self.triple_fault || self.control.is_some() {
            return false;
        }
        if self.interrupt_shadow || self.flags.test(rflags::TF | rflags::RF) {
            return true;
        }
        let interrupt = (self.nmi_pending && !self.nmi_blocked)
            || (self.flags.test(rflags::IF) && self.bus.interrupt_pending());
        !interrupt && !self.halted
    }

    /// Runs one instruction, or takes one pending interrupt, exactly as
    /// `run` would at that boundary (the instruction trace's slow path).
    pub fn step(&mut self) -> Stop {
        if self.triple_fault {
            return Stop::TripleFault;
        }
        if let Some(c) = self.control.take() {
            return Stop::Control(c);
        }
        if !self.interrupt_shadow && !self.flags.test(rflags::TF | rflags::RF) {
            if self.nmi_pending && !self.nmi_blocked {
                self.nmi_pending = false;
                self.nmi_blocked = true;
                self.deliver_external(2);
                return self.stop_after_step();
            }
            if self.flags.test(rflags::IF) && self.bus.interrupt_pending() {
                let vector = self.bus.acknowledge_interrupt();
                self.deliver_external(vector);
                return self.stop_after_step();
            }
            if self.halted {
                return Stop::Halted;
            }
            // `run` takes one instruction at a time under an interrupt
            // shadow; interrupts were just checked, as they would be.
            self.interrupt_shadow = true;
        }
        let stop = self.run(1);
        if self.halted && stop == Stop::Budget {
            return Stop::Halted;
        }
        stop
    }

    fn stop_after_step(&mut self) -> Stop {
        if self.triple_fault {
            Stop::TripleFault
        } else if let Some(c) = self.control.take() {
            Stop::Control(c)
        } else {
            Stop::Budget
        }
    }

    fn deliver_real(&mut self, vector: u8) -> Result<(), Exception> {
        let off = vector as u64 * 4;
        if off + 3 > self.idtr.limit as u64 {
            return Err(Exception::GeneralProtection(0));
        }
        let entry = self.read_sys::<4>(self.idtr.base.wrapping_add(off) & 0xFFFF_FFFF)?;
        let flags = self.flags.get();
        let cs = self.seg[SegReg::Cs as usize].selector;
        let old_sp = self.gpr[4];
        let pushed = (|| {
            self.push_sized(2, flags)?;
            self.push_sized(2, cs as u64)?;
            self.push_sized(2, self.rip & 0xFFFF)
        })();
        if let Err(e) = pushed {
            self.gpr[4] = old_sp;
            return Err(e);
        }
        self.flags
            .assign(rflags::IF | rflags::TF | rflags::AC | rflags::RF, false);
        let sel = (entry >> 16) as u16;
        let cs = &mut self.seg[SegReg::Cs as usize];
        cs.selector = sel;
        cs.base = (sel as u64) << 4;
        self.rip = entry & 0xFFFF;
        Ok(())
    }

    /// Error code naming an IDT entry: index << 3 | IDT bit | EXT.
    fn idt_error(vector: u8, src: Source) -> u16 {
        ((vector as u16) << 3) | 2 | (src != Source::Software) as u16
    }

    fn ext(src: Source) -> u16 {
        (src != Source::Software) as u16
    }

    /// Reads and checks the gate for `vector`; returns (gate low, gate high,
    /// target CS cache, new CPL).
    fn read_gate(
        &mut self,
        vector: u8,
        src: Source,
        long: bool,
    ) -> Result<(u64, u64, Segment, u8), Exception> {
        let width = if long { 16 } else { 8 };
        let off = vector as u64 * width;
        let gp_idt = Exception::GeneralProtection(Self::idt_error(vector, src));
        if off + width - 1 > self.idtr.limit as u64 {
            return Err(gp_idt);
        }
        let lo = self.read_sys::<8>(self.idtr.base.wrapping_add(off))?;
        let hi = if long {
            self.read_sys::<8>(self.idtr.base.wrapping_add(off + 8))?
        } else {
            0
        };
        let ty = ((lo >> 40) & 0xF) as u8;
        let valid = if long {
            matches!(ty, 0xE | 0xF)
        } else {
            matches!(ty, 0x6 | 0x7 | 0xE | 0xF)
        };
        if !valid || lo & (1 << 44) != 0 {
            // Task gates (type 5) are not supported: this CPU does no
            // hardware task switching, so they are treated as invalid.
            return Err(gp_idt);
        }
        let gate_dpl = ((lo >> 45) & 3) as u8;
        if src == Source::Software && gate_dpl < self.cpl {
            return Err(gp_idt);
        }
        if lo & (1 << 47) == 0 {
            return Err(Exception::SegmentNotPresent(Self::idt_error(vector, src)));
        }
        let sel = Selector((lo >> 16) as u16);
        let ext = Self::ext(src);
        if sel.is_null() {
            return Err(Exception::GeneralProtection(ext));
        }
        let desc = self
            .read_descriptor(sel)
            .map_err(|_| Exception::GeneralProtection(sel.error_code() | ext))?;
        let cs = Segment::from_descriptor(sel.0, desc);
        if !cs.is_code() || cs.dpl() > self.cpl || (long && !cs.is_64bit_code()) {
            return Err(Exception::GeneralProtection(sel.error_code() | ext));
        }
        if !cs.present() {
            return Err(Exception::SegmentNotPresent(sel.error_code() | ext));
        }
        let new_cpl = if cs.conforming() { self.cpl } else { cs.dpl() };
        Ok((lo, hi, cs, new_cpl))
    }

    fn deliver_protected(
        &mut self,
        vector: u8,
        error: Option<u32>,
        src: Source,
    ) -> Result<(), Exception> {
        let (lo, _, cs, new_cpl) = self.read_gate(vector, src, false)?;
        let ty = ((lo >> 40) & 0xF) as u8;
        let gate32 = ty & 8 != 0;
        let size = if gate32 { 4 } else { 2 };
        let offset = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF_0000);
        let offset = if gate32 { offset } else { offset & 0xFFFF };
        if offset > cs.limit as u64 {
            return Err(Exception::GeneralProtection(Self::ext(src)));
        }
        let old_flags = self.flags.get();
        let old_cs = self.seg[SegReg::Cs as usize].selector;
        let old_ss = self.seg[SegReg::Ss as usize];
        let old_rsp = self.gpr[4];
        let from_v86 = self.mode == Mode::Virtual8086;
        if from_v86 && (new_cpl != 0 || !gate32) {
            // Virtual-8086 mode interrupts go to a 32-bit ring-0 handler
            // (SDM Vol. 3A, 20.3.1.1).
            return Err(Exception::GeneralProtection(cs.selector & !3));
        }
        if new_cpl < self.cpl {
            let ext = Self::ext(src);
            let (ss, new_sp) = self.tss_stack(new_cpl).map_err(|e| match e {
                Exception::InvalidTss(sel) => Exception::InvalidTss(sel | ext),
                Exception::StackFault(sel) => Exception::StackFault(sel | ext),
                other => other,
            })?;
            let old_cpl = self.cpl;
            let segs = [SegReg::Gs, SegReg::Fs, SegReg::Ds, SegReg::Es]
                .map(|s| self.seg[s as usize].selector);
            self.seg[SegReg::Ss as usize] = ss;
            self.gpr[4] = new_sp;
            // The new stack is written at the handler's privilege level.
            self.cpl = new_cpl;
            let pushed = (|| {
                if from_v86 {
                    for sel in segs {
                        self.push_sized(size, sel as u64)?;
                    }
                }
                self.push_sized(size, old_ss.selector as u64)?;
                self.push_sized(size, old_rsp)?;
                self.push_sized(size, old_flags)?;
                self.push_sized(size, old_cs as u64)?;
                self.push_sized(size, self.rip)?;
                if let Some(code) = error {
                    self.push_sized(size, code as u64)?;
                }
                Ok(())
            })();
            if let Err(e) = pushed {
                self.seg[SegReg::Ss as usize] = old_ss;
                self.gpr[4] = old_rsp;
                self.cpl = old_cpl;
                return Err(e);
            }
            if from_v86 {
                for s in [SegReg::Gs, SegReg::Fs, SegReg::Ds, SegReg::Es] {
                    self.seg[s as usize] = Segment::default();
                }
            }
        } else {
            let pushed = (|| {
                self.push_sized(size, old_flags)?;
                self.push_sized(size, old_cs as u64)?;
                self.push_sized(size, self.rip)?;
                if let Some(code) = error {
                    self.push_sized(size, code as u64)?;
                }
                Ok(())
            })();
            if let Err(e) = pushed {
                self.gpr[4] = old_rsp;
                return Err(e);
            }
        }
        self.finish_delivery(lo, cs, new_cpl, offset);
        Ok(())
    }

    fn deliver_long(
        &mut self,
        vector: u8,
        error: Option<u32>,
        src: Source,
    ) -> Result<(), Exception> {
        let (lo, hi, cs, new_cpl) = self.read_gate(vector, src, true)?;
        let offset = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF_0000) | (hi << 32);
        if !super::access::is_canonical(offset) {
            return Err(Exception::GeneralProtection(Self::ext(src)));
        }
        let ist = (lo >> 32) & 7;
        let old_flags = self.flags.get();
        let old_cs = self.seg[SegReg::Cs as usize].selector;
        let old_ss = self.seg[SegReg::Ss as usize];
        let old_rsp = self.gpr[4];
        // 64-bit TSS: RSPn at 4 + 8n, ISTn at 0x24 + 8(n-1).
        let stack_off = if ist != 0 {
            Some(0x24 + 8 * (ist - 1))
        } else if new_cpl < self.cpl {
            Some(4 + 8 * new_cpl as u64)
        } else {
            None
        };
        let mut rsp = old_rsp;
        if let Some(off) = stack_off {
            if off + 7 > self.tr.limit as u64 {
                return Err(Exception::InvalidTss(
                    (self.tr.selector & !3) | Self::ext(src),
                ));
            }
            rsp = self.read_sys::<8>(self.tr.base + off)?;
            if !super::access::is_canonical(rsp) {
                return Err(Exception::StackFault(Self::ext(src)));
            }
        }
        rsp &= !0xF;
        let mut frame = vec![
            old_ss.selector as u64,
            old_rsp,
            old_flags,
            old_cs as u64,
            self.rip,
        ];
        if let Some(code) = error {
            frame.push(code as u64);
        }
        for v in frame {
            rsp = rsp.wrapping_sub(8);
            if !super::access::is_canonical(rsp) {
                return Err(Exception::StackFault(Self::ext(src)));
            }
            self.write_sys::<8>(rsp, v)?;
        }
        self.gpr[4] = rsp;
        if new_cpl < self.cpl {
            // SS becomes a null selector with RPL = new CPL.
            self.seg[SegReg::Ss as usize] = Segment {
                selector: new_cpl as u16,
                base: 0,
                limit: 0,
                attr: attr::DB | ((new_cpl as u16) << attr::DPL_SHIFT),
            };
        }
        self.finish_delivery(lo, cs, new_cpl, offset);
        Ok(())
    }

    /// Loads CS:RIP and clears the flags a gate clears.
    fn finish_delivery(&mut self, gate_lo: u64, cs: Segment, new_cpl: u8, offset: u64) {
        let trap_gate = (gate_lo >> 40) & 1 == 1;
        let mut clear = rflags::TF | rflags::NT | rflags::RF | rflags::VM;
        if !trap_gate {
            clear |= rflags::IF;
        }
        self.flags.assign(clear, false);
        let mut cs = cs;
        cs.attr |= attr::ACCESSED;
        self.set_cs(cs, new_cpl);
        self.rip = offset;
    }

    /// Pushes `size` bytes on the stack, with the stack-pointer width
    /// SS.B (or 64-bit mode) gives.
    pub fn push_sized(&mut self, size: u8, v: u64) -> Result<(), Exception> {
        let width = self.stack_width();
        let mask = super::flags::size_mask(width);
        let sp = self.gpr[4].wrapping_sub(size as u64) & mask;
        match size {
            2 => self.write::<2>(SegReg::Ss, sp, v)?,
            4 => self.write::<4>(SegReg::Ss, sp, v)?,
            _ => self.write::<8>(SegReg::Ss, sp, v)?,
        }
        self.set_gpr_sized(4, width, sp);
        Ok(())
    }

    /// Pops `size` bytes off the stack.
    pub fn pop_sized(&mut self, size: u8) -> Result<u64, Exception> {
        let width = self.stack_width();
        let mask = super::flags::size_mask(width);
        let sp = self.gpr[4] & mask;
        let v = match size {
            2 => self.read::<2>(SegReg::Ss, sp)?,
            4 => self.read::<4>(SegReg::Ss, sp)?,
            _ => self.read::<8>(SegReg::Ss, sp)?,
        };
        self.set_gpr_sized(4, width, sp.wrapping_add(size as u64) & mask);
        Ok(v)
    }
}
