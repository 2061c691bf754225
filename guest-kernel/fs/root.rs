//! Mounting the root file system, read-only (Linux's `init/do_mounts.c`
//! and the ext2 `fill_super` log line).
//!
//! The root device is `root=` from the command line (`root=/dev/hda1`),
//! else the disk and partition stage 2 loaded the kernel from (the boot
//! info). It is opened as ext2 through `ondisk::ext2::Volume` over a
//! [`BlockDeviceReader`] to check and log it; [`read_file`] opens its own
//! `Volume` on the mounted device each time (no lock held across disk
//! sleeps, no shared cache), until the VFS arrives with a superblock
//! object and the buffer cache.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use ondisk::ext2::{self, Volume};

use crate::block::{self, BlockDevice};
use crate::kernel::sync::InitOnce;

use super::bdev_reader::BlockDeviceReader;

/// The device of the root file system, once mounted.
static ROOT_DEVICE: InitOnce<&'static BlockDevice> = InitOnce::new();

/// The block device the root is mounted from.
pub fn root_device() -> Option<&'static BlockDevice> {
    ROOT_DEVICE.get().copied()
}

/// Why the root could not be mounted or a file not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsError {
    /// No `root=` and no boot disk in the boot info.
    NoRootDevice,
    /// The named device does not exist.
    NoSuchDevice(String),
    /// The file system refused or the device failed.
    Ext2(ext2::Error),
    /// Nothing is mounted yet.
    NotMounted,
    /// The path names a directory or other non-regular file.
    NotARegularFile,
    /// Larger than [`read_file`] reads into memory.
    TooLarge(u64),
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::NoRootDevice => f.write_str("no root device given (root=) or booted from"),
            FsError::NoSuchDevice(name) => write!(f, "no such device {name}"),
            FsError::Ext2(e) => write!(f, "{e}"),
            FsError::NotMounted => f.write_str("no root file system mounted"),
            FsError::NotARegularFile => f.write_str("not a regular file"),
            FsError::TooLarge(size) => write!(f, "file of {size} bytes is too large to read whole"),
        }
    }
}

impl From<ext2::Error> for FsError {
    fn from(e: ext2::Error) -> Self {
        FsError::Ext2(e)
    }
}

/// The boot disk's root partition from the boot info, as a device name
/// (`/dev/hda1` for ATA channel 0, master, partition 1), with the first
/// sector stage 2 found it at.
fn boot_partition() -> Option<(String, u64)> {
    let info = crate::init::boot_info();
    let disk = info.boot_disk;
    if !info.is_valid() || disk.partition == 0 || disk.ata_channel > 1 || disk.ata_drive > 1 {
        return None;
    }
    let letter = (b'a' + disk.ata_channel * 2 + disk.ata_drive) as char;
    let name = format!("/dev/hd{}{}", letter, disk.partition);
    Some((name, disk.partition_lba))
}

/// Mounts the root file system read-only, logging the outcome the way
/// Linux does.
pub fn mount_root() -> Result<&'static BlockDevice, FsError> {
    if let Some(device) = root_device() {
        return Ok(device);
    }
    let (name, boot_lba) = match crate::init::cmdline::param("root") {
        Some(root) => (String::from(root), None),
        None => {
            let Some((name, lba)) = boot_partition() else {
                pr_err!("VFS: no root device: none booted from, and no root=/dev/hdXN given");
                return Err(FsError::NoRootDevice);
            };
            (name, Some(lba))
        }
    };
    let Some(device) = block::lookup(&name) else {
        pr_err!("VFS: Cannot open root device \"{}\"", name);
        list_devices();
        return Err(FsError::NoSuchDevice(name));
    };
    if let Some(lba) = boot_lba.filter(|&lba| lba != device.start_sector()) {
        pr_warn!(
            "VFS: {} starts at sector {}, but the boot loader read the kernel from sector {}",
            device.name(),
            device.start_sector(),
            lba
        );
    }
    let rw = crate::init::cmdline::param("rw").is_some();
    let volume = match Volume::open(BlockDeviceReader::new(device)) {
        Ok(volume) => volume,
        Err(e) => {
            pr_err!("VFS: unable to mount root fs on {}: {}", device.name(), e);
            return Err(e.into());
        }
    };
    if super::ext2::mount(device, rw).is_err() {
        pr_err!("VFS: unable to mount root fs on {}", device.name());
        return Err(FsError::NotMounted);
    }
    let sb = volume.superblock();
    pr_info!(
        "EXT2-fs ({}): mounted filesystem ({}), {} inodes, {} blocks of {} bytes, {} groups",
        device.name(),
        if rw { "read-write" } else { "read-only" },
        sb.inodes_count,
        sb.blocks_count,
        volume.block_size(),
        volume.group_count()
    );
    pr_info!(
        "VFS: Mounted root (ext2 filesystem) {} on device {}.",
        if rw { "read-write" } else { "readonly" },
        device.name()
    );
    ROOT_DEVICE.init(device);
    Ok(device)
}

/// Linux's hint after a bad `root=`: what could have been meant, sizes in
/// KiB, partitions' names indented under their disk's.
fn list_devices() {
    pr_err!("Please append a correct \"root=\" boot option; here are the available partitions:");
    for device in block::devices() {
        pr_err!(
            "{:>10} {}{}",
            device.size_bytes() / 1024,
            if device.partno() == 0 { "" } else { "  " },
            device.name()
        );
    }
}

/// The largest file [`read_file`] reads whole.
pub const MAX_FILE_READ: u64 = 16 << 20;

/// The whole contents of the regular file at `path` on the root.
pub fn read_file(path: &str) -> Result<Vec<u8>, FsError> {
    root_device().ok_or(FsError::NotMounted)?;
    super::ext2::with_fs(|fs| {
        let (ino, mut inode) = fs.walk(path, true)?;
        if !inode.is_file() {
            return Ok(Err(FsError::NotARegularFile));
        }
        if inode.size() > MAX_FILE_READ {
            return Ok(Err(FsError::TooLarge(inode.size())));
        }
        let mut data = vec![0u8; inode.size() as usize];
        let n = fs.read_data(ino, &mut inode, 0, &mut data)?;
        data.truncate(n);
        Ok(Ok(data))
    })
    .unwrap_or(Err(FsError::Ext2(ext2::Error::NotFound)))
}
