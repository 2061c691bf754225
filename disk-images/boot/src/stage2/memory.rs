//! The physical memory map: the BIOS's E820 entries the real-mode code
//! collected, or, on a BIOS without E820h, a map made from int 15h E801h
//! (or 88h) and int 12h.

use ondisk::bootinfo::{MemoryRegion, E820_RAM, E820_RESERVED, MAX_MEMORY_REGIONS};

/// What `entry.s` left in `.data16`.
mod found {
    extern "C" {
        pub static s2_e820_count: u16;
        pub static s2_e820: [[u8; 24]; 64];
        pub static s2_int12_kib: u16;
        pub static s2_e801_ok: u8;
        pub static s2_e801_kib: u16;
        pub static s2_e801_blocks: u16;
        pub static s2_int88_ok: u8;
        pub static s2_int88_kib: u16;
    }
}

/// Where the map came from, for the log.
#[derive(Clone, Copy)]
pub enum Source {
    E820,
    E801,
    Int88,
}

/// The memory map, as the kernel will get it.
pub struct MemoryMap {
    pub regions: [MemoryRegion; MAX_MEMORY_REGIONS],
    pub len: usize,
    pub source: Source,
}

impl MemoryMap {
    pub fn regions(&self) -> &[MemoryRegion] {
        &self.regions[..self.len]
    }

    fn push(&mut self, base: u64, length: u64, kind: u32) {
        if length != 0 && self.len < MAX_MEMORY_REGIONS {
            self.regions[self.len] = MemoryRegion {
                base,
                length,
                kind,
                ext_attr: 1,
            };
            self.len += 1;
        }
    }

    /// Whether `[start, end)` is all usable RAM (possibly spread over
    /// adjacent RAM entries).
    pub fn is_ram(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            let next = self
                .regions()
                .iter()
                .filter(|r| {
                    r.kind == E820_RAM && r.base <= at && at < r.base.saturating_add(r.length)
                })
                .map(|r| r.base.saturating_add(r.length))
                .max();
            match next {
                Some(n) => at = n,
                None => return false,
            }
        }
        true
    }
}

/// Builds the map from what the real-mode code found; `None` if the BIOS
/// answered none of E820h, E801h and 88h.
pub fn collect() -> Option<MemoryMap> {
    let mut map = MemoryMap {
        regions: [MemoryRegion::default(); MAX_MEMORY_REGIONS],
        len: 0,
        source: Source::E820,
    };
    // SAFETY: the real-mode code wrote these before entering long mode and
    // nothing writes them since; plain reads of initialised statics.
    let (count, e820, int12, e801_ok, e801_kib, e801_blocks, int88_ok, int88_kib) = unsafe {
        use found::*;
        (
            usize::from(s2_e820_count),
            &s2_e820,
            u64::from(s2_int12_kib),
            s2_e801_ok != 0,
            u64::from(s2_e801_kib),
            u64::from(s2_e801_blocks),
            s2_int88_ok != 0,
            u64::from(s2_int88_kib),
        )
    };
    if count > 0 {
        // ACPI 3.0: base u64, length u64, type u32, extended attributes u32.
        for raw in e820.iter().take(count) {
            let field = |at: usize, n: usize| {
                let mut v = [0u8; 8];
                v[..n].copy_from_slice(&raw[at..at + n]);
                u64::from_le_bytes(v)
            };
            let attr = field(20, 4) as u32;
            if attr & 1 == 0 {
                continue; // ACPI 3.0: bit 0 clear means "ignore this entry"
            }
            let (base, length, kind) = (field(0, 8), field(8, 8), field(16, 4) as u32);
            if length != 0 && map.len < MAX_MEMORY_REGIONS {
                map.regions[map.len] = MemoryRegion {
                    base,
                    length,
                    kind,
                    ext_attr: attr,
                };
                map.len += 1;
            }
        }
        return Some(map);
    }
    // No E820h: conventional memory from int 12h, the legacy hole, then
    // extended memory.
    let low = if int12 == 0 { 640 * 1024 } else { int12 * 1024 };
    map.push(0, low, E820_RAM);
    map.push(low, 0x10_0000 - low, E820_RESERVED);
    if e801_ok {
        map.source = Source::E801;
        map.push(0x10_0000, e801_kib * 1024, E820_RAM);
        map.push(0x100_0000, e801_blocks * 64 * 1024, E820_RAM);
    } else if int88_ok {
        map.source = Source::Int88;
        map.push(0x10_0000, int88_kib * 1024, E820_RAM);
    } else {
        return None;
    }
    Some(map)
}
