//! A CPU placed directly in real, protected or long mode, with the tables
//! each mode needs already in memory, so flat code can run without
//! firmware or a boot loader. Tests, benchmarks and `emu exec` use it.
//!
//! Physical layout it writes:
//!
//! | address  | what                                                |
//! |----------|-----------------------------------------------------|
//! | 0x0500   | GDT (selectors below)                               |
//! | 0x0600   | TSS (64-bit or 32-bit; RSP0/ESP0 = `KERNEL_STACK`)   |
//! | 0x10000  | PML4, then a PDPT, then four page directories       |
//!
//! The page tables identity-map the first 4 GiB with 2 MiB pages, user and
//! writable, so code at CPL 3 can run too.

use crate::cpu::state::{cr0, cr4, efer, SegReg, Segment, TableRegister};
use crate::cpu::Cpu;

pub const GDT_BASE: u64 = 0x500;
pub const TSS_BASE: u64 = 0x600;
pub const PML4_BASE: u64 = 0x10000;
/// Ring-0 stack the TSS names for interrupts from CPL 3.
pub const KERNEL_STACK: u64 = 0x9F000;

/// GDT selectors.
pub mod sel {
    pub const CODE32: u16 = 0x08;
    pub const DATA32: u16 = 0x10;
    pub const CODE64: u16 = 0x18;
    pub const CODE16: u16 = 0x20;
    pub const DATA16: u16 = 0x28;
    pub const USER_CODE32: u16 = 0x33;
    pub const USER_DATA: u16 = 0x3B;
    pub const USER_CODE64: u16 = 0x43;
    pub const TSS: u16 = 0x48;
}

/// The mode to start in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareMode {
    /// Real mode, CS = DS = SS = 0.
    Real,
    /// 32-bit protected mode, flat segments, paging off.
    Protected32,
    /// Long mode, 64-bit code, identity-mapped 4 GiB.
    Long64,
    /// Long mode, 32-bit compatibility code, identity-mapped 4 GiB.
    Compat32,
}

/// Builds an 8-byte code/data/system descriptor.
pub fn descriptor(base: u32, limit: u32, access: u8, flags: u8) -> u64 {
    (limit as u64 & 0xFFFF)
        | ((base as u64 & 0xFF_FFFF) << 16)
        | ((access as u64) << 40)
        | (((limit as u64 >> 16) & 0xF) << 48)
        | (((flags as u64) & 0xF) << 52)
        | (((base as u64) >> 24) << 56)
}

fn write_u64(cpu: &mut Cpu, addr: u64, v: u64) {
    cpu.write_phys(addr, &v.to_le_bytes());
}

