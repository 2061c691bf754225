//! The software TLB (SDM Vol. 3A, 4.10).
//!
//! Two direct-mapped arrays, one for supervisor and one for user accesses,
//! indexed by the low bits of the linear page number. Every entry caches a
//! 4 KiB piece of one translation: the linear page, the physical page, the
//! access kinds the walk allowed for that privilege, the size of the page it
//! came from, and the global bit.
//!
//! For the fast path an entry also holds one tag per access kind (read,
//! write, execute): a tag equals the linear page number only when that kind
//! of access is allowed *and* may go straight to host memory. A hit is then:
//! index, compare tag, add the offset to the host pointer. A write tag is
//! left invalid when the page is ROM or MMIO, when the page's dirty flag is
//! still clear (the first write must walk to set it), and when the page
//! holds decoded code (so the write reaches the block cache). Such accesses
//! take the slow path, which still uses the cached translation (no walk)
//! when the entry allows the access: stale entries stay stale for every
//! kind of page until they are flushed, as on hardware.
//!
//! Flushes (4.10.4): `flush_non_global` (MOV to CR3), `flush_page`
//! (INVLPG: every entry of the page, of any size, global or not),
//! `flush_all_for` (CR0.PG/WP, CR4.PGE/PAE/PSE, EFER.NXE changes, the A20
//! gate, reset), and `drop_page` (a page fault invalidates the faulting
//! page's entries, 4.10.4.1).
//!
//! Counters (`TlbStats`): slow-path hits, misses, walks, faults, and
//! flushes by cause. Fast-path hits are counted only with the cargo feature
//! `tlb-stats`, so the default hit path carries no counter update.

use std::ptr;

/// Entries per array. A power of two.
pub const TLB_ENTRIES: usize = 1024;
const INVALID: u64 = u64::MAX;

/// Access-kind bits of `TlbEntry::allows`.
pub mod allow {
    pub const READ: u8 = 1 << 0;
    /// Writable, and the dirty flag is already set.
    pub const WRITE: u8 = 1 << 1;
    pub const EXEC: u8 = 1 << 2;
}

/// One cached translation of a 4 KiB linear page. The fast-path fields come
/// first and the entry is one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub struct TlbEntry {
    pub read_tag: u64,
    pub write_tag: u64,
    pub exec_tag: u64,
    /// Host address of the page for RAM and ROM; null for MMIO.
    pub host: *mut u8,
    /// The linear page number this entry translates; invalid when empty.
    pub page: u64,
    /// Physical address of the page (A20 applied).
    pub phys_page: u64,
    /// Size of the page the translation came from, for `invlpg`.
    pub page_size: u64,
    /// `allow::` bits: what this privilege may do without a walk.
    pub allows: u8,
    pub global: bool,
    /// The page is RAM (so a write may take the fast path).
    pub ram: bool,
}

impl TlbEntry {
    pub const EMPTY: TlbEntry = TlbEntry {
        read_tag: INVALID,
        write_tag: INVALID,
        exec_tag: INVALID,
        host: ptr::null_mut(),
        page: INVALID,
        phys_page: 0,
        page_size: 4096,
        allows: 0,
        global: false,
        ram: false,
    };

    /// The tag value meaning "no fast path".
    pub const NO_TAG: u64 = INVALID;

    /// Whether this entry translates `page` and allows `bit` (`allow::`).
    #[inline]
    pub fn permits(&self, page: u64, bit: u8) -> bool {
        self.page == page && self.allows & bit != 0
    }
}

/// Why the TLB was flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushCause {
    /// MOV to CR3 (non-global entries).
    Cr3,
    /// INVLPG (one page).
    Invlpg,
    /// CR0.PG or CR0.WP changed.
    Cr0,
    /// CR4.PGE, CR4.PAE or CR4.PSE changed.
    Cr4,
    /// EFER.NXE changed.
    Efer,
    /// The A20 gate opened or closed.
    A20,
    /// A page fault dropped the faulting page's entries.
    PageFault,
    /// Reset, or a caller that named no cause.
    Other,
}

impl FlushCause {
    pub const COUNT: usize = 8;
    pub const ALL: [FlushCause; Self::COUNT] = [
        FlushCause::Cr3,
        FlushCause::Invlpg,
        FlushCause::Cr0,
        FlushCause::Cr4,
        FlushCause::Efer,
        FlushCause::A20,
        FlushCause::PageFault,
        FlushCause::Other,
    ];
}

