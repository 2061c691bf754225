//! The port bus's address decoder: non-overlapping ranges of I/O ports,
//! each naming a device and the offset its first port has within the
//! device. An access must fit entirely in one range; anything else is
//! unclaimed (reads float to all-ones, writes are dropped).

/// One claimed range.
#[derive(Debug, Clone, Copy)]
struct Range<D> {
    start: u16,
    /// Inclusive.
    end: u16,
    device: D,
    base: u16,
}

/// Port ranges, sorted by start.
#[derive(Debug, Clone)]
pub struct PortMap<D> {
    ranges: Vec<Range<D>>,
}

impl<D> Default for PortMap<D> {
    fn default() -> Self {
        PortMap { ranges: Vec::new() }
    }
}

impl<D: Copy + std::fmt::Debug> PortMap<D> {
    /// Claims `len` ports from `start` for `device`, whose offsets there
    /// begin at `base`. Overlapping claims are a bug in the board.
    pub fn add(&mut self, start: u16, len: u16, device: D, base: u16) {
        let end = start + (len - 1);
        if let Some(r) = self
            .ranges
            .iter()
            .find(|r| start <= r.end && r.start <= end)
        {
            panic!(
                "port range {start:#x}-{end:#x} ({device:?}) overlaps {:#x}-{:#x} ({:?})",
                r.start, r.end, r.device
            );
        }
        let at = self.ranges.partition_point(|r| r.start < start);
        self.ranges.insert(
            at,
            Range {
                start,
                end,
                device,
                base,
            },
        );
    }

    /// The device and offset an access of `size` bytes at `port` reaches,
    /// if one range holds the whole access.
    #[inline]
    pub fn lookup(&self, port: u16, size: u8) -> Option<(D, u16)> {
        let last = port.checked_add(size as u16 - 1)?;
        let i = self.ranges.partition_point(|r| r.end < port);
        let r = self.ranges.get(i)?;
        (r.start <= port && last <= r.end).then(|| (r.device, r.base + (port - r.start)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_gives_the_device_and_offset() {
        let mut m = PortMap::default();
        m.add(0x20, 2, 'p', 0);
        m.add(0xA0, 2, 'p', 2);
        assert_eq!(m.lookup(0xA1, 1), Some(('p', 3)));
        assert_eq!(m.lookup(0x21, 1), Some(('p', 1)));
        assert_eq!(m.lookup(0x22, 1), None);
    }

    #[test]
    fn an_access_running_past_the_range_is_unclaimed() {
        let mut m = PortMap::default();
        m.add(0x1F0, 8, 'a', 0);
        assert_eq!(m.lookup(0x1F0, 4), Some(('a', 0)));
        assert_eq!(m.lookup(0x1F6, 4), None);
        assert_eq!(m.lookup(0xFFFF, 2), None);
    }

    #[test]
    #[should_panic(expected = "overlaps")]
    fn overlapping_ranges_are_refused() {
        let mut m = PortMap::default();
        m.add(0x60, 1, 'k', 0);
        m.add(0x5F, 2, 'x', 0);
    }
}
