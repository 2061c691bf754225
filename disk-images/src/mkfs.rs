//! mkfs: a [`Tree`] becomes an ext2 revision-1 file system.
//!
//! Layout, as mke2fs makes it (Poirier, "Disk Organisation"): block groups
//! of `8 * block_size` blocks; groups 0, 1 and powers of 3, 5 and 7 start
//! with a superblock copy and the group-descriptor table (`sparse_super`);
//! every group then has its block bitmap, inode bitmap and inode table;
//! data blocks follow. Inodes 1 to 10 are reserved, 2 is the root, 11 is
//! `lost+found` (with blocks preallocated so e2fsck can use it without
//! allocating), the tree's nodes follow from 12 in depth-first name order.
//! Files are mapped with direct, then single, double and triple indirect
//! blocks, each indirect block allocated just before the data it maps.
//!
//! The result is kept as a sparse map of non-zero blocks, so writing a
//! mostly empty 56 MiB file system touches only what it holds.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use ondisk::ext2::{
    file_type_for_mode, has_superblock_backup, DirEntryHeader, GroupDescriptor, Inode, Superblock,
    DIR_ENTRY_HEADER_SIZE, EXT2_DYNAMIC_REV, EXT2_ERRORS_CONTINUE, EXT2_MAGIC, EXT2_OS_LINUX,
    EXT2_VALID_FS, FEATURE_INCOMPAT_FILETYPE, FEATURE_RO_COMPAT_LARGE_FILE,
    FEATURE_RO_COMPAT_SPARSE_SUPER, FT_DIR, GOOD_OLD_FIRST_INO, GROUP_DESCRIPTOR_SIZE,
    INODE_SIZE_128, N_DIRECT, ROOT_INO, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE,
};
use ondisk::ext2::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG};

use crate::tree::{FileData, NodeId, NodeKind, Tree, LOST_AND_FOUND};
use crate::Error;

/// Inode slot size written (revision 1 allows more; 128 is all we use).
pub const INODE_SIZE: u32 = INODE_SIZE_128 as u32;
/// The inode mkfs gives `lost+found`.
pub const LOST_AND_FOUND_INO: u32 = GOOD_OLD_FIRST_INO;
/// mke2fs grows `lost+found` to at least this many bytes (and 2 blocks).
const LOST_AND_FOUND_BYTES: u32 = 16 * 1024;
/// Linux `EXT2_LINK_MAX`.
const MAX_LINKS: u16 = 32000;
/// A last group smaller than its metadata plus this many blocks is dropped,
/// as mke2fs does.
const MIN_LAST_GROUP_DATA: u32 = 50;

/// What the file system should look like.
#[derive(Clone, Debug)]
pub struct FsParams {
    /// Bytes available (the partition); the file system uses whole blocks.
    pub bytes: u64,
    pub block_size: u32,
    pub inode_ratio: u32,
    pub reserved_percent: u8,
    pub label: String,
    pub uuid: [u8; 16],
    pub hash_seed: [u32; 4],
    pub timestamp: u32,
}

/// Numbers describing what was built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsReport {
    pub block_size: u32,
    pub blocks: u32,
    pub free_blocks: u32,
    pub inodes: u32,
    pub free_inodes: u32,
    pub groups: u32,
    pub dirs: u32,
    pub files: u32,
    pub symlinks: u32,
    pub devices: u32,
}

/// A built file system: its non-zero blocks.
pub struct FsImage {
    block_size: u32,
    blocks_count: u32,
    blocks: BTreeMap<u32, Vec<u8>>,
}

impl FsImage {
    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    pub fn blocks_count(&self) -> u32 {
        self.blocks_count
    }

    fn block_mut(&mut self, block: u32) -> &mut [u8] {
        let bs = self.block_size as usize;
        self.blocks.entry(block).or_insert_with(|| vec![0; bs])
    }