/// Counters for tracing and statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TlbStats {
    /// Fast-path hits; counted only with the `tlb-stats` feature.
    pub fast_hits: u64,
    /// Slow-path accesses answered by a cached translation (ROM and MMIO
    /// pages, writes to code pages, page-crossing accesses).
    pub slow_hits: u64,
    /// Translations not in the TLB (a walk, or identity with paging off).
    pub misses: u64,
    /// Page-table walks (misses with paging on, and fault probes).
    pub walks: u64,
    /// Walks that ended in a page fault.
    pub faults: u64,
    /// Flushes, indexed by `FlushCause as usize`.
    pub flushes: [u64; FlushCause::COUNT],
}

impl TlbStats {
    pub fn flushes(&self, cause: FlushCause) -> u64 {
        self.flushes[cause as usize]
    }
}

/// The software TLB.
pub struct Tlb {
    /// `[supervisor, user]`.
    sets: [Box<[TlbEntry]>; 2],
    /// Whether any entry came from a large page (invlpg must scan).
    has_large: bool,
    /// Bumped by every flush: what depends on translations staying as
    /// they were (the CPU's block links) compares it.
    generation: u64,
    pub stats: TlbStats,
    /// Fills (page walks) and flushes go to the trace (`trace`). Only the
    /// miss and flush paths look at it, never a hit.
    pub trace: crate::trace::Trace,
}

// SAFETY: the host pointers point into the guest RAM mapping and ROM buffer,
// which are owned by the same `Cpu` as this TLB and move between threads
// with it; the TLB never outlives or shares them.
unsafe impl Send for Tlb {}

impl Default for Tlb {
    fn default() -> Self {
        Tlb {
            sets: [
                vec![TlbEntry::EMPTY; TLB_ENTRIES].into_boxed_slice(),
                vec![TlbEntry::EMPTY; TLB_ENTRIES].into_boxed_slice(),
            ],
            has_large: false,
            generation: 0,
            stats: TlbStats::default(),
            trace: crate::trace::Trace::off(),
        }
    }
}

#[inline(always)]
fn index(page: u64) -> usize {
    page as usize & (TLB_ENTRIES - 1)
}

impl Tlb {
    /// Changes with every flush (see the field).
    #[inline(always)]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The entry that would hold linear page `page` for this privilege.
    #[inline(always)]
    pub fn entry(&self, user: bool, page: u64) -> &TlbEntry {
        // SAFETY: index() masks to TLB_ENTRIES - 1, the length of each set.
        unsafe { self.sets[user as usize].get_unchecked(index(page)) }
    }

    /// Counts a fast-path hit (a no-op without the `tlb-stats` feature).
    #[inline(always)]
    pub fn count_fast_hit(&mut self) {
        #[cfg(feature = "tlb-stats")]
        {
            self.stats.fast_hits += 1;
        }
    }

    /// Installs a translation (its `page` field names the linear page).
    pub fn insert(&mut self, user: bool, entry: TlbEntry) {
        if entry.page_size > 4096 {
            self.has_large = true;
        }
        if let Some(mut t) = self.trace.on(crate::trace::Category::Walk) {
            t.page_walk(entry.page << 12, entry.phys_page, entry.page_size);
        }
        self.sets[user as usize][index(entry.page)] = entry;
    }

    /// Drops every non-global entry (a MOV to CR3).
    pub fn flush_non_global(&mut self) {
        self.stats.flushes[FlushCause::Cr3 as usize] += 1;
        self.trace_flush(FlushCause::Cr3, None);
        self.generation += 1;
        for set in &mut self.sets {
            for e in set.iter_mut().filter(|e| !e.global) {
                *e = TlbEntry::EMPTY;
            }
        }
    }

    /// Drops every entry, global ones included, for `cause`.
    pub fn flush_all_for(&mut self, cause: FlushCause) {
        self.stats.flushes[cause as usize] += 1;
        self.trace_flush(cause, None);
        self.generation += 1;
        for set in &mut self.sets {
            set.fill(TlbEntry::EMPTY);
        }
        self.has_large = false;
    }

    fn trace_flush(&self, cause: FlushCause, page: Option<u64>) {
        if let Some(mut t) = self.trace.on(crate::trace::Category::Mmu) {
            t.tlb_flush(&format!("{cause:?}"), page);
        }
    }

    /// Drops every entry (reset, or a caller with no particular cause).
    pub fn flush_all(&mut self) {
        self.flush_all_for(FlushCause::Other);
    }

