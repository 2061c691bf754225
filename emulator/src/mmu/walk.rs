//! The page walker (SDM Vol. 3A, chapter 4).
//!
//! Three paging modes, chosen by CR0.PG, CR4.PAE and EFER.LMA (4.1.1):
//!
//! | mode    | levels                        | page sizes           |
//! |---------|-------------------------------|----------------------|
//! | 32-bit  | PD, PT                        | 4 KiB, 4 MiB (PSE)   |
//! | PAE     | PDPTE registers, PD, PT       | 4 KiB, 2 MiB         |
//! | 4-level | PML4, PDPT, PD, PT            | 4 KiB, 2 MiB, 1 GiB  |
//!
//! The walk, step by step as the SDM gives it:
//!
//! 1. Each level's entry is read. P=0 ends the walk with a not-present
//!    fault (4.7: error code P=0), whatever its other bits hold.
//! 2. A present entry with a reserved bit set ends the walk with a
//!    reserved-bit fault (P=1, RSVD=1). Reserved are: bits MAXPHYADDR..51 of
//!    PAE and 4-level entries, bit 63 (XD) while EFER.NXE=0, PS in a PML4E,
//!    the low address bits of a large page above PAT (4.4.2, 4.5.4), and for
//!    32-bit paging only bit 21 of a 4 MiB PDE (PSE-36 with MAXPHYADDR=40:
//!    PDE bits 20:13 are physical bits 39:32, Table 4-4).
//! 3. Rights combine across levels (4.6): user-accessible only if every
//!    level has U/S=1, writable only if every level has R/W=1, not
//!    executable if any level has XD=1 (only with EFER.NXE). The combined
//!    rights are checked once the leaf is found, so a not-present or
//!    reserved-bit fault deeper in the walk wins over a protection fault.
//! 4. Only a translation that is allowed updates memory (4.8): the accessed
//!    flag of every entry used, top level first, then the dirty flag of the
//!    leaf for a write, each written only if not already set. A faulting
//!    walk leaves the tables untouched. (The SDM allows a processor to set
//!    accessed flags of upper levels before a fault; we take the stricter
//!    choice, as Bochs does, so a faulting instruction changes nothing.)
//!
//! PAE paging does not read the PDPT during a walk: the four PDPTEs are
//! loaded into registers when CR3 is written or PAE paging is enabled
//! (4.4.1), by `load_pdptes`, which also applies their reserved-bit check
//! (a failure there is #GP(0) at the MOV, never a #PF).
//!
//! The #PF error code (4.7): P, W/R, U/S, RSVD, and I/D only for an
//! instruction fetch under PAE or 4-level paging with EFER.NXE=1 (SMEP,
//! which would also set it, is not implemented: CR4.SMEP is not supported).
//!
//! Paging-structure entries outside RAM and ROM read as all-ones, like an
//! undriven bus, and so fault with RSVD in PAE and 4-level paging.

use super::{Access, AccessKind};
use crate::cpu::exception::pf;
use crate::cpu::state::{cr0, cr4, efer};
use crate::memory::PhysMemory;

/// The physical-address width this CPU reports in CPUID 8000_0008h.
pub const MAXPHYADDR: u32 = 40;

/// Paging-structure entry bits (SDM Tables 4-5 .. 4-20).
pub mod bits {
    pub const P: u64 = 1 << 0;
    pub const RW: u64 = 1 << 1;
    pub const US: u64 = 1 << 2;
    pub const PWT: u64 = 1 << 3;
    pub const PCD: u64 = 1 << 4;
    pub const A: u64 = 1 << 5;
    pub const D: u64 = 1 << 6;
    pub const PS: u64 = 1 << 7;
    pub const G: u64 = 1 << 8;
    pub const XD: u64 = 1 << 63;
}
use bits::*;

