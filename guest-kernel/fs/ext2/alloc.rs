//! Block and inode allocation through the group bitmaps (Linux's
//! `fs/ext2/balloc.c` and `ialloc.c`). Every change updates the bitmap,
//! the group descriptor's free count (and directory count) and the
//! superblock's free count together.

use super::Ext2;
use crate::kernel::errno::{EIO, ENOSPC, KResult};

/// The first clear bit below `limit` in `bitmap`.
fn find_clear(bitmap: &[u8], limit: usize) -> Option<usize> {
    (0..limit).find(|&i| bitmap[i / 8] & (1 << (i % 8)) == 0)
}

impl Ext2 {
    /// Blocks in group `g` (the last group may be short).
    fn blocks_in_group(&self, g: u32) -> u32 {
        let first = self.sb.first_data_block + g * self.sb.blocks_per_group;
        (self.sb.blocks_count - first).min(self.sb.blocks_per_group)
    }

    /// Allocates a zeroed block, preferring group `goal`.
    pub fn alloc_block(&mut self, goal: u32) -> KResult<u32> {
        let n = self.groups.len() as u32;
        for k in 0..n {
            let g = (goal + k) % n;
            if self.groups[g as usize].free_blocks_count == 0 {
                continue;
            }
            let limit = self.blocks_in_group(g) as usize;
            let bitmap = self.groups[g as usize].block_bitmap;
            let bit = self.bmodify(bitmap, |b| {
                let bit = find_clear(b, limit)?;
                b[bit / 8] |= 1 << (bit % 8);
                Some(bit)
            })?;
            let Some(bit) = bit else { continue };
            self.groups[g as usize].free_blocks_count -= 1;
            self.sb.free_blocks_count -= 1;
            self.write_gd(g)?;
            let blk = self.sb.first_data_block + g * self.sb.blocks_per_group + bit as u32;
            self.bzero(blk)?;
            return Ok(blk);
        }
        Err(ENOSPC)
    }

    /// Returns `blk` to its group's bitmap.
    pub fn free_block(&mut self, blk: u32) -> KResult<()> {
        if blk < self.sb.first_data_block || blk >= self.sb.blocks_count {
            return Err(EIO);
        }
        let rel = blk - self.sb.first_data_block;
        let g = rel / self.sb.blocks_per_group;
        let bit = (rel % self.sb.blocks_per_group) as usize;
        let was_set = self.bmodify(self.groups[g as usize].block_bitmap, |b| {
            let set = b[bit / 8] & (1 << (bit % 8)) != 0;
            b[bit / 8] &= !(1 << (bit % 8));
            set
        })?;
        if was_set {
            self.groups[g as usize].free_blocks_count += 1;
            self.sb.free_blocks_count += 1;
            self.write_gd(g)?;
        } else {
            pr_warn!("EXT2-fs: freeing free block {}", blk);
        }
        Ok(())
    }

    /// Allocates an inode number, preferring group `goal`.
    pub fn alloc_inode(&mut self, goal: u32, dir: bool) -> KResult<u32> {
        let n = self.groups.len() as u32;
        let ipg = self.sb.inodes_per_group;
        for k in 0..n {
            let g = (goal + k) % n;
            if self.groups[g as usize].free_inodes_count == 0 {
                continue;
            }
            let first = self.sb.first_ino();
            let bit = self.bmodify(self.groups[g as usize].inode_bitmap, |b| {
                let bit = (0..ipg as usize)
                    .find(|&i| b[i / 8] & (1 << (i % 8)) == 0 && g * ipg + i as u32 + 1 >= first)?;
                b[bit / 8] |= 1 << (bit % 8);
                Some(bit)
            })?;
            let Some(bit) = bit else { continue };
            let gd = &mut self.groups[g as usize];
            gd.free_inodes_count -= 1;
            if dir {
                gd.used_dirs_count += 1;
            }
            self.sb.free_inodes_count -= 1;
            self.write_gd(g)?;
            return Ok(g * ipg + bit as u32 + 1);
        }
        Err(ENOSPC)
    }

    /// Returns inode `ino` to its group's bitmap.
    pub fn free_inode(&mut self, ino: u32, dir: bool) -> KResult<()> {
        let ipg = self.sb.inodes_per_group;
        let g = (ino - 1) / ipg;
        let bit = ((ino - 1) % ipg) as usize;
        self.bmodify(self.groups[g as usize].inode_bitmap, |b| {
            b[bit / 8] &= !(1 << (bit % 8));
        })?;
        let gd = &mut self.groups[g as usize];
        gd.free_inodes_count += 1;
        if dir {
            gd.used_dirs_count = gd.used_dirs_count.saturating_sub(1);
        }
        self.sb.free_inodes_count += 1;
        self.write_gd(g)
    }

    /// The group of inode `ino` (allocation goal for its blocks and
    /// children).
    pub fn group_of(&self, ino: u32) -> u32 {
        (ino - 1) / self.sb.inodes_per_group
    }
}
