//! Direct kernel boot (`emu run --kernel ELF --append CMDLINE`), as QEMU's
//! `-kernel` does: skip the firmware and the boot loader and enter a
//! kernel ELF in the state stage 2 would leave it in.
//!
//! The entry contract is stage 2's, written down in `ondisk::bootinfo`:
//! long mode with interrupts off and SSE on, the first 4 GiB
//! identity-mapped, each `PT_LOAD` segment mapped from `p_vaddr` to
//! `p_paddr` with 4 KiB pages (writable only if the segment is, no-execute
//! unless it is executable), a stack in low memory, and RDI pointing at a
//! [`BootInfo`] with an E820 map, the command line and the boot disk.
//! Kernel developers use it to try a kernel without rebuilding an image;
//! the devices are still there, so a disk given with `--disk` works.
//!
//! Physical layout below 1 MiB, on top of what [`bare`] writes (GDT at
//! 0x500, TSS at 0x600, identity-map tables at 0x10000..0x16000):
//!
//! | address            | what                                   |
//! |--------------------|----------------------------------------|
//! | 0x08000            | [`BootInfo`]                           |
//! | 0x20000..0x80000   | page tables for the kernel's segments  |
//! | 0x80000..0x9F000   | the entry stack (grows down)           |

use crate::bare::{self, BareMode};
use crate::cpu::Cpu;
use object::elf::{FileHeader64, ProgramHeader64, EM_X86_64, ET_EXEC, PF_W, PF_X, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};
use object::LittleEndian;
use ondisk::bootinfo::{
    BootInfo, MemoryRegion, E820_RAM, E820_RESERVED, MAX_CMDLINE, MAX_MEMORY_REGIONS,
};
use std::ops::Range;

const BOOT_INFO_ADDR: u64 = 0x8000;
const TABLES: Range<u64> = 0x2_0000..0x8_0000;
const STACK_TOP: u64 = 0x9_F000;
/// Below this the loader's own structures live; the kernel must load above.
const LOW_MEMORY_END: u64 = 0x10_0000;
const PAGE: u64 = 4096;

/// Page-table entry bits (SDM Vol. 3A, 4.5, Tables 4-14 to 4-19).
const PRESENT: u64 = 1;
const WRITABLE: u64 = 1 << 1;
const NO_EXECUTE: u64 = 1 << 63;
const ADDR_MASK: u64 = 0x000F_FFFF_FFFF_F000;

/// Why a kernel cannot be booted directly.
#[derive(Debug, thiserror::Error)]
pub enum DirectBootError {
    #[error("not an ELF64 x86-64 executable: {0}")]
    BadElf(&'static str),
    #[error("segment {index} ({paddr:#x}, {size:#x} bytes) is outside RAM above 1 MiB")]
    SegmentOutsideRam { index: usize, paddr: u64, size: u64 },
    #[error("segment {index} maps to {vaddr:#x}, which is not a canonical address")]
    NotCanonical { index: usize, vaddr: u64 },
    #[error("two segments map {vaddr:#x} to different physical pages")]
    Overlap { vaddr: u64 },
    #[error("the kernel needs more page tables than the loader has room for")]
    TooManyTables,
    #[error("the command line is longer than {MAX_CMDLINE} bytes")]
    CmdlineTooLong,
    #[error("no loadable segments")]
    NoSegments,
}

/// One loadable segment, checked.
struct Segment {
    vaddr: u64,
    paddr: u64,
    file: Range<usize>,
    memsz: u64,
    writable: bool,
    executable: bool,
}

/// Loads `elf` into the machine's RAM and puts the CPU at its entry point
/// per the boot contract, with `cmdline` in the boot info.
pub fn boot_kernel(cpu: &mut Cpu, elf: &[u8], cmdline: &str) -> Result<(), DirectBootError> {
    if cmdline.len() > MAX_CMDLINE {
        return Err(DirectBootError::CmdlineTooLong);
    }
    let ram_size = cpu.mem.ram_size();
    let (entry, segments) = parse(elf, ram_size)?;

    bare::setup(cpu, BareMode::Long64, entry, STACK_TOP - 8);
    let ram = cpu.mem.ram_mut();
    for s in &segments {
        let dst = s.paddr as usize;
        let filesz = s.file.len();
        ram[dst..dst + filesz].copy_from_slice(&elf[s.file.clone()]);
        ram[dst + filesz..dst + s.memsz as usize].fill(0);
    }
    let mut tables = TableAllocator::new(cpu);
    for s in &segments {
        tables.map_segment(s)?;
    }

    let mut info = BootInfo::new();
    let map = memory_map(ram_size);
    info.memory_map[..map.len()].copy_from_slice(&map);
    info.memory_map_len = map.len() as u32;
    info.cmdline[..cmdline.len()].copy_from_slice(cmdline.as_bytes());
    info.cmdline_len = cmdline.len() as u32;
    info.boot_disk.bios_drive = 0x80;
    info.kernel_phys_start = segments.iter().map(|s| s.paddr).min().unwrap_or(0) & !(PAGE - 1);
    info.kernel_phys_end = segments
        .iter()
        .map(|s| (s.paddr + s.memsz).next_multiple_of(PAGE))
        .max()
        .unwrap_or(0);
    // SAFETY: BootInfo is repr(C) plain data (integers and arrays of
    // integers, explicit padding fields), so viewing it as bytes reads only
    // initialised memory.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (&info as *const BootInfo).cast::<u8>(),
            std::mem::size_of::<BootInfo>(),
        )
    };
    cpu.write_phys(BOOT_INFO_ADDR, bytes);
    cpu.gpr[7] = BOOT_INFO_ADDR; // RDI
    cpu.tlb.flush_all();
    Ok(())
}

