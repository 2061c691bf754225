//! A read-only ext2 reader over any byte-addressed device, without a heap.
//!
//! Stage 2 uses it to load `/boot/kernel` and `/boot/cmdline`, the kernel
//! for its first look at the root file system, the host checker to read
//! back what the builder wrote. Every number taken from the disk is
//! bounds-checked before it is used, and every loop is bounded by a size
//! the superblock or inode gives, so a corrupt image yields an [`Error`],
//! never a panic or a hang. Reads are small (4 bytes for an indirect
//! pointer, 8 for a directory-entry header), so a device may serve them
//! from a one-sector buffer.

use core::fmt;

use super::dir::{DirEntryHeader, DIR_ENTRY_HEADER_SIZE, MAX_NAME_LEN};
use super::group::{GroupDescriptor, GROUP_DESCRIPTOR_SIZE};
use super::inode::{
    Inode, DIND_BLOCK, IND_BLOCK, INLINE_BYTES, INODE_SIZE_128, N_DIRECT, TIND_BLOCK,
};
use super::superblock::{Superblock, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE};
use super::{EXT2_MAGIC, EXT4_EXTENTS_FL, ROOT_INO, SUPPORTED_INCOMPAT};

/// Symbolic links followed in one [`Volume::lookup`] before it gives up
/// with [`Error::SymlinkLoop`]; also the deepest nesting of links.
pub const MAX_SYMLINKS: u32 = 8;
/// Longest symbolic-link target [`Volume::lookup`] follows (it is copied to
/// the stack); longer ones give [`Error::NameTooLong`].
pub const MAX_SYMLINK_TARGET: usize = 256;
/// Largest block size accepted (the x86 page size, as Linux ext2 on x86).
const MAX_BLOCK_SIZE: u32 = 4096;

/// A device read at byte offsets from the start of the file system.
pub trait ReadAt {
    /// Fills all of `buf` from `offset`, or fails.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), IoError>;
}

/// The device could not deliver the bytes asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoError;

/// An in-memory file system image.
impl ReadAt for &[u8] {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let start = usize::try_from(offset).map_err(|_| IoError)?;
        let end = start.checked_add(buf.len()).ok_or(IoError)?;
        let src = self.get(start..end).ok_or(IoError)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// A borrowed device, so a caller can keep ownership.
impl<D: ReadAt + ?Sized> ReadAt for &mut D {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), IoError> {
        (**self).read_at(offset, buf)
    }
}

/// Why a read of the file system failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The device failed.
    Io,
    /// No ext2 magic number in the superblock.
    BadMagic,
    /// A valid file system using something this reader does not handle.
    Unsupported(&'static str),
    /// A path component does not exist.
    NotFound,
    /// A path component before the last is not a directory.
    NotADirectory,
    /// Data was asked of a device node, FIFO or socket.
    NotAFile,
    /// An on-disk number is out of range; the message names it.
    Corrupt(&'static str),
    /// A name over 255 bytes, or a symbolic-link target over
    /// [`MAX_SYMLINK_TARGET`].
    NameTooLong,
    /// More than [`MAX_SYMLINKS`] symbolic links in one lookup.
    SymlinkLoop,
}

impl From<IoError> for Error {
    fn from(_: IoError) -> Self {
        Error::Io
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io => f.write_str("device read failed"),
            Error::BadMagic => f.write_str("not an ext2 file system (bad magic)"),
            Error::Unsupported(what) => write!(f, "unsupported: {what}"),
            Error::NotFound => f.write_str("no such file or directory"),
            Error::NotADirectory => f.write_str("not a directory"),
            Error::NotAFile => f.write_str("not a file with data"),
            Error::Corrupt(what) => write!(f, "corrupt file system: {what}"),
            Error::NameTooLong => f.write_str("name too long"),
            Error::SymlinkLoop => f.write_str("too many levels of symbolic links"),
        }
    }
}

/// An open ext2 file system.
pub struct Volume<D: ReadAt> {
    dev: D,
    sb: Superblock,
    block_size: u32,
    groups: u32,
}

