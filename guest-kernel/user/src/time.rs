//! Clocks, sleeping, and calendar dates for `ls -l`.

use crate::sys::{self, SysResult, Timespec};

/// Nanoseconds on the monotonic clock.
pub fn monotonic_ns() -> SysResult<u64> {
    let t = sys::clock_gettime(sys::CLOCK_MONOTONIC)?;
    Ok(t.sec as u64 * 1_000_000_000 + t.nsec as u64)
}

/// Sleeps `ns` nanoseconds (longer if interrupted and restarted is not
/// needed: `EINTR` ends the sleep early).
pub fn sleep_ns(ns: u64) -> SysResult<()> {
    let ts = Timespec {
        sec: (ns / 1_000_000_000) as i64,
        nsec: (ns % 1_000_000_000) as i64,
    };
    sys::nanosleep(&ts)
}

/// A civil date from a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Jan  1 00:00` (UTC) for a time within six months of `now`, `Jan  1  2025`
/// otherwise, as `ls -l` shows times.
pub fn ls_date(secs: i64, now: i64) -> alloc::string::String {
    const SIX_MONTHS: i64 = 365 * 86_400 / 2;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    let month = MONTHS[(m - 1) as usize];
    if (now - secs).abs() < SIX_MONTHS {
        alloc::format!("{month} {d:>2} {:02}:{:02}", t / 3600, t / 60 % 60)
    } else {
        alloc::format!("{month} {d:>2}  {y}")
    }
}
