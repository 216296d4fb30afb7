use crate::error::ParseError;
use crate::field::FieldKind;

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A single value: a number, or a month/day name in the fields that have names. Checks the range.
pub(crate) fn value_of(token: &str, kind: FieldKind) -> Result<u32, ParseError> {
    if token.is_empty() {
        return Err(ParseError::Empty(kind));
    }
    let value = if token.bytes().all(|b| b.is_ascii_digit()) {
        token.parse::<u32>().map_err(|_| ParseError::InvalidValue(kind, token.to_string()))?
    } else {
        name_value(token, kind).ok_or_else(|| ParseError::InvalidValue(kind, token.to_string()))?
    };
    if value < kind.min() || value > kind.max() {
        return Err(ParseError::OutOfRange(kind, value));
    }
    Ok(value)
}

fn name_value(token: &str, kind: FieldKind) -> Option<u32> {
    let upper = token.to_ascii_uppercase();
    match kind {
        FieldKind::Month => MONTHS.iter().position(|m| *m == upper).map(|i| i as u32 + 1),
        FieldKind::DayOfWeek => DAYS.iter().position(|d| *d == upper).map(|i| i as u32),
        _ => None,
    }
}

pub(crate) fn month_name(month: u32) -> &'static str {
    const LONG: [&str; 12] = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ];
    LONG[(month as usize - 1) % 12]
}

pub(crate) fn day_name(day: u32) -> &'static str {
    const LONG: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    LONG[day as usize % 7]
}
