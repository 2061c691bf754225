//! JUnit XML reports, the format CI systems display: one `<testcase>` per
//! session, with the serial log attached to a failure.
//!
//! The schema is the common subset GitHub, GitLab and Jenkins read:
//! `testsuites > testsuite > testcase`, a `<failure>` or `<error>` child
//! for a test that did not pass, and `<system-out>` for its output.

use std::fmt::Write as _;
use std::path::Path;

/// How one test case ended.
pub enum CaseResult {
    Passed,
    /// The test ran and did not pass (`kind`: failed, timeout, ...).
    Failure {
        kind: String,
        message: String,
    },
    /// The test could not run (a host error).
    Error {
        message: String,
    },
}

/// One test case: a session.
pub struct Case {
    pub name: String,
    pub seconds: f64,
    pub result: CaseResult,
    /// The serial log, attached when the case did not pass.
    pub log: Vec<u8>,
}

/// The report for `cases` as a string.
pub fn report(suite: &str, cases: &[Case]) -> String {
    let failures = cases
        .iter()
        .filter(|c| matches!(c.result, CaseResult::Failure { .. }))
        .count();
    let errors = cases
        .iter()
        .filter(|c| matches!(c.result, CaseResult::Error { .. }))
        .count();
    let total: f64 = cases.iter().map(|c| c.seconds).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let head = format!(
        "name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{total:.3}\"",
        escape(suite),
        cases.len()
    );
    let _ = writeln!(x, "<testsuites {head}>");
    let _ = writeln!(x, "  <testsuite {head}>");
    for c in cases {
        let _ = write!(
            x,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
            escape(&c.name),
            escape(suite),
            c.seconds
        );
        let (tag, kind, message) = match &c.result {
            CaseResult::Passed => {
                x.push_str("/>\n");
                continue;
            }
            CaseResult::Failure { kind, message } => ("failure", kind.as_str(), message),
            CaseResult::Error { message } => ("error", "host-error", message),
        };
        x.push_str(">\n");
        let _ = writeln!(
            x,
            "      <{tag} type=\"{}\" message=\"{}\">{}</{tag}>",
            escape(kind),
            escape(message),
            escape(message)
        );
        let _ = writeln!(
            x,
            "      <system-out>{}</system-out>",
            escape(&String::from_utf8_lossy(&c.log))
        );
        x.push_str("    </testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// Writes the report to `path`.
pub fn write(path: &Path, suite: &str, cases: &[Case]) -> std::io::Result<()> {
    std::fs::write(path, report(suite, cases))
}

/// Text and attribute escaping for XML 1.0: the five special characters
/// become entities; characters XML cannot carry at all (controls other
/// than tab, newline and return, U+FFFE, U+FFFF; a serial log has escape
/// sequences) are written as visible `\xNN` / `\u{...}` text instead.
/// Newlines and tabs in attributes become character references so they
/// survive attribute-value normalisation.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{7F}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            '\u{FFFE}' | '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_control_bytes() {
        assert_eq!(
            escape("a<b>&\"c\"'d'"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
        );
        assert_eq!(escape("\x1b[1mx\x00"), "\\x1b[1mx\\x00");
        assert_eq!(escape("l1\nl2\t"), "l1&#10;l2&#9;");
        assert_eq!(escape("\u{FFFF}é"), "\\u{ffff}é");
    }

    #[test]
    fn a_failed_case_carries_its_message_and_log() {
        let cases = [
            Case {
                name: "boot".into(),
                seconds: 1.5,
                result: CaseResult::Passed,
                log: b"ignored".to_vec(),
            },
            Case {
                name: "shell <1>".into(),
                seconds: 0.25,
                result: CaseResult::Failure {
                    kind: "failed".into(),
                    message: "fail-on /panic/ matched".into(),
                },
                log: b"panic & \x07bell".to_vec(),
            },
        ];

        let x = report("emu", &cases);

        assert!(x.contains("tests=\"2\" failures=\"1\" errors=\"0\""), "{x}");
        assert!(x.contains("<testcase name=\"boot\" classname=\"emu\" time=\"1.500\"/>"));
        assert!(x.contains("name=\"shell &lt;1&gt;\""));
        assert!(x.contains("<failure type=\"failed\" message=\"fail-on /panic/ matched\">"));
        assert!(x.contains("<system-out>panic &amp; \\x07bell</system-out>"));
        assert!(!x.contains("ignored"), "a passing case's log is left out");
    }
}
