//! National Semiconductor PC16550D (16550A) UART: the PC's serial ports
//! (COM1 at 0x3F8 on IRQ 4, COM2 at 0x2F8 on IRQ 3; the board decides).
//!
//! Datasheet: "PC16550D Universal Asynchronous Receiver/Transmitter with
//! FIFOs", section 8 (the register descriptions), Table II (register
//! summary) and Table IV (interrupt control functions).
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
//!   the modem-control output pins are forced inactive (MCR bit 4), so the
//!   IRQ line stays low there too, though IIR still reports the source.
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
//! - The receiver keeps only the low 5-8 bits of a host byte, per LCR's
//!   word length, as it would assemble them off the wire.
//! - Accesses outside offsets 0-7, and writes to LSR and MSR, are ignored
//!   (reads float to 0xFF): the guest can never make the device fail.
//! - FCR bit 3 (DMA mode) only changes the RXRDY/TXRDY pins, which the
//!   PC leaves unconnected: ignored.
//!
//! Host side: transmitted bytes go to a `crossbeam_channel::Sender<u8>`
//! (dropped if the receiver is gone; use an unbounded channel, a full
//! bounded one would block the machine); received bytes come from a
//! `crossbeam_channel::Receiver<u8>`, pulled by `Timed::advance` as long
//! as the receive FIFO has room.

use super::{IrqLine, Nanos, Now, PortDevice, Timed};
use crate::machine::snapshot::{Persist, Result as SnapResult, StateIo};
use crate::trace::{Category, Trace};
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
#[derive(Debug, Clone, Copy, Default)]
struct RxChar {
    byte: u8,
    errors: u8,
}

/// One 16550A.
pub struct Uart {
    /// Bytes sent and received go to the trace (`trace`) as COM`com`.
    pub trace: Trace,
    pub com: u8,
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
            trace: Trace::off(),
            com: 1,
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
    /// flagged with BI (LSR bit 4).
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
        if let Some(mut t) = self.trace.on(Category::Uart) {
            t.uart_byte(self.com, true, byte);
        }
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
            if let Some(mut t) = self.trace.on(Category::Uart) {
                t.uart_byte(self.com, false, ch.byte);
            }
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
    /// lowest first, as the ISA bus does for an 8-bit device (never
    /// wrapping past 0xFFFF back to offset 0).
    fn read(&mut self, offset: u16, size: u8) -> u32 {
        let now = self.now.get();
        self.run_timeout(now);
        (0..size.min(4)).fold(0, |value, i| {
            let byte = self.read_byte(offset.saturating_add(u16::from(i)));
            value | (u32::from(byte) << (8 * i))
        })
    }

