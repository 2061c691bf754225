//! Device drivers (Linux's `drivers/`).

/// The ATA (IDE) disk driver.
pub mod ata;
/// The 16550A UART: the serial console, interrupt-driven.
pub mod serial;
/// The terminal line discipline: echo and line editing of console input.
pub mod tty;
