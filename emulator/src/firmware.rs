//! The built-in firmware: the BIOS ROM from `firmware/`, built and
//! flattened by `build.rs`.

/// The 64 KiB BIOS image.
pub static BIOS: &[u8; 0x1_0000] = include_bytes!(concat!(env!("OUT_DIR"), "/bios.bin"));

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
}