impl<D: ReadAt> Volume<D> {
    /// Reads and checks the superblock.
    pub fn open(mut dev: D) -> Result<Self, Error> {
        let mut raw = [0u8; SUPERBLOCK_SIZE];
        dev.read_at(SUPERBLOCK_OFFSET, &mut raw)?;
        let sb = Superblock::parse(&raw);
        if sb.magic != EXT2_MAGIC {
            return Err(Error::BadMagic);
        }
        if sb.feature_incompat & !SUPPORTED_INCOMPAT != 0 {
            return Err(Error::Unsupported("incompatible feature flags"));
        }
        sb.validate().map_err(Error::Corrupt)?;
        let block_size = sb.block_size().ok_or(Error::Corrupt("block size"))?;
        if block_size > MAX_BLOCK_SIZE {
            return Err(Error::Unsupported("block size over 4 KiB"));
        }
        let groups = sb.group_count();
        let gdt_blocks = (groups as u64 * GROUP_DESCRIPTOR_SIZE as u64).div_ceil(block_size as u64);
        if sb.first_data_block as u64 + 1 + gdt_blocks > sb.blocks_count as u64 {
            return Err(Error::Corrupt("group descriptors beyond the end"));
        }
        Ok(Volume {
            dev,
            sb,
            block_size,
            groups,
        })
    }

    pub fn superblock(&self) -> &Superblock {
        &self.sb
    }

    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    pub fn group_count(&self) -> u32 {
        self.groups
    }

    pub fn device(&mut self) -> &mut D {
        &mut self.dev
    }

    pub fn into_device(self) -> D {
        self.dev
    }

    /// The descriptor of block group `group` (from the primary table).
    pub fn group_descriptor(&mut self, group: u32) -> Result<GroupDescriptor, Error> {
        if group >= self.groups {
            return Err(Error::Corrupt("group number out of range"));
        }
        let table = (self.sb.first_data_block as u64 + 1) * self.block_size as u64;
        let mut raw = [0u8; GROUP_DESCRIPTOR_SIZE];
        self.dev.read_at(
            table + group as u64 * GROUP_DESCRIPTOR_SIZE as u64,
            &mut raw,
        )?;
        Ok(GroupDescriptor::parse(&raw))
    }

    /// Reads inode `ino` (1-based) from its group's inode table.
    pub fn read_inode(&mut self, ino: u32) -> Result<Inode, Error> {
        if ino == 0 || ino > self.sb.inodes_count {
            return Err(Error::Corrupt("inode number out of range"));
        }
        let group = (ino - 1) / self.sb.inodes_per_group;
        let index = (ino - 1) % self.sb.inodes_per_group;
        let gd = self.group_descriptor(group)?;
        let byte_in_table = index as u64 * self.sb.inode_size() as u64;
        let block = gd.inode_table as u64 + byte_in_table / self.block_size as u64;
        if gd.inode_table <= self.sb.first_data_block || block >= self.sb.blocks_count as u64 {
            return Err(Error::Corrupt("inode table beyond the end"));
        }
        let mut raw = [0u8; INODE_SIZE_128];
        self.dev.read_at(
            gd.inode_table as u64 * self.block_size as u64 + byte_in_table,
            &mut raw,
        )?;
        Ok(Inode::parse(&raw))
    }

