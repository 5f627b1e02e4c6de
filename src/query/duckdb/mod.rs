//! The DuckDB [`Backend`]: each query gets its own connection to the store's
//! database through [`DbHandle`] (DuckDB allows several in one process; the writer
//! thread keeps its own, and compaction swaps the file only between reads), and
//! executes the statement [`plan`](plan) renders.

pub mod plan;
mod render;

use std::sync::mpsc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use duckdb::Connection;
use duckdb::types::{TimeUnit, Value};
use serde_json::json;

use super::aggregates::AggQuery;
use super::combine::{Bases, Sums};
use super::partials::PartialQuery;
use super::{Backend, Query, QueryError, Row, SealedDay};
use crate::store::duckdb::DbHandle;
use plan::{Param, Sql, plan};

const FIRST_EVENT: &str = include_str!("../../../sql/duckdb/query/first_event.sql");
const PROP_KEYS: &str = include_str!("../../../sql/duckdb/query/prop_keys.sql");
const QUALITY: &str = include_str!("../../../sql/duckdb/query/quality.sql");
const SEALED_DAYS: &str = include_str!("../../../sql/duckdb/query/sealed_days.sql");

pub struct DuckDbBackend {
    db: DbHandle,
    /// How long a request's statements may run before DuckDB is told to stop them,
    /// counted from when the request's job was asked for (`pool::asked_ago`), so
    /// that a query of many statements ends with its request: a cancelled query
    /// leaves the read gate at once, so compaction (and the writer behind it) does
    /// not wait for an answer nobody will read.
    deadline: Option<Duration>,
}

fn db_error(e: duckdb::Error) -> QueryError {
    QueryError::Backend(e.to_string())
}

impl DuckDbBackend {
    pub fn new(db: DbHandle) -> Self {
        Self { db, deadline: None }
    }

