//! Loads the kernel ELF: checks the headers and every `PT_LOAD` segment
//! against the file and the memory map, copies the segments to their
//! physical addresses (`p_paddr`) and maps them at their virtual ones
//! (`p_vaddr`) with 4 KiB pages, writable and executable as their flags say.

use crate::elf::{self, ElfError, Segment, EHDR_SIZE, MAX_PHDRS, PF_W, PF_X, PHDR_SIZE, PT_LOAD};
use crate::memory::MemoryMap;
use crate::paging::{self, Access, MapError};
use crate::rootfs::{File, FsError};

const PAGE: u64 = 4096;
/// Stage 2, its tables, the BIOS data and the legacy hole: the kernel may
/// not load below here (the kernel keeps the first 1 MiB reserved).
const LOW_MEMORY_END: u64 = 0x10_0000;
/// Only the first 4 GiB is identity-mapped, so that is where the segments
/// can be copied to.
const IDENTITY_END: u64 = 1 << 32;
/// Canonical higher-half addresses start here (48-bit linear addresses).
const HIGHER_HALF: u64 = 0xFFFF_8000_0000_0000;

pub enum LoadError {
    Read(FsError),
    Elf(ElfError),
    Map(MapError),
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::Read(e) => write!(f, "{e}"),
            LoadError::Elf(e) => write!(f, "{e}"),
            LoadError::Map(e) => write!(f, "{e}"),
        }
    }
}

impl From<FsError> for LoadError {
    fn from(e: FsError) -> Self {
        LoadError::Read(e)
    }
}
impl From<ElfError> for LoadError {
    fn from(e: ElfError) -> Self {
        LoadError::Elf(e)
    }
}
impl From<MapError> for LoadError {
    fn from(e: MapError) -> Self {
        LoadError::Map(e)
    }
}

/// Where the kernel went.
pub struct LoadedKernel {
    pub entry: u64,
    /// Page-rounded physical range of all its segments.
    pub phys_start: u64,
    pub phys_end: u64,
}

fn bad_segment(index: usize, why: &'static str) -> LoadError {
    LoadError::Elf(ElfError::BadSegment { index, why })
}

pub fn load(file: &mut File, memory: &MemoryMap, nx: bool) -> Result<LoadedKernel, LoadError> {
    let size = file.size();
    if size < EHDR_SIZE as u64 {
        return Err(ElfError::BadHeader("not an ELF file").into());
    }
    let mut ehdr = [0u8; EHDR_SIZE];
    file.read_exact_at(0, &mut ehdr)?;
    let header = elf::parse_header(&ehdr, size)?;

    let mut raw = [0u8; MAX_PHDRS * PHDR_SIZE];
    let raw = &mut raw[..header.phnum * PHDR_SIZE];
    file.read_exact_at(header.phoff, raw)?;
    let mut segments = [Segment::default(); MAX_PHDRS];
    let mut n = 0;
    for (index, bytes) in raw.chunks_exact(PHDR_SIZE).enumerate() {
        let seg = elf::parse_segment(bytes);
        if seg.kind != PT_LOAD || seg.memsz == 0 {
            continue;
        }
        check_segment(index, &seg, size, memory)?;
        for other in &segments[..n] {
            if seg.paddr < other.paddr + other.memsz && other.paddr < seg.paddr + seg.memsz {
                return Err(bad_segment(
                    index,
                    "overlaps another segment in physical memory",
                ));
            }
        }
        segments[n] = seg;
        n += 1;
    }
    let segments = &segments[..n];
    if segments.is_empty() {
        return Err(ElfError::BadHeader("no loadable segments").into());
    }
    let entry_ok = segments.iter().any(|s| {
        s.flags & PF_X != 0 && s.vaddr <= header.entry && header.entry < s.vaddr + s.memsz
    });
    if !entry_ok {
        return Err(ElfError::BadHeader("the entry point is not in an executable segment").into());
    }

    let mut kernel = LoadedKernel {
        entry: header.entry,
        phys_start: u64::MAX,
        phys_end: 0,
    };
    for seg in segments {
        // SAFETY: check_segment showed [paddr, paddr + memsz) is RAM below
        // 4 GiB (identity-mapped) and above stage 2's memory, and segments
        // do not overlap one another; nothing else lives there.
        let dest =
            unsafe { core::slice::from_raw_parts_mut(seg.paddr as *mut u8, seg.memsz as usize) };
        let (data, bss) = dest.split_at_mut(seg.filesz as usize);
        file.read_exact_at(seg.offset, data)?;
        bss.fill(0);

        let access = Access {
            writable: seg.flags & PF_W != 0,
            executable: seg.flags & PF_X != 0,
        };
        let first = seg.vaddr & !(PAGE - 1);
        let last = (seg.vaddr + seg.memsz - 1) & !(PAGE - 1);
        let phys_first = seg.paddr & !(PAGE - 1);
        let mut page = first;
        loop {
            paging::map_page(page, phys_first + (page - first), access, nx)?;
            if page == last {
                break;
            }
            page += PAGE;
        }
        kernel.phys_start = kernel.phys_start.min(phys_first);
        kernel.phys_end = kernel
            .phys_end
            .max((seg.paddr + seg.memsz).next_multiple_of(PAGE));
    }
    paging::flush();
    Ok(kernel)
}

fn check_segment(
    index: usize,
    seg: &Segment,
    file_size: u64,
    memory: &MemoryMap,
) -> Result<(), LoadError> {
    if seg.filesz > seg.memsz {
        return Err(bad_segment(index, "file size exceeds memory size"));
    }
    match seg.offset.checked_add(seg.filesz) {
        Some(end) if end <= file_size => {}
        _ => return Err(bad_segment(index, "its data lies outside the file")),
    }
    if seg.vaddr < HIGHER_HALF || seg.vaddr.checked_add(seg.memsz).is_none() {
        return Err(bad_segment(
            index,
            "virtual address not canonical in the higher half",
        ));
    }
    if seg.vaddr % PAGE != seg.paddr % PAGE {
        return Err(bad_segment(
            index,
            "virtual and physical addresses differ modulo 4 KiB",
        ));
    }
    let end = match seg.paddr.checked_add(seg.memsz) {
        Some(end) if end <= IDENTITY_END => end,
        _ => return Err(bad_segment(index, "physical address range above 4 GiB")),
    };
    if seg.paddr < LOW_MEMORY_END {
        return Err(bad_segment(
            index,
            "physical address below 1 MiB (stage 2's memory)",
        ));
    }
    if !memory.is_ram(seg.paddr, end) {
        return Err(bad_segment(
            index,
            "physical address range is not RAM in the memory map",
        ));
    }
    Ok(())
}
