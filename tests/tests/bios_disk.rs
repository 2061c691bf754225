//! The BIOS disk services: ATA detection and int 13h, driven by boot
//! programs on a pattern disk (see `integration_tests::bootdisk`).

use emulator::devices::disk::DiskMode;
use emulator::machine::Outcome;
use iced_x86::code_asm::*;
use integration_tests::bootdisk::{self, pattern_image, program, run, sectors};

/// 4 MiB: 8192 sectors, 8 cylinders of 16 heads * 63 sectors (8064).
const SECTORS: u64 = 8192;

fn disk(mode: DiskMode) -> (tempfile::NamedTempFile, (std::path::PathBuf, DiskMode)) {
    let f = pattern_image(SECTORS);
    let p = f.path().to_path_buf();
    (f, (p, mode))
}

/// The serial output from `first` on (POST may print its own lines, and
/// detect the drives too, before the program runs).
fn from<'a>(serial: &'a str, first: &str) -> &'a str {
    let at = serial
        .rfind(first)
        .unwrap_or_else(|| panic!("{first:?} not in {serial:?}"));
    &serial[at..]
}

/// The serial output after the program's own drive detection.
fn tail(serial: &str) -> &str {
    let end = "LBA48\r\n";
    let at = serial
        .rfind(end)
        .unwrap_or_else(|| panic!("no drive line in {serial:?}"));
    &serial[at + end.len()..]
}

#[test]
fn detection_names_each_drive_and_sets_the_bda_count() {
    let (_a, da) = disk(DiskMode::Snapshot);
    let (_b, db) = disk(DiskMode::Snapshot);
    let big = pattern_image(3 * 2048);
    let dc = (big.path().to_path_buf(), DiskMode::Snapshot);
    // The third drive is 0x82: its 15h answer shows its size (3 MiB).
    let code = program(|a| {
        a.mov(ax, 0x1500u32)?;
        a.mov(dx, 0x0082u32)?;
        a.int(0x13)?;
        a.mov(al, dh)?;
        a.out(0xF4, al)?;
        a.hlt()
    });
    let r = run(&code, &[da, db, dc], b"", &[]);
    // 3 * 2048 = 1800h sectors: DH = 18h, and the exit device reports
    // (AL << 1) | 1.
    assert_eq!(r.outcome, Outcome::Exit(0x31), "{}", r.serial);
    assert_eq!(
        from(&r.serial, "ATA0 master"),
        "ATA0 master: EMU HARDDISK 4 MiB, LBA48\r\n\
         ATA0 slave: EMU HARDDISK 4 MiB, LBA48\r\n\
         ATA1 master: EMU HARDDISK 3 MiB, LBA48\r\n"
    );
    assert_eq!(r.ram[0x475], 3, "BDA hard disk count");
    assert_eq!(r.ram[0x474], 0, "BDA last status");
}

/// One int 13h call with these registers, then a register dump.
fn call13(a: &mut CodeAssembler, dump: CodeLabel, regs: [u16; 5]) -> Result<(), IcedError> {
    let [ax_, bx_, cx_, dx_, si_] = regs;
    a.mov(ax, ax_ as u32)?;
    a.mov(bx, bx_ as u32)?;
    a.mov(cx, cx_ as u32)?;
    a.mov(dx, dx_ as u32)?;
    a.mov(si, si_ as u32)?;
    a.int(0x13)?;
    a.call(dump)
}

/// A boot program making each call of `calls` in turn.
fn calls(calls: &'static [[u16; 5]]) -> Vec<u8> {
    program(move |a| {
        let mut dump = a.create_label();
        for &regs in calls {
            call13(a, dump, regs)?;
        }
        bootdisk::exit(a)?;
        bootdisk::dump_routine(a, &mut dump)
    })
}

/// An EDD disk address packet: size, count, buffer 0000:buffer, LBA.
fn packet(size: u8, count: u16, buffer: u16, lba: u64) -> Vec<u8> {
    let mut p = vec![size, 0];
    p.extend_from_slice(&count.to_le_bytes());
    p.extend_from_slice(&buffer.to_le_bytes());
    p.extend_from_slice(&0u16.to_le_bytes());
    p.extend_from_slice(&lba.to_le_bytes());
    p
}

