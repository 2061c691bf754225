//! The block layer: disks, their partitions, and the requests that move
//! sectors between them and memory (Linux's `block/`).
//!
//! - [`genhd`]: [`Gendisk`] (a whole disk a driver registered: name,
//!   capacity, request queue, driver) and [`BlockDevice`] (what users open:
//!   a whole disk or one partition of it, a window of sectors); the registry
//!   of block devices by name (`hda`, `hda1`, ...).
//! - [`request`]: [`Request`] (sector, count, op, buffer, status) and the
//!   [`Completion`] its submitter sleeps on.
//! - [`elevator`]: the per-disk [`RequestQueue`], kept in sector order and
//!   dispatched one-way (C-LOOK).
//! - [`bio`]: `read_sectors` / `write_sectors`, the `submit_bio`-style entry
//!   point: split into requests, queue them, sleep until they complete.
//! - [`partitions`]: the MBR partition table, read when a disk is added.
//! - [`selftest`]: `blk_selftest=DEV`, a write/read-back check of the
//!   request path on a scratch device.
//!
//! Sectors are always 512 bytes here ([`SECTOR_SIZE`]); file systems work
//! in blocks of several sectors on top.
//!
//! Drivers (`drivers/ata.rs`) implement [`BlockDriver`]: the block layer
//! calls [`BlockDriver::request_fn`] when a queue has work; the driver
//! takes requests with [`RequestQueue::fetch`] when its hardware is idle
//! and ends each with [`Request::end`].

pub mod bio;
pub mod elevator;
pub mod genhd;
pub mod partitions;
pub mod request;
pub mod selftest;

pub use bio::{read_sectors, write_sectors};
pub use genhd::{BlockDevice, BlockDriver, Gendisk, add_disk, devices, lookup};
pub use request::{BlockError, Op, Request};

/// Bytes per sector, the unit of every block-layer address.
pub const SECTOR_SIZE: usize = 512;

/// Brings up the block layer and the disk drivers: the drivers probe their
/// hardware and register disks, each disk's partition table is read.
///
/// Runs with interrupts enabled: reading partition tables already goes
/// through the interrupt-driven request path.
pub fn init() {
    crate::drivers::ata::init();
    if genhd::devices().is_empty() {
        pr_warn!("block: no disks found");
    }
    if let Some(name) = crate::init::cmdline::param("blk_selftest") {
        selftest::run(name);
    }
}
