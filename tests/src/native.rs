//! Runs a snippet of x86-64 machine code on the host CPU, from a register
//! and flag state given in a struct, and reads the state back: the "real
//! hardware" side of the differential tests (`diff.rs`).
//!
//! The snippet runs inside a generated function:
//!
//! ```text
//! prologue: save callee-saved registers and the state pointer, load RFLAGS
//!           (POPFQ) and every GPR but RSP from the state
//! snippet:  the code under test; it falls through its end
//! epilogue: PUSHFQ, store every GPR but RSP and RFLAGS into the state,
//!           CLD (the ABI wants DF clear), restore, RET
//! ```
//!
//! RSP stays the host's: snippets must not touch it. Data memory is one
//! scratch page mapped at a fixed low address, so that the same address
//! can hold the same bytes in the emulator's identity-mapped guest memory
//! and pointers into it (RSI, RDI, R15, LEA results) compare equal.

use iced_x86::code_asm::*;
use std::fmt;

/// Size of the scratch data page.
pub const SCRATCH_SIZE: usize = 4096;
/// Candidate addresses for the scratch page: low, inside the emulator's
/// RAM, and away from where Linux puts a PIE binary, its heap or its
/// libraries. Each runner takes the first free one, so tests running on
/// parallel threads get a page each.
const SCRATCH_SLOTS: std::ops::Range<u64> = 0x0080_0000..0x00F0_0000;
const SCRATCH_STEP: u64 = 0x1_0000;
/// Size of the executable page that holds prologue, snippet and epilogue.
const CODE_SIZE: usize = 64 * 1024;

/// RFLAGS bits a snippet may start with: the status flags and DF. The
/// reserved bit 1 and IF are added when loading (POPFQ cannot clear IF at
/// CPL 3 anyway).
pub const LOADABLE_FLAGS: u64 = 0x0CD5;
/// RFLAGS bit 1 and IF, set in every loaded RFLAGS value.
pub const BASE_FLAGS: u64 = 0x0202;

/// Register and flag state before and after a snippet.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State {
    /// RAX, RCX, RDX, RBX, RSP (ignored), RBP, RSI, RDI, R8-R15.
    pub gpr: [u64; 16],
    pub rflags: u64,
}

const RFLAGS_OFFSET: i32 = 16 * 8;

/// Why a native runner could not be built.
#[derive(Debug)]
pub enum NativeError {
    /// No scratch slot could be mapped at its fixed address.
    NoScratchSlot,
    /// mmap of the code page failed.
    CodeMap(std::io::Error),
}

impl fmt::Display for NativeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NativeError::NoScratchSlot => write!(f, "no free fixed address for the scratch page"),
            NativeError::CodeMap(e) => write!(f, "cannot map an executable page: {e}"),
        }
    }
}

impl std::error::Error for NativeError {}

/// An anonymous mapping, unmapped on drop.
struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    fn new(addr: Option<u64>, len: usize, prot: i32) -> Option<Mapping> {
        let mut flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        if addr.is_some() {
            flags |= libc::MAP_FIXED_NOREPLACE;
        }
        let hint = addr.unwrap_or(0) as *mut libc::c_void;
        // SAFETY: an anonymous private mapping; with MAP_FIXED_NOREPLACE the
        // kernel refuses rather than replace an existing mapping, so no
        // memory of this process is disturbed.
        let p = unsafe { libc::mmap(hint, len, prot, flags, -1, 0) };
        if p == libc::MAP_FAILED {
            return None;
        }
        let m = Mapping {
            ptr: p as *mut u8,
            len,
        };
        // Kernels before 4.17 treat the fixed address as a hint only.
        if addr.is_some_and(|a| a != p as u64) {
            return None; // dropping `m` unmaps it
        }
        Some(m)
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes owned by self.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` writable bytes owned by self, and
        // `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: ptr/len are exactly what mmap returned; no references
        // into the mapping outlive self.
        unsafe {
            libc::munmap(self.ptr as *mut libc::c_void, self.len);
        }
    }
}

/// Runs snippets on the host CPU.
pub struct NativeRunner {
    code: Mapping,
    scratch: Mapping,
    prologue: Vec<u8>,
    epilogue: Vec<u8>,
}

impl NativeRunner {
    /// Maps the code page and a scratch page at a free fixed address.
    pub fn new() -> Result<NativeRunner, NativeError> {
        let rwx = libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC;
        let code = Mapping::new(None, CODE_SIZE, rwx)
            .ok_or_else(|| NativeError::CodeMap(std::io::Error::last_os_error()))?;
        let rw = libc::PROT_READ | libc::PROT_WRITE;
        let scratch = SCRATCH_SLOTS
            .step_by(SCRATCH_STEP as usize)
            .find_map(|a| Mapping::new(Some(a), SCRATCH_SIZE, rw))
            .ok_or(NativeError::NoScratchSlot)?;
        Ok(NativeRunner {
            code,
            scratch,
            prologue: prologue(),
            epilogue: epilogue(),
        })
    }

