//! The tracer: turns the machine's events into Perfetto packets.
//!
//! Time: every packet carries the machine's virtual time in nanoseconds.
//! CPU-side events pass the retired-instruction count, which the tracer
//! converts with a copy of the machine's clock (refreshed at every slice
//! of the run loop, the only place the clock's idle skip changes);
//! device-side events take the time the board last synchronised (before
//! every port access and every timer advance). Stamps never go backwards:
//! an event is stamped no earlier than the one before it, so the stream is
//! in time order, and the same run gives the same bytes.
//!
//! State kept to shape the stream: the interrupt handlers and `hlt` open
//! on the CPU track (slices), the ATA command open on each channel, a flow
//! id per raised IRQ line (from the raise to the handler the PIC's
//! acknowledge leads to), the guest's processes and threads, and the
//! counters' last sample.

use super::annotate::{self, Annotation};
use super::category::Category;
use super::proto::{
    encode_packet, DebugAnnotation, EventType, TracePacket, TrackDescriptor, TrackEvent,
    SEQ_INCREMENTAL_STATE_CLEARED,
};
use super::tracks;
use super::{PacketKind, TraceOptions, TraceSink};
use crate::devices::Nanos;
use crate::machine::clock::Clock;
use std::collections::BTreeMap;

/// The one packet sequence the emulator writes.
const SEQUENCE: u32 = 1;
/// How often counters are sampled, in virtual nanoseconds.
const COUNTER_PERIOD: Nanos = 1_000_000;

/// How an interrupt-like event reached the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Exception,
    External,
    Software,
}

/// Counter bookkeeping.
#[derive(Debug, Default)]
struct Counters {
    next_sample: Nanos,
    last_time: Nanos,
    last_instret: u64,
    last_misses: u64,
    interrupts: u64,
}

/// A guest thread as the annotations declared it.
#[derive(Debug, Clone)]
struct GuestThread {
    pid: u32,
    name: String,
}

/// Turns events into packets and hands them to the sinks.
pub struct Tracer {
    options: TraceOptions,
    sinks: Vec<Box<dyn TraceSink>>,
    clock: Clock,
    /// The latest time stamped (stamps never go backwards).
    time: Nanos,
    first_packet: bool,
    next_flow: u64,
    /// The flow started by the last raise of each IRQ line, not yet
    /// acknowledged.
    irq_flow: [Option<u64>; 16],
    /// The IRQ the PIC just acknowledged and its flow: the next external
    /// delivery is its handler.
    acked: Option<(u8, Option<u64>)>,
    /// Interrupt handler slices open on the CPU track.
    handler_depth: u32,
    halted: bool,
    ata_open: [bool; 2],
    counters: Counters,
    processes: BTreeMap<u32, String>,
    threads: BTreeMap<u32, GuestThread>,
    /// The guest thread whose slice is open on the running track.
    running: Option<u32>,
    /// Threads inside a system call (slice open on their track).
    in_syscall: BTreeMap<u32, u32>,
}

impl Tracer {
    /// A tracer writing to `sinks`; declares the fixed tracks at once.
    pub fn new(options: TraceOptions, clock: Clock, sinks: Vec<Box<dyn TraceSink>>) -> Tracer {
        let mut t = Tracer {
            options,
            sinks,
            clock,
            time: 0,
            first_packet: true,
            next_flow: 1,
            irq_flow: [None; 16],
            acked: None,
            handler_depth: 0,
            halted: false,
            ata_open: [false; 2],
            counters: Counters::default(),
            processes: BTreeMap::new(),
            threads: BTreeMap::new(),
            running: None,
            in_syscall: BTreeMap::new(),
        };
        for d in tracks::fixed() {
            t.descriptor(d);
        }
        t
    }

    /// Whether events of `category` are recorded.
    #[inline(always)]
    pub fn wants(&self, category: Category) -> bool {
        self.options.categories.contains(category)
    }

    /// The options the trace was started with.
    pub fn options(&self) -> &TraceOptions {
        &self.options
    }

