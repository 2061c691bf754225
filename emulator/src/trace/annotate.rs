//! The guest-kernel annotation port: how the kernel tells the trace about
//! processes, threads, context switches, system calls, page faults and
//! swap I/O (protocol in `docs/tracing.md`, "Guest annotations").
//!
//! Three registers at [`BASE`] (0x540; no QEMU `isapc` device uses
//! 0x540-0x54B):
//!
//! | port  | access      | meaning                                          |
//! |-------|-------------|--------------------------------------------------|
//! | 0x540 | read dword  | [`MAGIC`] while a trace with `guest` events is   |
//! |       |             | taken, else all ones (as if nothing were there)  |
//! | 0x540 | write dword | commit: the low byte is the event kind; the      |
//! |       |             | arguments and name written since are its fields  |
//! | 0x544 | write dword | push an argument (at most [`MAX_ARGS`])          |
//! | 0x548 | write byte  | append a byte to the name (at most [`MAX_NAME`]; |
//! |       |             | `rep outsb` sends a whole string)                |
//!
//! A commit empties the arguments and the name. 64-bit values go as two
//! arguments, low dword first.
//!
//! The kernel reads 0x540 once at boot and, unless it reads [`MAGIC`],
//! never touches the port again: annotations then cost one compare and
//! branch each. A trace is set up before the machine starts, so the
//! answer cannot change during a run.

use super::{Category, Trace};
use crate::devices::PortDevice;

/// The first port.
pub const BASE: u16 = 0x540;
/// Ports taken.
pub const LEN: u16 = 12;
/// What a read of the commit register returns while tracing: "TRCE".
pub const MAGIC: u32 = u32::from_le_bytes(*b"TRCE");
/// Arguments an event may carry.
pub const MAX_ARGS: usize = 8;
/// Bytes a name may have (longer names are cut).
pub const MAX_NAME: usize = 64;

/// Register offsets.
pub mod reg {
    pub const COMMIT: u16 = 0;
    pub const ARG: u16 = 4;
    pub const NAME: u16 = 8;
}

/// Event kinds (the low byte of a commit) and their arguments.
pub mod kind {
    /// args: pid, parent pid; name: the program. Also sent by `execve`
    /// (same pid, new name).
    pub const PROCESS_START: u8 = 1;
    /// args: pid, exit status.
    pub const PROCESS_EXIT: u8 = 2;
    /// args: pid, tid; name.
    pub const THREAD_START: u8 = 3;
    /// args: previous tid, next tid (0: the idle loop).
    pub const SWITCH: u8 = 4;
    /// args: tid, system call number.
    pub const SYSCALL_ENTER: u8 = 5;
    /// args: tid, result low, result high (the 64-bit signed result).
    pub const SYSCALL_EXIT: u8 = 6;
    /// args: tid, address low, address high, error code.
    pub const PAGE_FAULT: u8 = 7;
    /// args: tid, direction (1 out, 0 in), page low, page high, slot.
    pub const SWAP: u8 = 8;
    /// name: free text, shown as an instant on the Guest track.
    pub const MARK: u8 = 9;
}

/// One decoded annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Annotation {
    ProcessStart {
        pid: u32,
        parent: u32,
        name: String,
    },
    ProcessExit {
        pid: u32,
        status: i32,
    },
    ThreadStart {
        pid: u32,
        tid: u32,
        name: String,
    },
    Switch {
        from: u32,
        to: u32,
    },
    SyscallEnter {
        tid: u32,
        number: u32,
    },
    SyscallExit {
        tid: u32,
        result: i64,
    },
    PageFault {
        tid: u32,
        address: u64,
        code: u32,
    },
    Swap {
        tid: u32,
        out: bool,
        page: u64,
        slot: u32,
    },
    Mark {
        text: String,
    },
    Malformed {
        why: String,
    },
}

