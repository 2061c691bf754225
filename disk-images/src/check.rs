//! The checker: the invariants the builder promises, verified on a finished
//! image (and usable on images the guest has written).
//!
//! MBR: signature, partition 1 Linux and active, partitions inside the disk
//! and not overlapping, partition 2 swap with its signature.
//!
//! ext2, the same ground e2fsck's passes 1 to 5 cover, simplified:
//! superblock sanity and features; sparse superblock and descriptor copies;
//! group metadata inside its group; every in-use inode's blocks (data and
//! indirect) in range, claimed once, `i_blocks` right, no holes in
//! directories; each directory starting with `.` and `..`, entry file types
//! matching inodes; link counts (directories: 2 + subdirectories);
//! every in-use inode reachable; bitmaps equal to what is in use, their
//! padding set; free counts in the descriptors and superblock consistent.
//! Directories are read with the shared [`ondisk::ext2::Volume`] reader.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use ondisk::ext2::{
    file_type_for_mode, has_superblock_backup, GroupDescriptor, Inode, Superblock, Volume,
    EXT2_DYNAMIC_REV, EXT2_VALID_FS, FEATURE_COMPAT_HAS_JOURNAL, FEATURE_INCOMPAT_FILETYPE,
    FEATURE_RO_COMPAT_LARGE_FILE, FEATURE_RO_COMPAT_SPARSE_SUPER, GROUP_DESCRIPTOR_SIZE,
    INODE_SIZE_128, N_DIRECT, ROOT_INO, SUPERBLOCK_SIZE,
};
use ondisk::mbr::{self, PartitionEntry, PART_LINUX, PART_SWAP, SECTOR_SIZE};

use crate::swap;
use crate::Error;

/// Problems past this many are counted, not listed.
const MAX_PROBLEMS: usize = 40;

/// What a passing check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    pub disk_bytes: u64,
    pub partitions: [PartitionEntry; 4],
    pub fs: FsSummary,
    /// Partition 2 holds a Linux swap signature.
    pub swap_signature: bool,
}

/// The root file system's vital numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsSummary {
    pub label: String,
    pub uuid: [u8; 16],
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

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "disk: {} bytes ({} sectors)",
            self.disk_bytes,
            self.disk_bytes / 512
        )?;
        for (i, p) in self
            .partitions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_used())
        {
            writeln!(
                f,
                "partition {}: type {:#04x}{} LBA {}..{} ({} sectors)",
                i + 1,
                p.kind,
                if p.bootable { " active" } else { "" },
                p.first_lba,
                p.end_lba(),
                p.sectors
            )?;
        }
        let s = &self.fs;
        writeln!(
            f,
            "root: ext2 rev 1 \"{}\" uuid {}, {} groups, block size {}",
            s.label,
            format_uuid(&s.uuid),
            s.groups,
            s.block_size
        )?;
        writeln!(
            f,
            "root: {}/{} blocks free, {}/{} inodes free",
            s.free_blocks, s.blocks, s.free_inodes, s.inodes
        )?;
        writeln!(
            f,
            "root: {} directories, {} files, {} symbolic links, {} device nodes",
            s.dirs, s.files, s.symlinks, s.devices
        )?;
        if self.partitions[1].is_used() {
            let state = if self.swap_signature {
                "present"
            } else {
                "missing"
            };
            writeln!(f, "swap: signature {state}")?;
        }
        write!(f, "check: ok")
    }
}

