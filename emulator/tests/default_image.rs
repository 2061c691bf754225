//! The default disk image through the command line: `emu image`, `emu
//! mkimage`, `emu` booting it with no image given, and the same image on
//! QEMU (skipped, and said so, when QEMU is not installed); e2fsck and
//! debugfs as the reference readers of its root file system.

use emulator::artifacts::{DEFAULT_IMAGE, KERNEL, MBR, RECIPE, STAGE2, USER_BIN_DIR};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn emu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emu"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("emu runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// The root partition's bytes (partition 1 of the MBR's table).
fn root_partition(image: &Path, out: &Path) {
    let disk = std::fs::read(image).expect("read the image");
    let mbr: &[u8; 512] = disk[..512].try_into().unwrap();
    let table = ondisk::mbr::parse_table(mbr).expect("a partition table");
    let root = table[0];
    let start = root.first_lba as usize * 512;
    let end = start + root.sectors as usize * 512;
    std::fs::write(out, &disk[start..end]).expect("write the partition");
}

const MOTD_LINE: &str = "Welcome to the guest system";

#[test]
fn emu_image_prints_the_path_of_an_image_that_exists() {
    let out = emu(&["image"]);

    assert!(out.status.success());
    let path = text(&out.stdout);
    assert_eq!(path.trim(), DEFAULT_IMAGE);
    assert!(Path::new(path.trim()).is_file(), "{path}");
}

#[test]
fn emu_run_without_an_image_boots_the_default_image() {
    let out = emu(&[
        "run",
        "--max-instructions",
        "300000000",
        "--serial",
        "stdio",
    ]);

    let console = text(&out.stdout);
    assert!(console.contains(MOTD_LINE), "{console}");
    assert!(
        console.contains("stage2: loading /boot/kernel"),
        "{console}"
    );
}

#[test]
fn mkimage_builds_the_default_recipe_and_check_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");

    // Every input the recipe names, from this build's artifacts.
    let recipe = disk_images::Recipe::load(Path::new(RECIPE)).expect("the default recipe");
    let mut args: Vec<String> = [
        "mkimage",
        "--recipe",
        RECIPE,
        "--out",
        image.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for name in recipe.inputs() {
        let path = match name.as_str() {
            "mbr" => MBR.to_string(),
            "stage2" => STAGE2.to_string(),
            "kernel" => KERNEL.to_string(),
            program => format!("{USER_BIN_DIR}/{program}"),
        };
        args.extend(["--input".to_string(), format!("{name}={path}")]);
    }
    args.extend(["--cmdline".to_string(), "quiet".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let build = emu(&args);
    let check = emu(&["mkimage", "check", image.to_str().unwrap()]);

    assert!(build.status.success(), "{}", text(&build.stderr));
    let summary = text(&check.stdout);
    assert!(check.status.success(), "{summary}{}", text(&check.stderr));
    assert!(
        summary.contains("partition 1: type 0x83 active LBA 2048"),
        "{summary}"
    );
    assert!(summary.contains("partition 2: type 0x82"), "{summary}");
    assert!(summary.contains("check: ok"), "{summary}");
}

#[test]
fn mkimage_names_a_missing_input_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");

    let out = emu(&[
        "mkimage",
        "--recipe",
        RECIPE,
        "--out",
        image.to_str().unwrap(),
    ]);

    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the recipe needs input `@"), "{stderr}");
    assert!(!image.exists(), "no half-built image is left behind");
}

#[test]
fn mkimage_check_refuses_a_file_that_is_not_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.img");
    std::fs::write(&junk, vec![0u8; 4096]).unwrap();

    let out = emu(&["mkimage", "check", junk.to_str().unwrap()]);

    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("0x55AA"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn e2fsck_finds_nothing_to_fix_in_the_default_root_file_system() {
    if !have("e2fsck") {
        eprintln!("skipped: e2fsck is not installed (Debian package e2fsprogs)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("root.ext2");
    root_partition(Path::new(DEFAULT_IMAGE), &part);

    let out = Command::new("e2fsck")
        .arg("-fn")
        .arg(&part)
        .output()
        .unwrap();

    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn debugfs_reads_the_kernel_and_the_command_line_back() {
    if !have("debugfs") {
        eprintln!("skipped: debugfs is not installed (Debian package e2fsprogs)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("root.ext2");
    root_partition(Path::new(DEFAULT_IMAGE), &part);
    let debugfs = |request: &str| {
        let out = Command::new("debugfs")
            .args(["-R", request])
            .arg(&part)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        out.stdout
    };

    let kernel = debugfs("cat /boot/kernel");
    let cmdline = debugfs("cat /boot/cmdline");

    assert!(
        kernel == std::fs::read(KERNEL).unwrap(),
        "/boot/kernel differs"
    );
    assert_eq!(text(&cmdline), "root=/dev/hda1 console=ttyS0 loglevel=7\n");
}

#[test]
fn qemu_boots_the_default_image_to_the_same_point() {
    if Command::new("qemu-system-x86_64")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("skipped: qemu-system-x86_64 is not installed (Debian package qemu-system-x86)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serial.log");

    // The command line, with the serial console to a file and the
    // disk as a snapshot; QEMU is stopped once the log shows the shell's
    // prompt (or after 60 s).
    let mut qemu = Command::new("qemu-system-x86_64")
        .args(["-M", "isapc", "-cpu", "qemu64", "-m", "256"])
        .args(["-display", "none", "-monitor", "none"])
        .arg("-serial")
        .arg(format!("file:{}", log.display()))
        .arg("-drive")
        .arg(format!("file={DEFAULT_IMAGE},format=raw,snapshot=on"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qemu");
    let started = std::time::Instant::now();
    let mut console = String::new();
    while started.elapsed() < std::time::Duration::from_secs(60) {
        console = std::fs::read_to_string(&log).unwrap_or_default();
        if console.contains("/ # ") || console.contains("Kernel panic") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = qemu.kill();
    let _ = qemu.wait();

    for line in [
        "stage2: loading /boot/kernel",
        "Command line: root=/dev/hda1 console=ttyS0 loglevel=7",
        "i8259: PIC remapped to vectors 0x20 (IRQ 0-7) and 0x28 (IRQ 8-15)",
        "hda: QEMU HARDDISK",
        " hda: hda1 hda2",
        "VFS: Mounted root (ext2 filesystem) readonly on device hda1.",
        MOTD_LINE,
        "Run /sbin/init as init process",
        "/ # ",
    ] {
        assert!(
            console.contains(line),
            "{line:?} missing; QEMU's console:\n{console}"
        );
    }
}
