//! Differential testing of SSE instructions against the host CPU.
//!
//! One test program, assembled once with iced-x86, runs both natively (as
//! a function in an executable mapping) and in the emulator (long mode, to
//! `hlt`). It loops over a table of input records: each sets MXCSR, XMM0
//! (the destination), XMM1 (the source, also at `[r8+16]` for memory
//! forms) and RAX, runs the instruction under test, then records XMM0,
//! MXCSR, ZF/PF/CF/OF/SF and RAX. The two output tables must agree bit for
//! bit; a mismatch is reported with the instruction, inputs, expected and
//! actual outcome.
//!
//! Registers: r8 walks the inputs, r9 the outputs, rcx counts; r10, r11,
//! rdx, rsi, rdi catch the flags. Instructions under test may use rax,
//! xmm0-xmm2 and `[r8+16]`.

use crate::{assemble, Vm};
use emulator::bare::BareMode;
use iced_x86::code_asm::*;
use iced_x86::IcedError;
use memmap2::MmapMut;

/// Bytes per input record: dst, src, mxcsr, pad, rax.
pub const IN_SIZE: usize = 48;
/// Bytes per output record: xmm0, mxcsr, 5 flag bytes, pad, rax at 32.
pub const OUT_SIZE: usize = 48;
/// Guest addresses of the two tables.
const GUEST_IN: u64 = 0x20_0000;
const GUEST_OUT: u64 = 0x80_0000;

/// MXCSR with every exception masked and round to nearest.
pub const MXCSR_MASKED: u32 = 0x1F80;

/// The instruction under test, emitted into the loop body.
pub type Body<'a> = &'a dyn Fn(&mut CodeAssembler) -> Result<(), IcedError>;

/// One set of inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub dst: u128,
    pub src: u128,
    pub mxcsr: u32,
    pub rax: u64,
}

/// What one case left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub xmm0: u128,
    pub mxcsr: u32,
    /// ZF, PF, CF, OF, SF (1 = set); only meaningful when the instruction
    /// under test writes them.
    pub flags: [u8; 5],
    pub rax: u64,
}

fn program(a: &mut CodeAssembler, host: bool, count: u64, body: Body) -> Result<(), IcedError> {
    if host {
        // sysv64: rdi = inputs, rsi = outputs, rdx = count.
        a.mov(r8, rdi)?;
        a.mov(r9, rsi)?;
        a.mov(rcx, rdx)?;
        a.sub(rsp, 8)?;
        a.stmxcsr(dword_ptr(rsp))?;
    } else {
        a.mov(r8, GUEST_IN)?;
        a.mov(r9, GUEST_OUT)?;
        a.mov(rcx, count)?;
    }
    let mut top = a.create_label();
    a.set_label(&mut top)?;
    a.ldmxcsr(dword_ptr(r8 + 32))?;
    a.movdqu(xmm0, xmmword_ptr(r8))?;
    a.movdqu(xmm1, xmmword_ptr(r8 + 16))?;
    a.mov(rax, qword_ptr(r8 + 40))?;
    for r in [r10d, r11d, edx, esi, edi] {
        a.mov(r, 0)?;
    }
    body(a)?;
    // Capture ZF, PF, CF, OF, SF without disturbing them on the way.
    let mut skips = [(); 5].map(|_| a.create_label());
    a.jne(skips[0])?;
    a.mov(r10d, 1)?;
    a.set_label(&mut skips[0])?;
    a.jnp(skips[1])?;
    a.mov(r11d, 1)?;
    a.set_label(&mut skips[1])?;
    a.jae(skips[2])?;
    a.mov(edx, 1)?;
    a.set_label(&mut skips[2])?;
    a.jno(skips[3])?;
    a.mov(esi, 1)?;
    a.set_label(&mut skips[3])?;
    a.jns(skips[4])?;
    a.mov(edi, 1)?;
    a.set_label(&mut skips[4])?;
    a.movdqu(xmmword_ptr(r9), xmm0)?;
    a.stmxcsr(dword_ptr(r9 + 16))?;
    a.mov(byte_ptr(r9 + 20), r10b)?;
    a.mov(byte_ptr(r9 + 21), r11b)?;
    a.mov(byte_ptr(r9 + 22), dl)?;
    a.mov(byte_ptr(r9 + 23), sil)?;
    a.mov(byte_ptr(r9 + 24), dil)?;
    a.mov(qword_ptr(r9 + 32), rax)?;
    a.add(r8, IN_SIZE as i32)?;
    a.add(r9, OUT_SIZE as i32)?;
    a.dec(rcx)?;
    a.jne(top)?;
    if host {
        a.ldmxcsr(dword_ptr(rsp))?;
        a.add(rsp, 8)?;
        a.ret()
    } else {
        a.hlt()
    }
}

