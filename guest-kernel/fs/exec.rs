//! `execve`: loading an ELF64 static executable (Linux's `fs/exec.c` and
//! `fs/binfmt_elf.c`).
//!
//! The file must be an x86-64 little-endian `ET_EXEC` ELF64 without an
//! interpreter; every `PT_LOAD` must lie in user space with its file bytes
//! inside the file (anything else is ENOEXEC, never a kernel fault). A new
//! address space gets the segments, a zeroed bss, the break after the
//! highest segment, and a stack laid out as Linux's `create_elf_tables`
//! does: argc, argv[], NULL, envp[], NULL, the auxiliary vector, then the
//! strings and 16 random bytes near the top.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::arch::x86_64::entry::TrapFrame;
use crate::kernel::errno::{E2BIG, EACCES, ENOEXEC, KResult};
use crate::kernel::task::Task;
use crate::mm::PAGE_SIZE;
use crate::mm::mmap::{
    Mm, PROT_EXEC, PROT_READ, PROT_WRITE, STACK_SIZE, STACK_TOP, TASK_SIZE, VmaKind,
};

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;

/// Auxiliary vector keys (`include/uapi/linux/auxvec.h`).
mod at {
    pub const NULL: u64 = 0;
    pub const PHDR: u64 = 3;
    pub const PHENT: u64 = 4;
    pub const PHNUM: u64 = 5;
    pub const PAGESZ: u64 = 6;
    pub const BASE: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const ENTRY: u64 = 9;
    pub const UID: u64 = 11;
    pub const EUID: u64 = 12;
    pub const GID: u64 = 13;
    pub const EGID: u64 = 14;
    pub const HWCAP: u64 = 16;
    pub const CLKTCK: u64 = 17;
    pub const SECURE: u64 = 23;
    pub const RANDOM: u64 = 25;
    pub const EXECFN: u64 = 31;
}

/// The most bytes of arguments and environment (Linux: a quarter of the
/// stack limit; ours is smaller).
const MAX_ARG_BYTES: usize = 128 * 1024;

fn u16at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// A loadable segment.
struct Segment {
    vaddr: u64,
    offset: u64,
    filesz: u64,
    memsz: u64,
    flags: u32,
}

/// What the ELF header and program headers say.
struct Image {
    entry: u64,
    phoff: u64,
    phnum: u16,
    segments: Vec<Segment>,
}

/// Checks the ELF header and program headers; ENOEXEC for anything off.
fn parse(data: &[u8]) -> Option<Image> {
    if data.get(..4)? != b"\x7fELF" || data[4] != 2 || data[5] != 1 || data[6] != 1 {
        return None;
    }
    if u16at(data, 16)? != ET_EXEC || u16at(data, 18)? != EM_X86_64 {
        return None;
    }
    let entry = u64at(data, 24)?;
    let phoff = u64at(data, 32)?;
    let phentsize = u16at(data, 54)?;
    let phnum = u16at(data, 56)?;
    if phentsize != 56 || phnum == 0 || phnum > 64 {
        return None;
    }
    let mut segments = Vec::new();
    for i in 0..u64::from(phnum) {
        let at = usize::try_from(phoff.checked_add(i * 56)?).ok()?;
        let ph = data.get(at..at.checked_add(56)?)?;
        let ty = u32at(ph, 0)?;
        if ty == PT_INTERP {
            return None; // dynamic executables need a loader we do not have
        }
        if ty != PT_LOAD {
            continue;
        }
        let seg = Segment {
            flags: u32at(ph, 4)?,
            offset: u64at(ph, 8)?,
            vaddr: u64at(ph, 16)?,
            filesz: u64at(ph, 32)?,
            memsz: u64at(ph, 40)?,
        };
        let file_end = seg.offset.checked_add(seg.filesz)?;
        let mem_end = seg.vaddr.checked_add(seg.memsz)?;
        if seg.filesz > seg.memsz
            || file_end > data.len() as u64
            || mem_end > TASK_SIZE
            || seg.vaddr < PAGE_SIZE
        {
            return None;
        }
        segments.push(seg);
    }
    if segments.is_empty() {
        return None;
    }
    let in_segment = |va: u64| {
        segments
            .iter()
            .any(|s| s.flags & 1 != 0 && va >= s.vaddr && va < s.vaddr + s.memsz)
    };
    if !in_segment(entry) {
        return None;
    }
    Some(Image {
        entry,
        phoff,
        phnum,
        segments,
    })
}

