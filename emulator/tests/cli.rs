//! `emu run` end to end: tiny firmware ROMs assembled here boot on the
//! board, talk to its devices, and the process's output and exit status
//! are checked.

use iced_x86::code_asm::*;
use std::io::Write;
use std::process::{Command, Output};

type Program = fn(&mut CodeAssembler) -> Result<(), IcedError>;

/// A 64 KiB ROM whose reset vector jumps to `code` at F000:0000.
fn rom(code: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> tempfile::NamedTempFile {
    rom_with(code, None)
}

/// Where `rom_with` puts an interrupt handler (F000:8000).
const HANDLER: u32 = 0x8000;

/// A ROM with `code` at F000:0000 and, if given, `handler` at F000:8000.
fn rom_with(
    code: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
    handler: Option<Program>,
) -> tempfile::NamedTempFile {
    let mut a = CodeAssembler::new(16).unwrap();
    code(&mut a).unwrap();
    let body = a.assemble(0).unwrap();
    let mut image = vec![0xFFu8; 0x10000];
    image[..body.len()].copy_from_slice(&body);
    if let Some(h) = handler {
        let mut a = CodeAssembler::new(16).unwrap();
        h(&mut a).unwrap();
        let bytes = a.assemble(HANDLER as u64).unwrap();
        image[HANDLER as usize..HANDLER as usize + bytes.len()].copy_from_slice(&bytes);
    }
    // F000:FFF0: jmp far F000:0000.
    image[0xFFF0..0xFFF5].copy_from_slice(&[0xEA, 0x00, 0x00, 0x00, 0xF0]);
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&image).unwrap();
    f
}

/// Sets COM1 to 115200 8N1, as a driver does before sending.
fn init_com1(a: &mut CodeAssembler) -> Result<(), IcedError> {
    for (port, v) in [(0x3FBu32, 0x80u32), (0x3F8, 1), (0x3F9, 0), (0x3FB, 0x03)] {
        a.mov(dx, port)?;
        a.mov(al, v)?;
        a.out(dx, al)?;
    }
    Ok(())
}

/// Writes the bytes of `text` to COM1, polling LSR.THRE before each.
fn print(a: &mut CodeAssembler, text: &str) -> Result<(), IcedError> {
    init_com1(a)?;
    for b in text.bytes() {
        let mut wait = a.create_label();
        a.set_label(&mut wait)?;
        a.mov(dx, 0x3FDu32)?;
        a.in_(al, dx)?;
        a.test(al, 0x20)?;
        a.jz(wait)?;
        a.mov(dx, 0x3F8u32)?;
        a.mov(al, b as u32)?;
        a.out(dx, al)?;
    }
    Ok(())
}

/// `out 0xF4, value`: the exit device.
fn exit(a: &mut CodeAssembler, value: u8) -> Result<(), IcedError> {
    a.mov(al, value as u32)?;
    a.out(0xF4, al)
}

fn spin(a: &mut CodeAssembler) -> Result<(), IcedError> {
    let mut l = a.create_label();
    a.set_label(&mut l)?;
    a.jmp(l)
}

fn emu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emu"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("emu runs")
}

fn path(f: &tempfile::NamedTempFile) -> &str {
    f.path().to_str().unwrap()
}

#[test]
fn serial_output_reaches_stdout_and_the_exit_port_sets_the_status() {
    let bios = rom(|a| {
        print(a, "hello\n")?;
        exit(a, 5)
    });

    let out = emu(&["run", "--bios", path(&bios)]);

    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    assert_eq!(out.status.code(), Some(11), "(5 << 1) | 1");
}

#[test]
fn triple_fault_with_no_reboot_stops_with_a_register_dump() {
    let bios = rom(|a| {
        // An empty IVT: INT 3 cannot be delivered, nor the faults after.
        a.push(0)?;
        a.push(0)?;
        a.push(0)?;
        a.mov(bp, sp)?;
        a.lidt(ptr(bp))?;
        a.int3()
    });

    let out = emu(&["run", "--no-reboot", "--bios", path(&bios)]);

    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("triple fault"), "{err}");
    assert!(err.contains("rip="), "register dump: {err}");
}

