//! A sealed visit day's exact pairs in DuckDB: the visits and event values read
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
    self, Dictionary, EVENT_PROPERTIES, EventValue, Sums, VISIT_PROPERTIES, Visit,
};
use super::StoreError;

const VISITS: &str = include_str!("../../../sql/duckdb/rollup/pairs_visits.sql");
const EVENT_VALUES: &str = include_str!("../../../sql/duckdb/rollup/pairs_event_values.sql");
const EVENT_CELLS: &str = include_str!("../../../sql/duckdb/rollup/pairs_events.sql");
const PAGES: &str = include_str!("../../../sql/duckdb/rollup/pairs_pages.sql");

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

/// Appends the exact pairs of visit day `day` to `daily_pairs` (the caller deletes
/// what the day had, in the same transaction).
pub(super) fn append(conn: &Connection, day: NaiveDate) -> Result<u64, StoreError> {
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
    let mut events = Vec::new();
    // (visit, value) of the pages and event names that get own rows.
    let mut owners = Vec::new();
    let name = event_property("name")?;
    each_row(
        conn,
        EVENT_VALUES,
        &param,
        &mut dictionary,
        |row, site, dictionary| {
            let session: u64 = row.get(1)?;
            let Some(&visit) = sessions.get(&(site, session)) else {
                return Ok(());
            };
            let property = event_property(text(row, 2)?.unwrap_or_default())?;
            let value = dictionary.value(site, property, text(row, 3)?.unwrap_or_default());
            if property == name {
                owners.push((visit, value));
            }
            events.push(EventValue {
                visit,
                value,
                pageviews: row.get(4)?,
                events: row.get(5)?,
            });
            Ok(())
        },
    )?;
    let mut cells = pairs::count(&visits, &events);
    drop(events);
    let page = event_property("page")?;
    each_row(
        conn,
        PAGES,
        &param,
        &mut dictionary,
        |row, site, dictionary| {
            let session: u64 = row.get(1)?;
            if let (Some(&visit), Some(path)) = (sessions.get(&(site, session)), text(row, 2)?) {
                owners.push((visit, dictionary.value(site, page, path)));
            }
            Ok(())
        },
    )?;
    cells.extend(pairs::visited(&visits, &owners));
    drop((visits, owners, sessions));
    each_row(
        conn,
        EVENT_CELLS,
        &param,
        &mut dictionary,
        |row, site, dictionary| {
            let mut id = |p: usize, v: usize| -> Result<u32, StoreError> {
                let property = event_property(text(row, p)?.unwrap_or_default())?;
                Ok(dictionary.value(site, property, text(row, v)?.unwrap_or_default()))
            };
            let (a, b) = (id(1, 2)?, id(3, 4)?);
            cells.insert(
                (a, b),
                Sums {
                    visitors: row.get(5)?,
                    visits: row.get(6)?,
                    pageviews: row.get(7)?,
                    bounces: 0,
                    duration_s: 0,
                    events: row.get(8)?,
                },
            );
            Ok(())
        },
    )?;
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
