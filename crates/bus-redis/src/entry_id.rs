//! Stream entry ids (`<milliseconds>-<sequence>`), parsed so they can be
//! compared and incremented: Redis compares them numerically, not as text.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct EntryId {
    pub ms: u64,
    pub seq: u64,
}

impl EntryId {
    pub const ZERO: EntryId = EntryId { ms: 0, seq: 0 };

    /// The smallest id greater than this one.
    pub fn next(self) -> EntryId {
        match self.seq.checked_add(1) {
            Some(seq) => EntryId { ms: self.ms, seq },
            None => EntryId {
                ms: self.ms.saturating_add(1),
                seq: 0,
            },
        }
    }
}

impl FromStr for EntryId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a stream entry id: {s:?}");
        let (ms, seq) = match s.split_once('-') {
            Some((ms, seq)) => (ms, seq),
            None => (s, "0"),
        };
        Ok(EntryId {
            ms: ms.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_numerically_and_increment() {
        let a: EntryId = "9-5".parse().unwrap();
        let b: EntryId = "10-0".parse().unwrap();
        assert!(a < b, "numeric, not lexical");
        assert_eq!(a.next().to_string(), "9-6");
        assert_eq!(
            EntryId {
                ms: 3,
                seq: u64::MAX
            }
            .next(),
            EntryId { ms: 4, seq: 0 }
        );
        assert_eq!("0".parse::<EntryId>().unwrap(), EntryId::ZERO);
        assert!("x-1".parse::<EntryId>().is_err());
    }
}
