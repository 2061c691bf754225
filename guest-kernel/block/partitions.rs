//! Partition tables (Linux's `block/partitions/msdos.c`): read sector 0
//! of a newly added disk, parse its MBR table with `ondisk::mbr`, and
//! register a block device for each used entry.
//!
//! Entries are checked against the disk as Linux does: one that starts
//! past the end is skipped, one that runs past the end is truncated. The
//! result is logged on one line, ` hda: hda1 hda2`. Logical partitions
//! inside an extended one are not scanned (the images here have none).

use alloc::format;
use alloc::string::String;
use core::fmt::Write;

use ondisk::mbr;

use super::SECTOR_SIZE;
use super::genhd::{self, BlockDevice};

/// Where a table entry lands on a disk of a given size.
#[derive(Debug, PartialEq, Eq)]
enum Fit {
    /// Wholly on the disk.
    Fits,
    /// Runs past the end: only this many sectors are usable.
    Truncated(u64),
    /// Starts at or past the end.
    BeyondEnd,
}

/// Checks the entry `start`, `sectors` against a disk of `disk_sectors`.
fn fit(start: u64, sectors: u64, disk_sectors: u64) -> Fit {
    if start >= disk_sectors {
        Fit::BeyondEnd
    } else if sectors > disk_sectors - start {
        Fit::Truncated(disk_sectors - start)
    } else {
        Fit::Fits
    }
}

/// Reads `whole`'s partition table and registers its partitions.
pub(super) fn scan(whole: &'static BlockDevice) {
    let disk = whole.disk();
    let mut sector0 = [0u8; SECTOR_SIZE];
    if let Err(e) = super::read_sectors(whole, 0, &mut sector0) {
        pr_err!(" {}: unable to read partition table: {}", disk.name, e);
        return;
    }
    let table = match mbr::parse_table(&sector0) {
        Ok(table) => table,
        Err(e) => {
            pr_info!(" {}: unknown partition table ({})", disk.name, e);
            return;
        }
    };
    let mut line = format!(" {}:", disk.name);
    let mut problems = String::new();
    for (index, entry) in table.iter().enumerate() {
        if !entry.is_used() {
            continue;
        }
        let partno = index as u8 + 1;
        let start = u64::from(entry.first_lba);
        let mut sectors = u64::from(entry.sectors);
        match fit(start, sectors, disk.sectors) {
            Fit::Fits => {}
            Fit::Truncated(usable) => {
                let _ = writeln!(
                    problems,
                    "{}: p{} size {} extends beyond EOD, truncated",
                    disk.name, partno, sectors
                );
                sectors = usable;
            }
            Fit::BeyondEnd => {
                let _ = writeln!(
                    problems,
                    "{}: p{} start {} is beyond EOD, skipped",
                    disk.name, partno, start
                );
                continue;
            }
        }
        let part = genhd::add_partition(disk, partno, start, sectors);
        let _ = write!(line, " {}", part.name());
    }
    pr_info!("{}", line);
    for problem in problems.lines() {
        pr_warn!("{}", problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_inside_the_disk_fits() {
        assert_eq!(fit(2048, 1000, 4096), Fit::Fits);
        assert_eq!(fit(2048, 2048, 4096), Fit::Fits);
    }

    #[test]
    fn partition_running_past_the_end_is_truncated() {
        assert_eq!(fit(2048, 4096, 4096), Fit::Truncated(2048));
    }

    #[test]
    fn partition_starting_past_the_end_is_skipped() {
        assert_eq!(fit(4096, 1, 4096), Fit::BeyondEnd);
        assert_eq!(fit(u64::MAX, u64::MAX, 4096), Fit::BeyondEnd);
    }
}
