//! String instructions: MOVS, STOS, LODS, CMPS, SCAS, and the REP engine
//! they share with INS and OUTS (`io.rs`).
//!
//! SDM Vol. 1, 7.3.9 (string operations) and Vol. 2B, "REP/REPE/REPZ/
//! REPNE/REPNZ" plus one page per instruction:
//!
//! - The address size (not the operand size) picks SI/ESI/RSI, DI/EDI/RDI
//!   and CX/ECX/RCX, and the pointers wrap at that width. iced-x86 tells it
//!   through the operand kinds (`MemorySegSI`/`ESI`/`RSI`,
//!   `MemoryESDI`/`EDI`/`RDI`).
//! - The source is DS:rSI unless a segment prefix overrides it; the
//!   destination is always ES:rDI (base 0 in 64-bit mode).
//! - RFLAGS.DF = 0 steps the pointers up by the element size, DF = 1 down.
//! - With a repeat prefix: while rCX != 0, do one element, decrement rCX,
//!   and for CMPS/SCAS stop when ZF says so (REPE: ZF = 0, REPNE: ZF = 1).
//!   rCX = 0 at the start does nothing at all. REPNE before a non-comparing
//!   string instruction repeats like REP, as processors do.
//!
//! A REP is precise and restartable: a fault on some element leaves rSI,
//! rDI and rCX describing the elements already done, and RIP (restored by
//! the run loop) on the instruction, so the handler's IRET resumes it. To
//! bound interrupt latency the engine also stops by itself after
//! `MAX_ITERATIONS` elements, RIP back on the instruction, ending the block
//! (Vol. 2B REP: a repeating string operation can be suspended by an
//! interrupt and resumed). With TF set it does one element per
//! instruction step, so the single-step trap comes after each iteration.
//!
//! `rep movs` and `rep stos` are what guests' memcpy and memset compile to,
//! so those two move whole runs at once when the source and destination
//! each stay inside one page: the segment checks are done for the run, the
//! page translated once (faulting exactly where the first element would),
//! and the bytes moved through the TLB's host pointers, element by element
//! where an overlap makes that differ from a memmove. `repe/repne cmps`
//! and `scas` scan a run the same way up to the element that ends the
//! repetition. Pages that cannot take that path (MMIO, ROM, pages holding
//! decoded code) go one element at a time through the ordinary accessors,
//! which keep self-modifying code coherent and reach the bus.

use super::Handler;
use crate::cpu::decode::Insn;
use crate::cpu::flags::{size_mask, LazyOp};
use crate::cpu::state::{rflags, SegReg};
use crate::cpu::{Cpu, Exception};
use crate::memory::PAGE_SIZE;
use crate::mmu::{Access, AccessKind};
use crate::sized;
use iced_x86::{Instruction, Mnemonic, OpKind};

/// Register numbers the string instructions use implicitly.
pub const RAX: usize = 0;
pub const RCX: usize = 1;
pub const RDX: usize = 2;
pub const RSI: usize = 6;
pub const RDI: usize = 7;

/// The most elements one execution of a REP instruction does before it
/// lets the run loop look at interrupts (it then resumes where it was).
pub const MAX_ITERATIONS: u64 = 64 * 1024;

/// One element of a string instruction, and what the engine must do
/// around it.
pub trait Element {
    /// rSI moves after each element.
    const SRC: bool;
    /// rDI moves after each element.
    const DST: bool;
    /// CMPS and SCAS: REPE/REPNE end the repetition on ZF.
    const COMPARES: bool;

    /// Checks made once, before the first element (I/O permission).
    fn prepare(_cpu: &mut Cpu, _insn: &Insn) -> Result<(), Exception> {
        Ok(())
    }

    /// Does one `N`-byte element with the source at `si` (in the source
    /// segment) and the destination at `di` (in ES). No register moves.
    fn one<const N: usize>(cpu: &mut Cpu, insn: &Insn, si: u64, di: u64) -> Result<(), Exception>;

    /// Does up to `run.max` elements at once, or says how many the engine
    /// should do one by one before asking again. By default: all of them.
    fn chunk<const N: usize>(_cpu: &mut Cpu, _insn: &Insn, _run: &Run) -> Result<Chunk, Exception> {
        Ok(Chunk::OneByOne(u64::MAX))
    }
}