fn format_uuid(u: &[u8; 16]) -> String {
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Checks a whole disk image: the MBR, then the root partition's ext2.
pub fn check_image(path: &Path) -> Result<CheckReport, Error> {
    let mut file = File::open(path).map_err(Error::io(path))?;
    let disk_bytes = file.metadata().map_err(Error::io(path))?.len();
    let mut sector = [0u8; SECTOR_SIZE];
    file.read_exact(&mut sector).map_err(Error::io(path))?;
    let partitions = mbr::parse_table(&sector).map_err(|e| Error::Check(vec![e.to_string()]))?;
    let mut problems = check_partitions(&partitions, disk_bytes / SECTOR_SIZE as u64);
    if !problems.is_empty() {
        return Err(Error::Check(problems));
    }
    let read_partition = |p: &PartitionEntry, max: u64| -> Result<Vec<u8>, Error> {
        use std::io::{Seek, SeekFrom};
        let mut file = File::open(path).map_err(Error::io(path))?;
        let len = (p.sectors as u64 * SECTOR_SIZE as u64).min(max);
        let mut bytes = vec![0; len as usize];
        file.seek(SeekFrom::Start(p.first_lba as u64 * SECTOR_SIZE as u64))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(Error::io(path))?;
        Ok(bytes)
    };
    let root = read_partition(&partitions[0], u64::MAX)?;
    let fs = match check_ext2(&root) {
        Ok(fs) => Some(fs),
        Err(Error::Check(mut more)) => {
            problems.append(&mut more);
            None
        }
        Err(e) => return Err(e),
    };
    let swap_signature = partitions[1].is_used()
        && swap::has_signature(&read_partition(&partitions[1], swap::PAGE_SIZE as u64)?);
    if partitions[1].is_used() && !swap_signature {
        problems.push("partition 2 has no Linux swap signature".into());
    }
    match fs {
        Some(fs) if problems.is_empty() => Ok(CheckReport {
            disk_bytes,
            partitions,
            fs,
            swap_signature,
        }),
        _ => Err(Error::Check(problems)),
    }
}

fn check_partitions(table: &[PartitionEntry; 4], disk_sectors: u64) -> Vec<String> {
    let mut problems = Vec::new();
    let root = &table[0];
    if root.kind != PART_LINUX || !root.bootable || !root.is_used() {
        problems.push(format!(
            "partition 1 must be Linux (0x83) and active, found type {:#04x}{}",
            root.kind,
            if root.bootable { " active" } else { "" }
        ));
    }
    if table[1].is_used() && table[1].kind != PART_SWAP {
        problems.push(format!(
            "partition 2 must be swap (0x82), found {:#04x}",
            table[1].kind
        ));
    }
    let used: Vec<(usize, &PartitionEntry)> = table
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_used())
        .collect();
    for &(i, p) in &used {
        if i > 0 && p.bootable {
            problems.push(format!(
                "partition {} is active; only partition 1 may be",
                i + 1
            ));
        }
        if p.first_lba == 0 || p.end_lba() > disk_sectors {
            problems.push(format!(
                "partition {} (LBA {}..{}) is outside the {disk_sectors}-sector disk",
                i + 1,
                p.first_lba,
                p.end_lba()
            ));
        }
        for &(j, q) in &used {
            if i < j && (p.first_lba as u64) < q.end_lba() && (q.first_lba as u64) < p.end_lba() {
                problems.push(format!("partitions {} and {} overlap", i + 1, j + 1));
            }
        }
    }
    problems
}

/// Where a block's use comes from, for the ownership map.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Free,
    Metadata,
    Inode(u32),
}

struct Checker<'a> {
    fs: &'a [u8],
    sb: Superblock,
    bs: u32,
    groups: u32,
    descriptors: Vec<GroupDescriptor>,
    owner: Vec<Owner>,
    problems: Vec<String>,
    dropped: usize,
}

