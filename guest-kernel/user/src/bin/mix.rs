//! `mix [--bin DIR] [ROUNDS]`: a deterministic, compile-like mix of
//! process and file work, the guest workload of the peers benchmark
//! (`emulator/benches/peers`, docs/benchmarks.md).
//!
//! Each of ROUNDS rounds (default [`ROUNDS`]):
//! - runs three pipelines of the utilities in DIR (default `/bin`), as a
//!   build script does, and reads their output back through a pipe:
//!   `cat sh | grep e | wc -l`, `head -n 40 cat | wc -c` and
//!   `cat wc head | grep -v a | wc -w`;
//! - forks two "compiler" children that each read half of the sources in
//!   4 KiB chunks, checksum them (CRC-32) and write the sum to a pipe;
//! - reads the remaining "header" files itself, the first block of each
//!   twice (`lseek` back), as a compiler reads a header it includes again.
//!
//! Every child's exit status is checked (0; `grep` also 1, "no line").
//! The sources are the programs in DIR, so the same files are read in the
//! guest (`/bin`) and on a Linux host (`--bin` the build's output
//! directory): the checksum folds in everything read and every pipeline's
//! output, and must be the same in both. The last line is
//! `mix: N rounds, checksum XXXXXXXX`; the exit status is 0 only if every
//! step worked (1 otherwise, with a message on stderr; 2 on bad usage).

#![no_std]
#![no_main]

use ulib::io;
use ulib::prelude::*;
use ulib::process::{self, WaitStatus};
use ulib::sys::{self, Fd};

ulib::main!(main);

/// Rounds when none are given.
const ROUNDS: u32 = 20;

/// The "sources" the compiler children read, half each.
const SOURCES: [&str; 4] = ["sh", "grep", "wc", "head"];
/// The "headers" the parent reads itself.
const HEADERS: [&str; 2] = ["cat", "mix"];

/// The pipelines of a round: each stage a program in the bin directory and
/// its arguments, where `@NAME` is the path of program NAME.
const PIPELINES: [&[&[&str]]; 3] = [
    &[&["cat", "@sh"], &["grep", "e"], &["wc", "-l"]],
    &[&["head", "-n", "40", "@cat"], &["wc", "-c"]],
    &[
        &["cat", "@wc", "@head"],
        &["grep", "-v", "a"],
        &["wc", "-w"],
    ],
];

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), table-driven.
struct Crc32 {
    table: [u32; 256],
}

impl Crc32 {
    fn new() -> Self {
        let mut table = [0u32; 256];
        for (i, entry) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *entry = c;
        }
        Crc32 { table }
    }

    /// Continues the running (inverted) CRC `crc` over `bytes`.
    fn update(&self, mut crc: u32, bytes: &[u8]) -> u32 {
        for &b in bytes {
            crc = self.table[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
        }
        crc
    }
}

/// One failed step: what, and why.
type Step<T> = Result<T, String>;

fn sys_err(what: &str, e: Errno) -> String {
    format!("{what}: {e}")
}

struct Mix {
    bin: String,
    crc: Crc32,
    envp: Vec<String>,
}

impl Mix {
    fn path(&self, name: &str) -> String {
        ulib::fs::join(&self.bin, name)
    }

    /// Reads `path` in 4 KiB chunks into the running CRC; with `reread`,
    /// seeks back and reads the first chunk again.
    fn read_file(&self, path: &str, mut crc: u32, reread: bool) -> Step<u32> {
        let fd =
            sys::open(path, sys::O_RDONLY | sys::O_CLOEXEC, 0).map_err(|e| sys_err(path, e))?;
        let mut result = io::for_each_chunk(fd, |chunk| {
            crc = self.crc.update(crc, chunk);
            Ok(())
        });
        if reread && result.is_ok() {
            result = sys::lseek(fd, 0, 0).and_then(|_| {
                let mut first = [0u8; 4096];
                let n = io::read(fd, &mut first)?;
                crc = self.crc.update(crc, &first[..n]);
                Ok(())
            });
        }
        let _ = sys::close(fd);
        result.map_err(|e| sys_err(path, e))?;
        Ok(crc)
    }