    fn write(&mut self, offset: u16, size: u8, value: u32) {
        let now = self.now.get();
        self.run_timeout(now);
        for i in 0..size.min(4) {
            self.write_byte(
                offset.saturating_add(u16::from(i)),
                (value >> (8 * i)) as u8,
            );
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

// Snapshots (`machine::snapshot`): registers, the receive FIFO and the
// pending interrupts. Host bytes still waiting in the input channel are
// not the UART's yet: take snapshots when `host_input_waiting` is false.
crate::persist_fields!(RxChar { byte, errors });

impl Persist for Uart {
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("uart")?;
        self.divisor.persist(io)?;
        self.ier.persist(io)?;
        self.lcr.persist(io)?;
        self.mcr.persist(io)?;
        self.scr.persist(io)?;
        self.fifo_enabled.persist(io)?;
        self.rx_trigger.persist(io)?;
        self.rx.persist(io)?;
        self.last_rx.persist(io)?;
        self.line_errors.persist(io)?;
        self.fifo_error.persist(io)?;
        self.thre_pending.persist(io)?;
        self.timeout_pending.persist(io)?;
        self.rx_quiet_since.persist(io)?;
        self.host_modem_lines.persist(io)?;
        self.modem_lines.persist(io)?;
        self.modem_deltas.persist(io)
    }
}

impl Uart {
    /// Whether host input waits in the channel, not yet received.
    pub fn host_input_waiting(&self) -> bool {
        !self.input.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::IrqLines;
    use crossbeam_channel::unbounded;
    use std::rc::Rc;

    const COM1_IRQ: u8 = 4;
    /// One 8N1 character at divisor 1 (115200 baud): 10 bits.
    const CHAR_8N1: Nanos = 10 * NANOS_PER_SECOND / BASE_BAUD;

    /// A UART on IRQ 4 with the host ends of its channels.
    struct Rig {
        uart: Uart,
        lines: Rc<IrqLines>,
        now: Now,
        /// What the guest transmitted.
        sent: Receiver<u8>,
        /// What the host types.
        keyboard: Sender<u8>,
    }

    impl Rig {
        fn new() -> Rig {
            let lines = IrqLines::new();
            let now = Now::default();
            let (tx_out, sent) = unbounded();
            let (keyboard, rx_in) = unbounded();
            let uart = Uart::new(lines.line(COM1_IRQ), now.clone(), tx_out, rx_in);
            Rig {
                uart,
                lines,
                now,
                sent,
                keyboard,
            }
        }

        fn out(&mut self, offset: u16, value: u8) {
            self.uart.write(offset, 1, u32::from(value));
        }

        fn inp(&mut self, offset: u16) -> u8 {
            self.uart.read(offset, 1) as u8
        }

        /// The sequence a driver such as Linux's 8250 runs: divisor 1
        /// (115200 baud), 8N1, FIFOs on and reset with trigger 14,
        /// DTR|RTS|OUT2, then the interrupt enables.
        fn driver_init(&mut self, fcr_value: u8, ier_value: u8) {
            self.out(reg::IER, 0);
            self.out(reg::LCR, lcr::DLAB);
            self.out(reg::DATA, 1);
            self.out(reg::IER, 0);
            self.out(reg::LCR, 0x03);
            self.out(reg::IIR_FCR, fcr_value);
            self.out(reg::MCR, mcr::DTR | mcr::RTS | mcr::OUT2);
            self.out(reg::IER, ier_value);
        }

        fn at(&mut self, t: Nanos) {
            self.now.set(t);
            self.uart.advance(t);
        }

        fn type_bytes(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.keyboard.send(b).unwrap();
            }
        }

        fn irq_high(&self) -> bool {
            self.lines.levels() & (1 << COM1_IRQ) != 0
        }

        fn sent_bytes(&self) -> Vec<u8> {
            self.sent.try_iter().collect()
        }
    }

    const FIFO_TRIGGER_14: u8 = fcr::ENABLE | fcr::RX_RESET | fcr::TX_RESET | 0xC0;

    /// Feeds host bytes one at a time until IIR reports received data;
    /// returns how many it took (0 if never within the FIFO size).
    fn bytes_until_rx_interrupt(trigger_bits: u8) -> usize {
        let mut rig = Rig::new();
        rig.driver_init(
            fcr::ENABLE | (trigger_bits << fcr::TRIGGER_SHIFT),
            ier::ERBFI,
        );
        for count in 1..=FIFO_SIZE {
            rig.type_bytes(b"x");
            rig.at(0);
            if rig.inp(reg::IIR_FCR) == iir::FIFOS_ENABLED | iir::RX_DATA {
                return count;
            }
        }
        0
    }

    #[test]
    fn driver_init_sequence_programs_divisor_format_and_fifos() {
        let mut rig = Rig::new();

        rig.driver_init(FIFO_TRIGGER_14, 0);

        assert_eq!(rig.uart.divisor(), 1);
        assert_eq!(rig.inp(reg::LCR), 0x03);
        assert_eq!(rig.inp(reg::MCR), mcr::DTR | mcr::RTS | mcr::OUT2);
        assert_eq!(rig.inp(reg::IIR_FCR), iir::FIFOS_ENABLED | iir::NONE);
        assert_eq!(rig.inp(reg::LSR), lsr::THRE | lsr::TEMT);
        assert_eq!(rig.uart.char_time(), CHAR_8N1);
        assert!(!rig.irq_high());
    }

    #[test]
    fn dlab_maps_offsets_0_and_1_to_the_divisor_latch() {
        let mut rig = Rig::new();
        rig.out(reg::IER, ier::ERBFI);
        rig.out(reg::LCR, lcr::DLAB | 0x03);

        rig.out(reg::DATA, 0x0C);
        rig.out(reg::IER, 0x00);

        assert_eq!(rig.inp(reg::DATA), 0x0C);
        assert_eq!(rig.inp(reg::IER), 0x00);
        rig.out(reg::LCR, 0x03);
        assert_eq!(rig.inp(reg::IER), ier::ERBFI, "IER untouched by DLM");
        assert!(rig.sent_bytes().is_empty(), "DLL write sent nothing");
        assert_eq!(rig.uart.divisor(), 12);
    }

    #[test]
    fn char_time_follows_divisor_and_line_format() {
        let mut rig = Rig::new();
        rig.out(reg::LCR, lcr::DLAB);
        rig.out(reg::DATA, 12);
        // 7 data bits, even parity, 2 stop bits: 1 + 7 + 1 + 2 = 11 bits.
        rig.out(
            reg::LCR,
            0x02 | lcr::PARITY_ENABLE | lcr::EVEN_PARITY | lcr::STOP_BITS,
        );

        assert_eq!(rig.uart.char_time(), 11 * 12 * NANOS_PER_SECOND / BASE_BAUD);
    }

    #[test]
    fn transmitted_bytes_reach_the_host_channel() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);

        rig.out(reg::DATA, b'o');
        rig.out(reg::DATA, b'k');

        assert_eq!(rig.sent_bytes(), b"ok");
        assert_eq!(rig.inp(reg::LSR), lsr::THRE | lsr::TEMT);
    }

