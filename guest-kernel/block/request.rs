//! One block I/O request and the completion its submitter waits on
//! (Linux's `struct request` and `struct completion`).
//!
//! A [`Request`] is owned by exactly one party at a time: the submitter
//! builds it, the disk's queue holds it, the driver holds it while the
//! hardware works on it, and [`Request::end`] hands it back through its
//! [`Completion`], waking the submitter. Nothing is shared mutably, so the
//! driver's interrupt handler can fill the buffer without further locking.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use crate::kernel::sync::SpinLock;
use crate::kernel::time;
use crate::kernel::wait::WaitQueue;

use super::SECTOR_SIZE;

/// Which way a request moves data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Disk to memory.
    Read,
    /// Memory to disk.
    Write,
}

/// Why a block operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// The range `[sector, sector + count)` is not inside the device of
    /// `capacity` sectors.
    OutOfRange {
        sector: u64,
        count: u64,
        capacity: u64,
    },
    /// The buffer is empty or not a whole number of sectors.
    BadLength(usize),
    /// The device reported an error (the driver logged the details).
    Io,
    /// The device did not answer in time.
    Timeout,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BlockError::OutOfRange {
                sector,
                count,
                capacity,
            } => write!(
                f,
                "sectors {sector}+{count} beyond the end of the device ({capacity} sectors)"
            ),
            BlockError::BadLength(len) => {
                write!(f, "buffer of {len} bytes is not a whole number of sectors")
            }
            BlockError::Io => f.write_str("I/O error"),
            BlockError::Timeout => f.write_str("timed out"),
        }
    }
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestStatus {
    /// Queued or being worked on.
    Pending,
    /// Done: every sector moved.
    Done,
    /// Ended early with this error.
    Failed(BlockError),
}

/// A transfer of `count` sectors starting at disk sector `sector`.
#[derive(Debug)]
pub struct Request {
    /// First sector, counted from the start of the whole disk.
    pub sector: u64,
    /// Number of sectors (at most the disk's `max_sectors`).
    pub count: u32,
    pub op: Op,
    /// `count * SECTOR_SIZE` bytes: filled by a read, the data of a write.
    pub buffer: Vec<u8>,
    pub status: RequestStatus,
    completion: Arc<Completion>,
}

impl Request {
    /// A pending request over `buffer` (a whole number of sectors) that
    /// reports to `completion` when it ends.
    pub fn new(sector: u64, op: Op, buffer: Vec<u8>, completion: Arc<Completion>) -> Request {
        Request {
            sector,
            count: (buffer.len() / SECTOR_SIZE) as u32,
            op,
            buffer,
            status: RequestStatus::Pending,
            completion,
        }
    }

    /// The bytes of sector `index` of this request (`index < count`).
    pub fn sector_buffer(&mut self, index: u32) -> &mut [u8] {
        let start = index as usize * SECTOR_SIZE;
        &mut self.buffer[start..start + SECTOR_SIZE]
    }

    /// Ends the request with `result` and hands it back to its submitter
    /// (Linux's `blk_end_request`). Called from a bottom half or process
    /// context, never from a top half: it wakes sleepers.
    pub fn end(mut self, result: Result<(), BlockError>) {
        self.status = match result {
            Ok(()) => RequestStatus::Done,
            Err(e) => RequestStatus::Failed(e),
        };
        let completion = self.completion.clone();
        completion.complete(self);
    }
}

/// A one-shot hand-back slot a submitter sleeps on until its request ends.
pub struct Completion {
    ended: SpinLock<Option<Request>>,
    waiters: WaitQueue,
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Completion")
    }
}

impl Default for Completion {
    fn default() -> Self {
        Self::new()
    }
}

impl Completion {
    pub const fn new() -> Completion {
        Completion {
            ended: SpinLock::new(None),
            waiters: WaitQueue::new(),
        }
    }

    fn complete(&self, request: Request) {
        *self.ended.lock() = Some(request);
        self.waiters.wake_up_all();
    }

    /// Sleeps until the request ends and returns it, or until jiffies
    /// reach `deadline` (`None` then).
    pub fn wait_until(&self, deadline: u64) -> Option<Request> {
        self.waiters
            .wait_event(|| self.ended.lock().is_some() || time::jiffies() >= deadline);
        self.ended.lock().take()
    }
}
