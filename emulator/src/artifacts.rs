//! The guest artifacts this build made (see `emulator/build/image.rs`):
//! the default disk image `emu` boots with no arguments, and the pieces it
//! is made of, for tests and for users who want them elsewhere (QEMU,
//! `dd`, `debugfs`, `emu run --kernel`).

/// The default disk image: MBR, stage 2, root ext2 with `/boot/kernel`,
/// swap partition.
pub const DEFAULT_IMAGE: &str = env!("EMU_DEFAULT_IMAGE");
/// The kernel ELF (also `/boot/kernel` in the image).
pub const KERNEL: &str = env!("EMU_KERNEL");
/// The MBR boot code (at most 446 bytes, no partition table).
pub const MBR: &str = env!("EMU_MBR");
/// Stage 2 as a flat file, written at LBA 1.
pub const STAGE2: &str = env!("EMU_STAGE2");
/// The recipe the default image was built from.
pub const RECIPE: &str = env!("EMU_RECIPE");
/// The directory of the user programs (`init`, `sh`, `ls`, ...,
/// `usertests`) as built: static Linux x86-64 ELF files that also run on
/// the host.
pub const USER_BIN_DIR: &str = env!("EMU_USER_BIN_DIR");
