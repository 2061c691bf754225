//! The default recipe, the check report, and images made by the host's mke2fs read
//! with our reader and checker (a reference we did not write).

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use disk_images::{build_image, check_ext2, Recipe};
use ondisk::ext2::Volume;

fn default_recipe() -> Recipe {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/default.toml");
    Recipe::load(&path).expect("default recipe loads")
}

#[test]
fn default_recipe_builds_a_64mib_disk_that_checks_clean() {
    let fx = Fixture::new(1024);
    let out = fx.dir.path().join("default.img");

    let recipe = default_recipe();
    let report = build_image(&recipe, &fx.inputs_for(&recipe), &out).expect("builds");

    assert_eq!(report.disk_bytes, 64 << 20);
    assert_eq!(report.partitions[0].first_lba, 2048);
    assert_eq!(report.partitions[1].sectors, 8 << 11);
    verify(&out);
    let check = disk_images::check_image(&out).expect("checks");
    assert!(check.fs.groups > 5, "{} groups", check.fs.groups);
}

#[test]
fn default_image_has_the_boot_files_motd_and_devices() {
    let fx = Fixture::new(1024);
    let out = fx.dir.path().join("default.img");
    let recipe = default_recipe();
    build_image(&recipe, &fx.inputs_for(&recipe), &out).unwrap();
    verify(&out);
    let root = fs::read(extract_root(&out)).unwrap();
    let mut vol = Volume::open(&root[..]).unwrap();

    let read = |vol: &mut Volume<&[u8]>, path: &str| {
        let (_, inode) = vol.lookup(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut buf = vec![0; inode.size() as usize];
        vol.read(&inode, 0, &mut buf).unwrap();
        buf
    };

    assert!(read(&mut vol, "/boot/kernel") == fx.kernel);
    assert_eq!(
        read(&mut vol, "/boot/cmdline"),
        b"root=/dev/hda1 console=ttyS0 loglevel=7\n"
    );
    assert!(String::from_utf8(read(&mut vol, "/etc/motd"))
        .unwrap()
        .contains("Welcome"));
    let devices = [
        ("/dev/console", 5, 1),
        ("/dev/tty", 5, 0),
        ("/dev/null", 1, 3),
        ("/dev/zero", 1, 5),
        ("/dev/ttyS0", 4, 64),
        ("/dev/hda", 3, 0),
        ("/dev/hda1", 3, 1),
        ("/dev/hda2", 3, 2),
    ];
    for (path, major, minor) in devices {
        assert_eq!(
            vol.lookup(path).unwrap().1.device(),
            Some((major, minor)),
            "{path}"
        );
    }
    for dir in [
        "/bin", "/sbin", "/dev", "/proc", "/tmp", "/home", "/mnt", "/root", "/etc",
    ] {
        assert!(vol.lookup(dir).unwrap().1.is_dir(), "{dir}");
    }
    assert_eq!(vol.lookup("/tmp").unwrap().1.mode() & 0o7777, 0o1777);
}

#[test]
fn check_image_refuses_a_file_that_is_not_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.img");
    fs::write(&junk, vec![0u8; 4096]).unwrap();

    let err = disk_images::check_image(&junk).unwrap_err();

    assert!(err.to_string().contains("0x55AA"), "{err}");
}

#[test]
fn check_report_summarises_partitions_and_the_file_system() {
    let fx = Fixture::new(1024);
    let image = fx.build("disk.img");

    let summary = disk_images::check_image(&image).unwrap().to_string();

    assert!(
        summary.contains("partition 1: type 0x83 active LBA 2048"),
        "{summary}"
    );
    assert!(summary.contains("partition 2: type 0x82 LBA"), "{summary}");
    assert!(
        summary.contains("root: ext2 rev 1 \"testroot\""),
        "{summary}"
    );
    assert!(summary.ends_with("check: ok"), "{summary}");
}

/// mke2fs's own ext2 (with its default features: resize_inode, dir_index,
/// ext_attr) from the fixture tree.
fn mke2fs_image(fx: &Fixture, block_size: usize, extra: &[&str]) -> Option<Vec<u8>> {
    if !have("mke2fs") {
        return None;
    }
    let out = fx.dir.path().join("mke2fs.img");
    let status = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext2", "-b", &block_size.to_string()])
        .args(extra)
        .arg("-d")
        .arg(fx.dir.path().join("tree"))
        .arg(&out)
        .arg("16M")
        .env("E2FSPROGS_FAKE_TIME", "1767225600")
        .status()
        .expect("run mke2fs");
    assert!(status.success());
    Some(fs::read(out).unwrap())
}

#[test]
fn ondisk_reader_reads_an_mke2fs_image() {
    for block_size in [1024, 4096] {
        let fx = Fixture::new(block_size);
        let Some(image) = mke2fs_image(&fx, block_size, &[]) else {
            return;
        };
        let mut vol = Volume::open(&image[..]).expect("opens mke2fs's ext2");

        for (path, content) in &fx.files {
            let (_, inode) = vol.lookup(path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let mut buf = vec![0; content.len()];
            assert_eq!(vol.read(&inode, 0, &mut buf), Ok(content.len()), "{path}");
            assert!(buf == *content, "{path} differs at block size {block_size}");
        }
        assert_eq!(
            vol.lookup("/motd-link").unwrap().0,
            vol.lookup("/etc/motd").unwrap().0
        );
    }
}

#[test]
fn our_checker_accepts_mke2fs_images() {
    let variants: [&[&str]; 3] = [&[], &["-O", "^resize_inode"], &["-I", "256"]];
    for extra in variants {
        let fx = Fixture::new(1024);
        let Some(image) = mke2fs_image(&fx, 1024, extra) else {
            return;
        };

        let summary = check_ext2(&image).unwrap_or_else(|e| panic!("mke2fs {extra:?}: {e}"));

        assert_eq!(
            summary.files as usize,
            fx.files.len() - 1,
            "one file has two names"
        );
    }
}
