//! The master boot record: LBA 0 of a PC disk.
//!
//! Bytes 0..446 are boot code, 446..510 the partition table (four 16-byte
//! entries), 510..512 the signature 0x55 0xAA the BIOS checks. Each entry
//! (see the "Master boot record" layout in Wikipedia and the OSDev wiki,
//! "Partition Table"):
//!
//! | offset | size | field                                   |
//! |--------|------|-----------------------------------------|
//! | 0      | 1    | status: 0x80 active (bootable), 0 not    |
//! | 1      | 3    | CHS of the first sector                 |
//! | 4      | 1    | partition type (0x83 Linux, 0x82 swap)  |
//! | 5      | 3    | CHS of the last sector                  |
//! | 8      | 4    | LBA of the first sector                 |
//! | 12     | 4    | number of sectors                       |
//!
//! The LBA fields are what everything here uses; the CHS fields are filled
//! in for old readers (and QEMU's geometry guess) with [`Chs::from_lba`].

use core::fmt;

pub const SECTOR_SIZE: usize = 512;
/// Bytes of boot code before the table.
pub const BOOT_CODE_SIZE: usize = 446;
/// Offset of the first partition entry.
pub const TABLE_OFFSET: usize = 446;
/// Offset of the 0x55 0xAA signature.
pub const SIGNATURE_OFFSET: usize = 510;
pub const SIGNATURE: [u8; 2] = [0x55, 0xAA];
pub const ENTRY_SIZE: usize = 16;
pub const ENTRY_COUNT: usize = 4;

/// Status byte of the active (bootable) partition.
pub const STATUS_ACTIVE: u8 = 0x80;
/// Partition types.
pub const PART_EMPTY: u8 = 0x00;
pub const PART_SWAP: u8 = 0x82;
pub const PART_LINUX: u8 = 0x83;

/// The geometry the image builder writes CHS fields for: 16 heads and 63
/// sectors per track, the ATA default our disk model and QEMU report for
/// small disks.
pub const DEFAULT_HEADS: u32 = 16;
pub const DEFAULT_SECTORS_PER_TRACK: u32 = 63;

/// A packed cylinder/head/sector address as the table stores it: head,
/// then sector (bits 0..6) with cylinder bits 8..10 on top, then cylinder
/// bits 0..8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Chs(pub [u8; 3]);

impl Chs {
    /// The address of `lba` under `heads` x `sectors` geometry, or the
    /// conventional 1023/254/63 marker when the cylinder exceeds 1023.
    pub fn from_lba(lba: u32, heads: u32, sectors: u32) -> Chs {
        let heads = heads.max(1);
        let sectors = sectors.clamp(1, 63);
        let cylinder = lba / (heads * sectors);
        if cylinder > 1023 {
            return Chs([0xFE, 0xFF, 0xFF]);
        }
        let head = (lba / sectors) % heads;
        let sector = lba % sectors + 1;
        Chs([
            head as u8,
            (sector as u8 & 0x3F) | ((cylinder >> 2) as u8 & 0xC0),
            cylinder as u8,
        ])
    }
}

/// One partition-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PartitionEntry {
    /// Status 0x80.
    pub bootable: bool,
    /// Partition type ([`PART_LINUX`], [`PART_SWAP`], ...).
    pub kind: u8,
    pub first_lba: u32,
    pub sectors: u32,
    pub start_chs: Chs,
    pub end_chs: Chs,
}

impl PartitionEntry {
    /// A used entry with CHS fields for the default geometry.
    pub fn new(kind: u8, bootable: bool, first_lba: u32, sectors: u32) -> Self {
        let last = first_lba.saturating_add(sectors.saturating_sub(1));
        PartitionEntry {
            bootable,
            kind,
            first_lba,
            sectors,
            start_chs: Chs::from_lba(first_lba, DEFAULT_HEADS, DEFAULT_SECTORS_PER_TRACK),
            end_chs: Chs::from_lba(last, DEFAULT_HEADS, DEFAULT_SECTORS_PER_TRACK),
        }
    }

    pub fn parse(b: &[u8; ENTRY_SIZE]) -> Self {
        PartitionEntry {
            bootable: b[0] & STATUS_ACTIVE != 0,
            kind: b[4],
            first_lba: u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
            sectors: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
            start_chs: Chs([b[1], b[2], b[3]]),
            end_chs: Chs([b[5], b[6], b[7]]),
        }
    }