    /// Adds a sink; it receives the descriptors declared so far first.
    pub fn add_sink(&mut self, mut sink: Box<dyn TraceSink>) {
        for d in tracks::fixed() {
            let p = self.packet_for_descriptor(d, false);
            sink.packet(&encode_packet(&p), PacketKind::Descriptor);
        }
        let procs: Vec<_> = self
            .processes
            .iter()
            .map(|(pid, n)| tracks::process_descriptor(*pid, n))
            .collect();
        let threads: Vec<_> = self
            .threads
            .iter()
            .map(|(tid, t)| tracks::thread_descriptor(t.pid, *tid, &t.name))
            .collect();
        for d in procs.into_iter().chain(threads) {
            let p = self.packet_for_descriptor(d, false);
            sink.packet(&encode_packet(&p), PacketKind::Descriptor);
        }
        self.sinks.push(sink);
    }

    // ---- time ----

    /// The machine's clock changed (a new slice of the run loop).
    pub fn set_clock(&mut self, clock: &Clock) {
        self.clock = clock.clone();
    }

    /// The board synchronised device time to `now`.
    #[inline]
    pub fn sync(&mut self, now: Nanos) {
        self.time = self.time.max(now);
    }

    /// The stamp for an event after `instret` retired instructions.
    fn at(&mut self, instret: u64) -> Nanos {
        self.sync(self.clock.now(instret));
        self.time
    }

    /// The latest time (the stamp for device-side events).
    pub fn now(&self) -> Nanos {
        self.time
    }

    // ---- packets ----

    fn packet_for_descriptor(&mut self, d: TrackDescriptor, first: bool) -> TracePacket {
        TracePacket {
            trusted_packet_sequence_id: Some(SEQUENCE),
            sequence_flags: first.then_some(SEQ_INCREMENTAL_STATE_CLEARED),
            track_descriptor: Some(d),
            ..Default::default()
        }
    }

    fn send(&mut self, p: TracePacket, kind: PacketKind) {
        let bytes = encode_packet(&p);
        for s in &mut self.sinks {
            s.packet(&bytes, kind);
        }
    }

    fn descriptor(&mut self, d: TrackDescriptor) {
        let first = std::mem::take(&mut self.first_packet);
        let p = self.packet_for_descriptor(d, first);
        self.send(p, PacketKind::Descriptor);
    }

    fn emit(&mut self, ts: Nanos, event: TrackEvent) {
        let p = TracePacket {
            timestamp: Some(ts),
            trusted_packet_sequence_id: Some(SEQUENCE),
            track_event: Some(event),
            ..Default::default()
        };
        self.send(p, PacketKind::Event);
    }

    fn instant(
        &mut self,
        ts: Nanos,
        cat: Category,
        track: u64,
        name: String,
        args: Vec<DebugAnnotation>,
    ) {
        self.emit(ts, event(EventType::Instant, cat, track, Some(name), args));
    }

    fn begin(
        &mut self,
        ts: Nanos,
        cat: Category,
        track: u64,
        name: String,
        args: Vec<DebugAnnotation>,
    ) {
        self.emit(
            ts,
            event(EventType::SliceBegin, cat, track, Some(name), args),
        );
    }

    fn end(&mut self, ts: Nanos, cat: Category, track: u64, args: Vec<DebugAnnotation>) {
        self.emit(ts, event(EventType::SliceEnd, cat, track, None, args));
    }

    fn counter(&mut self, ts: Nanos, track: u64, value: i64) {
        let mut e = event(EventType::Counter, Category::Counters, track, None, vec![]);
        e.counter_value = Some(value);
        self.emit(ts, e);
    }

    // ---- CPU ----

    /// The CPU changed operating mode.
    pub fn mode_switch(&mut self, instret: u64, from: &str, to: &str) {
        let ts = self.at(instret);
        self.instant(
            ts,
            Category::Cpu,
            tracks::CPU,
            format!("mode {from} -> {to}"),
            vec![
                DebugAnnotation::string("from", from),
                DebugAnnotation::string("to", to),
            ],
        );
    }

