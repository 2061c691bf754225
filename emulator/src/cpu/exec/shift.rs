//! Handlers: shift (to be filled in).

use super::Handler;
use iced_x86::Instruction;

/// Picks a handler for instructions of this family.
pub fn resolve(_i: &Instruction) -> Option<Handler> {
    None
}