#[test]
fn hlt_with_interrupts_disabled_is_reported_as_hung() {
    let bios = rom(|a| {
        a.cli()?;
        a.hlt()
    });

    let out = emu(&["run", "--bios", path(&bios)]);

    assert_eq!(out.status.code(), Some(10));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupts disabled"));
}

#[test]
fn instruction_limit_stops_a_spinning_guest() {
    let bios = rom(spin as Program);

    let out = emu(&["run", "--max-instructions", "100000", "--bios", path(&bios)]);

    assert_eq!(out.status.code(), Some(8));
}

#[test]
fn timeout_stops_a_spinning_guest() {
    let bios = rom(spin as Program);

    let out = emu(&["run", "--timeout", "0.2", "--bios", path(&bios)]);

    assert_eq!(out.status.code(), Some(6));
}

#[test]
fn a_missing_image_is_refused_with_its_name() {
    let bios = rom(|a| exit(a, 0));

    let out = emu(&["run", "--bios", path(&bios), "/nonexistent/disk.img"]);

    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/disk.img"));
}

#[test]
fn an_image_whose_size_is_not_a_multiple_of_512_is_refused() {
    let bios = rom(|a| exit(a, 0));
    let mut img = tempfile::NamedTempFile::new().unwrap();
    img.write_all(&[0u8; 1000]).unwrap();

    let out = emu(&["run", "--bios", path(&bios), path(&img)]);

    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("512"));
}

#[test]
fn a_bios_of_the_wrong_size_is_refused() {
    let mut bios = tempfile::NamedTempFile::new().unwrap();
    bios.write_all(&[0u8; 100]).unwrap();

    let out = emu(&["run", "--bios", path(&bios)]);

    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("65536"));
}

/// Waits until the ATA0 status register, masked by `mask`, equals `want`.
fn ata_wait(a: &mut CodeAssembler, mask: u32, want: u32) -> Result<(), IcedError> {
    let mut poll = a.create_label();
    a.set_label(&mut poll)?;
    a.mov(dx, 0x1F7u32)?;
    a.in_(al, dx)?;
    a.and(al, mask)?;
    a.cmp(al, want)?;
    a.jne(poll)
}

/// Sends an LBA28 command for sector 0, count 1, to ATA0 master, as the
/// protocol asks: only once the drive is not busy, and then waits for its
/// data request (BSY clear, DRQ set).
fn ata_command(a: &mut CodeAssembler, command: u32) -> Result<(), IcedError> {
    ata_wait(a, 0x80, 0x00)?;
    for (port, v) in [
        (0x1F6u32, 0xE0u32),
        (0x1F2, 1),
        (0x1F3, 0),
        (0x1F4, 0),
        (0x1F5, 0),
        (0x1F7, command),
    ] {
        a.mov(dx, port)?;
        a.mov(al, v)?;
        a.out(dx, al)?;
    }
    ata_wait(a, 0x88, 0x08)?;
    a.mov(dx, 0x1F0u32)?;
    a.mov(cx, 256u32)?;
    Ok(())
}

/// A ROM that writes sector 0 of ATA0 master with 0xAB bytes (LBA28 PIO),
/// reads it back, and exits with 1 if the first byte read is 0xAB.
fn ata_write_then_read(a: &mut CodeAssembler) -> Result<(), IcedError> {
    let mut bad = a.create_label();
    a.xor(ax, ax)?;
    a.mov(es, ax)?;
    a.mov(ds, ax)?;
    a.mov(di, 0x1000u32)?;
    a.mov(cx, 256u32)?;
    a.mov(ax, 0xABABu32)?;
    a.cld()?;
    a.rep().stosw()?;
    ata_command(a, 0x30)?;
    a.mov(si, 0x1000u32)?;
    a.rep().outsw()?;
    ata_command(a, 0x20)?;
    a.mov(di, 0x2000u32)?;
    a.rep().insw()?;
    a.cmp(byte_ptr(0x2000), 0xAB)?;
    a.jne(bad)?;
    exit(a, 1)?;
    a.set_label(&mut bad)?;
    exit(a, 2)
}

