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
//!
//! The contract with sinks: every `bytes` handed to [`TraceSink::packet`]
//! is one complete length-delimited `Trace.packet` field (tag 0x0A, varint
//! length, `TracePacket`), so a sink that concatenates them writes a valid
//! Perfetto trace. Descriptor packets declare tracks; a viewer that
//! attaches late must receive every descriptor packet sent so far before
//! any event, so sinks that serve late comers keep them.

pub mod file;
pub mod live;
pub mod proto;
pub mod viewer;

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
