use super::matcher::day_matches;
use super::Schedule;
use crate::time::DateTime;

/// How far ahead we look before giving up. Long enough for `0 0 29 2 *` across a skipped leap year.
const MAX_DAYS: u32 = 366 * 9;

pub(crate) fn next_after(schedule: &Schedule, after: DateTime) -> Option<DateTime> {
    let start = after.next_minute();
    let mut date = start.date;
    for offset in 0..MAX_DAYS {
        if day_matches(schedule, date) {
            let (hour, minute) = if offset == 0 { (start.hour, start.minute) } else { (0, 0) };
            if let Some((h, m)) = first_time_on_day(schedule, hour, minute) {
                return Some(DateTime::from_date(date, h, m));
            }
        }
        date = date.succ();
    }
    None
}

/// The first allowed hour:minute at or after `hour:minute` on a matching day.
fn first_time_on_day(schedule: &Schedule, hour: u32, minute: u32) -> Option<(u32, u32)> {
    let mut h = schedule.hours.first_at_or_after(hour)?;
    loop {
        let from = if h == hour { minute } else { 0 };
        if let Some(m) = schedule.minutes.first_at_or_after(from) {
            return Some((h, m));
        }
        h = schedule.hours.first_at_or_after(h + 1)?;
    }
}
