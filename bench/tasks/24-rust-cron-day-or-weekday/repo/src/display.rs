//! `Display` for fields and schedules: a normalised expression, e.g. `0 9 * * 1-5`.

use std::fmt;

use crate::field::FieldSet;
use crate::schedule::Schedule;

/// Compresses sorted values into `a-b` runs: [1, 2, 3, 5] -> "1-3,5".
pub(crate) fn compress(values: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let start = values[i];
        let mut end = start;
        while i + 1 < values.len() && values[i + 1] == end + 1 {
            i += 1;
            end = values[i];
        }
        parts.push(match end - start {
            0 => start.to_string(),
            1 => format!("{start},{end}"),
            _ => format!("{start}-{end}"),
        });
        i += 1;
    }
    parts.join(",")
}

impl fmt::Display for FieldSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_full() {
            f.write_str("*")
        } else {
            f.write_str(&compress(&self.values()))
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}",
            self.minutes(),
            self.hours(),
            self.days_of_month(),
            self.months(),
            self.days_of_week()
        )
    }
}
