//! Physical memory: guest RAM, the firmware ROM, and the holes between them.
//!
//! The physical map follows DESIGN.md:
//!
//! | range                     | what                                     |
//! |---------------------------|------------------------------------------|
//! | 0 .. 0xA0000              | RAM                                      |
//! | 0xA0000 .. 0xC0000        | legacy video window (MMIO, on the bus)   |
//! | 0xC0000 .. 0xF0000        | RAM                                      |
//! | 0xF0000 .. 0x100000       | firmware ROM, 64 KiB (writes are ignored); a 128 KiB ROM starts at 0xE0000 |
//! | 0x100000 .. ram_size      | RAM                                      |
//! | 0xFFFF0000 .. 4 GiB       | the same ROM again (the reset vector); 0xFFFE0000 for 128 KiB |
//! | everything else           | unclaimed: MMIO on the bus               |
//!
//! RAM is one anonymous `memmap2` mapping, so untouched pages cost the host
//! nothing. The A20 gate masks physical address bit 20 when it is off.
//!
//! This module also keeps the *code bitmap*: one bit per 4 KiB RAM page that
//! holds instructions the CPU has decoded and cached. A write to such a page
//! must reach the CPU's block cache (see `cpu::decode`).

use crate::machine::snapshot::{Persist, Result as SnapResult, SnapshotError, StateIo};
use memmap2::MmapMut;
use thiserror::Error;

/// Size of a page as the MMU and the code bitmap see it.
pub const PAGE_SIZE: u64 = 4096;
/// The firmware ROM is 64 KiB.
pub const ROM_SIZE: usize = 0x1_0000;
/// A firmware image may also be 128 KiB (mapped from 0xE0000).
pub const ROM_SIZE_LARGE: usize = 0x2_0000;
/// The ROM ends at 1 MiB and again at 4 GiB.
const ROM_LOW_END: u64 = 0x10_0000;
const ROM_HIGH_END: u64 = 0x1_0000_0000;
const VIDEO_START: u64 = 0xA_0000;
const VIDEO_END: u64 = 0xC_0000;
const A20_BIT: u64 = 1 << 20;

/// Host-side problems setting up memory.
#[derive(Debug, Error)]
pub enum MemoryError {
    #[error("RAM size {0} bytes is not a positive multiple of 4 KiB")]
    BadRamSize(u64),
    #[error("cannot reserve {size} bytes of guest RAM: {source}")]
    Map { size: u64, source: std::io::Error },
    #[error("a firmware ROM must be 65536 or 131072 bytes, this one is {0}")]
    BadRomSize(usize),
}

/// What lives at a physical page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    /// RAM; the offset of the page in the RAM mapping.
    Ram(usize),
    /// ROM; the offset of the page in the ROM image.
    Rom(usize),
    /// Anything else: reads and writes go to the bus.
    Mmio,
}

/// Guest physical memory.
pub struct PhysMemory {
    ram: MmapMut,
    ram_size: u64,
    rom: Box<[u8]>,
    a20_enabled: bool,
    code_pages: Vec<u64>,
}

impl PhysMemory {
    /// Reserves `ram_size` bytes of zeroed RAM and an all-ones ROM.
    pub fn new(ram_size: u64) -> Result<Self, MemoryError> {
        if ram_size == 0 || !ram_size.is_multiple_of(PAGE_SIZE) || ram_size > (1 << 40) {
            return Err(MemoryError::BadRamSize(ram_size));
        }
        let ram = MmapMut::map_anon(ram_size as usize).map_err(|source| MemoryError::Map {
            size: ram_size,
            source,
        })?;
        let pages = (ram_size / PAGE_SIZE) as usize;
        Ok(PhysMemory {
            ram,
            ram_size,
            rom: vec![0xFF; ROM_SIZE].into_boxed_slice(),
            a20_enabled: true,
            code_pages: vec![0; pages.div_ceil(64)],
        })
    }

    /// Installs a 64 or 128 KiB firmware image, mapped so it ends at 1 MiB
    /// and at 4 GiB (the reset vector is its last 16 bytes).
    pub fn load_rom(&mut self, image: &[u8]) -> Result<(), MemoryError> {
        if image.len() != ROM_SIZE && image.len() != ROM_SIZE_LARGE {
            return Err(MemoryError::BadRomSize(image.len()));
        }
        self.rom = image.to_vec().into_boxed_slice();
        Ok(())
    }

    pub fn ram_size(&self) -> u64 {
        self.ram_size
    }

