//! FXSAVE/FXRSTOR: the 512-byte image compared with the host CPU's own
//! FXSAVE of the same state, the 64-bit versus legacy layouts, the
//! round trip, and FXRSTOR's MXCSR check.

use emulator::bare::BareMode;
use emulator::cpu::exec::sse::state::offset;
use iced_x86::code_asm::*;
use integration_tests::ssehost::{catch_faults, fault, run_both};
use integration_tests::{Vm, CODE_BASE};

/// Scratch offsets in the `run_both` buffer, after two 512-byte images.
const FCW_IN: i32 = 1024;
const MXCSR_IN: i32 = 1028;
const XMM_IN: i32 = 1040;
const BUF_LEN: usize = 1040 + 256;

fn pattern(i: u64) -> u64 {
    0x0102_0304_0506_0708u64.wrapping_mul(i + 1) ^ 0xA5A5_0000_5A5A_FFFF
}

/// Sets FCW, MXCSR and XMM0-15 to known values, then saves with FXSAVE64
/// at [rdi] and FXSAVE at [rdi+512].
fn save_known_state(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.fninit()?;
    a.mov(word_ptr(rdi + FCW_IN), 0x0A7F)?;
    a.fldcw(word_ptr(rdi + FCW_IN))?;
    a.mov(dword_ptr(rdi + MXCSR_IN), 0x7FA5)?;
    a.ldmxcsr(dword_ptr(rdi + MXCSR_IN))?;
    let regs = [
        xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13,
        xmm14, xmm15,
    ];
    for (i, r) in regs.into_iter().enumerate() {
        let at = XMM_IN + 16 * i as i32;
        a.mov(rax, pattern(2 * i as u64))?;
        a.mov(qword_ptr(rdi + at), rax)?;
        a.mov(rax, pattern(2 * i as u64 + 1))?;
        a.mov(qword_ptr(rdi + at + 8), rax)?;
        a.movdqa(r, xmmword_ptr(rdi + at))?;
    }
    a.fxsave64(ptr(rdi))?;
    a.fxsave(ptr(rdi + 512))
}

use iced_x86::IcedError;

#[test]
fn fxsave_image_matches_host_in_every_defined_field() {
    let (host, guest) = run_both(&save_known_state, BUF_LEN);
    for base in [0, 512] {
        let (h, g) = (&host[base..base + 512], &guest[base..base + 512]);
        assert_eq!(g[..6], h[..6], "FCW, FSW, abridged FTW at {base}");
        assert_eq!(g[6..24], h[6..24], "FOP, FIP, FDP after FNINIT at {base}");
        assert_eq!(
            g[offset::MXCSR..offset::MXCSR + 4],
            h[offset::MXCSR..offset::MXCSR + 4]
        );
        assert_eq!(
            g[offset::MXCSR_MASK..offset::MXCSR_MASK + 4],
            0xFFFFu32.to_le_bytes()
        );
        assert_eq!(
            g[offset::XMM..offset::XMM + 256],
            h[offset::XMM..offset::XMM + 256]
        );
    }
    assert_eq!(&guest[0..2], &0x0A7Fu16.to_le_bytes());
    assert_eq!(
        &guest[offset::MXCSR..offset::MXCSR + 4],
        &0x7FA5u32.to_le_bytes()
    );
}

#[test]
fn fxsave_never_writes_the_software_available_bytes() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.fxsave64(ptr(rsi))?;
        a.hlt()
    });
    vm.cpu.gpr[6] = 0x20_0000;
    vm.cpu.write_phys(0x20_0000 + 464, &[0xEE; 48]);
    vm.run_to_hlt(10);
    assert_eq!(vm.mem(0x20_0000 + 464, 48), &[0xEE; 48][..]);
}

