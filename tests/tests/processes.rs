//! User space on the guest kernel (issue 7): boot an image whose
//! `/sbin/init` is the shell, type sessions into the serial console on
//! the virtual clock, and check what comes back. `ktest` (the kernel's
//! own in-guest checks, `guest-kernel/tests-user`) covers EFAULT, ENOEXEC,
//! fork/exec/wait statuses, pipes, preemption and SCHED_FIFO.
//!
//! The image is the default recipe plus the user programs
//! (`guest-kernel/user`, built here with a nested cargo unless the
//! recipe already has them), `ktest`, and two broken executables.

use disk_images::recipe::{Entry, EntryKind, Source};
use disk_images::{build_image, Recipe};
use emulator::artifacts::{KERNEL, MBR, RECIPE, STAGE2};
use integration_tests::console::{session, step, Step};
use integration_tests::guestboot::BootRun;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const LIMIT: u64 = 4_000_000_000;
const PROMPT: &str = "/ # ";

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds a guest cargo project (release) and returns its output directory.
fn build_guest(dir: &str) -> PathBuf {
    let manifest = root().join(dir).join("Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("run cargo");
    assert!(status.success(), "building {dir} failed");
    root()
        .join(dir)
        .join("target/x86_64-unknown-linux-gnu/release")
}

fn file_entry(path: &str, source: PathBuf, mode: u16) -> Entry {
    Entry {
        path: path.to_string(),
        kind: EntryKind::File(Source::Path(source)),
        mode: Some(mode),
        uid: 0,
        gid: 0,
    }
}

/// The test image, built once per test binary.
fn image() -> &'static Path {
    static IMAGE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = IMAGE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut recipe = Recipe::load(Path::new(RECIPE)).expect("the default recipe");
        let has = |recipe: &Recipe, p: &str| recipe.entries.iter().any(|e| e.path == p);
        if !has(&recipe, "/sbin/init") || !has(&recipe, "/bin/sh") {
            let user = build_guest("guest-kernel/user");
            for prog in [
                "sh", "ls", "cat", "echo", "wc", "head", "grep", "ps", "kill", "sleep", "uname",
                "pwd", "env", "true", "false", "dmesg", "free", "chrt", "nice",
            ] {
                let path = format!("/bin/{prog}");
                if !has(&recipe, &path) && user.join(prog).exists() {
                    recipe.entries.push(file_entry(&path, user.join(prog), 0o755));
                }
            }
            if !has(&recipe, "/sbin/init") {
                recipe
                    .entries
                    .push(file_entry("/sbin/init", user.join("sh"), 0o755));
            }
        }
        let ktest = build_guest("guest-kernel/tests-user").join("ktest");
        recipe
            .entries
            .push(file_entry("/bin/ktest", ktest.clone(), 0o755));
        recipe.entries.push(Entry {
            path: "/bin/badelf".into(),
            kind: EntryKind::Inline(b"\x7fELF\x02\x01\x01 but nothing an ELF needs".to_vec()),
            mode: Some(0o755),
            uid: 0,
            gid: 0,
        });
        let bytes = std::fs::read(&ktest).expect("ktest");
        recipe.entries.push(Entry {
            path: "/bin/truncelf".into(),
            kind: EntryKind::Inline(bytes[..200].to_vec()),
            mode: Some(0o755),
            uid: 0,
            gid: 0,
        });
        let inputs: HashMap<String, PathBuf> =
            [("mbr", MBR), ("stage2", STAGE2), ("kernel", KERNEL)]
                .into_iter()
                .map(|(n, p)| (n.to_string(), PathBuf::from(p)))
                .collect();
        let out = dir.path().join("processes.img");
        build_image(&recipe, &inputs, &out).expect("build the test image");
        (dir, out)
    });
    path
}

/// Runs `steps` on a fresh boot and returns the console with `\r`
/// removed.
fn run(steps: &[Step]) -> (BootRun, String) {
    let run = session(&[image()], steps, PROMPT, LIMIT);
    let text = run.serial.replace('\r', "");
    (run, text)
}

/// The output of the command typed as `cmd`: from its echo to the next
/// prompt.
fn output_of<'a>(text: &'a str, cmd: &str) -> &'a str {
    let start = text
        .find(&format!("{PROMPT}{cmd}\n"))
        .unwrap_or_else(|| panic!("{cmd:?} not echoed; console:\n{text}"))
        + PROMPT.len()
        + cmd.len()
        + 1;
    let rest = &text[start..];
    &rest[..rest.find(PROMPT).unwrap_or(rest.len())]
}

#[test]
fn boots_to_a_shell_prompt_as_pid_1() {
    let (run, text) = run(&[]);
    run.expect("Run /sbin/init as init process");
    assert!(text.ends_with(PROMPT), "no prompt; console:\n{text}");
}

