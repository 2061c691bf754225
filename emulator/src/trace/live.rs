//! The live trace server behind `emu run --trace-listen ADDR`: serves the
//! machine's trace stream to any number of viewers over loopback TCP or a
//! Unix socket while the guest runs.
//!
//! - [`LiveServer::listen`] binds the address and starts the accept thread;
//!   it hands back the [`LiveSink`], the [`TraceSink`] the machine thread
//!   writes packets into.
//! - Each viewer gets its own writer thread and a bounded queue. The
//!   machine thread only ever `try_send`s into the queues, so a slow or
//!   stalled viewer never slows the machine: when a queue is full the
//!   event is dropped and counted, and once there is room again the viewer
//!   first gets a marker packet (`previous_packet_dropped`, an instant
//!   "N events dropped" on the "trace server" track), then live events.
//! - Track descriptors are never dropped: they are kept, in order, beside
//!   the queues, and every writer sends the ones it has not sent yet before
//!   its next packet. A viewer that attaches mid-run therefore first
//!   receives every descriptor so far, then live events.
//!
//! The bytes on the wire are a Perfetto trace (`Trace.packet` fields one
//! after another): what a viewer receives, saved as is, is a trace file.
//! The viewer is in [`super::viewer`].

use super::proto::{self, DebugAnnotation, EventType, TrackDescriptor, TrackEvent};
use super::{PacketKind, TraceSink};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::{Mutex, RwLock};
use prost::Message;
use std::fmt;
use std::io::{BufWriter, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How many packets a viewer's queue holds before events are dropped.
pub const DEFAULT_QUEUE_PACKETS: usize = 64 * 1024;

/// The uuid of the track the drop markers go on ("trace server").
pub const SERVER_TRACK_UUID: u64 = 0x7472_6163_6573_7276;

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    /// Loopback (or any) TCP, e.g. `127.0.0.1:7070`; port 0 picks one.
    Tcp(SocketAddr),
    /// A Unix socket path: `unix:/path`, or any address with a '/'.
    Unix(PathBuf),
}

impl ListenAddr {
    /// `unix:PATH`, a path containing '/', or HOST:PORT.
    pub fn parse(s: &str) -> Result<ListenAddr, LiveError> {
        if let Some(p) = s.strip_prefix("unix:") {
            if p.is_empty() {
                return Err(LiveError::BadAddress(s.into()));
            }
            return Ok(ListenAddr::Unix(p.into()));
        }
        if s.contains('/') {
            return Ok(ListenAddr::Unix(s.into()));
        }
        s.to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .map(ListenAddr::Tcp)
            .ok_or_else(|| LiveError::BadAddress(s.into()))
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Tcp(a) => write!(f, "{a}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// Errors of the live server (and of connecting to one).
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("not a trace address: {0} (try 127.0.0.1:7070 or unix:/tmp/emu.trace)")]
    BadAddress(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: ListenAddr,
        source: std::io::Error,
    },
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: ListenAddr,
        source: std::io::Error,
    },
}

/// Tuning for [`LiveServer::listen_with`].
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Packets a viewer's queue holds; past that, events are dropped.
    pub queue_packets: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            queue_packets: DEFAULT_QUEUE_PACKETS,
        }
    }
}

/// What the server did for one viewer.
#[derive(Debug, Default)]
pub struct ClientStats {
    /// Who: the peer address (TCP) or "unix" plus a number.
    pub peer: String,
    /// Packets written to the viewer (descriptors, events, markers).
    pub sent: AtomicU64,
    /// Of those, the machine's events.
    pub events: AtomicU64,
    /// Events dropped because its queue was full.
    pub dropped: AtomicU64,
}

/// One viewer's counts, when the server is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSummary {
    pub peer: String,
    pub sent: u64,
    pub dropped: u64,
}

/// A viewer's connection.
enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Conn {
    fn try_clone(&self) -> std::io::Result<Conn> {
        Ok(match self {
            Conn::Tcp(s) => Conn::Tcp(s.try_clone()?),
            Conn::Unix(s) => Conn::Unix(s.try_clone()?),
        })
    }

    fn shutdown(&self) {
        let _ = match self {
            Conn::Tcp(s) => s.shutdown(Shutdown::Both),
            Conn::Unix(s) => s.shutdown(Shutdown::Both),
        };
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            Conn::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Tcp(s) => s.flush(),
            Conn::Unix(s) => s.flush(),
        }
    }
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// What the machine thread puts in a viewer's queue.
enum Item {
    Packet(Arc<[u8]>),
    /// This many events were dropped just before the next packet.
    Dropped(u64),
    /// New descriptors are waiting (a hint; losing it is harmless).
    Wake,
}