    /// The scratch page's address (the same on the host and in the guest).
    pub fn scratch_addr(&self) -> u64 {
        self.scratch.ptr as u64
    }

    pub fn scratch(&self) -> &[u8] {
        self.scratch.bytes()
    }

    pub fn scratch_mut(&mut self) -> &mut [u8] {
        self.scratch.bytes_mut()
    }

    /// Runs `snippet` from `state`, leaving the final state in it.
    ///
    /// # Safety
    /// The snippet runs as host code. It must fall through its end (no
    /// backward or outward jumps, no faults), must not touch RSP or any
    /// state besides the GPRs, the status flags and DF, and may access
    /// memory only inside the scratch page.
    pub unsafe fn run(&mut self, snippet: &[u8], state: &mut State) {
        let total = self.prologue.len() + snippet.len() + self.epilogue.len();
        assert!(total <= CODE_SIZE, "snippet too long");
        let (p, e) = (self.prologue.len(), self.epilogue.len());
        let code = self.code.bytes_mut();
        code[..p].copy_from_slice(&self.prologue);
        code[p..p + snippet.len()].copy_from_slice(snippet);
        code[p + snippet.len()..p + snippet.len() + e].copy_from_slice(&self.epilogue);
        state.rflags = (state.rflags & LOADABLE_FLAGS) | BASE_FLAGS;
        // SAFETY: the page is executable and holds a complete function with
        // the C ABI: the prologue saves every callee-saved register it
        // changes and the epilogue restores them, clears DF and returns;
        // x86 keeps instruction fetch coherent with the stores above. The
        // caller vouches for the snippet in between.
        let f: extern "C" fn(*mut State) = unsafe { std::mem::transmute(self.code.ptr) };
        f(state);
    }
}

/// Offset of GPR `i` in `State`.
fn slot(i: usize) -> i32 {
    (i * 8) as i32
}

/// 64-bit registers in `State` order.
fn gpr64(i: usize) -> AsmRegister64 {
    [
        rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15,
    ][i]
}

const RDI_INDEX: usize = 7;
const RSP_INDEX: usize = 4;

fn prologue() -> Vec<u8> {
    let mut a = CodeAssembler::new(64).expect("64-bit");
    let mut f = || -> Result<(), IcedError> {
        for r in [rbx, rbp, r12, r13, r14, r15] {
            a.push(r)?;
        }
        a.push(rdi)?; // the state pointer, for the epilogue
        a.push(qword_ptr(rdi + RFLAGS_OFFSET))?;
        a.popfq()?;
        for i in (0..16).filter(|&i| i != RSP_INDEX && i != RDI_INDEX) {
            a.mov(gpr64(i), qword_ptr(rdi + slot(i)))?;
        }
        a.mov(rdi, qword_ptr(rdi + slot(RDI_INDEX)))
    };
    f().expect("prologue assembles");
    a.assemble(0).expect("prologue assembles")
}

fn epilogue() -> Vec<u8> {
    let mut a = CodeAssembler::new(64).expect("64-bit");
    let mut f = || -> Result<(), IcedError> {
        a.pushfq()?;
        // [rsp] = flags, [rsp+8] = state pointer; swap it with the
        // snippet's RDI (XCHG changes no flags).
        a.xchg(qword_ptr(rsp + 8), rdi)?;
        for i in (0..16).filter(|&i| i != RSP_INDEX && i != RDI_INDEX) {
            a.mov(qword_ptr(rdi + slot(i)), gpr64(i))?;
        }
        a.pop(rax)?;
        a.mov(qword_ptr(rdi + RFLAGS_OFFSET), rax)?;
        a.pop(rax)?;
        a.mov(qword_ptr(rdi + slot(RDI_INDEX)), rax)?;
        a.cld()?;
        for r in [r15, r14, r13, r12, rbp, rbx] {
            a.pop(r)?;
        }
        a.ret()
    };
    f().expect("epilogue assembles");
    a.assemble(0).expect("epilogue assembles")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_add_sets_result_and_carry() {
        let mut n = NativeRunner::new().unwrap();
        // add rax, rcx
        let code = [0x48, 0x01, 0xC8];
        let mut s = State::default();
        s.gpr[0] = u64::MAX;
        s.gpr[1] = 2;
        // SAFETY: one register-only ADD.
        unsafe { n.run(&code, &mut s) };
        assert_eq!(s.gpr[0], 1);
        assert_eq!(s.rflags & 1, 1, "CF");
    }

    #[test]
    fn native_store_lands_in_scratch_page() {
        let mut n = NativeRunner::new().unwrap();
        // mov [r15+8], r14
        let code = [0x4D, 0x89, 0x77, 0x08];
        let mut s = State::default();
        s.gpr[15] = n.scratch_addr();
        s.gpr[14] = 0x1122_3344_5566_7788;
        // SAFETY: one store into the scratch page.
        unsafe { n.run(&code, &mut s) };
        assert_eq!(&n.scratch()[8..16], &0x1122_3344_5566_7788u64.to_le_bytes());
    }
}