/// Decodes a commit of `kind` with `args` and `name`.
pub fn decode(kind: u8, args: &[u32], name: &[u8]) -> Annotation {
    let name = String::from_utf8_lossy(name).into_owned();
    let need = match kind {
        kind::PROCESS_START | kind::PROCESS_EXIT | kind::THREAD_START | kind::SWITCH => 2,
        kind::SYSCALL_ENTER => 2,
        kind::SYSCALL_EXIT => 3,
        kind::PAGE_FAULT => 4,
        kind::SWAP => 5,
        kind::MARK => 0,
        k => {
            return Annotation::Malformed {
                why: format!("unknown kind {k}"),
            }
        }
    };
    if args.len() < need {
        return Annotation::Malformed {
            why: format!("kind {kind} needs {need} arguments, got {}", args.len()),
        };
    }
    let wide = |i: usize| args[i] as u64 | (args[i + 1] as u64) << 32;
    match kind {
        kind::PROCESS_START => Annotation::ProcessStart {
            pid: args[0],
            parent: args[1],
            name,
        },
        kind::PROCESS_EXIT => Annotation::ProcessExit {
            pid: args[0],
            status: args[1] as i32,
        },
        kind::THREAD_START => Annotation::ThreadStart {
            pid: args[0],
            tid: args[1],
            name,
        },
        kind::SWITCH => Annotation::Switch {
            from: args[0],
            to: args[1],
        },
        kind::SYSCALL_ENTER => Annotation::SyscallEnter {
            tid: args[0],
            number: args[1],
        },
        kind::SYSCALL_EXIT => Annotation::SyscallExit {
            tid: args[0],
            result: wide(1) as i64,
        },
        kind::PAGE_FAULT => Annotation::PageFault {
            tid: args[0],
            address: wide(1),
            code: args[3],
        },
        kind::SWAP => Annotation::Swap {
            tid: args[0],
            out: args[1] != 0,
            page: wide(2),
            slot: args[4],
        },
        _ => Annotation::Mark { text: name },
    }
}

/// The port device.
#[derive(Debug, Default)]
pub struct AnnotationPort {
    pub trace: Trace,
    args: Vec<u32>,
    name: Vec<u8>,
}

impl PortDevice for AnnotationPort {
    fn read(&mut self, offset: u16, size: u8) -> u32 {
        let tracing = self.trace.on(Category::Guest).is_some();
        match (offset, size, tracing) {
            (reg::COMMIT, 4, true) => MAGIC,
            _ => u32::MAX >> (32 - 8 * size as u32),
        }
    }

    fn write(&mut self, offset: u16, _size: u8, value: u32) {
        // Without a trace the writes are dropped at once (the kernel is
        // not expected to make them then).
        if !self.trace.is_on() {
            return;
        }
        match offset {
            reg::ARG if self.args.len() < MAX_ARGS => self.args.push(value),
            reg::NAME if self.name.len() < MAX_NAME => self.name.push(value as u8),
            reg::COMMIT => {
                let a = decode(value as u8, &self.args, &self.name);
                self.args.clear();
                self.name.clear();
                if let Some(mut t) = self.trace.on(Category::Guest) {
                    t.annotation(a);
                }
            }
            _ => {}
        }
    }
}

/// The name of Linux x86-64 system call `n` (the guest uses Linux's
/// numbers, DESIGN.md "Guest kernel"), or `syscall N`.
pub fn syscall_name(n: u32) -> String {
    let name = match n {
        0 => "read",
        1 => "write",
        2 => "open",
        3 => "close",
        4 => "stat",
        5 => "fstat",
        8 => "lseek",
        9 => "mmap",
        10 => "mprotect",
        11 => "munmap",
        12 => "brk",
        13 => "rt_sigaction",
        14 => "rt_sigprocmask",
        16 => "ioctl",
        21 => "access",
        22 => "pipe",
        24 => "sched_yield",
        32 => "dup",
        33 => "dup2",
        35 => "nanosleep",
        39 => "getpid",
        56 => "clone",
        57 => "fork",
        58 => "vfork",
        59 => "execve",
        60 => "exit",
        61 => "wait4",
        62 => "kill",
        63 => "uname",
        78 => "getdents",
        79 => "getcwd",
        80 => "chdir",
        83 => "mkdir",
        84 => "rmdir",
        87 => "unlink",
        96 => "gettimeofday",
        102 => "getuid",
        110 => "getppid",
        158 => "arch_prctl",
        186 => "gettid",
        217 => "getdents64",
        228 => "clock_gettime",
        231 => "exit_group",
        257 => "openat",
        _ => return format!("syscall {n}"),
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syscall_exit_joins_the_two_result_dwords() {
        let a = decode(kind::SYSCALL_EXIT, &[7, 0xFFFF_FFFE, 0xFFFF_FFFF], b"");

        assert_eq!(a, Annotation::SyscallExit { tid: 7, result: -2 });
    }

    #[test]
    fn too_few_arguments_is_malformed_not_a_panic() {
        let a = decode(kind::PAGE_FAULT, &[1], b"");

        assert!(matches!(a, Annotation::Malformed { .. }));
    }

    #[test]
    fn without_a_trace_the_port_reads_all_ones() {
        let mut p = AnnotationPort::default();

        assert_eq!(p.read(reg::COMMIT, 4), u32::MAX);
        assert_eq!(p.read(reg::COMMIT, 1), 0xFF);
    }
}