impl Checker<'_> {
    fn problem(&mut self, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(message);
        } else {
            self.dropped += 1;
        }
    }

    fn block(&self, b: u32) -> &[u8] {
        let bs = self.bs as usize;
        &self.fs[b as usize * bs..(b as usize + 1) * bs]
    }

    fn group_start(&self, g: u32) -> u32 {
        self.sb.first_data_block + g * self.sb.blocks_per_group
    }

    fn group_len(&self, g: u32) -> u32 {
        (self.sb.blocks_count - self.group_start(g)).min(self.sb.blocks_per_group)
    }

    fn raw_inode(&self, ino: u32) -> Inode {
        let g = (ino - 1) / self.sb.inodes_per_group;
        let index = ((ino - 1) % self.sb.inodes_per_group) as usize;
        let at = self.descriptors[g as usize].inode_table as usize * self.bs as usize
            + index * self.sb.inode_size() as usize;
        let raw: &[u8; INODE_SIZE_128] = self.fs[at..at + INODE_SIZE_128]
            .try_into()
            .expect("128 bytes");
        Inode::parse(raw)
    }

    fn claim(&mut self, block: u32, owner: Owner, what: &str) -> bool {
        if block <= self.sb.first_data_block || block >= self.sb.blocks_count {
            self.problem(format!("{what}: block {block} is outside the file system"));
            return false;
        }
        match self.owner[block as usize] {
            Owner::Free => {
                self.owner[block as usize] = owner;
                true
            }
            Owner::Metadata => {
                self.problem(format!("{what}: block {block} is group metadata"));
                false
            }
            Owner::Inode(other) => {
                self.problem(format!(
                    "{what}: block {block} already belongs to inode {other}"
                ));
                false
            }
        }
    }

    /// Claims the blocks of `inode`; returns (blocks claimed incl.
    /// indirect, highest mapped logical block + 1, holes below it).
    fn claim_inode_blocks(&mut self, ino: u32, inode: &Inode) -> (u64, u64, u64) {
        let what = format!("inode {ino}");
        let mut total = 0u64;
        let mut mapped_end = 0u64;
        let mut mapped = 0u64;
        let per = self.bs as u64 / 4;
        for (i, &b) in inode.block.iter().enumerate() {
            if b == 0 {
                continue;
            }
            let (level, first) = match i {
                0..N_DIRECT => (0, i as u64),
                12 => (1, 12),
                13 => (2, 12 + per),
                _ => (3, 12 + per + per * per),
            };
            self.walk(
                ino,
                &what,
                b,
                level,
                first,
                &mut total,
                &mut mapped_end,
                &mut mapped,
            );
        }
        (total, mapped_end, mapped_end - mapped)
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        ino: u32,
        what: &str,
        block: u32,
        level: u32,
        first: u64,
        total: &mut u64,
        mapped_end: &mut u64,
        mapped: &mut u64,
    ) {
        if !self.claim(block, Owner::Inode(ino), what) {
            return;
        }
        *total += 1;
        if level == 0 {
            *mapped += 1;
            *mapped_end = (*mapped_end).max(first + 1);
            return;
        }
        let per = self.bs as u64 / 4;
        let span = per.pow(level - 1);
        let pointers: Vec<u32> = self
            .block(block)
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        for (i, p) in pointers.into_iter().enumerate() {
            if p != 0 {
                self.walk(
                    ino,
                    what,
                    p,
                    level - 1,
                    first + i as u64 * span,
                    total,
                    mapped_end,
                    mapped,
                );
            }
        }
    }
}

/// Checks an ext2 file system held in memory.
pub fn check_ext2(fs: &[u8]) -> Result<FsSummary, Error> {
    let mut vol =
        Volume::open(fs).map_err(|e| Error::Check(vec![format!("root file system: {e}")]))?;
    let sb = *vol.superblock();
    let bs = vol.block_size();
    let groups = vol.group_count();
    let mut problems = Vec::new();
    if (sb.blocks_count as u64) * bs as u64 > fs.len() as u64 {
        problems.push(format!(
            "{} blocks of {bs} bytes do not fit the {}-byte partition",
            sb.blocks_count,
            fs.len()
        ));
        return Err(Error::Check(problems));
    }
    if sb.rev_level != EXT2_DYNAMIC_REV {
        problems.push(format!("revision {} (expected 1)", sb.rev_level));
    }
    if sb.state != EXT2_VALID_FS {
        problems.push(format!("state {:#x} is not clean", sb.state));
    }
    if sb.first_ino() != 11 || sb.inode_size() < INODE_SIZE_128 as u32 {
        problems.push("first inode must be 11 and inodes at least 128 bytes".into());
    }
    if sb.feature_incompat != FEATURE_INCOMPAT_FILETYPE {
        problems.push(format!(
            "incompatible features {:#x} (expected filetype only)",
            sb.feature_incompat
        ));
    }
    if sb.feature_ro_compat & !(FEATURE_RO_COMPAT_SPARSE_SUPER | FEATURE_RO_COMPAT_LARGE_FILE) != 0
    {
        problems.push(format!(
            "read-only features {:#x} beyond sparse_super and large_file",
            sb.feature_ro_compat
        ));
    }
    if sb.feature_compat & FEATURE_COMPAT_HAS_JOURNAL != 0 {
        problems.push("has a journal: that is ext3".into());
    }
    let descriptors = (0..groups)
        .map(|g| vol.group_descriptor(g))
        .collect::<Result<Vec<_>, _>>()?;
    let mut c = Checker {
        fs,
        sb,
        bs,
        groups,
        descriptors,
        owner: vec![Owner::Free; sb.blocks_count as usize],
        problems,
        dropped: 0,
    };
    check_groups(&mut c);
    if c.problems.is_empty() {
        let summary = check_inodes_and_tree(&mut c, &mut vol);
        if c.problems.is_empty() {
            check_bitmaps_and_counts(&mut c, &summary);
        }
        if c.problems.is_empty() {
            return Ok(summary);
        }
    }
    if c.dropped > 0 {
        let dropped = c.dropped;
        c.problems.push(format!("... and {dropped} more"));
    }
    Err(Error::Check(c.problems))
}

