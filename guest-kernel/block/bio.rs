//! Reading and writing sectors of a block device (Linux's `submit_bio`
//! followed by `wait_for_completion`).
//!
//! A transfer is checked against the device's window, shifted to disk
//! sectors, split into requests of at most the disk's `max_sectors`, and
//! queued on the disk all at once (so the elevator sees them together).
//! The caller then sleeps until every request has ended; interrupts and
//! bottom halves do the work meanwhile.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use crate::kernel::time::{self, HZ};

use super::SECTOR_SIZE;
use super::genhd::BlockDevice;
use super::request::{BlockError, Completion, Op, Request, RequestStatus};

/// How often a waiting submitter asks the driver to check for a stuck
/// command.
pub const TIMEOUT_CHECK: u64 = HZ;

/// Reads `buf.len() / 512` sectors from sector `sector` of `device` into
/// `buf`, sleeping until they arrive.
pub fn read_sectors(device: &BlockDevice, sector: u64, buf: &mut [u8]) -> Result<(), BlockError> {
    let parts = submit(device, sector, buf.len(), None)?;
    let mut result = Ok(());
    for (completion, range) in parts {
        let request = wait(device, &completion);
        result = result.and(status_result(request.status));
        if request.status == RequestStatus::Done {
            buf[range].copy_from_slice(&request.buffer);
        }
    }
    result
}

/// Writes `buf` (a whole number of sectors) to `device` from sector
/// `sector`, sleeping until the disk has taken it.
pub fn write_sectors(device: &BlockDevice, sector: u64, buf: &[u8]) -> Result<(), BlockError> {
    let parts = submit(device, sector, buf.len(), Some(buf))?;
    let mut result = Ok(());
    for (completion, _) in parts {
        result = result.and(status_result(wait(device, &completion).status));
    }
    result
}

/// A queued request's completion and the bytes of the caller's buffer it
/// covers.
type Submitted = (Arc<Completion>, Range<usize>);

/// Sleeps until the request behind `completion` ends. Every
/// [`TIMEOUT_CHECK`] the driver is asked whether its hardware is stuck
/// ([`super::BlockDriver::timed_out`]); it then ends the request itself.
fn wait(device: &BlockDevice, completion: &Completion) -> Request {
    let disk = device.disk();
    loop {
        if let Some(request) = completion.wait_until(time::jiffies() + TIMEOUT_CHECK) {
            return request;
        }
        disk.driver.timed_out(disk);
    }
}

fn status_result(status: RequestStatus) -> Result<(), BlockError> {
    match status {
        RequestStatus::Done => Ok(()),
        RequestStatus::Failed(e) => Err(e),
        // `Completion::wait` only returns ended requests.
        RequestStatus::Pending => Err(BlockError::Io),
    }
}

/// Checks the transfer, queues its requests and kicks the driver. Returns
/// each request's completion with the byte range of the caller's buffer it
/// covers. A write passes its data; a read passes `None` and gets zeroed
/// request buffers to fill.
fn submit(
    device: &BlockDevice,
    sector: u64,
    len: usize,
    write_data: Option<&[u8]>,
) -> Result<Vec<Submitted>, BlockError> {
    if len == 0 || !len.is_multiple_of(SECTOR_SIZE) {
        return Err(BlockError::BadLength(len));
    }
    let count = (len / SECTOR_SIZE) as u64;
    let in_range = sector
        .checked_add(count)
        .is_some_and(|end| end <= device.sectors());
    if !in_range {
        return Err(BlockError::OutOfRange {
            sector,
            count,
            capacity: device.sectors(),
        });
    }
    let disk = device.disk();
    let chunk = disk.max_sectors.max(1) as usize * SECTOR_SIZE;
    let mut parts = Vec::new();
    for offset in (0..len).step_by(chunk) {
        let range = offset..(offset + chunk).min(len);
        let (op, buffer) = match write_data {
            None => (Op::Read, vec![0; range.len()]),
            Some(data) => (Op::Write, data[range.clone()].to_vec()),
        };
        let completion = Arc::new(Completion::new());
        let first = device.start_sector() + sector + (offset / SECTOR_SIZE) as u64;
        disk.queue
            .add(Request::new(first, op, buffer, completion.clone()));
        parts.push((completion, range));
    }
    disk.driver.request_fn(disk);
    Ok(parts)
}
