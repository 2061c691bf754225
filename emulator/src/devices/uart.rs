//! National Semiconductor PC16550D (16550A) UART: the PC's serial ports
//! (COM1 at 0x3F8 on IRQ 4, COM2 at 0x2F8 on IRQ 3; the board decides).
//!
//! Datasheet: "PC16550D Universal Asynchronous Receiver/Transmitter with
//! FIFOs", Table II (register summary), sections 8.1-8.10.
//!
//! Registers, by offset (DLAB = LCR bit 7):
//!
//! | offset | read                         | write                     |
//! |--------|------------------------------|---------------------------|
//! | 0      | RBR receive buffer (DLL)     | THR transmit holding (DLL)|
//! | 1      | IER interrupt enable (DLM)   | IER (DLM)                 |
//! | 2      | IIR interrupt identification | FCR FIFO control          |
//! | 3      | LCR line control             | LCR                       |
//! | 4      | MCR modem control            | MCR                       |
//! | 5      | LSR line status              | (factory test: ignored)   |
//! | 6      | MSR modem status             | (ignored)                 |
//! | 7      | SCR scratch                  | SCR                       |
//!
//! Behaviour modelled:
//!
//! - 16-byte receive FIFO when FCR bit 0 is set (one-byte RBR otherwise),
//!   FIFO reset bits, receive trigger levels 1/4/8/14.
//! - Interrupts by priority (Table IV): receiver line status (IIR 0x06:
//!   OE/PE/FE/BI, cleared by reading LSR) > received data available (0x04:
//!   FIFO at the trigger level, or RBR full) / character timeout (0x0C) >
//!   THR empty (0x02: cleared by reading IIR while it is reported, or by
//!   writing THR; set when THR empties or when ETBEI is enabled with THR
//!   empty) > modem status (0x00: cleared by reading MSR). IIR bits 7:6 are
//!   11 while the FIFOs are enabled.
//! - Character timeout: in FIFO mode, when at least one character sits in
//!   the receive FIFO and nothing was received or read for four character
//!   times, on the virtual clock. One character time is start + data +
//!   parity + stop bits at 115200 / divisor baud (10 bits for 8N1).
//! - Overrun: in FIFO mode a character arriving with the FIFO full is
//!   lost; in 16450 mode it overwrites the unread RBR ("destroying the
//!   previous character", LSR bit 1). Either way LSR.OE is set. Host input
//!   never overruns: host bytes wait in their channel until there is room.
//! - LSR bit 7 (error in receiver FIFO) while any character in the FIFO
//!   carries a parity, framing or break error; PE/FE/BI describe the
//!   character at the head of the FIFO and stay latched until LSR is read.
//! - MCR loopback: transmitted characters come back to the receiver and do
//!   not reach the host; host input is disconnected; MSR's CTS, DSR, RI
//!   and DCD follow RTS, DTR, OUT1 and OUT2, with their delta bits.
//! - The interrupt output reaches the IRQ line only while OUT2 is set: on a
//!   PC, OUT2 enables the tri-state buffer in front of the IRQ. In loopback
//!   the modem-control output pins are forced inactive (section 8.6), so
//!   the IRQ line stays low there too.
//!
//! Deliberate simplifications:
//!
//! - Transmission is instantaneous: a byte written to THR goes to the host
//!   (or, in loopback, to the receiver) at once, so THR and the transmitter
//!   are always empty (LSR.THRE and LSR.TEMT read 1) and the transmit FIFO
//!   never holds anything (FCR bit 2 has nothing to clear). Writing THR
//!   clears the THR-empty interrupt and, the THR having emptied again,
//!   raises it anew: the IRQ line drops and rises, a fresh edge, which is
//!   what a driver waiting for THRE to send its next byte needs. Guest
//!   output costs no virtual time.
//! - Host bytes carry no framing, so parity and framing errors do not
//!   occur on host input; `receive_break` injects a break (BI) and
//!   overruns come from loopback. Setting LCR's break bit (6) sends
//!   nothing to the host.
//! - A divisor of 0 counts as 65536 (the baud counter wraps).
//! - FCR bit 3 (DMA mode) only changes the RXRDY/TXRDY pins, which the
//!   PC leaves unconnected: ignored.
//!
//! Host side: transmitted bytes go to a `crossbeam_channel::Sender<u8>`
//! (dropped if the receiver is gone; use an unbounded channel, a full
//! bounded one would block the machine); received bytes come from a
//! `crossbeam_channel::Receiver<u8>`, pulled by `Timed::advance` as long
//! as the receive FIFO has room.

