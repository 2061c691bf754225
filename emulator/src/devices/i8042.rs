//! The Intel 8042 keyboard controller of the PC/AT, and the keyboard
//! behind it as far as the firmware and an OS probe it (IBM PC/AT Technical
//! Reference, "Keyboard Controller"; IBM PS/2 Hardware Interface Technical
//! Reference, "Keyboard/Auxiliary Device Controller"; QEMU `hw/input/pckbd.c`
//! for the power-on values).
//!
//! # Ports (offsets; the board puts them at 0x60 and 0x64, IRQ 1)
//!
//! | offset | port | read | write |
//! |---|---|---|---|
//! | 0 | 0x60 | output buffer | data: a controller command's parameter, else a keyboard command |
//! | 4 | 0x64 | status register | controller command |
//!
//! Only the low byte of a wider access reaches the port; the rest reads as
//! all-ones. Other offsets read 0xFF and ignore writes.
//!
//! # Status register
//!
//! | bit | name | here |
//! |---|---|---|
//! | 0 | OBF: output buffer full | a byte waits at port 0x60 |
//! | 1 | IBF: input buffer full | always 0: every write is taken at once |
//! | 2 | SYS: system flag | set by self-test (0xAA) or command byte bit 2 |
//! | 3 | A2: last write was a command (0x64) rather than data (0x60) | |
//! | 4 | INH: 1 = keyboard not inhibited (the key lock) | always 1 |
//! | 5 | TxTO / (PS/2) aux output buffer full | set while an aux byte is in the buffer |
//! | 6 | RxTO / (PS/2) timeout | always 0 |
//! | 7 | PERR: parity error | always 0 |
//!
//! # Command byte (controller RAM byte 0)
//!
//! Bit 0 enables IRQ 1 for keyboard bytes, 1 IRQ 12 for aux bytes, 2 is the
//! system flag, 4 disables the keyboard interface, 5 the aux interface, 6
//! asks for scan-code translation.
//!
//! # Controller commands (port 0x64)
//!
//! | command | action |
//! |---|---|
//! | 0x20-0x3F | read controller RAM byte (0x20 = command byte) |
//! | 0x60-0x7F | write controller RAM byte from the next data byte (0x60 = command byte) |
//! | 0xA7 / 0xA8 | disable / enable the aux interface |
//! | 0xA9 | aux interface test: 0x00 |
//! | 0xAA | self-test: 0x55, sets SYS |
//! | 0xAB | keyboard interface test: 0x00 |
//! | 0xAD / 0xAE | disable / enable the keyboard interface |
//! | 0xC0 | read input port |
//! | 0xD0 | read output port |
//! | 0xD1 | write output port: bit 1 = A20 gate, bit 0 = 0 resets the CPU |
//! | 0xD2 / 0xD3 | next data byte appears in the output buffer as if from the keyboard / aux device |
//! | 0xD4 | next data byte goes to the aux device (none is attached: dropped) |
//! | 0xDD / 0xDF | close / open A20 (HP extension many BIOSes use) |
//! | 0xF0-0xFF | pulse output port bits whose bit is 0 in the low nibble; bit 0 = reset (0xFE) |
//!
//! A20 and reset go out as `Control::SetA20` and `Control::Reset`.
//!
//! # The keyboard
//!
//! No keyboard is wired to the host (the console is the serial port), but
//! the keyboard answers commands as a real one does: 0xFA (ACK) to each,
//! 0xFF (reset) with 0xFA 0xAA, 0xF2 (identify) with 0xFA 0xAB 0x83, 0xEE
//! (echo) with 0xEE, 0xFE (resend) with its last byte; 0xED (LEDs), 0xF0
//! (scan-code set; parameter 0 reads it back) and 0xF3 (typematic rate)
//! take one parameter byte, acknowledged too. Writing to the keyboard
//! enables its interface. `push_scancode` is where a future host keyboard
//! will type: bytes go to the guest as given (no translation), and only
//! while the interface and scanning are enabled.
//!
//! # Output buffer and IRQ 1
//!
//! Responses wait in a queue (16 bytes, like a keyboard's buffer; more are
//! dropped) whose head is the output buffer. IRQ 1 is high while a keyboard
//! byte is in the output buffer and command byte bit 0 is set; reading port
//! 0x60 lowers it, and the next queued byte raises it again (one edge per
//! byte). Aux bytes would signal IRQ 12, which is not wired on this board.
//! Reading an empty buffer returns the last byte again.