/// Superblock and descriptor copies, and each group's metadata blocks.
fn check_groups(c: &mut Checker) {
    let gdt_blocks = (c.groups * GROUP_DESCRIPTOR_SIZE as u32).div_ceil(c.bs);
    let itb = (c.sb.inodes_per_group * c.sb.inode_size()).div_ceil(c.bs);
    let sparse = c.sb.is_sparse();
    let primary_gdt = c.sb.first_data_block + 1;
    for g in 0..c.groups {
        let start = c.group_start(g);
        let end = start + c.group_len(g);
        if has_superblock_backup(g, sparse) {
            let copies = 1 + gdt_blocks;
            if start as u64 + copies as u64 > end as u64 {
                c.problem(format!("group {g}: too short for its superblock copy"));
                continue;
            }
            for b in start..start + copies {
                c.owner[b as usize] = Owner::Metadata;
            }
            if g > 0 {
                let raw: &[u8; SUPERBLOCK_SIZE] = c.block(start)[..SUPERBLOCK_SIZE]
                    .try_into()
                    .expect("1024 bytes");
                let copy = Superblock::parse(raw);
                let same_geometry = copy.magic == c.sb.magic
                    && copy.blocks_count == c.sb.blocks_count
                    && copy.inodes_count == c.sb.inodes_count
                    && copy.blocks_per_group == c.sb.blocks_per_group
                    && copy.inodes_per_group == c.sb.inodes_per_group
                    && copy.log_block_size == c.sb.log_block_size
                    && copy.uuid == c.sb.uuid
                    && copy.feature_incompat == c.sb.feature_incompat
                    && copy.feature_ro_compat == c.sb.feature_ro_compat;
                if !same_geometry || copy.block_group_nr as u32 != g {
                    c.problem(format!(
                        "group {g}: superblock copy differs from the primary"
                    ));
                }
                for i in 0..c.groups as usize {
                    let at = i * GROUP_DESCRIPTOR_SIZE;
                    let block = |b: u32| -> GroupDescriptor {
                        let bytes =
                            &c.fs[b as usize * c.bs as usize + at..][..GROUP_DESCRIPTOR_SIZE];
                        GroupDescriptor::parse(bytes.try_into().expect("32 bytes"))
                    };
                    let (copy, primary) = (block(start + 1), block(primary_gdt));
                    if (copy.block_bitmap, copy.inode_bitmap, copy.inode_table)
                        != (
                            primary.block_bitmap,
                            primary.inode_bitmap,
                            primary.inode_table,
                        )
                    {
                        c.problem(format!(
                            "group {g}: descriptor copy {i} differs from the primary"
                        ));
                    }
                }
            }
        }
        let gd = c.descriptors[g as usize];
        let metadata = [
            ("block bitmap", gd.block_bitmap, 1),
            ("inode bitmap", gd.inode_bitmap, 1),
            ("inode table", gd.inode_table, itb),
        ];
        for (what, first, len) in metadata {
            if first < start || first as u64 + len as u64 > end as u64 {
                c.problem(format!(
                    "group {g}: {what} at block {first} is outside the group ({start}..{end})"
                ));
                continue;
            }
            for b in first..first + len {
                if c.owner[b as usize] != Owner::Free {
                    c.problem(format!(
                        "group {g}: {what} block {b} overlaps other metadata"
                    ));
                }
                c.owner[b as usize] = Owner::Metadata;
            }
        }
    }
}

