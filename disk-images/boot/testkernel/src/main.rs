//! A test kernel for stage 2: checks the entry state and the boot info it
//! is handed, prints what it found on COM1 and leaves through the exit
//! port (0xF4): 0x10 when every check passed (emu exits with 33), 0x11
//! otherwise (35).

#![no_std]
#![no_main]

use core::arch::{asm, naked_asm};
use core::fmt::{self, Write};
use ondisk::bootinfo::{BootInfo, KERNEL_VIRT_BASE};

const COM1: u16 = 0x3F8;
const EXIT_PORT: u16 = 0xF4;
const EXIT_PASS: u8 = 0x10;
const EXIT_FAIL: u8 = 0x11;

static mut DATA_WORD: u64 = 41;
static mut BSS_WORDS: [u64; 64] = [0; 64];
#[cfg(feature = "big")]
static BIG: &[u8; 3 << 20] = include_bytes!(concat!(env!("OUT_DIR"), "/big.bin"));
#[cfg(feature = "big")]
static mut BIG_BSS: [u8; 1 << 20] = [0; 1 << 20];

static GREETING: &str = "testkernel: hello from the higher half";

fn outb(port: u16, v: u8) {
    // SAFETY: CPL 0; COM1 and the exit port have no memory effects.
    unsafe { asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack)) };
}

fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as for outb.
    unsafe { asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack)) };
    v
}

struct Serial;
impl Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.write_str("\r")?;
            }
            while inb(COM1 + 5) & 0x20 == 0 {}
            outb(COM1, b);
        }
        Ok(())
    }
}

macro_rules! println {
    ($($arg:tt)*) => {{ let _ = writeln!(Serial, $($arg)*); }};
}

/// The entry point: passes RDI (the boot info) on, with whether RSP + 8 was
/// 16-byte aligned as after a `call`.
#[unsafe(naked)]
#[no_mangle]
#[link_section = ".text.start"]
pub extern "C" fn _start() -> ! {
    naked_asm!(
        "lea rsi, [rsp + 8]",
        "and rsi, 15",
        "jmp {main}",
        main = sym kmain,
    )
}

extern "C" fn kmain(info: *const BootInfo, misalign: u64) -> ! {
    let mut failures = 0;
    let mut check = |ok: bool, what: &str| {
        println!("testkernel: {} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            failures += 1;
        }
    };
    println!("{GREETING}");
    check(
        misalign == 0,
        "stack aligned as after a call (RSP + 8 = 0 mod 16)",
    );
    check((info as u64) < 0x10_0000, "boot info below 1 MiB");
    // SAFETY: stage 2 passes the identity-mapped address of its BootInfo.
    let info = unsafe { &*info };
    check(info.is_valid(), "boot info magic and version");
    if !info.is_valid() {
        exit(EXIT_FAIL);
    }
    println!("testkernel: cmdline \"{}\"", info.cmdline());
    for r in info.memory_map() {
        println!(
            "testkernel: e820 {:#012x} len {:#012x} type {}",
            r.base, r.length, r.kind
        );
    }
    let d = &info.boot_disk;
    println!(
        "testkernel: boot disk bios {:#04x} ata{}.{} partition {} lba {} sectors {}",
        d.bios_drive, d.ata_channel, d.ata_drive, d.partition, d.partition_lba, d.partition_sectors
    );
    println!(
        "testkernel: kernel phys {:#x}..{:#x}",
        info.kernel_phys_start, info.kernel_phys_end
    );
    check(!info.memory_map().is_empty(), "memory map present");
    check(
        info.kernel_phys_start == 0x10_0000,
        "kernel loaded at 1 MiB",
    );

    // SAFETY: single-threaded; DATA_WORD and BSS_WORDS are ours.
    let (data, bss_zero) = unsafe {
        let p = &raw mut DATA_WORD;
        p.write_volatile(p.read_volatile() + 1);
        let words = (&raw const BSS_WORDS).cast::<u64>();
        (
            p.read_volatile(),
            (0..64).all(|i| words.add(i).read_volatile() == 0),
        )
    };
    check(data == 42, ".data writable and initialised");
    check(bss_zero, ".bss zeroed");
    check(
        kmain as *const () as u64 >= KERNEL_VIRT_BASE,
        "running in the higher half",
    );

    #[cfg(feature = "big")]
    {
        let sum = BIG.iter().fold(0u32, |s, &b| {
            s.wrapping_add(u32::from(core::hint::black_box(b)))
        });
        check(
            Some(sum) == env!("BIG_SUM").parse().ok(),
            "3 MiB .rodata blob intact",
        );
        let bss = (&raw const BIG_BSS).cast::<u8>();
        // SAFETY: reading our own .bss.
        check(
            (0..1 << 20).all(|i| unsafe { bss.add(i).read_volatile() } == 0),
            "1 MiB .bss zeroed",
        );
    }

    let (cr0, cr4, efer) = control_registers();
    check(
        cr0 & (1 << 16) != 0 && cr0 & (1 << 2) == 0 && cr0 & (1 << 1) != 0,
        "CR0.WP and MP set, EM clear",
    );
    check(cr4 & (3 << 9) == 3 << 9, "CR4.OSFXSR and OSXMMEXCPT set");
    let nx = efer & (1 << 11) != 0;
    check(rflags() & (1 << 9) == 0, "interrupts disabled");
    let text = page_flags(kmain as *const () as u64);
    let rodata = page_flags(GREETING.as_ptr() as u64);
    let data_flags = page_flags(&raw const DATA_WORD as u64);
    check(
        text.is_some_and(|f| f & 2 == 0 && (f >> 63 == 0)),
        "text: read-only, executable",
    );
    check(
        rodata.is_some_and(|f| f & 2 == 0 && (!nx || f >> 63 == 1)),
        "rodata: read-only, no-execute",
    );
    check(
        data_flags.is_some_and(|f| f & 2 != 0 && (!nx || f >> 63 == 1)),
        "data: writable, no-execute",
    );
    check(page_flags(0xB8000).is_some(), "low memory identity-mapped");
    check(page_flags(0xFFFF_F000).is_some(), "4 GiB identity-mapped");
    if failures == 0 {
        println!("testkernel: all checks passed");
        exit(EXIT_PASS);
    }
    println!("testkernel: {failures} checks failed");
    exit(EXIT_FAIL)
}

