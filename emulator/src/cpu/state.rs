//! Architectural state that is not the general registers: segment registers
//! with their hidden descriptor caches, descriptor-table registers, and the
//! bit names of RFLAGS, CR0, CR4 and EFER (SDM Vol. 3A, 2.3 and 2.5).

/// RFLAGS bits (SDM Vol. 1, 3.4.3).
pub mod rflags {
    pub const CF: u64 = 1 << 0;
    pub const FIXED1: u64 = 1 << 1;
    pub const PF: u64 = 1 << 2;
    pub const AF: u64 = 1 << 4;
    pub const ZF: u64 = 1 << 6;
    pub const SF: u64 = 1 << 7;
    pub const TF: u64 = 1 << 8;
    pub const IF: u64 = 1 << 9;
    pub const DF: u64 = 1 << 10;
    pub const OF: u64 = 1 << 11;
    pub const IOPL: u64 = 3 << 12;
    pub const IOPL_SHIFT: u32 = 12;
    pub const NT: u64 = 1 << 14;
    pub const RF: u64 = 1 << 16;
    pub const VM: u64 = 1 << 17;
    pub const AC: u64 = 1 << 18;
    pub const VIF: u64 = 1 << 19;
    pub const VIP: u64 = 1 << 20;
    pub const ID: u64 = 1 << 21;
    /// The six arithmetic status flags.
    pub const ARITH: u64 = CF | PF | AF | ZF | SF | OF;
    /// Every bit software can ever see set.
    pub const ALL: u64 = ARITH | TF | IF | DF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;
}

/// CR0 bits (SDM Vol. 3A, 2.5).
pub mod cr0 {
    pub const PE: u64 = 1 << 0;
    pub const MP: u64 = 1 << 1;
    pub const EM: u64 = 1 << 2;
    pub const TS: u64 = 1 << 3;
    pub const ET: u64 = 1 << 4;
    pub const NE: u64 = 1 << 5;
    pub const WP: u64 = 1 << 16;
    pub const AM: u64 = 1 << 18;
    pub const NW: u64 = 1 << 29;
    pub const CD: u64 = 1 << 30;
    pub const PG: u64 = 1 << 31;
    /// Bits that may be written; the rest are reserved (#GP if set).
    pub const WRITABLE: u64 = PE | MP | EM | TS | ET | NE | WP | AM | NW | CD | PG;
}

/// CR4 bits (SDM Vol. 3A, 2.5).
pub mod cr4 {
    pub const VME: u64 = 1 << 0;
    pub const PVI: u64 = 1 << 1;
    pub const TSD: u64 = 1 << 2;
    pub const DE: u64 = 1 << 3;
    pub const PSE: u64 = 1 << 4;
    pub const PAE: u64 = 1 << 5;
    pub const MCE: u64 = 1 << 6;
    pub const PGE: u64 = 1 << 7;
    pub const PCE: u64 = 1 << 8;
    pub const OSFXSR: u64 = 1 << 9;
    pub const OSXMMEXCPT: u64 = 1 << 10;
    /// Bits this CPU implements; setting any other is #GP(0).
    pub const SUPPORTED: u64 = TSD | DE | PSE | PAE | MCE | PGE | PCE | OSFXSR | OSXMMEXCPT;
}

/// IA32_EFER bits (SDM Vol. 3A, 2.2.1).
pub mod efer {
    pub const SCE: u64 = 1 << 0;
    pub const LME: u64 = 1 << 8;
    pub const LMA: u64 = 1 << 10;
    pub const NXE: u64 = 1 << 11;
    /// Bits software may write (LMA is read-only).
    pub const WRITABLE: u64 = SCE | LME | NXE;
}

/// Segment register numbers, in the order instructions encode them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SegReg {
    Es = 0,
    Cs = 1,
    Ss = 2,
    Ds = 3,
    Fs = 4,
    Gs = 5,
}

impl SegReg {
    pub const ALL: [SegReg; 6] = [
        SegReg::Es,
        SegReg::Cs,
        SegReg::Ss,
        SegReg::Ds,
        SegReg::Fs,
        SegReg::Gs,
    ];

    /// The segment register iced-x86 names.
    pub fn from_iced(r: iced_x86::Register) -> Option<SegReg> {
        use iced_x86::Register as R;
        Some(match r {
            R::ES => SegReg::Es,
            R::CS => SegReg::Cs,
            R::SS => SegReg::Ss,
            R::DS => SegReg::Ds,
            R::FS => SegReg::Fs,
            R::GS => SegReg::Gs,
            _ => return None,
        })
    }
}