use super::{ControlQueue, IrqLine, PortDevice};
use crate::bus::Control;
use crate::machine::snapshot::{Persist, Result as SnapResult, SnapshotError, StateIo};
use std::collections::VecDeque;

// Offsets.
const PORT_DATA: u16 = 0;
const PORT_COMMAND: u16 = 4;

// Status register.
const STATUS_OBF: u8 = 0x01;
const STATUS_SYS: u8 = 0x04;
const STATUS_A2: u8 = 0x08;
const STATUS_NOT_INHIBITED: u8 = 0x10;
const STATUS_AUX_OBF: u8 = 0x20;

// Command byte.
const CMD_KBD_IRQ: u8 = 0x01;
const CMD_SYS: u8 = 0x04;
const CMD_KBD_DISABLED: u8 = 0x10;
const CMD_AUX_DISABLED: u8 = 0x20;
/// Power-on command byte: both interrupts enabled (QEMU's value).
const CMD_DEFAULT: u8 = 0x03;

// Output port.
const OUT_RESET: u8 = 0x01;
const OUT_A20: u8 = 0x02;
const OUT_IRQ1: u8 = 0x10;
const OUT_IRQ12: u8 = 0x20;
/// Power-on output port: not in reset, A20 open, unused bits high.
const OUT_DEFAULT: u8 = 0xCF;
/// Input port: bit 7 = keyboard not inhibited.
const INPUT_PORT: u8 = 0x80;

// Controller commands.
const C_READ_RAM: u8 = 0x20;
const C_READ_RAM_LAST: u8 = 0x3F;
const C_WRITE_RAM: u8 = 0x60;
const C_WRITE_RAM_LAST: u8 = 0x7F;
const C_DISABLE_AUX: u8 = 0xA7;
const C_ENABLE_AUX: u8 = 0xA8;
const C_TEST_AUX: u8 = 0xA9;
const C_SELF_TEST: u8 = 0xAA;
const C_TEST_KEYBOARD: u8 = 0xAB;
const C_DISABLE_KEYBOARD: u8 = 0xAD;
const C_ENABLE_KEYBOARD: u8 = 0xAE;
const C_READ_INPUT_PORT: u8 = 0xC0;
const C_READ_OUTPUT_PORT: u8 = 0xD0;
const C_WRITE_OUTPUT_PORT: u8 = 0xD1;
const C_WRITE_KEYBOARD_BUFFER: u8 = 0xD2;
const C_WRITE_AUX_BUFFER: u8 = 0xD3;
const C_WRITE_AUX: u8 = 0xD4;
const C_DISABLE_A20: u8 = 0xDD;
const C_ENABLE_A20: u8 = 0xDF;
const C_PULSE_FIRST: u8 = 0xF0;

const RAM_INDEX_MASK: u8 = 0x1F;
const SELF_TEST_PASSED: u8 = 0x55;
const INTERFACE_TEST_PASSED: u8 = 0x00;

// Keyboard commands and answers.
const K_SET_LEDS: u8 = 0xED;
const K_ECHO: u8 = 0xEE;
const K_SCAN_CODE_SET: u8 = 0xF0;
const K_IDENTIFY: u8 = 0xF2;
const K_TYPEMATIC: u8 = 0xF3;
const K_ENABLE: u8 = 0xF4;
const K_DISABLE: u8 = 0xF5;
const K_DEFAULTS: u8 = 0xF6;
const K_RESEND: u8 = 0xFE;
const K_RESET: u8 = 0xFF;
const K_ACK: u8 = 0xFA;
const K_SELF_TEST_PASSED: u8 = 0xAA;
const K_ID: [u8; 2] = [0xAB, 0x83];
const DEFAULT_SCAN_CODE_SET: u8 = 2;

const QUEUE_LIMIT: usize = 16;

/// What the next byte written to port 0x60 is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataTarget {
    Keyboard,
    Ram(u8),
    OutputPort,
    KeyboardBuffer,
    AuxBuffer,
    Aux,
}

#[derive(Debug, Clone, Copy, Default)]
struct Output {
    byte: u8,
    aux: bool,
}

/// The keyboard on the other end of the cable.
#[derive(Debug)]
struct Keyboard {
    /// A command waiting for its parameter byte.
    awaiting: Option<u8>,
    scanning: bool,
    scan_code_set: u8,
    last_sent: u8,
}

