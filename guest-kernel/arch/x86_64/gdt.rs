//! The global descriptor table (SDM Vol. 3A §3.4.5, §8.2.3 for the 16-byte
//! TSS descriptor). Same layout as Linux's x86-64 GDT, so selectors match
//! what Linux prints in an oops (`RIP: 0010:`, `RSP: 0018:`) and the order
//! fits `syscall`/`sysret` (STAR) when user mode arrives.

use core::arch::asm;
use core::cell::UnsafeCell;

use super::tss;

pub const KERNEL_CS: u16 = 0x10;
pub const KERNEL_DS: u16 = 0x18;
pub const TSS_SEL: u16 = 0x40;

struct Gdt(UnsafeCell<[u64; 10]>);
// SAFETY: written during boot before `lgdt`; afterwards only the CPU
// touches it (the TSS busy bit).
unsafe impl Sync for Gdt {}

static GDT: Gdt = Gdt(UnsafeCell::new([
    0,
    0x00cf_9b00_0000_ffff, // 0x08 kernel 32-bit code
    0x00af_9b00_0000_ffff, // 0x10 kernel 64-bit code (L = 1)
    0x00cf_9300_0000_ffff, // 0x18 kernel data
    0x00cf_fb00_0000_ffff, // 0x20 user 32-bit code, DPL 3
    0x00cf_f300_0000_ffff, // 0x28 user data, DPL 3
    0x00af_fb00_0000_ffff, // 0x30 user 64-bit code, DPL 3
    0,
    0, // 0x40 TSS, low half
    0, // 0x48 TSS, high half
]));

#[repr(C, packed)]
struct DescriptorTablePointer {
    limit: u16,
    base: u64,
}

/// Installs the TSS descriptor, loads the GDT, reloads every segment
/// register and loads the task register.
pub fn init() {
    tss::init();
    let (base, size) = tss::tss_region();
    let limit = size as u64 - 1;
    // Available 64-bit TSS (type 9), present, DPL 0.
    let low = (limit & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x89 << 40)
        | (((limit >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    let high = base >> 32;
    // SAFETY: boot is single-threaded and the GDT is not loaded yet.
    let gdt = unsafe { &mut *GDT.0.get() };
    gdt[8] = low;
    gdt[9] = high;
    let ptr = DescriptorTablePointer {
        limit: (core::mem::size_of::<[u64; 10]>() - 1) as u16,
        base: gdt.as_ptr() as u64,
    };
    // SAFETY: the table is valid and static; the far return reloads CS with
    // the 64-bit kernel code segment, so execution continues right here.
    unsafe {
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ss, {ds:x}",
            "xor {tmp:e}, {tmp:e}",
            "mov ds, {tmp:x}",
            "mov es, {tmp:x}",
            "mov fs, {tmp:x}",
            "mov gs, {tmp:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            cs = const KERNEL_CS as u64,
            ds = in(reg) u64::from(KERNEL_DS),
            tss = in(reg) u64::from(TSS_SEL),
            tmp = out(reg) _,
        );
    }
}
