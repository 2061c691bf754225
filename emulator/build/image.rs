//! The default disk image: the boot loader (`disk-images/boot`: MBR and
//! stage 2), the kernel (`guest-kernel`) and the user programs
//! (`guest-kernel/user`: `init`, `sh`, the utilities, `usertests`) built by
//! nested cargo, then put together with the root tree by the image builder
//! (`disk-images`) from `disk-images/recipes/default.toml`, where each
//! program is the input `@<name>`.
//!
//! The paths of what it makes reach the crate as compile-time variables
//! (`EMU_DEFAULT_IMAGE`, `EMU_KERNEL`, ...; see `emulator::artifacts`).

use crate::guest;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where the MBR and stage 2 are linked (the flat files start there).
const MBR_BASE: u64 = 0x7C00;
const STAGE2_BASE: u64 = 0x8000;
/// Boot code bytes before the partition table.
const MBR_CODE: usize = 446;

pub fn build(root: &Path, out: &Path) {
    let images = root.join("disk-images");
    let boot_dir = images.join("boot");
    let kernel_dir = root.join("guest-kernel");
    let user_dir = kernel_dir.join("user");
    for dir in [&boot_dir, &images.join("ondisk")] {
        guest::watch(dir);
    }
    watch_kernel(&kernel_dir);
    for dir in ["recipes", "rootfs", "src"] {
        println!("cargo:rerun-if-changed={}", images.join(dir).display());
    }

    let boot = guest::cargo_build(&boot_dir, "boot");
    let mbr = guest::flatten(&boot.join("mbr"), MBR_BASE, 0);
    assert!(
        mbr.len() <= MBR_CODE,
        "the MBR code is {} bytes; only {MBR_CODE} fit before the partition table",
        mbr.len()
    );
    let stage2 = guest::flatten(&boot.join("stage2"), STAGE2_BASE, 0);
    let kernel_elf = guest::cargo_build(&kernel_dir, "kernel").join("kernel");
    let user_bin_dir = guest::cargo_build(&user_dir, "user");
    let programs = user_programs(&user_dir);

    let artifacts = out.join("guest");
    std::fs::create_dir_all(&artifacts).expect("create the artifacts directory");
    let mbr_path = artifacts.join("mbr.bin");
    let stage2_path = artifacts.join("stage2.bin");
    let kernel_path = artifacts.join("kernel");
    std::fs::write(&mbr_path, &mbr).expect("write mbr.bin");
    std::fs::write(&stage2_path, &stage2).expect("write stage2.bin");
    std::fs::copy(&kernel_elf, &kernel_path).expect("copy the kernel");

    let recipe_path = images.join("recipes").join("default.toml");
    let recipe = disk_images::Recipe::load(&recipe_path)
        .unwrap_or_else(|e| panic!("{}: {e}", recipe_path.display()));
    let mut inputs: HashMap<String, PathBuf> = [
        ("mbr", &mbr_path),
        ("stage2", &stage2_path),
        ("kernel", &kernel_path),
    ]
    .into_iter()
    .map(|(name, path)| (name.to_string(), path.clone()))
    .collect();
    for program in &programs {
        let path = user_bin_dir.join(program);
        assert!(path.is_file(), "the user build made no {}", path.display());
        inputs.insert(program.clone(), path);
    }
    let image = out.join("default.img");
    disk_images::build_image(&recipe, &inputs, &image)
        .unwrap_or_else(|e| panic!("building {}: {e}", image.display()));

    for (var, path) in [
        ("EMU_DEFAULT_IMAGE", &image),
        ("EMU_KERNEL", &kernel_path),
        ("EMU_MBR", &mbr_path),
        ("EMU_STAGE2", &stage2_path),
        ("EMU_RECIPE", &recipe_path),
        ("EMU_USER_BIN_DIR", &user_bin_dir),
    ] {
        println!("cargo:rustc-env={var}={}", path.display());
    }
}

/// Watches the kernel's sources: everything in `guest-kernel` but its
/// `target`, and the nested guest workspaces (`user`, and any other
/// directory with its own `Cargo.toml`) without their `target`, which
/// builds run from tests write to.
fn watch_kernel(kernel_dir: &Path) {
    let entries = std::fs::read_dir(kernel_dir)
        .unwrap_or_else(|e| panic!("guest sources {}: {e}", kernel_dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name() == "target" {
            continue;
        }
        if path.join("Cargo.toml").is_file() {
            guest::watch(&path);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

/// The user programs: one per `src/bin/<name>.rs`, sorted.
fn user_programs(user_dir: &Path) -> Vec<String> {
    let bin_dir = user_dir.join("src").join("bin");
    let entries = std::fs::read_dir(&bin_dir)
        .unwrap_or_else(|e| panic!("user programs {}: {e}", bin_dir.display()));
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}