/// The 8042 controller and its keyboard.
#[derive(Debug)]
pub struct I8042 {
    irq1: IrqLine,
    control: ControlQueue,
    output: VecDeque<Output>,
    last_read: u8,
    /// Controller RAM; byte 0 is the command byte.
    ram: [u8; 32],
    output_port: u8,
    system_flag: bool,
    last_write_was_command: bool,
    data_target: DataTarget,
    keyboard: Keyboard,
}

impl I8042 {
    pub fn new(irq1: IrqLine, control: ControlQueue) -> I8042 {
        let mut ram = [0; 32];
        ram[0] = CMD_DEFAULT;
        I8042 {
            irq1,
            control,
            output: VecDeque::new(),
            last_read: 0,
            ram,
            output_port: OUT_DEFAULT,
            system_flag: false,
            last_write_was_command: true,
            data_target: DataTarget::Keyboard,
            keyboard: Keyboard {
                awaiting: None,
                scanning: true,
                scan_code_set: DEFAULT_SCAN_CODE_SET,
                last_sent: 0,
            },
        }
    }

    /// A byte from the keyboard (a scan code), as a future host keyboard
    /// will type it.
    pub fn push_scancode(&mut self, b: u8) {
        if self.keyboard.scanning && self.command_byte() & CMD_KBD_DISABLED == 0 {
            self.keyboard_sends(b);
        }
    }

    fn command_byte(&self) -> u8 {
        self.ram[0]
    }

    /// The command byte as written through 0x60: its bit 2 also sets the
    /// status register's system flag.
    fn write_command_byte(&mut self, value: u8) {
        self.system_flag = value & CMD_SYS != 0;
        self.set_command_byte(value);
    }

    fn set_command_byte(&mut self, value: u8) {
        self.ram[0] = value;
        self.update_irq();
    }

    /// Puts a byte behind whatever waits in the output buffer.
    fn queue(&mut self, byte: u8, aux: bool) {
        if self.output.len() < QUEUE_LIMIT {
            self.output.push_back(Output { byte, aux });
            self.update_irq();
        }
    }

    fn keyboard_sends(&mut self, byte: u8) {
        self.keyboard.last_sent = byte;
        self.queue(byte, false);
    }

    fn irq1_level(&self) -> bool {
        self.output.front().is_some_and(|o| !o.aux) && self.command_byte() & CMD_KBD_IRQ != 0
    }

    fn update_irq(&mut self) {
        self.irq1.set_level(self.irq1_level());
    }

    fn status(&self) -> u8 {
        let mut status = STATUS_NOT_INHIBITED;
        if let Some(front) = self.output.front() {
            status |= STATUS_OBF;
            if front.aux {
                status |= STATUS_AUX_OBF;
            }
        }
        if self.system_flag {
            status |= STATUS_SYS;
        }
        if self.last_write_was_command {
            status |= STATUS_A2;
        }
        status
    }

    fn read_output_buffer(&mut self) -> u8 {
        if let Some(out) = self.output.pop_front() {
            self.last_read = out.byte;
            // Lower, then let the next byte raise it: one edge per byte.
            self.irq1.lower();
            self.update_irq();
        }
        self.last_read
    }

    fn output_port_value(&self) -> u8 {
        let mut value = self.output_port & !(OUT_IRQ1 | OUT_IRQ12);
        if self.irq1_level() {
            value |= OUT_IRQ1;
        }
        if self.output.front().is_some_and(|o| o.aux) {
            value |= OUT_IRQ12;
        }
        value
    }

    fn write_output_port(&mut self, value: u8) {
        self.output_port = value;
        self.control.push(Control::SetA20(value & OUT_A20 != 0));
        if value & OUT_RESET == 0 {
            self.control.push(Control::Reset);
        }
    }

    fn set_a20(&mut self, open: bool) {
        let value = if open {
            self.output_port | OUT_A20
        } else {
            self.output_port & !OUT_A20
        };
        self.write_output_port(value);
    }

