//! Cron expression parsing.

mod field;
pub(crate) mod names;
mod presets;
mod range;
mod step;

use crate::error::ParseError;
use crate::field::{FieldKind, FieldSet};

pub(crate) use field::parse_field;

/// The five parsed fields, in expression order.
pub(crate) struct Fields {
    pub minutes: FieldSet,
    pub hours: FieldSet,
    pub days_of_month: FieldSet,
    pub months: FieldSet,
    pub days_of_week: FieldSet,
}

pub(crate) fn parse_expression(expression: &str) -> Result<Fields, ParseError> {
    let trimmed = expression.trim();
    let expanded;
    let text = if trimmed.starts_with('@') {
        expanded = presets::expand(trimmed)?;
        expanded
    } else {
        trimmed
    };
    let parts: Vec<&str> = text.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(ParseError::FieldCount(parts.len()));
    }
    Ok(Fields {
        minutes: parse_field(parts[0], FieldKind::Minute)?,
        hours: parse_field(parts[1], FieldKind::Hour)?,
        days_of_month: parse_field(parts[2], FieldKind::DayOfMonth)?,
        months: parse_field(parts[3], FieldKind::Month)?,
        days_of_week: parse_field(parts[4], FieldKind::DayOfWeek)?,
    })
}
