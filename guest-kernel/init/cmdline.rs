//! The kernel command line (from `/boot/cmdline`, via `BootInfo`), split
//! into space-separated parameters as Linux's `parse_args` does (no
//! quoting). `name=value` gives `value`; a bare `name` gives `""`.
//!
//! Parameters this kernel reads:
//! - `loglevel=N`: console shows messages of level < N (default 7);
//! - `panic=exit`: after an oops or panic, write 1 to port 0xF4 (exit
//!   status 3 in the emulator and under QEMU's isa-debug-exit);
//! - `crash=pagefault|divide|panic|wp|nx|doublefault|stack`: a deliberate
//!   kernel fault once memory management is up, to see the oops report
//!   (`wp`: a write to kernel text, `nx`: a jump into kernel data, both
//!   showing W^X; `doublefault`: a #PF that cannot be delivered; `stack`:
//!   a stack overflow into the guard page);
//! - `root=`, `console=`: read by the block layer / console (accepted).

/// The whole command line.
/// Empty until `kernel_main` has copied the boot information, so the
/// panic path can ask for `panic=` at any time.
pub fn cmdline() -> &'static str {
    super::BOOT_INFO.get().map_or("", |info| info.cmdline())
}

/// The value of parameter `name`: `Some("")` for a bare flag, `None` if
/// absent. The last occurrence wins, as in Linux.
pub fn param(name: &str) -> Option<&'static str> {
    let mut found = None;
    for word in cmdline().split_ascii_whitespace() {
        match word.split_once('=') {
            Some((key, value)) if key == name => found = Some(value),
            None if word == name => found = Some(""),
            _ => {}
        }
    }
    found
}
