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

/// The pseudo-vector a `syscall` instruction's frame carries.
pub const SYSCALL_VECTOR: u64 = 0x100;

/// The top of the running task's kernel stack (Linux's
/// `cpu_current_top_of_stack`), also in TSS.RSP0.
#[unsafe(no_mangle)]
pub static mut cpu_current_top_of_stack: u64 = 0;
/// Scratch for the user RSP in `entry_syscall_64` (IF is clear there).
#[unsafe(no_mangle)]
pub static mut syscall_user_rsp: u64 = 0;

unsafe extern "C" {
    pub fn entry_syscall_64();
    pub fn __switch_to_asm(prev_rsp: *mut u64, next_rsp: u64);
    pub fn ret_from_fork();
    pub fn __copy_user(dst: *mut u8, src: *const u8, len: usize) -> usize;
    pub safe static __copy_user_fault_ip: [u8; 0];
    pub safe static __copy_user_fixup: [u8; 0];
}

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

impl TrapFrame {
    pub const fn zeroed() -> Self {
        TrapFrame {
            r15: 0,
            r14: 0,
            r13: 0,
            r12: 0,
            r11: 0,
            r10: 0,
            r9: 0,
            r8: 0,
            rbp: 0,
            rdi: 0,
            rsi: 0,
            rdx: 0,
            rcx: 0,
            rbx: 0,
            rax: 0,
            vector: 0,
            error_code: 0,
            rip: 0,
            cs: 0,
            rflags: 0,
            rsp: 0,
            ss: 0,
        }
    }

    /// Whether the trap came from user mode (CPL 3).
    pub fn user_mode(&self) -> bool {
        self.cs & 3 == 3
    }
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
    // From user mode: move the frame off the IST stack onto the task's
    // own kernel stack (Linux's sync_regs), so the handler may sleep,
    // schedule and run bottom halves. `int 0x80` and `syscall` already
    // arrive there (source = destination, the copy is harmless).
    "    testb $3, 144(%rsp)",     // TrapFrame.cs
    "    jz 1f",
    "    movq %rsp, %rsi",
    "    movq cpu_current_top_of_stack(%rip), %rdi",
    "    subq $176, %rdi",         // size_of::<TrapFrame>()
    "    movq %rdi, %rdx",
    "    movl $22, %ecx",
    "    rep movsq",
    "    movq %rdx, %rsp",
    "1:",
    "    movq %rsp, %rdi",        // &mut TrapFrame
    "    movq %rsp, %rbx",        // callee-saved: the frame, for the way out
    "    subq $512, %rsp",        // the FXSAVE area, 16-byte aligned
    "    andq $-16, %rsp",
    "    fxsave (%rsp)",
    "    call {dispatch}",
    // A forked child starts here (ret_from_fork), with RSP at its FXSAVE
    // area and RBX at its frame.
    ".global common_return",
    "common_return:",
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
    "",
    // The `syscall` instruction (SDM Vol. 2B SYSCALL): RCX = user RIP,
    // R11 = user RFLAGS, IF cleared by SFMASK, RSP still the user's.
    // Build the same frame an interrupt would, as vector SYSCALL_VECTOR,
    // and share the path (the return is `iretq`, which is always right).
    ".global entry_syscall_64",
    "entry_syscall_64:",
    "    movq %rsp, syscall_user_rsp(%rip)",
    "    movq cpu_current_top_of_stack(%rip), %rsp",
    "    pushq $0x2b",            // user SS
    "    pushq syscall_user_rsp(%rip)",
    "    pushq %r11",
    "    pushq $0x33",            // user CS
    "    pushq %rcx",
    "    pushq $0",
    "    pushq $0x100",           // SYSCALL_VECTOR
    "    jmp common_entry",
    "",
    // switch_to(prev_rsp: *mut u64 (rdi), next_rsp: u64 (rsi)): saves the
    // callee-saved registers on the old stack, switches stacks, restores
    // them from the new one. Every other register is caller-saved (SysV
    // ABI), the user's SSE state is in its trap frame's FXSAVE area.
    ".global __switch_to_asm",
    "__switch_to_asm:",
    "    pushq %rbp",
    "    pushq %rbx",
    "    pushq %r12",
    "    pushq %r13",
    "    pushq %r14",
    "    pushq %r15",
    "    movq %rsp, (%rdi)",
    "    movq %rsi, %rsp",
    "    popq %r15",
    "    popq %r14",
    "    popq %r13",
    "    popq %r12",
    "    popq %rbx",
    "    popq %rbp",
    "    ret",
    "",
    // A new task's first switch returns here: finish the switch, then
    // leave through the common exit with the frame in RBX.
    ".global ret_from_fork",
    "ret_from_fork:",
    "    movq %rbx, %rdi",
    "    call {tail}",
    "    jmp common_return",
    "",
    // copy_user(dst, src, len) -> bytes NOT copied (Linux's
    // copy_user_generic with its exception table entry): a fault inside
    // the `rep movsb` resumes at the fixup with RCX = what is left.
    ".global __copy_user",
    ".global __copy_user_fault_ip",
    ".global __copy_user_fixup",
    "__copy_user:",
    "    movq %rdx, %rcx",
    "__copy_user_fault_ip:",
    "    rep movsb",
    "__copy_user_fixup:",
    "    movq %rcx, %rax",
    "    ret",
    dispatch = sym super::traps::trap_dispatch,
    tail = sym crate::kernel::sched::schedule_tail,
    options(att_syntax),
);
