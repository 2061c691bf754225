//! Memory access: logical address -> linear (segmentation) -> physical
//! (paging, through the TLB) -> RAM, ROM or the bus.
//!
//! Segmentation checks follow SDM Vol. 3A, 5.3 (limit checks, expand-down
//! segments) and 5.4 (type checks); in 64-bit mode only FS and GS have a
//! base and every linear address must be canonical (3.3.7.1). A violation
//! is #GP(0), or #SS(0) for SS-relative accesses.
//!
//! The fast path is a TLB hit: index, tag compare, then a load or store
//! through the host pointer. Everything else takes the slow path: TLB
//! misses (a page walk, `mmu::walk`), accesses that cross a page boundary
//! (both translations, checked before either byte moves; a fault on the
//! second page reports the second page's address), MMIO, ROM writes
//! (dropped: ROM stays read-only), and writes to pages holding decoded code
//! (they drop the blocks whose bytes they overlap, whichever virtual alias
//! they come through).
//! The slow path still uses a cached translation when the TLB has one.
//!
//! Also here, the CPU-side controls of the MMU: `load_pdptes` (PAE PDPTE
//! registers, #GP(0) on reserved bits), `paging_control_changed` (the TLB
//! flushes CR0/CR4/EFER writes require) and `set_a20`.

use super::state::{cr0, cr4, efer, rflags, SegReg};
use super::{Cpu, Exception, Mode};
use crate::memory::{Region, PAGE_SIZE};
use crate::mmu::tlb::{allow, TlbEntry};
use crate::mmu::walk::{self, walk, Effects, PagingMode, PagingRegs};
use crate::mmu::{Access, AccessKind, FlushCause};

