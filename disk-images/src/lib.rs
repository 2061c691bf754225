//! The host side of the boot disk: build an image from a recipe, and check
//! one.
//!
//! - [`recipe`]: the TOML recipe (disk size, partitions, boot code, root
//!   tree, extra entries) — format in `disk-images/README.md`;
//! - [`tree`]: the root file system's contents in memory;
//! - [`mkfs`]: that tree as ext2 revision 1, with the structures of the
//!   shared [`ondisk`] crate stage 2 and the kernel read with;
//! - [`image`]: MBR, stage 2, root and swap partitions put together;
//! - [`swap`]: the Linux swap-area header;
//! - [`check`]: the invariant checker for finished images.
//!
//! `emu mkimage` (in the emulator's binary) is the command-line front end.

pub mod check;
mod error;
pub mod image;
pub mod mkfs;
pub mod recipe;
pub mod swap;
pub mod tree;

pub use check::{check_ext2, check_image, CheckReport, FsSummary};
pub use error::Error;
pub use image::{build_image, DiskLayout, ImageReport};
pub use recipe::Recipe;
