//! The trace's tracks and their uuids.
//!
//! Devices have fixed tracks, declared at the start of every trace. The
//! guest's processes and threads become Perfetto processes and threads
//! (declared when first seen): process `pid` has uuid [`process`]`(pid)`,
//! thread `tid` has [`thread`]`(tid)`. Counters are counter tracks.

use super::proto::{
    CounterDescriptor, ProcessDescriptor, ThreadDescriptor, TrackDescriptor, COUNTER_UNIT_COUNT,
};

/// The machine: the parent of every device track.
pub const MACHINE: u64 = 1;
/// Mode switches, exceptions, interrupt handlers, `hlt`, triple faults.
pub const CPU: u64 = 2;
/// Page walks, page faults, TLB flushes.
pub const MMU: u64 = 3;
/// IRQ lines, acknowledge, EOI (the 8259A pair).
pub const PIC: u64 = 4;
pub const PIT: u64 = 5;
pub const COM1: u64 = 6;
pub const COM2: u64 = 7;
pub const ATA0: u64 = 8;
pub const ATA1: u64 = 9;
pub const POST: u64 = 10;
/// Port I/O in the selected range.
pub const PORTS: u64 = 11;
/// Guest annotations not tied to a thread (marks).
pub const GUEST: u64 = 12;
/// The guest thread running on the CPU (a slice per time slice).
pub const RUNNING: u64 = 13;
/// The instruction trace.
pub const INSTRUCTIONS: u64 = 14;

/// Counter: external interrupts per virtual millisecond.
pub const IRQ_RATE: u64 = 20;
/// Counter: TLB misses (page walks) per virtual millisecond.
pub const TLB_MISSES: u64 = 21;
/// Counter: instructions retired per virtual millisecond.
pub const INSTRUCTIONS_PER_MS: u64 = 22;

/// The track of guest process `pid`.
pub fn process(pid: u32) -> u64 {
    (1 << 32) | pid as u64
}

/// The track of guest thread `tid`.
pub fn thread(tid: u32) -> u64 {
    (2 << 32) | tid as u64
}

/// The ATA channel's track.
pub fn ata(channel: usize) -> u64 {
    if channel == 0 {
        ATA0
    } else {
        ATA1
    }
}

/// A named track under the machine.
fn named(uuid: u64, name: &str, parent: Option<u64>) -> TrackDescriptor {
    TrackDescriptor {
        uuid: Some(uuid),
        name: Some(name.into()),
        parent_uuid: parent,
        ..Default::default()
    }
}

fn counter(uuid: u64, name: &str, unit: &str) -> TrackDescriptor {
    TrackDescriptor {
        counter: Some(CounterDescriptor {
            categories: vec!["counters".into()],
            unit: Some(COUNTER_UNIT_COUNT),
            unit_name: Some(unit.into()),
        }),
        ..named(uuid, name, Some(MACHINE))
    }
}

/// The tracks every trace declares, in order.
pub fn fixed() -> Vec<TrackDescriptor> {
    let m = Some(MACHINE);
    vec![
        named(MACHINE, "Machine", None),
        named(CPU, "CPU", m),
        named(MMU, "MMU", m),
        named(PIC, "PIC (8259A)", m),
        named(PIT, "PIT (8254)", m),
        named(COM1, "UART COM1", m),
        named(COM2, "UART COM2", m),
        named(ATA0, "ATA0", m),
        named(ATA1, "ATA1", m),
        named(POST, "POST", m),
        named(PORTS, "Port I/O", m),
        named(GUEST, "Guest", m),
        named(RUNNING, "Running thread", m),
        named(INSTRUCTIONS, "Instructions", m),
        counter(IRQ_RATE, "Interrupts/ms", "interrupts"),
        counter(TLB_MISSES, "TLB misses/ms", "misses"),
        counter(INSTRUCTIONS_PER_MS, "Instructions/ms", "instructions"),
    ]
}

/// A guest process.
pub fn process_descriptor(pid: u32, name: &str) -> TrackDescriptor {
    TrackDescriptor {
        uuid: Some(process(pid)),
        process: Some(ProcessDescriptor {
            pid: Some(pid as i32),
            process_name: Some(name.into()),
        }),
        ..Default::default()
    }
}

/// A guest thread of process `pid`.
pub fn thread_descriptor(pid: u32, tid: u32, name: &str) -> TrackDescriptor {
    TrackDescriptor {
        uuid: Some(thread(tid)),
        parent_uuid: Some(process(pid)),
        thread: Some(ThreadDescriptor {
            pid: Some(pid as i32),
            tid: Some(tid as i32),
            thread_name: Some(name.into()),
        }),
        ..Default::default()
    }
}
