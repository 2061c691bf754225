//! The boot-info structure stage 2 hands the kernel, and the entry contract.
//!
//! # Entry contract
//! Stage 2 jumps to the kernel ELF's entry point with:
//! - the CPU in 64-bit long mode, CPL 0, interrupts disabled (IF = 0), flat
//!   64-bit code segment, data segments null or flat;
//! - paging on (CR0.PG, CR4.PAE, EFER.LME/NXE set) with stage 2's tables:
//!   the first 4 GiB identity-mapped, and every `PT_LOAD` segment of the
//!   kernel mapped from its `p_vaddr` to its `p_paddr` (4 KiB pages, writable
//!   only if the segment is, no-execute unless it is executable);
//! - SSE usable (CR0.EM = 0, CR0.MP = 1, CR4.OSFXSR and CR4.OSXMMEXCPT set);
//! - RSP on a 16-byte-aligned stack of at least 16 KiB in identity-mapped
//!   low memory, with RSP + 8 aligned as after a `call` (the SysV ABI);
//! - RDI holding the physical (identity-mapped) address of a [`BootInfo`].
//!
//! Everything stage 2 used (its code, its page tables, this structure and
//! the stack) lies below 1 MiB; the kernel keeps the first 1 MiB reserved
//! and copies what it needs from [`BootInfo`] before building its own page
//! tables.

/// "PCEMUBI1" in little-endian byte order.
pub const BOOT_INFO_MAGIC: u64 = u64::from_le_bytes(*b"PCEMUBI1");
/// Bumped when the layout changes.
pub const BOOT_INFO_VERSION: u32 = 1;
/// Room for this many E820 entries.
pub const MAX_MEMORY_REGIONS: usize = 64;
/// Room for a command line of this many bytes.
pub const MAX_CMDLINE: usize = 256;

/// The kernel's virtual base: the top 2 GiB, as `-C code-model=kernel`
/// requires (Linux's `__START_KERNEL_map`).
pub const KERNEL_VIRT_BASE: u64 = 0xFFFF_FFFF_8000_0000;

/// One entry of the BIOS E820 memory map (int 15h, EAX = E820h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryRegion {
    pub base: u64,
    pub length: u64,
    /// [`E820_RAM`], [`E820_RESERVED`], ...
    pub kind: u32,
    /// ACPI 3.0 extended attributes (bit 0: entry valid); 1 when absent.
    pub ext_attr: u32,
}

pub const E820_RAM: u32 = 1;
pub const E820_RESERVED: u32 = 2;
pub const E820_ACPI_RECLAIM: u32 = 3;
pub const E820_ACPI_NVS: u32 = 4;
pub const E820_BAD: u32 = 5;

/// Which disk and partition the kernel came from.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BootDisk {
    /// The BIOS drive number the firmware booted (DL at the MBR: 0x80...).
    pub bios_drive: u8,
    /// ATA channel stage 2 read the kernel from: 0 primary, 1 secondary.
    pub ata_channel: u8,
    /// 0 master, 1 slave.
    pub ata_drive: u8,
    /// The partition holding the root file system, 1-based (1..=4).
    pub partition: u8,
    pub _pad: u32,
    /// First sector of that partition (LBA) and its length in sectors.
    pub partition_lba: u64,
    pub partition_sectors: u64,
}

/// What stage 2 hands the kernel (see the module docs for the entry state).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BootInfo {
    /// [`BOOT_INFO_MAGIC`].
    pub magic: u64,
    /// [`BOOT_INFO_VERSION`].
    pub version: u32,
    /// Valid entries in `memory_map`.
    pub memory_map_len: u32,
    pub memory_map: [MemoryRegion; MAX_MEMORY_REGIONS],
    pub boot_disk: BootDisk,
    /// Physical range the kernel image occupies (lowest `p_paddr` to the
    /// end of the highest segment, page-rounded), so the page allocator can
    /// keep it.
    pub kernel_phys_start: u64,
    pub kernel_phys_end: u64,
    /// Valid bytes in `cmdline` (UTF-8, no terminator, trailing newline
    /// from `/boot/cmdline` already stripped).
    pub cmdline_len: u32,
    pub _pad: u32,
    pub cmdline: [u8; MAX_CMDLINE],
}

impl BootInfo {
    /// An empty boot info with the magic and version filled in.
    pub const fn new() -> Self {
        BootInfo {
            magic: BOOT_INFO_MAGIC,
            version: BOOT_INFO_VERSION,
            memory_map_len: 0,
            memory_map: [MemoryRegion {
                base: 0,
                length: 0,
                kind: 0,
                ext_attr: 0,
            }; MAX_MEMORY_REGIONS],
            boot_disk: BootDisk {
                bios_drive: 0,
                ata_channel: 0,
                ata_drive: 0,
                partition: 0,
                _pad: 0,
                partition_lba: 0,
                partition_sectors: 0,
            },
            kernel_phys_start: 0,
            kernel_phys_end: 0,
            cmdline_len: 0,
            _pad: 0,
            cmdline: [0; MAX_CMDLINE],
        }
    }

    /// Whether the magic and version are what this build expects.
    pub fn is_valid(&self) -> bool {
        self.magic == BOOT_INFO_MAGIC && self.version == BOOT_INFO_VERSION
    }

    /// The valid memory-map entries.
    pub fn memory_map(&self) -> &[MemoryRegion] {
        let n = (self.memory_map_len as usize).min(MAX_MEMORY_REGIONS);
        &self.memory_map[..n]
    }

    /// The command line, or `""` if it is not UTF-8.
    pub fn cmdline(&self) -> &str {
        let n = (self.cmdline_len as usize).min(MAX_CMDLINE);
        core::str::from_utf8(&self.cmdline[..n]).unwrap_or("")
    }
}

impl Default for BootInfo {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_fixed_so_stage2_and_kernel_agree() {
        assert_eq!(core::mem::size_of::<MemoryRegion>(), 24);
        assert_eq!(core::mem::size_of::<BootDisk>(), 24);
        assert_eq!(
            core::mem::size_of::<BootInfo>(),
            16 + 24 * MAX_MEMORY_REGIONS + 24 + 16 + 8 + MAX_CMDLINE
        );
    }

    #[test]
    fn cmdline_and_memory_map_are_bounded_by_their_lengths() {
        let mut info = BootInfo::new();
        info.cmdline[..5].copy_from_slice(b"quiet");
        info.cmdline_len = 5;
        info.memory_map_len = 1000;
        assert!(info.is_valid());
        assert_eq!(info.cmdline(), "quiet");
        assert_eq!(info.memory_map().len(), MAX_MEMORY_REGIONS);
    }
}
