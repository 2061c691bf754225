//! The inputs (`@name` artifacts) of the default recipe as this build
//! made them: the boot loader, the kernel, and the user programs
//! (`guest-kernel/user`), for tests that build variants of the default
//! image with `disk_images::build_image`.

use disk_images::Recipe;
use emulator::artifacts::{KERNEL, MBR, STAGE2, USER_BIN_DIR};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Every input `recipe` names, from this build's artifacts: `mbr`,
/// `stage2`, `kernel`, and any other name is the user program of that
/// name in [`USER_BIN_DIR`].
pub fn default_image_inputs(recipe: &Recipe) -> HashMap<String, PathBuf> {
    recipe
        .inputs()
        .into_iter()
        .map(|name| {
            let path = match name.as_str() {
                "mbr" => PathBuf::from(MBR),
                "stage2" => PathBuf::from(STAGE2),
                "kernel" => PathBuf::from(KERNEL),
                program => Path::new(USER_BIN_DIR).join(program),
            };
            (name, path)
        })
        .collect()
}
