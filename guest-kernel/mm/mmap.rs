//! User address spaces (Linux's `struct mm_struct`, `mm/mmap.c`,
//! `kernel/fork.c`'s `dup_mm`).
//!
//! Each process has its own PML4. Its upper half (entries 256..512) is the
//! kernel's, shared by pointing at the same PDPTs; the lower half holds
//! user pages, mapped with U/S set, present from the start (no demand
//! paging yet: `fork` copies every page, copy-on-write comes with demand
//! paging). Areas (`Vma`) record what was mapped, for `/proc` and for
//! `mmap` placement.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::{PAGE_SIZE, PhysAddr, page_alloc};
use crate::arch::x86_64::cpu;
use crate::arch::x86_64::pgtable::{ADDR_MASK, PageTable, flags, index};
use crate::kernel::errno::{EFAULT, ENOMEM, KResult};

/// One past the highest user address (Linux's `TASK_SIZE_MAX` rounded to
/// a page below the canonical hole).
pub const TASK_SIZE: u64 = 0x0000_7fff_ffff_f000;
/// The top of the initial stack.
pub const STACK_TOP: u64 = 0x0000_7fff_ffff_e000;
/// The stack mapped at exec (no growth on demand yet).
pub const STACK_SIZE: u64 = 256 * 1024;
/// Where anonymous mappings start (Linux puts them below the stack; we
/// go up from here).
pub const MMAP_BASE: u64 = 0x0000_1000_0000_0000;

/// Protection bits (`PROT_*`).
pub const PROT_READ: u32 = 1;
pub const PROT_WRITE: u32 = 2;
pub const PROT_EXEC: u32 = 4;

/// The kernel's own PML4 (physical), whose upper half every address space
/// shares.
static KERNEL_PML4: AtomicU64 = AtomicU64::new(0);

/// Remembers the kernel's PML4; call after `paging_init`.
pub fn init() {
    KERNEL_PML4.store(cpu::read_cr3() & ADDR_MASK, Ordering::Relaxed);
}

pub fn kernel_pml4() -> u64 {
    KERNEL_PML4.load(Ordering::Relaxed)
}

fn table(pa: u64) -> &'static mut PageTable {
    // SAFETY: page-table pages come from the page allocator and are
    // reached through the direct map.
    unsafe { &mut *PhysAddr(pa).to_virt().cast::<PageTable>() }
}

/// What [`walk_user_half`] reports.
enum Visit {
    /// A present 4 KiB page of the user half at `va`, with its entry.
    Page { va: u64, pte: u64 },
    /// Every entry of the table at `pa` (level 3: PDPT, 2: PD, 1: PT) has
    /// been visited.
    TableDone { pa: u64, level: u8 },
}

/// Visits the user half (PML4 entries 0-255) of the tables at `pml4`
/// depth first: each present page, and each lower table after its
/// entries. Stops at the first error `f` returns.
fn walk_user_half(pml4: u64, f: &mut impl FnMut(Visit) -> KResult<()>) -> KResult<()> {
    fn walk(
        pa: u64,
        level: u8,
        base: u64,
        entries: core::ops::Range<usize>,
        f: &mut impl FnMut(Visit) -> KResult<()>,
    ) -> KResult<()> {
        let shift = 12 + 9 * u32::from(level);
        for i in entries {
            let e = table(pa).entries[i];
            if e & flags::PRESENT == 0 {
                continue;
            }
            let va = base | ((i as u64) << shift);
            if level == 0 {
                f(Visit::Page { va, pte: e })?;
            } else {
                walk(e & ADDR_MASK, level - 1, va, 0..512, f)?;
                f(Visit::TableDone {
                    pa: e & ADDR_MASK,
                    level,
                })?;
            }
        }
        Ok(())
    }
    walk(pml4, 3, 0, 0..256, f)
}

fn zeroed_page() -> KResult<u64> {
    let pa = page_alloc::alloc_pages(0).ok_or(ENOMEM)?;
    // SAFETY: a fresh page, direct-mapped, 4096 bytes.
    unsafe { core::ptr::write_bytes(pa.to_virt(), 0, PAGE_SIZE as usize) };
    Ok(pa.0)
}