use super::{IrqLine, Nanos, Now, PortDevice, Timed};
use crossbeam_channel::{Receiver, Sender};
use std::collections::VecDeque;

/// Register offsets.
pub mod reg {
    /// RBR (read) / THR (write); DLL when DLAB = 1.
    pub const DATA: u16 = 0;
    /// IER; DLM when DLAB = 1.
    pub const IER: u16 = 1;
    /// IIR (read) / FCR (write).
    pub const IIR_FCR: u16 = 2;
    pub const LCR: u16 = 3;
    pub const MCR: u16 = 4;
    pub const LSR: u16 = 5;
    pub const MSR: u16 = 6;
    pub const SCR: u16 = 7;
}

/// Interrupt enable register bits.
pub mod ier {
    /// Received data available (and character timeout).
    pub const ERBFI: u8 = 1 << 0;
    /// Transmitter holding register empty.
    pub const ETBEI: u8 = 1 << 1;
    /// Receiver line status.
    pub const ELSI: u8 = 1 << 2;
    /// Modem status.
    pub const EDSSI: u8 = 1 << 3;
    pub const WRITABLE: u8 = 0x0F;
}

/// Interrupt identification register values (Table IV).
pub mod iir {
    pub const NONE: u8 = 0x01;
    pub const LINE_STATUS: u8 = 0x06;
    pub const RX_DATA: u8 = 0x04;
    pub const CHAR_TIMEOUT: u8 = 0x0C;
    pub const THR_EMPTY: u8 = 0x02;
    pub const MODEM_STATUS: u8 = 0x00;
    /// Bits 7:6, set while the FIFOs are enabled.
    pub const FIFOS_ENABLED: u8 = 0xC0;
}

/// FIFO control register bits.
pub mod fcr {
    pub const ENABLE: u8 = 1 << 0;
    pub const RX_RESET: u8 = 1 << 1;
    pub const TX_RESET: u8 = 1 << 2;
    /// DMA mode select: only RXRDY/TXRDY pins, unused on a PC.
    pub const DMA_MODE: u8 = 1 << 3;
    /// Bits 7:6: receive trigger level 1, 4, 8 or 14 bytes.
    pub const TRIGGER_SHIFT: u8 = 6;
    pub const TRIGGER_LEVELS: [usize; 4] = [1, 4, 8, 14];
}

/// Line control register bits.
pub mod lcr {
    /// Bits 1:0: word length 5-8 bits.
    pub const WORD_LENGTH: u8 = 0x03;
    /// 2 stop bits (1.5 with 5-bit words).
    pub const STOP_BITS: u8 = 1 << 2;
    pub const PARITY_ENABLE: u8 = 1 << 3;
    pub const EVEN_PARITY: u8 = 1 << 4;
    pub const STICK_PARITY: u8 = 1 << 5;
    pub const SET_BREAK: u8 = 1 << 6;
    /// Divisor latch access: offsets 0 and 1 reach DLL and DLM.
    pub const DLAB: u8 = 1 << 7;
}

/// Modem control register bits.
pub mod mcr {
    pub const DTR: u8 = 1 << 0;
    pub const RTS: u8 = 1 << 1;
    pub const OUT1: u8 = 1 << 2;
    /// On a PC: enables the interrupt output onto the IRQ line.
    pub const OUT2: u8 = 1 << 3;
    pub const LOOP: u8 = 1 << 4;
    pub const WRITABLE: u8 = 0x1F;
}

