//! The 16550A UART on COM1 (0x3F8, IRQ 4) as the kernel console (National
//! Semiconductor PC16550D datasheet: register table 2 p. 14, IIR priorities
//! table 4 p. 17). Linux's `drivers/tty/serial/8250/`.
//!
//! Until [`init_irq`] the console writes by polling LSR.THRE, byte by byte.
//! Afterwards it is interrupt-driven both ways:
//! - output goes into a TX ring; the THRE interrupt refills the 16-byte
//!   FIFO from it and is switched off when the ring is empty. If the ring
//!   fills (or interrupts are off for long), the writer drains it by
//!   polling so no output is lost;
//! - the RX interrupt (top half) moves received bytes into an RX ring and
//!   schedules a tasklet; the tasklet (bottom half, interrupts on) hands
//!   them to the tty line discipline (`tty.rs`), which echoes them.
//!
//! After an oops, [`emergency_write`] bypasses the lock and the rings and
//! polls, as Linux's console does while `oops_in_progress`.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::x86_64::io::{inb, outb};
use crate::arch::x86_64::irq::request_irq;
use crate::kernel::softirq::{Tasklet, tasklet_schedule};
use crate::kernel::sync::SpinLock;

const COM1: u16 = 0x3F8;
const COM1_IRQ: u8 = 4;

// Register offsets (datasheet table 2).
const RBR_THR: u16 = 0; // receive buffer / transmit holding (DLAB = 0)
const IER: u16 = 1; // interrupt enable (DLAB = 0)
const DLL: u16 = 0; // divisor latch, low (DLAB = 1)
const DLM: u16 = 1; // divisor latch, high (DLAB = 1)
const IIR_FCR: u16 = 2; // interrupt identification / FIFO control
const LCR: u16 = 3;
const MCR: u16 = 4;
const LSR: u16 = 5;
const MSR: u16 = 6;

const IER_RDA: u8 = 0x01; // received data available
const IER_THRE: u8 = 0x02; // transmitter holding register empty
const IER_RLS: u8 = 0x04; // receiver line status
const LCR_8N1: u8 = 0x03;
const LCR_DLAB: u8 = 0x80;
/// FIFOs on, both cleared, RX trigger at 14 bytes.
const FCR_ENABLE: u8 = 0xC7;
/// DTR, RTS, and OUT2, which gates the IRQ line on a PC.
const MCR_DTR_RTS_OUT2: u8 = 0x0B;
const LSR_DR: u8 = 0x01;
const LSR_THRE: u8 = 0x20;
const IIR_NO_INT: u8 = 0x01;
const IIR_ID_MASK: u8 = 0x0E;
const IIR_MODEM: u8 = 0x00;
const IIR_THRE: u8 = 0x02;
const IIR_RDA: u8 = 0x04;
const IIR_RLS: u8 = 0x06;
const IIR_TIMEOUT: u8 = 0x0C;
const FIFO_SIZE: usize = 16;
/// 115200 baud from the 1.8432 MHz clock.
const DIVISOR_115200: u16 = 1;

/// A byte FIFO.
struct Ring<const N: usize> {
    buf: [u8; N],
    head: usize,
    len: usize,
}

impl<const N: usize> Ring<N> {
    const fn new() -> Self {
        Ring {
            buf: [0; N],
            head: 0,
            len: 0,
        }
    }

    fn push(&mut self, b: u8) -> bool {
        if self.len == N {
            return false;
        }
        self.buf[(self.head + self.len) % N] = b;
        self.len += 1;
        true
    }

    fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let b = self.buf[self.head];
        self.head = (self.head + 1) % N;
        self.len -= 1;
        Some(b)
    }
}

struct Uart {
    tx: Ring<4096>,
    rx: Ring<1024>,
    /// The interrupt path is on.
    irq_mode: bool,
    /// IER as last written.
    ier: u8,
    /// Input dropped because the RX ring was full.
    overruns: u64,
}

static UART: SpinLock<Uart> = SpinLock::new(Uart {
    tx: Ring::new(),
    rx: Ring::new(),
    irq_mode: false,
    ier: 0,
    overruns: 0,
});
static EMERGENCY: AtomicBool = AtomicBool::new(false);
static RX_TASKLET: Tasklet = Tasklet::new(serial_rx_action);

fn reg_read(off: u16) -> u8 {
    // SAFETY: COM1 is the console's; reads only move FIFO data we own.
    unsafe { inb(COM1 + off) }
}

fn reg_write(off: u16, v: u8) {
    // SAFETY: COM1 is the console's.
    unsafe { outb(COM1 + off, v) }
}

/// Waits for room in the transmitter and sends one byte.
fn put_polled(b: u8) {
    let mut spins = 0u32;
    while reg_read(LSR) & LSR_THRE == 0 && spins < 1_000_000 {
        spins += 1;
    }
    reg_write(RBR_THR, b);
}