    /// An exception was raised (before its delivery).
    pub fn exception(
        &mut self,
        instret: u64,
        mnemonic: &str,
        vector: u8,
        error: Option<u32>,
        address: Option<u64>,
        rip: u64,
    ) {
        let ts = self.at(instret);
        let mut args = vec![
            DebugAnnotation::uint("vector", vector as u64),
            DebugAnnotation::pointer("rip", rip),
        ];
        if let Some(e) = error {
            args.push(DebugAnnotation::uint("error_code", e as u64));
        }
        if let Some(a) = address {
            args.push(DebugAnnotation::pointer("address", a));
        }
        if self.wants(Category::Cpu) {
            self.instant(
                ts,
                Category::Cpu,
                tracks::CPU,
                mnemonic.into(),
                args.clone(),
            );
        }
        if let (Some(a), true) = (address, self.wants(Category::Mmu)) {
            self.instant(
                ts,
                Category::Mmu,
                tracks::MMU,
                "page fault".into(),
                vec![
                    DebugAnnotation::pointer("address", a),
                    DebugAnnotation::uint("error_code", error.unwrap_or(0) as u64),
                    DebugAnnotation::pointer("rip", rip),
                ],
            );
        }
    }

    /// The CPU transferred control to the handler of `vector`; this ends
    /// a `hlt` the CPU was waiting in.
    pub fn interrupt_enter(&mut self, instret: u64, vector: u8, how: Delivery) {
        let ts = self.at(instret);
        if self.halted {
            self.halted = false;
            self.end(ts, Category::Cpu, tracks::CPU, vec![]);
        }
        let acked = if how == Delivery::External {
            self.counters.interrupts += 1;
            self.acked.take()
        } else {
            None
        };
        let name = match (how, acked) {
            (Delivery::External, Some((irq, _))) => format!("IRQ {irq} handler"),
            (Delivery::External, None) if vector == 2 => "NMI handler".into(),
            (Delivery::External, None) => format!("interrupt 0x{vector:02x} handler"),
            (Delivery::Exception, _) => format!("{} handler", exception_name(vector)),
            (Delivery::Software, _) => format!("int 0x{vector:02x}"),
        };
        let mut e = event(
            EventType::SliceBegin,
            Category::Cpu,
            tracks::CPU,
            Some(name),
            vec![DebugAnnotation::uint("vector", vector as u64)],
        );
        if let Some((irq, flow)) = acked {
            e.debug_annotations
                .push(DebugAnnotation::uint("irq", irq as u64));
            e.terminating_flow_ids.extend(flow);
        }
        self.handler_depth += 1;
        self.emit(ts, e);
    }

    /// An external interrupt was delivered (counted for the interrupt
    /// rate when cpu events are not recorded).
    pub fn count_interrupt(&mut self) {
        self.counters.interrupts += 1;
    }

    /// IRET: the innermost handler returned.
    pub fn interrupt_return(&mut self, instret: u64) {
        let ts = self.at(instret);
        // An IRET with no handler open (a kernel entering user mode the
        // first time) ends nothing.
        if self.handler_depth > 0 {
            self.handler_depth -= 1;
            self.end(ts, Category::Cpu, tracks::CPU, vec![]);
        }
    }

    /// `hlt`: the CPU waits for an interrupt.
    pub fn halt(&mut self, instret: u64, rip: u64) {
        let ts = self.at(instret);
        if !self.halted {
            self.halted = true;
            self.begin(
                ts,
                Category::Cpu,
                tracks::CPU,
                "hlt".into(),
                vec![DebugAnnotation::pointer("rip", rip)],
            );
        }
    }

    /// A fault while delivering a double fault: the CPU shuts down.
    pub fn triple_fault(&mut self, instret: u64) {
        let ts = self.at(instret);
        self.instant(
            ts,
            Category::Cpu,
            tracks::CPU,
            "triple fault".into(),
            vec![],
        );
    }

