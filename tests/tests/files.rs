//! The writable root (issue 8): a copy of the default image, booted with
//! `rw` on its command line and attached read-write, gets files written
//! through the shell and the file utilities; after `poweroff` the host's
//! `e2fsck -fn` finds nothing to fix, `debugfs` reads the files back, and
//! a second boot finds them. A second test stops the machine in the
//! middle of a write-heavy workload and shows the image is still readable
//! (what `e2fsck` says is printed: repairing is the journaling issue's).

use disk_images::{build_image, Recipe};
use emulator::artifacts::{RECIPE, USER_BIN_DIR};
use emulator::machine::Outcome;
use integration_tests::guestboot::{scripted_rw, Boot, BootRun};
use integration_tests::imageinputs::default_image_inputs;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROMPT: &str = "/ # ";
const LIMIT: u64 = 12_000_000_000;
const CMDLINE: &str = "root=/dev/hda1 console=ttyS0 loglevel=7 rw";

/// A copy of the default image whose kernel mounts the root read-write.
fn rw_image(dir: &tempfile::TempDir) -> PathBuf {
    let mut recipe = Recipe::load(Path::new(RECIPE)).expect("the default recipe");
    recipe.set_cmdline(CMDLINE);
    let out = dir.path().join("rw.img");
    build_image(&recipe, &default_image_inputs(&recipe), &out).expect("build the rw image");
    out
}

/// Boots `image` read-write and types each line at a prompt; stops when
/// `until` appears after the last (or the limit).
fn session(image: &Path, lines: &[&str], until: Option<&str>, limit: u64) -> BootRun {
    let typed: Vec<String> = lines.iter().map(|l| format!("{l}\n")).collect();
    let script: Vec<(&str, &[u8])> = typed.iter().map(|l| (PROMPT, l.as_bytes())).collect();
    scripted_rw(Boot::Disk, &[image], &script, until, limit)
}

/// The root partition (MBR entry 1) copied out of `image`, for the host
/// tools, which take a file system, not a disk.
fn root_partition(image: &Path, dir: &tempfile::TempDir) -> PathBuf {
    let disk = std::fs::read(image).expect("read the image");
    let entry = &disk[446..462];
    let start = u32::from_le_bytes(entry[8..12].try_into().unwrap()) as usize * 512;
    let len = u32::from_le_bytes(entry[12..16].try_into().unwrap()) as usize * 512;
    let out = dir.path().join("root.ext2");
    std::fs::write(&out, &disk[start..start + len]).expect("write the partition");
    out
}

/// `e2fsck -fn`: (exit status, everything it printed).
fn e2fsck(fs: &Path) -> (i32, String) {
    let out = Command::new("e2fsck")
        .arg("-fn")
        .arg(fs)
        .output()
        .expect("run e2fsck");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// `debugfs -R REQUEST`: its standard output.
fn debugfs(fs: &Path, request: &str) -> Vec<u8> {
    let out = Command::new("debugfs")
        .arg("-R")
        .arg(request)
        .arg(fs)
        .output()
        .expect("run debugfs");
    assert!(
        out.status.success(),
        "debugfs -R {request:?} failed: {out:?}"
    );
    out.stdout
}

/// The console output of the command typed as `cmd`, up to the next prompt.
fn output_of<'a>(text: &'a str, cmd: &str) -> &'a str {
    let echo = format!("{PROMPT}{cmd}\n");
    let start = text
        .find(&echo)
        .unwrap_or_else(|| panic!("{cmd:?} not echoed; console:\n{text}"))
        + echo.len();
    let rest = &text[start..];
    &rest[..rest.find(PROMPT).unwrap_or(rest.len())]
}