#[test]
fn chs_reads_and_parameters_use_16_heads_63_sectors() {
    let (_f, d) = disk(DiskMode::Snapshot);
    let code = calls(&[
        // AX, BX, CX, DX, SI
        [0x0800, 0x0000, 0x0000, 0x0080, 0],      // parameters
        [0x0203, 0x8000, 0x0205, 0x0380, 0],      // read C2 H3 S5, 3 sectors
        [0x0401, 0x0000, 0x073F, 0x0F80, 0],      // verify the last CHS sector
        [0x1500, 0x0000, 0x0000, 0x0080, 0],      // type and size
        [0x4100, 0x55AA, 0x0000, 0x0080, 0],      // extensions present
        [0x4800, 0x0000, 0x0000, 0x0080, 0x0600], // extended parameters
        [0x4200, 0x0000, 0x0000, 0x0080, 0x0700], // extended read
    ]);
    let mut params = vec![0u8; 0x20];
    params[0] = 0x1E;
    let p = packet(0x10, 2, 0x9000, 8000);
    let r = run(&code, &[d], b"", &[(0x600, &params), (0x700, &p)]);
    assert_eq!(r.outcome, Outcome::Exit(1), "{}", r.serial);
    assert_eq!(
        tail(&r.serial),
        "0000 0000 073F 0F01 0\r\n\
         0003 8000 0205 0380 0\r\n\
         0001 0000 073F 0F80 0\r\n\
         0300 0000 0000 2000 0\r\n\
         2100 AA55 0001 0080 0\r\n\
         0000 0000 0000 0080 0\r\n\
         0000 0000 0000 0080 0\r\n"
    );
    // C2 H3 S5 is LBA (2 * 16 + 3) * 63 + 4 = 2209.
    assert!(r.ram[0x8000..0x8000 + 3 * 512] == sectors(2209, 3)[..]);
    assert!(r.ram[0x9000..0x9000 + 2 * 512] == sectors(8000, 2)[..]);
    let b = &r.ram[0x600..0x620];
    let dword = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    assert_eq!(u16::from_le_bytes([b[0], b[1]]), 0x1E, "buffer size");
    assert_eq!(
        u16::from_le_bytes([b[2], b[3]]),
        0,
        "8 * 16 * 63 < 8192: geometry not valid"
    );
    assert_eq!((dword(4), dword(8), dword(12)), (8, 16, 63));
    assert_eq!(u64::from_le_bytes(b[16..24].try_into().unwrap()), SECTORS);
    assert_eq!(u16::from_le_bytes([b[24], b[25]]), 512);
    assert_eq!(dword(26), 0xFFFF_FFFF, "no DPTE");
    assert_eq!(r.ram[0x702], 2, "packet count: blocks transferred");
}

#[test]
fn errors_set_carry_and_the_status_code() {
    let (_f, d) = disk(DiskMode::Snapshot);
    let code = calls(&[
        [0x0201, 0x8000, 0x0001, 0x0085, 0],      // no drive 0x85
        [0x0100, 0x0000, 0x0000, 0x0080, 0],      // last status: 01h
        [0x0201, 0x8000, 0x0001, 0x0000, 0],      // no floppy
        [0x0201, 0x8000, 0x0800, 0x0080, 0],      // sector 0
        [0x0201, 0x8000, 0x0801, 0x0080, 0],      // cylinder 8 of 8
        [0x0201, 0x8000, 0x0001, 0x1080, 0],      // head 16 of 16
        [0x0200, 0x8000, 0x0001, 0x0080, 0],      // no sectors
        [0x5000, 0x0000, 0x0000, 0x0080, 0],      // no such function
        [0x4100, 0x1234, 0x0000, 0x0080, 0],      // 41h without 55AAh
        [0x4200, 0x0000, 0x0000, 0x0080, 0x0700], // packet size 8
        [0x4200, 0x0000, 0x0000, 0x0080, 0x0710], // LBA 8191 + 2 sectors
        [0x0100, 0x0000, 0x0000, 0x0080, 0],      // last status: 04h
        [0x4200, 0x0000, 0x0000, 0x0080, 0x0720], // LBA 2^32
        [0x4303, 0x0000, 0x0000, 0x0080, 0x0730], // write flags 3
        [0x4800, 0x0000, 0x0000, 0x0080, 0x0600], // result buffer of 18h
        [0x4200, 0x0000, 0x0000, 0x0080, 0x0730], // LBA 8191: the last
        [0x0000, 0x0000, 0x0000, 0x0080, 0],      // reset
        [0x0100, 0x0000, 0x0000, 0x0080, 0],      // last status: 00h
    ]);
    let small = [0x18u8, 0];
    let bad_size = packet(8, 1, 0x9000, 1);
    let past_end = packet(0x10, 2, 0x9000, SECTORS - 1);
    let huge = packet(0x10, 1, 0x9000, 1 << 32);
    let last = packet(0x10, 1, 0x9000, SECTORS - 1);
    let r = run(
        &code,
        &[d],
        b"",
        &[
            (0x600, &small),
            (0x700, &bad_size),
            (0x710, &past_end),
            (0x720, &huge),
            (0x730, &last),
        ],
    );
    assert_eq!(r.outcome, Outcome::Exit(1), "{}", r.serial);
    assert_eq!(
        tail(&r.serial),
        "0101 8000 0001 0085 1\r\n\
         0100 0000 0000 0080 1\r\n\
         0101 8000 0001 0000 1\r\n\
         0101 8000 0800 0080 1\r\n\
         0101 8000 0801 0080 1\r\n\
         0101 8000 0001 1080 1\r\n\
         0100 8000 0001 0080 1\r\n\
         0100 0000 0000 0080 1\r\n\
         0100 1234 0000 0080 1\r\n\
         0100 0000 0000 0080 1\r\n\
         0400 0000 0000 0080 1\r\n\
         0400 0000 0000 0080 1\r\n\
         0400 0000 0000 0080 1\r\n\
         0103 0000 0000 0080 1\r\n\
         0100 0000 0000 0080 1\r\n\
         0000 0000 0000 0080 0\r\n\
         0000 0000 0000 0080 0\r\n\
         0000 0000 0000 0080 0\r\n"
    );
    assert_eq!(r.ram[0x712], 0, "nothing transferred past the end");
    assert_eq!(r.ram[0x732], 1);
    assert!(r.ram[0x9000..0x9200] == sectors(SECTORS - 1, 1)[..]);
    assert_eq!(r.ram[0x474], 0, "BDA status after the last call");
}

