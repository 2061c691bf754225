//! Differential tests: generated sequences of user-level integer
//! instructions run on this machine's CPU and in the emulator from the same
//! state; registers, defined flags and scratch memory must agree.
//! One test per instruction family; each runs thousands of fixed-seed
//! cases and prints a reproducer for the first mismatches.

use iced_x86::{Code, Instruction, Mnemonic, Register, RepPrefixKind};
use integration_tests::diff::{codes, no_init, run_family, Family, Gen, Rng};
use integration_tests::native::{State, SCRATCH_SIZE};

const CASES: usize = 3000;

/// Emits one random instruction of one of `codes`.
fn one_of(g: &mut Gen, codes: &[Code]) {
    loop {
        let code = g.rng.pick(codes);
        if g.random(code) {
            return;
        }
    }
}

fn family(name: &'static str, seed: u64, mnemonics: &[Mnemonic]) {
    let list = codes(mnemonics);
    assert!(!list.is_empty(), "no codes for {name}");
    run_family(&Family {
        name,
        seed,
        cases: CASES,
        init: no_init,
        emit: &|g| one_of(g, &list),
    });
}

use Mnemonic::*;

const ALU: &[Mnemonic] = &[
    Add, Adc, Sub, Sbb, And, Or, Xor, Cmp, Test, Inc, Dec, Neg, Not,
];

#[test]
fn alu_add_to_not_match_host() {
    family("alu", 0xA1, ALU);
}

#[test]
fn mov_and_lea_match_host() {
    family("mov/lea", 0xA2, &[Mov, Lea]);
}

/// Short forward branches: each Jcc, JMP, and the RCX/ECX-counting ones.
const BRANCHES: [Code; 24] = {
    use Code::*;
    [
        Jo_rel8_64,
        Jno_rel8_64,
        Jb_rel8_64,
        Jae_rel8_64,
        Je_rel8_64,
        Jne_rel8_64,
        Jbe_rel8_64,
        Ja_rel8_64,
        Js_rel8_64,
        Jns_rel8_64,
        Jp_rel8_64,
        Jnp_rel8_64,
        Jl_rel8_64,
        Jge_rel8_64,
        Jle_rel8_64,
        Jg_rel8_64,
        Jmp_rel8_64,
        Jrcxz_rel8_64,
        Jecxz_rel8_64,
        Loop_rel8_64_RCX,
        Loop_rel8_64_ECX,
        Loope_rel8_64_RCX,
        Loopne_rel8_64_RCX,
        Loopne_rel8_64_ECX,
    ]
};

#[test]
fn short_branches_over_alu_code_match_host() {
    let body_codes = codes(&[Add, Sub, Cmp, Xor, Inc, Dec, Neg, Mov, Lea]);
    let alu = codes(ALU);
    let emit = |g: &mut Gen| {
        if g.rng.one_in(2) {
            one_of(g, &alu);
            return;
        }
        // A flag-setting instruction, then a branch over 1-3 instructions.
        one_of(g, &alu);
        let mut inner = Gen::new(g.rng);
        for _ in 0..1 + inner.rng.below(3) {
            one_of(&mut inner, &body_codes);
        }
        let body = inner.instructions();
        let branch = g.rng.pick(&BRANCHES);
        g.skip(branch, body);
    };
    run_family(&Family {
        name: "branch",
        seed: 0xA3,
        cases: CASES,
        init: no_init,
        emit: &emit,
    });
}

#[test]
fn shifts_and_rotates_match_host() {
    family(
        "shift",
        0xB1,
        &[Shl, Shr, Sar, Rol, Ror, Rcl, Rcr, Shld, Shrd],
    );
}

#[test]
fn multiply_and_divide_match_host() {
    family("muldiv", 0xB2, &[Mul, Imul, Div, Idiv]);
}

#[test]
fn bit_test_and_scan_match_host() {
    family("bits", 0xB3, &[Bt, Bts, Btr, Btc, Bsf, Bsr]);
}

#[test]
fn extend_cmov_setcc_exchange_match_host() {
    family(
        "data",
        0xB4,
        &[
            Movzx, Movsx, Movsxd, Cmovo, Cmovno, Cmovb, Cmovae, Cmove, Cmovne, Cmovbe, Cmova,
            Cmovs, Cmovns, Cmovp, Cmovnp, Cmovl, Cmovge, Cmovle, Cmovg, Seto, Setno, Setb, Setae,
            Sete, Setne, Setbe, Seta, Sets, Setns, Setp, Setnp, Setl, Setge, Setle, Setg, Xchg,
            Xadd, Cmpxchg, Bswap, Cbw, Cwde, Cdqe, Cwd, Cdq, Cqo,
        ],
    );
}

/// RSI and RDI somewhere in the middle of the scratch page, so up to
/// eight string instructions of at most 8 elements of 8 bytes, in either
/// direction, stay inside it.
fn string_pointers(rng: &mut Rng, s: &mut State, scratch: u64) {
    let quarter = SCRATCH_SIZE as u64 / 4;
    s.gpr[6] = scratch + quarter + rng.below(2 * quarter);
    s.gpr[7] = scratch + quarter + rng.below(2 * quarter);
    s.gpr[1] = rng.below(9);
}

fn string_op(g: &mut Gen) {
    type Make = fn(u32, RepPrefixKind) -> Result<Instruction, iced_x86::IcedError>;
    let ops: [Make; 20] = [
        |a, r| Instruction::with_movsb(a, Register::None, r),
        |a, r| Instruction::with_movsw(a, Register::None, r),
        |a, r| Instruction::with_movsd(a, Register::None, r),
        |a, r| Instruction::with_movsq(a, Register::None, r),
        Instruction::with_stosb,
        Instruction::with_stosw,
        Instruction::with_stosd,
        Instruction::with_stosq,
        |a, r| Instruction::with_lodsb(a, Register::None, r),
        |a, r| Instruction::with_lodsw(a, Register::None, r),
        |a, r| Instruction::with_lodsd(a, Register::None, r),
        |a, r| Instruction::with_lodsq(a, Register::None, r),
        |a, r| Instruction::with_cmpsb(a, Register::None, r),
        |a, r| Instruction::with_cmpsw(a, Register::None, r),
        |a, r| Instruction::with_cmpsd(a, Register::None, r),
        |a, r| Instruction::with_cmpsq(a, Register::None, r),
        Instruction::with_scasb,
        Instruction::with_scasw,
        Instruction::with_scasd,
        Instruction::with_scasq,
    ];
    let which = g.rng.below(ops.len() as u64) as usize;
    let compares = which >= 12;
    let rep = match g.rng.below(3) {
        0 => RepPrefixKind::None,
        1 => RepPrefixKind::Repe,
        _ if compares => RepPrefixKind::Repne,
        _ => RepPrefixKind::Repe,
    };
    let address_size = if g.rng.one_in(4) { 32 } else { 64 };
    if rep != RepPrefixKind::None {
        let count = g.rng.below(9) as u32;
        g.op(Instruction::with2(Code::Mov_r32_imm32, Register::ECX, count).expect("mov ecx"));
    }
    g.op(ops[which](address_size, rep).expect("string instruction"));
}

#[test]
fn string_instructions_match_host() {
    run_family(&Family {
        name: "string",
        seed: 0xB5,
        cases: CASES,
        init: string_pointers,
        emit: &string_op,
    });
}
