//! The task-state segment and the stacks it names (SDM Vol. 3A §8.7,
//! "Task Management in 64-bit Mode", and §6.14.5 "Interrupt Stack Table").
//!
//! Every exception and interrupt switches to an IST stack. That is not just
//! Linux's choice for #DF and NMI: the prebuilt `core` library was compiled
//! with the red zone on, so an interrupt taken on the interrupted code's own
//! stack could overwrite up to 128 bytes below its RSP that it still uses.
//! Each stack has an unmapped guard page below it (mm/init.rs leaves it out
//! of the page tables), so an overflow faults instead of corrupting memory.

use core::cell::UnsafeCell;
use core::mem::size_of;

/// IST slots (1-based, as the IDT gate's IST field counts).
pub const IST_DOUBLE_FAULT: u8 = 1;
pub const IST_NMI: u8 = 2;
pub const IST_DEBUG: u8 = 3;
pub const IST_MACHINE_CHECK: u8 = 4;
/// Every other exception.
pub const IST_EXCEPTION: u8 = 5;
/// Hardware interrupts and software vectors.
pub const IST_IRQ: u8 = 6;

pub const BOOT_STACK_SIZE: usize = 32 * 1024;
const IST_STACK_SIZE: usize = 16 * 1024;
const PAGE_SIZE: usize = 4096;

/// A stack with a guard page below it.
#[repr(C, align(4096))]
pub struct Stack<const N: usize> {
    guard: UnsafeCell<[u8; PAGE_SIZE]>,
    bytes: UnsafeCell<[u8; N]>,
}

// SAFETY: a stack is only ever used by the CPU through RSP, never through
// Rust references.
unsafe impl<const N: usize> Sync for Stack<N> {}

impl<const N: usize> Stack<N> {
    pub const fn new() -> Self {
        Stack {
            guard: UnsafeCell::new([0; PAGE_SIZE]),
            bytes: UnsafeCell::new([0; N]),
        }
    }

    /// The (unmapped) guard page.
    pub fn guard_page(&self) -> u64 {
        self.guard.get() as u64
    }

    /// The initial RSP: one past the top.
    pub fn top(&self) -> u64 {
        self.bytes.get() as u64 + N as u64
    }

    /// Whether `addr` lies in the usable part.
    pub fn contains(&self, addr: u64) -> bool {
        let base = self.bytes.get() as u64;
        (base..base + N as u64).contains(&addr)
    }
}

/// Task 0's kernel stack; `_start` switches to it.
pub static BOOT_STACK: Stack<BOOT_STACK_SIZE> = Stack::new();
/// The IST stacks, slot 1 first.
pub static IST_STACKS: [Stack<IST_STACK_SIZE>; 6] = [const { Stack::new() }; 6];

/// The 64-bit TSS (SDM Vol. 3A Figure 8-11).
#[repr(C, packed(4))]
pub struct TaskStateSegment {
    _reserved0: u32,
    /// Stacks for a privilege change to CPL 0..2 (RSP0 matters).
    pub rsp: [u64; 3],
    _reserved1: u64,
    /// IST1..IST7.
    pub ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    /// No I/O permission bitmap: the offset points past the limit.
    pub iomap_base: u16,
}

pub struct TssCell(UnsafeCell<TaskStateSegment>);
// SAFETY: written once in `init` before `ltr`, read by the CPU afterwards.
unsafe impl Sync for TssCell {}

pub static TSS: TssCell = TssCell(UnsafeCell::new(TaskStateSegment {
    _reserved0: 0,
    rsp: [0; 3],
    _reserved1: 0,
    ist: [0; 7],
    _reserved2: 0,
    _reserved3: 0,
    iomap_base: size_of::<TaskStateSegment>() as u16,
}));

/// Fills in RSP0 (the boot stack) and the IST pointers.
pub fn init() {
    // SAFETY: single-threaded boot, before the TSS is loaded.
    let tss = unsafe { &mut *TSS.0.get() };
    tss.rsp = [BOOT_STACK.top(), 0, 0];
    let mut ist = [0; 7];
    for (slot, stack) in ist.iter_mut().zip(IST_STACKS.iter()) {
        *slot = stack.top();
    }
    tss.ist = ist;
}

/// The TSS's address and size, for its GDT descriptor.
pub fn tss_region() -> (u64, usize) {
    (TSS.0.get() as u64, size_of::<TaskStateSegment>())
}

/// Guard pages to leave unmapped.
pub fn guard_pages() -> impl Iterator<Item = u64> {
    core::iter::once(BOOT_STACK.guard_page()).chain(IST_STACKS.iter().map(|s| s.guard_page()))
}

/// The stack whose guard page holds `addr`, as its usable range.
pub fn guard_hit(addr: u64) -> Option<(u64, u64)> {
    let hit = |guard: u64, top: u64| {
        (guard..guard + PAGE_SIZE as u64)
            .contains(&addr)
            .then_some((guard + PAGE_SIZE as u64, top))
    };
    hit(BOOT_STACK.guard_page(), BOOT_STACK.top())
        .or_else(|| IST_STACKS.iter().find_map(|s| hit(s.guard_page(), s.top())))
}

/// Whether `addr` is on one of the kernel's stacks (for frame walks).
pub fn on_kernel_stack(addr: u64) -> bool {
    BOOT_STACK.contains(addr) || IST_STACKS.iter().any(|s| s.contains(addr))
}

/// Sets the stack a privilege change to CPL 0 loads (the running task's
/// kernel stack), and the copy `entry_syscall_64` reads.
pub fn set_rsp0(top: u64) {
    // SAFETY: one CPU, interrupts off in the caller (the context switch);
    // the CPU reads RSP0 only on the next entry from user mode.
    unsafe {
        (*TSS.0.get()).rsp[0] = top;
        super::entry::cpu_current_top_of_stack = top;
    }
}
