use super::range::parse_range;
use super::step::split_step;
use crate::error::ParseError;
use crate::field::{FieldKind, FieldSet};

/// Parses one field: a comma-separated list of `*`, values, ranges, each with an optional step.
pub(crate) fn parse_field(text: &str, kind: FieldKind) -> Result<FieldSet, ParseError> {
    let mut set = FieldSet::new(kind);
    set.wildcard = text.starts_with('*');
    for item in text.split(',') {
        if item.is_empty() {
            return Err(ParseError::Empty(kind));
        }
        let (base, step) = split_step(item, kind)?;
        let (start, end) = if base == "*" {
            (kind.min(), kind.max())
        } else {
            let (start, end) = parse_range(base, kind)?;
            // `5/15` means "from 5 to the end, every 15".
            if step.is_some() && start == end {
                (start, kind.max())
            } else {
                (start, end)
            }
        };
        let mut value = start;
        while value <= end {
            // 7 is another name for Sunday.
            let stored = if kind == FieldKind::DayOfWeek && value == 7 { 0 } else { value };
            set.bits.insert(stored);
            value += step.unwrap_or(1);
        }
    }
    Ok(set)
}
