//! The BIOS console services on the serial port: int 10h teletype and
//! cursor state, int 16h keyboard fed by COM1 input. Boot programs from
//! `integration_tests::bootdisk`.

use emulator::devices::disk::DiskMode;
use emulator::machine::Outcome;
use iced_x86::code_asm::*;
use integration_tests::bootdisk::{self, pattern_image, program, run};

/// Runs a program (its `dump` label bound to the register dump) with a
/// small disk and `input` on COM1; returns the serial output after the
/// program's drive detection line.
fn console(
    input: &[u8],
    ram: &[(u64, &[u8])],
    f: impl FnOnce(&mut CodeAssembler, CodeLabel) -> Result<(), IcedError>,
) -> String {
    let image = pattern_image(2048);
    let code = program(|a| {
        let mut dump = a.create_label();
        f(a, dump)?;
        bootdisk::exit(a)?;
        bootdisk::dump_routine(a, &mut dump)
    });
    let r = run(
        &code,
        &[(image.path().to_path_buf(), DiskMode::Snapshot)],
        input,
        ram,
    );
    assert_eq!(r.outcome, Outcome::Exit(1), "{}", r.serial);
    let end = "LBA48\r\n";
    let at = r.serial.rfind(end).expect("drive line");
    r.serial[at + end.len()..].to_string()
}

/// A video call with AX, BX, CX, DX.
fn call10(a: &mut CodeAssembler, regs: [u16; 4]) -> Result<(), IcedError> {
    a.mov(ax, regs[0] as u32)?;
    a.mov(bx, regs[1] as u32)?;
    a.mov(cx, regs[2] as u32)?;
    a.mov(dx, regs[3] as u32)?;
    a.int(0x10)
}

/// Teletype output of `text`, page 0.
fn tty(a: &mut CodeAssembler, text: &[u8]) -> Result<(), IcedError> {
    a.xor(bx, bx)?;
    for &c in text {
        a.mov(ax, 0x0E00 | c as u32)?;
        a.int(0x10)?;
    }
    Ok(())
}

#[test]
fn teletype_passes_bytes_through_and_moves_the_cursor() {
    let out = console(b"", &[], |a, dump| {
        call10(a, [0x0003, 0, 0, 0])?; // set mode 3: AL = 30h, home
        a.call(dump)?; // (the dump itself ends at row 1, column 0)
        tty(a, b"ab\r\ncd\x08X")?;
        call10(a, [0x0300, 0, 0, 0])?; // (ZF from `tty`'s xor: flags kept)
        a.call(dump)?; // row 2 + dump line -> row 3
        call10(a, [0x0200, 0, 0, 0x184E])?; // row 24, column 78
        tty(a, b"xyz")?; // wraps at column 80; row 24 is the last
        call10(a, [0x0300, 0, 0, 0])?;
        a.call(dump)
    });
    assert_eq!(
        out,
        "0030 0000 0000 0000 0\r\n\
         ab\r\ncd\x08X\
         0000 0000 0607 0202 0Z\r\n\
         xyz\
         0000 0000 0607 1801 0Z\r\n"
    );
}

#[test]
fn mode_string_and_display_queries_answer_for_an_80_column_text_screen() {
    let text = b"Hi\r\n";
    let out = console(b"", &[(0x600, text)], |a, dump| {
        call10(a, [0x0003, 0, 0, 0])?;
        call10(a, [0x0F00, 0xFFFF, 0, 0])?; // mode: 80 columns, mode 3, page 0
        a.call(dump)?;
        a.mov(bp, 0x600u32)?;
        call10(a, [0x1301, 0, 4, 0x0500])?; // "Hi\r\n" at row 5, cursor follows
        call10(a, [0x0300, 0, 0, 0])?;
        a.call(dump)?;
        call10(a, [0x1300, 0, 2, 0x0A00])?; // "Hi" at row 10, cursor stays
        call10(a, [0x0300, 0, 0, 0])?;
        a.call(dump)?;
        call10(a, [0x1200, 0x0010, 0, 0])?; // EGA info: unchanged = none
        a.call(dump)?;
        call10(a, [0x1A00, 0, 0, 0])?; // display combination: unsupported
        a.call(dump)?;
        call10(a, [0x093D, 0x0007, 3, 0])?; // "===" without moving
        call10(a, [0x0300, 0, 0, 0])?;
        a.call(dump)
    });
    assert_eq!(
        out,
        "5003 00FF 0000 0000 0\r\n\
         Hi\r\n\
         0000 0000 0607 0600 0\r\n\
         Hi\
         0000 0000 0607 0700 0\r\n\
         1200 0010 0000 0000 0\r\n\
         1A00 0000 0000 0000 0\r\n\
         ===\
         0000 0000 0607 0A00 0\r\n"
    );
}

#[test]
fn keyboard_reads_serial_bytes_with_scan_codes() {
    let out = console(b"a\rZ\x1b\x7f", &[], |a, dump| {
        a.xor(dx, dx)?;
        tty(a, &[bootdisk::READY, b'\r', b'\n'])?;
        a.mov(ah, 0x00)?;
        a.int(0x16)?; // 'a'
        a.call(dump)?;
        let mut wait = a.create_label();
        a.set_label(&mut wait)?;
        a.mov(ah, 0x01)?;
        a.int(0x16)?; // Enter waiting: ZF = 0, not removed
        a.jz(wait)?;
        a.call(dump)?;
        for _ in 0..4 {
            a.mov(ah, 0x10)?;
            a.int(0x16)?; // Enter, 'Z', Esc, DEL as Backspace
            a.call(dump)?;
        }
        a.mov(ax, 0x0100u32)?;
        a.int(0x16)?; // nothing left: ZF = 1
        a.call(dump)?;
        a.mov(ax, 0x0500u32)?;
        a.mov(cx, 0x2F76u32)?;
        a.int(0x16)?; // store 'v': AL = 0
        a.call(dump)?;
        a.mov(ah, 0x00)?;
        a.int(0x16)?;
        a.call(dump)?;
        a.mov(ax, 0x0200u32)?;
        a.int(0x16)?; // no shift keys over serial
        a.call(dump)
    });
    assert_eq!(
        out,
        // (Z: the caller's ZF, which the services keep, except 01h.)
        ">\r\n\
         1E61 0000 0000 0000 0Z\r\n\
         1C0D 0000 0000 0000 0\r\n\
         1C0D 0000 0000 0000 0\r\n\
         2C5A 0000 0000 0000 0\r\n\
         011B 0000 0000 0000 0\r\n\
         0E08 0000 0000 0000 0\r\n\
         0100 0000 0000 0000 0Z\r\n\
         0500 0000 2F76 0000 0Z\r\n\
         2F76 0000 2F76 0000 0Z\r\n\
         0200 0000 2F76 0000 0Z\r\n"
    );
}
