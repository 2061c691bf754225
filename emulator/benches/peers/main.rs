//! Speed side by side with QEMU and Bochs (`cargo bench -p emulator --bench
//! peers`): the same workloads on `emu`, on QEMU with TCG and on Bochs, one
//! after the other in the same run, and the CPU workload natively on the
//! host as the physical limit. See `docs/benchmarks.md` for the method and
//! the figures.
//!
//! Workloads:
//! - **CPU image**: the default disk image with `/boot/kernel` replaced by
//!   `bench/workload` (long mode, paging on), which runs [`work`] `N`
//!   times, prints its checksum and ends. Each machine also boots the same
//!   image with `iterations=0`; the difference is the workload alone.
//! - **Boot**: the default image until [`BOOT_MARKER`] appears on COM1.
//! - **Guest workloads** ([`guest`]): `usertests` and `mix` as PID 1 on
//!   the default image, and natively.
//!
//! Options (after `--`): `--iterations N` (default [`ITERATIONS`]),
//! `--runs R` (best of R, default 3), `--peers emu,qemu,bochs,native`
//! (default all), `--workloads cpu,boot,guest` (default all), `--timeout S`
//! per run (default 300).

mod guest;
mod images;
mod inprocess;
mod machines;
/// The workload, the very source the guest image runs.
#[path = "../../../bench/workload/src/work.rs"]
mod work;

use machines::{Peer, Run};
use std::path::Path;
use std::time::{Duration, Instant};

/// The line that ends the boot workload. The kernel prints it when it has
/// booted; once it starts a shell, this becomes the shell's prompt.
const BOOT_MARKER: &str = "/ # ";
/// The line that ends the CPU image (`bench/workload/src/main.rs`).
const CPU_MARKER: &str = "bench: done";
/// Default workload iterations: about 8,200 instructions each as emu counts
/// them (a `rep movs` counts once), 246 million in all — a few seconds on
/// emu, enough that start-up is a small part on every machine.
const ITERATIONS: u64 = 30_000;

struct Options {
    iterations: u64,
    runs: usize,
    peers: Vec<Peer>,
    native: bool,
    workloads: Vec<String>,
    timeout: Duration,
}

impl Options {
    fn wants(&self, workload: &str) -> bool {
        self.workloads.iter().any(|w| w == workload)
    }
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        iterations: ITERATIONS,
        runs: 3,
        peers: Peer::ALL.to_vec(),
        native: true,
        workloads: ["cpu", "boot", "guest"].map(String::from).to_vec(),
        timeout: Duration::from_secs(300),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{arg} needs {what}"));
        match arg.as_str() {
            "--iterations" => o.iterations = number(&value("a number")?)?,
            "--runs" => o.runs = number(&value("a number")?)?.max(1) as usize,
            "--timeout" => o.timeout = Duration::from_secs(number(&value("seconds")?)?),
            "--workloads" => {
                o.workloads = value("a list")?.split(',').map(String::from).collect();
            }
            "--peers" => {
                let list = value("a list")?;
                o.native = list.split(',').any(|p| p == "native");
                o.peers = Peer::ALL
                    .into_iter()
                    .filter(|p| list.split(',').any(|n| n == p.name()))
                    .collect();
            }
            // cargo bench passes --bench; libtest's other flags mean nothing here.
            _ if arg.starts_with("--") => {}
            _ => {}
        }
    }
    Ok(o)
}

/// The 1-minute load average: other work on the host slows every machine.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn number(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("not a number: {s}"))
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("peers: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "Speed side by side (best of {} runs each; wall time; {} CPUs, load average {})",
        o.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let mut peers = Vec::new();
    for peer in &o.peers {
        match peer.program() {
            Ok(path) => {
                println!("  {:<6} {}", peer.name(), path.display());
                peers.push(*peer);
            }
            Err(why) => println!("  {:<6} {why}: left out", peer.name()),
        }
    }
    if o.wants("cpu") {
        if let Err(e) = cpu_image(&o, &peers) {
            println!("CPU image: {e}");
        }
    }
    if o.wants("boot") {
        if let Err(e) = boot(&o, &peers) {
            println!("Boot: {e}");
        }
    }
    if o.wants("guest") {
        if let Err(e) = guest::run(&o, &peers) {
            println!("Guest workloads: {e}");
        }
    }
    println!();
    println!("load average at the end: {}", load_average());
}

