//! The trace viewer's screen, drawn into ratatui's `TestBackend` for a
//! small recorded trace (written here packet by packet), and
//! `emu trace stats` / `emu trace show` on the same file.

use emulator::trace::proto::{
    encode_packet, CounterDescriptor, DebugAnnotation, EventType, ProcessDescriptor,
    ThreadDescriptor, TracePacket, TrackDescriptor, TrackEvent,
};
use emulator::trace::viewer::model::Model;
use emulator::trace::viewer::ui::{SourceState, ViewState};
use emulator::trace::viewer::{load, summary};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::io::Write;

const CPU: u64 = 1;
const SERIAL: u64 = 2;
const INSTRUCTIONS: u64 = 3;
const INIT: u64 = 10;
const INIT_MAIN: u64 = 11;

fn descriptor(d: TrackDescriptor) -> TracePacket {
    TracePacket {
        trusted_packet_sequence_id: Some(1),
        track_descriptor: Some(d),
        ..Default::default()
    }
}

fn named(uuid: u64, name: &str) -> TrackDescriptor {
    TrackDescriptor {
        uuid: Some(uuid),
        name: Some(name.into()),
        ..Default::default()
    }
}

fn event(ts: u64, e: TrackEvent) -> TracePacket {
    TracePacket {
        timestamp: Some(ts),
        trusted_packet_sequence_id: Some(1),
        track_event: Some(e),
        ..Default::default()
    }
}

fn on(track: u64, ty: EventType, name: Option<&str>) -> TrackEvent {
    TrackEvent {
        r#type: Some(ty as i32),
        track_uuid: Some(track),
        name: name.map(Into::into),
        ..Default::default()
    }
}

/// A trace like a short boot: a CPU track, the serial port, an
/// instruction counter, and one guest process with one thread.
fn recorded_trace() -> tempfile::NamedTempFile {
    let packets = vec![
        descriptor(named(CPU, "cpu")),
        descriptor(named(SERIAL, "com1")),
        descriptor(TrackDescriptor {
            counter: Some(CounterDescriptor::default()),
            ..named(INSTRUCTIONS, "instructions")
        }),
        descriptor(TrackDescriptor {
            uuid: Some(INIT),
            process: Some(ProcessDescriptor {
                pid: Some(1),
                process_name: Some("init".into()),
            }),
            ..Default::default()
        }),
        descriptor(TrackDescriptor {
            uuid: Some(INIT_MAIN),
            parent_uuid: Some(INIT),
            thread: Some(ThreadDescriptor {
                pid: Some(1),
                tid: Some(1),
                thread_name: Some("init-main".into()),
            }),
            ..Default::default()
        }),
        event(
            1_000,
            TrackEvent {
                debug_annotations: vec![DebugAnnotation::string("to", "long")],
                ..on(CPU, EventType::Instant, Some("mode switch"))
            },
        ),
        event(
            2_000,
            TrackEvent {
                debug_annotations: vec![DebugAnnotation::uint("byte", 0x41)],
                ..on(SERIAL, EventType::Instant, Some("tx"))
            },
        ),
        event(
            3_000,
            on(INIT_MAIN, EventType::SliceBegin, Some("syscall write")),
        ),
        event(4_000, on(INIT_MAIN, EventType::SliceEnd, None)),
        event(
            5_000,
            TrackEvent {
                counter_value: Some(123_456),
                ..on(INSTRUCTIONS, EventType::Counter, None)
            },
        ),
    ];
    let mut f = tempfile::NamedTempFile::new().unwrap();
    for p in &packets {
        f.write_all(&encode_packet(p)).unwrap();
    }
    f.flush().unwrap();
    f
}

/// The screen as lines of text.
fn draw(view: &mut ViewState, model: &Model) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(110, 24)).unwrap();
    terminal.draw(|f| view.render(f, model)).unwrap();
    let buf = terminal.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

fn line_with<'a>(screen: &'a [String], text: &str) -> &'a str {
    screen
        .iter()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no line shows {text:?}:\n{}", screen.join("\n")))
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn shows(screen: &[String], text: &str) -> bool {
    screen.iter().any(|l| l.contains(text))
}

