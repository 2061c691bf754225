//! Console commands, until user space exists: a line typed on the console
//! that names one of these prints kernel state the way the matching
//! `/proc` file or tool will (`dmesg`, `/proc/interrupts`,
//! `/proc/softirqs`, `/proc/meminfo` with `/proc/buddyinfo` and
//! `/proc/slabinfo`). Run from the tty's bottom half, interrupts enabled.

use core::fmt::{self, Write};

use crate::arch::x86_64::irq;
use crate::drivers::serial;
use crate::kernel::{printk, softirq, time};
use crate::mm::{PAGE_SIZE, page_alloc, slab};

const COMMANDS: &str = "dmesg interrupts softirqs meminfo serial uptime help";

/// Runs `line` if it is a command; returns whether it was.
pub fn run(line: &str) -> bool {
    let mut out = Console;
    let _ = match line.trim() {
        "dmesg" => {
            printk::read_log(serial::console_write);
            Ok(())
        }
        "interrupts" => interrupts(&mut out),
        "softirqs" => softirqs(&mut out),
        "meminfo" => meminfo(&mut out),
        "uptime" => {
            let ns = time::uptime_ns();
            writeln!(
                out,
                "up {}.{:02} s, {} jiffies",
                ns / 1_000_000_000,
                ns / 10_000_000 % 100,
                time::jiffies()
            )
        }
        "serial" => writeln!(
            out,
            "0: uart:16550A port:000003F8 irq:4 oe:{} lines:{}",
            serial::rx_overruns(),
            crate::drivers::tty::lines_received()
        ),
        "help" => writeln!(out, "commands: {COMMANDS}"),
        _ => return false,
    };
    true
}

/// Writes to the console without a printk prefix.
struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        serial::console_write(s.as_bytes());
        Ok(())
    }
}

fn interrupts(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "           CPU0")?;
    let mut result = Ok(());
    irq::for_each_irq(|n, count, name| {
        result = result.and(writeln!(out, "{n:3}: {count:10}   XT-PIC  {name}"));
    });
    result?;
    writeln!(out, "ERR: {:10}", irq::spurious_count())
}

fn softirqs(out: &mut impl Write) -> fmt::Result {
    writeln!(out, "                    CPU0")?;
    for (nr, name) in softirq::SOFTIRQ_NAMES.iter().enumerate() {
        writeln!(out, "{:>12}: {:10}", name, softirq::softirq_count(nr))?;
    }
    Ok(())
}

fn meminfo(out: &mut impl Write) -> fmt::Result {
    let kib = |pages: usize| pages as u64 * PAGE_SIZE / 1024;
    writeln!(
        out,
        "MemTotal:       {:8} kB",
        kib(page_alloc::managed_pages())
    )?;
    writeln!(
        out,
        "MemFree:        {:8} kB",
        kib(page_alloc::nr_free_pages())
    )?;
    write!(out, "buddyinfo: Node 0, zone   Normal")?;
    for n in page_alloc::buddyinfo() {
        write!(out, " {n:6}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "slabinfo: # name       <active_objs> <objsize> <pages>"
    )?;
    let mut result = Ok(());
    slab::for_each_cache(|size, active, pages| {
        result = result.and(writeln!(
            out,
            "kmalloc-{size:<5} {active:12} {size:9} {pages:7}"
        ));
    });
    result
}
