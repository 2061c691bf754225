//! The guest kernel's unit tests (`#[cfg(test)]` modules beside its code:
//! the elevator, partition parsing, IDENTIFY decoding, ...) run on the
//! host: the kernel crate is `no_std` only outside `cfg(test)`, and its
//! build script leaves out the freestanding link arguments when
//! `KERNEL_HOST_TEST` is set. This test builds and runs them with a nested
//! cargo (its own target directory, without the guest code-generation
//! flags) and fails with their output if any fails.

use std::path::Path;
use std::process::Command;

#[test]
fn guest_kernel_unit_tests_pass_on_the_host() {
    let kernel = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-kernel");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kernel-unit");

    let out = Command::new(env!("CARGO"))
        .current_dir(&kernel)
        .args(["test", "--target-dir"])
        .arg(&target)
        .env("KERNEL_HOST_TEST", "1")
        // Empty flags replace the guest's (static, code-model=kernel) from
        // its .cargo/config.toml: the tests link as an ordinary program.
        .env("CARGO_ENCODED_RUSTFLAGS", "")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("run cargo test in guest-kernel");

    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let ran: usize = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert!(ran > 0, "no kernel unit test ran:\n{stdout}");
}