fn encode(cases: &[Case]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(cases.len() * IN_SIZE);
    for c in cases {
        bytes.extend_from_slice(&c.dst.to_le_bytes());
        bytes.extend_from_slice(&c.src.to_le_bytes());
        bytes.extend_from_slice(&c.mxcsr.to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&c.rax.to_le_bytes());
    }
    bytes
}

fn decode(bytes: &[u8]) -> Vec<Outcome> {
    bytes
        .chunks(OUT_SIZE)
        .map(|r| Outcome {
            xmm0: u128::from_le_bytes(r[0..16].try_into().unwrap()),
            mxcsr: u32::from_le_bytes(r[16..20].try_into().unwrap()),
            flags: [r[20], r[21], r[22], r[23], r[24]],
            rax: u64::from_le_bytes(r[32..40].try_into().unwrap()),
        })
        .collect()
}

/// Runs the cases natively on the host CPU.
pub fn run_host(body: Body, cases: &[Case]) -> Vec<Outcome> {
    let mut map = MmapMut::map_anon(1 << 16).expect("anonymous mapping");
    let code = assemble(64, map.as_ptr() as u64, |a| program(a, true, 0, body));
    map[..code.len()].copy_from_slice(&code);
    let map = map.make_exec().expect("executable mapping");
    // Inputs in 16-byte-aligned storage so aligned memory forms work.
    let input = encode(cases);
    let mut inbuf = vec![0u128; input.len() / 16];
    let mut outbuf = vec![0u128; cases.len() * OUT_SIZE / 16];
    // SAFETY: `inbuf` is plain bytes of exactly `input.len()`.
    unsafe {
        std::ptr::copy_nonoverlapping(input.as_ptr(), inbuf.as_mut_ptr().cast(), input.len());
    }
    // SAFETY: the mapping holds the code `program` assembled for its own
    // address: a sysv64 function that reads `count` input records and
    // writes as many output records, touches only caller-saved registers,
    // restores MXCSR and RSP, and runs with every FP exception masked as
    // long as each case's MXCSR masks them.
    unsafe {
        let f: extern "sysv64" fn(*const u128, *mut u128, u64) = std::mem::transmute(map.as_ptr());
        f(inbuf.as_ptr(), outbuf.as_mut_ptr(), cases.len() as u64);
    }
    // SAFETY: `outbuf` is plain bytes.
    let bytes =
        unsafe { std::slice::from_raw_parts(outbuf.as_ptr().cast::<u8>(), outbuf.len() * 16) };
    decode(bytes)
}

/// Runs the cases in the emulator, in long mode.
pub fn run_guest(body: Body, cases: &[Case]) -> Vec<Outcome> {
    let count = cases.len() as u64;
    let mut vm = Vm::with_asm(BareMode::Long64, |a| program(a, false, count, body));
    vm.cpu.write_phys(GUEST_IN, &encode(cases));
    vm.run_to_hlt(count * 64 + 100);
    decode(vm.mem(GUEST_OUT, cases.len() * OUT_SIZE))
}

/// Which parts of the outcome an instruction defines.
#[derive(Debug, Clone, Copy)]
pub struct Compare {
    pub xmm0: bool,
    pub flags: bool,
    pub rax: bool,
}