/// Line status register bits.
pub mod lsr {
    pub const DR: u8 = 1 << 0;
    pub const OE: u8 = 1 << 1;
    pub const PE: u8 = 1 << 2;
    pub const FE: u8 = 1 << 3;
    pub const BI: u8 = 1 << 4;
    pub const THRE: u8 = 1 << 5;
    pub const TEMT: u8 = 1 << 6;
    /// Error in receiver FIFO (FIFO mode only).
    pub const FIFO_ERROR: u8 = 1 << 7;
    /// The error bits that raise the receiver line status interrupt.
    pub const ERRORS: u8 = OE | PE | FE | BI;
}

/// Modem status register bits.
pub mod msr {
    pub const DCTS: u8 = 1 << 0;
    pub const DDSR: u8 = 1 << 1;
    /// Trailing edge of ring indicator (RI went from on to off).
    pub const TERI: u8 = 1 << 2;
    pub const DDCD: u8 = 1 << 3;
    pub const CTS: u8 = 1 << 4;
    pub const DSR: u8 = 1 << 5;
    pub const RI: u8 = 1 << 6;
    pub const DCD: u8 = 1 << 7;
    pub const LINES: u8 = CTS | DSR | RI | DCD;
}

/// The UART's reference clock divided by 16: the baud rate at divisor 1.
pub const BASE_BAUD: u64 = 1_843_200 / 16;
/// Receive FIFO depth.
pub const FIFO_SIZE: usize = 16;
/// Character times without receiver activity before a FIFO timeout.
const TIMEOUT_CHARS: u64 = 4;
const NANOS_PER_SECOND: u64 = 1_000_000_000;
/// Modem inputs presented by the host: a peer that is always ready.
const HOST_MODEM_LINES: u8 = msr::CTS | msr::DSR | msr::DCD;

/// A received character and the errors it arrived with (LSR PE/FE/BI).
#[derive(Debug, Clone, Copy)]
struct RxChar {
    byte: u8,
    errors: u8,
}

/// One 16550A.
pub struct Uart {
    irq: IrqLine,
    now: Now,
    output: Sender<u8>,
    input: Receiver<u8>,

    divisor: u16,
    ier: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    fifo_enabled: bool,
    rx_trigger: usize,

    /// The receive FIFO (capacity 1 in 16450 mode: the RBR).
    rx: VecDeque<RxChar>,
    /// What RBR reads when nothing new has arrived.
    last_rx: u8,
    /// LSR OE/PE/FE/BI, latched until LSR is read.
    line_errors: u8,
    /// LSR bit 7.
    fifo_error: bool,
    /// The THR emptied and neither an IIR read nor a THR write has
    /// acknowledged it yet.
    thre_pending: bool,
    timeout_pending: bool,
    /// Last receive or RBR read: the character timeout counts from here.
    rx_quiet_since: Nanos,

    /// Modem inputs (MSR bits 7:4) presented by the host side.
    host_modem_lines: u8,
    /// MSR bits 7:4 as the chip sees them now (loopback or host).
    modem_lines: u8,
    /// MSR bits 3:0, cleared by reading MSR.
    modem_deltas: u8,
}

impl Uart {
    /// A UART after master reset, its interrupt output wired to `irq`,
    /// transmitting to `output` and receiving from `input`.
    pub fn new(irq: IrqLine, now: Now, output: Sender<u8>, input: Receiver<u8>) -> Uart {
        let uart = Uart {
            irq,
            now,
            output,
            input,
            divisor: 0,
            ier: 0,
            lcr: 0,
            mcr: 0,
            scr: 0,
            fifo_enabled: false,
            rx_trigger: fcr::TRIGGER_LEVELS[0],
            rx: VecDeque::with_capacity(FIFO_SIZE),
            last_rx: 0,
            line_errors: 0,
            fifo_error: false,
            thre_pending: false,
            timeout_pending: false,
            rx_quiet_since: 0,
            host_modem_lines: HOST_MODEM_LINES,
            modem_lines: HOST_MODEM_LINES,
            modem_deltas: 0,
        };
        uart.update_irq();
        uart
    }

