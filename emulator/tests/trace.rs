//! The trace event stream end to end: a known boot traced and decoded with
//! prost into the expected tracks, events and ordering; two runs give the
//! same bytes; guest annotations and the instruction trace from a small
//! ROM program; `emu run --trace FILE`.

use emulator::artifacts::DEFAULT_IMAGE;
use emulator::devices::disk::DiskMode;
use emulator::machine::clock::ClockMode;
use emulator::machine::{DiskSpec, HostIo, Machine, MachineConfig, Outcome};
use emulator::trace::annotate::{kind, BASE, MAGIC};
use emulator::trace::file::MemorySink;
use emulator::trace::instructions::Window;
use emulator::trace::proto::{decode_trace, DebugAnnotation, EventType, TracePacket, TrackEvent};
use emulator::trace::{category, Categories, Category, TraceOptions};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Enough for the default image to boot to the shell prompt.
const BOOT_INSTRUCTIONS: u64 = 20_000_000;

fn machine(bios: Vec<u8>, disks: Vec<DiskSpec>, max: u64) -> Machine {
    let (com1_out, _) = crossbeam_channel::unbounded();
    let (_, com1_in) = crossbeam_channel::unbounded();
    let (com2_out, _) = crossbeam_channel::unbounded();
    let (_, com2_in) = crossbeam_channel::unbounded();
    let (debug_out, _) = crossbeam_channel::unbounded();
    let (_, quit) = crossbeam_channel::bounded(1);
    let config = MachineConfig {
        ram_size: 64 << 20,
        bios,
        disks,
        clock: ClockMode::Virtual,
        no_reboot: true,
        max_instructions: Some(max),
        timeout: None,
        rtc_start: Some(0),
    };
    let io = HostIo {
        com1_out,
        com1_in,
        com2_out,
        com2_in,
        debug_out,
        quit,
    };
    Machine::new(config, io).expect("machine")
}

/// Boots the default image for `BOOT_INSTRUCTIONS` with the default
/// categories; the trace's bytes.
fn traced_boot() -> Vec<u8> {
    let mut m = machine(
        emulator::firmware::BIOS.to_vec(),
        vec![DiskSpec {
            path: DEFAULT_IMAGE.into(),
            mode: DiskMode::Snapshot,
        }],
        BOOT_INSTRUCTIONS,
    );
    let sink = MemorySink::default();
    m.start_trace(TraceOptions::default(), vec![Box::new(sink.clone())]);
    let outcome = m.run();
    m.finish_trace();
    assert_eq!(outcome, Outcome::InstructionLimit);
    let bytes = sink.bytes.lock().unwrap().clone();
    bytes
}

/// One boot shared by the tests that only read it.
fn boot() -> &'static (Vec<u8>, Vec<TracePacket>) {
    static BOOT: OnceLock<(Vec<u8>, Vec<TracePacket>)> = OnceLock::new();
    BOOT.get_or_init(|| {
        let bytes = traced_boot();
        let packets = decode_trace(&bytes).expect("the trace decodes").packet;
        (bytes, packets)
    })
}

fn events(packets: &[TracePacket]) -> impl Iterator<Item = (u64, &TrackEvent)> {
    packets
        .iter()
        .filter_map(|p| Some((p.timestamp?, p.track_event.as_ref()?)))
}

fn named<'a>(packets: &'a [TracePacket], name: &str) -> Vec<(u64, &'a TrackEvent)> {
    events(packets)
        .filter(|(_, e)| e.name.as_deref() == Some(name))
        .collect()
}

fn arg<'a>(e: &'a TrackEvent, name: &str) -> Option<&'a DebugAnnotation> {
    e.debug_annotations
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
}

fn uint_arg(e: &TrackEvent, name: &str) -> Option<u64> {
    arg(e, name).and_then(|a| a.uint_value.or(a.pointer_value))
}

/// Track names by uuid.
fn tracks(packets: &[TracePacket]) -> BTreeMap<u64, String> {
    packets
        .iter()
        .filter_map(|p| p.track_descriptor.as_ref())
        .map(|d| {
            let name = d
                .name
                .clone()
                .or_else(|| d.process.as_ref().and_then(|p| p.process_name.clone()))
                .or_else(|| d.thread.as_ref().and_then(|t| t.thread_name.clone()))
                .unwrap_or_default();
            (d.uuid.unwrap(), name)
        })
        .collect()
}

#[test]
fn a_traced_boot_declares_a_track_per_device() {
    let (_, packets) = boot();

    let names: Vec<String> = tracks(packets).into_values().collect();

    for want in [
        "CPU",
        "MMU",
        "PIC (8259A)",
        "PIT (8254)",
        "UART COM1",
        "ATA0",
        "POST",
        "Interrupts/ms",
        "TLB misses/ms",
        "Instructions/ms",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "no track {want} in {names:?}"
        );
    }
}

