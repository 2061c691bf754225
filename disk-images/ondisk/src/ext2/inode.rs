//! Inodes (section "Inode Table"): the first 128 bytes of each slot of a
//! group's inode table (`struct ext2_inode`, Linux osd2 layout).

use super::{le16, le32, put16, put32};
use super::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};

/// The size of a revision-0 inode, and the part of larger ones read here.
pub const INODE_SIZE_128: usize = 128;
/// Block pointers in `i_block`: 12 direct, then single, double and triple
/// indirect.
pub const N_BLOCKS: usize = 15;
pub const N_DIRECT: usize = 12;
/// `i_block` index of the single-indirect pointer.
pub const IND_BLOCK: usize = 12;
/// `i_block` index of the double-indirect pointer.
pub const DIND_BLOCK: usize = 13;
/// `i_block` index of the triple-indirect pointer.
pub const TIND_BLOCK: usize = 14;
/// Bytes of `i_block`, where a fast symbolic link keeps its target.
pub const INLINE_BYTES: usize = N_BLOCKS * 4;

/// `struct ext2_inode` (the 128-byte part).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Inode {
    pub mode: u16,
    /// `i_uid` with `l_i_uid_high` in the top 16 bits.
    pub uid: u32,
    /// `i_size`: the low 32 bits of the size.
    pub size_lo: u32,
    pub atime: u32,
    pub ctime: u32,
    pub mtime: u32,
    pub dtime: u32,
    /// `i_gid` with `l_i_gid_high` in the top 16 bits.
    pub gid: u32,
    pub links_count: u16,
    /// `i_blocks`: 512-byte sectors held, indirect blocks included.
    pub blocks: u32,
    pub flags: u32,
    pub osd1: u32,
    /// 12 direct block numbers, then single, double, triple indirect; or a
    /// fast symlink's target; or a device number.
    pub block: [u32; N_BLOCKS],
    pub generation: u32,
    pub file_acl: u32,
    /// `i_size_high` for regular files (`i_dir_acl` in old revisions).
    pub size_high: u32,
    pub faddr: u32,
}

impl Inode {
    /// Parses the first 128 bytes of an inode slot.
    pub fn parse(b: &[u8; INODE_SIZE_128]) -> Self {
        let mut block = [0; N_BLOCKS];
        for (i, slot) in block.iter_mut().enumerate() {
            *slot = le32(b, 40 + 4 * i);
        }
        Inode {
            mode: le16(b, 0),
            uid: le16(b, 2) as u32 | (le16(b, 120) as u32) << 16,
            size_lo: le32(b, 4),
            atime: le32(b, 8),
            ctime: le32(b, 12),
            mtime: le32(b, 16),
            dtime: le32(b, 20),
            gid: le16(b, 24) as u32 | (le16(b, 122) as u32) << 16,
            links_count: le16(b, 26),
            blocks: le32(b, 28),
            flags: le32(b, 32),
            osd1: le32(b, 36),
            block,
            generation: le32(b, 100),
            file_acl: le32(b, 104),
            size_high: le32(b, 108),
            faddr: le32(b, 112),
        }
    }

    /// Writes the 128 bytes.
    pub fn write(&self, b: &mut [u8; INODE_SIZE_128]) {
        b.fill(0);
        put16(b, 0, self.mode);
        put16(b, 2, self.uid as u16);
        put32(b, 4, self.size_lo);
        put32(b, 8, self.atime);
        put32(b, 12, self.ctime);
        put32(b, 16, self.mtime);
        put32(b, 20, self.dtime);
        put16(b, 24, self.gid as u16);
        put16(b, 26, self.links_count);
        put32(b, 28, self.blocks);
        put32(b, 32, self.flags);
        put32(b, 36, self.osd1);
        for (i, word) in self.block.iter().enumerate() {
            put32(b, 40 + 4 * i, *word);
        }
        put32(b, 100, self.generation);
        put32(b, 104, self.file_acl);
        put32(b, 108, self.size_high);
        put32(b, 112, self.faddr);
        put16(b, 120, (self.uid >> 16) as u16);
        put16(b, 122, (self.gid >> 16) as u16);
    }

    /// The size in bytes (`i_size_high` counts only for regular files).
    pub fn size(&self) -> u64 {
        if self.is_file() {
            (self.size_high as u64) << 32 | self.size_lo as u64
        } else {
            self.size_lo as u64
        }
    }

    /// Sets the size, using `i_size_high` only for regular files.
    pub fn set_size(&mut self, size: u64) {
        self.size_lo = size as u32;
        if self.is_file() {
            self.size_high = (size >> 32) as u32;
        }
    }

    pub fn mode(&self) -> u16 {
        self.mode
    }

    /// The file-format bits of the mode (`S_IFREG`, `S_IFDIR`, ...).
    pub fn format(&self) -> u16 {
        self.mode & S_IFMT
    }

    pub fn is_dir(&self) -> bool {
        self.format() == S_IFDIR
    }

    pub fn is_file(&self) -> bool {
        self.format() == S_IFREG
    }

