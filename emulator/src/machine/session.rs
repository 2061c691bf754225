//! Scripted sessions on the serial console: wait for output, type input,
//! as a person at the console would. The engine behind `emu test`.
//!
//! A session file is a list of steps, one a line (`#` starts a comment):
//!
//! ```text
//! # Boot, then ask the kernel console for its uptime.
//! timeout 30                      # guest seconds each expect may wait
//! fail-on (?i)panic|oops          # from here on, this output fails the test
//! expect Boot complete            # a regex, searched after the last match
//! send uptime\r                   # text with \r \n \t \\ \xNN escapes
//! expect up [0-9.]+ s
//! snapshot after-uptime.snap      # save the machine here
//! ```
//!
//! `expect` searches the output after the previous match and may span
//! lines; `fail-on` patterns (and `emu test --snapshot-on`) are matched
//! line by line as output arrives, so each check reads only new output.
//!
//! The [`SessionRunner`] is a [`Monitor`]: it runs on the machine's thread
//! between slices, so every match and every injected byte happens at a
//! point fixed by the instruction count. Under the virtual clock the same
//! session gives the same serial output, byte for byte, every run. Step
//! timeouts are in guest time for the same reason.

use super::{Machine, Monitor, Outcome};
use crate::devices::Nanos;
use crossbeam_channel::{Receiver, Sender};
use regex::bytes::Regex;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// How long an `expect` waits by default, in guest seconds.
pub const DEFAULT_STEP_TIMEOUT_SECS: f64 = 60.0;

/// One step of a session.
#[derive(Debug, Clone)]
pub enum Step {
    /// Wait until the output (after the previous match) matches.
    Expect(Regex),
    /// Type these bytes.
    Send(Vec<u8>),
    /// How long each following `expect` may wait, in guest nanoseconds.
    Timeout(Nanos),
    /// From here on, output matching this fails the session.
    FailOn(Regex),
    /// Save a snapshot of the machine to this file.
    Snapshot(PathBuf),
}

/// A parsed session file.
#[derive(Debug, Clone)]
pub struct Session {
    /// The test's name: the file's stem.
    pub name: String,
    pub steps: Vec<Step>,
}

/// A session file that does not parse.
#[derive(Debug, Error)]
pub enum SessionError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{name}:{line}: {message}")]
    Syntax {
        name: String,
        line: usize,
        message: String,
    },
}

impl Session {
    /// Reads and parses a session file.
    pub fn load(path: &Path) -> Result<Session, SessionError> {
        let text = std::fs::read_to_string(path).map_err(|source| SessionError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let mut session = Session::parse(&name, &text)?;
        // Snapshot paths are relative to the session file.
        let dir = path.parent().unwrap_or(Path::new("."));
        for step in &mut session.steps {
            if let Step::Snapshot(p) = step {
                *p = dir.join(&*p);
            }
        }
        Ok(session)
    }

    /// Parses session text (see the module docs for the syntax).
    pub fn parse(name: &str, text: &str) -> Result<Session, SessionError> {
        let mut steps = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let err = |message: String| SessionError::Syntax {
                name: name.to_string(),
                line: i + 1,
                message,
            };
            let line = raw.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let arg = rest.trim();
            if arg.is_empty() {
                return Err(err(format!("`{word}` needs an argument")));
            }
            let step = match word {
                "expect" => Step::Expect(regex(arg).map_err(err)?),
                "fail-on" => Step::FailOn(regex(arg).map_err(err)?),
                "send" => Step::Send(unescape(arg).map_err(err)?),
                "timeout" => {
                    let secs: f64 = arg
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0)
                        .ok_or_else(|| err(format!("not a number of seconds: {arg}")))?;
                    Step::Timeout((secs * 1e9) as Nanos)
                }
                "snapshot" => Step::Snapshot(PathBuf::from(arg)),
                _ => {
                    return Err(err(format!(
                        "unknown step `{word}` (expect, send, timeout, fail-on, snapshot)"
                    )))
                }
            };
            steps.push(step);
        }
        Ok(Session {
            name: name.to_string(),
            steps,
        })
    }
}

/// A regex for console output.
pub fn regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("bad regex {pattern:?}: {e}"))
}

/// `\n`, `\r`, `\t`, `\\`, `\e` (escape), `\xNN`; anything else is literal.
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(b'e') => out.push(0x1B),
            Some(b'\\') => out.push(b'\\'),
            Some(b's') => out.push(b' '),
            Some(b'x') => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let v = std::str::from_utf8(&hex)
                    .ok()
                    .filter(|h| h.len() == 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad \\x escape in {s:?}: needs two hex digits"))?;
                out.push(v);
            }
            Some(c) => return Err(format!("unknown escape \\{} in {s:?}", c as char)),
            None => return Err(format!("{s:?} ends with a lone backslash")),
        }
    }
    Ok(out)
}