/// Inode blocks, directory structure, link counts and reachability.
fn check_inodes_and_tree(c: &mut Checker, vol: &mut Volume<&[u8]>) -> FsSummary {
    let sb = c.sb;
    let mut summary = FsSummary {
        label: String::from_utf8_lossy(&sb.volume_name)
            .trim_end_matches('\0')
            .to_string(),
        uuid: sb.uuid,
        block_size: c.bs,
        blocks: sb.blocks_count,
        free_blocks: sb.free_blocks_count,
        inodes: sb.inodes_count,
        free_inodes: sb.free_inodes_count,
        groups: c.groups,
        ..Default::default()
    };
    let n = sb.inodes_count as usize;
    let mut in_use = vec![false; n + 1];
    let mut inodes = vec![Inode::default(); n + 1];
    for ino in 1..=sb.inodes_count {
        let inode = c.raw_inode(ino);
        let reserved = ino < sb.first_ino() && ino != ROOT_INO;
        let used = !reserved && inode.links_count > 0 && inode.dtime == 0 && inode.mode != 0;
        in_use[ino as usize] = used || reserved;
        if reserved && inode.blocks == 0 {
            continue;
        }
        if !used && !reserved {
            continue;
        }
        inodes[ino as usize] = inode;
        if !used {
            // A reserved inode holding blocks (bad blocks, resize, journal).
            c.claim_inode_blocks(ino, &inode);
            continue;
        }
        if !inode.has_known_format() {
            c.problem(format!("inode {ino}: unknown mode {:#o}", inode.mode));
            continue;
        }
        check_inode_blocks(c, ino, &inode, &mut summary);
    }

    // Walk the tree from the root: entries, types, `.`/`..`, link counts.
    let mut refs = vec![0u32; n + 1];
    let mut visited = vec![false; n + 1];
    let mut queue = vec![(ROOT_INO, ROOT_INO)];
    visited[ROOT_INO as usize] = true;
    while let Some((dir_ino, parent)) = queue.pop() {
        let dir = inodes[dir_ino as usize];
        let mut entries = Vec::new();
        if let Err(e) = vol.for_each_dir_entry(&dir, |ino, ft, name| {
            entries.push((ino, ft, name.to_vec()));
            true
        }) {
            c.problem(format!("directory inode {dir_ino}: {e}"));
            continue;
        }
        let dot_ok = entries.len() >= 2
            && entries[0].0 == dir_ino
            && entries[0].2 == b"."
            && entries[1].0 == parent
            && entries[1].2 == b"..";
        if !dot_ok {
            c.problem(format!(
                "directory inode {dir_ino}: must start with . and .. (parent {parent})"
            ));
        }
        let mut subdirs = 0;
        for (ino, ft, name) in entries.iter().skip(2) {
            let shown = String::from_utf8_lossy(name);
            if name.contains(&b'/') || name.as_slice() == b"." || name.as_slice() == b".." {
                c.problem(format!("directory inode {dir_ino}: bad name {shown:?}"));
                continue;
            }
            if !in_use[*ino as usize] || (*ino < sb.first_ino() && *ino != ROOT_INO) {
                c.problem(format!(
                    "directory inode {dir_ino}: {shown:?} names unused or reserved inode {ino}"
                ));
                continue;
            }
            let child = inodes[*ino as usize];
            if *ft != file_type_for_mode(child.mode) {
                c.problem(format!("directory inode {dir_ino}: {shown:?} has file type {ft}, inode {ino} is mode {:#o}", child.mode));
            }
            refs[*ino as usize] += 1;
            if child.is_dir() {
                subdirs += 1;
                if visited[*ino as usize] {
                    c.problem(format!("directory inode {ino} has more than one name"));
                } else {
                    visited[*ino as usize] = true;
                    queue.push((*ino, dir_ino));
                }
            }
        }
        if dir.links_count as u32 != 2 + subdirs {
            c.problem(format!(
                "directory inode {dir_ino}: link count {} but 2 + {subdirs} subdirectories",
                dir.links_count
            ));
        }
    }
    match vol.lookup_nofollow("/lost+found") {
        Ok((_, lf)) if lf.is_dir() => {}
        _ => c.problem("/lost+found is missing or not a directory".into()),
    }
    for ino in (sb.first_ino()..=sb.inodes_count).chain([ROOT_INO]) {
        let inode = &inodes[ino as usize];
        if !in_use[ino as usize] {
            continue;
        }
        if inode.is_dir() {
            if !visited[ino as usize] {
                c.problem(format!(
                    "directory inode {ino} is not reachable from the root"
                ));
            }
        } else if refs[ino as usize] == 0 {
            c.problem(format!("inode {ino} is in use but no directory names it"));
        } else if refs[ino as usize] != inode.links_count as u32 {
            c.problem(format!(
                "inode {ino}: link count {} but {} names",
                inode.links_count, refs[ino as usize]
            ));
        }
    }
    summary
}