/// Best of `runs` timed runs of `image` on `peer`.
fn best(o: &Options, peer: Peer, image: &Path, marker: &str) -> Result<Run, String> {
    let mut best: Option<Run> = None;
    for _ in 0..o.runs {
        let run = machines::run(peer, image, marker, o.timeout)?;
        if best.as_ref().is_none_or(|b| run.seconds < b.seconds) {
            best = Some(run);
        }
    }
    Ok(best.expect("at least one run"))
}

/// The checksum line of the CPU image's console.
fn checksum(serial: &str) -> Option<u64> {
    let line = serial
        .lines()
        .find_map(|l| l.trim().strip_prefix("bench: checksum 0x"))?;
    u64::from_str_radix(line.trim(), 16).ok()
}

fn cpu_image(o: &Options, peers: &[Peer]) -> Result<(), String> {
    println!();
    println!(
        "== CPU image: long mode, paging on; {} iterations of bench/workload ==",
        o.iterations
    );
    let workload = images::build_workload()?;
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let full = images::cpu_image(dir.path(), &workload, o.iterations)?;
    let empty = images::cpu_image(dir.path(), &workload, 0)?;

    // Instructions: emu's library, with and without the workload.
    let with = inprocess::boot(&full, CPU_MARKER)?;
    let without = inprocess::boot(&empty, CPU_MARKER)?;
    let instructions = with.instret - without.instret;
    println!(
        "instructions (emu, retired): {} with the workload, {} without; {} for the workload \
         ({:.0} per iteration)",
        with.instret,
        without.instret,
        instructions,
        instructions as f64 / o.iterations.max(1) as f64
    );
    let expected = checksum(&with.serial).ok_or("the image printed no checksum")?;

    let native = o.native.then(|| {
        let mut best = f64::INFINITY;
        let mut sum = 0;
        for _ in 0..o.runs {
            let start = Instant::now();
            sum = std::hint::black_box(work::Work::new()).run(std::hint::black_box(o.iterations));
            best = best.min(start.elapsed().as_secs_f64());
        }
        (best, sum)
    });
    if let Some((_, sum)) = native {
        if sum != expected {
            println!("CHECKSUM MISMATCH: native {sum:#x}, emu {expected:#x}");
        }
    }

    // (peer, total, boot overhead, workload CPU time)
    let mut rows: Vec<(Peer, f64, f64, f64)> = Vec::new();
    for &peer in peers {
        let runs = best(o, peer, &full, CPU_MARKER)
            .and_then(|full| best(o, peer, &empty, CPU_MARKER).map(|empty| (full, empty)));
        match runs {
            Ok((full, empty)) => {
                if checksum(&full.serial) != Some(expected) {
                    println!(
                        "CHECKSUM MISMATCH on {}: {:?}, expected {expected:#x}",
                        peer.name(),
                        checksum(&full.serial)
                    );
                }
                rows.push((
                    peer,
                    full.seconds,
                    empty.seconds,
                    full.cpu_seconds - empty.cpu_seconds,
                ));
            }
            Err(e) => println!("{}: {e}", peer.name()),
        }
    }

    println!(
        "{:<7} {:>9} {:>9} {:>10} {:>9} {:>9} {:>11}",
        "machine", "total s", "boot s", "workload s", "emu / it", "MIPS", "work cpu s"
    );
    let emu_work = rows
        .iter()
        .find(|r| r.0 == Peer::Emu)
        .map(|&(_, full, empty, _)| full - empty);
    let mips = |s: f64| instructions as f64 / s / 1e6;
    let ratio = |s: f64| emu_work.map_or("-".to_string(), |e| format!("{:.2}", e / s));
    if let Some((seconds, _)) = native {
        println!(
            "{:<7} {:>9} {:>9} {:>10.3} {:>9} {:>9.0} {:>11}",
            "native",
            "-",
            "-",
            seconds,
            ratio(seconds),
            mips(seconds),
            "-"
        );
    }
    for &(peer, full, empty, cpu) in &rows {
        let work = full - empty;
        println!(
            "{:<7} {:>9.3} {:>9.3} {:>10.3} {:>9} {:>9.0} {:>11.3}",
            peer.name(),
            full,
            empty,
            work,
            ratio(work),
            mips(work),
            cpu
        );
    }
    println!(
        "(total: spawn to \"{CPU_MARKER}\"; boot: the same with iterations=0; workload = total - \
         boot; emu / it: emu's workload time over this machine's; MIPS: emu's retired-instruction \
         count for the workload over this machine's workload time; work cpu s: CPU time, all \
         threads, of the same two runs, total - boot)"
    );
    if let Some(emu) = emu_work {
        for &(peer, full, empty, _) in &rows {
            let work = full - empty;
            match peer {
                Peer::Bochs => verdict(
                    &format!("emu is {:.2}x as fast as Bochs", work / emu),
                    "at least 2x",
                    work / emu >= 2.0,
                ),
                Peer::Qemu => verdict(
                    &format!("emu takes {:.2}x QEMU TCG's time", emu / work),
                    "at most 1.5x",
                    emu / work <= 1.5,
                ),
                Peer::Emu => {}
            }
        }
        if let Some((seconds, _)) = native {
            println!("emu takes {:.1}x the native time", emu / seconds);
        }
    }
    Ok(())
}

