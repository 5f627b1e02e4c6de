//! The data lifecycle: what keeps the store anonymous over time, and what the
//! engine precomputes on the way.
//!
//! Each ended day is rolled up once into anonymous daily aggregates (no visitor or
//! session id; rows under the minimum crowd size folded into `(other)`). Pseudonymous
//! events are then expired after their retention, aggregates after theirs, both in a
//! way that removes the bytes from the file (see the store). Each visit day whose
//! visits have all ended is sealed: the query engine's answers over its visits are
//! kept as visit partials until the events expire ([`partials`]). A destroyed
//! salt is compacted out of the file. All of it runs on the writer thread, which
//! alone holds the store, as the writer's [`chores`]: this room decides what is
//! due and when, the store does each step.

pub mod chores;
pub mod partials;

use chrono::NaiveDate;

use crate::config::Lifecycle;
use crate::store::{Store, StoreError};

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub days_rolled_up: Vec<NaiveDate>,
    pub events_expired: u64,
    pub aggregates_expired: u64,
}

/// Rolls up every ended day not yet rolled up, then expires what is past retention.
/// Rolling up comes first, so a day expires with its aggregates in place. Should a
/// roll-up fail (it is retried every run, and logged), expiry still runs: the
/// retention promise outranks the statistics, so a day whose roll-up failed for the
/// whole retention window expires without aggregates, with a warning. The roll-up's
/// error is returned after. Sealing visit days is [`partials`]' ([`chores`] take it a
/// day at a time).
pub fn run(
    store: &mut dyn Store,
    policy: &Lifecycle,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Report, StoreError> {
    run_rolling_up_before(store, policy, now, now.date_naive())
}

/// As [`run`], but rolls up only the days whose events expire now; the other ended
/// days are left for the [`chores`]' steps. Queries read a day's aggregates only once its
/// events have expired, so on a first start with many days to do (an import) the
/// cores go to the sealing that queries wait for, not to aggregates nobody reads yet.
pub fn run_expiring(
    store: &mut dyn Store,
    policy: &Lifecycle,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Report, StoreError> {
    run_rolling_up_before(store, policy, now, policy.events_from(now.date_naive()))
}

fn run_rolling_up_before(
    store: &mut dyn Store,
    policy: &Lifecycle,
    now: chrono::DateTime<chrono::Utc>,
    before: NaiveDate,
) -> Result<Report, StoreError> {
    let today = now.date_naive();
    let mut report = Report::default();
    // Days follow the clock: if it went back, the days it has not reached again
    // are open once more, and what was rolled up or sealed for them is redone
    // when they end.
    let rolled_up = store
        .unroll_from(today, policy.future_from(today))
        .and_then(|reopened| {
        if reopened > 0 {
            tracing::warn!(
                from = %today,
                days = reopened,
                "the clock went back: days from today on are rolled up and sealed again once they end"
            );
        }
        roll_up(store, policy, today, before, &mut report)
    });
    if rolled_up.is_err() {
        warn_of_unrolled_expiry(store, policy.events_from(today), today);
    }
    let expired = expire(store, policy, today, &mut report);
    rolled_up.and(expired).map(|()| report)
}

/// Days are rolled up in order; the first failure stops the run (the next days
/// would most likely fail the same way: a full disk, too little memory).
fn roll_up(
    store: &mut dyn Store,
    policy: &Lifecycle,
    today: NaiveDate,
    before: NaiveDate,
    report: &mut Report,
) -> Result<(), StoreError> {
    for day in store
        .pending_rollup_days(today)?
        .into_iter()
        .filter(|day| *day < before)
    {
        store.roll_up_day(day, policy.min_crowd)?;
        report.days_rolled_up.push(day);
    }
    Ok(())
}

fn warn_of_unrolled_expiry(store: &mut dyn Store, events_from: NaiveDate, today: NaiveDate) {
    let lost = store
        .pending_rollup_days(today)
        .unwrap_or_default()
        .into_iter()
        .filter(|day| *day < events_from)
        .collect::<Vec<_>>();
    if let (Some(first), Some(last)) = (lost.first(), lost.last()) {
        tracing::warn!(
            "{} day(s) from {first} to {last} reached the end of their retention without \
             a roll-up: their events expire without aggregates",
            lost.len()
        );
    }
}

fn expire(
    store: &mut dyn Store,
    policy: &Lifecycle,
    today: NaiveDate,
    report: &mut Report,
) -> Result<(), StoreError> {
    report.events_expired = store.expire_events(
        policy.events_from(today),
        policy.future_from(today),
        policy.min_crowd,
    )?;
    report.aggregates_expired = store.expire_aggregates(policy.aggregates_from(today))?;
    if report.events_expired + report.aggregates_expired > 0 {
        // A DELETE leaves the rows' bytes in the file; compaction removes them.
        store.compact()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_windows() {
        let policy = Lifecycle::default();
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default();
        assert_eq!(policy.events_from(today).to_string(), "2026-10-26");
        assert_eq!(policy.aggregates_from(today).to_string(), "2024-10-25");
    }
}
