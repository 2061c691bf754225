//! Lazy arithmetic flags.
//!
//! Most flag results are never read: `add` is followed by another `add`, not
//! by `jo`. So the ALU records *what it did* (the operation, operand size,
//! the operands and the result) and the six status flags are computed only
//! when something asks (a `jcc`, `pushf`, `adc`, ...). `Flags::bits` holds
//! every other RFLAGS bit, and the status flags too once materialised.
//!
//! Flag definitions: SDM Vol. 1, 3.4.3.1 and Appendix A (EFLAGS cross
//! reference). AF for logic operations is undefined by the SDM; we clear it,
//! as current Intel and AMD processors do.

use super::state::rflags::*;

/// The operation whose flags are pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LazyOp {
    /// Flags are all in `bits`.
    None,
    /// `dst + src = res`; CF is the carry out.
    Add,
    /// `dst - src = res`; CF is the borrow.
    Sub,
    /// `and`/`or`/`xor`/`test`: CF = OF = 0.
    Logic,
    /// `inc`: like Add with src = 1, but CF comes from `bits`.
    Inc,
    /// `dec`: like Sub with src = 1, but CF comes from `bits`.
    Dec,
}

/// RFLAGS with lazily evaluated status flags.
#[derive(Debug, Clone, Copy)]
pub struct Flags {
    bits: u64,
    op: LazyOp,
    /// Operand size in bytes: 1, 2, 4 or 8.
    size: u8,
    dst: u64,
    src: u64,
    res: u64,
}

const PARITY: [u8; 32] = {
    let mut table = [0u8; 32];
    let mut i = 0;
    while i < 256 {
        if (i as u8).count_ones().is_multiple_of(2) {
            table[i / 8] |= 1 << (i % 8);
        }
        i += 1;
    }
    table
};

/// PF: set when the low byte of the result has an even number of ones.
#[inline]
pub fn parity(v: u64) -> bool {
    let b = v as u8 as usize;
    PARITY[b / 8] & (1 << (b % 8)) != 0
}

/// The sign bit of a value of `size` bytes.
#[inline]
pub fn sign_bit(size: u8) -> u64 {
    1u64 << (size as u32 * 8 - 1)
}

/// The mask of a value of `size` bytes.
#[inline]
pub fn size_mask(size: u8) -> u64 {
    u64::MAX >> (64 - size as u32 * 8)
}

impl Default for Flags {
    fn default() -> Self {
        Flags::new(FIXED1)
    }
}

impl Flags {
    pub fn new(bits: u64) -> Flags {
        Flags {
            bits: (bits & ALL) | FIXED1,
            op: LazyOp::None,
            size: 1,
            dst: 0,
            src: 0,
            res: 0,
        }
    }

    /// Records an arithmetic result whose flags are computed on demand.
    #[inline(always)]
    pub fn set_lazy(&mut self, op: LazyOp, size: u8, dst: u64, src: u64, res: u64) {
        if matches!(op, LazyOp::Inc | LazyOp::Dec) {
            // INC and DEC keep CF: pin it in `bits` before forgetting the
            // operation that produced it.
            let cf = self.cf();
            self.bits = (self.bits & !CF) | cf as u64;
        }
        self.op = op;
        self.size = size;
        self.dst = dst;
        self.src = src;
        self.res = res;
    }

    /// Sets the status flags outright (for operations computed eagerly).
    /// `mask` selects which of them change.
    #[inline]
    pub fn set_status(&mut self, mask: u64, values: u64) {
        self.materialize();
        self.bits = (self.bits & !mask) | (values & mask);
    }

    /// Sets CF, PF, AF, ZF, SF, OF from a result, with CF, OF and AF given.
    #[inline]
    pub fn set_result(&mut self, size: u8, res: u64, cf: bool, of: bool, af: bool) {
        let res = res & size_mask(size);
        let mut v = 0;
        v |= cf as u64 * CF;
        v |= of as u64 * OF;
        v |= af as u64 * AF;
        v |= (res == 0) as u64 * ZF;
        v |= ((res & sign_bit(size)) != 0) as u64 * SF;
        v |= parity(res) as u64 * PF;
        self.op = LazyOp::None;
        self.bits = (self.bits & !ARITH) | v;
    }

    #[inline]
    fn materialize(&mut self) {
        if self.op != LazyOp::None {
            let v = self.status();
            self.bits = (self.bits & !ARITH) | v;
            self.op = LazyOp::None;
        }
    }

    /// The six status flags as RFLAGS bits.
    fn status(&self) -> u64 {
        let mut v = 0;
        v |= self.cf() as u64 * CF;
        v |= self.pf() as u64 * PF;
        v |= self.af() as u64 * AF;
        v |= self.zf() as u64 * ZF;
        v |= self.sf() as u64 * SF;
        v |= self.of() as u64 * OF;
        v
    }

