use super::Schedule;
use crate::time::DateTime;

/// Iterator over a schedule's run times, see [`Schedule::upcoming`].
pub struct Upcoming<'a> {
    schedule: &'a Schedule,
    last: DateTime,
    done: bool,
}

impl<'a> Upcoming<'a> {
    pub(crate) fn new(schedule: &'a Schedule, after: DateTime) -> Self {
        Upcoming { schedule, last: after, done: false }
    }
}

impl Iterator for Upcoming<'_> {
    type Item = DateTime;

    fn next(&mut self) -> Option<DateTime> {
        if self.done {
            return None;
        }
        match self.schedule.next_after(self.last) {
            Some(next) => {
                self.last = next;
                Some(next)
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}
