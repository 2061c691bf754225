//! The superblock (section "Superblock"): 1024 bytes at byte 1024 of the
//! file system, with backup copies at the start of some block groups.

use super::{le16, le32, put16, put32};
use super::{EXT2_GOOD_OLD_REV, EXT2_MAGIC, FEATURE_RO_COMPAT_SPARSE_SUPER, GOOD_OLD_FIRST_INO};
use super::{INODE_SIZE_128, SUPPORTED_INCOMPAT};

/// Byte offset of the primary superblock from the start of the file system.
pub const SUPERBLOCK_OFFSET: u64 = 1024;
/// Its length on disk.
pub const SUPERBLOCK_SIZE: usize = 1024;

/// The fields of `struct ext2_super_block` this project reads or writes;
/// the rest of the 1024 bytes are written as zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Superblock {
    pub inodes_count: u32,
    pub blocks_count: u32,
    pub r_blocks_count: u32,
    pub free_blocks_count: u32,
    pub free_inodes_count: u32,
    pub first_data_block: u32,
    /// Block size is `1024 << log_block_size`.
    pub log_block_size: u32,
    pub log_frag_size: u32,
    pub blocks_per_group: u32,
    pub frags_per_group: u32,
    pub inodes_per_group: u32,
    pub mtime: u32,
    pub wtime: u32,
    pub mnt_count: u16,
    pub max_mnt_count: u16,
    pub magic: u16,
    pub state: u16,
    pub errors: u16,
    pub minor_rev_level: u16,
    pub lastcheck: u32,
    pub checkinterval: u32,
    pub creator_os: u32,
    pub rev_level: u32,
    pub def_resuid: u16,
    pub def_resgid: u16,
    // Revision 1 (EXT2_DYNAMIC_REV) fields.
    pub first_ino: u32,
    pub inode_size: u16,
    pub block_group_nr: u16,
    pub feature_compat: u32,
    pub feature_incompat: u32,
    pub feature_ro_compat: u32,
    pub uuid: [u8; 16],
    pub volume_name: [u8; 16],
    pub last_mounted: [u8; 64],
    pub algo_bitmap: u32,
    pub prealloc_blocks: u8,
    pub prealloc_dir_blocks: u8,
    pub hash_seed: [u32; 4],
    pub def_hash_version: u8,
    pub default_mount_opts: u32,
    pub first_meta_bg: u32,
    pub mkfs_time: u32,
}

impl Default for Superblock {
    /// All fields zero.
    fn default() -> Self {
        Self::parse(&[0; SUPERBLOCK_SIZE])
    }
}

impl Superblock {
    /// Parses the 1024 superblock bytes (no validation: see [`Self::validate`]).
    pub fn parse(b: &[u8; SUPERBLOCK_SIZE]) -> Self {
        let mut uuid = [0; 16];
        uuid.copy_from_slice(&b[104..120]);
        let mut volume_name = [0; 16];
        volume_name.copy_from_slice(&b[120..136]);
        let mut last_mounted = [0; 64];
        last_mounted.copy_from_slice(&b[136..200]);
        Superblock {
            inodes_count: le32(b, 0),
            blocks_count: le32(b, 4),
            r_blocks_count: le32(b, 8),
            free_blocks_count: le32(b, 12),
            free_inodes_count: le32(b, 16),
            first_data_block: le32(b, 20),
            log_block_size: le32(b, 24),
            log_frag_size: le32(b, 28),
            blocks_per_group: le32(b, 32),
            frags_per_group: le32(b, 36),
            inodes_per_group: le32(b, 40),
            mtime: le32(b, 44),
            wtime: le32(b, 48),
            mnt_count: le16(b, 52),
            max_mnt_count: le16(b, 54),
            magic: le16(b, 56),
            state: le16(b, 58),
            errors: le16(b, 60),
            minor_rev_level: le16(b, 62),
            lastcheck: le32(b, 64),
            checkinterval: le32(b, 68),
            creator_os: le32(b, 72),
            rev_level: le32(b, 76),
            def_resuid: le16(b, 80),
            def_resgid: le16(b, 82),
            first_ino: le32(b, 84),
            inode_size: le16(b, 88),
            block_group_nr: le16(b, 90),
            feature_compat: le32(b, 92),
            feature_incompat: le32(b, 96),
            feature_ro_compat: le32(b, 100),
            uuid,
            volume_name,
            last_mounted,
            algo_bitmap: le32(b, 200),
            prealloc_blocks: b[204],
            prealloc_dir_blocks: b[205],
            hash_seed: [le32(b, 236), le32(b, 240), le32(b, 244), le32(b, 248)],
            def_hash_version: b[252],
            default_mount_opts: le32(b, 256),
            first_meta_bg: le32(b, 260),
            mkfs_time: le32(b, 264),
        }
    }

