use std::fmt;
use std::str::FromStr;

use super::date::Date;

/// A date and a time of day with minute precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    pub date: Date,
    pub hour: u32,
    pub minute: u32,
}

impl DateTime {
    pub fn new(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> Option<DateTime> {
        if hour > 23 || minute > 59 {
            return None;
        }
        Some(DateTime { date: Date::new(year, month, day)?, hour, minute })
    }

    pub fn from_date(date: Date, hour: u32, minute: u32) -> DateTime {
        DateTime { date, hour, minute }
    }

    /// One minute later.
    pub fn next_minute(self) -> DateTime {
        if self.minute < 59 {
            DateTime { minute: self.minute + 1, ..self }
        } else if self.hour < 23 {
            DateTime { hour: self.hour + 1, minute: 0, ..self }
        } else {
            DateTime { date: self.date.succ(), hour: 0, minute: 0 }
        }
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:02}:{:02}", self.date, self.hour, self.minute)
    }
}

/// Parses `2024-03-01 12:30` or `2024-03-01T12:30`.
impl FromStr for DateTime {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid date and time {text:?}, expected YYYY-MM-DD HH:MM");
        let (date, time) = text.trim().split_once([' ', 'T']).ok_or_else(bad)?;
        let mut d = date.splitn(3, '-');
        let (year, month, day) = (d.next().ok_or_else(bad)?, d.next().ok_or_else(bad)?, d.next().ok_or_else(bad)?);
        let (hour, minute) = time.split_once(':').ok_or_else(bad)?;
        let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
        DateTime::new(year.parse::<i32>().map_err(|_| bad())?, num(month)?, num(day)?, num(hour)?, num(minute)?)
            .ok_or_else(bad)
    }
}
