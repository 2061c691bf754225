//! Directory entries (Linux's `fs/ext2/dir.c`). A directory is a file of
//! whole blocks, each a chain of entries whose `rec_len`s reach the
//! block's end exactly. Adding a name takes an unused entry or splits the
//! slack off the end of a used one (`rec_len` beyond its
//! `EXT2_DIR_REC_LEN`); when no block has room, a new block holds one
//! entry spanning it. Removing a name merges its entry into the previous
//! one in the block, or, for the first entry of a block, marks it unused
//! (inode 0).

use ::alloc::vec::Vec;

use ondisk::ext2::{DIR_ENTRY_HEADER_SIZE, DirEntryHeader, Inode};

use super::Ext2;
use crate::kernel::errno::{EIO, ENAMETOOLONG, KResult};

/// One entry as found: where it is and what it says.
#[derive(Clone, Debug)]
pub struct Found {
    pub ino: u32,
    /// Physical block and offset in it.
    pub blk: u32,
    pub off: usize,
    /// Offset of the previous entry in the block, if any.
    pub prev: Option<usize>,
}

fn header(b: &[u8], off: usize) -> DirEntryHeader {
    let mut h = [0u8; DIR_ENTRY_HEADER_SIZE];
    h.copy_from_slice(&b[off..off + DIR_ENTRY_HEADER_SIZE]);
    DirEntryHeader::parse(&h)
}

fn put_header(b: &mut [u8], off: usize, h: &DirEntryHeader) {
    let mut raw = [0u8; DIR_ENTRY_HEADER_SIZE];
    h.write(&mut raw);
    b[off..off + DIR_ENTRY_HEADER_SIZE].copy_from_slice(&raw);
}

impl Ext2 {
    /// Calls `f(blk, block bytes)` for each block of directory `dir`.
    fn dir_blocks(&mut self, ino: u32, dir: &mut Inode) -> KResult<Vec<u32>> {
        let n = dir.size().div_ceil(self.bs as u64);
        let mut out = Vec::new();
        for l in 0..n {
            let blk = self.bmap(ino, dir, l, false)?;
            if blk != 0 {
                out.push(blk);
            }
        }
        Ok(out)
    }

    /// Every entry of a directory: (inode, type, name).
    pub fn dir_entries(&mut self, ino: u32, dir: &mut Inode) -> KResult<Vec<(u32, u8, Vec<u8>)>> {
        let bs = self.bs;
        let mut out = Vec::new();
        for blk in self.dir_blocks(ino, dir)? {
            self.bread(blk, |b| {
                let mut off = 0;
                while off + DIR_ENTRY_HEADER_SIZE <= bs {
                    let h = header(b, off);
                    if h.rec_len < 8 || off + h.rec_len as usize > bs {
                        break;
                    }
                    let end = off + DIR_ENTRY_HEADER_SIZE + h.name_len as usize;
                    if h.inode != 0 && end <= bs {
                        out.push((
                            h.inode,
                            h.file_type,
                            b[off + DIR_ENTRY_HEADER_SIZE..end].to_vec(),
                        ));
                    }
                    off += h.rec_len as usize;
                }
            })?;
        }
        Ok(out)
    }

    /// Finds `name` in directory `dir`.
    pub fn find_entry(&mut self, ino: u32, dir: &mut Inode, name: &[u8]) -> KResult<Option<Found>> {
        let bs = self.bs;
        for blk in self.dir_blocks(ino, dir)? {
            let hit = self.bread(blk, |b| {
                let mut off = 0;
                let mut prev = None;
                while off + DIR_ENTRY_HEADER_SIZE <= bs {
                    let h = header(b, off);
                    if h.rec_len < 8 || off + h.rec_len as usize > bs {
                        return None;
                    }
                    let end = off + DIR_ENTRY_HEADER_SIZE + h.name_len as usize;
                    if h.inode != 0 && end <= bs && &b[off + DIR_ENTRY_HEADER_SIZE..end] == name {
                        return Some(Found {
                            ino: h.inode,
                            blk,
                            off,
                            prev,
                        });
                    }
                    prev = Some(off);
                    off += h.rec_len as usize;
                }
                None
            })?;
            if hit.is_some() {
                return Ok(hit);
            }
        }
        Ok(None)
    }