    /// Reads from `offset` into `buf`; returns the bytes read, short at the
    /// end of the file. Holes read as zeros. A fast symbolic link reads as
    /// its target.
    pub fn read(&mut self, inode: &Inode, offset: u64, buf: &mut [u8]) -> Result<usize, Error> {
        if !(inode.is_file() || inode.is_dir() || inode.is_symlink()) {
            return Err(Error::NotAFile);
        }
        let size = inode.size();
        if offset >= size {
            return Ok(0);
        }
        let n = (size - offset).min(buf.len() as u64) as usize;
        if inode.is_fast_symlink(self.block_size) {
            if size > INLINE_BYTES as u64 {
                return Err(Error::Corrupt("fast symlink longer than i_block"));
            }
            let inline = inode.inline_bytes();
            buf[..n].copy_from_slice(&inline[offset as usize..offset as usize + n]);
            return Ok(n);
        }
        if inode.flags & EXT4_EXTENTS_FL != 0 {
            return Err(Error::Unsupported("extent-mapped inode"));
        }
        let bs = self.block_size as u64;
        let mut done = 0usize;
        while done < n {
            let pos = offset + done as u64;
            let within = (pos % bs) as usize;
            let chunk = (bs as usize - within).min(n - done);
            let out = &mut buf[done..done + chunk];
            match self.map_block(inode, pos / bs)? {
                0 => out.fill(0),
                phys => self.dev.read_at(phys as u64 * bs + within as u64, out)?,
            }
            done += chunk;
        }
        Ok(n)
    }

    /// The physical block holding logical block `lblk` of `inode`, or 0 for
    /// a hole (section "i_block": direct, then 1-, 2- and 3-level indirect).
    pub fn map_block(&mut self, inode: &Inode, lblk: u64) -> Result<u32, Error> {
        let per = self.block_size as u64 / 4;
        let direct = N_DIRECT as u64;
        let phys = if lblk < direct {
            inode.block[lblk as usize]
        } else if lblk - direct < per {
            self.indirect(inode.block[IND_BLOCK], lblk - direct)?
        } else if lblk - direct - per < per * per {
            let i = lblk - direct - per;
            let l1 = self.indirect(inode.block[DIND_BLOCK], i / per)?;
            self.indirect(l1, i % per)?
        } else if lblk - direct - per - per * per < per * per * per {
            let i = lblk - direct - per - per * per;
            let l1 = self.indirect(inode.block[TIND_BLOCK], i / (per * per))?;
            let l2 = self.indirect(l1, i / per % per)?;
            self.indirect(l2, i % per)?
        } else {
            return Err(Error::Corrupt("file offset beyond triple indirection"));
        };
        self.check_block(phys)?;
        Ok(phys)
    }

    /// Entry `index` of indirect block `block` (0 if `block` is a hole).
    fn indirect(&mut self, block: u32, index: u64) -> Result<u32, Error> {
        if block == 0 {
            return Ok(0);
        }
        self.check_block(block)?;
        let mut raw = [0u8; 4];
        self.dev
            .read_at(block as u64 * self.block_size as u64 + index * 4, &mut raw)?;
        Ok(u32::from_le_bytes(raw))
    }

    fn check_block(&self, block: u32) -> Result<(), Error> {
        if block != 0 && (block <= self.sb.first_data_block || block >= self.sb.blocks_count) {
            return Err(Error::Corrupt("block number out of range"));
        }
        Ok(())
    }

    /// Calls `f(inode, file_type, name)` for each used entry of directory
    /// `dir`, in disk order, until it returns `false`.
    pub fn for_each_dir_entry(
        &mut self,
        dir: &Inode,
        mut f: impl FnMut(u32, u8, &[u8]) -> bool,
    ) -> Result<(), Error> {
        if !dir.is_dir() {
            return Err(Error::NotADirectory);
        }
        let bs = self.block_size as u64;
        let size = dir.size();
        if !size.is_multiple_of(bs) {
            return Err(Error::Corrupt(
                "directory size not a multiple of the block size",
            ));
        }
        if size > self.sb.blocks_count as u64 * bs {
            return Err(Error::Corrupt("directory larger than the file system"));
        }
        let mut block_start = 0;
        while block_start < size {
            let mut off = 0u64;
            while off < bs {
                if off + DIR_ENTRY_HEADER_SIZE as u64 > bs {
                    return Err(Error::Corrupt("directory entry crosses a block"));
                }
                let mut raw = [0u8; DIR_ENTRY_HEADER_SIZE];
                self.read_exact(dir, block_start + off, &mut raw)?;
                let head = DirEntryHeader::parse(&raw);
                let rec_len = head.rec_len as u64;
                let name_len = head.name_len as usize;
                if rec_len < DirEntryHeader::min_rec_len(name_len) as u64
                    || !rec_len.is_multiple_of(4)
                    || off + rec_len > bs
                {
                    return Err(Error::Corrupt("directory entry length"));
                }
                if head.inode > self.sb.inodes_count {
                    return Err(Error::Corrupt("directory entry inode out of range"));
                }
                if head.inode != 0 {
                    let mut name = [0u8; MAX_NAME_LEN];
                    let name = &mut name[..name_len];
                    self.read_exact(dir, block_start + off + DIR_ENTRY_HEADER_SIZE as u64, name)?;
                    if !f(head.inode, head.file_type, name) {
                        return Ok(());
                    }
                }
                off += rec_len;
            }
            block_start += bs;
        }
        Ok(())
    }

