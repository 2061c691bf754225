//! File systems (written by the block-layer work).

pub fn mount_root_and_show_motd() {}