    /// Writes bytes at a byte offset within one block.
    fn write(&mut self, block: u32, offset: usize, bytes: &[u8]) {
        self.block_mut(block)[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    /// Writes the non-zero blocks into `file` at byte `offset`; the rest
    /// is expected to read as zeros already (a fresh `set_len`).
    pub fn write_to(&self, file: &mut File, offset: u64, path: &Path) -> Result<(), Error> {
        for (&block, data) in &self.blocks {
            if data.iter().all(|&b| b == 0) {
                continue;
            }
            file.seek(SeekFrom::Start(
                offset + block as u64 * self.block_size as u64,
            ))
            .and_then(|_| file.write_all(data))
            .map_err(Error::io(path))?;
        }
        Ok(())
    }

    /// The whole file system as bytes (for tests and the checker).
    pub fn to_bytes(&self) -> Vec<u8> {
        let bs = self.block_size as usize;
        let mut out = vec![0; self.blocks_count as usize * bs];
        for (&block, data) in &self.blocks {
            out[block as usize * bs..(block as usize + 1) * bs].copy_from_slice(data);
        }
        out
    }
}

/// Where everything goes, fixed before anything is written.
struct Layout {
    block_size: u32,
    first_data_block: u32,
    blocks_count: u32,
    blocks_per_group: u32,
    groups: u32,
    inodes_per_group: u32,
    inode_table_blocks: u32,
    gdt_blocks: u32,
}

impl Layout {
    fn new(params: &FsParams, min_inodes: u32) -> Result<Layout, Error> {
        let bs = params.block_size;
        let first_data_block = u32::from(bs == 1024);
        let blocks = params.bytes / bs as u64;
        let mut blocks_count = u32::try_from(blocks).map_err(|_| {
            Error::Layout(format!(
                "{blocks} blocks do not fit ext2's 32-bit block numbers"
            ))
        })?;
        let blocks_per_group = 8 * bs;
        let inodes_per_block = bs / INODE_SIZE;
        loop {
            if blocks_count <= first_data_block + 64 {
                return Err(Error::FsFull(format!(
                    "{} bytes is too small for an ext2 file system",
                    params.bytes
                )));
            }
            let groups = (blocks_count - first_data_block).div_ceil(blocks_per_group);
            let wanted = (blocks_count as u64 * bs as u64 / params.inode_ratio as u64)
                .max(min_inodes as u64);
            let per_group = wanted
                .div_ceil(groups as u64)
                .div_ceil(inodes_per_block as u64)
                * inodes_per_block as u64;
            if per_group > 8 * bs as u64 {
                return Err(Error::FsFull(format!(
                    "{wanted} inodes need more than {} per group",
                    8 * bs
                )));
            }
            let inodes_per_group = per_group as u32;
            let layout = Layout {
                block_size: bs,
                first_data_block,
                blocks_count,
                blocks_per_group,
                groups,
                inodes_per_group,
                inode_table_blocks: inodes_per_group / inodes_per_block,
                gdt_blocks: (groups * GROUP_DESCRIPTOR_SIZE as u32).div_ceil(bs),
            };
            let last = groups - 1;
            if layout.group_len(last) >= layout.overhead(last) + MIN_LAST_GROUP_DATA {
                return Ok(layout);
            }
            if groups == 1 {
                return Err(Error::FsFull(format!(
                    "{} blocks cannot hold the metadata of one group",
                    blocks_count
                )));
            }
            blocks_count -= layout.group_len(last);
        }
    }

    fn group_start(&self, g: u32) -> u32 {
        self.first_data_block + g * self.blocks_per_group
    }

    fn group_len(&self, g: u32) -> u32 {
        (self.blocks_count - self.group_start(g)).min(self.blocks_per_group)
    }

    fn has_backup(&self, g: u32) -> bool {
        has_superblock_backup(g, true)
    }

    /// Blocks of metadata at the start of group `g`.
    fn overhead(&self, g: u32) -> u32 {
        let copies = if self.has_backup(g) {
            1 + self.gdt_blocks
        } else {
            0
        };
        copies + 2 + self.inode_table_blocks
    }

    fn descriptor(&self, g: u32) -> GroupDescriptor {
        let bitmap = self.group_start(g)
            + if self.has_backup(g) {
                1 + self.gdt_blocks
            } else {
                0
            };
        GroupDescriptor {
            block_bitmap: bitmap,
            inode_bitmap: bitmap + 1,
            inode_table: bitmap + 2,
            ..Default::default()
        }
    }

    fn inodes_count(&self) -> u32 {
        self.groups * self.inodes_per_group
    }
}

/// Builds the file system for `tree`.
pub fn mkfs(tree: &Tree, params: &FsParams) -> Result<(FsImage, FsReport), Error> {
    let order = number_inodes(tree);
    let layout = Layout::new(params, LOST_AND_FOUND_INO + order.len() as u32 + 1)?;
    let mut fs = Builder::new(&layout, params);
    fs.write_everything(tree, &order)?;
    Ok(fs.finish())
}

/// Tree nodes in inode order from [`LOST_AND_FOUND_INO`] + 1, depth-first
/// by name; a hard-linked node appears once. The root is not included.
fn number_inodes(tree: &Tree) -> Vec<NodeId> {
    let mut order = Vec::new();
    let mut seen = HashMap::new();
    fn visit(tree: &Tree, dir: NodeId, order: &mut Vec<NodeId>, seen: &mut HashMap<NodeId, ()>) {
        for (_, child) in tree.children(dir) {
            if seen.insert(child, ()).is_none() {
                order.push(child);
                visit(tree, child, order, seen);
            }
        }
    }
    visit(tree, Tree::ROOT, &mut order, &mut seen);
    order
}

struct Builder<'a> {
    layout: &'a Layout,
    params: &'a FsParams,
    image: FsImage,
    block_used: Vec<bool>,
    next_free: u32,
    inode_used: Vec<bool>,
    dirs_per_group: Vec<u16>,
    report: FsReport,
}

impl<'a> Builder<'a> {
    fn new(layout: &'a Layout, params: &'a FsParams) -> Builder<'a> {
        let mut b = Builder {
            layout,
            params,
            image: FsImage {
                block_size: layout.block_size,
                blocks_count: layout.blocks_count,
                blocks: BTreeMap::new(),
            },
            block_used: vec![false; layout.blocks_count as usize],
            next_free: layout.first_data_block,
            inode_used: vec![false; layout.inodes_count() as usize + 1],
            dirs_per_group: vec![0; layout.groups as usize],
            report: FsReport::default(),
        };
        for g in 0..layout.groups {
            let start = layout.group_start(g);
            for block in start..start + layout.overhead(g) {
                b.block_used[block as usize] = true;
            }
        }
        for ino in 1..LOST_AND_FOUND_INO {
            b.inode_used[ino as usize] = true;
        }
        b
    }

