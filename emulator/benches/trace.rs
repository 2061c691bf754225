//! Tracing cost (`cargo bench -p emulator --bench trace`): boots the
//! default image for a fixed number of instructions with no trace, then
//! with each event category alone, the default set and everything, and
//! prints host seconds (best of `RUNS`), packets and bytes per run.
//!
//! Packets go to a sink that only counts them, so the figures are the cost
//! of producing the stream (hooks, encoding), not of a disk. What tracing
//! *off* costs against a build without hooks is measured by comparing this
//! bench's `off` line, or `bench cpu`, with the same on a build of the
//! parent commit (docs/tracing.md, "Cost").

use emulator::artifacts::DEFAULT_IMAGE;
use emulator::devices::disk::DiskMode;
use emulator::machine::clock::ClockMode;
use emulator::machine::{DiskSpec, HostIo, Machine, MachineConfig};
use emulator::trace::{Categories, Category, PacketKind, TraceOptions, TraceSink};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The boot runs to the shell prompt in about this many instructions.
const INSTRUCTIONS: u64 = 20_000_000;
const RUNS: usize = 3;

#[derive(Default, Clone)]
struct Counting {
    packets: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

impl TraceSink for Counting {
    fn packet(&mut self, bytes: &[u8], _: PacketKind) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    }
}

fn machine() -> Machine {
    let (com1_out, _) = crossbeam_channel::unbounded();
    let (_, com1_in) = crossbeam_channel::unbounded();
    let (com2_out, _) = crossbeam_channel::unbounded();
    let (_, com2_in) = crossbeam_channel::unbounded();
    let (debug_out, _) = crossbeam_channel::unbounded();
    let (_, quit) = crossbeam_channel::bounded(1);
    let config = MachineConfig {
        ram_size: 256 << 20,
        bios: emulator::firmware::BIOS.to_vec(),
        disks: vec![DiskSpec {
            path: DEFAULT_IMAGE.into(),
            mode: DiskMode::Snapshot,
        }],
        clock: ClockMode::Virtual,
        no_reboot: true,
        max_instructions: Some(INSTRUCTIONS),
        timeout: None,
        rtc_start: Some(0),
    };
    let io = HostIo {
        com1_out,
        com1_in,
        com2_out,
        com2_in,
        debug_out,
        quit,
    };
    Machine::new(config, io).expect("machine")
}

/// Best time of `RUNS` boots, and the packets and bytes of one.
fn measure(options: Option<TraceOptions>) -> (Duration, u64, u64) {
    let mut best = Duration::MAX;
    let sink = Counting::default();
    for _ in 0..RUNS {
        let mut m = machine();
        sink.packets.store(0, Ordering::Relaxed);
        sink.bytes.store(0, Ordering::Relaxed);
        if let Some(o) = &options {
            m.start_trace(o.clone(), vec![Box::new(sink.clone())]);
        }
        let start = Instant::now();
        m.run();
        m.finish_trace();
        best = best.min(start.elapsed());
    }
    (
        best,
        sink.packets.load(Ordering::Relaxed),
        sink.bytes.load(Ordering::Relaxed),
    )
}

fn main() {
    println!(
        "Tracing cost: default image, {INSTRUCTIONS} instructions, best of {RUNS} \
         (packets counted, not written)"
    );
    let (off, _, _) = measure(None);
    let line = |name: &str, (t, packets, bytes): (Duration, u64, u64)| {
        println!(
            "{name:<10} {:>8.3} s  {:>+7.1}%  {packets:>9} packets  {:>8} KiB",
            t.as_secs_f64(),
            (t.as_secs_f64() / off.as_secs_f64() - 1.0) * 100.0,
            bytes / 1024
        );
    };
    line("off", (off, 0, 0));
    for c in Category::ALL {
        if c == Category::Insn {
            continue;
        }
        let options = TraceOptions {
            categories: Categories::none().with(c),
            ports: (c == Category::Ports).then_some((0, 0xFFFF)),
        };
        line(c.name(), measure(Some(options)));
    }
    line("default", measure(Some(TraceOptions::default())));
    let all = TraceOptions {
        categories: Categories::all().without(Category::Insn),
        ports: Some((0, 0xFFFF)),
    };
    line("all", measure(Some(all)));
}
