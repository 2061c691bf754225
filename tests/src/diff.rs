//! Differential testing of user-level integer instructions: generated
//! sequences run natively on the host CPU (`native.rs`) and in the
//! emulator in 64-bit mode, from the same registers, flags and scratch
//! memory; everything architecturally defined must come out the same.
//!
//! - `Rng`: a small fixed-seed generator, so every run tests the same cases.
//! - `Gen`: builds random instructions of chosen `Code`s from iced-x86's
//!   operand tables, with operands kept safe: registers other than RSP and
//!   R15, memory only at `[R15 + disp]` in the scratch page, shift counts
//!   where the SDM defines the result, DIV/IDIV operands that cannot
//!   overflow, non-zero BSF/BSR sources.
//! - `Case`: a sequence of steps (instructions, or `Jcc` over a short
//!   forward skip) with its initial state; `Case::flag_mask` works out which
//!   status flags are defined at the end (SDM Vol. 1, Appendix A: a flag is
//!   compared unless the last instruction to write it left it undefined).
//! - `run_family`: runs many cases through one native runner and one
//!   emulator, and panics with a reproducer (disassembly, initial state,
//!   the differing register, flag or byte) when they disagree.

use crate::native::{NativeRunner, State, BASE_FLAGS, LOADABLE_FLAGS, SCRATCH_SIZE};
use crate::trap;
use emulator::bare::{self, BareMode};
use emulator::bus::NullBus;
use emulator::cpu::state::rflags;
use emulator::cpu::{Cpu, Stop};
use emulator::memory::PhysMemory;
use iced_x86::{
    Code, Decoder, DecoderOptions, EncodingKind, Formatter, Instruction, InstructionInfoFactory,
    IntelFormatter, MemoryOperand, Mnemonic, OpAccess, OpCodeOperandKind, Register, RflagsBits,
};
use std::fmt::Write;

/// Where the case's code runs in the emulator.
const CODE_BASE: u64 = 0x10_0000;
const STACK_TOP: u64 = 0x8_0000;
/// Instructions the emulator may run per case (string ops with a small
/// count, at most 8 steps, then HLT).
const BUDGET: u64 = 10_000;
/// Most steps in one case.
pub const MAX_STEPS: usize = 8;
/// Memory operands stay this far from the end of the scratch page.
const MEM_MARGIN: u64 = 16;
const RSP: usize = 4;
const R15: usize = 15;
const NAMES: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];

/// SplitMix64: tiny, fast and reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability 1/n.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// A value biased towards edge cases: zero, ones, sign boundaries,
    /// small numbers, and plain random bits.
    pub fn interesting(&mut self) -> u64 {
        const EDGES: [u64; 12] = [
            0,
            1,
            u64::MAX,
            0x7F,
            0x80,
            0xFF,
            0x7FFF,
            0x8000,
            0x7FFF_FFFF,
            0x8000_0000,
            0x7FFF_FFFF_FFFF_FFFF,
            0x8000_0000_0000_0000,
        ];
        match self.below(8) {
            0 => self.pick(&EDGES),
            1 => self.below(64),
            2 => self
                .pick(&EDGES)
                .wrapping_add(self.below(3))
                .wrapping_sub(1),
            3 => self.next_u64() as u32 as u64,
            _ => self.next_u64(),
        }
    }
}

/// One step of a case.
#[derive(Clone, Debug)]
pub enum Step {
    Op(Instruction),
    /// A short forward branch (Jcc, JMP, JrCXZ, LOOPcc: a `rel8` code)
    /// over `body`.
    Skip {
        branch: Code,
        body: Vec<Instruction>,
    },
}

/// A generated test case.
#[derive(Clone, Debug)]
pub struct Case {
    pub init: State,
    pub scratch: Vec<u8>,
    pub steps: Vec<Step>,
    /// Where each generated unit (an instruction with its set-up) ends in
    /// `steps`; shrinking drops whole units, which keeps them safe to run.
    pub units: Vec<usize>,
}

fn encode(i: &Instruction) -> Option<Vec<u8>> {
    let mut e = iced_x86::Encoder::new(64);
    e.encode(i, 0).ok()?;
    Some(e.take_buffer())
}

impl Case {
    /// A case of steps that form one unit.
    pub fn new(init: State, scratch: Vec<u8>, steps: Vec<Step>) -> Case {
        let units = vec![steps.len()];
        Case {
            init,
            scratch,
            steps,
            units,
        }
    }

    /// The same case without generated unit `k`.
    fn without_unit(&self, k: usize) -> Case {
        let start = if k == 0 { 0 } else { self.units[k - 1] };
        let end = self.units[k];
        let mut steps = self.steps.clone();
        steps.drain(start..end);
        let units = self.units[..k]
            .iter()
            .copied()
            .chain(self.units[k + 1..].iter().map(|&u| u - (end - start)))
            .collect();
        Case {
            init: self.init,
            scratch: self.scratch.clone(),
            steps,
            units,
        }
    }

