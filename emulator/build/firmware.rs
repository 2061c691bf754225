//! The BIOS: the firmware crate's ELF turned into a flat 64 KiB image
//! (unused bytes 0xFF), with the checksum byte at FFFF set so that all
//! bytes sum to zero, and its symbol table for tests.

use crate::guest;
use object::{Object, ObjectSymbol};
use std::path::Path;

const ROM_SIZE: usize = 0x1_0000;

pub fn build(dir: &Path, out: &Path) {
    guest::watch(dir);
    let elf = guest::cargo_build(dir, "firmware").join("bios");
    let mut image = guest::flatten(&elf, 0, 0xFF);
    assert!(
        image.len() <= ROM_SIZE,
        "the firmware is {} bytes, past the 64 KiB ROM",
        image.len()
    );
    image.resize(ROM_SIZE, 0xFF);
    let sum = image[..ROM_SIZE - 1]
        .iter()
        .fold(0u8, |s, &b| s.wrapping_add(b));
    image[ROM_SIZE - 1] = sum.wrapping_neg();
    std::fs::write(out.join("bios.bin"), image).expect("write bios.bin");
    std::fs::write(out.join("bios.sym"), symbols(&elf)).expect("write bios.sym");
}

/// The firmware's global symbols, one "name offset" line each (offsets in
/// hex, in segment F000), sorted by name.
fn symbols(elf: &Path) -> String {
    let data = std::fs::read(elf).expect("read the firmware ELF");
    let file = object::File::parse(&*data).expect("parse the firmware ELF");
    let mut lines: Vec<String> = file
        .symbols()
        .filter(|s| s.is_global() && !s.is_undefined() && s.section_index().is_some())
        .filter_map(|s| Some(format!("{} {:x}\n", s.name().ok()?, s.address())))
        .collect();
    lines.sort();
    lines.concat()
}
