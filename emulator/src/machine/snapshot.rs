//! Snapshots: the whole machine in a file, to resume exactly where it was.
//!
//! A snapshot holds the CPU (registers, descriptor caches, control
//! registers, MSRs, x87/SSE state, the interrupt shadow), every device,
//! the clock, RAM (all-zero pages left out) with the A20 gate, and for each
//! disk the identity of its base image (path, size, CRC-32 of the content)
//! plus the sectors written since the run started (the copy-on-write
//! overlay of a `,snapshot` disk). The decoded-block cache and the TLB are
//! not saved: they are rebuilt from memory after a load.
//!
//! The file format, all integers little-endian:
//!
//! | offset | size | field                                             |
//! |--------|------|---------------------------------------------------|
//! | 0      | 8    | magic `PCEMUSNP`                                   |
//! | 8      | 4    | format version ([`FORMAT_VERSION`])                |
//! | 12     | 16   | build id ([`BUILD_ID`], ASCII hex)                 |
//! | 28     | 8    | body length                                        |
//! | 36     | 4    | CRC-32 of the body                                 |
//! | 40     | ...  | body: named sections, each a run of fields         |
//!
//! A snapshot from another build, another format version, a truncated or
//! corrupted file is refused with a [`SnapshotError`] saying which; loading
//! never panics on a bad file.
//!
//! Each piece of state implements [`Persist`] with one method that lists its
//! fields once: the same list saves and loads, so the two cannot drift.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The first eight bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"PCEMUSNP";
/// Bumped whenever the body's layout changes in a way the build id would
/// not catch (it always changes with the sources anyway).
pub const FORMAT_VERSION: u32 = 1;
/// A hash of the emulator's and firmware's sources, computed by the build
/// script: a snapshot only loads into the build that wrote it.
pub const BUILD_ID: &str = env!("EMU_BUILD_ID");

const HEADER_LEN: usize = 40;

/// Why a snapshot could not be written or loaded.
#[derive(Debug, Error)]
pub enum SnapshotError {
    #[error("snapshot {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("snapshot {0}: not a snapshot file (bad magic)")]
    NotASnapshot(PathBuf),
    #[error("snapshot {path}: format version {found}, this emu reads version {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("snapshot {path}: written by another emu build ({found}); this is build {BUILD_ID}. Take the snapshot again with this build")]
    OtherBuild { path: PathBuf, found: String },
    #[error("snapshot {path}: truncated ({len} bytes, the header says {expected})")]
    Truncated {
        path: PathBuf,
        len: usize,
        expected: usize,
    },
    #[error("snapshot {0}: corrupted (checksum mismatch)")]
    Corrupt(PathBuf),
    #[error("snapshot body malformed: {0}")]
    Malformed(String),
    #[error("snapshot does not fit this machine: {0}")]
    Mismatch(String),
    #[error("cannot take a snapshot now: {0}")]
    Unsupported(String),
}

pub type Result<T> = std::result::Result<T, SnapshotError>;

/// Which way the state flows.
pub enum StateIo<'a> {
    /// Fields are appended to the buffer.
    Save(&'a mut Vec<u8>),
    /// Fields are read from the body, in the same order.
    Load { data: &'a [u8], pos: usize },
}

impl StateIo<'_> {
    pub fn is_loading(&self) -> bool {
        matches!(self, StateIo::Load { .. })
    }

    /// Moves `buf.len()` raw bytes.
    pub fn raw(&mut self, buf: &mut [u8]) -> Result<()> {
        match self {
            StateIo::Save(out) => {
                out.extend_from_slice(buf);
                Ok(())
            }
            StateIo::Load { data, pos } => {
                let end = pos
                    .checked_add(buf.len())
                    .filter(|&e| e <= data.len())
                    .ok_or_else(|| SnapshotError::Malformed("body ends early".into()))?;
                buf.copy_from_slice(&data[*pos..end]);
                *pos = end;
                Ok(())
            }
        }
    }

    /// A section marker: saved as its name, checked on load, so a body
    /// that drifted out of step fails with the section's name.
    pub fn section(&mut self, name: &str) -> Result<()> {
        let mut tag = name.as_bytes().to_vec();
        tag.persist(self)?;
        if tag != name.as_bytes() {
            return Err(SnapshotError::Malformed(format!(
                "expected section {name}, found {:?}",
                String::from_utf8_lossy(&tag)
            )));
        }
        Ok(())
    }

    /// Saves `value`, or on load checks that it equals `value` (a property
    /// of the machine the snapshot must agree with).
    pub fn expect<T: Persist + PartialEq + Clone + std::fmt::Debug>(
        &mut self,
        what: &str,
        value: T,
    ) -> Result<()> {
        let mut v = value.clone();
        v.persist(self)?;
        if v != value {
            return Err(SnapshotError::Mismatch(format!(
                "{what}: the snapshot has {v:?}, this machine has {value:?}"
            )));
        }
        Ok(())
    }

    /// A length or count, bounded by what is left of the body so a corrupt
    /// length cannot ask for a huge allocation.
    pub fn len(&mut self, n: &mut usize) -> Result<()> {
        let mut v = *n as u64;
        v.persist(self)?;
        if let StateIo::Load { data, pos } = self {
            if v > (data.len() - *pos) as u64 {
                return Err(SnapshotError::Malformed(format!("length {v} past the end")));
            }
        }
        *n = v as usize;
        Ok(())
    }
}