    #[test]
    fn transmit_masks_the_byte_to_the_word_length() {
        let mut rig = Rig::new();
        rig.out(reg::LCR, 0x02); // 7 data bits

        rig.out(reg::DATA, 0xFF);

        assert_eq!(rig.sent_bytes(), [0x7F]);
    }

    #[test]
    fn transmit_to_a_disconnected_host_drops_the_byte() {
        let mut rig = Rig::new();
        let Rig { sent, .. } = &mut rig;
        let (_, dead) = unbounded::<u8>();
        *sent = dead; // the original receiver is dropped here

        rig.out(reg::DATA, b'x');

        assert_eq!(rig.inp(reg::LSR), lsr::THRE | lsr::TEMT);
    }

    #[test]
    fn host_bytes_arrive_when_the_clock_advances() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);
        rig.type_bytes(b"hi");
        assert_eq!(rig.inp(reg::LSR) & lsr::DR, 0, "not before advance");

        rig.at(1000);

        assert_eq!(rig.inp(reg::LSR) & lsr::DR, lsr::DR);
        assert_eq!(rig.inp(reg::DATA), b'h');
        assert_eq!(rig.inp(reg::DATA), b'i');
        assert_eq!(rig.inp(reg::LSR) & lsr::DR, 0);
    }

    #[test]
    fn host_input_beyond_the_fifo_waits_in_the_channel() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);
        rig.type_bytes(&[b'a'; 20]);

        rig.at(0);

        assert_eq!(rig.keyboard.len(), 4);
        assert_eq!(
            rig.inp(reg::LSR),
            lsr::DR | lsr::THRE | lsr::TEMT,
            "no overrun"
        );
        assert_eq!(
            rig.uart.next_event(),
            Some(TIMEOUT_CHARS * CHAR_8N1),
            "only the timeout: no room for input"
        );
    }

    #[test]
    fn next_event_comes_one_char_time_later_while_input_waits_and_fits() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);
        rig.type_bytes(&[b'a'; 17]);
        rig.at(0);
        rig.now.set(500);

        rig.inp(reg::DATA);

        assert_eq!(rig.uart.next_event(), Some(500 + CHAR_8N1));
    }

    #[test]
    fn rbr_mode_takes_one_host_byte_at_a_time() {
        let mut rig = Rig::new();
        rig.driver_init(0, 0);
        rig.type_bytes(b"ab");

        rig.at(0);

        assert_eq!(rig.keyboard.len(), 1);
        assert_eq!(rig.uart.next_event(), None, "RBR full, no FIFO timeout");
        assert_eq!(rig.inp(reg::DATA), b'a');
        assert_eq!(rig.uart.next_event(), Some(CHAR_8N1));
        rig.at(CHAR_8N1);
        assert_eq!(rig.inp(reg::DATA), b'b');
    }

    #[test]
    fn iir_bits_7_6_report_fifo_enable() {
        let mut rig = Rig::new();
        assert_eq!(rig.inp(reg::IIR_FCR), iir::NONE);

        rig.out(reg::IIR_FCR, fcr::ENABLE);

        assert_eq!(rig.inp(reg::IIR_FCR), iir::FIFOS_ENABLED | iir::NONE);
    }

    #[test]
    fn trigger_level_1_interrupts_on_the_first_byte() {
        assert_eq!(bytes_until_rx_interrupt(0b00), 1);
    }

    #[test]
    fn trigger_level_4_interrupts_on_the_fourth_byte() {
        assert_eq!(bytes_until_rx_interrupt(0b01), 4);
    }

    #[test]
    fn trigger_level_8_interrupts_on_the_eighth_byte() {
        assert_eq!(bytes_until_rx_interrupt(0b10), 8);
    }

    #[test]
    fn trigger_level_14_interrupts_on_the_fourteenth_byte() {
        assert_eq!(bytes_until_rx_interrupt(0b11), 14);
    }

    #[test]
    fn rx_data_interrupt_ends_when_the_fifo_drops_below_trigger() {
        let mut rig = Rig::new();
        rig.driver_init(fcr::ENABLE | (0b01 << fcr::TRIGGER_SHIFT), ier::ERBFI);
        rig.type_bytes(b"abcd");
        rig.at(0);
        assert!(rig.irq_high());

        rig.inp(reg::DATA);

        assert_eq!(rig.inp(reg::IIR_FCR), iir::FIFOS_ENABLED | iir::NONE);
        assert!(!rig.irq_high());
    }

    #[test]
    fn rbr_mode_interrupts_on_every_byte() {
        let mut rig = Rig::new();
        rig.driver_init(0, ier::ERBFI);
        rig.type_bytes(b"a");

        rig.at(0);

        assert_eq!(rig.inp(reg::IIR_FCR), iir::RX_DATA);
        assert!(rig.irq_high());
    }

    #[test]
    fn character_timeout_fires_after_four_quiet_char_times() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, ier::ERBFI);
        rig.type_bytes(b"abc");
        rig.at(0);
        assert_eq!(rig.uart.next_event(), Some(4 * CHAR_8N1));

        rig.at(4 * CHAR_8N1 - 1);
        assert_eq!(rig.inp(reg::IIR_FCR), iir::FIFOS_ENABLED | iir::NONE);
        assert!(!rig.irq_high());

        rig.at(4 * CHAR_8N1);
        assert_eq!(
            rig.inp(reg::IIR_FCR),
            iir::FIFOS_ENABLED | iir::CHAR_TIMEOUT
        );
        assert!(rig.irq_high());
    }

    #[test]
    fn reading_rbr_clears_the_timeout_and_restarts_its_timer() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, ier::ERBFI);
        rig.type_bytes(b"abc");
        rig.at(0);
        rig.at(4 * CHAR_8N1);

        assert_eq!(rig.inp(reg::DATA), b'a');

        assert_eq!(rig.inp(reg::IIR_FCR), iir::FIFOS_ENABLED | iir::NONE);
        assert!(!rig.irq_high());
        assert_eq!(rig.uart.next_event(), Some(8 * CHAR_8N1));
    }

    #[test]
    fn a_new_character_restarts_the_timeout_timer() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, ier::ERBFI);
        rig.type_bytes(b"a");
        rig.at(0);
        rig.type_bytes(b"b");
        rig.at(2 * CHAR_8N1);

        rig.at(4 * CHAR_8N1);
        assert_eq!(rig.inp(reg::IIR_FCR), iir::FIFOS_ENABLED | iir::NONE);

        rig.at(6 * CHAR_8N1);
        assert_eq!(
            rig.inp(reg::IIR_FCR),
            iir::FIFOS_ENABLED | iir::CHAR_TIMEOUT
        );
    }

    #[test]
    fn no_character_timeout_without_fifos() {
        let mut rig = Rig::new();
        rig.driver_init(0, ier::ERBFI);
        rig.type_bytes(b"a");
        rig.at(0);

        rig.at(100 * CHAR_8N1);

        assert_eq!(rig.inp(reg::IIR_FCR), iir::RX_DATA);
    }

    #[test]
    fn interrupts_are_reported_in_priority_order() {
        let mut rig = Rig::new();
        rig.driver_init(
            fcr::ENABLE,
            ier::ERBFI | ier::ETBEI | ier::ELSI | ier::EDSSI,
        );
        rig.uart.set_modem_inputs(msr::DSR | msr::DCD); // CTS drops
        rig.uart.receive_break(); // data + BI

        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::LINE_STATUS);
        assert_eq!(rig.inp(reg::LSR) & lsr::BI, lsr::BI);
        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::RX_DATA);
        assert_eq!(rig.inp(reg::DATA), 0);
        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::THR_EMPTY);
        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::MODEM_STATUS);
        assert_eq!(rig.inp(reg::MSR), msr::DSR | msr::DCD | msr::DCTS);
        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::NONE);
        assert!(!rig.irq_high());
    }

    #[test]
    fn a_break_loads_one_zero_character_flagged_in_lsr() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);

        rig.uart.receive_break();

        assert_eq!(
            rig.inp(reg::LSR),
            lsr::FIFO_ERROR | lsr::BI | lsr::DR | lsr::THRE | lsr::TEMT
        );
        assert_eq!(rig.inp(reg::LSR) & lsr::BI, 0, "BI clears on LSR read");
        assert_eq!(rig.inp(reg::DATA), 0);
        assert_eq!(rig.inp(reg::LSR) & lsr::DR, 0);
    }

    #[test]
    fn lsr_bit_7_clears_on_the_first_lsr_read_with_no_error_left_in_the_fifo() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);
        rig.uart.receive_break();
        rig.inp(reg::LSR);
        let with_error_queued = rig.inp(reg::LSR);
        rig.inp(reg::DATA);

        let after_error_read = rig.inp(reg::LSR);

        assert_eq!(with_error_queued & lsr::FIFO_ERROR, lsr::FIFO_ERROR);
        assert_eq!(
            after_error_read & lsr::FIFO_ERROR,
            lsr::FIFO_ERROR,
            "latched"
        );
        assert_eq!(rig.inp(reg::LSR) & lsr::FIFO_ERROR, 0);
    }

    #[test]
    fn fifo_errors_show_in_lsr_when_their_character_reaches_the_head() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);
        rig.type_bytes(b"a");
        rig.at(0);
        rig.uart.receive_break();

        assert_eq!(
            rig.inp(reg::LSR) & (lsr::BI | lsr::FIFO_ERROR),
            lsr::FIFO_ERROR
        );
        assert_eq!(rig.inp(reg::DATA), b'a');
        assert_eq!(rig.inp(reg::LSR) & lsr::BI, lsr::BI);
    }

    #[test]
    fn enabling_etbei_with_thr_empty_raises_thre() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);

        rig.out(reg::IER, ier::ETBEI);

        assert!(rig.irq_high());
        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::THR_EMPTY);
    }

    #[test]
    fn reading_iir_that_reports_thre_clears_it() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, ier::ETBEI);

        rig.inp(reg::IIR_FCR);

        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::NONE);
        assert!(!rig.irq_high());
    }

    #[test]
    fn writing_thr_acknowledges_thre_and_the_emptied_thr_raises_it_anew() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, ier::ETBEI);
        assert!(rig.irq_high());
        rig.lines.take_rising();

        rig.out(reg::DATA, b'x');

        assert_eq!(
            rig.lines.take_rising(),
            1 << COM1_IRQ,
            "the line dropped and rose again"
        );
        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::THR_EMPTY);
    }

    #[test]
    fn linux_thre_probe_sees_thre_on_each_etbei_enable() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);
        rig.out(reg::IER, ier::ETBEI);
        let first = rig.inp(reg::IIR_FCR);
        rig.out(reg::IER, 0);

        rig.out(reg::IER, ier::ETBEI);

        assert_eq!(first, 0xC0 | iir::THR_EMPTY);
        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::THR_EMPTY);
    }

    #[test]
    fn loopback_returns_transmitted_bytes_to_the_receiver_not_the_host() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);
        rig.out(reg::MCR, mcr::LOOP);

        rig.out(reg::DATA, 0xA5);

        assert!(rig.sent_bytes().is_empty());
        assert_eq!(rig.inp(reg::LSR) & lsr::DR, lsr::DR);
        assert_eq!(rig.inp(reg::DATA), 0xA5);
    }

    #[test]
    fn loopback_disconnects_host_input() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);
        rig.out(reg::MCR, mcr::LOOP);
        rig.type_bytes(b"z");

        rig.at(0);

        assert_eq!(rig.inp(reg::LSR) & lsr::DR, 0);
        assert_eq!(rig.keyboard.len(), 1);
        assert_eq!(rig.uart.next_event(), None);
    }

    #[test]
    fn msr_lines_follow_mcr_outputs_in_loopback() {
        let mut rig = Rig::new();

        rig.out(reg::MCR, mcr::LOOP | mcr::RTS | mcr::OUT2);
        let rts_out2 = rig.inp(reg::MSR) & msr::LINES;
        rig.out(reg::MCR, mcr::LOOP | mcr::DTR | mcr::OUT1);
        let dtr_out1 = rig.inp(reg::MSR) & msr::LINES;

        assert_eq!(rts_out2, msr::CTS | msr::DCD);
        assert_eq!(dtr_out1, msr::DSR | msr::RI);
    }

    #[test]
    fn msr_delta_bits_record_loopback_changes_until_read() {
        let mut rig = Rig::new();
        rig.out(reg::MCR, mcr::LOOP);
        rig.inp(reg::MSR);

        rig.out(reg::MCR, mcr::LOOP | mcr::DTR | mcr::RTS);

        assert_eq!(
            rig.inp(reg::MSR),
            msr::CTS | msr::DSR | msr::DCTS | msr::DDSR
        );
        assert_eq!(rig.inp(reg::MSR), msr::CTS | msr::DSR);
    }

    #[test]
    fn teri_marks_only_the_trailing_edge_of_ri() {
        let mut rig = Rig::new();
        rig.out(reg::MCR, mcr::LOOP);
        rig.inp(reg::MSR);
        rig.out(reg::MCR, mcr::LOOP | mcr::OUT1);
        let leading = rig.inp(reg::MSR);

        rig.out(reg::MCR, mcr::LOOP);

        assert_eq!(leading, msr::RI);
        assert_eq!(rig.inp(reg::MSR), msr::TERI);
    }

    #[test]
    fn host_modem_inputs_raise_the_modem_status_interrupt() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, ier::EDSSI);

        rig.uart.set_modem_inputs(msr::CTS | msr::DSR); // carrier lost

        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::MODEM_STATUS);
        assert!(rig.irq_high());
        assert_eq!(rig.inp(reg::MSR), msr::CTS | msr::DSR | msr::DDCD);
        assert!(!rig.irq_high());
    }

    #[test]
    fn fifo_overrun_sets_oe_and_loses_the_arriving_byte() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, ier::ELSI);
        rig.out(reg::MCR, mcr::LOOP);
        for b in 0..FIFO_SIZE as u8 {
            rig.out(reg::DATA, b);
        }

        rig.out(reg::DATA, 0xEE);

        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::LINE_STATUS);
        assert_eq!(rig.inp(reg::LSR) & (lsr::OE | lsr::DR), lsr::OE | lsr::DR);
        assert_eq!(rig.inp(reg::LSR) & lsr::OE, 0, "OE clears on LSR read");
        assert_eq!(rig.inp(reg::DATA), 0);
        assert_eq!(rig.inp(reg::DATA), 1);
    }

    #[test]
    fn fifo_keeps_the_first_sixteen_bytes_on_overrun() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);
        rig.out(reg::MCR, mcr::LOOP);
        for b in 0..=FIFO_SIZE as u8 {
            rig.out(reg::DATA, b);
        }
        for _ in 0..FIFO_SIZE - 1 {
            rig.inp(reg::DATA);
        }

        let last = rig.inp(reg::DATA);

        assert_eq!(last, 15);
        assert_eq!(rig.inp(reg::LSR) & lsr::DR, 0);
    }

    #[test]
    fn rbr_overrun_in_16450_mode_sets_oe_and_keeps_the_newest_byte() {
        let mut rig = Rig::new();
        rig.driver_init(0, 0);
        rig.out(reg::MCR, mcr::LOOP);
        rig.out(reg::DATA, b'1');

        rig.out(reg::DATA, b'2');

        assert_eq!(rig.inp(reg::LSR) & (lsr::OE | lsr::DR), lsr::OE | lsr::DR);
        assert_eq!(rig.inp(reg::DATA), b'2');
        assert_eq!(rig.inp(reg::LSR) & lsr::DR, 0);
    }

    #[test]
    fn fcr_rx_reset_empties_the_receive_fifo() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, 0);
        rig.type_bytes(b"abc");
        rig.at(0);

        rig.out(reg::IIR_FCR, fcr::ENABLE | fcr::RX_RESET);

        assert_eq!(rig.inp(reg::LSR) & lsr::DR, 0);
        assert_eq!(rig.uart.next_event(), None, "no timeout on an empty FIFO");
    }

    #[test]
    fn fcr_bits_other_than_enable_need_bit_0() {
        let mut rig = Rig::new();
        rig.driver_init(fcr::ENABLE, ier::ERBFI); // trigger 1
        rig.out(reg::IIR_FCR, 0); // FIFOs off
        rig.out(reg::IIR_FCR, 0xC0); // trigger 14 without bit 0: ignored

        rig.out(reg::IIR_FCR, fcr::ENABLE);
        rig.type_bytes(b"a");
        rig.at(0);

        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::RX_DATA);
    }

    #[test]
    fn scratch_register_holds_what_was_written() {
        let mut rig = Rig::new();

        rig.out(reg::SCR, 0x5A);

        assert_eq!(rig.inp(reg::SCR), 0x5A);
    }

    #[test]
    fn out2_gates_the_interrupt_onto_the_irq_line() {
        let mut rig = Rig::new();
        rig.out(reg::IER, ier::ETBEI);
        assert_eq!(rig.inp(reg::IIR_FCR), iir::THR_EMPTY, "pending inside");
        rig.out(reg::IER, 0);
        rig.out(reg::IER, ier::ETBEI);
        assert!(!rig.irq_high(), "OUT2 off: line not driven");

        rig.out(reg::MCR, mcr::OUT2);
        assert!(rig.irq_high());

        rig.out(reg::MCR, 0);
        assert!(!rig.irq_high());
    }

    #[test]
    fn loopback_forces_out2_inactive_so_the_irq_line_stays_low() {
        let mut rig = Rig::new();
        rig.driver_init(FIFO_TRIGGER_14, ier::ETBEI);
        assert!(rig.irq_high());

        rig.out(reg::MCR, mcr::LOOP | mcr::OUT2);

        assert!(!rig.irq_high());
        assert_eq!(rig.inp(reg::IIR_FCR), 0xC0 | iir::THR_EMPTY);
    }

    #[test]
    fn wide_accesses_split_into_byte_accesses() {
        let mut rig = Rig::new();
        rig.out(reg::LCR, lcr::DLAB);

        rig.uart.write(reg::DATA, 2, 0x0180);

        assert_eq!(rig.uart.divisor(), 0x0180);
        assert_eq!(rig.uart.read(reg::DATA, 2), 0x0180);
    }

    #[test]
    fn offsets_beyond_the_chip_read_ff_and_ignore_writes() {
        let mut rig = Rig::new();

        rig.uart.write(8, 1, 0x12);
        rig.uart.write(reg::SCR, 4, 0x1234_5678);

        assert_eq!(rig.uart.read(8, 1), 0xFF);
        assert_eq!(rig.uart.read(reg::SCR, 2), 0xFF78);
        assert_eq!(rig.uart.read(0xFFFF, 4), 0xFFFF_FFFF, "no wrap to offset 0");
    }

    #[test]
    fn any_access_at_any_offset_and_size_is_survived() {
        let mut rig = Rig::new();
        rig.out(reg::MCR, mcr::LOOP);
        for offset in [0, 1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0xFFFE, 0xFFFF] {
            for size in [0, 1, 2, 3, 4, 8] {
                for value in [0, 0xFF, 0x8000_0080, 0xFFFF_FFFF] {
                    rig.uart.write(offset, size, value);
                    rig.uart.read(offset, size);
                    rig.at(rig.now.get() + CHAR_8N1);
                }
            }
        }

        rig.out(reg::LCR, 0x03);
        rig.out(reg::IIR_FCR, fcr::ENABLE | fcr::RX_RESET);
        rig.out(reg::SCR, 0x42);
        assert_eq!(rig.inp(reg::SCR), 0x42, "still answering");
        assert_eq!(rig.inp(reg::LSR) & lsr::DR, 0);
    }

    #[test]
    fn ier_and_mcr_unused_bits_read_zero() {
        let mut rig = Rig::new();

        rig.out(reg::IER, 0xFF);
        rig.out(reg::MCR, 0xFF);

        assert_eq!(rig.inp(reg::IER), 0x0F);
        assert_eq!(rig.inp(reg::MCR), 0x1F);
    }
}
