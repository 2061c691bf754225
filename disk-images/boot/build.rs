//! Links `mbr` and `stage2` as freestanding static images, each with its
//! own linker script (`mbr.ld`, `stage2.ld`).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie"] {
        println!("cargo:rustc-link-arg={arg}");
    }
    println!("cargo:rustc-link-arg-bin=mbr=-Wl,-T,{dir}/mbr.ld");
    println!("cargo:rustc-link-arg-bin=stage2=-Wl,-T,{dir}/stage2.ld");
    println!("cargo:rerun-if-changed=mbr.ld");
    println!("cargo:rerun-if-changed=stage2.ld");
    println!("cargo:rerun-if-changed=src");
}