/// State that goes into a snapshot. `persist` lists the fields once; it
/// saves them or loads them depending on `io`.
pub trait Persist {
    fn persist(&mut self, io: &mut StateIo) -> Result<()>;
}

macro_rules! persist_int {
    ($($t:ty),*) => {$(
        impl Persist for $t {
            fn persist(&mut self, io: &mut StateIo) -> Result<()> {
                let mut b = self.to_le_bytes();
                io.raw(&mut b)?;
                *self = <$t>::from_le_bytes(b);
                Ok(())
            }
        }
    )*};
}
persist_int!(u8, u16, u32, u64, u128, i64, i128);

impl Persist for usize {
    fn persist(&mut self, io: &mut StateIo) -> Result<()> {
        let mut v = *self as u64;
        v.persist(io)?;
        *self = usize::try_from(v).map_err(|_| SnapshotError::Malformed("size".into()))?;
        Ok(())
    }
}

impl Persist for bool {
    fn persist(&mut self, io: &mut StateIo) -> Result<()> {
        let mut v = *self as u8;
        v.persist(io)?;
        *self = match v {
            0 => false,
            1 => true,
            _ => return Err(SnapshotError::Malformed(format!("bool {v}"))),
        };
        Ok(())
    }
}

impl<T: Persist, const N: usize> Persist for [T; N] {
    fn persist(&mut self, io: &mut StateIo) -> Result<()> {
        self.iter_mut().try_for_each(|x| x.persist(io))
    }
}

impl<T: Persist + Default> Persist for Vec<T> {
    fn persist(&mut self, io: &mut StateIo) -> Result<()> {
        let mut n = self.len();
        io.len(&mut n)?;
        if io.is_loading() {
            self.clear();
            self.resize_with(n, T::default);
        }
        self.iter_mut().try_for_each(|x| x.persist(io))
    }
}

impl<T: Persist + Default> Persist for VecDeque<T> {
    fn persist(&mut self, io: &mut StateIo) -> Result<()> {
        let mut n = self.len();
        io.len(&mut n)?;
        if io.is_loading() {
            self.clear();
            self.resize_with(n, T::default);
        }
        self.iter_mut().try_for_each(|x| x.persist(io))
    }
}

impl<T: Persist + Default> Persist for Option<T> {
    fn persist(&mut self, io: &mut StateIo) -> Result<()> {
        let mut present = self.is_some();
        present.persist(io)?;
        if io.is_loading() {
            *self = present.then(T::default);
        }
        match self {
            Some(v) => v.persist(io),
            None => Ok(()),
        }
    }
}

impl<K: Persist + Default + Eq + std::hash::Hash + Ord + Clone, V: Persist + Default> Persist
    for HashMap<K, V>
{
    /// Saved in key order, so the same state gives the same bytes.
    fn persist(&mut self, io: &mut StateIo) -> Result<()> {
        let mut n = self.len();
        io.len(&mut n)?;
        if io.is_loading() {
            self.clear();
            for _ in 0..n {
                let (mut k, mut v) = (K::default(), V::default());
                k.persist(io)?;
                v.persist(io)?;
                self.insert(k, v);
            }
            return Ok(());
        }
        let mut keys: Vec<K> = self.keys().cloned().collect();
        keys.sort();
        for k in keys {
            k.clone().persist(io)?;
            self.get_mut(&k).expect("key listed above").persist(io)?;
        }
        Ok(())
    }
}