#[test]
fn snapshot_disk_sees_its_writes_but_leaves_the_file_unchanged() {
    let bios = rom(ata_write_then_read as Program);
    let mut img = tempfile::NamedTempFile::new().unwrap();
    img.write_all(&vec![0u8; 64 * 512]).unwrap();
    let disk = format!("{},snapshot", path(&img));

    let out = emu(&["run", "--bios", path(&bios), "--disk", &disk]);

    assert_eq!(out.status.code(), Some(3), "the guest read back its write");
    let bytes = std::fs::read(img.path()).unwrap();
    assert!(bytes.iter().all(|&b| b == 0), "the image file is unchanged");
}

#[test]
fn a_plain_disk_keeps_the_guests_writes() {
    let bios = rom(ata_write_then_read as Program);
    let mut img = tempfile::NamedTempFile::new().unwrap();
    img.write_all(&vec![0u8; 64 * 512]).unwrap();

    let out = emu(&["run", "--bios", path(&bios), path(&img)]);

    assert_eq!(out.status.code(), Some(3));
    let bytes = std::fs::read(img.path()).unwrap();
    assert!(bytes[..512].iter().all(|&b| b == 0xAB));
    assert!(bytes[512..].iter().all(|&b| b == 0));
}

/// A ROM that programs the 8259A pair and the PIT as a BIOS does (IRQ 0 at
/// vector 8, PIT channel 0 in mode 2 at ~1 kHz), takes 100 timer
/// interrupts with HLT between them, then prints the TSC in hex and exits
/// with 1.
fn timer_ticks(a: &mut CodeAssembler) -> Result<(), IcedError> {
    let (mut wait, mut digit) = (a.create_label(), a.create_label());
    a.cli()?;
    a.xor(ax, ax)?;
    a.mov(ds, ax)?;
    a.mov(ss, ax)?;
    a.mov(sp, 0x7000u32)?;
    a.mov(word_ptr(0x500), 0)?;
    // IVT[8] = F000:HANDLER.
    a.mov(word_ptr(8 * 4), HANDLER)?;
    a.mov(word_ptr(8 * 4 + 2), 0xF000u32)?;
    for (port, v) in [
        (0x20u32, 0x11u32),
        (0xA0, 0x11),
        (0x21, 0x08),
        (0xA1, 0x70),
        (0x21, 0x04),
        (0xA1, 0x02),
        (0x21, 0x01),
        (0xA1, 0x01),
        (0x21, 0xFE),
        (0xA1, 0xFF),
        // PIT channel 0, lobyte/hibyte, mode 2, count 1193.
        (0x43, 0x34),
        (0x40, 1193 & 0xFF),
        (0x40, 1193 >> 8),
    ] {
        a.mov(dx, port)?;
        a.mov(al, v)?;
        a.out(dx, al)?;
    }
    a.sti()?;
    a.set_label(&mut wait)?;
    a.hlt()?;
    a.cmp(word_ptr(0x500), 100)?;
    a.jb(wait)?;
    a.cli()?;
    init_com1(a)?;
    // Print EDX:EAX from RDTSC as 16 hex digits.
    a.rdtsc()?;
    a.mov(ebx, eax)?;
    a.mov(ebp, edx)?;
    a.mov(cx, 16u32)?;
    a.set_label(&mut digit)?;
    a.mov(eax, ebp)?;
    a.shr(eax, 28)?;
    a.shld(ebp, ebx, 4)?;
    a.shl(ebx, 4)?;
    a.add(al, b'0' as u32)?;
    a.cmp(al, b'9' as u32)?;
    let mut ok = a.create_label();
    a.jbe(ok)?;
    a.add(al, 7)?;
    a.set_label(&mut ok)?;
    a.mov(dx, 0x3F8u32)?;
    a.out(dx, al)?;
    a.dec(cx)?;
    a.jnz(digit)?;
    exit(a, 0)
}

/// IRQ 0: count the tick at 0000:0500 and send the PIC an EOI.
fn count_tick(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.push(ax)?;
    a.inc(word_ptr(0x500))?;
    a.mov(al, 0x20)?;
    a.out(0x20, al)?;
    a.pop(ax)?;
    a.iret()
}