#[test]
fn every_event_names_a_declared_track_and_descriptors_come_first() {
    let (_, packets) = boot();
    let declared = tracks(packets);
    let first_event = packets
        .iter()
        .position(|p| p.track_event.is_some())
        .unwrap();

    let undeclared: Vec<u64> = events(packets)
        .map(|(_, e)| e.track_uuid.unwrap())
        .filter(|t| !declared.contains_key(t))
        .collect();

    assert!(
        undeclared.is_empty(),
        "events on undeclared tracks {undeclared:?}"
    );
    assert!(packets[..first_event]
        .iter()
        .all(|p| p.track_descriptor.is_some()));
    assert_eq!(
        packets[0].sequence_flags,
        Some(1),
        "first packet clears state"
    );
}

#[test]
fn the_boot_switches_real_to_protected_to_long_mode_in_order() {
    let (_, packets) = boot();

    let switches: Vec<&str> = events(packets)
        .filter(|(_, e)| e.name.as_deref().is_some_and(|n| n.starts_with("mode ")))
        .map(|(_, e)| e.name.as_deref().unwrap())
        .collect();

    let to_protected = switches
        .iter()
        .position(|s| s.starts_with("mode real -> protected"))
        .expect("real -> protected");
    let to_long = switches
        .iter()
        .position(|s| s.ends_with("-> 64-bit"))
        .expect("-> 64-bit");
    assert!(to_protected < to_long, "{switches:?}");
}

#[test]
fn the_boot_has_timer_interrupts_eois_post_codes_and_serial_bytes() {
    let (_, packets) = boot();

    assert!(named(packets, "IRQ 0 raised").len() > 10);
    assert!(named(packets, "ack IRQ 0").len() > 10);
    assert!(named(packets, "EOI IRQ 0").len() > 10);
    assert!(named(packets, "IRQ 0 handler").len() > 10);
    assert!(
        !named(packets, "PIT ch0 mode 2 count 11932").is_empty() || {
            events(packets)
                .any(|(_, e)| e.name.as_deref().is_some_and(|n| n.starts_with("PIT ch0")))
        }
    );
    assert!(
        events(packets).any(|(_, e)| e.name.as_deref().is_some_and(|n| n.starts_with("POST 0x")))
    );
    let tx = events(packets)
        .filter(|(_, e)| e.name.as_deref().is_some_and(|n| n.starts_with("tx ")))
        .count();
    assert!(tx > 100, "only {tx} serial bytes");
}