#[test]
fn fxsave64_stores_64_bit_instruction_pointer_and_fxsave_32_bit() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.fxsave64(ptr(rsi))?;
        a.fxsave(ptr(rsi + 512))?;
        a.hlt()
    });
    vm.cpu.gpr[6] = 0x20_0000;
    vm.cpu.x87.fip = 0x1234_5678_9ABC_DEF0;
    vm.cpu.x87.fdp = 0x0FED_CBA9_8765_4321;
    vm.run_to_hlt(10);
    assert_eq!(
        vm.mem(0x20_0000 + 8, 16),
        [
            0x1234_5678_9ABC_DEF0u64.to_le_bytes(),
            0x0FED_CBA9_8765_4321u64.to_le_bytes()
        ]
        .concat()
    );
    let legacy = vm.mem(0x20_0000 + 512 + 8, 16);
    assert_eq!(&legacy[0..4], &0x9ABC_DEF0u32.to_le_bytes(), "FIP low 32");
    assert_eq!(&legacy[4..6], &[0, 0], "FCS saved as 0");
    assert_eq!(&legacy[8..12], &0x8765_4321u32.to_le_bytes(), "FDP low 32");
}

#[test]
fn fxsave_outside_64_bit_mode_holds_eight_xmm_registers() {
    let mut vm = Vm::with_asm(BareMode::Compat32, |a| {
        a.fxsave(ptr(esi))?;
        a.hlt()
    });
    vm.cpu.gpr[6] = 0x20_0000;
    vm.cpu.xmm = [u128::MAX; 16];
    vm.run_to_hlt(10);
    let xmm = vm.mem(0x20_0000 + offset::XMM as u64, 256);
    assert_eq!(&xmm[..128], &[0xFF; 128][..]);
    assert_eq!(&xmm[128..], &[0; 128][..], "XMM8-15 not saved");
}

#[test]
fn fxrstor_restores_what_fxsave_saved() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.fxsave64(ptr(rsi))?;
        a.pxor(xmm3, xmm3)?;
        a.pxor(xmm15, xmm15)?;
        a.fninit()?;
        a.mov(dword_ptr(rsi + 600), 0x1F80)?;
        a.ldmxcsr(dword_ptr(rsi + 600))?;
        a.fxrstor64(ptr(rsi))?;
        a.hlt()
    });
    vm.cpu.gpr[6] = 0x20_0000;
    let xmm: [u128; 16] = std::array::from_fn(|i| (pattern(i as u64) as u128) << 64 | i as u128);
    vm.cpu.xmm = xmm;
    vm.cpu.mxcsr = 0x3F3F;
    vm.cpu.x87.fcw = 0x027F;
    vm.cpu.x87.ftw = 0xFFFC; // ST0 in use (physical register 0), valid
    vm.cpu.x87.st[0][7] = 0x80;
    vm.cpu.x87.st[0][8] = 0xFF;
    vm.cpu.x87.st[0][9] = 0x3F;
    vm.run_to_hlt(20);
    assert_eq!(vm.cpu.xmm, xmm);
    assert_eq!(vm.cpu.mxcsr, 0x3F3F);
    assert_eq!(vm.cpu.x87.fcw, 0x027F);
    assert_eq!(
        vm.cpu.x87.ftw, 0xFFFC,
        "full tag rebuilt from the abridged one"
    );
}

#[test]
fn fxrstor_with_reserved_mxcsr_bits_is_gp0_and_changes_nothing() {
    let mut vm = Vm::with_asm(BareMode::Long64, |a| {
        a.fxrstor64(ptr(rsi))?;
        a.hlt()
    });
    catch_faults(&mut vm);
    vm.cpu.gpr[6] = 0x20_0000;
    let mut image = [0u8; 512];
    image[offset::MXCSR..offset::MXCSR + 4].copy_from_slice(&0x0002_1F80u32.to_le_bytes());
    image[offset::XMM] = 0x77;
    vm.cpu.write_phys(0x20_0000, &image);
    vm.run_to_hlt(20);
    assert_eq!(fault(&vm, true), Some((13, CODE_BASE)));
    assert_eq!(vm.cpu.xmm[0], 0);
    assert_eq!(vm.cpu.mxcsr, 0x1F80);
}
