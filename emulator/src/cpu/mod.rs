//! The x86-64 CPU.
//!
//! - `state`: segment registers, control-register and flag bit names, MSRs.
//! - `flags`: RFLAGS with lazily evaluated status flags.
//! - `exception`: the guest faults handlers return.
//! - `access`: memory access: segmentation, the TLB fast path, page walks.
//! - `regs`: general-register access by iced-x86 register name.
//! - `decode`: the decoded-block cache and the run loop over it.
//! - `interrupt`: exception and interrupt delivery (IVT, IDT, TSS, IST).
//! - `segment`: descriptor loads with their protection checks.
//! - `exec`: instruction handlers, one module per family.

pub mod access;
pub mod decode;
pub mod exception;
pub mod exec;
pub mod flags;
pub mod interrupt;
pub mod regs;
pub mod segment;
pub mod state;

use crate::bus::Bus;
use crate::machine::snapshot::{Persist, Result as SnapResult, StateIo};
use crate::memory::PhysMemory;
use crate::mmu::{PagingRegs, Tlb};
use decode::BlockCache;
pub use exception::Exception;
use flags::Flags;
use state::*;

/// Why `Cpu::run` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The instruction budget ran out.
    Budget,
    /// `hlt`: the CPU waits for an interrupt (or forever, with IF clear).
    Halted,
    /// A fault while delivering a double fault: the CPU shuts down.
    TripleFault,
    /// The board asked for a reset or an exit (see `bus::Control`).
    Control(crate::bus::Control),
}

/// One x86-64 processor with its physical memory and the board's bus.
pub struct Cpu {
    /// RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15.
    pub gpr: [u64; 16],
    pub rip: u64,
    pub flags: Flags,
    /// ES, CS, SS, DS, FS, GS (see `SegReg`).
    pub seg: [Segment; 6],
    pub gdtr: TableRegister,
    pub idtr: TableRegister,
    pub ldtr: Segment,
    pub tr: Segment,
    pub cr0: u64,
    pub cr2: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub cr8: u64,
    pub dr: [u64; 8],
    pub efer: u64,
    /// PAE paging's PDPTE registers (SDM 4.4.1), loaded by `load_pdptes`.
    pub pdptes: [u64; 4],
    pub msrs: Msrs,
    pub xmm: [u128; 16],
    pub mxcsr: u32,
    pub x87: X87,
    /// The current privilege level (CS.RPL, kept apart for clarity).
    pub cpl: u8,
    /// Derived from CR0, EFER and CS; refreshed by `update_mode`.
    pub mode: Mode,
    pub mem: PhysMemory,
    pub bus: Box<dyn Bus>,
    pub tlb: Tlb,
    pub(crate) blocks: BlockCache,
    /// Retired instructions; the virtual clock runs on this.
    pub instret: u64,
    /// Set by a handler to end the current block after it (mode changes,
    /// interrupt-flag changes, self-modifying writes, `hlt`, ...).
    pub(crate) exit_block: bool,
    pub(crate) halted: bool,
    /// Interrupts are inhibited for one instruction (after `sti`, `mov ss`).
    pub(crate) interrupt_shadow: bool,
    pub(crate) nmi_pending: bool,
    /// NMIs are blocked from NMI delivery until the next `iret`.
    pub(crate) nmi_blocked: bool,
    pub(crate) triple_fault: bool,
    /// A reset or exit the board asked for; `run` returns it.
    pub(crate) control: Option<crate::bus::Control>,
    /// The trace handle (empty unless a trace is taken; `trace`).
    pub trace: crate::trace::Trace,
}

impl Cpu {
    /// A CPU in its power-on state (SDM Vol. 3A, 9.1.1, Table 9-1):
    /// real mode, CS:IP = F000:FFF0 with CS base FFFF0000.
    pub fn new(mem: PhysMemory, bus: Box<dyn Bus>) -> Cpu {
        let mut cpu = Cpu {
            gpr: [0; 16],
            rip: 0,
            flags: Flags::default(),
            seg: [Segment::default(); 6],
            gdtr: TableRegister::default(),
            idtr: TableRegister::default(),
            ldtr: Segment::default(),
            tr: Segment::default(),
            cr0: 0,
            cr2: 0,
            cr3: 0,
            cr4: 0,
            cr8: 0,
            dr: [0; 8],
            efer: 0,
            pdptes: [0; 4],
            msrs: Msrs::default(),
            xmm: [0; 16],
            mxcsr: MXCSR_DEFAULT,
            x87: X87::default(),
            cpl: 0,
            mode: Mode::Real,
            mem,
            bus,
            tlb: Tlb::default(),
            blocks: BlockCache::default(),
            instret: 0,
            exit_block: false,
            halted: false,
            interrupt_shadow: false,
            nmi_pending: false,
            nmi_blocked: false,
            triple_fault: false,
            control: None,
            trace: crate::trace::Trace::off(),
        };
        cpu.reset();
        cpu
    }

