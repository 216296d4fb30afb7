use crate::error::ParseError;
use crate::field::FieldKind;

/// Splits `base/step`. Returns the base and the step (1 when there is none).
pub(crate) fn split_step(item: &str, kind: FieldKind) -> Result<(&str, Option<u32>), ParseError> {
    match item.split_once('/') {
        None => Ok((item, None)),
        Some((base, step)) => match step.parse::<u32>() {
            Ok(n) if n > 0 => Ok((base, Some(n))),
            _ => Err(ParseError::InvalidStep(kind, step.to_string())),
        },
    }
}