    /// `invlpg`: drops the translations of the page containing `lin`, of
    /// every size that could cover it, global or not.
    pub fn flush_page(&mut self, lin: u64) {
        self.stats.flushes[FlushCause::Invlpg as usize] += 1;
        self.trace_flush(FlushCause::Invlpg, Some(lin));
        self.generation += 1;
        self.drop_covering(lin >> 12);
    }

    /// A page fault on `lin`: its 4 KiB entries go (SDM 4.10.4.1).
    pub fn drop_page(&mut self, lin: u64) {
        self.stats.flushes[FlushCause::PageFault as usize] += 1;
        self.generation += 1;
        let page = lin >> 12;
        for set in &mut self.sets {
            let e = &mut set[index(page)];
            if e.page == page {
                *e = TlbEntry::EMPTY;
            }
        }
    }

    fn drop_covering(&mut self, page: u64) {
        if !self.has_large {
            for set in &mut self.sets {
                let e = &mut set[index(page)];
                if e.page == page {
                    *e = TlbEntry::EMPTY;
                }
            }
            return;
        }
        // A large page is cached as many 4 KiB pieces, anywhere in the set.
        for set in &mut self.sets {
            for e in set.iter_mut() {
                let span = e.page_size >> 12;
                if e.page != INVALID && e.page / span == page / span {
                    *e = TlbEntry::EMPTY;
                }
            }
        }
    }

    /// Restores the fast write path of a cached, writable RAM page whose
    /// physical page no longer holds decoded code.
    pub fn rearm_write(&mut self, user: bool, page: u64) {
        let e = &mut self.sets[user as usize][index(page)];
        if e.page == page && e.ram && e.allows & allow::WRITE != 0 {
            e.write_tag = page;
        }
    }

    /// Revokes fast-path writes to a physical page (it now holds code).
    pub fn protect_phys_page(&mut self, phys_page: u64) {
        for set in &mut self.sets {
            for e in set.iter_mut().filter(|e| e.phys_page == phys_page) {
                e.write_tag = INVALID;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(page: u64, size: u64, global: bool) -> TlbEntry {
        TlbEntry {
            read_tag: page,
            write_tag: page,
            exec_tag: page,
            host: ptr::null_mut(),
            page,
            phys_page: page << 12,
            page_size: size,
            allows: allow::READ | allow::WRITE | allow::EXEC,
            global,
            ram: true,
        }
    }

    #[test]
    fn cr3_flush_keeps_global_entries() {
        let mut tlb = Tlb::default();
        tlb.insert(false, entry(5, 4096, true));
        tlb.insert(false, entry(6, 4096, false));
        tlb.flush_non_global();
        assert_eq!(tlb.entry(false, 5).read_tag, 5);
        assert_eq!(tlb.entry(false, 6).read_tag, INVALID);
        assert_eq!(tlb.stats.flushes(FlushCause::Cr3), 1);
    }

    #[test]
    fn invlpg_inside_a_large_page_drops_its_other_4k_entries() {
        let mut tlb = Tlb::default();
        // Two 4 KiB pieces of the 2 MiB page at 0x200000, and a neighbour.
        tlb.insert(false, entry(0x200, 2 << 20, false));
        tlb.insert(true, entry(0x3FF, 2 << 20, true));
        tlb.insert(false, entry(0x400, 4096, false));
        tlb.flush_page(0x2F_F000);
        assert_eq!(tlb.entry(false, 0x200).page, INVALID);
        assert_eq!(tlb.entry(true, 0x3FF).page, INVALID);
        assert_eq!(tlb.entry(false, 0x400).page, 0x400);
    }

    #[test]
    fn invlpg_drops_a_global_4k_entry() {
        let mut tlb = Tlb::default();
        tlb.insert(false, entry(9, 4096, true));
        tlb.flush_page(0x9123);
        assert!(!tlb.entry(false, 9).permits(9, allow::READ));
    }

    #[test]
    fn protecting_a_code_page_revokes_only_fast_writes() {
        let mut tlb = Tlb::default();
        tlb.insert(true, entry(7, 4096, false));
        tlb.protect_phys_page(7 << 12);
        let e = tlb.entry(true, 7);
        assert_eq!(e.write_tag, INVALID);
        assert_eq!(e.read_tag, 7);
        assert!(e.permits(7, allow::WRITE));
    }

    #[test]
    fn entry_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<TlbEntry>(), 64);
    }
}