    /// Adds `name` -> `child` to directory `ino`; the caller writes `dir`.
    pub fn add_entry(
        &mut self,
        ino: u32,
        dir: &mut Inode,
        name: &[u8],
        child: u32,
        file_type: u8,
    ) -> KResult<()> {
        if name.len() > 255 {
            return Err(ENAMETOOLONG);
        }
        let need = DirEntryHeader::min_rec_len(name.len());
        let bs = self.bs;
        let write_name = |b: &mut [u8], off: usize, rec_len: usize| {
            let h = DirEntryHeader {
                inode: child,
                rec_len: rec_len as u16,
                name_len: name.len() as u8,
                file_type,
            };
            put_header(b, off, &h);
            b[off + DIR_ENTRY_HEADER_SIZE..off + DIR_ENTRY_HEADER_SIZE + name.len()]
                .copy_from_slice(name);
        };
        for blk in self.dir_blocks(ino, dir)? {
            let placed = self.bmodify(blk, |b| {
                let mut off = 0;
                while off + DIR_ENTRY_HEADER_SIZE <= bs {
                    let mut h = header(b, off);
                    let rec = h.rec_len as usize;
                    if rec < 8 || off + rec > bs {
                        return false;
                    }
                    if h.inode == 0 && rec >= need {
                        write_name(b, off, rec);
                        return true;
                    }
                    let used = DirEntryHeader::min_rec_len(h.name_len as usize);
                    if h.inode != 0 && rec >= used + need {
                        h.rec_len = used as u16;
                        put_header(b, off, &h);
                        write_name(b, off + used, rec - used);
                        return true;
                    }
                    off += rec;
                }
                false
            })?;
            if placed {
                let t = super::now();
                dir.mtime = t;
                dir.ctime = t;
                return Ok(());
            }
        }
        // A new block holding one entry that spans it.
        let lblk = dir.size().div_ceil(bs as u64);
        let blk = self.bmap(ino, dir, lblk, true)?;
        self.bmodify(blk, |b| write_name(b, 0, bs))?;
        dir.set_size((lblk + 1) * bs as u64);
        let t = super::now();
        dir.mtime = t;
        dir.ctime = t;
        Ok(())
    }

    /// Removes the entry `found` (from [`find_entry`](Self::find_entry)).
    pub fn remove_entry(&mut self, dir: &mut Inode, found: &Found) -> KResult<()> {
        self.bmodify(found.blk, |b| {
            let h = header(b, found.off);
            match found.prev {
                Some(p) => {
                    let mut ph = header(b, p);
                    ph.rec_len += h.rec_len;
                    put_header(b, p, &ph);
                }
                None => {
                    let mut h = h;
                    h.inode = 0;
                    put_header(b, found.off, &h);
                }
            }
        })?;
        let t = super::now();
        dir.mtime = t;
        dir.ctime = t;
        Ok(())
    }

    /// Points the entry `found` at `child` (rename over an existing name,
    /// a moved directory's `..`).
    pub fn retarget_entry(&mut self, found: &Found, child: u32, file_type: u8) -> KResult<()> {
        self.bmodify(found.blk, |b| {
            let mut h = header(b, found.off);
            h.inode = child;
            h.file_type = file_type;
            put_header(b, found.off, &h);
        })
    }

    /// Whether a directory holds only `.` and `..`.
    pub fn dir_is_empty(&mut self, ino: u32, dir: &mut Inode) -> KResult<bool> {
        Ok(self
            .dir_entries(ino, dir)?
            .iter()
            .all(|(_, _, n)| n == b"." || n == b".."))
    }

    /// Writes the first block of a new directory: `.` and `..`.
    pub fn init_dir_block(&mut self, blk: u32, ino: u32, parent: u32) -> KResult<()> {
        let bs = self.bs;
        let ft = self.dirent_type(ondisk::ext2::S_IFDIR);
        self.bmodify(blk, |b| {
            b.fill(0);
            put_header(
                b,
                0,
                &DirEntryHeader {
                    inode: ino,
                    rec_len: 12,
                    name_len: 1,
                    file_type: ft,
                },
            );
            b[8] = b'.';
            put_header(
                b,
                12,
                &DirEntryHeader {
                    inode: parent,
                    rec_len: (bs - 12) as u16,
                    name_len: 2,
                    file_type: ft,
                },
            );
            b[20] = b'.';
            b[21] = b'.';
        })
        .map_err(|_| EIO)
    }
}
