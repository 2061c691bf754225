//! Builds the guest artifacts the emulator embeds: the BIOS ROM.
//!
//! The firmware crate (`firmware/`) is built by a nested cargo with its own
//! target directory (sharing the outer one would deadlock on its lock) and
//! without the outer build's compiler flags and wrappers. Its ELF output is
//! turned into a flat 64 KiB image here with the `object` crate, and the
//! checksum byte at FFFF is set so that all bytes sum to zero.

use object::{Object, ObjectSection, ObjectSymbol, SectionFlags};
use std::path::{Path, PathBuf};
use std::process::Command;

const ROM_SIZE: usize = 0x1_0000;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let firmware = manifest.parent().unwrap().join("firmware");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed={}", firmware.join("src").display());
    println!(
        "cargo:rerun-if-changed={}",
        firmware.join("bios.ld").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        firmware.join("build.rs").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        firmware.join("Cargo.toml").display()
    );

    let elf = build_firmware(&firmware, &out.join("guest-target"));
    let image = flatten(&elf);
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

/// Runs the nested cargo build and returns the ELF it produced.
fn build_firmware(dir: &Path, target_dir: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(dir)
        .args(["build", "--release", "--target-dir"])
        .arg(target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_PROFILE_RELEASE_LTO")
        .status()
        .expect("run cargo for the firmware");
    assert!(status.success(), "building the firmware failed");
    target_dir.join("release").join("bios")
}

/// Lays the ELF's loadable sections out at their addresses (offsets in
/// segment F000) in a 64 KiB image, unused bytes 0xFF, checksum last.
fn flatten(elf: &Path) -> Vec<u8> {
    let data = std::fs::read(elf).expect("read the firmware ELF");
    let file = object::File::parse(&*data).expect("parse the firmware ELF");
    let mut image = vec![0xFFu8; ROM_SIZE];
    for section in file.sections() {
        let alloc = match section.flags() {
            SectionFlags::Elf { sh_flags } => sh_flags & u64::from(object::elf::SHF_ALLOC) != 0,
            _ => false,
        };
        if !alloc || section.size() == 0 {
            continue;
        }
        let bytes = section.data().expect("section data");
        let start = section.address() as usize;
        let end = start + bytes.len();
        assert!(
            end <= ROM_SIZE,
            "firmware section {} ends at {end:#x}, past the 64 KiB ROM",
            section.name().unwrap_or("?")
        );
        image[start..end].copy_from_slice(bytes);
    }
    let sum = image[..ROM_SIZE - 1]
        .iter()
        .fold(0u8, |s, &b| s.wrapping_add(b));
    image[ROM_SIZE - 1] = sum.wrapping_neg();
    image
}
