//! The x86-64 PC: everything that knows about the CPU's tables and the
//! board's legacy chips. Intel SDM references are to the combined volumes
//! (order no. 325462).

/// `_start`: the entry from stage 2, onto the kernel stack.
pub mod boot;
/// Control registers, MSRs, CPUID, `hlt`, interrupt flag.
pub mod cpu;
/// Low-level exception and interrupt entry stubs (asm) and the trap frame.
pub mod entry;
/// SSE: enabling it and saving its state (FXSAVE areas).
pub mod fpu;
/// The global descriptor table: kernel and user segments, the TSS slot.
pub mod gdt;
/// The 8253/8254 programmable interval timer: the HZ tick, TSC calibration.
pub mod i8253;
/// The 8259A interrupt controller pair.
pub mod i8259;
/// The interrupt descriptor table.
pub mod idt;
/// Port I/O.
pub mod io;
/// Hardware interrupts: `request_irq`, the dispatcher, per-IRQ counts.
pub mod irq;
/// Page-table entries and the paging registers.
pub mod pgtable;
/// `syscall`/`sysret` MSRs.
pub mod syscall;
/// Exception handlers and the oops report.
pub mod traps;
/// The task-state segment: the interrupt stack table.
pub mod tss;
/// Copying to and from user memory with fault fixups.
pub mod uaccess;
