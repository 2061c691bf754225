//! Helpers for MMU tests: paging-structure entries written straight into
//! guest memory, the paging registers set from Rust, edits of the bare
//! machine's identity map, and a one-gate IDT for catching #PF.
//!
//! Tests drive the MMU through `Cpu` fields (`cr0`, `cr3`, `cr4`, `efer`)
//! and the MMU entry points (`translate`, `read_lin`, `write_lin`,
//! `tlb.flush_page`, `paging_control_changed`), so they do not depend on
//! MOV to CRn or INVLPG being implemented.

use emulator::bare::{sel, PML4_BASE};
use emulator::cpu::state::{cr0, cr4, efer};
use emulator::cpu::Cpu;
use emulator::mmu::{Access, AccessKind};

/// Entry bits (SDM Vol. 3A, Tables 4-5 .. 4-20).
pub const P: u64 = 1 << 0;
pub const RW: u64 = 1 << 1;
pub const US: u64 = 1 << 2;
pub const A: u64 = 1 << 5;
pub const D: u64 = 1 << 6;
pub const PS: u64 = 1 << 7;
pub const G: u64 = 1 << 8;
pub const XD: u64 = 1 << 63;

/// Which paging mode to put the CPU in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    Bits32,
    Pae,
    Level4,
}

impl Paging {
    /// Size of one paging-structure entry in bytes.
    pub fn entry_size(self) -> u64 {
        if self == Paging::Bits32 {
            4
        } else {
            8
        }
    }
}

/// Writes a paging-structure entry of `width` bytes (4 or 8).
pub fn set_entry(cpu: &mut Cpu, addr: u64, value: u64, width: u64) {
    cpu.write_phys(addr, &value.to_le_bytes()[..width as usize]);
}

/// Reads a paging-structure entry of `width` bytes.
pub fn entry(cpu: &Cpu, addr: u64, width: u64) -> u64 {
    let ram = cpu.mem.ram();
    let mut b = [0u8; 8];
    b[..width as usize].copy_from_slice(&ram[addr as usize..(addr + width) as usize]);
    u64::from_le_bytes(b)
}

/// Puts the paging registers in `mode` with CR3 = `cr3`; `cr4_extra`
/// (PSE, PGE) and `efer_extra` (NXE) are added, WP set as asked. The TLB is
/// emptied and, for PAE, the PDPTE registers are loaded.
pub fn enter(cpu: &mut Cpu, mode: Paging, cr3: u64, cr4_extra: u64, efer_extra: u64, wp: bool) {
    cpu.cr0 = cr0::PE | cr0::ET | cr0::NE | cr0::PG | if wp { cr0::WP } else { 0 };
    cpu.cr3 = cr3;
    cpu.cr4 = cr4_extra | if mode == Paging::Bits32 { 0 } else { cr4::PAE };
    cpu.efer = efer_extra
        | if mode == Paging::Level4 {
            efer::LME | efer::LMA
        } else {
            0
        };
    cpu.load_pdptes().expect("PDPTEs load");
    cpu.tlb.flush_all();
}

/// An access as the MMU sees it.
pub fn access(kind: AccessKind, user: bool) -> Access {
    Access { kind, user }
}

/// Physical address of the bare identity map's PDE for `lin` (< 4 GiB):
/// `bare` puts four page directories after the PML4 and the PDPT.
pub fn bare_pde_addr(lin: u64) -> u64 {
    PML4_BASE + 0x2000 + (lin >> 30) * 0x1000 + ((lin >> 21) & 0x1FF) * 8
}

/// Replaces the bare map's 2 MiB page holding `lin` by a page table at
/// `pt` that maps the same 2 MiB identically in 4 KiB pages (user,
/// writable), so single pages can then be changed with `bare_pte_addr`.
pub fn split_bare_2m(cpu: &mut Cpu, lin: u64, pt: u64) {
    let base = lin & !0x1F_FFFF;
    for i in 0..512u64 {
        set_entry(cpu, pt + i * 8, (base + (i << 12)) | P | RW | US, 8);
    }
    set_entry(cpu, bare_pde_addr(lin), pt | P | RW | US, 8);
    cpu.tlb.flush_all();
}

/// Address of the PTE for `lin` in a page table made by `split_bare_2m`.
pub fn bare_pte_addr(pt: u64, lin: u64) -> u64 {
    pt + ((lin >> 12) & 0x1FF) * 8
}

/// A 64-bit IDT at `idt` whose only gate, for `vector`, is a ring-0
/// interrupt gate to `handler`.
pub fn install_gate64(cpu: &mut Cpu, idt: u64, vector: u8, handler: u64) {
    let lo = (handler & 0xFFFF)
        | ((sel::CODE64 as u64) << 16)
        | (0x8Eu64 << 40)
        | (((handler >> 16) & 0xFFFF) << 48);
    let hi = handler >> 32;
    let at = idt + vector as u64 * 16;
    cpu.write_phys(at, &lo.to_le_bytes());
    cpu.write_phys(at + 8, &hi.to_le_bytes());
    cpu.idtr.base = idt;
    cpu.idtr.limit = 256 * 16 - 1;
}

/// Reads a u64 of guest physical memory (identity-mapped stacks).
pub fn phys_u64(cpu: &Cpu, addr: u64) -> u64 {
    entry(cpu, addr, 8)
}
