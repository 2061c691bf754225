//! The instruction trace: for a bounded window (an address range and a
//! count limit), each instruction's address, bytes, disassembly (iced-x86's
//! Intel formatter) and the registers it changed, as instants on the
//! "Instructions" track.
//!
//! While the window is open the machine runs one instruction at a time
//! (`Cpu::step`), which is slow; it returns to full speed once `limit`
//! instructions have been recorded. An instruction that faults is recorded
//! (with `faulted`), and the first block of the handler it enters runs
//! before the next step, unrecorded.

use super::proto::DebugAnnotation;
use super::{Category, Trace};
use crate::cpu::state::{Mode, SegReg};
use crate::cpu::{Cpu, Stop};
use crate::mmu::{walk, Access, AccessKind, Effects};
use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};

/// Which instructions to record: those whose linear address is in
/// `start..end`, the first `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub end: u64,
    pub limit: u64,
}

/// A bad `--trace-instructions` value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("bad instruction window `{0}` (expected START-END[,COUNT], e.g. 0x7c00-0x7e00,1000)")]
pub struct WindowError(String);

impl std::str::FromStr for Window {
    type Err = WindowError;
    /// `START-END[,COUNT]`, hex with `0x` or decimal; COUNT defaults to
    /// 10000.
    fn from_str(s: &str) -> Result<Window, WindowError> {
        let err = || WindowError(s.into());
        let num = |t: &str| -> Option<u64> {
            let t = t.trim().replace('_', "");
            match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16).ok(),
                None => t.parse().ok(),
            }
        };
        let (range, limit) = match s.split_once(',') {
            Some((r, c)) => (r, num(c).ok_or_else(err)?),
            None => (s, 10_000),
        };
        let (a, b) = range.split_once('-').ok_or_else(err)?;
        let (start, end) = (num(a).ok_or_else(err)?, num(b).ok_or_else(err)?);
        if start >= end || limit == 0 {
            return Err(err());
        }
        Ok(Window { start, end, limit })
    }
}

/// The registers compared before and after each instruction.
#[derive(Clone, PartialEq)]
struct Regs {
    gpr: [u64; 16],
    rflags: u64,
    seg: [u16; 6],
    cr: [u64; 4],
    efer: u64,
    xmm: [u128; 16],
}

impl Regs {
    fn of(cpu: &Cpu) -> Regs {
        Regs {
            gpr: cpu.gpr,
            rflags: cpu.flags.get(),
            seg: std::array::from_fn(|i| cpu.seg[i].selector),
            cr: [cpu.cr0, cpu.cr2, cpu.cr3, cpu.cr4],
            efer: cpu.efer,
            xmm: cpu.xmm,
        }
    }

    /// `name=value` for every register that differs in `after`.
    fn changes(&self, after: &Regs) -> Vec<DebugAnnotation> {
        const GPR: [&str; 16] = [
            "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11",
            "r12", "r13", "r14", "r15",
        ];
        const SEG: [&str; 6] = ["es", "cs", "ss", "ds", "fs", "gs"];
        const CR: [&str; 4] = ["cr0", "cr2", "cr3", "cr4"];
        let mut out = Vec::new();
        for (i, name) in GPR.iter().enumerate() {
            if self.gpr[i] != after.gpr[i] {
                out.push(DebugAnnotation::pointer(name, after.gpr[i]));
            }
        }
        if self.rflags != after.rflags {
            out.push(DebugAnnotation::pointer("rflags", after.rflags));
        }
        for (i, name) in SEG.iter().enumerate() {
            if self.seg[i] != after.seg[i] {
                out.push(DebugAnnotation::pointer(name, after.seg[i] as u64));
            }
        }
        for (i, name) in CR.iter().enumerate() {
            if self.cr[i] != after.cr[i] {
                out.push(DebugAnnotation::pointer(name, after.cr[i]));
            }
        }
        if self.efer != after.efer {
            out.push(DebugAnnotation::pointer("efer", after.efer));
        }
        for i in 0..16 {
            if self.xmm[i] != after.xmm[i] {
                out.push(DebugAnnotation::string(
                    &format!("xmm{i}"),
                    format!("{:032x}", after.xmm[i]),
                ));
            }
        }
        out
    }
}

