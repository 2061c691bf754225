//! ELF64 headers: just enough of the System V ABI ("ELF-64 Object File
//! Format" 1.5 and the x86-64 psABI) to check a kernel image and find its
//! loadable segments.

/// The file header is 64 bytes; each program header 56.
pub const EHDR_SIZE: usize = 64;
pub const PHDR_SIZE: usize = 56;
/// Room for this many program headers (a kernel has a handful).
pub const MAX_PHDRS: usize = 32;

const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;
pub const PT_LOAD: u32 = 1;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;

/// Why a file is not a kernel we can load.
#[derive(Clone, Copy, Debug)]
pub enum ElfError {
    /// e_ident, type, machine, version or header sizes are wrong.
    BadHeader(&'static str),
    /// A program header is inconsistent with itself or the file.
    BadSegment { index: usize, why: &'static str },
}

impl core::fmt::Display for ElfError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ElfError::BadHeader(why) => write!(f, "bad ELF header: {why}"),
            ElfError::BadSegment { index, why } => {
                write!(f, "bad ELF program header {index}: {why}")
            }
        }
    }
}

/// The fields of the file header a loader needs.
pub struct Header {
    pub entry: u64,
    pub phoff: u64,
    pub phnum: usize,
}

#[derive(Clone, Copy, Default)]
pub struct Segment {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub paddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

/// Checks the file header of a `file_size`-byte file: a little-endian
/// ELF64 x86-64 executable with program headers inside the file.
pub fn parse_header(b: &[u8; EHDR_SIZE], file_size: u64) -> Result<Header, ElfError> {
    let bad = |why| Err(ElfError::BadHeader(why));
    if file_size < EHDR_SIZE as u64 || b[..4] != *b"\x7FELF" {
        return bad("not an ELF file");
    }
    if b[4] != 2 {
        return bad("not ELF64");
    }
    if b[5] != 1 {
        return bad("not little-endian");
    }
    if b[6] != 1 || u32_at(b, 20) != 1 {
        return bad("unknown ELF version");
    }
    if u16_at(b, 16) != ET_EXEC {
        return bad("not an executable (ET_EXEC)");
    }
    if u16_at(b, 18) != EM_X86_64 {
        return bad("not x86-64");
    }
    if usize::from(u16_at(b, 52)) != EHDR_SIZE || usize::from(u16_at(b, 54)) != PHDR_SIZE {
        return bad("unexpected header sizes");
    }
    let phoff = u64_at(b, 32);
    let phnum = usize::from(u16_at(b, 56));
    if phnum == 0 {
        return bad("no program headers");
    }
    if phnum > MAX_PHDRS {
        return bad("too many program headers");
    }
    match phoff.checked_add((phnum * PHDR_SIZE) as u64) {
        Some(end) if end <= file_size => {}
        _ => return bad("program headers lie outside the file"),
    }
    Ok(Header {
        entry: u64_at(b, 24),
        phoff,
        phnum,
    })
}

/// Decodes program header `index` from its 56 bytes.
pub fn parse_segment(b: &[u8]) -> Segment {
    Segment {
        kind: u32_at(b, 0),
        flags: u32_at(b, 4),
        offset: u64_at(b, 8),
        vaddr: u64_at(b, 16),
        paddr: u64_at(b, 24),
        filesz: u64_at(b, 32),
        memsz: u64_at(b, 40),
    }
}