/// A mapped area.
#[derive(Clone, Copy, Debug)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: u32,
    pub kind: VmaKind,
}

impl Vma {
    /// The name `/proc/PID/maps` would show.
    pub fn name(&self) -> &'static str {
        match self.kind {
            VmaKind::Image => "",
            VmaKind::Heap => "[heap]",
            VmaKind::Stack => "[stack]",
            VmaKind::Anon => "",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmaKind {
    Image,
    Heap,
    Stack,
    Anon,
}

/// An address space.
pub struct Mm {
    pml4: u64,
    pub vmas: Vec<Vma>,
    pub start_brk: u64,
    pub brk: u64,
    pub mmap_next: u64,
    pub start_stack: u64,
    pub arg_start: u64,
    pub arg_end: u64,
    /// Pages mapped (RSS).
    pub rss: u64,
}

impl Mm {
    /// An empty address space sharing the kernel's upper half.
    pub fn new() -> KResult<Mm> {
        let pml4 = zeroed_page()?;
        let k = table(kernel_pml4());
        let t = table(pml4);
        t.entries[256..].copy_from_slice(&k.entries[256..]);
        Ok(Mm {
            pml4,
            vmas: Vec::new(),
            start_brk: 0,
            brk: 0,
            mmap_next: MMAP_BASE,
            start_stack: STACK_TOP,
            arg_start: 0,
            arg_end: 0,
            rss: 0,
        })
    }

    /// The PML4's physical address, for CR3.
    pub fn pml4(&self) -> u64 {
        self.pml4
    }

    /// Bytes mapped by areas (VmSize).
    pub fn total_vm(&self) -> u64 {
        self.vmas.iter().map(|v| v.end - v.start).sum()
    }

    /// The page-table entry for `va`, creating tables on the way if
    /// `create`.
    fn pte(&mut self, va: u64, create: bool) -> KResult<Option<&'static mut u64>> {
        let mut t = table(self.pml4);
        for level in [4, 3, 2] {
            let e = &mut t.entries[index(va, level)];
            if *e & flags::PRESENT == 0 {
                if !create {
                    return Ok(None);
                }
                *e = zeroed_page()? | flags::PRESENT | flags::WRITE | flags::USER;
            }
            t = table(*e & ADDR_MASK);
        }
        Ok(Some(&mut t.entries[index(va, 1)]))
    }

    /// The physical page behind user page `va`, if mapped.
    pub fn translate(&mut self, va: u64) -> Option<u64> {
        let e = self.pte(va & !(PAGE_SIZE - 1), false).ok()??;
        (*e & flags::PRESENT != 0).then_some(*e & ADDR_MASK)
    }

    fn leaf_flags(prot: u32) -> u64 {
        let mut f = flags::PRESENT | flags::USER;
        if prot & PROT_WRITE != 0 {
            f |= flags::WRITE;
        }
        if prot & PROT_EXEC == 0 && cpu::has_nx() {
            f |= flags::NX;
        }
        f
    }

    /// Maps zeroed pages over `[start, end)` (page-aligned) with `prot`;
    /// pages already mapped keep their contents and gain the rights.
    pub fn map_anon(&mut self, start: u64, end: u64, prot: u32, kind: VmaKind) -> KResult<()> {
        if start >= end || end > TASK_SIZE || !start.is_multiple_of(PAGE_SIZE) {
            return Err(ENOMEM);
        }
        let leaf = Self::leaf_flags(prot);
        let mut va = start;
        while va < end {
            let e = self.pte(va, true)?.ok_or(ENOMEM)?;
            if *e & flags::PRESENT != 0 {
                let nx = *e & leaf & flags::NX;
                *e = (*e & !flags::NX) | (leaf & !flags::NX) | nx;
            } else {
                *e = zeroed_page()? | leaf;
                self.rss += 1;
            }
            va += PAGE_SIZE;
        }
        self.vmas.push(Vma {
            start,
            end,
            prot,
            kind,
        });
        self.flush();
        Ok(())
    }

    /// Unmaps and frees the pages of `[start, end)`.
    pub fn unmap(&mut self, start: u64, end: u64) {
        let mut va = start;
        while va < end {
            if let Ok(Some(e)) = self.pte(va, false)
                && *e & flags::PRESENT != 0
            {
                page_alloc::free_pages(PhysAddr(*e & ADDR_MASK), 0);
                *e = 0;
                self.rss -= 1;
            }
            va += PAGE_SIZE;
        }
        let mut out = Vec::new();
        for v in self.vmas.drain(..) {
            if v.end <= start || v.start >= end {
                out.push(v);
                continue;
            }
            if v.start < start {
                out.push(Vma { end: start, ..v });
            }
            if v.end > end {
                out.push(Vma { start: end, ..v });
            }
        }
        self.vmas = out;
        self.flush();
    }

    /// Changes the rights of the mapped pages in `[start, end)`.
    pub fn protect(&mut self, start: u64, end: u64, prot: u32) {
        let leaf = Self::leaf_flags(prot);
        let mut va = start;
        while va < end {
            if let Ok(Some(e)) = self.pte(va, false)
                && *e & flags::PRESENT != 0
            {
                *e = (*e & ADDR_MASK) | leaf;
            }
            va += PAGE_SIZE;
        }
        for v in self.vmas.iter_mut() {
            if v.start >= start && v.end <= end {
                v.prot = prot;
            }
        }
        self.flush();
    }

    /// Writes `data` at user address `va` through the direct map (for
    /// exec, which fills an address space that is not the current one).
    pub fn write_bytes(&mut self, mut va: u64, mut data: &[u8]) -> KResult<()> {
        while !data.is_empty() {
            let pa = self.translate(va).ok_or(EFAULT)?;
            let off = va % PAGE_SIZE;
            let n = ((PAGE_SIZE - off) as usize).min(data.len());
            // SAFETY: a user page of this address space, direct-mapped;
            // `off + n` stays inside it.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    PhysAddr(pa).to_virt().add(off as usize),
                    n,
                )
            };
            data = &data[n..];
            va += n as u64;
        }
        Ok(())
    }

    /// A full copy for `fork`.
    pub fn duplicate(&self) -> KResult<Mm> {
        let mut child = Mm::new()?;
        child.vmas = self.vmas.clone();
        child.start_brk = self.start_brk;
        child.brk = self.brk;
        child.mmap_next = self.mmap_next;
        child.start_stack = self.start_stack;
        child.arg_start = self.arg_start;
        child.arg_end = self.arg_end;
        walk_user_half(self.pml4, &mut |visit| {
            match visit {
                Visit::Page { va, pte } => {
                    let new = page_alloc::alloc_pages(0).ok_or(ENOMEM)?;
                    // SAFETY: two distinct direct-mapped pages.
                    unsafe {
                        core::ptr::copy_nonoverlapping(
                            PhysAddr(pte & ADDR_MASK).to_virt(),
                            new.to_virt(),
                            PAGE_SIZE as usize,
                        )
                    };
                    let e = child.pte(va, true)?.ok_or(ENOMEM)?;
                    *e = new.0 | (pte & !ADDR_MASK);
                    child.rss += 1;
                }
                // A preemption point after each page table's worth of copies.
                Visit::TableDone { level: 1, .. } => crate::kernel::sched::cond_resched(),
                Visit::TableDone { .. } => {}
            }
            Ok(())
        })?;
        Ok(child)
    }

    fn flush(&self) {
        if cpu::read_cr3() & ADDR_MASK == self.pml4 {
            // SAFETY: reloading CR3 with its own value flushes the TLB.
            unsafe { cpu::write_cr3(self.pml4) };
        }
    }
}

impl Drop for Mm {
    fn drop(&mut self) {
        // Pages first, then each table once its entries are done.
        let _ = walk_user_half(self.pml4, &mut |visit| {
            let pa = match visit {
                Visit::Page { pte, .. } => pte & ADDR_MASK,
                Visit::TableDone { pa, .. } => pa,
            };
            page_alloc::free_pages(PhysAddr(pa), 0);
            Ok(())
        });
        page_alloc::free_pages(PhysAddr(self.pml4), 0);
    }
}
