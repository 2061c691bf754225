//! File systems (Linux's `fs/`). For now: the root, ext2, mounted
//! read-only, and a way to read a file from it.
//!
//! - [`root`]: choose the root device (`root=` or the boot disk), mount it
//!   with `ondisk::ext2::Volume`, [`read_file`] from it.
//! - [`bdev_reader`]: byte-addressed reads of a block device with a small
//!   cache of recent chunks, what the ext2 reader runs on.
//!
//! The VFS (super blocks, inodes, dentries, files), the buffer cache and a
//! writable ext2 come later and replace `root`'s direct use of the reader.

pub mod bdev_reader;
/// Disks and partitions as files (`/dev/hda`, `/dev/hda1`).
pub mod blockdev;
/// The buffer cache and its flush thread.
pub mod buffer;
/// `execve`: the ELF64 loader and the initial stack.
pub mod exec;
/// ext2, read and write, over the buffer cache.
pub mod ext2;
/// Open files, descriptor tables, per-kind file operations.
pub mod file;
/// Path names: normalising, opening, `stat`.
pub mod namei;
/// Pipes.
pub mod pipe;
/// A minimal read-only `/proc`.
pub mod procfs;
pub mod root;
/// `poll` and `select`.
pub mod select;

pub use root::{mount_root, read_file};

/// The message of the day, shown once the root is mounted.
const MOTD: &str = "/etc/motd";

/// Mounts the root file system and prints `/etc/motd` on the console.
/// Failures are logged; the kernel carries on without a root.
pub fn mount_root_and_show_motd() {
    if mount_root().is_err() {
        return;
    }
    match read_file(MOTD) {
        Ok(text) => show(&text),
        Err(e) => pr_warn!("fs: cannot show {}: {}", MOTD, e),
    }
}

/// Writes `text` to the console as it is, as `cat /etc/motd` would: no
/// log level or timestamp in front of its lines.
fn show(text: &[u8]) {
    if text.is_empty() {
        return;
    }
    crate::drivers::serial::console_write(text);
    if !text.ends_with(b"\n") {
        crate::drivers::serial::console_write(b"\n");
    }
}

/// Starts the buffer cache's flush thread if the root is writable (after
/// init, so init keeps PID 1).
pub fn start_bdflush() {
    if !ext2::is_rw() {
        return;
    }
    match crate::kernel::fork::kernel_thread("bdflush", buffer::bdflush) {
        Ok(pid) => pr_info!("bdflush: started as pid {}", pid),
        Err(_) => pr_warn!("bdflush: cannot start; dirty buffers wait for sync"),
    }
}
