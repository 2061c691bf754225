//! CPU throughput benchmark (`cargo bench -p emulator --bench cpu`): an
//! integer workload — ALU work, data-dependent branches, calls and returns,
//! loads and stores over a 4 KiB array, and `rep movsb` / `rep movsq`
//! copies of 4 KiB — assembled with iced-x86 and run on a bare CPU.
//!
//! It runs three times: as 64-bit code in long mode, and as 32-bit code in
//! protected mode with paging off and in compatibility mode under 4-level
//! paging; the last two show what address translation costs. Each run
//! prints instructions retired, seconds and millions of instructions per
//! second (MIPS); a run stops early after `TIME_LIMIT`.
//!
//! `cargo bench -p emulator --bench cpu -- --no-string` leaves out the
//! string copies.

use emulator::bare::{self, BareMode};
use emulator::bus::NullBus;
use emulator::cpu::{Cpu, Stop};
use emulator::memory::PhysMemory;
use iced_x86::code_asm::*;
use std::time::{Duration, Instant};

const CODE: u64 = 0x10_0000;
const STACK: u64 = 0x8_0000;
/// The 4 KiB work array and the copy target.
const ARRAY: u64 = 0x20_0000;
const COPY: u64 = 0x20_2000;
/// Outer-loop counter (32-bit workload: no spare register).
const COUNTER: u64 = 0x20_4000;
const ELEMENTS64: u32 = 512;
const ELEMENTS32: u32 = 1024;
/// Outer iterations of the 64-bit workload: about 6,400 instructions each
/// (12.5 per element), ~260 million in all. The 32-bit workload walks
/// twice the elements over the same 4 KiB, so it runs half as many.
const OUTER: u32 = 40_000;
const CHUNK: u64 = 10_000_000;
const TIME_LIMIT: Duration = Duration::from_secs(10);

/// The 64-bit workload.
fn workload64(a: &mut CodeAssembler, strings: bool) -> Result<(), IcedError> {
    let (mut outer, mut inner, mut even, mut next, mut odd) = (
        a.create_label(),
        a.create_label(),
        a.create_label(),
        a.create_label(),
        a.create_label(),
    );
    a.mov(r8, ARRAY)?;
    a.mov(r9d, OUTER)?;
    a.xor(ebx, ebx)?;
    a.mov(edx, 0x1234_5678u32)?;
    a.set_label(&mut outer)?;
    a.xor(ecx, ecx)?;
    a.set_label(&mut inner)?;
    a.mov(rax, qword_ptr(r8 + rcx * 8))?;
    a.add(rax, rcx)?;
    a.xor(rax, rdx)?;
    a.lea(rdx, qword_ptr(rax + rax * 2 + 7))?;
    a.test(al, 1)?;
    a.jz(even)?;
    a.call(odd)?;
    a.jmp(next)?;
    a.set_label(&mut even)?;
    a.sub(rdx, rcx)?;
    a.mov(qword_ptr(r8 + rcx * 8), rdx)?;
    a.set_label(&mut next)?;
    a.inc(ecx)?;
    a.cmp(ecx, ELEMENTS64)?;
    a.jb(inner)?;
    if strings {
        a.mov(rsi, ARRAY)?;
        a.mov(rdi, COPY)?;
        a.mov(ecx, ELEMENTS64 * 8)?;
        a.rep().movsb()?;
        a.mov(rsi, COPY)?;
        a.mov(rdi, ARRAY)?;
        a.mov(ecx, ELEMENTS64)?;
        a.rep().movsq()?;
    }
    a.dec(r9d)?;
    a.jnz(outer)?;
    a.hlt()?;
    a.set_label(&mut odd)?;
    a.add(rbx, rax)?;
    a.xor(rdx, rbx)?;
    a.ret()
}