    /// The machine reset: every open slice on the CPU track is closed.
    pub fn reset(&mut self, instret: u64) {
        let ts = self.at(instret);
        for _ in 0..self.handler_depth + self.halted as u32 {
            self.end(ts, Category::Cpu, tracks::CPU, vec![]);
        }
        self.handler_depth = 0;
        self.halted = false;
        self.instant(ts, Category::Cpu, tracks::CPU, "reset".into(), vec![]);
    }

    // ---- MMU ----

    /// A page walk filled the TLB.
    pub fn page_walk(&mut self, linear: u64, physical: u64, page_size: u64) {
        let ts = self.time;
        self.instant(
            ts,
            Category::Walk,
            tracks::MMU,
            "page walk".into(),
            vec![
                DebugAnnotation::pointer("linear", linear),
                DebugAnnotation::pointer("physical", physical),
                DebugAnnotation::uint("page_size", page_size),
            ],
        );
    }

    /// The TLB was flushed.
    pub fn tlb_flush(&mut self, cause: &str, page: Option<u64>) {
        let ts = self.time;
        let mut args = vec![DebugAnnotation::string("cause", cause)];
        if let Some(p) = page {
            args.push(DebugAnnotation::pointer("linear", p));
        }
        self.instant(
            ts,
            Category::Mmu,
            tracks::MMU,
            format!("TLB flush ({cause})"),
            args,
        );
    }

    // ---- interrupt controller ----

    /// An IRQ line went high (`rising`) or low.
    pub fn irq_line(&mut self, irq: u8, high: bool) {
        let ts = self.time;
        if high {
            let flow = self.next_flow;
            self.next_flow += 1;
            self.irq_flow[irq as usize & 15] = Some(flow);
            let mut e = event(
                EventType::Instant,
                Category::Irq,
                tracks::PIC,
                Some(format!("IRQ {irq} raised")),
                vec![DebugAnnotation::uint("irq", irq as u64)],
            );
            e.flow_ids.push(flow);
            self.emit(ts, e);
        } else {
            self.instant(
                ts,
                Category::Irq,
                tracks::PIC,
                format!("IRQ {irq} lowered"),
                vec![DebugAnnotation::uint("irq", irq as u64)],
            );
        }
    }

    /// The PIC answered an interrupt acknowledge with `vector` for `irq`
    /// (`None`: a spurious interrupt).
    pub fn pic_acknowledge(&mut self, irq: Option<u8>, vector: u8) {
        let ts = self.time;
        let flow = irq.and_then(|i| self.irq_flow[i as usize & 15].take());
        self.acked = irq.map(|i| (i, flow));
        if !self.wants(Category::Irq) {
            return;
        }
        let name = match irq {
            Some(i) => format!("ack IRQ {i}"),
            None => "spurious interrupt".into(),
        };
        self.instant(
            ts,
            Category::Irq,
            tracks::PIC,
            name,
            vec![DebugAnnotation::uint("vector", vector as u64)],
        );
    }

    /// An end-of-interrupt command; `irq` is the level it ended, if any.
    pub fn pic_eoi(&mut self, controller: &str, irq: Option<u8>, specific: bool) {
        let ts = self.time;
        let mut args = vec![
            DebugAnnotation::string("controller", controller),
            DebugAnnotation::boolean("specific", specific),
        ];
        let name = match irq {
            Some(i) => {
                args.push(DebugAnnotation::uint("irq", i as u64));
                format!("EOI IRQ {i}")
            }
            None => "EOI (nothing in service)".into(),
        };
        self.instant(ts, Category::Irq, tracks::PIC, name, args);
    }

    // ---- devices ----

    /// A PIT channel was given a new mode or count.
    pub fn pit_program(&mut self, channel: u8, mode: u8, reload: u32) {
        let ts = self.time;
        self.instant(
            ts,
            Category::Pit,
            tracks::PIT,
            format!("PIT ch{channel} mode {mode} count {reload}"),
            vec![
                DebugAnnotation::uint("channel", channel as u64),
                DebugAnnotation::uint("mode", mode as u64),
                DebugAnnotation::uint("reload", reload as u64),
            ],
        );
    }