/// XMM0 and MXCSR (the usual case).
pub const XMM: Compare = Compare {
    xmm0: true,
    flags: false,
    rax: false,
};

/// Runs `cases` on the host and in the emulator and panics, listing up to
/// ten mismatching cases, unless they agree.
pub fn check(name: &str, body: Body, cases: &[Case], what: Compare) {
    let want = run_host(body, cases);
    let got = run_guest(body, cases);
    check_outcomes(name, cases, &want, &got, what, |w, g| w == g);
}

/// Like `check` but XMM0 lanes of `f32` are compared with `close`.
pub fn check_outcomes(
    name: &str,
    cases: &[Case],
    want: &[Outcome],
    got: &[Outcome],
    what: Compare,
    xmm_eq: impl Fn(u128, u128) -> bool,
) {
    let mut report = String::new();
    let mut bad = 0;
    for ((c, w), g) in cases.iter().zip(want).zip(got) {
        let ok = w.mxcsr == g.mxcsr
            && (!what.xmm0 || xmm_eq(w.xmm0, g.xmm0))
            && (!what.flags || w.flags == g.flags)
            && (!what.rax || w.rax == g.rax);
        if !ok {
            bad += 1;
            if bad <= 10 {
                report += &format!(
                    "\n{name}: dst={:032x} src={:032x} mxcsr={:04x} rax={:016x}\n  \
                     expected xmm0={:032x} mxcsr={:04x} zpcos={:?} rax={:016x}\n  \
                     got      xmm0={:032x} mxcsr={:04x} zpcos={:?} rax={:016x}",
                    c.dst,
                    c.src,
                    c.mxcsr,
                    c.rax,
                    w.xmm0,
                    w.mxcsr,
                    w.flags,
                    w.rax,
                    g.xmm0,
                    g.mxcsr,
                    g.flags,
                    g.rax
                );
            }
        }
    }
    assert_eq!(bad, 0, "{bad} of {} cases differ:{report}", cases.len());
}

/// A fixed-seed xorshift64* generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn bits(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.bits() % n
    }

    pub fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }
}

/// f32 values that make floating-point code interesting.
pub const F32_SPECIAL: &[u32] = &[
    0x0000_0000,
    0x8000_0000,
    0x3F80_0000,
    0xBF80_0000,
    0x7F80_0000,
    0xFF80_0000,
    0x7FC0_0000,
    0xFFC0_0000,
    0x7F80_0001,
    0xFFA0_0000,
    0x7FC1_2345,
    0x0000_0001,
    0x8000_0001,
    0x007F_FFFF,
    0x0080_0000,
    0x8080_0000,
    0x7F7F_FFFF,
    0xFF7F_FFFF,
    0x3F00_0000,
    0x4020_0000,
    0xC060_0000,
    0x4F00_0000,
    0xCF00_0000,
    0x4EFF_FFFF,
    0x5F00_0000,
    0xDF00_0000,
    0x5EFF_FFFF,
    0x3FC0_0000,
    0x0040_0000,
    0x1E3C_E508,
];

/// f64 values that make floating-point code interesting.
pub const F64_SPECIAL: &[u64] = &[
    0,
    0x8000_0000_0000_0000,
    0x3FF0_0000_0000_0000,
    0xBFF0_0000_0000_0000,
    0x7FF0_0000_0000_0000,
    0xFFF0_0000_0000_0000,
    0x7FF8_0000_0000_0000,
    0xFFF8_0000_0000_0000,
    0x7FF0_0000_0000_0001,
    0xFFF4_0000_0000_0000,
    1,
    0x8000_0000_0000_0001,
    0x000F_FFFF_FFFF_FFFF,
    0x0010_0000_0000_0000,
    0x7FEF_FFFF_FFFF_FFFF,
    0xFFEF_FFFF_FFFF_FFFF,
    0x3FE0_0000_0000_0000,
    0x4004_0000_0000_0000,
    0xC00C_0000_0000_0000,
    0x41E0_0000_0000_0000,
    0xC1E0_0000_0000_0000,
    0x41DF_FFFF_FFC0_0000,
    0x41E0_0000_0010_0000,
    0x43E0_0000_0000_0000,
    0xC3E0_0000_0000_0000,
    0x43DF_FFFF_FFFF_FFFF,
    0x3810_0000_0000_0000,
    0x47EF_FFFF_E000_0000,
    0x36A0_0000_0000_0000,
    0x3FF8_0000_0000_0000,
];