    /// The whole of RFLAGS.
    #[inline]
    pub fn get(&self) -> u64 {
        if self.op == LazyOp::None {
            self.bits
        } else {
            (self.bits & !ARITH) | self.status()
        }
    }

    /// Replaces the whole of RFLAGS (bit 1 stays set).
    #[inline]
    pub fn set(&mut self, value: u64) {
        self.op = LazyOp::None;
        self.bits = (value & ALL) | FIXED1;
    }

    /// One of the non-status bits (IF, DF, TF, ...), or a status bit.
    #[inline]
    pub fn test(&self, bit: u64) -> bool {
        if bit & ARITH != 0 {
            self.get() & bit != 0
        } else {
            self.bits & bit != 0
        }
    }

    /// Sets or clears non-status bits (IF, DF, TF, AC, ...).
    #[inline]
    pub fn assign(&mut self, bit: u64, on: bool) {
        if bit & ARITH != 0 {
            self.materialize();
        }
        if on {
            self.bits |= bit;
        } else {
            self.bits &= !bit;
        }
    }

    #[inline]
    pub fn cf(&self) -> bool {
        let m = size_mask(self.size);
        match self.op {
            LazyOp::None | LazyOp::Inc | LazyOp::Dec => self.bits & CF != 0,
            LazyOp::Add => (self.res & m) < (self.dst & m),
            LazyOp::Sub => (self.dst & m) < (self.src & m),
            LazyOp::Logic => false,
        }
    }

    #[inline]
    pub fn zf(&self) -> bool {
        match self.op {
            LazyOp::None => self.bits & ZF != 0,
            _ => self.res & size_mask(self.size) == 0,
        }
    }

    #[inline]
    pub fn sf(&self) -> bool {
        match self.op {
            LazyOp::None => self.bits & SF != 0,
            _ => self.res & sign_bit(self.size) != 0,
        }
    }

    #[inline]
    pub fn pf(&self) -> bool {
        match self.op {
            LazyOp::None => self.bits & PF != 0,
            _ => parity(self.res),
        }
    }

    #[inline]
    pub fn af(&self) -> bool {
        match self.op {
            LazyOp::None => self.bits & AF != 0,
            LazyOp::Logic => false,
            _ => (self.dst ^ self.src ^ self.res) & 0x10 != 0,
        }
    }

    #[inline]
    pub fn of(&self) -> bool {
        let s = sign_bit(self.size);
        match self.op {
            LazyOp::None => self.bits & OF != 0,
            LazyOp::Add | LazyOp::Inc => (self.dst ^ self.res) & (self.src ^ self.res) & s != 0,
            LazyOp::Sub | LazyOp::Dec => (self.dst ^ self.src) & (self.dst ^ self.res) & s != 0,
            LazyOp::Logic => false,
        }
    }

    /// Evaluates a condition code (the low nibble of Jcc/SETcc/CMOVcc;
    /// SDM Vol. 1, Appendix B).
    #[inline]
    pub fn condition(&self, cc: u8) -> bool {
        let r = match cc >> 1 {
            0 => self.of(),
            1 => self.cf(),
            2 => self.zf(),
            3 => self.cf() || self.zf(),
            4 => self.sf(),
            5 => self.pf(),
            6 => self.sf() != self.of(),
            _ => self.zf() || (self.sf() != self.of()),
        };
        r != (cc & 1 != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_overflow_sets_of_and_sf_not_cf() {
        let mut f = Flags::default();
        f.set_lazy(LazyOp::Add, 1, 0x7F, 1, 0x80);
        assert!(f.of());
        assert!(f.sf());
        assert!(!f.cf());
        assert!(f.af());
    }

    #[test]
    fn sub_borrow_sets_cf() {
        let mut f = Flags::default();
        f.set_lazy(LazyOp::Sub, 4, 1, 2, 0xFFFF_FFFF);
        assert!(f.cf());
        assert!(!f.zf());
        assert_eq!(f.get() & ARITH, CF | SF | PF | AF);
    }

    #[test]
    fn inc_preserves_carry_from_the_previous_operation() {
        let mut f = Flags::default();
        f.set_lazy(LazyOp::Sub, 1, 0, 1, 0xFF);
        f.set_lazy(LazyOp::Inc, 1, 0xFF, 1, 0x00);
        assert!(f.cf());
        assert!(f.zf());
    }

    #[test]
    fn condition_codes_follow_the_table() {
        let mut f = Flags::default();
        f.set_lazy(LazyOp::Sub, 4, 3, 5, 3u64.wrapping_sub(5));
        assert!(f.condition(0x2)); // B: 3 < 5 unsigned
        assert!(f.condition(0xC)); // L: 3 < 5 signed
        assert!(!f.condition(0x4)); // E
        assert!(f.condition(0x5)); // NE
    }
}
