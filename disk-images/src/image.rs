//! The whole disk: MBR with the partition table, stage 2 in the gap before
//! partition 1, the ext2 root file system in partition 1 and a Linux swap
//! area in partition 2.
//!
//! ```text
//! LBA 0            MBR: boot code (446 bytes), 4 partition entries, 0x55AA
//! LBA 1..start     stage 2 (must end before partition 1)
//! start..          partition 1: ext2 root, type 0x83, active
//! ..end            partition 2: swap, type 0x82 (optional)
//! ```
//!
//! The output is written sparsely (`set_len`, then only non-zero blocks)
//! to `<out>.partial` and renamed into place, so a failed build never
//! leaves a half-written image under the real name.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ondisk::mbr::{self, PartitionEntry, BOOT_CODE_SIZE, PART_LINUX, PART_SWAP, SECTOR_SIZE};

use crate::mkfs::{mkfs, FsParams, FsReport};
use crate::recipe::{Recipe, Source};
use crate::swap;
use crate::tree::{input_path, resolve, Tree};
use crate::Error;

/// What [`build_image`] made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReport {
    pub disk_bytes: u64,
    pub partitions: [PartitionEntry; 4],
    pub stage2_bytes: u64,
    pub fs: FsReport,
}

/// Where the partitions go, from the recipe and the disk size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskLayout {
    pub disk_sectors: u64,
    pub root_lba: u32,
    pub root_sectors: u32,
    /// (first LBA, sectors) of the swap partition.
    pub swap: Option<(u32, u32)>,
}

impl DiskLayout {
    pub fn new(recipe: &Recipe) -> Result<DiskLayout, Error> {
        let disk_sectors = recipe.disk_bytes / SECTOR_SIZE as u64;
        let root_lba = recipe.root.start_lba;
        let swap_sectors = recipe.swap_sectors.unwrap_or(0);
        if root_lba < 2 {
            return Err(Error::Layout(format!(
                "root partition at LBA {root_lba} leaves no room for stage 2 (use 2048)"
            )));
        }
        let root_sectors = match recipe.root.sectors {
            Some(n) => n,
            None => disk_sectors
                .checked_sub(root_lba as u64 + swap_sectors)
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    Error::Layout(format!(
                        "a {disk_sectors}-sector disk has no room for a root partition at LBA {root_lba} \
                         and {swap_sectors} sectors of swap"
                    ))
                })?,
        };
        let end = root_lba as u64 + root_sectors + swap_sectors;
        if end > disk_sectors {
            return Err(Error::Layout(format!(
                "the partitions need {end} sectors, the disk has {disk_sectors}"
            )));
        }
        if end > u32::MAX as u64 {
            return Err(Error::Layout(
                "partitions beyond 2 TiB do not fit an MBR".into(),
            ));
        }
        let swap_lba = root_lba + root_sectors as u32;
        Ok(DiskLayout {
            disk_sectors,
            root_lba,
            root_sectors: root_sectors as u32,
            swap: (swap_sectors > 0).then_some((swap_lba, swap_sectors as u32)),
        })
    }

    /// The four table entries: root (active), swap, two empty.
    pub fn partition_table(&self) -> [PartitionEntry; 4] {
        let mut table = [PartitionEntry::default(); 4];
        table[0] = PartitionEntry::new(PART_LINUX, true, self.root_lba, self.root_sectors);
        if let Some((lba, sectors)) = self.swap {
            table[1] = PartitionEntry::new(PART_SWAP, false, lba, sectors);
        }
        table
    }
}

