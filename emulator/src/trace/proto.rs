//! The subset of Perfetto's trace protobuf that the emulator writes, as
//! hand-written `prost` messages with Perfetto's field numbers.
//!
//! Each message cites the `.proto` file it mirrors, in the Perfetto source
//! tree (<https://github.com/google/perfetto>, `protos/perfetto/trace/`):
//!
//! - `trace.proto`: `Trace { repeated TracePacket packet = 1; }`
//! - `trace_packet.proto`: `TracePacket`
//! - `track_event/track_event.proto`: `TrackEvent`
//! - `track_event/track_descriptor.proto`: `TrackDescriptor`
//! - `track_event/process_descriptor.proto`: `ProcessDescriptor`
//! - `track_event/thread_descriptor.proto`: `ThreadDescriptor`
//! - `track_event/counter_descriptor.proto`: `CounterDescriptor`
//! - `track_event/debug_annotation.proto`: `DebugAnnotation`
//!
//! Perfetto's protos are proto2. Where Perfetto has a `oneof` (the packet's
//! `data`, an event's `name_field` and `counter_value_field`, an
//! annotation's value) this module has plain optional fields: the wire
//! format is the same, and the writer sets at most one of each group.
//! Repeated numeric fields are *not packed* (proto2's default), which is
//! what Perfetto's decoders expect for `flow_ids`.
//!
//! A trace file is a `Trace`, i.e. a concatenation of length-delimited
//! `packet` fields (tag byte 0x0A, a varint length, the `TracePacket`):
//! [`encode_packet`] produces exactly one such field, so packets can be
//! streamed and concatenated, and [`decode_trace`] reads a whole file back.
//! Timestamps are in nanoseconds of the default trace clock (BOOTTIME);
//! the emulator puts virtual time there.

use prost::Message;

/// `trace.proto`: a whole trace file.
#[derive(Clone, PartialEq, Message)]
pub struct Trace {
    #[prost(message, repeated, tag = "1")]
    pub packet: Vec<TracePacket>,
}

/// `trace_packet.proto`: one packet. `track_event` and `track_descriptor`
/// are members of the `data` oneof: set one.
#[derive(Clone, PartialEq, Message)]
pub struct TracePacket {
    /// Nanoseconds in the trace clock (here: virtual time).
    #[prost(uint64, optional, tag = "8")]
    pub timestamp: Option<u64>,
    /// Which writer the packet comes from; the emulator uses one sequence.
    #[prost(uint32, optional, tag = "10")]
    pub trusted_packet_sequence_id: Option<u32>,
    #[prost(message, optional, tag = "11")]
    pub track_event: Option<TrackEvent>,
    /// `SequenceFlags`: [`SEQ_INCREMENTAL_STATE_CLEARED`] on the first
    /// packet of the sequence.
    #[prost(uint32, optional, tag = "13")]
    pub sequence_flags: Option<u32>,
    /// Set on the first packet after a gap (a live viewer's queue
    /// overflowed and packets were dropped).
    #[prost(bool, optional, tag = "42")]
    pub previous_packet_dropped: Option<bool>,
    #[prost(message, optional, tag = "60")]
    pub track_descriptor: Option<TrackDescriptor>,
}

/// `TracePacket.SequenceFlags.SEQ_INCREMENTAL_STATE_CLEARED`.
pub const SEQ_INCREMENTAL_STATE_CLEARED: u32 = 1;

/// `track_event.proto`: `TrackEvent.Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum EventType {
    Unspecified = 0,
    SliceBegin = 1,
    SliceEnd = 2,
    Instant = 3,
    Counter = 4,
}

