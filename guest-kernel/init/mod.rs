//! Kernel start-up (Linux's `init/`): the boot sequence in [`main`], the
//! command line in [`cmdline`], and the boot information stage 2 handed us.

/// The command line: `name=value` parameters.
pub mod cmdline;
/// Starting `/sbin/init` as PID 1.
pub mod init_process;
/// `kernel_main`: the boot sequence, then the idle loop.
pub mod main;

use ondisk::bootinfo::BootInfo;

use crate::kernel::sync::InitOnce;

static BOOT_INFO: InitOnce<BootInfo> = InitOnce::new();

/// The kernel's copy of the boot information.
pub fn boot_info() -> &'static BootInfo {
    BOOT_INFO
        .get()
        .expect("boot_info() before kernel_main copied it")
}

/// Keeps a copy of stage 2's boot information (it lives in low memory the
/// kernel does not map).
fn save_boot_info(info: BootInfo) -> &'static BootInfo {
    BOOT_INFO.init(info)
}
