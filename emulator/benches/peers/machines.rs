//! The three machines, each started as its own process on a disk image and
//! timed the same way: from spawning the process until a marker string
//! appears in the guest's COM1 output, which each machine writes to a file
//! the bench polls every millisecond. Then the process is killed and
//! reaped with `wait4`, whose `ru_maxrss` is the peak resident set.
//!
//! - `emu`: this build's binary (`CARGO_BIN_EXE_emu`), `--disk IMG,snapshot
//!   --mem 256M --serial file:PATH`, virtual clock (its default).
//! - QEMU: `qemu-system-x86_64 -M isapc -cpu qemu64 -m 256` with TCG (the
//!   default without `-accel kvm`), the disk as a snapshot, no display,
//!   `isa-debug-exit` at 0xF4.
//! - Bochs: `bochs -q` with a generated bochsrc: 256 MiB, a long-mode CPU
//!   model, `clock: sync=none` (as fast as it can), the headless `rfb`
//!   display with `timeout=0`, the sound drivers set to `dummy` (Debian's
//!   build aborts with "buffer overflow detected" when ALSA has no card),
//!   and a `c` on stdin for its debugger prompt. The disk is a fresh copy
//!   per run (Bochs writes a lock file next to it and is killed).

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The machines compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    Emu,
    Qemu,
    Bochs,
}

/// Guest RAM on every machine.
pub const RAM_MIB: u64 = 256;

/// Bochs' ROMs as Debian installs them (`bochsbios`, `vgabios`).
const BOCHS_BIOS: &str = "/usr/share/bochs/BIOS-bochs-latest";
const BOCHS_VGABIOS: &str = "/usr/share/vgabios/vgabios.bin";

/// How often the serial file is read.
const POLL: Duration = Duration::from_millis(1);

impl Peer {
    pub const ALL: [Peer; 3] = [Peer::Emu, Peer::Qemu, Peer::Bochs];

    pub fn name(self) -> &'static str {
        match self {
            Peer::Emu => "emu",
            Peer::Qemu => "qemu",
            Peer::Bochs => "bochs",
        }
    }

    /// The program to run, or why it cannot run (with how to install it).
    pub fn program(self) -> Result<PathBuf, String> {
        match self {
            Peer::Emu => Ok(PathBuf::from(env!("CARGO_BIN_EXE_emu"))),
            Peer::Qemu => find_in_path("qemu-system-x86_64")
                .ok_or_else(|| "not installed (apt-get install qemu-system-x86)".to_string()),
            Peer::Bochs => {
                let bochs = find_in_path("bochs")
                    .ok_or("not installed (apt-get install bochs bochsbios vgabios)")?;
                for rom in [BOCHS_BIOS, BOCHS_VGABIOS] {
                    if !Path::new(rom).is_file() {
                        return Err(format!("{rom} missing (apt-get install bochsbios vgabios)"));
                    }
                }
                Ok(bochs)
            }
        }
    }

    /// The command that boots `image` with COM1 going to `serial`; `dir`
    /// is a scratch directory for this run.
    fn command(
        self,
        program: &Path,
        image: &Path,
        serial: &Path,
        dir: &Path,
    ) -> Result<Command, String> {
        let mut cmd = Command::new(program);
        match self {
            Peer::Emu => {
                cmd.arg("run")
                    .arg("--disk")
                    .arg(join(image, ",snapshot"))
                    .arg("--mem")
                    .arg(format!("{RAM_MIB}M"))
                    .arg("--serial")
                    .arg(join("file:", serial))
                    .arg("--no-reboot");
            }
            Peer::Qemu => {
                cmd.args(["-M", "isapc", "-cpu", "qemu64", "-m"])
                    .arg(RAM_MIB.to_string())
                    .args(["-display", "none", "-no-reboot", "-monitor", "none"])
                    .arg("-serial")
                    .arg(join("file:", serial))
                    .arg("-drive")
                    .arg(join(join("file=", image), ",format=raw,snapshot=on"))
                    .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
            }
            Peer::Bochs => {
                let disk = dir.join("bochs-disk.img");
                std::fs::copy(image, &disk)
                    .map_err(|e| format!("copying {} for Bochs: {e}", image.display()))?;
                let rc = dir.join("bochsrc");
                std::fs::write(&rc, bochsrc(&disk, serial, &dir.join("bochs.log")))
                    .map_err(|e| format!("writing {}: {e}", rc.display()))?;
                cmd.arg("-q").arg("-f").arg(&rc).current_dir(dir);
            }
        }
        Ok(cmd)
    }
}

/// `a` followed by `b` (paths need not be UTF-8).
fn join(a: impl AsRef<OsStr>, b: impl AsRef<OsStr>) -> std::ffi::OsString {
    let mut s = a.as_ref().to_os_string();
    s.push(b);
    s
}

