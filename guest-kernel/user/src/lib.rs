//! `ulib`: the runtime every guest program links with, and all they have
//! (there is no C library). It speaks the Linux x86-64 system call ABI
//! directly, so the same static binary runs in the guest and on a Linux host
//! (the reference the guest kernel is checked against).
//!
//! - [`start`]: `_start`, the initial stack (argc, argv, envp), the entry
//!   macro [`main!`], the panic handler.
//! - [`sys`]: raw `syscall` and typed wrappers, one per system call used.
//! - [`errno`]: `Errno` with Linux's numbers and `strerror` texts.
//! - [`heap`]: the global allocator (size classes on `brk`, `mmap` for big blocks).
//! - [`mem`]: `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp`, `strlen`.
//! - [`io`]: buffered writers behind `print!`/`eprintln!`, line reading, whole-file reads.
//! - [`fs`]: `stat`, directory listing, mode strings.
//! - [`process`]: `spawn`-style helpers (fork + exec), wait status decoding, PATH lookup.
//! - [`time`]: clocks, sleeping, calendar dates.
//! - [`env`]: arguments and environment.

#![no_std]

extern crate alloc;

pub mod env;
pub mod errno;
pub mod fs;
pub mod heap;
pub mod io;
pub mod mem;
pub mod process;
pub mod start;
pub mod sys;
pub mod time;

pub use errno::Errno;

/// What programs use most: `Vec`, `String`, `format!`, `print!`.
pub mod prelude {
    pub use crate::errno::Errno;
    pub use crate::{eprint, eprintln, print, println};
    pub use alloc::borrow::ToOwned;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}
