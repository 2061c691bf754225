//! `emu test` on the default image: the project's boot tests as session
//! files (`tests/sessions/`), run the way CI runs them: boot once, save a
//! snapshot, run the console sessions from it. Also: determinism, refused
//! snapshots, parallel runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn sessions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/sessions")
}

fn session(name: &str) -> String {
    sessions().join(name).to_str().unwrap().to_string()
}

fn emu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emu"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("emu runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A directory that lives as long as the test process.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// The default image booted to the console, saved once for all tests.
fn booted_snapshot() -> &'static Path {
    static SNAP: OnceLock<PathBuf> = OnceLock::new();
    SNAP.get_or_init(|| {
        let snap = scratch().join("booted.snap");
        let out = emu(&[
            "test",
            "--serial",
            "none",
            "--session",
            &session("boot.session"),
            "--save-snapshot",
            snap.to_str().unwrap(),
            "--snapshot-on",
            r"Run /sbin/init.*\n",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("snapshot saved to"));
        snap
    })
}

/// Runs the console session from the booted snapshot; returns the output
/// and the serial log.
fn console_from(snapshot: &Path, log_name: &str, extra: &[&str]) -> (Output, Vec<u8>) {
    let log = scratch().join(log_name);
    let mut args = vec![
        "test",
        "--serial",
        "none",
        "--load-snapshot",
        snapshot.to_str().unwrap(),
        "--session",
        sessions().join("console.session").to_str().unwrap(),
        "--serial-log",
        log.to_str().unwrap(),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = emu(&refs);
    let log = std::fs::read(&log).unwrap_or_default();
    (out, log)
}

#[test]
fn the_boot_session_passes_and_repeats_byte_for_byte() {
    let logs: Vec<Vec<u8>> = ["boot1.log", "boot2.log"]
        .iter()
        .map(|name| {
            let log = scratch().join(name);
            let out = emu(&[
                "test",
                "--serial",
                "none",
                "--session",
                &session("boot.session"),
                "--serial-log",
                log.to_str().unwrap(),
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            std::fs::read(&log).unwrap()
        })
        .collect();

    assert!(text(&logs[0]).contains("POST 1.0"), "{}", text(&logs[0]));
    assert!(text(&logs[0]).contains("Run /sbin/init as init process"));
    assert_eq!(
        logs[0], logs[1],
        "the virtual clock makes runs repeat exactly"
    );
}

#[test]
fn a_snapshot_round_trip_runs_the_console_session_from_the_booted_state() {
    let snap = booted_snapshot();

    let (first, log1) = console_from(snap, "console1.log", &[]);
    let (second, log2) = console_from(snap, "console2.log", &[]);

    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let log = text(&log1);
    assert!(!log.contains("POST"), "starts booted, no firmware: {log}");
    assert!(log.contains("Linux localhost 0.1.0"), "{log}");
    assert!(log.contains("nosuchcommand: not found"), "{log}");
    assert_eq!(log1, log2, "a loaded snapshot runs the same way every time");
    let size = std::fs::metadata(snap).unwrap().len();
    assert!(size < 8 << 20, "RAM is stored sparsely: {size} bytes");
}

/// A copy of the booted snapshot, changed by `edit`.
fn damaged(name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(booted_snapshot()).unwrap();
    edit(&mut bytes);
    let path = scratch().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[track_caller]
fn assert_refused(snapshot: &Path, extra: &[&str], why: &str) {
    let (out, _) = console_from(snapshot, "refused.log", extra);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains(why), "expected {why:?} in: {err}");
}

#[test]
fn a_corrupted_snapshot_is_refused() {
    let snap = damaged("corrupt.snap", |b| {
        let mid = b.len() / 2;
        b[mid] ^= 0x55;
    });
    let junit = scratch().join("refused.xml");

    assert_refused(
        &snap,
        &["--junit", junit.to_str().unwrap()],
        "corrupted (checksum mismatch)",
    );
    let xml = std::fs::read_to_string(junit).unwrap();
    assert!(xml.contains("failures=\"0\" errors=\"1\""), "{xml}");
    assert!(
        xml.contains("<error type=\"host-error\" message=\"snapshot "),
        "{xml}"
    );
}

#[test]
fn a_truncated_snapshot_is_refused() {
    let snap = damaged("short.snap", |b| b.truncate(b.len() - 100));
    assert_refused(&snap, &[], "truncated");
}

#[test]
fn a_snapshot_from_another_build_is_refused() {
    // Bytes 12..28 hold the build id.
    let snap = damaged("other-build.snap", |b| b[12] = b'x');
    assert_refused(&snap, &[], "written by another emu build");
}

#[test]
fn a_file_that_is_not_a_snapshot_is_refused() {
    let snap = damaged("garbage.snap", |b| b[..8].copy_from_slice(b"GARBAGE!"));
    assert_refused(&snap, &[], "not a snapshot file");
}

#[test]
fn a_snapshot_for_another_machine_is_refused() {
    assert_refused(
        booted_snapshot(),
        &["--mem", "128M"],
        "RAM size in bytes: the snapshot has 268435456, this machine has 134217728",
    );
}

#[test]
fn a_snapshot_over_a_changed_base_image_is_refused() {
    let image = scratch().join("changed.img");
    std::fs::copy(emulator::artifacts::DEFAULT_IMAGE, &image).unwrap();
    let snap = scratch().join("changed.snap");
    let out = emu(&[
        "test",
        "--serial",
        "none",
        image.to_str().unwrap(),
        "--expect",
        "Run /sbin/init",
        "--save-snapshot",
        snap.to_str().unwrap(),
        "--snapshot-on",
        r"Run /sbin/init.*\n",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut bytes = std::fs::read(&image).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&image, bytes).unwrap();

    assert_refused(
        &snap,
        &[image.to_str().unwrap()],
        "the image is not the one the snapshot was taken from",
    );
}

#[test]
fn parallel_runs_from_one_snapshot_do_not_interfere() {
    let snap = booted_snapshot();
    let image_before = std::fs::read(emulator::artifacts::DEFAULT_IMAGE).unwrap();

    let runs: Vec<(Output, Vec<u8>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| s.spawn(move || console_from(snap, &format!("par{i}.log"), &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    for (out, log) in &runs {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(log, &runs[0].1, "every run sees the same machine");
    }
    let image_after = std::fs::read(emulator::artifacts::DEFAULT_IMAGE).unwrap();
    assert!(
        image_before == image_after,
        "copy-on-write: the image never changes"
    );
}

#[test]
fn emu_run_saves_and_loads_snapshots_too() {
    let snap = scratch().join("run.snap");
    let saved = emu(&[
        "run",
        "--serial",
        "none",
        "--disk",
        &format!("{},snapshot", emulator::artifacts::DEFAULT_IMAGE),
        "--save-snapshot",
        snap.to_str().unwrap(),
        "--snapshot-after",
        "2000000",
        "--max-instructions",
        "3000000",
    ]);
    assert_eq!(saved.status.code(), Some(8), "{}", text(&saved.stderr));
    // Saved at the first slice boundary at or after the count (a block
    // may run a few instructions past it).
    assert!(text(&saved.stderr).contains("emu: snapshot saved to"));

    let resumed = emu(&[
        "run",
        "--serial",
        "none",
        "--disk",
        &format!("{},snapshot", emulator::artifacts::DEFAULT_IMAGE),
        "--load-snapshot",
        snap.to_str().unwrap(),
        "--max-instructions",
        "3000000",
    ]);

    assert_eq!(resumed.status.code(), Some(8), "{}", text(&resumed.stderr));
}

/// Runs the default image to `limit` instructions with `extra` options
/// and returns the serial output.
fn run_to(limit: &str, log: &str, extra: &[&str]) -> Vec<u8> {
    let log = scratch().join(log);
    let serial = format!("file:{}", log.display());
    let disk = format!("{},snapshot", emulator::artifacts::DEFAULT_IMAGE);
    let mut args = vec![
        "run",
        "--serial",
        &serial,
        "--disk",
        &disk,
        "--max-instructions",
        limit,
    ];
    args.extend_from_slice(extra);
    let out = emu(&args);
    assert_eq!(out.status.code(), Some(8), "{}", text(&out.stderr));
    std::fs::read(log).unwrap()
}

#[test]
fn a_resumed_run_goes_on_exactly_as_the_saved_one_did() {
    // In the firmware, in stage 2, and in the middle of the kernel's boot
    // (disk reads, interrupts, serial output in flight).
    for at in ["1000000", "5000000", "10600000"] {
        let snap = scratch().join(format!("at-{at}.snap"));
        let snap = snap.to_str().unwrap();
        let saving = run_to(
            "10700000",
            &format!("saving-{at}.log"),
            &["--save-snapshot", snap, "--snapshot-after", at],
        );
        let resumed = run_to(
            "10700000",
            &format!("resumed-{at}.log"),
            &["--load-snapshot", snap],
        );

        assert!(!resumed.is_empty(), "output after {at}");
        assert!(
            saving.ends_with(&resumed),
            "after a load at {at}, the output is what the saving run printed next:\n{}\n---\n{}",
            text(&saving),
            text(&resumed)
        );
    }
}

#[test]
fn a_session_step_saves_a_snapshot_that_later_sessions_start_from() {
    let dir = scratch().join("step");
    std::fs::create_dir_all(&dir).unwrap();
    let saving = dir.join("save.session");
    std::fs::write(
        &saving,
        "expect / # \nsend uname\\r\nexpect Linux\\r?\\n\nsnapshot after-uname.snap\n",
    )
    .unwrap();
    let resuming = dir.join("resume.session");
    std::fs::write(&resuming, "send echo resumed\\r\nexpect resumed\\r?\\n\n").unwrap();

    let saved = emu(&[
        "test",
        "--serial",
        "none",
        "--session",
        saving.to_str().unwrap(),
    ]);
    let snap = dir.join("after-uname.snap");
    let log = dir.join("resume.log");
    let resumed = emu(&[
        "test",
        "--serial",
        "none",
        "--load-snapshot",
        snap.to_str().unwrap(),
        "--session",
        resuming.to_str().unwrap(),
        "--serial-log",
        log.to_str().unwrap(),
    ]);

    assert_eq!(saved.status.code(), Some(0), "{}", text(&saved.stderr));
    assert!(snap.exists(), "the path is relative to the session file");
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("echo resumed"), "{log}");
    assert!(
        !log.contains("Linux"),
        "starts after the saved point: {log}"
    );
}
