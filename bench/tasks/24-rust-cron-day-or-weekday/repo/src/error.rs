use std::fmt;

use crate::field::FieldKind;

/// Why an expression could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The expression does not have five fields.
    FieldCount(usize),
    /// An empty item, e.g. in `1,,2`.
    Empty(FieldKind),
    /// A value that is neither a number nor a known name.
    InvalidValue(FieldKind, String),
    /// A value outside the field's range.
    OutOfRange(FieldKind, u32),
    /// A range whose start is after its end, e.g. `5-1`.
    InvalidRange(FieldKind, String),
    /// A step that is not a positive number.
    InvalidStep(FieldKind, String),
    /// An `@preset` we don't know.
    UnknownPreset(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::FieldCount(n) => write!(f, "expected 5 fields, found {n}"),
            ParseError::Empty(kind) => write!(f, "{kind}: empty value"),
            ParseError::InvalidValue(kind, text) => write!(f, "{kind}: invalid value {text:?}"),
            ParseError::OutOfRange(kind, value) => {
                write!(f, "{kind}: {value} is out of range {}-{}", kind.min(), kind.max())
            }
            ParseError::InvalidRange(kind, text) => write!(f, "{kind}: invalid range {text:?}"),
            ParseError::InvalidStep(kind, text) => write!(f, "{kind}: invalid step {text:?}"),
            ParseError::UnknownPreset(name) => write!(f, "unknown preset {name:?}"),
        }
    }
}

impl std::error::Error for ParseError {}
