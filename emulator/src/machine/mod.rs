//! The PC board: the CPU, memory and devices wired as DESIGN.md says, and
//! the loop that runs them on one clock.
//!
//! - `ports`: the port decoder (non-overlapping ranges, whole-access checks).
//! - `clock`: virtual or host time.
//! - `snapshot`: the machine saved to a file and loaded back.
//! - `session`: scripted expect/send sessions on the serial console, the
//!   engine behind `emu test`.
//!
//! | ports                      | device                         | IRQ |
//! |----------------------------|--------------------------------|-----|
//! | 0x20-0x21, 0xA0-0xA1       | 8259A pair (`devices::pic`)    |     |
//! | 0x40-0x43, 0x61            | 8254 PIT (`devices::pit`)      | 0   |
//! | 0x60, 0x64                 | 8042 (`devices::i8042`)        | 1   |
//! | 0x70-0x71                  | CMOS RTC (`devices::cmos`)     | 8   |
//! | 0x80                       | POST codes                     |     |
//! | 0x92                       | fast A20 and reset             |     |
//! | 0x3F8-0x3FF, 0x2F8-0x2FF   | 16550A COM1, COM2              | 4, 3|
//! | 0x1F0-0x1F7, 0x3F6         | ATA channel 0                  | 14  |
//! | 0x170-0x177, 0x376         | ATA channel 1                  | 15  |
//! | 0xE9                       | debug console                  |     |
//! | 0xF4-0xF7                  | exit device (isa-debug-exit)   |     |
//! | 0x540-0x54B                | trace annotations (`trace::annotate`) | |
//!
//! The CPU reaches the board through `bus::Bus`; the board's devices are
//! shared between that bus and the run loop through `Rc<RefCell<Board>>`
//! (one thread: the CPU and devices never run at the same time).

pub mod clock;
pub mod direct_boot;
pub mod ports;
pub mod session;
pub mod snapshot;

use crate::bus::{all_ones, AccessSize, Bus, Control};
use crate::cpu::{Cpu, Stop};
use crate::devices::ata::AtaChannel;
use crate::devices::cmos::{BootDevice, Cmos, CmosConfig, RtcBase};
use crate::devices::disk::{Disk, DiskError, DiskMode};
use crate::devices::i8042::I8042;
use crate::devices::pic::PicPair;
use crate::devices::pit::Pit;
use crate::devices::sysports::{DebugConsole, ExitPort, PostPort, SystemControlA};
use crate::devices::uart::Uart;
use crate::devices::{ControlQueue, IrqLines, Nanos, Now, PortDevice, Timed};
use crate::memory::{MemoryError, PhysMemory};
use crate::trace::annotate::{self, AnnotationPort};
use crate::trace::instructions::{InstructionTrace, Window};
use crate::trace::{Category, Trace, TraceOptions, TraceSink, Tracer};
use clock::{Clock, ClockMode};
use crossbeam_channel::{Receiver, Sender};
use ports::PortMap;
use snapshot::{Persist, SnapshotError, StateIo};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Which device a port range belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dev {
    Pic,
    Pit,
    Kbc,
    Cmos,
    Post,
    Port92,
    Com1,
    Com2,
    Ata0,
    Ata1,
    DebugCon,
    Exit,
    Annotate,
}

/// A disk to attach, in order: the first is ATA0 master, then ATA0 slave,
/// ATA1 master, ATA1 slave.
#[derive(Debug, Clone)]
pub struct DiskSpec {
    pub path: PathBuf,
    pub mode: DiskMode,
}

/// Everything that decides what machine is built.
#[derive(Debug, Clone)]
pub struct MachineConfig {
    /// Guest RAM in bytes.
    pub ram_size: u64,
    /// The 64 KiB firmware image.
    pub bios: Vec<u8>,
    pub disks: Vec<DiskSpec>,
    pub clock: ClockMode,
    /// Stop (instead of resetting) on a triple fault.
    pub no_reboot: bool,
    /// Stop after this many instructions.
    pub max_instructions: Option<u64>,
    /// Stop after this much host time.
    pub timeout: Option<Duration>,
    /// The RTC's wall-clock start in Unix seconds, or `None` for the host's
    /// time (virtual-clock runs are deterministic only with a fixed start).
    pub rtc_start: Option<i64>,
}

