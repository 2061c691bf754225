//! Pipes (Linux's `fs/pipe.c`).
//!
//! A bounded ring of [`PIPE_SIZE`] bytes shared by a read end and a write
//! end. Readers sleep while it is empty and writers remain; with no
//! writers left, reading returns 0 (end of file). Writers sleep while it
//! is full; with no readers left, writing raises SIGPIPE and fails with
//! EPIPE. A write of at most [`PIPE_BUF`] bytes is atomic: it waits until
//! it fits whole, so writers' small records never interleave.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;

use super::file::{File, FileOps, Stat, o, s};
use crate::kernel::errno::{EAGAIN, EPIPE, KResult};
use crate::kernel::sync::SpinLock;
use crate::kernel::wait::WaitQueue;
use crate::kernel::{sched, signal, task};

/// Bytes a pipe holds (Linux's default, 16 pages).
pub const PIPE_SIZE: usize = 65536;
/// Writes up to this size are atomic (POSIX `PIPE_BUF`).
pub const PIPE_BUF: usize = 4096;

struct PipeInner {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
    /// Opens of each end so far (a FIFO's open waits for the other end's
    /// count to move).
    reader_opens: u64,
    writer_opens: u64,
}

/// The shared part of a pipe.
pub struct Pipe {
    inner: SpinLock<PipeInner>,
    /// Readers and writers both wait here.
    wait: WaitQueue,
    ino: u64,
}

/// One end of a pipe.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    write: bool,
}

static NEXT_INO: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1000);

/// Creates a pipe: (read end, write end).
pub fn pipe(flags: u32) -> (Arc<File>, Arc<File>) {
    let pipe = Arc::new(Pipe {
        inner: SpinLock::new(PipeInner {
            buf: VecDeque::new(),
            readers: 1,
            writers: 1,
            reader_opens: 1,
            writer_opens: 1,
        }),
        wait: WaitQueue::new(),
        ino: NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
    });
    let nb = flags & o::NONBLOCK;
    let r = File::new(
        Box::new(PipeEnd {
            pipe: pipe.clone(),
            write: false,
        }),
        o::RDONLY | nb,
        String::from("pipe:"),
    );
    let w = File::new(
        Box::new(PipeEnd { pipe, write: true }),
        o::WRONLY | nb,
        String::from("pipe:"),
    );
    (r, w)
}

/// The pipes of open FIFOs, by inode number (Linux's `fs/fifo.c` keeps
/// one in the inode): alive while an end is open.
static FIFOS: SpinLock<alloc::collections::BTreeMap<u32, alloc::sync::Weak<Pipe>>> =
    SpinLock::new(alloc::collections::BTreeMap::new());

/// Opens FIFO inode `key` for reading or writing (`flags`' access mode).
/// Without O_NONBLOCK, a reader waits for a writer and a writer for a
/// reader; with it, a reader opens at once and a writer fails with ENXIO
/// while there is no reader.
pub fn open_fifo(key: u32, flags: u32) -> KResult<Box<dyn FileOps>> {
    let write = match flags & o::ACCMODE {
        o::RDONLY => false,
        o::WRONLY => true,
        _ => return Err(crate::kernel::errno::EINVAL),
    };
    let pipe = {
        let mut fifos = FIFOS.lock();
        match fifos.get(&key).and_then(|w| w.upgrade()) {
            Some(p) => p,
            None => {
                let p = Arc::new(Pipe {
                    inner: SpinLock::new(PipeInner {
                        buf: VecDeque::new(),
                        readers: 0,
                        writers: 0,
                        reader_opens: 0,
                        writer_opens: 0,
                    }),
                    wait: WaitQueue::new(),
                    ino: u64::from(key),
                });
                fifos.insert(key, Arc::downgrade(&p));
                p
            }
        }
    };
    let nonblock = flags & o::NONBLOCK != 0;
    let seen = {
        let mut i = pipe.inner.lock();
        if write && nonblock && i.readers == 0 {
            return Err(crate::kernel::errno::ENXIO);
        }
        if write {
            i.writers += 1;
            i.writer_opens += 1;
            i.reader_opens
        } else {
            i.readers += 1;
            i.reader_opens += 1;
            i.writer_opens
        }
    };
    pipe.wait.wake_up_all();
    let end = PipeEnd {
        pipe: pipe.clone(),
        write,
    };
    if !nonblock {
        // `end` is dropped (the count undone) if a signal interrupts.
        pipe.wait.wait_event_interruptible(|| {
            let i = pipe.inner.lock();
            if write {
                i.readers > 0 || i.reader_opens != seen
            } else {
                i.writers > 0 || i.writer_opens != seen
            }
        })?;
    }
    Ok(Box::new(end))
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut inner = self.pipe.inner.lock();
        if self.write {
            inner.writers -= 1;
        } else {
            inner.readers -= 1;
        }
        drop(inner);
        self.pipe.wait.wake_up_all();
    }
}

