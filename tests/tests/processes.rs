//! User space on the guest kernel (issue 7): boot an image whose
//! `/sbin/init` is the shell, type sessions into the serial console on
//! the virtual clock, and check what comes back. `ktest` (the kernel's
//! own in-guest checks, `guest-kernel/tests-user`) covers EFAULT, ENOEXEC,
//! fork/exec/wait statuses, pipes, preemption and SCHED_FIFO.
//!
//! The image is the default recipe (with `/sbin/init`, the shell and the
//! utilities) plus `ktest`, built here with a nested cargo, and two broken
//! executables.

use disk_images::recipe::{Entry, EntryKind, Source};
use disk_images::{build_image, Recipe};
use emulator::artifacts::{KERNEL, MBR, RECIPE, STAGE2, USER_BIN_DIR};
use integration_tests::console::{session, step, Step};
use integration_tests::guestboot::BootRun;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const LIMIT: u64 = 4_000_000_000;
/// The end of the shell's prompt (`CWD # `).
const PROMPT: &str = "# ";

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds a guest cargo project (release) and returns its output directory.
fn build_guest(dir: &str) -> PathBuf {
    let manifest = root().join(dir).join("Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // From its own directory, so its `.cargo/config.toml` (target, flags)
    // applies.
    let status = Command::new(cargo)
        .current_dir(root().join(dir))
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

/// The test image, built once per test binary: the default recipe (init,
/// the shell and the utilities from `USER_BIN_DIR`) plus `ktest` and two
/// broken executables.
fn image() -> &'static Path {
    static IMAGE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = IMAGE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut recipe = Recipe::load(Path::new(RECIPE)).expect("the default recipe");
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
        // Every other input is a user program of that name.
        let mut inputs: HashMap<String, PathBuf> = recipe
            .inputs()
            .into_iter()
            .map(|name| {
                let path = Path::new(USER_BIN_DIR).join(&name);
                (name, path)
            })
            .collect();
        for (name, path) in [("mbr", MBR), ("stage2", STAGE2), ("kernel", KERNEL)] {
            inputs.insert(name.to_string(), PathBuf::from(path));
        }
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
    // Up to the line the next prompt (`CWD # `) starts.
    let end = rest.find(PROMPT).unwrap_or(rest.len());
    &rest[..rest[..end].rfind('\n').map_or(0, |i| i + 1)]
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

    assert!(
        !text.contains("Failed to execute"),
        "init did not start:\n{text}"
    );
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
    assert_eq!(letters.len(), 80, "{out}");
}

#[test]
fn sched_fifo_runs_ahead_of_sched_other() {
    let out = ktest("fifo");
    assert!(out.contains("FFFFFFFFFF"), "{out}");
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

#[test]
fn usertests_passes_inside_the_guest() {
    let (_, text) = run(&[step(PROMPT, b"usertests\n")]);
    let out = output_of(&text, "usertests");
    let last = out.lines().last().unwrap_or("");
    assert!(
        last.starts_with("usertests: ") && last.ends_with(" passed, 0 failed"),
        "usertests in the guest:\n{out}"
    );
}

#[test]
fn ctrl_d_ends_the_input_of_a_reader() {
    let (_, text) = run(&[
        step(PROMPT, b"wc -c\n"),
        step("wc -c\r\n", b"hello\n"),
        step("hello\r\n", b"ab\x04"),
        step("ab", b"\x04"),
    ]);
    // "hello\n" and "ab" (read at the first ^D): 8 bytes; the second ^D,
    // at the start of a line, is end of file. wc's count follows the echo
    // of "ab", as on Linux.
    let out = output_of(&text, "wc -c");
    assert_eq!(out.lines().last().map(str::trim), Some("ab8"), "{out}");
}

#[test]
fn raw_mode_reads_a_byte_without_a_newline() {
    let (_, text) = run(&[step(PROMPT, b"ktest raw\n"), step("raw>", b"x")]);
    let out = output_of(&text, "ktest raw");
    assert!(out.contains("ok   the byte = 120"), "{out}");
    assert!(out.contains("ktest: PASS"), "{out}");
}