/// The E820 map a PC BIOS would report for `ram_size` bytes of RAM.
fn memory_map(ram_size: u64) -> Vec<MemoryRegion> {
    let region = |base: u64, end: u64, kind: u32| MemoryRegion {
        base,
        length: end - base,
        kind,
        ext_attr: 1,
    };
    let mut map = vec![
        region(0, 0x9_FC00, E820_RAM),
        region(0x9_FC00, 0xA_0000, E820_RESERVED),
        region(0xF_0000, 0x10_0000, E820_RESERVED),
    ];
    if ram_size > LOW_MEMORY_END {
        map.push(region(LOW_MEMORY_END, ram_size, E820_RAM));
    }
    map.push(region(0xFFFF_0000, 0x1_0000_0000, E820_RESERVED));
    debug_assert!(map.len() <= MAX_MEMORY_REGIONS);
    map
}

/// Checks the ELF header and program headers and returns the entry point
/// and the loadable segments.
fn parse(elf: &[u8], ram_size: u64) -> Result<(u64, Vec<Segment>), DirectBootError> {
    let e = LittleEndian;
    let header =
        FileHeader64::<LittleEndian>::parse(elf).map_err(|_| DirectBootError::BadElf("header"))?;
    if !header.is_little_endian() {
        return Err(DirectBootError::BadElf("not little-endian"));
    }
    if header.e_machine(e) != EM_X86_64 {
        return Err(DirectBootError::BadElf("not x86-64"));
    }
    if header.e_type(e) != ET_EXEC {
        return Err(DirectBootError::BadElf("not an executable (ET_EXEC)"));
    }
    let phdrs: &[ProgramHeader64<LittleEndian>] = header
        .program_headers(e, elf)
        .map_err(|_| DirectBootError::BadElf("program headers"))?;
    let mut segments = Vec::new();
    for (index, ph) in phdrs.iter().enumerate() {
        if ph.p_type(e) != PT_LOAD || ph.p_memsz(e) == 0 {
            continue;
        }
        let (offset, filesz, memsz) = (ph.p_offset(e), ph.p_filesz(e), ph.p_memsz(e));
        let (vaddr, paddr) = (ph.p_vaddr(e), ph.p_paddr(e));
        let file_end = offset
            .checked_add(filesz)
            .filter(|&end| end <= elf.len() as u64 && filesz <= memsz)
            .ok_or(DirectBootError::BadElf("segment outside the file"))?;
        let inside_ram =
            paddr >= LOW_MEMORY_END && paddr.checked_add(memsz).is_some_and(|end| end <= ram_size);
        if !inside_ram {
            return Err(DirectBootError::SegmentOutsideRam {
                index,
                paddr,
                size: memsz,
            });
        }
        let canonical = |a: u64| (((a << 16) as i64) >> 16) as u64 == a;
        if !canonical(vaddr)
            || !vaddr
                .checked_add(memsz)
                .is_some_and(|end| canonical(end - 1))
        {
            return Err(DirectBootError::NotCanonical { index, vaddr });
        }
        if vaddr % PAGE != paddr % PAGE {
            return Err(DirectBootError::BadElf(
                "p_vaddr and p_paddr differ within a page",
            ));
        }
        let flags = ph.p_flags(e);
        segments.push(Segment {
            vaddr,
            paddr,
            file: offset as usize..file_end as usize,
            memsz,
            writable: flags & PF_W != 0,
            executable: flags & PF_X != 0,
        });
    }
    if segments.is_empty() {
        return Err(DirectBootError::NoSegments);
    }
    Ok((header.e_entry(e), segments))
}

