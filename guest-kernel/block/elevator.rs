//! A disk's request queue and its elevator (Linux's `block/elevator.c`).
//!
//! Pending requests are kept sorted by sector. The driver takes them one at
//! a time, and the elevator moves one way across the disk like a lift
//! that only goes up (C-LOOK): the next request is the first one at or
//! after the sector where the previous one ended; past the last, it wraps
//! to the lowest. Seeks stay short and no request waits for more than one
//! sweep.

use alloc::vec::Vec;

use crate::kernel::sync::SpinLock;

use super::request::Request;

/// The pending requests of one disk.
pub struct RequestQueue {
    inner: SpinLock<QueueInner>,
}

struct QueueInner {
    /// Sorted by `sector`; equal sectors keep their arrival order.
    pending: Vec<Request>,
    /// The sector after the last dispatched request: where the head is.
    head: u64,
}

impl RequestQueue {
    pub const fn new() -> RequestQueue {
        RequestQueue {
            inner: SpinLock::new(QueueInner {
                pending: Vec::new(),
                head: 0,
            }),
        }
    }

    /// Queues `request` in sector order (Linux's `elv_add_request`).
    pub fn add(&self, request: Request) {
        let mut q = self.inner.lock();
        let at = insert_position(q.pending.iter().map(|r| r.sector), request.sector);
        q.pending.insert(at, request);
    }

    /// Takes the next request to dispatch, if any (Linux's
    /// `blk_fetch_request`).
    pub fn fetch(&self) -> Option<Request> {
        let mut q = self.inner.lock();
        let at = next_position(q.pending.iter().map(|r| r.sector), q.head)?;
        let request = q.pending.remove(at);
        q.head = request.sector + u64::from(request.count);
        Some(request)
    }
}

impl Default for RequestQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a request for `sector` goes in a queue sorted by sector: after
/// every request at or below it (so equal sectors stay first come, first
/// served).
fn insert_position(sorted: impl Iterator<Item = u64>, sector: u64) -> usize {
    sorted.take_while(|&s| s <= sector).count()
}

/// C-LOOK: the first request at or after `head`, else the lowest one.
fn next_position(sorted: impl ExactSizeIterator<Item = u64>, head: u64) -> Option<usize> {
    let len = sorted.len();
    if len == 0 {
        return None;
    }
    let ahead = sorted.take_while(|&s| s < head).count();
    Some(if ahead == len { 0 } else { ahead })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_keeps_sector_order_and_arrival_order_of_equals() {
        let queue = [10u64, 20, 20, 30];
        assert_eq!(insert_position(queue.iter().copied(), 5), 0);
        assert_eq!(insert_position(queue.iter().copied(), 20), 3);
        assert_eq!(insert_position(queue.iter().copied(), 99), 4);
    }

    #[test]
    fn next_is_the_first_request_at_or_after_the_head() {
        let queue = [10u64, 20, 30];
        assert_eq!(next_position(queue.iter().copied(), 15), Some(1));
        assert_eq!(next_position(queue.iter().copied(), 20), Some(1));
    }

    #[test]
    fn next_wraps_to_the_lowest_past_the_last_request() {
        let queue = [10u64, 20, 30];
        assert_eq!(next_position(queue.iter().copied(), 31), Some(0));
    }

    #[test]
    fn empty_queue_has_no_next() {
        assert_eq!(next_position([0u64; 0].iter().copied(), 0), None);
    }
}