    /// A byte left (`tx`) or arrived at (`!tx`) a UART.
    pub fn uart_byte(&mut self, com: u8, tx: bool, byte: u8) {
        let ts = self.time;
        let track = if com == 1 { tracks::COM1 } else { tracks::COM2 };
        let shown = match byte {
            0x20..=0x7E => format!("'{}'", byte as char),
            _ => format!("0x{byte:02x}"),
        };
        self.instant(
            ts,
            Category::Uart,
            track,
            format!("{} {shown}", if tx { "tx" } else { "rx" }),
            vec![DebugAnnotation::uint("byte", byte as u64)],
        );
    }

    /// An ATA command was written to a channel's command register.
    pub fn ata_command(&mut self, channel: usize, drive: u8, command: u8, lba: u64, count: u32) {
        let ts = self.time;
        let track = tracks::ata(channel);
        if std::mem::replace(&mut self.ata_open[channel & 1], true) {
            // A new command aborts the one still open.
            self.end(ts, Category::Ata, track, vec![]);
        }
        self.begin(
            ts,
            Category::Ata,
            track,
            ata_command_name(command),
            vec![
                DebugAnnotation::uint("command", command as u64),
                DebugAnnotation::uint("drive", drive as u64),
                DebugAnnotation::uint("lba", lba),
                DebugAnnotation::uint("count", count as u64),
            ],
        );
    }

    /// The command open on `channel` finished with `status` (and `error`).
    pub fn ata_complete(&mut self, channel: usize, status: u8, error: u8) {
        let ts = self.time;
        if std::mem::replace(&mut self.ata_open[channel & 1], false) {
            self.end(
                ts,
                Category::Ata,
                tracks::ata(channel),
                vec![
                    DebugAnnotation::uint("status", status as u64),
                    DebugAnnotation::uint("error", error as u64),
                ],
            );
        }
    }

    /// A POST code on port 0x80.
    pub fn post_code(&mut self, code: u8) {
        let ts = self.time;
        self.instant(
            ts,
            Category::Post,
            tracks::POST,
            format!("POST 0x{code:02x}"),
            vec![DebugAnnotation::uint("code", code as u64)],
        );
    }

    /// Port I/O, when `port` is in the selected range.
    pub fn port_io(&mut self, port: u16, size: u8, value: u32, write: bool) {
        let Some((lo, hi)) = self.options.ports else {
            return;
        };
        if port < lo || port > hi {
            return;
        }
        let ts = self.time;
        let dir = if write { "out" } else { "in" };
        self.instant(
            ts,
            Category::Ports,
            tracks::PORTS,
            format!("{dir} 0x{port:04x}"),
            vec![
                DebugAnnotation::uint("port", port as u64),
                DebugAnnotation::uint("size", size as u64),
                DebugAnnotation::uint("value", value as u64),
            ],
        );
    }

    // ---- counters ----

    /// Called by the run loop between slices: emits the counters once a
    /// virtual millisecond or more has passed since the last sample.
    pub fn sample(&mut self, instret: u64, tlb_misses: u64) {
        let ts = self.at(instret);
        let c = &self.counters;
        if ts < c.next_sample {
            return;
        }
        let elapsed_ms = ((ts - c.last_time) as f64 / COUNTER_PERIOD as f64).max(1e-9);
        let per_ms = |n: u64| (n as f64 / elapsed_ms).round() as i64;
        let irqs = per_ms(c.interrupts);
        let misses = per_ms(tlb_misses.saturating_sub(c.last_misses));
        let insns = per_ms(instret.saturating_sub(c.last_instret));
        self.counters = Counters {
            next_sample: ts + COUNTER_PERIOD,
            last_time: ts,
            last_instret: instret,
            last_misses: tlb_misses,
            interrupts: 0,
        };
        if self.wants(Category::Counters) {
            self.counter(ts, tracks::IRQ_RATE, irqs);
            self.counter(ts, tracks::TLB_MISSES, misses);
            self.counter(ts, tracks::INSTRUCTIONS_PER_MS, insns);
        }
    }

