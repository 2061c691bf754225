//! The page walker (SDM Vol. 3A, chapter 4).
//!
//! Three paging modes, chosen by CR0.PG, CR4.PAE and EFER.LME (4.1.1):
//!
//! | mode   | levels                     | page sizes           |
//! |--------|----------------------------|----------------------|
//! | 32-bit | PD, PT                     | 4 KiB, 4 MiB (PSE)   |
//! | PAE    | PDPT (4 entries), PD, PT   | 4 KiB, 2 MiB         |
//! | 4-level| PML4, PDPT, PD, PT         | 4 KiB, 2 MiB, 1 GiB  |
//!
//! Permissions combine across levels (4.6): an access is user-permitted only
//! if every level has U/S=1, writable only if every level has R/W=1, and
//! executable unless some level has XD=1 (with EFER.NXE). The walker sets the
//! accessed flag of every entry it uses and, for writes, the dirty flag of
//! the final entry (4.8), and only once the access is known to be allowed.

use super::{Access, AccessKind};
use crate::cpu::exception::pf;
use crate::cpu::state::{cr0, cr4, efer};
use crate::memory::PhysMemory;

/// The physical-address width this CPU reports in CPUID 8000_0008h.
pub const MAXPHYADDR: u32 = 40;

const P: u64 = 1 << 0;
const RW: u64 = 1 << 1;
const US: u64 = 1 << 2;
const A: u64 = 1 << 5;
const D: u64 = 1 << 6;
const PS: u64 = 1 << 7;
const G: u64 = 1 << 8;
const XD: u64 = 1 << 63;
/// Address bits of a 4-level or PAE entry: 51:12, cut to MAXPHYADDR.
const ADDR_MASK: u64 = ((1u64 << MAXPHYADDR) - 1) & !0xFFF;
/// Bits MAXPHYADDR..51, reserved in PAE and 4-level entries.
const HIGH_RSVD: u64 = ((1u64 << 52) - 1) & !((1u64 << MAXPHYADDR) - 1);

/// The registers that control paging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PagingRegs {
    pub cr0: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub efer: u64,
}

