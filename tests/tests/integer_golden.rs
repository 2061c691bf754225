//! Golden-file tests of the integer instruction families, one test per
//! family and mode (files in `tests/golden/integer_*.txt`, format in
//! `tests/src/golden.rs`).

use integration_tests::golden::{golden_path, run_file};

macro_rules! golden {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run_file(&golden_path($file));
            }
        )*
    };
}

golden! {
    shift_real_mode => "integer_shift_real.txt",
    shift_protected_mode => "integer_shift_prot32.txt",
    shift_long_mode => "integer_shift_long64.txt",
    bits_real_mode => "integer_bits_real.txt",
    bits_protected_mode => "integer_bits_prot32.txt",
    bits_long_mode => "integer_bits_long64.txt",
    muldiv_real_mode => "integer_muldiv_real.txt",
    muldiv_protected_mode => "integer_muldiv_prot32.txt",
    muldiv_long_mode => "integer_muldiv_long64.txt",
    data_real_mode => "integer_data_real.txt",
    data_protected_mode => "integer_data_prot32.txt",
    data_long_mode => "integer_data_long64.txt",
    alu_real_mode => "integer_alu_real.txt",
    alu_protected_mode => "integer_alu_prot32.txt",
    alu_long_mode => "integer_alu_long64.txt",
    legacy_real_mode => "integer_legacy_real.txt",
    legacy_protected_mode => "integer_legacy_prot32.txt",
    legacy_long_mode => "integer_legacy_long64.txt",
}
