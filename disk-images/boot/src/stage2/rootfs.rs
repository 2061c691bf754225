//! The root file system: ext2 on the boot partition, read with
//! `ondisk::ext2` (TEMPORARY STUB until that reader lands).

use crate::disk::Partition;

#[derive(Clone, Copy, Debug)]
pub enum FsError {
    NotFound(&'static str),
}

impl core::fmt::Display for FsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FsError::NotFound(path) => write!(f, "{path}: not found"),
        }
    }
}

pub struct RootFs {
    _part: Partition,
}

pub struct File {
    size: u64,
}

impl RootFs {
    pub fn open(part: Partition) -> Result<RootFs, FsError> {
        Ok(RootFs { _part: part })
    }

    pub fn open_file(&mut self, path: &'static str) -> Result<File, FsError> {
        Err(FsError::NotFound(path))
    }
}

impl File {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn read_exact_at(&mut self, _offset: u64, _buf: &mut [u8]) -> Result<(), FsError> {
        Err(FsError::NotFound("?"))
    }
}

impl FsError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, FsError::NotFound(_))
    }
}