    /// The machine code; `None` if some instruction cannot be encoded
    /// (e.g. AH together with a REX-only register).
    pub fn encode(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for s in &self.steps {
            match s {
                Step::Op(i) => out.extend(encode(i)?),
                Step::Skip { branch, body } => {
                    let mut b = Vec::new();
                    for i in body {
                        b.extend(encode(i)?);
                    }
                    let len = encode(&Instruction::with_branch(*branch, 0).ok()?)?.len();
                    let target = (len + b.len()) as u64;
                    let jump = encode(&Instruction::with_branch(*branch, target).ok()?)?;
                    if jump.len() != len {
                        return None; // the body is too long for rel8
                    }
                    out.extend(jump);
                    out.extend(b);
                }
            }
        }
        Some(out)
    }

    /// Status flags (as RFLAGS bits) whose final value is defined, or
    /// `None` if some instruction reads a flag that is undefined by then
    /// (the two runs could then legitimately take different paths).
    pub fn flag_mask(&self) -> Option<u64> {
        let mut info = InstructionInfoFactory::new();
        let mut flow = FlagFlow {
            defined: STATUS,
            cl: None,
        };
        for s in &self.steps {
            match s {
                Step::Op(i) => flow.step(i, &mut info)?,
                Step::Skip { branch, body } => {
                    flow.step(&Instruction::with_branch(*branch, 0).ok()?, &mut info)?;
                    let before = flow.defined;
                    let cl_before = flow.cl;
                    for i in body {
                        flow.step(i, &mut info)?;
                    }
                    flow.defined &= before;
                    if flow.cl != cl_before {
                        flow.cl = None;
                    }
                }
            }
        }
        Some(iced_to_rflags(flow.defined))
    }

    /// The code, disassembled with offsets and bytes.
    pub fn disassembly(&self) -> String {
        let code = self.encode().unwrap_or_default();
        let mut d = Decoder::with_ip(64, &code, 0, DecoderOptions::NONE);
        let mut f = IntelFormatter::new();
        let mut s = String::new();
        for i in &mut d {
            let mut text = String::new();
            f.format(&i, &mut text);
            let start = i.ip() as usize;
            let bytes: Vec<String> = code[start..start + i.len()]
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect();
            let _ = writeln!(s, "  {start:04X}  {:<30} {text}", bytes.join(" "));
        }
        s
    }

    /// Scratch offsets the explicit memory operands touch, for the report.
    fn touched(&self, scratch_addr: u64) -> Vec<(u64, usize)> {
        let mut out = Vec::new();
        let mut visit = |i: &Instruction| {
            if i.memory_base() == Register::R15 {
                out.push((i.memory_displacement64(), i.memory_size().size().max(1)));
            }
        };
        for s in &self.steps {
            match s {
                Step::Op(i) => visit(i),
                Step::Skip { body, .. } => body.iter().for_each(&mut visit),
            }
        }
        for r in [6, 7] {
            let off = self.init.gpr[r].wrapping_sub(scratch_addr);
            if off < SCRATCH_SIZE as u64 {
                out.push((off.saturating_sub(32), 64));
            }
        }
        out
    }
}

/// The six status flags as iced-x86 `RflagsBits`.
const STATUS: u32 = RflagsBits::OF
    | RflagsBits::SF
    | RflagsBits::ZF
    | RflagsBits::AF
    | RflagsBits::CF
    | RflagsBits::PF;

fn iced_to_rflags(bits: u32) -> u64 {
    [
        (RflagsBits::OF, rflags::OF),
        (RflagsBits::SF, rflags::SF),
        (RflagsBits::ZF, rflags::ZF),
        (RflagsBits::AF, rflags::AF),
        (RflagsBits::CF, rflags::CF),
        (RflagsBits::PF, rflags::PF),
    ]
    .iter()
    .filter(|(i, _)| bits & i != 0)
    .fold(0, |m, (_, r)| m | r)
}

/// Which status flags are defined, instruction by instruction.
struct FlagFlow {
    defined: u32,
    /// CL, when a `mov cl, imm8` set it (shift counts).
    cl: Option<u8>,
}

impl FlagFlow {
    fn step(&mut self, i: &Instruction, info: &mut InstructionInfoFactory) -> Option<()> {
        if i.rflags_read() & STATUS & !self.defined != 0 {
            return None;
        }
        let mut modified = i.rflags_modified() & STATUS;
        let mut undefined = i.rflags_undefined() & STATUS;
        if is_shift(i.mnemonic()) {
            let width = i.op0_register().size().max(i.memory_size().size()) * 8;
            let raw = match i.op_count().checked_sub(1).map(|n| i.op_kind(n)) {
                Some(iced_x86::OpKind::Register) => self.cl,
                _ => Some(i.immediate8()),
            };
            let mask = if width == 64 { 0x3F } else { 0x1F };
            match raw.map(|c| c & mask) {
                // A zero count changes no flag.
                Some(0) => modified = 0,
                Some(1) => {}
                // OF is defined only for 1-bit shifts (SDM Vol. 2, SAL/SHL
                // and friends); AF is undefined for any non-zero count.
                Some(_) => undefined |= RflagsBits::OF | (modified & RflagsBits::AF),
                None => undefined = modified,
            }
        }
        self.defined = (self.defined & !modified) | (modified & !undefined);
        if i.code() == Code::Mov_r8_imm8 && i.op0_register() == Register::CL {
            self.cl = Some(i.immediate8());
        } else if writes_rcx(i, info) {
            self.cl = None;
        }
        Some(())
    }
}