    /// The RESET/INIT state. Memory is left as it is.
    pub fn reset(&mut self) {
        self.gpr = [0; 16];
        // EDX holds the processor signature after reset.
        self.gpr[2] = 0x0000_0663;
        self.rip = 0xFFF0;
        self.flags = Flags::new(rflags::FIXED1);
        for s in SegReg::ALL {
            self.seg[s as usize] = Segment::real_mode(0);
        }
        let cs = &mut self.seg[SegReg::Cs as usize];
        cs.selector = 0xF000;
        cs.base = 0xFFFF_0000;
        self.gdtr = TableRegister {
            base: 0,
            limit: 0xFFFF,
        };
        self.idtr = TableRegister {
            base: 0,
            limit: 0xFFFF,
        };
        self.ldtr = Segment {
            attr: attr::PRESENT | 2,
            limit: 0xFFFF,
            ..Segment::default()
        };
        self.tr = Segment {
            attr: attr::PRESENT | 11,
            limit: 0xFFFF,
            ..Segment::default()
        };
        self.cr0 = cr0::ET | cr0::CD | cr0::NW;
        self.cr2 = 0;
        self.cr3 = 0;
        self.cr4 = 0;
        self.cr8 = 0;
        self.dr = [0, 0, 0, 0, 0, 0, 0xFFFF_0FF0, 0x400];
        self.efer = 0;
        self.pdptes = [0; 4];
        self.msrs = Msrs {
            pat: 0x0007_0406_0007_0406,
            apic_base: 0xFEE0_0900,
            ..Msrs::default()
        };
        self.xmm = [0; 16];
        self.mxcsr = MXCSR_DEFAULT;
        self.x87 = X87 {
            fcw: 0x0040,
            ..X87::default()
        };
        self.cpl = 0;
        self.halted = false;
        self.interrupt_shadow = false;
        self.nmi_pending = false;
        self.nmi_blocked = false;
        self.triple_fault = false;
        self.control = None;
        self.mem.set_a20(true);
        self.tlb.flush_all();
        self.blocks.clear();
        self.update_mode();
    }

    /// Recomputes `mode` from CR0.PE, EFER.LMA, RFLAGS.VM and CS.
    pub fn update_mode(&mut self) {
        let cs = self.seg[SegReg::Cs as usize];
        let old = self.mode;
        self.mode = if self.cr0 & cr0::PE == 0 {
            Mode::Real
        } else if self.efer & efer::LMA != 0 {
            if cs.long() {
                Mode::Long64
            } else if cs.big() {
                Mode::Compat32
            } else {
                Mode::Compat16
            }
        } else if self.flags.test(rflags::VM) {
            Mode::Virtual8086
        } else if cs.big() {
            Mode::Protected32
        } else {
            Mode::Protected16
        };
        self.exit_block = true;
        if self.mode != old {
            if let Some(mut t) = self.trace.on(crate::trace::Category::Cpu) {
                t.mode_switch(self.instret, mode_name(old), mode_name(self.mode));
            }
        }
    }

    /// The registers the page walker needs.
    pub fn paging_regs(&self) -> PagingRegs {
        PagingRegs {
            cr0: self.cr0,
            cr3: self.cr3,
            cr4: self.cr4,
            efer: self.efer,
            pdptes: self.pdptes,
        }
    }

    /// Signals a non-maskable interrupt; it is taken at the next boundary.
    pub fn raise_nmi(&mut self) {
        self.nmi_pending = true;
    }

    /// Whether the CPU is waiting in `hlt`.
    pub fn is_halted(&self) -> bool {
        self.halted
    }

