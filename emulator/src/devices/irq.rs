//! ISA interrupt request lines.
//!
//! Sixteen wires from the devices to the interrupt controller. A device
//! holds an `IrqLine` for its wire and drives it high or low; the 8259A
//! samples `IrqLines`: the current levels (for level-triggered inputs) and
//! the rising edges seen since it last looked (for edge-triggered ones), so
//! a pulse shorter than the time between two samples is not lost.

use std::cell::Cell;
use std::rc::Rc;

/// The state of all sixteen lines.
#[derive(Debug, Default)]
pub struct IrqLines {
    level: Cell<u16>,
    rising: Cell<u16>,
    /// Set whenever a level changes: lets the board skip asking the
    /// interrupt controller when nothing it samples has moved.
    changed: Cell<bool>,
    /// Level changes go to the trace (`trace`; set once, by the board).
    trace: std::cell::RefCell<crate::trace::Trace>,
}

impl IrqLines {
    pub fn new() -> Rc<IrqLines> {
        Rc::new(IrqLines::default())
    }

    /// The handle a device drives line `irq` (0-15) through.
    pub fn line(self: &Rc<Self>, irq: u8) -> IrqLine {
        assert!(irq < 16, "ISA has 16 interrupt lines");
        IrqLine {
            lines: self.clone(),
            irq,
        }
    }

    /// The current level of every line, bit n for IRQ n.
    pub fn levels(&self) -> u16 {
        self.level.get()
    }

    /// The lines that went from low to high since the last call.
    pub fn take_rising(&self) -> u16 {
        self.rising.replace(0)
    }

    /// Whether any level changed since the last call.
    pub fn take_changed(&self) -> bool {
        self.changed.replace(false)
    }

    /// Sends every level change to `trace`.
    pub fn set_trace(&self, trace: crate::trace::Trace) {
        *self.trace.borrow_mut() = trace;
    }

    fn set(&self, irq: u8, high: bool) {
        let bit = 1u16 << irq;
        let old = self.level.get();
        if (old & bit != 0) != high {
            self.changed.set(true);
            if let Some(mut t) = self.trace.borrow().on(crate::trace::Category::Irq) {
                t.irq_line(irq, high);
            }
        }
        if high {
            if old & bit == 0 {
                self.rising.set(self.rising.get() | bit);
            }
            self.level.set(old | bit);
        } else {
            self.level.set(old & !bit);
        }
    }
}

/// One interrupt request line, as a device sees it.
#[derive(Debug, Clone)]
pub struct IrqLine {
    lines: Rc<IrqLines>,
    irq: u8,
}

impl IrqLine {
    /// Drives the line high.
    pub fn raise(&self) {
        self.lines.set(self.irq, true);
    }
    /// Drives the line low.
    pub fn lower(&self) {
        self.lines.set(self.irq, false);
    }
    /// Drives the line to `high`.
    pub fn set_level(&self, high: bool) {
        self.lines.set(self.irq, high);
    }
    /// A short high pulse: an edge for an edge-triggered input.
    pub fn pulse(&self) {
        self.raise();
        self.lower();
    }
    /// The line number.
    pub fn number(&self) -> u8 {
        self.irq
    }
    /// Whether the line is high now.
    pub fn is_high(&self) -> bool {
        self.lines.levels() & (1 << self.irq) != 0
    }
}

impl crate::machine::snapshot::Persist for Rc<IrqLines> {
    /// Levels and pending rising edges.
    fn persist(
        &mut self,
        io: &mut crate::machine::snapshot::StateIo,
    ) -> crate::machine::snapshot::Result<()> {
        // The lines are shared with every device; their cells change in
        // place, so the sharing survives a load.
        let lines: &IrqLines = self;
        let (mut level, mut rising) = (lines.level.get(), lines.rising.get());
        level.persist(io)?;
        rising.persist(io)?;
        lines.level.set(level);
        lines.rising.set(rising);
        if io.is_loading() {
            // Make the board ask the PIC again rather than trust the INTR
            // level it cached before the load.
            lines.changed.set(true);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pulse_leaves_a_rising_edge_and_a_low_level() {
        let lines = IrqLines::new();
        let irq4 = lines.line(4);

        irq4.pulse();

        assert_eq!(lines.levels(), 0);
        assert_eq!(lines.take_rising(), 1 << 4);
        assert_eq!(lines.take_rising(), 0, "edges are consumed");
    }

    #[test]
    fn raising_a_high_line_again_is_not_a_new_edge() {
        let lines = IrqLines::new();
        let irq14 = lines.line(14);
        irq14.raise();
        lines.take_rising();

        irq14.raise();

        assert_eq!(lines.take_rising(), 0);
        assert!(irq14.is_high());
    }
}