/// The same workload as 32-bit code.
fn workload32(a: &mut CodeAssembler, strings: bool) -> Result<(), IcedError> {
    let (mut outer, mut inner, mut even, mut next, mut odd) = (
        a.create_label(),
        a.create_label(),
        a.create_label(),
        a.create_label(),
        a.create_label(),
    );
    a.mov(ebp, ARRAY as u32)?;
    a.mov(dword_ptr(COUNTER), OUTER / 2)?;
    a.xor(ebx, ebx)?;
    a.mov(edx, 0x1234_5678u32)?;
    a.set_label(&mut outer)?;
    a.xor(ecx, ecx)?;
    a.set_label(&mut inner)?;
    a.mov(eax, dword_ptr(ebp + ecx * 4))?;
    a.add(eax, ecx)?;
    a.xor(eax, edx)?;
    a.lea(edx, dword_ptr(eax + eax * 2 + 7))?;
    a.test(al, 1)?;
    a.jz(even)?;
    a.call(odd)?;
    a.jmp(next)?;
    a.set_label(&mut even)?;
    a.sub(edx, ecx)?;
    a.mov(dword_ptr(ebp + ecx * 4), edx)?;
    a.set_label(&mut next)?;
    a.inc(ecx)?;
    a.cmp(ecx, ELEMENTS32)?;
    a.jb(inner)?;
    if strings {
        a.mov(esi, ARRAY as u32)?;
        a.mov(edi, COPY as u32)?;
        a.mov(ecx, ELEMENTS32 * 4)?;
        a.rep().movsb()?;
        a.mov(esi, COPY as u32)?;
        a.mov(edi, ARRAY as u32)?;
        a.mov(ecx, ELEMENTS32)?;
        a.rep().movsd()?;
    }
    a.dec(dword_ptr(COUNTER))?;
    a.jnz(outer)?;
    a.hlt()?;
    a.set_label(&mut odd)?;
    a.add(ebx, eax)?;
    a.xor(edx, ebx)?;
    a.ret()
}

struct Figures {
    instructions: u64,
    seconds: f64,
    finished: bool,
}

impl Figures {
    fn mips(&self) -> f64 {
        self.instructions as f64 / self.seconds / 1e6
    }
}

fn run(name: &str, mode: BareMode, strings: bool) -> Option<Figures> {
    let bitness = if mode == BareMode::Long64 { 64 } else { 32 };
    let mut a = CodeAssembler::new(bitness).expect("bitness");
    let built = if bitness == 64 {
        workload64(&mut a, strings)
    } else {
        workload32(&mut a, strings)
    };
    built.expect("workload assembles");
    let code = a.assemble(CODE).expect("workload assembles");

    let mem = PhysMemory::new(16 << 20).expect("RAM");
    let mut cpu = Cpu::new(mem, Box::new(NullBus));
    bare::setup(&mut cpu, mode, CODE, STACK);
    cpu.write_phys(CODE, &code);
    let seed: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    cpu.write_phys(ARRAY, &seed);

    let start = Instant::now();
    let stop = loop {
        let stop = cpu.run(CHUNK);
        if stop != Stop::Budget || start.elapsed() > TIME_LIMIT {
            break stop;
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let end = CODE
        + code
            .iter()
            .position(|&b| b == 0xF4)
            .map_or(0, |p| p as u64 + 1);
    let finished = stop == Stop::Halted && cpu.rip == end;
    if stop != Stop::Budget && !finished {
        println!(
            "{name:<12} did not run to completion: {stop:?} at rip {:#x} after {} instructions \
             (an instruction it needs is not implemented?)",
            cpu.rip, cpu.instret
        );
        return None;
    }
    let f = Figures {
        instructions: cpu.instret,
        seconds,
        finished,
    };
    println!(
        "{name:<12} {:>12} instructions {:>7.3} s {:>8.1} MIPS{}  (TLB misses {}, walks {})",
        f.instructions,
        f.seconds,
        f.mips(),
        if f.finished { "" } else { "  [time limit]" },
        cpu.tlb.stats.misses,
        cpu.tlb.stats.walks,
    );
    Some(f)
}

fn main() {
    // `cargo bench` passes `--bench`; anything else we do not know is ignored.
    let strings = !std::env::args().any(|a| a == "--no-string");
    println!(
        "CPU benchmark: integer workload{}",
        if strings {
            " with rep movs copies"
        } else {
            " without string copies"
        }
    );
    run("long64", BareMode::Long64, strings);
    let p = run("protected32", BareMode::Protected32, strings);
    let c = run("compat32", BareMode::Compat32, strings);
    if let (Some(p), Some(c)) = (p, c) {
        println!(
            "compat32 / protected32 MIPS ratio: {:.3} (the cost of 4-level paging)",
            c.mips() / p.mips()
        );
    }
}
