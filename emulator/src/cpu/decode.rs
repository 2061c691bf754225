//! The decoded-block cache and the run loop.
//!
//! Decoding with iced-x86 costs about 16 ns an instruction, so each
//! instruction is decoded once: a *block* is a run of instructions that
//! starts at some RIP and ends at a control transfer, at the end of its page,
//! or after `MAX_BLOCK` instructions. Each instruction carries the handler
//! chosen for it at decode time (`exec::resolve`) and its effective-address
//! recipe, so running it is one indirect call.
//!
//! Blocks are keyed by (physical address, RIP, decoder bitness): the
//! physical address so that a write to the page can find and drop them, RIP
//! because iced-x86 resolves branch targets and RIP-relative addresses
//! against it. A page holding blocks is marked in the code bitmap, which
//! forces writes to it through the slow path (`access.rs`), where they drop
//! every block whose bytes they overlap: self-modifying code, and code
//! written through another virtual alias, both see the new bytes, while
//! data sharing the page with code costs a slow-path write but no decode.
//!
//! An instruction that straddles a page boundary is decoded afresh each
//! time it runs, from bytes fetched through both translations, and never
//! cached: the second page's mapping may change under it.

use super::exec;
use super::state::{rflags, SegReg};
use super::{Cpu, Exception, Mode, Stop};
use crate::memory::{Region, PAGE_SIZE};
use crate::mmu::AccessKind;
use iced_x86::{Decoder, DecoderOptions, FlowControl, Instruction, OpKind, Register};
use std::cell::Cell;
use std::collections::HashMap;
use std::ops::Deref;

/// The most instructions in one block.
pub const MAX_BLOCK: usize = 64;
const FAST_SLOTS: usize = 4096;
/// `Insn::base` / `Insn::index` value for "no register".
pub const NO_REG: u8 = 16;

/// An instruction handler: runs one decoded instruction.
pub type Handler = fn(&mut Cpu, &Insn) -> Result<(), Exception>;

/// A decoded instruction with its handler and effective-address recipe.
pub struct Insn {
    pub i: Instruction,
    pub handler: Handler,
    /// RIP after this instruction (wrapped to the operand width).
    pub next_ip: u64,
    /// Effective address = (disp + base + index << scale) & addr_mask.
    pub disp: u64,
    pub addr_mask: u64,
    pub base: u8,
    pub index: u8,
    pub scale: u8,
    /// The effective segment of the memory operand.
    pub seg: SegReg,
    /// Operands 0 and 1 as the handlers' fast path sees them: a kind
    /// (`OPK_*`), a register code (`regs::reg_code`) and one immediate
    /// (for near branches: the target).
    pub kind: [u8; 2],
    pub reg: [u8; 2],
    pub imm: u64,
}

/// `Insn::kind` values.
pub const OPK_REG: u8 = 0;
pub const OPK_MEM: u8 = 1;
pub const OPK_IMM: u8 = 2;
/// Any other operand kind: handlers fall back to iced-x86's accessors.
pub const OPK_OTHER: u8 = 3;

/// The `OPK_*` kind of operand `n` (0 or 1) as `Insn::kind` records it.
/// Resolvers use it too, to pick a handler specialised for the operand
/// form (`formed!` in `exec`).
pub fn operand_kind(i: &Instruction, n: u32) -> u8 {
    if n >= i.op_count() {
        return OPK_OTHER;
    }
    match i.op_kind(n) {
        OpKind::Register if i.op_register(n).is_gpr() => OPK_REG,
        OpKind::Memory => OPK_MEM,
        OpKind::Immediate8
        | OpKind::Immediate16
        | OpKind::Immediate32
        | OpKind::Immediate64
        | OpKind::Immediate8to16
        | OpKind::Immediate8to32
        | OpKind::Immediate8to64
        | OpKind::Immediate32to64 => OPK_IMM,
        _ => OPK_OTHER,
    }
}

impl Deref for Insn {
    type Target = Instruction;
    #[inline(always)]
    fn deref(&self) -> &Instruction {
        &self.i
    }
}