    fn command(&mut self, cmd: u8) {
        self.last_write_was_command = true;
        // A new command abandons one still waiting for its data byte.
        self.data_target = DataTarget::Keyboard;
        match cmd {
            C_READ_RAM..=C_READ_RAM_LAST => {
                self.queue(self.ram[(cmd & RAM_INDEX_MASK) as usize], false)
            }
            C_WRITE_RAM..=C_WRITE_RAM_LAST => {
                self.data_target = DataTarget::Ram(cmd & RAM_INDEX_MASK)
            }
            C_DISABLE_AUX => self.set_command_byte(self.command_byte() | CMD_AUX_DISABLED),
            C_ENABLE_AUX => self.set_command_byte(self.command_byte() & !CMD_AUX_DISABLED),
            C_TEST_AUX | C_TEST_KEYBOARD => self.queue(INTERFACE_TEST_PASSED, false),
            C_SELF_TEST => {
                self.system_flag = true;
                self.queue(SELF_TEST_PASSED, false);
            }
            C_DISABLE_KEYBOARD => self.set_command_byte(self.command_byte() | CMD_KBD_DISABLED),
            C_ENABLE_KEYBOARD => self.set_command_byte(self.command_byte() & !CMD_KBD_DISABLED),
            C_READ_INPUT_PORT => self.queue(INPUT_PORT, false),
            C_READ_OUTPUT_PORT => self.queue(self.output_port_value(), false),
            C_WRITE_OUTPUT_PORT => self.data_target = DataTarget::OutputPort,
            C_WRITE_KEYBOARD_BUFFER => self.data_target = DataTarget::KeyboardBuffer,
            C_WRITE_AUX_BUFFER => self.data_target = DataTarget::AuxBuffer,
            C_WRITE_AUX => self.data_target = DataTarget::Aux,
            C_DISABLE_A20 => self.set_a20(false),
            C_ENABLE_A20 => self.set_a20(true),
            C_PULSE_FIRST..=0xFF => {
                // The pulsed bits go low for 6 us and come back: only the
                // reset line has an effect worth modelling.
                if cmd & OUT_RESET == 0 {
                    self.control.push(Control::Reset);
                }
            }
            _ => eprintln!("i8042: unknown controller command {cmd:#04x} ignored"),
        }
    }

    fn data(&mut self, value: u8) {
        self.last_write_was_command = false;
        let target = std::mem::replace(&mut self.data_target, DataTarget::Keyboard);
        match target {
            DataTarget::Keyboard => self.keyboard_command(value),
            DataTarget::Ram(0) => self.write_command_byte(value),
            DataTarget::Ram(i) => self.ram[i as usize] = value,
            DataTarget::OutputPort => self.write_output_port(value),
            DataTarget::KeyboardBuffer => self.queue(value, false),
            DataTarget::AuxBuffer => self.queue(value, true),
            DataTarget::Aux => {}
        }
    }

    fn keyboard_command(&mut self, value: u8) {
        // Sending to the keyboard enables its interface (the 8042 must
        // release the clock line to transmit).
        self.set_command_byte(self.command_byte() & !CMD_KBD_DISABLED);
        if let Some(cmd) = self.keyboard.awaiting.take() {
            self.keyboard_sends(K_ACK);
            if cmd == K_SCAN_CODE_SET {
                match value {
                    0 => self.keyboard_sends(self.keyboard.scan_code_set),
                    1..=3 => self.keyboard.scan_code_set = value,
                    _ => {}
                }
            }
            return;
        }
        match value {
            K_RESET => {
                self.reset_keyboard();
                self.keyboard_sends(K_ACK);
                self.keyboard_sends(K_SELF_TEST_PASSED);
            }
            K_IDENTIFY => {
                self.keyboard_sends(K_ACK);
                self.keyboard_sends(K_ID[0]);
                self.keyboard_sends(K_ID[1]);
            }
            K_ECHO => self.keyboard_sends(K_ECHO),
            K_RESEND => self.queue(self.keyboard.last_sent, false),
            K_SET_LEDS | K_SCAN_CODE_SET | K_TYPEMATIC => {
                self.keyboard.awaiting = Some(value);
                self.keyboard_sends(K_ACK);
            }
            K_ENABLE => {
                self.keyboard.scanning = true;
                self.keyboard_sends(K_ACK);
            }
            K_DISABLE => {
                self.reset_keyboard();
                self.keyboard.scanning = false;
                self.keyboard_sends(K_ACK);
            }
            K_DEFAULTS => {
                self.reset_keyboard();
                self.keyboard_sends(K_ACK);
            }
            _ => self.keyboard_sends(K_ACK),
        }
    }

    fn reset_keyboard(&mut self) {
        self.keyboard.scanning = true;
        self.keyboard.scan_code_set = DEFAULT_SCAN_CODE_SET;
    }
}

