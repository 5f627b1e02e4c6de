//! A sealed visit day's exact pairs in DuckDB: its stored visits and its events read
//! with `sql/duckdb/rollup/pairs_*.sql`, counted in memory (`store::pairs`), appended as
//! Arrow columns, in the order queries filter them.

use std::sync::Arc;

use chrono::NaiveDate;
use duckdb::arrow::array::{ArrayRef, Date32Builder, Int64Builder, StringBuilder};
use duckdb::arrow::datatypes::{DataType, Field, Schema};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::types::ValueRef;
use duckdb::{Connection, Row};

use super::super::columns::CHUNK_ROWS;
use super::super::pairs::{
    self, Dictionary, EVENT_PROPERTIES, Event, EventKind, VISIT_PROPERTIES, Visit,
};
use super::StoreError;

const VISITS: &str = include_str!("../../../sql/duckdb/rollup/pairs_visits.sql");
const EVENTS: &str = include_str!("../../../sql/duckdb/rollup/pairs_events.sql");

/// Column `i` as text, or `None` for NULL.
fn text<'r>(row: &'r Row<'_>, i: usize) -> Result<Option<&'r str>, StoreError> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(None),
        value => Ok(Some(value.as_str().map_err(|e| {
            StoreError::Corrupt(format!("pair input column {i}: {e}"))
        })?)),
    }
}

fn event_property(name: &str) -> Result<usize, StoreError> {
    EVENT_PROPERTIES
        .iter()
        .position(|p| *p == name)
        .map(|p| VISIT_PROPERTIES.len() + p)
        .ok_or_else(|| StoreError::Corrupt(format!("event property {name:?}")))
}