/// A freshly loaded program: its address space and first registers.
pub struct Loaded {
    pub mm: Box<Mm>,
    pub entry: u64,
    pub sp: u64,
    pub comm: Vec<u8>,
    pub cmdline: Vec<u8>,
}

/// Loads `path` with `argv` and `envp` into a new address space.
pub fn load(path: &str, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> KResult<Loaded> {
    let total: usize = argv.iter().chain(envp).map(|a| a.len() + 1 + 8).sum();
    if total > MAX_ARG_BYTES {
        return Err(E2BIG);
    }
    let st = super::namei::stat(path, true)?;
    if st.mode & super::file::s::IFMT != super::file::s::IFREG || st.mode & 0o111 == 0 {
        return Err(EACCES);
    }
    let data = super::namei::read_whole(path)?;
    let image = parse(&data).ok_or(ENOEXEC)?;
    let mut mm = Box::new(Mm::new()?);

    let mut brk = 0;
    let mut phdr = 0;
    for seg in &image.segments {
        let start = seg.vaddr & !(PAGE_SIZE - 1);
        let end = (seg.vaddr + seg.memsz).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let mut prot = 0;
        if seg.flags & 4 != 0 {
            prot |= PROT_READ;
        }
        if seg.flags & 2 != 0 {
            prot |= PROT_WRITE;
        }
        if seg.flags & 1 != 0 {
            prot |= PROT_EXEC;
        }
        if end > start {
            mm.map_anon(start, end, prot, VmaKind::Image)?;
        }
        let bytes = &data[seg.offset as usize..(seg.offset + seg.filesz) as usize];
        mm.write_bytes(seg.vaddr, bytes)?;
        if image.phoff >= seg.offset && image.phoff < seg.offset + seg.filesz {
            phdr = seg.vaddr + (image.phoff - seg.offset);
        }
        brk = brk.max(end);
        crate::kernel::sched::cond_resched();
    }
    mm.start_brk = brk;
    mm.brk = brk;

    // The stack.
    let stack_low = STACK_TOP - STACK_SIZE;
    mm.map_anon(stack_low, STACK_TOP, PROT_READ | PROT_WRITE, VmaKind::Stack)?;
    let mut sp = STACK_TOP;
    let push_bytes = |sp: &mut u64, mm: &mut Mm, bytes: &[u8]| -> KResult<u64> {
        *sp -= bytes.len() as u64;
        mm.write_bytes(*sp, bytes)?;
        Ok(*sp)
    };
    let mut execfn = Vec::from(path.as_bytes());
    execfn.push(0);
    let execfn_at = push_bytes(&mut sp, &mut mm, &execfn)?;
    let mut env_ptrs = Vec::new();
    for e in envp.iter().rev() {
        let mut s = e.clone();
        s.push(0);
        env_ptrs.push(push_bytes(&mut sp, &mut mm, &s)?);
    }
    env_ptrs.reverse();
    let mut arg_ptrs = Vec::new();
    let mut cmdline = Vec::new();
    for a in argv.iter() {
        cmdline.extend_from_slice(a);
        cmdline.push(0);
    }
    let args_end = sp;
    for a in argv.iter().rev() {
        let mut s = a.clone();
        s.push(0);
        arg_ptrs.push(push_bytes(&mut sp, &mut mm, &s)?);
    }
    arg_ptrs.reverse();
    mm.arg_start = arg_ptrs.first().copied().unwrap_or(args_end);
    mm.arg_end = args_end;
    // AT_RANDOM's 16 bytes: from the TSC (no entropy pool yet).
    let r = crate::arch::x86_64::cpu::rdtsc();
    let mut random = [0u8; 16];
    random[..8].copy_from_slice(&r.to_le_bytes());
    random[8..].copy_from_slice(&(r.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15).to_le_bytes());
    let random_at = push_bytes(&mut sp, &mut mm, &random)?;
    sp &= !15;

    let auxv: [(u64, u64); 16] = [
        (at::PHDR, phdr),
        (at::PHENT, 56),
        (at::PHNUM, u64::from(image.phnum)),
        (at::PAGESZ, PAGE_SIZE),
        (at::BASE, 0),
        (at::FLAGS, 0),
        (at::ENTRY, image.entry),
        (at::UID, 0),
        (at::EUID, 0),
        (at::GID, 0),
        (at::EGID, 0),
        (at::HWCAP, 0x178b_fbff),
        (at::CLKTCK, 100),
        (at::SECURE, 0),
        (at::RANDOM, random_at),
        (at::EXECFN, execfn_at),
    ];
    let mut words: Vec<u64> = Vec::new();
    words.push(argv.len() as u64);
    words.extend(&arg_ptrs);
    words.push(0);
    words.extend(&env_ptrs);
    words.push(0);
    for (k, v) in auxv {
        words.push(k);
        words.push(v);
    }
    words.push(at::NULL);
    words.push(0);
    if words.len() % 2 == 1 {
        words.push(0); // keep argc 16-byte aligned
    }
    sp -= words.len() as u64 * 8;
    if sp < stack_low + 4096 {
        return Err(E2BIG);
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    mm.write_bytes(sp, &bytes)?;
    mm.start_stack = sp;

    let name = path.rsplit('/').next().unwrap_or(path);
    Ok(Loaded {
        mm,
        entry: image.entry,
        sp,
        comm: Vec::from(name.as_bytes()),
        cmdline,
    })
}

/// The user segments (`__USER_CS`, `__USER_DS`).
pub const USER_CS: u64 = 0x33;
pub const USER_DS: u64 = 0x2b;

/// Installs a loaded program in `t` (the point of no return of exec):
/// the new address space, a clean register file and SSE state, the
/// close-on-exec descriptors closed, handlers reset.
pub fn install(t: &mut Task, loaded: Loaded, frame: &mut TrapFrame, fxsave: *mut u8) {
    let Loaded {
        mm,
        entry,
        sp,
        comm,
        cmdline,
    } = loaded;
    let is_current = core::ptr::eq(t, crate::kernel::task::current());
    if is_current {
        // SAFETY: the new tables map the kernel's upper half like the old.
        unsafe { crate::arch::x86_64::cpu::write_cr3(mm.pml4()) };
    }
    let old = t.mm.replace(mm);
    drop(old);
    t.set_comm(&comm);
    t.cmdline = cmdline;
    t.flags &= !crate::kernel::task::pf::FORKNOEXEC;
    t.files.close_on_exec();
    t.signals.reset_handlers();
    t.fs_base = 0;
    if is_current {
        // SAFETY: the FS base MSR; user code has not run yet.
        unsafe { crate::arch::x86_64::cpu::wrmsr(0xC000_0100, 0) };
    }
    *frame = TrapFrame::zeroed();
    frame.rip = entry;
    frame.rsp = sp;
    frame.cs = USER_CS;
    frame.ss = USER_DS;
    frame.rflags = 0x202;
    frame.vector = crate::arch::x86_64::entry::SYSCALL_VECTOR;
    let clean = crate::arch::x86_64::fpu::FpuState::new();
    // SAFETY: `fxsave` is the 512-byte, 16-aligned FXSAVE area below the
    // frame on this task's kernel stack.
    unsafe {
        core::ptr::copy_nonoverlapping((&raw const clean).cast::<u8>(), fxsave, 512);
    }
}
