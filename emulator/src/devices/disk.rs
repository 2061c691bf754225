//! Disk backends: a raw image file of 512-byte sectors behind the ATA
//! channel (`ata.rs`).
//!
//! Three ways to open an image (`DiskMode`):
//!
//! - `ReadWrite`: the file is mapped shared and writable (`MmapMut`);
//!   writes land in the page cache at once and are flushed to the file by
//!   `flush()` (the guest's FLUSH CACHE) and when the `Disk` is dropped.
//!   Because the mapping is shared, even an exit that skips destructors
//!   (`process::exit`) leaves the written data in the file: the kernel
//!   owns the dirty pages, not the process.
//! - `ReadOnly`: mapped read-only; `write` fails with `DiskError::ReadOnly`
//!   (the ATA layer aborts the command).
//! - `Snapshot`: copy-on-write; the file is mapped read-only and never
//!   modified, written sectors live in an in-memory overlay that reads see.
//!
//! An image that cannot be opened, is not a regular file, is empty or is not
//! a whole number of sectors is refused with a `DiskError` naming the path.
//! `Disk::from_bytes` builds an in-memory disk (tests, generated images).

use crate::machine::snapshot::{Persist, Result as SnapResult, SnapshotError, StateIo};
use memmap2::{Mmap, MmapMut, MmapOptions};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Bytes per sector.
pub const SECTOR_SIZE: usize = 512;

/// How an image file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskMode {
    /// Writes go to the file.
    ReadWrite,
    /// Writes are refused.
    ReadOnly,
    /// Writes are kept in memory; the file is never modified.
    Snapshot,
}

/// A host-side disk error.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("disk image {path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("disk image {path}: not a regular file")]
    NotAFile { path: PathBuf },
    #[error("disk image {path}: the file is empty")]
    Empty { path: PathBuf },
    #[error("disk image {path}: size {size} bytes is not a multiple of {SECTOR_SIZE}")]
    PartialSector { path: PathBuf, size: u64 },
    #[error("disk image {path}: cannot map: {source}")]
    Map {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("disk image {path}: flush failed: {source}")]
    Flush {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("disk image {path}: sectors {lba}+{count} lie beyond the end ({sectors} sectors)")]
    OutOfRange {
        path: PathBuf,
        lba: u64,
        count: u64,
        sectors: u64,
    },
    #[error("disk image {path}: a transfer of {len} bytes is not a whole number of sectors")]
    UnalignedBuffer { path: PathBuf, len: usize },
    #[error("disk image {path}: opened read-only")]
    ReadOnly { path: PathBuf },
}

type Sector = Box<[u8; SECTOR_SIZE]>;

/// Where the sectors live.
enum Backing {
    Shared(MmapMut),
    ReadOnly(Mmap),
    Snapshot {
        base: Mmap,
        overlay: HashMap<u64, Sector>,
    },
    Memory(Vec<u8>),
}

/// A disk: a run of 512-byte sectors.
pub struct Disk {
    /// The image's path, for error messages (`<memory>` for `from_bytes`).
    path: PathBuf,
    backing: Backing,
    sectors: u64,
}

impl std::fmt::Debug for Disk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disk")
            .field("path", &self.path)
            .field("sectors", &self.sectors)
            .field("read_only", &self.read_only())
            .finish()
    }
}

impl Disk {
    /// Opens the raw image at `path`.
    pub fn open(path: &Path, mode: DiskMode) -> Result<Disk, DiskError> {
        let owned = || path.to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .write(mode == DiskMode::ReadWrite)
            .open(path)
            .map_err(|source| DiskError::Open {
                path: owned(),
                source,
            })?;
        let meta = file.metadata().map_err(|source| DiskError::Open {
            path: owned(),
            source,
        })?;
        if !meta.is_file() {
            return Err(DiskError::NotAFile { path: owned() });
        }
        let size = meta.len();
        if size == 0 {
            return Err(DiskError::Empty { path: owned() });
        }
        if !size.is_multiple_of(SECTOR_SIZE as u64) {
            return Err(DiskError::PartialSector {
                path: owned(),
                size,
            });
        }
        let map_err = |source| DiskError::Map {
            path: owned(),
            source,
        };
        let backing = match mode {
            DiskMode::ReadWrite => Backing::Shared(map_shared(&file).map_err(map_err)?),
            DiskMode::ReadOnly => Backing::ReadOnly(map_read_only(&file).map_err(map_err)?),
            DiskMode::Snapshot => Backing::Snapshot {
                base: map_read_only(&file).map_err(map_err)?,
                overlay: HashMap::new(),
            },
        };
        Ok(Disk {
            path: owned(),
            backing,
            sectors: size / SECTOR_SIZE as u64,
        })
    }