    /// The host side sends a break: the receiver loads one zero character
    /// flagged with BI (section 8.4, LSR bit 4).
    pub fn receive_break(&mut self) {
        let now = self.now.get();
        self.receive(0, lsr::BI, now);
    }

    /// Sets the modem inputs the host side presents (MSR bits 7:4: CTS,
    /// DSR, RI, DCD); by default CTS, DSR and DCD are on. Changes set the
    /// MSR delta bits, except while in loopback, where the inputs are
    /// disconnected.
    pub fn set_modem_inputs(&mut self, lines: u8) {
        self.host_modem_lines = lines & msr::LINES;
        self.refresh_modem_lines();
        self.update_irq();
    }

    /// The current divisor latch (DLM:DLL).
    pub fn divisor(&self) -> u16 {
        self.divisor
    }

    /// One character time on the wire: start, data, parity and stop bits
    /// at 115200 / divisor baud.
    pub fn char_time(&self) -> Nanos {
        let data_bits = 5 + u64::from(self.lcr & lcr::WORD_LENGTH);
        let parity_bits = u64::from(self.lcr & lcr::PARITY_ENABLE != 0);
        let stop_half_bits = match (self.lcr & lcr::STOP_BITS != 0, data_bits) {
            (false, _) => 2,
            (true, 5) => 3,
            (true, _) => 4,
        };
        let half_bits = 2 * (1 + data_bits + parity_bits) + stop_half_bits;
        let divisor = match self.divisor {
            0 => 0x1_0000,
            d => u64::from(d),
        };
        half_bits * divisor * NANOS_PER_SECOND / (2 * BASE_BAUD)
    }

    fn loopback(&self) -> bool {
        self.mcr & mcr::LOOP != 0
    }

    fn rx_capacity(&self) -> usize {
        if self.fifo_enabled {
            FIFO_SIZE
        } else {
            1
        }
    }

    /// The bits of a character the current word length carries.
    fn word_mask(&self) -> u8 {
        (0xFFu16 >> (3 - (self.lcr & lcr::WORD_LENGTH))) as u8
    }

    fn rx_data_available(&self) -> bool {
        if self.fifo_enabled {
            self.rx.len() >= self.rx_trigger
        } else {
            !self.rx.is_empty()
        }
    }

    /// The highest-priority pending, enabled interrupt, as IIR bits 3:0.
    fn interrupt_id(&self) -> u8 {
        if self.ier & ier::ELSI != 0 && self.line_errors != 0 {
            iir::LINE_STATUS
        } else if self.ier & ier::ERBFI != 0 && self.rx_data_available() {
            iir::RX_DATA
        } else if self.ier & ier::ERBFI != 0 && self.timeout_pending {
            iir::CHAR_TIMEOUT
        } else if self.ier & ier::ETBEI != 0 && self.thre_pending {
            iir::THR_EMPTY
        } else if self.ier & ier::EDSSI != 0 && self.modem_deltas != 0 {
            iir::MODEM_STATUS
        } else {
            iir::NONE
        }
    }

    /// Drives the IRQ line: the chip's INTR output, passed on by the PC's
    /// buffer only while the OUT2 pin is active (not in loopback).
    fn update_irq(&self) {
        let out2_pin = self.mcr & mcr::OUT2 != 0 && !self.loopback();
        self.irq
            .set_level(out2_pin && self.interrupt_id() != iir::NONE);
    }

    /// A character has been assembled by the receiver at time `now`.
    fn receive(&mut self, byte: u8, errors: u8, now: Nanos) {
        let ch = RxChar {
            byte: byte & self.word_mask(),
            errors,
        };
        if self.rx.len() >= self.rx_capacity() {
            self.line_errors |= lsr::OE;
            if !self.fifo_enabled {
                // 16450 mode: the new character overwrites the unread RBR.
                self.rx[0] = ch;
                self.line_errors |= errors;
            }
        } else {
            if self.rx.is_empty() {
                self.line_errors |= errors;
            }
            self.rx.push_back(ch);
            if errors != 0 {
                self.fifo_error = true;
            }
        }
        self.rx_quiet_since = now;
        self.update_irq();
    }

