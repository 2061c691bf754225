//! The built-in firmware: the BIOS ROM from `firmware/`, built and
//! flattened by `build.rs`.

/// The 64 KiB BIOS image.
pub static BIOS: &[u8; 0x1_0000] = include_bytes!(concat!(env!("OUT_DIR"), "/bios.bin"));

/// The BIOS's global symbols: "name offset" lines, offsets in hex within
/// segment F000.
pub static BIOS_SYMBOLS: &str = include_str!(concat!(env!("OUT_DIR"), "/bios.sym"));

/// The offset in segment F000 of the BIOS's global symbol `name`.
pub fn bios_symbol(name: &str) -> Option<u16> {
    BIOS_SYMBOLS.lines().find_map(|line| {
        let (sym, offset) = line.split_once(' ')?;
        (sym == name).then(|| u16::from_str_radix(offset, 16).ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rom_bytes_sum_to_zero() {
        let sum = BIOS.iter().fold(0u8, |s, &b| s.wrapping_add(b));
        assert_eq!(sum, 0);
    }

    #[test]
    fn reset_vector_is_a_far_jump_into_segment_f000() {
        assert_eq!(BIOS[0xFFF0], 0xEA, "jmp ptr16:16");
        assert_eq!(&BIOS[0xFFF3..0xFFF5], &[0x00, 0xF0]);
    }

    #[test]
    fn service_entry_points_are_in_the_symbol_map() {
        for name in [
            "int10_handler",
            "int13_handler",
            "int16_handler",
            "ata_detect",
        ] {
            let offset = bios_symbol(name).unwrap_or_else(|| panic!("{name} missing"));
            assert!(offset < 0xFFF0, "{name} at {offset:#x}");
        }
        assert_eq!(bios_symbol("no_such_symbol"), None);
    }
}
