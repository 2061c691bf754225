//! A trace file: the packets concatenated, which is a Perfetto `Trace`
//! message that ui.perfetto.dev opens.

use super::{PacketKind, TraceSink};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes every packet to a file, buffered. The first write error is kept
/// and reported by [`FileSink::finish_checked`]; later packets are dropped.
pub struct FileSink {
    out: BufWriter<File>,
    error: Option<io::Error>,
}

impl FileSink {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> io::Result<FileSink> {
        Ok(FileSink {
            out: BufWriter::with_capacity(1 << 16, File::create(path)?),
            error: None,
        })
    }

    /// Flushes and returns the first error met, if any.
    pub fn finish_checked(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}

impl TraceSink for FileSink {
    fn packet(&mut self, bytes: &[u8], _kind: PacketKind) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(bytes) {
                self.error = Some(e);
            }
        }
    }

    fn finish(&mut self) {
        if let Err(e) = self.finish_checked() {
            eprintln!("emu: writing the trace failed: {e}");
        }
    }
}

/// Collects packets in memory (tests, `emu trace` tools).
#[derive(Debug, Default, Clone)]
pub struct MemorySink {
    pub bytes: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl TraceSink for MemorySink {
    fn packet(&mut self, bytes: &[u8], _kind: PacketKind) {
        // A poisoned lock means a test panicked elsewhere; keep going.
        let mut b = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        b.extend_from_slice(bytes);
    }
}
