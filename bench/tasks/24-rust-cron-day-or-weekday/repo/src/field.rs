use std::fmt;

use crate::bitset::BitSet;

/// The five fields of a cron expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl FieldKind {
    pub const ALL: [FieldKind; 5] =
        [FieldKind::Minute, FieldKind::Hour, FieldKind::DayOfMonth, FieldKind::Month, FieldKind::DayOfWeek];

    pub fn min(self) -> u32 {
        match self {
            FieldKind::DayOfMonth | FieldKind::Month => 1,
            _ => 0,
        }
    }

    /// The largest value accepted when parsing (7 is Sunday in the day-of-week field).
    pub fn max(self) -> u32 {
        match self {
            FieldKind::Minute => 59,
            FieldKind::Hour => 23,
            FieldKind::DayOfMonth => 31,
            FieldKind::Month => 12,
            FieldKind::DayOfWeek => 7,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Minute => "minute",
            FieldKind::Hour => "hour",
            FieldKind::DayOfMonth => "day of month",
            FieldKind::Month => "month",
            FieldKind::DayOfWeek => "day of week",
        }
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The values one field allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSet {
    pub(crate) kind: FieldKind,
    pub(crate) bits: BitSet,
    /// The field was written starting with `*` (as opposed to a list of values).
    pub(crate) wildcard: bool,
}

impl FieldSet {
    pub(crate) fn new(kind: FieldKind) -> Self {
        FieldSet { kind, bits: BitSet::default(), wildcard: false }
    }

    pub fn kind(&self) -> FieldKind {
        self.kind
    }

    pub fn contains(&self, value: u32) -> bool {
        self.bits.contains(value)
    }

    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    pub fn values(&self) -> Vec<u32> {
        self.bits.iter().collect()
    }

    pub fn len(&self) -> usize {
        self.bits.len() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    pub(crate) fn first_at_or_after(&self, value: u32) -> Option<u32> {
        self.bits.first_at_or_after(value)
    }

    /// True when every value of the field's natural range is allowed.
    pub fn is_full(&self) -> bool {
        let max = if self.kind == FieldKind::DayOfWeek { 6 } else { self.kind.max() };
        (self.kind.min()..=max).all(|v| self.contains(v))
    }
}