/// `track_event.proto`: one event on a track.
#[derive(Clone, PartialEq, Message)]
pub struct TrackEvent {
    #[prost(message, repeated, tag = "4")]
    pub debug_annotations: Vec<DebugAnnotation>,
    #[prost(enumeration = "EventType", optional, tag = "9")]
    pub r#type: Option<i32>,
    #[prost(uint64, optional, tag = "11")]
    pub track_uuid: Option<u64>,
    #[prost(string, repeated, tag = "22")]
    pub categories: Vec<String>,
    /// `name_field` oneof: the event's name (not set on `SliceEnd`).
    #[prost(string, optional, tag = "23")]
    pub name: Option<String>,
    /// `counter_value_field` oneof: the value of a `Counter` event.
    #[prost(int64, optional, tag = "30")]
    pub counter_value: Option<i64>,
    /// Flows that start (or continue) at this event.
    #[prost(fixed64, repeated, packed = "false", tag = "47")]
    pub flow_ids: Vec<u64>,
    /// Flows that end at this event.
    #[prost(fixed64, repeated, packed = "false", tag = "48")]
    pub terminating_flow_ids: Vec<u64>,
}

/// `track_descriptor.proto`: declares a track (by uuid) and what it is:
/// a process, a thread, a counter, or a plain named track.
#[derive(Clone, PartialEq, Message)]
pub struct TrackDescriptor {
    #[prost(uint64, optional, tag = "1")]
    pub uuid: Option<u64>,
    #[prost(string, optional, tag = "2")]
    pub name: Option<String>,
    #[prost(message, optional, tag = "3")]
    pub process: Option<ProcessDescriptor>,
    #[prost(message, optional, tag = "4")]
    pub thread: Option<ThreadDescriptor>,
    #[prost(uint64, optional, tag = "5")]
    pub parent_uuid: Option<u64>,
    #[prost(message, optional, tag = "8")]
    pub counter: Option<CounterDescriptor>,
}

/// `process_descriptor.proto`.
#[derive(Clone, PartialEq, Message)]
pub struct ProcessDescriptor {
    #[prost(int32, optional, tag = "1")]
    pub pid: Option<i32>,
    #[prost(string, optional, tag = "6")]
    pub process_name: Option<String>,
}

/// `thread_descriptor.proto`.
#[derive(Clone, PartialEq, Message)]
pub struct ThreadDescriptor {
    #[prost(int32, optional, tag = "1")]
    pub pid: Option<i32>,
    #[prost(int32, optional, tag = "2")]
    pub tid: Option<i32>,
    #[prost(string, optional, tag = "5")]
    pub thread_name: Option<String>,
}

/// `counter_descriptor.proto`: marks a track as a counter track.
#[derive(Clone, PartialEq, Message)]
pub struct CounterDescriptor {
    #[prost(string, repeated, tag = "2")]
    pub categories: Vec<String>,
    /// `CounterDescriptor.Unit`: 0 unspecified, 1 time (ns), 2 count,
    /// 3 size (bytes).
    #[prost(int32, optional, tag = "3")]
    pub unit: Option<i32>,
    #[prost(string, optional, tag = "6")]
    pub unit_name: Option<String>,
}

/// `CounterDescriptor.Unit.UNIT_COUNT`.
pub const COUNTER_UNIT_COUNT: i32 = 2;

/// `debug_annotation.proto`: a named argument of an event. Set `name` and
/// one value.
#[derive(Clone, PartialEq, Message)]
pub struct DebugAnnotation {
    #[prost(bool, optional, tag = "2")]
    pub bool_value: Option<bool>,
    #[prost(uint64, optional, tag = "3")]
    pub uint_value: Option<u64>,
    #[prost(int64, optional, tag = "4")]
    pub int_value: Option<i64>,
    #[prost(string, optional, tag = "6")]
    pub string_value: Option<String>,
    #[prost(uint64, optional, tag = "7")]
    pub pointer_value: Option<u64>,
    #[prost(string, optional, tag = "10")]
    pub name: Option<String>,
}

