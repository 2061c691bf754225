//! The permission matrix: every combination of U/S and R/W at two levels,
//! XD at two levels, CR0.WP, EFER.NXE, privilege and access kind, in each
//! paging mode, run through the MMU and compared with a reference model
//! written here straight from the SDM (Vol. 3A, 4.6.1 "Determination of
//! Access Rights", 4.7 "Page-Fault Exceptions", 4.8 "Accessed and Dirty
//! Flags"), independent of the emulator's walker.

use emulator::bare::BareMode;
use emulator::cpu::state::efer;
use emulator::cpu::{Cpu, Exception};
use emulator::mmu::AccessKind;
use integration_tests::paging::{self, Paging, A, D, P, RW, US, XD};
use integration_tests::Vm;

/// One point of the matrix. `pde_*` and `pte_*` are the bits of the two
/// lowest levels; the levels above them allow everything.
#[derive(Debug, Clone, Copy)]
struct Case {
    mode: Paging,
    pde_us: bool,
    pte_us: bool,
    pde_rw: bool,
    pte_rw: bool,
    pde_xd: bool,
    pte_xd: bool,
    wp: bool,
    nxe: bool,
    cpl3: bool,
    kind: AccessKind,
}

/// What the SDM says happens: Ok, or the #PF error code.
fn reference(c: &Case) -> Result<(), u32> {
    use AccessKind::*;
    let write = c.kind == Write;
    let fetch = c.kind == Execute;
    // 4.7: W/R is set for writes, U/S for accesses at CPL 3, and I/D for
    // instruction fetches when PAE or 4-level paging is used with NXE=1.
    let mut code = if write { 2 } else { 0 } | if c.cpl3 { 4 } else { 0 };
    if fetch && c.mode != Paging::Bits32 && c.nxe {
        code |= 0x10;
    }
    // Tables 4-11, 4-19, 4-20 etc.: with NXE=0, bit 63 of a PAE or 4-level
    // entry is reserved. A reserved-bit violation sets P and RSVD.
    if c.mode != Paging::Bits32 && !c.nxe && (c.pde_xd || c.pte_xd) {
        return Err(code | 1 | 8);
    }
    // 4.6.1: the rights are those of all levels together.
    let user_page = c.pde_us && c.pte_us;
    let read_only = !(c.pde_rw && c.pte_rw);
    let execute_disable = c.nxe && (c.pde_xd || c.pte_xd);
    let allowed = match (c.cpl3, c.kind) {
        // Supervisor-mode accesses.
        (false, Read) => true,
        (false, Write) => !(c.wp && read_only),
        (false, Execute) => !execute_disable,
        // User-mode accesses.
        (true, Read) => user_page,
        (true, Write) => user_page && !read_only,
        (true, Execute) => user_page && !execute_disable,
    };
    if allowed {
        Ok(())
    } else {
        Err(code | 1)
    }
}

/// Where each mode's tables sit; the linear address and its two lowest
/// entries.
struct Layout {
    cr3: u64,
    lin: u64,
    pde: u64,
    pte: u64,
    pt: u64,
    upper: &'static [(u64, u64)],
}

fn layout(mode: Paging) -> Layout {
    match mode {
        Paging::Bits32 => Layout {
            cr3: 0x20000,
            lin: 0x403123,
            pde: 0x20004,
            pte: 0x2100C,
            pt: 0x21000,
            upper: &[],
        },
        Paging::Pae => Layout {
            cr3: 0x30000,
            lin: 0x403123,
            pde: 0x31010,
            pte: 0x32018,
            pt: 0x32000,
            upper: &[(0x30000, 0x31001)],
        },
        Paging::Level4 => Layout {
            cr3: 0x40000,
            lin: 0x80_4060_3123,
            pde: 0x42018,
            pte: 0x43018,
            pt: 0x43000,
            upper: &[(0x40008, 0x41007), (0x41008, 0x42007)],
        },
    }
}

fn entry_bits(us: bool, rw: bool, xd: bool) -> u64 {
    P | if us { US } else { 0 } | if rw { RW } else { 0 } | if xd { XD } else { 0 }
}