fn writes_rcx(i: &Instruction, info: &mut InstructionInfoFactory) -> bool {
    info.info(i).used_registers().iter().any(|u| {
        u.register().full_register() == Register::RCX
            && !matches!(
                u.access(),
                OpAccess::Read | OpAccess::CondRead | OpAccess::None
            )
    })
}

fn is_shift(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(m, Shl | Shr | Sar | Rol | Ror | Rcl | Rcr | Shld | Shrd)
}

/// Registers a generated instruction may name, by size (never RSP or
/// R15, nor their parts).
fn registers(size: usize) -> &'static [Register] {
    use Register::*;
    match size {
        1 => &[
            AL, CL, DL, BL, AH, CH, DH, BH, BPL, SIL, DIL, R8L, R9L, R10L, R11L, R12L, R13L, R14L,
        ],
        2 => &[
            AX, CX, DX, BX, BP, SI, DI, R8W, R9W, R10W, R11W, R12W, R13W, R14W,
        ],
        4 => &[
            EAX, ECX, EDX, EBX, EBP, ESI, EDI, R8D, R9D, R10D, R11D, R12D, R13D, R14D,
        ],
        _ => &[
            RAX, RCX, RDX, RBX, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14,
        ],
    }
}

/// An operand being built.
#[derive(Clone, Copy, Debug)]
pub enum Operand {
    Reg(Register),
    Mem(MemoryOperand, usize),
    Imm(i64),
}

/// Size in bytes of a register-or-memory operand kind, if it is one.
fn rm_size(k: OpCodeOperandKind) -> Option<usize> {
    use OpCodeOperandKind as K;
    Some(match k {
        K::r8_or_mem | K::r8_reg | K::r8_opcode => 1,
        K::r16_or_mem | K::r16_reg | K::r16_opcode => 2,
        K::r32_or_mem | K::r32_reg | K::r32_opcode => 4,
        K::r64_or_mem | K::r64_reg | K::r64_opcode => 8,
        _ => return None,
    })
}

fn supported(k: OpCodeOperandKind) -> bool {
    use OpCodeOperandKind as K;
    rm_size(k).is_some()
        || matches!(
            k,
            K::mem
                | K::imm8
                | K::imm8_const_1
                | K::imm8sex16
                | K::imm8sex32
                | K::imm8sex64
                | K::imm16
                | K::imm32
                | K::imm32sex64
                | K::imm64
                | K::al
                | K::ax
                | K::eax
                | K::rax
                | K::cl
        )
}

/// Every legacy-encoded, 64-bit-mode `Code` of `mnemonics` whose operands
/// `Gen` can fill, less a few the SDM leaves undefined or discourages
/// (BSWAP r16, MOVSXD without REX.W) and the undocumented aliases
/// (TEST F6 /1, SAL /6).
pub fn codes(mnemonics: &[Mnemonic]) -> Vec<Code> {
    Code::values()
        .filter(|c| mnemonics.contains(&c.mnemonic()))
        .filter(|c| {
            let o = c.op_code();
            o.is_instruction()
                && o.mode64()
                && o.encoding() == EncodingKind::Legacy
                && o.op_kinds().iter().all(|&k| supported(k))
        })
        .filter(|c| {
            let name = format!("{c:?}");
            !matches!(
                c,
                Code::Bswap_r16 | Code::Movsxd_r16_rm16 | Code::Movsxd_r32_rm32
            ) && !name.ends_with("r1")
        })
        .collect()
}

/// Builds random instructions for one case.
pub struct Gen<'a> {
    pub rng: &'a mut Rng,
    steps: Vec<Step>,
}

fn with_ops(code: Code, ops: &[Operand]) -> Option<Instruction> {
    use Operand::*;
    let r = match ops {
        [] => Ok(Instruction::with(code)),
        [Reg(a)] => Instruction::with1(code, *a),
        [Mem(a, _)] => Instruction::with1(code, *a),
        [Reg(a), Reg(b)] => Instruction::with2(code, *a, *b),
        [Reg(a), Imm(b)] => Instruction::with2(code, *a, *b),
        [Reg(a), Mem(b, _)] => Instruction::with2(code, *a, *b),
        [Mem(a, _), Reg(b)] => Instruction::with2(code, *a, *b),
        [Mem(a, _), Imm(b)] => Instruction::with2(code, *a, *b as i32),
        [Reg(a), Reg(b), Reg(c)] => Instruction::with3(code, *a, *b, *c),
        [Reg(a), Reg(b), Imm(c)] => Instruction::with3(code, *a, *b, *c as i32),
        [Reg(a), Mem(b, _), Imm(c)] => Instruction::with3(code, *a, *b, *c as i32),
        [Mem(a, _), Reg(b), Reg(c)] => Instruction::with3(code, *a, *b, *c),
        [Mem(a, _), Reg(b), Imm(c)] => Instruction::with3(code, *a, *b, *c as i32),
        _ => return None,
    };
    r.ok()
}

