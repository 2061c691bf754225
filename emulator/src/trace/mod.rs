//! The trace event stream (DESIGN.md, "Tracing"; the user's guide is
//! `docs/tracing.md`).
//!
//! Guest-visible events (mode switches, exceptions, interrupts, device
//! activity, page walks, guest-kernel annotations) are stamped with virtual
//! time, encoded as Perfetto `TracePacket`s and handed, one packet at a
//! time, to every attached [`TraceSink`]: the file writer (`file`), the
//! live server (`live`), or anything else.
//!
//! - `proto`: the Perfetto messages (hand-written `prost` structs).
//! - `file`: the sink that writes a trace file.
//! - `category`: the event categories `--trace-events` selects.
//! - `tracks`: the fixed tracks (one per device) and the guest's.
//! - `tracer`: turns events into packets: time stamps, slices, flows,
//!   counters, the guest's processes and threads.
//! - `annotate`: the guest-kernel annotation port's protocol.
//! - `instructions`: the instruction trace (a bounded, single-stepped
//!   window).
//!
//! The contract with sinks: every `bytes` handed to [`TraceSink::packet`]
//! is one complete length-delimited `Trace.packet` field (tag 0x0A, varint
//! length, `TracePacket`), so a sink that concatenates them writes a valid
//! Perfetto trace. Descriptor packets declare tracks; a viewer that
//! attaches late must receive every descriptor packet sent so far before
//! any event, so sinks that serve late comers keep them.
//!
//! The machine's parts hold a [`Trace`] handle: empty when no trace is
//! taken, so every hook costs one test of an `Option` then; hooks sit only
//! where events are rare (exception delivery, interrupt lines, device
//! ports, TLB misses), never in the per-instruction path.

pub mod annotate;
pub mod category;
pub mod file;
pub mod instructions;
pub mod live;
pub mod proto;
pub mod tracer;
pub mod tracks;
pub mod viewer;

pub use category::{Categories, Category};
pub use tracer::Tracer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// What a packet is, for sinks that replay the stream's set-up to late
/// viewers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// A track descriptor (device, process, thread or counter track):
    /// needed to make sense of later events, so replay it to late viewers.
    Descriptor,
    /// An event on a track (slice, instant, counter value).
    Event,
}

/// Somewhere packets go. Called on the machine's thread for every packet,
/// in order: a sink must not block (hand the bytes to another thread if
/// the work is slow).
pub trait TraceSink: Send {
    /// One complete `Trace.packet` field (tag + length + `TracePacket`).
    fn packet(&mut self, bytes: &[u8], kind: PacketKind);
    /// The run is over: flush whatever is buffered.
    fn finish(&mut self) {}
}

/// What to trace (`emu run --trace-events`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceOptions {
    pub categories: Categories,
    /// Port I/O events are recorded for these ports only (the `ports`
    /// category), inclusive.
    pub ports: Option<(u16, u16)>,
}

/// The handle the CPU and devices hold: empty when no trace is taken.
///
/// The tracer sits behind a mutex only so that the handle is `Send` like
/// the parts that hold it; one thread uses it, so the lock is never
/// contended. The categories and the device clock are kept beside it, so
/// a hook whose category is off, and the board's time updates, take no
/// lock at all.
#[derive(Clone, Default)]
pub struct Trace(Option<Arc<Shared>>);

struct Shared {
    categories: Categories,
    /// The latest device time the board synchronised (ns).
    time: AtomicU64,
    tracer: Mutex<Tracer>,
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Trace(on)"
        } else {
            "Trace(off)"
        })
    }
}

impl Trace {
    /// A handle to a new tracer.
    pub fn new(tracer: Tracer) -> Trace {
        Trace(Some(Arc::new(Shared {
            categories: tracer.options().categories,
            time: AtomicU64::new(0),
            tracer: Mutex::new(tracer),
        })))
    }

    /// No tracing.
    pub fn off() -> Trace {
        Trace(None)
    }

    /// Whether a trace is being taken at all.
    #[inline(always)]
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Whether a trace is taken and records `category`.
    #[inline(always)]
    pub fn wants(&self, category: Category) -> bool {
        self.0
            .as_ref()
            .is_some_and(|s| s.categories.contains(category))
    }

    /// The tracer, when a trace is taken and `category` is in it.
    #[inline(always)]
    pub fn on(&self, category: Category) -> Option<MutexGuard<'_, Tracer>> {
        let s = self.0.as_ref()?;
        if !s.categories.contains(category) {
            return None;
        }
        Some(s.lock())
    }

    /// The tracer, whatever the categories (bookkeeping: time, counters).
    #[inline(always)]
    pub fn any(&self) -> Option<MutexGuard<'_, Tracer>> {
        Some(self.0.as_ref()?.lock())
    }

    /// The board brought device time to `now` (no lock taken).
    #[inline(always)]
    pub fn sync(&self, now: u64) {
        if let Some(s) = &self.0 {
            s.time.fetch_max(now, Ordering::Relaxed);
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Tracer> {
        let mut g = self.tracer.lock().unwrap_or_else(|e| e.into_inner());
        g.sync(self.time.load(Ordering::Relaxed));
        g
    }
}