/// Descriptor attribute bits as kept in `Segment::attr`: the access byte
/// (descriptor bits 40-47) in bits 0-7 and the flags nibble (bits 52-55)
/// in bits 12-15, the layout VMX and most emulators use.
pub mod attr {
    /// Segment type field (bits 0-3).
    pub const TYPE: u16 = 0xF;
    /// Data: accessed. Code: accessed.
    pub const ACCESSED: u16 = 1 << 0;
    /// Data: writable. Code: readable.
    pub const RW: u16 = 1 << 1;
    /// Data: expand-down. Code: conforming.
    pub const DC: u16 = 1 << 2;
    /// Code (1) or data (0).
    pub const CODE: u16 = 1 << 3;
    /// Code/data (1) or system (0) descriptor.
    pub const S: u16 = 1 << 4;
    pub const DPL_SHIFT: u16 = 5;
    pub const DPL: u16 = 3 << 5;
    pub const PRESENT: u16 = 1 << 7;
    pub const AVL: u16 = 1 << 12;
    /// 64-bit code segment.
    pub const L: u16 = 1 << 13;
    /// Default operation size 32 (code) / big (stack, expand-down limit).
    pub const DB: u16 = 1 << 14;
    /// Granularity: limit in 4 KiB units.
    pub const G: u16 = 1 << 15;
}

/// A segment register: the visible selector and the hidden descriptor cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Segment {
    pub selector: u16,
    pub base: u64,
    /// Limit in bytes, granularity already applied.
    pub limit: u32,
    pub attr: u16,
}

impl Segment {
    /// The descriptor cache a real-mode load (or reset) produces: base is
    /// selector * 16, limit 64 KiB, a present read/write data segment.
    pub fn real_mode(selector: u16) -> Segment {
        Segment {
            selector,
            base: (selector as u64) << 4,
            limit: 0xFFFF,
            attr: attr::PRESENT | attr::S | attr::RW | attr::ACCESSED,
        }
    }

    /// Builds the cache from a raw 8-byte descriptor (SDM Vol. 3A, 3.4.5).
    pub fn from_descriptor(selector: u16, desc: u64) -> Segment {
        let base = ((desc >> 16) & 0xFF_FFFF) | ((desc >> 32) & 0xFF00_0000);
        let raw_limit = ((desc & 0xFFFF) | ((desc >> 32) & 0xF_0000)) as u32;
        let attr = (((desc >> 40) & 0xFF) | ((desc >> 40) & 0xF000)) as u16;
        let limit = if attr & attr::G != 0 {
            (raw_limit << 12) | 0xFFF
        } else {
            raw_limit
        };
        Segment {
            selector,
            base,
            limit,
            attr,
        }
    }

    pub fn dpl(&self) -> u8 {
        ((self.attr & attr::DPL) >> attr::DPL_SHIFT) as u8
    }
    pub fn present(&self) -> bool {
        self.attr & attr::PRESENT != 0
    }
    pub fn is_code(&self) -> bool {
        self.attr & (attr::S | attr::CODE) == attr::S | attr::CODE
    }
    pub fn is_data(&self) -> bool {
        self.attr & (attr::S | attr::CODE) == attr::S
    }
    /// Data segment that may be written.
    pub fn writable(&self) -> bool {
        self.is_data() && self.attr & attr::RW != 0
    }
    /// Data segment, or code segment marked readable.
    pub fn readable(&self) -> bool {
        self.is_data() || (self.is_code() && self.attr & attr::RW != 0)
    }
    pub fn expand_down(&self) -> bool {
        self.is_data() && self.attr & attr::DC != 0
    }
    pub fn conforming(&self) -> bool {
        self.is_code() && self.attr & attr::DC != 0
    }
    pub fn long(&self) -> bool {
        self.attr & attr::L != 0
    }
    pub fn big(&self) -> bool {
        self.attr & attr::DB != 0
    }
    /// A 64-bit code segment: L set and D clear (L and D both set is
    /// reserved).
    pub fn is_64bit_code(&self) -> bool {
        self.long() && !self.big()
    }
    /// The system-descriptor type (for TSS, LDT and gates).
    pub fn system_type(&self) -> u8 {
        (self.attr & attr::TYPE) as u8
    }
}

/// GDTR or IDTR: a linear base and a 16-bit limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableRegister {
    pub base: u64,
    pub limit: u16,
}