    // ---- instruction trace ----

    /// One traced instruction.
    pub fn instruction(
        &mut self,
        instret: u64,
        rip: u64,
        text: String,
        args: Vec<DebugAnnotation>,
    ) {
        let ts = self.at(instret);
        let mut args = args;
        args.insert(0, DebugAnnotation::pointer("address", rip));
        self.instant(ts, Category::Insn, tracks::INSTRUCTIONS, text, args);
    }

    // ---- the guest ----

    /// A complete annotation from the guest kernel (see `annotate`).
    pub fn annotation(&mut self, a: Annotation) {
        let ts = self.time;
        match a {
            Annotation::ProcessStart { pid, parent, name } => {
                self.processes.insert(pid, name.clone());
                self.descriptor(tracks::process_descriptor(pid, &name));
                // The main thread has the process's id (Linux's habit).
                self.threads.insert(
                    pid,
                    GuestThread {
                        pid,
                        name: name.clone(),
                    },
                );
                self.descriptor(tracks::thread_descriptor(pid, pid, &name));
                self.instant(
                    ts,
                    Category::Guest,
                    tracks::process(pid),
                    format!("start {name}"),
                    vec![
                        DebugAnnotation::uint("pid", pid as u64),
                        DebugAnnotation::uint("parent", parent as u64),
                    ],
                );
            }
            Annotation::ProcessExit { pid, status } => {
                self.instant(
                    ts,
                    Category::Guest,
                    tracks::process(pid),
                    "exit".into(),
                    vec![DebugAnnotation::int("status", status as i64)],
                );
                let tids: Vec<u32> = self
                    .threads
                    .iter()
                    .filter(|(_, t)| t.pid == pid)
                    .map(|(tid, _)| *tid)
                    .collect();
                for tid in tids {
                    if self.in_syscall.remove(&tid).is_some() {
                        self.end(ts, Category::Guest, tracks::thread(tid), vec![]);
                    }
                }
            }
            Annotation::ThreadStart { pid, tid, name } => {
                self.threads.insert(
                    tid,
                    GuestThread {
                        pid,
                        name: name.clone(),
                    },
                );
                self.descriptor(tracks::thread_descriptor(pid, tid, &name));
            }
            Annotation::Switch { from, to } => {
                if self.running.take().is_some() {
                    self.end(ts, Category::Guest, tracks::RUNNING, vec![]);
                }
                let name = self.thread_name(to);
                let pid = self.threads.get(&to).map_or(to, |t| t.pid);
                self.begin(
                    ts,
                    Category::Guest,
                    tracks::RUNNING,
                    name,
                    vec![
                        DebugAnnotation::uint("from_tid", from as u64),
                        DebugAnnotation::uint("tid", to as u64),
                        DebugAnnotation::uint("pid", pid as u64),
                    ],
                );
                self.running = Some(to);
            }
            Annotation::SyscallEnter { tid, number } => {
                if self.in_syscall.insert(tid, number).is_some() {
                    self.end(ts, Category::Guest, tracks::thread(tid), vec![]);
                }
                self.begin(
                    ts,
                    Category::Guest,
                    tracks::thread(tid),
                    annotate::syscall_name(number),
                    vec![DebugAnnotation::uint("number", number as u64)],
                );
            }
            Annotation::SyscallExit { tid, result } => {
                if self.in_syscall.remove(&tid).is_some() {
                    self.end(
                        ts,
                        Category::Guest,
                        tracks::thread(tid),
                        vec![DebugAnnotation::int("result", result)],
                    );
                }
            }
            Annotation::PageFault { tid, address, code } => self.instant(
                ts,
                Category::Guest,
                tracks::thread(tid),
                "page fault".into(),
                vec![
                    DebugAnnotation::pointer("address", address),
                    DebugAnnotation::uint("error_code", code as u64),
                ],
            ),
            Annotation::Swap {
                tid,
                out,
                page,
                slot,
            } => self.instant(
                ts,
                Category::Guest,
                tracks::thread(tid),
                if out { "swap out" } else { "swap in" }.into(),
                vec![
                    DebugAnnotation::pointer("page", page),
                    DebugAnnotation::uint("slot", slot as u64),
                ],
            ),
            Annotation::Mark { text } => {
                self.instant(ts, Category::Guest, tracks::GUEST, text, vec![])
            }
            Annotation::Malformed { why } => self.instant(
                ts,
                Category::Guest,
                tracks::GUEST,
                "malformed annotation".into(),
                vec![DebugAnnotation::string("why", why)],
            ),
        }
    }

