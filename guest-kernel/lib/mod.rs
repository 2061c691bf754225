//! Freestanding helpers (Linux's `lib/`).

/// memcpy, memmove, memset, memcmp, bcmp, and the unwinding stubs.
pub mod string;
