//! Exception and interrupt entry (Linux's `arch/x86/entry/entry_64.S`).
//!
//! One 16-byte stub per vector, 256 in a row at [`vector_stubs`]: each
//! pushes a zero where the CPU pushes no error code (so every frame looks
//! the same), then the vector number, and jumps to `common_entry`. That
//! saves the general registers to build a [`TrapFrame`] and the SSE state
//! with `fxsave` (the handlers are Rust, and Rust uses the XMM registers),
//! calls [`crate::arch::x86_64::traps::trap_dispatch`], and undoes it all
//! with `iretq`. Vectors that push an error code: SDM Vol. 3A §6.15,
//! Table 6-1 (8, 10-14, 17, 21, 29, 30).

use core::arch::global_asm;

/// Bytes per stub in the table.
pub const STUB_SIZE: u64 = 16;

/// The registers at the time of a trap, as `common_entry` leaves them on
/// the stack (lowest address first), then what the CPU pushed.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    // Pushed by the CPU (SDM Vol. 3A Figure 6-9, IA-32e mode stack).
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

unsafe extern "C" {
    /// The first of the 256 entry stubs, [`STUB_SIZE`] bytes apart.
    pub safe static vector_stubs: [u8; 0];
}

/// The entry stub for `vector`.
pub fn stub_address(vector: u8) -> u64 {
    (&raw const vector_stubs) as u64 + u64::from(vector) * STUB_SIZE
}

global_asm!(
    ".section .text",
    ".balign 16",
    ".global vector_stubs",
    "vector_stubs:",
    ".set vec, 0",
    ".rept 256",
    "    .balign 16",
    "    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)",
    "    .else",
    "    pushq $0",
    "    .endif",
    "    pushq $vec",
    "    jmp common_entry",
    "    .set vec, vec + 1",
    ".endr",
    "",
    "common_entry:",
    "    cld",
    "    pushq %rax",
    "    pushq %rbx",
    "    pushq %rcx",
    "    pushq %rdx",
    "    pushq %rsi",
    "    pushq %rdi",
    "    pushq %rbp",
    "    pushq %r8",
    "    pushq %r9",
    "    pushq %r10",
    "    pushq %r11",
    "    pushq %r12",
    "    pushq %r13",
    "    pushq %r14",
    "    pushq %r15",
    "    movq %rsp, %rdi",        // &mut TrapFrame
    "    movq %rsp, %rbx",        // callee-saved: the frame, for the way out
    "    subq $512, %rsp",        // the FXSAVE area, 16-byte aligned
    "    andq $-16, %rsp",
    "    fxsave (%rsp)",
    "    call {dispatch}",
    "    fxrstor (%rsp)",
    "    movq %rbx, %rsp",
    "    popq %r15",
    "    popq %r14",
    "    popq %r13",
    "    popq %r12",
    "    popq %r11",
    "    popq %r10",
    "    popq %r9",
    "    popq %r8",
    "    popq %rbp",
    "    popq %rdi",
    "    popq %rsi",
    "    popq %rdx",
    "    popq %rcx",
    "    popq %rbx",
    "    popq %rax",
    "    addq $16, %rsp",         // vector and error code
    "    iretq",
    dispatch = sym super::traps::trap_dispatch,
    options(att_syntax),
);