/// What `Element::chunk` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk {
    /// This many elements are done (registers not yet moved).
    Done(u64),
    /// Nothing done; the next this many elements (at least 1) cannot take
    /// the direct path (page-crossing element, MMIO, ROM, code page,
    /// segment limit inside the run), so the engine does them one at a
    /// time without asking again.
    OneByOne(u64),
}

/// Where a repeated string instruction stands, for `Element::chunk`.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub si: u64,
    pub di: u64,
    /// Elements still allowed in this call (rCX and the iteration budget).
    pub max: u64,
    /// DF = 1: the pointers move down.
    pub down: bool,
    /// The address-size mask the pointers wrap at.
    pub mask: u64,
    /// CMPS/SCAS under REPE (true) or REPNE (false): the repetition goes
    /// on while ZF equals this.
    pub while_zf: bool,
}

impl Run {
    /// How many `n`-byte elements, starting at offset `off` (linear `lin`),
    /// stay inside one page and do not wrap the address size.
    fn fit(&self, off: u64, lin: u64, n: u64) -> u64 {
        let in_page = lin & (PAGE_SIZE - 1);
        let (page_room, wrap_room) = if self.down {
            // Elements at off, off - n, ...: the first must not cross the
            // page end or wrap the address size; then down to 0.
            if in_page + n > PAGE_SIZE || self.mask - off < n - 1 {
                return 0;
            }
            (in_page / n + 1, off / n + 1)
        } else {
            let page_left = PAGE_SIZE - in_page;
            let wrap_left = self.mask - off;
            if page_left < n || wrap_left < n - 1 {
                return 0;
            }
            (page_left / n, ((wrap_left - (n - 1)) / n).saturating_add(1))
        };
        self.max.min(page_room).min(wrap_room)
    }

    /// The lowest offset of `count` elements of `n` bytes starting at `off`.
    fn low(&self, off: u64, count: u64, n: u64) -> u64 {
        if self.down {
            off - (count - 1) * n
        } else {
            off
        }
    }
}

/// The address size (2, 4 or 8) of a string instruction, from the kind of
/// its memory operands; `None` for anything that is not one.
pub fn address_size(i: &Instruction) -> Option<u8> {
    (0..i.op_count()).find_map(|n| match i.op_kind(n) {
        OpKind::MemorySegSI | OpKind::MemoryESDI => Some(2),
        OpKind::MemorySegESI | OpKind::MemoryESEDI => Some(4),
        OpKind::MemorySegRSI | OpKind::MemoryESRDI => Some(8),
        _ => None,
    })
}

/// The handler for element kind `E`, address size `a`, element size `n`.
pub fn pick<E: Element>(a: u8, n: usize) -> Option<Handler> {
    match a {
        2 => sized!(n, string::<E, 2>),
        4 => sized!(n, string::<E, 4>),
        8 => sized!(n, string::<E, 8>),
        _ => None,
    }
}

pub fn resolve(i: &Instruction) -> Option<Handler> {
    // SSE's MOVSD and CMPSD share mnemonics with the string forms; only the
    // string forms have rSI/rDI operands.
    let a = address_size(i)?;
    let n = i.memory_size().size();
    use Mnemonic::*;
    match i.mnemonic() {
        Movsb | Movsw | Movsd | Movsq => pick::<Movs>(a, n),
        Stosb | Stosw | Stosd | Stosq => pick::<Stos>(a, n),
        Lodsb | Lodsw | Lodsd | Lodsq => pick::<Lods>(a, n),
        Cmpsb | Cmpsw | Cmpsd | Cmpsq => pick::<Cmps>(a, n),
        Scasb | Scasw | Scasd | Scasq => pick::<Scas>(a, n),
        _ => None,
    }
}

