//! Architecture-specific code. Only x86-64 exists.

/// The x86-64 PC: CPU tables, traps, interrupt controller, timer, FPU.
pub mod x86_64;
