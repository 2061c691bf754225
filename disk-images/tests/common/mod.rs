//! Shared test fixtures: a host tree with every kind of node, a recipe
//! over it, the host e2fsprogs as the reference checker and reader.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use disk_images::Recipe;
use ondisk::mbr::{self, PartitionEntry, SECTOR_SIZE};

/// A slow symlink target: 60 bytes or more, so it needs a data block.
pub const SLOW_TARGET: &str = "/etc/../etc/./././././././././././././././././././././././././motd";
/// Files in the many-entries directory (several 1 KiB directory blocks).
pub const MANY_FILES: usize = 150;

/// Deterministic bytes: a small xorshift stream.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        })
        .collect()
}

/// Bytes needing double indirection at `block_size`: past 12 direct
/// blocks and one full single-indirect block, plus a little.
pub fn double_indirect_len(block_size: usize) -> usize {
    (12 + block_size / 4 + 3) * block_size + 123
}

/// A test world: a host tree, inputs, a recipe, all in one tempdir.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub block_size: usize,
    pub kernel: Vec<u8>,
    /// Host-tree files: image path -> content.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Fixture {
    pub fn new(block_size: usize) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("tree");
        let mut files = Vec::new();
        let mut put = |rel: &str, data: Vec<u8>| {
            let path = root.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &data).unwrap();
            files.push((format!("/{rel}"), data));
        };
        put("etc/motd", b"Welcome to the test image.\n".to_vec());
        put("bin/tool", b"#!/bin/sh\necho tool\n".to_vec());
        put("data/empty", Vec::new());
        put("data/medium", pattern(12 * block_size + 500, 1));
        put("data/large", pattern(double_indirect_len(block_size), 2));
        put("a/b/c/d/deep.txt", b"deep\n".to_vec());
        for i in 0..MANY_FILES {
            put(
                &format!("many/file-with-a-longish-name-{i:03}"),
                format!("{i}\n").into_bytes(),
            );
        }
        fs::set_permissions(root.join("bin/tool"), fs::Permissions::from_mode(0o755)).unwrap();
        symlink("etc/motd", root.join("motd-link")).unwrap();
        fs::hard_link(root.join("data/medium"), root.join("data/medium-hardlink")).unwrap();
        files.push((
            "/data/medium-hardlink".into(),
            pattern(12 * block_size + 500, 1),
        ));

        let kernel = pattern(100_000, 3);
        fs::write(dir.path().join("kernel.elf"), &kernel).unwrap();
        fs::write(dir.path().join("mbr.bin"), pattern(446, 4)).unwrap();
        fs::write(dir.path().join("stage2.bin"), pattern(30_000, 5)).unwrap();
        Fixture {
            dir,
            block_size,
            kernel,
            files,
        }
    }

    pub fn recipe_text(&self) -> String {
        format!(
            r#"
size = "40MiB"
mbr = "@mbr"
stage2 = "@stage2"
rootfs = "tree"
timestamp = 1767225600

[root]
block_size = {bs}
inode_ratio = 4096
label = "testroot"

[swap]
size = "1MiB"

[[entry]]
path = "/boot/kernel"
kind = "file"
source = "@kernel"

[[entry]]
path = "/boot/cmdline"
kind = "file"
content = "console=ttyS0\n"

[[entry]]
path = "/tmp"
kind = "dir"
mode = 0o1777

[[entry]]
path = "/slow-link"
kind = "symlink"
target = "{SLOW_TARGET}"

[[entry]]
path = "/fast-link"
kind = "symlink"
target = "data/medium"

[[entry]]
path = "/bin/tool-again"
kind = "hardlink"
target = "/bin/tool"

[[entry]]
path = "/dev/console"
kind = "char"
major = 5
minor = 1
mode = 0o600

[[entry]]
path = "/dev/hda1"
kind = "block"
major = 3
minor = 1

[[entry]]
path = "/dev/big"
kind = "char"
major = 300
minor = 70000

[[entry]]
path = "/run/fifo"
kind = "fifo"
"#,
            bs = self.block_size
        )
    }

    pub fn recipe(&self) -> Recipe {
        let path = self.dir.path().join("recipe.toml");
        fs::write(&path, self.recipe_text()).unwrap();
        Recipe::load(&path).expect("recipe loads")
    }

    pub fn inputs(&self) -> HashMap<String, PathBuf> {
        let d = self.dir.path();
        HashMap::from([
            ("kernel".to_string(), d.join("kernel.elf")),
            ("mbr".to_string(), d.join("mbr.bin")),
            ("stage2".to_string(), d.join("stage2.bin")),
        ])
    }

    /// [`Fixture::inputs`], plus a stand-in file for every other input
    /// `recipe` names (the default recipe's user programs).
    pub fn inputs_for(&self, recipe: &disk_images::Recipe) -> HashMap<String, PathBuf> {
        let mut inputs = self.inputs();
        for name in recipe.inputs() {
            inputs.entry(name.clone()).or_insert_with(|| {
                let path = self.dir.path().join(format!("input-{name}"));
                std::fs::write(&path, format!("stand-in for @{name}\n")).unwrap();
                path
            });
        }
        inputs
    }

    /// Builds the fixture's image to `name` in the tempdir and verifies it.
    pub fn build(&self, name: &str) -> PathBuf {
        let out = self.dir.path().join(name);
        disk_images::build_image(&self.recipe(), &self.inputs(), &out).expect("image builds");
        verify(&out);
        out
    }
}

