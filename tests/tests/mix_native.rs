//! `mix` (`guest-kernel/user/src/bin/mix.rs`), the peers benchmark's
//! compile-like guest workload, on this host's Linux: it ends with
//! `mix: N rounds, checksum XXXXXXXX`, the checksum is the same from run to
//! run and depends on the rounds, and a failing step fails the run. (The
//! guest prints the same checksum: `tests/tests/mix_guest.rs`.)

use emulator::artifacts::USER_BIN_DIR;
use std::path::Path;
use std::process::{Command, Output};

fn mix(args: &[&str]) -> Output {
    Command::new(Path::new(USER_BIN_DIR).join("mix"))
        .args(args)
        .output()
        .expect("run mix")
}

/// The checksum of a successful run with `rounds`, after checking the
/// output is exactly the final line.
fn checksum(rounds: &str) -> String {
    let out = mix(&["--bin", USER_BIN_DIR, rounds]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mix {rounds} failed ({}): {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "mix wrote to stderr");
    let prefix = format!("mix: {rounds} rounds, checksum ");
    let sum = stdout
        .strip_prefix(&prefix)
        .and_then(|s| s.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("output {stdout:?} is not {prefix:?} and a checksum"));
    assert!(
        sum.len() == 8
            && sum
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "checksum {sum:?} is not 8 lower-case hex digits"
    );
    sum.to_string()
}

#[test]
fn mix_prints_the_same_checksum_every_run() {
    let first = checksum("20");
    assert_eq!(checksum("20"), first);
    assert_ne!(
        checksum("3"),
        first,
        "the rounds do not change the checksum"
    );
}

#[test]
fn mix_fails_when_its_programs_are_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = mix(&["--bin", &dir.path().display().to_string(), "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "printed a checksum anyway");
    assert!(String::from_utf8_lossy(&out.stderr).contains("mix: round 0: "));
}

#[test]
fn mix_rejects_bad_usage() {
    for args in [&["many"][..], &["--bin"]] {
        let out = mix(args);
        assert_eq!(out.status.code(), Some(2), "mix {args:?}");
        assert!(!out.stderr.is_empty(), "mix {args:?} said nothing");
    }
}