#[test]
fn files_written_in_the_guest_survive_poweroff_e2fsck_debugfs_and_a_second_boot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = rw_image(&dir);
    let lines = [
        "echo first line > /home/notes.txt",
        "echo second line >> /home/notes.txt",
        "mkdir /home/docs",
        "mkdir /home/docs/deep",
        "cp /home/notes.txt /home/docs/copy.txt",
        "ln /home/notes.txt /home/docs/hard.txt",
        "ln -s /home/notes.txt /home/link",
        "cat /bin/usertests /bin/usertests /bin/usertests /bin/usertests > /home/big",
        "echo old > /home/target",
        "echo new > /home/source",
        "mv /home/source /home/target",
        "echo gone > /home/gone",
        "rm /home/gone",
        "mkdir /home/empty",
        "rmdir /home/empty",
        "touch /home/docs/deep/empty",
        "mkfifo /home/fifo",
        "stat /home/notes.txt",
        "df",
        "sync",
        "poweroff",
    ];
    let run = session(&image, &lines, None, LIMIT);
    let text = run.serial.replace('\r', "");
    assert_eq!(
        run.outcome,
        Outcome::Exit(1),
        "no clean power-off; console:\n{text}"
    );
    assert!(text.contains("mounted filesystem (read-write)"), "{text}");
    assert!(text.contains("EXT2-fs: root unmounted cleanly"), "{text}");
    assert!(
        output_of(&text, "stat /home/notes.txt").contains("Links: 2"),
        "{text}"
    );

    let fs = root_partition(&image, &dir);
    let (status, report) = e2fsck(&fs);
    println!("e2fsck -fn after a clean power-off:\n{report}");
    assert_eq!(status, 0, "e2fsck found problems:\n{report}");

    assert_eq!(
        debugfs(&fs, "cat /home/notes.txt"),
        b"first line\nsecond line\n"
    );
    assert_eq!(
        debugfs(&fs, "cat /home/docs/copy.txt"),
        b"first line\nsecond line\n"
    );
    assert_eq!(
        debugfs(&fs, "cat /home/docs/hard.txt"),
        b"first line\nsecond line\n"
    );
    assert_eq!(debugfs(&fs, "cat /home/target"), b"new\n");
    let usertests = std::fs::read(Path::new(USER_BIN_DIR).join("usertests")).expect("usertests");
    assert!(
        usertests.len() * 4 > (12 + 256) * 1024,
        "big must reach the double-indirect blocks"
    );
    assert_eq!(debugfs(&fs, "cat /home/big"), usertests.repeat(4));
    let link = String::from_utf8_lossy(&debugfs(&fs, "stat /home/link")).into_owned();
    assert!(
        link.contains("Fast link dest: \"/home/notes.txt\""),
        "{link}"
    );
    let listing = String::from_utf8_lossy(&debugfs(&fs, "ls -l /home")).into_owned();
    for gone in ["gone", "source", "empty"] {
        assert!(
            !listing.contains(&format!(" {gone} ")),
            "{gone} still in /home:\n{listing}"
        );
    }
    let fifo = String::from_utf8_lossy(&debugfs(&fs, "stat /home/fifo")).into_owned();
    assert!(fifo.contains("Type: FIFO"), "{fifo}");

    // The same image again: the files are there.
    let lines = [
        "cat /home/notes.txt /home/link /home/target",
        "ls /home/docs",
        "poweroff",
    ];
    let run = session(&image, &lines, None, LIMIT);
    let text = run.serial.replace('\r', "");
    assert_eq!(run.outcome, Outcome::Exit(1), "console:\n{text}");
    assert_eq!(
        output_of(&text, "cat /home/notes.txt /home/link /home/target"),
        "first line\nsecond line\nfirst line\nsecond line\nnew\n"
    );
    let ls = output_of(&text, "ls /home/docs");
    for name in ["copy.txt", "deep", "hard.txt"] {
        assert!(
            ls.contains(name),
            "{name} missing from ls /home/docs:\n{text}"
        );
    }
    let (status, report) = e2fsck(&root_partition(&image, &dir));
    assert_eq!(status, 0, "e2fsck after the second boot:\n{report}");
}

#[test]
fn killed_in_the_middle_of_writes_the_image_stays_readable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = rw_image(&dir);
    // Many copies in one command line, then a marker the run never
    // reaches: the instruction limit stops the machine while it writes.
    // The boot reaches the prompt within 600M instructions (boot_chain.rs),
    // so the kill at 1G lands in the copies (each writes 360 KiB).
    let mut workload = String::from("mkdir /home/w");
    for i in 0..40 {
        workload.push_str(&format!(
            "; cat /bin/usertests /bin/usertests /bin/usertests /bin/usertests > /home/w/c{i}; rm -f /home/w/c{}",
            i / 2
        ));
    }
    workload.push_str("; echo WORKLOAD-DONE");
    assert!(
        workload.len() < 4000,
        "the line must fit the terminal's buffer"
    );
    let run = session(&image, &[&workload], None, 1_000_000_000);
    let text = run.serial.replace('\r', "");
    assert_eq!(run.outcome, Outcome::InstructionLimit, "console:\n{text}");
    assert!(
        text.contains("mkdir /home/w"),
        "the workload never started:\n{text}"
    );
    // The echo of the typed line ends in "echo WORKLOAD-DONE"; the output
    // would be a line of its own.
    assert!(
        !text.contains("\nWORKLOAD-DONE\n"),
        "the workload finished before the kill:\n{text}"
    );

    let fs = root_partition(&image, &dir);
    let (status, report) = e2fsck(&fs);
    println!("e2fsck -fn after the kill (exit status {status}):\n{report}");
    let written = String::from_utf8_lossy(&debugfs(&fs, "ls -l /home/w")).into_owned();
    println!("/home/w after the kill:\n{written}");
    let listing = String::from_utf8_lossy(&debugfs(&fs, "ls -l /")).into_owned();
    assert!(
        listing.contains("bin") && listing.contains("home"),
        "{listing}"
    );
    let motd = debugfs(&fs, "cat /etc/motd");
    assert!(
        !motd.is_empty(),
        "debugfs cannot read /etc/motd after the kill"
    );
}

#[test]
fn usertests_file_cases_pass_inside_the_guest_on_the_writable_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = rw_image(&dir);
    let run = session(&image, &["usertests", "poweroff"], None, 40_000_000_000);
    let text = run.serial.replace('\r', "");
    assert_eq!(run.outcome, Outcome::Exit(1), "console:\n{text}");
    let out = output_of(&text, "usertests");
    assert!(
        !out.contains("skipped"),
        "the file cases did not run:\n{out}"
    );
    for case in [
        "file_large_sparse",
        "dir_many_files",
        "unlink_while_open",
        "fifo_two_processes",
    ] {
        assert!(
            out.contains(&format!("{case}: ok")),
            "{case} did not pass:\n{out}"
        );
    }
    let last = out.lines().last().unwrap_or("");
    assert!(
        last.ends_with(" passed, 0 failed"),
        "usertests in the guest:\n{out}"
    );
    let (status, report) = e2fsck(&root_partition(&image, &dir));
    assert_eq!(status, 0, "e2fsck after usertests:\n{report}");
}