/// Builds the image described by `recipe` into `out`; `inputs` maps the
/// recipe's `@name` references to host files.
pub fn build_image(
    recipe: &Recipe,
    inputs: &HashMap<String, PathBuf>,
    out: &Path,
) -> Result<ImageReport, Error> {
    for name in recipe.inputs() {
        if input_path(inputs, &name).is_none() {
            return Err(Error::MissingInput(name));
        }
    }
    let layout = DiskLayout::new(recipe)?;
    let partitions = layout.partition_table();

    let mut boot_sector = [0u8; SECTOR_SIZE];
    if let Some(source) = &recipe.mbr {
        let code = read_source(source, inputs)?;
        let code = match code.len() {
            0..=BOOT_CODE_SIZE => &code[..],
            SECTOR_SIZE => &code[..BOOT_CODE_SIZE],
            len => {
                return Err(Error::TooBig {
                    what: format!("MBR boot code {}", describe(source)),
                    len: len as u64,
                    room: BOOT_CODE_SIZE as u64,
                    place: "before the partition table (or give a whole 512-byte sector)",
                })
            }
        };
        boot_sector[..code.len()].copy_from_slice(code);
    }
    mbr::write_table(&mut boot_sector, &partitions);

    let stage2 = match &recipe.stage2 {
        Some(source) => read_source(source, inputs)?,
        None => Vec::new(),
    };
    let gap = (layout.root_lba as u64 - 1) * SECTOR_SIZE as u64;
    if stage2.len() as u64 > gap {
        return Err(Error::TooBig {
            what: format!(
                "stage 2 {}",
                describe(recipe.stage2.as_ref().expect("non-empty"))
            ),
            len: stage2.len() as u64,
            room: gap,
            place: "between the MBR and the first partition",
        });
    }

    let mut tree = match &recipe.rootfs {
        Some(dir) => Tree::from_host_dir(dir)?,
        None => Tree::new(),
    };
    for entry in &recipe.entries {
        tree.apply(entry, inputs)?;
    }
    let params = FsParams {
        bytes: layout.root_sectors as u64 * SECTOR_SIZE as u64,
        block_size: recipe.root.block_size,
        inode_ratio: recipe.root.inode_ratio,
        reserved_percent: recipe.root.reserved_percent,
        label: recipe.root.label.clone(),
        uuid: recipe
            .root
            .uuid
            .unwrap_or_else(|| derive_uuid(recipe, "ext2 root")),
        hash_seed: seed_words(derive_uuid(recipe, "ext2 hash seed")),
        timestamp: recipe.timestamp,
    };
    let (fs_image, fs_report) = mkfs(&tree, &params)?;

    let partial = partial_path(out);
    let result = write_disk(&partial, &layout, &boot_sector, &stage2, |file| {
        fs_image.write_to(file, layout.root_lba as u64 * SECTOR_SIZE as u64, &partial)?;
        if let Some((lba, sectors)) = layout.swap {
            let header = swap::header(
                sectors as u64 * SECTOR_SIZE as u64,
                derive_uuid(recipe, "swap"),
            )?;
            write_at(file, &partial, lba as u64 * SECTOR_SIZE as u64, &header)?;
        }
        Ok(())
    });
    if let Err(e) = result {
        let _ = fs::remove_file(&partial);
        return Err(e);
    }
    fs::rename(&partial, out).map_err(Error::io(out))?;
    Ok(ImageReport {
        disk_bytes: layout.disk_sectors * SECTOR_SIZE as u64,
        partitions,
        stage2_bytes: stage2.len() as u64,
        fs: fs_report,
    })
}

fn write_disk(
    path: &Path,
    layout: &DiskLayout,
    boot_sector: &[u8; SECTOR_SIZE],
    stage2: &[u8],
    rest: impl FnOnce(&mut File) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut file = File::create(path).map_err(Error::io(path))?;
    file.set_len(layout.disk_sectors * SECTOR_SIZE as u64)
        .map_err(Error::io(path))?;
    write_at(&mut file, path, 0, boot_sector)?;
    write_at(&mut file, path, SECTOR_SIZE as u64, stage2)?;
    rest(&mut file)?;
    file.sync_all().map_err(Error::io(path))
}

fn write_at(file: &mut File, path: &Path, offset: u64, bytes: &[u8]) -> Result<(), Error> {
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.write_all(bytes))
        .map_err(Error::io(path))
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

fn read_source(source: &Source, inputs: &HashMap<String, PathBuf>) -> Result<Vec<u8>, Error> {
    let path = resolve(source, inputs)?;
    fs::read(&path).map_err(Error::io(path))
}

fn describe(source: &Source) -> String {
    match source {
        Source::Input(name) => format!("(@{name})"),
        Source::Path(path) => format!("({})", path.display()),
    }
}

/// A version-4-style UUID from the recipe's fixed fields, so the same
/// recipe always gives the same image (FNV-1a, 64 bits twice).
fn derive_uuid(recipe: &Recipe, purpose: &str) -> [u8; 16] {
    let text = format!(
        "{purpose}|{}|{}|{}|{}",
        recipe.root.label, recipe.disk_bytes, recipe.timestamp, recipe.root.start_lba
    );
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&fnv1a(text.as_bytes(), 0xcbf2_9ce4_8422_2325).to_le_bytes());
    out[8..].copy_from_slice(&fnv1a(text.as_bytes(), 0x6c62_272e_07bb_0142).to_le_bytes());
    out[6] = (out[6] & 0x0F) | 0x40;
    out[8] = (out[8] & 0x3F) | 0x80;
    out
}

fn fnv1a(bytes: &[u8], basis: u64) -> u64 {
    bytes
        .iter()
        .fold(basis, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

fn seed_words(bytes: [u8; 16]) -> [u32; 4] {
    let word = |i: usize| u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    [word(0), word(1), word(2), word(3)]
}