#[test]
fn the_first_disk_read_is_the_mbr_and_every_read_completes() {
    let (_, packets) = boot();
    let ata0 = 8; // trace::tracks::ATA0

    let on_ata0: Vec<&TrackEvent> = events(packets)
        .filter(|(_, e)| e.track_uuid == Some(ata0))
        .map(|(_, e)| e)
        .collect();
    let reads: Vec<&&TrackEvent> = on_ata0
        .iter()
        .filter(|e| e.name.as_deref() == Some("READ SECTORS"))
        .collect();

    assert!(reads.len() > 10);
    assert_eq!(
        uint_arg(reads[0], "lba"),
        Some(0),
        "the BIOS reads the MBR first"
    );
    assert_eq!(uint_arg(reads[0], "count"), Some(1));
    let begins = on_ata0
        .iter()
        .filter(|e| e.r#type == Some(EventType::SliceBegin as i32))
        .count();
    let ends = on_ata0
        .iter()
        .filter(|e| e.r#type == Some(EventType::SliceEnd as i32))
        .count();
    assert_eq!(begins, ends, "every command slice is closed");
}

#[test]
fn timestamps_never_go_backwards() {
    let (_, packets) = boot();

    let stamps: Vec<u64> = packets.iter().filter_map(|p| p.timestamp).collect();

    assert!(stamps.len() > 1000);
    let back = stamps.windows(2).position(|w| w[1] < w[0]);
    assert_eq!(back, None, "a stamp goes backwards");
}

#[test]
fn every_irq_handler_ends_a_flow_that_an_irq_raise_started() {
    let (_, packets) = boot();
    let mut started = BTreeMap::new();
    let mut ended = 0;

    for (ts, e) in events(packets) {
        for f in &e.flow_ids {
            started.insert(*f, (ts, e.name.clone().unwrap()));
        }
        for f in &e.terminating_flow_ids {
            let (at, raise) = started.get(f).expect("flow was started");
            let irq = uint_arg(e, "irq").unwrap();
            assert_eq!(raise, &format!("IRQ {irq} raised"));
            assert!(*at <= ts);
            ended += 1;
        }
    }

    assert!(ended > 10, "only {ended} flows end at a handler");
}

#[test]
fn two_runs_write_identical_traces() {
    let (first, _) = boot();

    let second = traced_boot();

    assert_eq!(first.len(), second.len());
    assert!(*first == second, "the traces differ");
}

#[test]
fn selected_categories_leave_the_others_out() {
    let mut m = machine(
        emulator::firmware::BIOS.to_vec(),
        vec![DiskSpec {
            path: DEFAULT_IMAGE.into(),
            mode: DiskMode::Snapshot,
        }],
        3_000_000,
    );
    let sink = MemorySink::default();
    let (categories, ports) = category::parse("ata,ports=0x1f7-0x1f7").unwrap();
    m.start_trace(
        TraceOptions { categories, ports },
        vec![Box::new(sink.clone())],
    );
    m.run();
    m.finish_trace();
    let packets = decode_trace(&sink.bytes.lock().unwrap()).unwrap().packet;

    let cats: std::collections::BTreeSet<String> = events(&packets)
        .flat_map(|(_, e)| e.categories.clone())
        .collect();

    assert_eq!(
        cats.into_iter().collect::<Vec<_>>(),
        vec!["ata".to_string(), "ports".to_string()]
    );
    assert!(events(&packets)
        .all(|(_, e)| { e.categories[0] != "ports" || uint_arg(e, "port") == Some(0x1F7) }));
}

// ---- a ROM program: guest annotations and the instruction trace ----

/// A 64 KiB ROM whose reset vector jumps to `code` at F000:0000.
fn rom(code: &[u8]) -> Vec<u8> {
    let mut rom = vec![0xF4u8; 0x1_0000];
    rom[..code.len()].copy_from_slice(code);
    // JMP FAR F000:0000 at the reset vector (FFFF0).
    rom[0xFFF0..0xFFF5].copy_from_slice(&[0xEA, 0x00, 0x00, 0x00, 0xF0]);
    rom
}

/// 16-bit code: checks the magic (else exits with 1), sends `events`
/// (kind, args, name), exits with 0.
fn annotating_program(events: &[(u8, Vec<u32>, &str)]) -> Vec<u8> {
    use iced_x86::code_asm::*;
    let mut a = CodeAssembler::new(16).unwrap();
    let mut fail = a.create_label();
    a.mov(dx, BASE as u32).unwrap();
    a.in_(eax, dx).unwrap();
    a.cmp(eax, MAGIC).unwrap();
    a.jne(fail).unwrap();
    for (k, args, name) in events {
        a.mov(dx, BASE as u32 + 4).unwrap();
        for v in args {
            a.mov(eax, *v).unwrap();
            a.out(dx, eax).unwrap();
        }
        a.mov(dx, BASE as u32 + 8).unwrap();
        for b in name.bytes() {
            a.mov(al, b as u32).unwrap();
            a.out(dx, al).unwrap();
        }
        a.mov(dx, BASE as u32).unwrap();
        a.mov(eax, *k as u32).unwrap();
        a.out(dx, eax).unwrap();
    }
    a.mov(al, 0u32).unwrap();
    a.out(0xF4u32, al).unwrap();
    a.set_label(&mut fail).unwrap();
    a.mov(al, 1u32).unwrap();
    a.out(0xF4u32, al).unwrap();
    a.hlt().unwrap();
    a.assemble(0xF0000).unwrap()
}

fn run_rom(
    code: &[u8],
    options: TraceOptions,
    window: Option<Window>,
) -> (Outcome, Vec<TracePacket>) {
    let mut m = machine(rom(code), vec![], 100_000);
    let sink = MemorySink::default();
    m.start_trace(options, vec![Box::new(sink.clone())]);
    if let Some(w) = window {
        m.trace_instructions(w);
    }
    let outcome = m.run();
    m.finish_trace();
    let packets = decode_trace(&sink.bytes.lock().unwrap()).unwrap().packet;
    (outcome, packets)
}

#[test]
fn guest_annotations_become_processes_threads_and_system_call_slices() {
    let code = annotating_program(&[
        (kind::PROCESS_START, vec![1, 0], "init"),
        (kind::SWITCH, vec![0, 1], ""),
        (kind::SYSCALL_ENTER, vec![1, 1], ""),
        (kind::SYSCALL_EXIT, vec![1, 5, 0], ""),
        (kind::PAGE_FAULT, vec![1, 0x1000, 0, 6], ""),
        (kind::PROCESS_EXIT, vec![1, 0], ""),
    ]);

    let (outcome, packets) = run_rom(&code, TraceOptions::default(), None);

    assert_eq!(outcome, Outcome::Exit(1), "the program read the magic");
    let process = packets
        .iter()
        .filter_map(|p| p.track_descriptor.as_ref()?.process.clone())
        .next()
        .expect("a process track");
    assert_eq!(process.pid, Some(1));
    assert_eq!(process.process_name.as_deref(), Some("init"));
    let thread = packets
        .iter()
        .filter_map(|p| p.track_descriptor.as_ref()?.thread.clone())
        .next()
        .expect("a thread track");
    assert_eq!((thread.pid, thread.tid), (Some(1), Some(1)));
    let write = named(&packets, "write");
    assert_eq!(write.len(), 1, "a slice for the write system call");
    let slice_end = events(&packets)
        .find(|(_, e)| e.r#type == Some(EventType::SliceEnd as i32) && arg(e, "result").is_some())
        .expect("the system call's end");
    assert_eq!(arg(slice_end.1, "result").unwrap().int_value, Some(5));
    assert_eq!(named(&packets, "init (1)").len(), 1, "running-thread slice");
    assert_eq!(named(&packets, "page fault").len(), 1);
    assert_eq!(named(&packets, "exit").len(), 1);
}

#[test]
fn without_guest_events_the_port_reads_all_ones_and_annotations_cost_nothing() {
    let code = annotating_program(&[(kind::MARK, vec![], "hello")]);
    let options = TraceOptions {
        categories: Categories::default().without(Category::Guest),
        ports: None,
    };

    let (outcome, packets) = run_rom(&code, options, None);

    assert_eq!(outcome, Outcome::Exit(3), "the program saw no magic");
    assert!(named(&packets, "hello").is_empty());
}

#[test]
fn the_instruction_trace_records_bytes_disassembly_and_changed_registers() {
    let code = annotating_program(&[(kind::MARK, vec![], "m")]);
    let window = Window {
        start: 0xF0000,
        end: 0xF0100,
        limit: 3,
    };
    let options = TraceOptions {
        categories: Categories::none()
            .with(Category::Insn)
            .with(Category::Guest),
        ports: None,
    };

    let (_, packets) = run_rom(&code, options, Some(window));

    let insns: Vec<&TrackEvent> = events(&packets)
        .map(|(_, e)| e)
        .filter(|e| e.categories[0] == "insn")
        .collect();
    assert_eq!(insns.len(), 3, "the count limit holds");
    assert_eq!(insns[0].name.as_deref(), Some("mov dx,540h"));
    assert_eq!(
        arg(insns[0], "bytes").unwrap().string_value.as_deref(),
        Some("ba 40 05")
    );
    assert_eq!(uint_arg(insns[0], "address"), Some(0xF0000));
    assert_eq!(uint_arg(insns[0], "rdx"), Some(0x540), "rdx changed");
    assert_eq!(insns[1].name.as_deref(), Some("in eax,dx"));
    assert_eq!(uint_arg(insns[1], "rax"), Some(MAGIC as u64));
    assert!(arg(insns[1], "rdx").is_none(), "rdx did not change");
}

#[test]
fn emu_run_trace_writes_a_perfetto_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("boot.pftrace");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_emu"))
        .args(["run", "--serial", "none", "--max-instructions", "3000000"])
        .arg("--trace")
        .arg(&path)
        .args(["--trace-events", "cpu,ata,post"])
        .output()
        .unwrap();

    assert_eq!(
        out.status.code(),
        Some(8),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let packets = decode_trace(&std::fs::read(&path).unwrap()).unwrap().packet;
    assert!(!named(&packets, "READ SECTORS").is_empty());
    assert!(
        events(&packets).all(|(_, e)| ["cpu", "ata", "post"].contains(&e.categories[0].as_str()))
    );
}

#[test]
fn emu_run_rejects_an_unknown_trace_category() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_emu"))
        .args(["run", "--trace", "/dev/null", "--trace-events", "cpu,bogus"])
        .output()
        .unwrap();

    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown trace category `bogus`"));
}

#[test]
fn the_guest_kernel_annotates_its_processes_switches_and_system_calls() {
    let (_, packets) = boot();

    let processes: Vec<(Option<i32>, Option<String>)> = packets
        .iter()
        .filter_map(|p| p.track_descriptor.as_ref()?.process.clone())
        .map(|p| (p.pid, p.process_name))
        .collect();
    // PID 1 starts as the kernel's init task and execs /sbin/init, which
    // forks the shell (named after its parent until it execs sh).
    assert!(
        processes.contains(&(Some(1), Some("init".into()))),
        "{processes:?}"
    );
    assert!(
        processes.contains(&(Some(2), Some("sh".into()))),
        "{processes:?}"
    );
    assert!(!named(packets, "execve").is_empty(), "system call slices");
    assert!(
        !named(packets, "write").is_empty(),
        "the shell writes its prompt"
    );
    assert!(
        !named(packets, "sh (2)").is_empty(),
        "the shell ran on the CPU"
    );
}
