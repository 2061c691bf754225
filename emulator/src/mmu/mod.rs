//! The MMU: linear-to-physical translation and the software TLB.
//!
//! - `walk`: the page walker for 32-bit, PAE and 4-level paging, with the
//!   SDM's permission rules and accessed/dirty updates.
//! - `tlb`: the software TLB the CPU's memory fast path consults first.
//!
//! Segmentation (logical to linear), the fast and slow access paths, and
//! the CPU-side MMU controls (`load_pdptes`, `paging_control_changed`,
//! `set_a20`) live with the CPU, in `cpu::access`.

pub mod tlb;
pub mod walk;

pub use tlb::{FlushCause, Tlb, TlbStats};
pub use walk::{walk, Effects, PagingMode, PagingRegs, Translation};

/// What an access wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    Read,
    Write,
    Execute,
}

/// An access as the MMU checks it: its kind and whether it is made with
/// user privilege (CPL 3 and not an implicit supervisor access such as a
/// descriptor-table read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub kind: AccessKind,
    pub user: bool,
}
