//! The guest workloads: user programs of the guest system, each run as
//! PID 1 right after the boot (`init=PROGRAM panic=exit` on the default
//! image's command line), and the same static binaries natively on the
//! host.
//!
//! - `usertests` (`guest-kernel/user/src/bin/usertests.rs`): the kernel's
//!   process, pipe, memory and scheduling checks; ends with
//!   `usertests: N passed, M failed`.
//! - `mix` (`guest-kernel/user/src/bin/mix.rs`): a compile-like mix of
//!   fork/exec, pipelines of `cat`/`grep`/`wc`/`head` and file reads, 20
//!   rounds; ends with `mix: 20 rounds, checksum XXXXXXXX`, the same in the
//!   guest and natively (it reads the user programs, the same files in the
//!   image and in the build's output directory).
//!
//! Per machine: total = spawn to the program's final line; boot = spawn to
//! the kernel's `Run PROGRAM as init process` on the same image; workload
//! = total - boot. Instructions (emu's library, exact): the image run to
//! the kernel's "Attempted to kill init" panic, minus an `init=/bin/true`
//! image run the same way.

use crate::machines::Peer;
use crate::{best, images, inprocess, Options};
use emulator::artifacts::USER_BIN_DIR;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// What the kernel prints when init exits (`guest-kernel/kernel/exit.rs`);
/// with `panic=exit` the machine ends right after it.
const INIT_EXITED: &str = "Attempted to kill init";

/// One guest workload.
struct Workload {
    /// The program's path in the image.
    program: &'static str,
    /// Its arguments natively (in the guest, `init=` gives none).
    native_args: &'static [&'static str],
    /// Whether a console line is the program's final line.
    is_final: fn(&str) -> bool,
}

const WORKLOADS: [Workload; 2] = [
    Workload {
        program: "/bin/usertests",
        native_args: &[],
        is_final: |l| l.starts_with("usertests: ") && l.contains(" passed, "),
    },
    Workload {
        program: "/bin/mix",
        native_args: &["--bin", USER_BIN_DIR],
        is_final: |l| l.starts_with("mix: ") && l.contains(" rounds, checksum "),
    },
];

/// The program's final line in `console`, trimmed.
fn final_line(console: &str, w: &Workload) -> Option<String> {
    console
        .lines()
        .map(str::trim)
        .rfind(|l| (w.is_final)(l))
        .map(str::to_string)
}

/// One row of a workload's table.
struct Row {
    name: &'static str,
    /// Spawn to the final line, and to init's start (`None` natively).
    total: Option<f64>,
    boot: Option<f64>,
    work: f64,
    cpu: Option<f64>,
}

pub fn run(o: &Options, peers: &[Peer]) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let baseline = images::init_image(dir.path(), "/bin/true")?;
    let without = inprocess::boot(&baseline, INIT_EXITED)?;
    for w in &WORKLOADS {
        println!();
        println!(
            "== Guest workload: {} as PID 1 (init={} panic=exit), and natively ==",
            w.program, w.program
        );
        if let Err(e) = workload(o, peers, dir.path(), w, without.instret) {
            println!("{}: {e}", w.program);
        }
    }
    Ok(())
}

fn workload(
    o: &Options,
    peers: &[Peer],
    dir: &Path,
    w: &Workload,
    baseline_instret: u64,
) -> Result<(), String> {
    let image = images::init_image(dir, w.program)?;
    let with = inprocess::boot(&image, INIT_EXITED)?;
    let instructions = with.instret.saturating_sub(baseline_instret);
    let expected = final_line(&with.serial, w)
        .ok_or_else(|| format!("no final line on emu; console:\n{}", with.serial))?;
    println!(
        "instructions (emu, retired): {} to init's exit, {} with init=/bin/true; {} for the \
         workload",
        with.instret, baseline_instret, instructions
    );
    println!("emu's final line: {expected}");
    for failed in with.serial.lines().filter(|l| l.contains("FAILED")) {
        println!("  on emu: {}", failed.trim());
    }

    let mut rows = Vec::new();
    if o.native {
        match native(o, w) {
            Ok((seconds, line)) => {
                if line.as_deref() != Some(expected.as_str()) {
                    println!("OUTPUT DIFFERS natively: {line:?}, emu {expected:?}");
                }
                rows.push(Row {
                    name: "native",
                    total: None,
                    boot: None,
                    work: seconds,
                    cpu: None,
                });
            }
            Err(e) => println!("native: {e}"),
        }
    }
    let init_marker = format!("Run {} as init process", w.program);
    for &peer in peers {
        let runs = best(o, peer, &image, &expected)
            .and_then(|full| best(o, peer, &image, &init_marker).map(|boot| (full, boot)));
        match runs {
            Ok((full, boot)) => rows.push(Row {
                name: peer.name(),
                total: Some(full.seconds),
                boot: Some(boot.seconds),
                work: full.seconds - boot.seconds,
                cpu: Some(full.cpu_seconds - boot.cpu_seconds),
            }),
            // A machine whose final line differs never shows `expected`:
            // it ends (or times out) with its console in the message.
            Err(e) => println!("{}: {e}", peer.name()),
        }
    }

    println!(
        "{:<7} {:>9} {:>9} {:>10} {:>9} {:>9} {:>11}",
        "machine", "total s", "boot s", "workload s", "emu / it", "emu MIPS", "work cpu s"
    );
    let emu_work = rows.iter().find(|r| r.name == "emu").map(|r| r.work);
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    for r in &rows {
        let ratio = emu_work.map_or("-".to_string(), |e| format!("{:.2}", e / r.work));
        let mips = if r.name == "emu" {
            format!("{:.0}", instructions as f64 / r.work / 1e6)
        } else {
            "-".to_string()
        };
        println!(
            "{:<7} {:>9} {:>9} {:>10.3} {:>9} {:>9} {:>11}",
            r.name,
            opt(r.total),
            opt(r.boot),
            r.work,
            ratio,
            mips,
            opt(r.cpu)
        );
    }
    println!(
        "(total: spawn to {expected:?}; boot: spawn to {init_marker:?}, same image; workload = \
         total - boot; native: the same binary run on the host, spawn to exit; emu / it: emu's \
         workload time over this machine's; emu MIPS: emu's instructions for the workload over \
         its workload time; work cpu s: CPU time, all threads, total - boot)"
    );
    Ok(())
}

/// Runs the workload's binary on the host `o.runs` times: the best wall
/// time (spawn to exit) and the last run's final line.
fn native(o: &Options, w: &Workload) -> Result<(f64, Option<String>), String> {
    let name = w.program.rsplit('/').next().unwrap_or(w.program);
    let program = Path::new(USER_BIN_DIR).join(name);
    let mut best = f64::INFINITY;
    let mut line = None;
    for _ in 0..o.runs {
        let start = Instant::now();
        let out = Command::new(&program)
            .args(w.native_args)
            .output()
            .map_err(|e| format!("running {}: {e}", program.display()))?;
        best = best.min(start.elapsed().as_secs_f64());
        if !out.status.success() {
            return Err(format!(
                "{} ended with {}: {}",
                program.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        line = final_line(&String::from_utf8_lossy(&out.stdout), w);
    }
    Ok((best, line))
}
