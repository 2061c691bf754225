//! Boot-sector test programs for the BIOS services (int 10h, 13h, 16h and
//! ATA detection): a disk image whose sectors hold a known pattern, a
//! program at 0000:7C00 that calls the services and prints what they
//! returned, and a run of the whole machine from the reset vector.
//!
//! The program is both LBA 0 of the first disk (with the 55AA signature)
//! and pre-loaded at 0000:7C00 with the int 19h vector pointing at it, so
//! it runs whether or not POST boots from the disk itself. The test also
//! points the int 10h/13h/16h vectors at the BIOS's handlers (from the
//! firmware's symbol map) in case POST does not install them, and the
//! program starts by calling `ata_detect_far` so the disk table is built.

use crossbeam_channel::unbounded;
use emulator::devices::disk::DiskMode;
use emulator::firmware::{bios_symbol, BIOS};
use emulator::machine::clock::ClockMode;
use emulator::machine::{DiskSpec, HostIo, Machine, MachineConfig, Outcome};
use iced_x86::code_asm::*;
use std::io::Write;
use std::path::PathBuf;

/// Where the boot program runs.
pub const BOOT: u64 = 0x7C00;

/// Byte `i` of sector `lba` in a pattern image.
pub fn pattern(lba: u64, i: usize) -> u8 {
    (lba as u8).wrapping_mul(31) ^ (i as u8) ^ ((lba >> 8) as u8).rotate_left(3) ^ (i >> 8) as u8
}

/// The expected contents of `count` sectors from `lba`.
pub fn sectors(lba: u64, count: u64) -> Vec<u8> {
    (lba..lba + count)
        .flat_map(|n| (0..512).map(move |i| pattern(n, i)))
        .collect()
}

/// A disk image of `sectors` sectors holding `pattern`.
pub fn pattern_image(sectors: u64) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    let bytes = self::sectors(0, sectors);
    f.write_all(&bytes).expect("write image");
    f.flush().expect("flush image");
    f
}

/// One run's results.
pub struct Run {
    pub outcome: Outcome,
    /// Everything written to COM1.
    pub serial: String,
    /// Guest RAM at the end of the run.
    pub ram: Vec<u8>,
}

/// Assembles a boot program for 0000:7C00; its first instruction calls
/// `ata_detect_far`, and it ends with `exit`.
pub fn program(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
    let detect = bios_symbol("ata_detect_far").expect("ata_detect_far in the BIOS");
    let mut a = CodeAssembler::new(16).expect("16-bit assembler");
    let body = (|| -> Result<(), IcedError> {
        a.xor(ax, ax)?;
        a.mov(ds, ax)?;
        a.mov(es, ax)?;
        a.mov(ss, ax)?;
        a.mov(sp, 0x7000u32)?;
        a.cld()?;
        let [lo, hi] = detect.to_le_bytes();
        a.db(&[0x9A, lo, hi, 0x00, 0xF0])?; // call far F000:ata_detect_far
        f(&mut a)
    })();
    body.expect("assembly failed");
    let code = a.assemble(BOOT).expect("assembly failed");
    assert!(code.len() <= 510, "boot program is {} bytes", code.len());
    code
}

/// Ends the run: `out 0xF4, al` with AL = 0 (Outcome::Exit(1): the exit
/// device reports (AL << 1) | 1).
pub fn exit(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.mov(al, 0)?;
    a.out(0xF4, al)?;
    a.hlt()
}

/// Emits a subroutine that prints "AX BX CX DX F\r\n" (hex words, F = CF
/// as 0/1, ZF as Z when set) through int 10h, preserving every register
/// and the flags, at the label `dump`. Place it after the exit.
pub fn dump_routine(a: &mut CodeAssembler, dump: &mut CodeLabel) -> Result<(), IcedError> {
    let mut hex = a.create_label();
    let mut digit = a.create_label();
    let mut digit_ok = a.create_label();
    a.set_label(dump)?;
    a.pushf()?;
    a.pusha()?;
    a.mov(bp, sp)?;
    for off in [14u32, 8, 12, 10] {
        // pusha order: AX at 14, CX 12, DX 10, BX 8 from SP.
        a.mov(ax, word_ptr(bp + off))?;
        a.call(hex)?;
        a.mov(ax, 0x0E20u32)?;
        a.xor(bx, bx)?;
        a.int(0x10)?;
    }
    a.mov(ax, word_ptr(bp + 16))?; // flags
    a.mov(bx, ax)?;
    a.and(al, 1)?;
    a.add(al, b'0' as u32)?;
    a.mov(ah, 0x0E)?;
    // Teletype writes to the page in BH: page 0, keeping BL for the ZF test.
    a.mov(bh, 0)?;
    a.int(0x10)?;
    let mut no_z = a.create_label();
    a.test(bl, 0x40)?;
    a.jz(no_z)?;
    a.mov(ax, 0x0E5Au32)?;
    a.int(0x10)?;
    a.set_label(&mut no_z)?;
    a.xor(bx, bx)?;
    a.mov(ax, 0x0E0Du32)?;
    a.int(0x10)?;
    a.mov(ax, 0x0E0Au32)?;
    a.int(0x10)?;
    a.popa()?;
    a.popf()?;
    a.ret()?;
    // hex: AX as four digits.
    a.set_label(&mut hex)?;
    a.mov(cx, 4u32)?;
    a.set_label(&mut digit)?;
    a.rol(ax, 4)?;
    a.push(ax)?;
    a.and(al, 0x0F)?;
    a.add(al, b'0' as u32)?;
    a.cmp(al, b'9' as u32)?;
    a.jbe(digit_ok)?;
    a.add(al, 7)?;
    a.set_label(&mut digit_ok)?;
    a.mov(ah, 0x0E)?;
    a.mov(bx, 0u32)?;
    a.int(0x10)?;
    a.pop(ax)?;
    a.loop_(digit)?;
    a.ret()?;
    Ok(())
}