/// When to save a snapshot outside any session (`--save-snapshot`).
#[derive(Debug, Clone)]
pub enum SnapshotTrigger {
    /// When the output matches.
    Output(Regex),
    /// When this many instructions have retired.
    Instructions(u64),
}

/// How a session ended, when the runner ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every step done.
    Passed,
    /// A `fail-on` pattern matched; the message says which and where.
    Failed(String),
    /// An `expect` waited longer than its timeout.
    TimedOut(String),
    /// A snapshot could not be written.
    HostError(String),
}

/// A snapshot the runner wrote.
#[derive(Debug, Clone)]
pub struct SavedSnapshot {
    pub path: PathBuf,
    pub bytes: usize,
    /// Retired instructions at the save.
    pub instret: u64,
}

/// Runs a session against a machine: reads COM1's output, types into its
/// input. Hand it the host ends of COM1 and run the machine with
/// [`Machine::run_with`].
pub struct SessionRunner {
    steps: Vec<Step>,
    next: usize,
    output: Receiver<u8>,
    input: Sender<u8>,
    /// Everything the guest printed.
    log: Vec<u8>,
    /// Where the next `expect` starts searching.
    cursor: usize,
    fail_on: Vec<Regex>,
    /// Where `fail-on` and `--snapshot-on` patterns resume searching (the
    /// start of the last, possibly unfinished, line): they match within
    /// lines, so each check reads only the new output.
    scan_from: usize,
    /// The step and log length of the last `expect` search that failed:
    /// with no new output since, it would fail again.
    searched: (usize, usize),
    step_timeout: Nanos,
    /// When the current `expect` started waiting (guest time).
    waiting_since: Option<Nanos>,
    trigger: Option<(SnapshotTrigger, PathBuf)>,
    /// The trigger's condition held, the snapshot is not taken yet.
    trigger_fired: bool,
    echo: Option<Box<dyn Write>>,
    verdict: Option<Verdict>,
    saved: Vec<SavedSnapshot>,
    /// Never end the run with `Passed` (`emu run` with a snapshot trigger).
    open_ended: bool,
}

impl SessionRunner {
    /// `output` and `input` are COM1's host ends (the machine's
    /// `HostIo::com1_out` receiver and `com1_in` sender).
    pub fn new(steps: Vec<Step>, output: Receiver<u8>, input: Sender<u8>) -> SessionRunner {
        SessionRunner {
            steps,
            next: 0,
            output,
            input,
            log: Vec::new(),
            cursor: 0,
            fail_on: Vec::new(),
            scan_from: 0,
            searched: (usize::MAX, 0),
            step_timeout: (DEFAULT_STEP_TIMEOUT_SECS * 1e9) as Nanos,
            waiting_since: None,
            trigger: None,
            trigger_fired: false,
            echo: None,
            verdict: None,
            saved: Vec::new(),
            open_ended: false,
        }
    }

    /// Keeps the machine running after the last step, until it stops by
    /// itself (exit, limits, the user).
    pub fn keep_running(&mut self) {
        self.open_ended = true;
    }

    /// Also save a snapshot to `path` when `trigger` fires; the session
    /// does not pass before it is saved.
    pub fn save_snapshot_when(&mut self, trigger: SnapshotTrigger, path: PathBuf) {
        self.trigger = Some((trigger, path));
    }

    /// Copies the output here as it arrives (the console, a log file).
    pub fn echo_to(&mut self, w: Box<dyn Write>) {
        self.echo = Some(w);
    }

    /// Everything the guest printed so far.
    pub fn log(&self) -> &[u8] {
        &self.log
    }

    /// Why the runner ended the run (`None` if the machine stopped first).
    pub fn verdict(&self) -> Option<&Verdict> {
        self.verdict.as_ref()
    }

    /// The snapshots written.
    pub fn saved(&self) -> &[SavedSnapshot] {
        &self.saved
    }

    /// A description of the step still waiting, for failure reports.
    pub fn pending(&self) -> Option<String> {
        self.steps[self.next..].iter().find_map(|s| match s {
            Step::Expect(re) => Some(format!("expect /{re}/")),
            Step::Snapshot(p) => Some(format!("snapshot {}", p.display())),
            _ => None,
        })
    }

    /// Drains output that arrived after the run stopped.
    pub fn finish(&mut self) {
        self.drain();
        if let Some(w) = &mut self.echo {
            let _ = w.flush();
        }
    }

    fn drain(&mut self) {
        let start = self.log.len();
        self.log.extend(self.output.try_iter());
        if let Some(w) = &mut self.echo {
            if self.log.len() > start {
                let _ = w.write_all(&self.log[start..]).and_then(|_| w.flush());
            }
        }
    }