/// Records the instructions of one window.
#[derive(Debug)]
pub struct InstructionTrace {
    window: Window,
    recorded: u64,
    formatter: IntelFormatterBox,
}

/// `IntelFormatter` is not `Debug`.
struct IntelFormatterBox(IntelFormatter);

impl std::fmt::Debug for IntelFormatterBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntelFormatter")
    }
}

impl InstructionTrace {
    pub fn new(window: Window) -> InstructionTrace {
        InstructionTrace {
            window,
            recorded: 0,
            formatter: IntelFormatterBox(IntelFormatter::new()),
        }
    }

    /// Whether instructions remain to be recorded.
    pub fn active(&self) -> bool {
        self.recorded < self.window.limit
    }

    /// How many were recorded.
    pub fn recorded(&self) -> u64 {
        self.recorded
    }

    /// Runs one step of `cpu` (an instruction, or an interrupt taken),
    /// recording it when it is in the window.
    pub fn step(&mut self, cpu: &mut Cpu, trace: &Trace) -> Stop {
        let lin = linear_ip(cpu);
        let inside = lin >= self.window.start && lin < self.window.end;
        if !inside || !cpu.will_execute() {
            return cpu.step();
        }
        let before = Regs::of(cpu);
        let (rip, instret) = (cpu.rip, cpu.instret);
        let bytes = fetch_bytes(cpu, lin);
        let bitness = cpu.mode.bitness();
        let stop = cpu.step();
        let retired = cpu.instret > instret;
        let after = Regs::of(cpu);
        let mut decoder = Decoder::with_ip(bitness, &bytes, rip, DecoderOptions::NONE);
        let insn = decoder.decode();
        let len = if insn.is_invalid() { 1 } else { insn.len() };
        let mut text = String::new();
        self.formatter.0.format(&insn, &mut text);
        let hex: Vec<String> = bytes.iter().take(len).map(|b| format!("{b:02x}")).collect();
        let mut args = vec![DebugAnnotation::string("bytes", hex.join(" "))];
        if !retired {
            args.push(DebugAnnotation::boolean("faulted", true));
        }
        args.extend(before.changes(&after));
        if let Some(mut t) = trace.on(Category::Insn) {
            t.instruction(instret, lin, text, args);
        }
        self.recorded += 1;
        stop
    }
}

/// CS.base + RIP (RIP alone in 64-bit mode).
fn linear_ip(cpu: &Cpu) -> u64 {
    if cpu.mode == Mode::Long64 {
        cpu.rip
    } else {
        cpu.segment(SegReg::Cs).base.wrapping_add(cpu.rip) & 0xFFFF_FFFF
    }
}

/// Up to 15 bytes at linear `lin`, read without side effects (no accessed
/// flags set, no TLB fill); fewer where a page is not mapped.
fn fetch_bytes(cpu: &mut Cpu, lin: u64) -> Vec<u8> {
    let regs = cpu.paging_regs();
    let access = Access {
        kind: AccessKind::Execute,
        user: cpu.cpl == 3,
    };
    let mut out = Vec::with_capacity(15);
    let mut page = u64::MAX;
    let mut phys_page = 0;
    for i in 0..15u64 {
        let a = lin.wrapping_add(i);
        if a >> 12 != page {
            page = a >> 12;
            match walk(&mut cpu.mem, &regs, a & !0xFFF, access, Effects::Probe) {
                Ok(t) => phys_page = cpu.mem.a20(t.phys),
                Err(_) => break,
            }
        }
        match cpu.mem.read_u8(phys_page | (a & 0xFFF)) {
            Some(b) => out.push(b),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_parses_hex_range_and_count() {
        let w: Window = "0x7c00-0x7e00,50".parse().unwrap();

        assert_eq!(
            w,
            Window {
                start: 0x7C00,
                end: 0x7E00,
                limit: 50
            }
        );
    }

    #[test]
    fn an_empty_range_is_an_error() {
        assert!("0x100-0x100".parse::<Window>().is_err());
        assert!("junk".parse::<Window>().is_err());
    }
}
