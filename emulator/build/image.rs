//! The default disk image (filled in as the boot chain lands).

use std::path::Path;

pub fn build(_root: &Path, _out: &Path) {}
