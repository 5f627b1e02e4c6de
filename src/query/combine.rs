//! Combine: runs a [`Query`] on the right sources and applies the minimum crowd size.
//!
//! - Days from `events_from` on (the event retention) are answered from events; days
//!   before it from the daily aggregates ([`aggregates`](super::aggregates)), which
//!   refuse what they cannot answer exactly. Within the events, the whole visits of
//!   sealed days come from their partials ([`partials`](super::partials)) where the
//!   query allows, or from their exact daily pairs for a filtered breakdown
//!   ([`partials::pair_plan`](super::partials::pair_plan)), and the events answer
//!   for the other visits. Each part is asked for
//!   its sums ([`Sums`]), the sums are added per dimension value, and the metrics
//!   are computed from them with the SQL's rounding.
//! - Minimum crowd size: in a breakdown by a property, rows with fewer than
//!   `min_crowd` visitors are folded into one `(other)` row (per time bucket), as the
//!   roll-up does, so an answer never describes one person. Answers without a property
//!   dimension (totals, timeseries) are exempt, like the roll-up's `total` rows. In a
//!   folded row, `scroll_depth` and `conversion_rate` are `null` (they are not sums).
//!
//! Sorting and pagination happen here when rows were folded or combined; otherwise the
//! query goes to the backend unchanged.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveTime};
use serde_json::{Value, json};

use super::{Backend, Dimension, Metric, OrderKey, Query, QueryError, Row, VisitDays};
use super::{aggregates, partials};

/// The additive parts of a result row.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sums {
    pub visitors: i64,
    pub visits: i64,
    pub pageviews: i64,
    pub events: i64,
    pub sessions: i64,
    pub bounces: i64,
    pub duration: i64,
    pub session_pageviews: i64,
    pub total_visitors: i64,
    pub engaged_ms: i64,
    pub engaged_visitors: i64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.visitors += o.visitors;
        self.visits += o.visits;
        self.pageviews += o.pageviews;
        self.events += o.events;
        self.sessions += o.sessions;
        self.bounces += o.bounces;
        self.duration += o.duration;
        self.session_pageviews += o.session_pageviews;
        self.total_visitors += o.total_visitors;
        self.engaged_ms += o.engaged_ms;
        self.engaged_visitors += o.engaged_visitors;
    }
}

/// A result row as sums, with the backend's own metric values while they still hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Bases {
    pub dimensions: Vec<String>,
    pub sums: Sums,
    /// The query's metrics as the events backend computed them; empty once the row was
    /// combined or folded.
    pub kept: Vec<Value>,
}

/// The sums of a group of visits: what visit partials store, in `visit_partials`'
/// column order, and the first internal metrics appended to an events query.
pub const VISIT_SUMS: &[Metric] = &[
    Metric::Visitors,
    Metric::Visits,
    Metric::Pageviews,
    Metric::Events,
    Metric::Sessions,
    Metric::Bounces,
    Metric::Duration,
    Metric::SessionPageviews,
];

/// The internal metrics only an events query gives, appended after [`VISIT_SUMS`].
const EVENT_SUMS: &[Metric] = &[
    Metric::TotalVisitors,
    Metric::EngagedMs,
    Metric::EngagedVisitors,
];

fn wanted(q: &Query, m: Metric) -> bool {
    match m {
        Metric::Sessions | Metric::Bounces | Metric::Duration | Metric::SessionPageviews => {
            q.metrics.iter().any(|m| m.is_session())
        }
        Metric::TotalVisitors => needs_total(q),
        Metric::EngagedMs | Metric::EngagedVisitors => q.metrics.contains(&Metric::TimeOnPage),
        // Each is a distinct count or a scan of its own: only when the answer shows it.
        // Visitors always, because folding small rows needs it.
        Metric::Visits | Metric::Pageviews | Metric::Events => q.metrics.contains(&m),
        _ => true,
    }
}

