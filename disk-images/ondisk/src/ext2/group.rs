//! Block-group descriptors (section "Block Group Descriptor Table"): 32
//! bytes each, in the blocks right after the superblock (and its copies).

use super::{le16, le32, put16, put32};

/// Bytes per descriptor without the `64bit` feature.
pub const GROUP_DESCRIPTOR_SIZE: usize = 32;

/// `struct ext2_group_desc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct GroupDescriptor {
    /// Block number of the group's block bitmap.
    pub block_bitmap: u32,
    /// Block number of the group's inode bitmap.
    pub inode_bitmap: u32,
    /// First block of the group's inode table.
    pub inode_table: u32,
    pub free_blocks_count: u16,
    pub free_inodes_count: u16,
    /// Directories among the group's inodes.
    pub used_dirs_count: u16,
}

impl GroupDescriptor {
    pub fn parse(b: &[u8; GROUP_DESCRIPTOR_SIZE]) -> Self {
        GroupDescriptor {
            block_bitmap: le32(b, 0),
            inode_bitmap: le32(b, 4),
            inode_table: le32(b, 8),
            free_blocks_count: le16(b, 12),
            free_inodes_count: le16(b, 14),
            used_dirs_count: le16(b, 16),
        }
    }

    /// Writes the 32 bytes (padding and reserved words zero).
    pub fn write(&self, b: &mut [u8; GROUP_DESCRIPTOR_SIZE]) {
        b.fill(0);
        put32(b, 0, self.block_bitmap);
        put32(b, 4, self.inode_bitmap);
        put32(b, 8, self.inode_table);
        put16(b, 12, self.free_blocks_count);
        put16(b, 14, self.free_inodes_count);
        put16(b, 16, self.used_dirs_count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_descriptor_round_trips_through_bytes() {
        let gd = GroupDescriptor {
            block_bitmap: 3,
            inode_bitmap: 4,
            inode_table: 5,
            free_blocks_count: 0x1234,
            free_inodes_count: 0x5678,
            used_dirs_count: 9,
        };
        let mut b = [0xFFu8; GROUP_DESCRIPTOR_SIZE];
        gd.write(&mut b);
        assert_eq!(GroupDescriptor::parse(&b), gd);
        assert_eq!(&b[0..4], &[3, 0, 0, 0]);
        assert_eq!(&b[18..32], &[0; 14]);
    }
}