/// The Bochs configuration (see the module docs).
fn bochsrc(disk: &Path, serial: &Path, log: &Path) -> String {
    format!(
        "megs: {RAM_MIB}\n\
         romimage: file={BOCHS_BIOS}\n\
         vgaromimage: file={BOCHS_VGABIOS}\n\
         cpu: model=corei7_sandy_bridge_2600k, ips=100000000\n\
         clock: sync=none\n\
         display_library: rfb, options=\"timeout=0\"\n\
         sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy\n\
         speaker: enabled=0\n\
         ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14\n\
         ata0-master: type=disk, path={}, mode=flat\n\
         boot: disk\n\
         com1: enabled=1, mode=file, dev={}\n\
         log: {}\n\
         panic: action=fatal\n\
         error: action=report\n\
         info: action=ignore\n\
         debug: action=ignore\n",
        disk.display(),
        serial.display(),
        log.display()
    )
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// One timed run.
pub struct Run {
    /// Spawn to marker, seconds of wall time.
    pub seconds: f64,
    /// Everything the guest wrote to COM1 by then.
    pub serial: String,
    /// Peak resident set of the machine's process, KiB.
    pub peak_rss_kib: u64,
    /// CPU time (user + system, all threads) the process used until it
    /// was killed: less sensitive than wall time to other load on the host.
    pub cpu_seconds: f64,
}

/// Boots `image` on `peer` and times it until `marker` appears on COM1;
/// gives up after `timeout`.
pub fn run(peer: Peer, image: &Path, marker: &str, timeout: Duration) -> Result<Run, String> {
    let program = peer.program()?;
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let serial_path = dir.path().join("serial.out");
    File::create(&serial_path).map_err(|e| format!("{}: {e}", serial_path.display()))?;
    let mut serial_file =
        File::open(&serial_path).map_err(|e| format!("{}: {e}", serial_path.display()))?;
    let mut cmd = peer.command(&program, image, &serial_path, dir.path())?;
    let output = File::create(dir.path().join("stdout.txt"))
        .map_err(|e| format!("{}: stdout file: {e}", peer.name()))?;
    let errors = output
        .try_clone()
        .map_err(|e| format!("{}: stdout file: {e}", peer.name()))?;
    cmd.stdin(Stdio::piped()).stdout(output).stderr(errors);

    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting {}: {e}", program.display()))?;
    if peer == Peer::Bochs {
        // Leave the debugger prompt running; keep stdin open afterwards.
        if let Some(stdin) = child.stdin.as_mut() {
            let _ = stdin.write_all(b"c\n");
        }
    }
    let mut serial = Vec::new();
    let mut reaped;
    let outcome = loop {
        let from = serial.len().saturating_sub(marker.len());
        // Reap first, read after: a machine that ends right after the
        // marker has written all of it by the time it is reaped.
        reaped = reap(&child, false);
        read_new(&mut serial_file, &mut serial);
        if contains(&serial[from..], marker.as_bytes()) {
            break Ok(start.elapsed().as_secs_f64());
        }
        if let Some(Reaped { status, .. }) = reaped {
            let log = std::fs::read_to_string(dir.path().join("stdout.txt")).unwrap_or_default();
            break Err(format!(
                "{} ended (wait status {status:#x}) before {marker:?}; console:\n{}\n{}",
                peer.name(),
                String::from_utf8_lossy(&serial),
                tail(&log, 20)
            ));
        }
        if start.elapsed() > timeout {
            break Err(format!(
                "{} did not print {marker:?} within {timeout:?}; console:\n{}",
                peer.name(),
                String::from_utf8_lossy(&serial)
            ));
        }
        std::thread::sleep(POLL);
    };
    if reaped.is_none() {
        let _ = child.kill();
        reaped = reap(&child, true);
    }
    let seconds = outcome?;
    Ok(Run {
        seconds,
        serial: String::from_utf8_lossy(&serial).into_owned(),
        peak_rss_kib: reaped.map_or(0, |r| r.peak_rss_kib),
        cpu_seconds: reaped.map_or(0.0, |r| r.cpu_seconds),
    })
}

/// Appends what was written to `file` since the last read.
fn read_new(file: &mut File, into: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = file.read(&mut chunk) {
        into.extend_from_slice(&chunk[..n]);
    }
}

/// What `wait4` says of an ended child.
#[derive(Clone, Copy)]
struct Reaped {
    status: i32,
    peak_rss_kib: u64,
    cpu_seconds: f64,
}

/// `wait4` on the child, once it has ended; `None` while it runs (when
/// not `block`ing).
fn reap(child: &Child, block: bool) -> Option<Reaped> {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let flags = if block { 0 } else { libc::WNOHANG };
    // SAFETY: the pid is our unreaped child (std's Child never reaps on
    // its own); status and usage are valid for writes.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, flags, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (pid > 0).then_some(Reaped {
        status,
        peak_rss_kib: usage.ru_maxrss as u64,
        cpu_seconds: seconds(usage.ru_utime) + seconds(usage.ru_stime),
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn tail(s: &str, lines: usize) -> String {
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}
