//! Builds the guest artifacts: the BIOS ROM the emulator embeds, and the
//! default disk image `emu` boots (boot loader, kernel, root file system).
//!
//! - [`guest`]: the nested cargo builds and ELF flattening they share.
//! - [`firmware`]: the 64 KiB BIOS image with its checksum and symbols.
//! - [`image`]: MBR, stage 2 and kernel, put together by the image builder
//!   (`disk-images`) from `disk-images/recipes/default.toml`.
//! - [`buildid`]: the hash that ties a snapshot to the build that wrote it.

mod buildid;
mod firmware;
mod guest;
mod image;

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap();
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=build");
    firmware::build(&root.join("firmware"), &out);
    image::build(root, &out);
    buildid::build(&manifest, &out);
}
