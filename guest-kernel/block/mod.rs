//! Block layer (written by the block-layer work).

pub fn init() {}