/// Integers at the edges of 8-, 16-, 32- and 64-bit ranges.
pub const INT_SPECIAL: &[u64] = &[
    0,
    1,
    u64::MAX,
    0x7F,
    0x80,
    0xFF,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0x7FFF_FFFF_FFFF_FFFF,
    0x8000_0000_0000_0000,
    0xFFFF_FFFF_FFFF_FF80,
    0x0101_0101_0101_0101,
    0x8080_8080_8080_8080,
    0x7F7F_7F7F_7F7F_7F7F,
    0x8000_8000_8000_8000,
    0x7FFF_7FFF_7FFF_7FFF,
    0x4000_0000,
];

/// The kind of lanes a family works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lanes {
    F32,
    F64,
    Int,
}

impl Rng {
    /// A random MXCSR with every exception masked: random rounding, DAZ,
    /// FTZ and already-set flags.
    pub fn mxcsr(&mut self) -> u32 {
        let r = self.bits() as u32;
        let flags = if r & 0x300 == 0 { r & 0x3F } else { 0 };
        MXCSR_MASKED | flags | (r & 0x6000) | (r & 0x8040)
    }

    /// A lane of `kind`, from the special list half the time.
    fn lane(&mut self, kind: Lanes) -> u64 {
        let special = self.below(2) == 0;
        match kind {
            Lanes::F32 if special => self.pick(F32_SPECIAL) as u64,
            Lanes::F32 => self.float32(),
            Lanes::F64 if special => self.pick(F64_SPECIAL),
            Lanes::F64 => self.float64(),
            Lanes::Int if special => self.pick(INT_SPECIAL),
            Lanes::Int => self.bits(),
        }
    }

    /// Random bits, or a value with few fraction bits (rounding ties).
    fn float32(&mut self) -> u64 {
        match self.below(3) {
            0 => self.bits() & 0xFFFF_FFFF,
            1 => ((self.bits() as i32 >> self.below(31)) as f32).to_bits() as u64,
            _ => (((self.bits() as i16) as f32) / 4.0).to_bits() as u64,
        }
    }

    fn float64(&mut self) -> u64 {
        match self.below(3) {
            0 => self.bits(),
            1 => ((self.bits() as i64 >> self.below(63)) as f64).to_bits(),
            _ => ((((self.bits() as i32) >> 4) as f64) / 4.0).to_bits(),
        }
    }

    /// A 128-bit value of `kind` lanes.
    pub fn vector(&mut self, kind: Lanes) -> u128 {
        match kind {
            Lanes::F32 => (0..4).fold(0, |v, i| {
                v | ((self.lane(kind) & 0xFFFF_FFFF) as u128) << (32 * i)
            }),
            Lanes::F64 | Lanes::Int => self.lane(kind) as u128 | (self.lane(kind) as u128) << 64,
        }
    }

    /// `n` cases of `kind` lanes with random MXCSR; sometimes the source
    /// repeats the destination so equal operands are covered.
    pub fn cases(&mut self, n: usize, kind: Lanes) -> Vec<Case> {
        (0..n)
            .map(|_| {
                let dst = self.vector(kind);
                let src = if self.below(8) == 0 {
                    dst
                } else {
                    self.vector(kind)
                };
                let gpr = self.lane(Lanes::Int);
                Case {
                    dst,
                    src,
                    mxcsr: self.mxcsr(),
                    rax: gpr,
                }
            })
            .collect()
    }
}

/// Where `run_both` puts its scratch buffer in the guest.
const GUEST_BUF: u64 = 0x30_0000;

