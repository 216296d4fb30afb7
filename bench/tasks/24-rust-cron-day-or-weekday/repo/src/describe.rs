//! A short English description of a schedule, for log messages and UIs.

use crate::display::compress;
use crate::parse::names::{day_name, month_name};
use crate::schedule::Schedule;

fn join_or(words: Vec<String>) -> String {
    match words.len() {
        0 => String::new(),
        1 => words[0].clone(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

fn time_part(s: &Schedule) -> String {
    let (minutes, hours) = (s.minutes().values(), s.hours().values());
    if minutes.len() == 1 && hours.len() == 1 {
        format!("at {:02}:{:02}", hours[0], minutes[0])
    } else if s.minutes().is_full() && s.hours().is_full() {
        "every minute".to_string()
    } else if minutes.len() == 1 && s.hours().is_full() {
        format!("at minute {} of every hour", minutes[0])
    } else {
        format!("at minute {} of hour {}", compress(&minutes), compress(&hours))
    }
}

fn day_part(s: &Schedule) -> String {
    let dom = format!("on day {} of the month", compress(&s.days_of_month().values()));
    let dow = format!("on {}", join_or(s.days_of_week().values().into_iter().map(|d| day_name(d).to_string()).collect()));
    // crontab(5): when both day fields are restricted, either one matching is enough.
    match (s.days_of_month().is_wildcard(), s.days_of_week().is_wildcard()) {
        (true, true) => "every day".to_string(),
        (false, true) => dom,
        (true, false) => dow,
        (false, false) => format!("{dom} or {dow}"),
    }
}

/// `describe(&"30 4 1,15 * 5".parse()?)` == "at 04:30, on day 1,15 of the month or on Friday".
pub fn describe(schedule: &Schedule) -> String {
    let mut text = format!("{}, {}", time_part(schedule), day_part(schedule));
    if !schedule.months().is_full() {
        let months: Vec<String> = schedule.months().values().into_iter().map(|m| month_name(m).to_string()).collect();
        text.push_str(&format!(", in {}", join_or(months)));
    }
    text
}