    fn read_exact(&mut self, inode: &Inode, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        if self.read(inode, offset, buf)? != buf.len() {
            return Err(Error::Corrupt("short read inside a file"));
        }
        Ok(())
    }

    /// The inode number of `name` in directory `dir`, if present.
    pub fn find_in_dir(&mut self, dir: &Inode, name: &[u8]) -> Result<Option<u32>, Error> {
        let mut found = None;
        self.for_each_dir_entry(dir, |ino, _, entry| {
            if entry == name {
                found = Some(ino);
                false
            } else {
                true
            }
        })?;
        Ok(found)
    }

    /// Resolves a path from the root directory (a leading `/` is optional;
    /// `.`, `..` and empty components work as in Linux), following symbolic
    /// links, fast and slow, including a final one.
    pub fn lookup(&mut self, path: &str) -> Result<(u32, Inode), Error> {
        let mut budget = MAX_SYMLINKS;
        let root = self.read_inode(ROOT_INO)?;
        self.walk((ROOT_INO, root), path.as_bytes(), true, &mut budget)
    }

    /// Like [`Self::lookup`] but does not follow a final symbolic link
    /// (`lstat`).
    pub fn lookup_nofollow(&mut self, path: &str) -> Result<(u32, Inode), Error> {
        let mut budget = MAX_SYMLINKS;
        let root = self.read_inode(ROOT_INO)?;
        self.walk((ROOT_INO, root), path.as_bytes(), false, &mut budget)
    }

    /// Walks `path` from directory `start` (or from the root if it begins
    /// with `/`). Recursion is bounded by `budget`, which every followed
    /// link spends.
    fn walk(
        &mut self,
        start: (u32, Inode),
        path: &[u8],
        follow_last: bool,
        budget: &mut u32,
    ) -> Result<(u32, Inode), Error> {
        let (mut ino, mut inode) = if path.first() == Some(&b'/') {
            (ROOT_INO, self.read_inode(ROOT_INO)?)
        } else {
            start
        };
        let mut names = path
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty())
            .peekable();
        while let Some(name) = names.next() {
            if !inode.is_dir() {
                return Err(Error::NotADirectory);
            }
            if name.len() > MAX_NAME_LEN {
                return Err(Error::NameTooLong);
            }
            let child = self.find_in_dir(&inode, name)?.ok_or(Error::NotFound)?;
            let child_inode = self.read_inode(child)?;
            let last = names.peek().is_none();
            if child_inode.is_symlink() && (follow_last || !last) {
                if *budget == 0 {
                    return Err(Error::SymlinkLoop);
                }
                *budget -= 1;
                let len = child_inode.size();
                if len == 0 {
                    return Err(Error::NotFound);
                }
                if len > MAX_SYMLINK_TARGET as u64 {
                    return Err(Error::NameTooLong);
                }
                let mut target = [0u8; MAX_SYMLINK_TARGET];
                let target = &mut target[..len as usize];
                self.read_exact(&child_inode, 0, target)?;
                (ino, inode) = self.walk((ino, inode), target, true, budget)?;
            } else {
                (ino, inode) = (child, child_inode);
            }
        }
        Ok((ino, inode))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    use super::super::*;
    use super::*;