/// Every image a test builds passes our checker and, when installed, the
/// host's `e2fsck -fn` on its root partition.
pub fn verify(image: &Path) {
    disk_images::check_image(image).unwrap_or_else(|e| panic!("{}: {e}", image.display()));
    if Command::new("e2fsck").arg("-V").output().is_ok() {
        let root = extract_root(image);
        let (status, output) = e2fsck(&root);
        assert_eq!(status, 0, "e2fsck -fn {}:\n{output}", image.display());
        fs::remove_file(root).unwrap();
    }
}

pub fn partitions(image: &Path) -> [PartitionEntry; 4] {
    let bytes = fs::read(image).unwrap();
    let sector: &[u8; SECTOR_SIZE] = bytes[..SECTOR_SIZE].try_into().unwrap();
    mbr::parse_table(sector).expect("MBR signature")
}

/// Copies partition 1 out to its own file (e2fsck and debugfs do not take
/// offsets reliably).
pub fn extract_root(image: &Path) -> PathBuf {
    let root = partitions(image)[0];
    let bytes = fs::read(image).unwrap();
    let start = root.first_lba as usize * SECTOR_SIZE;
    let end = start + root.sectors as usize * SECTOR_SIZE;
    let out = image.with_extension("root");
    fs::write(&out, &bytes[start..end]).unwrap();
    out
}

/// Whether a host tool runs; prints why a test is skipped if not.
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("-V").output().is_ok();
    if !ok {
        eprintln!("skipped: `{tool}` is not installed (install e2fsprogs)");
    }
    ok
}

/// `e2fsck -fn`: (exit status, output).
pub fn e2fsck(fs_image: &Path) -> (i32, String) {
    let out = Command::new("e2fsck")
        .arg("-fn")
        .arg(fs_image)
        .output()
        .expect("run e2fsck");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// `debugfs -R CMD`: stdout as bytes.
pub fn debugfs(fs_image: &Path, request: &str) -> Vec<u8> {
    let out = Command::new("debugfs")
        .arg("-R")
        .arg(request)
        .arg(fs_image)
        .output()
        .expect("run debugfs");
    out.stdout
}

pub fn debugfs_text(fs_image: &Path, request: &str) -> String {
    String::from_utf8_lossy(&debugfs(fs_image, request)).to_string()
}
