//! The program's arguments and environment, from the initial stack.
//!
//! Both are kept as the kernel gave them (pointers to NUL-terminated
//! strings); the environment can be changed ([`set_var`]) and handed to
//! `execve` ([`crate::process`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;

struct State {
    args: Vec<&'static str>,
    vars: Vec<String>,
}

struct Global(UnsafeCell<Option<State>>);

// SAFETY: programs are single-threaded; there is no concurrent access.
unsafe impl Sync for Global {}

static STATE: Global = Global(UnsafeCell::new(None));

fn state() -> &'static mut State {
    // SAFETY: single-threaded; callers never hold two of these references
    // across a call that takes another (every function here is a leaf).
    let state = unsafe { &mut *STATE.0.get() };
    state.get_or_insert_with(|| State {
        args: Vec::new(),
        vars: Vec::new(),
    })
}

/// A NUL-terminated string from the initial stack as `&str` (invalid UTF-8
/// reads as `?`).
///
/// # Safety
/// `p` points to a NUL-terminated string that lives for the whole run.
unsafe fn c_str(p: *const u8) -> &'static str {
    // SAFETY: from the caller.
    let bytes = unsafe { core::slice::from_raw_parts(p, crate::mem::strlen(p)) };
    core::str::from_utf8(bytes).unwrap_or("?")
}

/// Records argv and envp.
///
/// # Safety
/// Both are NULL-terminated arrays of NUL-terminated strings that live for
/// the whole run (the initial stack).
pub(crate) unsafe fn init(argc: usize, argv: *const *const u8, envp: *const *const u8) {
    let s = state();
    for i in 0..argc {
        // SAFETY: `argv` has `argc` entries.
        s.args.push(unsafe { c_str(*argv.add(i)) });
    }
    let mut p = envp;
    // SAFETY: `envp` ends with NULL.
    unsafe {
        while !(*p).is_null() {
            s.vars.push(String::from(c_str(*p)));
            p = p.add(1);
        }
    }
}

/// The arguments, `argv[0]` first.
pub fn args() -> &'static [&'static str] {
    &state().args
}

/// `argv[0]` without its directory, for messages.
pub fn program_name() -> &'static str {
    let name = state().args.first().copied().unwrap_or("?");
    name.rsplit('/').next().unwrap_or(name)
}

/// The environment as `NAME=value` strings (a copy: the environment may
/// change).
pub fn vars() -> Vec<String> {
    state().vars.clone()
}

/// The value of `name`.
pub fn var(name: &str) -> Option<String> {
    state().vars.iter().find_map(|v| {
        let (k, val) = v.split_once('=')?;
        (k == name).then(|| String::from(val))
    })
}

/// Sets (or replaces) `name`.
pub fn set_var(name: &str, value: &str) {
    let vars = &mut state().vars;
    let entry = alloc::format!("{name}={value}");
    match vars
        .iter()
        .position(|v| v.split_once('=').is_some_and(|(k, _)| k == name))
    {
        Some(i) => vars[i] = entry,
        None => vars.push(entry),
    }
}

/// Removes `name`.
pub fn remove_var(name: &str) {
    state()
        .vars
        .retain(|v| v.split_once('=').is_none_or(|(k, _)| k != name));
}
