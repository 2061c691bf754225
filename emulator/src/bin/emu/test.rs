//! `emu test`: boot tests for CI. Each session file (and the command
//! line's --expect/--fail-on) is one test case on a fresh machine, run by
//! `machine::session` on the virtual clock; the result is an exit status,
//! a line per case on stderr, and optionally a JUnit report and the serial
//! log.

use super::junit::{self, Case, CaseResult};
use super::{host_error, outcome_status, prepare, snapshot_trigger, status, Prepared, RunArgs};
use emulator::machine::session::{self, Session, SessionRunner, Step, Verdict};
use emulator::machine::Outcome;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct TestArgs {
    #[command(flatten)]
    run: RunArgs,
    /// A session file: lines of `expect REGEX`, `send TEXT` (escapes \r
    /// \n \t \xNN), `timeout SECONDS` (guest time per expect, default 60),
    /// `fail-on REGEX`, `snapshot FILE`, `# comments`. One test case each.
    #[arg(long = "session", value_name = "FILE")]
    sessions: Vec<PathBuf>,
    /// Pass when the serial output matches (several: in order).
    #[arg(long, value_name = "REGEX")]
    expect: Vec<String>,
    /// Fail as soon as the serial output matches (every test case).
    #[arg(long, value_name = "REGEX")]
    fail_on: Vec<String>,
    /// Keep the whole serial output in FILE (test cases one after the
    /// other, each under a `==> NAME <==` line when there are several).
    #[arg(long, value_name = "FILE")]
    serial_log: Option<PathBuf>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

/// One test case to run.
struct Plan {
    name: String,
    steps: Vec<Step>,
}

fn plans(args: &TestArgs) -> Result<Vec<Plan>, String> {
    let mut fail_on = Vec::new();
    for re in &args.fail_on {
        fail_on.push(Step::FailOn(session::regex(re)?));
    }
    let mut plans = Vec::new();
    for path in &args.sessions {
        let s = Session::load(path).map_err(|e| e.to_string())?;
        let mut steps = fail_on.clone();
        steps.extend(s.steps);
        plans.push(Plan {
            name: s.name,
            steps,
        });
    }
    if !args.expect.is_empty() || plans.is_empty() {
        let mut steps = fail_on.clone();
        for re in &args.expect {
            steps.push(Step::Expect(session::regex(re)?));
        }
        plans.push(Plan {
            name: if args.expect.is_empty() {
                "run".into()
            } else {
                "expect".into()
            },
            steps,
        });
    }
    Ok(plans)
}

pub fn test(args: TestArgs) -> u8 {
    let plans = match plans(&args) {
        Ok(p) => p,
        Err(e) => return host_error(e),
    };
    let trigger = match snapshot_trigger(&args.run) {
        Ok(t) => t,
        Err(e) => return host_error(e),
    };
    if trigger.is_some() && plans.len() > 1 {
        return host_error("--save-snapshot takes one test case (one --session or --expect)");
    }
    let mut log_file = match &args.serial_log {
        None => None,
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(f),
            Err(e) => return host_error(format!("{}: {e}", p.display())),
        },
    };

    let mut cases = Vec::new();
    let mut worst = status::PASSED;
    let several = plans.len() > 1;
    for plan in plans {
        let (case, code) = run_case(&args, plan, trigger.clone());
        if let Some(f) = &mut log_file {
            if several {
                let _ = writeln!(f, "==> {} <==", case.name);
            }
            let _ = f.write_all(&case.log);
        }
        if worst == status::PASSED {
            worst = code;
        }
        cases.push(case);
    }
    if let Some(path) = &args.junit {
        if let Err(e) = junit::write(path, "emu test", &cases) {
            return host_error(format!("{}: {e}", path.display()));
        }
    }
    worst
}

