//! ATA disk driver (written by the block-layer work).