    fn alloc_block(&mut self) -> Result<u32, Error> {
        while (self.next_free as usize) < self.block_used.len() {
            let block = self.next_free;
            self.next_free += 1;
            if !self.block_used[block as usize] {
                self.block_used[block as usize] = true;
                return Ok(block);
            }
        }
        Err(Error::FsFull(format!(
            "all {} blocks of {} bytes are used; make the root partition bigger",
            self.layout.blocks_count, self.layout.block_size
        )))
    }

    /// Allocates and fills data blocks for `data`, with the indirect blocks
    /// it needs; returns `i_block` and the number of blocks used.
    fn store(&mut self, data: &[u8]) -> Result<([u32; 15], u32), Error> {
        let mut chunks = data.chunks(self.layout.block_size as usize).peekable();
        let mut i_block = [0u32; 15];
        let mut count = 0;
        for slot in i_block.iter_mut().take(N_DIRECT) {
            let Some(chunk) = chunks.next() else { break };
            *slot = self.store_block(chunk)?;
            count += 1;
        }
        for level in 1..=3 {
            if chunks.peek().is_none() {
                break;
            }
            let (block, used) = self.store_indirect(level, &mut chunks)?;
            i_block[N_DIRECT + level as usize - 1] = block;
            count += used;
        }
        if chunks.peek().is_some() {
            return Err(Error::FsFull(
                "a file is larger than triple indirection maps".into(),
            ));
        }
        Ok((i_block, count))
    }

