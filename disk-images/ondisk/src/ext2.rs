//! ext2 revision 1: the on-disk structures and a small read-only reader.
//!
//! The layout follows "The Second Extended File System" by Dave Poirier
//! (<https://www.nongnu.org/ext2-doc/ext2.html>) and Linux's
//! `fs/ext2/ext2.h`; section names below refer to that document.
//!
//! - [`Superblock`] (at byte 1024 of the file system, 1024 bytes long),
//! - [`GroupDescriptor`] (32 bytes each, in the block after the superblock),
//! - [`Inode`] (128 bytes or more, in each group's inode table),
//! - [`DirEntryHeader`] (the fixed 8 bytes before each name),
//! - [`Volume`]: a reader over any [`ReadAt`] device, no heap: look up a
//!   path (following symbolic links), read an inode's data, list a directory.
//!
//! Every structure is parsed from and written to little-endian bytes
//! explicitly (no `repr(C)` casts), so the builder on the host, stage 2 and
//! the kernel share one definition.

mod dir;
mod group;
mod inode;
mod superblock;
mod volume;

pub use dir::{file_type_for_mode, DirEntryHeader, DIR_ENTRY_HEADER_SIZE, MAX_NAME_LEN};
pub use group::{GroupDescriptor, GROUP_DESCRIPTOR_SIZE};
pub use inode::{Inode, INODE_SIZE_128, N_BLOCKS, N_DIRECT};
pub use superblock::{has_superblock_backup, Superblock, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE};
pub use volume::{Error, IoError, ReadAt, Volume, MAX_SYMLINKS, MAX_SYMLINK_TARGET};

/// `s_magic`.
pub const EXT2_MAGIC: u16 = 0xEF53;
/// `s_rev_level`: the original format (fixed 128-byte inodes, first inode 11).
pub const EXT2_GOOD_OLD_REV: u32 = 0;
/// `s_rev_level`: revision 1, variable inode size and feature flags.
pub const EXT2_DYNAMIC_REV: u32 = 1;
/// `s_state`: cleanly unmounted.
pub const EXT2_VALID_FS: u16 = 1;
/// `s_state`: errors detected.
pub const EXT2_ERROR_FS: u16 = 2;
/// `s_errors`: continue on errors.
pub const EXT2_ERRORS_CONTINUE: u16 = 1;
/// `s_creator_os`: Linux.
pub const EXT2_OS_LINUX: u32 = 0;

/// Reserved inode numbers (section "Defined Reserved Inodes").
pub const BAD_BLOCKS_INO: u32 = 1;
pub const ROOT_INO: u32 = 2;
/// The first non-reserved inode in revision 0; mke2fs puts `lost+found` here.
pub const GOOD_OLD_FIRST_INO: u32 = 11;

/// `s_feature_compat` bits.
pub const FEATURE_COMPAT_DIR_PREALLOC: u32 = 0x0001;
pub const FEATURE_COMPAT_IMAGIC_INODES: u32 = 0x0002;
pub const FEATURE_COMPAT_HAS_JOURNAL: u32 = 0x0004;
pub const FEATURE_COMPAT_EXT_ATTR: u32 = 0x0008;
pub const FEATURE_COMPAT_RESIZE_INODE: u32 = 0x0010;
pub const FEATURE_COMPAT_DIR_INDEX: u32 = 0x0020;

/// `s_feature_incompat` bits: a reader that does not know one must refuse.
pub const FEATURE_INCOMPAT_COMPRESSION: u32 = 0x0001;
pub const FEATURE_INCOMPAT_FILETYPE: u32 = 0x0002;
pub const FEATURE_INCOMPAT_RECOVER: u32 = 0x0004;
pub const FEATURE_INCOMPAT_JOURNAL_DEV: u32 = 0x0008;
pub const FEATURE_INCOMPAT_META_BG: u32 = 0x0010;
pub const FEATURE_INCOMPAT_EXTENTS: u32 = 0x0040;
pub const FEATURE_INCOMPAT_64BIT: u32 = 0x0080;
pub const FEATURE_INCOMPAT_FLEX_BG: u32 = 0x0200;
/// The incompatible features [`Volume`] understands.
pub const SUPPORTED_INCOMPAT: u32 = FEATURE_INCOMPAT_FILETYPE;

/// `s_feature_ro_compat` bits: a reader may ignore them, a writer may not.
pub const FEATURE_RO_COMPAT_SPARSE_SUPER: u32 = 0x0001;
pub const FEATURE_RO_COMPAT_LARGE_FILE: u32 = 0x0002;
pub const FEATURE_RO_COMPAT_BTREE_DIR: u32 = 0x0004;

/// `i_mode` file-format bits (section "i_mode"), as in `<sys/stat.h>`.
pub const S_IFMT: u16 = 0xF000;
pub const S_IFSOCK: u16 = 0xC000;
pub const S_IFLNK: u16 = 0xA000;
pub const S_IFREG: u16 = 0x8000;
pub const S_IFBLK: u16 = 0x6000;
pub const S_IFDIR: u16 = 0x4000;
pub const S_IFCHR: u16 = 0x2000;
pub const S_IFIFO: u16 = 0x1000;
/// `i_mode` set-id, sticky and permission bits.
pub const S_ISUID: u16 = 0o4000;
pub const S_ISGID: u16 = 0o2000;
pub const S_ISVTX: u16 = 0o1000;
pub const S_IPERM: u16 = 0o7777;

/// Directory-entry `file_type` codes (with the `filetype` feature).
pub const FT_UNKNOWN: u8 = 0;
pub const FT_REG_FILE: u8 = 1;
pub const FT_DIR: u8 = 2;
pub const FT_CHRDEV: u8 = 3;
pub const FT_BLKDEV: u8 = 4;
pub const FT_FIFO: u8 = 5;
pub const FT_SOCK: u8 = 6;
pub const FT_SYMLINK: u8 = 7;

/// `i_flags`: ext4 extent-mapped inode (not supported by this reader).
pub const EXT4_EXTENTS_FL: u32 = 0x0008_0000;
/// `i_flags`: hashed-tree directory (ext2 readers may treat it linearly).
pub const EXT2_INDEX_FL: u32 = 0x0000_1000;

pub(crate) fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
