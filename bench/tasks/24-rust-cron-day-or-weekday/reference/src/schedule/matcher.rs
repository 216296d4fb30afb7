use super::Schedule;
use crate::time::Date;

/// Whether the schedule can fire on this date (month, day of month and day of week).
pub(crate) fn day_matches(schedule: &Schedule, date: Date) -> bool {
    if !schedule.months.contains(date.month) {
        return false;
    }
    let day_of_month = schedule.days_of_month.contains(date.day);
    let day_of_week = schedule.days_of_week.contains(date.weekday());
    // crontab(5): when both day fields are restricted (not `*`), either one matching is enough.
    if schedule.days_of_month.is_wildcard() || schedule.days_of_week.is_wildcard() {
        day_of_month && day_of_week
    } else {
        day_of_month || day_of_week
    }
}
