//! The 8259A programmable interrupt controller pair (Intel 8259A datasheet,
//! order no. 231468: ICW1-4 on p. 10-12, OCW1-3 on p. 13-14). Linux's
//! `arch/x86/kernel/i8259.c`.
//!
//! The master takes IRQ 0-7, the slave IRQ 8-15 cascaded on the master's
//! IRQ 2. The BIOS leaves them on vectors 0x08 and 0x70, which collide with
//! CPU exceptions in protected mode, so we remap them to 0x20 and 0x28.

use super::io::{inb, io_delay, outb};
use crate::kernel::sync::SpinLock;

const MASTER_CMD: u16 = 0x20;
const MASTER_DATA: u16 = 0x21;
const SLAVE_CMD: u16 = 0xA0;
const SLAVE_DATA: u16 = 0xA1;

/// ICW1: edge triggered, cascade mode, ICW4 needed.
const ICW1_INIT: u8 = 0x11;
/// ICW4: 8086 mode, normal EOI.
const ICW4_8086: u8 = 0x01;
/// OCW2: non-specific end of interrupt.
const OCW2_EOI: u8 = 0x20;
/// OCW3: next read of the command port returns the in-service register.
const OCW3_READ_ISR: u8 = 0x0B;

/// The slave sits on the master's IRQ 2.
const CASCADE_IRQ: u8 = 2;

pub const MASTER_VECTOR: u8 = 0x20;
pub const SLAVE_VECTOR: u8 = 0x28;

/// The interrupt mask register pair (bit set = masked), 15..0.
static MASK: SpinLock<u16> = SpinLock::new(0xffff);

/// Reinitialises both chips with the vector bases 0x20 / 0x28 and every
/// line masked except the cascade.
pub fn init() {
    let mut mask = MASK.lock();
    // SAFETY: the PICs are ours; the sequence is the datasheet's ICW1-4.
    unsafe {
        outb(MASTER_DATA, 0xff);
        outb(SLAVE_DATA, 0xff);
        outb(MASTER_CMD, ICW1_INIT);
        io_delay();
        outb(SLAVE_CMD, ICW1_INIT);
        io_delay();
        outb(MASTER_DATA, MASTER_VECTOR); // ICW2: vector base
        io_delay();
        outb(SLAVE_DATA, SLAVE_VECTOR);
        io_delay();
        outb(MASTER_DATA, 1 << CASCADE_IRQ); // ICW3: slave on IRQ 2
        io_delay();
        outb(SLAVE_DATA, CASCADE_IRQ); // ICW3: slave identity 2
        io_delay();
        outb(MASTER_DATA, ICW4_8086);
        io_delay();
        outb(SLAVE_DATA, ICW4_8086);
        io_delay();
    }
    *mask = !(1 << CASCADE_IRQ);
    write_mask(*mask);
}

fn write_mask(mask: u16) {
    // SAFETY: OCW1 writes only change which lines are masked.
    unsafe {
        outb(MASTER_DATA, mask as u8);
        outb(SLAVE_DATA, (mask >> 8) as u8);
    }
}

/// Lets IRQ `irq` through.
pub fn unmask(irq: u8) {
    let mut mask = MASK.lock();
    *mask &= !(1 << irq);
    write_mask(*mask);
}

/// Blocks IRQ `irq`.
pub fn mask(irq: u8) {
    let mut mask = MASK.lock();
    *mask |= 1 << irq;
    write_mask(*mask);
}

/// Ends the interrupt on the chip(s) that delivered it.
pub fn eoi(irq: u8) {
    // SAFETY: OCW2 non-specific EOI; the slave first for its lines.
    unsafe {
        if irq >= 8 {
            outb(SLAVE_CMD, OCW2_EOI);
        }
        outb(MASTER_CMD, OCW2_EOI);
    }
}

/// Whether IRQ 7 or 15 is spurious: the line dropped before the INTA cycle
/// and the chip's in-service bit is clear (datasheet p. 18). For a spurious
/// 15 the master still saw a real IRQ 2 and needs its EOI.
pub fn is_spurious(irq: u8) -> bool {
    if irq != 7 && irq != 15 {
        return false;
    }
    let (cmd, bit) = if irq == 7 {
        (MASTER_CMD, 7)
    } else {
        (SLAVE_CMD, 7)
    };
    // SAFETY: OCW3 selects the ISR for the next read; no other effect.
    let isr = unsafe {
        outb(cmd, OCW3_READ_ISR);
        inb(cmd)
    };
    if isr & (1 << bit) != 0 {
        return false;
    }
    if irq == 15 {
        // SAFETY: the master did deliver IRQ 2.
        unsafe { outb(MASTER_CMD, OCW2_EOI) };
    }
    true
}