impl DebugAnnotation {
    /// An unsigned argument.
    pub fn uint(name: &str, value: u64) -> DebugAnnotation {
        DebugAnnotation {
            name: Some(name.into()),
            uint_value: Some(value),
            ..Default::default()
        }
    }
    /// A boolean argument.
    pub fn boolean(name: &str, value: bool) -> DebugAnnotation {
        DebugAnnotation {
            name: Some(name.into()),
            bool_value: Some(value),
            ..Default::default()
        }
    }
    /// A signed argument.
    pub fn int(name: &str, value: i64) -> DebugAnnotation {
        DebugAnnotation {
            name: Some(name.into()),
            int_value: Some(value),
            ..Default::default()
        }
    }
    /// An address (shown in hex by the UI).
    pub fn pointer(name: &str, value: u64) -> DebugAnnotation {
        DebugAnnotation {
            name: Some(name.into()),
            pointer_value: Some(value),
            ..Default::default()
        }
    }
    /// A string argument.
    pub fn string(name: &str, value: impl Into<String>) -> DebugAnnotation {
        DebugAnnotation {
            name: Some(name.into()),
            string_value: Some(value.into()),
            ..Default::default()
        }
    }
}

/// The tag byte of `Trace.packet` (field 1, wire type 2).
pub const PACKET_TAG: u8 = 0x0A;

/// One `Trace.packet` field: tag, varint length, the encoded packet. The
/// concatenation of such fields is a valid trace file.
pub fn encode_packet(packet: &TracePacket) -> Vec<u8> {
    let len = packet.encoded_len();
    let mut out = Vec::with_capacity(len + 1 + prost::length_delimiter_len(len));
    out.push(PACKET_TAG);
    // Neither call can fail: a Vec grows as needed.
    prost::encoding::encode_varint(len as u64, &mut out);
    packet
        .encode(&mut out)
        .expect("a Vec has room for any message");
    out
}

/// Decodes a whole trace file (or any concatenation of packet fields).
pub fn decode_trace(bytes: &[u8]) -> Result<Trace, prost::DecodeError> {
    Trace::decode(bytes)
}

/// Splits a stream of packet fields into its packets' bodies, for readers
/// that take one packet at a time; `None` once the rest is incomplete (a
/// partial packet at the end of a stream still being written).
pub fn split_packet(bytes: &[u8]) -> Option<(TracePacket, usize)> {
    if bytes.first() != Some(&PACKET_TAG) {
        return None;
    }
    let mut rest = &bytes[1..];
    let len = prost::encoding::decode_varint(&mut rest).ok()? as usize;
    let header = bytes.len() - rest.len();
    let body = rest.get(..len)?;
    let packet = TracePacket::decode(body).ok()?;
    Some((packet, header + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encoded_packet_is_one_trace_packet_field() {
        let p = TracePacket {
            timestamp: Some(5),
            trusted_packet_sequence_id: Some(1),
            ..Default::default()
        };

        let bytes = encode_packet(&p);

        // tag, length 4, timestamp (field 8, varint) = 5, sequence (10) = 1
        assert_eq!(bytes, [0x0A, 4, 0x40, 5, 0x50, 1]);
        assert_eq!(decode_trace(&bytes).unwrap().packet, vec![p]);
    }

    #[test]
    fn flow_ids_are_written_unpacked_as_fixed64() {
        let e = TrackEvent {
            flow_ids: vec![7],
            ..Default::default()
        };

        let bytes = e.encode_to_vec();

        // field 47, wire type 1 (64-bit): (47 << 3) | 1 = 377 = varint F9 02
        assert_eq!(bytes, [0xF9, 0x02, 7, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn split_packet_waits_for_a_whole_packet() {
        let p = TracePacket {
            timestamp: Some(300),
            ..Default::default()
        };
        let bytes = encode_packet(&p);

        assert_eq!(split_packet(&bytes[..bytes.len() - 1]), None);
        assert_eq!(split_packet(&bytes), Some((p, bytes.len())));
    }
}