#[test]
fn timer_interrupts_wake_hlt_and_runs_repeat_exactly() {
    let bios = rom_with(timer_ticks, Some(count_tick));

    let first = emu(&["run", "--bios", path(&bios)]);
    let second = emu(&["run", "--bios", path(&bios)]);

    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let tsc = String::from_utf8_lossy(&first.stdout).to_string();
    let tsc = u64::from_str_radix(&tsc, 16).expect("16 hex digits");
    // 100 ticks of ~1 ms passed, mostly in HLT: the 1 GHz TSC counted
    // through the idle time, so it shows about 100 ms (99 periods: loading
    // the mode-2 control word raises OUT0, so the first tick comes at once).
    assert!((95_000_000..105_000_000).contains(&tsc), "TSC {tsc}");
    assert_eq!(
        first.stdout, second.stdout,
        "the same image gives the same output"
    );
}

#[test]
fn the_host_clock_drives_the_timer_too() {
    let bios = rom_with(timer_ticks, Some(count_tick));

    let out = emu(&[
        "run",
        "--clock",
        "host",
        "--timeout",
        "20",
        "--bios",
        path(&bios),
    ]);

    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 4 MiB disk image whose MBR runs `code` (with the 55AA signature).
fn boot_disk(
    code: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> tempfile::NamedTempFile {
    let mut a = CodeAssembler::new(16).unwrap();
    code(&mut a).unwrap();
    let boot = a.assemble(0x7C00).unwrap();
    let mut image = vec![0u8; 4 << 20];
    image[..boot.len()].copy_from_slice(&boot);
    image[510] = 0x55;
    image[511] = 0xAA;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&image).unwrap();
    f
}

#[test]
fn the_built_in_bios_reports_post_and_boots_the_mbr() {
    let disk = boot_disk(|a| {
        for &c in b"Hi from the MBR, drive " {
            a.mov(ax, 0x0E00 | c as u32)?;
            a.int(0x10)?;
        }
        // DL holds the boot drive: print it as two hex digits.
        for shift in [4u32, 0] {
            let mut ok = a.create_label();
            a.mov(al, dl)?;
            a.shr(al, shift)?;
            a.and(al, 0x0F)?;
            a.add(al, b'0' as u32)?;
            a.cmp(al, b'9' as u32)?;
            a.jbe(ok)?;
            a.add(al, 7)?;
            a.set_label(&mut ok)?;
            a.mov(ah, 0x0E)?;
            a.int(0x10)?;
        }
        exit(a, 7)
    });

    let out = emu(&["run", path(&disk)]);

    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "POST 1.0: CPU ok, ROM checksum ok\r\n\
         Memory: 262144 KiB ok\r\n\
         ATA0 master: EMU HARDDISK 4 MiB, LBA48\r\n\
         Booting from hard disk 0x80...\r\n\
         Hi from the MBR, drive 80"
    );
    assert_eq!(out.status.code(), Some(15), "(7 << 1) | 1");
}

#[test]
fn a_disk_without_a_boot_signature_is_named_and_nothing_boots() {
    let mut img = tempfile::NamedTempFile::new().unwrap();
    img.write_all(&vec![0u8; 1 << 20]).unwrap();

    let out = emu(&["run", "--max-instructions", "50000000", path(&img)]);

    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("no boot signature"), "{text}");
    assert!(text.contains("No bootable device"), "{text}");
}

// ---------------------------------------------------------------------
// The same ROMs on QEMU (`qemu-system-x86_64 -M isapc`): our hardware
// model is checked against a reference. These tests need QEMU, so they are
// ignored by default: `.ci/run` runs them when QEMU is installed and says
// they were skipped when it is not.
// ---------------------------------------------------------------------

fn qemu(bios: &tempfile::NamedTempFile, drive: Option<&str>) -> Output {
    let mut cmd = Command::new("qemu-system-x86_64");
    // Without the local APIC, as on our PC/AT: qemu64's APIC masks the
    // 8259's interrupts until a BIOS sets up virtual-wire mode.
    cmd.args(["-M", "isapc", "-cpu", "qemu64,-apic", "-m", "64"])
        .args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .args(["-bios", path(bios)]);
    if let Some(d) = drive {
        cmd.args(["-drive", d]);
    }
    cmd.stdin(std::process::Stdio::null())
        .output()
        .expect("qemu-system-x86_64 runs")
}

