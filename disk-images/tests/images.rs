//! Builds images from a test tree and checks them with our checker, the
//! host's e2fsck and debugfs, and the shared ondisk reader.

mod common;

use std::fs;

use common::*;
use disk_images::check_image;
use ondisk::ext2::{Volume, FT_DIR, S_IFCHR, S_IFIFO};
use ondisk::mbr::{PART_LINUX, PART_SWAP};

#[test]
fn built_image_passes_our_checker() {
    let fx = Fixture::new(1024);
    let image = fx.build("disk.img");

    let report = check_image(&image).expect("check passes");

    assert_eq!(report.disk_bytes, 40 << 20);
    assert_eq!(report.fs.block_size, 1024);
    assert_eq!(
        report.fs.groups, 5,
        "enough groups for ones without backups"
    );
    assert!(report.swap_signature);
    assert_eq!(report.fs.devices, 3);
    assert_eq!(report.fs.symlinks, 3);
    assert_eq!(report.fs.label, "testroot");
}

#[test]
fn partition_table_has_active_linux_root_then_swap() {
    let fx = Fixture::new(1024);
    let image = fx.build("disk.img");

    let parts = partitions(&image);

    assert_eq!(
        (parts[0].kind, parts[0].bootable, parts[0].first_lba),
        (PART_LINUX, true, 2048)
    );
    assert_eq!((parts[1].kind, parts[1].bootable), (PART_SWAP, false));
    assert_eq!(parts[1].first_lba as u64, parts[0].end_lba());
    assert_eq!(parts[1].end_lba(), (40 << 20) / 512);
    assert_eq!(parts[1].sectors, 2048);
    assert!(!parts[2].is_used() && !parts[3].is_used());
}

#[test]
fn boot_code_and_stage2_are_where_the_bios_and_mbr_look() {
    let fx = Fixture::new(1024);
    let image = fx.build("disk.img");

    let bytes = fs::read(&image).unwrap();

    assert_eq!(&bytes[..446], &pattern(446, 4)[..]);
    assert_eq!(&bytes[510..512], &[0x55, 0xAA]);
    assert_eq!(&bytes[512..512 + 30_000], &pattern(30_000, 5)[..]);
}

#[test]
fn e2fsck_finds_nothing_to_fix_with_1k_blocks() {
    if !have("e2fsck") {
        return;
    }
    let fx = Fixture::new(1024);
    let root = extract_root(&fx.build("disk.img"));

    let (status, output) = e2fsck(&root);

    assert_eq!(status, 0, "e2fsck -fn:\n{output}");
}

#[test]
fn e2fsck_finds_nothing_to_fix_with_4k_blocks() {
    if !have("e2fsck") {
        return;
    }
    let fx = Fixture::new(4096);
    let image = fx.build("disk.img");
    let root = extract_root(&image);

    let (status, output) = e2fsck(&root);

    assert_eq!(status, 0, "e2fsck -fn:\n{output}");
    check_image(&image).expect("our checker agrees");
}

#[test]
fn debugfs_reads_back_every_file_exactly() {
    if !have("debugfs") {
        return;
    }
    let fx = Fixture::new(1024);
    let root = extract_root(&fx.build("disk.img"));

    for (path, content) in &fx.files {
        let read = debugfs(&root, &format!("cat {path}"));
        assert!(
            read == *content,
            "{path}: debugfs read {} bytes, expected {}",
            read.len(),
            content.len()
        );
    }
    assert!(
        debugfs(&root, "cat /boot/kernel") == fx.kernel,
        "kernel differs"
    );
    assert_eq!(debugfs(&root, "cat /boot/cmdline"), b"console=ttyS0\n");
}

#[test]
fn debugfs_sees_links_symlinks_and_devices() {
    if !have("debugfs") {
        return;
    }
    let fx = Fixture::new(1024);
    let root = extract_root(&fx.build("disk.img"));

    let hard = debugfs_text(&root, "stat /data/medium");
    let tool = debugfs_text(&root, "stat /bin/tool");
    let fast = debugfs_text(&root, "stat /fast-link");
    let slow_target = debugfs(&root, "cat /slow-link");
    let console = debugfs_text(&root, "stat /dev/console");
    let big = debugfs_text(&root, "stat /dev/big");
    let top = debugfs_text(&root, "stat /");

    assert!(hard.contains("Links: 2"), "{hard}");
    assert!(
        tool.contains("Links: 2") && tool.contains("Mode:  0755"),
        "{tool}"
    );
    assert!(fast.contains("Fast link dest: \"data/medium\""), "{fast}");
    assert_eq!(slow_target, SLOW_TARGET.as_bytes());
    assert!(
        console.contains("Device major/minor number: 05:01"),
        "{console}"
    );
    assert!(
        big.contains("(New-style) Device major/minor number: 300:70000"),
        "{big}"
    );
    // ., .. and lost+found, a, bin, boot, data, dev, etc, many, run, tmp.
    assert!(top.contains("Links: 12"), "{top}");
}

