//! Splits a Perfetto byte stream (a `Trace` message: `packet` fields one
//! after another, as in a trace file or from the live server) into
//! packets, incrementally: bytes go in as they arrive, whole packets come
//! out.
//!
//! Protobuf wire format: each field is a varint key (field number << 3 |
//! wire type) then its value; `Trace.packet` is field 1, wire type 2
//! (varint length, then the `TracePacket` bytes). Other top-level fields
//! are skipped.

use crate::trace::proto::TracePacket;
use prost::Message;

/// A packet as it was framed on the wire, and decoded.
#[derive(Clone, Debug)]
pub struct Framed {
    /// The whole `Trace.packet` field: key, length and body.
    pub raw: Vec<u8>,
    pub packet: TracePacket,
}

/// Why a stream could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("byte {offset}: a varint longer than 10 bytes")]
    BadVarint { offset: u64 },
    #[error("byte {offset}: field {field} has wire type {wire}, which a trace cannot hold")]
    BadWireType { offset: u64, field: u64, wire: u64 },
    #[error("byte {offset}: a packet that does not decode: {source}")]
    BadPacket {
        offset: u64,
        source: prost::DecodeError,
    },
    #[error("the stream ends inside a packet ({bytes} bytes left over)")]
    Truncated { bytes: usize },
}

/// The incremental decoder.
#[derive(Debug, Default)]
pub struct PacketStream {
    buf: Vec<u8>,
    /// Where the next field starts in `buf`.
    start: usize,
    /// Stream offset of `buf[0]`, for error messages.
    base: u64,
}

/// `Trace.packet`'s field number.
const PACKET_FIELD: u64 = 1;
const WIRE_VARINT: u64 = 0;
const WIRE_FIXED64: u64 = 1;
const WIRE_LEN: u64 = 2;
const WIRE_FIXED32: u64 = 5;

impl PacketStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole packet, or `None` until more bytes come.
    pub fn next_packet(&mut self) -> Result<Option<Framed>, DecodeError> {
        loop {
            let at = self.start;
            let offset = self.base + at as u64;
            let Some((key, n)) = varint(&self.buf[at..], offset)? else {
                return Ok(None);
            };
            let (field, wire) = (key >> 3, key & 7);
            let body = at + n;
            let end = match wire {
                WIRE_VARINT => match varint(&self.buf[body..], offset)? {
                    Some((_, m)) => body + m,
                    None => return Ok(None),
                },
                WIRE_FIXED64 => body + 8,
                WIRE_FIXED32 => body + 4,
                WIRE_LEN => match varint(&self.buf[body..], offset)? {
                    Some((len, m)) => {
                        let len =
                            usize::try_from(len).map_err(|_| DecodeError::BadVarint { offset })?;
                        (body + m)
                            .checked_add(len)
                            .ok_or(DecodeError::BadVarint { offset })?
                    }
                    None => return Ok(None),
                },
                _ => {
                    return Err(DecodeError::BadWireType {
                        offset,
                        field,
                        wire,
                    })
                }
            };
            if end > self.buf.len() {
                return Ok(None);
            }
            self.start = end;
            if field == PACKET_FIELD && wire == WIRE_LEN {
                let raw = self.buf[at..end].to_vec();
                let len_bytes = varint(&self.buf[body..], offset)?.map_or(0, |(_, m)| m);
                let packet = TracePacket::decode(&self.buf[body + len_bytes..end])
                    .map_err(|source| DecodeError::BadPacket { offset, source })?;
                return Ok(Some(Framed { raw, packet }));
            }
        }
    }

    /// At the end of the stream: an error if a packet was cut short.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.buf.len() - self.start {
            0 => Ok(()),
            bytes => Err(DecodeError::Truncated { bytes }),
        }
    }
}

/// A varint at the start of `b` and its length; `None` if `b` ends first.
fn varint(b: &[u8], offset: u64) -> Result<Option<(u64, usize)>, DecodeError> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((v, i + 1)));
        }
    }
    if b.len() >= 10 {
        Err(DecodeError::BadVarint { offset })
    } else {
        Ok(None)
    }
}

/// Every packet of a whole trace held in memory.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<Framed>, DecodeError> {
    let mut s = PacketStream::new();
    s.push(bytes);
    let mut out = Vec::new();
    while let Some(p) = s.next_packet()? {
        out.push(p);
    }
    s.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::proto::{Trace, TrackDescriptor};

    fn descriptor(uuid: u64, name: &str) -> TracePacket {
        TracePacket {
            track_descriptor: Some(TrackDescriptor {
                uuid: Some(uuid),
                name: Some(name.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn encoded(packets: Vec<TracePacket>) -> Vec<u8> {
        Trace { packet: packets }.encode_to_vec()
    }

    #[test]
    fn packets_split_across_pushes_come_out_whole() {
        let bytes = encoded(vec![descriptor(1, "cpu"), descriptor(2, "disk")]);
        let mut s = PacketStream::new();
        let mut names = Vec::new();
        for b in &bytes {
            s.push(std::slice::from_ref(b));
            while let Some(p) = s.next_packet().unwrap() {
                names.push(p.packet.track_descriptor.unwrap().name.unwrap());
            }
        }
        assert_eq!(names, ["cpu", "disk"]);
        s.finish().unwrap();
    }

    #[test]
    fn raw_bytes_of_each_packet_concatenate_to_the_stream() {
        let bytes = encoded(vec![descriptor(1, "cpu"), descriptor(2, "disk")]);
        let raw: Vec<u8> = decode_all(&bytes)
            .unwrap()
            .into_iter()
            .flat_map(|p| p.raw)
            .collect();
        assert_eq!(raw, bytes);
    }

    #[test]
    fn other_top_level_fields_are_skipped() {
        let mut bytes = vec![0x10, 0x05]; // field 2, varint 5
        bytes.extend(encoded(vec![descriptor(7, "x")]));
        let packets = decode_all(&bytes).unwrap();
        assert_eq!(packets.len(), 1);
    }

    #[test]
    fn a_cut_stream_is_reported_truncated() {
        let bytes = encoded(vec![descriptor(1, "cpu")]);
        let err = decode_all(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(matches!(err, DecodeError::Truncated { .. }), "{err}");
    }

    #[test]
    fn a_group_wire_type_is_an_error() {
        let err = decode_all(&[0x0B]).unwrap_err(); // field 1, wire type 3
        assert!(
            matches!(err, DecodeError::BadWireType { wire: 3, .. }),
            "{err}"
        );
    }
}
