//! The virtual clock (DESIGN.md, "Time").
//!
//! Every device timer runs on one clock. By default it is *virtual*: time
//! is retired instructions times a fixed period, plus the time skipped
//! while the CPU was halted (a `hlt` jumps straight to the next timer
//! event). Runs are then deterministic: the same image and input give the
//! same output, and an idle guest costs no host time. For interactive use
//! the clock can follow host time instead.

use crate::devices::Nanos;
use crate::machine::snapshot::{Persist, Result as SnapResult, StateIo};
use std::time::{Duration, Instant};

/// Virtual nanoseconds per retired instruction: the guest sees a 1 GHz,
/// one-instruction-per-cycle CPU.
pub const NS_PER_INSTRUCTION: u64 = 1;

/// How time advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// Deterministic: time follows retired instructions.
    #[default]
    Virtual,
    /// Time follows the host's monotonic clock.
    Host,
}

/// The machine's clock.
#[derive(Debug, Clone)]
pub struct Clock {
    mode: ClockMode,
    /// Virtual time skipped over while halted.
    skipped: Nanos,
    start: Instant,
}

impl Clock {
    pub fn new(mode: ClockMode) -> Clock {
        Clock {
            mode,
            skipped: 0,
            start: Instant::now(),
        }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// The time after `instret` retired instructions.
    #[inline]
    pub fn now(&self, instret: u64) -> Nanos {
        match self.mode {
            ClockMode::Virtual => instret
                .saturating_mul(NS_PER_INSTRUCTION)
                .saturating_add(self.skipped),
            ClockMode::Host => self.start.elapsed().as_nanos() as Nanos,
        }
    }

    /// How many instructions may run before time `t` (at least 1).
    pub fn instructions_until(&self, instret: u64, t: Nanos) -> u64 {
        let now = self.now(instret);
        let ns = t.saturating_sub(now);
        match self.mode {
            ClockMode::Virtual => (ns / NS_PER_INSTRUCTION).max(1),
            // In host time, check back often: a slice is at most ~1 ms of
            // work at the rate this interpreter runs.
            ClockMode::Host => (ns / 10).clamp(1, 100_000),
        }
    }

    /// The halted CPU waits until time `t`: virtual time jumps there; host
    /// time sleeps (at most `max_sleep`, so input is noticed).
    pub fn idle_until(&mut self, instret: u64, t: Nanos, max_sleep: Duration) {
        let now = self.now(instret);
        if t <= now {
            return;
        }
        match self.mode {
            ClockMode::Virtual => self.skipped += t - now,
            ClockMode::Host => std::thread::sleep(Duration::from_nanos(t - now).min(max_sleep)),
        }
    }
}

impl Persist for Clock {
    /// Snapshots (`machine::snapshot`): the virtual time skipped while
    /// halted and, for host time, how far the clock had run, so time
    /// continues from where it was.
    fn persist(&mut self, io: &mut StateIo) -> SnapResult<()> {
        io.section("clock")?;
        self.skipped.persist(io)?;
        let mut elapsed = match self.mode {
            ClockMode::Host => self.start.elapsed().as_nanos() as u64,
            ClockMode::Virtual => 0,
        };
        elapsed.persist(io)?;
        if io.is_loading() {
            self.start = Instant::now()
                .checked_sub(Duration::from_nanos(elapsed))
                .unwrap_or_else(Instant::now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_time_follows_instructions_and_jumps_when_idle() {
        let mut c = Clock::new(ClockMode::Virtual);
        assert_eq!(c.now(1000), 1000 * NS_PER_INSTRUCTION);

        c.idle_until(1000, 5_000_000, Duration::ZERO);

        assert_eq!(c.now(1000), 5_000_000);
        assert_eq!(c.now(1010), 5_000_000 + 10 * NS_PER_INSTRUCTION);
    }

    #[test]
    fn budget_reaches_exactly_the_next_event() {
        let c = Clock::new(ClockMode::Virtual);
        assert_eq!(c.instructions_until(0, 838 * NS_PER_INSTRUCTION), 838);
        assert_eq!(
            c.instructions_until(500, 10),
            1,
            "an event in the past still runs one"
        );
    }
}