/// The host ends of the machine's byte streams.
pub struct HostIo {
    /// COM1 output (the serial console).
    pub com1_out: Sender<u8>,
    /// COM1 input.
    pub com1_in: Receiver<u8>,
    /// COM2 output and input.
    pub com2_out: Sender<u8>,
    pub com2_in: Receiver<u8>,
    /// Debug console (port 0xE9) output.
    pub debug_out: Sender<u8>,
    /// A message here stops the machine (the user quit).
    pub quit: Receiver<()>,
}

/// Host-side problems building a machine.
#[derive(Debug, Error)]
pub enum MachineError {
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error(transparent)]
    Disk(#[from] DiskError),
    #[error("at most 4 disks can be attached (2 ATA channels, master and slave), got {0}")]
    TooManyDisks(usize),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The guest wrote to the exit port; the process exit status.
    Exit(u8),
    /// The user quit (Ctrl-A X).
    Quit,
    /// Triple fault under `no_reboot`, with the register dump.
    TripleFault(String),
    /// The host-time limit passed.
    Timeout,
    /// The instruction limit was reached.
    InstructionLimit,
    /// HLT with interrupts disabled and nothing that could wake the CPU.
    Hung(String),
    /// The run's [`Monitor`] ended it (it knows why).
    Finished,
}

/// Watches a run from the machine's own thread, between slices (never per
/// instruction): reads output, injects input, takes snapshots. Everything
/// it does happens at a point fixed by the instruction count, so under the
/// virtual clock a monitored run repeats exactly.
pub trait Monitor {
    /// Called between slices; `Some` ends the run with that outcome.
    fn check(&mut self, machine: &mut Machine) -> Option<Outcome>;
    /// An instruction count the monitor wants to be called at (a slice
    /// ends there), if any.
    fn wake_at(&self) -> Option<u64> {
        None
    }
}

/// A monitor that watches nothing.
struct Unmonitored;

impl Monitor for Unmonitored {
    fn check(&mut self, _: &mut Machine) -> Option<Outcome> {
        None
    }
}

/// The devices and the clock.
pub struct Board {
    ports: PortMap<Dev>,
    pub pic: PicPair,
    pub pit: Pit,
    pub kbc: I8042,
    pub cmos: Cmos,
    pub post: PostPort,
    port92: SystemControlA,
    pub com1: Uart,
    pub com2: Uart,
    pub ata: [AtaChannel; 2],
    debugcon: DebugConsole,
    exit: ExitPort,
    annotate: AnnotationPort,
    control: ControlQueue,
    now: Now,
    clock: Clock,
    lines: Rc<IrqLines>,
    /// The trace handle (empty unless a trace is taken).
    trace: Trace,
}

impl Board {
    fn device(&mut self, d: Dev) -> &mut dyn PortDevice {
        match d {
            Dev::Pic => &mut self.pic,
            Dev::Pit => &mut self.pit,
            Dev::Kbc => &mut self.kbc,
            Dev::Cmos => &mut self.cmos,
            Dev::Post => &mut self.post,
            Dev::Port92 => &mut self.port92,
            Dev::Com1 => &mut self.com1,
            Dev::Com2 => &mut self.com2,
            Dev::Ata0 => &mut self.ata[0],
            Dev::Ata1 => &mut self.ata[1],
            Dev::DebugCon => &mut self.debugcon,
            Dev::Exit => &mut self.exit,
            Dev::Annotate => &mut self.annotate,
        }
    }

    /// Brings every timed device to time `now`.
    fn advance(&mut self, now: Nanos) {
        self.now.set(now);
        self.trace.sync(now);
        self.pit.advance(now);
        self.cmos.advance(now);
        self.com1.advance(now);
        self.com2.advance(now);
    }

