//! Hardware interrupts (Linux's `kernel/irq/`, much reduced).
//!
//! A driver registers a *top half* with [`request_irq`]. When the line
//! fires, [`dispatch`] (called from the trap entry, IF = 0, on the IRQ IST
//! stack) counts it, runs the handler and then sends the end-of-interrupt
//! to the 8259A. Top halves must be short: read the device, buffer the
//! data, and leave the rest to a bottom half (`kernel/softirq.rs`).

use core::sync::atomic::{AtomicU64, Ordering};

use super::i8259;
use crate::kernel::softirq;
use crate::kernel::sync::SpinLock;

/// ISA interrupt lines.
pub const NR_IRQS: usize = 16;

#[derive(Clone, Copy)]
struct IrqAction {
    name: &'static str,
    handler: fn(),
}

static ACTIONS: SpinLock<[Option<IrqAction>; NR_IRQS]> = SpinLock::new([None; NR_IRQS]);
static COUNTS: [AtomicU64; NR_IRQS] = [const { AtomicU64::new(0) }; NR_IRQS];
static SPURIOUS: AtomicU64 = AtomicU64::new(0);

/// Installs `handler` as the top half of ISA IRQ `irq` (0-15) and unmasks
/// the line. A second request for the same line replaces the first.
pub fn request_irq(irq: u8, name: &'static str, handler: fn()) {
    assert!((irq as usize) < NR_IRQS, "request_irq: no IRQ {irq}");
    ACTIONS.lock()[irq as usize] = Some(IrqAction { name, handler });
    i8259::unmask(irq);
}

/// Handles IRQ `irq` (from `traps::trap_dispatch`).
pub fn dispatch(irq: u8) {
    if i8259::is_spurious(irq) {
        SPURIOUS.fetch_add(1, Ordering::Relaxed);
        return;
    }
    softirq::irq_enter();
    COUNTS[irq as usize].fetch_add(1, Ordering::Relaxed);
    let action = ACTIONS.lock()[irq as usize];
    match action {
        Some(action) => (action.handler)(),
        None => {
            // Nobody wants it: keep it from firing again.
            i8259::mask(irq);
            pr_warn!("irq {}: nobody cared, line masked", irq);
        }
    }
    i8259::eoi(irq);
    softirq::irq_exit();
}

/// Calls `f(irq, count, name)` for every requested line, for
/// `/proc/interrupts`.
pub fn for_each_irq(mut f: impl FnMut(u8, u64, &'static str)) {
    let actions = *ACTIONS.lock();
    for (irq, action) in actions.iter().enumerate() {
        if let Some(action) = action {
            f(irq as u8, COUNTS[irq].load(Ordering::Relaxed), action.name);
        }
    }
}

/// Spurious IRQ 7 / 15 seen (Linux's ERR count).
pub fn spurious_count() -> u64 {
    SPURIOUS.load(Ordering::Relaxed)
}
