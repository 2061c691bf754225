//! ext2 revision 1 (to be written).
