//! Inodes and file data (Linux's `fs/ext2/inode.c`): inode slots in the
//! group inode tables, the block map (12 direct pointers, then single,
//! double and triple indirect blocks), data reads and writes through the
//! buffer cache, and truncation. Unmapped blocks are holes: they read as
//! zeros and take no space (sparse files).

use ::alloc::vec::Vec;

use ondisk::ext2::{INODE_SIZE_128, Inode, N_DIRECT};

use super::Ext2;
use crate::kernel::errno::{EFBIG, EIO, KResult};

const IND: usize = 12;
const DIND: usize = 13;
const TIND: usize = 14;

impl Ext2 {
    /// Block and byte offset of inode `ino`'s slot.
    fn inode_location(&self, ino: u32) -> KResult<(u32, usize)> {
        if ino == 0 || ino > self.sb.inodes_count {
            return Err(EIO);
        }
        let ipg = self.sb.inodes_per_group;
        let g = ((ino - 1) / ipg) as usize;
        let byte = ((ino - 1) % ipg) as usize * self.inode_size;
        Ok((
            self.groups[g].inode_table + (byte / self.bs) as u32,
            byte % self.bs,
        ))
    }

    pub fn read_inode(&self, ino: u32) -> KResult<Inode> {
        let (blk, off) = self.inode_location(ino)?;
        self.bread(blk, |b| {
            let mut raw = [0u8; INODE_SIZE_128];
            raw.copy_from_slice(&b[off..off + INODE_SIZE_128]);
            Inode::parse(&raw)
        })
    }

    pub fn write_inode(&self, ino: u32, inode: &Inode) -> KResult<()> {
        let (blk, off) = self.inode_location(ino)?;
        self.bmodify(blk, |b| {
            let mut raw = [0u8; INODE_SIZE_128];
            inode.write(&mut raw);
            b[off..off + INODE_SIZE_128].copy_from_slice(&raw);
        })
    }

    /// Zeroes inode `ino`'s whole slot (a new inode: `i_extra_isize` and
    /// up of a large slot start at zero).
    pub fn clear_inode_slot(&self, ino: u32) -> KResult<()> {
        let (blk, off) = self.inode_location(ino)?;
        let size = self.inode_size;
        self.bmodify(blk, |b| b[off..off + size].fill(0))
    }

    /// Pointers per indirect block.
    fn ppb(&self) -> u64 {
        (self.bs / 4) as u64
    }

    /// Sectors one block adds to `i_blocks`.
    pub fn sectors_per_block(&self) -> u32 {
        (self.bs / 512) as u32
    }

    fn read_ptr(&self, blk: u32, index: u64) -> KResult<u32> {
        let at = index as usize * 4;
        self.bread(blk, |b| {
            u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
        })
    }

    fn write_ptr(&self, blk: u32, index: u64, value: u32) -> KResult<()> {
        let at = index as usize * 4;
        self.bmodify(blk, |b| b[at..at + 4].copy_from_slice(&value.to_le_bytes()))
    }

    /// The path through the block map to logical block `lblk`: the
    /// `i_block` slot and the indices in each indirect level.
    fn map_path(&self, lblk: u64) -> KResult<(usize, Vec<u64>)> {
        let ppb = self.ppb();
        let mut l = lblk;
        if l < N_DIRECT as u64 {
            return Ok((l as usize, Vec::new()));
        }
        l -= N_DIRECT as u64;
        if l < ppb {
            return Ok((IND, ::alloc::vec![l]));
        }
        l -= ppb;
        if l < ppb * ppb {
            return Ok((DIND, ::alloc::vec![l / ppb, l % ppb]));
        }
        l -= ppb * ppb;
        if l < ppb * ppb * ppb {
            return Ok((
                TIND,
                ::alloc::vec![l / (ppb * ppb), (l / ppb) % ppb, l % ppb],
            ));
        }
        Err(EFBIG)
    }

    /// The physical block of logical block `lblk` of `inode` (0: a hole),
    /// allocating it and any missing indirect blocks if `create`.
    pub fn bmap(&mut self, ino: u32, inode: &mut Inode, lblk: u64, create: bool) -> KResult<u32> {
        let (slot, path) = self.map_path(lblk)?;
        let goal = self.group_of(ino);
        let mut blk = inode.block[slot];
        if blk == 0 {
            if !create {
                return Ok(0);
            }
            blk = self.alloc_block(goal)?;
            inode.block[slot] = blk;
            inode.blocks += self.sectors_per_block();
        }
        for index in path {
            let mut next = self.read_ptr(blk, index)?;
            if next == 0 {
                if !create {
                    return Ok(0);
                }
                next = self.alloc_block(goal)?;
                self.write_ptr(blk, index, next)?;
                inode.blocks += self.sectors_per_block();
            }
            blk = next;
        }
        Ok(blk)
    }

