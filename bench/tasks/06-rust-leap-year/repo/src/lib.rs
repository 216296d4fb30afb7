//! Small Gregorian calendar helpers without external dependencies.

/// Returns true if `year` is a leap year in the Gregorian calendar.
pub fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && year % 100 != 0
}

/// Number of days in `month` (1-12) of `year`.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => panic!("invalid month {month}"),
    }
}

/// Day of the year, 1-based (January 1st is day 1).
pub fn day_of_year(year: i32, month: u32, day: u32) -> u32 {
    let before: u32 = (1..month).map(|m| days_in_month(year, m)).sum();
    before + day
}

/// Number of days in `year`.
pub fn days_in_year(year: i32) -> u32 {
    if is_leap_year(year) {
        366
    } else {
        365
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_years() {
        assert!(!is_leap_year(2023));
        assert!(!is_leap_year(1900));
        assert_eq!(days_in_month(2023, 2), 28);
    }

    #[test]
    fn day_numbers() {
        assert_eq!(day_of_year(2023, 1, 1), 1);
        assert_eq!(day_of_year(2023, 3, 1), 60);
        assert_eq!(day_of_year(2024, 3, 1), 61);
    }
}