impl Insn {
    /// Prepares a decoded instruction for execution.
    pub fn new(i: Instruction, bitness: u32) -> Insn {
        let mut base = NO_REG;
        let mut index = NO_REG;
        let mut addr_mask = u64::MAX;
        let size_mask = |r: Register| match r.size() {
            2 => 0xFFFF,
            4 => 0xFFFF_FFFF,
            _ => u64::MAX,
        };
        let b = i.memory_base();
        if b != Register::None && b != Register::RIP && b != Register::EIP {
            base = super::regs::gpr_index(b) as u8;
            addr_mask = size_mask(b);
        }
        if b == Register::EIP {
            addr_mask = 0xFFFF_FFFF;
        }
        let x = i.memory_index();
        if x != Register::None && x.is_gpr() {
            index = super::regs::gpr_index(x) as u8;
            addr_mask = size_mask(x);
        }
        if bitness != 64 && addr_mask == u64::MAX {
            addr_mask = 0xFFFF_FFFF;
        }
        let seg = SegReg::from_iced(i.memory_segment()).unwrap_or(SegReg::Ds);
        let next_ip = match bitness {
            64 => i.next_ip(),
            _ if i.code_size() == iced_x86::CodeSize::Code16 => i.next_ip() & 0xFFFF,
            _ => i.next_ip() & 0xFFFF_FFFF,
        };
        let mut kind = [OPK_OTHER; 2];
        let mut reg = [0u8; 2];
        let mut imm = 0;
        for n in 0..i.op_count().min(2) {
            kind[n as usize] = operand_kind(&i, n);
            match kind[n as usize] {
                OPK_REG => reg[n as usize] = super::regs::reg_code(i.op_register(n)),
                OPK_IMM => imm = i.immediate(n),
                _ => {}
            }
            if matches!(
                i.op_kind(n),
                OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
            ) {
                imm = i.near_branch_target();
            }
        }
        Insn {
            kind,
            reg,
            imm,
            handler: exec::resolve(&i),
            next_ip,
            disp: i.memory_displacement64(),
            addr_mask,
            base,
            index,
            scale: i.memory_index_scale().trailing_zeros() as u8,
            seg,
            i,
        }
    }
}

/// A run of decoded instructions.
pub struct Block {
    pub insns: Box<[Insn]>,
    key: Key,
    /// Bytes the instructions occupy from `key.phys` (within one page).
    len: u64,
    /// Whether the block lives in the cache. Uncached blocks (a page-
    /// straddling instruction, code in MMIO) are dropped after one run, so
    /// nothing may link to them.
    cached: bool,
    /// The blocks that followed this one last time, by RIP: a chained exit
    /// skips the fetch translation and the cache lookup. A link is trusted
    /// only while `BlockCache::generation` still equals `link_gen`.
    links: [Cell<(u64, *const Block)>; 2],
    link_gen: Cell<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Key {
    phys: u64,
    rip: u64,
    bitness: u32,
}

/// The cache of decoded blocks.
///
/// Blocks are boxed so their addresses are stable; the run loop holds raw
/// pointers to them. A block dropped from the cache while it may still be
/// running (self-modifying code) waits in `graveyard` until the run loop is
/// between blocks.
pub struct BlockCache {
    map: HashMap<Key, Box<Block>>,
    /// Per physical page, the blocks starting there with their byte
    /// lengths: a write into a code page is checked against these without
    /// a map lookup per block (pages recycled from code to data take many
    /// such writes).
    by_page: HashMap<u64, Vec<(Key, u64)>>,
    fast: Box<[*const Block]>,
    // Boxed on purpose: running code holds pointers into these blocks, so
    // they must not move when the vector grows.
    #[allow(clippy::vec_box)]
    graveyard: Vec<Box<Block>>,
    /// Bumped whenever a block is dropped or translations may have changed;
    /// block links from an older generation are ignored.
    generation: u64,
    /// Counters for statistics.
    pub decoded_blocks: u64,
    pub invalidations: u64,
}

// SAFETY: the raw pointers in `fast` and in block links point at blocks
// owned by this same cache (in `map` or `graveyard`), which moves between
// threads together with them.
unsafe impl Send for BlockCache {}

impl Default for BlockCache {
    fn default() -> Self {
        BlockCache {
            map: HashMap::new(),
            by_page: HashMap::new(),
            fast: vec![std::ptr::null(); FAST_SLOTS].into_boxed_slice(),
            graveyard: Vec::new(),
            generation: 0,
            decoded_blocks: 0,
            invalidations: 0,
        }
    }
}

#[inline(always)]
fn slot(phys: u64) -> usize {
    ((phys ^ (phys >> 12)) as usize) & (FAST_SLOTS - 1)
}

impl BlockCache {
    /// Drops every block.
    pub fn clear(&mut self) {
        self.graveyard.extend(self.map.drain().map(|(_, b)| b));
        self.by_page.clear();
        self.fast.fill(std::ptr::null());
        self.generation += 1;
    }