/// Hands out zeroed 4 KiB tables from [`TABLES`] and maps pages in the
/// PML4 that [`bare::setup`] made.
struct TableAllocator<'a> {
    cpu: &'a mut Cpu,
    next: u64,
}

impl<'a> TableAllocator<'a> {
    fn new(cpu: &'a mut Cpu) -> Self {
        TableAllocator {
            cpu,
            next: TABLES.start,
        }
    }

    fn read(&mut self, addr: u64) -> u64 {
        self.cpu.read_phys_sized(addr, 8)
    }

    fn write(&mut self, addr: u64, value: u64) {
        self.cpu.write_phys_sized(addr, 8, value);
    }

    /// The table an entry points to, allocating it when the entry is empty.
    /// An entry that maps a large page (the identity map's 2 MiB pages) is
    /// split by giving it a fresh table; kernels live above the identity
    /// map's reach anyway.
    fn next_level(&mut self, entry_addr: u64) -> Result<u64, DirectBootError> {
        let entry = self.read(entry_addr);
        if entry & PRESENT != 0 && entry & (1 << 7) == 0 {
            return Ok(entry & ADDR_MASK);
        }
        if self.next >= TABLES.end {
            return Err(DirectBootError::TooManyTables);
        }
        let table = self.next;
        self.next += PAGE;
        self.cpu.write_phys(table, &[0u8; PAGE as usize]);
        // Upper levels are permissive; the leaf decides W and NX.
        self.write(entry_addr, table | PRESENT | WRITABLE);
        Ok(table)
    }

