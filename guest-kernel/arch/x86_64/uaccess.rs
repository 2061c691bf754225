//! Access to user memory (Linux's `arch/x86/lib/usercopy_64.c` and the
//! exception table).
//!
//! Every user pointer is range-checked (below [`TASK_SIZE`]) and copied
//! by `__copy_user` (`entry.rs`), a `rep movsb` whose faults the #PF
//! handler turns into a jump to its fixup ([`fixup_exception`]): a bad
//! pointer gives EFAULT, never an oops.

use alloc::string::String;
use alloc::vec::Vec;

use super::entry::{__copy_user, __copy_user_fault_ip, __copy_user_fixup, TrapFrame};
use crate::kernel::errno::{EFAULT, ENAMETOOLONG, KResult};
use crate::mm::mmap::TASK_SIZE;

fn check(addr: u64, len: usize) -> KResult<()> {
    match addr.checked_add(len as u64) {
        Some(end) if end <= TASK_SIZE => Ok(()),
        _ => Err(EFAULT),
    }
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> KResult<()> {
    check(src, dst.len())?;
    // SAFETY: the destination is a kernel buffer of that length; faults on
    // the user side are fixed up and reported as bytes left.
    let left = unsafe { __copy_user(dst.as_mut_ptr(), src as *const u8, dst.len()) };
    if left == 0 { Ok(()) } else { Err(EFAULT) }
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> KResult<()> {
    check(dst, src.len())?;
    // SAFETY: as in `copy_from_user`, the other way round.
    let left = unsafe { __copy_user(dst as *mut u8, src.as_ptr(), src.len()) };
    if left == 0 { Ok(()) } else { Err(EFAULT) }
}

/// Reads a plain value from user space.
pub fn get_user<T: Copy + Default>(addr: u64) -> KResult<T> {
    let mut v = T::default();
    // SAFETY: `T` is plain data (integers and structs of them), any
    // bytes are a valid value.
    let bytes = unsafe {
        core::slice::from_raw_parts_mut((&raw mut v).cast::<u8>(), core::mem::size_of::<T>())
    };
    copy_from_user(bytes, addr)?;
    Ok(v)
}

/// Writes a plain value to user space.
pub fn put_user<T: Copy>(addr: u64, v: &T) -> KResult<()> {
    // SAFETY: reading the bytes of a plain value.
    let bytes = unsafe {
        core::slice::from_raw_parts((v as *const T).cast::<u8>(), core::mem::size_of::<T>())
    };
    copy_to_user(addr, bytes)
}

/// A NUL-terminated string from user space, at most `max` bytes.
pub fn strncpy_from_user(addr: u64, max: usize) -> KResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = addr;
    loop {
        let chunk = (4096 - (at % 4096)) as usize;
        let mut buf = [0u8; 4096];
        copy_from_user(&mut buf[..chunk], at)?;
        if let Some(n) = buf[..chunk].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..n]);
            return Ok(out);
        }
        out.extend_from_slice(&buf[..chunk]);
        if out.len() > max {
            return Err(ENAMETOOLONG);
        }
        at += chunk as u64;
    }
}

/// A path from user space (PATH_MAX 4096).
pub fn user_path(addr: u64) -> KResult<String> {
    let bytes = strncpy_from_user(addr, 4096)?;
    String::from_utf8(bytes).map_err(|_| crate::kernel::errno::EINVAL)
}

/// The #PF handler's question: was this a fault in a user copy? If so,
/// resume at its fixup.
pub fn fixup_exception(frame: &mut TrapFrame) -> bool {
    if frame.rip == __copy_user_fault_ip.as_ptr() as u64 {
        frame.rip = __copy_user_fixup.as_ptr() as u64;
        return true;
    }
    false
}
