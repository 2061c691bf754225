//! What the viewer knows of a trace: tracks (from track descriptors), the
//! events on them, the guest's processes and threads, counter values and
//! dropped events. Packets go in one at a time with [`Model::apply`], as
//! they arrive.

use crate::trace::live::{DROPPED_ANNOTATION, SERVER_TRACK_UUID};
use crate::trace::proto::{DebugAnnotation, EventType, TracePacket, TrackDescriptor};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// How many events the feed keeps (the oldest go first).
pub const FEED_CAPACITY: usize = 200_000;

/// What an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    SliceBegin,
    SliceEnd,
    Instant,
    Counter,
}

impl EventKind {
    /// One letter for the feed.
    pub fn letter(self) -> char {
        match self {
            EventKind::SliceBegin => 'B',
            EventKind::SliceEnd => 'E',
            EventKind::Instant => 'I',
            EventKind::Counter => 'C',
        }
    }
}

/// One track event, as the feed shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Arrival number, counting from 0 over the whole stream.
    pub seq: u64,
    /// Nanoseconds (the trace's clock: the machine's virtual time).
    pub timestamp: Option<u64>,
    pub track: u64,
    pub kind: EventKind,
    /// The event's name; a slice end takes its begin's.
    pub name: String,
    /// Debug annotations as `name=value`, and categories.
    pub args: String,
    /// A counter's value.
    pub value: Option<i64>,
}

/// A guest process or thread a track stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    Process { pid: i32 },
    Thread { pid: i32, tid: i32 },
}

/// A track and what has happened on it.
#[derive(Clone, Debug, Default)]
pub struct Track {
    pub uuid: u64,
    pub name: String,
    pub parent: Option<u64>,
    pub owner: Option<Owner>,
    /// Declared a counter track, or has had counter events.
    pub is_counter: bool,
    /// A counter track's unit, if its descriptor names one.
    pub unit: Option<String>,
    /// Events on this track, by kind.
    pub counts: HashMap<EventKind, u64>,
    pub last_value: Option<i64>,
    /// Names of the slices open on this track, innermost last.
    open: Vec<String>,
    /// Seen only in events so far, not in a descriptor.
    pub undeclared: bool,
}

impl Track {
    /// Events on this track, of every kind.
    pub fn events(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// A guest process, from process and thread descriptors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Process {
    pub pid: i32,
    pub name: String,
    /// Thread id -> name.
    pub threads: BTreeMap<i32, String>,
}

/// The whole picture.
#[derive(Debug, Default)]
pub struct Model {
    pub tracks: HashMap<u64, Track>,
    /// Track uuids in the order they first appeared.
    order: Vec<u64>,
    /// The newest events, oldest first.
    pub feed: VecDeque<Event>,
    /// Events seen (the next event's `seq`).
    pub events: u64,
    /// Packets seen, and how many were descriptors.
    pub packets: u64,
    pub descriptors: u64,
    pub first_timestamp: Option<u64>,
    pub last_timestamp: Option<u64>,
    /// Events the server dropped for us (from its markers).
    pub dropped_events: u64,
    /// Packets flagged `previous_packet_dropped`.
    pub drop_markers: u64,
    pub processes: BTreeMap<i32, Process>,
}

impl Model {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one packet into the picture.
    pub fn apply(&mut self, p: &TracePacket) {
        self.packets += 1;
        if let Some(ts) = p.timestamp {
            self.first_timestamp = Some(self.first_timestamp.map_or(ts, |f| f.min(ts)));
            self.last_timestamp = Some(self.last_timestamp.map_or(ts, |l| l.max(ts)));
        }
        if p.previous_packet_dropped == Some(true) {
            self.drop_markers += 1;
        }
        if let Some(d) = &p.track_descriptor {
            self.descriptors += 1;
            self.describe(d);
        }
        if let Some(e) = &p.track_event {
            let Some(kind) = e.r#type.and_then(|t| EventType::try_from(t).ok()) else {
                return;
            };
            let kind = match kind {
                EventType::SliceBegin => EventKind::SliceBegin,
                EventType::SliceEnd => EventKind::SliceEnd,
                EventType::Instant => EventKind::Instant,
                EventType::Counter => EventKind::Counter,
                _ => return,
            };
            let uuid = e.track_uuid.unwrap_or(0);
            let mut args: Vec<String> = e.debug_annotations.iter().map(annotation_text).collect();
            if !e.categories.is_empty() {
                args.push(format!("[{}]", e.categories.join(",")));
            }
            if uuid == SERVER_TRACK_UUID {
                self.dropped_events += e
                    .debug_annotations
                    .iter()
                    .filter(|a| a.name.as_deref() == Some(DROPPED_ANNOTATION))
                    .filter_map(|a| a.uint_value)
                    .sum::<u64>();
            }
            let value = e.counter_value;
            let track = self.track_mut(uuid);
            *track.counts.entry(kind).or_default() += 1;
            let mut name = e.name.clone().unwrap_or_default();
            match kind {
                EventKind::SliceBegin => track.open.push(name.clone()),
                EventKind::SliceEnd => {
                    let begun = track.open.pop();
                    if name.is_empty() {
                        name = begun.unwrap_or_default();
                    }
                }
                EventKind::Counter => {
                    track.is_counter = true;
                    track.last_value = value.or(track.last_value);
                }
                EventKind::Instant => {}
            }
            let event = Event {
                seq: self.events,
                timestamp: p.timestamp,
                track: uuid,
                kind,
                name,
                args: args.join(" "),
                value,
            };
            self.events += 1;
            if self.feed.len() == FEED_CAPACITY {
                self.feed.pop_front();
            }
            self.feed.push_back(event);
        }
    }

