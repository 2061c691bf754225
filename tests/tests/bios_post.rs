//! The BIOS's power-on self test and system services on the full board,
//! on the deterministic virtual clock: the POST report and codes, the BIOS
//! data area and vector table it leaves, and the int 11h/12h/15h/1Ah
//! services called by test programs at 0000:7C00 (started after a POST
//! that found nothing to boot, see `BiosMachine::start_program`).

use integration_tests::bootsector::*;
use integration_tests::emulator::machine::Outcome;
use integration_tests::iced_x86::code_asm::*;

/// Where test programs store their results.
const RESULT: u32 = 0x1000;
/// Where the E820 test puts the entries (20 bytes each).
const E820_BUF: u32 = 0x2000;

const REPORT: &str = "POST 1.0: CPU ok, ROM checksum ok\nMemory: 262144 KiB ok\n";

/// POST on a machine without disks: ends in int 18h's halt.
fn post_without_disks(ram: u64) -> BiosMachine {
    let mut m = BiosMachine::new(ram, &[]);
    let outcome = m.run();
    assert!(
        matches!(outcome, Outcome::Hung(_)),
        "{outcome:?}\n{}",
        m.serial()
    );
    m
}

/// POST, then `program` at 0000:7C00 until it exits with status 0.
fn run_program(
    ram: u64,
    program: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> BiosMachine {
    let mut m = post_without_disks(ram);
    let code = assemble16(program);
    m.start_program(&code);
    let outcome = m.run();
    assert_eq!(outcome, Outcome::Exit(1), "{}", m.serial());
    m
}

#[test]
fn post_reports_cpu_rom_and_memory_then_no_bootable_device() {
    let mut m = post_without_disks(RAM_SIZE);
    assert_eq!(m.serial(), format!("{REPORT}No bootable device\n"));
}

#[test]
fn post_codes_follow_the_steps_in_order() {
    let m = post_without_disks(RAM_SIZE);
    assert_eq!(
        m.machine.post_codes(),
        (0x01..=0x0C).collect::<Vec<u8>>(),
        "start, serial, CPU, ROM, PIC, PIT, memory, IVT, BDA, ATA, E820, boot"
    );
}

#[test]
fn post_reports_the_memory_size_the_cmos_gives() {
    let mut m = post_without_disks(32 << 20);
    assert!(
        m.serial().contains("Memory: 32768 KiB ok\n"),
        "{}",
        m.serial()
    );
}

#[test]
fn a_bad_rom_checksum_stops_post_with_code_04() {
    let mut rom = integration_tests::emulator::firmware::BIOS.to_vec();
    rom[0xFFEF] ^= 0x01; // padding below the reset vector
    let mut m = BiosMachine::with_bios(rom, RAM_SIZE, &[]);
    assert!(matches!(m.run(), Outcome::Hung(_)));
    assert_eq!(
        m.serial(),
        "POST 1.0: CPU ok\nPOST error 04: ROM checksum bad\n"
    );
    assert_eq!(m.machine.post_codes().last(), Some(&0x04));
}

#[test]
fn memory_the_cmos_claims_but_that_is_missing_fails_the_memory_test() {
    // 16 MiB of RAM, but the CMOS says 16 MiB more above 16 MiB.
    let mut m = BiosMachine::new(16 << 20, &[]);
    m.set_cmos(0x34, 0x00);
    m.set_cmos(0x35, 0x01);
    assert!(matches!(m.run(), Outcome::Hung(_)));
    assert!(
        m.serial()
            .ends_with("\nPOST error 07: memory test failed at 0x01000000\n"),
        "{}",
        m.serial()
    );
    assert_eq!(m.machine.post_codes().last(), Some(&0x07));
}

#[test]
fn bios_data_area_holds_ports_memory_equipment_and_ticks() {
    let m = post_without_disks(RAM_SIZE);
    assert_eq!(m.read_u16(0x400), 0x3F8, "COM1");
    assert_eq!(m.read_u16(0x402), 0x2F8, "COM2");
    assert_eq!(m.read_u16(0x404), 0, "no COM3");
    assert_eq!(m.read_u16(0x40E), 0x9FC0, "EBDA segment");
    // Two serial ports (bits 11:9), 80x25 colour (5:4), coprocessor (1).
    assert_eq!(m.read_u16(0x410), (2 << 9) | 0x20 | 0x02, "equipment");
    assert_eq!(m.read_u16(0x413), 639, "base memory KiB");
    assert_eq!(m.ram()[0x475], 0, "no hard disks");
    assert_eq!(m.ram()[0x9FC00], 1, "EBDA size in KiB");
    // The tick count started from the RTC's 12:34:56 and has run since.
    let start = 45_296u64 * 1_193_180 / 65_536;
    let ticks = m.read_u32(0x46C) as u64;
    assert!(
        (start..start + 5).contains(&ticks),
        "ticks {ticks}, start {start}"
    );
}

#[test]
fn every_vector_has_a_handler_in_the_rom() {
    let m = post_without_disks(RAM_SIZE);
    let vector = |n: usize| (m.read_u16(n * 4 + 2), m.read_u16(n * 4));
    for n in 0..256 {
        assert_eq!(vector(n).0, 0xF000, "vector {n:#x} segment");
    }
    // Unused vectors point at consecutive 5-byte reporting stubs.
    assert_eq!(vector(0x61).1 - vector(0x60).1, 5);
    assert_eq!(vector(0xFF).1 - vector(0x60).1, 5 * (0xFF - 0x60));
    // The services are not stubs.
    let stubs = vector(0).1..vector(0xFF).1 + 5;
    for n in [
        0x08, 0x10, 0x11, 0x12, 0x13, 0x15, 0x16, 0x18, 0x19, 0x1A, 0x1C,
    ] {
        assert!(!stubs.contains(&vector(n).1), "vector {n:#x}");
    }
}

#[test]
fn an_unexpected_software_interrupt_is_reported_and_returns() {
    let mut m = run_program(RAM_SIZE, |a| {
        a.int(0x60)?;
        exit(a, 0)
    });
    assert!(
        m.serial()
            .ends_with("Unexpected interrupt 0x60 at 0000:7C02\n"),
        "{}",
        m.serial()
    );
}

#[test]
fn a_cpu_exception_is_reported_and_stops_the_machine() {
    let mut m = post_without_disks(RAM_SIZE);
    m.start_program(&assemble16(|a| {
        a.ud2()?;
        exit(a, 0)
    }));
    assert!(matches!(m.run(), Outcome::Hung(_)));
    assert!(
        m.serial().ends_with(
            "Unexpected interrupt 0x06 at 0000:7C00\nCPU exception in real mode: halted\n"
        ),
        "{}",
        m.serial()
    );
}

#[test]
fn a_general_protection_fault_on_an_irq_vector_is_told_apart_from_the_irq() {
    // A word read at offset FFFFh crosses the real-mode segment limit:
    // #GP, vector 0Dh, which is also IRQ 5's vector; no IRQ is in service.
    let mut m = post_without_disks(RAM_SIZE);
    m.start_program(&assemble16(|a| {
        a.mov(ax, word_ptr(0xFFFF))?;
        exit(a, 0)
    }));
    assert!(matches!(m.run(), Outcome::Hung(_)));
    assert!(
        m.serial().ends_with(
            "Unexpected interrupt 0x0D at 0000:7C00\nCPU exception in real mode: halted\n"
        ),
        "{}",
        m.serial()
    );
}

#[test]
fn an_unexpected_hardware_interrupt_is_reported_and_acknowledged() {
    let mut m = run_program(RAM_SIZE, |a| {
        // COM1 transmitter-empty interrupt on IRQ 4 (vector 0Ch), unmasked.
        a.mov(dx, 0x3F9u32)?;
        a.mov(al, 0x02u32)?;
        a.out(dx, al)?;
        a.in_(al, 0x21)?;
        a.and(al, 0xEFu32)?;
        a.out(0x21, al)?;
        a.sti()?;
        a.hlt()?;
        a.cli()?;
        a.mov(dx, 0x3F9u32)?;
        a.xor(al, al)?;
        a.out(dx, al)?;
        // Nothing may be left in service at the master PIC.
        a.mov(al, 0x0Bu32)?;
        a.out(0x20, al)?;
        a.in_(al, 0x20)?;
        a.mov(byte_ptr(RESULT), al)?;
        a.in_(al, 0x21)?;
        a.mov(byte_ptr(RESULT + 1), al)?;
        exit(a, 0)
    });
    assert!(
        m.serial()
            .ends_with("No bootable device\nUnexpected interrupt 0x0C at 0000:7C0E\n"),
        "reported once: {}",
        m.serial()
    );
    assert_eq!(m.ram()[RESULT as usize], 0, "ISR after the report");
    assert_eq!(m.ram()[RESULT as usize + 1] & 0x10, 0x10, "IRQ 4 masked");
}

#[test]
fn int_11h_and_12h_return_equipment_and_base_memory() {
    let m = run_program(RAM_SIZE, |a| {
        a.int(0x11)?;
        a.mov(word_ptr(RESULT), ax)?;
        a.int(0x12)?;
        a.mov(word_ptr(RESULT + 2), ax)?;
        exit(a, 0)
    });
    assert_eq!(m.read_u16(RESULT as usize), 0x422);
    assert_eq!(m.read_u16(RESULT as usize + 2), 639);
}

/// Calls int 15h E820 until EBX = 0 (at most 16 times), storing the
/// entries at E820_BUF and their count at RESULT; CF or a wrong signature
/// stores 0xFFFF at RESULT + 2.
fn e820_loop(a: &mut CodeAssembler) -> Result<(), IcedError> {
    let mut next = a.create_label();
    let mut done = a.create_label();
    let mut bad = a.create_label();
    a.xor(ebx, ebx)?;
    a.mov(di, E820_BUF)?;
    a.mov(word_ptr(RESULT), 0u32)?;
    a.set_label(&mut next)?;
    a.mov(eax, 0xE820u32)?;
    a.mov(edx, 0x534D_4150u32)?;
    a.mov(ecx, 24u32)?;
    a.int(0x15)?;
    a.jc(bad)?;
    a.cmp(eax, 0x534D_4150u32)?;
    a.jne(bad)?;
    a.cmp(ecx, 20u32)?;
    a.jne(bad)?;
    a.inc(word_ptr(RESULT))?;
    a.add(di, 20u32)?;
    a.cmp(word_ptr(RESULT), 16u32)?;
    a.je(done)?;
    a.test(ebx, ebx)?;
    a.jnz(next)?;
    a.jmp(done)?;
    a.set_label(&mut bad)?;
    a.mov(word_ptr(RESULT + 2), 0xFFFFu32)?;
    a.set_label(&mut done)?;
    exit(a, 0)
}

fn e820_entries(m: &BiosMachine) -> Vec<(u64, u64, u32)> {
    assert_eq!(m.read_u16(RESULT as usize + 2), 0, "E820 failed");
    (0..m.read_u16(RESULT as usize) as usize)
        .map(|i| {
            let e = E820_BUF as usize + i * 20;
            (m.read_u64(e), m.read_u64(e + 8), m.read_u32(e + 16))
        })
        .collect()
}

#[test]
fn e820_maps_conventional_ebda_rom_extended_memory_and_the_high_rom() {
    let m = run_program(RAM_SIZE, e820_loop);
    assert_eq!(
        e820_entries(&m),
        vec![
            (0, 0x9FC00, 1),
            (0x9FC00, 0x400, 2),
            (0xF0000, 0x10000, 2),
            (0x10_0000, RAM_SIZE - 0x10_0000, 1),
            (0xFFFF_0000, 0x10000, 2),
        ]
    );
}

#[test]
fn e820_maps_ram_above_4_gib_from_cmos_5bh_to_5dh() {
    // The CMOS claims 16 MiB above 4 GiB (256 blocks of 64 KiB); POST does
    // not test memory above 4 GiB, so the claim is enough for the map.
    let mut m = BiosMachine::new(RAM_SIZE, &[]);
    m.set_cmos(0x5B, 0x00);
    m.set_cmos(0x5C, 0x01);
    m.set_cmos(0x5D, 0x00);
    assert!(matches!(m.run(), Outcome::Hung(_)));
    assert!(
        m.serial().contains("Memory: 278528 KiB ok\n"),
        "{}",
        m.serial()
    );
    m.start_program(&assemble16(e820_loop));
    assert_eq!(m.run(), Outcome::Exit(1));
    let entries = e820_entries(&m);
    assert_eq!(entries.len(), 6, "{entries:x?}");
    assert_eq!(entries[5], (1 << 32, 16 << 20, 1));
}

#[test]
fn e820_refuses_a_bad_signature_a_short_buffer_and_a_bad_continuation() {
    let m = run_program(RAM_SIZE, |a| {
        for (i, (sig, size, cont)) in [
            (0x1234_5678u32, 20u32, 0u32),
            (0x534D_4150, 19, 0),
            (0x534D_4150, 20, 99),
        ]
        .into_iter()
        .enumerate()
        {
            a.mov(eax, 0xE820u32)?;
            a.mov(edx, sig)?;
            a.mov(ecx, size)?;
            a.mov(ebx, cont)?;
            a.mov(di, E820_BUF)?;
            a.int(0x15)?;
            a.setc(al)?;
            a.mov(byte_ptr(RESULT + 2 * i as u32), al)?;
            a.mov(byte_ptr(RESULT + 2 * i as u32 + 1), ah)?;
        }
        exit(a, 0)
    });
    for i in 0..3 {
        assert_eq!(
            m.read_u16(RESULT as usize + 2 * i),
            0x8601,
            "case {i}: CF=1, AH=86h"
        );
    }
}

#[test]
fn e801_and_88h_report_extended_memory() {
    let m = run_program(RAM_SIZE, |a| {
        a.mov(ax, 0xE801u32)?;
        a.int(0x15)?;
        a.mov(word_ptr(RESULT), ax)?;
        a.mov(word_ptr(RESULT + 2), bx)?;
        a.mov(word_ptr(RESULT + 4), cx)?;
        a.mov(word_ptr(RESULT + 6), dx)?;
        a.mov(ah, 0x88u32)?;
        a.int(0x15)?;
        a.mov(word_ptr(RESULT + 8), ax)?;
        exit(a, 0)
    });
    let words: Vec<u16> = (0..5)
        .map(|i| m.read_u16(RESULT as usize + 2 * i))
        .collect();
    // 15 MiB between 1 and 16 MiB, 240 MiB in 64 KiB blocks above.
    assert_eq!(
        words,
        vec![15 * 1024, 240 * 16, 15 * 1024, 240 * 16, 0xFFFF]
    );
}

#[test]
fn a20_functions_switch_and_really_test_the_gate() {
    let m = run_program(RAM_SIZE, |a| {
        // [2402 before, 2400 AH, 2402 after off, port 92, 2401 AH, 2402 after on, 2403 BX]
        a.mov(ax, 0x2402u32)?;
        a.int(0x15)?;
        a.mov(byte_ptr(RESULT), al)?;
        a.mov(ax, 0x2400u32)?;
        a.int(0x15)?;
        a.mov(byte_ptr(RESULT + 1), ah)?;
        a.mov(ax, 0x2402u32)?;
        a.int(0x15)?;
        a.mov(byte_ptr(RESULT + 2), al)?;
        // With the gate shut, 1 MiB + 0x600 is 0x600.
        a.mov(ax, 0xFFFFu32)?;
        a.mov(es, ax)?;
        a.mov(byte_ptr(0x600), 0x11u32)?;
        a.mov(byte_ptr(0x610).es(), 0x22u32)?;
        a.mov(al, byte_ptr(0x600))?;
        a.mov(byte_ptr(RESULT + 3), al)?;
        a.mov(ax, 0x2401u32)?;
        a.int(0x15)?;
        a.mov(byte_ptr(RESULT + 4), ah)?;
        a.mov(ax, 0x2402u32)?;
        a.int(0x15)?;
        a.mov(byte_ptr(RESULT + 5), al)?;
        a.mov(ax, 0x2403u32)?;
        a.int(0x15)?;
        a.mov(word_ptr(RESULT + 6), bx)?;
        exit(a, 0)
    });
    let r = &m.ram()[RESULT as usize..RESULT as usize + 8];
    assert_eq!(r, &[1, 0, 0, 0x22, 0, 1, 2, 0]);
}

#[test]
fn int_1ah_reads_the_rtc_time_and_date_in_bcd() {
    let m = run_program(RAM_SIZE, |a| {
        a.mov(ah, 0x02u32)?;
        a.int(0x1A)?;
        a.mov(word_ptr(RESULT), cx)?;
        a.mov(word_ptr(RESULT + 2), dx)?;
        a.mov(ah, 0x04u32)?;
        a.int(0x1A)?;
        a.mov(word_ptr(RESULT + 4), cx)?;
        a.mov(word_ptr(RESULT + 6), dx)?;
        exit(a, 0)
    });
    assert_eq!(m.read_u16(RESULT as usize), 0x1234, "hours:minutes");
    let secs = m.read_u16(RESULT as usize + 2);
    assert!(
        secs == 0x5600 || secs == 0x5700,
        "seconds, no DST: {secs:#x}"
    );
    assert_eq!(m.read_u16(RESULT as usize + 4), 0x2026, "century:year");
    assert_eq!(m.read_u16(RESULT as usize + 6), 0x1121, "month:day");
}

#[test]
fn int_1ah_sets_the_rtc_time_and_date() {
    let m = run_program(RAM_SIZE, |a| {
        a.mov(ah, 0x03u32)?;
        a.mov(cx, 0x0809u32)?;
        a.mov(dx, 0x1000u32)?;
        a.int(0x1A)?;
        a.mov(ah, 0x05u32)?;
        a.mov(cx, 0x1999u32)?;
        a.mov(dx, 0x1231u32)?;
        a.int(0x1A)?;
        a.mov(ah, 0x02u32)?;
        a.int(0x1A)?;
        a.mov(word_ptr(RESULT), cx)?;
        a.mov(word_ptr(RESULT + 2), dx)?;
        a.mov(ah, 0x04u32)?;
        a.int(0x1A)?;
        a.mov(word_ptr(RESULT + 4), cx)?;
        a.mov(word_ptr(RESULT + 6), dx)?;
        exit(a, 0)
    });
    assert_eq!(m.read_u16(RESULT as usize), 0x0809);
    assert_eq!(m.read_u16(RESULT as usize + 2) & 0xFF00, 0x1000);
    assert_eq!(m.read_u16(RESULT as usize + 4), 0x1999);
    assert_eq!(m.read_u16(RESULT as usize + 6), 0x1231);
}

#[test]
fn the_timer_counts_ticks_and_rolls_over_at_midnight() {
    let m = run_program(RAM_SIZE, |a| {
        // Tick count one before midnight, then wait for two timer ticks.
        a.mov(ah, 0x01u32)?;
        a.mov(cx, 0x0018u32)?;
        a.mov(dx, 0x00AFu32)?;
        a.int(0x1A)?;
        a.sti()?;
        a.hlt()?;
        a.hlt()?;
        a.mov(ah, 0x00u32)?;
        a.int(0x1A)?;
        a.mov(word_ptr(RESULT), cx)?;
        a.mov(word_ptr(RESULT + 2), dx)?;
        a.mov(byte_ptr(RESULT + 4), al)?;
        // The flag is cleared by reading it.
        a.mov(ah, 0x00u32)?;
        a.int(0x1A)?;
        a.mov(byte_ptr(RESULT + 5), al)?;
        exit(a, 0)
    });
    assert_eq!(m.read_u16(RESULT as usize), 0, "CX after midnight");
    assert!(m.read_u16(RESULT as usize + 2) <= 2, "DX after midnight");
    assert_eq!(m.ram()[RESULT as usize + 4], 1, "midnight flag");
    assert_eq!(m.ram()[RESULT as usize + 5], 0, "flag cleared");
}

#[test]
fn int_15h_86h_waits_the_microseconds_asked_for() {
    let m = run_program(RAM_SIZE, |a| {
        a.mov(eax, dword_ptr(0x46C))?;
        a.mov(dword_ptr(RESULT), eax)?;
        // 300 ms: 5 ticks and a bit.
        a.mov(ah, 0x86u32)?;
        a.mov(cx, 0x0004u32)?;
        a.mov(dx, 0x93E0u32)?;
        a.int(0x15)?;
        a.setc(al)?;
        a.mov(byte_ptr(RESULT + 8), al)?;
        a.mov(eax, dword_ptr(0x46C))?;
        a.mov(dword_ptr(RESULT + 4), eax)?;
        exit(a, 0)
    });
    let waited = m.read_u32(RESULT as usize + 4) - m.read_u32(RESULT as usize);
    assert!((5..=6).contains(&waited), "ticks waited: {waited}");
    assert_eq!(m.ram()[RESULT as usize + 8], 0, "CF");
}

#[test]
fn int_15h_c0h_points_at_the_configuration_table_in_rom() {
    let m = run_program(RAM_SIZE, |a| {
        a.mov(ah, 0xC0u32)?;
        a.int(0x15)?;
        a.mov(word_ptr(RESULT), es)?;
        a.mov(word_ptr(RESULT + 2), bx)?;
        a.mov(word_ptr(RESULT + 4), ax)?;
        exit(a, 0)
    });
    assert_eq!(m.read_u16(RESULT as usize), 0xF000);
    assert_eq!(m.read_u16(RESULT as usize + 4) >> 8, 0, "AH");
    let off = m.read_u16(RESULT as usize + 2) as usize;
    let rom = integration_tests::emulator::firmware::BIOS;
    assert_eq!(&rom[off..off + 3], &[8, 0, 0xFC], "length 8, model FC");
}

#[test]
fn unsupported_int_15h_functions_set_cf_and_ah_86h() {
    let m = run_program(RAM_SIZE, |a| {
        a.mov(ah, 0x42u32)?;
        a.int(0x15)?;
        a.setc(al)?;
        a.mov(word_ptr(RESULT), ax)?;
        exit(a, 0)
    });
    assert_eq!(m.read_u16(RESULT as usize), 0x8601);
}

#[test]
fn the_thorough_memory_test_checks_every_dword() {
    let quick = post_without_disks(4 << 20);
    let mut m = BiosMachine::new(4 << 20, &[]);
    m.set_cmos(0x5F, 0x01);
    assert!(matches!(m.run(), Outcome::Hung(_)));
    assert!(
        m.serial().contains("Memory: 4096 KiB ok\n"),
        "{}",
        m.serial()
    );
    // 4 MiB at ~10 instructions a dword, against ~3000 cells for the quick test.
    let extra = m.machine.cpu.instret - quick.machine.cpu.instret;
    assert!(extra > 5_000_000, "extra instructions {extra}");
}

// ---- booting from disk: needs helper B's int 13h ------------------------

#[test]
fn boots_the_first_hard_disk_at_7c00_with_dl_80h() {
    let code = assemble16(|a| {
        let mut here = a.create_label();
        a.call(here)?;
        a.set_label(&mut here)?;
        a.pop(bx)?; // IP of `here`
        a.mov(word_ptr(RESULT), bx)?;
        a.mov(word_ptr(RESULT + 2), cs)?;
        a.mov(byte_ptr(RESULT + 4), dl)?;
        exit(a, 0)
    });
    let image = disk_image(&boot_sector(&code, true), 2048);
    let mut m = BiosMachine::new(RAM_SIZE, &[image.path()]);
    assert_eq!(m.run(), Outcome::Exit(1), "{}", m.serial());
    assert!(m.serial().starts_with(REPORT), "{}", m.serial());
    assert!(
        m.serial().ends_with("Booting from hard disk 0x80...\n"),
        "{}",
        m.serial()
    );
    assert_eq!(m.read_u16(RESULT as usize), 0x7C03, "IP");
    assert_eq!(m.read_u16(RESULT as usize + 2), 0, "CS");
    assert_eq!(m.ram()[RESULT as usize + 4], 0x80, "DL");
}

#[test]
fn a_disk_without_the_boot_signature_is_reported_and_not_booted() {
    let image = disk_image(&boot_sector(&[0xEB, 0xFE], false), 2048);
    let mut m = BiosMachine::new(RAM_SIZE, &[image.path()]);
    assert!(matches!(m.run(), Outcome::Hung(_)));
    assert!(
        m.serial().ends_with(
            "Booting from hard disk 0x80...\n\
             Disk 0x80: no boot signature (55AAh) in the boot sector\n\
             No bootable device\n"
        ),
        "{}",
        m.serial()
    );
}

#[test]
fn a_boot_order_without_hard_disks_does_not_try_the_disk() {
    let code = assemble16(|a| exit(a, 0));
    let image = disk_image(&boot_sector(&code, true), 2048);
    let mut m = BiosMachine::new(RAM_SIZE, &[image.path()]);
    m.set_cmos(0x3D, 0x31); // floppy, then CD-ROM
    m.set_cmos(0x38, 0x00);
    assert!(matches!(m.run(), Outcome::Hung(_)));
    assert!(!m.serial().contains("Booting"), "{}", m.serial());
    assert!(
        m.serial().ends_with("No bootable device\n"),
        "{}",
        m.serial()
    );
}