impl PortDevice for I8042 {
    fn read(&mut self, offset: u16, size: u8) -> u32 {
        let byte = match offset {
            PORT_DATA => self.read_output_buffer(),
            PORT_COMMAND => self.status(),
            _ => {
                eprintln!("i8042: read at offset {offset} ignored");
                return u32::MAX;
            }
        };
        // The rest of a wider access is not ours.
        let high = if size >= 4 { 0xFFFF_FF00 } else { 0xFF00 };
        byte as u32 | if size > 1 { high } else { 0 }
    }

    fn write(&mut self, offset: u16, _size: u8, value: u32) {
        let byte = value as u8;
        match offset {
            PORT_DATA => self.data(byte),
            PORT_COMMAND => self.command(byte),
            _ => eprintln!("i8042: write {value:#x} at offset {offset} ignored"),
        }
    }
}

// Snapshots (`machine::snapshot`): the output buffer, controller RAM, the
// output port and the keyboard's state.
crate::persist_fields!(Output { byte, aux });
crate::persist_fields!(Keyboard {
    awaiting,
    scanning,
    scan_code_set,
    last_sent,
});

impl Persist for DataTarget {
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        let (mut tag, mut ram) = match *self {
            DataTarget::Keyboard => (0u8, 0u8),
            DataTarget::Ram(i) => (1, i),
            DataTarget::OutputPort => (2, 0),
            DataTarget::KeyboardBuffer => (3, 0),
            DataTarget::AuxBuffer => (4, 0),
            DataTarget::Aux => (5, 0),
        };
        tag.persist(io)?;
        ram.persist(io)?;
        *self = match tag {
            0 => DataTarget::Keyboard,
            1 => DataTarget::Ram(ram & RAM_INDEX_MASK),
            2 => DataTarget::OutputPort,
            3 => DataTarget::KeyboardBuffer,
            4 => DataTarget::AuxBuffer,
            5 => DataTarget::Aux,
            _ => return Err(SnapshotError::Malformed(format!("8042 data target {tag}"))),
        };
        Ok(())
    }
}