    /// Writes all 1024 bytes (fields not modelled here become zero).
    pub fn write(&self, b: &mut [u8; SUPERBLOCK_SIZE]) {
        b.fill(0);
        put32(b, 0, self.inodes_count);
        put32(b, 4, self.blocks_count);
        put32(b, 8, self.r_blocks_count);
        put32(b, 12, self.free_blocks_count);
        put32(b, 16, self.free_inodes_count);
        put32(b, 20, self.first_data_block);
        put32(b, 24, self.log_block_size);
        put32(b, 28, self.log_frag_size);
        put32(b, 32, self.blocks_per_group);
        put32(b, 36, self.frags_per_group);
        put32(b, 40, self.inodes_per_group);
        put32(b, 44, self.mtime);
        put32(b, 48, self.wtime);
        put16(b, 52, self.mnt_count);
        put16(b, 54, self.max_mnt_count);
        put16(b, 56, self.magic);
        put16(b, 58, self.state);
        put16(b, 60, self.errors);
        put16(b, 62, self.minor_rev_level);
        put32(b, 64, self.lastcheck);
        put32(b, 68, self.checkinterval);
        put32(b, 72, self.creator_os);
        put32(b, 76, self.rev_level);
        put16(b, 80, self.def_resuid);
        put16(b, 82, self.def_resgid);
        put32(b, 84, self.first_ino);
        put16(b, 88, self.inode_size);
        put16(b, 90, self.block_group_nr);
        put32(b, 92, self.feature_compat);
        put32(b, 96, self.feature_incompat);
        put32(b, 100, self.feature_ro_compat);
        b[104..120].copy_from_slice(&self.uuid);
        b[120..136].copy_from_slice(&self.volume_name);
        b[136..200].copy_from_slice(&self.last_mounted);
        put32(b, 200, self.algo_bitmap);
        b[204] = self.prealloc_blocks;
        b[205] = self.prealloc_dir_blocks;
        for (i, word) in self.hash_seed.iter().enumerate() {
            put32(b, 236 + 4 * i, *word);
        }
        b[252] = self.def_hash_version;
        put32(b, 256, self.default_mount_opts);
        put32(b, 260, self.first_meta_bg);
        put32(b, 264, self.mkfs_time);
    }

    /// `1024 << s_log_block_size`, or `None` if that is absurd (over 64 KiB).
    pub fn block_size(&self) -> Option<u32> {
        if self.log_block_size > 6 {
            None
        } else {
            Some(1024 << self.log_block_size)
        }
    }

    /// Bytes per inode-table slot (128 in revision 0).
    pub fn inode_size(&self) -> u32 {
        if self.rev_level == EXT2_GOOD_OLD_REV {
            INODE_SIZE_128 as u32
        } else {
            self.inode_size as u32
        }
    }

    /// The first inode number ordinary files may use (11 in revision 0).
    pub fn first_ino(&self) -> u32 {
        if self.rev_level == EXT2_GOOD_OLD_REV {
            GOOD_OLD_FIRST_INO
        } else {
            self.first_ino
        }
    }

    /// Number of block groups: the blocks after `s_first_data_block`,
    /// `s_blocks_per_group` to a group, the last one possibly short.
    pub fn group_count(&self) -> u32 {
        if self.blocks_per_group == 0 || self.blocks_count <= self.first_data_block {
            return 0;
        }
        (self.blocks_count - self.first_data_block).div_ceil(self.blocks_per_group)
    }

    /// Whether `sparse_super` is on (backups only in groups 0, 1 and
    /// powers of 3, 5 and 7).
    pub fn is_sparse(&self) -> bool {
        self.feature_ro_compat & FEATURE_RO_COMPAT_SPARSE_SUPER != 0
    }

