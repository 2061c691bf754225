//! THROWAWAY stand-in for helper I's `trace` module (branch `trace`): the
//! `TraceSink` contract only, replaced by I's file on merge.

pub mod live;
pub mod proto;
pub mod viewer;

/// Where encoded packets go.
pub trait TraceSink: Send {
    /// One complete length-delimited `Trace.packet` field.
    fn packet(&mut self, bytes: &[u8], kind: PacketKind);
}

/// What a packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketKind {
    Descriptor,
    Event,
}
