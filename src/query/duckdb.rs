//! The DuckDB [`Backend`]: each query gets its own connection to the store's
//! database through [`DbHandle`] (DuckDB allows several in one process; the writer
//! thread keeps its own, and compaction swaps the file only between reads), and
//! executes the statement [`plan`](super::plan) renders.

use chrono::NaiveDateTime;
use duckdb::Connection;
use duckdb::types::{TimeUnit, Value};
use serde_json::json;

use super::aggregates::AggQuery;
use super::combine::{Bases, Sums};
use super::plan::{Param, plan};
use super::{Backend, Query, QueryError, Row};
use crate::store::duckdb::DbHandle;

const FIRST_EVENT: &str = include_str!("../../sql/query/first_event.sql");

pub struct DuckDbBackend {
    db: DbHandle,
}

fn db_error(e: duckdb::Error) -> QueryError {
    QueryError::Backend(e.to_string())
}

impl DuckDbBackend {
    pub fn new(db: DbHandle) -> Self {
        Self { db }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, QueryError>,
    ) -> Result<T, QueryError> {
        self.db
            .with(f)
            .map_err(|e| QueryError::Backend(e.to_string()))?
    }
}

fn to_value(p: &Param) -> Value {
    match p {
        Param::Text(s) => Value::Text(s.clone()),
        Param::Int(i) => Value::BigInt(*i),
        Param::Micros(us) => Value::Timestamp(TimeUnit::Microsecond, *us),
        Param::Bool(b) => Value::Boolean(*b),
    }
}

fn json_of(v: Value) -> serde_json::Value {
    match v {
        Value::BigInt(i) => json!(i),
        Value::Int(i) => json!(i),
        Value::HugeInt(i) => json!(i64::try_from(i).unwrap_or(i64::MAX)),
        Value::UBigInt(i) => json!(i),
        Value::Double(f) => json!(f),
        Value::Float(f) => json!(f64::from(f)),
        Value::Text(s) => json!(s),
        _ => serde_json::Value::Null,
    }
}

impl Backend for DuckDbBackend {
    fn run(&self, query: &Query) -> Result<Vec<Row>, QueryError> {
        let sql = plan(query);
        let params: Vec<Value> = sql.params.iter().map(to_value).collect();
        let dims = query.dimensions.len();
        let metrics = query.metrics.len();
        self.with(|conn| {
            let mut stmt = conn.prepare(&sql.text).map_err(db_error)?;
            let mut rows = stmt
                .query(duckdb::params_from_iter(params))
                .map_err(db_error)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(db_error)? {
                let mut r = Row {
                    dimensions: Vec::with_capacity(dims),
                    metrics: Vec::with_capacity(metrics),
                };
                for i in 0..dims {
                    let v: Option<String> = row.get(i).map_err(db_error)?;
                    r.dimensions.push(v.unwrap_or_else(|| "(none)".into()));
                }
                for i in dims..dims + metrics {
                    r.metrics.push(json_of(row.get(i).map_err(db_error)?));
                }
                out.push(r);
            }
            Ok(out)
        })
    }

    fn run_aggregates(&self, query: &AggQuery) -> Result<Vec<Bases>, QueryError> {
        let (text, params) = query.render();
        let params: Vec<Value> = params.iter().map(to_value).collect();
        self.with(|conn| {
            let mut stmt = conn.prepare(&text).map_err(db_error)?;
            let mut rows = stmt
                .query(duckdb::params_from_iter(params))
                .map_err(db_error)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(db_error)? {
                let n = |i: usize| -> Result<i64, QueryError> {
                    Ok(row.get::<_, Option<i64>>(i).map_err(db_error)?.unwrap_or(0))
                };
                let sums = Sums {
                    visitors: n(2)?,
                    visits: n(3)?,
                    pageviews: n(4)?,
                    events: n(5)?,
                    sessions: n(6)?,
                    bounces: n(7)?,
                    duration: n(8)?,
                    session_pageviews: n(9)?,
                    ..Sums::default()
                };
                out.push(Bases {
                    dimensions: query
                        .labels(row.get(0).map_err(db_error)?, row.get(1).map_err(db_error)?),
                    sums,
                    kept: Vec::new(),
                });
            }
            Ok(out)
        })
    }

    fn first_event(&self, site: &str) -> Result<Option<NaiveDateTime>, QueryError> {
        self.with(|conn| {
            let micros: Option<i64> = conn
                .query_row(FIRST_EVENT, [site], |row| row.get(0))
                .map_err(db_error)?;
            Ok(micros
                .and_then(chrono::DateTime::from_timestamp_micros)
                .map(|t| t.naive_utc()))
        })
    }
}
