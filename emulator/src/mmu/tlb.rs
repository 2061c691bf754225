//! The software TLB.
//!
//! Two direct-mapped arrays, one for supervisor and one for user accesses,
//! indexed by the low bits of the linear page number. An entry holds one tag
//! per access kind (read, write, execute): a tag equals the linear page
//! number only when that kind of access is allowed *and* may take the fast
//! path. So a hit is: index, compare tag, add offset to a host pointer.
//!
//! A write tag is left invalid when the page is ROM or MMIO, when the page's
//! dirty flag is still clear (the first write must walk to set it), and when
//! the page holds decoded code (so the write reaches the block cache).

use std::ptr;

/// Entries per array. A power of two.
pub const TLB_ENTRIES: usize = 1024;
const INVALID: u64 = u64::MAX;

/// One cached translation of a 4 KiB linear page.
#[derive(Debug, Clone, Copy)]
pub struct TlbEntry {
    pub read_tag: u64,
    pub write_tag: u64,
    pub exec_tag: u64,
    /// Host address of the page for RAM and ROM; null for MMIO.
    pub host: *mut u8,
    /// Physical address of the page (A20 applied).
    pub phys_page: u64,
    /// Size of the page the translation came from, for `invlpg`.
    pub page_size: u64,
    pub global: bool,
}

impl TlbEntry {
    const EMPTY: TlbEntry = TlbEntry {
        read_tag: INVALID,
        write_tag: INVALID,
        exec_tag: INVALID,
        host: ptr::null_mut(),
        phys_page: 0,
        page_size: 4096,
        global: false,
    };

    fn valid(&self) -> bool {
        self.read_tag != INVALID || self.write_tag != INVALID || self.exec_tag != INVALID
    }
}

/// Counters for tracing and statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TlbStats {
    /// Slow-path lookups (the fast path is not counted: it must stay cheap).
    pub misses: u64,
    pub walks: u64,
    pub flush_cr3: u64,
    pub flush_invlpg: u64,
    /// Full flushes for CR0/CR4/EFER changes, A20, and mode switches.
    pub flush_all: u64,
}

/// The software TLB.
pub struct Tlb {
    /// `[supervisor, user]`.
    sets: [Box<[TlbEntry]>; 2],
    /// Whether any entry came from a large page (invlpg must scan).
    has_large: bool,
    pub stats: TlbStats,
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
            stats: TlbStats::default(),
        }
    }
}

#[inline(always)]
fn index(page: u64) -> usize {
    page as usize & (TLB_ENTRIES - 1)
}

impl Tlb {
    /// The entry that would hold linear page `page` for this privilege.
    #[inline(always)]
    pub fn entry(&self, user: bool, page: u64) -> &TlbEntry {
        // SAFETY: index() masks to TLB_ENTRIES - 1, the length of each set.
        unsafe { self.sets[user as usize].get_unchecked(index(page)) }
    }

    /// Installs a translation for linear page `page`.
    pub fn insert(&mut self, user: bool, page: u64, entry: TlbEntry) {
        if entry.page_size > 4096 {
            self.has_large = true;
        }
        let _ = page;
        self.sets[user as usize][index(page)] = entry;
    }

    /// Drops every non-global entry (a CR3 write).
    pub fn flush_non_global(&mut self) {
        self.stats.flush_cr3 += 1;
        for set in &mut self.sets {
            for e in set.iter_mut() {
                if !e.global {
                    *e = TlbEntry::EMPTY;
                }
            }
        }
    }

    /// Drops every entry, global ones included.
    pub fn flush_all(&mut self) {
        self.stats.flush_all += 1;
        for set in &mut self.sets {
            set.fill(TlbEntry::EMPTY);
        }
        self.has_large = false;
    }

    /// `invlpg`: drops the translations of the page containing `lin`, of
    /// every size that could cover it.
    pub fn flush_page(&mut self, lin: u64) {
        self.stats.flush_invlpg += 1;
        let page = lin >> 12;
        if self.has_large {
            for set in &mut self.sets {
                for e in set.iter_mut() {
                    if !e.valid() {
                        continue;
                    }
                    let tag = [e.read_tag, e.write_tag, e.exec_tag]
                        .into_iter()
                        .find(|&t| t != INVALID)
                        .unwrap_or(INVALID);
                    let span = (e.page_size >> 12).max(1);
                    if tag / span == page / span {
                        *e = TlbEntry::EMPTY;
                    }
                }
            }
        } else {
            for set in &mut self.sets {
                let e = &mut set[index(page)];
                if e.read_tag == page || e.write_tag == page || e.exec_tag == page {
                    *e = TlbEntry::EMPTY;
                }
            }
        }
    }

    /// Revokes fast-path writes to a physical page (it now holds code).
    pub fn protect_phys_page(&mut self, phys_page: u64) {
        for set in &mut self.sets {
            for e in set.iter_mut() {
                if e.phys_page == phys_page {
                    e.write_tag = INVALID;
                }
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
            phys_page: page << 12,
            page_size: size,
            global,
        }
    }

    #[test]
    fn cr3_flush_keeps_global_entries() {
        let mut tlb = Tlb::default();
        tlb.insert(false, 5, entry(5, 4096, true));
        tlb.insert(false, 6, entry(6, 4096, false));
        tlb.flush_non_global();
        assert_eq!(tlb.entry(false, 5).read_tag, 5);
        assert_eq!(tlb.entry(false, 6).read_tag, INVALID);
    }

    #[test]
    fn invlpg_inside_a_large_page_drops_its_other_4k_entries() {
        let mut tlb = Tlb::default();
        // Two 4 KiB pieces of the 2 MiB page at 0x200000.
        tlb.insert(false, 0x200, entry(0x200, 2 << 20, false));
        tlb.insert(false, 0x3FF, entry(0x3FF, 2 << 20, false));
        tlb.flush_page(0x2F_F000);
        assert_eq!(tlb.entry(false, 0x200).read_tag, INVALID);
        assert_eq!(tlb.entry(false, 0x3FF).read_tag, INVALID);
    }

    #[test]
    fn protecting_a_code_page_revokes_only_writes() {
        let mut tlb = Tlb::default();
        tlb.insert(true, 7, entry(7, 4096, false));
        tlb.protect_phys_page(7 << 12);
        let e = tlb.entry(true, 7);
        assert_eq!(e.write_tag, INVALID);
        assert_eq!(e.read_tag, 7);
    }
}