fn control_registers() -> (u64, u64, u64) {
    let (cr0, cr4, lo, hi): (u64, u64, u32, u32);
    // SAFETY: reading control registers and IA32_EFER at CPL 0.
    unsafe {
        asm!("mov {}, cr0", out(reg) cr0);
        asm!("mov {}, cr4", out(reg) cr4);
        asm!("rdmsr", in("ecx") 0xC000_0080u32, out("eax") lo, out("edx") hi);
    }
    (cr0, cr4, u64::from(lo) | (u64::from(hi) << 32))
}

fn rflags() -> u64 {
    let f: u64;
    // SAFETY: pushfq/pop only touch the stack.
    unsafe { asm!("pushfq", "pop {}", out(reg) f) };
    f
}

/// The leaf entry mapping `vaddr` (4-level walk through CR3, using the
/// identity map of the tables), or None if not present.
fn page_flags(vaddr: u64) -> Option<u64> {
    let mut table: u64;
    // SAFETY: reading CR3 at CPL 0.
    unsafe { asm!("mov {}, cr3", out(reg) table) };
    for (level, shift) in [39u32, 30, 21, 12].into_iter().enumerate() {
        let index = (vaddr >> shift) & 511;
        // SAFETY: stage 2's tables lie in identity-mapped low memory.
        let entry = unsafe {
            ((table & 0x000F_FFFF_FFFF_F000) as *const u64)
                .add(index as usize)
                .read_volatile()
        };
        if entry & 1 == 0 {
            return None;
        }
        if level == 3 || (level > 0 && entry & 0x80 != 0) {
            return Some(entry);
        }
        table = entry;
    }
    None
}

fn exit(code: u8) -> ! {
    outb(EXIT_PORT, code);
    loop {
        // SAFETY: stop here if there is no exit device.
        unsafe { asm!("cli", "hlt") };
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("testkernel: panic: {}", info.message());
    exit(EXIT_FAIL)
}

// Memory functions `core` calls (kept simple: this kernel only tests).
#[no_mangle]
unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: caller's contract; rep movsb cannot recurse into memcpy.
    unsafe { asm!("rep movsb", inout("rcx") n => _, inout("rdi") d => _, inout("rsi") s => _) };
    d
}
#[no_mangle]
unsafe extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: caller's contract.
    unsafe { asm!("rep stosb", inout("rcx") n => _, inout("rdi") d => _, in("al") c as u8) };
    d
}
#[no_mangle]
unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    let mut i = 0;
    if (d as usize) < (s as usize) {
        while i < n {
            // SAFETY: caller's contract.
            unsafe { d.add(i).write_volatile(s.add(i).read_volatile()) };
            i += 1;
        }
    } else {
        while i < n {
            // SAFETY: caller's contract.
            unsafe {
                d.add(n - 1 - i)
                    .write_volatile(s.add(n - 1 - i).read_volatile())
            };
            i += 1;
        }
    }
    d
}
#[no_mangle]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: caller's contract.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}
#[no_mangle]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: caller's contract.
    unsafe { memcmp(a, b, n) }
}
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    exit(EXIT_FAIL)
}