    pub fn a20_enabled(&self) -> bool {
        self.a20_enabled
    }

    /// Opens or closes the A20 gate. The caller flushes the TLB.
    pub fn set_a20(&mut self, enabled: bool) {
        self.a20_enabled = enabled;
    }

    /// Applies the A20 gate to a physical address.
    #[inline]
    pub fn a20(&self, addr: u64) -> u64 {
        if self.a20_enabled {
            addr
        } else {
            addr & !A20_BIT
        }
    }

    /// What lives at physical address `addr` (already A20-masked).
    pub fn region(&self, addr: u64) -> Region {
        let page = addr & !(PAGE_SIZE - 1);
        let rom = self.rom.len() as u64;
        if (ROM_LOW_END - rom..ROM_LOW_END).contains(&page) {
            Region::Rom((page - (ROM_LOW_END - rom)) as usize)
        } else if (ROM_HIGH_END - rom..ROM_HIGH_END).contains(&page) {
            Region::Rom((page - (ROM_HIGH_END - rom)) as usize)
        } else if (VIDEO_START..VIDEO_END).contains(&page) {
            Region::Mmio
        } else if page < self.ram_size {
            Region::Ram(page as usize)
        } else {
            Region::Mmio
        }
    }

    /// A host pointer to the start of a RAM or ROM page, for the TLB.
    pub fn host_page(&mut self, region: Region) -> Option<*mut u8> {
        match region {
            // SAFETY: `region` came from `region()`, so the page offset plus
            // PAGE_SIZE lies inside the mapping.
            Region::Ram(off) => Some(unsafe { self.ram.as_mut_ptr().add(off) }),
            // SAFETY: as above, for the ROM buffer.
            Region::Rom(off) => Some(unsafe { self.rom.as_mut_ptr().add(off) }),
            Region::Mmio => None,
        }
    }

    /// The whole of RAM, for loaders and tests.
    pub fn ram(&self) -> &[u8] {
        &self.ram
    }

    /// The whole of RAM, mutably. Writers that may touch decoded code go
    /// through `Cpu::write_phys` instead so the block cache hears of it.
    pub fn ram_mut(&mut self) -> &mut [u8] {
        &mut self.ram
    }

    /// Reads one byte of physical memory; `None` for MMIO.
    pub fn read_u8(&self, addr: u64) -> Option<u8> {
        let off = (addr & (PAGE_SIZE - 1)) as usize;
        match self.region(addr) {
            Region::Ram(p) => Some(self.ram[p + off]),
            Region::Rom(p) => Some(self.rom[p + off]),
            Region::Mmio => None,
        }
    }

    /// Writes one byte of physical memory. Returns false for MMIO; ROM
    /// writes are dropped (and return true: they were handled).
    pub fn write_u8(&mut self, addr: u64, value: u8) -> bool {
        let off = (addr & (PAGE_SIZE - 1)) as usize;
        match self.region(addr) {
            Region::Ram(p) => {
                self.ram[p + off] = value;
                true
            }
            Region::Rom(_) => true,
            Region::Mmio => false,
        }
    }

    /// The bytes from `addr` to the end of its page, for RAM and ROM;
    /// `None` for MMIO. The decoder reads code through this.
    pub fn page_tail(&self, addr: u64) -> Option<&[u8]> {
        let off = (addr & (PAGE_SIZE - 1)) as usize;
        let page = match self.region(addr) {
            Region::Ram(p) => &self.ram[p..p + PAGE_SIZE as usize],
            Region::Rom(p) => &self.rom[p..p + PAGE_SIZE as usize],
            Region::Mmio => return None,
        };
        Some(&page[off..])
    }

    /// Whether the RAM page containing `addr` holds decoded code.
    #[inline]
    pub fn is_code_page(&self, addr: u64) -> bool {
        let page = (addr / PAGE_SIZE) as usize;
        self.code_pages
            .get(page / 64)
            .is_some_and(|w| w & (1 << (page % 64)) != 0)
    }

    /// Marks the page containing `addr` as holding decoded code.
    pub fn mark_code_page(&mut self, addr: u64) {
        let page = (addr / PAGE_SIZE) as usize;
        if let Some(w) = self.code_pages.get_mut(page / 64) {
            *w |= 1 << (page % 64);
        }
    }

