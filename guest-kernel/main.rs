//! The guest kernel: a small Linux-like x86-64 kernel.
//!
//! Stage 2 (or `emu run --kernel`) enters `_start` in
//! [`arch::x86_64::boot`] in long mode with a [`ondisk::bootinfo::BootInfo`];
//! [`init::kernel_main`] runs the boot sequence. The tree follows Linux's, so
//! each idea sits where a reader of Linux would look for it.
// Unit tests of the kernel's pure logic run on the host with std's test
// harness (`tests/tests/kernel_unit.rs` builds them): only the freestanding
// build is `no_std`/`no_main`.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
// In the test build nothing calls `kernel_main`, so most of the kernel is
// unreachable from the harness by construction.
#![cfg_attr(test, allow(dead_code, unused_imports))]

extern crate alloc;

// First, so the printk macros (`pr_info!` ...) are in scope everywhere below.
/// Core services: printk, softirqs, locks, wait queues, time, panic, tasks.
#[macro_use]
mod kernel;

/// Architecture code: boot entry, GDT/TSS/IDT, traps, IRQs, PIC, PIT, FPU.
mod arch;
/// The block layer: request queues and partitions.
mod block;
/// Device drivers: the serial console and the ATA disk.
mod drivers;
/// File systems: the root ext2 mount.
mod fs;
/// The boot sequence and the kernel command line.
mod init;
/// Freestanding helpers the compiler needs: memcpy and friends (`lib/`;
/// the module is `klib` because rustc reserves the name `lib`).
#[path = "lib/mod.rs"]
mod klib;
/// Memory: the E820 map, the page allocator, page tables, the heap.
mod mm;