/// `op0 OP= value` with the right-sized immediate form (AND, OR, XOR).
fn alu_imm(m: Mnemonic, dst: Operand, size: usize, value: i64) -> Option<Instruction> {
    use Code::*;
    let table = match m {
        Mnemonic::And => [And_rm8_imm8, And_rm16_imm16, And_rm32_imm32, And_rm64_imm32],
        Mnemonic::Or => [Or_rm8_imm8, Or_rm16_imm16, Or_rm32_imm32, Or_rm64_imm32],
        _ => [Xor_rm8_imm8, Xor_rm16_imm16, Xor_rm32_imm32, Xor_rm64_imm32],
    };
    let code = table[size.trailing_zeros() as usize];
    with_ops(code, &[dst, Operand::Imm(value)])
}

fn mov_imm64(r: Register, v: u64) -> Option<Instruction> {
    Instruction::with2(Code::Mov_r64_imm64, r, v).ok()
}

fn overlaps(a: Operand, full: Register) -> bool {
    matches!(a, Operand::Reg(r) if r.full_register() == full)
}

impl<'a> Gen<'a> {
    pub fn new(rng: &'a mut Rng) -> Gen<'a> {
        Gen {
            rng,
            steps: Vec::new(),
        }
    }

    /// Appends one instruction.
    pub fn op(&mut self, i: Instruction) {
        self.steps.push(Step::Op(i));
    }

    /// Appends a short branch over `body`.
    pub fn skip(&mut self, branch: Code, body: Vec<Instruction>) {
        self.steps.push(Step::Skip { branch, body });
    }

    pub fn reg(&mut self, size: usize) -> Register {
        self.rng.pick(registers(size))
    }

    /// `[R15 + disp]` inside the scratch page.
    pub fn mem(&mut self) -> MemoryOperand {
        let disp = match self.rng.below(3) {
            0 => self.rng.below(0x80),
            _ => self.rng.below(SCRATCH_SIZE as u64 - MEM_MARGIN),
        };
        MemoryOperand::with_base_displ(Register::R15, disp as i64)
    }

    /// Any address expression, for LEA (which touches no memory).
    fn address(&mut self) -> MemoryOperand {
        use Register as R;
        let wide = !self.rng.one_in(4);
        let pool: &[Register] = if wide {
            &[
                R::RAX,
                R::RCX,
                R::RDX,
                R::RBX,
                R::RBP,
                R::RSI,
                R::RDI,
                R::R8,
                R::R9,
                R::R10,
                R::R11,
                R::R12,
                R::R13,
                R::R14,
                R::R15,
            ]
        } else {
            &[
                R::EAX,
                R::ECX,
                R::EDX,
                R::EBX,
                R::EBP,
                R::ESI,
                R::EDI,
                R::R8D,
                R::R9D,
                R::R10D,
                R::R11D,
                R::R12D,
                R::R13D,
                R::R14D,
                R::R15D,
            ]
        };
        let base = if self.rng.one_in(5) {
            R::None
        } else {
            self.rng.pick(pool)
        };
        let index = if self.rng.one_in(3) {
            R::None
        } else {
            self.rng.pick(pool)
        };
        let scale = self.rng.pick(&[1, 2, 4, 8]);
        let disp = self.rng.interesting() as i32 as i64;
        let displ_size = if self.rng.one_in(2) { 1 } else { 4 };
        MemoryOperand::new(base, index, scale, disp, displ_size, false, R::None)
    }

    fn immediate(&mut self, k: OpCodeOperandKind) -> i64 {
        use OpCodeOperandKind as K;
        let v = self.rng.interesting();
        match k {
            K::imm8_const_1 => 1,
            K::imm8 => v as u8 as i64,
            K::imm8sex16 | K::imm8sex32 | K::imm8sex64 => v as i8 as i64,
            K::imm16 => v as u16 as i64,
            K::imm32 => v as u32 as i64,
            K::imm32sex64 => v as i32 as i64,
            _ => v as i64,
        }
    }

    /// A random instruction of `code` (with any set-up instructions it
    /// needs first); `false` if the operands drawn do not fit the code.
    pub fn random(&mut self, code: Code) -> bool {
        use OpCodeOperandKind as K;
        let kinds = code.op_code().op_kinds();
        let mut ops = Vec::with_capacity(kinds.len());
        for &k in kinds {
            let op = match k {
                K::al => Operand::Reg(Register::AL),
                K::ax => Operand::Reg(Register::AX),
                K::eax => Operand::Reg(Register::EAX),
                K::rax => Operand::Reg(Register::RAX),
                K::cl => Operand::Reg(Register::CL),
                K::mem => {
                    let a = self.address();
                    Operand::Mem(a, 0)
                }
                K::r8_or_mem | K::r16_or_mem | K::r32_or_mem | K::r64_or_mem
                    if self.rng.one_in(3) =>
                {
                    let m = self.mem();
                    Operand::Mem(m, rm_size(k).unwrap_or(0))
                }
                _ => match rm_size(k) {
                    Some(n) => Operand::Reg(self.reg(n)),
                    None => Operand::Imm(self.immediate(k)),
                },
            };
            ops.push(op);
        }
        let size = kinds.first().and_then(|&k| rm_size(k)).unwrap_or(8);
        let mut prep = Vec::new();
        let m = code.mnemonic();
        if is_shift(m) {
            let bits = size as u64 * 8;
            let limit = match m {
                // CF is undefined once SHL/SHR shift out the whole operand,
                // and SAR is kept to the same counts.
                Mnemonic::Shl | Mnemonic::Shr | Mnemonic::Sar if bits < 32 => bits,
                Mnemonic::Shld | Mnemonic::Shrd if bits == 16 => 16,
                _ if bits == 64 => 64,
                _ => 32,
            };
            let count = self.rng.below(limit) as i64;
            match ops.last_mut() {
                Some(Operand::Imm(c)) if *kinds.last().unwrap() != K::imm8_const_1 => *c = count,
                Some(Operand::Reg(Register::CL)) => {
                    let Ok(i) = Instruction::with2(Code::Mov_r8_imm8, Register::CL, count as i32)
                    else {
                        return false;
                    };
                    prep.push(i);
                }
                _ => {}
            }
        }
        if matches!(m, Mnemonic::Div | Mnemonic::Idiv) {
            match self.divide_setup(m, ops[0], size) {
                Some(p) => prep.extend(p),
                None => return false,
            }
        }
        if matches!(m, Mnemonic::Bsf | Mnemonic::Bsr) {
            // A zero source leaves the destination undefined.
            let bit = 1i64 << self.rng.below(size.min(4) as u64 * 8 - 1);
            match alu_imm(Mnemonic::Or, ops[1], size, bit) {
                Some(i) => prep.push(i),
                None => return false,
            }
        }
        if matches!(
            m,
            Mnemonic::Bt | Mnemonic::Bts | Mnemonic::Btr | Mnemonic::Btc
        ) && matches!((ops[0], ops[1]), (Operand::Mem(..), Operand::Reg(_)))
        {
            // A register bit offset reaches memory beyond the operand:
            // keep it within the page's margin.
            match alu_imm(Mnemonic::And, ops[1], size, 0x7F) {
                Some(i) => prep.push(i),
                None => return false,
            }
        }
        let Some(i) = with_ops(code, &ops) else {
            return false;
        };
        if encode(&i).is_none() || prep.iter().any(|p| encode(p).is_none()) {
            return false;
        }
        prep.into_iter().for_each(|p| self.op(p));
        self.op(i);
        true
    }

    /// Instructions that make `DIV/IDIV divisor` unable to overflow or
    /// divide by zero (SDM Vol. 2, DIV and IDIV: #DE).
    fn divide_setup(
        &mut self,
        m: Mnemonic,
        divisor: Operand,
        size: usize,
    ) -> Option<Vec<Instruction>> {
        use Register::{AX, DX, EAX, EDX, RAX, RDX};
        let bits = size * 8;
        let (lo, hi) = match size {
            1 => (AX, AX),
            2 => (AX, DX),
            4 => (EAX, EDX),
            _ => (RAX, RDX),
        };
        if overlaps(divisor, RAX) || (size > 1 && overlaps(divisor, RDX)) {
            return None;
        }
        let tmp = loop {
            let r = self.reg(8);
            if r != RAX && r != RDX && !overlaps(divisor, r) {
                break r;
            }
        };
        let mut p = Vec::new();
        let op = |r: Register| Operand::Reg(r);
        if m == Mnemonic::Div {
            // High half < 2^(bits-1) <= divisor.
            if size == 1 {
                p.push(alu_imm(Mnemonic::And, op(EAX), 4, 0xFFFF_7FFF)?);
                p.push(alu_imm(Mnemonic::Or, divisor, 1, 0x80)?);
            } else if size < 8 {
                p.push(alu_imm(
                    Mnemonic::And,
                    op(hi),
                    size,
                    (1i64 << (bits - 1)) - 1,
                )?);
                p.push(alu_imm(Mnemonic::Or, divisor, size, 1i64 << (bits - 1))?);
            } else {
                p.push(mov_imm64(tmp, i64::MAX as u64)?);
                p.push(Instruction::with2(Code::And_rm64_r64, RDX, tmp).ok()?);
                p.push(mov_imm64(tmp, 1 << 63)?);
                p.push(with_ops(Code::Or_rm64_r64, &[divisor, op(tmp)])?);
            }
        } else {
            // |dividend| <= 2^(bits-2), divisor != 0: the quotient fits.
            let negative = self.rng.one_in(2);
            let small = (1u64 << (bits - 2)) - 1;
            match (size, negative) {
                (1, false) => p.push(alu_imm(Mnemonic::And, op(AX), 2, small as i64)?),
                (1, true) => p.push(alu_imm(Mnemonic::Or, op(AX), 2, 0xFFC0)?),
                (8, false) => {
                    p.push(mov_imm64(tmp, small)?);
                    p.push(Instruction::with2(Code::And_rm64_r64, RAX, tmp).ok()?);
                    p.push(alu_imm(Mnemonic::And, op(EDX), 4, 0)?);
                }
                (8, true) => {
                    p.push(mov_imm64(tmp, !small)?);
                    p.push(Instruction::with2(Code::Or_rm64_r64, RAX, tmp).ok()?);
                    p.push(alu_imm(Mnemonic::Or, op(RDX), 8, -1)?);
                }
                (_, false) => {
                    p.push(alu_imm(Mnemonic::And, op(lo), size, small as i64)?);
                    p.push(alu_imm(Mnemonic::And, op(hi), size, 0)?);
                }
                (_, true) => {
                    p.push(alu_imm(
                        Mnemonic::Or,
                        op(lo),
                        size,
                        (!small as i64) & ((1i64 << bits) - 1),
                    )?);
                    p.push(alu_imm(Mnemonic::Or, op(hi), size, (1i64 << bits) - 1)?);
                }
            }
            p.push(alu_imm(Mnemonic::Or, divisor, size, 1)?);
        }
        Some(p)
    }

    fn finish(self) -> Vec<Step> {
        self.steps
    }

    /// How many steps have been generated.
    pub fn step_count(&self) -> usize {
        self.steps.len()
    }

    /// The plain instructions generated so far (for a branch body).
    pub fn instructions(self) -> Vec<Instruction> {
        self.steps
            .into_iter()
            .filter_map(|s| match s {
                Step::Op(i) => Some(i),
                Step::Skip { .. } => None,
            })
            .collect()
    }
}

/// The emulator side: one CPU reused for every case.
pub struct EmuRunner {
    pub cpu: Cpu,
}

impl Default for EmuRunner {
    fn default() -> Self {
        Self::new()
    }
}

impl EmuRunner {
    pub fn new() -> EmuRunner {
        let mem = PhysMemory::new(16 << 20).expect("RAM");
        EmuRunner {
            cpu: Cpu::new(mem, Box::new(NullBus)),
        }
    }

