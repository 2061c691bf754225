//! Memory access: logical address -> linear (segmentation) -> physical
//! (paging, through the TLB) -> RAM, ROM or the bus.
//!
//! Segmentation checks follow SDM Vol. 3A, 5.3 (limit checks, expand-down
//! segments) and 5.4 (type checks); in 64-bit mode only FS and GS have a
//! base and every linear address must be canonical (3.3.7.1). A violation
//! is #GP(0), or #SS(0) for SS-relative accesses.
//!
//! The fast path is a TLB hit: tag compare, then a load through the host
//! pointer. Everything else (misses, page-crossing accesses, MMIO, ROM
//! writes, writes to pages holding decoded code) takes the slow path.

use super::state::{cr0, SegReg};
use super::{Cpu, Exception, Mode};
use crate::memory::{Region, PAGE_SIZE};
use crate::mmu::tlb::TlbEntry;
use crate::mmu::{walk, Access, AccessKind};

/// Loads `N` bytes (little-endian) from a host pointer.
///
/// # Safety
/// `p .. p + N` must be readable.
#[inline(always)]
unsafe fn load<const N: usize>(p: *const u8) -> u64 {
    // SAFETY: the caller guarantees N readable bytes at p; unaligned reads
    // are allowed by read_unaligned.
    unsafe {
        match N {
            1 => *p as u64,
            2 => u16::from_le(std::ptr::read_unaligned(p as *const u16)) as u64,
            4 => u32::from_le(std::ptr::read_unaligned(p as *const u32)) as u64,
            _ => u64::from_le(std::ptr::read_unaligned(p as *const u64)),
        }
    }
}

/// Stores `N` bytes (little-endian) through a host pointer.
///
/// # Safety
/// `p .. p + N` must be writable.
#[inline(always)]
unsafe fn store<const N: usize>(p: *mut u8, v: u64) {
    // SAFETY: the caller guarantees N writable bytes at p.
    unsafe {
        match N {
            1 => *p = v as u8,
            2 => std::ptr::write_unaligned(p as *mut u16, (v as u16).to_le()),
            4 => std::ptr::write_unaligned(p as *mut u32, (v as u32).to_le()),
            _ => std::ptr::write_unaligned(p as *mut u64, v.to_le()),
        }
    }
}

/// Whether a 64-bit linear address is canonical (bits 63:47 all equal).
#[inline(always)]
pub fn is_canonical(a: u64) -> bool {
    ((a as i64) << 16 >> 16) as u64 == a
}

impl Cpu {
    /// The fault a segment violation raises for segment `s`.
    #[inline]
    fn segment_fault(s: SegReg) -> Exception {
        if s == SegReg::Ss {
            Exception::StackFault(0)
        } else {
            Exception::GeneralProtection(0)
        }
    }

    /// Translates a logical address (segment, offset) to a linear address
    /// for an access of `len` bytes, applying segmentation checks.
    #[inline(always)]
    pub fn linear(&self, s: SegReg, off: u64, len: u64, kind: AccessKind) -> Result<u64, Exception> {
        if self.mode == Mode::Long64 {
            let base = if (s as u8) >= SegReg::Fs as u8 {
                self.seg[s as usize].base
            } else {
                0
            };
            let lin = base.wrapping_add(off);
            if !is_canonical(lin) {
                return Err(Self::segment_fault(s));
            }
            return Ok(lin);
        }
        self.linear_legacy(s, off, len, kind)
    }

    fn linear_legacy(&self, s: SegReg, off: u64, len: u64, kind: AccessKind) -> Result<u64, Exception> {
        let seg = &self.seg[s as usize];
        if self.mode.is_protected() {
            let ok = match kind {
                AccessKind::Read => seg.readable() && seg.present(),
                AccessKind::Write => seg.writable() && seg.present(),
                AccessKind::Execute => seg.is_code(),
            };
            if !ok {
                return Err(Self::segment_fault(s));
            }
        }
        let last = off.wrapping_add(len - 1);
        let limit = seg.limit as u64;
        let in_limit = if seg.expand_down() {
            let upper = if seg.big() { 0xFFFF_FFFF } else { 0xFFFF };
            off > limit && last <= upper && last >= off
        } else {
            last <= limit && last >= off
        };
        if !in_limit {
            return Err(Self::segment_fault(s));
        }
        Ok(seg.base.wrapping_add(off) & 0xFFFF_FFFF)
    }

    /// Whether ordinary accesses now are user accesses (CPL 3).
    #[inline(always)]
    pub fn user(&self) -> bool {
        self.cpl == 3
    }

