//! Links the test kernel with `kernel.ld` as a freestanding static ELF.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    for arg in ["-nostartfiles", "-nostdlib", "-static", "-no-pie"] {
        println!("cargo:rustc-link-arg={arg}");
    }
    println!("cargo:rustc-link-arg=-Wl,-T,{dir}/kernel.ld");
    println!("cargo:rerun-if-changed=kernel.ld");
    if std::env::var_os("CARGO_FEATURE_BIG").is_some() {
        // A pattern no two pages share, and its byte sum for the kernel.
        let blob: Vec<u8> = (0..3u32 << 20)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let sum = blob.iter().fold(0u32, |s, &b| s.wrapping_add(u32::from(b)));
        let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
        std::fs::write(format!("{out}/big.bin"), &blob).expect("write big.bin");
        println!("cargo:rustc-env=BIG_SUM={sum}");
    }
}