/// State shared by the machine thread, the accept thread and the writers.
#[derive(Default)]
struct Shared {
    /// Every descriptor packet so far, in order.
    descriptors: RwLock<Vec<Arc<[u8]>>>,
    /// `descriptors.len()`, readable without the lock.
    descriptor_count: AtomicUsize,
    writers: Mutex<Vec<Writer>>,
    shutdown: AtomicBool,
}

/// A writer thread and a handle to cut its connection.
struct Writer {
    thread: JoinHandle<()>,
    conn: Conn,
    stats: Arc<ClientStats>,
}

/// The listening server. Keep it while the machine runs; [`finish`]
/// (or dropping it) stops accepting and lets the writers drain.
///
/// [`finish`]: LiveServer::finish
pub struct LiveServer {
    shared: Arc<Shared>,
    addr: ListenAddr,
    accept: Option<JoinHandle<()>>,
}

/// The machine's end: a [`TraceSink`] that fans packets out to viewers.
pub struct LiveSink {
    shared: Arc<Shared>,
    /// Viewers the accept thread has taken; `None` once the run is over.
    new_clients: Option<Receiver<ClientQueue>>,
    clients: Vec<ClientQueue>,
}

/// The machine thread's side of one viewer's queue.
struct ClientQueue {
    tx: Sender<Item>,
    /// Events dropped since the last one that got through.
    pending_drops: u64,
    stats: Arc<ClientStats>,
}

impl LiveServer {
    /// Listens on `addr` with default options.
    pub fn listen(addr: &ListenAddr) -> Result<(LiveServer, LiveSink), LiveError> {
        Self::listen_with(addr, Options::default())
    }

    /// Listens on `addr` and starts accepting viewers.
    pub fn listen_with(
        addr: &ListenAddr,
        options: Options,
    ) -> Result<(LiveServer, LiveSink), LiveError> {
        let bind_err = |source| LiveError::Bind {
            addr: addr.clone(),
            source,
        };
        let (listener, bound) = match addr {
            ListenAddr::Tcp(a) => {
                let l = TcpListener::bind(a).map_err(bind_err)?;
                let local = l.local_addr().map_err(bind_err)?;
                (Listener::Tcp(l), ListenAddr::Tcp(local))
            }
            ListenAddr::Unix(p) => {
                // A socket file left by an earlier run would make bind fail.
                if std::fs::symlink_metadata(p)
                    .map(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
                    .unwrap_or(false)
                {
                    let _ = std::fs::remove_file(p);
                }
                let l = UnixListener::bind(p).map_err(bind_err)?;
                (Listener::Unix(l), addr.clone())
            }
        };
        let shared = Arc::new(Shared::default());
        let (client_tx, client_rx) = crossbeam_channel::unbounded();
        let accept = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("trace-accept".into())
                .spawn(move || accept_loop(listener, shared, client_tx, options))
                .map_err(bind_err)?
        };
        let server = LiveServer {
            shared: shared.clone(),
            addr: bound,
            accept: Some(accept),
        };
        let sink = LiveSink {
            shared,
            new_clients: Some(client_rx),
            clients: Vec::new(),
        };
        Ok((server, sink))
    }

    /// The address viewers connect to (with the port TCP port 0 picked).
    pub fn addr(&self) -> &ListenAddr {
        &self.addr
    }

    /// Viewers attached so far (including ones that left).
    pub fn clients(&self) -> Vec<Arc<ClientStats>> {
        self.shared
            .writers
            .lock()
            .iter()
            .map(|w| w.stats.clone())
            .collect()
    }

