//! SSE2 integer SIMD, shuffles and lane moves against the host CPU, in
//! register and memory forms: every result bit must match.

use iced_x86::code_asm::*;
use integration_tests::ssehost::*;

const CASES: usize = 1000;

/// Result in RAX (and MXCSR) rather than XMM0.
const GPR: Compare = Compare {
    xmm0: true,
    flags: false,
    rax: true,
};

macro_rules! binary_family {
    ($test:ident, $seed:expr; $($op:ident),* $(,)?) => {
        #[test]
        fn $test() {
            let cases = Rng::new($seed).cases(CASES, Lanes::Int);
            $(
                check(concat!(stringify!($op), " xmm0, xmm1"), &|a| a.$op(xmm0, xmm1), &cases, XMM);
                check(concat!(stringify!($op), " xmm0, [r8+16]"), &|a| a.$op(xmm0, ptr(r8 + 16)), &cases, XMM);
            )*
        }
    };
}

binary_family!(add_and_subtract_wrap_and_saturate_like_host, 21;
    paddb, paddw, paddd, paddq, psubb, psubw, psubd, psubq,
    paddsb, paddsw, paddusb, paddusw, psubsb, psubsw, psubusb, psubusw);
binary_family!(logic_and_compares_match_host, 22;
    pand, pandn, por, pxor, pcmpeqb, pcmpeqw, pcmpeqd, pcmpgtb, pcmpgtw, pcmpgtd);
binary_family!(multiplies_averages_and_min_max_match_host, 23;
    pmullw, pmulhw, pmulhuw, pmuludq, pmaddwd, pavgb, pavgw,
    pminub, pmaxub, pminsw, pmaxsw, psadbw);
binary_family!(unpacks_and_packs_match_host, 24;
    punpcklbw, punpcklwd, punpckldq, punpcklqdq, punpckhbw, punpckhwd, punpckhdq, punpckhqdq,
    unpcklps, unpckhps, unpcklpd, unpckhpd, packsswb, packssdw, packuswb);

/// Cases whose source holds a small shift count (sometimes with junk in
/// the high quadword, which the count ignores, or a huge count).
fn shift_cases(seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    let mut cases = rng.cases(CASES, Lanes::Int);
    for c in &mut cases {
        let count = match rng.below(6) {
            0 => rng.bits(),
            1 => 1 << (32 + rng.below(32)),
            _ => rng.below(70),
        };
        c.src = (count as u128) | ((rng.bits() as u128) << 64);
    }
    cases
}

macro_rules! shift_family {
    ($test:ident, $seed:expr; $($op:ident),*) => {
        #[test]
        fn $test() {
            let cases = shift_cases($seed);
            $(
                check(concat!(stringify!($op), " xmm0, xmm1"), &|a| a.$op(xmm0, xmm1), &cases, XMM);
                check(concat!(stringify!($op), " xmm0, [r8+16]"), &|a| a.$op(xmm0, ptr(r8 + 16)), &cases, XMM);
                for imm in [0u32, 1, 7, 15, 16, 31, 32, 63, 64, 200] {
                    let name = format!("{} xmm0, {imm}", stringify!($op));
                    check(&name, &|a| a.$op(xmm0, imm), &cases, XMM);
                }
            )*
        }
    };
}

shift_family!(shifts_by_register_memory_and_immediate_match_host, 25;
    psllw, pslld, psllq, psrlw, psrld, psrlq, psraw, psrad);

#[test]
fn byte_shifts_match_host() {
    let cases = Rng::new(26).cases(CASES / 4, Lanes::Int);
    for imm in [0u32, 1, 5, 8, 15, 16, 255] {
        check(
            &format!("pslldq xmm0, {imm}"),
            &|a| a.pslldq(xmm0, imm),
            &cases,
            XMM,
        );
        check(
            &format!("psrldq xmm0, {imm}"),
            &|a| a.psrldq(xmm0, imm),
            &cases,
            XMM,
        );
    }
}

macro_rules! shuffle_family {
    ($test:ident, $seed:expr; $($op:ident),*) => {
        #[test]
        fn $test() {
            let cases = Rng::new($seed).cases(CASES / 4, Lanes::Int);
            $(
                for imm in [0x00u32, 0x1B, 0xE4, 0x4E, 0xB1, 0x93, 0xFF, 0x02] {
                    let name = format!("{} xmm0, xmm1, {imm:#x}", stringify!($op));
                    check(&name, &|a| a.$op(xmm0, xmm1, imm), &cases, XMM);
                    let name = format!("{} xmm0, [r8+16], {imm:#x}", stringify!($op));
                    check(&name, &|a| a.$op(xmm0, ptr(r8 + 16), imm), &cases, XMM);
                }
            )*
        }
    };
}

shuffle_family!(shuffles_match_host, 27; pshufd, pshuflw, pshufhw, shufps, shufpd);

#[test]
fn pinsrw_replaces_the_selected_word_like_host() {
    let cases = Rng::new(28).cases(CASES / 4, Lanes::Int);
    for imm in [0u32, 3, 7, 9] {
        check(
            &format!("pinsrw xmm0, eax, {imm}"),
            &|a| a.pinsrw(xmm0, eax, imm),
            &cases,
            XMM,
        );
        check(
            &format!("pinsrw xmm0, [r8+16], {imm}"),
            &|a| a.pinsrw(xmm0, word_ptr(r8 + 16), imm),
            &cases,
            XMM,
        );
    }
}

#[test]
fn pextrw_zero_extends_the_selected_word_like_host() {
    let cases = Rng::new(29).cases(CASES / 4, Lanes::Int);
    for imm in [0u32, 2, 7, 12] {
        check(
            &format!("pextrw eax, xmm0, {imm}"),
            &|a| a.pextrw(eax, xmm0, imm),
            &cases,
            GPR,
        );
        check(
            &format!("pextrw rax, xmm1, {imm}"),
            &|a| a.pextrw(rax, xmm1, imm),
            &cases,
            GPR,
        );
    }
}

#[test]
fn sign_mask_extraction_matches_host() {
    let cases = Rng::new(30).cases(CASES, Lanes::Int);
    check(
        "movmskps eax, xmm1",
        &|a| a.movmskps(eax, xmm1),
        &cases,
        GPR,
    );
    check(
        "movmskps rax, xmm1",
        &|a| a.movmskps(rax, xmm1),
        &cases,
        GPR,
    );
    check(
        "movmskpd eax, xmm1",
        &|a| a.movmskpd(eax, xmm1),
        &cases,
        GPR,
    );
    check(
        "pmovmskb eax, xmm1",
        &|a| a.pmovmskb(eax, xmm1),
        &cases,
        GPR,
    );
    check(
        "pmovmskb rax, xmm0",
        &|a| a.pmovmskb(rax, xmm0),
        &cases,
        GPR,
    );
}
