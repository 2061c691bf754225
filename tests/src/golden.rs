//! A small runner for golden instruction tests: text files with one case a
//! line, in the spirit of iced-x86's `DecoderTest*.txt`.
//!
//! ```text
//! # comment
//! long64 | 48 d3 e0 | rax=1 rcx=3 f=C | rax=8 f= undef=AO
//! real   | f6 f3    | rax=0x10 rbx=0  | #DE
//! ```
//!
//! Fields, separated by `|`:
//! 1. the mode: `real`, `prot32`, `long64` or `compat32`;
//! 2. the instruction bytes, in hex;
//! 3. the starting state: `reg=value` for the 64-bit register names
//!    (`rax` .. `r15`), `f=LETTERS` for the status flags that are set (of
//!    `C P A Z S O`; the others are clear), `df=1`, and memory as
//!    `mN[addr]=value` with N = 8, 16, 32 or 64 (a little-endian value at a
//!    physical address);
//! 4. what must hold afterwards, in the same syntax, or an exception
//!    mnemonic (`#DE`, `#UD`, `#GP`, `#BR`, ...). `f=` compares all six
//!    status flags except those listed in `undef=LETTERS`. Registers not
//!    named are not compared.
//!
//! The instruction runs through the emulator's decoder and the handler
//! `exec::resolve` chose for it, exactly as the run loop would call it.

use crate::Vm;
use emulator::bare::BareMode;
use emulator::cpu::decode::Insn;
use emulator::cpu::state::rflags;
use emulator::cpu::{Cpu, Exception};
use iced_x86::{Decoder, DecoderOptions};

const REG_NAMES: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];
const FLAG_LETTERS: [(char, u64); 6] = [
    ('C', rflags::CF),
    ('P', rflags::PF),
    ('A', rflags::AF),
    ('Z', rflags::ZF),
    ('S', rflags::SF),
    ('O', rflags::OF),
];

/// Runs one instruction at the current RIP the way the run loop does:
/// RIP moves past it first, and is put back if it faults.
pub fn exec_one(cpu: &mut Cpu, bytes: &[u8]) -> Result<(), Exception> {
    let bitness = cpu.mode.bitness();
    let mut d = Decoder::with_ip(bitness, bytes, cpu.rip, DecoderOptions::NONE);
    let insn = Insn::new(d.decode(), bitness);
    let rip = cpu.rip;
    cpu.rip = insn.next_ip;
    let r = (insn.handler)(cpu, &insn);
    if r.is_err() {
        cpu.rip = rip;
    }
    r
}

fn parse_mode(s: &str) -> Result<BareMode, String> {
    Ok(match s {
        "real" => BareMode::Real,
        "prot32" => BareMode::Protected32,
        "long64" => BareMode::Long64,
        "compat32" => BareMode::Compat32,
        _ => return Err(format!("unknown mode {s:?}")),
    })
}

fn parse_num(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(&h.replace('_', ""), 16),
        None => match s.strip_prefix('-') {
            Some(d) => d.parse::<u64>().map(|v| v.wrapping_neg()),
            None => s.parse::<u64>(),
        },
    };
    r.map_err(|e| format!("bad number {s:?}: {e}"))
}

fn parse_flags(s: &str) -> Result<u64, String> {
    s.chars().try_fold(0, |acc, c| {
        FLAG_LETTERS
            .iter()
            .find(|(l, _)| *l == c)
            .map(|(_, b)| acc | b)
            .ok_or_else(|| format!("unknown flag letter {c:?}"))
    })
}

/// One `key=value` item of a state field.
enum Item {
    Reg(usize, u64),
    Flags(u64),
    Undef(u64),
    Df(bool),
    Mem { addr: u64, size: usize, value: u64 },
}

fn parse_items(field: &str) -> Result<Vec<Item>, String> {
    field
        .split_whitespace()
        .map(|tok| {
            let (k, v) = tok
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, got {tok:?}"))?;
            if let Some(i) = REG_NAMES.iter().position(|r| *r == k) {
                return Ok(Item::Reg(i, parse_num(v)?));
            }
            match k {
                "f" => return Ok(Item::Flags(parse_flags(v)?)),
                "undef" => return Ok(Item::Undef(parse_flags(v)?)),
                "df" => return Ok(Item::Df(v == "1")),
                _ => {}
            }
            let (size, addr) = k
                .strip_prefix('m')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.split_once('['))
                .ok_or_else(|| format!("unknown key {k:?}"))?;
            let size = match size {
                "8" => 1,
                "16" => 2,
                "32" => 4,
                "64" => 8,
                _ => return Err(format!("bad memory size in {k:?}")),
            };
            Ok(Item::Mem {
                addr: parse_num(addr)?,
                size,
                value: parse_num(v)?,
            })
        })
        .collect()
}

