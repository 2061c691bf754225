//! CPU registers and instructions the kernel needs by name: control
//! registers (SDM Vol. 3A §2.5), MSRs (Vol. 4), CPUID, the interrupt flag.

use core::arch::asm;

/// CR0 bits (SDM Vol. 3A §2.5).
pub mod cr0 {
    pub const MP: u64 = 1 << 1;
    pub const EM: u64 = 1 << 2;
    pub const TS: u64 = 1 << 3;
    pub const NE: u64 = 1 << 5;
    /// Supervisor writes honour read-only pages.
    pub const WP: u64 = 1 << 16;
}

/// CR4 bits (SDM Vol. 3A §2.5).
pub mod cr4 {
    pub const PGE: u64 = 1 << 7;
    /// FXSAVE/FXRSTOR save SSE state; SSE instructions allowed.
    pub const OSFXSR: u64 = 1 << 9;
    /// Unmasked SIMD floating-point exceptions raise #XM.
    pub const OSXMMEXCPT: u64 = 1 << 10;
}

/// IA32_EFER (SDM Vol. 4, MSR C000_0080H).
pub const MSR_EFER: u32 = 0xC000_0080;
/// EFER.NXE: the XD bit in page-table entries is honoured.
pub const EFER_NXE: u64 = 1 << 11;

/// Whether the CPU honours the XD (NX) page bit: CPUID.80000001H:EDX[20].
pub fn has_nx() -> bool {
    cpuid(0x8000_0000).0 >= 0x8000_0001 && cpuid(0x8000_0001).3 & (1 << 20) != 0
}

/// Whether the CPU has global pages: CPUID.01H:EDX[13].
pub fn has_pge() -> bool {
    cpuid(1).3 & (1 << 13) != 0
}

/// RFLAGS.IF.
pub const RFLAGS_IF: u64 = 1 << 9;

macro_rules! control_register {
    ($read:ident, $reg:literal) => {
        #[doc = concat!("Reads ", $reg, ".")]
        #[inline]
        pub fn $read() -> u64 {
            let v: u64;
            // SAFETY: reading a control register has no side effects at CPL 0.
            unsafe { asm!(concat!("mov {}, ", $reg), out(reg) v, options(nomem, nostack, preserves_flags)) };
            v
        }
    };
    ($read:ident, $write:ident, $reg:literal) => {
        control_register!($read, $reg);

        #[doc = concat!("Writes ", $reg, ".")]
        ///
        /// # Safety
        /// The new value must keep the kernel running (paging, protection).
        #[inline]
        pub unsafe fn $write(v: u64) {
            // SAFETY: the caller keeps the machine consistent.
            unsafe { asm!(concat!("mov ", $reg, ", {}"), in(reg) v, options(nostack, preserves_flags)) };
        }
    };
}

control_register!(read_cr0, write_cr0, "cr0");
control_register!(read_cr2, "cr2");
control_register!(read_cr3, write_cr3, "cr3");
control_register!(read_cr4, write_cr4, "cr4");

/// Reads a model-specific register.
///
/// # Safety
/// `msr` must exist on this CPU (else #GP).
#[inline]
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: the caller names an MSR this CPU has.
    unsafe {
        asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Writes a model-specific register.
///
/// # Safety
/// `msr` must exist and `v` must keep the kernel running.
#[inline]
pub unsafe fn wrmsr(msr: u32, v: u64) {
    // SAFETY: the caller keeps the machine consistent.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") v as u32, in("edx") (v >> 32) as u32, options(nostack, preserves_flags))
    };
}

/// The time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: RDTSC only reads the counter (CR4.TSD is clear at CPL 0).
    unsafe {
        asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// CPUID leaf `leaf`, subleaf 0: (eax, ebx, ecx, edx).
pub fn cpuid(leaf: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, 0);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// RFLAGS.
#[inline]
pub fn read_rflags() -> u64 {
    let v: u64;
    // SAFETY: pushf/pop only touch the stack slot they use.
    unsafe { asm!("pushfq", "pop {}", out(reg) v, options(nomem, preserves_flags)) };
    v
}

/// Whether interrupts are enabled (RFLAGS.IF).
#[inline]
pub fn irqs_enabled() -> bool {
    read_rflags() & RFLAGS_IF != 0
}

/// Disables interrupts (`cli`).
#[inline]
pub fn local_irq_disable() {
    // SAFETY: masking interrupts cannot break memory safety.
    unsafe { asm!("cli", options(nomem, nostack)) };
}

/// Enables interrupts (`sti`).
#[inline]
pub fn local_irq_enable() {
    // SAFETY: the IDT is loaded before anyone calls this.
    unsafe { asm!("sti", options(nomem, nostack)) };
}

/// Saves the interrupt flag and disables interrupts: Linux's
/// `local_irq_save`. Hand the result to [`local_irq_restore`].
#[inline]
pub fn local_irq_save() -> bool {
    let was = irqs_enabled();
    local_irq_disable();
    was
}

/// Re-enables interrupts if `was_enabled`.
#[inline]
pub fn local_irq_restore(was_enabled: bool) {
    if was_enabled {
        local_irq_enable();
    }
}

/// Enables interrupts and halts until the next one, atomically: the
/// instruction after `sti` runs before any interrupt is taken (SDM Vol. 2B,
/// STI), so an interrupt arriving after a check made with IF = 0 still wakes
/// the `hlt`.
#[inline]
pub fn safe_halt() {
    // SAFETY: the IDT is loaded; HLT resumes on the next interrupt.
    unsafe { asm!("sti", "hlt", options(nomem, nostack)) };
}

/// Stops this CPU for good: interrupts off, then `hlt` forever.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: nothing runs after this; NMIs return to the loop.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
}