    /// Cancels the statements of a request still running `deadline` after it was
    /// asked for (outside the query pool: each statement on its own).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, QueryError>,
    ) -> Result<T, QueryError> {
        let Some(deadline) = self.deadline else {
            return self
                .db
                .with(f)
                .map_err(|e| QueryError::Backend(e.to_string()))?;
        };
        let budget = deadline.saturating_sub(super::pool::asked_ago().unwrap_or_default());
        if budget.is_zero() {
            return Err(QueryError::TimedOut(deadline.as_secs()));
        }
        self.db
            .with(|conn| {
                // A watchdog per statement: it interrupts the connection when the
                // request's time is up unless the statement ended first (the
                // sender dropped).
                let handle = conn.interrupt_handle();
                let (ended, wait) = mpsc::channel::<()>();
                let watchdog = std::thread::Builder::new()
                    .name("spoorloos-query-deadline".into())
                    .spawn(move || {
                        let fired = matches!(
                            wait.recv_timeout(budget),
                            Err(mpsc::RecvTimeoutError::Timeout)
                        );
                        if fired {
                            handle.interrupt();
                        }
                        fired
                    });
                let out = f(conn);
                drop(ended);
                let fired = watchdog.is_ok_and(|w| w.join().unwrap_or(false));
                match out {
                    Err(_) if fired => Err(QueryError::TimedOut(deadline.as_secs())),
                    other => other,
                }
            })
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
            let mut stmt = conn.prepare_cached(&sql.text).map_err(db_error)?;
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

    /// Reads the rows of `aggregates.sql` or `partials.sql`: time bucket, label, sums.
    fn read_sums(
        &self,
        text: &str,
        params: &[Param],
        labels: impl Fn(Option<String>, Option<String>) -> Vec<String>,
    ) -> Result<Vec<Bases>, QueryError> {
        let params: Vec<Value> = params.iter().map(to_value).collect();
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(text).map_err(db_error)?;
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
                    dimensions: labels(
                        row.get(0).map_err(db_error)?,
                        row.get(1).map_err(db_error)?,
                    ),
                    sums,
                    kept: Vec::new(),
                });
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
        self.read_sums(&text, &params, |bucket, label| query.labels(bucket, label))
    }

    fn run_partials(&self, query: &PartialQuery) -> Result<Vec<Bases>, QueryError> {
        let (text, params) = query.render();
        self.read_sums(&text, &params, |bucket, label| query.labels(bucket, label))
    }

    fn sealed_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<SealedDay>, QueryError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(SEALED_DAYS).map_err(db_error)?;
            let rows = stmt
                .query_map([from.to_string(), to.to_string()], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, bool>(2)?,
                        row.get::<_, bool>(3)?,
                        row.get::<_, bool>(4)?,
                        row.get::<_, bool>(5)?,
                    ))
                })
                .map_err(db_error)?;
            let mut out = Vec::new();
            for row in rows {
                let (day, last, partials, pairs, page_visits, name_visits) =
                    row.map_err(db_error)?;
                if let (Ok(day), Ok(last_day)) = (day.parse(), last.parse()) {
                    out.push(SealedDay {
                        day,
                        last_day,
                        partials,
                        pairs,
                        page_visits,
                        name_visits,
                    });
                }
            }
            Ok(out)
        })
    }

    fn quality(
        &self,
        site: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<(String, i64)>, QueryError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(QUALITY).map_err(db_error)?;
            let rows = stmt
                .query_map(
                    duckdb::params![site, first.to_string(), last.to_string()],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
                )
                .map_err(db_error)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_error)?;
            Ok(rows)
        })
    }

    fn prop_keys(
        &self,
        site: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<String>, QueryError> {
        let micros = |t: NaiveDateTime| t.and_utc().timestamp_micros();
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(PROP_KEYS).map_err(db_error)?;
            let keys = stmt
                .query_map(duckdb::params![site, micros(from), micros(to)], |row| {
                    row.get::<_, String>(0)
                })
                .map_err(db_error)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_error)?;
            Ok(keys)
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
    use crate::config::Lifecycle;
    use crate::lifecycle;
    use crate::query::duckdb::plan::{by_visit, by_visit_time, plan_over_events};
    use crate::query::{
        Dimension, Filter, Granularity, Metric, OffsetSegment, Op, OrderKey, Prop, VisitDays,
        combine, partials,
    };
    use crate::store::duckdb::DuckDbStore;

    const GENERATE: &str = include_str!("../../../sql/duckdb/bench/generate_events.sql");

    /// Every metric partials and visit grouping can answer.
    const ALL: [Metric; 8] = [
        Metric::Visitors,
        Metric::Visits,
        Metric::Pageviews,
        Metric::Events,
        Metric::BounceRate,
        Metric::VisitDuration,
        Metric::ViewsPerVisit,
        Metric::Percentage,
    ];

    #[test]
    fn a_statement_past_its_deadline_is_stopped() {
        let dir = tempfile::tempdir().expect("dir");
        let store = DuckDbStore::open(&dir.path().join("deadline.duckdb")).expect("open");
        let backend = DuckDbBackend::new(store.handle()).with_deadline(Duration::from_millis(200));
        // Days of work for one core: only an interrupt ends it.
        let endless = backend.with(|conn| {
            conn.query_row("SELECT sum(x) FROM range(1000000000000000) t(x)", [], |r| {
                r.get::<_, i128>(0)
            })
            .map_err(db_error)
        });
        assert!(
            matches!(endless, Err(QueryError::TimedOut(0))),
            "{endless:?}"
        );
        assert_eq!(QueryError::TimedOut(15).status(), 503);
        // A quick one is answered, and the connection's next statement is not hit.
        let quick = backend.with(|conn| {
            conn.query_row("SELECT 42", [], |r| r.get::<_, i64>(0))
                .map_err(db_error)
        });
        assert_eq!(quick.ok(), Some(42));
    }

    /// On a query thread, a request's statements share its time: one asked after
    /// the time is up is not run at all.
    #[tokio::test]
    async fn a_request_s_statements_share_its_deadline() {
        let dir = tempfile::tempdir().expect("dir");
        let store = DuckDbStore::open(&dir.path().join("shared.duckdb")).expect("open");
        let backend = DuckDbBackend::new(store.handle()).with_deadline(Duration::from_millis(200));
        let pool = super::super::pool::Pool::new(1).expect("pool");
        let late = pool
            .run(move || {
                let first = backend.with(|conn| {
                    conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                        .map_err(db_error)
                });
                // The request's first statements took most of its time.
                std::thread::sleep(Duration::from_millis(300));
                let second = backend.with(|conn| {
                    conn.query_row("SELECT 2", [], |r| r.get::<_, i64>(0))
                        .map_err(db_error)
                });
                Ok((first.ok(), second))
            })
            .await
            .expect("answer");
        assert_eq!(late.0, Some(1));
        assert!(
            matches!(late.1, Err(QueryError::TimedOut(0))),
            "{:?}",
            late.1
        );
    }

    /// A store with `events` generated events (`sql/duckdb/bench/generate_events.sql`).
    fn generated(events: i64) -> (tempfile::TempDir, DuckDbStore) {
        let dir = tempfile::tempdir().expect("dir");
        let store = DuckDbStore::open(&dir.path().join("generated.duckdb")).expect("open");
        store
            .handle()
            .with(|conn| conn.execute(GENERATE, [events]))
            .expect("connection")
            .expect("generate");
        (dir, store)
    }

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
            visits: VisitDays::All,
            stored_visits: None,
            custom_keys: Vec::new(),
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
        let (_dir, store) = generated(50_000);
        let backend = DuckDbBackend::new(store.handle());
        let all = ALL;
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

    /// Each query's answer as planned equals that of every event joined to its
    /// visit, over visits grouped from the events and again with the visits of
    /// 1–5 January stored; `check` sees each query's index, plan and answer first.
    fn agree_with_the_join(
        store: &mut DuckDbStore,
        queries: &[Query],
        check: impl Fn(usize, &Sql, &[Row]),
    ) {
        use crate::store::Store as _;
        let backend = DuckDbBackend::new(store.handle());
        let compare = |queries: &[Query]| {
            for (i, q) in queries.iter().enumerate() {
                let sql = plan(q);
                let planned = backend.run_sql(q, &sql).expect("planned");
                let joined = backend.run_sql(q, &plan_over_events(q)).expect("joined");
                check(i, &sql, &planned);
                assert!(planned == joined, "{q:?}: {planned:?}\n{joined:?}");
            }
        };
        compare(queries);
        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).expect("day");
        for d in 1..6 {
            store.store_visits(day(d), day(d + 1)).expect("visits");
        }
        let stored: Vec<Query> = queries
            .iter()
            .map(|q| Query {
                stored_visits: Some((day(1), day(5))),
                ..q.clone()
            })
            .collect();
        compare(&stored);
    }

    /// Filtered graphs counted from the visits' first and last event times (and the
    /// lists of the visits that span buckets) give the numbers of every event joined
    /// to its visit: by hour, day and week, with a visit property beside the time,
    /// in UTC and in a time zone with a DST change, over visits grouped from the
    /// events and over stored visits (the data has visits across midnight).
    #[test]
    fn graphs_by_visit_agree_with_the_join() {
        let (_dir, mut store) = generated(50_000);
        let metrics = [
            Metric::Visitors,
            Metric::Visits,
            Metric::Pageviews,
            Metric::Events,
            Metric::BounceRate,
            Metric::VisitDuration,
            Metric::ViewsPerVisit,
        ];
        let mut queries = Vec::new();
        for g in [Granularity::Hour, Granularity::Day, Granularity::Week] {
            for filter in [
                leaf(Op::Is, "visit:country", &["NL", "DE"]),
                leaf(Op::IsNot, "visit:source", &["Google"]),
            ] {
                let mut q = query(&metrics, &[], vec![filter]);
                q.dimensions = vec![Dimension::Time(g)];
                q.order_by = vec![(OrderKey::Dimension(0), false)];
                queries.push(q.clone());
                // Amsterdam's offset, changing in the middle of the data.
                q.offsets = vec![
                    OffsetSegment {
                        from_micros: 0,
                        offset_secs: 3600,
                    },
                    OffsetSegment {
                        from_micros: 1_767_600_000_000_000,
                        offset_secs: 7200,
                    },
                ];
                queries.push(q);
            }
        }
        let mut both = query(
            &[Metric::Visitors, Metric::Pageviews],
            &["visit:device"],
            vec![leaf(Op::Contains, "visit:entry_page", &["blog"])],
        );
        both.dimensions.insert(0, Dimension::Time(Granularity::Day));
        queries.push(both);
        // Stored visits keep their events' times only across UTC hours: a zone off
        // by half an hour takes the join.
        let mut india = queries[0].clone();
        india.offsets = vec![OffsetSegment {
            from_micros: 0,
            offset_secs: 19_800,
        }];
        assert!(!by_visit_time(&india));
        agree_with_the_join(&mut store, &queries, |i, _, rows| {
            assert!(by_visit_time(&queries[i]), "{:?}", queries[i]);
            assert!(rows.len() > 3, "{:?}", queries[i]);
        });
    }

    /// Visitors counted by the visit that stands for each (a visitor's first visit,
    /// or its first with a value of the one non-steady property the query reads)
    /// are the distinct visitors of every event joined to its visit: over visits
    /// grouped from the events and over stored visits, with visitors whose OS
    /// version changes between visits (counted distinctly) among them.
    #[test]
    fn visitors_counted_by_marked_visits_agree_with_the_join() {
        let (_dir, mut store) = generated(50_000);
        let metrics = [Metric::Visitors, Metric::Visits, Metric::Percentage];
        let marked = [
            query(&metrics, &[], Vec::new()),
            query(&metrics, &["visit:source"], Vec::new()),
            query(&metrics, &["visit:country"], Vec::new()),
            query(&metrics, &["visit:entry_page"], Vec::new()),
            query(
                &metrics,
                &["visit:source"],
                vec![leaf(Op::Is, "visit:device", &["Desktop"])],
            ),
            query(
                &metrics,
                &["visit:country"],
                vec![leaf(Op::Is, "visit:source", &["Google"])],
            ),
            query(
                &metrics,
                &[],
                vec![leaf(Op::Is, "visit:channel", &["Organic Search"])],
            ),
            query(
                &metrics,
                &["visit:entry_page"],
                vec![Filter::Or(vec![
                    leaf(Op::Is, "visit:country", &["NL"]),
                    leaf(Op::Contains, "visit:entry_page", &["blog"]),
                ])],
            ),
        ];
        let distinct = [
            query(
                &metrics,
                &["visit:country"],
                vec![leaf(Op::Is, "visit:source", &["Google", "Bing"])],
            ),
            query(
                &metrics,
                &["visit:browser"],
                vec![Filter::Or(vec![
                    leaf(Op::Is, "visit:country", &["NL"]),
                    leaf(Op::Contains, "visit:entry_page", &["blog"]),
                ])],
            ),
            query(
                &metrics,
                &["visit:source"],
                vec![leaf(Op::Is, "visit:entry_page", &["/"])],
            ),
        ];
        let marks = marked.len();
        let queries: Vec<Query> = marked.into_iter().chain(distinct).collect();
        agree_with_the_join(&mut store, &queries, |i, sql, rows| {
            let q = &queries[i];
            assert_eq!(
                sql.text.contains("v_steady AND v_first)"),
                i < marks,
                "{q:?}"
            );
            assert!(!rows.is_empty(), "{q:?}");
        });
    }

    /// `is` / `is not` compared on the bare column (case-sensitive, no missing-value
    /// label among the values) count what the coalesced comparison counts: a visit
    /// without a source is not "Google", so `is not` and `NOT is` keep it.
    #[test]
    fn bare_comparisons_keep_the_missing_values() {
        let (_dir, store) = generated(20_000);
        let backend = DuckDbBackend::new(store.handle());
        let cases = [
            leaf(Op::IsNot, "visit:source", &["Google"]),
            Filter::Not(Box::new(leaf(Op::Is, "visit:source", &["Google", "Bing"]))),
            leaf(Op::Is, "visit:source", &["Google"]),
            leaf(Op::IsNot, "event:page", &["/"]),
        ];
        for filter in cases {
            let bare = query(&ALL, &["visit:source"], vec![filter.clone()]);
            let mut coalesced = bare.clone();
            fn insensitive(f: &mut Filter) {
                match f {
                    Filter::And(fs) | Filter::Or(fs) => fs.iter_mut().for_each(insensitive),
                    Filter::Not(inner) => insensitive(inner),
                    Filter::Leaf { case_sensitive, .. } => *case_sensitive = false,
                }
            }
            coalesced.filters.iter_mut().for_each(insensitive);
            let plan_bare = plan(&bare);
            assert!(plan_bare.text.contains("IS NOT NULL AND"), "{filter:?}");
            let a = backend.run_sql(&bare, &plan_bare).expect("bare");
            let b = backend
                .run_sql(&coalesced, &plan(&coalesced))
                .expect("coalesced");
            let direct = a.iter().any(|r| r.dimensions[0] == "Direct / None");
            let is = matches!(filter, Filter::Leaf { op: Op::Is, .. });
            assert!(direct != is, "{filter:?}: visits without a source");
            assert!(a == b, "{filter:?}: bare and coalesced comparisons differ");
        }
    }

    /// Breakdowns by page, goal or event name under visit filters, read from the
    /// matching visits' lists of events, give the numbers of every event joined to
    /// its visit: over visits grouped from the events, and over stored visits.
    #[test]
    fn event_lists_agree_with_the_join() {
        let (_dir, mut store) = generated(50_000);
        let queries = vec![
            query(
                &[Metric::Visitors, Metric::Percentage],
                &["event:page"],
                vec![leaf(Op::IsNot, "visit:country", &["NL"])],
            ),
            query(
                &[Metric::Visitors, Metric::Events, Metric::ConversionRate],
                &["event:goal"],
                vec![leaf(Op::Is, "visit:device", &["Desktop"])],
            ),
            query(
                &[Metric::Visitors, Metric::Pageviews, Metric::Events],
                &["event:page"],
                vec![Filter::Or(vec![
                    leaf(Op::Is, "visit:source", &["Google"]),
                    leaf(Op::Contains, "visit:channel", &["Social"]),
                ])],
            ),
            query(
                &[Metric::Visitors, Metric::Events],
                &["event:name"],
                vec![leaf(Op::Contains, "visit:entry_page", &["blog"])],
            ),
        ];
        agree_with_the_join(&mut store, &queries, |i, _, rows| {
            assert!(!rows.is_empty(), "{:?}", queries[i]);
        });
    }

    /// Goals filtered by goal and their conversion rates, answered as the matching
    /// rows of the unfiltered breakdown, are the filtered query's answer over the
    /// events, with one goal or several.
    #[test]
    fn goals_filtered_by_goal_are_the_matching_rows() {
        let (_dir, store) = generated(30_000);
        let backend = DuckDbBackend::new(store.handle());
        let events_from = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        for goals in [&["Signup"][..], &["Signup", "Download"], &["No such goal"]] {
            let q = query(
                &[Metric::Visitors, Metric::Events, Metric::ConversionRate],
                &["event:goal"],
                vec![leaf(Op::Is, "event:goal", goals)],
            );
            let filtered = backend.run(&q).expect("events");
            let known = goals.iter().filter(|g| **g != "No such goal").count();
            assert_eq!(filtered.len(), known, "{goals:?}");
            assert_eq!(
                combine::run(&backend, &q, events_from, 1).expect("rows"),
                filtered
            );
        }
    }

    /// The whole visits of sealed days read from their partials (or, where partials
    /// cannot answer, as stored visits), plus every other visit from the events,
    /// give exactly the answers of the events alone: totals,
    /// properties, time buckets, `is` filters, and ranges that cut visits (the data
    /// has visits across midnight, events without a pseudonym and custom events).
    #[test]
    fn partials_add_up_to_the_events() {
        let (_dir, mut store) = generated(60_000);
        let backend = DuckDbBackend::new(store.handle());
        let at = |d, h| {
            NaiveDate::from_ymd_opt(2026, 1, d)
                .and_then(|d| d.and_hms_opt(h, 0, 0))
                .expect("date")
        };
        let all = ALL;
        // The top figures of a view: no `percentage` without a breakdown.
        let top = &ALL[..7];
        let with_time = |g, dims: &[&str], metrics: &[Metric], filters| {
            let mut q = query(metrics, dims, filters);
            q.dimensions.insert(0, Dimension::Time(g));
            q.order_by = vec![(OrderKey::Dimension(0), false), (OrderKey::Metric(0), true)];
            q
        };
        let shapes = vec![
            query(&all, &[], Vec::new()),
            query(&all, &["event:page"], Vec::new()),
            query(&all, &["visit:source"], Vec::new()),
            query(&all, &["visit:entry_page"], Vec::new()),
            query(
                &[Metric::Visitors, Metric::Events],
                &["event:goal"],
                Vec::new(),
            ),
            query(
                &[Metric::Visitors, Metric::Events, Metric::ConversionRate],
                &["event:goal"],
                Vec::new(),
            ),
            query(&all, &["visit:browser_version"], Vec::new()),
            // A custom property: never from partials, always agreeing.
            Query {
                custom_keys: vec!["plan".into()],
                ..query(
                    &[Metric::Visitors, Metric::Events],
                    &["event:props:#0"],
                    vec![leaf(Op::IsNot, "visit:country", &["NL"])],
                )
            },
            query(
                &[Metric::Visitors, Metric::Visits, Metric::BounceRate],
                &["visit:source"],
                vec![leaf(
                    Op::Is,
                    "visit:source",
                    &["Google", "Bing", "DuckDuckGo"],
                )],
            ),
            with_time(Granularity::Day, &[], &all, Vec::new()),
            with_time(Granularity::Week, &[], &all, Vec::new()),
            with_time(
                Granularity::Month,
                &["visit:country"],
                &[Metric::Visitors, Metric::BounceRate],
                Vec::new(),
            ),
            with_time(
                Granularity::Day,
                &["event:page"],
                &[Metric::Visitors, Metric::Pageviews],
                vec![leaf(Op::Is, "event:page", &["/", "/blog/article-5"])],
            ),
            // A panel of the filtered property: one row, all of the answer's visitors.
            query(
                &[Metric::Visitors, Metric::Percentage],
                &["visit:source"],
                vec![leaf(Op::Is, "visit:source", &["Google"])],
            ),
            query(
                &[Metric::Visitors, Metric::Percentage],
                &["event:page"],
                vec![leaf(Op::Is, "event:page", &["/"])],
            ),
            // A filtered view's other panels: its exact daily pairs.
            query(
                &[Metric::Visitors, Metric::Percentage],
                &["event:page"],
                vec![leaf(Op::Is, "visit:source", &["Google"])],
            ),
            query(
                &[Metric::Visitors, Metric::Visits, Metric::Pageviews],
                &["visit:source"],
                vec![leaf(Op::Is, "visit:device", &["Desktop"])],
            ),
            query(
                &[Metric::Visitors, Metric::Percentage],
                &["visit:country"],
                vec![leaf(Op::Is, "event:page", &["/"])],
            ),
            query(
                &[Metric::Visitors, Metric::Events, Metric::ConversionRate],
                &["event:goal"],
                vec![leaf(Op::Is, "visit:source", &["Google"])],
            ),
            query(
                &[Metric::Visitors, Metric::Percentage],
                &["visit:entry_page"],
                vec![leaf(Op::Is, "event:goal", &["Signup"])],
            ),
            query(
                &[Metric::Visitors, Metric::Events],
                &["event:page"],
                vec![leaf(Op::Is, "event:goal", &["Signup"])],
            ),
            // A filtered view's top figures and graph: the filtered property's row.
            query(top, &[], vec![leaf(Op::Is, "visit:source", &["Google"])]),
            query(top, &[], vec![leaf(Op::Is, "visit:device", &["Desktop"])]),
            query(
                &[
                    Metric::Visitors,
                    Metric::Visits,
                    Metric::Pageviews,
                    Metric::Events,
                ],
                &[],
                vec![leaf(Op::Is, "event:goal", &["Signup"])],
            ),
            query(top, &[], vec![leaf(Op::Is, "visit:entry_page", &["/"])]),
            with_time(
                Granularity::Day,
                &[],
                &[Metric::Visitors],
                vec![leaf(Op::Is, "visit:source", &["Google"])],
            ),
            with_time(
                Granularity::Week,
                &[],
                &[Metric::Visitors, Metric::Pageviews],
                vec![leaf(Op::Is, "event:page", &["/"])],
            ),
            // A site an hour east of UTC: its local days move the range.
            Query {
                offsets: vec![crate::query::OffsetSegment {
                    from_micros: i64::MIN,
                    offset_secs: 3600,
                }],
                ..query(&all, &["visit:source"], Vec::new())
            },
            // Partials cannot answer these: the stored visits of sealed days (their
            // pairs, for the goal-filtered page breakdown) and the events do.
            query(
                &[Metric::Visitors, Metric::BounceRate],
                &["visit:source"],
                vec![leaf(Op::Is, "visit:country", &["NL"])],
            ),
            query(
                &all,
                &["event:page"],
                vec![leaf(Op::Is, "visit:source", &["Google"])],
            ),
            query(
                &all,
                &["visit:country"],
                vec![leaf(Op::Is, "event:page", &["/"])],
            ),
            query(
                &[Metric::Visitors, Metric::Events],
                &["event:page"],
                vec![leaf(Op::Is, "event:goal", &["Signup"])],
            ),
            query(
                &all,
                &["visit:exit_page"],
                vec![leaf(Op::Contains, "visit:entry_page", &["blog"])],
            ),
            // Visit figures under an event filter: a page's, a goal's and an event
            // name's from their own rows in the pairs.
            query(top, &[], vec![leaf(Op::Is, "event:page", &["/"])]),
            query(
                &[
                    Metric::Visitors,
                    Metric::Visits,
                    Metric::Pageviews,
                    Metric::BounceRate,
                    Metric::VisitDuration,
                    Metric::ViewsPerVisit,
                ],
                &[],
                vec![leaf(Op::Is, "event:page", &["/blog/article-5"])],
            ),
            query(top, &[], vec![leaf(Op::Is, "event:goal", &["Signup"])]),
            query(top, &[], vec![leaf(Op::Is, "event:name", &["Download"])]),
            // Several values of one property may share visitors; the conversion rate
            // of a goal filtered by itself divides by visitors the filter leaves out.
            query(
                &[Metric::Visitors, Metric::Events, Metric::ConversionRate],
                &["event:goal"],
                vec![leaf(Op::Is, "event:goal", &["Signup"])],
            ),
            query(
                &all,
                &[],
                vec![leaf(Op::Is, "visit:source", &["Google", "Bing"])],
            ),
            query(
                &[Metric::Visitors, Metric::Percentage, Metric::ConversionRate],
                &["visit:device"],
                vec![leaf(Op::IsNot, "visit:browser", &["Chrome"])],
            ),
            query(
                &[Metric::Visitors, Metric::TimeOnPage, Metric::ScrollDepth],
                &["event:page"],
                vec![leaf(Op::Is, "visit:device", &["Mobile"])],
            ),
            with_time(
                Granularity::Hour,
                &[],
                &all,
                vec![leaf(Op::Is, "visit:channel", &["Organic Search"])],
            ),
        ];
        // The shapes above that partials cannot answer.
        let without_partials = 10;
        let ranges = [
            (at(1, 0), at(31, 0)),
            (at(3, 0), at(20, 0)),
            (at(5, 12), at(25, 6)),
            // Local days an hour east of UTC.
            (at(2, 23), at(19, 23)),
        ];
        let mut queries = Vec::new();
        for (from, to) in ranges {
            for shape in &shapes {
                queries.push(Query {
                    from,
                    to,
                    ..shape.clone()
                });
            }
        }
        let events_from = at(1, 0).date();
        let answer = |q: &Query| combine::run(&backend, q, events_from, 1).expect("answer");
        let raw: Vec<Vec<Row>> = queries.iter().map(answer).collect();

        let policy = Lifecycle {
            event_retention_days: 3650,
            ..Lifecycle::default()
        };
        // Sealing the first ten days is enough (and each sealed day costs about fifty
        // queries): every range then reads partials for some days, events for others.
        let now = at(11, 12).and_utc();
        let sealed = lifecycle::partials::seal(
            &mut store,
            &backend,
            now,
            policy.session_timeout,
            policy.events_from(now.date_naive()),
        )
        .expect("seal");
        assert_eq!(sealed.len(), 10);
        let same = |q: &Query, raw: &[Row]| {
            assert!(!raw.is_empty(), "{q:?}");
            let sealed = answer(q);
            let differs = sealed.iter().zip(raw).position(|(a, b)| a != b);
            assert!(
                differs.is_none() && sealed.len() == raw.len(),
                "{q:?}\nrow {differs:?} of {} / {}: {:?}\n  vs {:?}",
                sealed.len(),
                raw.len(),
                differs.map(|i| &sealed[i]),
                differs.map(|i| &raw[i]),
            );
        };
        let (mut read_partials, mut read_pairs) = (0, 0);
        for (q, raw) in queries.iter().zip(&raw) {
            let sealed = partials::sealed_days(&backend, q, events_from).expect("sealed");
            if partials::plan(&sealed, q).is_some() {
                read_partials += 1;
            } else if partials::pair_plan(&sealed, q, events_from).is_some() {
                read_pairs += 1;
            }
            same(q, raw);
        }
        assert_eq!(
            read_partials + read_pairs,
            queries.len() - ranges.len() * without_partials
        );
        // The six panels above and the goal-filtered page breakdown below, over
        // every range.
        assert_eq!(read_pairs, 7 * ranges.len());
        let read_stored = queries
            .iter()
            .filter(|q| {
                let sealed = partials::sealed_days(&backend, q, events_from).expect("sealed");
                partials::sealed_inside(&sealed, q, false, |_| true).is_some()
            })
            .count();
        assert!(read_stored >= ranges.len() * without_partials / 2);

        // Five more days with their visits stored but not yet their partials: the
        // partials answer for the first ten, the stored visits for the next five.
        for d in 11..16 {
            use crate::store::Store as _;
            let day = at(d, 0).date();
            store
                .store_visits(day, day.succ_opt().expect("day"))
                .expect("visits");
        }
        for (q, raw) in queries.iter().zip(&raw) {
            same(q, raw);
        }
    }
}