/// Answers `q`: events from `events_from` (UTC) on, aggregates before; within the
/// events, the whole visits of sealed days from their partials where they can.
pub fn run(
    backend: &dyn Backend,
    q: &Query,
    events_from: NaiveDate,
    min_crowd: u32,
) -> Result<Vec<Row>, QueryError> {
    if let Some(values) = goals_filtered_by_goal(q) {
        let all = Query {
            filters: Vec::new(),
            limit: u64::MAX,
            offset: 0,
            ..q.clone()
        };
        let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(q.limit).unwrap_or(usize::MAX);
        return Ok(run(backend, &all, events_from, min_crowd)?
            .into_iter()
            .filter(|r| r.dimensions.first().is_some_and(|d| values.contains(d)))
            .skip(offset)
            .take(limit)
            .collect());
    }
    let boundary = events_from.and_time(NaiveTime::MIN);
    let fold = min_crowd > 1 && q.dimensions.iter().any(|d| !d.is_time());
    let sealed = partials::sealed_days(backend, q, events_from)?;
    let mut partial = partials::plan(&sealed, q);
    let mut paired = if partial.is_none() {
        partials::pair_plan(&sealed, q, events_from)
    } else {
        None
    };
    let covered = partial
        .as_ref()
        .map(|p| (p.first, p.last))
        .or_else(|| paired.as_ref().map(partials::PairPlan::days));
    // The sealed days' visits as stored, where partials or pairs do not answer for
    // them.
    let stored = partials::sealed_inside(&sealed, q, false, |_| true);
    // Partials or pairs for some of the days (while the others' are computed): the
    // stored visits answer for the rest, if those are one run.
    let mut rest = None;
    if let (Some((p_first, p_last)), Some((first, last))) = (covered, stored) {
        let one_day = chrono::Days::new(1);
        rest = if (p_first, p_last) == (first, last) {
            None
        } else if p_first == first && p_last < last {
            Some((p_last + one_day, last))
        } else if p_last == last && p_first > first {
            Some((first, p_first - one_day))
        } else {
            partial = None;
            paired = None;
            None
        };
    }
    let precomputed = partial.is_some() || paired.is_some();
    let stored = if precomputed { rest } else { stored };
    let q = &Query {
        stored_visits: q.stored_visits.or(stored),
        ..q.clone()
    };
    if q.from >= boundary && !fold && !precomputed {
        return backend.run(q);
    }
    let mut parts = Vec::new();
    if q.from < boundary {
        if q.from.time() != NaiveTime::MIN {
            return Err(QueryError::PastEvents(format!(
                "this query reaches before {events_from}, where only daily aggregates are \
                 kept; they cannot answer part of a day"
            )));
        }
        let end = q.to.min(boundary);
        let end_day = if end.time() == NaiveTime::MIN {
            end.date()
        } else {
            end.date().succ_opt().unwrap_or(end.date())
        };
        let agg = aggregates::translate(q, q.from.date(), end_day, events_from)?;
        let mut rows = backend.run_aggregates(&agg)?;
        if q.metrics.contains(&Metric::Percentage) {
            set_total(&mut rows, &backend.run_aggregates(&agg.total())?);
        }
        parts.push(rows);
    }
    let mut events = q.clone();
    if let Some(pq) = &partial {
        let mut rows = backend.run_partials(pq)?;
        if needs_total(q) {
            set_total(&mut rows, &backend.run_partials(&pq.total())?);
        }
        parts.push(rows);
        // Every other visit: those that began on other days, or cross the range's ends.
        events.visits = VisitDays::Except(pq.first, pq.last);
    } else if let Some(pp) = &paired {
        let mut rows = backend.run_aggregates(&pp.pairs)?;
        if needs_total(q) {
            set_total(&mut rows, &backend.run_partials(&pp.total)?);
        }
        parts.push(rows);
        let (first, last) = pp.days();
        events.visits = VisitDays::Except(first, last);
    }
    if q.to > boundary {
        let mut rows = from_events(backend, &events, boundary)?;
        // A part without rows still has visitors in the denominator (today's
        // visitors without a goal, say): `merge` takes it from a row.
        if rows.is_empty() && needs_total(q) && !q.dimensions.is_empty() && !parts.is_empty() {
            let total = from_events(
                backend,
                &Query {
                    dimensions: Vec::new(),
                    metrics: vec![Metric::Visitors],
                    order_by: Vec::new(),
                    ..events.clone()
                },
                boundary,
            )?;
            let visitors = total.first().map_or(0, |b| b.sums.visitors);
            if visitors > 0 {
                // No dimensions: a row that only carries the part's total.
                rows.push(Bases {
                    dimensions: Vec::new(),
                    sums: Sums {
                        total_visitors: visitors,
                        ..Sums::default()
                    },
                    kept: Vec::new(),
                });
            }
        }
        parts.push(rows);
    }
    let mut rows = if parts.len() > 1 {
        merge(q, parts)
    } else {
        parts.into_iter().flatten().collect()
    };
    if fold {
        rows = fold_small(rows, q, i64::from(min_crowd));
    }
    let mut out: Vec<Row> = rows.into_iter().map(|b| finish(q, b)).collect();
    sort(&mut out, q);
    let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(q.limit).unwrap_or(usize::MAX);
    Ok(out.into_iter().skip(offset).take(limit).collect())
}

