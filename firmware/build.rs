//! Links the BIOS with `bios.ld` as a freestanding static image.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie"] {
        println!("cargo:rustc-link-arg={arg}");
    }
    println!("cargo:rustc-link-arg=-Wl,-T,{dir}/bios.ld");
    println!("cargo:rerun-if-changed=bios.ld");
    println!("cargo:rerun-if-changed=src");
}
