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
//! every block of the page: self-modifying code, and code written through
//! another virtual alias, both see the new bytes.
//!
//! An instruction that straddles a page boundary is decoded afresh each
//! time it runs, from bytes fetched through both translations, and never
//! cached: the second page's mapping may change under it.

use super::exec;
use super::state::{rflags, SegReg};
use super::{Cpu, Exception, Mode, Stop};
use crate::memory::PAGE_SIZE;
use crate::mmu::AccessKind;
use iced_x86::{Decoder, DecoderOptions, FlowControl, Instruction, OpKind, Register};
use std::collections::HashMap;
use std::ops::Deref;
use std::rc::Rc;

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
        Insn {
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
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Key {
    phys: u64,
    rip: u64,
    bitness: u32,
}

/// The cache of decoded blocks.
pub struct BlockCache {
    map: HashMap<Key, Rc<Block>>,
    by_page: HashMap<u64, Vec<Key>>,
    fast: Box<[Option<Rc<Block>>]>,
    /// Counters for statistics.
    pub decoded_blocks: u64,
    pub invalidations: u64,
}

impl Default for BlockCache {
    fn default() -> Self {
        BlockCache {
            map: HashMap::new(),
            by_page: HashMap::new(),
            fast: vec![None; FAST_SLOTS].into_boxed_slice(),
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
        self.map.clear();
        self.by_page.clear();
        self.fast.fill(None);
    }

    #[inline(always)]
    fn lookup(&mut self, key: Key) -> Option<Rc<Block>> {
        if let Some(b) = &self.fast[slot(key.phys)] {
            if b.key == key {
                return Some(b.clone());
            }
        }
        let b = self.map.get(&key)?.clone();
        self.fast[slot(key.phys)] = Some(b.clone());
        Some(b)
    }

    fn insert(&mut self, block: Rc<Block>) {
        let key = block.key;
        self.by_page
            .entry(key.phys & !(PAGE_SIZE - 1))
            .or_default()
            .push(key);
        self.fast[slot(key.phys)] = Some(block.clone());
        self.map.insert(key, block);
        self.decoded_blocks += 1;
    }

    /// Drops every block that starts in the physical page `page`.
    pub fn invalidate_page(&mut self, page: u64) {
        if let Some(keys) = self.by_page.remove(&page) {
            self.invalidations += 1;
            for k in keys {
                self.map.remove(&k);
                let s = slot(k.phys);
                if self.fast[s].as_ref().is_some_and(|b| b.key == k) {
                    self.fast[s] = None;
                }
            }
        }
    }
}

impl Cpu {
    /// Runs until `budget` more instructions have retired, the CPU halts,
    /// or it shuts down.
    pub fn run(&mut self, budget: u64) -> Stop {
        let end = self.instret.saturating_add(budget);
        while self.instret < end {
            if self.triple_fault {
                return Stop::TripleFault;
            }
            if self.interrupt_shadow {
                // One instruction runs before interrupts are looked at.
                self.interrupt_shadow = false;
                self.step_block(true);
                continue;
            }
            self.check_interrupts();
            if self.triple_fault {
                return Stop::TripleFault;
            }
            if self.halted {
                return Stop::Halted;
            }
            let single = self.flags.test(rflags::TF);
            self.step_block(single);
        }
        if self.triple_fault {
            Stop::TripleFault
        } else {
            Stop::Budget
        }
    }

    /// Takes a pending NMI or external interrupt, if one may be taken now.
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

    /// Fetches (or decodes) the block at CS:RIP and runs it.
    fn step_block(&mut self, single: bool) {
        let block = match self.fetch_block() {
            Ok(b) => b,
            Err(e) => {
                self.raise(e);
                return;
            }
        };
        let trap = self.flags.test(rflags::TF);
        self.exit_block = false;
        let mut done = 0u64;
        for insn in block.insns.iter() {
            let rip = self.rip;
            self.rip = insn.next_ip;
            if let Err(e) = (insn.handler)(self, insn) {
                self.rip = rip;
                self.instret += done;
                self.raise(e);
                return;
            }
            done += 1;
            if self.exit_block || single {
                break;
            }
        }
        self.instret += done;
        if trap && single {
            // Single-step trap after the instruction (SDM 17.3.1.4).
            self.dr[6] |= 1 << 14;
            self.raise(Exception::Debug);
        }
    }

    /// The block at CS:RIP, from the cache or freshly decoded.
    fn fetch_block(&mut self) -> Result<Rc<Block>, Exception> {
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
    fn decode_block(&mut self, key: Key, lin: u64) -> Result<Rc<Block>, Exception> {
        let in_page = (PAGE_SIZE - (key.phys & (PAGE_SIZE - 1))) as usize;
        let mut bytes = [0u8; PAGE_SIZE as usize + 16];
        for (i, b) in bytes[..in_page].iter_mut().enumerate() {
            *b = self.read_phys_sized(key.phys + i as u64, 1) as u8;
        }
        let mut decoder = Decoder::with_ip(key.bitness, &bytes[..in_page], key.rip, DecoderOptions::NONE);
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
        if insns.is_empty() {
            // The first instruction straddles the page end: fetch 15 bytes
            // through both translations and run it uncached.
            let n2 = 15usize.saturating_sub(in_page);
            let lin2 = lin.wrapping_add(in_page as u64);
            let lin2 = if key.bitness == 64 { lin2 } else { lin2 & 0xFFFF_FFFF };
            let phys2 = self.translate_fetch(lin2)?;
            for i in 0..n2 {
                bytes[in_page + i] = self.read_phys_sized(phys2 + i as u64, 1) as u8;
            }
            let mut d = Decoder::with_ip(key.bitness, &bytes[..in_page + n2], key.rip, DecoderOptions::NONE);
            let i = d.decode();
            let insn = Insn::new(i, key.bitness);
            return Ok(Rc::new(Block {
                insns: vec![insn].into_boxed_slice(),
                key,
            }));
        }
        let block = Rc::new(Block {
            insns: insns.into_boxed_slice(),
            key,
        });
        let page = key.phys & !(PAGE_SIZE - 1);
        if matches!(self.mem.region(page), crate::memory::Region::Ram(_)) {
            if !self.mem.is_code_page(page) {
                self.mem.mark_code_page(page);
                self.tlb.protect_phys_page(page);
            }
            self.blocks.insert(block.clone());
        } else if matches!(self.mem.region(page), crate::memory::Region::Rom(_)) {
            self.blocks.insert(block.clone());
        }
        Ok(block)
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