    /// Stops accepting, then gives the writers up to `grace` to send what
    /// is queued (they finish once the [`LiveSink`] is dropped) before
    /// cutting their connections. Returns what each viewer got.
    pub fn finish(mut self, grace: Duration) -> Vec<ClientSummary> {
        self.stop_accepting();
        let deadline = Instant::now() + grace;
        loop {
            let done = self
                .shared
                .writers
                .lock()
                .iter()
                .all(|w| w.thread.is_finished());
            if done || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let writers = std::mem::take(&mut *self.shared.writers.lock());
        writers
            .into_iter()
            .map(|w| {
                w.conn.shutdown();
                let _ = w.thread.join();
                ClientSummary {
                    peer: w.stats.peer.clone(),
                    sent: w.stats.sent.load(Ordering::Relaxed),
                    dropped: w.stats.dropped.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    fn stop_accepting(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking accept with a connection of our own.
        match &self.addr {
            ListenAddr::Tcp(a) => {
                let _ = TcpStream::connect_timeout(a, Duration::from_secs(1));
            }
            ListenAddr::Unix(p) => {
                let _ = UnixStream::connect(p);
            }
        }
        let _ = accept.join();
        if let ListenAddr::Unix(p) = &self.addr {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        self.stop_accepting();
    }
}

fn accept_loop(
    listener: Listener,
    shared: Arc<Shared>,
    clients: Sender<ClientQueue>,
    options: Options,
) {
    let mut unix_peers = 0u64;
    loop {
        let accepted = match &listener {
            Listener::Tcp(l) => l.accept().map(|(s, peer)| {
                let _ = s.set_nodelay(true);
                (Conn::Tcp(s), peer.to_string())
            }),
            Listener::Unix(l) => l.accept().map(|(s, _)| {
                unix_peers += 1;
                (Conn::Unix(s), format!("unix#{unix_peers}"))
            }),
        };
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let Ok((conn, peer)) = accepted else {
            // A failed accept (e.g. out of descriptors) loses one viewer.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let Ok(cut) = conn.try_clone() else {
            continue;
        };
        let (tx, rx) = crossbeam_channel::bounded(options.queue_packets.max(1));
        let stats = Arc::new(ClientStats {
            peer,
            ..ClientStats::default()
        });
        let thread = {
            let shared = shared.clone();
            let stats = stats.clone();
            std::thread::Builder::new()
                .name("trace-client".into())
                .spawn(move || serve(conn, rx, &shared, &stats))
        };
        let Ok(thread) = thread else {
            continue;
        };
        let queue = ClientQueue {
            tx,
            pending_drops: 0,
            stats: stats.clone(),
        };
        // If the run is over this fails, and the viewer gets the
        // descriptors, then EOF.
        let _ = clients.send(queue);
        // Listed after the hand-over: a listed viewer gets the next event.
        shared.writers.lock().push(Writer {
            thread,
            conn: cut,
            stats,
        });
    }
}

impl TraceSink for LiveSink {
    fn packet(&mut self, bytes: &[u8], kind: PacketKind) {
        if let Some(new) = &self.new_clients {
            self.clients.extend(new.try_iter());
        }
        match kind {
            PacketKind::Descriptor => {
                let packet: Arc<[u8]> = bytes.into();
                self.shared.descriptors.write().push(packet);
                self.shared.descriptor_count.fetch_add(1, Ordering::Release);
                for c in &self.clients {
                    let _ = c.tx.try_send(Item::Wake);
                }
            }
            PacketKind::Event => {
                if self.clients.is_empty() {
                    return;
                }
                let packet: Arc<[u8]> = bytes.into();
                self.clients.retain_mut(|c| c.offer(&packet));
            }
        }
    }

    /// The run is over: the writers send what is queued and hang up.
    fn finish(&mut self) {
        self.clients.clear();
        // Viewers attaching from now on get the descriptors, then EOF.
        self.new_clients = None;
    }
}

impl ClientQueue {
    /// Queues `packet` (after a drop marker if events were dropped);
    /// false once the viewer has gone.
    fn offer(&mut self, packet: &Arc<[u8]>) -> bool {
        if self.pending_drops > 0 {
            match self.tx.try_send(Item::Dropped(self.pending_drops)) {
                Ok(()) => self.pending_drops = 0,
                Err(TrySendError::Full(_)) => {
                    self.drop_one();
                    return true;
                }
                Err(TrySendError::Disconnected(_)) => return false,
            }
        }
        match self.tx.try_send(Item::Packet(packet.clone())) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.drop_one();
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    fn drop_one(&mut self) {
        self.pending_drops += 1;
        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// The timestamp and sequence of a packet, decoded without the rest.
#[derive(Clone, PartialEq, Message)]
struct HeaderOnly {
    #[prost(uint64, optional, tag = "8")]
    timestamp: Option<u64>,
    #[prost(uint32, optional, tag = "10")]
    trusted_packet_sequence_id: Option<u32>,
}

/// A framed packet (`Trace.packet`) read as a one-packet trace.
#[derive(Clone, PartialEq, Message)]
struct HeaderTrace {
    #[prost(message, repeated, tag = "1")]
    packet: Vec<HeaderOnly>,
}

/// One viewer's writer thread: descriptors first, then its queue, until
/// the machine is done (the queue's sender is dropped) or the viewer goes.
fn serve(conn: Conn, rx: Receiver<Item>, shared: &Shared, stats: &ClientStats) {
    let mut w = ClientWriter {
        out: BufWriter::with_capacity(64 * 1024, conn),
        descriptors_sent: 0,
        last: HeaderOnly::default(),
        server_track_sent: false,
        reported_drops: 0,
        stats,
    };
    let _ = w.serve(&rx, shared);
}

struct ClientWriter<'a> {
    out: BufWriter<Conn>,
    descriptors_sent: usize,
    /// The newest timestamp and sequence seen, for the drop markers.
    last: HeaderOnly,
    server_track_sent: bool,
    /// Drops told to the viewer so far.
    reported_drops: u64,
    stats: &'a ClientStats,
}

impl ClientWriter<'_> {
    fn serve(&mut self, rx: &Receiver<Item>, shared: &Shared) -> std::io::Result<()> {
        self.send_descriptors(shared)?;
        self.out.flush()?;
        while let Ok(item) = rx.recv() {
            self.send(item, shared)?;
            for item in rx.try_iter() {
                self.send(item, shared)?;
            }
            self.out.flush()?;
        }
        self.send_descriptors(shared)?;
        // Events dropped after the last one that got through.
        let missing = self.stats.dropped.load(Ordering::Relaxed) - self.reported_drops;
        if missing > 0 {
            self.send(Item::Dropped(missing), shared)?;
        }
        self.out.flush()
    }

    fn send(&mut self, item: Item, shared: &Shared) -> std::io::Result<()> {
        self.send_descriptors(shared)?;
        match item {
            Item::Packet(p) => {
                if let Ok(t) = HeaderTrace::decode(&p[..]) {
                    if let Some(h) = t.packet.into_iter().next() {
                        self.last.timestamp = h.timestamp.or(self.last.timestamp);
                        self.last.trusted_packet_sequence_id = h
                            .trusted_packet_sequence_id
                            .or(self.last.trusted_packet_sequence_id);
                    }
                }
                self.write_packet(&p)?;
                self.stats.events.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Item::Dropped(n) => {
                self.reported_drops += n;
                if !self.server_track_sent {
                    self.server_track_sent = true;
                    let d = server_track_descriptor(self.last.trusted_packet_sequence_id);
                    self.write_packet(&d)?;
                }
                let m = drop_marker(n, &self.last);
                self.write_packet(&m)
            }
            Item::Wake => Ok(()),
        }
    }

    /// Sends the descriptors this viewer has not had yet. The lock is held
    /// only to copy the handles: never across a (possibly stalled) write.
    fn send_descriptors(&mut self, shared: &Shared) -> std::io::Result<()> {
        if shared.descriptor_count.load(Ordering::Acquire) <= self.descriptors_sent {
            return Ok(());
        }
        let new: Vec<Arc<[u8]>> = shared.descriptors.read()[self.descriptors_sent..].to_vec();
        self.descriptors_sent += new.len();
        for d in new {
            self.write_packet(&d)?;
        }
        Ok(())
    }

    fn write_packet(&mut self, p: &[u8]) -> std::io::Result<()> {
        self.out.write_all(p)?;
        self.stats.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The "trace server" track the drop markers go on.
fn server_track_descriptor(sequence: Option<u32>) -> Vec<u8> {
    proto::encode_packet(&proto::TracePacket {
        trusted_packet_sequence_id: sequence,
        track_descriptor: Some(TrackDescriptor {
            uuid: Some(SERVER_TRACK_UUID),
            name: Some("trace server".into()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The marker a viewer gets after `n` of its events were dropped.
pub fn drop_marker_packet(n: u64, timestamp: Option<u64>, sequence: Option<u32>) -> Vec<u8> {
    proto::encode_packet(&proto::TracePacket {
        timestamp,
        trusted_packet_sequence_id: sequence,
        previous_packet_dropped: Some(true),
        track_event: Some(TrackEvent {
            r#type: Some(EventType::Instant as i32),
            track_uuid: Some(SERVER_TRACK_UUID),
            name: Some(format!("{n} events dropped")),
            debug_annotations: vec![DebugAnnotation {
                name: Some(DROPPED_ANNOTATION.into()),
                uint_value: Some(n),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The debug annotation on a drop marker that holds the count.
pub const DROPPED_ANNOTATION: &str = "dropped";

fn drop_marker(n: u64, last: &HeaderOnly) -> Vec<u8> {
    drop_marker_packet(n, last.timestamp, last.trusted_packet_sequence_id)
}

/// Connects to a live server (what `emu trace attach` does).
pub fn connect(addr: &ListenAddr) -> Result<Box<dyn std::io::Read + Send>, LiveError> {
    let err = |source| LiveError::Connect {
        addr: addr.clone(),
        source,
    };
    Ok(match addr {
        ListenAddr::Tcp(a) => Box::new(TcpStream::connect(a).map_err(err)?),
        ListenAddr::Unix(p) => Box::new(UnixStream::connect(p).map_err(err)?),
    })
}
