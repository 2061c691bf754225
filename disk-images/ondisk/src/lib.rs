//! The formats three programs must agree on, defined once.
//!
//! The host image builder (`disk-images`), the stage-2 boot loader
//! (`disk-images/boot`) and the guest kernel (`guest-kernel`) all use this
//! `no_std` crate, so a structure written by one is read by the others with
//! the same definition.
//!
//! - [`mbr`]: the master boot record and its four partition entries.
//! - [`ext2`]: ext2 revision 1 on-disk structures, and a small read-only
//!   reader over any [`ext2::ReadAt`] device (stage 2 and the kernel's
//!   first mount use it; the host checker does too).
//! - [`bootinfo`]: what stage 2 hands the kernel.
#![no_std]

pub mod bootinfo;
pub mod ext2;
pub mod mbr;