/// Runs `body` once natively and once in the emulator with RDI pointing
/// at a zeroed, 16-byte-aligned buffer of `len` bytes; returns the host's
/// buffer and the guest's. On the host, MXCSR and the x87 control word
/// are saved and restored around the body and pending x87 flags cleared.
/// The body may use rax, rcx, rdx, rsi, r8-r11 and xmm0-xmm15.
pub fn run_both(body: Body, len: usize) -> (Vec<u8>, Vec<u8>) {
    let mut map = MmapMut::map_anon(1 << 16).expect("anonymous mapping");
    let code = assemble(64, map.as_ptr() as u64, |a| {
        a.sub(rsp, 8)?;
        a.stmxcsr(dword_ptr(rsp))?;
        a.fnstcw(word_ptr(rsp + 4))?;
        body(a)?;
        a.fnclex()?;
        a.fldcw(word_ptr(rsp + 4))?;
        a.ldmxcsr(dword_ptr(rsp))?;
        a.add(rsp, 8)?;
        a.ret()
    });
    map[..code.len()].copy_from_slice(&code);
    let map = map.make_exec().expect("executable mapping");
    let mut host = vec![0u128; len.div_ceil(16)];
    // SAFETY: the mapping holds a sysv64 function assembled for its own
    // address that writes only below RDI + len (the body's contract),
    // restores RSP, MXCSR and the x87 control word, and touches only
    // caller-saved registers.
    unsafe {
        let f: extern "sysv64" fn(*mut u128) = std::mem::transmute(map.as_ptr());
        f(host.as_mut_ptr());
    }
    // SAFETY: `host` is plain bytes, at least `len` of them.
    let host = unsafe { std::slice::from_raw_parts(host.as_ptr().cast::<u8>(), len) }.to_vec();
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.mov(rdi, GUEST_BUF)?;
        body(a)?;
        a.hlt()
    });
    vm.run_to_hlt(10_000);
    let guest = vm.mem(GUEST_BUF, len).to_vec();
    (host, guest)
}

/// Where `catch_faults` puts its IDT and handlers.
const IDT_BASE: u64 = 0x4000;
const HANDLERS: u64 = 0x6000;
/// R15 holds this until a fault handler replaces it with its vector.
pub const NO_FAULT: u64 = 0xFF;

/// Installs an IDT whose handler for every vector 0-31 loads the vector
/// into R15 and halts, so a test can see which fault an instruction took.
pub fn catch_faults(vm: &mut Vm) {
    for v in 0..32u64 {
        let handler = HANDLERS + 16 * v;
        // mov r15d, v; hlt
        let stub = [0x41, 0xBF, v as u8, 0, 0, 0, 0xF4];
        vm.cpu.write_phys(handler, &stub);
        let lo = (handler & 0xFFFF)
            | (emulator::bare::sel::CODE64 as u64) << 16
            | 0x8E << 40
            | ((handler >> 16) & 0xFFFF) << 48;
        let hi = handler >> 32;
        let mut gate = [0u8; 16];
        gate[..8].copy_from_slice(&lo.to_le_bytes());
        gate[8..].copy_from_slice(&hi.to_le_bytes());
        vm.cpu.write_phys(IDT_BASE + 16 * v, &gate);
    }
    vm.cpu.idtr = emulator::cpu::state::TableRegister {
        base: IDT_BASE,
        limit: 32 * 16 - 1,
    };
    vm.cpu.gpr[15] = NO_FAULT;
}

/// What a fault left: its vector, and the RIP pushed for it (the faulting
/// instruction for a fault). `None` if the program halted without one.
pub fn fault(vm: &Vm, has_error_code: bool) -> Option<(u8, u64)> {
    if vm.cpu.gpr[15] == NO_FAULT {
        return None;
    }
    let top = vm.cpu.gpr[4] + if has_error_code { 8 } else { 0 };
    let rip = u64::from_le_bytes(vm.mem(top, 8).try_into().unwrap());
    Some((vm.cpu.gpr[15] as u8, rip))
}