/// Runs a string instruction: one element, or with a repeat prefix the
/// whole repetition (or `MAX_ITERATIONS` of it).
fn string<E: Element, const A: u8, const N: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    if !(insn.has_rep_prefix() || insn.has_repne_prefix()) {
        E::prepare(cpu, insn)?;
        return step::<E, A, N>(cpu, insn);
    }
    let mask = size_mask(A);
    let mut count = cpu.gpr[RCX] & mask;
    if count == 0 {
        return Ok(());
    }
    E::prepare(cpu, insn)?;
    // REPE/REPZ (F3) goes on while ZF = 1, REPNE/REPNZ (F2) while ZF = 0.
    let while_zf = insn.has_rep_prefix();
    let mut budget = if cpu.flags.test(rflags::TF) {
        1
    } else {
        MAX_ITERATIONS
    };
    // Elements still to do one at a time before the fast path is tried.
    let mut one_by_one = 0u64;
    loop {
        let done = if one_by_one > 0 {
            one_by_one -= 1;
            step::<E, A, N>(cpu, insn)?;
            1
        } else {
            let run = Run {
                si: cpu.gpr[RSI] & mask,
                di: cpu.gpr[RDI] & mask,
                max: count.min(budget),
                down: cpu.flags.test(rflags::DF),
                mask,
                while_zf,
            };
            match E::chunk::<N>(cpu, insn, &run)? {
                Chunk::Done(n) => {
                    advance::<E, A>(cpu, &run, n * N as u64);
                    n
                }
                Chunk::OneByOne(n) => {
                    one_by_one = n - 1;
                    step::<E, A, N>(cpu, insn)?;
                    1
                }
            }
        };
        count -= done;
        cpu.set_gpr_sized(RCX, A, count);
        budget -= done;
        if count == 0 || (E::COMPARES && cpu.flags.zf() != while_zf) {
            return Ok(());
        }
        if budget == 0 {
            // Suspend: RIP back on the instruction, which resumes from the
            // registers as they now stand.
            cpu.rip = insn.ip();
            cpu.exit_block = true;
            return Ok(());
        }
    }
}

/// One element, then the pointers move by its size.
#[inline(always)]
fn step<E: Element, const A: u8, const N: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
) -> Result<(), Exception> {
    let mask = size_mask(A);
    let run = Run {
        si: cpu.gpr[RSI] & mask,
        di: cpu.gpr[RDI] & mask,
        max: 1,
        down: cpu.flags.test(rflags::DF),
        mask,
        while_zf: false,
    };
    E::one::<N>(cpu, insn, run.si, run.di)?;
    advance::<E, A>(cpu, &run, N as u64);
    Ok(())
}

/// Moves rSI and/or rDI by `bytes` in the direction DF gives, wrapping at
/// the address size.
#[inline(always)]
fn advance<E: Element, const A: u8>(cpu: &mut Cpu, run: &Run, bytes: u64) {
    let delta = if run.down {
        bytes.wrapping_neg()
    } else {
        bytes
    };
    if E::SRC {
        cpu.set_gpr_sized(RSI, A, run.si.wrapping_add(delta) & run.mask);
    }
    if E::DST {
        cpu.set_gpr_sized(RDI, A, run.di.wrapping_add(delta) & run.mask);
    }
}

/// A host pointer to the bytes at linear `lin` for a direct access of
/// `kind`, translating (and faulting exactly as an access there would) on
/// a TLB miss; `None` when the page must take the slow path.
fn host_pointer(cpu: &mut Cpu, lin: u64, kind: AccessKind) -> Result<Option<*mut u8>, Exception> {
    let user = cpu.user();
    let page = lin >> 12;
    let tag = |cpu: &Cpu| {
        let e = cpu.tlb.entry(user, page);
        let t = if kind == AccessKind::Write {
            e.write_tag
        } else {
            e.read_tag
        };
        (t == page).then_some(e.host)
    };
    if let Some(host) = tag(cpu) {
        // SAFETY: a matching tag means `host` maps the whole page.
        return Ok(Some(unsafe { host.add((lin & (PAGE_SIZE - 1)) as usize) }));
    }
    cpu.translate(lin, Access { kind, user })?;
    // SAFETY: as above; `translate` has just filled the entry.
    Ok(tag(cpu).map(|host| unsafe { host.add((lin & (PAGE_SIZE - 1)) as usize) }))
}

/// Where a two-operand string instruction (MOVS, CMPS) can run many
/// elements at once: the count both sides can take and their host runs.
enum Pair {
    Host {
        count: u64,
        src: *mut u8,
        dst: *mut u8,
    },
    /// No host run: go element by element (this many, then look again).
    OneByOne(Chunk),
}

