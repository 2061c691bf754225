//! Error numbers (Linux's `include/uapi/asm-generic/errno-base.h` and
//! `errno.h`): system calls return `-errno`.

/// An error number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

/// A kernel result: the value, or an errno for user space.
pub type KResult<T> = Result<T, Errno>;

pub const EPERM: Errno = Errno(1);
pub const ENOENT: Errno = Errno(2);
pub const ESRCH: Errno = Errno(3);
pub const EINTR: Errno = Errno(4);
pub const EIO: Errno = Errno(5);
pub const ENXIO: Errno = Errno(6);
pub const E2BIG: Errno = Errno(7);
pub const ENOEXEC: Errno = Errno(8);
pub const EBADF: Errno = Errno(9);
pub const ECHILD: Errno = Errno(10);
pub const EAGAIN: Errno = Errno(11);
pub const ENOMEM: Errno = Errno(12);
pub const EACCES: Errno = Errno(13);
pub const EFAULT: Errno = Errno(14);
pub const EBUSY: Errno = Errno(16);
pub const EEXIST: Errno = Errno(17);
pub const ENODEV: Errno = Errno(19);
pub const ENOTDIR: Errno = Errno(20);
pub const EISDIR: Errno = Errno(21);
pub const EINVAL: Errno = Errno(22);
pub const EMFILE: Errno = Errno(24);
pub const ENOTTY: Errno = Errno(25);
pub const EFBIG: Errno = Errno(27);
pub const ESPIPE: Errno = Errno(29);
pub const EROFS: Errno = Errno(30);
pub const EPIPE: Errno = Errno(32);
pub const ERANGE: Errno = Errno(34);
pub const ENAMETOOLONG: Errno = Errno(36);
pub const ENOSYS: Errno = Errno(38);
pub const ELOOP: Errno = Errno(40);
pub const ENOSPC: Errno = Errno(28);
pub const EMLINK: Errno = Errno(31);
pub const ENOTEMPTY: Errno = Errno(39);

impl From<crate::kernel::wait::Interrupted> for Errno {
    fn from(_: crate::kernel::wait::Interrupted) -> Self {
        EINTR
    }
}

impl From<ondisk::ext2::Error> for Errno {
    fn from(e: ondisk::ext2::Error) -> Self {
        use ondisk::ext2::Error as E;
        match e {
            E::NotFound => ENOENT,
            E::NotADirectory => ENOTDIR,
            E::NameTooLong => ENAMETOOLONG,
            E::SymlinkLoop => ELOOP,
            E::NotAFile => EINVAL,
            _ => EIO,
        }
    }
}
