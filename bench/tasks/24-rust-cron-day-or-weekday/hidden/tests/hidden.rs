use cronlite::{DateTime, Schedule};

fn t(text: &str) -> DateTime {
    text.parse().unwrap()
}

fn upcoming(expr: &str, after: &str, n: usize) -> Vec<String> {
    Schedule::parse(expr).unwrap().upcoming(t(after)).take(n).map(|t| t.to_string()).collect()
}

#[test]
fn issue_example_first_and_fifteenth_plus_fridays() {
    let s = Schedule::parse("30 4 1,15 * 5").unwrap();
    assert_eq!(s.next_after(t("2024-03-02 00:00")), Some(t("2024-03-08 04:30")));
    assert_eq!(
        upcoming("30 4 1,15 * 5", "2024-03-02 00:00", 6),
        vec![
            "2024-03-08 04:30",
            "2024-03-15 04:30",
            "2024-03-22 04:30",
            "2024-03-29 04:30",
            "2024-04-01 04:30",
            "2024-04-05 04:30",
        ]
    );
}

#[test]
fn thirteenth_or_friday() {
    assert_eq!(Schedule::parse("0 12 13 * 5").unwrap().next_after(t("2024-03-01 00:00")), Some(t("2024-03-01 12:00")));
    assert_eq!(
        upcoming("0 12 13 * FRI", "2024-03-01 12:00", 3),
        vec!["2024-03-08 12:00", "2024-03-13 12:00", "2024-03-15 12:00"]
    );
}

#[test]
fn matches_either_day_field() {
    let s = Schedule::parse("0 12 13 * 5").unwrap();
    assert!(s.matches(t("2024-03-13 12:00"))); // a Wednesday, but the 13th
    assert!(s.matches(t("2024-03-22 12:00"))); // a Friday, but not the 13th
    assert!(!s.matches(t("2024-03-14 12:00")));
    assert!(!s.matches(t("2024-03-22 12:01")));
}

#[test]
fn first_of_month_and_mondays() {
    assert_eq!(
        upcoming("0 0 1 * MON", "2023-12-31 00:00", 7),
        vec![
            "2024-01-01 00:00",
            "2024-01-08 00:00",
            "2024-01-15 00:00",
            "2024-01-22 00:00",
            "2024-01-29 00:00",
            "2024-02-01 00:00",
            "2024-02-05 00:00",
        ]
    );
}

#[test]
fn month_still_restricts_both_day_fields() {
    assert_eq!(
        upcoming("0 0 1 6 MON", "2024-01-01 00:00", 4),
        vec!["2024-06-01 00:00", "2024-06-03 00:00", "2024-06-10 00:00", "2024-06-17 00:00"]
    );
}

#[test]
fn only_one_day_field_restricted_is_unchanged() {
    assert_eq!(
        upcoming("0 9 * * 1", "2024-01-01 09:00", 3),
        vec!["2024-01-08 09:00", "2024-01-15 09:00", "2024-01-22 09:00"]
    );
    assert_eq!(
        upcoming("0 0 15 * *", "2024-01-01 00:00", 3),
        vec!["2024-01-15 00:00", "2024-02-15 00:00", "2024-03-15 00:00"]
    );
    assert_eq!(Schedule::parse("0 0 30 2 *").unwrap().next_after(t("2024-01-01 00:00")), None);
}