    /// Forgets every block link (translations may have changed).
    pub fn unlink_all(&mut self) {
        self.generation += 1;
    }

    #[inline(always)]
    fn lookup(&mut self, key: Key) -> Option<*const Block> {
        let s = slot(key.phys);
        let p = self.fast[s];
        // SAFETY: non-null fast entries point at live blocks in `map`
        // (entries are cleared when their block leaves the map).
        if !p.is_null() && unsafe { (*p).key } == key {
            return Some(p);
        }
        let b: *const Block = &**self.map.get(&key)?;
        self.fast[s] = b;
        Some(b)
    }

    fn insert(&mut self, block: Box<Block>) -> *const Block {
        let key = block.key;
        self.by_page
            .entry(key.phys & !(PAGE_SIZE - 1))
            .or_default()
            .push((key, block.len));
        let p: *const Block = &*block;
        self.fast[slot(key.phys)] = p;
        if let Some(old) = self.map.insert(key, block) {
            self.graveyard.push(old);
            self.generation += 1;
        }
        self.decoded_blocks += 1;
        p
    }

    /// Drops every block that starts in the physical page `page`.
    pub fn invalidate_page(&mut self, page: u64) {
        self.invalidate_range(page, PAGE_SIZE);
    }

    /// Drops every block whose bytes overlap `phys .. phys + len` (one
    /// page at most). Writes to data that merely shares a page with code
    /// (a real-mode stack below the boot sector, variables next to code)
    /// keep the page's blocks. Returns (whether a block was dropped,
    /// whether the page now holds none).
    pub fn invalidate_range(&mut self, phys: u64, len: u64) -> (bool, bool) {
        let page = phys & !(PAGE_SIZE - 1);
        let end = phys + len;
        let Some(keys) = self.by_page.get_mut(&page) else {
            return (false, true);
        };
        let mut dropped = Vec::new();
        keys.retain(|&(k, len)| {
            let overlaps = k.phys < end && phys < k.phys + len;
            if overlaps {
                dropped.push(k);
            }
            !overlaps
        });
        let empty = keys.is_empty();
        if empty {
            self.by_page.remove(&page);
        }
        for k in &dropped {
            let s = slot(k.phys);
            // SAFETY: see `lookup`.
            if !self.fast[s].is_null() && unsafe { (*self.fast[s]).key } == *k {
                self.fast[s] = std::ptr::null();
            }
            if let Some(b) = self.map.remove(k) {
                self.graveyard.push(b);
            }
        }
        if !dropped.is_empty() {
            self.invalidations += 1;
            self.generation += 1;
        }
        (!dropped.is_empty(), empty)
    }
}

impl Cpu {
    /// Runs until `budget` more instructions have retired, the CPU halts,
    /// or it shuts down.
    pub fn run(&mut self, budget: u64) -> Stop {
        let end = self.instret.saturating_add(budget);
        // The block that just ran to its end, whose links may name the next.
        let mut prev: *const Block = std::ptr::null();
        while self.instret < end {
            if !self.blocks.graveyard.is_empty() {
                // No block is running here, and `prev` may be a dead one.
                self.blocks.graveyard.clear();
                prev = std::ptr::null();
            }
            if self.triple_fault {
                return Stop::TripleFault;
            }
            if let Some(c) = self.control.take() {
                return Stop::Control(c);
            }
            if self.interrupt_shadow || self.flags.test(rflags::TF | rflags::RF) {
                // One instruction at a time: after STI/MOV SS (interrupts
                // wait one instruction), under single-step, and while RF
                // is set (it clears once an instruction completes).
                prev = std::ptr::null();
                self.step_one();
                continue;
            }
            if self.nmi_pending || (self.flags.test(rflags::IF) && self.bus.interrupt_pending()) {
                prev = std::ptr::null();
                self.check_interrupts();
                continue;
            }
            if self.halted {
                return Stop::Halted;
            }
            let (block, chained) = match self.next_block(prev) {
                Ok(b) => b,
                Err(e) => {
                    prev = std::ptr::null();
                    self.raise(e);
                    continue;
                }
            };
            // SAFETY: `block` points at a block owned by the cache; blocks
            // dropped while running wait in the graveyard, which is only
            // emptied above, between blocks.
            let finished = self.exec_block(unsafe { &*block });
            if finished {
                // A block reached through `prev`'s links is linked already.
                if !prev.is_null() && !chained {
                    // SAFETY: as above; `prev` is reset whenever the
                    // graveyard is emptied.
                    self.link(unsafe { &*prev }, block);
                }
                prev = block;
            } else {
                prev = std::ptr::null();
            }
        }
        if self.triple_fault {
            Stop::TripleFault
        } else if let Some(c) = self.control.take() {
            Stop::Control(c)
        } else {
            Stop::Budget
        }
    }

