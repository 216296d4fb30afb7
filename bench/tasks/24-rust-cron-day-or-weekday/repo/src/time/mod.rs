//! Naive calendar dates and times (no time zones).

mod calendar;
mod date;
mod datetime;

pub use calendar::{weekday, Weekday};
pub use date::Date;
pub use datetime::DateTime;
