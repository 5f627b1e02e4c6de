//! The ended visit days whose visits are still to be stored while the lifecycle
//! catches up (after an import, or a collector stopped for days). Until a day's
//! visits are stored, every query over it groups its events into visits again,
//! seconds of both cores a day; a dashboard asking over many such days at once only
//! runs into its deadline and takes the cores the storing needs. So a query that
//! reaches more than [`MOST_WAITING`] of them is refused at once, saying why, and
//! asked again once they are stored (about two seconds of one core a day of
//! 334,000 events). The lifecycle says which days wait; the engine only reads it.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{NaiveDate, NaiveDateTime};

/// The waiting days a query may reach and still be answered: the day just ended
/// (and one more after a short stop) is answered from its events as always.
pub const MOST_WAITING: usize = 2;

#[derive(Debug, Clone, Default)]
pub struct Backlog(Arc<Mutex<Vec<NaiveDate>>>);

impl Backlog {
    /// The days whose visits wait now.
    pub fn set(&self, days: impl IntoIterator<Item = NaiveDate>) {
        let mut waiting = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.clear();
        waiting.extend(days);
    }

    /// How many waiting days lie in `[from, to)` (UTC), if more than
    /// [`MOST_WAITING`].
    pub fn too_many(&self, from: NaiveDateTime, to: NaiveDateTime) -> Option<usize> {
        let waiting = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = waiting
            .iter()
            .filter(|day| {
                let start = day.and_time(chrono::NaiveTime::MIN);
                start < to && start + chrono::Duration::days(1) > from
            })
            .count();
        (n > MOST_WAITING).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap_or_default()
    }

    fn at(d: u32) -> NaiveDateTime {
        day(d).and_time(chrono::NaiveTime::MIN)
    }

    #[test]
    fn only_a_query_over_many_waiting_days_is_refused() {
        let backlog = Backlog::default();
        assert_eq!(backlog.too_many(at(1), at(31)), None);
        backlog.set((1..=10).map(day));
        assert_eq!(backlog.too_many(at(1), at(31)), Some(10));
        // The last two waiting days, and days none of which wait.
        assert_eq!(backlog.too_many(at(9), at(12)), None);
        assert_eq!(backlog.too_many(at(11), at(31)), None);
        // A range that starts inside a day reaches it.
        let noon = day(8).and_hms_opt(12, 0, 0).unwrap_or_default();
        assert_eq!(backlog.too_many(noon, at(12)), Some(3));
        backlog.set([]);
        assert_eq!(backlog.too_many(at(1), at(31)), None);
    }

    #[test]
    fn a_refusal_says_why_in_a_code() {
        let refused = crate::query::QueryError::Preparing(10);
        assert_eq!(refused.status(), 503);
        assert_eq!(refused.code(), Some(crate::query::PREPARING));
        assert!(refused.to_string().contains("10 days"), "{refused}");
    }
}
