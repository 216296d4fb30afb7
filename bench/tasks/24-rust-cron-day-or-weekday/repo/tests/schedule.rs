use cronlite::{describe, DateTime, Schedule};

fn t(text: &str) -> DateTime {
    text.parse().unwrap()
}

fn upcoming(expr: &str, after: &str, n: usize) -> Vec<String> {
    Schedule::parse(expr).unwrap().upcoming(t(after)).take(n).map(|t| t.to_string()).collect()
}

#[test]
fn every_fifteen_minutes_on_weekdays() {
    let s: Schedule = "*/15 9-17 * * MON-FRI".parse().unwrap();
    assert_eq!(s.next_after(t("2024-03-01 10:07")), Some(t("2024-03-01 10:15")));
    assert_eq!(s.next_after(t("2024-03-01 17:45")), Some(t("2024-03-04 09:00")));
}

#[test]
fn next_is_strictly_after() {
    let s = Schedule::parse("30 12 * * *").unwrap();
    assert_eq!(s.next_after(t("2024-03-01 12:30")), Some(t("2024-03-02 12:30")));
    assert_eq!(s.next_after(t("2024-03-01 12:29")), Some(t("2024-03-01 12:30")));
}

#[test]
fn day_of_month_only() {
    assert_eq!(
        upcoming("0 0 31 * *", "2024-01-31 00:00", 3),
        vec!["2024-03-31 00:00", "2024-05-31 00:00", "2024-07-31 00:00"]
    );
}

#[test]
fn day_of_week_only() {
    assert_eq!(
        upcoming("0 9 * * MON", "2024-01-01 09:00", 3),
        vec!["2024-01-08 09:00", "2024-01-15 09:00", "2024-01-22 09:00"]
    );
    assert_eq!(upcoming("0 9 * * 7", "2024-01-01 00:00", 1), vec!["2024-01-07 09:00"]);
}

#[test]
fn leap_days() {
    assert_eq!(upcoming("0 0 29 2 *", "2024-03-01 00:00", 2), vec!["2028-02-29 00:00", "2032-02-29 00:00"]);
    assert_eq!(upcoming("0 0 29 2 *", "2096-03-01 00:00", 1), vec!["2104-02-29 00:00"]);
}

#[test]
fn impossible_schedules_end() {
    let s = Schedule::parse("0 0 30 2 *").unwrap();
    assert_eq!(s.next_after(t("2024-01-01 00:00")), None);
    assert_eq!(s.upcoming(t("2024-01-01 00:00")).count(), 0);
}

#[test]
fn matches_a_given_minute() {
    let s = Schedule::parse("*/10 8 * 3 *").unwrap();
    assert!(s.matches(t("2024-03-05 08:20")));
    assert!(!s.matches(t("2024-03-05 08:25")));
    assert!(!s.matches(t("2024-04-05 08:20")));
}

#[test]
fn descriptions() {
    assert_eq!(describe(&"0 9 * * MON-FRI".parse().unwrap()), "at 09:00, on Monday, Tuesday, Wednesday, Thursday or Friday");
    assert_eq!(describe(&"30 4 1,15 * 5".parse().unwrap()), "at 04:30, on day 1,15 of the month or on Friday");
    assert_eq!(describe(&"* * * * *".parse().unwrap()), "every minute, every day");
    assert_eq!(describe(&"5 * 1 1,7 *".parse().unwrap()), "at minute 5 of every hour, on day 1 of the month, in January or July");
}
