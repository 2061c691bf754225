//! The build id: a hash of the emulator's sources and the firmware image,
//! so a snapshot (`machine::snapshot`) only loads into the build that
//! wrote it. FNV-1a, 64 bits, over every file under `src/` (path and
//! contents, in sorted order) and the BIOS ROM; exported as `EMU_BUILD_ID`.

use std::path::{Path, PathBuf};

pub fn build(manifest: &Path, out: &Path) {
    let src = manifest.join("src");
    println!("cargo:rerun-if-changed={}", src.display());
    let mut files = Vec::new();
    collect(&src, &mut files);
    files.sort();
    let mut h = Fnv::default();
    for f in &files {
        h.write(
            f.strip_prefix(manifest)
                .unwrap_or(f)
                .to_string_lossy()
                .as_bytes(),
        );
        h.write(&std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())));
    }
    h.write(&std::fs::read(out.join("bios.bin")).expect("bios.bin is built first"));
    println!("cargo:rustc-env=EMU_BUILD_ID={:016x}", h.0);
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// FNV-1a (64-bit): small and good enough to tell builds apart.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