/// The MSRs of DESIGN.md that are not kept elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Msrs {
    pub star: u64,
    pub lstar: u64,
    pub cstar: u64,
    pub sfmask: u64,
    pub kernel_gs_base: u64,
    pub sysenter_cs: u64,
    pub sysenter_esp: u64,
    pub sysenter_eip: u64,
    pub pat: u64,
    pub tsc_aux: u64,
    /// TSC = retired instructions + this offset (written by `wrmsr` to TSC).
    pub tsc_offset: u64,
    pub apic_base: u64,
    pub misc_enable: u64,
}

/// MSR numbers (SDM Vol. 4).
pub mod msr {
    pub const TSC: u32 = 0x10;
    pub const APIC_BASE: u32 = 0x1B;
    pub const MTRRCAP: u32 = 0xFE;
    pub const SYSENTER_CS: u32 = 0x174;
    pub const SYSENTER_ESP: u32 = 0x175;
    pub const SYSENTER_EIP: u32 = 0x176;
    pub const MISC_ENABLE: u32 = 0x1A0;
    pub const PAT: u32 = 0x277;
    pub const EFER: u32 = 0xC000_0080;
    pub const STAR: u32 = 0xC000_0081;
    pub const LSTAR: u32 = 0xC000_0082;
    pub const CSTAR: u32 = 0xC000_0083;
    pub const SFMASK: u32 = 0xC000_0084;
    pub const FS_BASE: u32 = 0xC000_0100;
    pub const GS_BASE: u32 = 0xC000_0101;
    pub const KERNEL_GS_BASE: u32 = 0xC000_0102;
    pub const TSC_AUX: u32 = 0xC000_0103;
}

/// x87 state: enough for `fninit`, `fnstsw`, `fnstcw`, `fldcw` and the
/// `fxsave`/`fxrstor` image (SDM Vol. 1, 8.1 and 10.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct X87 {
    pub fcw: u16,
    pub fsw: u16,
    /// Full tag word, two bits per register (11 = empty).
    pub ftw: u16,
    pub fop: u16,
    pub fip: u64,
    pub fdp: u64,
    /// ST0-ST7 as 80-bit values, kept as raw bytes (padded to 16).
    pub st: [[u8; 16]; 8],
}

impl Default for X87 {
    /// The state after `fninit`.
    fn default() -> Self {
        X87 {
            fcw: 0x037F,
            fsw: 0,
            ftw: 0xFFFF,
            fop: 0,
            fip: 0,
            fdp: 0,
            st: [[0; 16]; 8],
        }
    }
}

/// MXCSR after reset (all exceptions masked, round to nearest).
pub const MXCSR_DEFAULT: u32 = 0x1F80;
/// MXCSR bits this CPU implements (DAZ included); others are #GP on load.
pub const MXCSR_MASK: u32 = 0xFFFF;

/// How the CPU currently decodes and checks: derived from CR0.PE, EFER.LMA,
/// RFLAGS.VM and the CS descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Real,
    Virtual8086,
    /// Protected mode, 16-bit code segment.
    Protected16,
    /// Protected mode, 32-bit code segment.
    Protected32,
    /// Long mode, compatibility sub-mode, 16-bit code segment.
    Compat16,
    /// Long mode, compatibility sub-mode, 32-bit code segment.
    Compat32,
    /// Long mode, 64-bit code segment.
    Long64,
}

impl Mode {
    /// The decoder bitness for this mode.
    pub fn bitness(self) -> u32 {
        match self {
            Mode::Real | Mode::Virtual8086 | Mode::Protected16 | Mode::Compat16 => 16,
            Mode::Protected32 | Mode::Compat32 => 32,
            Mode::Long64 => 64,
        }
    }
    pub fn is_protected(self) -> bool {
        !matches!(self, Mode::Real | Mode::Virtual8086)
    }
    pub fn is_long(self) -> bool {
        matches!(self, Mode::Compat16 | Mode::Compat32 | Mode::Long64)
    }
}

// Snapshots (`machine::snapshot`).
crate::persist_fields!(Segment {
    selector,
    base,
    limit,
    attr
});
crate::persist_fields!(TableRegister { base, limit });
crate::persist_fields!(Msrs {
    star,
    lstar,
    cstar,
    sfmask,
    kernel_gs_base,
    sysenter_cs,
    sysenter_esp,
    sysenter_eip,
    pat,
    tsc_aux,
    tsc_offset,
    apic_base,
    misc_enable,
});
crate::persist_fields!(X87 {
    fcw,
    fsw,
    ftw,
    fop,
    fip,
    fdp,
    st
});
