use cronlite::{weekday, Date, DateTime};

#[test]
fn weekdays() {
    assert_eq!(weekday(2024, 1, 1), 1); // Monday
    assert_eq!(weekday(2024, 2, 29), 4); // Thursday
    assert_eq!(weekday(2000, 1, 1), 6); // Saturday
    assert_eq!(weekday(2023, 12, 31), 0); // Sunday
}

#[test]
fn dates_are_validated() {
    assert!(Date::new(2024, 2, 29).is_some());
    assert!(Date::new(2023, 2, 29).is_none());
    assert!(Date::new(2100, 2, 29).is_none());
    assert!(Date::new(2024, 13, 1).is_none());
    assert!(DateTime::new(2024, 1, 1, 24, 0).is_none());
}

#[test]
fn succ_and_next_minute() {
    assert_eq!(Date::new(2024, 2, 28).unwrap().succ(), Date::new(2024, 2, 29).unwrap());
    assert_eq!(Date::new(2023, 12, 31).unwrap().succ(), Date::new(2024, 1, 1).unwrap());
    let t = DateTime::new(2023, 12, 31, 23, 59).unwrap();
    assert_eq!(t.next_minute(), DateTime::new(2024, 1, 1, 0, 0).unwrap());
}

#[test]
fn parse_and_display() {
    let t: DateTime = "2024-03-01 09:05".parse().unwrap();
    assert_eq!(t, DateTime::new(2024, 3, 1, 9, 5).unwrap());
    assert_eq!(t.to_string(), "2024-03-01 09:05");
    assert_eq!("2024-03-01T23:59".parse::<DateTime>().unwrap().to_string(), "2024-03-01 23:59");
    assert!("2024-02-30 10:00".parse::<DateTime>().is_err());
    assert!("yesterday".parse::<DateTime>().is_err());
}
