//! SSE/SSE2 floating point against the host CPU: arithmetic, MIN/MAX,
//! logic, CMPxx with every predicate, COMIS/UCOMIS flags. Every case runs
//! under a random MXCSR (rounding mode, DAZ, FTZ, sticky flags), in both
//! the register and the memory form, and must match the host bit for bit,
//! flags included.

use iced_x86::code_asm::*;
use integration_tests::ssehost::*;

const CASES: usize = 2000;

/// Checks each listed instruction in its `xmm, xmm` and `xmm, mem` forms.
macro_rules! binary_family {
    ($test:ident, $lanes:expr, $seed:expr; $($op:ident),* $(,)?) => {
        #[test]
        fn $test() {
            let cases = Rng::new($seed).cases(CASES, $lanes);
            $(
                check(concat!(stringify!($op), " xmm0, xmm1"), &|a| a.$op(xmm0, xmm1), &cases, XMM);
                check(concat!(stringify!($op), " xmm0, [r8+16]"), &|a| a.$op(xmm0, ptr(r8 + 16)), &cases, XMM);
            )*
        }
    };
}

binary_family!(packed_single_arithmetic_matches_host, Lanes::F32, 1;
    addps, subps, mulps, divps, sqrtps, minps, maxps);
binary_family!(scalar_single_arithmetic_matches_host, Lanes::F32, 2;
    addss, subss, mulss, divss, sqrtss, minss, maxss);
binary_family!(packed_double_arithmetic_matches_host, Lanes::F64, 3;
    addpd, subpd, mulpd, divpd, sqrtpd, minpd, maxpd);
binary_family!(scalar_double_arithmetic_matches_host, Lanes::F64, 4;
    addsd, subsd, mulsd, divsd, sqrtsd, minsd, maxsd);
binary_family!(float_logic_matches_host, Lanes::F32, 5;
    andps, andnps, orps, xorps, andpd, andnpd, orpd, xorpd);

/// Checks a compare with each of the eight predicates.
macro_rules! compare_family {
    ($test:ident, $lanes:expr, $seed:expr, $op:ident) => {
        #[test]
        fn $test() {
            let cases = Rng::new($seed).cases(CASES / 2, $lanes);
            for p in 0..8u32 {
                let name = format!("{} xmm0, xmm1, {p}", stringify!($op));
                check(&name, &|a| a.$op(xmm0, xmm1, p), &cases, XMM);
                let name = format!("{} xmm0, [r8+16], {p}", stringify!($op));
                check(&name, &|a| a.$op(xmm0, ptr(r8 + 16), p), &cases, XMM);
            }
        }
    };
}

compare_family!(cmpps_all_predicates_match_host, Lanes::F32, 6, cmpps);
compare_family!(cmpss_all_predicates_match_host, Lanes::F32, 7, cmpss);
compare_family!(cmppd_all_predicates_match_host, Lanes::F64, 8, cmppd);
compare_family!(cmpsd_all_predicates_match_host, Lanes::F64, 9, cmpsd_3);

/// COMIS/UCOMIS: compares ZF, PF, CF, OF, SF as well.
macro_rules! ordered_compare_family {
    ($test:ident, $lanes:expr, $seed:expr; $($op:ident),*) => {
        #[test]
        fn $test() {
            let cases = Rng::new($seed).cases(CASES, $lanes);
            let flags = Compare { xmm0: true, flags: true, rax: false };
            $(
                check(concat!(stringify!($op), " xmm0, xmm1"), &|a| a.$op(xmm0, xmm1), &cases, flags);
                check(concat!(stringify!($op), " xmm0, [r8+16]"), &|a| a.$op(xmm0, ptr(r8 + 16)), &cases, flags);
            )*
        }
    };
}

ordered_compare_family!(comiss_and_ucomiss_set_flags_like_host, Lanes::F32, 10; comiss, ucomiss);
ordered_compare_family!(comisd_and_ucomisd_set_flags_like_host, Lanes::F64, 11; comisd, ucomisd);

#[test]
fn rcpps_and_rsqrtps_are_within_the_sdm_error_bound_of_host() {
    let cases = Rng::new(12).cases(CASES, Lanes::F32);
    let close = |w: u128, g: u128| {
        (0..4).all(|i| {
            let (w, g) = ((w >> (32 * i)) as u32, (g >> (32 * i)) as u32);
            let (wf, gf) = (f32::from_bits(w), f32::from_bits(g));
            if !wf.is_finite() || wf == 0.0 || !gf.is_finite() || gf == 0.0 {
                // Specials: infinities, zeros, NaNs must match exactly
                // (a tiny host result may be a denormal where we flush).
                w == g
                    || (wf.abs() < f32::MIN_POSITIVE * 2.0
                        && gf.abs() < f32::MIN_POSITIVE * 2.0
                        && (w ^ g) >> 31 == 0)
            } else {
                ((gf as f64 - wf as f64) / wf as f64).abs() <= 1.5 * 2f64.powi(-12)
            }
        })
    };
    for (name, body) in [
        (
            "rcpps",
            &(|a: &mut CodeAssembler| a.rcpps(xmm0, xmm1)) as Body,
        ),
        ("rsqrtps", &|a: &mut CodeAssembler| a.rsqrtps(xmm0, xmm1)),
        ("rcpss", &|a: &mut CodeAssembler| a.rcpss(xmm0, xmm1)),
        ("rsqrtss", &|a: &mut CodeAssembler| a.rsqrtss(xmm0, xmm1)),
    ] {
        let want = run_host(body, &cases);
        let got = run_guest(body, &cases);
        check_outcomes(name, &cases, &want, &got, XMM, close);
    }
}