#[test]
#[ignore = "needs qemu-system-x86_64 (run by .ci/run when installed)"]
fn qemu_agrees_on_serial_output_and_exit_status() {
    let bios = rom(|a| {
        print(a, "hello\n")?;
        exit(a, 5)
    });

    let ours = emu(&["run", "--bios", path(&bios)]);
    let theirs = qemu(&bios, None);

    assert_eq!(theirs.stdout, ours.stdout);
    assert_eq!(theirs.status.code(), ours.status.code());
}

#[test]
#[ignore = "needs qemu-system-x86_64 (run by .ci/run when installed)"]
fn qemu_agrees_on_ata_pio_write_and_read_back() {
    let bios = rom(ata_write_then_read as Program);
    let mut img = tempfile::NamedTempFile::new().unwrap();
    img.write_all(&vec![0u8; 64 * 512]).unwrap();
    let drive = format!("file={},format=raw,if=ide,snapshot=on", path(&img));

    let theirs = qemu(&bios, Some(&drive));

    assert_eq!(
        theirs.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&theirs.stderr)
    );
}

#[test]
#[ignore = "needs qemu-system-x86_64 (run by .ci/run when installed)"]
fn qemu_agrees_on_pic_and_pit_timer_interrupts() {
    let bios = rom_with(timer_ticks, Some(count_tick));

    let theirs = qemu(&bios, None);

    assert_eq!(
        theirs.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    assert_eq!(theirs.stdout.len(), 16, "TSC printed as 16 hex digits");
}

/// A boot sector that calls BIOS services and prints, straight to COM1,
/// only results the specifications fix (so any correct BIOS prints the
/// same line): the boot drive in DL; int 13h 41h (EDD present, BX=AA55h);
/// 08h (one hard disk); 42h reading LBA 1 (its first four bytes) and past
/// the end of the disk (carry); int 16h 01h with no key (ZF); int 15h E820
/// (carry, 'SMAP', the first entry's base and type).
fn service_probe(a: &mut CodeAssembler) -> Result<(), IcedError> {
    let (mut hex16, mut putc, mut digit_ok, mut wait) = (
        a.create_label(),
        a.create_label(),
        a.create_label(),
        a.create_label(),
    );
    // Print helpers: `putc` writes AL; `hex16` writes AX as 4 digits;
    // `puts` writes the NUL-terminated string that follows its call.
    let mut puts = a.create_label();
    let say = |a: &mut CodeAssembler, text: &str, puts: CodeLabel| -> Result<(), IcedError> {
        a.call(puts)?;
        a.db(text.as_bytes())?;
        a.db(&[0])
    };
    let carry = |a: &mut CodeAssembler, putc: CodeLabel| -> Result<(), IcedError> {
        a.mov(al, b'0' as u32)?;
        a.adc(al, 0)?;
        a.call(putc)
    };
    a.cli()?;
    a.xor(ax, ax)?;
    a.mov(ds, ax)?;
    a.mov(es, ax)?;
    a.mov(ss, ax)?;
    a.mov(sp, 0x7C00u32)?;
    a.mov(byte_ptr(0x600), dl)?;
    init_com1(a)?;
    say(a, "DL=", puts)?;
    a.movzx(ax, byte_ptr(0x600))?;
    a.call(hex16)?;
    // int 13h 41h.
    say(a, " 41:", puts)?;
    a.mov(ah, 0x41)?;
    a.mov(bx, 0x55AAu32)?;
    a.mov(dl, byte_ptr(0x600))?;
    a.int(0x13)?;
    a.mov(word_ptr(0x602), bx)?;
    carry(a, putc)?;
    a.mov(al, b' ' as u32)?;
    a.call(putc)?;
    a.mov(ax, word_ptr(0x602))?;
    a.call(hex16)?;
    // int 13h 08h: DL = number of hard disks.
    say(a, " 08:", puts)?;
    a.mov(ah, 0x08)?;
    a.mov(dl, byte_ptr(0x600))?;
    a.xor(di, di)?;
    a.int(0x13)?;
    a.mov(byte_ptr(0x604), dl)?;
    carry(a, putc)?;
    a.mov(al, b' ' as u32)?;
    a.call(putc)?;
    a.movzx(ax, byte_ptr(0x604))?;
    a.call(hex16)?;
    // int 13h 42h: LBA 1 into 0000:8000.
    say(a, " 42:", puts)?;
    a.mov(ah, 0x42)?;
    a.mov(dl, byte_ptr(0x600))?;
    dap(a, 0x700, 1)?;
    a.mov(si, 0x700u32)?;
    a.int(0x13)?;
    carry(a, putc)?;
    a.mov(al, b' ' as u32)?;
    a.call(putc)?;
    a.mov(ax, word_ptr(0x8000))?;
    a.call(hex16)?;
    a.mov(ax, word_ptr(0x8002))?;
    a.call(hex16)?;
    // int 13h 42h past the end of the disk: carry set.
    say(a, " 42E:", puts)?;
    a.mov(ah, 0x42)?;
    a.mov(dl, byte_ptr(0x600))?;
    dap(a, 0x700, 8192)?;
    a.mov(si, 0x700u32)?;
    a.int(0x13)?;
    carry(a, putc)?;
    // int 16h 01h: no key waiting, ZF = 1.
    say(a, " 16:", puts)?;
    a.mov(ah, 0x01)?;
    a.int(0x16)?;
    a.mov(al, b'0' as u32)?;
    let mut nz = a.create_label();
    a.jnz(nz)?;
    a.mov(al, b'1' as u32)?;
    a.set_label(&mut nz)?;
    a.call(putc)?;
    // int 15h E820, first entry, into 0000:9000.
    say(a, " E820:", puts)?;
    a.mov(eax, 0xE820u32)?;
    a.xor(ebx, ebx)?;
    a.mov(ecx, 20u32)?;
    a.mov(edx, 0x534D_4150u32)?;
    a.mov(di, 0x9000u32)?;
    a.int(0x15)?;
    a.mov(dword_ptr(0x608), eax)?;
    carry(a, putc)?;
    a.mov(al, b' ' as u32)?;
    a.call(putc)?;
    a.mov(ax, word_ptr(0x60A))?;
    a.call(hex16)?;
    a.mov(ax, word_ptr(0x608))?;
    a.call(hex16)?;
    a.mov(al, b' ' as u32)?;
    a.call(putc)?;
    a.mov(ax, word_ptr(0x9002))?;
    a.call(hex16)?;
    a.mov(ax, word_ptr(0x9000))?;
    a.call(hex16)?;
    a.mov(al, b' ' as u32)?;
    a.call(putc)?;
    a.mov(ax, word_ptr(0x9010))?;
    a.call(hex16)?;
    say(a, "\n", puts)?;
    exit(a, 2)?;

    a.set_label(&mut puts)?;
    a.pop(si)?;
    let (mut more, mut done) = (a.create_label(), a.create_label());
    a.set_label(&mut more)?;
    a.lodsb()?;
    a.test(al, al)?;
    a.jz(done)?;
    a.call(putc)?;
    a.jmp(more)?;
    a.set_label(&mut done)?;
    a.jmp(si)?;

    a.set_label(&mut hex16)?;
    a.mov(cx, 4u32)?;
    let mut next = a.create_label();
    a.set_label(&mut next)?;
    a.rol(ax, 4)?;
    a.push(ax)?;
    a.and(al, 0x0F)?;
    a.add(al, b'0' as u32)?;
    a.cmp(al, b'9' as u32)?;
    a.jbe(digit_ok)?;
    a.add(al, 7)?;
    a.set_label(&mut digit_ok)?;
    a.call(putc)?;
    a.pop(ax)?;
    a.loop_(next)?;
    a.ret()?;

    a.set_label(&mut putc)?;
    a.push(dx)?;
    a.push(ax)?;
    a.set_label(&mut wait)?;
    a.mov(dx, 0x3FDu32)?;
    a.in_(al, dx)?;
    a.test(al, 0x20)?;
    a.jz(wait)?;
    a.pop(ax)?;
    a.mov(dx, 0x3F8u32)?;
    a.out(dx, al)?;
    a.pop(dx)?;
    a.ret()
}

/// Builds an EDD disk address packet at 0000:`at`: one sector of `lba` to
/// 0000:8000. (LBA 8192 is just past the end of the 4 MiB probe disk.)
fn dap(a: &mut CodeAssembler, at: u32, lba: u32) -> Result<(), IcedError> {
    for (off, v) in [
        (0, 16u32),
        (2, 1),
        (4, 0x8000),
        (6, 0),
        (8, lba),
        (10, 0),
        (12, 0),
        (14, 0),
    ] {
        a.mov(word_ptr(at + off), v)?;
    }
    Ok(())
}

/// The probe disk: the probe's MBR, and "LBA1" at the start of sector 1.
fn probe_disk() -> tempfile::NamedTempFile {
    let disk = boot_disk(service_probe as Program);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(disk.path())
        .unwrap();
    use std::io::{Seek, SeekFrom};
    f.seek(SeekFrom::Start(512)).unwrap();
    f.write_all(b"LBA1").unwrap();
    disk
}

/// The probe's line: the last line of the serial output.
fn probe_line(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    text.lines().last().unwrap_or("").to_string()
}

#[test]
fn our_bios_answers_the_service_probe() {
    let disk = probe_disk();

    let out = emu(&["run", path(&disk)]);

    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        probe_line(&out),
        "DL=0080 41:0 AA55 08:0 0001 42:0 424C3141 42E:1 16:1 E820:0 534D4150 00000000 0001"
    );
}

