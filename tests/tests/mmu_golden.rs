//! Golden page walks: `tests/golden/pagewalk_*.txt` list, for every paging
//! mode and page size, page tables written into guest memory, one access,
//! and the expected physical address or #PF error code and CR2, with the
//! paging-structure entries expected afterwards (accessed/dirty flags).
//! The format is described at the top of `pagewalk_32bit.txt`.

use emulator::bare::BareMode;
use emulator::cpu::state::{cr4, efer};
use emulator::cpu::Exception;
use emulator::mmu::AccessKind;
use integration_tests::paging::{self, Paging};
use integration_tests::Vm;

#[derive(Debug, Default)]
struct Case {
    name: String,
    line: usize,
    mode: Option<Paging>,
    cr4: u64,
    efer: u64,
    wp: bool,
    cr3: u64,
    sets: Vec<(u64, u64)>,
    access: Option<(AccessKind, bool, u64)>,
    expect: Option<Result<u64, (u32, u64)>>,
    after: Vec<(u64, u64)>,
}

fn num(s: &str) -> u64 {
    let s = s.trim_start_matches("0x");
    u64::from_str_radix(s, 16).unwrap_or_else(|_| panic!("bad hex number {s}"))
}

fn parse(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut c = Case::default();
    for (n, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            [w, ..] if w.starts_with('#') => {}
            ["case", name] => {
                c = Case {
                    name: name.to_string(),
                    line: n + 1,
                    wp: true,
                    ..Case::default()
                }
            }
            ["mode", m, flags @ ..] => {
                c.mode = Some(match *m {
                    "32" => Paging::Bits32,
                    "pae" => Paging::Pae,
                    "4level" => Paging::Level4,
                    other => panic!("line {}: unknown mode {other}", n + 1),
                });
                for f in flags {
                    match *f {
                        "pse" => c.cr4 |= cr4::PSE,
                        "pge" => c.cr4 |= cr4::PGE,
                        "nxe" => c.efer |= efer::NXE,
                        "nowp" => c.wp = false,
                        other => panic!("line {}: unknown flag {other}", n + 1),
                    }
                }
            }
            ["cr3", a] => c.cr3 = num(a),
            ["set", a, v] => c.sets.push((num(a), num(v))),
            ["after", a, v] => c.after.push((num(a), num(v))),
            ["access", k, who, lin] => {
                let kind = match *k {
                    "r" => AccessKind::Read,
                    "w" => AccessKind::Write,
                    "x" => AccessKind::Execute,
                    other => panic!("line {}: unknown access {other}", n + 1),
                };
                c.access = Some((kind, *who == "user", num(lin)));
            }
            ["expect", "phys", p] => c.expect = Some(Ok(num(p))),
            ["expect", "pf", code, cr2] => c.expect = Some(Err((num(code) as u32, num(cr2)))),
            ["end"] => cases.push(std::mem::take(&mut c)),
            _ => panic!("line {}: cannot parse {line:?}", n + 1),
        }
    }
    cases
}

/// Runs one case on a fresh machine; returns what differed from the golden file.
fn run(c: &Case) -> Vec<String> {
    let mode = c.mode.expect("mode line");
    let (kind, user, lin) = c.access.expect("access line");
    let mut vm = Vm::new(BareMode::Protected32, &[]);
    let cpu = &mut vm.cpu;
    for &(addr, value) in &c.sets {
        paging::set_entry(cpu, addr, value, mode.entry_size());
    }
    paging::enter(cpu, mode, c.cr3, c.cr4, c.efer, c.wp);
    let got = match cpu.translate(lin, paging::access(kind, user)) {
        Ok(phys) => Ok(phys),
        // `addr` is what delivery loads into CR2 (checked end to end in
        // mmu_faults.rs).
        Err(Exception::PageFault { addr, code }) => Err((code, addr)),
        Err(e) => panic!("{}: not a page fault: {e:?}", c.name),
    };
    let mut diffs = Vec::new();
    let expect = c.expect.expect("expect line");
    if got != expect {
        diffs.push(format!("result {got:x?}, expected {expect:x?}"));
    }
    for &(addr, value) in &c.after {
        let now = paging::entry(cpu, addr, mode.entry_size());
        if now != value {
            diffs.push(format!("entry {addr:#x} is {now:#x}, expected {value:#x}"));
        }
    }
    diffs
}

fn check_file(text: &str) -> usize {
    let cases = parse(text);
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|c| {
            run(c)
                .into_iter()
                .map(move |d| format!("{} (line {}): {d}", c.name, c.line))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn golden_32bit_walks_4k_and_4m_pages() {
    let n = check_file(include_str!("../golden/pagewalk_32bit.txt"));
    assert_eq!(n, 16);
}

#[test]
fn golden_pae_walks_4k_and_2m_pages() {
    let n = check_file(include_str!("../golden/pagewalk_pae.txt"));
    assert_eq!(n, 15);
}

#[test]
fn golden_4level_walks_4k_2m_and_1g_pages() {
    let n = check_file(include_str!("../golden/pagewalk_4level.txt"));
    assert_eq!(n, 20);
}