    const BS: usize = 1024;
    const BLOCKS: u32 = 420;
    const INODES: u32 = 32;
    const INODE_TABLE: u32 = 5;
    const BIG_BLOCKS: usize = 12 + 256 + 10;
    const BIG_SIZE: usize = BIG_BLOCKS * BS - 100;
    const BIG_HOLE: usize = 3;
    const SLOW_TARGET: &[u8] = b"/sub/./././././././././././././././././././././././././../hello";

    /// Content of the big test file at byte `i` (block `BIG_HOLE` is a hole).
    fn big_byte(i: usize) -> u8 {
        if i / BS == BIG_HOLE {
            0
        } else {
            (i * 7 + i / BS) as u8
        }
    }

    /// A tiny hand-made file system: one group, 1 KiB blocks.
    struct TestImage {
        bytes: Vec<u8>,
        next_block: u32,
    }

    impl TestImage {
        fn alloc(&mut self) -> u32 {
            let b = self.next_block;
            self.next_block += 1;
            assert!(b < BLOCKS);
            b
        }

        fn block(&mut self, b: u32) -> &mut [u8] {
            &mut self.bytes[b as usize * BS..(b as usize + 1) * BS]
        }

        fn put_inode(&mut self, ino: u32, inode: &Inode) {
            let at = INODE_TABLE as usize * BS + (ino as usize - 1) * 128;
            let mut raw = [0u8; 128];
            inode.write(&mut raw);
            self.bytes[at..at + 128].copy_from_slice(&raw);
        }

        /// Writes a one-block directory holding `entries`.
        fn put_dir(&mut self, ino: u32, entries: &[(u32, u8, &[u8])]) {
            let b = self.alloc();
            let mut off = 0;
            for (i, (child, ft, name)) in entries.iter().enumerate() {
                let rec_len = if i + 1 == entries.len() {
                    BS - off
                } else {
                    DirEntryHeader::min_rec_len(name.len())
                };
                let head = DirEntryHeader {
                    inode: *child,
                    rec_len: rec_len as u16,
                    name_len: name.len() as u8,
                    file_type: *ft,
                };
                let mut raw = [0u8; 8];
                head.write(&mut raw);
                let blk = self.block(b);
                blk[off..off + 8].copy_from_slice(&raw);
                blk[off + 8..off + 8 + name.len()].copy_from_slice(name);
                off += rec_len;
            }
            let mut inode = Inode {
                mode: S_IFDIR | 0o755,
                links_count: 2,
                blocks: 2,
                ..Default::default()
            };
            inode.block[0] = b;
            inode.set_size(BS as u64);
            self.put_inode(ino, &inode);
        }

        fn put_file(&mut self, ino: u32, mode: u16, data: &[u8]) {
            let b = self.alloc();
            self.block(b)[..data.len()].copy_from_slice(data);
            let mut inode = Inode {
                mode,
                links_count: 1,
                blocks: 2,
                ..Default::default()
            };
            inode.block[0] = b;
            inode.set_size(data.len() as u64);
            self.put_inode(ino, &inode);
        }

        fn put_fast_symlink(&mut self, ino: u32, target: &[u8]) {
            let mut inode = Inode {
                mode: S_IFLNK | 0o777,
                links_count: 1,
                ..Default::default()
            };
            inode.set_inline_bytes(target);
            inode.set_size(target.len() as u64);
            self.put_inode(ino, &inode);
        }

        /// The big file: direct, single and double indirect, one hole.
        fn put_big_file(&mut self, ino: u32) {
            let mut inode = Inode {
                mode: S_IFREG | 0o644,
                links_count: 1,
                ..Default::default()
            };
            let ind = self.alloc();
            let dind = self.alloc();
            let dind_l1 = self.alloc();
            inode.block[IND_BLOCK] = ind;
            inode.block[DIND_BLOCK] = dind;
            put32(self.block(dind), 0, dind_l1);
            let mut sectors = 6;
            for l in 0..BIG_BLOCKS {
                if l == BIG_HOLE {
                    continue;
                }
                let b = self.alloc();
                for (i, byte) in self.block(b).iter_mut().enumerate() {
                    *byte = big_byte(l * BS + i);
                }
                sectors += 2;
                match l {
                    0..12 => inode.block[l] = b,
                    12..268 => put32(self.block(ind), (l - 12) * 4, b),
                    _ => put32(self.block(dind_l1), (l - 268) * 4, b),
                }
            }
            inode.blocks = sectors;
            inode.set_size(BIG_SIZE as u64);
            self.put_inode(ino, &inode);
        }

