//! Links the kernel with `kernel.ld` as a freestanding static ELF.
//!
//! With `KERNEL_HOST_TEST` set, nothing is added: that is the host build of
//! the kernel's unit tests (`tests/tests/kernel_unit.rs`), an ordinary
//! program linked with std's test harness.

fn main() {
    println!("cargo:rerun-if-changed=kernel.ld");
    println!("cargo:rerun-if-env-changed=KERNEL_HOST_TEST");
    if std::env::var_os("KERNEL_HOST_TEST").is_some() {
        return;
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie"] {
        println!("cargo:rustc-link-arg={arg}");
    }
    println!("cargo:rustc-link-arg=-Wl,-T,{dir}/kernel.ld");
    println!("cargo:rustc-link-arg=-Wl,--gc-sections");
}
