//! The default image's user space, as the README's run command boots it:
//! `/sbin/init` starts `/bin/sh` on the serial console, a scripted session
//! typed through the UART on the virtual clock gives the outputs the
//! acceptance criterion lists, `usertests` passes inside the guest (the
//! same binary passes on the host: `usertests_native.rs`), and init
//! starts a new shell when one exits.

use emulator::artifacts::DEFAULT_IMAGE;
use integration_tests::console::{session, step, Step};
use std::path::Path;

/// The shell's prompt in `/`.
const PROMPT: &str = "/ # ";
const LIMIT: u64 = 8_000_000_000;

/// Boots the default image, plays `steps`, stops at the prompt after the
/// last one; the console with `\r` removed.
fn run(steps: &[Step], limit: u64) -> String {
    let run = session(&[Path::new(DEFAULT_IMAGE)], steps, PROMPT, limit);
    let text = run.serial.replace('\r', "");
    assert!(
        text.ends_with(PROMPT),
        "the session did not end at a prompt; outcome {:?}; console:\n{text}",
        run.outcome
    );
    text
}

/// One line typed at each prompt.
fn typed(lines: &[String]) -> Vec<Step<'_>> {
    lines.iter().map(|l| step(PROMPT, l.as_bytes())).collect()
}

/// The output of the command typed as `cmd`: from its echo to the next
/// prompt.
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
fn default_image_boots_to_a_shell_prompt() {
    let text = run(&[], LIMIT);
    assert!(text.contains("Run /sbin/init as init process"), "{text}");
    assert!(!text.contains("init: "), "init complained:\n{text}");
}

