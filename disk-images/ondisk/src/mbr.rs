//! The master boot record (to be written).
