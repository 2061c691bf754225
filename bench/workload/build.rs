//! Links the workload with `kernel.ld` as a freestanding static ELF.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie"] {
        println!("cargo:rustc-link-arg={arg}");
    }
    println!("cargo:rustc-link-arg=-Wl,-T,{dir}/kernel.ld");
    println!("cargo:rustc-link-arg=-Wl,--gc-sections");
    println!("cargo:rerun-if-changed=kernel.ld");
}