    /// Reads `N` bytes at segment:offset.
    #[inline(always)]
    pub fn read<const N: usize>(&mut self, s: SegReg, off: u64) -> Result<u64, Exception> {
        let lin = self.linear(s, off, N as u64, AccessKind::Read)?;
        self.read_lin::<N>(lin, self.user())
    }

    /// Writes `N` bytes at segment:offset.
    #[inline(always)]
    pub fn write<const N: usize>(&mut self, s: SegReg, off: u64, v: u64) -> Result<(), Exception> {
        let lin = self.linear(s, off, N as u64, AccessKind::Write)?;
        self.write_lin::<N>(lin, v, self.user())
    }

    /// Reads 16 bytes at segment:offset (SSE operands).
    pub fn read_u128(&mut self, s: SegReg, off: u64) -> Result<u128, Exception> {
        let lin = self.linear(s, off, 16, AccessKind::Read)?;
        let user = self.user();
        // Check both halves before reading either, so a fault is exact.
        self.check_lin(lin.wrapping_add(8), AccessKind::Read, user)?;
        let lo = self.read_lin::<8>(lin, user)?;
        let hi = self.read_lin::<8>(lin.wrapping_add(8), user)?;
        Ok(lo as u128 | (hi as u128) << 64)
    }

    /// Writes 16 bytes at segment:offset (SSE operands).
    pub fn write_u128(&mut self, s: SegReg, off: u64, v: u128) -> Result<(), Exception> {
        let lin = self.linear(s, off, 16, AccessKind::Write)?;
        let user = self.user();
        self.check_lin(lin, AccessKind::Write, user)?;
        self.check_lin(lin.wrapping_add(15), AccessKind::Write, user)?;
        self.write_lin::<8>(lin, v as u64, user)?;
        self.write_lin::<8>(lin.wrapping_add(8), (v >> 64) as u64, user)
    }

    /// Reads `N` bytes at a linear address.
    #[inline(always)]
    pub fn read_lin<const N: usize>(&mut self, lin: u64, user: bool) -> Result<u64, Exception> {
        let page = lin >> 12;
        let e = self.tlb.entry(user, page);
        if e.read_tag == page && (lin & 0xFFF) as usize <= PAGE_SIZE as usize - N {
            // SAFETY: a matching read tag means `host` maps this whole page,
            // and the access ends inside it.
            return Ok(unsafe { load::<N>(e.host.add((lin & 0xFFF) as usize)) });
        }
        self.read_lin_slow::<N>(lin, user)
    }

    /// Writes `N` bytes at a linear address.
    #[inline(always)]
    pub fn write_lin<const N: usize>(&mut self, lin: u64, v: u64, user: bool) -> Result<(), Exception> {
        let page = lin >> 12;
        let e = self.tlb.entry(user, page);
        if e.write_tag == page && (lin & 0xFFF) as usize <= PAGE_SIZE as usize - N {
            // SAFETY: a matching write tag means `host` maps this whole RAM
            // page, writable, holding no decoded code; the access ends
            // inside it.
            unsafe { store::<N>(e.host.add((lin & 0xFFF) as usize), v) };
            return Ok(());
        }
        self.write_lin_slow::<N>(lin, v, user)
    }

    /// Supervisor-privilege read that ignores CPL (descriptor tables, TSS,
    /// IDT: the SDM's "implicit supervisor-mode accesses").
    pub fn read_sys<const N: usize>(&mut self, lin: u64) -> Result<u64, Exception> {
        self.read_lin::<N>(lin, false)
    }

    /// Supervisor-privilege write that ignores CPL.
    pub fn write_sys<const N: usize>(&mut self, lin: u64, v: u64) -> Result<(), Exception> {
        self.write_lin::<N>(lin, v, false)
    }

    /// Makes sure the byte at `lin` can be accessed, faulting if not.
    pub fn check_lin(&mut self, lin: u64, kind: AccessKind, user: bool) -> Result<(), Exception> {
        let page = lin >> 12;
        let e = self.tlb.entry(user, page);
        let tag = match kind {
            AccessKind::Read => e.read_tag,
            AccessKind::Write => e.write_tag,
            AccessKind::Execute => e.exec_tag,
        };
        if tag == page {
            return Ok(());
        }
        self.translate(lin, Access { kind, user }).map(|_| ())
    }

    #[cold]
    fn read_lin_slow<const N: usize>(&mut self, lin: u64, user: bool) -> Result<u64, Exception> {
        let access = Access {
            kind: AccessKind::Read,
            user,
        };
        let first = (PAGE_SIZE - (lin & 0xFFF)).min(N as u64);
        let p0 = self.translate(lin, access)?;
        if first == N as u64 {
            return Ok(self.read_phys_sized(p0, N as u8));
        }
        let p1 = self.translate(lin.wrapping_add(first), access)?;
        let mut v = 0u64;
        for i in 0..N as u64 {
            let p = if i < first { p0 + i } else { p1 + (i - first) };
            v |= self.read_phys_sized(p, 1) << (8 * i);
        }
        Ok(v)
    }

