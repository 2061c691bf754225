//! Descriptor loads with their protection checks (SDM Vol. 3A, 3.4-3.5 and
//! 5.5-5.8; the per-instruction pseudocode of MOV Sreg, POP Sreg, LDS in
//! Vol. 2 gives the order of checks used here).

use super::state::{attr, Mode, SegReg, Segment};
use super::{Cpu, Exception};

/// A selector's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector(pub u16);

impl Selector {
    pub fn rpl(self) -> u8 {
        (self.0 & 3) as u8
    }
    /// Table indicator: LDT (true) or GDT.
    pub fn ldt(self) -> bool {
        self.0 & 4 != 0
    }
    pub fn index(self) -> u16 {
        self.0 >> 3
    }
    /// Null selectors (index 0 in the GDT) are allowed in data registers.
    pub fn is_null(self) -> bool {
        self.0 & !3 == 0
    }
    /// The error code that names this selector (RPL bits cleared).
    pub fn error_code(self) -> u16 {
        self.0 & !3
    }
}

impl Cpu {
    /// The linear address of a selector's descriptor, or #GP(selector) when
    /// it lies outside the GDT or LDT limit. `width` is 8, or 16 for long
    /// mode system descriptors.
    pub fn descriptor_address(&self, sel: Selector, width: u64) -> Result<u64, Exception> {
        let (base, limit) = if sel.ldt() {
            if self.ldtr.selector & !3 == 0 || !self.ldtr.present() {
                return Err(Exception::GeneralProtection(sel.error_code()));
            }
            (self.ldtr.base, self.ldtr.limit as u64)
        } else {
            (self.gdtr.base, self.gdtr.limit as u64)
        };
        let off = (sel.index() as u64) * 8;
        if off + width - 1 > limit {
            return Err(Exception::GeneralProtection(sel.error_code()));
        }
        Ok(base.wrapping_add(off))
    }

    /// Reads the 8-byte descriptor a selector names.
    pub fn read_descriptor(&mut self, sel: Selector) -> Result<u64, Exception> {
        let addr = self.descriptor_address(sel, 8)?;
        self.read_sys::<8>(addr)
    }

    /// Sets the accessed bit of a descriptor in memory if it is clear.
    pub fn mark_accessed(&mut self, sel: Selector, desc: u64) -> Result<u64, Exception> {
        if desc & (1 << 40) != 0 {
            return Ok(desc);
        }
        let addr = self.descriptor_address(sel, 8)?;
        let v = desc | (1 << 40);
        self.write_sys::<1>(addr + 5, (v >> 40) & 0xFF)?;
        Ok(v)
    }

    /// Loads a data segment register or SS (MOV Sreg, POP Sreg, LDS, ...).
    /// CS is loaded only by far transfers (see `exec::control`).
    pub fn load_segment(&mut self, s: SegReg, selector: u16) -> Result<(), Exception> {
        if !self.mode.is_protected() {
            // Real and virtual-8086 mode: base = selector << 4; the limit
            // and attributes stay (which is what makes "unreal mode").
            let seg = &mut self.seg[s as usize];
            seg.selector = selector;
            seg.base = (selector as u64) << 4;
            if self.mode == Mode::Virtual8086 {
                *seg = Segment::real_mode(selector);
                seg.attr |= 3 << attr::DPL_SHIFT;
            }
            if s == SegReg::Ss {
                self.interrupt_shadow = true;
                self.exit_block = true;
            }
            return Ok(());
        }
        let sel = Selector(selector);
        if sel.is_null() {
            if s == SegReg::Ss {
                // A null SS is allowed only in 64-bit mode at CPL < 3, and
                // with RPL = CPL.
                if !(self.mode == Mode::Long64 && self.cpl < 3 && sel.rpl() == self.cpl) {
                    return Err(Exception::GeneralProtection(0));
                }
            }
            let seg = &mut self.seg[s as usize];
            *seg = Segment {
                selector,
                base: if s == SegReg::Fs || s == SegReg::Gs { seg.base } else { 0 },
                limit: 0,
                attr: if s == SegReg::Ss { attr::DB | ((self.cpl as u16) << attr::DPL_SHIFT) } else { 0 },
            };
            if self.mode == Mode::Long64 && (s == SegReg::Fs || s == SegReg::Gs) {
                // Intel leaves the base unchanged on a null load in 64-bit
                // mode; we follow Intel.
            } else if s == SegReg::Fs || s == SegReg::Gs {
                self.seg[s as usize].base = 0;
            }
            if s == SegReg::Ss {
                self.interrupt_shadow = true;
                self.exit_block = true;
            }
            return Ok(());
        }
        let desc = self.read_descriptor(sel)?;
        let cache = Segment::from_descriptor(selector, desc);
        let gp = Exception::GeneralProtection(sel.error_code());
        let dpl = cache.dpl();
        if s == SegReg::Ss {
            if sel.rpl() != self.cpl || dpl != self.cpl || !cache.writable() {
                return Err(gp);
            }
            if !cache.present() {
                return Err(Exception::StackFault(sel.error_code()));
            }
        } else {
            if !cache.readable() {
                return Err(gp);
            }
            // Data and non-conforming code: DPL >= max(CPL, RPL).
            if !cache.conforming() && (dpl < self.cpl || dpl < sel.rpl()) {
                return Err(gp);
            }
            if !cache.present() {
                return Err(Exception::SegmentNotPresent(sel.error_code()));
            }
        }
        let desc = self.mark_accessed(sel, desc)?;
        self.seg[s as usize] = Segment::from_descriptor(selector, desc);
        if s == SegReg::Ss {
            self.interrupt_shadow = true;
            self.exit_block = true;
        }
        Ok(())
    }

    /// Makes CS hold `cache` at privilege `cpl` and recomputes the mode.
    pub fn set_cs(&mut self, cache: Segment, cpl: u8) {
        let mut cache = cache;
        cache.selector = (cache.selector & !3) | cpl as u16;
        self.seg[SegReg::Cs as usize] = cache;
        if self.cpl != cpl {
            self.cpl = cpl;
        }
        self.update_mode();
    }

    /// After a privilege change to an outer level, data segment registers
    /// the new CPL may not use are nulled (SDM RET/IRET pseudocode).
    pub fn null_inaccessible_segments(&mut self) {
        for s in [SegReg::Es, SegReg::Ds, SegReg::Fs, SegReg::Gs] {
            let seg = self.seg[s as usize];
            let data_or_nc = seg.is_data() || (seg.is_code() && !seg.conforming());
            if data_or_nc && seg.dpl() < self.cpl {
                let keep_base = self.mode == Mode::Long64 && (s == SegReg::Fs || s == SegReg::Gs);
                self.seg[s as usize] = Segment {
                    selector: 0,
                    base: if keep_base { seg.base } else { 0 },
                    limit: 0,
                    attr: 0,
                };
            }
        }
    }
}
