//! The disk images the bench boots: the default image; the CPU image —
//! the default recipe with `/boot/kernel` replaced by the workload kernel
//! (`bench/workload`, built here with a nested cargo) and `/boot/cmdline`
//! set to `iterations=N`; and the guest-workload images — the default
//! recipe with `init=PROGRAM panic=exit` added to `/boot/cmdline`.

use disk_images::{build_image, Recipe};
use emulator::artifacts::{KERNEL, MBR, RECIPE, STAGE2, USER_BIN_DIR};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workload kernel's source directory.
fn workload_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/workload")
}

/// Builds the workload kernel as `emulator/build/guest.rs` builds guest
/// code: `cargo build --release` in its own workspace, its own target
/// directory (`target/<profile>/guest/bench`, next to the `emu` binary),
/// none of the outer build's flags. Returns the ELF's path.
pub fn build_workload() -> Result<PathBuf, String> {
    let emu = Path::new(env!("CARGO_BIN_EXE_emu"));
    let target = emu
        .parent()
        .ok_or("the emu binary has no directory")?
        .join("guest")
        .join("bench");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workload_dir())
        .args(["build", "--release", "--quiet", "--target-dir"])
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
        .map_err(|e| format!("running cargo for bench/workload: {e}"))?;
    if !status.success() {
        return Err(format!("building bench/workload failed ({status})"));
    }
    let elf = target.join("x86_64-unknown-linux-gnu/release/workload");
    if elf.is_file() {
        Ok(elf)
    } else {
        Err(format!("{} was not built", elf.display()))
    }
}

/// The default recipe with the workload as `/boot/kernel` and
/// `iterations=N` as its command line, built into `dir`.
pub fn cpu_image(dir: &Path, workload: &Path, iterations: u64) -> Result<PathBuf, String> {
    let mut recipe = Recipe::load(Path::new(RECIPE)).map_err(|e| format!("{RECIPE}: {e}"))?;
    recipe.set_cmdline(&format!("iterations={iterations}"));
    let inputs: HashMap<String, PathBuf> = [("mbr", MBR), ("stage2", STAGE2), ("kernel", KERNEL)]
        .into_iter()
        .map(|(name, path)| (name.to_string(), PathBuf::from(path)))
        .chain([("kernel".to_string(), workload.to_path_buf())])
        .collect();
    let out = dir.join(format!("cpu-{iterations}.img"));
    build_image(&recipe, &inputs, &out).map_err(|e| format!("building {}: {e}", out.display()))?;
    Ok(out)
}

/// The default image's kernel command line (`/boot/cmdline` in
/// `disk-images/recipes/default.toml`).
const DEFAULT_CMDLINE: &str = "root=/dev/hda1 console=ttyS0 loglevel=7";

/// The default recipe with `init=PROGRAM panic=exit` added to its command
/// line, built into `dir` from this build's artifacts: `PROGRAM` runs as
/// PID 1 right after the boot, and when it exits the kernel panics
/// ("Attempted to kill init") and leaves through the exit port.
pub fn init_image(dir: &Path, program: &str) -> Result<PathBuf, String> {
    let mut recipe = Recipe::load(Path::new(RECIPE)).map_err(|e| format!("{RECIPE}: {e}"))?;
    recipe.set_cmdline(&format!("{DEFAULT_CMDLINE} init={program} panic=exit"));
    // As tests/src/imageinputs.rs: the boot files, and every other input
    // is the user program of its name.
    let inputs: HashMap<String, PathBuf> = recipe
        .inputs()
        .into_iter()
        .map(|name| {
            let path = match name.as_str() {
                "mbr" => PathBuf::from(MBR),
                "stage2" => PathBuf::from(STAGE2),
                "kernel" => PathBuf::from(KERNEL),
                other => Path::new(USER_BIN_DIR).join(other),
            };
            (name, path)
        })
        .collect();
    let name = program.rsplit('/').next().unwrap_or(program);
    let out = dir.join(format!("init-{name}.img"));
    build_image(&recipe, &inputs, &out).map_err(|e| format!("building {}: {e}", out.display()))?;
    Ok(out)
}