/// The `allow::` bit an access kind needs.
#[inline(always)]
fn allow_bit(kind: AccessKind) -> u8 {
    match kind {
        AccessKind::Read => allow::READ,
        AccessKind::Write => allow::WRITE,
        AccessKind::Execute => allow::EXEC,
    }
}

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
    pub fn linear(
        &self,
        s: SegReg,
        off: u64,
        len: u64,
        kind: AccessKind,
    ) -> Result<u64, Exception> {
        if self.mode == Mode::Long64 {
            let base = if (s as u8) >= SegReg::Fs as u8 {
                self.seg[s as usize].base
            } else {
                0
            };
            let lin = base.wrapping_add(off);
            // Every byte must be canonical: an access may not run across
            // the hole (3.3.7.1).
            if !is_canonical(lin) || !is_canonical(lin.wrapping_add(len - 1)) {
                return Err(Self::segment_fault(s));
            }
            self.check_alignment(lin, len, kind)?;
            return Ok(lin);
        }
        let lin = self.linear_legacy(s, off, len, kind)?;
        self.check_alignment(lin, len, kind)?;
        Ok(lin)
    }

    /// Alignment checking (SDM Vol. 3A, 6.15, #AC): at CPL 3 with CR0.AM
    /// and RFLAGS.AC set, a 2-, 4- or 8-byte data access must be aligned to
    /// its size. Instruction fetches and 16-byte SSE accesses (which have
    /// their own #GP alignment rule) are not checked.
    #[inline(always)]
    fn check_alignment(&self, lin: u64, len: u64, kind: AccessKind) -> Result<(), Exception> {
        if self.cpl == 3
            && (2..=8).contains(&len)
            && lin & (len - 1) != 0
            && kind != AccessKind::Execute
            && self.cr0 & cr0::AM != 0
            && self.flags.test(rflags::AC)
        {
            return Err(Exception::AlignmentCheck);
        }
        Ok(())
    }

    fn linear_legacy(
        &self,
        s: SegReg,
        off: u64,
        len: u64,
        kind: AccessKind,
    ) -> Result<u64, Exception> {
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

    /// The linear address of segment:offset in 64-bit mode when the access
    /// may try the TLB before any check: segmentation there is only a base
    /// (FS, GS) and the canonical check, and a TLB tag hit already proves
    /// the access canonical (tags exist only for canonical pages, and the
    /// compare covers the last byte's page). The alignment check (#AC) is
    /// the one check a hit does not cover, so a misaligned user access
    /// takes the full path. `None`: take the full path (`linear`).
    #[inline(always)]
    fn linear_fast<const N: usize>(&self, s: SegReg, off: u64) -> Option<u64> {
        if self.mode != Mode::Long64 || N > 1 && self.user() && off & (N as u64 - 1) != 0 {
            return None;
        }
        let base = if (s as u8) >= SegReg::Fs as u8 {
            self.seg[s as usize].base
        } else {
            0
        };
        Some(base.wrapping_add(off))
    }

    /// Reads `N` bytes at segment:offset.
    #[inline(always)]
    pub fn read<const N: usize>(&mut self, s: SegReg, off: u64) -> Result<u64, Exception> {
        let user = self.user();
        if let Some(lin) = self.linear_fast::<N>(s, off) {
            let e = self.tlb.entry(user, lin >> 12);
            if e.read_tag == lin.wrapping_add(N as u64 - 1) >> 12 {
                // SAFETY: as in `read_lin`.
                let v = unsafe { load::<N>(e.host.add((lin & 0xFFF) as usize)) };
                self.tlb.count_fast_hit();
                return Ok(v);
            }
        }
        let lin = self.linear(s, off, N as u64, AccessKind::Read)?;
        self.read_lin::<N>(lin, user)
    }

    /// Writes `N` bytes at segment:offset.
    #[inline(always)]
    pub fn write<const N: usize>(&mut self, s: SegReg, off: u64, v: u64) -> Result<(), Exception> {
        let user = self.user();
        if let Some(lin) = self.linear_fast::<N>(s, off) {
            let e = self.tlb.entry(user, lin >> 12);
            if e.write_tag == lin.wrapping_add(N as u64 - 1) >> 12 {
                // SAFETY: as in `write_lin`.
                unsafe { store::<N>(e.host.add((lin & 0xFFF) as usize), v) };
                self.tlb.count_fast_hit();
                return Ok(());
            }
        }
        let lin = self.linear(s, off, N as u64, AccessKind::Write)?;
        self.write_lin::<N>(lin, v, user)
    }

    /// Reads 16 bytes at segment:offset (SSE operands).
    pub fn read_u128(&mut self, s: SegReg, off: u64) -> Result<u128, Exception> {
        let lin = self.linear(s, off, 16, AccessKind::Read)?;
        let user = self.user();
        self.check_span(lin, 16, AccessKind::Read, user)?;
        let lo = self.read_lin::<8>(lin, user)?;
        let hi = self.read_lin::<8>(self.wrap_linear(lin.wrapping_add(8)), user)?;
        Ok(lo as u128 | (hi as u128) << 64)
    }

    /// Writes 16 bytes at segment:offset (SSE operands).
    pub fn write_u128(&mut self, s: SegReg, off: u64, v: u128) -> Result<(), Exception> {
        let lin = self.linear(s, off, 16, AccessKind::Write)?;
        let user = self.user();
        self.check_span(lin, 16, AccessKind::Write, user)?;
        self.write_lin::<8>(lin, v as u64, user)?;
        self.write_lin::<8>(
            self.wrap_linear(lin.wrapping_add(8)),
            (v >> 64) as u64,
            user,
        )
    }

    /// Reads `N` bytes at a linear address.
    #[inline(always)]
    pub fn read_lin<const N: usize>(&mut self, lin: u64, user: bool) -> Result<u64, Exception> {
        // Indexed by the first byte's page, compared with the last byte's:
        // an access that crosses into the next page never matches (the
        // entry at this index cannot hold the next page), so one compare
        // checks both the translation and the page bound.
        let e = self.tlb.entry(user, lin >> 12);
        if e.read_tag == lin.wrapping_add(N as u64 - 1) >> 12 {
            // SAFETY: a matching read tag means `host` maps this whole page,
            // and the access ends inside it (see above).
            let v = unsafe { load::<N>(e.host.add((lin & 0xFFF) as usize)) };
            self.tlb.count_fast_hit();
            return Ok(v);
        }
        self.read_lin_slow::<N>(lin, user)
    }

    /// Writes `N` bytes at a linear address.
    #[inline(always)]
    pub fn write_lin<const N: usize>(
        &mut self,
        lin: u64,
        v: u64,
        user: bool,
    ) -> Result<(), Exception> {
        // One compare checks translation and page bound, as in `read_lin`.
        let e = self.tlb.entry(user, lin >> 12);
        if e.write_tag == lin.wrapping_add(N as u64 - 1) >> 12 {
            // SAFETY: a matching write tag means `host` maps this whole RAM
            // page, writable, holding no decoded code; the access ends
            // inside it.
            unsafe { store::<N>(e.host.add((lin & 0xFFF) as usize), v) };
            self.tlb.count_fast_hit();
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
        self.translate(lin, Access { kind, user }).map(|_| ())
    }

    /// Makes sure all `len` bytes from `lin` can be accessed, before any of
    /// them is: for instructions that write several pieces (SSE stores,
    /// `fxsave`, far pointers, multi-push frames) so a fault leaves nothing
    /// behind. Pages are checked lowest first with no side effects; only
    /// when all pass are their accessed (and dirty) flags set.
    pub fn check_span(
        &mut self,
        lin: u64,
        len: u64,
        kind: AccessKind,
        user: bool,
    ) -> Result<(), Exception> {
        let access = Access { kind, user };
        let last = self.wrap_linear(lin.wrapping_add(len.max(1) - 1));
        if last >> 12 == lin >> 12 {
            return self.translate(lin, access).map(|_| ());
        }
        let pages = ((last.wrapping_sub(lin & !0xFFF)) >> 12) + 1;
        let page_at = |cpu: &Cpu, i: u64| {
            if i == 0 {
                lin
            } else {
                cpu.wrap_linear((lin & !0xFFF).wrapping_add(i << 12))
            }
        };
        for i in 0..pages {
            self.probe(page_at(self, i), access)?;
        }
        for i in 0..pages {
            self.translate(page_at(self, i), access)?;
        }
        Ok(())
    }

    /// Linear addresses are 64 bits wide under 4-level paging (IA-32e mode)
    /// and 32 bits otherwise: an access that runs past 4 GiB wraps to 0.
    #[inline]
    fn wrap_linear(&self, lin: u64) -> u64 {
        if self.efer & efer::LMA != 0 {
            lin
        } else {
            lin & 0xFFFF_FFFF
        }
    }

    #[cold]
    fn read_lin_slow<const N: usize>(&mut self, lin: u64, user: bool) -> Result<u64, Exception> {
        let access = Access {
            kind: AccessKind::Read,
            user,
        };
        let first = (PAGE_SIZE - (lin & 0xFFF)).min(N as u64);
        if first == N as u64 {
            let p0 = self.translate(lin, access)?;
            return Ok(self.read_phys_sized(p0, N as u8));
        }
        let (p0, p1) = self.translate_split(lin, first, access)?;
        let mut v = 0u64;
        for i in 0..N as u64 {
            let p = if i < first { p0 + i } else { p1 + (i - first) };
            v |= self.read_phys_sized(p, 1) << (8 * i);
        }
        Ok(v)
    }

    #[cold]
    fn write_lin_slow<const N: usize>(
        &mut self,
        lin: u64,
        v: u64,
        user: bool,
    ) -> Result<(), Exception> {
        let access = Access {
            kind: AccessKind::Write,
            user,
        };
        let first = (PAGE_SIZE - (lin & 0xFFF)).min(N as u64);
        if first == N as u64 {
            let p0 = self.translate(lin, access)?;
            self.write_phys_sized(p0, N as u8, v);
            if !self.mem.is_code_page(p0) {
                // The page may have just lost its last block.
                self.tlb.rearm_write(user, lin >> 12);
            }
            return Ok(());
        }
        let (p0, p1) = self.translate_split(lin, first, access)?;
        for i in 0..N as u64 {
            let p = if i < first { p0 + i } else { p1 + (i - first) };
            self.write_phys_sized(p, 1, v >> (8 * i));
        }
        Ok(())
    }

    /// Translates both halves of an access that crosses a page boundary
    /// `first` bytes after `lin`. The first page is checked first but its
    /// flags are set only once the second page is known to translate too,
    /// so a fault on either page leaves no trace; a fault on the second page
    /// reports the second page's address.
    fn translate_split(
        &mut self,
        lin: u64,
        first: u64,
        access: Access,
    ) -> Result<(u64, u64), Exception> {
        self.probe(lin, access)?;
        let p1 = self.translate(self.wrap_linear(lin.wrapping_add(first)), access)?;
        let p0 = self.translate(lin, access)?;
        Ok((p0, p1))
    }

    /// Reads `size` bytes of physical memory (within one page).
    pub fn read_phys_sized(&mut self, phys: u64, size: u8) -> u64 {
        match self.mem.region(phys) {
            Region::Mmio => {
                self.bus.sync(self.instret);
                self.bus.mmio_read(phys, size)
            }
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
            Region::Mmio => {
                self.bus.sync(self.instret);
                self.bus.mmio_write(phys, size, v)
            }
            Region::Rom(_) => {}
            Region::Ram(_) => {
                if self.mem.is_code_page(phys) {
                    self.invalidate_code(phys, size as u64);
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
        self.invalidate_code(phys & !(PAGE_SIZE - 1), PAGE_SIZE);
    }

    /// Drops the decoded blocks overlapping `phys .. phys + len` (within
    /// one page); when one goes the current block stops after this
    /// instruction, since it may be one of them. A page left without blocks
    /// loses its code mark.
    pub fn invalidate_code(&mut self, phys: u64, len: u64) {
        let (dropped, empty) = self.blocks.invalidate_range(phys, len);
        if dropped {
            self.exit_block = true;
        }
        if empty {
            self.mem.clear_code_page(phys);
        }
    }

    /// Translates `lin` for `access`: from the TLB when it holds a
    /// translation allowing the access, else by a page walk that fills it.
    /// Returns the physical address (A20 applied).
    pub fn translate(&mut self, lin: u64, access: Access) -> Result<u64, Exception> {
        let page = lin >> 12;
        let e = self.tlb.entry(access.user, page);
        if e.permits(page, allow_bit(access.kind)) {
            let phys = e.phys_page | (lin & 0xFFF);
            self.tlb.stats.slow_hits += 1;
            return Ok(phys);
        }
        self.tlb.stats.misses += 1;
        self.walk_and_fill(lin, access, Effects::Commit)
    }

    /// Checks that `access` to `lin` would succeed, without setting any
    /// accessed or dirty flag and without filling the TLB.
    pub fn probe(&mut self, lin: u64, access: Access) -> Result<(), Exception> {
        let page = lin >> 12;
        if self
            .tlb
            .entry(access.user, page)
            .permits(page, allow_bit(access.kind))
        {
            return Ok(());
        }
        self.walk_and_fill(lin, access, Effects::Probe).map(|_| ())
    }

    /// Walks the page tables; on success with `Effects::Commit` caches the
    /// translation, on a fault drops the page's entries (SDM 4.10.4.1).
    fn walk_and_fill(
        &mut self,
        lin: u64,
        access: Access,
        effects: Effects,
    ) -> Result<u64, Exception> {
        let regs = self.paging_regs();
        if regs.paging() {
            self.tlb.stats.walks += 1;
        }
        let t = match walk(&mut self.mem, &regs, lin, access, effects) {
            Ok(t) => t,
            Err(code) => {
                self.tlb.stats.faults += 1;
                self.tlb.drop_page(lin);
                return Err(Exception::PageFault { addr: lin, code });
            }
        };
        // Accessed/dirty updates that land in a code page change its bytes.
        for &entry in t.updated_entries() {
            if self.mem.is_code_page(entry) {
                self.invalidate_code(entry, 8);
            }
        }
        let phys = self.mem.a20(t.phys);
        if effects == Effects::Probe {
            return Ok(phys);
        }
        let phys_page = phys & !(PAGE_SIZE - 1);
        let region = self.mem.region(phys_page);
        let host = self.mem.host_page(region);
        let user = access.user;
        let readable = !user || t.user;
        let writable = readable && (t.writable || (!user && self.cr0 & cr0::WP == 0)) && t.dirty;
        let executable = readable && !t.no_exec;
        let fast_write =
            writable && matches!(region, Region::Ram(_)) && !self.mem.is_code_page(phys_page);
        let page = lin >> 12;
        let tag = |ok: bool| if ok { page } else { TlbEntry::NO_TAG };
        // Fast tags only for canonical pages: `read`/`write` skip the
        // canonical check on a tag hit, which is sound only if no tag can
        // name a non-canonical page (walks of supervisor-only addresses,
        // `read_sys`, do not check canonicality themselves).
        let fast = host.is_some() && is_canonical(lin);
        self.tlb.insert(
            user,
            TlbEntry {
                read_tag: tag(readable && fast),
                write_tag: tag(fast_write),
                exec_tag: tag(executable && fast),
                host: host.unwrap_or(std::ptr::null_mut()),
                page,
                phys_page,
                page_size: t.page_size,
                allows: (readable as u8 * allow::READ)
                    | (writable as u8 * allow::WRITE)
                    | (executable as u8 * allow::EXEC),
                global: t.global,
                ram: matches!(region, Region::Ram(_)),
            },
        );
        Ok(phys)
    }

    /// Loads the PAE PDPTE registers from the table CR3 names (SDM 4.4.1).
    /// The MOV to CR0, CR3 or CR4 that makes or keeps PAE paging active
    /// calls this after updating the register, and undoes the update on
    /// Err: a present PDPTE with a reserved bit set is #GP(0), and the
    /// PDPTE registers are then left unchanged. Outside PAE paging this
    /// does nothing.
    pub fn load_pdptes(&mut self) -> Result<(), Exception> {
        if self.paging_regs().mode() != PagingMode::Pae {
            return Ok(());
        }
        let pdptes =
            walk::load_pdptes(&self.mem, self.cr3).ok_or(Exception::GeneralProtection(0))?;
        self.pdptes = pdptes;
        Ok(())
    }

    /// Applies the TLB consequences of a change to CR0, CR4 or EFER
    /// (`old` is the state before it; SDM 4.10.4.1). Changing CR0.PG,
    /// CR4.PGE, CR4.PAE or CR4.PSE drops every entry, global ones too; so
    /// does CR0.WP and EFER.NXE, whose effect this TLB stores in each entry.
    /// MOV to CR3 instead calls `load_pdptes` and `tlb.flush_non_global`.
    pub fn paging_control_changed(&mut self, old: PagingRegs) {
        let cr0_bits = cr0::PG | cr0::WP;
        let cr4_bits = cr4::PGE | cr4::PAE | cr4::PSE;
        if (old.cr0 ^ self.cr0) & cr0_bits != 0 {
            self.tlb.flush_all_for(FlushCause::Cr0);
        } else if (old.cr4 ^ self.cr4) & cr4_bits != 0 {
            self.tlb.flush_all_for(FlushCause::Cr4);
        } else if (old.efer ^ self.efer) & (efer::NXE | efer::LMA) != 0 {
            self.tlb.flush_all_for(FlushCause::Efer);
        }
    }

    /// Opens or closes the A20 gate (port 0x92, the 8042). Cached
    /// translations hold A20-masked addresses, so they all go.
    pub fn set_a20(&mut self, enabled: bool) {
        if self.mem.a20_enabled() != enabled {
            self.mem.set_a20(enabled);
            self.tlb.flush_all_for(FlushCause::A20);
        }
    }

    /// Translates an instruction fetch at linear `lin`: the physical
    /// address, through the TLB's execute tag when it hits.
    #[inline(always)]
    pub fn translate_fetch(&mut self, lin: u64) -> Result<u64, Exception> {
        let user = self.user();
        let page = lin >> 12;
        let e = self.tlb.entry(user, page);
        if e.exec_tag == page {
            let phys = e.phys_page | (lin & 0xFFF);
            self.tlb.count_fast_hit();
            return Ok(phys);
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

#[cfg(test)]
mod tests {
    use crate::bare::{self, BareMode};
    use crate::bus::NullBus;
    use crate::cpu::{Cpu, Stop};
    use crate::memory::PhysMemory;
    use iced_x86::code_asm::*;

    const CODE: u64 = 0x10_0000;

    fn run_long(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Cpu {
        let mut cpu = Cpu::new(PhysMemory::new(4 << 20).unwrap(), Box::new(NullBus));
        bare::setup(&mut cpu, BareMode::Long64, CODE, 0x8_0000);
        let mut a = CodeAssembler::new(64).unwrap();
        f(&mut a).unwrap();
        let code = a.assemble(CODE).unwrap();
        cpu.write_phys(CODE, &code);
        assert_eq!(cpu.run(10_000), Stop::Halted, "{}", cpu.dump());
        cpu
    }

    #[test]
    fn writes_to_data_beside_code_keep_the_decoded_blocks() {
        let cpu = run_long(|a| {
            let mut top = a.create_label();
            let mut var = a.create_label();
            a.mov(rcx, 100u64)?;
            a.set_label(&mut top)?;
            a.mov(qword_ptr(var), rcx)?;
            a.dec(rcx)?;
            a.jnz(top)?;
            a.hlt()?;
            a.set_label(&mut var)?;
            a.dq(&[0])
        });
        assert_eq!(cpu.blocks.invalidations, 0);
        assert!(
            cpu.blocks.decoded_blocks <= 3,
            "{} blocks",
            cpu.blocks.decoded_blocks
        );
        assert!(cpu.mem.is_code_page(CODE));
    }

    #[test]
    fn a_write_over_code_drops_only_the_overlapping_block() {
        let cpu = run_long(|a| {
            let mut next = a.create_label();
            a.lea(rax, ptr(next))?;
            a.mov(byte_ptr(rax), 0x90)?; // nop over the first byte of `next`
            a.set_label(&mut next)?;
            a.nop()?;
            a.hlt()
        });
        assert_eq!(cpu.blocks.invalidations, 1);
    }
}
