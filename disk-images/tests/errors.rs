//! Bad inputs give clear errors, and the checker notices broken images.

mod common;

use std::fs;

use common::*;
use disk_images::{build_image, check_image, Error};

fn build_err(fx: &Fixture) -> Error {
    let out = fx.dir.path().join("bad.img");
    let err = build_image(&fx.recipe(), &fx.inputs(), &out).expect_err("build must fail");
    assert!(!out.exists(), "no image left behind");
    assert!(
        !fx.dir.path().join("bad.img.partial").exists(),
        "no partial image left behind"
    );
    err
}

#[test]
fn stage2_too_big_for_the_gap_is_refused() {
    let fx = Fixture::new(1024);
    fs::write(fx.dir.path().join("stage2.bin"), vec![0x90; 2047 * 512 + 1]).unwrap();

    let err = build_err(&fx);

    let text = err.to_string();
    assert!(matches!(err, Error::TooBig { .. }), "{err:?}");
    assert!(
        text.contains("stage 2") && text.contains("1048064"),
        "{text}"
    );
}

#[test]
fn stage2_filling_the_gap_exactly_fits() {
    let fx = Fixture::new(1024);
    fs::write(fx.dir.path().join("stage2.bin"), vec![0x90; 2047 * 512]).unwrap();

    let image = fx.build("full-gap.img");

    check_image(&image).expect("still a valid image");
}

#[test]
fn boot_code_between_446_and_512_bytes_is_refused() {
    let fx = Fixture::new(1024);
    fs::write(fx.dir.path().join("mbr.bin"), vec![0; 447]).unwrap();

    let err = build_err(&fx);

    assert!(err.to_string().contains("MBR boot code"), "{err}");
}

#[test]
fn a_whole_boot_sector_gives_its_first_446_bytes() {
    let fx = Fixture::new(1024);
    let mut sector = vec![0xAB; 512];
    sector[510] = 0;
    fs::write(fx.dir.path().join("mbr.bin"), &sector).unwrap();

    let bytes = fs::read(fx.build("sector.img")).unwrap();

    assert_eq!(&bytes[..446], &sector[..446]);
    assert_eq!(&bytes[510..512], &[0x55, 0xAA]);
}

#[test]
fn a_255_byte_name_from_the_host_tree_fits() {
    let fx = Fixture::new(1024);
    let name = "x".repeat(255);
    fs::write(fx.dir.path().join("tree").join(&name), b"ok").unwrap();

    let image = fx.build("fine.img");

    check_image(&image).unwrap();
}

#[test]
fn a_name_over_255_bytes_is_refused() {
    // Host file systems stop at 255 bytes too, so the name comes from an
    // entry; host-tree names go through the same check.
    let fx = Fixture::new(1024);
    let long = format!("{}.toolong", "y".repeat(250));
    let text = fx.recipe_text() + &format!("\n[[entry]]\npath = \"/etc/{long}\"\nkind = \"dir\"\n");
    fs::write(fx.dir.path().join("recipe.toml"), text).unwrap();
    let recipe = disk_images::Recipe::load(&fx.dir.path().join("recipe.toml")).unwrap();

    let err = build_image(&recipe, &fx.inputs(), &fx.dir.path().join("long.img")).unwrap_err();

    assert!(matches!(err, Error::Tree(_)), "{err:?}");
    assert!(
        err.to_string().contains("258 bytes, ext2 allows 255"),
        "{err}"
    );
}

#[test]
fn a_missing_input_is_named_with_the_fix() {
    let fx = Fixture::new(1024);
    let mut inputs = fx.inputs();
    inputs.remove("kernel");

    let err = build_image(&fx.recipe(), &inputs, &fx.dir.path().join("x.img")).unwrap_err();

    assert!(
        matches!(err, Error::MissingInput(ref n) if n == "kernel"),
        "{err:?}"
    );
    assert!(err.to_string().contains("--input kernel=PATH"), "{err}");
}

#[test]
fn a_missing_input_file_names_the_path() {
    let fx = Fixture::new(1024);
    fs::remove_file(fx.dir.path().join("kernel.elf")).unwrap();

    let err = build_err(&fx);

    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("kernel.elf"), "{err}");
}