    /// Pulls host bytes into the receiver while it has room.
    fn pull_host_input(&mut self, now: Nanos) {
        if self.loopback() {
            return;
        }
        while self.rx.len() < self.rx_capacity() {
            match self.input.try_recv() {
                Ok(byte) => self.receive(byte, 0, now),
                Err(_) => break,
            }
        }
    }

    /// When the character timeout falls due, if it is running.
    fn timeout_deadline(&self) -> Option<Nanos> {
        if self.fifo_enabled && !self.rx.is_empty() && !self.timeout_pending {
            Some(self.rx_quiet_since + TIMEOUT_CHARS * self.char_time())
        } else {
            None
        }
    }

    fn run_timeout(&mut self, now: Nanos) {
        if self.timeout_deadline().is_some_and(|due| now >= due) {
            self.timeout_pending = true;
            self.update_irq();
        }
    }

    fn transmit(&mut self, byte: u8) {
        // Writing THR acknowledges the THR-empty interrupt...
        self.thre_pending = false;
        self.update_irq();
        let byte = byte & self.word_mask();
        if self.loopback() {
            let now = self.now.get();
            self.receive(byte, 0, now);
        } else {
            // A host that stopped listening loses the output, nothing more.
            let _ = self.output.send(byte);
        }
        // ...and the transmitter, being instantaneous, empties THR again.
        self.thre_pending = true;
        self.update_irq();
    }

    fn read_rbr(&mut self) -> u8 {
        if let Some(ch) = self.rx.pop_front() {
            self.last_rx = ch.byte;
            if let Some(next) = self.rx.front() {
                self.line_errors |= next.errors;
            }
        }
        self.timeout_pending = false;
        self.rx_quiet_since = self.now.get();
        self.update_irq();
        self.last_rx
    }

    fn read_iir(&mut self) -> u8 {
        let id = self.interrupt_id();
        if id == iir::THR_EMPTY {
            self.thre_pending = false;
            self.update_irq();
        }
        let fifo_bits = if self.fifo_enabled {
            iir::FIFOS_ENABLED
        } else {
            0
        };
        id | fifo_bits
    }

    fn read_lsr(&mut self) -> u8 {
        let mut value = self.line_errors | lsr::THRE | lsr::TEMT;
        if !self.rx.is_empty() {
            value |= lsr::DR;
        }
        if self.fifo_enabled && self.fifo_error {
            value |= lsr::FIFO_ERROR;
        }
        self.line_errors = 0;
        self.fifo_error = self.rx.iter().any(|ch| ch.errors != 0);
        self.update_irq();
        value
    }

    fn read_msr(&mut self) -> u8 {
        let value = self.modem_lines | self.modem_deltas;
        self.modem_deltas = 0;
        self.update_irq();
        value
    }

    fn write_ier(&mut self, value: u8) {
        let enabling = value & !self.ier;
        self.ier = value & ier::WRITABLE;
        // THR is always empty: enabling ETBEI raises the interrupt.
        if enabling & ier::ETBEI != 0 {
            self.thre_pending = true;
        }
        self.update_irq();
    }

    fn write_fcr(&mut self, value: u8) {
        let enable = value & fcr::ENABLE != 0;
        if enable != self.fifo_enabled {
            // Changing FCR bit 0 clears both FIFOs.
            self.fifo_enabled = enable;
            self.clear_rx();
        }
        // The other bits are programmed only together with bit 0.
        if enable {
            if value & fcr::RX_RESET != 0 {
                self.clear_rx();
            }
            // TX_RESET: the transmit FIFO is always empty.
            self.rx_trigger = fcr::TRIGGER_LEVELS[usize::from(value >> fcr::TRIGGER_SHIFT)];
        }
        self.update_irq();
    }

    fn clear_rx(&mut self) {
        self.rx.clear();
        self.fifo_error = false;
        self.timeout_pending = false;
    }

