//! Image recipes: a TOML file that says how big the disk is, how it is
//! partitioned, which boot code goes where and what the root file system
//! holds. The format is documented in `disk-images/README.md`; the default
//! recipe is `disk-images/recipes/default.toml`.
//!
//! A file reference is either a path (relative to the recipe's directory)
//! or `@name`, an artifact the caller supplies (`--input name=PATH`).

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;

/// Where file contents come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `@name`: an artifact passed in by the caller.
    Input(String),
    /// A host file, already made absolute against the recipe directory.
    Path(PathBuf),
}

impl Source {
    fn parse(text: &str, base: &Path) -> Source {
        match text.strip_prefix('@') {
            Some(name) => Source::Input(name.to_string()),
            None => Source::Path(base.join(text)),
        }
    }
}

/// What an extra entry creates in the root file system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    /// A regular file copied from a source.
    File(Source),
    /// A regular file with the given bytes.
    Inline(Vec<u8>),
    Symlink(String),
    /// Another name for the (non-directory) inode at this absolute path.
    HardLink(String),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
}

/// One `[[entry]]`: applied in order, after the root tree is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Absolute path in the image.
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits (0o7777); a default per kind if absent.
    pub mode: Option<u16>,
    pub uid: u32,
    pub gid: u32,
}

/// Partition 1, the ext2 root file system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootSpec {
    pub start_lba: u32,
    /// Length in sectors; `None` fills the disk up to the swap partition.
    pub sectors: Option<u64>,
    pub label: String,
    pub block_size: u32,
    /// Bytes of file system per inode.
    pub inode_ratio: u32,
    /// Percentage of blocks reserved for root (`s_r_blocks_count`).
    pub reserved_percent: u8,
    /// A fixed UUID; `None` derives one from the recipe (deterministic).
    pub uuid: Option<[u8; 16]>,
}

/// A parsed and checked recipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipe {
    /// The directory relative paths in the recipe start from.
    pub base_dir: PathBuf,
    pub disk_bytes: u64,
    /// MBR boot code (up to 446 bytes, or a 512-byte sector).
    pub mbr: Option<Source>,
    /// Stage 2, written from LBA 1.
    pub stage2: Option<Source>,
    /// A host directory copied into the root file system.
    pub rootfs: Option<PathBuf>,
    /// Every inode's times, the superblock's times (seconds since 1970).
    pub timestamp: u32,
    pub root: RootSpec,
    /// Partition 2 (type 0x82) length in sectors, if any.
    pub swap_sectors: Option<u64>,
    pub entries: Vec<Entry>,
}

/// 2026-01-01 00:00:00 UTC.
pub const DEFAULT_TIMESTAMP: u32 = 1_767_225_600;
pub const DEFAULT_START_LBA: u32 = 2048;
pub const DEFAULT_BLOCK_SIZE: u32 = 1024;
pub const DEFAULT_INODE_RATIO: u32 = 4096;
pub const DEFAULT_RESERVED_PERCENT: u8 = 5;