/// The values of an `is` filter (matched exactly) on the goal that `q` breaks down
/// by, asking the conversion rate and no `percentage`: then the answer is the rows of
/// the unfiltered breakdown with those labels. A goal filter changes no row but
/// its own (each row's visitors and events are its goal's) and no conversion rate
/// (its denominator leaves goal filters out), and the unfiltered breakdown can be
/// read from the partials.
fn goals_filtered_by_goal(q: &Query) -> Option<&[String]> {
    let (prop, values) = q.exact_is_filter()?;
    let by_goal = matches!(q.dimensions.as_slice(), [Dimension::Prop(p)] if p.name == prop.name);
    (by_goal
        && prop.is_goal_or_name()
        && q.metrics.contains(&Metric::ConversionRate)
        && !q.metrics.contains(&Metric::Percentage)
        && prop
            .none
            .is_none_or(|none| !values.iter().any(|v| v == none)))
    .then_some(values)
}

/// Why the answer to `q` may miss visitors, if it may: days before `events_from`
/// answered from daily pairs whose small cells were folded when their events expired
/// ([`aggregates::AggQuery::approximate`]).
pub fn approximation(q: &Query, events_from: NaiveDate, min_crowd: u32) -> Option<String> {
    let boundary = events_from.and_time(NaiveTime::MIN);
    if q.from >= boundary {
        return None;
    }
    let agg = aggregates::translate(q, q.from.date(), events_from, events_from).ok()?;
    agg.approximate(min_crowd).then(|| {
        format!(
            "before {events_from}, a filter combined with a breakdown is answered from \
             daily totals kept without visitor codes; on each day, combinations shared by \
             fewer than {min_crowd} visitors are merged into \"(other)\" or left out, so \
             these figures can be slightly low"
        )
    })
}

/// Whether the answer divides by the visitors of the whole answer: `percentage`,
/// and `conversion_rate` where partials answer it (no filter: the same visitors).
fn needs_total(q: &Query) -> bool {
    q.metrics.contains(&Metric::Percentage) || q.metrics.contains(&Metric::ConversionRate)
}

/// Gives every row the `percentage` denominator: the visitors of the part's total.
fn set_total(rows: &mut [Bases], total: &[Bases]) {
    let total: i64 = total.iter().map(|b| b.sums.visitors).sum();
    rows.iter_mut().for_each(|r| r.sums.total_visitors = total);
}

/// The events part, from `boundary` on, unpaginated and with its sums.
fn from_events(
    backend: &dyn Backend,
    q: &Query,
    boundary: chrono::NaiveDateTime,
) -> Result<Vec<Bases>, QueryError> {
    let mut eq = q.clone();
    eq.from = eq.from.max(boundary);
    eq.limit = u64::MAX;
    eq.offset = 0;
    let sums: Vec<Metric> = VISIT_SUMS
        .iter()
        .chain(EVENT_SUMS)
        .copied()
        .filter(|m| wanted(q, *m))
        .collect();
    eq.metrics.extend(&sums);
    let n = q.metrics.len();
    Ok(backend
        .run(&eq)?
        .into_iter()
        .map(|row| {
            let mut s = Sums::default();
            for (m, v) in sums.iter().zip(row.metrics.iter().skip(n)) {
                let v = v.as_i64().unwrap_or(0);
                match m {
                    Metric::Visitors => s.visitors = v,
                    Metric::Visits => s.visits = v,
                    Metric::Pageviews => s.pageviews = v,
                    Metric::Events => s.events = v,
                    Metric::Sessions => s.sessions = v,
                    Metric::Bounces => s.bounces = v,
                    Metric::Duration => s.duration = v,
                    Metric::SessionPageviews => s.session_pageviews = v,
                    Metric::TotalVisitors => s.total_visitors = v,
                    Metric::EngagedMs => s.engaged_ms = v,
                    Metric::EngagedVisitors => s.engaged_visitors = v,
                    _ => {}
                }
            }
            Bases {
                dimensions: row.dimensions,
                sums: s,
                kept: row.metrics.into_iter().take(n).collect(),
            }
        })
        .collect())
}

/// Adds rows with the same dimension values; the result holds only sums. A query
/// without dimensions always has one row.
fn merge(q: &Query, parts: Vec<Vec<Bases>>) -> Vec<Bases> {
    // The denominator is the whole answer's, the same on every row of a part: add
    // each part's once.
    let total: i64 = parts
        .iter()
        .filter_map(|part| part.first())
        .map(|b| b.sums.total_visitors)
        .sum();
    let mut order: Vec<Vec<String>> = Vec::new();
    let mut by_key: HashMap<Vec<String>, Sums> = HashMap::new();
    // A part's total-only row (no dimensions in a query with some) is no answer row.
    let answer_rows = parts
        .into_iter()
        .flatten()
        .filter(|b| b.dimensions.len() == q.dimensions.len());
    for b in answer_rows {
        let entry = by_key.entry(b.dimensions.clone()).or_insert_with(|| {
            order.push(b.dimensions.clone());
            Sums::default()
        });
        entry.add(&b.sums);
    }
    if q.dimensions.is_empty() && order.is_empty() {
        order.push(Vec::new());
    }
    order
        .into_iter()
        .map(|key| {
            let mut sums = by_key.remove(&key).unwrap_or_default();
            sums.total_visitors = total;
            Bases {
                dimensions: key,
                sums,
                kept: Vec::new(),
            }
        })
        .collect()
}