    pub fn write(&self, out: &mut [u8; ENTRY_SIZE]) {
        out[0] = if self.bootable { STATUS_ACTIVE } else { 0 };
        out[1..4].copy_from_slice(&self.start_chs.0);
        out[4] = self.kind;
        out[5..8].copy_from_slice(&self.end_chs.0);
        out[8..12].copy_from_slice(&self.first_lba.to_le_bytes());
        out[12..16].copy_from_slice(&self.sectors.to_le_bytes());
    }

    /// An entry with a type and a length describes a partition.
    pub fn is_used(&self) -> bool {
        self.kind != PART_EMPTY && self.sectors != 0
    }

    /// One past the last sector (64-bit, so it cannot overflow).
    pub fn end_lba(&self) -> u64 {
        self.first_lba as u64 + self.sectors as u64
    }
}

/// Why a sector is not a usable MBR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MbrError {
    /// Bytes 510..512 are not 0x55 0xAA.
    BadSignature,
}

impl fmt::Display for MbrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MbrError::BadSignature => f.write_str("no 0x55AA boot signature"),
        }
    }
}

/// The four entries of a boot sector, after checking its signature.
pub fn parse_table(sector: &[u8; SECTOR_SIZE]) -> Result<[PartitionEntry; ENTRY_COUNT], MbrError> {
    if sector[SIGNATURE_OFFSET..] != SIGNATURE {
        return Err(MbrError::BadSignature);
    }
    let mut entries = [PartitionEntry::default(); ENTRY_COUNT];
    for (i, entry) in entries.iter_mut().enumerate() {
        let at = TABLE_OFFSET + i * ENTRY_SIZE;
        let mut raw = [0u8; ENTRY_SIZE];
        raw.copy_from_slice(&sector[at..at + ENTRY_SIZE]);
        *entry = PartitionEntry::parse(&raw);
    }
    Ok(entries)
}

/// Writes the four entries and the signature, leaving the boot code.
pub fn write_table(sector: &mut [u8; SECTOR_SIZE], entries: &[PartitionEntry; ENTRY_COUNT]) {
    for (i, entry) in entries.iter().enumerate() {
        let at = TABLE_OFFSET + i * ENTRY_SIZE;
        let mut raw = [0u8; ENTRY_SIZE];
        entry.write(&mut raw);
        sector[at..at + ENTRY_SIZE].copy_from_slice(&raw);
    }
    sector[SIGNATURE_OFFSET..].copy_from_slice(&SIGNATURE);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_round_trips_through_a_sector() {
        let entries = [
            PartitionEntry::new(PART_LINUX, true, 2048, 114688),
            PartitionEntry::new(PART_SWAP, false, 116736, 16384),
            PartitionEntry::default(),
            PartitionEntry::default(),
        ];
        let mut sector = [0x90u8; SECTOR_SIZE];
        write_table(&mut sector, &entries);
        assert_eq!(parse_table(&sector), Ok(entries));
        assert_eq!(sector[0], 0x90, "boot code untouched");
        assert_eq!(&sector[510..], &[0x55, 0xAA]);
        assert_eq!(sector[446], 0x80);
        assert_eq!(sector[446 + 4], 0x83);
        assert_eq!(&sector[446 + 8..446 + 12], &2048u32.to_le_bytes());
    }

    #[test]
    fn missing_signature_is_an_error() {
        let sector = [0u8; SECTOR_SIZE];
        assert_eq!(parse_table(&sector), Err(MbrError::BadSignature));
    }

    #[test]
    fn unused_entries_are_not_used() {
        assert!(!PartitionEntry::default().is_used());
        assert!(PartitionEntry::new(PART_SWAP, false, 1, 1).is_used());
    }

    #[test]
    fn chs_of_lba_2048_is_cylinder_2_head_0_sector_33_with_16x63() {
        // 2048 = 2 * (16 * 63) + 0 * 63 + 32
        assert_eq!(Chs::from_lba(2048, 16, 63), Chs([0, 33, 2]));
    }

    #[test]
    fn chs_beyond_cylinder_1023_saturates() {
        assert_eq!(Chs::from_lba(2_000_000, 16, 63), Chs([0xFE, 0xFF, 0xFF]));
    }
}
