pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Day of the week as in cron: 0 = Sunday ... 6 = Saturday.
pub type Weekday = u32;

/// The day of the week of a date (Sakamoto's method, proleptic Gregorian calendar).
pub fn weekday(year: i32, month: u32, day: u32) -> Weekday {
    const OFFSETS: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if month < 3 { year - 1 } else { year };
    let w = (y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400) + OFFSETS[month as usize - 1] + day as i32)
        .rem_euclid(7);
    w as Weekday
}