    /// Reads a segment register's cache.
    #[inline(always)]
    pub fn segment(&self, s: SegReg) -> &Segment {
        &self.seg[s as usize]
    }

    /// Stack-pointer width in bytes for implicit stack accesses: 8 in
    /// 64-bit mode, else 4 or 2 by SS.B.
    #[inline]
    pub fn stack_width(&self) -> u8 {
        if self.mode == Mode::Long64 {
            8
        } else if self.seg[SegReg::Ss as usize].big() {
            4
        } else {
            2
        }
    }

    /// RFLAGS.IOPL.
    pub fn iopl(&self) -> u8 {
        ((self.flags.get() & rflags::IOPL) >> rflags::IOPL_SHIFT) as u8
    }

    /// A register dump for triple-fault reports and test failures.
    pub fn dump(&self) -> String {
        use std::fmt::Write;
        const NAMES: [&str; 16] = [
            "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11",
            "r12", "r13", "r14", "r15",
        ];
        let mut s = String::new();
        for (i, n) in NAMES.iter().enumerate() {
            let _ = write!(
                s,
                "{n:>3}={:016x}{}",
                self.gpr[i],
                if i % 4 == 3 { "\n" } else { " " }
            );
        }
        let _ = writeln!(
            s,
            "rip={:016x} rflags={:08x} mode={:?} cpl={}",
            self.rip,
            self.flags.get(),
            self.mode,
            self.cpl
        );
        for (i, n) in ["es", "cs", "ss", "ds", "fs", "gs"].iter().enumerate() {
            let g = &self.seg[i];
            let _ = writeln!(
                s,
                "{n}={:04x} base={:016x} limit={:08x} attr={:04x}",
                g.selector, g.base, g.limit, g.attr
            );
        }
        let _ = writeln!(
            s,
            "cr0={:08x} cr2={:016x} cr3={:016x} cr4={:08x} efer={:x}",
            self.cr0, self.cr2, self.cr3, self.cr4, self.efer
        );
        let _ = writeln!(
            s,
            "gdtr={:x}:{:x} idtr={:x}:{:x} tr={:04x} ldtr={:04x}",
            self.gdtr.base,
            self.gdtr.limit,
            self.idtr.base,
            self.idtr.limit,
            self.tr.selector,
            self.ldtr.selector
        );
        s
    }
}

/// The mode's name in traces.
fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Real => "real",
        Mode::Virtual8086 => "virtual-8086",
        Mode::Protected16 => "protected 16-bit",
        Mode::Protected32 => "protected 32-bit",
        Mode::Compat16 => "compatibility 16-bit",
        Mode::Compat32 => "compatibility 32-bit",
        Mode::Long64 => "64-bit",
    }
}

impl Persist for Cpu {
    /// Snapshots (`machine::snapshot`): the architectural state, memory
    /// and the interrupt shadow / NMI state. The decoded-block cache and
    /// the TLB are dropped on load and refill from memory.
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("cpu")?;
        self.gpr.persist(io)?;
        self.rip.persist(io)?;
        let mut rflags = self.flags.get();
        rflags.persist(io)?;
        self.seg.persist(io)?;
        self.gdtr.persist(io)?;
        self.idtr.persist(io)?;
        self.ldtr.persist(io)?;
        self.tr.persist(io)?;
        self.cr0.persist(io)?;
        self.cr2.persist(io)?;
        self.cr3.persist(io)?;
        self.cr4.persist(io)?;
        self.cr8.persist(io)?;
        self.dr.persist(io)?;
        self.efer.persist(io)?;
        self.pdptes.persist(io)?;
        self.msrs.persist(io)?;
        self.xmm.persist(io)?;
        self.mxcsr.persist(io)?;
        self.x87.persist(io)?;
        self.cpl.persist(io)?;
        self.instret.persist(io)?;
        self.halted.persist(io)?;
        self.interrupt_shadow.persist(io)?;
        self.nmi_pending.persist(io)?;
        self.nmi_blocked.persist(io)?;
        self.mem.persist(io)?;
        if io.is_loading() {
            self.flags.set(rflags);
            self.exit_block = false;
            self.triple_fault = false;
            self.control = None;
            self.tlb.flush_all();
            self.blocks.clear();
            self.update_mode();
        }
        Ok(())
    }
}