/// Folds rows under `k` visitors into `(other)` (property dimensions only).
fn fold_small(rows: Vec<Bases>, q: &Query, k: i64) -> Vec<Bases> {
    let mut out: Vec<Bases> = Vec::new();
    let mut other: Vec<Bases> = Vec::new();
    for b in rows {
        if b.sums.visitors >= k && !b.dimensions.iter().any(|d| d == "(other)") {
            out.push(b);
            continue;
        }
        let key: Vec<String> = b
            .dimensions
            .iter()
            .zip(&q.dimensions)
            .map(|(v, d)| match d {
                Dimension::Time(_) => v.clone(),
                Dimension::Prop(_) => "(other)".to_owned(),
            })
            .collect();
        match other.iter_mut().find(|o| o.dimensions == key) {
            Some(o) => {
                let total = o.sums.total_visitors;
                o.sums.add(&b.sums);
                o.sums.total_visitors = total;
            }
            None => other.push(Bases {
                dimensions: key,
                sums: b.sums,
                kept: Vec::new(),
            }),
        }
    }
    out.extend(other);
    out
}

fn round_to(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (b != 0).then(|| a as f64 / b as f64)
}

/// `100.0 * a / b` in the SQL's order (multiplied first), so halves round alike.
fn percent(a: i64, b: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (b != 0).then(|| 100.0 * a as f64 / b as f64)
}

#[allow(clippy::cast_possible_truncation)]
fn whole(x: f64) -> i64 {
    x.round() as i64
}

/// The query's metrics of a row: the backend's values if kept, else from the sums
/// with the same rounding as `sql/duckdb/query/stats.sql`.
fn finish(q: &Query, b: Bases) -> Row {
    if b.kept.len() == q.metrics.len() && !b.kept.is_empty() {
        return Row {
            dimensions: b.dimensions,
            metrics: b.kept,
        };
    }
    let s = b.sums;
    let metrics = q
        .metrics
        .iter()
        .map(|m| match m {
            Metric::Visitors => json!(s.visitors),
            Metric::Visits => json!(s.visits),
            Metric::Pageviews => json!(s.pageviews),
            Metric::Events => json!(s.events),
            Metric::ViewsPerVisit => {
                json!(ratio(s.session_pageviews, s.sessions).map_or(0.0, |r| round_to(r, 2)))
            }
            Metric::BounceRate => {
                json!(percent(s.bounces, s.sessions).map_or(0, whole))
            }
            Metric::VisitDuration => json!(ratio(s.duration, s.sessions).map_or(0, whole)),
            Metric::Percentage => {
                json!(percent(s.visitors, s.total_visitors).map_or(0.0, |r| round_to(r, 1)))
            }
            Metric::ConversionRate => {
                json!(percent(s.visitors, s.total_visitors).map_or(0.0, |r| round_to(r, 2)))
            }
            Metric::TimeOnPage => ratio(s.engaged_ms, s.engaged_visitors)
                .map_or(Value::Null, |r| json!(whole(r / 1000.0))),
            _ => Value::Null,
        })
        .collect();
    Row {
        dimensions: b.dimensions,
        metrics,
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// `ORDER BY` as `sql/duckdb/query/stats.sql` does: the requested keys (metrics NULLS LAST),
/// then the dimensions ascending.
fn sort(rows: &mut [Row], q: &Query) {
    use std::cmp::Ordering;
    rows.sort_by(|a, b| {
        for (key, desc) in &q.order_by {
            let ord = match key {
                OrderKey::Metric(i) => {
                    match (
                        a.metrics.get(*i).and_then(number),
                        b.metrics.get(*i).and_then(number),
                    ) {
                        (Some(x), Some(y)) => {
                            let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                            if *desc { o.reverse() } else { o }
                        }
                        (Some(_), None) => Ordering::Less,
                        (None, Some(_)) => Ordering::Greater,
                        (None, None) => Ordering::Equal,
                    }
                }
                OrderKey::Dimension(i) => {
                    let o = a.dimensions.get(*i).cmp(&b.dimensions.get(*i));
                    if *desc { o.reverse() } else { o }
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.dimensions.cmp(&b.dimensions)
    });
}