    fn end(&mut self, v: Verdict) -> Option<Outcome> {
        self.verdict = Some(v);
        Some(Outcome::Finished)
    }

    fn save(&mut self, machine: &mut Machine, path: &Path) -> Result<(), String> {
        let bytes = machine
            .save_snapshot(path)
            .map_err(|e| format!("cannot save the snapshot: {e}"))?;
        self.saved.push(SavedSnapshot {
            path: path.to_path_buf(),
            bytes,
            instret: machine.cpu.instret,
        });
        Ok(())
    }

    /// The line of the log around byte `at`, for messages.
    fn line_at(&self, at: usize) -> String {
        let start = self.log[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let end = self.log[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.log.len(), |p| at + p);
        String::from_utf8_lossy(&self.log[start..end])
            .trim_end()
            .to_string()
    }
}

impl Monitor for SessionRunner {
    fn check(&mut self, machine: &mut Machine) -> Option<Outcome> {
        self.drain();
        let now = machine.time();

        let new = &self.log[self.scan_from..];
        for re in &self.fail_on {
            if let Some(m) = re.find(new) {
                let line = self.line_at(self.scan_from + m.start());
                return self.end(Verdict::Failed(format!("fail-on /{re}/ matched: {line}")));
            }
        }
        if let Some((when, _)) = &self.trigger {
            // Once fired, it stays fired until the snapshot can be taken.
            self.trigger_fired |= match when {
                SnapshotTrigger::Output(re) => re.is_match(new),
                SnapshotTrigger::Instructions(n) => machine.cpu.instret >= *n,
            };
        }
        self.scan_from += new.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        if self.trigger_fired && machine.snapshot_ready() {
            if let Some((_, path)) = self.trigger.take() {
                self.trigger_fired = false;
                if let Err(e) = self.save(machine, &path) {
                    return self.end(Verdict::HostError(e));
                }
            }
        }

        while let Some(step) = self.steps.get(self.next) {
            match step {
                Step::Expect(re) => match (self.searched != (self.next, self.log.len()))
                    .then(|| re.find(&self.log[self.cursor..]))
                    .flatten()
                {
                    Some(m) => {
                        self.cursor += m.end();
                        self.waiting_since = None;
                    }
                    None => {
                        self.searched = (self.next, self.log.len());
                        let since = *self.waiting_since.get_or_insert(now);
                        if now.saturating_sub(since) > self.step_timeout {
                            let msg = format!(
                                "expect /{re}/: not seen within {} s of guest time",
                                self.step_timeout as f64 / 1e9
                            );
                            return self.end(Verdict::TimedOut(msg));
                        }
                        return None;
                    }
                },
                Step::Send(bytes) => {
                    for &b in bytes {
                        let _ = self.input.send(b);
                    }
                }
                Step::Timeout(t) => self.step_timeout = *t,
                Step::FailOn(re) => {
                    // Only output from here on counts.
                    self.fail_on.push(re.clone());
                }
                Step::Snapshot(path) => {
                    if !machine.snapshot_ready() {
                        return None;
                    }
                    let path = path.clone();
                    if let Err(e) = self.save(machine, &path) {
                        return self.end(Verdict::HostError(e));
                    }
                }
            }
            self.next += 1;
        }
        if self.trigger.is_none() && !self.open_ended {
            return self.end(Verdict::Passed);
        }
        None
    }

    fn wake_at(&self) -> Option<u64> {
        match &self.trigger {
            Some((SnapshotTrigger::Instructions(n), _)) => Some(*n),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_files_parse_steps_comments_and_escapes() {
        let text = "# a comment\n\
                    timeout 5\n\
                    fail-on panic\n\
                    expect Boot complete\n\
                    send uptime\\r\n\
                    \n\
                    snapshot s.snap\n";

        let s = Session::parse("t", text).unwrap();

        assert_eq!(s.steps.len(), 5);
        assert!(matches!(s.steps[0], Step::Timeout(5_000_000_000)));
        assert!(matches!(&s.steps[3], Step::Send(b) if b == b"uptime\r"));
    }

    #[test]
    fn bad_lines_name_the_line() {
        let e = Session::parse("t", "expect ok\nwait 3\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t:2: unknown step `wait` (expect, send, timeout, fail-on, snapshot)"
        );
        let e = Session::parse("t", "expect (\n").unwrap_err();
        assert!(e.to_string().starts_with("t:1: bad regex"), "{e}");
        let e = Session::parse("t", "timeout soon\n").unwrap_err();
        assert!(e.to_string().contains("not a number"), "{e}");
    }

    #[test]
    fn escapes_cover_control_bytes() {
        assert_eq!(unescape(r"a\x03\n\\").unwrap(), b"a\x03\n\\");
        assert!(unescape(r"\x3").is_err());
        assert!(unescape(r"\q").is_err());
        assert!(unescape("x\\").is_err());
    }
}
