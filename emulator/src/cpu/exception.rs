//! Guest faults: the exceptions an instruction can raise.
//!
//! These are architectural events, not host errors. A handler returns
//! `Err(Exception)`; the run loop rolls RIP back to the faulting instruction
//! and delivers the vector (see `interrupt.rs`). Intel SDM Vol. 3A, 6.3.1,
//! Table 6-1 lists the vectors.

/// An exception raised while executing an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exception {
    /// #DE, vector 0: divide error.
    DivideError,
    /// #DB, vector 1: debug (single step is a trap, delivered after).
    Debug,
    /// #BP, vector 3: `int3` (a trap).
    Breakpoint,
    /// #OF, vector 4: `into` with OF set (a trap).
    Overflow,
    /// #BR, vector 5: `bound` range exceeded.
    BoundRange,
    /// #UD, vector 6: invalid or unsupported opcode.
    InvalidOpcode,
    /// #NM, vector 7: FPU/SSE instruction with CR0.EM or CR0.TS set.
    DeviceNotAvailable,
    /// #DF, vector 8: a fault while delivering a fault (error code 0).
    DoubleFault,
    /// #TS, vector 10: invalid TSS (error code: selector).
    InvalidTss(u16),
    /// #NP, vector 11: segment not present (error code: selector).
    SegmentNotPresent(u16),
    /// #SS, vector 12: stack-segment fault (error code: selector or 0).
    StackFault(u16),
    /// #GP, vector 13: general protection (error code: selector or 0).
    GeneralProtection(u16),
    /// #PF, vector 14: page fault; CR2 receives `addr`.
    PageFault { addr: u64, code: u32 },
    /// #MF, vector 16: x87 floating-point error.
    FloatingPoint,
    /// #AC, vector 17: alignment check (error code 0).
    AlignmentCheck,
    /// #XM, vector 19: SIMD floating-point exception.
    SimdFloatingPoint,
}

/// Page-fault error code bits (SDM Vol. 3A, 4.7, Figure 4-12).
pub mod pf {
    /// The fault was a protection violation (the page was present).
    pub const PRESENT: u32 = 1 << 0;
    /// The access was a write.
    pub const WRITE: u32 = 1 << 1;
    /// The access was made in user mode (CPL 3).
    pub const USER: u32 = 1 << 2;
    /// A reserved bit was set in a paging-structure entry.
    pub const RSVD: u32 = 1 << 3;
    /// The access was an instruction fetch.
    pub const FETCH: u32 = 1 << 4;
}

/// How an exception class combines with a second one (SDM Table 6-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Benign,
    Contributory,
    PageFault,
    DoubleFault,
}

impl Exception {
    /// The interrupt vector.
    pub fn vector(self) -> u8 {
        use Exception::*;
        match self {
            DivideError => 0,
            Debug => 1,
            Breakpoint => 3,
            Overflow => 4,
            BoundRange => 5,
            InvalidOpcode => 6,
            DeviceNotAvailable => 7,
            DoubleFault => 8,
            InvalidTss(_) => 10,
            SegmentNotPresent(_) => 11,
            StackFault(_) => 12,
            GeneralProtection(_) => 13,
            PageFault { .. } => 14,
            FloatingPoint => 16,
            AlignmentCheck => 17,
            SimdFloatingPoint => 19,
        }
    }

    /// The error code pushed with the exception, if it has one.
    pub fn error_code(self) -> Option<u32> {
        use Exception::*;
        match self {
            DoubleFault | AlignmentCheck => Some(0),
            InvalidTss(s) | SegmentNotPresent(s) | StackFault(s) | GeneralProtection(s) => {
                Some(s as u32)
            }
            PageFault { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether RIP after delivery points past the instruction (a trap).
    pub fn is_trap(self) -> bool {
        matches!(self, Exception::Breakpoint | Exception::Overflow)
    }

    /// The class used for double-fault detection.
    pub fn class(self) -> Class {
        use Exception::*;
        match self {
            DivideError | InvalidTss(_) | SegmentNotPresent(_) | StackFault(_)
            | GeneralProtection(_) => Class::Contributory,
            PageFault { .. } => Class::PageFault,
            DoubleFault => Class::DoubleFault,
            _ => Class::Benign,
        }
    }

    /// The short mnemonic (#GP, #PF, ...), for reports.
    pub fn mnemonic(self) -> &'static str {
        const NAMES: [&str; 20] = [
            "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS", "#NP",
            "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
        ];
        NAMES[self.vector() as usize]
    }
}

/// Whether a second exception raised while delivering `first` becomes a
/// double fault (SDM Vol. 3A, Table 6-5).
pub fn is_double_fault(first: Class, second: Class) -> bool {
    matches!(
        (first, second),
        (Class::Contributory, Class::Contributory)
            | (Class::PageFault, Class::Contributory)
            | (Class::PageFault, Class::PageFault)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_fault_after_page_fault_is_a_double_fault() {
        assert!(is_double_fault(Class::PageFault, Class::PageFault));
    }

    #[test]
    fn page_fault_during_general_protection_is_delivered_alone() {
        assert!(!is_double_fault(Class::Contributory, Class::PageFault));
    }

    #[test]
    fn general_protection_carries_its_selector() {
        assert_eq!(Exception::GeneralProtection(0x28).error_code(), Some(0x28));
        assert_eq!(Exception::InvalidOpcode.error_code(), None);
    }
}
