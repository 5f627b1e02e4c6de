//! Sealing: once every visit that began on a day has ended, its visits are stored,
//! one row each (the day is then sealed, and queries read them as they are), then
//! its exact pairs, and the query engine's own answers over those visits as visit
//! partials (per site and property value, whole and per day their events fall on),
//! so stats queries over many days read a few thousand rows
//! ([`crate::query::partials`]).
//! Because they are the engine's answers, restricted to one day's visits, they
//! agree with the events by construction. They hold no visitor or session id and
//! expire with the events.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use crate::query::combine::VISIT_SUMS;
use crate::query::{Backend, Dimension, Granularity, PROPS, Query, VisitDays};
use crate::store::{PartialRow, Store, StoreError};

/// Time allowed for an accepted event to reach the database (queue and batch).
const IN_FLIGHT: chrono::Duration = chrono::Duration::minutes(1);

/// A visit day ready to be sealed: its visits' latest event fell on `last_day`;
/// `sites` had visits that day (none: a day without events, sealed empty so that
/// queries can read across it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub day: NaiveDate,
    pub last_day: NaiveDate,
    pub sites: Vec<String>,
}

/// The visit days to seal next, in order: from the day after the last sealed one
/// (not before `events_from`) up to yesterday, while their visits have all ended,
/// no event for `session_timeout` (plus the time an event spends in flight). Days
/// must be sealed in this order: a later day waits for an earlier one.
pub fn pending(
    store: &mut dyn Store,
    now: DateTime<Utc>,
    session_timeout: chrono::Duration,
    events_from: NaiveDate,
) -> Result<Vec<Pending>, StoreError> {
    let quiet_before = (now - session_timeout - IN_FLIGHT).timestamp_micros();
    let rows = store.pending_visit_days(events_from, now.date_naive())?;
    let mut previous = store.last_sealed_day()?;
    let mut out = Vec::new();
    for of_day in rows.chunk_by(|a, b| a.0 == b.0) {
        let Some(&(day, _, _)) = of_day.first() else {
            continue;
        };
        let latest = of_day.iter().map(|p| p.2).max().unwrap_or(i64::MAX);
        if latest >= quiet_before {
            break;
        }
        if let Some(previous) = previous {
            let mut gap = (previous + Days::new(1)).max(events_from);
            while gap < day {
                out.push(Pending {
                    day: gap,
                    last_day: gap,
                    sites: Vec::new(),
                });
                gap = gap + Days::new(1);
            }
        }
        out.push(Pending {
            day,
            last_day: DateTime::from_timestamp_micros(latest)
                .map_or(day, |t| t.date_naive())
                .max(day),
            sites: of_day.iter().map(|p| p.1.clone()).collect(),
        });
        previous = Some(day);
    }
    Ok(out)
}

/// The sealed days from `events_from` on whose visits are stored but not yet their
/// partials, in order.
pub fn without_partials(
    store: &mut dyn Store,
    events_from: NaiveDate,
) -> Result<Vec<Pending>, StoreError> {
    let rows = store.days_without_partials(events_from)?;
    Ok(rows
        .chunk_by(|a, b| a.0 == b.0)
        .filter_map(|of_day| {
            let &(day, last_day, _) = of_day.first()?;
            Some(Pending {
                day,
                last_day,
                sites: of_day.iter().filter_map(|r| r.2.clone()).collect(),
            })
        })
        .collect())
}

/// The partials of one pending day: the engine's answers over the day's stored
/// visits (stored first: [`Store::store_visits`]), read through `reader`. About
/// fifty queries per site, so the writer has it done on a thread of its own and
/// only [`store`]s the result.
pub fn compute(reader: &dyn Backend, day: &Pending) -> Result<Vec<PartialRow>, StoreError> {
    let mut rows = Vec::new();
    for site in &day.sites {
        partial_rows(reader, site, day.day, day.last_day, &mut rows)?;
    }
    Ok(rows)
}