/// Finds the host runs of DS:rSI (read) and ES:rDI (`dst_kind`). The source
/// page is translated before the destination page, as the first element
/// reads its source first.
fn paired_runs<const N: usize>(
    cpu: &mut Cpu,
    insn: &Insn,
    run: &Run,
    dst_kind: AccessKind,
) -> Result<Pair, Exception> {
    let n = N as u64;
    let (Ok(src), Ok(dst)) = (
        cpu.linear(insn.seg, run.si, n, AccessKind::Read),
        cpu.linear(SegReg::Es, run.di, n, dst_kind),
    ) else {
        return Ok(Pair::OneByOne(Chunk::OneByOne(1)));
    };
    let count = run.fit(run.si, src, n).min(run.fit(run.di, dst, n));
    if count < 2 {
        return Ok(Pair::OneByOne(Chunk::OneByOne(1)));
    }
    let Some(src) = host_run(cpu, run, insn.seg, run.si, count, n, AccessKind::Read)? else {
        return Ok(Pair::OneByOne(Chunk::OneByOne(count)));
    };
    let Some(dst) = host_run(cpu, run, SegReg::Es, run.di, count, n, dst_kind)? else {
        return Ok(Pair::OneByOne(Chunk::OneByOne(count)));
    };
    Ok(Pair::Host { count, src, dst })
}

/// A run of `count` elements of `n` bytes at `off` in segment `s`, checked
/// for an access of `kind` and made into a host pointer to its lowest
/// byte; `None` when the run cannot go the direct way (a segment check
/// fails somewhere in it, or the page is not plain RAM for this access).
fn host_run(
    cpu: &mut Cpu,
    run: &Run,
    s: SegReg,
    off: u64,
    count: u64,
    n: u64,
    kind: AccessKind,
) -> Result<Option<*mut u8>, Exception> {
    let Ok(low) = cpu.linear(s, run.low(off, count, n), count * n, kind) else {
        return Ok(None);
    };
    // Translate at the first element the run visits, so a page fault
    // reports the address (CR2) an element-wise access would.
    let from_low = if run.down { (count - 1) * n } else { 0 };
    let first = host_pointer(cpu, low + from_low, kind)?;
    // SAFETY: the whole run lies in one page, so its lowest byte is
    // `from_low` bytes below the first element within the same mapping.
    Ok(first.map(|p| unsafe { p.sub(from_low as usize) }))
}

/// MOVS: ES:[rDI] = [seg:rSI].
pub struct Movs;

impl Element for Movs {
    const SRC: bool = true;
    const DST: bool = true;
    const COMPARES: bool = false;

    #[inline(always)]
    fn one<const N: usize>(cpu: &mut Cpu, insn: &Insn, si: u64, di: u64) -> Result<(), Exception> {
        let v = cpu.read::<N>(insn.seg, si)?;
        cpu.write::<N>(SegReg::Es, di, v)
    }

    fn chunk<const N: usize>(cpu: &mut Cpu, insn: &Insn, run: &Run) -> Result<Chunk, Exception> {
        let (count, s, d) = match paired_runs::<N>(cpu, insn, run, AccessKind::Write)? {
            Pair::Host { count, src, dst } => (count, src, dst),
            Pair::OneByOne(chunk) => return Ok(chunk),
        };
        let n = N as u64;
        let len = (count * n) as usize;
        let (s_addr, d_addr) = (s as usize, d as usize);
        // Element by element, a copy reads bytes an earlier element wrote
        // when the destination starts inside the source on the side the
        // copy moves towards; otherwise it is a plain memmove.
        let feeds_back = if run.down {
            d_addr < s_addr && s_addr < d_addr + len
        } else {
            s_addr < d_addr && d_addr < s_addr + len
        };
        if feeds_back {
            for k in 0..count as usize {
                let i = (if run.down { count as usize - 1 - k } else { k }) * N;
                // SAFETY: both runs lie inside their pages (host_run), and
                // element i is inside both runs.
                unsafe { std::ptr::copy(s.add(i), d.add(i), N) };
            }
        } else {
            // SAFETY: both runs lie inside RAM/ROM pages the TLB maps
            // (host_run); `copy` allows the ranges to overlap.
            unsafe { std::ptr::copy(s, d, len) };
        }
        Ok(Chunk::Done(count))
    }
}

