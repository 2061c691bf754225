//! The root file system: ext2 on the boot partition, read with
//! `ondisk::ext2::Volume` over the ATA [`Partition`].

use crate::ata::AtaError;
use crate::disk::Partition;
use ondisk::ext2::{self, Inode, IoError, ReadAt, Volume};

impl ReadAt for Partition {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), IoError> {
        self.read_bytes(offset, buf).map_err(|e| {
            self.last_error = Some(e);
            IoError
        })
    }
}

/// A failed file-system operation, with what it was about.
#[derive(Clone, Copy)]
pub struct FsError {
    /// The path, or "root file system" when opening the volume failed.
    pub path: &'static str,
    pub error: ext2::Error,
    /// The drive's own error behind an [`ext2::Error::Io`].
    pub disk: Option<AtaError>,
}

impl FsError {
    pub fn is_not_found(&self) -> bool {
        self.error == ext2::Error::NotFound
    }
}

impl core::fmt::Display for FsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match (self.error, self.disk) {
            (ext2::Error::NotFound, _) => write!(f, "{}: not found", self.path),
            (ext2::Error::NotAFile, _) => write!(f, "{}: not a regular file", self.path),
            (ext2::Error::Io, Some(disk)) => write!(f, "{}: disk read failed: {disk}", self.path),
            (error, _) => write!(f, "{}: {error}", self.path),
        }
    }
}

pub struct RootFs {
    volume: Volume<Partition>,
}

/// An open regular file.
pub struct File<'a> {
    fs: &'a mut RootFs,
    path: &'static str,
    inode: Inode,
}

impl RootFs {
    pub fn open(part: Partition) -> Result<RootFs, FsError> {
        let mut part = part;
        part.last_error = None;
        match Volume::open(part) {
            Ok(volume) => Ok(RootFs { volume }),
            // The partition moved into the failed open: the drive error is lost.
            Err(error) => Err(FsError {
                path: "root file system",
                error,
                disk: None,
            }),
        }
    }

    pub fn open_file(&mut self, path: &'static str) -> Result<File<'_>, FsError> {
        let (_, inode) = self.volume.lookup(path).map_err(|e| self.error(path, e))?;
        if !inode.is_file() {
            return Err(FsError {
                path,
                error: ext2::Error::NotAFile,
                disk: None,
            });
        }
        Ok(File {
            fs: self,
            path,
            inode,
        })
    }

    fn error(&mut self, path: &'static str, error: ext2::Error) -> FsError {
        FsError {
            path,
            error,
            disk: self.volume.device().last_error.take(),
        }
    }
}

impl File<'_> {
    pub fn size(&self) -> u64 {
        self.inode.size()
    }

    /// Fills `buf` from byte `offset`; a short file is an error.
    pub fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), FsError> {
        let path = self.path;
        let mut done = 0;
        while done < buf.len() {
            let n = self
                .fs
                .volume
                .read(&self.inode, offset + done as u64, &mut buf[done..])
                .map_err(|e| self.fs.error(path, e))?;
            if n == 0 {
                return Err(FsError {
                    path,
                    error: ext2::Error::Corrupt("file shorter than its headers say"),
                    disk: None,
                });
            }
            done += n;
        }
        Ok(())
    }
}