/// Programs 115200 8N1 with FIFOs and no interrupts (polled console).
pub fn early_init() {
    reg_write(IER, 0);
    reg_write(LCR, LCR_DLAB);
    reg_write(DLL, DIVISOR_115200 as u8);
    reg_write(DLM, (DIVISOR_115200 >> 8) as u8);
    reg_write(LCR, LCR_8N1);
    reg_write(IIR_FCR, FCR_ENABLE);
    reg_write(MCR, MCR_DTR_RTS_OUT2);
}

/// Switches the console to interrupts: the top half on IRQ 4, RX and line
/// status interrupts on (THRE only while output waits).
pub fn init_irq() {
    request_irq(COM1_IRQ, "serial", serial_interrupt);
    let mut uart = UART.lock();
    uart.irq_mode = true;
    uart.ier = IER_RDA | IER_RLS;
    reg_write(IER, uart.ier);
    // Clear anything pending from before.
    while reg_read(LSR) & LSR_DR != 0 {
        let _ = reg_read(RBR_THR);
    }
    let _ = reg_read(IIR_FCR);
    let _ = reg_read(MSR);
}

/// Writes console output, turning `\n` into `\r\n`.
pub fn console_write(bytes: &[u8]) {
    if EMERGENCY.load(Ordering::Relaxed) {
        emergency_write(bytes);
        return;
    }
    let mut uart = UART.lock();
    for &b in bytes {
        if b == b'\n' {
            uart.put(b'\r');
        }
        uart.put(b);
    }
    if uart.irq_mode {
        uart.start_tx();
    }
}

impl Uart {
    fn put(&mut self, b: u8) {
        if !self.irq_mode {
            put_polled(b);
            return;
        }
        if !self.tx.push(b) {
            // Ring full: drain it by polling, then queue.
            while let Some(old) = self.tx.pop() {
                put_polled(old);
            }
            self.tx.push(b);
        }
    }

    /// Fills the FIFO if the transmitter is idle and enables THRE
    /// interrupts while bytes remain.
    fn start_tx(&mut self) {
        if reg_read(LSR) & LSR_THRE != 0 {
            self.fill_fifo();
        }
        let want = if self.tx.len > 0 {
            self.ier | IER_THRE
        } else {
            self.ier & !IER_THRE
        };
        if want != self.ier {
            self.ier = want;
            reg_write(IER, want);
        }
    }

    fn fill_fifo(&mut self) {
        for _ in 0..FIFO_SIZE {
            match self.tx.pop() {
                Some(b) => reg_write(RBR_THR, b),
                None => break,
            }
        }
    }
}

/// The top half: drain the receiver into the RX ring, refill the
/// transmitter from the TX ring, then leave the input to the tasklet.
fn serial_interrupt() {
    let mut uart = UART.lock();
    let mut received = false;
    for _ in 0..64 {
        let iir = reg_read(IIR_FCR);
        if iir & IIR_NO_INT != 0 {
            break;
        }
        match iir & IIR_ID_MASK {
            IIR_RLS => {
                let _ = reg_read(LSR);
            }
            IIR_RDA | IIR_TIMEOUT => {
                while reg_read(LSR) & LSR_DR != 0 {
                    let b = reg_read(RBR_THR);
                    if !uart.rx.push(b) {
                        uart.overruns += 1;
                    }
                    received = true;
                }
            }
            IIR_THRE => {
                uart.fill_fifo();
                if uart.tx.len == 0 {
                    uart.ier &= !IER_THRE;
                    reg_write(IER, uart.ier);
                }
            }
            IIR_MODEM => {
                let _ = reg_read(MSR);
            }
            _ => break,
        }
    }
    drop(uart);
    if received {
        tasklet_schedule(&RX_TASKLET);
    }
}

/// The bottom half: pass received bytes to the tty, interrupts on.
fn serial_rx_action() {
    loop {
        let mut chunk = [0u8; 64];
        let mut n = 0;
        {
            let mut uart = UART.lock();
            while n < chunk.len() {
                match uart.rx.pop() {
                    Some(b) => {
                        chunk[n] = b;
                        n += 1;
                    }
                    None => break,
                }
            }
        }
        if n == 0 {
            break;
        }
        super::tty::receive(&chunk[..n]);
    }
}

/// From now on, console output is polled and lock-free (oops, panic).
pub fn enter_emergency_mode() {
    EMERGENCY.store(true, Ordering::SeqCst);
    // SAFETY: interrupts are off and whatever held the lock will never run
    // again; flush what it queued so the report follows it in order.
    let uart = unsafe { UART.force_get() };
    while let Some(b) = uart.tx.pop() {
        put_polled(b);
    }
}

/// Writes by polling, without locks (`\n` becomes `\r\n`).
pub fn emergency_write(bytes: &[u8]) {
    for &b in bytes {
        if b == b'\n' {
            put_polled(b'\r');
        }
        put_polled(b);
    }
}

/// Bytes lost to a full RX ring.
pub fn rx_overruns() -> u64 {
    UART.lock().overruns
}