#[test]
fn writes_reach_the_image_file_and_read_back() {
    let (f, d) = disk(DiskMode::ReadWrite);
    let code = calls(&[
        [0x4300, 0x0000, 0x0000, 0x0080, 0x0700], // 2 sectors to LBA 100
        [0x0301, 0x9400, 0x0002, 0x0080, 0],      // C0 H0 S2 = LBA 1
        [0x4200, 0x0000, 0x0000, 0x0080, 0x0710], // read LBA 99-102 back
    ]);
    let data: Vec<u8> = (0..1536u32).map(|i| (i * 7 + 3) as u8).collect();
    let write = packet(0x10, 2, 0x9000, 100);
    let read = packet(0x10, 4, 0xA000, 99);
    let r = run(
        &code,
        &[d],
        b"",
        &[(0x9000, &data), (0x700, &write), (0x710, &read)],
    );
    assert_eq!(r.outcome, Outcome::Exit(1), "{}", r.serial);
    assert_eq!(
        tail(&r.serial),
        "0000 0000 0000 0080 0\r\n\
         0001 9400 0002 0080 0\r\n\
         0000 0000 0000 0080 0\r\n"
    );
    let mut expected = sectors(99, 1);
    expected.extend_from_slice(&data[..1024]);
    expected.extend_from_slice(&sectors(102, 1));
    assert!(r.ram[0xA000..0xA000 + 2048] == expected[..], "read back");
    let image = std::fs::read(f.path()).unwrap();
    assert!(
        image[100 * 512..102 * 512] == data[..1024],
        "LBA 100-101 in the file"
    );
    assert!(image[512..1024] == data[1024..1536], "LBA 1 in the file");
    assert!(image[1024..1536] == sectors(2, 1)[..], "LBA 2 untouched");
}

#[test]
fn a_write_to_a_read_only_disk_fails_with_write_protected() {
    // (`run` writes the boot sector into the file before the machine
    // opens it read-only.)
    let (f, d) = disk(DiskMode::ReadOnly);
    let code = calls(&[[0x0301, 0x9000, 0x0002, 0x0080, 0]]);
    let r = run(&code, &[d], b"", &[]);
    assert_eq!(r.outcome, Outcome::Exit(1), "{}", r.serial);
    assert_eq!(tail(&r.serial), "0300 9000 0002 0080 1\r\n");
    assert!(std::fs::read(f.path()).unwrap()[512..1024] == sectors(1, 1)[..]);
}

#[test]
fn addresses_past_lba28_use_the_48_bit_commands() {
    use std::io::{Seek, SeekFrom, Write};
    // A sparse image just past the 28-bit limit; the sectors used are
    // written with the pattern.
    const BIG: u64 = 0x1000_0010;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().set_len(BIG * 512).unwrap();
    for lba in [0x0FFF_FFFEu64, 0x1000_0000] {
        f.seek(SeekFrom::Start(lba * 512)).unwrap();
        f.write_all(&sectors(lba, 2)).unwrap();
    }
    f.flush().unwrap();
    let code = calls(&[
        [0x0800, 0x0000, 0x0000, 0x0080, 0], // CHS: capped at 1024 cylinders
        [0x4200, 0x0000, 0x0000, 0x0080, 0x0700], // LBA 0FFFFFFEh, 4 sectors
        [0x1500, 0x0000, 0x0000, 0x0080, 0],
    ]);
    let p = packet(0x10, 4, 0x9000, 0x0FFF_FFFE);
    let r = run(
        &code,
        &[(f.path().to_path_buf(), DiskMode::Snapshot)],
        b"",
        &[(0x700, &p)],
    );
    assert_eq!(r.outcome, Outcome::Exit(1), "{}", r.serial);
    assert!(r
        .serial
        .contains("ATA0 master: EMU HARDDISK 131072 MiB, LBA48\r\n"));
    assert_eq!(
        tail(&r.serial),
        "0000 0000 FFFF 0F01 0\r\n\
         0000 0000 0000 0080 0\r\n\
         0300 0000 1000 0010 0\r\n"
    );
    let mut expected = sectors(0x0FFF_FFFE, 2);
    expected.extend_from_slice(&sectors(0x1000_0000, 2));
    assert!(r.ram[0x9000..0x9000 + 2048] == expected[..]);
}