#[test]
fn partitions_bigger_than_the_disk_are_refused() {
    let fx = Fixture::new(1024);
    let text = fx
        .recipe_text()
        .replace("[swap]\nsize = \"1MiB\"", "[swap]\nsize = \"64MiB\"");
    fs::write(fx.dir.path().join("recipe.toml"), text).unwrap();
    let recipe = disk_images::Recipe::load(&fx.dir.path().join("recipe.toml")).unwrap();

    let err = build_image(&recipe, &fx.inputs(), &fx.dir.path().join("x.img")).unwrap_err();

    assert!(matches!(err, Error::Layout(_)), "{err:?}");
}

#[test]
fn a_tree_bigger_than_the_partition_is_refused() {
    let fx = Fixture::new(1024);
    fs::write(fx.dir.path().join("kernel.elf"), vec![1u8; 45 << 20]).unwrap();

    let err = build_err(&fx);

    assert!(matches!(err, Error::FsFull(_)), "{err:?}");
    assert!(
        err.to_string().contains("make the root partition bigger"),
        "{err}"
    );
}

#[test]
fn a_recipe_typo_names_the_file_and_key() {
    let fx = Fixture::new(1024);
    let path = fx.dir.path().join("typo.toml");
    fs::write(&path, "size = \"8MiB\"\n[root]\nblock_sise = 1024\n").unwrap();

    let err = disk_images::Recipe::load(&path).unwrap_err();

    let text = err.to_string();
    assert!(
        text.contains("typo.toml") && text.contains("block_sise"),
        "{text}"
    );
}

/// Flips bytes of a built image's root file system and expects a failure
/// message containing `expect`.
fn corrupt_and_check(patch: impl FnOnce(&mut [u8]), expect: &str) {
    let fx = Fixture::new(1024);
    let image = fx.build("disk.img");
    let mut bytes = fs::read(&image).unwrap();
    patch(&mut bytes[2048 * 512..]);
    fs::write(&image, &bytes).unwrap();

    let err = check_image(&image).expect_err("checker must notice");

    assert!(
        err.to_string().contains(expect),
        "expected {expect:?} in:\n{err}"
    );
}

/// Byte offset of inode `ino` in the fixture's file system (group 0's
/// inode table at block 5 with 1 KiB blocks and 5 groups).
fn inode_at(fs: &[u8], ino: usize) -> usize {
    let table = u32::from_le_bytes(fs[2048 + 8..2048 + 12].try_into().unwrap()) as usize;
    table * 1024 + (ino - 1) * 128
}

#[test]
fn checker_notices_a_wrong_link_count() {
    corrupt_and_check(
        |fs| {
            let at = inode_at(fs, 2) + 26;
            fs[at] += 1;
        },
        "link count",
    );
}

#[test]
fn checker_notices_a_block_bitmap_bit_cleared() {
    corrupt_and_check(
        |fs| {
            let bitmap = u32::from_le_bytes(fs[2048..2052].try_into().unwrap()) as usize;
            fs[bitmap * 1024 + 60] = 0; // blocks 481..488: file data
        },
        "used but free in the bitmap",
    );
}

#[test]
fn checker_notices_wrong_free_counts() {
    corrupt_and_check(
        |fs| {
            fs[1024 + 12] ^= 1; // s_free_blocks_count
        },
        "superblock says",
    );
}

#[test]
fn checker_notices_wrong_i_blocks() {
    corrupt_and_check(
        |fs| {
            let at = inode_at(fs, 2) + 28;
            fs[at] += 2;
        },
        "i_blocks",
    );
}

#[test]
fn checker_notices_a_missing_signature() {
    let fx = Fixture::new(1024);
    let image = fx.build("disk.img");
    let mut bytes = fs::read(&image).unwrap();
    bytes[511] = 0;
    fs::write(&image, &bytes).unwrap();

    let err = check_image(&image).unwrap_err();

    assert!(err.to_string().contains("0x55AA"), "{err}");
}

#[test]
fn checker_notices_an_inactive_root_partition() {
    let fx = Fixture::new(1024);
    let image = fx.build("disk.img");
    let mut bytes = fs::read(&image).unwrap();
    bytes[446] = 0;
    fs::write(&image, &bytes).unwrap();

    let err = check_image(&image).unwrap_err();

    assert!(err.to_string().contains("active"), "{err}");
}