    /// Clears the code mark of the page containing `addr`.
    pub fn clear_code_page(&mut self, addr: u64) {
        let page = (addr / PAGE_SIZE) as usize;
        if let Some(w) = self.code_pages.get_mut(page / 64) {
            *w &= !(1 << (page % 64));
        }
    }
}

impl Persist for PhysMemory {
    /// Snapshots (`machine::snapshot`): RAM as (page number, 4 KiB) pairs,
    /// all-zero pages left out, and the A20 gate. Loading clears the code
    /// bitmap: the CPU's block cache starts empty.
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("memory")?;
        io.expect("RAM size in bytes", self.ram_size)?;
        self.a20_enabled.persist(io)?;
        let page = PAGE_SIZE as usize;
        let mut pages: Vec<u64> = if io.is_loading() {
            Vec::new()
        } else {
            let zero = [0u8; PAGE_SIZE as usize];
            self.ram
                .chunks_exact(page)
                .enumerate()
                .filter(|(_, p)| *p != zero)
                .map(|(i, _)| i as u64)
                .collect()
        };
        pages.persist(io)?;
        if io.is_loading() {
            self.clear_ram();
            self.code_pages.fill(0);
        }
        let count = self.ram_size / PAGE_SIZE;
        for &n in &pages {
            if n >= count {
                return Err(SnapshotError::Malformed(format!(
                    "RAM page {n} past the end"
                )));
            }
            let at = n as usize * page;
            io.raw(&mut self.ram[at..at + page])?;
        }
        Ok(())
    }
}

impl PhysMemory {
    /// Zeroes all of RAM by giving the pages back to the host.
    fn clear_ram(&mut self) {
        // SAFETY: the range is exactly our private anonymous mapping; after
        // MADV_DONTNEED its pages read as zero, which is what we want, and
        // no reference into the mapping is alive (we hold `&mut self`).
        let r = unsafe {
            libc::madvise(
                self.ram.as_mut_ptr().cast(),
                self.ram.len(),
                libc::MADV_DONTNEED,
            )
        };
        if r != 0 {
            self.ram.fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_places_rom_video_and_ram() {
        let mem = PhysMemory::new(2 << 20).unwrap();
        assert_eq!(mem.region(0x7C00), Region::Ram(0x7000));
        assert_eq!(mem.region(0xB8000), Region::Mmio);
        assert_eq!(mem.region(0xFFFF0), Region::Rom(0xF000));
        assert_eq!(mem.region(0xFFFF_FFF0), Region::Rom(0xF000));
        assert_eq!(mem.region(0x20_0000), Region::Mmio);
    }

    #[test]
    fn a20_gate_off_wraps_at_one_megabyte() {
        let mut mem = PhysMemory::new(4 << 20).unwrap();
        mem.set_a20(false);
        assert_eq!(mem.a20(0x10_FFF0), 0xFFF0);
        mem.set_a20(true);
        assert_eq!(mem.a20(0x10_FFF0), 0x10_FFF0);
    }

    #[test]
    fn a_128k_rom_reaches_down_to_e0000() {
        let mut mem = PhysMemory::new(2 << 20).unwrap();
        let mut image = vec![0u8; ROM_SIZE_LARGE];
        image[0] = 0x11;
        mem.load_rom(&image).unwrap();
        assert_eq!(mem.region(0xE0000), Region::Rom(0));
        assert_eq!(mem.read_u8(0xE0000), Some(0x11));
        assert_eq!(mem.region(0xFFFE_0000), Region::Rom(0));
        assert!(matches!(
            mem.load_rom(&[0; 1000]),
            Err(MemoryError::BadRomSize(1000))
        ));
    }

    #[test]
    fn rom_writes_are_dropped() {
        let mut mem = PhysMemory::new(1 << 20).unwrap();
        mem.load_rom(&[0x90; ROM_SIZE]).unwrap();
        assert!(mem.write_u8(0xF0000, 0x12));
        assert_eq!(mem.read_u8(0xF0000), Some(0x90));
    }

    #[test]
    fn page_tail_runs_to_the_end_of_the_page() {
        let mut mem = PhysMemory::new(1 << 20).unwrap();
        mem.write_u8(0x2FFF, 0xAB);
        assert_eq!(mem.page_tail(0x2FFE), Some(&[0, 0xAB][..]));
        assert_eq!(mem.page_tail(0xB8000), None);
    }

    #[test]
    fn bad_ram_size_is_refused() {
        assert!(matches!(
            PhysMemory::new(1000),
            Err(MemoryError::BadRamSize(1000))
        ));
    }
}