    /// Changes whenever a block link may have gone stale: a block was
    /// dropped, or the TLB was flushed (translations may have changed).
    #[inline(always)]
    fn link_generation(&self) -> u64 {
        self.blocks.generation + self.tlb.generation()
    }

    /// Remembers that `next` followed `prev`.
    fn link(&self, prev: &Block, next: *const Block) {
        // SAFETY: `next` is live (see `run`).
        let next_block = unsafe { &*next };
        if !next_block.cached {
            return;
        }
        let rip = next_block.key.rip;
        let generation = self.link_generation();
        if prev.link_gen.get() != generation {
            prev.link_gen.set(generation);
            prev.links[0].set((u64::MAX, std::ptr::null()));
            prev.links[1].set((u64::MAX, std::ptr::null()));
        }
        // Both exits of a conditional branch stay linked; a third target
        // replaces the older link.
        if prev.links[0].get().0 != rip && prev.links[1].get().0 != rip {
            prev.links[1].set(prev.links[0].get());
            prev.links[0].set((rip, next));
        }
    }

    /// The block to run at CS:RIP: through `prev`'s links when they are
    /// current, else through translation and the cache. The flag says
    /// whether it came through a link.
    #[inline(always)]
    fn next_block(&mut self, prev: *const Block) -> Result<(*const Block, bool), Exception> {
        if !prev.is_null() {
            // SAFETY: see `run`.
            let p = unsafe { &*prev };
            if p.link_gen.get() == self.link_generation() {
                let rip = self.rip;
                for l in &p.links {
                    let (r, b) = l.get();
                    if r == rip {
                        return Ok((b, true));
                    }
                }
            }
        }
        Ok((self.fetch_block()?, false))
    }

    /// Runs a block until it ends or an instruction asks to stop. Returns
    /// true when the block ran to its end with nothing unusual.
    #[inline(always)]
    fn exec_block(&mut self, block: &Block) -> bool {
        self.exit_block = false;
        for insn in block.insns.iter() {
            self.rip = insn.next_ip;
            if let Err(e) = (insn.handler)(self, insn) {
                // Faults restart the instruction: RIP back to its start.
                self.rip = insn.ip();
                self.raise(e);
                return false;
            }
            // Counted per instruction so RDTSC inside a block is exact.
            self.instret += 1;
            if self.exit_block {
                return false;
            }
        }
        true
    }

    /// Runs exactly one instruction (interrupt shadow or single-step), then
    /// delivers the single-step trap if TF was set before it.
    fn step_one(&mut self) {
        let trap = self.flags.test(rflags::TF);
        let resume = self.flags.test(rflags::RF);
        self.interrupt_shadow = false;
        let block = match self.fetch_block() {
            Ok(b) => b,
            Err(e) => {
                self.raise(e);
                return;
            }
        };
        // SAFETY: see `run`.
        let insn = unsafe { &(*block).insns[0] };
        self.exit_block = false;
        self.rip = insn.next_ip;
        if let Err(e) = (insn.handler)(self, insn) {
            self.rip = insn.ip();
            self.raise(e);
            return;
        }
        self.instret += 1;
        if resume {
            // SDM 17.3.1.1: RF clears after any instruction completes
            // (an IRET that loaded RF=1 did not start with it set).
            self.flags.assign(rflags::RF, false);
        }
        if trap {
            // Single-step trap after the instruction (SDM 17.3.1.4).
            self.dr[6] |= 1 << 14;
            self.raise(Exception::Debug);
        }
    }

