//! An x86-64 PC emulator.
//!
//! - `cpu`: the processor: state, decoded-block cache, instruction handlers,
//!   exception delivery.
//! - `mmu`: page walks and the software TLB.
//! - `memory`: guest physical memory (RAM, ROM, the code bitmap).
//! - `bus`: what the CPU asks of the board (ports, MMIO, INTR).
//! - `devices`: the PC devices (PIC, PIT, UART, ATA, CMOS, 8042, ...).
//! - `machine`: the board that wires them, the clock, and the run loop.
//! - `artifacts`: where this build put the default disk image and the
//!   guest pieces it is made of.
//! - `bare`: a CPU set up directly in real, protected or long mode, for
//!   running flat code without firmware (tests, benchmarks, `emu exec`).
//! - `trace`: the trace event stream and its Perfetto writer.

pub mod artifacts;
pub mod bare;
pub mod bus;
pub mod cpu;
pub mod devices;
pub mod firmware;
pub mod machine;
pub mod memory;
pub mod mmu;
pub mod trace;