        fn build() -> Vec<u8> {
            let mut img = TestImage {
                bytes: vec![0; BLOCKS as usize * BS],
                next_block: INODE_TABLE + INODES * 128 / BS as u32,
            };
            let sb = Superblock {
                inodes_count: INODES,
                blocks_count: BLOCKS,
                first_data_block: 1,
                blocks_per_group: 8192,
                frags_per_group: 8192,
                inodes_per_group: INODES,
                magic: EXT2_MAGIC,
                state: EXT2_VALID_FS,
                rev_level: EXT2_DYNAMIC_REV,
                first_ino: 11,
                inode_size: 128,
                feature_incompat: FEATURE_INCOMPAT_FILETYPE,
                ..Default::default()
            };
            let mut raw = [0u8; SUPERBLOCK_SIZE];
            sb.write(&mut raw);
            img.bytes[1024..2048].copy_from_slice(&raw);
            let gd = GroupDescriptor {
                block_bitmap: 3,
                inode_bitmap: 4,
                inode_table: INODE_TABLE,
                ..Default::default()
            };
            let mut raw = [0u8; 32];
            gd.write(&mut raw);
            img.block(2)[..32].copy_from_slice(&raw);

            img.put_dir(
                ROOT_INO,
                &[
                    (2, FT_DIR, b"."),
                    (2, FT_DIR, b".."),
                    (12, FT_REG_FILE, b"hello"),
                    (13, FT_REG_FILE, b"big"),
                    (14, FT_SYMLINK, b"fast"),
                    (15, FT_SYMLINK, b"slow"),
                    (16, FT_DIR, b"sub"),
                    (17, FT_SYMLINK, b"loop"),
                    (18, FT_CHRDEV, b"console"),
                ],
            );
            img.put_dir(
                16,
                &[
                    (16, FT_DIR, b"."),
                    (2, FT_DIR, b".."),
                    (19, FT_SYMLINK, b"up"),
                ],
            );
            img.put_file(12, S_IFREG | 0o644, b"Hello, world!\n");
            img.put_big_file(13);
            img.put_fast_symlink(14, b"hello");
            img.put_file(15, S_IFLNK | 0o777, SLOW_TARGET);
            img.put_fast_symlink(17, b"loop");
            let mut console = Inode {
                mode: S_IFCHR | 0o600,
                links_count: 1,
                ..Default::default()
            };
            console.set_device(5, 1);
            img.put_inode(18, &console);
            img.put_fast_symlink(19, b"../big");
            img.bytes
        }
    }

    fn read_all<D: ReadAt>(vol: &mut Volume<D>, path: &str) -> Result<Vec<u8>, Error> {
        let (_, inode) = vol.lookup(path)?;
        let mut out = vec![0; inode.size() as usize];
        let n = vol.read(&inode, 0, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    fn root_block(img: &[u8]) -> usize {
        let mut vol = Volume::open(img).unwrap();
        let root = vol.read_inode(ROOT_INO).unwrap();
        root.block[0] as usize
    }

    #[test]
    fn reads_a_small_file_by_path() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        assert_eq!(read_all(&mut vol, "/hello").unwrap(), b"Hello, world!\n");
    }

    #[test]
    fn reads_a_file_through_double_indirect_blocks_and_a_hole() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        let data = read_all(&mut vol, "/big").unwrap();
        let expected: Vec<u8> = (0..BIG_SIZE).map(big_byte).collect();
        assert_eq!(data.len(), BIG_SIZE);
        assert!(data == expected, "content differs");
    }

