//! The BIOS disk services: ATA detection and int 13h, driven by boot
//! programs on a pattern disk (see `integration_tests::bootdisk`).

use emulator::devices::disk::DiskMode;
use emulator::machine::Outcome;
use iced_x86::code_asm::*;
use integration_tests::bootdisk::{self, pattern_image, program, run, sectors};

/// 4 MiB: 8192 sectors, 8 cylinders of 16 heads * 63 sectors (8064).
const SECTORS: u64 = 8192;

fn disk(mode: DiskMode) -> (tempfile::NamedTempFile, (std::path::PathBuf, DiskMode)) {
    let f = pattern_image(SECTORS);
    let p = f.path().to_path_buf();
    (f, (p, mode))
}

/// The serial output from the program's first line on (POST may print
/// its own lines, and detect the drives too, before the program runs).
fn tail<'a>(serial: &'a str, first: &str) -> &'a str {
    let at = serial.rfind(first).unwrap_or_else(|| panic!("{first:?} not in {serial:?}"));
    &serial[at..]
}

#[test]
fn detection_names_each_drive_and_sets_the_bda_count() {
    let (_a, da) = disk(DiskMode::Snapshot);
    let (_b, db) = disk(DiskMode::Snapshot);
    let code = program(|a| bootdisk::exit(a));
    let r = run(&code, &[da, db], b"", &[]);
    assert_eq!(r.outcome, Outcome::Exit(1));
    assert_eq!(
        tail(&r.serial, "ATA0 master"),
        "ATA0 master: EMU HARDDISK 4 MiB, LBA48\r\nATA0 slave: EMU HARDDISK 4 MiB, LBA48\r\n"
    );
    assert_eq!(r.ram[0x475], 2, "BDA hard disk count");
    assert_eq!(r.ram[0x474], 0, "BDA last status");
}