    /// Takes a pending NMI or external interrupt.
    fn check_interrupts(&mut self) {
        if self.nmi_pending && !self.nmi_blocked {
            self.nmi_pending = false;
            self.nmi_blocked = true;
            self.halted = false;
            self.deliver_external(2);
            return;
        }
        if self.flags.test(rflags::IF) && self.bus.interrupt_pending() {
            let vector = self.bus.acknowledge_interrupt();
            self.halted = false;
            self.deliver_external(vector);
        }
    }

    /// The block at CS:RIP, from the cache or freshly decoded.
    fn fetch_block(&mut self) -> Result<*const Block, Exception> {
        let bitness = self.mode.bitness();
        let rip = self.rip;
        let lin = if self.mode == Mode::Long64 {
            if !super::access::is_canonical(rip) {
                return Err(Exception::GeneralProtection(0));
            }
            rip
        } else {
            self.linear(SegReg::Cs, rip, 1, AccessKind::Execute)?
        };
        let phys = self.translate_fetch(lin)?;
        let key = Key { phys, rip, bitness };
        if let Some(b) = self.blocks.lookup(key) {
            return Ok(b);
        }
        self.decode_block(key, lin)
    }

    /// Decodes a new block starting at `key`.
    fn decode_block(&mut self, key: Key, lin: u64) -> Result<*const Block, Exception> {
        let in_page = (PAGE_SIZE - (key.phys & (PAGE_SIZE - 1))) as usize;
        let mut bytes = [0u8; PAGE_SIZE as usize + 16];
        match self.mem.page_tail(key.phys) {
            Some(tail) => bytes[..in_page].copy_from_slice(tail),
            None => {
                for (i, b) in bytes[..in_page].iter_mut().enumerate() {
                    *b = self.read_phys_sized(key.phys + i as u64, 1) as u8;
                }
            }
        }
        let mut decoder = Decoder::with_ip(
            key.bitness,
            &bytes[..in_page],
            key.rip,
            DecoderOptions::NONE,
        );
        let mut insns = Vec::new();
        while decoder.can_decode() && insns.len() < MAX_BLOCK {
            let i = decoder.decode();
            if decoder.last_error() == iced_x86::DecoderError::NoMoreBytes {
                break; // the instruction straddles the page end
            }
            let ends = i.flow_control() != FlowControl::Next;
            insns.push(Insn::new(i, key.bitness));
            if ends {
                break;
            }
        }
        let cacheable = !insns.is_empty();
        if insns.is_empty() {
            // The first instruction straddles the page end: fetch 15 bytes
            // through both translations and run it uncached.
            let n2 = 15usize.saturating_sub(in_page);
            let lin2 = lin.wrapping_add(in_page as u64);
            let lin2 = if key.bitness == 64 {
                lin2
            } else {
                lin2 & 0xFFFF_FFFF
            };
            let phys2 = self.translate_fetch(lin2)?;
            for i in 0..n2 {
                bytes[in_page + i] = self.read_phys_sized(phys2 + i as u64, 1) as u8;
            }
            let mut d = Decoder::with_ip(
                key.bitness,
                &bytes[..in_page + n2],
                key.rip,
                DecoderOptions::NONE,
            );
            insns.push(Insn::new(d.decode(), key.bitness));
        }
        let page = key.phys & !(PAGE_SIZE - 1);
        let region = self.mem.region(page);
        let block = Box::new(Block {
            len: insns.iter().map(|i| i.len() as u64).sum(),
            insns: insns.into_boxed_slice(),
            key,
            links: Default::default(),
            link_gen: Cell::new(u64::MAX),
            cached: cacheable && region != Region::Mmio,
        });
        if !cacheable || region == Region::Mmio {
            // Not cached: it is dropped once it has run.
            let p: *const Block = &*block;
            self.blocks.graveyard.push(block);
            return Ok(p);
        }
        if matches!(region, Region::Ram(_)) && !self.mem.is_code_page(page) {
            self.mem.mark_code_page(page);
            self.tlb.protect_phys_page(page);
        }
        Ok(self.blocks.insert(block))
    }
}

/// Whether an operand kind is a memory operand (explicit or string).
pub fn is_memory(k: OpKind) -> bool {
    matches!(
        k,
        OpKind::Memory
            | OpKind::MemorySegSI
            | OpKind::MemorySegESI
            | OpKind::MemorySegRSI
            | OpKind::MemorySegDI
            | OpKind::MemorySegEDI
            | OpKind::MemorySegRDI
            | OpKind::MemoryESDI
            | OpKind::MemoryESEDI
            | OpKind::MemoryESRDI
    )
}