    /// Runs `code` then HLT in 64-bit mode from `state` with `scratch` at
    /// `scratch_addr`; returns the final state and scratch bytes, or why
    /// the code did not reach its end.
    pub fn run(
        &mut self,
        code: &[u8],
        state: &State,
        scratch_addr: u64,
        scratch: &[u8],
    ) -> Result<(State, Vec<u8>), String> {
        let cpu = &mut self.cpu;
        bare::setup(cpu, BareMode::Long64, CODE_BASE, STACK_TOP);
        trap::install(cpu, BareMode::Long64);
        let mut program = code.to_vec();
        program.push(0xF4); // HLT
        cpu.write_phys(CODE_BASE, &program);
        cpu.gpr = state.gpr;
        cpu.gpr[RSP] = STACK_TOP;
        cpu.flags.set((state.rflags & LOADABLE_FLAGS) | BASE_FLAGS);
        let at = scratch_addr as usize;
        cpu.mem.ram_mut()[at..at + SCRATCH_SIZE].copy_from_slice(scratch);
        let stop = cpu.run(BUDGET);
        let end = CODE_BASE + program.len() as u64;
        if stop != Stop::Halted || cpu.rip != end {
            return Err(self.describe_stop(stop));
        }
        let mut out = State {
            gpr: self.cpu.gpr,
            rflags: self.cpu.flags.get(),
        };
        out.gpr[RSP] = state.gpr[RSP];
        Ok((out, self.cpu.mem.ram()[at..at + SCRATCH_SIZE].to_vec()))
    }

