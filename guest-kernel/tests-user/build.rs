//! Links every program as a freestanding static ELF: no C runtime, no C
//! library, fixed addresses (the linker's default layout at 0x400000).

fn main() {
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--gc-sections",
        "-Wl,--build-id=none",
    ] {
        println!("cargo:rustc-link-arg={arg}");
    }
}
