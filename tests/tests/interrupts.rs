//! External interrupts and NMI: the CPU takes INTR only with IF set and no
//! interrupt shadow, acknowledges it on the bus to get the vector, wakes
//! from HLT, and blocks further NMIs until IRET.

use emulator::bare::BareMode;
use emulator::bus::Bus;
use emulator::cpu::Stop;
use iced_x86::code_asm::*;
use integration_tests::Vm;
use std::cell::RefCell;
use std::rc::Rc;

/// An interrupt controller stand-in: a pending flag and a vector.
#[derive(Default)]
struct Pic {
    pending: bool,
    vector: u8,
    acks: u32,
}

struct PicBus(Rc<RefCell<Pic>>);

impl Bus for PicBus {
    fn io_read(&mut self, _: u16, _: u8) -> u32 {
        u32::MAX
    }
    fn io_write(&mut self, _: u16, _: u8, _: u32) {}
    fn mmio_read(&mut self, _: u64, _: u8) -> u64 {
        u64::MAX
    }
    fn mmio_write(&mut self, _: u64, _: u8, _: u64) {}
    fn interrupt_pending(&self) -> bool {
        self.0.borrow().pending
    }
    fn acknowledge_interrupt(&mut self) -> u8 {
        let mut p = self.0.borrow_mut();
        p.pending = false;
        p.acks += 1;
        p.vector
    }
}

const IDT: u64 = 0x3000;
const HANDLER: u64 = 0x20_0000;

/// A 64-bit interrupt gate for `vector` pointing at `target`.
fn gate64(vm: &mut Vm, vector: u8, target: u64) {
    let lo = (target & 0xFFFF)
        | ((emulator::bare::sel::CODE64 as u64) << 16)
        | (0x8E << 40)
        | ((target >> 16) & 0xFFFF) << 48;
    let hi = target >> 32;
    let at = IDT + vector as u64 * 16;
    vm.cpu.write_phys(at, &lo.to_le_bytes());
    vm.cpu.write_phys(at + 8, &hi.to_le_bytes());
}

/// A long-mode machine whose IDT sends `vector` (and NMI, vector 2) to a
/// handler that copies R9 to R10, counts in R8, and returns with IRETQ.
fn machine(
    main: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
    vector: u8,
) -> (Vm, Rc<RefCell<Pic>>) {
    let mut vm = Vm::with_asm(BareMode::Long64, main);
    let pic = Rc::new(RefCell::new(Pic {
        vector,
        ..Pic::default()
    }));
    vm.cpu.bus = Box::new(PicBus(pic.clone()));
    let handler = integration_tests::assemble(64, HANDLER, |a| {
        a.mov(r10, r9)?;
        a.inc(r8)?;
        a.iretq()
    });
    vm.cpu.write_phys(HANDLER, &handler);
    gate64(&mut vm, vector, HANDLER);
    gate64(&mut vm, 2, HANDLER);
    vm.cpu.idtr.base = IDT;
    vm.cpu.idtr.limit = 0xFFF;
    (vm, pic)
}

#[test]
fn pending_interrupt_wakes_hlt_and_runs_the_handler() {
    let (mut vm, pic) = machine(
        |a| {
            a.sti()?;
            a.hlt()?;
            a.mov(r11, 7u64)?;
            a.hlt()
        },
        0x20,
    );
    assert_eq!(vm.cpu.run(100), Stop::Halted);

    pic.borrow_mut().pending = true;
    let stop = vm.cpu.run(100);

    assert_eq!(stop, Stop::Halted);
    assert_eq!(vm.cpu.gpr[8], 1, "handler ran once");
    assert_eq!(vm.cpu.gpr[11], 7, "execution resumed after the first HLT");
    assert_eq!(pic.borrow().acks, 1);
}

#[test]
fn interrupt_waits_while_if_is_clear() {
    let (mut vm, pic) = machine(
        |a| {
            a.cli()?;
            a.mov(r11, 1u64)?;
            a.hlt()
        },
        0x20,
    );
    pic.borrow_mut().pending = true;

    assert_eq!(vm.cpu.run(100), Stop::Halted);

    assert_eq!(vm.cpu.gpr[8], 0);
    assert_eq!(pic.borrow().acks, 0);
}

#[test]
fn sti_delays_the_interrupt_by_one_instruction() {
    let (mut vm, pic) = machine(
        |a| {
            a.cli()?;
            a.sti()?;
            a.inc(r9)?;
            a.hlt()
        },
        0x20,
    );
    pic.borrow_mut().pending = true;

    vm.cpu.run(100);

    assert_eq!(vm.cpu.gpr[8], 1);
    assert_eq!(
        vm.cpu.gpr[10], 1,
        "the instruction after STI ran before the handler"
    );
}

#[test]
fn nmi_is_taken_with_if_clear_and_blocked_until_iret() {
    let (mut vm, _pic) = machine(
        |a| {
            a.cli()?;
            a.hlt()?;
            a.hlt()?;
            a.hlt()
        },
        0x20,
    );
    assert_eq!(vm.cpu.run(100), Stop::Halted);

    vm.cpu.raise_nmi();
    vm.cpu.run(100);
    assert_eq!(vm.cpu.gpr[8], 1, "NMI handler ran with IF clear");

    vm.cpu.raise_nmi();
    vm.cpu.run(100);
    assert_eq!(vm.cpu.gpr[8], 2, "IRETQ unblocked NMIs");
}