    /// An in-memory, writable disk holding `bytes` (a non-empty whole
    /// number of sectors).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Disk, DiskError> {
        let path = PathBuf::from("<memory>");
        if bytes.is_empty() {
            return Err(DiskError::Empty { path });
        }
        if !bytes.len().is_multiple_of(SECTOR_SIZE) {
            let size = bytes.len() as u64;
            return Err(DiskError::PartialSector { path, size });
        }
        Ok(Disk {
            path,
            sectors: (bytes.len() / SECTOR_SIZE) as u64,
            backing: Backing::Memory(bytes),
        })
    }

    /// The number of sectors.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }

    /// Whether writes are refused.
    pub fn read_only(&self) -> bool {
        matches!(self.backing, Backing::ReadOnly(_))
    }

    /// Reads whole sectors starting at `lba` into `buf`.
    pub fn read(&self, lba: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        let start = self.check(lba, buf.len())?;
        match &self.backing {
            Backing::Shared(map) => buf.copy_from_slice(&map[start..start + buf.len()]),
            Backing::ReadOnly(map) => buf.copy_from_slice(&map[start..start + buf.len()]),
            Backing::Memory(bytes) => buf.copy_from_slice(&bytes[start..start + buf.len()]),
            Backing::Snapshot { base, overlay } => {
                for (i, chunk) in buf.chunks_exact_mut(SECTOR_SIZE).enumerate() {
                    let sector = lba + i as u64;
                    match overlay.get(&sector) {
                        Some(data) => chunk.copy_from_slice(&data[..]),
                        None => {
                            let at = start + i * SECTOR_SIZE;
                            chunk.copy_from_slice(&base[at..at + SECTOR_SIZE]);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes whole sectors from `buf` starting at `lba`.
    pub fn write(&mut self, lba: u64, buf: &[u8]) -> Result<(), DiskError> {
        let start = self.check(lba, buf.len())?;
        match &mut self.backing {
            Backing::Shared(map) => map[start..start + buf.len()].copy_from_slice(buf),
            Backing::Memory(bytes) => bytes[start..start + buf.len()].copy_from_slice(buf),
            Backing::ReadOnly(_) => {
                return Err(DiskError::ReadOnly {
                    path: self.path.clone(),
                })
            }
            Backing::Snapshot { overlay, .. } => {
                for (i, chunk) in buf.chunks_exact(SECTOR_SIZE).enumerate() {
                    let mut sector: Sector = Box::new([0; SECTOR_SIZE]);
                    sector.copy_from_slice(chunk);
                    overlay.insert(lba + i as u64, sector);
                }
            }
        }
        Ok(())
    }

    /// Pushes written data to the image file (a no-op unless `ReadWrite`).
    pub fn flush(&mut self) -> Result<(), DiskError> {
        match &self.backing {
            Backing::Shared(map) => map.flush().map_err(|source| DiskError::Flush {
                path: self.path.clone(),
                source,
            }),
            _ => Ok(()),
        }
    }

    /// The in-memory contents of a `from_bytes` disk.
    pub fn memory(&self) -> Option<&[u8]> {
        match &self.backing {
            Backing::Memory(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// Checks that `len` bytes from sector `lba` are whole sectors within
    /// the disk; returns the byte offset of `lba`.
    fn check(&self, lba: u64, len: usize) -> Result<usize, DiskError> {
        if !len.is_multiple_of(SECTOR_SIZE) {
            return Err(DiskError::UnalignedBuffer {
                path: self.path.clone(),
                len,
            });
        }
        let count = (len / SECTOR_SIZE) as u64;
        match lba.checked_add(count) {
            Some(end) if end <= self.sectors => Ok(lba as usize * SECTOR_SIZE),
            _ => Err(DiskError::OutOfRange {
                path: self.path.clone(),
                lba,
                count,
                sectors: self.sectors,
            }),
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            eprintln!("warning: {e}");
        }
    }
}

fn map_shared(file: &File) -> std::io::Result<MmapMut> {
    // SAFETY: the mapping is only sound while no other process truncates or
    // rewrites the image; a disk image in use by the emulator belongs to it,
    // as with any hypervisor. All accesses are bounds-checked against the
    // length measured before mapping.
    unsafe { MmapOptions::new().map_mut(file) }
}

fn map_read_only(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: as for `map_shared`: the image must not be truncated by
    // another process while it is mapped.
    unsafe { MmapOptions::new().map(file) }
}

impl Disk {
    /// The image as the run started (for a `,snapshot` disk, the file
    /// under the overlay; otherwise the current contents).
    fn base(&self) -> &[u8] {
        match &self.backing {
            Backing::Shared(map) => map,
            Backing::ReadOnly(map) => map,
            Backing::Snapshot { base, .. } => base,
            Backing::Memory(bytes) => bytes,
        }
    }

    /// The sectors written since the run started, in order (empty unless
    /// the disk is `,snapshot`: other disks keep no overlay).
    pub fn overlay_sectors(&self) -> usize {
        match &self.backing {
            Backing::Snapshot { overlay, .. } => overlay.len(),
            _ => 0,
        }
    }
}

impl Persist for Disk {
    /// Snapshots (`machine::snapshot`): the base image's identity (path,
    /// size and a CRC-32 of its contents, so a changed image is refused)
    /// and the copy-on-write overlay.
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("disk")?;
        let mut path = self.path.to_string_lossy().into_owned().into_bytes();
        path.persist(io)?;
        let saved_path = String::from_utf8_lossy(&path).into_owned();
        let mut sectors = self.sectors;
        sectors.persist(io)?;
        if sectors != self.sectors {
            return Err(SnapshotError::Mismatch(format!(
                "disk {}: {} sectors, but the snapshot's disk ({saved_path}) had {sectors}",
                self.path.display(),
                self.sectors
            )));
        }
        let crc = crc32fast::hash(self.base());
        let mut saved_crc = crc;
        saved_crc.persist(io)?;
        if saved_crc != crc {
            return Err(SnapshotError::Mismatch(format!(
                "disk {}: the image is not the one the snapshot was taken from \
                 ({saved_path}, CRC-32 {saved_crc:08x}; this one is {crc:08x})",
                self.path.display()
            )));
        }
        let path = self.path.clone();
        let mut written: Vec<(u64, Sector)> = match &self.backing {
            Backing::Snapshot { overlay, .. } if !io.is_loading() => {
                let mut v: Vec<_> = overlay.iter().map(|(k, s)| (*k, s.clone())).collect();
                v.sort_by_key(|(k, _)| *k);
                v
            }
            _ => Vec::new(),
        };
        let mut n = written.len();
        io.len(&mut n)?;
        if io.is_loading() {
            for _ in 0..n {
                let mut lba = 0u64;
                lba.persist(io)?;
                let mut sector: Sector = Box::new([0; SECTOR_SIZE]);
                io.raw(&mut sector[..])?;
                if lba >= self.sectors {
                    return Err(SnapshotError::Malformed(format!(
                        "disk overlay sector {lba} past the end"
                    )));
                }
                written.push((lba, sector));
            }
            match &mut self.backing {
                Backing::Snapshot { overlay, .. } => *overlay = written.into_iter().collect(),
                _ if n == 0 => {}
                _ => {
                    return Err(SnapshotError::Mismatch(format!(
                        "disk {}: the snapshot holds {n} written sectors; attach the \
                         disk copy-on-write (PATH,snapshot) to load it",
                        path.display()
                    )))
                }
            }
        } else {
            for (lba, sector) in &mut written {
                lba.persist(io)?;
                io.raw(&mut sector[..])?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn image(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f.flush().unwrap();
        f
    }

    fn patterned(sectors: usize) -> Vec<u8> {
        (0..sectors * SECTOR_SIZE)
            .map(|i| (i / SECTOR_SIZE) as u8 ^ i as u8)
            .collect()
    }

    #[test]
    fn read_write_mode_writes_reach_the_file() {
        let file = image(&patterned(4));
        let mut disk = Disk::open(file.path(), DiskMode::ReadWrite).unwrap();

        disk.write(2, &[0xAB; SECTOR_SIZE]).unwrap();
        drop(disk);

        let contents = std::fs::read(file.path()).unwrap();
        assert_eq!(
            &contents[2 * SECTOR_SIZE..3 * SECTOR_SIZE],
            &[0xAB; SECTOR_SIZE]
        );
        assert_eq!(
            &contents[..2 * SECTOR_SIZE],
            &patterned(4)[..2 * SECTOR_SIZE]
        );
    }

    #[test]
    fn read_returns_the_image_contents() {
        let file = image(&patterned(4));
        let disk = Disk::open(file.path(), DiskMode::ReadOnly).unwrap();
        let mut buf = [0; 2 * SECTOR_SIZE];

        disk.read(1, &mut buf).unwrap();

        assert_eq!(disk.sectors(), 4);
        assert_eq!(&buf[..], &patterned(4)[SECTOR_SIZE..3 * SECTOR_SIZE]);
    }

    #[test]
    fn read_only_mode_refuses_writes() {
        let file = image(&patterned(2));
        let mut disk = Disk::open(file.path(), DiskMode::ReadOnly).unwrap();

        let result = disk.write(0, &[0; SECTOR_SIZE]);

        assert!(disk.read_only());
        assert!(matches!(result, Err(DiskError::ReadOnly { .. })));
    }

    #[test]
    fn snapshot_mode_reads_its_writes_and_leaves_the_file_alone() {
        let file = image(&patterned(4));
        let mut disk = Disk::open(file.path(), DiskMode::Snapshot).unwrap();
        let mut buf = [0; 3 * SECTOR_SIZE];

        disk.write(1, &[0x55; SECTOR_SIZE]).unwrap();
        disk.flush().unwrap();
        disk.read(0, &mut buf).unwrap();
        drop(disk);

        assert_eq!(&buf[SECTOR_SIZE..2 * SECTOR_SIZE], &[0x55; SECTOR_SIZE]);
        assert_eq!(&buf[..SECTOR_SIZE], &patterned(4)[..SECTOR_SIZE]);
        assert_eq!(
            &buf[2 * SECTOR_SIZE..],
            &patterned(4)[2 * SECTOR_SIZE..3 * SECTOR_SIZE]
        );
        assert_eq!(std::fs::read(file.path()).unwrap(), patterned(4));
    }

    #[test]
    fn access_past_the_end_is_out_of_range() {
        let disk = Disk::from_bytes(vec![0; 4 * SECTOR_SIZE]).unwrap();
        let mut buf = [0; 2 * SECTOR_SIZE];

        let result = disk.read(3, &mut buf);

        assert!(matches!(
            result,
            Err(DiskError::OutOfRange {
                lba: 3,
                count: 2,
                ..
            })
        ));
    }

    #[test]
    fn a_buffer_that_is_not_whole_sectors_is_refused() {
        let disk = Disk::from_bytes(vec![0; 4 * SECTOR_SIZE]).unwrap();
        let mut buf = [0; 100];

        let result = disk.read(0, &mut buf);

        assert!(matches!(
            result,
            Err(DiskError::UnalignedBuffer { len: 100, .. })
        ));
    }

    #[test]
    fn an_image_that_is_not_whole_sectors_is_refused_naming_the_path() {
        let file = image(&[0; 1000]);

        let err = Disk::open(file.path(), DiskMode::ReadWrite).unwrap_err();

        let message = err.to_string();
        assert!(
            message.contains(&file.path().display().to_string()),
            "{message}"
        );
        assert!(
            message.contains("1000 bytes is not a multiple of 512"),
            "{message}"
        );
    }

    #[test]
    fn an_empty_image_is_refused() {
        let file = image(&[]);

        let err = Disk::open(file.path(), DiskMode::ReadOnly).unwrap_err();

        assert!(err.to_string().contains("the file is empty"), "{err}");
    }

    #[test]
    fn a_missing_image_is_refused_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.img");

        let err = Disk::open(&path, DiskMode::Snapshot).unwrap_err();

        let message = err.to_string();
        assert!(message.contains("missing.img"), "{message}");
        assert!(message.contains("cannot open"), "{message}");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();

        let err = Disk::open(dir.path(), DiskMode::ReadOnly).unwrap_err();

        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn from_bytes_refuses_a_partial_sector() {
        let err = Disk::from_bytes(vec![0; 513]).unwrap_err();

        assert!(matches!(err, DiskError::PartialSector { size: 513, .. }));
    }
}