/// Runs one test case; returns its report and exit status.
fn run_case(
    args: &TestArgs,
    plan: Plan,
    trigger: Option<(session::SnapshotTrigger, PathBuf)>,
) -> (Case, u8) {
    let started = Instant::now();
    let case = |result, log: Vec<u8>| Case {
        name: plan.name.clone(),
        seconds: started.elapsed().as_secs_f64(),
        result,
        log,
    };
    let prepared = match prepare(&args.run, true, false) {
        Ok(p) => p,
        Err(e) => {
            let code = host_error(&e);
            return (case(CaseResult::Error { message: e }, Vec::new()), code);
        }
    };
    if let Some(p) = &args.run.load_snapshot {
        eprintln!(
            "emu test: {}: snapshot {} loaded in {:.1} ms",
            plan.name,
            p.display(),
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    let Prepared {
        mut machine,
        com1_rx,
        com1_tx,
        debug_rx,
        quit_tx: _quit_tx,
    } = prepared;
    let has_expect = plan
        .steps
        .iter()
        .any(|s| matches!(s, Step::Expect(_) | Step::Snapshot(_)));
    let mut runner = SessionRunner::new(plan.steps, com1_rx, com1_tx);
    if !has_expect && trigger.is_none() {
        // Nothing to wait for: run until the guest stops by itself.
        runner.keep_running();
    }
    if let Some((t, path)) = trigger {
        runner.save_snapshot_when(t, path);
    }
    match &args.run.serial {
        super::Serial::Stdio => runner.echo_to(Box::new(std::io::stdout())),
        super::Serial::File(p) => match std::fs::File::create(p) {
            Ok(f) => runner.echo_to(Box::new(f)),
            Err(e) => {
                let msg = format!("{}: {e}", p.display());
                let code = host_error(&msg);
                return (case(CaseResult::Error { message: msg }, Vec::new()), code);
            }
        },
        super::Serial::None => {}
    }
    let debug_writer = std::thread::spawn(move || {
        for b in debug_rx {
            let _ = std::io::stderr().write_all(&[b]);
        }
    });

    let outcome = machine.run_with(&mut runner);
    if runner.verdict().is_none() {
        // The machine stopped (an exit, a limit): what it printed last
        // still counts for the expects and fail-ons.
        use emulator::machine::Monitor;
        runner.check(&mut machine);
    }
    runner.finish();
    let instret = machine.cpu.instret;
    let post = machine.post_codes();
    drop(machine);
    let _ = debug_writer.join();
    for s in runner.saved() {
        eprintln!(
            "emu test: {}: snapshot saved to {} ({} bytes) after {} instructions, {:.1} ms",
            plan.name,
            s.path.display(),
            s.bytes,
            s.instret,
            started.elapsed().as_secs_f64() * 1e3
        );
    }

    let pending = runner.pending().unwrap_or_else(|| "the end".into());
    let (result, code) = match (runner.verdict(), &outcome) {
        (Some(Verdict::Passed), _) => (CaseResult::Passed, status::PASSED),
        (Some(Verdict::Failed(m)), _) => (failure("failed", m.clone()), status::FAILED),
        (Some(Verdict::TimedOut(m)), _) => (failure("timeout", m.clone()), status::TIMEOUT),
        (Some(Verdict::HostError(m)), _) => {
            (CaseResult::Error { message: m.clone() }, status::HOST_ERROR)
        }
        (None, Outcome::Exit(code)) if has_expect => (
            failure(
                "guest-exit",
                format!(
                    "the guest exited with {} while waiting for {pending}",
                    code >> 1
                ),
            ),
            *code,
        ),
        (None, Outcome::Exit(code)) if *code == 1 => (CaseResult::Passed, *code),
        (None, Outcome::Exit(code)) => (
            failure("guest-exit", format!("the guest exited with {}", code >> 1)),
            *code,
        ),
        (None, o) => {
            let code = outcome_status(o, &post);
            let kind = match o {
                Outcome::TripleFault(_) => "triple-fault",
                Outcome::Timeout => "timeout",
                Outcome::InstructionLimit => "instruction-limit",
                Outcome::Hung(_) => "hung",
                _ => "stopped",
            };
            (
                failure(kind, format!("{kind} while waiting for {pending}")),
                code,
            )
        }
    };
    let c = case(result, runner.log().to_vec());
    match &c.result {
        CaseResult::Passed => eprintln!(
            "emu test: {}: passed in {:.2} s ({instret} instructions)",
            c.name, c.seconds
        ),
        CaseResult::Failure { message, .. } | CaseResult::Error { message } => {
            eprintln!("emu test: {}: FAILED (status {code}): {message}", c.name)
        }
    }
    (c, code)
}

fn failure(kind: &str, message: String) -> CaseResult {
    CaseResult::Failure {
        kind: kind.into(),
        message,
    }
}
