//! Stage 2 of the boot loader: from real mode to the kernel.
//!
//! The MBR loads this image at 0x8000 and jumps to `entry.s` in real mode.
//! That code collects the memory map, enables A20, enters long mode with
//! the first 4 GiB identity-mapped and calls [`stage2_main`], which finds
//! the boot disk, opens the root ext2 partition, loads `/boot/kernel` into
//! the higher half and jumps to it with a [`BootInfo`] (see
//! `ondisk::bootinfo` for the entry contract, and the README for the
//! memory map). Every message goes to COM1, prefixed "stage2: "; an error
//! is printed and the CPU halted.

#![no_std]
#![no_main]

/// ATA PIO disk driver.
mod ata;
/// A partition as a byte-addressed device.
mod disk;
/// ELF64 header parsing.
mod elf;
/// Loading the kernel's segments.
mod loader;
/// The memory map from E820 (or E801h/88h).
mod memory;
/// The kernel's higher-half page tables.
mod paging;
/// Port I/O.
mod port;
/// The ext2 root file system.
mod rootfs;
/// memcpy and friends, the panic handler.
mod rt;
/// COM1 and `println!`.
mod serial;

use ata::{AtaDisk, AtaError};
use core::fmt;
use disk::Partition;
use memory::{MemoryMap, Source};
use ondisk::bootinfo::{BootDisk, BootInfo, MAX_CMDLINE};
use rootfs::{FsError, RootFs};

core::arch::global_asm!(include_str!("entry.s"), options(att_syntax, raw));

/// Where the kernel is, and its optional command line.
const KERNEL_PATH: &str = "/boot/kernel";
const CMDLINE_PATH: &str = "/boot/cmdline";

/// The MBR the BIOS loaded is still at 0x7C00; its partition table is how
/// stage 2 recognises the boot disk among the ATA disks.
const MBR_ADDRESS: usize = 0x7C00;
const SECTOR: usize = 512;

extern "C" {
    static s2_boot_drive: u8;
    static s2_nx: u8;
    static s2_a20_method: u8;
    static s2_stack_top: u8;
}

/// The hand-off structure, in `.bss` below 1 MiB.
static mut BOOT_INFO: BootInfo = BootInfo::new();

/// Everything that can stop the boot, each with the message it prints.
enum Error {
    NoMemoryMap,
    NotAHardDisk(u8),
    NoAtaDisk,
    BootDiskNotFound(u8),
    Disk(&'static str, AtaError),
    NoRootPartition,
    PartitionPastDiskEnd(u8),
    Fs(FsError),
    Kernel(loader::LoadError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoMemoryMap => write!(
                f,
                "the BIOS gave no memory map (E820h, E801h and 88h failed)"
            ),
            Error::NotAHardDisk(d) => write!(f, "boot drive {d:#04x} is not a hard disk"),
            Error::NoAtaDisk => write!(f, "no ATA disk found"),
            Error::BootDiskNotFound(d) => {
                write!(
                    f,
                    "boot drive {d:#04x}: no ATA disk holds the partition table the BIOS booted"
                )
            }
            Error::Disk(what, e) => write!(f, "reading {what}: {e}"),
            Error::NoRootPartition => write!(f, "no active Linux (type 0x83) partition in the MBR"),
            Error::PartitionPastDiskEnd(n) => {
                write!(f, "partition {n} extends past the end of the disk")
            }
            Error::Fs(e) => write!(f, "{e}"),
            // A read error names its path itself.
            Error::Kernel(loader::LoadError::Read(e)) => write!(f, "{e}"),
            Error::Kernel(e) => write!(f, "{KERNEL_PATH}: {e}"),
        }
    }
}

/// Called by `entry.s` in long mode; never returns.
#[no_mangle]
pub extern "C" fn stage2_main() -> ! {
    match boot() {
        Ok(never) => match never {},
        Err(e) => {
            println!("stage2: {e}");
            halt()
        }
    }
}

fn boot() -> Result<core::convert::Infallible, Error> {
    // SAFETY: written by the real-mode code before long mode, read-only since.
    let (drive, nx, a20) = unsafe { (s2_boot_drive, s2_nx != 0, s2_a20_method) };
    println!(
        "stage2: long mode; A20 {}; NX {}",
        a20_method_name(a20),
        if nx { "on" } else { "absent" }
    );

    let memory = memory::collect().ok_or(Error::NoMemoryMap)?;
    print_memory_map(&memory);

    let (disk, table) = find_boot_disk(drive)?;
    println!(
        "stage2: boot drive {drive:#04x} is ATA{} {} ({} sectors{})",
        disk.channel,
        if disk.drive == 0 { "master" } else { "slave" },
        disk.sectors,
        if disk.lba48 { ", LBA48" } else { "" }
    );
    let (number, first_lba, sectors) = root_partition(&table)?;
    if first_lba + sectors > disk.sectors {
        return Err(Error::PartitionPastDiskEnd(number));
    }
    println!("stage2: root is partition {number} (LBA {first_lba}, {sectors} sectors)");

    let mut fs = RootFs::open(Partition::new(disk, first_lba, sectors)).map_err(Error::Fs)?;
    let mut kernel_file = fs.open_file(KERNEL_PATH).map_err(Error::Fs)?;
    println!(
        "stage2: loading {KERNEL_PATH} ({} bytes)",
        kernel_file.size()
    );
    let kernel = loader::load(&mut kernel_file, &memory, nx).map_err(Error::Kernel)?;

    let info_ptr = &raw mut BOOT_INFO;
    // SAFETY: single-threaded; BOOT_INFO (a live, aligned static) is only
    // touched here and then handed over.
    let info = unsafe { &mut *info_ptr };
    info.memory_map[..memory.len].copy_from_slice(memory.regions());
    info.memory_map_len = memory.len as u32;
    info.boot_disk = BootDisk {
        bios_drive: drive,
        ata_channel: disk.channel,
        ata_drive: disk.drive,
        partition: number,
        _pad: 0,
        partition_lba: first_lba,
        partition_sectors: sectors,
    };
    info.kernel_phys_start = kernel.phys_start;
    info.kernel_phys_end = kernel.phys_end;
    info.cmdline_len = read_cmdline(&mut fs, &mut info.cmdline)? as u32;
    println!("stage2: cmdline \"{}\"", info.cmdline());
    println!(
        "stage2: kernel at {:#x}..{:#x}, entry {:#x}",
        kernel.phys_start, kernel.phys_end, kernel.entry
    );
    jump_to_kernel(kernel.entry, info)
}

