//! `poll`, `ppoll`, `select`, `pselect6` (Linux's `fs/select.c`): ask
//! each file's [`FileOps::poll`](super::file::FileOps::poll) for its
//! readiness; if none is ready, sleep a tick (interruptibly) and ask
//! again, until one is or the timeout passes.

use alloc::vec;
use alloc::vec::Vec;

use super::file::poll;
use super::namei;
use crate::arch::x86_64::uaccess::{copy_from_user, copy_to_user, get_user};
use crate::kernel::errno::{EBADF, EINVAL, KResult};
use crate::kernel::time;

/// The most descriptors one call may watch.
const MAX_FDS: usize = 1024;

/// Readiness of descriptor `fd` for `events` (`POLLNVAL` if closed).
fn ready(fd: i32, events: u32) -> u32 {
    match namei::fget(fd) {
        Ok(f) => f.ops.poll() & (events | poll::ERR | poll::HUP),
        Err(_) => poll::NVAL,
    }
}

/// Polls `fds` (descriptor, events) until something is ready or
/// `timeout_ns` (None: forever) passes; the revents of each.
fn wait_ready(fds: &[(i32, u32)], timeout_ns: Option<u64>) -> KResult<Vec<u32>> {
    let deadline = timeout_ns.map(|t| time::uptime_ns().saturating_add(t));
    loop {
        let revents: Vec<u32> = fds
            .iter()
            .map(|&(fd, ev)| if fd < 0 { 0 } else { ready(fd, ev) })
            .collect();
        if revents.iter().any(|&r| r != 0) {
            return Ok(revents);
        }
        let now = time::uptime_ns();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(revents);
        }
        let tick = 1_000_000_000 / time::HZ;
        let next = deadline.map_or(now + tick, |d| d.min(now + tick));
        super::super::kernel::sys::sleep_until_pub(next)?;
    }
}

/// `poll(fds, nfds, timeout_ns)`.
pub fn do_poll(ufds: u64, nfds: usize, timeout_ns: Option<u64>) -> KResult<i64> {
    if nfds > MAX_FDS {
        return Err(EINVAL);
    }
    let mut raw = vec![0u8; nfds * 8];
    copy_from_user(&mut raw, ufds)?;
    let fds: Vec<(i32, u32)> = raw
        .chunks_exact(8)
        .map(|c| {
            let fd = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            (fd, u32::from(u16::from_le_bytes([c[4], c[5]])))
        })
        .collect();
    let revents = wait_ready(&fds, timeout_ns)?;
    for (c, r) in raw.chunks_exact_mut(8).zip(&revents) {
        c[6..8].copy_from_slice(&(*r as u16).to_le_bytes());
    }
    copy_to_user(ufds, &raw)?;
    Ok(revents.iter().filter(|&&r| r != 0).count() as i64)
}

/// A `struct timespec` (or `timeval` with `micro`) timeout in ns; None
/// for a null pointer (wait forever).
pub fn timeout_of(addr: u64, micro: bool) -> KResult<Option<u64>> {
    if addr == 0 {
        return Ok(None);
    }
    let [sec, frac]: [i64; 2] = get_user(addr)?;
    let unit = if micro { 1000 } else { 1 };
    if sec < 0 || frac < 0 || frac * unit >= 1_000_000_000 {
        return Err(EINVAL);
    }
    Ok(Some(sec as u64 * 1_000_000_000 + (frac * unit) as u64))
}

/// `select(nfds, readfds, writefds, exceptfds, timeout_ns)`.
pub fn do_select(nfds: usize, r: u64, w: u64, e: u64, timeout_ns: Option<u64>) -> KResult<i64> {
    if nfds > MAX_FDS {
        return Err(EINVAL);
    }
    let bytes = nfds.div_ceil(64) * 8;
    let read_set = |addr: u64| -> KResult<Vec<u8>> {
        let mut v = vec![0u8; bytes];
        if addr != 0 {
            copy_from_user(&mut v, addr)?;
        }
        Ok(v)
    };
    let (rs, ws, es) = (read_set(r)?, read_set(w)?, read_set(e)?);
    let bit = |set: &[u8], fd: usize| set[fd / 8] & (1 << (fd % 8)) != 0;
    let mut fds = Vec::new();
    for fd in 0..nfds {
        let mut ev = 0;
        if bit(&rs, fd) {
            ev |= poll::IN;
        }
        if bit(&ws, fd) {
            ev |= poll::OUT;
        }
        if bit(&es, fd) {
            ev |= poll::PRI;
        }
        if ev != 0 {
            if namei::fget(fd as i32).is_err() {
                return Err(EBADF);
            }
            fds.push((fd as i32, ev));
        }
    }
    let revents = wait_ready(&fds, timeout_ns)?;
    let (mut ro, mut wo, mut eo) = (vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]);
    let mut count = 0;
    for (&(fd, ev), &rev) in fds.iter().zip(&revents) {
        let fd = fd as usize;
        let mut set = |out: &mut Vec<u8>| {
            out[fd / 8] |= 1 << (fd % 8);
            count += 1;
        };
        if ev & poll::IN != 0 && rev & (poll::IN | poll::HUP | poll::ERR) != 0 {
            set(&mut ro);
        }
        if ev & poll::OUT != 0 && rev & (poll::OUT | poll::ERR) != 0 {
            set(&mut wo);
        }
        if ev & poll::PRI != 0 && rev & poll::PRI != 0 {
            set(&mut eo);
        }
    }
    for (addr, out) in [(r, &ro), (w, &wo), (e, &eo)] {
        if addr != 0 {
            copy_to_user(addr, out)?;
        }
    }
    Ok(count)
}