    fn write_mcr(&mut self, value: u8) {
        self.mcr = value & mcr::WRITABLE;
        self.refresh_modem_lines();
        self.update_irq();
    }

    /// Recomputes MSR's line bits and accumulates their deltas.
    fn refresh_modem_lines(&mut self) {
        let lines = if self.loopback() {
            let m = self.mcr;
            let bit = |on: bool, b: u8| if on { b } else { 0 };
            bit(m & mcr::RTS != 0, msr::CTS)
                | bit(m & mcr::DTR != 0, msr::DSR)
                | bit(m & mcr::OUT1 != 0, msr::RI)
                | bit(m & mcr::OUT2 != 0, msr::DCD)
        } else {
            self.host_modem_lines
        };
        let changed = lines ^ self.modem_lines;
        if changed & msr::CTS != 0 {
            self.modem_deltas |= msr::DCTS;
        }
        if changed & msr::DSR != 0 {
            self.modem_deltas |= msr::DDSR;
        }
        if changed & msr::RI != 0 && lines & msr::RI == 0 {
            self.modem_deltas |= msr::TERI;
        }
        if changed & msr::DCD != 0 {
            self.modem_deltas |= msr::DDCD;
        }
        self.modem_lines = lines;
    }

    fn read_byte(&mut self, offset: u16) -> u8 {
        let dlab = self.lcr & lcr::DLAB != 0;
        match offset {
            reg::DATA if dlab => self.divisor as u8,
            reg::DATA => self.read_rbr(),
            reg::IER if dlab => (self.divisor >> 8) as u8,
            reg::IER => self.ier,
            reg::IIR_FCR => self.read_iir(),
            reg::LCR => self.lcr,
            reg::MCR => self.mcr,
            reg::LSR => self.read_lsr(),
            reg::MSR => self.read_msr(),
            reg::SCR => self.scr,
            // Outside the chip's eight registers: nothing drives the bus.
            _ => 0xFF,
        }
    }

    fn write_byte(&mut self, offset: u16, value: u8) {
        let dlab = self.lcr & lcr::DLAB != 0;
        match offset {
            reg::DATA if dlab => self.divisor = (self.divisor & 0xFF00) | u16::from(value),
            reg::DATA => self.transmit(value),
            reg::IER if dlab => self.divisor = (self.divisor & 0x00FF) | (u16::from(value) << 8),
            reg::IER => self.write_ier(value),
            reg::IIR_FCR => self.write_fcr(value),
            reg::LCR => self.lcr = value,
            reg::MCR => self.write_mcr(value),
            reg::SCR => self.scr = value,
            // LSR and MSR writes are factory test paths; outside offsets
            // reach nothing. Ignored.
            _ => {}
        }
    }
}

impl PortDevice for Uart {
    /// A wider access is split into byte accesses at consecutive offsets,
    /// lowest first, as the ISA bus does for an 8-bit device.
    fn read(&mut self, offset: u16, size: u8) -> u32 {
        let now = self.now.get();
        self.run_timeout(now);
        (0..size.min(4)).fold(0, |value, i| {
            let byte = self.read_byte(offset.wrapping_add(u16::from(i)));
            value | (u32::from(byte) << (8 * i))
        })
    }

    fn write(&mut self, offset: u16, size: u8, value: u32) {
        let now = self.now.get();
        self.run_timeout(now);
        for i in 0..size.min(4) {
            self.write_byte(offset.wrapping_add(u16::from(i)), (value >> (8 * i)) as u8);
        }
    }
}

impl Timed for Uart {
    fn advance(&mut self, now: Nanos) {
        self.pull_host_input(now);
        self.run_timeout(now);
    }

    /// The character timeout's deadline, or one character time from now
    /// while host input waits and the receiver has room.
    fn next_event(&self) -> Option<Nanos> {
        let input_due =
            (!self.loopback() && self.rx.len() < self.rx_capacity() && !self.input.is_empty())
                .then(|| self.now.get() + self.char_time());
        match (self.timeout_deadline(), input_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
