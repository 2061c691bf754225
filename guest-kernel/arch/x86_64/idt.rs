//! The interrupt descriptor table (SDM Vol. 3A §6.14.1, Figure 6-8:
//! 64-bit IDT gate descriptors).
//!
//! All 256 vectors get an interrupt gate (IF cleared on entry) to their
//! entry stub in `entry.rs`, each on an IST stack (see `tss.rs` for why).

use core::arch::asm;
use core::cell::UnsafeCell;

use super::entry::stub_address;
use super::gdt::KERNEL_CS;
use super::tss::{IST_DEBUG, IST_DOUBLE_FAULT, IST_EXCEPTION, IST_IRQ, IST_MACHINE_CHECK, IST_NMI};

/// Present, DPL 0, 64-bit interrupt gate (type 0xE).
const GATE_INTERRUPT: u8 = 0x8E;
/// Present, DPL 3, 64-bit trap gate (type 0xF): `int 0x80` from user mode.
const GATE_TRAP_USER: u8 = 0xEF;
/// Linux's legacy system-call vector.
pub const IA32_SYSCALL_VECTOR: u8 = 0x80;

#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    _reserved: u32,
}

impl Gate {
    const EMPTY: Gate = Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attr: 0,
        offset_mid: 0,
        offset_high: 0,
        _reserved: 0,
    };

    fn new(handler: u64, ist: u8, type_attr: u8) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector: KERNEL_CS,
            ist,
            type_attr,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            _reserved: 0,
        }
    }
}

#[repr(C, align(16))]
struct Idt(UnsafeCell<[Gate; 256]>);
// SAFETY: filled during boot before `lidt`, then only read by the CPU.
unsafe impl Sync for Idt {}

static IDT: Idt = Idt(UnsafeCell::new([Gate::EMPTY; 256]));

/// The IST slot for `vector`.
fn ist_for(vector: u8) -> u8 {
    match vector {
        1 => IST_DEBUG,
        2 => IST_NMI,
        8 => IST_DOUBLE_FAULT,
        18 => IST_MACHINE_CHECK,
        0..=31 => IST_EXCEPTION,
        _ => IST_IRQ,
    }
}

#[repr(C, packed)]
struct DescriptorTablePointer {
    limit: u16,
    base: u64,
}

/// Marks the gate for `vector` present or not (`crash=doublefault` uses
/// it to make a #PF undeliverable).
pub fn set_present(vector: u8, present: bool) {
    // SAFETY: one byte of a gate the CPU reads only on delivery; interrupts
    // cannot arrive mid-write on one CPU with a byte store.
    let idt = unsafe { &mut *IDT.0.get() };
    let gate = &mut idt[vector as usize];
    gate.type_attr = if present {
        gate.type_attr | 0x80
    } else {
        gate.type_attr & !0x80
    };
}

/// Fills the IDT and loads it.
pub fn init() {
    // SAFETY: single-threaded boot; the IDT is not loaded yet.
    let idt = unsafe { &mut *IDT.0.get() };
    for (vector, gate) in idt.iter_mut().enumerate() {
        let vector = vector as u8;
        *gate = Gate::new(stub_address(vector), ist_for(vector), GATE_INTERRUPT);
    }
    // `int 0x80`: callable from ring 3, no IST (the privilege change
    // switches to TSS.RSP0, the task's kernel stack). A trap gate leaves
    // IF as it was; the dispatcher turns interrupts off and on itself.
    idt[IA32_SYSCALL_VECTOR as usize] =
        Gate::new(stub_address(IA32_SYSCALL_VECTOR), 0, GATE_TRAP_USER);
    let ptr = DescriptorTablePointer {
        limit: (core::mem::size_of::<[Gate; 256]>() - 1) as u16,
        base: idt.as_ptr() as u64,
    };
    // SAFETY: the table is static and every gate points at a valid stub.
    unsafe { asm!("lidt [{}]", in(reg) &ptr, options(readonly, nostack, preserves_flags)) };
}
