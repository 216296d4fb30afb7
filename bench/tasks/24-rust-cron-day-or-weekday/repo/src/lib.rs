//! Parse cron expressions and compute upcoming run times.
//!
//! ```
//! use cronlite::{DateTime, Schedule};
//! let s = Schedule::parse("0 9 * * MON").unwrap();
//! let next = s.next_after(DateTime::new(2024, 1, 1, 9, 0).unwrap()).unwrap();
//! assert_eq!(next.to_string(), "2024-01-08 09:00");
//! ```

mod bitset;
mod describe;
mod display;
mod error;
mod field;
mod parse;
mod schedule;
mod time;

pub use describe::describe;
pub use error::ParseError;
pub use field::{FieldKind, FieldSet};
pub use schedule::{Schedule, Upcoming};
pub use time::{weekday, Date, DateTime, Weekday};