#[test]
#[ignore = "needs qemu-system-x86_64 (run by .ci/run when installed)"]
fn qemu_with_its_own_bios_answers_the_service_probe_the_same() {
    let disk = probe_disk();
    let drive = format!("file={},format=raw,snapshot=on", path(&disk));

    let ours = emu(&["run", path(&disk)]);
    let theirs = Command::new("qemu-system-x86_64")
        .args([
            "-M", "isapc", "-cpu", "qemu64", "-display", "none", "-serial", "stdio",
        ])
        .args([
            "-monitor",
            "none",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ])
        .args(["-drive", &drive])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("qemu-system-x86_64 runs");

    assert_eq!(
        theirs.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    assert_eq!(probe_line(&theirs), probe_line(&ours));
}

/// In a real terminal (a pseudo-terminal from `script`, util-linux): the
/// console goes raw, Ctrl-A X quits with status 0, and the terminal's
/// settings afterwards are exactly those from before.
#[test]
fn ctrl_a_x_quits_and_the_terminal_is_restored() {
    let bios = rom(spin as Program);
    let inner = format!(
        "stty -g; {} run --timeout 10 --bios {}; echo status=$?; stty -g",
        env!("CARGO_BIN_EXE_emu"),
        path(&bios)
    );
    let mut child = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    std::thread::sleep(std::time::Duration::from_millis(500));
    child.stdin.as_mut().unwrap().write_all(b"\x01x").unwrap();
    let out = child.wait_with_output().unwrap();

    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[1], "status=0");
    assert_eq!(lines[0], lines[2], "terminal settings restored");
}