impl Persist for I8042 {
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("i8042")?;
        self.output.persist(io)?;
        self.last_read.persist(io)?;
        self.ram.persist(io)?;
        self.output_port.persist(io)?;
        self.system_flag.persist(io)?;
        self.last_write_was_command.persist(io)?;
        self.data_target.persist(io)?;
        self.keyboard.persist(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::IrqLines;
    use std::rc::Rc;

    struct Rig {
        kbc: I8042,
        lines: Rc<IrqLines>,
        control: ControlQueue,
    }

    impl Rig {
        fn new() -> Rig {
            let lines = IrqLines::new();
            let control = ControlQueue::default();
            let kbc = I8042::new(lines.line(1), control.clone());
            Rig {
                kbc,
                lines,
                control,
            }
        }

        fn command(&mut self, cmd: u8) {
            self.kbc.write(PORT_COMMAND, 1, cmd as u32);
        }

        fn write_data(&mut self, value: u8) {
            self.kbc.write(PORT_DATA, 1, value as u32);
        }

        fn read_data(&mut self) -> u8 {
            self.kbc.read(PORT_DATA, 1) as u8
        }

        fn status(&mut self) -> u8 {
            self.kbc.read(PORT_COMMAND, 1) as u8
        }

        fn controls(&self) -> Vec<Control> {
            std::iter::from_fn(|| self.control.pop()).collect()
        }

        fn irq1_high(&self) -> bool {
            self.lines.levels() & (1 << 1) != 0
        }

        fn irq1_edges(&self) -> u16 {
            self.lines.take_rising() & (1 << 1)
        }
    }

    #[test]
    fn power_on_status_has_an_empty_buffer_and_no_lock() {
        let mut rig = Rig::new();

        assert_eq!(rig.status(), STATUS_NOT_INHIBITED | STATUS_A2);
    }

    #[test]
    fn self_test_answers_0x55_and_sets_the_system_flag() {
        let mut rig = Rig::new();

        rig.command(C_SELF_TEST);

        assert_eq!(
            rig.status() & (STATUS_OBF | STATUS_SYS),
            STATUS_OBF | STATUS_SYS
        );
        assert_eq!(rig.read_data(), 0x55);
        assert_eq!(rig.status() & STATUS_OBF, 0);
    }

    #[test]
    fn keyboard_interface_test_answers_0x00() {
        let mut rig = Rig::new();

        rig.command(C_TEST_KEYBOARD);

        assert_eq!(rig.read_data(), 0x00);
    }

    #[test]
    fn command_byte_reads_back_what_was_written() {
        let mut rig = Rig::new();
        rig.command(C_WRITE_RAM);
        rig.write_data(0x45);

        rig.command(C_READ_RAM);

        assert_eq!(rig.read_data(), 0x45);
        assert_eq!(
            rig.status() & STATUS_SYS,
            STATUS_SYS,
            "bit 2 is the system flag"
        );
    }

    #[test]
    fn controller_ram_bytes_read_back_what_was_written() {
        let mut rig = Rig::new();
        rig.command(0x65);
        rig.write_data(0x5A);

        rig.command(0x25);

        assert_eq!(rig.read_data(), 0x5A);
    }

    #[test]
    fn keyboard_disable_and_enable_change_command_byte_bit_4() {
        let mut rig = Rig::new();
        rig.command(C_DISABLE_KEYBOARD);
        rig.command(C_READ_RAM);
        let disabled = rig.read_data();

        rig.command(C_ENABLE_KEYBOARD);
        rig.command(C_READ_RAM);

        assert_eq!(disabled, CMD_DEFAULT | CMD_KBD_DISABLED);
        assert_eq!(rig.read_data(), CMD_DEFAULT);
    }

    #[test]
    fn aux_disable_and_enable_change_command_byte_bit_5() {
        let mut rig = Rig::new();
        rig.command(C_DISABLE_AUX);
        rig.command(C_READ_RAM);
        let disabled = rig.read_data();

        rig.command(C_ENABLE_AUX);
        rig.command(C_READ_RAM);

        assert_eq!(disabled, CMD_DEFAULT | CMD_AUX_DISABLED);
        assert_eq!(rig.read_data(), CMD_DEFAULT);
    }

    #[test]
    fn status_a2_tells_a_command_from_data() {
        let mut rig = Rig::new();
        rig.write_data(K_ENABLE);
        let after_data = rig.status() & STATUS_A2;

        rig.command(C_TEST_KEYBOARD);

        assert_eq!(after_data, 0);
        assert_eq!(rig.status() & STATUS_A2, STATUS_A2);
    }

    #[test]
    fn output_port_bit_1_set_opens_a20() {
        let mut rig = Rig::new();
        rig.command(C_WRITE_OUTPUT_PORT);

        rig.write_data(0xDF);

        assert_eq!(rig.controls(), vec![Control::SetA20(true)]);
    }

    #[test]
    fn output_port_bit_1_clear_closes_a20() {
        let mut rig = Rig::new();
        rig.command(C_WRITE_OUTPUT_PORT);

        rig.write_data(0xDD);

        assert_eq!(rig.controls(), vec![Control::SetA20(false)]);
    }

    #[test]
    fn output_port_bit_0_clear_resets_the_cpu() {
        let mut rig = Rig::new();
        rig.command(C_WRITE_OUTPUT_PORT);

        rig.write_data(0xDE);

        assert_eq!(rig.controls(), vec![Control::SetA20(true), Control::Reset]);
    }

    #[test]
    fn read_output_port_shows_the_written_a20_bit() {
        let mut rig = Rig::new();
        rig.command(C_WRITE_OUTPUT_PORT);
        rig.write_data(0xDD);

        rig.command(C_READ_OUTPUT_PORT);

        assert_eq!(
            rig.read_data(),
            0xCD,
            "IRQ bits 4 and 5 low: buffer was empty"
        );
    }

    #[test]
    fn read_input_port_reports_the_keyboard_not_inhibited() {
        let mut rig = Rig::new();

        rig.command(C_READ_INPUT_PORT);

        assert_eq!(rig.read_data(), INPUT_PORT);
    }

    #[test]
    fn command_0xdd_closes_and_0xdf_opens_a20() {
        let mut rig = Rig::new();

        rig.command(C_DISABLE_A20);
        rig.command(C_ENABLE_A20);

        assert_eq!(
            rig.controls(),
            vec![Control::SetA20(false), Control::SetA20(true)]
        );
    }

    #[test]
    fn command_0xfe_pulses_the_reset_line() {
        let mut rig = Rig::new();

        rig.command(0xFE);

        assert_eq!(rig.controls(), vec![Control::Reset]);
    }

    #[test]
    fn command_0xff_pulses_no_line() {
        let mut rig = Rig::new();

        rig.command(0xFF);

        assert_eq!(rig.controls(), vec![]);
    }

    #[test]
    fn command_0xf0_pulses_the_reset_line_among_others() {
        let mut rig = Rig::new();

        rig.command(0xF0);

        assert_eq!(rig.controls(), vec![Control::Reset]);
    }

    #[test]
    fn keyboard_command_is_acknowledged() {
        let mut rig = Rig::new();

        rig.write_data(K_ENABLE);

        assert_eq!(rig.read_data(), K_ACK);
        assert_eq!(rig.status() & STATUS_OBF, 0);
    }

    #[test]
    fn keyboard_reset_answers_ack_then_self_test_passed() {
        let mut rig = Rig::new();

        rig.write_data(K_RESET);

        assert_eq!([rig.read_data(), rig.read_data()], [0xFA, 0xAA]);
    }

    #[test]
    fn keyboard_identify_answers_ack_ab_83() {
        let mut rig = Rig::new();

        rig.write_data(K_IDENTIFY);

        assert_eq!(
            [rig.read_data(), rig.read_data(), rig.read_data()],
            [0xFA, 0xAB, 0x83]
        );
        assert_eq!(rig.status() & STATUS_OBF, 0);
    }

    #[test]
    fn keyboard_echo_answers_0xee() {
        let mut rig = Rig::new();

        rig.write_data(K_ECHO);

        assert_eq!(rig.read_data(), 0xEE);
    }

    #[test]
    fn keyboard_set_leds_acknowledges_command_and_parameter() {
        let mut rig = Rig::new();

        rig.write_data(K_SET_LEDS);
        rig.write_data(0x07);

        assert_eq!([rig.read_data(), rig.read_data()], [0xFA, 0xFA]);
        assert_eq!(rig.status() & STATUS_OBF, 0);
    }

    #[test]
    fn keyboard_scan_code_set_reads_back() {
        let mut rig = Rig::new();

        rig.write_data(K_SCAN_CODE_SET);
        rig.write_data(0);

        assert_eq!(
            [rig.read_data(), rig.read_data(), rig.read_data()],
            [0xFA, 0xFA, 2]
        );
    }

    #[test]
    fn keyboard_resend_repeats_the_last_byte() {
        let mut rig = Rig::new();
        rig.write_data(K_ECHO);
        rig.read_data();

        rig.write_data(K_RESEND);

        assert_eq!(rig.read_data(), 0xEE);
    }

    #[test]
    fn writing_to_the_keyboard_enables_its_interface() {
        let mut rig = Rig::new();
        rig.command(C_DISABLE_KEYBOARD);
        rig.write_data(K_ENABLE);
        rig.read_data();

        rig.command(C_READ_RAM);

        assert_eq!(rig.read_data() & CMD_KBD_DISABLED, 0);
    }

    #[test]
    fn irq1_rises_when_a_byte_enters_the_output_buffer() {
        let mut rig = Rig::new();

        rig.write_data(K_ENABLE);

        assert!(rig.irq1_high());
        assert_eq!(rig.irq1_edges(), 1 << 1);
    }

    #[test]
    fn irq1_falls_when_the_output_buffer_is_read() {
        let mut rig = Rig::new();
        rig.write_data(K_ENABLE);

        rig.read_data();

        assert!(!rig.irq1_high());
    }

    #[test]
    fn irq1_gives_an_edge_for_each_queued_byte() {
        let mut rig = Rig::new();
        rig.write_data(K_IDENTIFY);
        rig.irq1_edges();

        rig.read_data();

        assert!(rig.irq1_high());
        assert_eq!(
            rig.irq1_edges(),
            1 << 1,
            "the second byte is a new interrupt"
        );
    }

    #[test]
    fn irq1_stays_low_while_command_byte_bit_0_is_clear() {
        let mut rig = Rig::new();
        rig.command(C_WRITE_RAM);
        rig.write_data(0x00);

        rig.command(C_SELF_TEST);

        assert_eq!(rig.status() & STATUS_OBF, STATUS_OBF);
        assert!(!rig.irq1_high());
    }

    #[test]
    fn enabling_keyboard_interrupts_with_a_byte_waiting_raises_irq1() {
        let mut rig = Rig::new();
        rig.command(C_WRITE_RAM);
        rig.write_data(0x00);
        rig.command(C_SELF_TEST);
        rig.command(C_WRITE_RAM);

        rig.write_data(CMD_KBD_IRQ);

        assert!(rig.irq1_high());
        assert_eq!(rig.read_data(), 0x55);
    }

    #[test]
    fn an_empty_output_buffer_reads_the_last_byte_again() {
        let mut rig = Rig::new();
        rig.command(C_SELF_TEST);
        rig.read_data();

        let again = rig.read_data();

        assert_eq!(again, 0x55);
        assert!(!rig.irq1_high());
    }

    #[test]
    fn pushed_scancode_reaches_the_output_buffer_with_irq1() {
        let mut rig = Rig::new();

        rig.kbc.push_scancode(0x1E);

        assert!(rig.irq1_high());
        assert_eq!(rig.read_data(), 0x1E);
    }

    #[test]
    fn pushed_scancode_is_dropped_while_the_keyboard_is_disabled() {
        let mut rig = Rig::new();
        rig.command(C_DISABLE_KEYBOARD);

        rig.kbc.push_scancode(0x1E);

        assert_eq!(rig.status() & STATUS_OBF, 0);
    }

    #[test]
    fn write_keyboard_buffer_makes_a_byte_appear_from_the_keyboard() {
        let mut rig = Rig::new();
        rig.command(C_WRITE_KEYBOARD_BUFFER);

        rig.write_data(0x42);

        assert!(rig.irq1_high());
        assert_eq!(rig.read_data(), 0x42);
    }

    #[test]
    fn write_aux_buffer_sets_aux_obf_but_not_irq1() {
        let mut rig = Rig::new();
        rig.command(C_WRITE_AUX_BUFFER);

        rig.write_data(0x5A);

        assert_eq!(
            rig.status() & (STATUS_OBF | STATUS_AUX_OBF),
            STATUS_OBF | STATUS_AUX_OBF
        );
        assert!(!rig.irq1_high());
        assert_eq!(rig.read_data(), 0x5A);
    }

    #[test]
    fn bytes_for_the_absent_aux_device_are_dropped() {
        let mut rig = Rig::new();
        rig.command(C_WRITE_AUX);

        rig.write_data(0xFF);

        assert_eq!(rig.status() & STATUS_OBF, 0);
    }

    #[test]
    fn the_output_queue_stops_growing_at_16_bytes() {
        let mut rig = Rig::new();
        for _ in 0..20 {
            rig.write_data(K_ENABLE);
        }

        for _ in 0..QUEUE_LIMIT {
            rig.read_data();
        }

        assert_eq!(rig.status() & STATUS_OBF, 0);
    }

    #[test]
    fn accesses_at_other_offsets_are_ignored() {
        let mut rig = Rig::new();

        rig.kbc.write(2, 1, 0xFE);

        assert_eq!(rig.kbc.read(2, 1), 0xFFFF_FFFF);
        assert_eq!(rig.controls(), vec![]);
    }

    #[test]
    fn a_word_read_of_the_status_port_has_all_ones_above_the_byte() {
        let mut rig = Rig::new();

        let word = rig.kbc.read(PORT_COMMAND, 2);

        assert_eq!(word, 0xFF00 | (STATUS_NOT_INHIBITED | STATUS_A2) as u32);
    }

    #[test]
    fn any_sequence_of_guest_accesses_leaves_the_controller_usable() {
        let mut rig = Rig::new();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let r = next();
            let offset = [0, 4, 1][(r % 3) as usize];
            let size = [1, 2, 4][(r >> 8) as usize % 3];
            if r >> 16 & 1 == 0 {
                rig.kbc.write(offset, size, (r >> 32) as u32);
            } else {
                rig.kbc.read(offset, size);
            }
        }
        rig.controls();
        rig.command(C_READ_RAM);
        while rig.status() & STATUS_OBF != 0 {
            rig.read_data();
        }

        rig.command(C_SELF_TEST);

        assert_eq!(rig.read_data(), 0x55);
    }

    #[test]
    fn disabling_the_keyboard_keeps_the_system_flag_from_self_test() {
        let mut rig = Rig::new();
        rig.command(C_SELF_TEST);
        rig.read_data();

        rig.command(C_DISABLE_KEYBOARD);

        assert_eq!(rig.status() & STATUS_SYS, STATUS_SYS);
    }
}