/// Writes the GDT, TSS and page tables and loads GDTR and TR.
fn write_tables(cpu: &mut Cpu, long: bool) {
    let gdt = [
        0,
        descriptor(0, 0xFFFFF, 0x9B, 0xC),          // 0x08 code32
        descriptor(0, 0xFFFFF, 0x93, 0xC),          // 0x10 data32
        descriptor(0, 0xFFFFF, 0x9B, 0xA),          // 0x18 code64
        descriptor(0, 0xFFFF, 0x9B, 0x0),           // 0x20 code16
        descriptor(0, 0xFFFF, 0x93, 0x0),           // 0x28 data16
        descriptor(0, 0xFFFFF, 0xFB, 0xC),          // 0x30 user code32
        descriptor(0, 0xFFFFF, 0xF3, 0xC),          // 0x38 user data
        descriptor(0, 0xFFFFF, 0xFB, 0xA),          // 0x40 user code64
        descriptor(TSS_BASE as u32, 0x67, 0x89, 0), // 0x48 TSS (available)
        0,                                          // 0x50 TSS high half (long mode)
    ];
    for (i, d) in gdt.iter().enumerate() {
        write_u64(cpu, GDT_BASE + 8 * i as u64, *d);
    }
    cpu.gdtr = TableRegister {
        base: GDT_BASE,
        limit: (gdt.len() * 8 - 1) as u16,
    };
    // TSS: 64-bit RSP0 at 4, 32-bit ESP0 at 4 / SS0 at 8.
    let mut tss = [0u8; 0x68];
    tss[4..12].copy_from_slice(&KERNEL_STACK.to_le_bytes());
    if !long {
        tss[8..10].copy_from_slice(&sel::DATA32.to_le_bytes());
    }
    tss[0x66..0x68].copy_from_slice(&0x68u16.to_le_bytes());
    cpu.write_phys(TSS_BASE, &tss);
    let mut tr = Segment::from_descriptor(sel::TSS, gdt[9]);
    tr.attr = (tr.attr & !0xF) | 0xB; // busy
    cpu.tr = tr;

    // Identity map of 4 GiB: PML4[0] -> PDPT; PDPT[i] -> PD i; 2 MiB pages.
    let pdpt = PML4_BASE + 0x1000;
    write_u64(cpu, PML4_BASE, pdpt | 0x7);
    for i in 0..4u64 {
        let pd = PML4_BASE + 0x2000 + i * 0x1000;
        write_u64(cpu, pdpt + i * 8, pd | 0x7);
        for j in 0..512u64 {
            let phys = (i << 30) | (j << 21);
            write_u64(cpu, pd + j * 8, phys | 0x87);
        }
    }
}

fn load_flat(cpu: &mut Cpu, code: u16, data: u16) {
    let gdt_entry = |cpu: &mut Cpu, s: u16| {
        let mut b = [0u8; 8];
        for (i, x) in b.iter_mut().enumerate() {
            *x = cpu
                .mem
                .read_u8(GDT_BASE + (s & !7) as u64 + i as u64)
                .unwrap_or(0);
        }
        Segment::from_descriptor(s, u64::from_le_bytes(b) | (1 << 40))
    };
    let cs = gdt_entry(cpu, code);
    let ds = gdt_entry(cpu, data);
    for s in [SegReg::Ds, SegReg::Es, SegReg::Ss, SegReg::Fs, SegReg::Gs] {
        cpu.seg[s as usize] = ds;
    }
    cpu.seg[SegReg::Cs as usize] = cs;
    cpu.cpl = 0;
}

/// Puts the CPU in `mode` at `entry` with the stack at `stack`, SSE enabled
/// (CR0.MP, CR4.OSFXSR, CR4.OSXMMEXCPT) outside real mode.
pub fn setup(cpu: &mut Cpu, mode: BareMode, entry: u64, stack: u64) {
    cpu.reset();
    cpu.cr0 = cr0::ET | cr0::NE;
    match mode {
        BareMode::Real => {
            cpu.seg[SegReg::Cs as usize] = Segment::real_mode(0);
        }
        BareMode::Protected32 => {
            write_tables(cpu, false);
            cpu.cr0 |= cr0::PE | cr0::MP;
            cpu.cr4 = cr4::OSFXSR | cr4::OSXMMEXCPT;
            load_flat(cpu, sel::CODE32, sel::DATA32);
        }
        BareMode::Long64 | BareMode::Compat32 => {
            write_tables(cpu, true);
            cpu.cr0 |= cr0::PE | cr0::MP | cr0::PG | cr0::WP;
            cpu.cr4 = cr4::PAE | cr4::OSFXSR | cr4::OSXMMEXCPT | cr4::PGE;
            cpu.cr3 = PML4_BASE;
            cpu.efer = efer::LME | efer::LMA | efer::NXE | efer::SCE;
            let code = if mode == BareMode::Long64 {
                sel::CODE64
            } else {
                sel::CODE32
            };
            load_flat(cpu, code, sel::DATA32);
        }
    }
    cpu.tlb.flush_all();
    cpu.update_mode();
    cpu.rip = entry;
    cpu.gpr[4] = stack;
}
