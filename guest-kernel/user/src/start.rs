//! Process entry. The kernel starts `_start` with `rsp` at the initial
//! stack (System V x86-64 psABI 3.4.1, figure 3.9): `argc`, then `argv[]`
//! and a NULL, then `envp[]` and a NULL, then the auxiliary vector. No
//! register but `rsp` is meaningful (`rdx` may hold an exit function for
//! dynamic linkers; static programs ignore it).
//!
//! A program names its `fn() -> i32` with [`main!`](crate::main); the
//! runtime records the arguments and environment ([`crate::env`]), calls it
//! and exits with what it returns, after flushing nothing: output is
//! written as it is formatted (see [`crate::io`]).

use crate::{env, eprintln, sys};
use core::arch::global_asm;

global_asm!(
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "xor %ebp, %ebp",       // the outermost frame, for debuggers
    "mov %rsp, %rdi",       // the initial stack, for `start_rust`
    "and $-16, %rsp",       // the ABI's call alignment
    "call {start}",
    "ud2",
    start = sym start_rust,
    options(att_syntax)
);

unsafe extern "Rust" {
    /// The program's main, defined by [`main!`](crate::main).
    fn __ulib_main() -> i32;
}

/// Reads the initial stack, then runs the program.
///
/// # Safety
/// `sp` is the stack the kernel set up for a new process.
unsafe extern "C" fn start_rust(sp: *const usize) -> ! {
    // SAFETY: the kernel's layout: argc, argv..., NULL, envp..., NULL.
    unsafe {
        let argc = *sp;
        let argv = sp.add(1) as *const *const u8;
        let envp = argv.add(argc + 1);
        env::init(argc, argv, envp);
    }
    // SAFETY: `main!` defines the symbol with this signature.
    let status = unsafe { __ulib_main() };
    sys::exit(status)
}

/// Names the program's `fn main() -> i32`.
#[macro_export]
macro_rules! main {
    ($main:path) => {
        #[unsafe(no_mangle)]
        fn __ulib_main() -> i32 {
            $main()
        }
    };
}

/// A panic is a bug in a program: say where, and exit with status 134 as
/// an abort would (but without a signal, which needs no kernel support).
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    eprintln!("{}: panic: {}", env::program_name(), info);
    sys::exit(134)
}

/// Never called: programs are built with panic = abort, but the prebuilt
/// `alloc` and `core` still name the unwinder's entry points.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

/// See [`rust_eh_personality`].
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume() -> ! {
    sys::exit(134)
}