    /// The earliest time a device has something to do.
    fn next_event(&self) -> Option<Nanos> {
        [
            self.pit.next_event(),
            self.cmos.next_event(),
            self.com1.next_event(),
            self.com2.next_event(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn port_map() -> PortMap<Dev> {
        let mut m = PortMap::default();
        m.add(0x20, 2, Dev::Pic, 0);
        m.add(0xA0, 2, Dev::Pic, 2);
        m.add(0x40, 4, Dev::Pit, 0);
        m.add(0x61, 1, Dev::Pit, 4);
        m.add(0x60, 1, Dev::Kbc, 0);
        m.add(0x64, 1, Dev::Kbc, 4);
        m.add(0x70, 2, Dev::Cmos, 0);
        m.add(0x80, 1, Dev::Post, 0);
        m.add(0x92, 1, Dev::Port92, 0);
        m.add(0x3F8, 8, Dev::Com1, 0);
        m.add(0x2F8, 8, Dev::Com2, 0);
        m.add(0x1F0, 8, Dev::Ata0, 0);
        m.add(0x3F6, 1, Dev::Ata0, 8);
        m.add(0x170, 8, Dev::Ata1, 0);
        m.add(0x376, 1, Dev::Ata1, 8);
        m.add(0xE9, 1, Dev::DebugCon, 0);
        m.add(0xF4, 4, Dev::Exit, 0);
        m.add(annotate::BASE, annotate::LEN, Dev::Annotate, 0);
        m
    }
}

/// The CPU's view of the board.
struct BoardBus {
    board: Rc<RefCell<Board>>,
    lines: Rc<IrqLines>,
    /// The 8259A's INTR output as last computed. The CPU asks at every
    /// block boundary while IF is set; the answer can only change when an
    /// IRQ line moves, the PIC's ports are touched, or an interrupt is
    /// acknowledged, so it is recomputed only then.
    intr: std::cell::Cell<Option<bool>>,
}

impl Bus for BoardBus {
    fn sync(&mut self, instret: u64) {
        let b = self.board.borrow();
        let t = b.clock.now(instret);
        b.now.set(t);
        b.trace.sync(t);
    }
    fn take_control(&mut self) -> Option<Control> {
        self.board.borrow().control.pop()
    }
    fn cycles(&self, instret: u64) -> u64 {
        // The clock counts nanoseconds: a 1 GHz TSC.
        self.board.borrow().clock.now(instret)
    }
    fn io_read(&mut self, port: u16, size: AccessSize) -> u32 {
        self.intr.set(None);
        let mut b = self.board.borrow_mut();
        let value = match b.ports.lookup(port, size) {
            Some((d, off)) => b.device(d).read(off, size),
            None => all_ones(size) as u32,
        };
        if let Some(mut t) = b.trace.on(Category::Ports) {
            t.port_io(port, size, value, false);
        }
        value
    }
    fn io_write(&mut self, port: u16, size: AccessSize, value: u32) {
        self.intr.set(None);
        let mut b = self.board.borrow_mut();
        if let Some(mut t) = b.trace.on(Category::Ports) {
            t.port_io(port, size, value, true);
        }
        if let Some((d, off)) = b.ports.lookup(port, size) {
            b.device(d).write(off, size, value);
        }
    }
    fn mmio_read(&mut self, _addr: u64, size: AccessSize) -> u64 {
        // The legacy video window and everything past RAM: no device yet.
        all_ones(size)
    }
    fn mmio_write(&mut self, _addr: u64, _size: AccessSize, _value: u64) {}
    fn interrupt_pending(&self) -> bool {
        let moved = self.lines.take_changed();
        match self.intr.get() {
            Some(level) if !moved => level,
            _ => {
                let level = self.board.borrow_mut().pic.interrupt_pending();
                self.intr.set(Some(level));
                level
            }
        }
    }
    fn acknowledge_interrupt(&mut self) -> u8 {
        self.intr.set(None);
        self.board.borrow_mut().pic.acknowledge()
    }
}

/// A PC: CPU, memory, devices, clock.
pub struct Machine {
    pub cpu: Cpu,
    pub board: Rc<RefCell<Board>>,
    config: MachineConfig,
    quit: Receiver<()>,
    /// The trace handle (empty unless `start_trace` was called).
    trace: Trace,
    /// The instruction trace's window, while it is open.
    instructions: Option<InstructionTrace>,
}

/// Instructions per slice when no timer is due sooner: how often the loop
/// looks at host input, limits and the quit channel.
const SLICE: u64 = 1_000_000;

impl Machine {
    /// Builds the machine: opens the disks, sizes RAM, installs the ROM.
    pub fn new(config: MachineConfig, io: HostIo) -> Result<Machine, MachineError> {
        if config.disks.len() > 4 {
            return Err(MachineError::TooManyDisks(config.disks.len()));
        }
        let mut disks: Vec<Option<Disk>> = Vec::new();
        for d in &config.disks {
            disks.push(Some(Disk::open(&d.path, d.mode)?));
        }
        disks.resize_with(4, || None);
        let mut mem = PhysMemory::new(config.ram_size)?;
        mem.load_rom(&config.bios)?;

        let lines = IrqLines::new();
        let now = Now::default();
        let control = ControlQueue::default();
        let cmos = Cmos::new(
            lines.line(8),
            now.clone(),
            CmosConfig {
                ram_size: config.ram_size,
                boot_order: vec![BootDevice::HardDisk],
                rtc_base: match config.rtc_start {
                    Some(t) => RtcBase::Fixed(t),
                    None => RtcBase::Host,
                },
                hard_disks: config.disks.len() as u8,
            },
        );
        let mut it = disks.into_iter();
        let mut next = || it.next().flatten();
        let ata0 = AtaChannel::new(lines.line(14), next(), next());
        let ata1 = AtaChannel::new(lines.line(15), next(), next());
        let board = Board {
            ports: Board::port_map(),
            pic: PicPair::new(lines.clone()),
            pit: Pit::new(lines.line(0), now.clone()),
            kbc: I8042::new(lines.line(1), control.clone()),
            cmos,
            post: PostPort::default(),
            port92: SystemControlA::new(control.clone()),
            com1: Uart::new(lines.line(4), now.clone(), io.com1_out, io.com1_in),
            com2: Uart::new(lines.line(3), now.clone(), io.com2_out, io.com2_in),
            ata: [ata0, ata1],
            debugcon: DebugConsole::new(io.debug_out),
            exit: ExitPort::new(control.clone()),
            annotate: AnnotationPort::default(),
            control,
            now,
            clock: Clock::new(config.clock),
            lines: lines.clone(),
            trace: Trace::off(),
        };
        let board = Rc::new(RefCell::new(board));
        let bus = BoardBus {
            board: board.clone(),
            lines,
            intr: std::cell::Cell::new(None),
        };
        let cpu = Cpu::new(mem, Box::new(bus));
        Ok(Machine {
            cpu,
            board,
            config,
            quit: io.quit,
            trace: Trace::off(),
            instructions: None,
        })
    }

    /// Runs until the guest exits, the user quits, or a limit is reached.
    pub fn run(&mut self) -> Outcome {
        self.run_with(&mut Unmonitored)
    }

    /// Runs like [`run`](Self::run), calling `monitor` between slices.
    pub fn run_with(&mut self, monitor: &mut dyn Monitor) -> Outcome {
        let started = Instant::now();
        loop {
            if self.quit.try_recv().is_ok() {
                return Outcome::Quit;
            }
            if let Some(outcome) = monitor.check(self) {
                return outcome;
            }
            if let Some(at) = monitor.wake_at() {
                if at <= self.cpu.instret {
                    continue;
                }
            }
            if let Some(limit) = self.config.timeout {
                if started.elapsed() >= limit {
                    return Outcome::Timeout;
                }
            }
            let mut budget = SLICE;
            if let Some(max) = self.config.max_instructions {
                if self.cpu.instret >= max {
                    return Outcome::InstructionLimit;
                }
                budget = budget.min(max - self.cpu.instret);
            }
            if let Some(at) = monitor.wake_at() {
                budget = budget.min(at.saturating_sub(self.cpu.instret).max(1));
            }
            let next = {
                let mut b = self.board.borrow_mut();
                let now = b.clock.now(self.cpu.instret);
                if let Some(mut t) = self.trace.any() {
                    t.set_clock(&b.clock);
                    t.sample(self.cpu.instret, self.cpu.tlb.stats.misses);
                }
                b.advance(now);
                let next = b.next_event();
                if let Some(t) = next {
                    budget = budget.min(b.clock.instructions_until(self.cpu.instret, t));
                }
                next
            };
            let stop = match self.instructions.as_mut() {
                Some(window) if window.active() => {
                    let end = self.cpu.instret.saturating_add(budget);
                    let mut stop = Stop::Budget;
                    while stop == Stop::Budget && self.cpu.instret < end && window.active() {
                        stop = window.step(&mut self.cpu, &self.trace);
                    }
                    stop
                }
                _ => self.cpu.run(budget),
            };
            match stop {
                Stop::Budget => {}
                Stop::Halted => {
                    if let Some(outcome) = self.idle(next) {
                        return outcome;
                    }
                }
                Stop::TripleFault => {
                    if self.config.no_reboot {
                        return Outcome::TripleFault(self.cpu.dump());
                    }
                    self.reset();
                }
                Stop::Control(Control::Exit(status)) => return Outcome::Exit(status),
                Stop::Control(Control::Reset) => self.reset(),
                Stop::Control(Control::SetA20(on)) => self.cpu.set_a20(on),
            }
        }
    }

    /// The CPU is in HLT: wait for the next timer event (or, with nothing
    /// scheduled, for host input or a quit). Returns an outcome when the
    /// machine can never wake up.
    fn idle(&mut self, next: Option<Nanos>) -> Option<Outcome> {
        let can_wake = self.cpu.flags.test(crate::cpu::state::rflags::IF);
        match next {
            Some(t) if can_wake => {
                let instret = self.cpu.instret;
                self.board
                    .borrow_mut()
                    .clock
                    .idle_until(instret, t, Duration::from_millis(10));
                None
            }
            _ if !can_wake => Some(Outcome::Hung(format!(
                "the CPU halted with interrupts disabled; nothing can wake it\n{}",
                self.cpu.dump()
            ))),
            _ => {
                // Interrupts are on but no timer is armed: only host input
                // can wake the guest. Wait for it without spinning.
                std::thread::sleep(Duration::from_millis(1));
                None
            }
        }
    }

    /// A machine reset (triple fault, 8042 or port 0x92 reset): the CPU
    /// restarts at the reset vector; RAM keeps its contents.
    pub fn reset(&mut self) {
        if let Some(mut t) = self.trace.on(Category::Cpu) {
            t.reset(self.cpu.instret);
        }
        self.cpu.reset();
    }

    /// Starts taking a trace: events selected by `options` go, as
    /// Perfetto packets, to every sink (`trace`). Call before `run`; a
    /// second call replaces the first trace.
    pub fn start_trace(&mut self, options: TraceOptions, sinks: Vec<Box<dyn TraceSink>>) {
        let clock = self.board.borrow().clock.clone();
        let trace = Trace::new(Tracer::new(options, clock, sinks));
        self.set_trace(trace);
    }

    /// Also records the instructions in `window` (needs a trace: see
    /// `trace::instructions`).
    pub fn trace_instructions(&mut self, window: Window) {
        self.instructions = Some(InstructionTrace::new(window));
    }

    /// Ends the trace: closes open slices and flushes every sink. Nothing
    /// more is recorded.
    pub fn finish_trace(&mut self) {
        if let Some(mut t) = self.trace.any() {
            t.finish(self.cpu.instret);
        }
        self.set_trace(Trace::off());
        self.instructions = None;
    }

    /// The trace handle (to add a sink while tracing, or to test whether
    /// a trace is taken).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Hands `trace` to every part that records events.
    fn set_trace(&mut self, trace: Trace) {
        self.cpu.trace = trace.clone();
        self.cpu.tlb.trace = trace.clone();
        let mut b = self.board.borrow_mut();
        b.lines.set_trace(trace.clone());
        b.pic.trace = trace.clone();
        b.pit.trace = trace.clone();
        b.post.trace = trace.clone();
        b.com1.trace = trace.clone();
        b.com1.com = 1;
        b.com2.trace = trace.clone();
        b.com2.com = 2;
        for (i, ch) in b.ata.iter_mut().enumerate() {
            ch.trace = trace.clone();
            ch.trace_channel = i;
        }
        b.annotate.trace = trace.clone();
        b.trace = trace.clone();
        drop(b);
        self.trace = trace;
    }

    /// The machine's current time (guest time under the virtual clock).
    pub fn time(&self) -> Nanos {
        self.board.borrow().clock.now(self.cpu.instret)
    }

    /// Whether a snapshot taken now would be complete: no host input is
    /// waiting in a UART's channel (it would be lost).
    pub fn snapshot_ready(&self) -> bool {
        let b = self.board.borrow();
        !b.com1.host_input_waiting() && !b.com2.host_input_waiting()
    }

    /// Writes the whole machine to `path` (see `snapshot`); returns the
    /// file's body size in bytes.
    pub fn save_snapshot(&mut self, path: &std::path::Path) -> Result<usize, SnapshotError> {
        if !self.snapshot_ready() {
            return Err(SnapshotError::Unsupported(
                "serial input is still waiting to be received".into(),
            ));
        }
        let mut body = Vec::new();
        self.persist(&mut StateIo::Save(&mut body))?;
        snapshot::write_file(path, &body)?;
        Ok(body.len())
    }

    /// Loads the state saved in `path` into this machine, which must be
    /// built the same way (RAM size, firmware, disks). On an error the
    /// machine may be half loaded: do not run it.
    pub fn load_snapshot(&mut self, path: &std::path::Path) -> Result<(), SnapshotError> {
        let body = snapshot::read_file(path)?;
        let mut io = StateIo::Load {
            data: &body,
            pos: 0,
        };
        self.persist(&mut io)?;
        match io {
            StateIo::Load { pos, .. } if pos == body.len() => Ok(()),
            _ => Err(SnapshotError::Malformed(
                "bytes left after the last section".into(),
            )),
        }
    }

    /// The POST codes the firmware wrote, oldest first.
    pub fn post_codes(&self) -> Vec<u8> {
        self.board.borrow().post.codes().to_vec()
    }
}

impl Persist for Board {
    /// Every device, pending control requests and the clock.
    fn persist(&mut self, io: &mut StateIo) -> snapshot::Result<()> {
        io.section("board")?;
        self.pic.persist(io)?;
        self.pit.persist(io)?;
        self.kbc.persist(io)?;
        self.cmos.persist(io)?;
        self.post.persist(io)?;
        self.port92.persist(io)?;
        self.com1.persist(io)?;
        self.com2.persist(io)?;
        self.ata[0].persist(io)?;
        self.ata[1].persist(io)?;
        self.control.persist(io)?;
        self.clock.persist(io)?;
        let mut now = self.now.get();
        now.persist(io)?;
        self.now.set(now);
        Ok(())
    }
}

impl Persist for Machine {
    /// The firmware must be the same ROM; then the CPU (with memory) and
    /// the board.
    fn persist(&mut self, io: &mut StateIo) -> snapshot::Result<()> {
        io.section("machine")?;
        io.expect("firmware ROM CRC-32", crc32fast::hash(&self.config.bios))?;
        self.cpu.persist(io)?;
        self.board.borrow_mut().persist(io)
    }
}