    fn thread_name(&self, tid: u32) -> String {
        self.threads
            .get(&tid)
            .map_or_else(|| format!("tid {tid}"), |t| format!("{} ({tid})", t.name))
    }

    /// The run is over: close what is open and flush the sinks.
    pub fn finish(&mut self, instret: u64) {
        let ts = self.at(instret);
        for _ in 0..self.handler_depth + self.halted as u32 {
            self.end(ts, Category::Cpu, tracks::CPU, vec![]);
        }
        self.handler_depth = 0;
        self.halted = false;
        for ch in 0..2 {
            if std::mem::take(&mut self.ata_open[ch]) {
                self.end(ts, Category::Ata, tracks::ata(ch), vec![]);
            }
        }
        let open: Vec<u32> = self.in_syscall.keys().copied().collect();
        for tid in open {
            self.end(ts, Category::Guest, tracks::thread(tid), vec![]);
        }
        self.in_syscall.clear();
        if self.running.take().is_some() {
            self.end(ts, Category::Guest, tracks::RUNNING, vec![]);
        }
        for s in &mut self.sinks {
            s.finish();
        }
    }
}

/// A track event with its category.
fn event(
    ty: EventType,
    cat: Category,
    track: u64,
    name: Option<String>,
    args: Vec<DebugAnnotation>,
) -> TrackEvent {
    TrackEvent {
        r#type: Some(ty as i32),
        track_uuid: Some(track),
        categories: vec![cat.name().into()],
        name,
        debug_annotations: args,
        ..Default::default()
    }
}

/// `#PF`, `#GP`, ... for exception vectors; `vector 0xNN` otherwise.
pub fn exception_name(vector: u8) -> String {
    const NAMES: [&str; 21] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS", "#NP", "#SS",
        "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE",
    ];
    NAMES
        .get(vector as usize)
        .map_or_else(|| format!("vector 0x{vector:02x}"), |n| (*n).into())
}

/// The ATA command's name (ATA/ATAPI-6 command table).
fn ata_command_name(command: u8) -> String {
    match command {
        0x20 | 0x21 => "READ SECTORS".into(),
        0x24 => "READ SECTORS EXT".into(),
        0x30 | 0x31 => "WRITE SECTORS".into(),
        0x34 => "WRITE SECTORS EXT".into(),
        0xC4 => "READ MULTIPLE".into(),
        0xC5 => "WRITE MULTIPLE".into(),
        0x29 => "READ MULTIPLE EXT".into(),
        0x39 => "WRITE MULTIPLE EXT".into(),
        0x40 | 0x41 => "READ VERIFY SECTORS".into(),
        0x10..=0x1F => "RECALIBRATE".into(),
        0x70 => "SEEK".into(),
        0x90 => "EXECUTE DEVICE DIAGNOSTIC".into(),
        0x91 => "INITIALIZE DEVICE PARAMETERS".into(),
        0xC6 => "SET MULTIPLE MODE".into(),
        0xE0 => "STANDBY IMMEDIATE".into(),
        0xE1 => "IDLE IMMEDIATE".into(),
        0xE5 => "CHECK POWER MODE".into(),
        0xE7 => "FLUSH CACHE".into(),
        0xEA => "FLUSH CACHE EXT".into(),
        0xEC => "IDENTIFY DEVICE".into(),
        0xA1 => "IDENTIFY PACKET DEVICE".into(),
        0xEF => "SET FEATURES".into(),
        c => format!("ATA command 0x{c:02x}"),
    }
}