/// Stores a computed day and marks it sealed, unless its events have expired
/// meanwhile (`events_from`): partials never outlive their events.
pub fn store(
    store: &mut dyn Store,
    day: &Pending,
    rows: &[PartialRow],
    events_from: NaiveDate,
) -> Result<bool, StoreError> {
    if day.day < events_from {
        return Ok(false);
    }
    store.seal_visit_day(day.day, day.last_day, rows)?;
    Ok(true)
}

/// Seals every pending day at once, on this thread: visits first, then partials,
/// then the exact pairs, in the writer's order (tests and benchmarks; the writer
/// splits the work with its sealer thread).
pub fn seal(
    store: &mut dyn Store,
    reader: &dyn Backend,
    now: DateTime<Utc>,
    session_timeout: chrono::Duration,
    events_from: NaiveDate,
) -> Result<Vec<NaiveDate>, StoreError> {
    seal_in_steps(store, reader, now, session_timeout, events_from, |_| ())
}

/// [`seal`], calling `after` with each step's name ("visits", "partials", "pairs")
/// once that step is done for every day (a benchmark times the steps).
pub fn seal_in_steps(
    store: &mut dyn Store,
    reader: &dyn Backend,
    now: DateTime<Utc>,
    session_timeout: chrono::Duration,
    events_from: NaiveDate,
    mut after: impl FnMut(&'static str),
) -> Result<Vec<NaiveDate>, StoreError> {
    let mut sealed = Vec::new();
    for day in pending(store, now, session_timeout, events_from)? {
        store.store_visits(day.day, day.last_day)?;
    }
    after("visits");
    for day in without_partials(store, events_from)? {
        let rows = compute(reader, &day)?;
        if self::store(store, &day, &rows, events_from)? {
            sealed.push(day.day);
        }
    }
    after("partials");
    for day in store.days_without_pairs(events_from)? {
        store.store_pairs(day)?;
    }
    after("pairs");
    Ok(sealed)
}

/// The engine's answers for the visits of `site` that began on `day`: totals and
/// every property, over the visits whole and per day their events fall on.
fn partial_rows(
    reader: &dyn Backend,
    site: &str,
    day: NaiveDate,
    last_day: NaiveDate,
    out: &mut Vec<PartialRow>,
) -> Result<(), StoreError> {
    let from = day.and_time(NaiveTime::MIN);
    let to = (last_day + Days::new(1)).and_time(NaiveTime::MIN);
    // Custom properties are open-ended: queries naming one read the visits.
    let properties = std::iter::once(None).chain(PROPS.iter().filter(|p| !p.is_custom()).map(Some));
    for prop in properties {
        for by_day in [false, true] {
            let mut dimensions = Vec::new();
            if by_day {
                dimensions.push(Dimension::Time(Granularity::Day));
            }
            dimensions.extend(prop.map(Dimension::Prop));
            let q = Query {
                site: site.to_owned(),
                from,
                to,
                metrics: VISIT_SUMS.to_vec(),
                dimensions,
                filters: Vec::new(),
                order_by: Vec::new(),
                limit: u64::MAX,
                offset: 0,
                offsets: Vec::new(),
                visits: VisitDays::Only(day, day),
                stored_visits: Some((day, day)),
                custom_keys: Vec::new(),
            };
            let rows = reader
                .run(&q)
                .map_err(|e| StoreError::Partials(e.to_string()))?;
            for row in rows {
                let mut labels = row.dimensions.into_iter();
                let bucket = if by_day {
                    let label = labels.next().unwrap_or_default();
                    Some(label.parse::<NaiveDate>().map_err(|_| {
                        StoreError::Partials(format!("time bucket {label:?} is no date"))
                    })?)
                } else {
                    None
                };
                let mut sums = [0i64; 8];
                for (sum, value) in sums.iter_mut().zip(&row.metrics) {
                    *sum = value.as_i64().unwrap_or(0);
                }
                out.push(PartialRow {
                    site: site.to_owned(),
                    visit_day: day,
                    bucket,
                    property: prop.map_or("", |p| p.name),
                    value: labels.next().unwrap_or_default(),
                    sums,
                });
            }
        }
    }
    Ok(())
}