    #[test]
    fn small_reads_at_odd_offsets_cross_blocks_and_stop_at_eof() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        let (_, big) = vol.lookup("/big").unwrap();
        let mut buf = [0u8; 5];
        let at = 268 * BS - 2; // last two bytes of single, first three of double
        assert_eq!(vol.read(&big, at as u64, &mut buf), Ok(5));
        let expected: Vec<u8> = (at..at + 5).map(big_byte).collect();
        assert_eq!(&buf[..], &expected[..]);
        assert_eq!(vol.read(&big, BIG_SIZE as u64 - 2, &mut buf), Ok(2));
        assert_eq!(vol.read(&big, BIG_SIZE as u64, &mut buf), Ok(0));
    }

    #[test]
    fn fast_and_slow_symlinks_are_followed() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        assert_eq!(vol.lookup("/fast").unwrap().0, 12);
        assert_eq!(vol.lookup("/slow").unwrap().0, 12);
        assert_eq!(vol.lookup("/sub/up").unwrap().0, 13);
        assert_eq!(vol.lookup("sub/../sub/./up").unwrap().0, 13);
    }

    #[test]
    fn nofollow_lookup_and_read_show_the_link_itself() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        let (ino, link) = vol.lookup_nofollow("/slow").unwrap();
        assert_eq!(ino, 15);
        assert!(link.is_symlink() && !link.is_fast_symlink(1024));
        let mut buf = [0u8; 128];
        let n = vol.read(&link, 0, &mut buf).unwrap();
        assert_eq!(&buf[..n], SLOW_TARGET);
        let (_, fast) = vol.lookup_nofollow("/fast").unwrap();
        let n = vol.read(&fast, 0, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello");
    }

    #[test]
    fn a_self_referencing_link_is_a_loop() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        assert_eq!(vol.lookup("/loop").err(), Some(Error::SymlinkLoop));
    }

    #[test]
    fn path_errors_are_reported() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        assert_eq!(vol.lookup("/nope").err(), Some(Error::NotFound));
        assert_eq!(vol.lookup("/hello/x").err(), Some(Error::NotADirectory));
        let long = [b'a'; 300];
        let long = core::str::from_utf8(&long).unwrap();
        assert_eq!(vol.lookup(long).err(), Some(Error::NameTooLong));
    }

    #[test]
    fn directory_listing_gives_names_types_and_inodes() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        let (_, sub) = vol.lookup("/sub").unwrap();
        let mut seen = Vec::new();
        vol.for_each_dir_entry(&sub, |ino, ft, name| {
            seen.push((ino, ft, name.to_vec()));
            true
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![
                (16, FT_DIR, b".".to_vec()),
                (2, FT_DIR, b"..".to_vec()),
                (19, FT_SYMLINK, b"up".to_vec()),
            ]
        );
    }

    #[test]
    fn device_nodes_have_numbers_but_no_data() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        let (_, console) = vol.lookup("/console").unwrap();
        assert_eq!(console.device(), Some((5, 1)));
        assert_eq!(vol.read(&console, 0, &mut [0; 4]), Err(Error::NotAFile));
    }

    #[test]
    fn bad_magic_is_rejected() {
        let mut img = TestImage::build();
        img[1024 + 56] = 0;
        assert_eq!(Volume::open(&img[..]).err(), Some(Error::BadMagic));
    }

    #[test]
    fn unknown_incompatible_features_are_unsupported() {
        let mut img = TestImage::build();
        img[1024 + 96] |= FEATURE_INCOMPAT_EXTENTS as u8;
        assert!(matches!(Volume::open(&img[..]), Err(Error::Unsupported(_))));
    }

    #[test]
    fn zero_blocks_per_group_is_corrupt() {
        let mut img = TestImage::build();
        put32(&mut img, 1024 + 32, 0);
        assert!(matches!(Volume::open(&img[..]), Err(Error::Corrupt(_))));
    }

    #[test]
    fn truncated_device_is_an_io_error() {
        let img = TestImage::build();
        assert_eq!(Volume::open(&img[..1500]).err(), Some(Error::Io));
        let mut vol = Volume::open(&img[..9 * BS]).unwrap();
        assert_eq!(vol.lookup("/hello").err(), Some(Error::Io));
    }

    #[test]
    fn zero_rec_len_is_corrupt_not_a_hang() {
        let mut img = TestImage::build();
        let at = root_block(&img) * BS + 12 + 4; // rec_len of ".."
        put16(&mut img, at, 0);
        let mut vol = Volume::open(&img[..]).unwrap();
        assert!(matches!(vol.lookup("/hello"), Err(Error::Corrupt(_))));
    }

    #[test]
    fn rec_len_past_the_block_end_is_corrupt() {
        let mut img = TestImage::build();
        let at = root_block(&img) * BS + 4; // rec_len of "."
        put16(&mut img, at, 2048);
        let mut vol = Volume::open(&img[..]).unwrap();
        assert!(matches!(vol.lookup("/hello"), Err(Error::Corrupt(_))));
    }

    #[test]
    fn inode_table_beyond_the_end_is_corrupt() {
        let mut img = TestImage::build();
        put32(&mut img, 2 * BS + 8, BLOCKS + 5);
        let mut vol = Volume::open(&img[..]).unwrap();
        assert!(matches!(vol.read_inode(ROOT_INO), Err(Error::Corrupt(_))));
        assert!(matches!(vol.read_inode(0), Err(Error::Corrupt(_))));
        assert!(matches!(vol.read_inode(INODES + 1), Err(Error::Corrupt(_))));
    }

    #[test]
    fn indirect_pointer_beyond_the_end_is_corrupt() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        let (_, mut big) = vol.lookup("/big").unwrap();
        big.block[IND_BLOCK] = 0xFFFF_FFF0;
        let mut buf = [0u8; 4];
        let at = 20 * BS as u64;
        assert!(matches!(
            vol.read(&big, at, &mut buf),
            Err(Error::Corrupt(_))
        ));
    }

    #[test]
    fn extent_mapped_inodes_are_unsupported() {
        let img = TestImage::build();
        let mut vol = Volume::open(&img[..]).unwrap();
        let (_, mut hello) = vol.lookup("/hello").unwrap();
        hello.flags |= EXT4_EXTENTS_FL;
        assert!(matches!(
            vol.read(&hello, 0, &mut [0; 4]),
            Err(Error::Unsupported(_))
        ));
    }

    /// Visits every path reachable from the root, reading every file, to at
    /// most `depth` levels; errors are fine, panics are not.
    fn walk_everything(vol: &mut Volume<&[u8]>, dir: Inode, depth: u32) {
        let mut children = Vec::new();
        if vol
            .for_each_dir_entry(&dir, |ino, _, name| {
                if name != b"." && name != b".." {
                    children.push(ino);
                }
                children.len() < 64
            })
            .is_err()
        {
            return;
        }
        for ino in children {
            let Ok(inode) = vol.read_inode(ino) else {
                continue;
            };
            let mut buf = [0u8; 700];
            let _ = vol.read(&inode, 0, &mut buf);
            let _ = vol.read(&inode, 270 * BS as u64 + 3, &mut buf);
            if inode.is_dir() && depth > 0 {
                walk_everything(vol, inode, depth - 1);
            }
        }
        for path in ["/fast", "/slow", "/sub/up", "/loop", "/hello"] {
            let _ = vol.lookup(path);
        }
    }

    #[test]
    fn random_corruption_of_metadata_gives_errors_not_panics() {
        let clean = TestImage::build();
        let mut seed = 0x1234_5678_9ABC_DEF0u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // Metadata and directories live in the first 13 blocks, the big
        // file's indirect blocks right after.
        let hot = 16 * BS;
        for _ in 0..3000 {
            let mut img = clean.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() % hot as u64) as usize;
                img[at] = next() as u8;
            }
            let Ok(mut vol) = Volume::open(&img[..]) else {
                continue;
            };
            let Ok(root) = vol.read_inode(ROOT_INO) else {
                continue;
            };
            walk_everything(&mut vol, root, 3);
        }
    }
}