fn a20_method_name(method: u8) -> &'static str {
    match method {
        0 => "was on",
        1 => "on (int 15h)",
        2 => "on (port 0x92)",
        _ => "on (8042)",
    }
}

fn print_memory_map(memory: &MemoryMap) {
    let source = match memory.source {
        Source::E820 => "E820",
        Source::E801 => "E801h",
        Source::Int88 => "int 15h 88h",
    };
    println!("stage2: memory map ({source}):");
    for r in memory.regions() {
        println!(
            "stage2:   {:#012x}-{:#012x} type {}",
            r.base,
            r.base + r.length,
            r.kind
        );
    }
}

/// The ATA disk behind BIOS drive `drive` and its MBR: the
/// (drive - 0x80)th disk if its partition table is the one at 0x7C00,
/// else the first disk whose table is.
fn find_boot_disk(drive: u8) -> Result<(AtaDisk, [u8; SECTOR]), Error> {
    if drive < 0x80 {
        return Err(Error::NotAHardDisk(drive));
    }
    let (disks, count) = AtaDisk::probe_all();
    if count == 0 {
        return Err(Error::NoAtaDisk);
    }
    // SAFETY: the BIOS loaded the MBR at 0x7C00 (identity-mapped) and
    // nothing has written its partition table (bytes 446..512) since.
    let booted =
        unsafe { core::slice::from_raw_parts((MBR_ADDRESS + 446) as *const u8, SECTOR - 446) };
    let guess = usize::from(drive - 0x80);
    let order = core::iter::once(guess).chain((0..count).filter(|&i| i != guess));
    for i in order.filter(|&i| i < count) {
        let Some(disk) = disks[i] else { continue };
        let mut mbr = [0u8; SECTOR];
        disk.read(0, &mut mbr)
            .map_err(|e| Error::Disk("the MBR", e))?;
        if mbr[446..] == *booted {
            return Ok((disk, mbr));
        }
    }
    Err(Error::BootDiskNotFound(drive))
}

/// The active Linux partition: its 1-based number, first LBA and length.
fn root_partition(mbr: &[u8; SECTOR]) -> Result<(u8, u64, u64), Error> {
    let table = ondisk::mbr::parse_table(mbr).map_err(|_| Error::NoRootPartition)?;
    table
        .iter()
        .enumerate()
        .find(|(_, p)| p.bootable && p.kind == ondisk::mbr::PART_LINUX && p.sectors != 0)
        .map(|(i, p)| (i as u8 + 1, u64::from(p.first_lba), u64::from(p.sectors)))
        .ok_or(Error::NoRootPartition)
}

/// Reads `/boot/cmdline` (missing means empty) without its trailing
/// newline; returns its length.
fn read_cmdline(fs: &mut RootFs, out: &mut [u8; MAX_CMDLINE]) -> Result<usize, Error> {
    let mut file = match fs.open_file(CMDLINE_PATH) {
        Ok(file) => file,
        Err(e) if e.is_not_found() => return Ok(0),
        Err(e) => return Err(Error::Fs(e)),
    };
    let size = file.size();
    if size > MAX_CMDLINE as u64 {
        println!("stage2: {CMDLINE_PATH}: longer than {MAX_CMDLINE} bytes, truncated");
    }
    let n = size.min(MAX_CMDLINE as u64) as usize;
    file.read_exact_at(0, &mut out[..n]).map_err(Error::Fs)?;
    let mut len = n;
    while len > 0 && matches!(out[len - 1], b'\n' | b'\r') {
        len -= 1;
    }
    // A cut through a multi-byte character would make the whole line
    // invalid UTF-8 (which the kernel reads as empty): drop the partial
    // character instead.
    if let Err(e) = core::str::from_utf8(&out[..len]) {
        if e.error_len().is_none() {
            len = e.valid_up_to();
        }
    }
    Ok(len)
}

/// Switches to the hand-off stack and calls the kernel with RDI = `info`.
fn jump_to_kernel(entry: u64, info: &BootInfo) -> ! {
    let stack_top = (&raw const s2_stack_top) as u64;
    // SAFETY: the kernel is loaded and mapped, the stack below stack_top is
    // stage 2's own (nothing of this function is needed after the switch),
    // and `call` leaves RSP + 8 16-byte aligned, as the SysV ABI expects.
    unsafe {
        core::arch::asm!(
            "mov rsp, {stack}",
            "xor ebp, ebp",
            "call {entry}",
            "2: cli",
            "hlt",
            "jmp 2b",
            stack = in(reg) stack_top,
            entry = in(reg) entry,
            in("rdi") info as *const BootInfo,
            options(noreturn)
        )
    }
}

/// Stops the CPU for good (interrupts off, so nothing wakes it).
pub fn halt() -> ! {
    loop {
        // SAFETY: cli; hlt only stops this CPU.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}