    fn describe(&mut self, d: &TrackDescriptor) {
        let uuid = d.uuid.unwrap_or(0);
        let mut owner = None;
        let mut name = d.name.clone();
        if let Some(p) = &d.process {
            let pid = p.pid.unwrap_or(0);
            let proc_ = self.processes.entry(pid).or_insert_with(|| Process {
                pid,
                ..Default::default()
            });
            if let Some(n) = p.process_name.clone().or_else(|| name.clone()) {
                proc_.name = n;
            }
            name = name.or_else(|| Some(format!("{} [{pid}]", proc_.name).trim().to_string()));
            owner = Some(Owner::Process { pid });
        }
        if let Some(t) = &d.thread {
            let (pid, tid) = (t.pid.unwrap_or(0), t.tid.unwrap_or(0));
            let thread_name = t
                .thread_name
                .clone()
                .or_else(|| name.clone())
                .unwrap_or_else(|| format!("thread {tid}"));
            self.processes
                .entry(pid)
                .or_insert_with(|| Process {
                    pid,
                    ..Default::default()
                })
                .threads
                .insert(tid, thread_name.clone());
            name = name.or(Some(thread_name));
            owner = Some(Owner::Thread { pid, tid });
        }
        let track = self.track_mut(uuid);
        track.undeclared = false;
        if let Some(n) = name {
            track.name = n;
        }
        if d.parent_uuid.is_some() {
            track.parent = d.parent_uuid;
        }
        if owner.is_some() {
            track.owner = owner;
        }
        if let Some(c) = &d.counter {
            track.is_counter = true;
            track.unit = c.unit_name.clone();
        }
    }

    fn track_mut(&mut self, uuid: u64) -> &mut Track {
        let order = &mut self.order;
        self.tracks.entry(uuid).or_insert_with(|| {
            order.push(uuid);
            Track {
                uuid,
                name: format!("track {uuid:#x}"),
                undeclared: true,
                ..Default::default()
            }
        })
    }

    /// Tracks as a tree: each with its depth, parents before children,
    /// siblings in the order they appeared.
    pub fn track_rows(&self) -> Vec<(usize, u64)> {
        let mut children: HashMap<u64, Vec<u64>> = HashMap::new();
        let mut roots = Vec::new();
        for &u in &self.order {
            match self.tracks[&u].parent {
                Some(p) if p != u && self.tracks.contains_key(&p) => {
                    children.entry(p).or_default().push(u)
                }
                _ => roots.push(u),
            }
        }
        let mut rows = Vec::with_capacity(self.order.len());
        let mut seen = HashSet::new();
        let mut stack: Vec<(usize, u64)> = roots.into_iter().rev().map(|u| (0, u)).collect();
        while let Some((depth, u)) = stack.pop() {
            if !seen.insert(u) {
                continue;
            }
            rows.push((depth, u));
            if let Some(c) = children.get(&u) {
                stack.extend(c.iter().rev().map(|&c| (depth + 1, c)));
            }
        }
        // Tracks in a parent cycle have no root: list them flat.
        for &u in &self.order {
            if !seen.contains(&u) {
                rows.push((0, u));
            }
        }
        rows
    }

    /// `uuid` and every track under it.
    pub fn subtree(&self, uuid: u64) -> HashSet<u64> {
        let mut set = HashSet::from([uuid]);
        let mut grew = true;
        while grew {
            grew = false;
            for t in self.tracks.values() {
                if let Some(p) = t.parent {
                    if set.contains(&p) && set.insert(t.uuid) {
                        grew = true;
                    }
                }
            }
        }
        set
    }

