//! Running SSE arithmetic on the host's own SSE unit.
//!
//! Implementation strategy: the emulator only builds for x86-64 hosts, and
//! every x86-64 CPU has SSE2 whose IEEE-754 results, NaN rules (SDM Vol. 1,
//! 4.8.3.5 and Table 4-7), MIN/MAX operand-order rules, integer-indefinite
//! conversions, DAZ/FTZ and exception flags are architectural, so identical
//! on every host. Each guest instruction runs as the same host instruction
//! inside one `asm!` block that saves the host MXCSR, loads the guest's
//! rounding control, DAZ and FTZ with every exception masked and every flag
//! clear, executes, reads the flags back with STMXCSR and restores the host
//! MXCSR. The caller then decides, from the guest's masks, whether the
//! instruction faults (`super::raise_flags`).
//!
//! Running masked hides one case: with UE unmasked the SDM reports every
//! tiny result as underflow, exact or not, while a masked run flags only
//! tiny *and* inexact ones. So when the guest unmasks UE the host runs
//! with FTZ set, which flags every tiny result (UE with PE) as it flushes
//! it; the instruction then faults and the flushed result is discarded.
//! The one deviation left: for a tiny result that was exact, PE is
//! reported along with UE.
//!
//! RCPPS and RSQRTPS are implementation-specific approximations that differ
//! between host CPU models, so they do not run here (see `approx`).

#[cfg(not(target_arch = "x86_64"))]
compile_error!("SSE floating point runs on the host's SSE unit: the emulator needs an x86-64 host");

use core::arch::x86_64::__m128i;

/// A host operation on two XMM values under a guest MXCSR: returns the
/// destination and the exception flags it raised.
pub type HostOp = fn(u128, u128, u32) -> (u128, u32);

/// The MXCSR the host runs with: the guest's rounding control, DAZ and FTZ,
/// every exception masked, no flag set; FTZ forced on if the guest unmasks
/// UE (see the module docs).
#[inline(always)]
pub fn host_mxcsr(guest: u32) -> u32 {
    use super::mxcsr::*;
    let ue_unmasked = guest & (UE << MASK_SHIFT) == 0;
    let ftz = if ue_unmasked { FTZ } else { 0 };
    (guest & !FLAGS) | MASKS | ftz
}

#[inline(always)]
pub fn to_m128(v: u128) -> __m128i {
    // SAFETY: both are plain 16-byte values with no invalid bit patterns.
    unsafe { core::mem::transmute::<u128, __m128i>(v) }
}

#[inline(always)]
pub fn from_m128(v: __m128i) -> u128 {
    // SAFETY: both are plain 16-byte values with no invalid bit patterns.
    unsafe { core::mem::transmute::<__m128i, u128>(v) }
}

/// `op xmm_d, xmm_s` (optionally `, imm8`) run under a guest MXCSR;
/// evaluates to `(destination, raised flags)`.
macro_rules! host_binop {
    ($op:literal, $d:expr, $s:expr, $csr:expr $(, $imm:literal)?) => {{
        let mut d = $crate::cpu::exec::sse::host::to_m128($d);
        let s = $crate::cpu::exec::sse::host::to_m128($s);
        let run: u32 = $crate::cpu::exec::sse::host::host_mxcsr($csr);
        let mut saved: u32 = 0;
        let mut out: u32 = 0;
        // SAFETY: the block only touches the two XMM operands and the three
        // u32 locals it is handed pointers to; it restores the host MXCSR
        // before it ends, and every exception is masked while it runs, so
        // no floating-point trap can be taken.
        unsafe {
            core::arch::asm!(
                "stmxcsr [{saved}]",
                "ldmxcsr [{run}]",
                concat!($op, " {d}, {s}" $(, ", ", $imm)?),
                "stmxcsr [{out}]",
                "ldmxcsr [{saved}]",
                d = inout(xmm_reg) d,
                s = in(xmm_reg) s,
                saved = in(reg) core::ptr::addr_of_mut!(saved),
                run = in(reg) core::ptr::addr_of!(run),
                out = in(reg) core::ptr::addr_of_mut!(out),
                options(nostack, preserves_flags),
            );
        }
        (
            $crate::cpu::exec::sse::host::from_m128(d),
            out & $crate::cpu::exec::sse::mxcsr::FLAGS,
        )
    }};
}

/// Runs the asm template `$tmpl` with the operands that follow under a
/// guest MXCSR, like `host_binop!`; evaluates to the raised flags. The
/// template may change RFLAGS (COMISS), so flags are not preserved.
macro_rules! host_asm {
    ($csr:expr; $tmpl:expr; $($ops:tt)*) => {{
        let run: u32 = $crate::cpu::exec::sse::host::host_mxcsr($csr);
        let mut saved: u32 = 0;
        let mut out: u32 = 0;
        // SAFETY: the block only touches its listed operands and the three
        // u32 locals it is handed pointers to; it restores the host MXCSR
        // before it ends, and every exception is masked while it runs, so
        // no floating-point trap can be taken.
        unsafe {
            core::arch::asm!(
                "stmxcsr [{saved}]",
                "ldmxcsr [{run}]",
                $tmpl,
                "stmxcsr [{out}]",
                "ldmxcsr [{saved}]",
                $($ops)*
                saved = in(reg) core::ptr::addr_of_mut!(saved),
                run = in(reg) core::ptr::addr_of!(run),
                out = in(reg) core::ptr::addr_of_mut!(out),
                options(nostack),
            );
        }
        out & $crate::cpu::exec::sse::mxcsr::FLAGS
    }};
}

pub(crate) use host_asm;
pub(crate) use host_binop;