/// Address bits of a 4-level or PAE entry: 51:12, cut to MAXPHYADDR.
const ADDR_MASK: u64 = ((1u64 << MAXPHYADDR) - 1) & !0xFFF;
/// Bits MAXPHYADDR..51, reserved in PAE and 4-level entries.
const HIGH_RSVD: u64 = ((1u64 << 52) - 1) & !((1u64 << MAXPHYADDR) - 1);
/// PAE PDPTE reserved bits besides the high ones: 2:1 and 8:5 (Table 4-8);
/// bit 63 is reserved too, NXE or not.
const PDPTE_RSVD: u64 = HIGH_RSVD | XD | 0x1E6;
/// 32-bit paging, 4 MiB PDE: bit 21 is reserved with MAXPHYADDR=40.
const PDE4M_RSVD: u64 = 1 << 21;
/// The PAT bit of a large-page entry; the bits above it up to the page
/// offset are reserved.
const LARGE_PAT: u64 = 1 << 12;

/// The registers that control paging, with the PAE PDPTE registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PagingRegs {
    pub cr0: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub efer: u64,
    /// The PDPTE registers (PAE paging only; see `load_pdptes`).
    pub pdptes: [u64; 4],
}

/// Which translation applies (SDM 4.1.1, Table 4-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingMode {
    /// CR0.PG=0: linear addresses are physical.
    Off,
    Bits32,
    Pae,
    Level4,
}

impl PagingRegs {
    pub fn paging(&self) -> bool {
        self.cr0 & cr0::PG != 0
    }

    pub fn mode(&self) -> PagingMode {
        if !self.paging() {
            PagingMode::Off
        } else if self.efer & efer::LMA != 0 {
            PagingMode::Level4
        } else if self.cr4 & cr4::PAE != 0 {
            PagingMode::Pae
        } else {
            PagingMode::Bits32
        }
    }

    fn nxe(&self) -> bool {
        self.efer & efer::NXE != 0
    }
}

/// A successful translation, with what the TLB needs to cache it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    /// The physical address of the accessed byte (before A20 masking).
    pub phys: u64,
    /// 4 KiB, 2 MiB, 4 MiB or 1 GiB.
    pub page_size: u64,
    /// Every level allows writes.
    pub writable: bool,
    /// Every level allows user access.
    pub user: bool,
    /// Some level forbids instruction fetch (XD=1 with EFER.NXE).
    pub no_exec: bool,
    /// The leaf's dirty flag is set (after this walk).
    pub dirty: bool,
    /// The leaf is global and CR4.PGE is on.
    pub global: bool,
    /// Physical addresses of the entries this walk wrote (A/D updates).
    updated: [u64; 4],
    updated_len: u8,
}

impl Translation {
    /// Physical addresses of paging-structure entries the walk rewrote to
    /// set accessed or dirty flags (so a caller can notice code pages).
    pub fn updated_entries(&self) -> &[u64] {
        &self.updated[..self.updated_len as usize]
    }
}

/// Whether a walk may write accessed and dirty flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effects {
    /// A real access: set A and D flags.
    Commit,
    /// A check only (the first half of a page-crossing access whose second
    /// half may still fault): the tables are left as they are.
    Probe,
}

/// Translates `lin` for `access`, or returns the #PF error code.
pub fn walk(
    mem: &mut PhysMemory,
    regs: &PagingRegs,
    lin: u64,
    access: Access,
    effects: Effects,
) -> Result<Translation, u32> {
    let w = Walker {
        mem,
        regs,
        access,
        effects,
        used: [Used::default(); 4],
        n: 0,
    };
    match regs.mode() {
        PagingMode::Off => Ok(Translation {
            phys: lin & 0xFFFF_FFFF,
            page_size: 4096,
            writable: true,
            user: true,
            no_exec: false,
            dirty: true,
            global: false,
            updated: [0; 4],
            updated_len: 0,
        }),
        PagingMode::Level4 => w.level4(lin),
        PagingMode::Pae => w.pae(lin & 0xFFFF_FFFF),
        PagingMode::Bits32 => w.bits32(lin & 0xFFFF_FFFF),
    }
}

/// Reads the four PAE PDPTEs that CR3 points at and checks their reserved
/// bits (SDM 4.4.1). `None` means a present PDPTE has a reserved bit set:
/// the MOV to CR0/CR3/CR4 that loads them raises #GP(0).
pub fn load_pdptes(mem: &PhysMemory, cr3: u64) -> Option<[u64; 4]> {
    let base = cr3 & 0xFFFF_FFE0;
    let mut out = [0u64; 4];
    for (i, e) in out.iter_mut().enumerate() {
        *e = read_entry(mem, base + 8 * i as u64, true);
        if *e & P != 0 && *e & PDPTE_RSVD != 0 {
            return None;
        }
    }
    Some(out)
}