    pub fn is_symlink(&self) -> bool {
        self.format() == S_IFLNK
    }

    /// Character or block device.
    pub fn is_device(&self) -> bool {
        matches!(self.format(), S_IFCHR | S_IFBLK)
    }

    pub fn links_count(&self) -> u16 {
        self.links_count
    }

    pub fn uid(&self) -> u32 {
        self.uid
    }

    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// Whether this is a symlink whose target lives in `i_block` (Linux
    /// `ext2_inode_is_fast_symlink`: no data blocks besides an EA block).
    pub fn is_fast_symlink(&self, block_size: u32) -> bool {
        let ea_sectors = if self.file_acl != 0 {
            block_size / 512
        } else {
            0
        };
        self.is_symlink() && self.blocks.wrapping_sub(ea_sectors) == 0
    }

    /// The bytes of `i_block` in disk order (a fast symlink's target).
    pub fn inline_bytes(&self) -> [u8; INLINE_BYTES] {
        let mut out = [0; INLINE_BYTES];
        for (i, word) in self.block.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// Stores up to 60 bytes in `i_block` (a fast symlink's target).
    pub fn set_inline_bytes(&mut self, bytes: &[u8]) {
        let mut raw = [0u8; INLINE_BYTES];
        let n = bytes.len().min(INLINE_BYTES);
        raw[..n].copy_from_slice(&bytes[..n]);
        for (i, word) in self.block.iter_mut().enumerate() {
            *word = le32(&raw, 4 * i);
        }
    }

    /// A device node's (major, minor), decoded as Linux `ext2_read_inode`
    /// does: the old 8:8 encoding in `i_block[0]` if non-zero, else the new
    /// 12:20 encoding in `i_block[1]`.
    pub fn device(&self) -> Option<(u32, u32)> {
        if !self.is_device() {
            return None;
        }
        if self.block[0] != 0 {
            let old = self.block[0];
            Some(((old >> 8) & 0xFF, old & 0xFF))
        } else {
            let new = self.block[1];
            Some((
                (new & 0xF_FF00) >> 8,
                (new & 0xFF) | ((new >> 12) & 0xF_FF00),
            ))
        }
    }

    /// Stores a device number as Linux `ext2_write_inode` does: old
    /// encoding when major and minor both fit in 8 bits, new otherwise.
    pub fn set_device(&mut self, major: u32, minor: u32) {
        self.block = [0; N_BLOCKS];
        if major < 256 && minor < 256 {
            self.block[0] = major << 8 | minor;
        } else {
            self.block[1] = (minor & 0xFF) | (major & 0xFFF) << 8 | (minor & !0xFF) << 12;
        }
    }

    /// Whether the mode is one of the formats this project writes.
    pub fn has_known_format(&self) -> bool {
        matches!(
            self.format(),
            S_IFREG | S_IFDIR | S_IFLNK | S_IFCHR | S_IFBLK | super::S_IFIFO | super::S_IFSOCK
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inode_round_trips_through_bytes_with_high_ids() {
        let mut inode = Inode {
            mode: S_IFREG | 0o644,
            uid: 0x0001_0002,
            gid: 0x0003_0004,
            links_count: 2,
            blocks: 24,
            block: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
            mtime: 1234,
            ..Default::default()
        };
        inode.set_size(0x1_0000_0010);
        let mut b = [0u8; INODE_SIZE_128];
        inode.write(&mut b);
        let back = Inode::parse(&b);
        assert_eq!(back, inode);
        assert_eq!(back.size(), 0x1_0000_0010);
        assert_eq!(le16(&b, 2), 2);
        assert_eq!(le16(&b, 120), 1);
    }

    #[test]
    fn directory_size_ignores_the_high_word() {
        let inode = Inode {
            mode: S_IFDIR | 0o755,
            size_lo: 1024,
            size_high: 7,
            ..Default::default()
        };
        assert_eq!(inode.size(), 1024);
    }

    #[test]
    fn small_device_numbers_use_the_old_encoding() {
        let mut inode = Inode {
            mode: S_IFCHR | 0o600,
            ..Default::default()
        };
        inode.set_device(5, 1);
        assert_eq!(inode.block[0], 0x0501);
        assert_eq!(inode.block[1], 0);
        assert_eq!(inode.device(), Some((5, 1)));
    }

    #[test]
    fn large_device_numbers_use_the_new_encoding() {
        let mut inode = Inode {
            mode: S_IFBLK | 0o600,
            ..Default::default()
        };
        inode.set_device(259, 70000);
        assert_eq!(inode.block[0], 0);
        assert_eq!(inode.device(), Some((259, 70000)));
    }

    #[test]
    fn fast_symlink_target_lives_in_i_block() {
        let mut inode = Inode {
            mode: S_IFLNK | 0o777,
            ..Default::default()
        };
        inode.set_inline_bytes(b"/etc/motd");
        assert!(inode.is_fast_symlink(1024));
        assert_eq!(&inode.inline_bytes()[..9], b"/etc/motd");
        assert_eq!(inode.block[0], u32::from_le_bytes(*b"/etc"));
    }
}
