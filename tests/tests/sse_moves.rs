//! SSE/SSE2 data moves against the host CPU: which bytes each form reads,
//! writes, merges or zeroes. Store forms write to `[r8+16]` (the source
//! slot), which is then reloaded into XMM0 to compare.

use iced_x86::code_asm::*;
use integration_tests::ssehost::*;

const CASES: usize = 500;

const GPR: Compare = Compare {
    xmm0: true,
    flags: false,
    rax: true,
};

fn cases(seed: u64) -> Vec<Case> {
    Rng::new(seed).cases(CASES, Lanes::Int)
}

macro_rules! load_family {
    ($test:ident, $seed:expr; $($op:ident),*) => {
        #[test]
        fn $test() {
            let cases = cases($seed);
            $(
                check(concat!(stringify!($op), " xmm0, xmm1"), &|a| a.$op(xmm0, xmm1), &cases, XMM);
                check(concat!(stringify!($op), " xmm0, [r8+16]"), &|a| a.$op(xmm0, ptr(r8 + 16)), &cases, XMM);
                check(concat!(stringify!($op), " [r8+16], xmm0"), &|a| {
                    a.$op(ptr(r8 + 16), xmm0)?;
                    a.movdqu(xmm0, xmmword_ptr(r8 + 16))
                }, &cases, XMM);
            )*
        }
    };
}

load_family!(whole_register_moves_copy_sixteen_bytes, 51;
    movaps, movapd, movdqa, movups, movupd, movdqu);
load_family!(scalar_moves_merge_between_registers_and_zero_on_load, 52; movss, movsd_2);

#[test]
fn non_temporal_stores_write_sixteen_bytes() {
    let cases = cases(53);
    for (name, body) in [
        (
            "movntdq",
            &(|a: &mut CodeAssembler| a.movntdq(xmmword_ptr(r8 + 16), xmm0)) as Body,
        ),
        ("movntps", &|a: &mut CodeAssembler| {
            a.movntps(xmmword_ptr(r8 + 16), xmm0)
        }),
        ("movntpd", &|a: &mut CodeAssembler| {
            a.movntpd(xmmword_ptr(r8 + 16), xmm0)
        }),
        ("movnti dword", &|a: &mut CodeAssembler| {
            a.movnti(dword_ptr(r8 + 16), eax)
        }),
        ("movnti qword", &|a: &mut CodeAssembler| {
            a.movnti(qword_ptr(r8 + 16), rax)
        }),
    ] {
        let reload = |a: &mut CodeAssembler| {
            body(a)?;
            a.movdqu(xmm0, xmmword_ptr(r8 + 16))
        };
        check(name, &reload, &cases, XMM);
    }
}

#[test]
fn movd_and_movq_zero_extend_into_xmm_and_gpr() {
    let cases = cases(54);
    check("movd xmm0, eax", &|a| a.movd(xmm0, eax), &cases, XMM);
    check("movq xmm0, rax", &|a| a.movq(xmm0, rax), &cases, XMM);
    check(
        "movd xmm0, [r8+16]",
        &|a| a.movd(xmm0, dword_ptr(r8 + 16)),
        &cases,
        XMM,
    );
    check(
        "movq xmm0, [r8+16]",
        &|a| a.movq(xmm0, qword_ptr(r8 + 16)),
        &cases,
        XMM,
    );
    check("movq xmm0, xmm1", &|a| a.movq(xmm0, xmm1), &cases, XMM);
    check("movd eax, xmm1", &|a| a.movd(eax, xmm1), &cases, GPR);
    check("movq rax, xmm1", &|a| a.movq(rax, xmm1), &cases, GPR);
    let store = |a: &mut CodeAssembler| {
        a.movd(dword_ptr(r8 + 16), xmm0)?;
        a.movdqu(xmm0, xmmword_ptr(r8 + 16))
    };
    check("movd [r8+16], xmm0", &store, &cases, XMM);
    let store = |a: &mut CodeAssembler| {
        a.movq(qword_ptr(r8 + 16), xmm0)?;
        a.movdqu(xmm0, xmmword_ptr(r8 + 16))
    };
    check("movq [r8+16], xmm0", &store, &cases, XMM);
}

macro_rules! half_family {
    ($test:ident, $seed:expr; $($op:ident),*) => {
        #[test]
        fn $test() {
            let cases = cases($seed);
            $(
                check(concat!(stringify!($op), " xmm0, [r8+16]"), &|a| a.$op(xmm0, qword_ptr(r8 + 16)), &cases, XMM);
                check(concat!(stringify!($op), " [r8+16], xmm0"), &|a| {
                    a.$op(qword_ptr(r8 + 16), xmm0)?;
                    a.movdqu(xmm0, xmmword_ptr(r8 + 16))
                }, &cases, XMM);
            )*
        }
    };
}

half_family!(half_moves_replace_one_quadword, 55; movlps, movhps, movlpd, movhpd);

#[test]
fn movhlps_and_movlhps_move_quadwords_between_halves() {
    let cases = cases(56);
    check(
        "movhlps xmm0, xmm1",
        &|a| a.movhlps(xmm0, xmm1),
        &cases,
        XMM,
    );
    check(
        "movlhps xmm0, xmm1",
        &|a| a.movlhps(xmm0, xmm1),
        &cases,
        XMM,
    );
}

#[test]
fn sse_works_in_32_bit_protected_mode() {
    let mut vm = integration_tests::Vm::with_asm(emulator::bare::BareMode::Protected32, |a| {
        a.movaps(xmm0, xmmword_ptr(esi))?;
        a.addps(xmm0, xmmword_ptr(esi))?;
        a.movups(xmmword_ptr(esi + 20), xmm0)?;
        a.hlt()
    });
    vm.cpu.gpr[6] = 0x20_0000;
    let ones = 0x3F80_0000_3F80_0000_3F80_0000_3F80_0000u128;
    vm.cpu.write_phys(0x20_0000, &ones.to_le_bytes());
    vm.run_to_hlt(10);
    let twos = 0x4000_0000_4000_0000_4000_0000_4000_0000u128;
    assert_eq!(vm.mem(0x20_0000 + 20, 16), &twos.to_le_bytes());
}