/// One entry the walk used: where it lives and what it held.
#[derive(Clone, Copy, Default)]
struct Used {
    addr: u64,
    value: u64,
    wide: bool,
}

/// Reads a paging-structure entry (A20 applies to the walk's own reads).
fn read_entry(mem: &PhysMemory, addr: u64, wide: bool) -> u64 {
    let addr = mem.a20(addr);
    let n = if wide { 8 } else { 4 };
    (0..n).fold(0u64, |v, i| {
        v | (mem.read_u8(addr + i).unwrap_or(0xFF) as u64) << (8 * i)
    })
}

fn write_entry(mem: &mut PhysMemory, e: &Used) -> u64 {
    let addr = mem.a20(e.addr);
    let n = if e.wide { 8 } else { 4 };
    for i in 0..n {
        mem.write_u8(addr + i, (e.value >> (8 * i)) as u8);
    }
    addr
}

/// The combined rights of the levels walked so far.
#[derive(Clone, Copy)]
struct Rights {
    writable: bool,
    user: bool,
    no_exec: bool,
}

impl Rights {
    const ALL: Rights = Rights {
        writable: true,
        user: true,
        no_exec: false,
    };

    fn and(self, e: u64, nxe: bool) -> Rights {
        Rights {
            writable: self.writable && e & RW != 0,
            user: self.user && e & US != 0,
            no_exec: self.no_exec || (nxe && e & XD != 0),
        }
    }
}

struct Walker<'a> {
    mem: &'a mut PhysMemory,
    regs: &'a PagingRegs,
    access: Access,
    effects: Effects,
    used: [Used; 4],
    n: usize,
}