/// `Persist` for a field-less enum, stored as its index in the list.
#[macro_export]
macro_rules! persist_enum {
    ($t:ty { $($v:ident),+ $(,)? }) => {
        impl $crate::machine::snapshot::Persist for $t {
            fn persist(
                &mut self,
                io: &mut $crate::machine::snapshot::StateIo,
            ) -> $crate::machine::snapshot::Result<()> {
                const ALL: &[$t] = &[$(<$t>::$v),+];
                let mut i = ALL.iter().position(|v| v == self).unwrap_or(0) as u8;
                i.persist(io)?;
                *self = *ALL.get(i as usize).ok_or_else(|| {
                    $crate::machine::snapshot::SnapshotError::Malformed(format!(
                        "{} value {i}",
                        stringify!($t)
                    ))
                })?;
                Ok(())
            }
        }
    };
}

/// `Persist` for a struct: each named field in order.
#[macro_export]
macro_rules! persist_fields {
    ($t:ty { $($f:ident),+ $(,)? }) => {
        impl $crate::machine::snapshot::Persist for $t {
            fn persist(
                &mut self,
                io: &mut $crate::machine::snapshot::StateIo,
            ) -> $crate::machine::snapshot::Result<()> {
                $( self.$f.persist(io)?; )+
                Ok(())
            }
        }
    };
}

/// Wraps a body in the header and writes the file.
pub fn write_file(path: &Path, body: &[u8]) -> Result<()> {
    let mut file = Vec::with_capacity(HEADER_LEN + body.len());
    file.extend_from_slice(&MAGIC);
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&build_id_bytes(BUILD_ID));
    file.extend_from_slice(&(body.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    file.extend_from_slice(body);
    // Write then rename, so a reader never sees half a snapshot.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let io = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(&tmp, &file).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Reads a snapshot file and returns its body after checking the magic,
/// version, build id, length and checksum.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let mut data = std::fs::read(path).map_err(|source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let p = || path.to_path_buf();
    if data.len() < 8 || data[..8] != MAGIC {
        return Err(SnapshotError::NotASnapshot(p()));
    }
    if data.len() < HEADER_LEN {
        return Err(SnapshotError::Truncated {
            path: p(),
            len: data.len(),
            expected: HEADER_LEN,
        });
    }
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().expect("4 bytes"));
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(SnapshotError::Version {
            path: p(),
            found: version,
        });
    }
    let id = &data[12..28];
    if id != build_id_bytes(BUILD_ID) {
        return Err(SnapshotError::OtherBuild {
            path: p(),
            found: String::from_utf8_lossy(id).into_owned(),
        });
    }
    let body_len = u64::from_le_bytes(data[28..36].try_into().expect("8 bytes"));
    let expected = usize::try_from(body_len)
        .ok()
        .and_then(|n| n.checked_add(HEADER_LEN))
        .unwrap_or(usize::MAX);
    if data.len() != expected {
        return Err(SnapshotError::Truncated {
            path: p(),
            len: data.len(),
            expected,
        });
    }
    if crc32fast::hash(&data[HEADER_LEN..]) != u32_at(36) {
        return Err(SnapshotError::Corrupt(p()));
    }
    data.drain(..HEADER_LEN);
    Ok(data)
}