/// Writes `boot` (plus the 55AA signature) to LBA 0 of `image`.
pub fn install_boot_sector(image: &std::path::Path, boot: &[u8]) {
    use std::io::{Seek, SeekFrom};
    let mut sector = [0u8; 512];
    sector[..boot.len()].copy_from_slice(boot);
    sector[510] = 0x55;
    sector[511] = 0xAA;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(image)
        .expect("open image");
    f.seek(SeekFrom::Start(0)).expect("seek");
    f.write_all(&sector).expect("write boot sector");
}

/// The byte a program prints when it is ready for its COM1 input (input
/// sent earlier could be lost when POST resets the UART's FIFOs).
pub const READY: u8 = b'>';

/// Runs `boot` from the reset vector with `disks` attached (the first
/// gets the boot sector), `input` sent on COM1 once the program prints
/// `READY`, and `ram` pre-loaded (address, bytes) for the program to use.
pub fn run(boot: &[u8], disks: &[(PathBuf, DiskMode)], input: &[u8], ram: &[(u64, &[u8])]) -> Run {
    if let Some((first, _)) = disks.first() {
        install_boot_sector(first, boot);
    }
    let (com1_out, out_rx) = unbounded();
    let (in_tx, com1_in) = unbounded();
    let (com2_out, _com2_rx) = unbounded();
    let (_com2_tx, com2_in) = unbounded();
    let (debug_out, _debug_rx) = unbounded();
    let (_quit_tx, quit) = unbounded();
    let input = input.to_vec();
    let collector = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut pending = Some(input);
        for b in out_rx {
            out.push(b);
            if b == READY {
                for b in pending.take().unwrap_or_default() {
                    let _ = in_tx.send(b);
                }
            }
        }
        out
    });
    let config = MachineConfig {
        ram_size: 16 << 20,
        bios: BIOS.to_vec(),
        disks: disks
            .iter()
            .map(|(path, mode)| DiskSpec {
                path: path.clone(),
                mode: *mode,
            })
            .collect(),
        clock: ClockMode::Virtual,
        no_reboot: true,
        // Generous: the keyboard tests poll while the input arrives.
        max_instructions: Some(5_000_000_000),
        timeout: Some(std::time::Duration::from_secs(60)),
        rtc_start: Some(0),
    };
    let io = HostIo {
        com1_out,
        com1_in,
        com2_out,
        com2_in,
        debug_out,
        quit,
    };
    let mut machine = Machine::new(config, io).expect("machine");
    let vector = |n: u64, seg: u16, off: u16| {
        let mut v = off.to_le_bytes().to_vec();
        v.extend_from_slice(&seg.to_le_bytes());
        (n * 4, v)
    };
    let mut writes = vec![vector(0x19, 0, BOOT as u16)];
    for (n, name) in [
        (0x10, "int10_handler"),
        (0x13, "int13_handler"),
        (0x16, "int16_handler"),
    ] {
        let off = bios_symbol(name).expect("service in the BIOS");
        writes.push(vector(n, 0xF000, off));
    }
    for (addr, bytes) in writes {
        machine.cpu.write_phys(addr, &bytes);
    }
    machine.cpu.write_phys(BOOT, boot);
    for &(addr, bytes) in ram {
        machine.cpu.write_phys(addr, bytes);
    }
    let outcome = machine.run();
    let ram = machine.cpu.mem.ram()[..0x10_0000].to_vec();
    drop(machine);
    let serial = collector.join().expect("output collector");
    let serial = String::from_utf8_lossy(&serial).into_owned();
    Run {
        outcome,
        serial,
        ram,
    }
}
