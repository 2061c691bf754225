//! The live trace server (`emu run --trace-listen`) with a synthetic packet
//! source: late viewers get the descriptors first, a stalled viewer loses
//! events (counted, and marked in its stream) without ever holding up the
//! machine side, and a viewer that hangs up is forgotten.

use emulator::trace::live::{ListenAddr, LiveServer, Options, DROPPED_ANNOTATION};
use emulator::trace::proto::{encode_packet, EventType, TracePacket, TrackDescriptor, TrackEvent};
use emulator::trace::viewer::decode::decode_all;
use emulator::trace::{PacketKind, TraceSink};
use std::io::Read;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn descriptor(uuid: u64, name: &str) -> Vec<u8> {
    encode_packet(&TracePacket {
        trusted_packet_sequence_id: Some(1),
        track_descriptor: Some(TrackDescriptor {
            uuid: Some(uuid),
            name: Some(name.into()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// A counter event whose value says which one it is.
fn event(n: i64) -> Vec<u8> {
    encode_packet(&TracePacket {
        timestamp: Some(n as u64 * 1000),
        trusted_packet_sequence_id: Some(1),
        track_event: Some(TrackEvent {
            r#type: Some(EventType::Counter as i32),
            track_uuid: Some(1),
            counter_value: Some(n),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn connect(addr: &ListenAddr) -> Box<dyn Read + Send> {
    emulator::trace::live::connect(addr).expect("connect to the server")
}

/// Waits (bounded) until the server has taken `n` viewers.
fn wait_for_viewers(server: &LiveServer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.clients().len() < n {
        assert!(
            Instant::now() < deadline,
            "the server never took the viewer"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reads a viewer's whole stream on a thread (to EOF).
fn read_all(mut r: Box<dyn Read + Send>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        r.read_to_end(&mut v).expect("read the stream");
        v
    })
}

/// What a packet is, in a form easy to compare.
#[derive(Debug, PartialEq)]
enum Seen {
    Track(String),
    Value(i64),
    Dropped(u64),
    Other,
}

fn seen(bytes: &[u8]) -> Vec<Seen> {
    decode_all(bytes)
        .expect("the stream is a valid trace")
        .into_iter()
        .map(|f| {
            let p = f.packet;
            if let Some(d) = p.track_descriptor {
                return Seen::Track(d.name.unwrap_or_default());
            }
            match p.track_event {
                Some(e) if p.previous_packet_dropped == Some(true) => Seen::Dropped(
                    e.debug_annotations
                        .iter()
                        .find(|a| a.name.as_deref() == Some(DROPPED_ANNOTATION))
                        .and_then(|a| a.uint_value)
                        .expect("a drop marker says how many"),
                ),
                Some(e) => e.counter_value.map_or(Seen::Other, Seen::Value),
                None => Seen::Other,
            }
        })
        .collect()
}

#[test]
fn a_late_viewer_gets_every_descriptor_then_live_events() {
    let addr = ListenAddr::parse("127.0.0.1:0").unwrap();
    let (server, mut sink) = LiveServer::listen(&addr).unwrap();
    sink.packet(&descriptor(1, "cpu"), PacketKind::Descriptor);
    sink.packet(&event(1), PacketKind::Event); // before anyone attached

    let reader = read_all(connect(server.addr()));
    wait_for_viewers(&server, 1);
    sink.packet(&descriptor(2, "disk"), PacketKind::Descriptor);
    sink.packet(&event(2), PacketKind::Event);
    sink.finish();
    drop(sink);
    let summary = server.finish(Duration::from_secs(20));
    let got = seen(&reader.join().unwrap());

    assert_eq!(
        got,
        [
            Seen::Track("cpu".into()),
            Seen::Track("disk".into()),
            Seen::Value(2)
        ]
    );
    assert_eq!((summary[0].sent, summary[0].dropped), (3, 0));
}

#[test]
fn a_unix_socket_serves_any_number_of_viewers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emu.trace");
    let addr = ListenAddr::parse(&format!("unix:{}", path.display())).unwrap();
    let (server, mut sink) = LiveServer::listen(&addr).unwrap();
    sink.packet(&descriptor(1, "cpu"), PacketKind::Descriptor);

    let a = read_all(connect(&addr));
    let b = read_all(connect(&addr));
    wait_for_viewers(&server, 2);
    sink.packet(&event(7), PacketKind::Event);
    sink.finish();
    server.finish(Duration::from_secs(20));

    let expected = [Seen::Track("cpu".into()), Seen::Value(7)];
    assert_eq!(seen(&a.join().unwrap()), expected);
    assert_eq!(seen(&b.join().unwrap()), expected);
    assert!(!path.exists(), "the socket file is removed at the end");
}

#[test]
fn a_stalled_viewer_loses_events_counted_and_marked_and_never_blocks_the_machine() {
    let dir = tempfile::tempdir().unwrap();
    let addr = ListenAddr::Unix(dir.path().join("stall.trace"));
    let (server, mut sink) = LiveServer::listen_with(&addr, Options { queue_packets: 8 }).unwrap();
    sink.packet(&descriptor(1, "cpu"), PacketKind::Descriptor);
    let (go_tx, go_rx) = crossbeam_channel::bounded::<()>(1);
    let mut conn = connect(&addr);
    // The viewer reads nothing until told: its socket buffer and then its
    // queue fill up.
    let reader = std::thread::spawn(move || {
        go_rx.recv().unwrap();
        let mut v = Vec::new();
        conn.read_to_end(&mut v).unwrap();
        v
    });
    wait_for_viewers(&server, 1);
    let stats = server.clients()[0].clone();

    // Phase 1, on a "machine" thread: far more than a socket buffer holds.
    // A blocking sink would never finish; the bound below only catches
    // that (it is not a benchmark).
    const PHASE1: i64 = 200_000;
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    let machine = std::thread::spawn(move || {
        let mut slowest = Duration::ZERO;
        for n in 0..PHASE1 {
            let t = Instant::now();
            sink.packet(&event(n), PacketKind::Event);
            slowest = slowest.max(t.elapsed());
        }
        done_tx.send(slowest).unwrap();
        sink
    });
    let slowest = done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("packet() blocked on a stalled viewer");
    let mut sink = machine.join().unwrap();
    eprintln!("slowest packet() call with a stalled viewer: {slowest:?}");
    let dropped = stats.dropped.load(Ordering::Relaxed);
    assert!(dropped > 0, "a stalled viewer must lose events");

    // The viewer catches up: wait until its writer has sent every event
    // that was queued.
    go_tx.send(()).unwrap();
    let queued = PHASE1 as u64 - dropped;
    let deadline = Instant::now() + Duration::from_secs(60);
    while stats.events.load(Ordering::Relaxed) < queued {
        assert!(Instant::now() < deadline, "the viewer never caught up");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Phase 2: room again, so a marker, then live events.
    for n in PHASE1..PHASE1 + 3 {
        sink.packet(&event(n), PacketKind::Event);
    }
    sink.finish();
    server.finish(Duration::from_secs(20));
    let got = seen(&reader.join().unwrap());

    // The queue filled up and emptied in bursts while the socket buffer
    // still took bytes: one marker per gap, each saying how many.
    let reported: u64 = got
        .iter()
        .map(|s| match s {
            Seen::Dropped(n) => *n,
            _ => 0,
        })
        .sum();
    assert_eq!(reported, dropped);
    let first = got
        .iter()
        .position(|s| matches!(s, Seen::Dropped(_)))
        .expect("a marker");
    assert_eq!(got[first - 1], Seen::Track("trace server".into()));
    let values: Vec<i64> = got
        .iter()
        .filter_map(|s| match s {
            Seen::Value(v) => Some(*v),
            _ => None,
        })
        .collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "in order");
    assert_eq!(values.len() as u64 + dropped, PHASE1 as u64 + 3);
    // Live again after the gap: phase 2 arrives whole, last.
    assert_eq!(
        got[got.len() - 3..],
        [
            Seen::Value(PHASE1),
            Seen::Value(PHASE1 + 1),
            Seen::Value(PHASE1 + 2)
        ]
    );
}

#[test]
fn drops_at_the_very_end_are_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let addr = ListenAddr::Unix(dir.path().join("end.trace"));
    let (server, mut sink) = LiveServer::listen_with(&addr, Options { queue_packets: 2 }).unwrap();
    let (go_tx, go_rx) = crossbeam_channel::bounded::<()>(1);
    let mut conn = connect(&addr);
    let reader = std::thread::spawn(move || {
        go_rx.recv().unwrap();
        let mut v = Vec::new();
        conn.read_to_end(&mut v).unwrap();
        v
    });
    wait_for_viewers(&server, 1);
    let stats = server.clients()[0].clone();

    for n in 0..100_000 {
        sink.packet(&event(n), PacketKind::Event);
    }
    sink.finish();
    go_tx.send(()).unwrap();
    server.finish(Duration::from_secs(30));
    let got = seen(&reader.join().unwrap());

    let dropped = stats.dropped.load(Ordering::Relaxed);
    assert!(dropped > 0);
    let reported: u64 = got
        .iter()
        .map(|s| match s {
            Seen::Dropped(n) => *n,
            _ => 0,
        })
        .sum();
    assert_eq!(reported, dropped);
}

#[test]
fn a_viewer_that_hangs_up_is_forgotten() {
    let addr = ListenAddr::parse("127.0.0.1:0").unwrap();
    let (server, mut sink) = LiveServer::listen(&addr).unwrap();
    let conn = connect(server.addr());
    wait_for_viewers(&server, 1);
    drop(conn);

    for n in 0..50_000 {
        sink.packet(&event(n), PacketKind::Event);
    }
    sink.finish();
    let summary = server.finish(Duration::from_secs(20));

    assert_eq!(summary.len(), 1);
}

#[test]
fn addresses_are_tcp_or_unix_paths() {
    assert_eq!(
        ListenAddr::parse("127.0.0.1:7070").unwrap(),
        ListenAddr::Tcp("127.0.0.1:7070".parse().unwrap())
    );
    assert_eq!(
        ListenAddr::parse("unix:/tmp/x").unwrap(),
        ListenAddr::Unix("/tmp/x".into())
    );
    assert_eq!(
        ListenAddr::parse("/tmp/y.sock").unwrap(),
        ListenAddr::Unix("/tmp/y.sock".into())
    );
    assert!(ListenAddr::parse("nowhere").is_err());
}

// ---- end to end: `emu run --trace-listen` and viewers attached to it ----

mod end_to_end {
    use super::*;
    use emulator::trace::proto::TracePacket;
    use emulator::trace::viewer::decode::PacketStream;
    use iced_x86::code_asm::*;
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    /// A 64 KiB ROM: says "ready", waits for a byte on COM1, echoes it in
    /// "got X", says "bye" and exits with 0 (status 1).
    fn echo_rom() -> tempfile::NamedTempFile {
        let mut a = CodeAssembler::new(16).unwrap();
        (|| -> Result<(), IcedError> {
            for (port, v) in [(0x3FBu32, 0x80u32), (0x3F8, 1), (0x3F9, 0), (0x3FB, 0x03)] {
                a.mov(dx, port)?;
                a.mov(al, v)?;
                a.out(dx, al)?;
            }
            let put = |a: &mut CodeAssembler, from_bl: bool, b: u8| -> Result<(), IcedError> {
                let mut wait = a.create_label();
                a.set_label(&mut wait)?;
                a.mov(dx, 0x3FDu32)?;
                a.in_(al, dx)?;
                a.test(al, 0x20)?;
                a.jz(wait)?;
                a.mov(dx, 0x3F8u32)?;
                if from_bl {
                    a.mov(al, bl)?;
                } else {
                    a.mov(al, b as u32)?;
                }
                a.out(dx, al)
            };
            for b in b"ready\n" {
                put(&mut a, false, *b)?;
            }
            let mut rx = a.create_label();
            a.set_label(&mut rx)?;
            a.mov(dx, 0x3FDu32)?;
            a.in_(al, dx)?;
            a.test(al, 0x01)?;
            a.jz(rx)?;
            a.mov(dx, 0x3F8u32)?;
            a.in_(al, dx)?;
            a.mov(bl, al)?;
            for b in b"got " {
                put(&mut a, false, *b)?;
            }
            put(&mut a, true, 0)?;
            for b in b"\nbye\n" {
                put(&mut a, false, *b)?;
            }
            a.mov(al, 0u32)?;
            a.out(0xF4, al)
        })()
        .unwrap();
        let body = a.assemble(0).unwrap();
        let mut image = vec![0xFFu8; 0x10000];
        image[..body.len()].copy_from_slice(&body);
        image[0xFFF0..0xFFF5].copy_from_slice(&[0xEA, 0x00, 0x00, 0x00, 0xF0]);
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&image).unwrap();
        f
    }

    fn emu(rom: &tempfile::NamedTempFile, extra: &[&str]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_emu"))
            .args(["run", "--bios"])
            .arg(rom.path())
            .args(["--timeout", "120"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("emu runs")
    }

    /// A viewer's packets, decoded on a thread as they arrive, until EOF.
    fn viewer(addr: &ListenAddr) -> crossbeam_channel::Receiver<TracePacket> {
        let mut conn = connect(addr);
        let (tx, rx) = crossbeam_channel::unbounded();
        std::thread::spawn(move || {
            let mut s = PacketStream::new();
            let mut buf = [0u8; 4096];
            loop {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => s.push(&buf[..n]),
                }
                while let Some(p) = s.next_packet().expect("a valid stream") {
                    if tx.send(p.packet).is_err() {
                        return; // detached
                    }
                }
            }
        });
        rx
    }

    /// Takes packets until the first event: the viewer is then being fed
    /// live. Returns the descriptors' names seen before it.
    fn until_live(rx: &crossbeam_channel::Receiver<TracePacket>) -> Vec<String> {
        let mut names = Vec::new();
        loop {
            let p = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("a live event within a minute");
            if let Some(d) = p.track_descriptor {
                names.push(d.name.unwrap_or_default());
            }
            if p.track_event.is_some() {
                return names;
            }
        }
    }

    /// Waits for "ready" (the UART is set up: a byte sent earlier would be
    /// read as 5 bits), sends "x", and returns the whole output.
    fn answer_ready(child: &mut std::process::Child) -> String {
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut ready = String::new();
        stdout.read_line(&mut ready).unwrap();
        child.stdin.as_mut().unwrap().write_all(b"x").unwrap();
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        ready + &rest
    }

    #[test]
    fn viewers_attach_to_a_running_guest_get_its_events_and_leave_it_unchanged() {
        let rom = echo_rom();
        let mut plain = emu(&rom, &[]);
        let reference = answer_ready(&mut plain);
        let reference_status = plain.wait().unwrap();

        let dir = tempfile::tempdir().unwrap();
        let sock = format!("unix:{}", dir.path().join("emu.trace").display());
        let mut traced = emu(&rom, &["--trace-listen", &sock]);
        let mut stderr = BufReader::new(traced.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("emu: trace server listening on ")
            .unwrap_or_else(|| panic!("no listening line: {line:?}"));
        let addr = ListenAddr::parse(addr).unwrap();
        let stayer = viewer(&addr);
        let leaver = viewer(&addr);
        let tracks = until_live(&stayer);
        until_live(&leaver);
        drop(leaver); // detach while the guest runs
        let output = answer_ready(&mut traced);
        let received: Vec<TracePacket> = stayer.iter().collect(); // to EOF
        let status = traced.wait().unwrap();
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();

        assert!(tracks.iter().any(|t| t == "UART COM1"), "{tracks:?}");
        let com1: String = received
            .iter()
            .filter_map(|p| p.track_event.as_ref())
            .filter(|e| e.track_uuid == Some(6))
            .filter_map(|e| e.name.clone())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            com1.contains("rx 'x' tx 'g' tx 'o' tx 't' tx ' ' tx 'x' tx 0x0a tx 'b'"),
            "{com1}"
        );
        assert_eq!(output, reference);
        assert_eq!(output, "ready\ngot x\nbye\n");
        assert_eq!(status.code(), reference_status.code());
        assert_eq!(status.code(), Some(1));
        assert!(!rest.contains("dropped"), "{rest}");
    }
}