    #[cold]
    fn write_lin_slow<const N: usize>(&mut self, lin: u64, v: u64, user: bool) -> Result<(), Exception> {
        let access = Access {
            kind: AccessKind::Write,
            user,
        };
        let first = (PAGE_SIZE - (lin & 0xFFF)).min(N as u64);
        let p0 = self.translate(lin, access)?;
        if first == N as u64 {
            self.write_phys_sized(p0, N as u8, v);
            return Ok(());
        }
        // Both pages are checked before either is written.
        let p1 = self.translate(lin.wrapping_add(first), access)?;
        for i in 0..N as u64 {
            let p = if i < first { p0 + i } else { p1 + (i - first) };
            self.write_phys_sized(p, 1, v >> (8 * i));
        }
        Ok(())
    }

    /// Reads `size` bytes of physical memory (within one page).
    pub fn read_phys_sized(&mut self, phys: u64, size: u8) -> u64 {
        match self.mem.region(phys) {
            Region::Mmio => self.bus.mmio_read(phys, size),
            _ => {
                let mut v = 0;
                for i in 0..size as u64 {
                    v |= (self.mem.read_u8(phys + i).unwrap_or(0xFF) as u64) << (8 * i);
                }
                v
            }
        }
    }

    /// Writes `size` bytes of physical memory (within one page), telling
    /// the block cache when decoded code changes.
    pub fn write_phys_sized(&mut self, phys: u64, size: u8, v: u64) {
        match self.mem.region(phys) {
            Region::Mmio => self.bus.mmio_write(phys, size, v),
            Region::Rom(_) => {}
            Region::Ram(_) => {
                if self.mem.is_code_page(phys) {
                    self.invalidate_code_page(phys);
                }
                for i in 0..size as u64 {
                    self.mem.write_u8(phys + i, (v >> (8 * i)) as u8);
                }
            }
        }
    }

    /// Writes bytes to physical memory from outside the CPU (loaders, DMA),
    /// invalidating decoded code they overwrite.
    pub fn write_phys(&mut self, phys: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.write_phys_sized(phys + i as u64, 1, *b as u64);
        }
    }

    /// Drops the decoded blocks of a physical page and stops the current
    /// block, which may be one of them.
    pub fn invalidate_code_page(&mut self, phys: u64) {
        let page = phys & !(PAGE_SIZE - 1);
        self.blocks.invalidate_page(page);
        self.mem.clear_code_page(page);
        self.exit_block = true;
    }

    /// Walks the page tables for `lin`, fills the TLB, and returns the
    /// physical address (A20 applied).
    pub fn translate(&mut self, lin: u64, access: Access) -> Result<u64, Exception> {
        self.tlb.stats.misses += 1;
        let regs = self.paging_regs();
        if regs.paging() {
            self.tlb.stats.walks += 1;
        }
        let t = walk(&mut self.mem, &regs, lin, access)
            .map_err(|code| Exception::PageFault { addr: lin, code })?;
        let phys = self.mem.a20(t.phys);
        let phys_page = phys & !(PAGE_SIZE - 1);
        let region = self.mem.region(phys_page);
        let host = self.mem.host_page(region);
        let page = lin >> 12;
        let user = access.user;
        let readable = !user || t.user;
        let writable = readable
            && (t.writable || (!user && self.cr0 & cr0::WP == 0))
            && t.dirty
            && matches!(region, Region::Ram(_))
            && !self.mem.is_code_page(phys_page);
        let executable = readable && !t.no_exec;
        const INVALID: u64 = u64::MAX;
        let fast = host.is_some();
        self.tlb.insert(
            user,
            page,
            TlbEntry {
                read_tag: if readable && fast { page } else { INVALID },
                write_tag: if writable { page } else { INVALID },
                exec_tag: if executable && fast { page } else { INVALID },
                host: host.unwrap_or(std::ptr::null_mut()),
                phys_page,
                page_size: t.page_size,
                global: t.global,
            },
        );
        Ok(phys)
    }

    /// Translates an instruction fetch at linear `lin`: the physical
    /// address, through the TLB's execute tag when it hits.
    #[inline(always)]
    pub fn translate_fetch(&mut self, lin: u64) -> Result<u64, Exception> {
        let user = self.user();
        let page = lin >> 12;
        let e = self.tlb.entry(user, page);
        if e.exec_tag == page {
            return Ok(e.phys_page | (lin & 0xFFF));
        }
        self.translate(
            lin,
            Access {
                kind: AccessKind::Execute,
                user,
            },
        )
    }
}