fn build_id_bytes(id: &str) -> [u8; 16] {
    let mut b = [b'0'; 16];
    for (d, s) in b.iter_mut().zip(id.bytes()) {
        *d = s;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Sample {
        a: u8,
        b: u64,
        c: Vec<u16>,
        d: Option<bool>,
        e: [u32; 2],
    }
    persist_fields!(Sample { a, b, c, d, e });

    fn save<T: Persist>(v: &mut T) -> Vec<u8> {
        let mut out = Vec::new();
        v.persist(&mut StateIo::Save(&mut out)).unwrap();
        out
    }

    #[test]
    fn fields_load_back_as_saved() {
        let mut s = Sample {
            a: 7,
            b: u64::MAX - 3,
            c: vec![1, 2, 3],
            d: Some(true),
            e: [9, 10],
        };
        let body = save(&mut s);
        let mut back = Sample::default();

        back.persist(&mut StateIo::Load {
            data: &body,
            pos: 0,
        })
        .unwrap();

        assert_eq!(back, s);
    }

    #[test]
    fn a_short_body_is_an_error_not_a_panic() {
        let mut s = Sample {
            c: vec![5; 4],
            ..Sample::default()
        };
        let body = save(&mut s);
        let mut back = Sample::default();

        let r = back.persist(&mut StateIo::Load {
            data: &body[..body.len() - 3],
            pos: 0,
        });

        assert!(matches!(r, Err(SnapshotError::Malformed(_))), "{r:?}");
    }

    #[test]
    fn a_huge_length_is_refused_before_allocating() {
        let body = u64::MAX.to_le_bytes();
        let mut v: Vec<u8> = Vec::new();

        let r = v.persist(&mut StateIo::Load {
            data: &body,
            pos: 0,
        });

        assert!(matches!(r, Err(SnapshotError::Malformed(_))), "{r:?}");
    }

    #[test]
    fn files_check_magic_build_and_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.snap");
        write_file(&path, b"hello body").unwrap();
        assert_eq!(read_file(&path).unwrap(), b"hello body");

        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(read_file(&path), Err(SnapshotError::Corrupt(_))));

        std::fs::write(&path, &bytes[..last]).unwrap();
        assert!(matches!(
            read_file(&path),
            Err(SnapshotError::Truncated { .. })
        ));

        bytes[12] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            read_file(&path),
            Err(SnapshotError::OtherBuild { .. })
        ));

        std::fs::write(&path, b"not a snapshot at all").unwrap();
        assert!(matches!(
            read_file(&path),
            Err(SnapshotError::NotASnapshot(_))
        ));
    }
}

#[cfg(test)]
mod machine_tests {
    use super::*;
    use crate::machine::clock::ClockMode;
    use crate::machine::{HostIo, Machine, MachineConfig};

    fn machine(disk: &Path) -> Machine {
        let (com1_out, _) = crossbeam_channel::unbounded();
        let (_, com1_in) = crossbeam_channel::unbounded();
        let (com2_out, _) = crossbeam_channel::unbounded();
        let (_, com2_in) = crossbeam_channel::unbounded();
        let (debug_out, _) = crossbeam_channel::unbounded();
        let (_, quit) = crossbeam_channel::bounded(1);
        let config = MachineConfig {
            ram_size: 16 << 20,
            bios: crate::firmware::BIOS.to_vec(),
            disks: vec![crate::machine::DiskSpec {
                path: disk.to_path_buf(),
                mode: crate::devices::disk::DiskMode::Snapshot,
            }],
            clock: ClockMode::Virtual,
            no_reboot: true,
            max_instructions: Some(3_000_000),
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
        Machine::new(config, io).unwrap()
    }

    #[test]
    fn a_loaded_machine_saves_the_same_bytes_it_was_loaded_from() {
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join("disk.img");
        std::fs::write(&disk, vec![0u8; 1 << 20]).unwrap();
        let mut first = machine(&disk);
        first.run(); // POST, then no boot signature: the BIOS waits
        let path = dir.path().join("a.snap");
        first.save_snapshot(&path).unwrap();

        let mut second = machine(&disk);
        second.load_snapshot(&path).unwrap();
        let again = dir.path().join("b.snap");
        second.save_snapshot(&again).unwrap();

        assert_eq!(second.cpu.instret, first.cpu.instret);
        assert!(
            std::fs::read(&path).unwrap() == std::fs::read(&again).unwrap(),
            "every field saved is loaded back"
        );
    }

    #[test]
    fn damaged_bodies_are_refused_or_loaded_but_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let disk = dir.path().join("disk.img");
        std::fs::write(&disk, vec![0u8; 1 << 20]).unwrap();
        let mut first = machine(&disk);
        first.run();
        let good = dir.path().join("good.snap");
        first.save_snapshot(&good).unwrap();
        let body = read_file(&good).unwrap();
        // The CPU at the start, the board at the end; RAM pages between.
        let head = 0..body.len().min(1500);
        let tail = body.len().saturating_sub(3000)..body.len();
        let bad = dir.path().join("bad.snap");

        for at in head.chain(tail).step_by(3) {
            let mut damaged = body.clone();
            damaged[at] ^= 0xA5;
            write_file(&bad, &damaged).unwrap();

            let mut m = machine(&disk);
            let _ = m.load_snapshot(&bad);
        }
    }
}