/// Runs one case on `cpu`; returns a description of any disagreement.
fn check(cpu: &mut Cpu, c: &Case) -> Option<String> {
    let l = layout(c.mode);
    let w = c.mode.entry_size();
    for &(addr, v) in l.upper {
        paging::set_entry(cpu, addr, v, w);
    }
    let pde = l.pt | entry_bits(c.pde_us, c.pde_rw, c.pde_xd);
    let pte = 0x345000 | entry_bits(c.pte_us, c.pte_rw, c.pte_xd);
    paging::set_entry(cpu, l.pde, pde, w);
    paging::set_entry(cpu, l.pte, pte, w);
    let nxe = if c.nxe { efer::NXE } else { 0 };
    paging::enter(cpu, c.mode, l.cr3, 0, nxe, c.wp);

    let got = match cpu.translate(l.lin, paging::access(c.kind, c.cpl3)) {
        Ok(0x345123) => Ok(()),
        Ok(phys) => return Some(format!("{c:?}: wrong address {phys:#x}")),
        Err(Exception::PageFault { addr, code }) if addr == l.lin => Err(code),
        Err(e) => return Some(format!("{c:?}: unexpected {e:?}")),
    };
    let want = reference(c);
    if got != want {
        return Some(format!("{c:?}: got {got:x?}, SDM says {want:x?}"));
    }
    // 4.8: A on both levels and D on the leaf for a write, only when the
    // access is allowed.
    let ok = want.is_ok();
    let want_pde = pde | if ok { A } else { 0 };
    let want_pte = pte
        | if ok { A } else { 0 }
        | if ok && c.kind == AccessKind::Write {
            D
        } else {
            0
        };
    let (got_pde, got_pte) = (paging::entry(cpu, l.pde, w), paging::entry(cpu, l.pte, w));
    if (got_pde, got_pte) != (want_pde, want_pte) {
        return Some(format!(
            "{c:?}: entries {got_pde:#x}/{got_pte:#x}, expected {want_pde:#x}/{want_pte:#x}"
        ));
    }
    None
}

/// Every combination for `mode`; XD exists only in 8-byte entries.
fn matrix(mode: Paging) -> Vec<Case> {
    let b = [false, true];
    let xds: &[bool] = if mode == Paging::Bits32 { &[false] } else { &b };
    let mut cases = Vec::new();
    for pde_us in b {
        for pte_us in b {
            for pde_rw in b {
                for pte_rw in b {
                    for &pde_xd in xds {
                        for &pte_xd in xds {
                            for wp in b {
                                for nxe in b {
                                    for cpl3 in b {
                                        for kind in [
                                            AccessKind::Read,
                                            AccessKind::Write,
                                            AccessKind::Execute,
                                        ] {
                                            cases.push(Case {
                                                mode,
                                                pde_us,
                                                pte_us,
                                                pde_rw,
                                                pte_rw,
                                                pde_xd,
                                                pte_xd,
                                                wp,
                                                nxe,
                                                cpl3,
                                                kind,
                                            });
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    cases
}

/// Runs the whole matrix for `mode` and reports every disagreement at once.
fn check_mode(mode: Paging, expected_cases: usize) {
    let mut vm = Vm::new(BareMode::Protected32, &[]);
    let cases = matrix(mode);
    assert_eq!(cases.len(), expected_cases);
    let failures: Vec<String> = cases.iter().filter_map(|c| check(&mut vm.cpu, c)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with the SDM:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn permission_matrix_32bit_paging_matches_the_sdm() {
    check_mode(Paging::Bits32, 16 * 2 * 2 * 2 * 3);
}

#[test]
fn permission_matrix_pae_paging_matches_the_sdm() {
    check_mode(Paging::Pae, 16 * 4 * 2 * 2 * 2 * 3);
}

#[test]
fn permission_matrix_4level_paging_matches_the_sdm() {
    check_mode(Paging::Level4, 16 * 4 * 2 * 2 * 2 * 3);
}

#[test]
fn reference_model_spot_checks() {
    // Guard the model itself with cases read directly off the SDM text.
    let base = Case {
        mode: Paging::Level4,
        pde_us: true,
        pte_us: true,
        pde_rw: true,
        pte_rw: false,
        pde_xd: false,
        pte_xd: false,
        wp: false,
        nxe: true,
        cpl3: false,
        kind: AccessKind::Write,
    };
    // "If CR0.WP = 0, data may be written to any supervisor-mode address."
    assert_eq!(reference(&base), Ok(()));
    // With CR0.WP = 1, only to addresses with R/W = 1 at every level.
    assert_eq!(reference(&Case { wp: true, ..base }), Err(0x3));
    // User-mode writes need R/W = 1 whatever CR0.WP says.
    assert_eq!(reference(&Case { cpl3: true, ..base }), Err(0x7));
    // An XD fetch with NXE reports I/D.
    let fetch = Case {
        kind: AccessKind::Execute,
        pte_xd: true,
        ..base
    };
    assert_eq!(reference(&fetch), Err(0x11));
}
