//! `_start`: where stage 2 (or `emu run --kernel`) enters the kernel.
//!
//! The entry state is stage 2's contract (`ondisk::bootinfo`): long mode,
//! IF = 0, the first 4 GiB identity-mapped and the kernel's segments mapped
//! at their link addresses, RDI = physical address of the `BootInfo`. We
//! zero `.bss` (the loader should have, but it costs nothing to be sure),
//! move onto the boot stack in `.bss` and call `kernel_main(boot_info_pa)`.
//! The boot stack becomes the stack of task 0 (swapper).

use core::arch::global_asm;

use super::tss::{BOOT_STACK, BOOT_STACK_SIZE};

// The host test build has its own `_start`.
#[cfg(not(test))]
global_asm!(
    ".section .text.boot, \"ax\"",
    ".global _start",
    "_start:",
    "    cli",
    "    cld",
    "    mov r12, rdi",                      // BootInfo physical address
    "    lea rdi, [rip + __bss_start]",
    "    lea rcx, [rip + __bss_stop]",
    "    sub rcx, rdi",
    "    xor eax, eax",
    "    rep stosb",
    "    lea rsp, [rip + {stack} + {top}]",
    "    xor ebp, ebp",                      // ends frame-pointer walks
    "    mov rdi, r12",
    "    call {main}",
    "2:  hlt",
    "    jmp 2b",
    stack = sym BOOT_STACK,
    top = const 4096 + BOOT_STACK_SIZE,
    main = sym crate::init::main::kernel_main,
);