fn verdict(figure: &str, target: &str, met: bool) {
    println!(
        "{figure} (target: {target}): {}",
        if met { "met" } else { "NOT met" }
    );
}

fn boot(o: &Options, peers: &[Peer]) -> Result<(), String> {
    println!();
    println!(
        "== Boot: the default image to {BOOT_MARKER:?} on COM1 (the BOOT_MARKER constant in \
         emulator/benches/peers/main.rs; the shell prompt once there is a shell) =="
    );
    let image = Path::new(emulator::artifacts::DEFAULT_IMAGE);
    let counts = inprocess::boot(image, BOOT_MARKER)?;
    println!(
        "instructions (emu, retired) to the marker: {} (library run: {:.3} s)",
        counts.instret, counts.seconds
    );
    let mut emu_run = None;
    let mut rows = Vec::new();
    for &peer in peers {
        match best(o, peer, image, BOOT_MARKER) {
            Ok(run) => {
                if peer == Peer::Emu {
                    emu_run = Some((run.seconds, run.peak_rss_kib));
                }
                rows.push((peer, run.seconds, run.peak_rss_kib, run.cpu_seconds));
            }
            Err(e) => println!("{}: {e}", peer.name()),
        }
    }
    println!(
        "{:<7} {:>9} {:>9} {:>9} {:>12} {:>7}",
        "machine", "total s", "emu / it", "emu MIPS", "peak RSS MiB", "cpu s"
    );
    for &(peer, seconds, rss, cpu) in &rows {
        let ratio = emu_run.map_or("-".to_string(), |(e, _)| format!("{:.2}", e / seconds));
        let mips = if peer == Peer::Emu {
            format!("{:.0}", counts.instret as f64 / seconds / 1e6)
        } else {
            "-".to_string()
        };
        println!(
            "{:<7} {:>9.3} {:>9} {:>9} {:>12.1} {:>7.3}",
            peer.name(),
            seconds,
            ratio,
            mips,
            rss as f64 / 1024.0,
            cpu
        );
    }
    println!(
        "(total: spawn to the marker, process start-up and firmware included; cpu s: CPU time \
         of that run, all threads)"
    );
    if let Some((seconds, rss_kib)) = emu_run {
        verdict(
            &format!("emu boots to the marker in {seconds:.3} s"),
            "under 1 s",
            seconds < 1.0,
        );
        let touched_mib = counts.touched_pages as f64 * 4096.0 / (1 << 20) as f64;
        let rss_mib = rss_kib as f64 / 1024.0;
        println!();
        println!(
            "== Memory: a {} MiB guest, booted to the marker ==",
            machines::RAM_MIB
        );
        println!(
            "emu peak RSS {rss_mib:.1} MiB; guest RAM pages the host backs {touched_mib:.1} MiB \
             ({} pages, mincore on the library run's RAM); the rest {:.1} MiB",
            counts.touched_pages,
            rss_mib - touched_mib
        );
        verdict(
            &format!("RSS - touched pages = {:.1} MiB", rss_mib - touched_mib),
            "at most 50 MiB",
            rss_mib - touched_mib <= 50.0,
        );
    }
    Ok(())
}
