//! Event categories: what `--trace-events` selects. Each event belongs to
//! one; its name is written in the event's `categories` field.

use std::fmt;

/// One category of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum Category {
    /// Mode switches, exceptions, interrupt delivery and return, `hlt` and
    /// wake-up, triple faults.
    Cpu,
    /// Page faults seen by the MMU and TLB flushes.
    Mmu,
    /// Every page walk (a TLB miss): many; off by default.
    Walk,
    /// IRQ lines raised and lowered, PIC acknowledge and EOI.
    Irq,
    /// PIT reprogramming.
    Pit,
    /// UART bytes sent and received.
    Uart,
    /// ATA commands and their completion.
    Ata,
    /// POST codes (port 0x80).
    Post,
    /// Port I/O in the range given with `ports=LO-HI`; off by default.
    Ports,
    /// Guest-kernel annotations: processes, threads, context switches,
    /// system calls, handled page faults.
    Guest,
    /// Counters: interrupt rate, TLB misses, instructions per virtual ms.
    Counters,
    /// The instruction trace (`--trace-instructions`).
    Insn,
}

impl Category {
    pub const ALL: [Category; 12] = [
        Category::Cpu,
        Category::Mmu,
        Category::Walk,
        Category::Irq,
        Category::Pit,
        Category::Uart,
        Category::Ata,
        Category::Post,
        Category::Ports,
        Category::Guest,
        Category::Counters,
        Category::Insn,
    ];

    /// The name in `--trace-events` and in the trace.
    pub fn name(self) -> &'static str {
        match self {
            Category::Cpu => "cpu",
            Category::Mmu => "mmu",
            Category::Walk => "walk",
            Category::Irq => "irq",
            Category::Pit => "pit",
            Category::Uart => "uart",
            Category::Ata => "ata",
            Category::Post => "post",
            Category::Ports => "ports",
            Category::Guest => "guest",
            Category::Counters => "counters",
            Category::Insn => "insn",
        }
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// A set of categories.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Categories(u32);

impl Default for Categories {
    /// Everything but page walks and port I/O (which need asking for).
    fn default() -> Self {
        Categories::all()
            .without(Category::Walk)
            .without(Category::Ports)
            .without(Category::Insn)
    }
}

impl fmt::Debug for Categories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = Category::ALL
            .iter()
            .filter(|c| self.contains(**c))
            .map(|c| c.name())
            .collect();
        write!(f, "{}", names.join(","))
    }
}

impl Categories {
    pub const fn none() -> Categories {
        Categories(0)
    }
    pub fn all() -> Categories {
        Category::ALL.iter().fold(Categories(0), |s, c| s.with(*c))
    }
    pub fn with(self, c: Category) -> Categories {
        Categories(self.0 | c.bit())
    }
    pub fn without(self, c: Category) -> Categories {
        Categories(self.0 & !c.bit())
    }
    #[inline(always)]
    pub fn contains(self, c: Category) -> bool {
        self.0 & c.bit() != 0
    }
}

/// A bad `--trace-events` list.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CategoryError {
    #[error("unknown trace category `{0}` (known: default, all, cpu, mmu, walk, irq, pit, uart, ata, post, ports=LO-HI, guest, counters)")]
    Unknown(String),
    #[error("bad port range `{0}` (expected ports=LO-HI, e.g. ports=0x1f0-0x1f7)")]
    BadPorts(String),
}

/// Parses a `--trace-events` list: comma-separated names; `all`,
/// `default`; `-name` removes; `ports=LO-HI` adds port I/O for that range.
/// A list that starts with a plain name starts from nothing; one that
/// starts with `-name` starts from the default set.
pub fn parse(spec: &str) -> Result<(Categories, Option<(u16, u16)>), CategoryError> {
    let items: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut set = match items.first() {
        Some(s) if s.starts_with('-') => Categories::default(),
        _ => Categories::none(),
    };
    let mut ports = None;
    for item in items {
        if let Some(range) = item.strip_prefix("ports=") {
            ports = Some(parse_range(range).ok_or_else(|| CategoryError::BadPorts(item.into()))?);
            set = set.with(Category::Ports);
            continue;
        }
        let (remove, name) = match item.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, item),
        };
        let group = match name {
            "all" => Categories::all().without(Category::Insn),
            "default" => Categories::default(),
            _ => {
                let c = Category::ALL
                    .into_iter()
                    .find(|c| c.name() == name)
                    .ok_or_else(|| CategoryError::Unknown(name.into()))?;
                Categories::none().with(c)
            }
        };
        set = if remove {
            Categories(set.0 & !group.0)
        } else {
            Categories(set.0 | group.0)
        };
    }
    Ok((set, ports))
}

fn parse_num(s: &str) -> Option<u16> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u16::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn parse_range(s: &str) -> Option<(u16, u16)> {
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (parse_num(a)?, parse_num(b)?),
        None => (parse_num(s)?, parse_num(s)?),
    };
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_list_selects_only_its_categories() {
        let (set, ports) = parse("cpu,ata").unwrap();

        assert!(set.contains(Category::Cpu));
        assert!(set.contains(Category::Ata));
        assert!(!set.contains(Category::Irq));
        assert_eq!(ports, None);
    }

    #[test]
    fn a_list_of_removals_starts_from_the_default() {
        let (set, _) = parse("-uart").unwrap();

        assert!(!set.contains(Category::Uart));
        assert!(set.contains(Category::Cpu));
        assert!(!set.contains(Category::Walk));
    }

    #[test]
    fn a_port_range_turns_on_port_io() {
        let (set, ports) = parse("default,ports=0x1f0-0x1f7").unwrap();

        assert!(set.contains(Category::Ports));
        assert_eq!(ports, Some((0x1F0, 0x1F7)));
    }

    #[test]
    fn unknown_names_and_bad_ranges_are_errors() {
        assert_eq!(
            parse("cpu,disk"),
            Err(CategoryError::Unknown("disk".into()))
        );
        assert!(matches!(
            parse("ports=0x200-0x100"),
            Err(CategoryError::BadPorts(_))
        ));
    }
}
