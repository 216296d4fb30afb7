use super::names::value_of;
use crate::error::ParseError;
use crate::field::FieldKind;

/// `a-b` (inclusive) or a single value `a` (returned as `(a, a)`).
pub(crate) fn parse_range(text: &str, kind: FieldKind) -> Result<(u32, u32), ParseError> {
    match text.split_once('-') {
        Some((start, end)) => {
            let start = value_of(start, kind)?;
            let end = value_of(end, kind)?;
            if start > end {
                return Err(ParseError::InvalidRange(kind, text.to_string()));
            }
            Ok((start, end))
        }
        None => {
            let value = value_of(text, kind)?;
            Ok((value, value))
        }
    }
}