fn parse_bytes(s: &str) -> Result<Vec<u8>, String> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).map_err(|e| format!("bad byte {b:?}: {e}")))
        .collect()
}

/// Runs one golden line; `Ok(())` if every expectation holds.
pub fn run_case(line: &str) -> Result<(), String> {
    let fields: Vec<&str> = line.split('|').map(str::trim).collect();
    let [mode, bytes, input, expect] = fields[..] else {
        return Err("expected 4 fields separated by |".into());
    };
    let mode = parse_mode(mode)?;
    let bytes = parse_bytes(bytes)?;
    let mut vm = Vm::new(mode, &bytes);
    let cpu = &mut vm.cpu;
    for item in parse_items(input)? {
        match item {
            Item::Reg(i, v) => cpu.gpr[i] = v,
            Item::Flags(f) => cpu.flags.set((cpu.flags.get() & !rflags::ARITH) | f),
            Item::Df(on) => cpu.flags.assign(rflags::DF, on),
            Item::Undef(_) => return Err("undef= belongs in the expectations".into()),
            Item::Mem { addr, size, value } => {
                cpu.write_phys(addr, &value.to_le_bytes()[..size]);
            }
        }
    }
    let result = exec_one(cpu, &bytes);
    if let Some(want) = expect.strip_prefix('#') {
        return match result {
            Err(e) if e.mnemonic() == format!("#{want}") => Ok(()),
            other => Err(format!("expected #{want}, got {other:?}")),
        };
    }
    if let Err(e) = result {
        return Err(format!("unexpected {}", e.mnemonic()));
    }
    let items = parse_items(expect)?;
    let undef = items.iter().fold(0, |acc, i| match i {
        Item::Undef(u) => acc | u,
        _ => acc,
    });
    let mut errors = Vec::new();
    for item in items {
        match item {
            Item::Reg(i, v) if cpu.gpr[i] != v => errors.push(format!(
                "{} = {:#x}, expected {v:#x}",
                REG_NAMES[i], cpu.gpr[i]
            )),
            Item::Flags(f) => {
                let mask = rflags::ARITH & !undef;
                let got = cpu.flags.get() & mask;
                if got != f & mask {
                    errors.push(format!(
                        "flags {}, expected {}",
                        flag_letters(got),
                        flag_letters(f & mask)
                    ));
                }
            }
            Item::Df(on) if cpu.flags.test(rflags::DF) != on => {
                errors.push(format!("DF expected {on}"))
            }
            Item::Mem { addr, size, value } => {
                let mut b = [0u8; 8];
                b[..size].copy_from_slice(vm_mem(cpu, addr, size));
                let got = u64::from_le_bytes(b);
                if got != value {
                    errors.push(format!("m[{addr:#x}] = {got:#x}, expected {value:#x}"));
                }
            }
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn vm_mem(cpu: &Cpu, addr: u64, size: usize) -> &[u8] {
    &cpu.mem.ram()[addr as usize..addr as usize + size]
}

fn flag_letters(f: u64) -> String {
    FLAG_LETTERS
        .iter()
        .filter(|(_, b)| f & b != 0)
        .map(|(l, _)| *l)
        .collect()
}

/// Runs every case of a golden file and panics listing each failing line
/// (file:line, the line, and what differed).
pub fn run_file(path: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut failures = Vec::new();
    let mut cases = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        cases += 1;
        if let Err(e) = run_case(line) {
            failures.push(format!("{path}:{}: {line}\n    {e}", n + 1));
        }
    }
    assert!(cases > 0, "{path} has no cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The path of a golden file in `tests/golden/`.
pub fn golden_path(name: &str) -> String {
    format!("{}/golden/{name}", env!("CARGO_MANIFEST_DIR"))
}