#[test]
fn ondisk_reader_reads_back_the_tree() {
    let fx = Fixture::new(1024);
    let root = fs::read(extract_root(&fx.build("disk.img"))).unwrap();
    let mut vol = Volume::open(&root[..]).expect("opens");

    for (path, content) in &fx.files {
        let (_, inode) = vol.lookup(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut buf = vec![0; content.len() + 10];
        let n = vol.read(&inode, 0, &mut buf).unwrap();
        assert!(buf[..n] == content[..], "{path} differs");
    }
    let (kernel_ino, kernel) = vol.lookup("/boot/kernel").unwrap();
    let mut buf = vec![0; fx.kernel.len()];
    assert_eq!(vol.read(&kernel, 0, &mut buf), Ok(fx.kernel.len()));
    assert!(buf == fx.kernel);
    assert!(kernel_ino > 11);
    assert_eq!(
        vol.lookup("/slow-link").unwrap().0,
        vol.lookup("/etc/motd").unwrap().0
    );
    assert_eq!(
        vol.lookup("/fast-link").unwrap().0,
        vol.lookup("/data/medium").unwrap().0
    );
    assert_eq!(
        vol.lookup("/motd-link").unwrap().0,
        vol.lookup("/etc/motd").unwrap().0
    );
    assert_eq!(
        vol.lookup("/bin/tool-again").unwrap().0,
        vol.lookup("/bin/tool").unwrap().0
    );
    let (_, big) = vol.lookup("/dev/big").unwrap();
    assert_eq!((big.format(), big.device()), (S_IFCHR, Some((300, 70000))));
    let (_, console) = vol.lookup("/dev/console").unwrap();
    assert_eq!(console.device(), Some((5, 1)));
    assert_eq!(console.block[0], 0x0501, "old encoding for small numbers");
    assert_eq!(vol.lookup("/run/fifo").unwrap().1.format(), S_IFIFO);
}

#[test]
fn many_files_span_several_directory_blocks_and_all_are_listed() {
    let fx = Fixture::new(1024);
    let root = fs::read(extract_root(&fx.build("disk.img"))).unwrap();
    let mut vol = Volume::open(&root[..]).unwrap();

    let (_, many) = vol.lookup("/many").unwrap();
    let mut names = Vec::new();
    vol.for_each_dir_entry(&many, |_, _, name| {
        names.push(String::from_utf8(name.to_vec()).unwrap());
        true
    })
    .unwrap();

    assert!(
        many.size() >= 4 * 1024,
        "directory of {} bytes",
        many.size()
    );
    assert_eq!(names.len(), MANY_FILES + 2);
    assert_eq!(names[0], ".");
    assert_eq!(names[1], "..");
    assert_eq!(names[2], "file-with-a-longish-name-000");
}

#[test]
fn large_file_uses_double_indirect_blocks() {
    let fx = Fixture::new(1024);
    let root = fs::read(extract_root(&fx.build("disk.img"))).unwrap();
    let mut vol = Volume::open(&root[..]).unwrap();

    let (_, large) = vol.lookup("/data/large").unwrap();
    let (_, medium) = vol.lookup("/data/medium").unwrap();

    assert_ne!(large.block[13], 0, "double indirect pointer");
    assert_eq!(large.block[14], 0);
    assert_ne!(medium.block[12], 0, "single indirect pointer");
    assert_eq!(medium.block[13], 0);
    // i_blocks: 12 + 256 + 4 data blocks, 1 + 1 + 1 indirect, in sectors.
    assert_eq!(large.blocks, (12 + 256 + 4 + 3) * 2);
}

#[test]
fn lost_and_found_is_inode_11_with_preallocated_blocks() {
    let fx = Fixture::new(1024);
    let root = fs::read(extract_root(&fx.build("disk.img"))).unwrap();
    let mut vol = Volume::open(&root[..]).unwrap();

    let (ino, lf) = vol.lookup("/lost+found").unwrap();

    assert_eq!(ino, 11);
    assert_eq!(lf.size(), 16 * 1024);
    assert_eq!(lf.mode() & 0o7777, 0o700);
    let mut kinds = Vec::new();
    vol.for_each_dir_entry(&lf, |_, ft, _| {
        kinds.push(ft);
        true
    })
    .unwrap();
    assert_eq!(kinds, vec![FT_DIR, FT_DIR]);
}

#[test]
fn same_recipe_and_inputs_give_a_byte_identical_image() {
    let fx = Fixture::new(1024);

    let first = fs::read(fx.build("one.img")).unwrap();
    let second = fs::read(fx.build("two.img")).unwrap();

    assert!(first == second, "images differ");
}

#[test]
fn cmdline_override_replaces_boot_cmdline() {
    let fx = Fixture::new(1024);
    let mut recipe = fx.recipe();
    recipe.set_cmdline("root=/dev/hda1 quiet");
    let out = fx.dir.path().join("cmd.img");

    disk_images::build_image(&recipe, &fx.inputs(), &out).unwrap();
    verify(&out);

    let root = fs::read(extract_root(&out)).unwrap();
    let mut vol = Volume::open(&root[..]).unwrap();
    let (_, inode) = vol.lookup("/boot/cmdline").unwrap();
    let mut buf = [0u8; 64];
    let n = vol.read(&inode, 0, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"root=/dev/hda1 quiet\n");
}

#[test]
fn image_is_written_sparsely() {
    let fx = Fixture::new(1024);
    let image = fx.build("disk.img");

    let meta = fs::metadata(&image).unwrap();

    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.len(), 40 << 20);
    assert!(
        meta.blocks() * 512 < 8 << 20,
        "{} bytes allocated",
        meta.blocks() * 512
    );
}