#[test]
fn the_screen_shows_tracks_events_counters_and_processes() {
    let file = recorded_trace();
    let model = load(file.path()).unwrap();
    let mut view = ViewState::new("boot.perfetto", SourceState::File);

    let screen = draw(&mut view, &model);

    // Track list: names, the thread under its process, event counts.
    let left = |text| {
        line_with(&screen, text)
            .split("││")
            .next()
            .unwrap()
            .to_string()
    };
    assert!(
        left("│all tracks").ends_with(" 5"),
        "{}",
        left("│all tracks")
    );
    assert!(left("│init [1]").ends_with(" 0"));
    line_with(&screen, "com1");
    assert!(left("│  init-main").ends_with(" 2"));
    // The feed: time, track, kind letter, name, arguments.
    let tx = line_with(&screen, "0.000002 com1");
    assert!(tx.contains(" I tx") && tx.contains("byte=65"), "{tx}");
    assert!(line_with(&screen, "init-main        E syscall write").contains("0.000004"));
    // Counters: the latest value.
    assert!(line_with(&screen, "instructions     C = 123456").contains("0.000005"));
    assert!(line_with(&screen, "││instructions ").contains("123456"));
    // Processes: pid, name, threads.
    line_with(&screen, "Processes (1)");
    line_with(&screen, "    1 init (1 thread)");
    // Status line.
    assert!(line_with(&screen, " FILE ").contains("packets 10"));
}

#[test]
fn selecting_a_track_shows_only_its_events() {
    let file = recorded_trace();
    let model = load(file.path()).unwrap();
    let mut view = ViewState::new("boot.perfetto", SourceState::File);

    // Rows: all tracks, cpu, com1, ...
    view.key(key(KeyCode::Down), &model);
    view.key(key(KeyCode::Down), &model);
    let screen = draw(&mut view, &model);

    line_with(&screen, "Events: com1");
    assert!(shows(&screen, "0.000002 com1"));
    assert!(!shows(&screen, "mode switch"), "{}", screen.join("\n"));
}

#[test]
fn kind_and_text_filters_narrow_the_feed() {
    let file = recorded_trace();
    let model = load(file.path()).unwrap();
    let mut view = ViewState::new("boot.perfetto", SourceState::File);

    view.key(key(KeyCode::Char('k')), &model); // slices
    let slices = draw(&mut view, &model);
    view.key(key(KeyCode::Char('k')), &model); // instants
    for c in "/MODE".chars() {
        view.key(key(KeyCode::Char(c)), &model);
    }
    view.key(key(KeyCode::Enter), &model);
    let instants = draw(&mut view, &model);

    assert!(shows(&slices, "B syscall write") && !shows(&slices, "mode switch"));
    line_with(&instants, "Events: all tracks, instants, \"MODE\"");
    assert!(shows(&instants, "I mode switch") && !shows(&instants, " I tx"));
}

#[test]
fn pausing_holds_the_feed_while_events_arrive() {
    let file = recorded_trace();
    let mut model = load(file.path()).unwrap();
    let mut view = ViewState::new("127.0.0.1:7070", SourceState::Live);

    view.key(key(KeyCode::Char(' ')), &model);
    model.apply(&event(
        9_000,
        on(CPU, EventType::Instant, Some("late event")),
    ));
    let paused = draw(&mut view, &model);
    view.key(key(KeyCode::Char(' ')), &model);
    let live = draw(&mut view, &model);

    assert!(shows(&paused, " PAUSED ") && !shows(&paused, "late event"));
    assert!(shows(&live, " LIVE ") && shows(&live, "late event"));
}

#[test]
fn stats_summarise_a_recorded_trace() {
    let file = recorded_trace();
    let model = load(file.path()).unwrap();

    let text = summary("boot.perfetto", &model);

    assert!(
        text.contains("boot.perfetto: 10 packets (5 track descriptors, 5 events)"),
        "{text}"
    );
    assert!(text.contains("time: 0.000001 s .. 0.000005 s"), "{text}");
    assert!(text.contains("dropped: 0 events"), "{text}");
    assert!(text.contains("    1 init (1 threads)"), "{text}");
    let init_main = text.lines().find(|l| l.contains("init-main")).unwrap();
    assert_eq!(
        init_main.split_whitespace().collect::<Vec<_>>(),
        ["init-main", "2", "1", "0", "0"]
    );
}

#[test]
fn emu_trace_stats_prints_the_summary_and_fails_cleanly_on_garbage() {
    let file = recorded_trace();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_emu"))
        .args(["trace", "stats"])
        .arg(file.path())
        .output()
        .unwrap();
    let mut garbage = tempfile::NamedTempFile::new().unwrap();
    garbage.write_all(&[0x0A, 0x7F, 1, 2]).unwrap();
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_emu"))
        .args(["trace", "stats"])
        .arg(garbage.path())
        .output()
        .unwrap();

    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("10 packets"));
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ends inside a packet"));
}
