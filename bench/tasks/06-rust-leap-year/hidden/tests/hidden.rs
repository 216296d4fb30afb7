use caldate::{day_of_year, days_in_month, days_in_year, is_leap_year};

#[test]
fn divisible_by_400_is_leap() {
    assert!(is_leap_year(2000));
    assert!(is_leap_year(2400));
    assert!(is_leap_year(1600));
}

#[test]
fn centuries_not_leap() {
    assert!(!is_leap_year(1900));
    assert!(!is_leap_year(2100));
}

#[test]
fn regular_leap_years() {
    assert!(is_leap_year(2024));
    assert!(!is_leap_year(2023));
}

#[test]
fn year_2000_calendar() {
    assert_eq!(days_in_month(2000, 2), 29);
    assert_eq!(day_of_year(2000, 12, 31), 366);
    assert_eq!(days_in_year(2000), 366);
    assert_eq!(days_in_year(1900), 365);
}