/// One in-use inode's block map and size rules by file type.
fn check_inode_blocks(c: &mut Checker, ino: u32, inode: &Inode, summary: &mut FsSummary) {
    let bs = c.bs as u64;
    let sectors_per_block = bs / 512;
    let size = inode.size();
    if inode.is_device()
        || inode.format() == ondisk::ext2::S_IFIFO
        || inode.format() == ondisk::ext2::S_IFSOCK
    {
        if inode.blocks != 0 || size != 0 {
            c.problem(format!("inode {ino}: a special file with data"));
        }
        if inode.is_device() {
            summary.devices += 1;
        }
        return;
    }
    if inode.is_symlink() {
        summary.symlinks += 1;
        if inode.is_fast_symlink(c.bs) {
            if size == 0 || size >= 60 {
                c.problem(format!("inode {ino}: fast symlink of {size} bytes"));
            }
            return;
        }
        if size < 60 || size >= bs {
            c.problem(format!("inode {ino}: slow symlink of {size} bytes"));
        }
    }
    let (total, mapped_end, holes) = c.claim_inode_blocks(ino, inode);
    if inode.blocks as u64 != total * sectors_per_block {
        c.problem(format!(
            "inode {ino}: i_blocks {} but {total} blocks of {bs} bytes are mapped",
            inode.blocks
        ));
    }
    if mapped_end > size.div_ceil(bs) {
        c.problem(format!(
            "inode {ino}: blocks mapped beyond its size of {size} bytes"
        ));
    }
    if inode.is_dir() {
        summary.dirs += 1;
        if size == 0 || !size.is_multiple_of(bs) || holes != 0 || mapped_end != size / bs {
            c.problem(format!(
                "directory inode {ino}: size {size} not whole blocks without holes"
            ));
        }
    } else if inode.is_file() {
        summary.files += 1;
    }
}

