//! A parsed schedule and the search for its run times.

mod iter;
mod matcher;
mod search;

use std::str::FromStr;

use crate::error::ParseError;
use crate::field::FieldSet;
use crate::parse::parse_expression;
use crate::time::DateTime;

pub use iter::Upcoming;

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub(crate) minutes: FieldSet,
    pub(crate) hours: FieldSet,
    pub(crate) days_of_month: FieldSet,
    pub(crate) months: FieldSet,
    pub(crate) days_of_week: FieldSet,
    source: String,
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Schedule, ParseError> {
        let fields = parse_expression(expression)?;
        Ok(Schedule {
            minutes: fields.minutes,
            hours: fields.hours,
            days_of_month: fields.days_of_month,
            months: fields.months,
            days_of_week: fields.days_of_week,
            source: expression.trim().to_string(),
        })
    }

    /// The expression this schedule was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn minutes(&self) -> &FieldSet {
        &self.minutes
    }

    pub fn hours(&self) -> &FieldSet {
        &self.hours
    }

    pub fn days_of_month(&self) -> &FieldSet {
        &self.days_of_month
    }

    pub fn months(&self) -> &FieldSet {
        &self.months
    }

    pub fn days_of_week(&self) -> &FieldSet {
        &self.days_of_week
    }

    /// Whether the schedule fires at this minute.
    pub fn matches(&self, time: DateTime) -> bool {
        self.minutes.contains(time.minute) && self.hours.contains(time.hour) && matcher::day_matches(self, time.date)
    }

    /// The first time strictly after `after` at which the schedule fires, or `None` when it never does
    /// (e.g. `0 0 30 2 *`).
    pub fn next_after(&self, after: DateTime) -> Option<DateTime> {
        search::next_after(self, after)
    }

    /// Every run time after `after`, in order.
    pub fn upcoming(&self, after: DateTime) -> Upcoming<'_> {
        Upcoming::new(self, after)
    }
}

impl FromStr for Schedule {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Schedule::parse(text)
    }
}