#[test]
fn scripted_shell_session() {
    let cmds = [
        "ls -li /",
        "echo hello | wc -c",
        "sleep 1 &",
        "ps",
        "cat /etc/motd | grep Rust | wc -l",
        "uname -a",
    ];
    let lines: Vec<String> = cmds.iter().map(|c| format!("{c}\n")).collect();
    let steps: Vec<Step> = lines.iter().map(|l| step(PROMPT, l.as_bytes())).collect();
    let (_, text) = run(&steps);

    let ls = output_of(&text, "ls -li /");
    for name in ["bin", "boot", "dev", "etc", "proc", "sbin", "tmp"] {
        assert!(
            ls.lines().any(|l| l.ends_with(&format!(" {name}"))),
            "ls -li / lacks {name}:\n{ls}"
        );
    }
    assert!(ls.lines().any(|l| l.contains("drwx")), "no modes:\n{ls}");
    assert_eq!(output_of(&text, "echo hello | wc -c").trim(), "6");
    let ps = output_of(&text, "ps");
    assert!(ps.contains("PID"), "ps header:\n{ps}");
    assert!(
        ps.lines().any(|l| l.contains("sleep 1")),
        "the background sleep is missing from ps:\n{ps}"
    );
    assert!(
        ps.lines().any(|l| l.trim_start().starts_with("1 ")),
        "init is missing from ps:\n{ps}"
    );
    // (The background job's "Done" may be reported before any prompt.)
    let count = output_of(&text, "cat /etc/motd | grep Rust | wc -l");
    assert_eq!(count.lines().next().map(str::trim), Some("1"), "{count}");
    let uname = output_of(&text, "uname -a");
    assert!(
        uname.starts_with("Linux ") && uname.contains("x86_64"),
        "uname -a: {uname}"
    );
}

/// Runs `ktest ARG` in the guest and checks it passed.
fn ktest(arg: &str) -> String {
    let line = format!("ktest {arg}\n");
    let (_, text) = run(&[step(PROMPT, line.as_bytes())]);
    let out = output_of(&text, &format!("ktest {arg}")).to_string();
    assert!(
        out.contains("ktest: PASS"),
        "ktest {arg} failed:\n{out}\nconsole:\n{text}"
    );
    out
}

#[test]
fn bad_pointers_give_efault_and_bad_elf_files_enoexec() {
    let out = ktest("fault");
    assert!(out.contains("ok   execve(/bin/badelf) = -8"), "{out}");
    assert!(out.contains("ok   write(1, 0x1, 5) = -14"), "{out}");
    assert!(out.contains("segfault at 10"), "no segfault report:\n{out}");
}

#[test]
fn two_cpu_bound_processes_share_the_cpu() {
    let out = ktest("preempt");
    let letters = out
        .lines()
        .find_map(|l| l.strip_prefix("preempt: "))
        .filter(|l| l.starts_with(['A', 'B']))
        .expect("the preempt line");
    assert_eq!(letters.len(), 120, "{out}");
}

#[test]
fn sched_fifo_runs_ahead_of_sched_other() {
    let out = ktest("fifo");
    assert!(out.contains("FFFFFFFFFFFFFFFFFFFF"), "{out}");
}

#[test]
fn ctrl_c_interrupts_the_foreground_process() {
    let (_, text) = run(&[
        step(PROMPT, b"ktest spin\n"),
        step("ktest spin\r\n", b"\x03"),
        step(PROMPT, b"echo status $?\n"),
    ]);
    let after = &text[text.find("ktest spin\n").expect("spin echoed")..];
    assert!(after.contains("^C"), "no ^C echo:\n{text}");
    assert_eq!(output_of(&text, "echo status $?").trim(), "status 130");
}

#[test]
fn proc_shows_processes_the_way_linux_does() {
    let (_, text) = run(&[
        step(PROMPT, b"cat /proc/1/stat\n"),
        step(PROMPT, b"cat /proc/1/status\n"),
        step(PROMPT, b"ls /proc\n"),
    ]);
    let stat = output_of(&text, "cat /proc/1/stat");
    let fields: Vec<&str> = stat.split_whitespace().collect();
    assert_eq!(fields[0], "1", "{stat}");
    assert_eq!(fields[1], "(init)", "{stat}");
    assert_eq!(fields[3], "0", "ppid: {stat}");
    assert_eq!(fields.len(), 44, "{stat}");
    assert_eq!(fields[40], "0", "policy (field 41): {stat}");
    let status = output_of(&text, "cat /proc/1/status");
    assert!(status.contains("Name:\tinit"), "{status}");
    assert!(status.contains("Pid:\t1"), "{status}");
    let ls = output_of(&text, "ls /proc");
    assert!(ls.split_whitespace().any(|w| w == "1"), "{ls}");
    assert!(ls.contains("meminfo") && ls.contains("uptime"), "{ls}");
}