impl PagingRegs {
    pub fn paging(&self) -> bool {
        self.cr0 & cr0::PG != 0
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
    /// Some level forbids instruction fetch.
    pub no_exec: bool,
    /// The final entry's dirty flag is set (after this walk).
    pub dirty: bool,
    /// The final entry is global and CR4.PGE is on.
    pub global: bool,
}

/// Translates `lin` for `access`, or returns the #PF error code.
pub fn walk(
    mem: &mut PhysMemory,
    regs: &PagingRegs,
    lin: u64,
    access: Access,
) -> Result<Translation, u32> {
    if !regs.paging() {
        return Ok(Translation {
            phys: lin & 0xFFFF_FFFF,
            page_size: 4096,
            writable: true,
            user: true,
            no_exec: false,
            dirty: true,
            global: false,
        });
    }
    if regs.efer & efer::LMA != 0 {
        walk_4level(mem, regs, lin, access)
    } else if regs.cr4 & cr4::PAE != 0 {
        walk_pae(mem, regs, lin & 0xFFFF_FFFF, access)
    } else {
        walk_32bit(mem, regs, lin & 0xFFFF_FFFF, access)
    }
}

/// One entry the walk used: where it lives and what it held.
#[derive(Clone, Copy)]
struct Used {
    addr: u64,
    value: u64,
    wide: bool,
}

/// Reads a paging-structure entry. Entries outside RAM read as all-ones,
/// like an undriven bus (and so fault with reserved bits).
fn read_entry(mem: &PhysMemory, addr: u64, wide: bool) -> u64 {
    let addr = mem.a20(addr);
    let n = if wide { 8 } else { 4 };
    let mut v = 0u64;
    for i in 0..n {
        v |= (mem.read_u8(addr + i).unwrap_or(0xFF) as u64) << (8 * i);
    }
    v
}

fn write_entry(mem: &mut PhysMemory, e: Used) {
    let addr = mem.a20(e.addr);
    let n = if e.wide { 8 } else { 4 };
    for i in 0..n {
        mem.write_u8(addr + i, (e.value >> (8 * i)) as u8);
    }
}

/// The error code for a fault on this access.
fn fault_code(regs: &PagingRegs, access: Access, present: bool, rsvd: bool, pae_or_long: bool) -> u32 {
    let mut code = 0;
    if present {
        code |= pf::PRESENT;
    }
    if access.kind == AccessKind::Write {
        code |= pf::WRITE;
    }
    if access.user {
        code |= pf::USER;
    }
    if rsvd {
        code |= pf::RSVD | pf::PRESENT;
    }
    // I/D is reported only where NX exists (SDM 4.7).
    if access.kind == AccessKind::Execute && pae_or_long && regs.nxe() {
        code |= pf::FETCH;
    }
    code
}

/// The permission check of SDM 4.6 on the combined rights of a walk.
fn allowed(regs: &PagingRegs, access: Access, writable: bool, user: bool, no_exec: bool) -> bool {
    if access.user && !user {
        return false;
    }
    match access.kind {
        AccessKind::Read => true,
        AccessKind::Write => writable || (!access.user && regs.cr0 & cr0::WP == 0),
        AccessKind::Execute => !no_exec,
    }
}

/// Finishes a walk: checks rights, sets A (and D) flags, builds the result.
#[allow(clippy::too_many_arguments)]
fn finish(
    mem: &mut PhysMemory,
    regs: &PagingRegs,
    access: Access,
    used: &mut [Used],
    phys: u64,
    page_size: u64,
    rights: (bool, bool, bool),
    long_or_pae: bool,
) -> Result<Translation, u32> {
    let (writable, user, no_exec) = rights;
    if !allowed(regs, access, writable, user, no_exec) {
        return Err(fault_code(regs, access, true, false, long_or_pae));
    }
    let last = used.len() - 1;
    for (i, e) in used.iter_mut().enumerate() {
        let mut v = e.value | A;
        if i == last && access.kind == AccessKind::Write {
            v |= D;
        }
        if v != e.value {
            e.value = v;
            write_entry(mem, *e);
        }
    }
    let leaf = used[last].value;
    Ok(Translation {
        phys,
        page_size,
        writable,
        user,
        no_exec,
        dirty: leaf & D != 0,
        global: leaf & G != 0 && regs.cr4 & cr4::PGE != 0,
    })
}

/// 4-level paging (SDM 4.5).
fn walk_4level(
    mem: &mut PhysMemory,
    regs: &PagingRegs,
    lin: u64,
    access: Access,
) -> Result<Translation, u32> {
    let nxe = regs.nxe();
    let xd_rsvd = if nxe { 0 } else { XD };
    let mut table = regs.cr3 & ADDR_MASK;
    let mut used = [Used { addr: 0, value: 0, wide: true }; 4];
    let (mut writable, mut user, mut no_exec) = (true, true, false);
    for level in (0..4).rev() {
        let shift = 12 + 9 * level;
        let addr = table + ((lin >> shift) & 0x1FF) * 8;
        let e = read_entry(mem, addr, true);
        used[3 - level] = Used { addr, value: e, wide: true };
        if e & P == 0 {
            return Err(fault_code(regs, access, false, false, true));
        }
        let large = e & PS != 0 && (level == 1 || level == 2);
        let mut rsvd = HIGH_RSVD | xd_rsvd;
        if level == 3 {
            rsvd |= PS; // PML4E: PS is reserved
        }
        if large {
            // Bits 12 (PAT) .. shift-1 must be zero beyond PAT.
            rsvd |= ((1u64 << shift) - 1) & !0x1FFF;
        }
        if e & rsvd != 0 {
            return Err(fault_code(regs, access, true, true, true));
        }
        writable &= e & RW != 0;
        user &= e & US != 0;
        no_exec |= nxe && e & XD != 0;
        if level == 0 || large {
            let size = 1u64 << shift;
            let base = e & ADDR_MASK & !(size - 1);
            let n = 4 - level;
            return finish(
                mem,
                regs,
                access,
                &mut used[..n],
                base | (lin & (size - 1)),
                size,
                (writable, user, no_exec),
                true,
            );
        }
        table = e & ADDR_MASK;
    }
    unreachable!("the level-0 entry always ends the walk")
}

/// PAE paging (SDM 4.4). PDPTEs are read at each walk rather than cached at
/// CR3 load; see the README's list of simplifications.
fn walk_pae(
    mem: &mut PhysMemory,
    regs: &PagingRegs,
    lin: u64,
    access: Access,
) -> Result<Translation, u32> {
    let nxe = regs.nxe();
    let xd_rsvd = if nxe { 0 } else { XD };
    let pdpte_addr = (regs.cr3 & 0xFFFF_FFE0) + ((lin >> 30) & 3) * 8;
    let pdpte = read_entry(mem, pdpte_addr, true);
    if pdpte & P == 0 {
        return Err(fault_code(regs, access, false, false, true));
    }
    // PDPTE reserved bits: 2:1, 8:5, 63:MAXPHYADDR.
    if pdpte & (HIGH_RSVD | XD | 0x1E6) != 0 {
        return Err(fault_code(regs, access, true, true, true));
    }
    let mut used = [Used { addr: 0, value: 0, wide: true }; 2];
    let (mut writable, mut user, mut no_exec) = (true, true, false);
    let mut table = pdpte & ADDR_MASK;
    for level in (0..2).rev() {
        let shift = 12 + 9 * level;
        let addr = table + ((lin >> shift) & 0x1FF) * 8;
        let e = read_entry(mem, addr, true);
        used[1 - level] = Used { addr, value: e, wide: true };
        if e & P == 0 {
            return Err(fault_code(regs, access, false, false, true));
        }
        let large = level == 1 && e & PS != 0;
        let mut rsvd = HIGH_RSVD | xd_rsvd;
        if large {
            rsvd |= 0x1F_E000; // bits 20:13
        }
        if e & rsvd != 0 {
            return Err(fault_code(regs, access, true, true, true));
        }
        writable &= e & RW != 0;
        user &= e & US != 0;
        no_exec |= nxe && e & XD != 0;
        if level == 0 || large {
            let size = 1u64 << shift;
            let base = e & ADDR_MASK & !(size - 1);
            let n = 2 - level;
            return finish(
                mem,
                regs,
                access,
                &mut used[..n],
                base | (lin & (size - 1)),
                size,
                (writable, user, no_exec),
                true,
            );
        }
        table = e & ADDR_MASK;
    }
    unreachable!("the PTE always ends the walk")
}

/// 32-bit paging (SDM 4.3), with 4 MiB pages under CR4.PSE (PSE-36: PDE
/// bits 20:13 are physical bits 39:32; bit 21 is reserved).
fn walk_32bit(
    mem: &mut PhysMemory,
    regs: &PagingRegs,
    lin: u64,
    access: Access,
) -> Result<Translation, u32> {
    let pde_addr = (regs.cr3 & 0xFFFF_F000) + ((lin >> 22) & 0x3FF) * 4;
    let pde = read_entry(mem, pde_addr, false);
    if pde & P == 0 {
        return Err(fault_code(regs, access, false, false, false));
    }
    let mut used = [
        Used { addr: pde_addr, value: pde, wide: false },
        Used { addr: 0, value: 0, wide: false },
    ];
    if pde & PS != 0 && regs.cr4 & cr4::PSE != 0 {
        if pde & (1 << 21) != 0 {
            return Err(fault_code(regs, access, true, true, false));
        }
        let base = (pde & 0xFFC0_0000) | (((pde >> 13) & 0xFF) << 32);
        return finish(
            mem,
            regs,
            access,
            &mut used[..1],
            base | (lin & 0x3F_FFFF),
            4 << 20,
            (pde & RW != 0, pde & US != 0, false),
            false,
        );
    }
    let pte_addr = (pde & 0xFFFF_F000) + ((lin >> 12) & 0x3FF) * 4;
    let pte = read_entry(mem, pte_addr, false);
    if pte & P == 0 {
        return Err(fault_code(regs, access, false, false, false));
    }
    used[1] = Used { addr: pte_addr, value: pte, wide: false };
    finish(
        mem,
        regs,
        access,
        &mut used,
        (pte & 0xFFFF_F000) | (lin & 0xFFF),
        4096,
        (pde & pte & RW != 0, pde & pte & US != 0, false),
        false,
    )
}