fn nonblock(file: &File) -> bool {
    file.flags.load(core::sync::atomic::Ordering::Relaxed) & o::NONBLOCK != 0
}

impl FileOps for PipeEnd {
    fn read(&self, file: &File, buf: &mut [u8], _pos: u64) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let p = &self.pipe;
        let ready = || {
            let i = p.inner.lock();
            !i.buf.is_empty() || i.writers == 0
        };
        if !ready() && nonblock(file) {
            return Err(EAGAIN);
        }
        p.wait.wait_event_interruptible(ready)?;
        let mut inner = p.inner.lock();
        let n = buf.len().min(inner.buf.len());
        for (dst, src) in buf.iter_mut().zip(inner.buf.drain(..n)) {
            *dst = src;
        }
        drop(inner);
        p.wait.wake_up_all();
        Ok(n)
    }

    fn write(&self, file: &File, buf: &[u8], _pos: u64) -> KResult<usize> {
        let p = &self.pipe;
        let mut done = 0;
        while done < buf.len() {
            let left = buf.len() - done;
            // Atomic writes wait for room for all of it.
            let need = if left <= PIPE_BUF { left } else { 1 };
            let room = || {
                let i = p.inner.lock();
                i.readers == 0 || PIPE_SIZE - i.buf.len() >= need
            };
            if !room() && nonblock(file) {
                return if done > 0 { Ok(done) } else { Err(EAGAIN) };
            }
            if let Err(e) = p.wait.wait_event_interruptible(room) {
                return if done > 0 { Ok(done) } else { Err(e.into()) };
            }
            let mut inner = p.inner.lock();
            if inner.readers == 0 {
                drop(inner);
                signal::send_signal(task::current(), signal::SIGPIPE);
                return if done > 0 { Ok(done) } else { Err(EPIPE) };
            }
            let n = (PIPE_SIZE - inner.buf.len()).min(left);
            inner.buf.extend(&buf[done..done + n]);
            drop(inner);
            done += n;
            p.wait.wake_up_all();
            sched::cond_resched();
        }
        Ok(done)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            mode: s::IFIFO | 0o600,
            ino: self.pipe.ino,
            nlink: 1,
            blksize: 4096,
            dev: 0xc,
            size: self.pipe.inner.lock().buf.len() as i64,
            ..Stat::default()
        })
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> KResult<i64> {
        if cmd == crate::drivers::tty::FIONREAD {
            let n = self.pipe.inner.lock().buf.len() as i32;
            crate::arch::x86_64::uaccess::put_user(arg, &n)?;
            return Ok(0);
        }
        Err(crate::kernel::errno::ENOTTY)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn poll(&self) -> u32 {
        use super::file::poll;
        let i = self.pipe.inner.lock();
        if self.write {
            if i.readers == 0 {
                poll::ERR | poll::OUT
            } else if PIPE_SIZE - i.buf.len() >= PIPE_BUF {
                poll::OUT
            } else {
                0
            }
        } else if !i.buf.is_empty() {
            poll::IN | if i.writers == 0 { poll::HUP } else { 0 }
        } else if i.writers == 0 {
            poll::HUP
        } else {
            0
        }
    }
}