impl Walker<'_> {
    /// Reads the entry at `addr` and remembers it as used.
    fn read(&mut self, addr: u64, wide: bool) -> u64 {
        let value = read_entry(self.mem, addr, wide);
        self.used[self.n] = Used { addr, value, wide };
        self.n += 1;
        value
    }

    /// The error code for a fault on this access (SDM 4.7).
    fn fault(&self, present: bool, rsvd: bool) -> u32 {
        let mut code = 0;
        if present || rsvd {
            code |= pf::PRESENT;
        }
        if rsvd {
            code |= pf::RSVD;
        }
        if self.access.kind == AccessKind::Write {
            code |= pf::WRITE;
        }
        if self.access.user {
            code |= pf::USER;
        }
        let nx_paging = matches!(self.regs.mode(), PagingMode::Pae | PagingMode::Level4);
        if self.access.kind == AccessKind::Execute && nx_paging && self.regs.nxe() {
            code |= pf::FETCH;
        }
        code
    }

    /// Whether the combined rights allow the access (SDM 4.6.1).
    fn allowed(&self, r: Rights) -> bool {
        let a = self.access;
        if a.user && !r.user {
            return false;
        }
        match a.kind {
            AccessKind::Read => true,
            AccessKind::Write => r.writable || (!a.user && self.regs.cr0 & cr0::WP == 0),
            AccessKind::Execute => !r.no_exec,
        }
    }

    /// Ends a walk at its leaf: checks rights, sets A (and D) flags, and
    /// builds the translation.
    fn finish(mut self, r: Rights, base: u64, size: u64, lin: u64) -> Result<Translation, u32> {
        if !self.allowed(r) {
            return Err(self.fault(true, false));
        }
        let mut updated = [0u64; 4];
        let mut updated_len = 0u8;
        let leaf = self.n - 1;
        for i in 0..self.n {
            let mut v = self.used[i].value | A;
            if i == leaf && self.access.kind == AccessKind::Write {
                v |= D;
            }
            if v != self.used[i].value && self.effects == Effects::Commit {
                self.used[i].value = v;
                updated[updated_len as usize] = write_entry(self.mem, &self.used[i]);
                updated_len += 1;
            }
        }
        let leaf = self.used[leaf].value;
        Ok(Translation {
            phys: base | (lin & (size - 1)),
            page_size: size,
            writable: r.writable,
            user: r.user,
            no_exec: r.no_exec,
            dirty: leaf & D != 0,
            global: leaf & G != 0 && self.regs.cr4 & cr4::PGE != 0,
            updated,
            updated_len,
        })
    }

    /// The walk below a PML4E or PAE PDPTE: levels `top`..0 of 9 bits each,
    /// starting at `table`. A PS=1 entry at level 1 maps a 2 MiB page, at
    /// level 2 (a 4-level PDPTE) a 1 GiB page.
    fn wide_levels(
        mut self,
        lin: u64,
        mut table: u64,
        top: u32,
        mut r: Rights,
    ) -> Result<Translation, u32> {
        let nxe = self.regs.nxe();
        let xd_rsvd = if nxe { 0 } else { XD };
        for level in (0..=top).rev() {
            let shift = 12 + 9 * level;
            let e = self.read(table + ((lin >> shift) & 0x1FF) * 8, true);
            if e & P == 0 {
                return Err(self.fault(false, false));
            }
            let large = level >= 1 && e & PS != 0;
            let mut rsvd = HIGH_RSVD | xd_rsvd;
            if large {
                // Bits 12 (PAT) .. shift-1: only PAT is defined.
                rsvd |= ((1u64 << shift) - 1) & !(LARGE_PAT | 0xFFF);
            }
            if e & rsvd != 0 {
                return Err(self.fault(true, true));
            }
            r = r.and(e, nxe);
            if level == 0 || large {
                let size = 1u64 << shift;
                return self.finish(r, e & ADDR_MASK & !(size - 1), size, lin);
            }
            table = e & ADDR_MASK;
        }
        unreachable!("level 0 always ends the walk")
    }

    /// 4-level paging (SDM 4.5): the PML4E, then the 3 levels below.
    fn level4(mut self, lin: u64) -> Result<Translation, u32> {
        let nxe = self.regs.nxe();
        let pml4e = self.read(
            (self.regs.cr3 & ADDR_MASK) + ((lin >> 39) & 0x1FF) * 8,
            true,
        );
        if pml4e & P == 0 {
            return Err(self.fault(false, false));
        }
        // PS is reserved in a PML4E (Table 4-15).
        if pml4e & (HIGH_RSVD | PS | if nxe { 0 } else { XD }) != 0 {
            return Err(self.fault(true, true));
        }
        let r = Rights::ALL.and(pml4e, nxe);
        self.wide_levels(lin, pml4e & ADDR_MASK, 2, r)
    }

    /// PAE paging (SDM 4.4): the PDPTE register, then PD and PT. PDPTEs
    /// carry no rights and no accessed flag the walker sets: they were read
    /// at load time (4.4.1, 4.8).
    fn pae(self, lin: u64) -> Result<Translation, u32> {
        let pdpte = self.regs.pdptes[((lin >> 30) & 3) as usize];
        if pdpte & P == 0 {
            return Err(self.fault(false, false));
        }
        self.wide_levels(lin, pdpte & ADDR_MASK, 1, Rights::ALL)
    }

    /// 32-bit paging (SDM 4.3), with 4 MiB pages under CR4.PSE.
    fn bits32(mut self, lin: u64) -> Result<Translation, u32> {
        let pde = self.read(
            (self.regs.cr3 & 0xFFFF_F000) + ((lin >> 22) & 0x3FF) * 4,
            false,
        );
        if pde & P == 0 {
            return Err(self.fault(false, false));
        }
        let r = Rights::ALL.and(pde, false);
        if pde & PS != 0 && self.regs.cr4 & cr4::PSE != 0 {
            if pde & PDE4M_RSVD != 0 {
                return Err(self.fault(true, true));
            }
            // PSE-36: PDE bits 20:13 are physical address bits 39:32.
            let base = (pde & 0xFFC0_0000) | (((pde >> 13) & 0xFF) << 32);
            return self.finish(r, base, 4 << 20, lin);
        }
        let pte = self.read((pde & 0xFFFF_F000) + ((lin >> 12) & 0x3FF) * 4, false);
        if pte & P == 0 {
            return Err(self.fault(false, false));
        }
        let r = r.and(pte, false);
        self.finish(r, pte & 0xFFFF_F000, 4096, lin)
    }
}