#[test]
fn scripted_session_gives_the_expected_outputs() {
    // While the shell waits for a line, the idle guest's virtual time
    // runs ahead by however long the host takes to type it; so `ps` is
    // typed together with `sleep 1 &` (the shell reads it as soon as the
    // sleep has started), and a foreground `sleep 1` makes sure the
    // background one has ended before the last prompt.
    let steps = [
        step(PROMPT, b"ls -li /\n"),
        step(PROMPT, b"echo hello | wc -c\n"),
        step(PROMPT, b"sleep 1 &\nps\n"),
        // The prompt after ps's own row (the last: it has the highest PID).
        step(" ps\r\n/ # ", b"cat /etc/passwd | grep root | wc -l\n"),
        step(PROMPT, b"uname -a\n"),
        step(PROMPT, b"echo $?\n"),
        step(PROMPT, b"sleep 1\n"),
    ];
    let text = run(&steps, LIMIT);

    // ls -li /: the root's entries in name order, each with its inode,
    // mode, links, owner, group, size, date and name.
    let ls = output_of(&text, "ls -li /");
    let mut lines = ls.lines();
    assert!(
        lines.next().is_some_and(|l| l.starts_with("total ")),
        "{ls}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let names: Vec<&str> = rows.iter().filter_map(|r| r.last().copied()).collect();
    assert_eq!(
        names,
        [
            "bin",
            "boot",
            "dev",
            "etc",
            "home",
            "lost+found",
            "mnt",
            "proc",
            "root",
            "sbin",
            "tmp",
            "usr"
        ],
        "{ls}"
    );
    for row in &rows {
        assert_eq!(row.len(), 10, "ls -li row {row:?}");
        assert!(row[0].parse::<u64>().is_ok(), "inode in {row:?}");
        assert!(
            row[1].starts_with('d') && row[1].len() == 10,
            "mode in {row:?}"
        );
        assert_eq!((row[3], row[4]), ("root", "root"), "owner in {row:?}");
    }
    let tmp = rows.iter().find(|r| r[9] == "tmp").expect("tmp");
    assert_eq!(tmp[1], "drwxrwxrwt", "{ls}");
    let root = rows.iter().find(|r| r[9] == "root").expect("root");
    assert_eq!(root[1], "drwx------", "{ls}");

    assert_eq!(output_of(&text, "echo hello | wc -c"), "6\n");
    // Both lines are echoed as typed; then the job's number, a prompt, and
    // what ps prints.
    let typed_together = format!("{PROMPT}sleep 1 &\nps\n");
    let after =
        &text[text.find(&typed_together).expect("sleep and ps echoed") + typed_together.len()..];
    assert!(after.starts_with("[1] "), "{after}");
    let after = &after[after.find(PROMPT).expect("a prompt after sleep &") + PROMPT.len()..];
    let ps = &after[..after.find(PROMPT).expect("a prompt after ps")];
    let mut rows = ps.lines();
    let header: Vec<&str> = rows.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(
        header,
        ["PID", "PPID", "S", "CLS", "PRI", "NI", "RTPRIO", "TIME", "CMD"],
        "{ps}"
    );
    let procs: Vec<Vec<&str>> = rows
        .map(|l| l.split_whitespace().collect::<Vec<&str>>())
        .filter(|fields| fields.len() >= 9)
        .collect();
    let find = |cmd: &str| {
        procs
            .iter()
            .find(|p| p[8..].join(" ") == cmd)
            .unwrap_or_else(|| panic!("no {cmd:?} in ps:\n{ps}"))
    };
    let init = find("/sbin/init");
    assert_eq!((init[0], init[1], init[3]), ("1", "0", "TS"), "{ps}");
    let sh = find("sh -i");
    assert_eq!(sh[1], "1", "the shell's parent is init:\n{ps}");
    let sleep = find("sleep 1");
    assert_eq!(
        (sleep[1], sleep[2]),
        (sh[0], "S"),
        "the sleep is the shell's, asleep:\n{ps}"
    );
    let me = find("ps");
    assert_eq!((me[1], me[2]), (sh[0], "R"), "{ps}");

    let count = output_of(&text, "cat /etc/passwd | grep root | wc -l");
    assert_eq!(count.lines().next(), Some("1"), "{count}");
    // (Later outputs may be followed by the background job's report.)
    let uname = output_of(&text, "uname -a").lines().next().unwrap_or("");
    let fields: Vec<&str> = uname.split_whitespace().collect();
    assert_eq!(fields.first(), Some(&"Linux"), "{uname}");
    assert_eq!(fields.last(), Some(&"x86_64"), "{uname}");
    assert!(output_of(&text, "echo $?").starts_with("0\n"), "{text}");
    // The background job's end is reported at a later prompt, once.
    assert!(
        text.matches("[1]+ Done                    sleep 1\n")
            .count()
            == 1,
        "{text}"
    );
}

#[test]
fn usertests_passes_in_the_guest() {
    let text = run(&[step(PROMPT, b"usertests\n")], 40_000_000_000);
    let out = output_of(&text, "usertests");
    let failed: Vec<&str> = out.lines().filter(|l| l.contains("FAILED")).collect();
    assert!(
        failed.is_empty(),
        "failing cases:\n{}\nconsole:\n{text}",
        failed.join("\n")
    );
    let cases = out.lines().filter(|l| l.ends_with(": ok")).count();
    assert!(cases >= 25, "only {cases} cases:\n{out}");
    assert!(
        out.lines()
            .any(|l| l == format!("usertests: {cases} passed, 0 failed")),
        "no summary line:\n{out}"
    );
}

#[test]
fn init_starts_a_new_shell_when_one_exits() {
    let text = run(
        &[
            step(PROMPT, b"echo $$\n"),
            step(PROMPT, b"exit 3\n"),
            step(PROMPT, b"echo $$\n"),
        ],
        LIMIT,
    );
    let pids: Vec<&str> = text
        .split(&format!("{PROMPT}echo $$\n"))
        .skip(1)
        .filter_map(|s| s.lines().next())
        .collect();
    assert_eq!(pids.len(), 2, "{text}");
    assert_ne!(pids[0], pids[1], "the same shell after exit:\n{text}");
}

#[test]
fn redirection_to_the_read_only_root_fails_cleanly() {
    let lines = [
        "echo x > /tmp/file\n".to_string(),
        "echo $?\n".to_string(),
        "cat /nonexistent\n".to_string(),
    ];
    let text = run(&typed(&lines), LIMIT);
    let out = output_of(&text, "echo x > /tmp/file");
    assert!(out.starts_with("sh: /tmp/file: "), "{out}");
    assert_eq!(output_of(&text, "echo $?"), "1\n");
    assert_eq!(
        output_of(&text, "cat /nonexistent"),
        "cat: /nonexistent: No such file or directory\n"
    );
}
