//! Disks and block devices (Linux's `block/genhd.c` and `struct
//! block_device`).
//!
//! A driver describes each disk it found as a [`Gendisk`] and hands it to
//! [`add_disk`]; that registers the whole disk as a [`BlockDevice`] named
//! after it (`hda`) and one block device per partition found in its
//! partition table (`hda1`, `hda2`, ...). A block device is a window of
//! sectors on a disk: I/O through it is bounds-checked against the window
//! and shifted by its start.
//!
//! Disks are never removed, so disks and block devices live for the rest
//! of the kernel's life (`&'static`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::kernel::sync::SpinLock;

use super::elevator::RequestQueue;
use super::{SECTOR_SIZE, partitions};

/// What the block layer asks of a disk driver.
pub trait BlockDriver: Sync {
    /// `disk`'s queue has work: if the hardware is idle, fetch a request
    /// from the queue and start it (Linux's `request_fn`). Called in
    /// process context after requests are queued; the driver starts the
    /// following requests itself as earlier ones complete.
    fn request_fn(&self, disk: &'static Gendisk);

    /// A submitter on `disk` has waited [`super::bio::TIMEOUT_CHECK`]
    /// without its request ending: if the hardware is stuck on a command
    /// older than the driver's limit, abandon it and end it with
    /// [`super::BlockError::Timeout`] (Linux's `blk_mq_ops.timeout`).
    fn timed_out(&self, disk: &'static Gendisk);
}

/// A whole disk as its driver registered it.
pub struct Gendisk {
    /// `hda`, `hdb`, ...
    pub name: &'static str,
    /// Capacity in 512-byte sectors.
    pub sectors: u64,
    /// The most sectors one request may move.
    pub max_sectors: u32,
    pub queue: RequestQueue,
    pub driver: &'static dyn BlockDriver,
}

impl Gendisk {
    pub fn new(
        name: &'static str,
        sectors: u64,
        max_sectors: u32,
        driver: &'static dyn BlockDriver,
    ) -> Gendisk {
        Gendisk {
            name,
            sectors,
            max_sectors,
            queue: RequestQueue::new(),
            driver,
        }
    }
}

/// A whole disk or one of its partitions: what file systems mount.
pub struct BlockDevice {
    name: String,
    disk: &'static Gendisk,
    /// 0 for the whole disk, else the partition number.
    partno: u8,
    /// The window on the disk, in sectors.
    start: u64,
    sectors: u64,
}

impl BlockDevice {
    /// `hda`, `hda1`, ...
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn disk(&self) -> &'static Gendisk {
        self.disk
    }

    /// 0 for the whole disk, else the partition number (1-based).
    pub fn partno(&self) -> u8 {
        self.partno
    }

    /// The device's first sector on the disk.
    pub fn start_sector(&self) -> u64 {
        self.start
    }

    /// Capacity in 512-byte sectors.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }

    /// Capacity in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.sectors * SECTOR_SIZE as u64
    }
}

/// Every registered block device, in registration order.
static BLOCK_DEVICES: SpinLock<Vec<&'static BlockDevice>> = SpinLock::new(Vec::new());

fn register(device: BlockDevice) -> &'static BlockDevice {
    let device: &'static BlockDevice = Box::leak(Box::new(device));
    BLOCK_DEVICES.lock().push(device);
    device
}

/// Registers `disk` (Linux's `add_disk`): the whole-disk block device,
/// then one per partition of its partition table.
pub fn add_disk(disk: &'static Gendisk) {
    let whole = register(BlockDevice {
        name: String::from(disk.name),
        disk,
        partno: 0,
        start: 0,
        sectors: disk.sectors,
    });
    partitions::scan(whole);
}

/// Registers partition `partno` of `disk`: `sectors` sectors from `start`.
/// The caller has checked that the window lies on the disk.
pub(super) fn add_partition(
    disk: &'static Gendisk,
    partno: u8,
    start: u64,
    sectors: u64,
) -> &'static BlockDevice {
    register(BlockDevice {
        name: alloc::format!("{}{}", disk.name, partno),
        disk,
        partno,
        start,
        sectors,
    })
}

/// The block device called `name` (`hda1`) or `/dev/name`.
pub fn lookup(name: &str) -> Option<&'static BlockDevice> {
    let name = name.strip_prefix("/dev/").unwrap_or(name);
    BLOCK_DEVICES
        .lock()
        .iter()
        .copied()
        .find(|device| device.name == name)
}

/// Every registered block device, whole disks before their partitions.
pub fn devices() -> Vec<&'static BlockDevice> {
    BLOCK_DEVICES.lock().clone()
}