/// Runs `sql` for the day `param` and hands each row, with the number of its site
/// (column 0), to `f`.
fn each_row(
    conn: &Connection,
    sql: &str,
    param: &str,
    dictionary: &mut Dictionary,
    mut f: impl FnMut(&Row<'_>, u32, &mut Dictionary) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([param])?;
    while let Some(row) = rows.next()? {
        let site = dictionary.site(text(row, 0)?.unwrap_or_default());
        f(row, site, dictionary)?;
    }
    Ok(())
}

/// A visit day's stored visits and their events, numbered.
struct Day {
    dictionary: Dictionary,
    visits: Vec<Visit>,
    events: Vec<Event>,
}

/// Reads the stored visits of visit day `day` and their events.
fn read(conn: &Connection, day: NaiveDate) -> Result<Day, StoreError> {
    let param = day.to_string();
    let mut dictionary = Dictionary::default();
    let mut visits = Vec::new();
    let mut sessions: foldhash::HashMap<(u32, u64), usize> = foldhash::HashMap::default();
    each_row(
        conn,
        VISITS,
        &param,
        &mut dictionary,
        |row, site, dictionary| {
            let mut values = [None; 16];
            for (p, value) in values.iter_mut().enumerate() {
                *value = text(row, 6 + p)?.map(|v| dictionary.value(site, p, v));
            }
            let session: u64 = row.get(2)?;
            sessions.insert((site, session), visits.len());
            visits.push(Visit {
                site,
                visitor: row.get(1)?,
                session,
                pageviews: row.get(3)?,
                custom: row.get(4)?,
                duration_s: row.get::<_, Option<i64>>(5)?.unwrap_or(0),
                values,
            });
            Ok(())
        },
    )?;
    let properties = [
        event_property("page")?,
        event_property("hostname")?,
        event_property("name")?,
    ];
    let mut events = Vec::new();
    each_row(
        conn,
        EVENTS,
        &param,
        &mut dictionary,
        |row, site, dictionary| {
            let session: u64 = row.get(1)?;
            // A session of engagement events alone is no visit.
            let Some(&visit) = sessions.get(&(site, session)) else {
                return Ok(());
            };
            let name = text(row, 2)?;
            let kind = match name {
                Some("pageview") => EventKind::Pageview,
                Some("engagement") => EventKind::Engagement,
                _ => EventKind::Custom,
            };
            let name = name.filter(|_| kind != EventKind::Engagement);
            let mut values = [None; 3];
            for ((slot, property), value) in
                values
                    .iter_mut()
                    .zip(properties)
                    .zip([text(row, 3)?, text(row, 4)?, name])
            {
                *slot = value.map(|v| dictionary.value(site, property, v));
            }
            events.push(Event {
                visit,
                kind,
                values,
            });
            Ok(())
        },
    )?;
    Ok(Day {
        dictionary,
        visits,
        events,
    })
}

/// Every cell of a day but the own rows: visit × visit, event × visit, event × event.
fn cells(day: &Day) -> foldhash::HashMap<(u32, u32), pairs::Sums> {
    let of_events = pairs::of_events(&day.visits, &day.events);
    let mut cells = pairs::count(&day.visits, &of_events.values);
    cells.extend(of_events.cells);
    cells
}

/// Appends the exact pairs of visit day `day` to `daily_pairs` (the caller deletes
/// what the day had, in the same transaction).
pub(super) fn append(conn: &Connection, day: NaiveDate) -> Result<u64, StoreError> {
    let Day {
        dictionary,
        visits,
        events,
    } = read(conn, day)?;
    let of_events = pairs::of_events(&visits, &events);
    drop(events);
    let mut cells = pairs::count(&visits, &of_events.values);
    cells.extend(pairs::visited(&visits, &of_events.owners));
    cells.extend(of_events.cells);
    drop(visits);
    let rows = pairs::rows(&dictionary, cells);
    let day32 = super::days_since_epoch(day);
    let schema = Arc::new(Schema::new(
        ["site", "day", "dimension", "value", "dimension2", "value2"]
            .into_iter()
            .map(|name| {
                let kind = if name == "day" {
                    DataType::Date32
                } else {
                    DataType::Utf8
                };
                Field::new(name, kind, false)
            })
            .chain(
                [
                    "visitors",
                    "visits",
                    "pageviews",
                    "bounces",
                    "duration_s",
                    "events",
                ]
                .into_iter()
                .map(|name| Field::new(name, DataType::Int64, false)),
            )
            .collect::<Vec<_>>(),
    ));
    let mut appender = conn.appender("daily_pairs")?;
    for chunk in rows.chunks(CHUNK_ROWS) {
        let mut texts: [StringBuilder; 5] = std::array::from_fn(|_| StringBuilder::new());
        let mut days = Date32Builder::with_capacity(chunk.len());
        let mut sums: [Int64Builder; 6] =
            std::array::from_fn(|_| Int64Builder::with_capacity(chunk.len()));
        for &(a, b, s) in chunk {
            let ((site, da, va), (_, db, vb)) = (dictionary.name(a), dictionary.name(b));
            for (builder, value) in texts.iter_mut().zip([site, da, va, db, vb]) {
                builder.append_value(value);
            }
            days.append_value(day32);
            let values = [
                s.visitors,
                s.visits,
                s.pageviews,
                s.bounces,
                s.duration_s,
                s.events,
            ];
            for (builder, value) in sums.iter_mut().zip(values) {
                builder.append_value(value);
            }
        }
        let [site, dimension, value, dimension2, value2] = texts.map(|mut b| b.finish());
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(site),
            Arc::new(days.finish()),
            Arc::new(dimension),
            Arc::new(value),
            Arc::new(dimension2),
            Arc::new(value2),
        ];
        columns.extend(sums.map(|mut b| Arc::new(b.finish()) as ArrayRef));
        appender.append_record_batch(RecordBatch::try_new(Arc::clone(&schema), columns)?)?;
    }
    appender.flush()?;
    Ok(rows.len() as u64)
}

/// Appends to `pairs_fold_visitors` the distinct visitors of each `(value, "(other)")`
/// row folding visit day `day`'s pairs to `min_crowd` makes ([`pairs::fold_visitors`]),
/// from its stored visits and events, which expire in the same transaction.
pub(super) fn append_fold_visitors(
    conn: &Connection,
    day: NaiveDate,
    min_crowd: i64,
) -> Result<(), StoreError> {
    let read = read(conn, day)?;
    let cells = cells(&read);
    let folded = pairs::fold_visitors(
        &read.dictionary,
        &read.visits,
        &read.events,
        &cells,
        min_crowd,
    );
    let day = day.to_string();
    let mut appender = conn.appender("pairs_fold_visitors")?;
    // A row under the crowd size is not kept: only the others need their count.
    for ((value, property), visitors) in folded.into_iter().filter(|f| f.1 >= min_crowd) {
        let (site, dimension, value) = read.dictionary.name(value);
        let dimension2 = pairs::property_name(property);
        appender.append_row(duckdb::params![
            site, day, dimension, value, dimension2, visitors
        ])?;
    }
    appender.flush()?;
    Ok(())
}
