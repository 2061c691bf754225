//! The whole boot chain on the default image and on broken variants of it:
//! firmware, MBR, stage 2 and kernel, on the deterministic virtual clock.
//! Each variant is built with the image builder from the default recipe
//! with one thing changed, so each failure message is seen for real.

use disk_images::{build_image, Recipe};
use emulator::artifacts::{DEFAULT_IMAGE, RECIPE};
use emulator::machine::Outcome;
use integration_tests::guestboot::{boot, Boot, BootRun};
use integration_tests::imageinputs::default_image_inputs;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const LIMIT: u64 = 600_000_000;
/// The shell's prompt: init has started `sh` on the console.
const BOOTED: &str = "/ # ";

fn boot_disk(image: &Path, until: Option<&str>) -> BootRun {
    boot(Boot::Disk, &[image], until, LIMIT)
}

/// The default recipe's inputs, with `replace` swapping some of them.
fn inputs(recipe: &Recipe, replace: &[(&str, &Path)]) -> HashMap<String, PathBuf> {
    let mut map = default_image_inputs(recipe);
    for (name, path) in replace {
        map.insert(name.to_string(), path.to_path_buf());
    }
    map
}

/// Builds a variant of the default image in a temporary directory.
fn variant(
    dir: &tempfile::TempDir,
    edit: impl FnOnce(&mut Recipe),
    replace: &[(&str, &Path)],
) -> PathBuf {
    let mut recipe = Recipe::load(Path::new(RECIPE)).expect("the default recipe");
    edit(&mut recipe);
    let out = dir.path().join("variant.img");
    build_image(&recipe, &inputs(&recipe, replace), &out).expect("build the variant");
    out
}

#[test]
fn default_image_boots_through_firmware_mbr_stage2_and_kernel_to_the_motd() {
    let run = boot_disk(Path::new(DEFAULT_IMAGE), Some(BOOTED));

    // Firmware.
    run.expect("POST 1.0: CPU ok, ROM checksum ok");
    run.expect("Booting from hard disk 0x80...");
    // Stage 2.
    run.expect("stage2: boot drive 0x80 is ATA0 master");
    run.expect("stage2: root is partition 1 (LBA 2048");
    run.expect("stage2: loading /boot/kernel");
    run.expect("stage2: kernel at 0x100000");
    // The kernel, with the command line from /boot/cmdline.
    run.expect("Command line: root=/dev/hda1 console=ttyS0 loglevel=7");
    run.expect("Memory: ");
    run.expect("i8259: PIC remapped to vectors 0x20 (IRQ 0-7) and 0x28 (IRQ 8-15)");
    run.expect("clocksource: PIT at HZ=100:");
    run.expect("serial: ttyS0 at I/O 0x3f8 (irq = 4) is a 16550A, interrupt-driven");
    run.expect("hda: EMU HARDDISK, 131072 sectors (64 MiB), LBA48");
    run.expect(" hda: hda1 hda2");
    run.expect("EXT2-fs (hda1): mounted filesystem (read-only)");
    run.expect("VFS: Mounted root (ext2 filesystem) readonly on device hda1.");
    let motd = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../disk-images/rootfs/etc/motd"),
    )
    .expect("the motd in the root tree");
    for line in motd.lines().filter(|l| !l.trim().is_empty()) {
        run.expect(line);
    }
    run.expect("Run /sbin/init as init process");
    run.expect(BOOTED);
}

#[test]
fn the_same_image_boots_the_same_way_every_time() {
    let first = boot_disk(Path::new(DEFAULT_IMAGE), Some(BOOTED));
    let second = boot_disk(Path::new(DEFAULT_IMAGE), Some(BOOTED));

    let upto = |s: &str| s[..s.find(BOOTED).expect("booted")].to_string();
    assert_eq!(upto(&first.serial), upto(&second.serial));
}

#[test]
fn command_line_comes_from_boot_cmdline() {
    let dir = tempfile::tempdir().unwrap();
    let image = variant(&dir, |r| r.set_cmdline("panic=exit crash=pagefault"), &[]);

    let run = boot_disk(&image, None);

    assert_eq!(run.outcome, Outcome::Exit(3), "{}", run.serial);
    run.expect("stage2: cmdline \"panic=exit crash=pagefault\"");
    run.expect("BUG: unable to handle page fault for address: ffffc90000dead00");
    run.expect("Kernel panic - not syncing: Fatal exception");
}

#[test]
fn stage2_names_a_missing_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let image = variant(
        &dir,
        |r| r.entries.retain(|e| e.path != "/boot/kernel"),
        &[],
    );

    let run = boot_disk(&image, Some("not found"));

    run.expect("stage2: /boot/kernel: not found");
}

#[test]
fn stage2_refuses_a_kernel_that_is_not_elf() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("kernel.txt");
    std::fs::write(&text, "this is not a kernel\n".repeat(100)).unwrap();
    let image = variant(&dir, |_| {}, &[("kernel", &text)]);

    let run = boot_disk(&image, Some("bad ELF header"));

    run.expect("bad ELF header");
    assert!(!run.serial.contains("Linux-like kernel"), "{}", run.serial);
}

#[test]
fn mbr_reports_a_missing_stage2() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = dir.path().join("zeros.bin");
    std::fs::write(&zeros, [0u8; 4096]).unwrap();
    let image = variant(&dir, |_| {}, &[("stage2", &zeros)]);

    let run = boot_disk(&image, Some("Missing stage 2"));

    run.expect("Missing stage 2");
    assert!(!run.serial.contains("stage2:"), "{}", run.serial);
}

#[test]
fn mbr_reports_a_disk_read_error_when_stage2_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let image = variant(&dir, |_| {}, &[]);
    // Keep the MBR and stage 2's first sector: the rest of stage 2 is past
    // the end of the disk, so int 13h fails.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&image)
        .unwrap();
    file.set_len(2 * 512).unwrap();

    let run = boot_disk(&image, Some("Disk read error"));

    run.expect("Disk read error");
}
