//! The one error type of the image builder and checker.

use std::io;
use std::path::PathBuf;

/// Everything that can stop an image build or check, with a message that
/// says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("recipe {}: {message}", path.display())]
    Recipe { path: PathBuf, message: String },
    #[error("the recipe needs input `@{0}` but none was given (pass --input {0}=PATH)")]
    MissingInput(String),
    #[error("{what} is {len} bytes but only {room} bytes fit {place}")]
    TooBig {
        what: String,
        len: u64,
        room: u64,
        place: &'static str,
    },
    #[error("disk layout: {0}")]
    Layout(String),
    #[error("root tree: {0}")]
    Tree(String),
    #[error("root file system too small: {0}")]
    FsFull(String),
    #[error("reading the image back: {0}")]
    Ext2(ondisk::ext2::Error),
    #[error("image check failed:\n  - {}", .0.join("\n  - "))]
    Check(Vec<String>),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

impl From<ondisk::ext2::Error> for Error {
    fn from(e: ondisk::ext2::Error) -> Self {
        Error::Ext2(e)
    }
}