/// STOS: ES:[rDI] = AL/AX/EAX/RAX.
pub struct Stos;

impl Element for Stos {
    const SRC: bool = false;
    const DST: bool = true;
    const COMPARES: bool = false;

    #[inline(always)]
    fn one<const N: usize>(cpu: &mut Cpu, _: &Insn, _: u64, di: u64) -> Result<(), Exception> {
        cpu.write::<N>(SegReg::Es, di, cpu.gpr[RAX] & size_mask(N as u8))
    }

    fn chunk<const N: usize>(cpu: &mut Cpu, _: &Insn, run: &Run) -> Result<Chunk, Exception> {
        let n = N as u64;
        let Ok(dst) = cpu.linear(SegReg::Es, run.di, n, AccessKind::Write) else {
            return Ok(Chunk::OneByOne(1));
        };
        let count = run.fit(run.di, dst, n);
        if count < 2 {
            return Ok(Chunk::OneByOne(1));
        }
        let Some(d) = host_run(cpu, run, SegReg::Es, run.di, count, n, AccessKind::Write)? else {
            return Ok(Chunk::OneByOne(count));
        };
        let value = cpu.gpr[RAX].to_le_bytes();
        if N == 1 {
            // SAFETY: the run lies inside a writable RAM page (host_run).
            unsafe { std::ptr::write_bytes(d, value[0], count as usize) };
        } else {
            for k in 0..count as usize {
                // SAFETY: as above; element k is inside the run.
                unsafe { std::ptr::copy_nonoverlapping(value.as_ptr(), d.add(k * N), N) };
            }
        }
        Ok(Chunk::Done(count))
    }
}

/// LODS: AL/AX/EAX/RAX = [seg:rSI].
pub struct Lods;

impl Element for Lods {
    const SRC: bool = true;
    const DST: bool = false;
    const COMPARES: bool = false;

    #[inline(always)]
    fn one<const N: usize>(cpu: &mut Cpu, insn: &Insn, si: u64, _: u64) -> Result<(), Exception> {
        let v = cpu.read::<N>(insn.seg, si)?;
        cpu.set_gpr_sized(RAX, N as u8, v);
        Ok(())
    }
}

/// CMPS: flags from [seg:rSI] - ES:[rDI].
pub struct Cmps;

impl Element for Cmps {
    const SRC: bool = true;
    const DST: bool = true;
    const COMPARES: bool = true;

    #[inline(always)]
    fn one<const N: usize>(cpu: &mut Cpu, insn: &Insn, si: u64, di: u64) -> Result<(), Exception> {
        let a = cpu.read::<N>(insn.seg, si)?;
        let b = cpu.read::<N>(SegReg::Es, di)?;
        compare::<N>(cpu, a, b);
        Ok(())
    }

    fn chunk<const N: usize>(cpu: &mut Cpu, insn: &Insn, run: &Run) -> Result<Chunk, Exception> {
        let (count, s, d) = match paired_runs::<N>(cpu, insn, run, AccessKind::Read)? {
            Pair::Host { count, src, dst } => (count, src, dst),
            Pair::OneByOne(chunk) => return Ok(chunk),
        };
        // SAFETY: both runs hold `count` elements inside mapped pages.
        let pair = |k| unsafe {
            (
                element::<N>(s, run, count, k),
                element::<N>(d, run, count, k),
            )
        };
        let done = (0..count)
            .position(|k| {
                let (a, b) = pair(k);
                (a == b) != run.while_zf
            })
            .map_or(count, |k| k as u64 + 1);
        let (a, b) = pair(done - 1);
        compare::<N>(cpu, a, b);
        Ok(Chunk::Done(done))
    }
}

/// SCAS: flags from AL/AX/EAX/RAX - ES:[rDI].
pub struct Scas;

impl Element for Scas {
    const SRC: bool = false;
    const DST: bool = true;
    const COMPARES: bool = true;

    #[inline(always)]
    fn one<const N: usize>(cpu: &mut Cpu, _: &Insn, _: u64, di: u64) -> Result<(), Exception> {
        let a = cpu.gpr[RAX] & size_mask(N as u8);
        let b = cpu.read::<N>(SegReg::Es, di)?;
        compare::<N>(cpu, a, b);
        Ok(())
    }