    /// Checks what a reader relies on; the message names the broken rule.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.magic != EXT2_MAGIC {
            return Err("bad magic");
        }
        let bs = self.block_size().ok_or("block size over 64 KiB")?;
        if self.rev_level > 1 {
            return Err("unknown revision level");
        }
        if self.feature_incompat & !SUPPORTED_INCOMPAT != 0 {
            return Err("unsupported incompatible feature");
        }
        let expected_first = if bs == 1024 { 1 } else { 0 };
        if self.first_data_block != expected_first {
            return Err("first data block does not match the block size");
        }
        if self.blocks_per_group == 0 || self.blocks_per_group > 8 * bs {
            return Err("blocks per group out of range");
        }
        if self.inodes_per_group == 0 || self.inodes_per_group > 8 * bs {
            return Err("inodes per group out of range");
        }
        let isz = self.inode_size();
        if isz < INODE_SIZE_128 as u32 || !isz.is_power_of_two() || isz > bs {
            return Err("inode size out of range");
        }
        if self.blocks_count <= self.first_data_block {
            return Err("no blocks");
        }
        let groups = self.group_count() as u64;
        if self.inodes_count as u64 > groups * self.inodes_per_group as u64 {
            return Err("more inodes than the groups hold");
        }
        if self.inodes_count < self.first_ino() {
            return Err("fewer inodes than the reserved ones");
        }
        Ok(())
    }
}

/// Whether block group `group` holds a superblock (and group-descriptor)
/// copy: all groups without `sparse_super`; with it, groups 0 and 1 and
/// those numbered by a power of 3, 5 or 7 (Linux `ext2_group_sparse`).
pub fn has_superblock_backup(group: u32, sparse: bool) -> bool {
    if !sparse || group <= 1 {
        return true;
    }
    [3u32, 5, 7].iter().any(|&base| is_power_of(group, base))
}

fn is_power_of(mut n: u32, base: u32) -> bool {
    if n == 0 {
        return false;
    }
    while n.is_multiple_of(base) {
        n /= base;
    }
    n == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Superblock {
        Superblock {
            inodes_count: 1024,
            blocks_count: 8192,
            free_blocks_count: 7000,
            free_inodes_count: 1000,
            first_data_block: 1,
            blocks_per_group: 8192,
            frags_per_group: 8192,
            inodes_per_group: 1024,
            magic: EXT2_MAGIC,
            state: 1,
            rev_level: 1,
            first_ino: 11,
            inode_size: 128,
            feature_incompat: super::super::FEATURE_INCOMPAT_FILETYPE,
            uuid: [7; 16],
            volume_name: *b"root\0\0\0\0\0\0\0\0\0\0\0\0",
            hash_seed: [1, 2, 3, 4],
            mkfs_time: 99,
            ..Default::default()
        }
    }

    #[test]
    fn superblock_round_trips_through_bytes() {
        let sb = sample();
        let mut bytes = [0u8; SUPERBLOCK_SIZE];
        sb.write(&mut bytes);
        assert_eq!(Superblock::parse(&bytes), sb);
        assert_eq!(&bytes[56..58], &[0x53, 0xEF]);
    }

    #[test]
    fn sample_superblock_is_valid_with_one_group() {
        let sb = sample();
        assert_eq!(sb.validate(), Ok(()));
        assert_eq!(sb.group_count(), 1);
        assert_eq!(sb.block_size(), Some(1024));
    }

    #[test]
    fn absurd_block_size_is_rejected_not_shifted() {
        let sb = Superblock {
            log_block_size: 40,
            ..sample()
        };
        assert_eq!(sb.block_size(), None);
        assert!(sb.validate().is_err());
    }

    #[test]
    fn zero_blocks_per_group_is_rejected() {
        let sb = Superblock {
            blocks_per_group: 0,
            ..sample()
        };
        assert_eq!(sb.group_count(), 0);
        assert!(sb.validate().is_err());
    }

    #[test]
    fn sparse_backups_are_in_groups_0_1_and_powers_of_3_5_7() {
        let with: [u32; 9] = [0, 1, 3, 5, 7, 9, 25, 27, 49];
        let without: [u32; 6] = [2, 4, 6, 8, 10, 15];
        assert!(with.iter().all(|&g| has_superblock_backup(g, true)));
        assert!(without.iter().all(|&g| !has_superblock_backup(g, true)));
        assert!(has_superblock_backup(4, false));
    }
}