    /// Runs one pipeline, its last stage writing into a pipe this process
    /// reads; returns that output after checking every stage's status.
    fn pipeline(&self, stages: &[&[&str]]) -> Step<Vec<u8>> {
        let (out_r, out_w) = sys::pipe().map_err(|e| sys_err("pipe", e))?;
        let mut pids = Vec::new();
        let mut input: Option<Fd> = None;
        let mut result = Ok(());
        for (i, stage) in stages.iter().enumerate() {
            let last = i + 1 == stages.len();
            let (next_r, stage_out) = if last {
                (None, out_w)
            } else {
                match sys::pipe() {
                    Ok((r, w)) => (Some(r), w),
                    Err(e) => {
                        result = Err(sys_err("pipe", e));
                        break;
                    }
                }
            };
            let argv: Vec<String> = stage
                .iter()
                .map(|a| match a.strip_prefix('@') {
                    Some(name) => self.path(name),
                    None => String::from(*a),
                })
                .collect();
            let program = self.path(stage[0]);
            // Descriptors the child must not keep: every pipe end but its own.
            let mut close = vec![out_r];
            close.extend(next_r);
            match sys::fork() {
                Ok(0) => {
                    if let Some(fd) = input {
                        let _ = sys::dup2(fd, io::STDIN);
                        let _ = sys::close(fd);
                    }
                    let _ = sys::dup2(stage_out, io::STDOUT);
                    let _ = sys::close(stage_out);
                    for fd in close {
                        let _ = sys::close(fd);
                    }
                    let e = process::exec(&program, &argv, &self.envp);
                    eprintln!("mix: {program}: {e}");
                    sys::exit(127)
                }
                Ok(pid) => pids.push((pid, stage[0])),
                Err(e) => result = Err(sys_err("fork", e)),
            }
            if let Some(fd) = input.take() {
                let _ = sys::close(fd);
            }
            if !last {
                let _ = sys::close(stage_out);
            }
            input = next_r;
            if result.is_err() {
                break;
            }
        }
        if let Some(fd) = input {
            let _ = sys::close(fd);
        }
        let _ = sys::close(out_w);
        let output = io::read_to_end(out_r).map_err(|e| sys_err("reading a pipeline", e));
        let _ = sys::close(out_r);
        for (pid, name) in pids {
            match process::wait_pid(pid) {
                Ok(WaitStatus::Exited(0)) => {}
                Ok(WaitStatus::Exited(1)) if name == "grep" => {}
                Ok(status) => result = result.and(Err(format!("{name} ended with {status:?}"))),
                Err(e) => result = result.and(Err(sys_err("wait4", e))),
            }
        }
        result?;
        output
    }

    /// Forks a compiler child that checksums `files` and writes the CRC
    /// (8 hex digits) to a pipe; returns its PID and the read end.
    fn compiler(&self, files: &[&str]) -> Step<(i32, Fd)> {
        let (r, w) = sys::pipe().map_err(|e| sys_err("pipe", e))?;
        match sys::fork() {
            Ok(0) => {
                let _ = sys::close(r);
                let mut crc = !0;
                for name in files {
                    match self.read_file(&self.path(name), crc, false) {
                        Ok(c) => crc = c,
                        Err(e) => {
                            eprintln!("mix: {e}");
                            sys::exit(1)
                        }
                    }
                }
                let line = format!("{:08x}", !crc);
                let status = i32::from(io::write_all(w, line.as_bytes()).is_err());
                sys::exit(status)
            }
            Ok(pid) => {
                let _ = sys::close(w);
                Ok((pid, r))
            }
            Err(e) => {
                let _ = sys::close(r);
                let _ = sys::close(w);
                Err(sys_err("fork", e))
            }
        }
    }

    /// One round: the pipelines, two compilers, the headers. Returns the
    /// round's contribution to the checksum.
    fn round(&self, n: u32) -> Step<u32> {
        let mut crc = self.crc.update(!0, &n.to_le_bytes());
        for stages in PIPELINES {
            let out = self.pipeline(stages)?;
            crc = self.crc.update(crc, &out);
        }
        let (first, second) = SOURCES.split_at(SOURCES.len() / 2);
        let jobs = [self.compiler(first)?, self.compiler(second)?];
        for name in HEADERS {
            crc = self.read_file(&self.path(name), crc, true)?;
        }
        for (pid, fd) in jobs {
            let sum = io::read_to_end(fd).map_err(|e| sys_err("reading a compiler", e));
            let _ = sys::close(fd);
            match process::wait_pid(pid) {
                Ok(WaitStatus::Exited(0)) => {}
                Ok(status) => return Err(format!("a compiler ended with {status:?}")),
                Err(e) => return Err(sys_err("wait4", e)),
            }
            let sum = sum?;
            if sum.len() != 8 {
                return Err(format!(
                    "a compiler wrote {:?}",
                    String::from_utf8_lossy(&sum)
                ));
            }
            crc = self.crc.update(crc, &sum);
        }
        Ok(!crc)
    }
}

fn main() -> i32 {
    let mut bin = String::from("/bin");
    let mut rounds = ROUNDS;
    let mut args = ulib::env::args()[1..].iter();
    while let Some(&a) = args.next() {
        if a == "--bin" {
            match args.next() {
                Some(&dir) => bin = String::from(dir),
                None => {
                    eprintln!("mix: --bin needs a directory");
                    return 2;
                }
            }
        } else {
            match a.parse() {
                Ok(n) => rounds = n,
                Err(_) => {
                    eprintln!("Usage: mix [--bin DIR] [ROUNDS]");
                    return 2;
                }
            }
        }
    }
    let mix = Mix {
        bin,
        crc: Crc32::new(),
        envp: ulib::env::vars(),
    };
    let mut checksum = !0u32;
    for n in 0..rounds {
        match mix.round(n) {
            Ok(sum) => checksum = mix.crc.update(checksum, &sum.to_le_bytes()),
            Err(e) => {
                eprintln!("mix: round {n}: {e}");
                return 1;
            }
        }
    }
    println!("mix: {rounds} rounds, checksum {:08x}", !checksum);
    0
}
