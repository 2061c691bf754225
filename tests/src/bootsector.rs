//! The BIOS (`emulator::firmware::BIOS`) on the full board: a machine on
//! the deterministic virtual clock with its serial console captured, boot
//! sectors assembled with iced-x86 (16-bit, at 0000:7C00), disk images
//! holding them, and a way to run a test program at 0000:7C00 on a
//! machine whose POST has finished without booting anything.

use crossbeam_channel::{unbounded, Receiver};
use emulator::cpu::state::SegReg;
use emulator::cpu::state::Segment;
use emulator::devices::disk::DiskMode;
use emulator::machine::clock::ClockMode;
use emulator::machine::{DiskSpec, HostIo, Machine, MachineConfig, Outcome};
use iced_x86::code_asm::CodeAssembler;
use iced_x86::IcedError;
use std::io::Write;

/// Where the BIOS loads and starts the boot sector.
pub const BOOT_ADDR: u64 = 0x7C00;
/// 2026-11-21 12:34:56 UTC, a Saturday: the RTC start of every test machine.
pub const RTC_START: i64 = 1_795_264_496;
/// Guest RAM of the default test machine.
pub const RAM_SIZE: u64 = 256 << 20;
/// Instruction limit: POST takes about a million instructions.
pub const MAX_INSTRUCTIONS: u64 = 200_000_000;

/// A machine running the real BIOS, with its COM1 output collected.
pub struct BiosMachine {
    pub machine: Machine,
    com1: Receiver<u8>,
    serial: Vec<u8>,
    // Keeps the other channel ends open (a closed input reads as no data).
    _keep: Vec<Box<dyn std::any::Any>>,
}

impl BiosMachine {
    /// A machine with `ram_size` bytes of RAM and `disks` (images, in ATA
    /// order), snapshot mode so the files are never written.
    pub fn new(ram_size: u64, disks: &[&std::path::Path]) -> BiosMachine {
        BiosMachine::with_bios(emulator::firmware::BIOS.to_vec(), ram_size, disks)
    }

    /// Like `new`, with another ROM image (e.g. a damaged copy of the BIOS).
    pub fn with_bios(bios: Vec<u8>, ram_size: u64, disks: &[&std::path::Path]) -> BiosMachine {
        let config = MachineConfig {
            ram_size,
            bios,
            disks: disks
                .iter()
                .map(|p| DiskSpec {
                    path: p.to_path_buf(),
                    mode: DiskMode::Snapshot,
                })
                .collect(),
            clock: ClockMode::Virtual,
            no_reboot: true,
            max_instructions: Some(MAX_INSTRUCTIONS),
            timeout: None,
            rtc_start: Some(RTC_START),
        };
        let (com1_out, com1) = unbounded();
        let (com1_in_tx, com1_in) = unbounded::<u8>();
        let (com2_out, com2_rx) = unbounded();
        let (com2_in_tx, com2_in) = unbounded::<u8>();
        let (debug_out, debug_rx) = unbounded();
        let (quit_tx, quit) = unbounded::<()>();
        let io = HostIo {
            com1_out,
            com1_in,
            com2_out,
            com2_in,
            debug_out,
            quit,
        };
        let machine = Machine::new(config, io).expect("machine");
        BiosMachine {
            machine,
            com1,
            serial: Vec::new(),
            _keep: vec![
                Box::new(com1_in_tx),
                Box::new(com2_rx),
                Box::new(com2_in_tx),
                Box::new(debug_rx),
                Box::new(quit_tx),
            ],
        }
    }

    /// Runs until the machine stops (exit port, halt with interrupts off,
    /// instruction limit).
    pub fn run(&mut self) -> Outcome {
        let outcome = self.machine.run();
        self.serial.extend(self.com1.try_iter());
        outcome
    }

    /// Everything written to COM1 so far, "\r\n" turned into "\n".
    pub fn serial(&mut self) -> String {
        self.serial.extend(self.com1.try_iter());
        String::from_utf8_lossy(&self.serial).replace("\r\n", "\n")
    }

    /// Writes `value` to CMOS byte `index` (before `run`: what POST reads).
    pub fn set_cmos(&mut self, index: u8, value: u8) {
        use emulator::devices::PortDevice;
        let mut board = self.machine.board.borrow_mut();
        board.cmos.write(0, 1, index as u32);
        board.cmos.write(1, 1, value as u32);
    }

    /// Guest RAM from physical address 0.
    pub fn ram(&self) -> &[u8] {
        self.machine.cpu.mem.ram()
    }

    pub fn read_u16(&self, addr: usize) -> u16 {
        u16::from_le_bytes(self.ram()[addr..addr + 2].try_into().unwrap())
    }

    pub fn read_u32(&self, addr: usize) -> u32 {
        u32::from_le_bytes(self.ram()[addr..addr + 4].try_into().unwrap())
    }

    pub fn read_u64(&self, addr: usize) -> u64 {
        u64::from_le_bytes(self.ram()[addr..addr + 8].try_into().unwrap())
    }

    /// Puts `code` at 0000:7C00 and starts it there as the BIOS would start
    /// a boot sector: the CPU is reset (RAM, the IVT and the devices keep
    /// what POST set up), CS:IP = 0000:7C00, SS:SP = 0000:7C00, DL = 0x80.
    /// For machines whose POST ended without booting (no disk).
    pub fn start_program(&mut self, code: &[u8]) {
        let at = BOOT_ADDR as usize;
        self.machine.cpu.mem.ram_mut()[at..at + code.len()].copy_from_slice(code);
        let cpu = &mut self.machine.cpu;
        cpu.reset();
        cpu.seg[SegReg::Cs as usize] = Segment::real_mode(0);
        cpu.rip = BOOT_ADDR;
        cpu.gpr[4] = BOOT_ADDR; // SP
        cpu.gpr[2] = 0x80; // DL
    }
}

/// Assembles 16-bit code to run at 0000:7C00.
pub fn assemble16(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
    let mut a = CodeAssembler::new(16).unwrap();
    f(&mut a).unwrap();
    a.assemble(BOOT_ADDR).unwrap()
}

/// A 512-byte boot sector holding `code`, with or without the 55h AAh
/// signature at offset 510.
pub fn boot_sector(code: &[u8], signature: bool) -> Vec<u8> {
    assert!(
        code.len() <= 510,
        "boot sector code is {} bytes",
        code.len()
    );
    let mut s = vec![0u8; 512];
    s[..code.len()].copy_from_slice(code);
    if signature {
        s[510] = 0x55;
        s[511] = 0xAA;
    }
    s
}

/// A disk image of `sectors` 512-byte sectors starting with `first`.
pub fn disk_image(first: &[u8], sectors: usize) -> tempfile::NamedTempFile {
    let mut image = vec![0u8; sectors * 512];
    image[..first.len()].copy_from_slice(first);
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&image).unwrap();
    f
}

/// `out 0xF4, al` with AL = `status`: ends the run with Outcome::Exit.
pub fn exit(a: &mut CodeAssembler, status: u8) -> Result<(), IcedError> {
    a.mov(iced_x86::code_asm::al, status as u32)?;
    a.out(0xF4, iced_x86::code_asm::al)
}
