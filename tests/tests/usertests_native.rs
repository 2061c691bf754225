//! The guest's user programs on this host's Linux, the reference for the
//! behaviour the guest kernel claims: `usertests` passes every case, and
//! the utilities print what the host's coreutils print for the same input.
//! (The same binaries run in the guest: `tests/tests/shell.rs`.)

use emulator::artifacts::USER_BIN_DIR;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn program(name: &str) -> PathBuf {
    PathBuf::from(USER_BIN_DIR).join(name)
}

/// Runs one of our programs with `args` and `stdin`.
fn run(name: &str, args: &[&str], stdin: &[u8]) -> Output {
    run_command(Command::new(program(name)).args(args), stdin)
}

/// Runs a host command with `args` and `stdin`.
fn host(name: &str, args: &[&str], stdin: &[u8]) -> Output {
    run_command(Command::new(name).args(args).env("LC_ALL", "C"), stdin)
}

fn run_command(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Our program and the host's agree on output and exit status.
#[track_caller]
fn same_as_host(name: &str, args: &[&str], stdin: &[u8]) {
    let ours = run(name, args, stdin);
    let theirs = host(name, args, stdin);
    assert_eq!(
        stdout(&ours),
        stdout(&theirs),
        "{name} {args:?}: output differs from the host's"
    );
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{name} {args:?}: exit status differs"
    );
}

const TEXT: &[u8] =
    b"alpha beta\ngamma\n\n  delta  epsilon zeta\nALPHA again\nlast line without newline";

#[test]
fn usertests_passes_every_case_on_linux() {
    let out = run("usertests", &[], b"");
    let text = stdout(&out);
    let last = text.lines().last().unwrap_or("");
    let failed: Vec<&str> = text.lines().filter(|l| l.contains("FAILED")).collect();
    assert!(failed.is_empty(), "failing cases:\n{}", failed.join("\n"));
    assert!(
        last.starts_with("usertests: ") && last.ends_with(" passed, 0 failed"),
        "last line {last:?}; output:\n{text}"
    );
    let cases = text.lines().filter(|l| l.ends_with(": ok")).count();
    assert_eq!(last, format!("usertests: {cases} passed, 0 failed"));
    assert!(cases >= 25, "only {cases} cases ran");
    assert!(out.status.success());
}

#[test]
fn usertests_reports_an_unknown_case() {
    let out = run("usertests", &["no_such_case"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no case named 'no_such_case'"));
}

#[test]
fn wc_counts_as_coreutils_does() {
    same_as_host("wc", &[], TEXT);
    same_as_host("wc", &["-c"], b"hello\n");
    same_as_host("wc", &["-l"], TEXT);
    same_as_host("wc", &["-w"], TEXT);
    same_as_host("wc", &["-lc"], TEXT);
}

#[test]
fn head_and_grep_select_as_coreutils_do() {
    same_as_host("head", &["-n", "2"], TEXT);
    same_as_host("head", &["-3"], TEXT);
    same_as_host("head", &[], TEXT);
    same_as_host("grep", &["alpha"], TEXT);
    same_as_host("grep", &["-i", "alpha"], TEXT);
    same_as_host("grep", &["-v", "a"], TEXT);
    same_as_host("grep", &["-c", "a"], TEXT);
    same_as_host("grep", &["-n", "e"], TEXT);
    same_as_host("grep", &["nothing matches this"], TEXT);
}

#[test]
fn echo_cat_and_friends_match_coreutils() {
    same_as_host("echo", &["hello", "  spaced  ", ""], b"");
    same_as_host("echo", &["-n", "no newline"], b"");
    same_as_host("cat", &[], TEXT);
    same_as_host("true", &[], b"");
    same_as_host("false", &[], b"");
    same_as_host("uname", &["-s", "-r", "-m"], b"");
}

#[test]
fn bad_input_gives_a_message_and_a_failure_status() {
    for (name, args) in [
        ("cat", &["/no/such/file"][..]),
        ("ls", &["/no/such/dir"]),
        ("head", &["-n", "many"]),
        ("wc", &["-z"]),
        ("grep", &[]),
        ("sleep", &["soon"]),
        ("kill", &["notapid"]),
        ("chrt", &["-p"]),
        ("uname", &["-q"]),
    ] {
        let out = run(name, args, b"");
        assert!(!out.status.success(), "{name} {args:?} succeeded");
        assert!(
            out.status.code().is_some(),
            "{name} {args:?} crashed: {:?}",
            out.status
        );
        assert!(
            !out.stderr.is_empty(),
            "{name} {args:?} said nothing on stderr"
        );
    }
}

/// `sh -c` with the bin directory first on PATH.
fn sh(line: &str) -> Output {
    let path = format!("{USER_BIN_DIR}:/usr/bin:/bin");
    run_command(
        Command::new(program("sh"))
            .args(["-c", line])
            .env("PATH", path),
        b"",
    )
}

#[test]
fn sh_runs_pipelines_of_any_length() {
    assert_eq!(stdout(&sh("echo hello | wc -c")), "6\n");
    let out = sh("echo one two three four | cat | cat | cat | wc -w");
    assert_eq!(stdout(&out), "4\n");
    let out = sh("cat /etc/passwd | grep root | head -n 1 | wc -l");
    assert_eq!(stdout(&out), "1\n");
}

#[test]
fn sh_quotes_expands_and_tracks_status() {
    let out =
        sh(r#"X='a  b'; echo "$X" '$X' \$X ${X}c; false; echo $?; true && echo and || echo or"#);
    assert_eq!(stdout(&out), "a  b $X $X a  bc\n1\nand\n");
    let out = sh("nosuchcommand; echo $?");
    assert_eq!(stdout(&out), "127\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuchcommand: not found"));
    let out = sh("exit 7");
    assert_eq!(out.status.code(), Some(7));
    let out = sh("echo 'unterminated");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sh_redirects_files_and_descriptors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("out.txt");
    let f = file.display();
    let out = sh(&format!(
        "echo first > {f}; echo second >> {f}; cat < {f}; ls /no/such 2> {f}.err; wc -l < {f}.err"
    ));
    assert_eq!(stdout(&out), "first\nsecond\n1\n");
    let out = sh("ls /no/such 2>&1 | wc -l");
    assert_eq!(stdout(&out), "1\n");
    let out = sh("echo x > /no/such/dir/file; echo $?");
    assert_eq!(stdout(&out), "1\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such file or directory"));
}

#[test]
fn sh_changes_directory_and_runs_background_jobs() {
    let out = sh("cd /usr && pwd; cd /no/such; echo $?");
    assert_eq!(stdout(&out), "/usr\n1\n");
    // A background job does not hold up the next command.
    let out = sh("sleep 0.3 & echo now");
    assert_eq!(stdout(&out), "now\n");
    // `jobs` lists it as it could be typed again; `kill %1` names it.
    let out = sh("sleep 5 2>/dev/null & jobs; kill %1; echo $?");
    assert_eq!(
        stdout(&out),
        "[1]  Running                 sleep 5 2> /dev/null\n0\n"
    );
}

#[test]
fn sh_reads_commands_from_standard_input() {
    let path = format!("{USER_BIN_DIR}:/usr/bin:/bin");
    let out = run_command(
        Command::new(program("sh")).env("PATH", path),
        b"echo a\nX=5\necho $X | wc -c\nexit 3\necho never\n",
    );
    assert_eq!(stdout(&out), "a\n2\n");
    assert_eq!(out.status.code(), Some(3));
}