    fn describe_stop(&self, stop: Stop) -> String {
        let cpu = &self.cpu;
        let Some(v) = trap::halted_vector(cpu) else {
            return format!("emulator stopped ({stop:?}) at rip {:#x}", cpu.rip);
        };
        let rsp = cpu.gpr[RSP] as usize;
        let frame = if trap::has_error_code(v) {
            rsp + 8
        } else {
            rsp
        };
        match cpu.mem.ram().get(frame..frame + 8) {
            Some(b) => format!(
                "emulator raised vector {v} at code offset {:#x}",
                u64::from_le_bytes(b.try_into().expect("8 bytes")).wrapping_sub(CODE_BASE)
            ),
            None => format!("emulator raised vector {v} (stack {rsp:#x} outside RAM)"),
        }
    }
}

/// How one case's outcomes differ.
fn differences(
    case: &Case,
    mask: u64,
    host: &State,
    host_mem: &[u8],
    emu: &State,
    emu_mem: &[u8],
) -> Vec<String> {
    let mut out = Vec::new();
    for r in (0..16).filter(|&r| r != RSP) {
        if host.gpr[r] != emu.gpr[r] {
            out.push(format!(
                "{}: host {:#018x} emulator {:#018x}",
                NAMES[r], host.gpr[r], emu.gpr[r]
            ));
        }
    }
    let flags = [
        ("CF", rflags::CF),
        ("PF", rflags::PF),
        ("AF", rflags::AF),
        ("ZF", rflags::ZF),
        ("SF", rflags::SF),
        ("OF", rflags::OF),
        ("DF", rflags::DF),
    ];
    for (name, bit) in flags {
        if (mask | rflags::DF) & bit != 0 && (host.rflags ^ emu.rflags) & bit != 0 {
            out.push(format!(
                "{name}: host {} emulator {}",
                (host.rflags & bit != 0) as u8,
                (emu.rflags & bit != 0) as u8
            ));
        }
    }
    for (k, (h, e)) in host_mem.iter().zip(emu_mem).enumerate() {
        if h != e {
            out.push(format!(
                "scratch[{k:#x}]: host {h:#04x} emulator {e:#04x} (was {:#04x})",
                case.scratch[k]
            ));
        }
    }
    out
}

fn report(family: &str, index: usize, case: &Case, scratch_addr: u64, what: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "family {family}, case {index}:");
    s.push_str(&case.disassembly());
    let _ = writeln!(s, "initial state (r15 = scratch page {scratch_addr:#x}):");
    for r in (0..16).filter(|&r| r != RSP) {
        let _ = write!(s, "  {}={:#018x}", NAMES[r], case.init.gpr[r]);
        if r % 4 == 3 {
            s.push('\n');
        }
    }
    let _ = writeln!(s, "\n  rflags={:#x}", case.init.rflags);
    for (off, len) in case.touched(scratch_addr) {
        let end = (off as usize + len).min(SCRATCH_SIZE);
        let bytes: Vec<String> = case.scratch[off as usize..end]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let _ = writeln!(s, "  scratch[{off:#x}..]: {}", bytes.join(" "));
    }
    let _ = writeln!(s, "differences:");
    for w in what.iter().take(12) {
        let _ = writeln!(s, "  {w}");
    }
    s
}