// `emu test`: one case per exit status, on tiny ROMs.

/// A ROM that prints `text` on COM1, then spins.
fn print_then_spin(text: &'static str) -> tempfile::NamedTempFile {
    rom(move |a| {
        print(a, text)?;
        spin(a)
    })
}

/// `emu test --bios ROM --serial none ARGS...`.
fn emu_test(bios: &tempfile::NamedTempFile, args: &[&str]) -> Output {
    let mut all = vec!["test", "--bios", path(bios), "--serial", "none"];
    all.extend_from_slice(args);
    emu(&all)
}

#[test]
fn test_passes_with_status_0_when_the_output_matches() {
    let bios = print_then_spin("ready 42\n");

    let out = emu_test(&bios, &["--expect", r"ready \d+"]);

    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("expect: passed"));
}

#[test]
fn test_fails_with_status_12_as_soon_as_fail_on_matches() {
    let bios = print_then_spin("Kernel panic: oh no\n");

    let out = emu_test(&bios, &["--fail-on", "panic", "--expect", "never printed"]);

    assert_eq!(out.status.code(), Some(12), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fail-on /panic/ matched: Kernel panic: oh no"),
        "{err}"
    );
}

#[test]
fn test_times_out_with_status_6_on_the_host_timeout() {
    let bios = print_then_spin("");

    let out = emu_test(&bios, &["--expect", "never", "--timeout", "0.3"]);

    assert_eq!(out.status.code(), Some(6), "{out:?}");
}

