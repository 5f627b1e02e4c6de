//! Sealing: once every visit that began on a day has ended, the query engine's own
//! answers over those visits are stored as visit partials (per site and property
//! value, whole and per day their events fall on), so stats queries over many days
//! read them instead of grouping the events again ([`crate::query::partials`]).
//! Because they are the engine's answers, restricted to one day's visits, they
//! agree with the events by construction. They hold no visitor or session id and
//! expire with the events.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use crate::query::partials::STORED;
use crate::query::{Backend, Dimension, Granularity, PROPS, Query, VisitDays};
use crate::store::{PartialRow, Store, StoreError};

/// Time allowed for an accepted event to reach the database (queue and batch).
const IN_FLIGHT: chrono::Duration = chrono::Duration::minutes(1);

/// Seals, in order, every visit day from `events_from` up to yesterday whose visits
/// have all ended: no event for `session_timeout` (plus the time an event spends in
/// flight). Days without events between sealed ones are sealed empty, so queries
/// can read across them. Returns the days sealed.
pub fn seal(
    store: &mut dyn Store,
    reader: &dyn Backend,
    now: DateTime<Utc>,
    session_timeout: chrono::Duration,
    events_from: NaiveDate,
) -> Result<Vec<NaiveDate>, StoreError> {
    let today = now.date_naive();
    let quiet_before = (now - session_timeout - IN_FLIGHT).timestamp_micros();
    let pending = store.pending_visit_days(events_from, today)?;
    let mut sealed = Vec::new();
    let mut previous = store.last_sealed_day()?;
    let mut i = 0;
    while i < pending.len() {
        let day = pending[i].0;
        let sites: Vec<&(NaiveDate, String, i64)> =
            pending[i..].iter().take_while(|p| p.0 == day).collect();
        i += sites.len();
        let latest = sites.iter().map(|p| p.2).max().unwrap_or(i64::MAX);
        if latest >= quiet_before {
            // A visit may still go on; later days wait for this one.
            break;
        }
        let last_day = DateTime::from_timestamp_micros(latest)
            .map_or(day, |t| t.date_naive())
            .max(day);
        let mut rows = Vec::new();
        for (_, site, _) in sites {
            partial_rows(reader, site, day, last_day, &mut rows)?;
        }
        // Days before this one without any event: nothing to store, but sealed, so
        // that queries can read the days around them from partials.
        if let Some(previous) = previous {
            let mut gap = (previous + Days::new(1)).max(events_from);
            while gap < day {
                store.seal_visit_day(gap, gap, &[])?;
                gap = gap + Days::new(1);
            }
        }
        store.seal_visit_day(day, last_day, &rows)?;
        sealed.push(day);
        previous = Some(day);
    }
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
    let properties = std::iter::once(None).chain(PROPS.iter().map(Some));
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
                metrics: STORED.to_vec(),
                dimensions,
                filters: Vec::new(),
                order_by: Vec::new(),
                limit: u64::MAX,
                offset: 0,
                offsets: Vec::new(),
                visits: VisitDays::Only(day, day),
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
