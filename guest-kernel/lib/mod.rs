//! Freestanding helpers (Linux's `lib/`).

/// memcpy, memmove, memset, memcmp, bcmp, and the unwinding stubs.
#[cfg(not(test))]
pub mod string;
