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
use super::plan::{Param, Sql, plan};
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

impl DuckDbBackend {
    /// Executes a planned statement for `query` and reads its rows.
    fn run_sql(&self, query: &Query, sql: &Sql) -> Result<Vec<Row>, QueryError> {
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
}

impl Backend for DuckDbBackend {
    fn run(&self, query: &Query) -> Result<Vec<Row>, QueryError> {
        self.run_sql(query, &plan(query))
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::query::plan::{by_visit, plan_over_events};
    use crate::query::{Dimension, Filter, Metric, Op, OrderKey, Prop};
    use crate::store::duckdb::DuckDbStore;

    const GENERATE: &str = include_str!("../../sql/bench/generate_events.sql");

    fn prop(name: &str) -> &'static Prop {
        Prop::parse(name).expect("a known property")
    }

    fn query(metrics: &[Metric], dims: &[&str], filters: Vec<Filter>) -> Query {
        let day = |d| {
            NaiveDate::from_ymd_opt(2026, 1, d)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("date")
        };
        Query {
            site: "example.test".into(),
            from: day(1),
            to: day(31),
            metrics: metrics.to_vec(),
            dimensions: dims.iter().map(|d| Dimension::Prop(prop(d))).collect(),
            filters,
            order_by: vec![(OrderKey::Metric(0), true)],
            limit: 1000,
            offset: 0,
            offsets: Vec::new(),
        }
    }

    fn leaf(op: Op, name: &str, values: &[&str]) -> Filter {
        Filter::Leaf {
            op,
            prop: prop(name),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            case_sensitive: true,
        }
    }

    /// Visit-only queries grouped by visit give the numbers of the event-level shape.
    #[test]
    fn both_query_shapes_agree() {
        let dir = tempfile::tempdir().expect("dir");
        let store = DuckDbStore::open(&dir.path().join("shapes.duckdb")).expect("open");
        store
            .handle()
            .with(|conn| conn.execute(GENERATE, [50_000]))
            .expect("connection")
            .expect("generate");
        let backend = DuckDbBackend::new(store.handle());
        let all = [
            Metric::Visitors,
            Metric::Visits,
            Metric::Pageviews,
            Metric::Events,
            Metric::BounceRate,
            Metric::VisitDuration,
            Metric::ViewsPerVisit,
            Metric::Percentage,
        ];
        let queries = [
            query(&all, &[], Vec::new()),
            query(&all, &["visit:source"], Vec::new()),
            query(&all, &["visit:country", "visit:device"], Vec::new()),
            query(
                &all,
                &["visit:source"],
                vec![leaf(Op::Is, "visit:source", &["Google", "Bing"])],
            ),
            query(
                &all,
                &["visit:browser"],
                vec![Filter::Or(vec![
                    leaf(Op::Is, "visit:country", &["NL"]),
                    Filter::Not(Box::new(leaf(Op::Contains, "visit:entry_page", &["blog"]))),
                ])],
            ),
            query(
                &[Metric::Visitors, Metric::Pageviews],
                &["visit:entry_page"],
                vec![leaf(Op::Matches, "visit:channel", &["^Organic"])],
            ),
        ];
        for q in &queries {
            assert!(by_visit(q), "{q:?}");
            let grouped = backend.run_sql(q, &plan(q)).expect("by visit");
            let joined = backend
                .run_sql(q, &plan_over_events(q))
                .expect("over events");
            assert!(!grouped.is_empty());
            assert_eq!(grouped, joined, "{q:?}");
        }
    }
}
