//! SSE/SSE2 conversions against the host CPU under random MXCSR rounding
//! modes, DAZ and FTZ: results, integer indefinite values and flags must
//! match exactly.

use iced_x86::code_asm::*;
use integration_tests::ssehost::*;

const CASES: usize = 2000;

const GPR: Compare = Compare {
    xmm0: true,
    flags: false,
    rax: true,
};

macro_rules! xmm_family {
    ($test:ident, $lanes:expr, $seed:expr; $($op:ident),*) => {
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

xmm_family!(single_source_conversions_match_host, Lanes::F32, 41;
    cvtss2sd, cvtps2dq, cvttps2dq, cvtps2pd);
xmm_family!(double_source_conversions_match_host, Lanes::F64, 42;
    cvtsd2ss, cvtpd2dq, cvttpd2dq, cvtpd2ps);
xmm_family!(integer_source_conversions_match_host, Lanes::Int, 43;
    cvtdq2ps, cvtdq2pd);

#[test]
fn integer_to_float_from_gpr_and_memory_matches_host() {
    let cases = Rng::new(44).cases(CASES, Lanes::Int);
    check(
        "cvtsi2ss xmm0, eax",
        &|a| a.cvtsi2ss(xmm0, eax),
        &cases,
        XMM,
    );
    check(
        "cvtsi2ss xmm0, rax",
        &|a| a.cvtsi2ss(xmm0, rax),
        &cases,
        XMM,
    );
    check(
        "cvtsi2ss xmm0, dword [r8+16]",
        &|a| a.cvtsi2ss(xmm0, dword_ptr(r8 + 16)),
        &cases,
        XMM,
    );
    check(
        "cvtsi2ss xmm0, qword [r8+16]",
        &|a| a.cvtsi2ss(xmm0, qword_ptr(r8 + 16)),
        &cases,
        XMM,
    );
    check(
        "cvtsi2sd xmm0, eax",
        &|a| a.cvtsi2sd(xmm0, eax),
        &cases,
        XMM,
    );
    check(
        "cvtsi2sd xmm0, rax",
        &|a| a.cvtsi2sd(xmm0, rax),
        &cases,
        XMM,
    );
    check(
        "cvtsi2sd xmm0, dword [r8+16]",
        &|a| a.cvtsi2sd(xmm0, dword_ptr(r8 + 16)),
        &cases,
        XMM,
    );
    check(
        "cvtsi2sd xmm0, qword [r8+16]",
        &|a| a.cvtsi2sd(xmm0, qword_ptr(r8 + 16)),
        &cases,
        XMM,
    );
}

macro_rules! to_int_family {
    ($test:ident, $lanes:expr, $seed:expr, $mem:ident; $($op:ident),*) => {
        #[test]
        fn $test() {
            let cases = Rng::new($seed).cases(CASES, $lanes);
            $(
                check(concat!(stringify!($op), " eax, xmm1"), &|a| a.$op(eax, xmm1), &cases, GPR);
                check(concat!(stringify!($op), " rax, xmm1"), &|a| a.$op(rax, xmm1), &cases, GPR);
                check(concat!(stringify!($op), " eax, [r8+16]"), &|a| a.$op(eax, $mem(r8 + 16)), &cases, GPR);
                check(concat!(stringify!($op), " rax, [r8+16]"), &|a| a.$op(rax, $mem(r8 + 16)), &cases, GPR);
            )*
        }
    };
}

to_int_family!(single_to_integer_rounds_truncates_and_saturates_like_host, Lanes::F32, 45, dword_ptr;
    cvtss2si, cvttss2si);
to_int_family!(double_to_integer_rounds_truncates_and_saturates_like_host, Lanes::F64, 46, qword_ptr;
    cvtsd2si, cvttsd2si);