    /// Counter tracks with their latest values, in track order.
    pub fn counters(&self) -> Vec<&Track> {
        self.order
            .iter()
            .map(|u| &self.tracks[u])
            .filter(|t| t.is_counter)
            .collect()
    }

    /// The track's name, or its uuid when unknown.
    pub fn track_name(&self, uuid: u64) -> &str {
        self.tracks.get(&uuid).map_or("?", |t| t.name.as_str())
    }
}

/// A debug annotation as `name=value`.
fn annotation_text(a: &DebugAnnotation) -> String {
    let value = if let Some(v) = &a.string_value {
        v.clone()
    } else if let Some(v) = a.uint_value {
        v.to_string()
    } else if let Some(v) = a.int_value {
        v.to_string()
    } else if let Some(v) = a.bool_value {
        v.to_string()
    } else if let Some(v) = a.pointer_value {
        format!("{v:#x}")
    } else {
        String::new()
    };
    match &a.name {
        Some(n) => format!("{n}={value}"),
        None => value,
    }
}

/// Nanoseconds as seconds with microseconds: `12.345678`.
pub fn seconds(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, ns % 1_000_000_000 / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::proto::{CounterDescriptor, ProcessDescriptor, ThreadDescriptor, TrackEvent};

    fn desc(d: TrackDescriptor) -> TracePacket {
        TracePacket {
            track_descriptor: Some(d),
            ..Default::default()
        }
    }

    fn event(ts: u64, track: u64, ty: EventType, name: Option<&str>) -> TracePacket {
        TracePacket {
            timestamp: Some(ts),
            track_event: Some(TrackEvent {
                r#type: Some(ty as i32),
                track_uuid: Some(track),
                name: name.map(Into::into),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_slice_end_without_a_name_takes_its_begins() {
        let mut m = Model::new();
        m.apply(&event(1, 5, EventType::SliceBegin, Some("irq 0")));
        m.apply(&event(2, 5, EventType::SliceEnd, None));
        assert_eq!(m.feed[1].name, "irq 0");
        assert_eq!(m.feed[1].kind, EventKind::SliceEnd);
    }

    #[test]
    fn process_and_thread_descriptors_make_the_process_list() {
        let mut m = Model::new();
        m.apply(&desc(TrackDescriptor {
            uuid: Some(10),
            process: Some(ProcessDescriptor {
                pid: Some(1),
                process_name: Some("init".into()),
            }),
            ..Default::default()
        }));
        m.apply(&desc(TrackDescriptor {
            uuid: Some(11),
            parent_uuid: Some(10),
            thread: Some(ThreadDescriptor {
                pid: Some(1),
                tid: Some(2),
                thread_name: Some("main".into()),
            }),
            ..Default::default()
        }));
        assert_eq!(m.processes[&1].name, "init");
        assert_eq!(m.processes[&1].threads[&2], "main");
        assert_eq!(m.track_rows(), [(0, 10), (1, 11)]);
        assert_eq!(m.subtree(10), HashSet::from([10, 11]));
    }

    #[test]
    fn counters_keep_their_latest_value() {
        let mut m = Model::new();
        m.apply(&desc(TrackDescriptor {
            uuid: Some(3),
            name: Some("irqs".into()),
            counter: Some(CounterDescriptor::default()),
            ..Default::default()
        }));
        let mut p = event(1, 3, EventType::Counter, None);
        p.track_event.as_mut().unwrap().counter_value = Some(7);
        m.apply(&p);
        p.track_event.as_mut().unwrap().counter_value = Some(9);
        m.apply(&p);
        assert_eq!(m.counters()[0].last_value, Some(9));
    }

    #[test]
    fn drop_markers_are_counted() {
        let mut m = Model::new();
        let mut p = event(
            1,
            SERVER_TRACK_UUID,
            EventType::Instant,
            Some("5 events dropped"),
        );
        p.previous_packet_dropped = Some(true);
        p.track_event.as_mut().unwrap().debug_annotations = vec![DebugAnnotation {
            name: Some(DROPPED_ANNOTATION.into()),
            uint_value: Some(5),
            ..Default::default()
        }];
        m.apply(&p);
        assert_eq!((m.dropped_events, m.drop_markers), (5, 1));
    }

    #[test]
    fn seconds_show_microseconds() {
        assert_eq!(seconds(12_345_678_901), "12.345678");
    }
}
