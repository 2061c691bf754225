//! `mix` as PID 1 in the guest (`init=/bin/mix panic=exit`, the peers
//! benchmark's guest workload) prints the same checksum as the same binary
//! run natively: it reads the user programs, the same files in the image
//! and in the build's output directory, and the output of pipelines of
//! them. When it exits, the kernel panics ("Attempted to kill init") and
//! leaves through the exit port.

use disk_images::{build_image, Recipe};
use emulator::artifacts::{RECIPE, USER_BIN_DIR};
use emulator::machine::Outcome;
use integration_tests::guestboot::{boot, Boot};
use integration_tests::imageinputs::default_image_inputs;
use std::path::Path;
use std::process::Command;

const LIMIT: u64 = 4_000_000_000;

#[test]
fn mix_in_the_guest_prints_the_native_checksum() {
    let native = Command::new(Path::new(USER_BIN_DIR).join("mix"))
        .args(["--bin", USER_BIN_DIR])
        .output()
        .expect("run mix natively");
    assert!(native.status.success(), "mix failed natively");
    let expected = String::from_utf8_lossy(&native.stdout).trim().to_string();
    assert!(
        expected.starts_with("mix: 20 rounds, checksum "),
        "native output {expected:?}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let mut recipe = Recipe::load(Path::new(RECIPE)).expect("the default recipe");
    recipe.set_cmdline("root=/dev/hda1 console=ttyS0 loglevel=7 init=/bin/mix panic=exit");
    let image = dir.path().join("mix.img");
    build_image(&recipe, &default_image_inputs(&recipe), &image).expect("build the image");

    let run = boot(Boot::Disk, &[&image], None, LIMIT);
    run.expect("Run /bin/mix as init process");
    run.expect(&expected);
    run.expect("Attempted to kill init! exitcode=0x00000000");
    assert_eq!(run.outcome, Outcome::Exit(3), "panic=exit's exit status");
    assert!(
        !run.serial.contains("mix: round"),
        "a step failed:\n{}",
        run.serial
    );
}