    /// Reads file data at `pos` (holes read as zeros).
    pub fn read_data(
        &mut self,
        ino: u32,
        inode: &mut Inode,
        pos: u64,
        buf: &mut [u8],
    ) -> KResult<usize> {
        let size = inode.size();
        if pos >= size {
            return Ok(0);
        }
        let want = buf.len().min((size - pos) as usize);
        let bs = self.bs as u64;
        let mut done = 0;
        while done < want {
            let at = pos + done as u64;
            let within = (at % bs) as usize;
            let n = (self.bs - within).min(want - done);
            let blk = self.bmap(ino, inode, at / bs, false)?;
            let out = &mut buf[done..done + n];
            if blk == 0 {
                out.fill(0);
            } else {
                self.bread(blk, |b| out.copy_from_slice(&b[within..within + n]))?;
            }
            done += n;
        }
        Ok(done)
    }

    /// Writes file data at `pos`, allocating blocks, growing the size;
    /// the caller writes the inode back.
    pub fn write_data(
        &mut self,
        ino: u32,
        inode: &mut Inode,
        pos: u64,
        buf: &[u8],
    ) -> KResult<usize> {
        let bs = self.bs as u64;
        let mut done = 0;
        while done < buf.len() {
            let at = pos + done as u64;
            let within = (at % bs) as usize;
            let n = (self.bs - within).min(buf.len() - done);
            let blk = match self.bmap(ino, inode, at / bs, true) {
                Ok(b) => b,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            let src = &buf[done..done + n];
            self.bmodify(blk, |b| b[within..within + n].copy_from_slice(src))?;
            done += n;
            if at + n as u64 > inode.size() {
                inode.set_size(at + n as u64);
            }
        }
        let t = super::now();
        inode.mtime = t;
        inode.ctime = t;
        Ok(done)
    }

    /// Frees the subtree under `blk` at `level` (0: a data block) that
    /// starts at logical block `base`, for blocks at or after `first`.
    /// Returns whether `blk` itself was freed.
    fn trunc_tree(
        &mut self,
        inode: &mut Inode,
        blk: u32,
        level: u32,
        base: u64,
        first: u64,
    ) -> KResult<bool> {
        if level > 0 {
            let ppb = self.ppb();
            let span = ppb.pow(level - 1);
            let ptrs: Vec<u32> = self.bread(blk, |b| {
                b.chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            })?;
            for (i, &child) in ptrs.iter().enumerate() {
                let child_base = base + i as u64 * span;
                if child == 0 || child_base + span <= first {
                    continue;
                }
                if self.trunc_tree(inode, child, level - 1, child_base, first)? && base < first {
                    self.write_ptr(blk, i as u64, 0)?;
                }
            }
        }
        if base >= first {
            self.free_block(blk)?;
            inode.blocks = inode.blocks.saturating_sub(self.sectors_per_block());
            return Ok(true);
        }
        Ok(false)
    }

    /// Sets the size to `size`, freeing the blocks past it and zeroing the
    /// rest of the last partial block; the caller writes the inode back.
    pub fn truncate(&mut self, ino: u32, inode: &mut Inode, size: u64) -> KResult<()> {
        let bs = self.bs as u64;
        let first = size.div_ceil(bs);
        if size < inode.size() && !size.is_multiple_of(bs) {
            let blk = self.bmap(ino, inode, size / bs, false)?;
            if blk != 0 {
                let within = (size % bs) as usize;
                self.bmodify(blk, |b| b[within..].fill(0))?;
            }
        }
        let ppb = self.ppb();
        for i in 0..N_DIRECT {
            if inode.block[i] != 0 && i as u64 >= first {
                self.free_block(inode.block[i])?;
                inode.block[i] = 0;
                inode.blocks = inode.blocks.saturating_sub(self.sectors_per_block());
            }
        }
        let mut base = N_DIRECT as u64;
        for (slot, level) in [(IND, 1u32), (DIND, 2), (TIND, 3)] {
            let blk = inode.block[slot];
            if blk != 0
                && base + ppb.pow(level) > first
                && self.trunc_tree(inode, blk, level, base, first)?
            {
                inode.block[slot] = 0;
            }
            base += ppb.pow(level);
        }
        inode.set_size(size);
        let t = super::now();
        inode.mtime = t;
        inode.ctime = t;
        Ok(())
    }
}
