//! One partition of an ATA disk as a byte-addressed device, the
//! [`ondisk::ext2::ReadAt`] the ext2 reader works on.
//!
//! Whole sectors inside a request go straight from the drive into the
//! caller's buffer; a partial first or last sector goes through a
//! one-sector cache, so the small reads a file-system walk makes (a
//! superblock field, a directory entry) cost one drive read per sector.

use crate::ata::{AtaDisk, AtaError, SECTOR_SIZE};

pub struct Partition {
    disk: AtaDisk,
    first_lba: u64,
    sectors: u64,
    cached_lba: Option<u64>,
    cache: [u8; SECTOR_SIZE],
    /// The drive error behind the last failed read, for the message.
    pub last_error: Option<AtaError>,
}

impl Partition {
    pub fn new(disk: AtaDisk, first_lba: u64, sectors: u64) -> Partition {
        Partition {
            disk,
            first_lba,
            sectors,
            cached_lba: None,
            cache: [0; SECTOR_SIZE],
            last_error: None,
        }
    }

    /// Reads `buf.len()` bytes at byte `offset` from the partition's start.
    pub fn read_bytes(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), AtaError> {
        let end = offset
            .checked_add(buf.len() as u64)
            .ok_or(AtaError::OutOfRange)?;
        if end > self.sectors * SECTOR_SIZE as u64 {
            return Err(AtaError::OutOfRange);
        }
        let mut offset = offset;
        let mut buf = buf;
        while !buf.is_empty() {
            let sector = offset / SECTOR_SIZE as u64;
            let within = (offset % SECTOR_SIZE as u64) as usize;
            let whole = if within == 0 {
                buf.len() / SECTOR_SIZE
            } else {
                0
            };
            let n = if whole > 0 {
                let n = whole * SECTOR_SIZE;
                self.disk.read(self.first_lba + sector, &mut buf[..n])?;
                n
            } else {
                let n = (SECTOR_SIZE - within).min(buf.len());
                buf[..n].copy_from_slice(&self.cached(sector)?[within..within + n]);
                n
            };
            offset += n as u64;
            buf = &mut buf[n..];
        }
        Ok(())
    }

    fn cached(&mut self, sector: u64) -> Result<&[u8; SECTOR_SIZE], AtaError> {
        if self.cached_lba != Some(sector) {
            self.cached_lba = None;
            self.disk.read(self.first_lba + sector, &mut self.cache)?;
            self.cached_lba = Some(sector);
        }
        Ok(&self.cache)
    }
}