    fn store_block(&mut self, chunk: &[u8]) -> Result<u32, Error> {
        let block = self.alloc_block()?;
        if chunk.iter().any(|&b| b != 0) {
            self.image.write(block, 0, chunk);
        }
        Ok(block)
    }

    /// An indirect block of `level` (1 = single) mapping the next chunks.
    fn store_indirect<'d>(
        &mut self,
        level: u32,
        chunks: &mut std::iter::Peekable<std::slice::Chunks<'d, u8>>,
    ) -> Result<(u32, u32), Error> {
        let me = self.alloc_block()?;
        let mut count = 1;
        let per = self.layout.block_size as usize / 4;
        let mut pointers = vec![0u32; per];
        for slot in pointers.iter_mut() {
            if chunks.peek().is_none() {
                break;
            }
            if level == 1 {
                let chunk = chunks.next().expect("peeked");
                *slot = self.store_block(chunk)?;
                count += 1;
            } else {
                let (block, used) = self.store_indirect(level - 1, chunks)?;
                *slot = block;
                count += used;
            }
        }
        let bytes: Vec<u8> = pointers.iter().flat_map(|p| p.to_le_bytes()).collect();
        self.image.write(me, 0, &bytes);
        Ok((me, count))
    }

    fn new_inode(&self, format: u16, perm: u16, uid: u32, gid: u32) -> Inode {
        let t = self.params.timestamp;
        Inode {
            mode: format | (perm & 0o7777),
            uid,
            gid,
            atime: t,
            ctime: t,
            mtime: t,
            ..Default::default()
        }
    }

    /// Stores `data` as the inode's contents and writes the inode.
    fn put_with_data(&mut self, ino: u32, mut inode: Inode, data: &[u8]) -> Result<(), Error> {
        let (i_block, blocks) = self.store(data)?;
        inode.block = i_block;
        inode.blocks = blocks * (self.layout.block_size / 512);
        inode.set_size(data.len() as u64);
        self.put_inode(ino, &inode);
        Ok(())
    }

    fn put_inode(&mut self, ino: u32, inode: &Inode) {
        let l = self.layout;
        let group = (ino - 1) / l.inodes_per_group;
        let byte = ((ino - 1) % l.inodes_per_group) as usize * INODE_SIZE as usize;
        let table = l.descriptor(group).inode_table + (byte / l.block_size as usize) as u32;
        let mut raw = [0u8; INODE_SIZE_128];
        inode.write(&mut raw);
        self.image.write(table, byte % l.block_size as usize, &raw);
        self.inode_used[ino as usize] = true;
        if inode.is_dir() {
            self.dirs_per_group[group as usize] += 1;
        }
    }

    /// Directory blocks for `entries` (name, inode, file type), with `.`
    /// and `..` first; each block's last entry reaches the block's end.
    fn dir_blocks(&self, entries: &[(Vec<u8>, u32, u8)], min_bytes: u32) -> Vec<u8> {
        let bs = self.layout.block_size as usize;
        let mut out = vec![0u8; bs];
        let mut block_start = 0;
        let mut off = 0;
        let mut last = 0;
        for (name, ino, file_type) in entries {
            let need = DirEntryHeader::min_rec_len(name.len());
            if off + need > bs {
                close_dir_block(&mut out[block_start..], last);
                block_start += bs;
                out.resize(block_start + bs, 0);
                off = 0;
            }
            let head = DirEntryHeader {
                inode: *ino,
                rec_len: need as u16,
                name_len: name.len() as u8,
                file_type: *file_type,
            };
            let at = block_start + off;
            let mut raw = [0u8; DIR_ENTRY_HEADER_SIZE];
            head.write(&mut raw);
            out[at..at + DIR_ENTRY_HEADER_SIZE].copy_from_slice(&raw);
            out[at + DIR_ENTRY_HEADER_SIZE..at + DIR_ENTRY_HEADER_SIZE + name.len()]
                .copy_from_slice(name);
            last = off;
            off += need;
        }
        close_dir_block(&mut out[block_start..], last);
        // Preallocated empty blocks: one unused entry spanning each.
        while out.len() < min_bytes as usize {
            let at = out.len();
            out.resize(at + bs, 0);
            out[at + 4..at + 6].copy_from_slice(&(bs as u16).to_le_bytes());
        }
        out
    }

    fn write_everything(&mut self, tree: &Tree, order: &[NodeId]) -> Result<(), Error> {
        let mut ino_of: HashMap<NodeId, u32> = HashMap::new();
        ino_of.insert(Tree::ROOT, ROOT_INO);
        for (i, &id) in order.iter().enumerate() {
            ino_of.insert(id, LOST_AND_FOUND_INO + 1 + i as u32);
        }
        let mut parent_of: HashMap<NodeId, NodeId> = HashMap::new();
        let mut names_of: HashMap<NodeId, u32> = HashMap::new();
        for &dir in std::iter::once(&Tree::ROOT).chain(order) {
            for (_, child) in tree.children(dir) {
                parent_of.entry(child).or_insert(dir);
                *names_of.entry(child).or_default() += 1;
            }
        }

        // The root, then lost+found, then everything else in inode order.
        let root = tree.node(Tree::ROOT);
        let mut root_entries = self.child_entries(tree, Tree::ROOT, &ino_of);
        root_entries.push((LOST_AND_FOUND.to_vec(), LOST_AND_FOUND_INO, FT_DIR));
        root_entries.sort();
        let subdirs = 1 + count_subdirs(tree, Tree::ROOT);
        self.put_dir(
            ROOT_INO,
            ROOT_INO,
            root_entries,
            0,
            subdirs,
            (root.perm, root.uid, root.gid),
        )?;
        self.put_dir(
            LOST_AND_FOUND_INO,
            ROOT_INO,
            vec![],
            LOST_AND_FOUND_BYTES,
            0,
            (0o700, 0, 0),
        )?;

        for &id in order {
            let node = tree.node(id);
            let ino = ino_of[&id];
            let links = u16::try_from(names_of[&id])
                .ok()
                .filter(|&n| n <= MAX_LINKS)
                .ok_or_else(|| {
                    Error::Tree(format!(
                        "a file has {} names; ext2 allows {MAX_LINKS}",
                        names_of[&id]
                    ))
                })?;
            match &node.kind {
                NodeKind::Dir(_) => {
                    let entries = self.child_entries(tree, id, &ino_of);
                    let parent = ino_of[&parent_of[&id]];
                    let subdirs = count_subdirs(tree, id);
                    self.put_dir(
                        ino,
                        parent,
                        entries,
                        0,
                        subdirs,
                        (node.perm, node.uid, node.gid),
                    )?;
                }
                NodeKind::File(data) => {
                    let owned;
                    let bytes = match data {
                        FileData::Bytes(b) => b.as_slice(),
                        FileData::Host(path) => {
                            owned = std::fs::read(path).map_err(Error::io(path))?;
                            owned.as_slice()
                        }
                    };
                    let mut inode = self.new_inode(S_IFREG, node.perm, node.uid, node.gid);
                    inode.links_count = links;
                    self.put_with_data(ino, inode, bytes)?;
                    self.report.files += 1;
                }
                NodeKind::Symlink(target) => {
                    let mut inode = self.new_inode(S_IFLNK, node.perm, node.uid, node.gid);
                    inode.links_count = links;
                    self.put_symlink(ino, inode, target)?;
                    self.report.symlinks += 1;
                }
                NodeKind::CharDevice { major, minor } | NodeKind::BlockDevice { major, minor } => {
                    let format = if matches!(node.kind, NodeKind::CharDevice { .. }) {
                        S_IFCHR
                    } else {
                        S_IFBLK
                    };
                    let mut inode = self.new_inode(format, node.perm, node.uid, node.gid);
                    inode.links_count = links;
                    inode.set_device(*major, *minor);
                    self.put_inode(ino, &inode);
                    self.report.devices += 1;
                }
                NodeKind::Fifo => {
                    let mut inode = self.new_inode(S_IFIFO, node.perm, node.uid, node.gid);
                    inode.links_count = links;
                    self.put_inode(ino, &inode);
                }
            }
        }
        Ok(())
    }

    /// Fast symlinks keep targets up to 59 bytes in `i_block` (Linux
    /// `ext2_symlink` needs room for a terminating NUL); longer ones get a
    /// data block.
    fn put_symlink(&mut self, ino: u32, mut inode: Inode, target: &[u8]) -> Result<(), Error> {
        if target.len() >= self.layout.block_size as usize {
            return Err(Error::Tree(format!(
                "symbolic link target {:?} is longer than a block",
                String::from_utf8_lossy(target)
            )));
        }
        if target.len() < 60 {
            inode.set_inline_bytes(target);
            inode.set_size(target.len() as u64);
            self.put_inode(ino, &inode);
            Ok(())
        } else {
            self.put_with_data(ino, inode, target)
        }
    }

    fn child_entries(
        &self,
        tree: &Tree,
        dir: NodeId,
        ino_of: &HashMap<NodeId, u32>,
    ) -> Vec<(Vec<u8>, u32, u8)> {
        tree.children(dir)
            .map(|(name, child)| {
                (
                    name.to_vec(),
                    ino_of[&child],
                    file_type_for_mode(format_of(&tree.node(child).kind)),
                )
            })
            .collect()
    }

    fn put_dir(
        &mut self,
        ino: u32,
        parent: u32,
        children: Vec<(Vec<u8>, u32, u8)>,
        min_bytes: u32,
        subdirs: u32,
        (perm, uid, gid): (u16, u32, u32),
    ) -> Result<(), Error> {
        let mut entries = vec![
            (b".".to_vec(), ino, FT_DIR),
            (b"..".to_vec(), parent, FT_DIR),
        ];
        entries.extend(children);
        let data = self.dir_blocks(&entries, min_bytes);
        let mut inode = self.new_inode(S_IFDIR, perm, uid, gid);
        inode.links_count = u16::try_from(2 + subdirs)
            .ok()
            .filter(|&n| n <= MAX_LINKS)
            .ok_or_else(|| {
                Error::Tree(format!(
                    "a directory has {subdirs} subdirectories; ext2 allows {}",
                    MAX_LINKS - 2
                ))
            })?;
        self.put_with_data(ino, inode, &data)?;
        self.report.dirs += 1;
        Ok(())
    }

    /// Bitmaps, group descriptors and superblocks (primary and copies).
    fn finish(mut self) -> (FsImage, FsReport) {
        let l = self.layout;
        let bs = l.block_size as usize;
        let mut descriptors = Vec::new();
        let (mut free_blocks, mut free_inodes) = (0u32, 0u32);
        for g in 0..l.groups {
            let mut gd = l.descriptor(g);
            let start = l.group_start(g);
            let mut bitmap = vec![0xFFu8; bs];
            let mut free = 0;
            for i in 0..l.group_len(g) {
                if !self.block_used[(start + i) as usize] {
                    bitmap[i as usize / 8] &= !(1 << (i % 8));
                    free += 1;
                }
            }
            self.image.write(gd.block_bitmap, 0, &bitmap);
            let mut bitmap = vec![0xFFu8; bs];
            let mut free_i = 0;
            for i in 0..l.inodes_per_group {
                if !self.inode_used[(g * l.inodes_per_group + i + 1) as usize] {
                    bitmap[i as usize / 8] &= !(1 << (i % 8));
                    free_i += 1;
                }
            }
            self.image.write(gd.inode_bitmap, 0, &bitmap);
            gd.free_blocks_count = free as u16;
            gd.free_inodes_count = free_i as u16;
            gd.used_dirs_count = self.dirs_per_group[g as usize];
            free_blocks += free;
            free_inodes += free_i;
            descriptors.push(gd);
        }
        let mut gdt = vec![0u8; l.gdt_blocks as usize * bs];
        for (g, gd) in descriptors.iter().enumerate() {
            let mut raw = [0u8; GROUP_DESCRIPTOR_SIZE];
            gd.write(&mut raw);
            gdt[g * GROUP_DESCRIPTOR_SIZE..(g + 1) * GROUP_DESCRIPTOR_SIZE].copy_from_slice(&raw);
        }
        let p = self.params;
        let mut volume_name = [0u8; 16];
        volume_name[..p.label.len()].copy_from_slice(p.label.as_bytes());
        let mut sb = Superblock {
            inodes_count: l.inodes_count(),
            blocks_count: l.blocks_count,
            r_blocks_count: (l.blocks_count as u64 * p.reserved_percent as u64 / 100) as u32,
            free_blocks_count: free_blocks,
            free_inodes_count: free_inodes,
            first_data_block: l.first_data_block,
            log_block_size: l.block_size.trailing_zeros() - 10,
            log_frag_size: l.block_size.trailing_zeros() - 10,
            blocks_per_group: l.blocks_per_group,
            frags_per_group: l.blocks_per_group,
            inodes_per_group: l.inodes_per_group,
            wtime: p.timestamp,
            max_mnt_count: u16::MAX, // -1: no mount-count checks
            magic: EXT2_MAGIC,
            state: EXT2_VALID_FS,
            errors: EXT2_ERRORS_CONTINUE,
            lastcheck: p.timestamp,
            creator_os: EXT2_OS_LINUX,
            rev_level: EXT2_DYNAMIC_REV,
            first_ino: GOOD_OLD_FIRST_INO,
            inode_size: INODE_SIZE as u16,
            feature_incompat: FEATURE_INCOMPAT_FILETYPE,
            feature_ro_compat: FEATURE_RO_COMPAT_SPARSE_SUPER | FEATURE_RO_COMPAT_LARGE_FILE,
            uuid: p.uuid,
            volume_name,
            hash_seed: p.hash_seed,
            def_hash_version: 1, // half_md4, mke2fs's default
            mkfs_time: p.timestamp,
            ..Default::default()
        };
        for g in 0..l.groups {
            if !l.has_backup(g) {
                continue;
            }
            sb.block_group_nr = g as u16;
            let mut raw = [0u8; SUPERBLOCK_SIZE];
            sb.write(&mut raw);
            let start = l.group_start(g);
            // Group 0's superblock is at byte 1024 whatever the block size.
            let (block, offset) = if g == 0 {
                (
                    (SUPERBLOCK_OFFSET / bs as u64) as u32,
                    SUPERBLOCK_OFFSET as usize % bs,
                )
            } else {
                (start, 0)
            };
            self.image.write(block, offset, &raw);
            for (i, chunk) in gdt.chunks(bs).enumerate() {
                self.image.write(start + 1 + i as u32, 0, chunk);
            }
        }
        let report = FsReport {
            block_size: l.block_size,
            blocks: l.blocks_count,
            free_blocks,
            inodes: l.inodes_count(),
            free_inodes,
            groups: l.groups,
            ..self.report
        };
        (self.image, report)
    }
}

/// Ends a directory block: its last entry's `rec_len` reaches the end.
fn close_dir_block(block: &mut [u8], last: usize) {
    let rec_len = (block.len() - last) as u16;
    block[last + 4..last + 6].copy_from_slice(&rec_len.to_le_bytes());
}

fn count_subdirs(tree: &Tree, dir: NodeId) -> u32 {
    tree.children(dir)
        .filter(|(_, c)| matches!(tree.node(*c).kind, NodeKind::Dir(_)))
        .count() as u32
}

fn format_of(kind: &NodeKind) -> u16 {
    match kind {
        NodeKind::Dir(_) => S_IFDIR,
        NodeKind::File(_) => S_IFREG,
        NodeKind::Symlink(_) => S_IFLNK,
        NodeKind::CharDevice { .. } => S_IFCHR,
        NodeKind::BlockDevice { .. } => S_IFBLK,
        NodeKind::Fifo => S_IFIFO,
    }
}