#[test]
fn a_session_step_timeout_is_guest_time_and_gives_status_6() {
    let bios = print_then_spin("");
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("slow.session");
    std::fs::write(&session, "timeout 0.002\nexpect never\n").unwrap();

    let out = emu_test(&bios, &["--session", session.to_str().unwrap()]);

    assert_eq!(out.status.code(), Some(6), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("slow: FAILED (status 6): expect /never/: not seen within 0.002 s"),
        "{err}"
    );
}

#[test]
fn test_stops_with_status_8_at_the_instruction_limit() {
    let bios = print_then_spin("");

    let out = emu_test(
        &bios,
        &["--expect", "never", "--max-instructions", "100000"],
    );

    assert_eq!(out.status.code(), Some(8), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("instruction-limit while waiting for expect /never/"));
}

#[test]
fn test_reports_a_triple_fault_with_status_4() {
    let bios = rom(|a| {
        a.push(0)?;
        a.push(0)?;
        a.push(0)?;
        a.mov(bp, sp)?;
        a.lidt(ptr(bp))?;
        a.int3()
    });

    let out = emu_test(&bios, &["--no-reboot", "--expect", "never"]);

    assert_eq!(out.status.code(), Some(4), "{out:?}");
}

#[test]
fn test_reports_a_hung_cpu_with_status_10() {
    let bios = rom(|a| {
        a.cli()?;
        a.hlt()
    });

    let out = emu_test(&bios, &["--expect", "never"]);

    assert_eq!(out.status.code(), Some(10), "{out:?}");
}

#[test]
fn test_passes_the_guests_exit_code_through() {
    let bios = rom(|a| {
        print(a, "bye\n")?;
        exit(a, 0x21)
    });

    let waiting = emu_test(&bios, &["--expect", "never"]);
    let matched = emu_test(&bios, &["--expect", "bye"]);

    assert_eq!(waiting.status.code(), Some(0x43), "{waiting:?}");
    assert!(
        String::from_utf8_lossy(&waiting.stderr).contains("the guest exited with 33 while waiting")
    );
    assert_eq!(
        matched.status.code(),
        Some(0),
        "output before the exit still counts"
    );
}

#[test]
fn test_refuses_a_bad_session_file_with_status_2() {
    let bios = print_then_spin("");
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("bad.session");
    std::fs::write(&session, "expect ok\nwait 3\n").unwrap();

    let bad = emu_test(&bios, &["--session", session.to_str().unwrap()]);
    let missing = emu_test(&bios, &["--session", "/nonexistent/x.session"]);

    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad:2: unknown step `wait`"));
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn test_writes_a_junit_report_with_the_log_of_a_failure() {
    let bios = print_then_spin("booting <fast> & PANIC\n");
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("ok.session");
    let bad = dir.path().join("bad.session");
    std::fs::write(&ok, "expect booting\n").unwrap();
    std::fs::write(&bad, "fail-on PANIC\nexpect never\n").unwrap();
    let junit = dir.path().join("report.xml");
    let log = dir.path().join("serial.log");

    let out = emu_test(
        &bios,
        &[
            "--session",
            ok.to_str().unwrap(),
            "--session",
            bad.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--serial-log",
            log.to_str().unwrap(),
        ],
    );

    assert_eq!(out.status.code(), Some(12), "{out:?}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("tests=\"2\" failures=\"1\" errors=\"0\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"ok\""), "{xml}");
    assert!(xml.contains("<failure type=\"failed\" message=\"fail-on /PANIC/ matched: booting &lt;fast&gt; &amp; PANIC\">"), "{xml}");
    assert!(
        xml.contains("<system-out>booting &lt;fast&gt; &amp; PANIC&#10;</system-out>"),
        "{xml}"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.starts_with("==> ok <==\nbooting"), "{log}");
    assert!(log.contains("==> bad <==\nbooting"), "{log}");
}
