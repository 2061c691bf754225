//! Building guest code with a nested cargo, and flattening ELF output.
//!
//! Guest crates (firmware, boot loader, kernel) are their own cargo
//! workspaces with their own `.cargo/config.toml` (target, code model,
//! linker script). The nested cargo gets its own target directory (sharing
//! the outer one would deadlock on its lock) under the outer profile's
//! directory, so a second build with nothing changed rebuilds nothing, and
//! none of the outer build's compiler flags or wrappers.

use object::{Object, ObjectSection, SectionFlags};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where nested builds keep their output: `target/<profile>/guest/<name>`.
pub fn target_dir(name: &str) -> PathBuf {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // OUT_DIR is target/<profile>/build/<crate>-<hash>/out.
    let profile_dir = out
        .ancestors()
        .nth(3)
        .expect("OUT_DIR is target/<profile>/build/<crate>-<hash>/out");
    profile_dir.join("guest").join(name)
}

/// Tells cargo to rerun the build script when anything in `dir` but its
/// `target` directory changes.
pub fn watch(dir: &Path) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("guest sources {}: {e}", dir.display()));
    for entry in entries.flatten() {
        if entry.file_name() != "target" {
            println!("cargo:rerun-if-changed={}", entry.path().display());
        }
    }
}

/// Runs `cargo build --release` in the guest workspace `dir` and returns
/// the release output directory (`<target>/release`, or
/// `<target>/<triple>/release` when the guest's config sets a target).
pub fn cargo_build(dir: &Path, name: &str) -> PathBuf {
    let target = target_dir(name);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(dir)
        .args(["build", "--release", "--target-dir"])
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_PROFILE_RELEASE_LTO")
        .status()
        .unwrap_or_else(|e| panic!("run cargo for {}: {e}", dir.display()));
    assert!(status.success(), "building {} failed", dir.display());
    let triple = target.join("x86_64-unknown-linux-gnu").join("release");
    if triple.is_dir() {
        triple
    } else {
        target.join("release")
    }
}

/// The ELF's allocated sections laid out at their addresses relative to
/// `base`, gaps and the tail up to the last section's end filled with
/// `fill`. Sections without file contents (`.bss`) add nothing: the
/// loader zeroes them.
pub fn flatten(elf: &Path, base: u64, fill: u8) -> Vec<u8> {
    let data = std::fs::read(elf).unwrap_or_else(|e| panic!("read {}: {e}", elf.display()));
    let file =
        object::File::parse(&*data).unwrap_or_else(|e| panic!("parse {}: {e}", elf.display()));
    let mut image = Vec::new();
    for section in file.sections() {
        let alloc = match section.flags() {
            SectionFlags::Elf { sh_flags } => sh_flags & u64::from(object::elf::SHF_ALLOC) != 0,
            _ => false,
        };
        let nobits = section.kind() == object::SectionKind::UninitializedData;
        if !alloc || nobits || section.size() == 0 {
            continue;
        }
        let bytes = section.data().expect("section data");
        let start = section
            .address()
            .checked_sub(base)
            .unwrap_or_else(|| panic!("{}: section below the base {base:#x}", elf.display()))
            as usize;
        let end = start + bytes.len();
        if image.len() < end {
            image.resize(end, fill);
        }
        image[start..end].copy_from_slice(bytes);
    }
    image
}
