//! `blk_selftest=DEV` on the command line: write a pattern over the first
//! sectors of a scratch device (the swap partition, say), read it back,
//! compare, and put the old contents back. It drives the interrupt-driven
//! write path, a transfer split over several requests, and the bounds
//! check, and logs one line with the outcome.

use alloc::vec;
use alloc::vec::Vec;

use super::{BlockDevice, BlockError, SECTOR_SIZE, lookup, read_sectors, write_sectors};

/// More than one request's worth (256 sectors), so the transfer is split.
const SECTORS: usize = 300;

/// Runs the check on the device called `name`.
pub fn run(name: &str) {
    let Some(device) = lookup(name) else {
        pr_err!("blk_selftest: no block device {}", name);
        return;
    };
    match check(device) {
        Ok(()) => pr_info!(
            "blk_selftest: {}: wrote, read back and restored {} sectors: OK",
            device.name(),
            SECTORS
        ),
        Err(what) => pr_err!("blk_selftest: {}: FAILED: {}", device.name(), what),
    }
}

/// Byte `i` of the test pattern: differs per sector and per offset.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i / SECTOR_SIZE) as u8).wrapping_mul(31) ^ (i as u8) ^ 0x5A)
        .collect()
}

fn check(device: &BlockDevice) -> Result<(), &'static str> {
    let len = SECTORS * SECTOR_SIZE;
    if device.sectors() < SECTORS as u64 {
        return Err("device too small");
    }
    let mut saved = vec![0u8; len];
    read_sectors(device, 0, &mut saved).map_err(|_| "reading the old contents failed")?;
    let written = pattern(len);
    write_sectors(device, 0, &written).map_err(|_| "writing the pattern failed")?;
    let mut read = vec![0u8; len];
    let read_result = read_sectors(device, 0, &mut read);
    write_sectors(device, 0, &saved).map_err(|_| "restoring the old contents failed")?;
    read_result.map_err(|_| "reading the pattern back failed")?;
    if read != written {
        return Err("the pattern read back differs");
    }
    let mut one = [0u8; SECTOR_SIZE];
    match read_sectors(device, device.sectors(), &mut one) {
        Err(BlockError::OutOfRange { .. }) => Ok(()),
        _ => Err("a read past the end was not refused"),
    }
}