/// Settings for one family's run.
pub struct Family<'a> {
    pub name: &'static str,
    pub seed: u64,
    pub cases: usize,
    /// Adjusts the random initial state (e.g. string pointers); gets the
    /// scratch page's address.
    pub init: fn(&mut Rng, &mut State, u64),
    /// Appends one generated instruction (or step) to a case.
    pub emit: &'a dyn Fn(&mut Gen),
}

/// No adjustment of the initial state.
pub fn no_init(_: &mut Rng, _: &mut State, _: u64) {}

fn random_state(rng: &mut Rng, scratch_addr: u64) -> State {
    let mut s = State::default();
    for g in s.gpr.iter_mut() {
        *g = rng.interesting();
    }
    s.gpr[RSP] = 0;
    s.gpr[R15] = scratch_addr;
    s.rflags = rng.next_u64() & (rflags::ARITH | rflags::DF);
    s
}

fn random_scratch(rng: &mut Rng) -> Vec<u8> {
    (0..SCRATCH_SIZE)
        .map(|_| match rng.below(4) {
            0 => 0,
            1 => 0xFF,
            _ => rng.next_u64() as u8,
        })
        .collect()
}

/// Runs `family.cases` generated cases on the host and in the emulator;
/// panics with reproducers of the first mismatches.
pub fn run_family(family: &Family<'_>) {
    let mut native = NativeRunner::new().expect("native runner");
    let mut emu = EmuRunner::new();
    let addr = native.scratch_addr();
    let mut failures = Vec::new();
    let mut failed = 0;
    for index in 0..family.cases {
        let mut rng = Rng::new(family.seed ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let (case, what) = loop {
            let init = {
                let mut s = random_state(&mut rng, addr);
                (family.init)(&mut rng, &mut s, addr);
                s
            };
            let scratch = random_scratch(&mut rng);
            let n = 1 + rng.below(MAX_STEPS as u64) as usize;
            let mut g = Gen::new(&mut rng);
            let mut units = Vec::with_capacity(n);
            for _ in 0..n {
                (family.emit)(&mut g);
                units.push(g.step_count());
            }
            let case = Case {
                init,
                scratch,
                steps: g.finish(),
                units,
            };
            if let Some(what) = check(&mut native, &mut emu, &case) {
                break (case, what);
            }
        };
        if !what.is_empty() {
            failed += 1;
            if failures.len() < 3 {
                let (small, what) = shrink(&mut native, &mut emu, case, what);
                failures.push(report(family.name, index, &small, addr, &what));
            }
        }
    }
    assert!(
        failed == 0,
        "{failed} of {} cases differ from the host CPU; first ones (shrunk):\n{}",
        family.cases,
        failures.join("\n")
    );
}

/// Runs `case` on both sides: `None` if it cannot be used (does not encode,
/// or branches on an undefined flag), else the differences found.
fn check(native: &mut NativeRunner, emu: &mut EmuRunner, case: &Case) -> Option<Vec<String>> {
    let code = case.encode()?;
    let mask = case.flag_mask()?;
    let addr = native.scratch_addr();
    let mut host = case.init;
    native.scratch_mut().copy_from_slice(&case.scratch);
    // SAFETY: `Gen` only builds instructions that name no RSP, address
    // memory only at R15 (the scratch page) plus an in-page displacement
    // or through string registers a family's `init` points into the page,
    // cannot raise #DE (each unit carries its own set-up), and branch only
    // forward within the case; so the snippet falls through its end.
    unsafe { native.run(&code, &mut host) };
    Some(match emu.run(&code, &case.init, addr, &case.scratch) {
        Ok((state, mem)) => differences(case, mask, &host, native.scratch(), &state, &mem),
        Err(why) => vec![why],
    })
}

/// Drops generated units from a failing case while it still fails.
fn shrink(
    native: &mut NativeRunner,
    emu: &mut EmuRunner,
    mut case: Case,
    mut what: Vec<String>,
) -> (Case, Vec<String>) {
    let mut k = 0;
    while k < case.units.len() && case.units.len() > 1 {
        let smaller = case.without_unit(k);
        match check(native, emu, &smaller) {
            Some(w) if !w.is_empty() => (case, what) = (smaller, w),
            _ => k += 1,
        }
    }
    (case, what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::Register::{CL, EAX, EBX, RCX};

    fn case(steps: Vec<Step>) -> Case {
        Case::new(State::default(), vec![0; SCRATCH_SIZE], steps)
    }

    fn op(code: Code, a: Register, b: Register) -> Step {
        Step::Op(Instruction::with2(code, a, b).unwrap())
    }

    const ALL: u64 = rflags::ARITH;

    #[test]
    fn mul_leaves_sf_zf_af_pf_out_of_the_comparison() {
        let c = case(vec![Step::Op(
            Instruction::with1(Code::Mul_rm64, RCX).unwrap(),
        )]);
        assert_eq!(c.flag_mask(), Some(rflags::CF | rflags::OF));
    }

    #[test]
    fn a_later_add_defines_what_a_logic_op_left_undefined() {
        let and = op(Code::And_rm32_r32, EAX, EBX);
        assert_eq!(case(vec![and.clone()]).flag_mask(), Some(ALL & !rflags::AF));
        let add = op(Code::Add_rm32_r32, EAX, EBX);
        assert_eq!(case(vec![and, add]).flag_mask(), Some(ALL));
    }

    #[test]
    fn shift_by_zero_in_cl_keeps_flags_and_by_three_undefines_of_and_af() {
        let mov_cl = |n| Step::Op(Instruction::with2(Code::Mov_r8_imm8, CL, n).unwrap());
        let shl = op(Code::Shl_rm32_CL, EAX, CL);
        let mul = Step::Op(Instruction::with1(Code::Mul_rm64, RCX).unwrap());
        let by_zero = case(vec![mul.clone(), mov_cl(0), shl.clone()]);
        assert_eq!(by_zero.flag_mask(), Some(rflags::CF | rflags::OF));
        let by_three = case(vec![mul, mov_cl(3), shl]);
        assert_eq!(by_three.flag_mask(), Some(ALL & !rflags::OF & !rflags::AF));
    }

    #[test]
    fn branch_on_an_undefined_flag_makes_the_case_unusable() {
        let mul = Step::Op(Instruction::with1(Code::Mul_rm64, RCX).unwrap());
        let skip = Step::Skip {
            branch: Code::Je_rel8_64, // ZF is undefined after MUL
            body: vec![Instruction::with2(Code::Add_rm32_r32, EAX, EBX).unwrap()],
        };
        assert_eq!(case(vec![mul, skip]).flag_mask(), None);
    }

    #[test]
    fn flags_undefined_on_either_path_of_a_skip_are_not_compared() {
        let add = op(Code::Add_rm32_r32, EAX, EBX);
        let skip = Step::Skip {
            branch: Code::Jb_rel8_64,
            body: vec![Instruction::with1(Code::Mul_rm64, RCX).unwrap()],
        };
        assert_eq!(
            case(vec![add, skip]).flag_mask(),
            Some(rflags::CF | rflags::OF)
        );
    }

    #[test]
    fn differences_name_registers_and_defined_flags_only() {
        let c = case(vec![]);
        let host = State {
            gpr: [0; 16],
            rflags: rflags::CF | rflags::AF,
        };
        let mut emu = host;
        emu.gpr[3] = 5;
        emu.rflags = 0;
        let d = differences(&c, ALL & !rflags::AF, &host, &c.scratch, &emu, &c.scratch);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("rbx"));
        assert!(d[1].starts_with("CF"));
    }

    #[test]
    fn generated_divisions_never_fault_on_the_host() {
        let mut native = NativeRunner::new().unwrap();
        let addr = native.scratch_addr();
        let list = codes(&[Mnemonic::Div, Mnemonic::Idiv]);
        let mut rng = Rng::new(7);
        for _ in 0..2000 {
            let mut g = Gen::new(&mut rng);
            loop {
                let code = g.rng.pick(&list);
                if g.random(code) {
                    break;
                }
            }
            let steps = g.finish();
            let c = Case::new(
                random_state(&mut rng, addr),
                random_scratch(&mut rng),
                steps,
            );
            let mut s = c.init;
            native.scratch_mut().copy_from_slice(&c.scratch);
            // SAFETY: as in `run_family`; a #DE here would kill the test
            // process, which is the failure this test looks for.
            unsafe { native.run(&c.encode().unwrap(), &mut s) };
        }
    }
}