    fn chunk<const N: usize>(cpu: &mut Cpu, _: &Insn, run: &Run) -> Result<Chunk, Exception> {
        let n = N as u64;
        let Ok(dst) = cpu.linear(SegReg::Es, run.di, n, AccessKind::Read) else {
            return Ok(Chunk::OneByOne(1));
        };
        let count = run.fit(run.di, dst, n);
        if count < 2 {
            return Ok(Chunk::OneByOne(1));
        }
        let Some(d) = host_run(cpu, run, SegReg::Es, run.di, count, n, AccessKind::Read)? else {
            return Ok(Chunk::OneByOne(count));
        };
        let a = cpu.gpr[RAX] & size_mask(N as u8);
        // SAFETY: the run holds `count` elements inside a mapped page.
        let at = |k| unsafe { element::<N>(d, run, count, k) };
        let done = (0..count)
            .position(|k| (a == at(k)) != run.while_zf)
            .map_or(count, |k| k as u64 + 1);
        compare::<N>(cpu, a, at(done - 1));
        Ok(Chunk::Done(done))
    }
}

/// Sets the flags CMPS and SCAS leave: those of `a - b`.
#[inline(always)]
fn compare<const N: usize>(cpu: &mut Cpu, a: u64, b: u64) {
    let res = a.wrapping_sub(b) & size_mask(N as u8);
    cpu.flags.set_lazy(LazyOp::Sub, N as u8, a, b, res);
}

/// The `k`-th element, in the order the run visits them, of a run of
/// `count` elements whose lowest byte is at `low`.
///
/// # Safety
/// `low .. low + count * N` must be readable and `k < count`.
#[inline(always)]
unsafe fn element<const N: usize>(low: *const u8, run: &Run, count: u64, k: u64) -> u64 {
    let i = if run.down { count - 1 - k } else { k };
    let mut bytes = [0u8; 8];
    // SAFETY: the caller guarantees element i lies in the readable run.
    unsafe { std::ptr::copy_nonoverlapping(low.add(i as usize * N), bytes.as_mut_ptr(), N) };
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(max: u64, down: bool, mask: u64) -> Run {
        Run {
            si: 0,
            di: 0,
            max,
            down,
            mask,
            while_zf: false,
        }
    }

    #[test]
    fn forward_run_ends_at_the_page_end() {
        assert_eq!(run(100, false, u64::MAX).fit(0x1FF0, 0x1FF0, 4), 4);
    }

    #[test]
    fn forward_run_ends_before_a_16_bit_offset_wraps() {
        assert_eq!(run(100, false, 0xFFFF).fit(0xFFF0, 0x5000, 2), 8);
    }

    #[test]
    fn forward_element_that_wraps_the_offset_has_no_run() {
        assert_eq!(run(100, false, 0xFFFF).fit(0xFFFF, 0x5000, 2), 0);
    }

    #[test]
    fn forward_run_is_capped_by_the_count() {
        assert_eq!(run(3, false, u64::MAX).fit(0, 0, 1), 3);
    }

    #[test]
    fn backward_run_ends_at_the_page_start() {
        assert_eq!(run(100, true, u64::MAX).fit(0x3010, 0x3010, 4), 5);
    }

    #[test]
    fn backward_run_ends_at_offset_zero() {
        assert_eq!(run(100, true, 0xFFFF).fit(6, 0x3800, 4), 2);
    }

    #[test]
    fn runs_near_the_top_of_the_64_bit_space_do_not_overflow() {
        assert_eq!(run(100, false, u64::MAX).fit(u64::MAX - 7, 0xFF8, 8), 1);
        assert_eq!(run(100, true, u64::MAX).fit(u64::MAX, 0xFFF, 8), 0);
        assert_eq!(run(100, true, u64::MAX).fit(u64::MAX - 7, 0xFF8, 8), 100);
    }

    #[test]
    fn backward_element_crossing_the_page_end_has_no_run() {
        assert_eq!(run(100, true, u64::MAX).fit(0x3FFE, 0x3FFE, 4), 0);
    }
}
