//! General-register access by iced-x86 register name.
//!
//! iced-x86 numbers registers in blocks: AL..R15L (with AH..BH in the
//! middle), AX..R15W, EAX..R15D, RAX..R15. Writes follow SDM Vol. 1, 3.4.1.1:
//! a 32-bit write zero-extends into the full register, 8- and 16-bit writes
//! leave the other bits alone.

use super::Cpu;
use iced_x86::Register;

const AL: usize = Register::AL as usize;
const AX: usize = Register::AX as usize;
const EAX: usize = Register::EAX as usize;
const RAX: usize = Register::RAX as usize;

/// The GPR index (0-15) of a 16-, 32- or 64-bit register, or of the full
/// register behind an 8-bit one (AH..BH map to 0..3).
#[inline]
pub fn gpr_index(r: Register) -> usize {
    let n = r as usize;
    if n >= RAX {
        n - RAX
    } else if n >= EAX {
        n - EAX
    } else if n >= AX {
        n - AX
    } else {
        let i = n - AL;
        match i {
            0..=3 => i,
            4..=7 => i - 4,
            _ => i - 4,
        }
    }
}

/// Whether an 8-bit register is one of AH, CH, DH, BH.
#[inline]
pub fn is_high_byte(r: Register) -> bool {
    matches!(r, Register::AH | Register::CH | Register::DH | Register::BH)
}

/// A compact register code for decoded operands: 0-15 name a GPR (its low
/// N bytes), 16-19 name AH, CH, DH, BH.
pub fn reg_code(r: Register) -> u8 {
    if is_high_byte(r) {
        16 + gpr_index(r) as u8
    } else {
        gpr_index(r) as u8
    }
}

impl Cpu {
    /// Reads `N` bytes of the register with code `c` (see `reg_code`).
    #[inline(always)]
    pub fn reg_by_code<const N: usize>(&self, c: u8) -> u64 {
        if N == 1 && c >= 16 {
            return (self.gpr[(c & 3) as usize] >> 8) & 0xFF;
        }
        self.gpr[(c & 15) as usize] & super::flags::size_mask(N as u8)
    }

    /// Writes `N` bytes of the register with code `c`, with the width
    /// rules of SDM Vol. 1, 3.4.1.1.
    #[inline(always)]
    pub fn set_reg_by_code<const N: usize>(&mut self, c: u8, v: u64) {
        if N == 1 && c >= 16 {
            let g = &mut self.gpr[(c & 3) as usize];
            *g = (*g & !0xFF00) | ((v & 0xFF) << 8);
            return;
        }
        self.set_gpr_sized((c & 15) as usize, N as u8, v);
    }

    /// Reads a general register of `N` bytes named by iced-x86.
    #[inline(always)]
    pub fn reg<const N: usize>(&self, r: Register) -> u64 {
        let n = r as usize;
        match N {
            1 => {
                let i = n - AL;
                if (4..8).contains(&i) {
                    (self.gpr[i - 4] >> 8) & 0xFF
                } else {
                    let j = if i >= 8 { i - 4 } else { i };
                    self.gpr[j & 15] & 0xFF
                }
            }
            2 => self.gpr[(n - AX) & 15] & 0xFFFF,
            4 => self.gpr[(n - EAX) & 15] & 0xFFFF_FFFF,
            _ => self.gpr[(n - RAX) & 15],
        }
    }

    /// Writes a general register of `N` bytes named by iced-x86.
    #[inline(always)]
    pub fn set_reg<const N: usize>(&mut self, r: Register, v: u64) {
        let n = r as usize;
        match N {
            1 => {
                let i = n - AL;
                if (4..8).contains(&i) {
                    let g = &mut self.gpr[i - 4];
                    *g = (*g & !0xFF00) | ((v & 0xFF) << 8);
                } else {
                    let j = if i >= 8 { i - 4 } else { i };
                    let g = &mut self.gpr[j & 15];
                    *g = (*g & !0xFF) | (v & 0xFF);
                }
            }
            2 => {
                let g = &mut self.gpr[(n - AX) & 15];
                *g = (*g & !0xFFFF) | (v & 0xFFFF);
            }
            4 => self.gpr[(n - EAX) & 15] = v & 0xFFFF_FFFF,
            _ => self.gpr[(n - RAX) & 15] = v,
        }
    }

    /// Reads any general register, its size taken from the name.
    pub fn reg_any(&self, r: Register) -> u64 {
        match r.size() {
            1 => self.reg::<1>(r),
            2 => self.reg::<2>(r),
            4 => self.reg::<4>(r),
            _ => self.reg::<8>(r),
        }
    }

    /// Writes any general register, its size taken from the name.
    pub fn set_reg_any(&mut self, r: Register, v: u64) {
        match r.size() {
            1 => self.set_reg::<1>(r, v),
            2 => self.set_reg::<2>(r, v),
            4 => self.set_reg::<4>(r, v),
            _ => self.set_reg::<8>(r, v),
        }
    }

    /// Reads register `i` (0-15) masked to `size` bytes.
    #[inline(always)]
    pub fn gpr_sized(&self, i: usize, size: u8) -> u64 {
        self.gpr[i] & super::flags::size_mask(size)
    }

    /// Writes register `i` (0-15) with the width rules of a `size`-byte write.
    #[inline(always)]
    pub fn set_gpr_sized(&mut self, i: usize, size: u8, v: u64) {
        let g = &mut self.gpr[i];
        *g = match size {
            1 => (*g & !0xFF) | (v & 0xFF),
            2 => (*g & !0xFFFF) | (v & 0xFFFF),
            4 => v & 0xFFFF_FFFF,
            _ => v,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::NullBus;
    use crate::memory::PhysMemory;

    fn cpu() -> Cpu {
        Cpu::new(PhysMemory::new(1 << 20).unwrap(), Box::new(NullBus))
    }

    #[test]
    fn writing_eax_zero_extends_into_rax() {
        let mut c = cpu();
        c.gpr[0] = u64::MAX;
        c.set_reg::<4>(Register::EAX, 0x1234);
        assert_eq!(c.gpr[0], 0x1234);
    }

    #[test]
    fn writing_ah_changes_only_bits_8_to_15() {
        let mut c = cpu();
        c.gpr[0] = 0x1111_2222_3333_4444;
        c.set_reg::<1>(Register::AH, 0xAB);
        assert_eq!(c.gpr[0], 0x1111_2222_3333_AB44);
        assert_eq!(c.reg::<1>(Register::AH), 0xAB);
    }

    #[test]
    fn sil_and_r9l_name_the_low_bytes_of_rsi_and_r9() {
        let mut c = cpu();
        c.set_reg::<1>(Register::SIL, 0x5A);
        c.set_reg::<1>(Register::R9L, 0xA5);
        assert_eq!(c.gpr[6], 0x5A);
        assert_eq!(c.gpr[9], 0xA5);
        assert_eq!(gpr_index(Register::BH), 3);
    }
}