/// Bitmaps against the ownership map; free and directory counts.
fn check_bitmaps_and_counts(c: &mut Checker, summary: &FsSummary) {
    let sb = c.sb;
    let bits = c.bs * 8;
    let (mut free_blocks, mut free_inodes) = (0u32, 0u32);
    let mut dirs_per_group = vec![0u32; c.groups as usize];
    for ino in 1..=sb.inodes_count {
        let inode = c.raw_inode(ino);
        if inode.is_dir() && inode.links_count > 0 && inode.dtime == 0 {
            dirs_per_group[((ino - 1) / sb.inodes_per_group) as usize] += 1;
        }
    }
    for g in 0..c.groups {
        let gd = c.descriptors[g as usize];
        let start = c.group_start(g);
        let len = c.group_len(g);
        let bitmap = c.block(gd.block_bitmap).to_vec();
        let bit = |map: &[u8], i: u32| map[i as usize / 8] & (1 << (i % 8)) != 0;
        let mut free = 0;
        for i in 0..bits {
            let set = bit(&bitmap, i);
            if i >= len {
                if !set {
                    c.problem(format!("group {g}: block bitmap padding bit {i} is clear"));
                    break;
                }
                continue;
            }
            let used = c.owner[(start + i) as usize] != Owner::Free;
            if set != used {
                let state = if used {
                    "used but free in the bitmap"
                } else {
                    "free but used in the bitmap"
                };
                c.problem(format!("block {} is {state}", start + i));
            }
            free += u32::from(!set);
        }
        let ibitmap = c.block(gd.inode_bitmap).to_vec();
        let mut free_i = 0;
        for i in 0..bits {
            let set = bit(&ibitmap, i);
            if i >= sb.inodes_per_group {
                if !set {
                    c.problem(format!("group {g}: inode bitmap padding bit {i} is clear"));
                    break;
                }
                continue;
            }
            let ino = g * sb.inodes_per_group + i + 1;
            let inode = c.raw_inode(ino);
            let used = ino < sb.first_ino()
                || (inode.links_count > 0 && inode.dtime == 0 && inode.mode != 0);
            if set != used {
                let state = if used {
                    "used but free in the bitmap"
                } else {
                    "free but used in the bitmap"
                };
                c.problem(format!("inode {ino} is {state}"));
            }
            free_i += u32::from(!set);
        }
        if gd.free_blocks_count as u32 != free || gd.free_inodes_count as u32 != free_i {
            c.problem(format!(
                "group {g}: descriptor says {} free blocks and {} free inodes, bitmaps say {free} and {free_i}",
                gd.free_blocks_count, gd.free_inodes_count
            ));
        }
        if gd.used_dirs_count as u32 != dirs_per_group[g as usize] {
            c.problem(format!(
                "group {g}: descriptor says {} directories, the inode table holds {}",
                gd.used_dirs_count, dirs_per_group[g as usize]
            ));
        }
        free_blocks += free;
        free_inodes += free_i;
    }
    if summary.free_blocks != free_blocks || summary.free_inodes != free_inodes {
        c.problem(format!(
            "superblock says {} free blocks and {} free inodes, the groups say {free_blocks} and {free_inodes}",
            summary.free_blocks, summary.free_inodes
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mkfs::{mkfs, FsParams};
    use crate::recipe::{Entry, EntryKind};
    use crate::tree::Tree;
    use std::collections::HashMap;

    fn small_fs() -> Vec<u8> {
        let mut tree = Tree::new();
        let none = HashMap::new();
        let entries = [
            ("/etc/motd", EntryKind::Inline(b"hello\n".to_vec())),
            ("/big", EntryKind::Inline(vec![7; 300 * 1024])),
            ("/link", EntryKind::Symlink("etc/motd".into())),
            ("/etc/again", EntryKind::HardLink("/etc/motd".into())),
            ("/dev/null", EntryKind::CharDevice { major: 1, minor: 3 }),
        ];
        for (path, kind) in entries {
            let entry = Entry {
                path: path.into(),
                kind,
                mode: None,
                uid: 0,
                gid: 0,
            };
            tree.apply(&entry, &none).unwrap();
        }
        let params = FsParams {
            bytes: 3 << 20,
            block_size: 1024,
            inode_ratio: 8192,
            reserved_percent: 5,
            label: "t".into(),
            uuid: [1; 16],
            hash_seed: [2; 4],
            timestamp: 3,
        };
        mkfs(&tree, &params).unwrap().0.to_bytes()
    }

    #[test]
    fn a_fresh_file_system_checks_clean() {
        let fs = small_fs();

        let summary = check_ext2(&fs).unwrap();

        assert_eq!(
            (summary.files, summary.symlinks, summary.devices),
            (2, 1, 1)
        );
        assert_eq!(summary.dirs, 4, "root, lost+found, etc, dev");
    }

    #[test]
    fn random_corruption_gives_problems_not_panics() {
        let clean = small_fs();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // Superblock, descriptors, bitmaps and the used inodes: nearly
        // every change there breaks a rule.
        let metadata = 1024..5 * 1024 + 20 * 128;
        let mut caught = 0;
        for round in 0..600 {
            let mut fs = clean.clone();
            for _ in 0..1 + next() % 4 {
                // Every other round anywhere in the first 400 KiB
                // (directories, indirect blocks, data): no panics there either.
                let at = if round % 2 == 0 {
                    metadata.start + (next() % metadata.len() as u64) as usize
                } else {
                    (next() % (400 * 1024)) as usize
                };
                fs[at] = next() as u8;
            }
            if check_ext2(&fs).is_err() && round % 2 == 0 {
                caught += 1;
            }
        }
        // Times, labels, UUIDs and padding may change freely; the rest may not.
        assert!(
            caught > 150,
            "only {caught} of 300 metadata corruptions noticed"
        );
    }
}