impl Recipe {
    /// Reads and checks a recipe file.
    pub fn load(path: &Path) -> Result<Recipe, Error> {
        let text = fs::read_to_string(path).map_err(Error::io(path))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Recipe::parse(&text, base).map_err(|message| Error::Recipe {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses recipe text whose relative paths start from `base_dir`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Recipe, String> {
        let file: RecipeFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let root = file.root.unwrap_or_default();
        let block_size = root.block_size.unwrap_or(DEFAULT_BLOCK_SIZE);
        if !matches!(block_size, 1024 | 2048 | 4096) {
            return Err(format!(
                "root.block_size {block_size}: use 1024, 2048 or 4096"
            ));
        }
        let inode_ratio = root.inode_ratio.unwrap_or(DEFAULT_INODE_RATIO);
        if inode_ratio < 1024 {
            return Err(format!("root.inode_ratio {inode_ratio}: at least 1024"));
        }
        let reserved_percent = root.reserved_percent.unwrap_or(DEFAULT_RESERVED_PERCENT);
        if reserved_percent > 50 {
            return Err(format!(
                "root.reserved_percent {reserved_percent}: at most 50"
            ));
        }
        let label = root.label.unwrap_or_else(|| "root".to_string());
        if label.len() > 16 {
            return Err(format!("root.label {label:?}: at most 16 bytes"));
        }
        let uuid = root.uuid.as_deref().map(parse_uuid).transpose()?;
        let entries = file
            .entry
            .into_iter()
            .map(|e| e.check(base_dir))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Recipe {
            base_dir: base_dir.to_path_buf(),
            disk_bytes: file.size.bytes("size")?,
            mbr: file.mbr.as_deref().map(|s| Source::parse(s, base_dir)),
            stage2: file.stage2.as_deref().map(|s| Source::parse(s, base_dir)),
            rootfs: file.rootfs.as_deref().map(|s| base_dir.join(s)),
            timestamp: file.timestamp.unwrap_or(DEFAULT_TIMESTAMP),
            root: RootSpec {
                start_lba: root.start_lba.unwrap_or(DEFAULT_START_LBA),
                sectors: root.size.map(|s| s.sectors("root.size")).transpose()?,
                label,
                block_size,
                inode_ratio,
                reserved_percent,
                uuid,
            },
            swap_sectors: file.swap.map(|s| s.size.sectors("swap.size")).transpose()?,
            entries,
        })
    }

    /// Sets `/boot/cmdline` to `cmdline` plus a newline, replacing the
    /// recipe's entry for it or adding one.
    pub fn set_cmdline(&mut self, cmdline: &str) {
        let mut content = cmdline.trim_end_matches('\n').as_bytes().to_vec();
        content.push(b'\n');
        let kind = EntryKind::Inline(content);
        match self.entries.iter_mut().find(|e| e.path == "/boot/cmdline") {
            Some(entry) => entry.kind = kind,
            None => self.entries.push(Entry {
                path: "/boot/cmdline".to_string(),
                kind,
                mode: Some(0o644),
                uid: 0,
                gid: 0,
            }),
        }
    }

    /// Every `@name` the recipe refers to, in order of appearance.
    pub fn inputs(&self) -> Vec<String> {
        let mut names = Vec::new();
        let sources = [&self.mbr, &self.stage2].into_iter().flatten();
        let entry_sources = self.entries.iter().filter_map(|e| match &e.kind {
            EntryKind::File(s) => Some(s),
            _ => None,
        });
        for source in sources.chain(entry_sources) {
            if let Source::Input(name) = source {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        names
    }

    /// The host files and directories the image is made from, besides the
    /// recipe file and the inputs: the root tree (every entry in it) and
    /// sources given by path. A build script prints these as
    /// `cargo:rerun-if-changed` lines.
    pub fn host_paths(&self) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        if let Some(dir) = &self.rootfs {
            collect_tree(dir, &mut paths);
        }
        let sources = [&self.mbr, &self.stage2].into_iter().flatten();
        let entry_sources = self.entries.iter().filter_map(|e| match &e.kind {
            EntryKind::File(s) => Some(s),
            _ => None,
        });
        for source in sources.chain(entry_sources) {
            if let Source::Path(path) = source {
                paths.push(path.clone());
            }
        }
        paths
    }
}

/// `dir` and everything below it, in name order; unreadable parts are
/// left out (the build reports them).
fn collect_tree(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        if fs::symlink_metadata(&child).is_ok_and(|m| m.is_dir()) {
            collect_tree(&child, out);
        } else {
            out.push(child);
        }
    }
}

/// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
fn parse_uuid(text: &str) -> Result<[u8; 16], String> {
    let hex: String = text.chars().filter(|&c| c != '-').collect();
    let bad = || format!("root.uuid {text:?}: expected 32 hex digits");
    if hex.len() != 32 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

// The file as written, before checking.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipeFile {
    size: Size,
    mbr: Option<String>,
    stage2: Option<String>,
    rootfs: Option<String>,
    timestamp: Option<u32>,
    root: Option<RootSection>,
    swap: Option<SwapSection>,
    #[serde(default)]
    entry: Vec<EntrySection>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RootSection {
    start_lba: Option<u32>,
    size: Option<Size>,
    label: Option<String>,
    block_size: Option<u32>,
    inode_ratio: Option<u32>,
    reserved_percent: Option<u8>,
    uuid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwapSection {
    size: Size,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntrySection {
    path: String,
    kind: String,
    mode: Option<u16>,
    uid: Option<u32>,
    gid: Option<u32>,
    source: Option<String>,
    content: Option<String>,
    target: Option<String>,
    major: Option<u32>,
    minor: Option<u32>,
}

impl EntrySection {
    fn check(self, base: &Path) -> Result<Entry, String> {
        let path = self.path.clone();
        let at = |msg: &str| format!("entry {path:?}: {msg}");
        if !path.starts_with('/') || path == "/" {
            return Err(at("path must be absolute and not the root"));
        }
        if self.mode.is_some_and(|m| m > 0o7777) {
            return Err(at("mode has bits beyond 0o7777"));
        }
        let allowed: &[&str] = match self.kind.as_str() {
            "file" => &["source", "content"],
            "symlink" | "hardlink" => &["target"],
            "char" | "block" => &["major", "minor"],
            _ => &[],
        };
        let given = [
            ("source", self.source.is_some()),
            ("content", self.content.is_some()),
            ("target", self.target.is_some()),
            ("major", self.major.is_some()),
            ("minor", self.minor.is_some()),
        ];
        if let Some((field, _)) = given.iter().find(|(f, set)| *set && !allowed.contains(f)) {
            return Err(at(&format!(
                "`{field}` does not apply to kind {:?}",
                self.kind
            )));
        }
        let device = |s: &EntrySection| match (s.major, s.minor) {
            (Some(major), Some(minor)) => Ok((major, minor)),
            _ => Err(at("a device needs `major` and `minor`")),
        };
        let kind = match self.kind.as_str() {
            "dir" => EntryKind::Dir,
            "file" => match (&self.source, &self.content) {
                (Some(s), None) => EntryKind::File(Source::parse(s, base)),
                (None, Some(c)) => EntryKind::Inline(c.as_bytes().to_vec()),
                _ => return Err(at("a file needs exactly one of `source` and `content`")),
            },
            "symlink" | "hardlink" => {
                let target = self.target.clone().ok_or_else(|| at("needs `target`"))?;
                if target.is_empty() {
                    return Err(at("empty `target`"));
                }
                if self.kind == "symlink" {
                    EntryKind::Symlink(target)
                } else {
                    EntryKind::HardLink(target)
                }
            }
            "char" => {
                let (major, minor) = device(&self)?;
                EntryKind::CharDevice { major, minor }
            }
            "block" => {
                let (major, minor) = device(&self)?;
                EntryKind::BlockDevice { major, minor }
            }
            "fifo" => EntryKind::Fifo,
            other => {
                return Err(at(&format!(
                    "unknown kind {other:?} (dir, file, symlink, hardlink, char, block, fifo)"
                )))
            }
        };
        Ok(Entry {
            path: self.path,
            kind,
            mode: self.mode,
            uid: self.uid.unwrap_or(0),
            gid: self.gid.unwrap_or(0),
        })
    }
}

/// A size: an integer number of bytes, or a string like "64MiB".
#[derive(Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(u64),
    Text(String),
}

impl Size {
    fn bytes(&self, field: &str) -> Result<u64, String> {
        let bytes = match self {
            Size::Bytes(n) => *n,
            Size::Text(text) => {
                let t = text.trim();
                let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
                let (number, unit) = t.split_at(digits);
                let n: u64 = number
                    .parse()
                    .map_err(|_| format!("{field} {text:?}: expected e.g. 64MiB"))?;
                let scale: u64 = match unit.trim() {
                    "" | "B" => 1,
                    "K" | "KiB" => 1 << 10,
                    "M" | "MiB" => 1 << 20,
                    "G" | "GiB" => 1 << 30,
                    "s" | "sectors" => 512,
                    _ => {
                        return Err(format!(
                            "{field} {text:?}: unit must be KiB, MiB, GiB or sectors"
                        ))
                    }
                };
                n.checked_mul(scale)
                    .ok_or_else(|| format!("{field} {text:?}: too large"))?
            }
        };
        if bytes == 0 || bytes % 512 != 0 {
            return Err(format!(
                "{field}: {bytes} bytes is not a positive multiple of 512"
            ));
        }
        Ok(bytes)
    }

    fn sectors(&self, field: &str) -> Result<u64, String> {
        Ok(self.bytes(field)? / 512)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        size = "8MiB"
        mbr = "@mbr"
        stage2 = "boot/stage2.bin"
        [root]
        size = 4194304
        [swap]
        size = "1MiB"
        [[entry]]
        path = "/boot/kernel"
        kind = "file"
        source = "@kernel"
        [[entry]]
        path = "/dev/hda1"
        kind = "block"
        major = 3
        minor = 1
        mode = 0o600
    "#;

    #[test]
    fn minimal_recipe_parses_with_defaults() {
        let r = Recipe::parse(MINIMAL, Path::new("/r")).unwrap();
        assert_eq!(r.disk_bytes, 8 << 20);
        assert_eq!(r.mbr, Some(Source::Input("mbr".into())));
        assert_eq!(r.stage2, Some(Source::Path("/r/boot/stage2.bin".into())));
        assert_eq!(r.root.start_lba, 2048);
        assert_eq!(r.root.sectors, Some(8192));
        assert_eq!(r.root.block_size, 1024);
        assert_eq!(r.swap_sectors, Some(2048));
        assert_eq!(r.timestamp, DEFAULT_TIMESTAMP);
        assert_eq!(
            r.entries[1].kind,
            EntryKind::BlockDevice { major: 3, minor: 1 }
        );
        assert_eq!(r.entries[1].mode, Some(0o600));
        assert_eq!(r.inputs(), vec!["mbr".to_string(), "kernel".to_string()]);
    }

    #[test]
    fn set_cmdline_adds_or_replaces_boot_cmdline() {
        let mut r = Recipe::parse(MINIMAL, Path::new("/r")).unwrap();
        r.set_cmdline("quiet");
        r.set_cmdline("console=ttyS0\n");
        let cmdlines: Vec<_> = r
            .entries
            .iter()
            .filter(|e| e.path == "/boot/cmdline")
            .collect();
        assert_eq!(cmdlines.len(), 1);
        assert_eq!(
            cmdlines[0].kind,
            EntryKind::Inline(b"console=ttyS0\n".to_vec())
        );
    }

    #[test]
    fn unknown_keys_and_kinds_are_errors() {
        let typo = Recipe::parse("size = \"8MiB\"\nsise = 1\n", Path::new("."));
        assert!(typo.unwrap_err().contains("sise"));
        let kind = "size = \"8MiB\"\n[[entry]]\npath = \"/x\"\nkind = \"pipe\"\n";
        assert!(Recipe::parse(kind, Path::new("."))
            .unwrap_err()
            .contains("unknown kind"));
    }

    #[test]
    fn device_without_minor_is_an_error() {
        let text = "size = \"8MiB\"\n[[entry]]\npath = \"/dev/x\"\nkind = \"char\"\nmajor = 1\n";
        let err = Recipe::parse(text, Path::new(".")).unwrap_err();
        assert!(err.contains("major` and `minor"), "{err}");
    }

    #[test]
    fn sizes_must_be_whole_sectors() {
        let err = Recipe::parse("size = 1000\n", Path::new(".")).unwrap_err();
        assert!(err.contains("multiple of 512"), "{err}");
        let err = Recipe::parse("size = \"3 parsecs\"\n", Path::new(".")).unwrap_err();
        assert!(err.contains("unit"), "{err}");
    }

    #[test]
    fn host_paths_list_the_tree_and_path_sources() {
        let dir = std::env::temp_dir().join(format!("recipe-host-paths-{}", std::process::id()));
        fs::create_dir_all(dir.join("tree/etc")).unwrap();
        fs::write(dir.join("tree/etc/motd"), "hi").unwrap();
        let text = "size = \"8MiB\"\nrootfs = \"tree\"\nstage2 = \"s2.bin\"\nmbr = \"@mbr\"\n";
        let r = Recipe::parse(text, &dir).unwrap();

        let paths = r.host_paths();

        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            paths,
            vec![
                dir.join("tree"),
                dir.join("tree/etc"),
                dir.join("tree/etc/motd"),
                dir.join("s2.bin")
            ]
        );
    }

    #[test]
    fn uuid_parses_with_or_without_dashes() {
        assert_eq!(
            parse_uuid("00112233-4455-6677-8899-aabbccddeeff").unwrap()[15],
            0xFF
        );
        assert!(parse_uuid("xyz").is_err());
    }
}