    fn map_segment(&mut self, s: &Segment) -> Result<(), DirectBootError> {
        let mut flags = PRESENT;
        if s.writable {
            flags |= WRITABLE;
        }
        if !s.executable {
            flags |= NO_EXECUTE;
        }
        let first = s.vaddr & !(PAGE - 1);
        let end = s.vaddr + s.memsz;
        let mut va = first;
        while va < end {
            let pa = (s.paddr & !(PAGE - 1)) + (va - first);
            let mut table = bare::PML4_BASE;
            for shift in [39u32, 30, 21] {
                table = self.next_level(table + ((va >> shift) & 0x1FF) * 8)?;
            }
            let pte = table + ((va >> 12) & 0x1FF) * 8;
            let old = self.read(pte);
            if old & PRESENT != 0 && old & ADDR_MASK != pa & ADDR_MASK {
                return Err(DirectBootError::Overlap { vaddr: va });
            }
            // Two segments sharing a page get the union of their rights.
            let merged = if old & PRESENT != 0 {
                PRESENT | ((flags | old) & WRITABLE) | (flags & old & NO_EXECUTE)
            } else {
                flags
            };
            self.write(pte, (pa & ADDR_MASK) | merged);
            va += PAGE;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_map_reports_low_and_extended_ram_around_the_holes() {
        let map = memory_map(256 << 20);
        let ram: Vec<_> = map.iter().filter(|r| r.kind == E820_RAM).collect();
        assert_eq!(ram.len(), 2);
        assert_eq!((ram[0].base, ram[0].length), (0, 0x9_FC00));
        assert_eq!(
            (ram[1].base, ram[1].base + ram[1].length),
            (0x10_0000, 256 << 20)
        );
    }

    /// A one-segment ELF64 executable at `vaddr`/`paddr` holding `code`.
    fn tiny_elf(vaddr: u64, paddr: u64, code: &[u8], flags: u32) -> Vec<u8> {
        let mut elf = vec![0u8; 0x1000];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2; // ELFCLASS64
        elf[5] = 1; // little-endian
        elf[6] = 1; // EV_CURRENT
        elf[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        elf[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        elf[20..24].copy_from_slice(&1u32.to_le_bytes());
        elf[24..32].copy_from_slice(&vaddr.to_le_bytes()); // e_entry
        elf[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        elf[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        elf[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        elf[56..58].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        let ph = &mut elf[64..120];
        ph[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
        ph[4..8].copy_from_slice(&flags.to_le_bytes());
        ph[8..16].copy_from_slice(&0x1000u64.to_le_bytes()); // p_offset
        ph[16..24].copy_from_slice(&vaddr.to_le_bytes());
        ph[24..32].copy_from_slice(&paddr.to_le_bytes());
        ph[32..40].copy_from_slice(&(code.len() as u64).to_le_bytes());
        ph[40..48].copy_from_slice(&0x2000u64.to_le_bytes()); // p_memsz
        elf.extend_from_slice(code);
        elf
    }

    fn cpu() -> Cpu {
        let mem = crate::memory::PhysMemory::new(64 << 20).unwrap();
        Cpu::new(mem, Box::new(crate::bus::NullBus))
    }

    #[test]
    fn kernel_runs_in_the_higher_half_with_boot_info_in_rdi() {
        // mov rax, [rdi]; mov rbx, [rdi + cmdline]; mov [rip + 0x100], rax; hlt
        let cmdline_offset = std::mem::offset_of!(BootInfo, cmdline) as u32;
        let mut code = vec![0x48, 0x8B, 0x07, 0x48, 0x8B, 0x9F];
        code.extend_from_slice(&cmdline_offset.to_le_bytes());
        code.extend_from_slice(&[0x48, 0x89, 0x05, 0x00, 0x01, 0x00, 0x00, 0xF4]);
        let elf = tiny_elf(0xFFFF_FFFF_8010_0000, 0x10_0000, &code, PF_X | PF_W);
        let mut cpu = cpu();

        boot_kernel(&mut cpu, &elf, "root=/dev/hda1").unwrap();
        let stop = cpu.run(100);

        assert!(matches!(stop, crate::cpu::Stop::Halted), "{stop:?}");
        assert_eq!(cpu.gpr[0], ondisk::bootinfo::BOOT_INFO_MAGIC);
        assert_eq!(&cpu.gpr[3].to_le_bytes(), b"root=/de");
        // The store's RIP-relative target: the end of the store (just
        // before the hlt) plus 0x100.
        let stored = cpu.read_phys_sized(0x10_0000 + code.len() as u64 - 1 + 0x100, 8);
        assert_eq!(stored, ondisk::bootinfo::BOOT_INFO_MAGIC, "bss is writable");
    }

    #[test]
    fn read_only_segment_is_mapped_without_write_access() {
        // mov [rip], al: a write into its own read-only, executable page.
        let code = [0x88, 0x05, 0x00, 0x00, 0x00, 0x00, 0xF4];
        let elf = tiny_elf(0xFFFF_FFFF_8010_0000, 0x10_0000, &code, PF_X);
        let mut cpu = cpu();

        boot_kernel(&mut cpu, &elf, "").unwrap();
        cpu.run(100);

        assert_eq!(cpu.cr2, 0xFFFF_FFFF_8010_0006, "the write faulted");
    }

    #[test]
    fn segment_below_1_mib_is_refused() {
        let elf = tiny_elf(0xFFFF_FFFF_8000_8000, 0x8000, &[0xF4], PF_X);
        let err = boot_kernel(&mut cpu(), &elf, "").err();
        assert!(
            matches!(err, Some(DirectBootError::SegmentOutsideRam { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn garbage_is_refused_as_bad_elf() {
        let err = parse(b"not an elf at all, just some bytes", 256 << 20).err();
        assert!(matches!(err, Some(DirectBootError::BadElf(_))), "{err:?}");
    }
}
