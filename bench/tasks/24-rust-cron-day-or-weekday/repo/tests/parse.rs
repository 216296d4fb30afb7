use cronlite::{FieldKind, ParseError, Schedule};

fn values(expr: &str, field: usize) -> Vec<u32> {
    let s = Schedule::parse(expr).unwrap();
    let set = match field {
        0 => s.minutes(),
        1 => s.hours(),
        2 => s.days_of_month(),
        3 => s.months(),
        _ => s.days_of_week(),
    };
    set.values()
}

#[test]
fn lists_ranges_and_steps() {
    assert_eq!(values("0,15,30 * * * *", 0), vec![0, 15, 30]);
    assert_eq!(values("* 9-12 * * *", 1), vec![9, 10, 11, 12]);
    assert_eq!(values("*/20 * * * *", 0), vec![0, 20, 40]);
    assert_eq!(values("* * 1-10/3 * *", 2), vec![1, 4, 7, 10]);
    assert_eq!(values("50/5 * * * *", 0), vec![50, 55]);
}

#[test]
fn names_are_case_insensitive() {
    assert_eq!(values("0 0 * jan-Mar *", 3), vec![1, 2, 3]);
    assert_eq!(values("0 0 * * MON-fri", 4), vec![1, 2, 3, 4, 5]);
}

#[test]
fn seven_is_sunday() {
    assert_eq!(values("0 0 * * 7", 4), vec![0]);
    assert_eq!(values("0 0 * * 5-7", 4), vec![0, 5, 6]);
}

#[test]
fn presets() {
    assert_eq!(Schedule::parse("@daily").unwrap().to_string(), "0 0 * * *");
    assert_eq!(Schedule::parse("@weekly").unwrap().to_string(), "0 0 * * 0");
    assert_eq!(Schedule::parse("@HOURLY").unwrap().to_string(), "0 * * * *");
    assert_eq!(Schedule::parse("@fortnightly"), Err(ParseError::UnknownPreset("@fortnightly".into())));
}

#[test]
fn errors() {
    assert_eq!(Schedule::parse("* * * *"), Err(ParseError::FieldCount(4)));
    assert_eq!(Schedule::parse("60 * * * *"), Err(ParseError::OutOfRange(FieldKind::Minute, 60)));
    assert_eq!(Schedule::parse("* * 0 * *"), Err(ParseError::OutOfRange(FieldKind::DayOfMonth, 0)));
    assert_eq!(Schedule::parse("* * * * 8"), Err(ParseError::OutOfRange(FieldKind::DayOfWeek, 8)));
    assert_eq!(Schedule::parse("5-1 * * * *"), Err(ParseError::InvalidRange(FieldKind::Minute, "5-1".into())));
    assert_eq!(Schedule::parse("*/0 * * * *"), Err(ParseError::InvalidStep(FieldKind::Minute, "0".into())));
    assert_eq!(Schedule::parse("1,,2 * * * *"), Err(ParseError::Empty(FieldKind::Minute)));
    assert_eq!(Schedule::parse("* * * FOO *"), Err(ParseError::InvalidValue(FieldKind::Month, "FOO".into())));
    assert_eq!(
        Schedule::parse("* * * * 9").unwrap_err().to_string(),
        "day of week: 9 is out of range 0-7"
    );
}

#[test]
fn display_normalises() {
    assert_eq!(Schedule::parse("*/15 9-17 * * MON-FRI").unwrap().to_string(), "0,15,30,45 9-17 * * 1-5");
    assert_eq!(Schedule::parse("0 0 1,2,3,5 * 0,6").unwrap().to_string(), "0 0 1-3,5 * 0,6");
    assert_eq!(Schedule::parse("0 0 * * 0-7").unwrap().to_string(), "0 0 * * *");
}
