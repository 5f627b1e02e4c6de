//! Plan: a typed [`Query`] → SQL text and bound parameters. The text comes only from
//! `sql/duckdb/query/` (`visits_cte.sql` followed by `stats.sql`, or by `by_visit.sql` for
//! queries that read visits only) and the fixed fragments in this file, with property
//! expressions derived from [`PROPS`]; every value a request carries (site, times,
//! filter values, limit, offset) becomes a `?` parameter, pushed in the order its `?`
//! appears.
//!
//! [`PROPS`]: crate::query::PROPS

use std::fmt::Write as _;

use chrono::NaiveDate;

use crate::query::{
    Dimension, Filter, Granularity, Metric, Op, OrderKey, Prop, Query, Taken, VisitDays,
};

/// Every query over events: the visits, then the event-level shape…
const TEMPLATE: &str = concat!(
    include_str!("../../../sql/duckdb/query/visits_cte.sql"),
    include_str!("../../../sql/duckdb/query/stats.sql")
);
/// …or the visit-level one, for queries that only read visits (see [`by_visit`]).
const BY_VISIT: &str = concat!(
    include_str!("../../../sql/duckdb/query/visits_cte.sql"),
    include_str!("../../../sql/duckdb/query/by_visit.sql")
);

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    /// A UTC timestamp, microseconds since the epoch.
    Micros(i64),
    Bool(bool),
}

#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub params: Vec<Param>,
    /// Whether the events are read from the matching visits' lists ([`from_lists`]).
    lists: bool,
    /// The query's custom-property keys, by slot, for [`push_expr`].
    custom: Vec<String>,
}

impl Sql {
    fn push(&mut self, fragment: &str) {
        self.text.push_str(fragment);
    }

    fn bind(&mut self, param: Param) {
        self.text.push('?');
        self.params.push(param);
    }
}

/// The conversion-rate denominators in general: the query without its goal filters,
/// by its other dimensions (rendered into `stats.sql`'s `conv`).
const CONVERSION: &str = "SELECT {conversion_dims}
        count(DISTINCT visitor_id) FILTER (WHERE name <> 'engagement')
            + count(*) FILTER (WHERE visitor_id IS NULL AND name <> 'engagement') AS visitors
    FROM {conversion_source}
    GROUP BY ALL";

/// …or, for such queries by time bucket under visit filters, the visits split by
/// bucket (see [`by_visit_time`]).
const BY_VISIT_TIME: &str = concat!(
    include_str!("../../../sql/duckdb/query/visits_cte.sql"),
    include_str!("../../../sql/duckdb/query/by_visit_time.sql")
);

/// Renders a fragment's own placeholders (no bare parameters in it).
fn expand(sql: &mut Sql, q: &Query, text: &str) {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        sql.push(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        fill(sql, q, &rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    sql.push(rest);
}

/// Whether the query has filters and every one reads visit properties only.
fn visit_filters_only(q: &Query) -> bool {
    !q.filters.is_empty() && filtered_props(&q.filters).iter().all(|p| !p.is_event())
}

/// Renders the statement for `q`.
pub fn plan(q: &Query) -> Sql {
    if by_visit(q) {
        render(q, BY_VISIT, false)
    } else if by_visit_time(q) {
        render(q, BY_VISIT_TIME, false)
    } else {
        render(q, TEMPLATE, from_lists(q))
    }
}

/// Whether the query's events can be read from the lists of the matching visits
/// (`visits.event_list`: each event's name and page) instead of joining every event
/// of the range onto the visits: a breakdown by page filtered by visit properties
/// alone, counting visitors, pageviews and events. Measured on 10M events with one
/// country filter: 267 ms instead of 454.
fn from_lists(q: &Query) -> bool {
    visit_filters_only(q)
        && !q.dimensions.is_empty()
        // Not goals: the join then reads only the few goal events, which is faster.
        && q.dimensions.iter().all(|d| {
            matches!(d, Dimension::Prop(p) if p.taken == Taken::PerEvent && p.column == "pathname")
        })
        && q.metrics.iter().all(|m| {
            matches!(
                m,
                Metric::Visitors
                    | Metric::Pageviews
                    | Metric::Events
                    | Metric::Percentage
                    | Metric::ConversionRate
                    | Metric::TotalVisitors
            )
        })
}

/// `q` in the event-level shape even where [`plan`] would group visits: the tests
/// compare the two shapes' numbers.
#[cfg(test)]
pub fn plan_over_events(q: &Query) -> Sql {
    render(q, TEMPLATE, false)
}

fn render(q: &Query, template: &'static str, lists: bool) -> Sql {
    let mut sql = Sql {
        custom: q.custom_keys.clone(),
        lists,
        ..Sql::default()
    };
    let mut rest = template;
    // The bare `?`s: limit and offset.
    let mut fixed = vec![
        Param::Int(i64::try_from(q.limit).unwrap_or(i64::MAX)),
        Param::Int(i64::try_from(q.offset).unwrap_or(i64::MAX)),
    ]
    .into_iter();
    while let Some(open) = rest.find(['{', '?']) {
        sql.push(&rest[..open]);
        if rest[open..].starts_with('?') {
            if let Some(p) = fixed.next() {
                sql.bind(p);
            }
            rest = &rest[open + 1..];
            continue;
        }
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        fill(&mut sql, q, &rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    sql.push(rest);
    sql
}

fn needs_sessions(q: &Query) -> bool {
    q.metrics.iter().any(|m| m.is_session())
}

/// Whether the query reads visits only: every dimension and filter a visit property
/// and every metric countable per visit. Such a query is answered by grouping the
/// visits (`sql/duckdb/query/by_visit.sql`) instead of joining them onto every event, which
/// on 10M events took about twice as long.
pub fn by_visit(q: &Query) -> bool {
    q.dimensions
        .iter()
        .all(|d| matches!(d, Dimension::Prop(p) if !p.is_event()))
        && filtered_props(&q.filters).iter().all(|p| !p.is_event())
        && q.metrics.iter().all(|m| per_visit(*m))
}

/// Whether the query is one of [`by_visit`]'s but for one time dimension, filtered by
/// visit properties (a graph of a filtered view), or unfiltered over stored visits
/// alone (a sealed day's partials by day: 2.5 instead of 4.9 CPU-s a day, since an
/// unfiltered query would join every event of the day). Its visits are counted in their
/// buckets from their first and last event times and, for the few that span
/// buckets, from their events' times (`sql/duckdb/query/by_visit_time.sql`), instead of
/// joining every event of the range onto the visits. Stored visits keep those times
/// only where their events span UTC hours, so a time zone whose offset is not whole
/// hours takes the join.
pub fn by_visit_time(q: &Query) -> bool {
    let times = q
        .dimensions
        .iter()
        .filter(|d| matches!(d, Dimension::Time(_)))
        .count();
    times == 1
        && q.offsets.iter().all(|o| o.offset_secs % 3600 == 0)
        && (visit_filters_only(q) || (q.filters.is_empty() && stored_visits_only(q)))
        && q.dimensions.iter().all(|d| {
            matches!(d, Dimension::Time(_)) || matches!(d, Dimension::Prop(p) if !p.is_event())
        })
        && q.metrics.iter().all(|m| per_visit(*m))
}

/// Whether every visit the query reads is stored: its visit days lie inside its
/// stored ones. Elsewhere an unfiltered graph counts its events directly, which costs
/// less than grouping them into visits first.
fn stored_visits_only(q: &Query) -> bool {
    match (q.visits, q.stored_visits) {
        (VisitDays::Only(first, last), Some((from, to))) => from <= first && last <= to,
        _ => false,
    }
}

/// Whether a metric can be counted from visits alone.
fn per_visit(m: Metric) -> bool {
    matches!(
        m,
        Metric::Visitors
            | Metric::Visits
            | Metric::Pageviews
            | Metric::Events
            | Metric::BounceRate
            | Metric::VisitDuration
            | Metric::ViewsPerVisit
            | Metric::Percentage
            | Metric::Sessions
            | Metric::Bounces
            | Metric::Duration
            | Metric::SessionPageviews
            | Metric::TotalVisitors
    )
}

/// The stored mark of the visit that stands for its visitor when visitors are
/// counted in the query's groups (`by_dims`) or in its total: `first_visit` (each
/// visitor's first) or `first_by_<p>` (its first with each value of `p`), set at
/// sealing (sql/duckdb/rollup/visits_insert_day.sql). Among a visitor's visits that are steady (`v_steady`: the same steady
/// properties on each), the matching ones in one group are exactly those with
/// certain values of the other properties read. With none other, the visitor's
/// first visit stands for it; with one other property `p` that is a dimension, or
/// that a filter pins to one value, its first visit with that value of `p`. Then
/// a visitor is counted by one visit instead of by a distinct count. Else (time
/// buckets, event properties, two others, `p` matching several values) none.
fn mark(q: &Query, by_dims: bool) -> Option<&'static str> {
    let mut dims = Vec::new();
    if by_dims {
        for d in &q.dimensions {
            match d {
                Dimension::Prop(p) => dims.push(*p),
                Dimension::Time(_) => return None,
            }
        }
    }
    let read = filtered_props(&q.filters)
        .into_iter()
        .chain(dims.iter().copied());
    let mut other: Option<&'static Prop> = None;
    for p in read.filter(|p| !p.steady()) {
        match other {
            Some(o) if o.name != p.name => return None,
            _ => other = Some(p),
        }
    }
    let Some(p) = other else {
        return Some("first_visit");
    };
    let pinned = q.filters.iter().any(|f| {
        matches!(f, Filter::Leaf { op: Op::Is, prop, values, case_sensitive: true }
            if prop.name == p.name && values.len() == 1)
    });
    if !pinned && !dims.iter().any(|d| d.name == p.name) {
        return None;
    }
    p.first_by()
}

/// The visitors among visits (`sess` rows) counted by `mark`, or distinct: a stored
/// steady visitor by its marked visit, the others (unsteady, or grouped from the
/// events) distinctly; the pseudonyms of different days never meet, so the parts
/// add up. The distinct count over the unsteady visitors takes the others as NULL rather than
/// leaving them out with FILTER: DuckDB hashes every row's visitor either way, and
/// a FILTER kept one group per visitor (1.35M groups, 294 ms on 1.7M visits;
/// with NULLs, 150k groups and 58 ms).
fn visitors_by(sql: &mut Sql, mark: Option<&str>) {
    match mark {
        Some(_) => marked_visitors(sql, "v_first", "v_visitor"),
        None => {
            sql.push("count(DISTINCT v_visitor) + count(*) FILTER (WHERE v_visitor IS NULL)");
        }
    }
}

/// The same with the total's mark (`v_first_total`).
fn visitors_total(sql: &mut Sql, q: &Query) {
    match mark(q, false) {
        Some(_) => marked_visitors(sql, "v_first_total", "v_visitor"),
        None => {
            sql.push("count(DISTINCT v_visitor) + count(*) FILTER (WHERE v_visitor IS NULL)");
        }
    }
}

/// Visitors counted by the marked row (`first`, a fixed column name) where the
/// visitor is steady, the others distinctly by `visitor`.
fn marked_visitors(sql: &mut Sql, first: &str, visitor: &str) {
    let _ = write!(
        sql.text,
        "count(*) FILTER (WHERE v_steady AND {first}) \
         + count(DISTINCT CASE WHEN NOT v_steady THEN {visitor} END) \
         + count(*) FILTER (WHERE NOT v_steady AND {visitor} IS NULL)"
    );
}

/// Whether a dimension or filter reads a visit attribute (`v_*` from `sess`).
fn reads_visit(q: &Query) -> bool {
    q.dimensions
        .iter()
        .any(|d| matches!(d, Dimension::Prop(p) if !p.is_event()))
        || filtered_props(&q.filters).iter().any(|p| !p.is_event())
}

/// Every property the filters compare, however deeply nested.
fn filtered_props(filters: &[Filter]) -> Vec<&'static Prop> {
    fn walk(f: &Filter, out: &mut Vec<&'static Prop>) {
        match f {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().for_each(|f| walk(f, out)),
            Filter::Not(inner) => walk(inner, out),
            Filter::Leaf { prop, .. } => out.push(prop),
        }
    }
    let mut out = Vec::new();
    filters.iter().for_each(|f| walk(f, &mut out));
    out
}

/// The aggregates of `em` that the metrics read, each with its trailing comma.
fn event_aggregates(sql: &mut Sql, q: &Query) {
    let wants = |ms: &[Metric]| q.metrics.iter().any(|m| ms.contains(m));
    // From the visits' lists under filters of steady properties alone (every visit
    // of a steady visitor matches or none does), a stored steady visitor is counted
    // on a page by its first event there (`e_first`), the others distinctly.
    let marked = sql.lists && mark(q, false) == Some("first_visit");
    let parts: [(&[Metric], &str); 6] = [
        (
            &[Metric::Visitors, Metric::Percentage, Metric::ConversionRate],
            "count(DISTINCT visitor_id) FILTER (WHERE name <> 'engagement') \
             + count(*) FILTER (WHERE visitor_id IS NULL AND name <> 'engagement') AS visitors,",
        ),
        (
            &[Metric::Visits],
            "count(DISTINCT session_id) FILTER (WHERE name <> 'engagement') \
             + count(*) FILTER (WHERE session_id IS NULL AND name <> 'engagement') AS visits,",
        ),
        (
            &[Metric::Pageviews],
            "count(*) FILTER (WHERE name = 'pageview') AS pageviews,",
        ),
        (
            &[Metric::Events],
            "count(*) FILTER (WHERE name <> 'engagement') AS events,",
        ),
        (
            &[Metric::TimeOnPage, Metric::EngagedMs],
            "sum(engaged_ms) FILTER (WHERE name = 'engagement') AS engaged_ms,",
        ),
        (
            &[Metric::TimeOnPage, Metric::EngagedVisitors],
            "count(DISTINCT visitor_id) FILTER (WHERE name = 'engagement' \
             AND engaged_ms IS NOT NULL) + count(*) FILTER (WHERE visitor_id IS NULL \
             AND name = 'engagement' AND engaged_ms IS NOT NULL) AS engaged_visitors,",
        ),
    ];
    for (i, (metrics, aggregate)) in parts.into_iter().enumerate() {
        if !wants(metrics) {
            continue;
        }
        if i == 0 && marked {
            marked_visitors(sql, "e_first", "visitor_id");
            sql.push(" AS visitors,");
        } else {
            sql.push(aggregate);
        }
        sql.push("\n        ");
    }
}

fn fill(sql: &mut Sql, q: &Query, placeholder: &str) {
    match placeholder {
        "session_start" => local_time(sql, q, "min(ts) FILTER (WHERE name <> 'engagement')"),
        "session_end" => local_time(sql, q, "max(ts) FILTER (WHERE name <> 'engagement')"),
        "stored_end" => local_time(sql, q, "ended"),
        // by_visit_time.sql: the dimensions by the visit's start, or by each event of
        // its list; then by their names.
        "start_dims" => dims(sql, q, true),
        "list_dims" => {
            for (i, d) in q.dimensions.iter().enumerate() {
                match d {
                    Dimension::Time(g) => {
                        let mut ts = Sql::default();
                        local_time(&mut ts, q, "e.ts");
                        bucket(sql, *g, &ts.text);
                        sql.params.extend(ts.params);
                    }
                    Dimension::Prop(p) => push_expr(sql, p),
                }
                let _ = write!(sql.text, " AS d{i}, ");
            }
        }
        "group_dims" => {
            for i in 0..q.dimensions.len() {
                let _ = write!(sql.text, "d{i}, ");
            }
        }
        "same_bucket" => {
            let mut first = true;
            for d in &q.dimensions {
                if let Dimension::Time(g) = d {
                    if !first {
                        sql.push(" AND ");
                    }
                    first = false;
                    bucket(sql, *g, "v_lstart");
                    sql.push(" = ");
                    bucket(sql, *g, "v_lend");
                }
            }
            if first {
                sql.push("TRUE");
            }
        }
        "in_range" => {
            sql.push("site = ");
            sql.bind(Param::Text(q.site.clone()));
            sql.push(" AND ts >= ");
            sql.bind(Param::Micros(q.from.and_utc().timestamp_micros()));
            sql.push(" AND ts < ");
            sql.bind(Param::Micros(q.to.and_utc().timestamp_micros()));
            sql.push(" AND ");
            visit_days(sql, q.visits);
        }
        "stored_start" => local_time(sql, q, "started"),
        "stored_visits" => stored_visits(sql, q),
        "fresh_days" => fresh_visits(sql, q),
        // The stored visits standing for their visitors (see `mark`), in the groups
        // and in the total, and the visitors counted by them.
        "stored_first" => sql.push(mark(q, true).unwrap_or("NULL")),
        "stored_first_total" => sql.push(mark(q, false).unwrap_or("NULL")),
        "visitors" => visitors_by(sql, mark(q, true)),
        "visitors_total" => visitors_total(sql, q),
        "visit_filter" => {
            if visit_filters_only(q) {
                filters(sql, &q.filters);
            } else {
                sql.push("TRUE");
            }
        }
        "event_time" => local_time(sql, q, "ts"),
        "filter" => filters(sql, &q.filters),
        // Events with their visit's attributes: every event of the range joined to
        // its visit, or the matching visits' own lists of events.
        "events" => {
            if sql.lists {
                // Only the matching visits' lists, unnested in the projection: as a
                // lateral join of the table function, DuckDB took four times as long.
                sql.push(
                    "SELECT m.* EXCLUDE (e), m.e.name AS name, m.e.p AS pathname, m.e.first AS e_first,\n        v_visitor AS visitor_id\n    \
                     FROM (SELECT *, unnest(v_event_list) AS e FROM sess WHERE ",
                );
                filters(sql, &q.filters);
                sql.push(") AS m");
            } else {
                expand(sql, q, "SELECT base.*, {event_time} AS lts {visit_join}");
            }
        }
        // A filtered query reads its matching events more than once (groups, total,
        // visit metrics): joined and filtered once, they are kept. Unfiltered, that
        // would keep every event of the range.
        "matched_mode" => sql.push(if q.filters.is_empty() || visit_filters_only(q) {
            ""
        } else {
            "MATERIALIZED "
        }),
        // The visitors of the whole answer. Under visit filters alone they are the
        // matching visits' (with an event other than engagement, as in `em`): the
        // visits are far fewer than their events, and the events need not be kept.
        "total" => {
            if visit_filters_only(q) {
                sql.push("SELECT ");
                visitors_total(sql, q);
                sql.push(" AS visitors\n    FROM sess\n    WHERE ");
                filters(sql, &q.filters);
                sql.push(" AND v_events > 0");
            } else {
                sql.push(
                    "SELECT count(DISTINCT visitor_id) FILTER (WHERE name <> 'engagement')\n        + count(*) FILTER (WHERE visitor_id IS NULL AND name <> 'engagement') AS visitors\n    FROM matched",
                );
            }
        }
        "event_dims" => dims(sql, q, false),
        "event_aggregates" => event_aggregates(sql, q),
        "visit_join" => sql.push(if reads_visit(q) {
            ", sess.* EXCLUDE (sk, v_event_list, v_hours)\n    FROM base JOIN sess USING (sk)"
        } else {
            "\n    FROM base"
        }),
        "visit_matched" => {
            if q.filters.is_empty() {
                sql.push("TRUE");
            } else if visit_filters_only(q) {
                filters(sql, &q.filters);
            } else {
                sql.push("sk IN (SELECT sk FROM matched)");
            }
        }
        "event_present" => {
            let goal = q
                .dimensions
                .iter()
                .any(|d| matches!(d, Dimension::Prop(p) if p.name == "event:goal"));
            sql.push(if goal {
                "name NOT IN ('pageview', 'engagement')"
            } else {
                "TRUE"
            });
        }
        "event_having" => {
            // Groups of engagement events alone are not rows; the aggregate row always is.
            if !q.dimensions.is_empty() {
                sql.push("HAVING count(*) FILTER (WHERE name <> 'engagement') > 0");
            }
        }
        "session_dims" => {
            if needs_sessions(q) {
                dims(sql, q, true);
            }
        }
        "scroll_outer_dims" => {
            for i in 0..q.dimensions.len() {
                let _ = write!(sql.text, "d{i}, ");
            }
        }
        // Without goal filters and other dimensions, the denominator is the total.
        "conversion" => {
            let other_dims = q.dimensions.iter().any(|d| !is_goal_dim(d));
            if !other_dims && !q.filters.iter().any(is_goal_filter) {
                sql.push("SELECT visitors FROM tot");
            } else {
                expand(sql, q, CONVERSION);
            }
        }
        "conversion_dims" => {
            for (i, d) in q.dimensions.iter().enumerate() {
                if !is_goal_dim(d) {
                    dim_expr(sql, q, *d, false);
                    let _ = write!(sql.text, " AS d{i}, ");
                }
            }
        }
        // Without goal filters the denominators' events are the matched ones.
        "conversion_source" => {
            if q.filters.iter().any(is_goal_filter) {
                let kept: Vec<Filter> = q
                    .filters
                    .iter()
                    .filter(|f| !is_goal_filter(f))
                    .cloned()
                    .collect();
                sql.push("ev WHERE ");
                filters(sql, &kept);
            } else {
                sql.push("matched");
            }
        }
        "output" => output(sql, q),
        "joins" => joins(sql, q),
        "order" => order(sql, q),
        // Unknown placeholders cannot come from a request; keep the SQL invalid.
        other => {
            let _ = write!(sql.text, "<unknown placeholder {other}>");
        }
    }
}

/// The base's restriction to visits by the day they began.
fn visit_days(sql: &mut Sql, visits: VisitDays) {
    let (first, last, keep) = match visits {
        VisitDays::All => return sql.push("TRUE"),
        VisitDays::Only(first, last) => (first, last, true),
        VisitDays::Except(first, last) => (first, last, false),
    };
    sql.push(if keep { "(" } else { "(NOT " });
    sql.push("visit_day BETWEEN CAST(");
    sql.bind(Param::Text(first.to_string()));
    sql.push(" AS DATE) AND CAST(");
    sql.bind(Param::Text(last.to_string()));
    sql.push(" AS DATE))");
}

/// The stored visits the query reads: those of its sealed days (see
/// [`Query::stored_visits`]), or none.
fn stored_visits(sql: &mut Sql, q: &Query) {
    let Some((first, last)) = q.stored_visits else {
        return sql.push("FALSE");
    };
    sql.push("site = ");
    sql.bind(Param::Text(q.site.clone()));
    day_range(sql, first, last);
}

/// The events whose visits are grouped here: all but those of the stored visits.
fn fresh_visits(sql: &mut Sql, q: &Query) {
    match q.stored_visits {
        None => sql.push("TRUE"),
        Some((first, last)) => {
            sql.push("NOT (TRUE");
            day_range(sql, first, last);
            sql.push(")");
        }
    }
}

/// ` AND visit_day BETWEEN first AND last`.
fn day_range(sql: &mut Sql, first: NaiveDate, last: NaiveDate) {
    sql.push(" AND visit_day BETWEEN CAST(");
    sql.bind(Param::Text(first.to_string()));
    sql.push(" AS DATE) AND CAST(");
    sql.bind(Param::Text(last.to_string()));
    sql.push(" AS DATE)");
}

fn is_goal_dim(d: &Dimension) -> bool {
    matches!(d, Dimension::Prop(p) if p.is_goal_or_name())
}

fn is_goal_filter(f: &Filter) -> bool {
    matches!(f, Filter::Leaf { prop, .. } if prop.is_goal_or_name())
}

/// The local wall-clock time of `col` (UTC): UTC plus the offset in force then.
fn local_time(sql: &mut Sql, q: &Query, col: &str) {
    match q.offsets.as_slice() {
        [] => sql.push(col),
        [only] if only.offset_secs == 0 => sql.push(col),
        [only] => {
            let _ = write!(sql.text, "({col} + to_seconds(");
            sql.bind(Param::Int(i64::from(only.offset_secs)));
            sql.push("))");
        }
        [first, rest @ ..] => {
            let _ = write!(sql.text, "({col} + to_seconds(CASE");
            for seg in rest.iter().rev() {
                let _ = write!(sql.text, " WHEN {col} >= ");
                sql.bind(Param::Micros(seg.from_micros));
                sql.push(" THEN ");
                sql.bind(Param::Int(i64::from(seg.offset_secs)));
            }
            sql.push(" ELSE ");
            sql.bind(Param::Int(i64::from(first.offset_secs)));
            sql.push(" END))");
        }
    }
}

fn dims(sql: &mut Sql, q: &Query, session: bool) {
    for (i, d) in q.dimensions.iter().enumerate() {
        dim_expr(sql, q, *d, session);
        let _ = write!(sql.text, " AS d{i}, ");
    }
}

fn dim_expr(sql: &mut Sql, _q: &Query, d: Dimension, session: bool) {
    match d {
        Dimension::Prop(p) => {
            if session {
                match session_expr(p) {
                    Some(e) => push_expr(sql, e),
                    None => sql.push("NULL"),
                }
            } else {
                push_expr(sql, p);
            }
        }
        Dimension::Time(g) => bucket(sql, g, if session { "v_lstart" } else { "lts" }),
    }
}

/// The time bucket of `ts` (a local time), grouped as a date or timestamp and
/// formatted only in `output`: formatting every event's time as text first made a
/// timeseries several times slower.
fn bucket(sql: &mut Sql, g: Granularity, ts: &str) {
    let _ = match g {
        Granularity::Minute => write!(sql.text, "date_trunc('minute', {ts})"),
        Granularity::Hour => write!(sql.text, "date_trunc('hour', {ts})"),
        Granularity::Day => write!(sql.text, "CAST({ts} AS DATE)"),
        Granularity::Week => write!(sql.text, "CAST(date_trunc('week', {ts}) AS DATE)"),
        Granularity::Month => write!(sql.text, "CAST(date_trunc('month', {ts}) AS DATE)"),
    };
}

/// A property's value over a row of `ev`/`matched` (an event with its visit's
/// attributes, `v_*`) or of `sess` (a visit): derived from [`PROPS`] alone.
fn push_expr(sql: &mut Sql, p: &Prop) {
    let visit_column = match p.taken {
        Taken::PerEvent => return sql.push(p.column),
        Taken::Custom(slot) => {
            // `props` is the JSON object the pipeline wrote (serde_json, compact,
            // string values). DuckDB's JSON functions are an extension the bundled
            // build lacks (it would try to download it), so the value is matched as
            // text: the key as serde_json escapes it, after `{` or `,` (inside a
            // value every quote is escaped, so a value never matches), then the
            // value's quotes removed and `\"` and `\\` unescaped. The pattern is
            // bound: a key is request text.
            let key = sql
                .custom
                .get(usize::from(slot))
                .cloned()
                .unwrap_or_default();
            let json_key = serde_json::to_string(&key).unwrap_or_default();
            sql.push("coalesce(replace(replace(replace(nullif(regexp_extract(props, ");
            sql.bind(Param::Text(format!(
                r#"[{{,]{}:("(?:[^"\\]|\\.)*")"#,
                regex::escape(&json_key)
            )));
            return sql
                .push(r#", 1), '')[2:-2], '\\', chr(1)), '\"', '"'), chr(1), '\'), '(none)')"#);
        }
        Taken::Goal => {
            return sql.push("CASE WHEN name NOT IN ('pageview', 'engagement') THEN name END");
        }
        Taken::First | Taken::Entry | Taken::Exit => visit_column(p).unwrap_or(p.column),
    };
    match p.none {
        Some(none) => {
            // Labels are fixed strings of the table, never a request's text.
            let _ = write!(sql.text, "coalesce(v_{visit_column}, '{none}')");
        }
        None => {
            let _ = write!(sql.text, "v_{visit_column}");
        }
    }
}

/// The property whose value groups a breakdown's visit metrics: its own for visit
/// properties, [`Prop::visits_by`]'s for the page, none for other event properties.
fn session_expr(p: &Prop) -> Option<&'static Prop> {
    match (p.visits_by, p.is_event()) {
        (Some(by), _) => Prop::parse(by),
        (None, true) => None,
        (None, false) => Prop::parse(p.name),
    }
}

fn filters(sql: &mut Sql, fs: &[Filter]) {
    if fs.is_empty() {
        sql.push("TRUE");
        return;
    }
    join_filters(sql, fs, " AND ");
}

fn join_filters(sql: &mut Sql, fs: &[Filter], sep: &str) {
    sql.push("(");
    for (i, f) in fs.iter().enumerate() {
        if i > 0 {
            sql.push(sep);
        }
        filter(sql, f);
    }
    if fs.is_empty() {
        sql.push("TRUE");
    }
    sql.push(")");
}

fn filter(sql: &mut Sql, f: &Filter) {
    match f {
        Filter::And(fs) => join_filters(sql, fs, " AND "),
        Filter::Or(fs) => join_filters(sql, fs, " OR "),
        Filter::Not(inner) => {
            sql.push("(NOT ");
            filter(sql, inner);
            sql.push(")");
        }
        Filter::Leaf {
            op,
            prop,
            values,
            case_sensitive,
        } => leaf(sql, *op, prop, values, *case_sensitive),
    }
}

/// One comparison. NULL (no goal) compares as false, so `NOT` and `is_not` stay true.
fn leaf(sql: &mut Sql, op: Op, prop: &Prop, values: &[String], case_sensitive: bool) {
    let negate = matches!(op, Op::IsNot | Op::ContainsNot | Op::MatchesNot);
    let column = |sql: &mut Sql| {
        if case_sensitive {
            push_expr(sql, prop);
        } else {
            sql.push("lower(");
            push_expr(sql, prop);
            sql.push(")");
        }
    };
    let value = |sql: &mut Sql, v: &str| {
        let v = if case_sensitive {
            v.to_owned()
        } else {
            v.to_lowercase()
        };
        sql.bind(Param::Text(v));
    };
    if let Some(raw) = bare_column(op, prop, values, case_sensitive) {
        // `col IS NOT NULL AND col IN (…)` is never NULL (so `NOT` stays right) and,
        // unlike a comparison wrapped in coalesce, reaches the scan: DuckDB then
        // skips rows by the column's dictionary instead of filtering every row
        // afterwards (30–40 ms of a filtered dashboard query on 4M visits).
        sql.push(if negate { "(NOT (" } else { "((" });
        let _ = write!(sql.text, "{raw} IS NOT NULL AND {raw} IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(Param::Text(v.clone()));
        }
        sql.push(")))");
        return;
    }
    sql.push(if negate {
        "(NOT coalesce("
    } else {
        "(coalesce("
    });
    match op {
        Op::Is | Op::IsNot => {
            column(sql);
            sql.push(" IN (");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                value(sql, v);
            }
            sql.push(")");
        }
        Op::Contains | Op::ContainsNot | Op::Matches | Op::MatchesNot => {
            let func = if matches!(op, Op::Contains | Op::ContainsNot) {
                "contains"
            } else {
                "regexp_matches"
            };
            sql.push("(");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                let _ = write!(sql.text, "{func}(");
                column(sql);
                sql.push(", ");
                if matches!(op, Op::Matches | Op::MatchesNot) {
                    // Regexes keep their case; `(?i)` is theirs to add.
                    sql.bind(Param::Text(v.clone()));
                } else {
                    value(sql, v);
                }
                sql.push(")");
            }
            sql.push(")");
        }
    }
    sql.push(", FALSE))");
}

/// The bare column an `is` / `is not` comparison can read, where no value is the
/// property's label for a missing value (that label matches NULL, which only the
/// coalesced expression of [`push_expr`] gives).
fn bare_column(op: Op, prop: &Prop, values: &[String], case_sensitive: bool) -> Option<String> {
    if !matches!(op, Op::Is | Op::IsNot) || !case_sensitive {
        return None;
    }
    if prop
        .none
        .is_some_and(|none| values.iter().any(|v| v == none))
    {
        return None;
    }
    match prop.taken {
        Taken::PerEvent => Some(prop.column.to_owned()),
        _ => visit_column(prop).map(|c| format!("v_{c}")),
    }
}

/// The `visits` column (and `sess`'s `v_<column>`) a visit property is kept in.
fn visit_column(p: &Prop) -> Option<&'static str> {
    match p.taken {
        Taken::First => Some(p.column),
        Taken::Entry => Some("entry_page"),
        Taken::Exit => Some("exit_page"),
        Taken::PerEvent | Taken::Goal | Taken::Custom(_) => None,
    }
}

fn join_on(sql: &mut Sql, q: &Query, table: &str, skip_goal: bool) {
    let mut any = false;
    for (i, d) in q.dimensions.iter().enumerate() {
        if skip_goal && is_goal_dim(d) {
            continue;
        }
        if any {
            sql.push(" AND ");
        }
        let _ = write!(sql.text, "em.d{i} IS NOT DISTINCT FROM {table}.d{i}");
        any = true;
    }
    if !any {
        sql.push("TRUE");
    }
}

fn joins(sql: &mut Sql, q: &Query) {
    if needs_sessions(q) {
        sql.push("LEFT JOIN sm ON ");
        join_on(sql, q, "sm", false);
        sql.push("\n");
    }
    if q.metrics.contains(&Metric::ScrollDepth) {
        sql.push("LEFT JOIN sd ON ");
        join_on(sql, q, "sd", false);
        sql.push("\n");
    }
    if q.metrics.contains(&Metric::Percentage) || q.metrics.contains(&Metric::TotalVisitors) {
        sql.push("CROSS JOIN tot\n");
    }
    if q.metrics.contains(&Metric::ConversionRate) {
        sql.push("LEFT JOIN conv ON ");
        join_on(sql, q, "conv", true);
        sql.push("\n");
    }
}

/// The SQL for one metric over the joined groups.
fn metric_expr(m: Metric) -> &'static str {
    match m {
        Metric::Visitors => "CAST(em.visitors AS BIGINT)",
        Metric::Visits => "CAST(em.visits AS BIGINT)",
        Metric::Pageviews => "CAST(em.pageviews AS BIGINT)",
        Metric::Events => "CAST(em.events AS BIGINT)",
        Metric::ViewsPerVisit => {
            "CAST(coalesce(round(sm.pageviews / nullif(sm.sessions, 0), 2), 0) AS DOUBLE)"
        }
        Metric::BounceRate => {
            "CAST(coalesce(round(100.0 * sm.bounces / nullif(sm.sessions, 0)), 0) AS BIGINT)"
        }
        Metric::VisitDuration => {
            "CAST(coalesce(round(sm.duration / nullif(sm.sessions, 0)), 0) AS BIGINT)"
        }
        Metric::Percentage => {
            "CAST(coalesce(round(100.0 * em.visitors / nullif(tot.visitors, 0), 1), 0) AS DOUBLE)"
        }
        Metric::ConversionRate => {
            "CAST(coalesce(round(100.0 * em.visitors / nullif(conv.visitors, 0), 2), 0) AS DOUBLE)"
        }
        Metric::TimeOnPage => {
            "CAST(round(em.engaged_ms / 1000.0 / nullif(em.engaged_visitors, 0)) AS BIGINT)"
        }
        Metric::ScrollDepth => "CAST(round(sd.depth) AS BIGINT)",
        Metric::Sessions => "CAST(coalesce(sm.sessions, 0) AS BIGINT)",
        Metric::Bounces => "CAST(coalesce(sm.bounces, 0) AS BIGINT)",
        Metric::Duration => "CAST(coalesce(sm.duration, 0) AS BIGINT)",
        Metric::SessionPageviews => "CAST(coalesce(sm.pageviews, 0) AS BIGINT)",
        Metric::TotalVisitors => "CAST(coalesce(tot.visitors, 0) AS BIGINT)",
        Metric::EngagedMs => "CAST(coalesce(em.engaged_ms, 0) AS BIGINT)",
        Metric::EngagedVisitors => "CAST(coalesce(em.engaged_visitors, 0) AS BIGINT)",
    }
}

fn output(sql: &mut Sql, q: &Query) {
    let mut first = true;
    let mut sep = |sql: &mut Sql| {
        if !first {
            sql.push(", ");
        }
        first = false;
    };
    for (i, d) in q.dimensions.iter().enumerate() {
        sep(sql);
        let _ = match d {
            Dimension::Time(Granularity::Hour) => {
                write!(sql.text, "strftime(em.d{i}, '%Y-%m-%d %H:00:00') AS d{i}")
            }
            Dimension::Time(Granularity::Minute) => {
                write!(sql.text, "strftime(em.d{i}, '%Y-%m-%d %H:%M:00') AS d{i}")
            }
            Dimension::Time(_) => write!(sql.text, "strftime(em.d{i}, '%Y-%m-%d') AS d{i}"),
            Dimension::Prop(_) => write!(sql.text, "em.d{i} AS d{i}"),
        };
    }
    for (i, m) in q.metrics.iter().enumerate() {
        sep(sql);
        let _ = write!(sql.text, "{} AS m{i}", metric_expr(*m));
    }
}

fn order(sql: &mut Sql, q: &Query) {
    let mut parts: Vec<String> = q
        .order_by
        .iter()
        .map(|(key, desc)| {
            let dir = if *desc { "DESC" } else { "ASC" };
            match key {
                OrderKey::Metric(i) => format!("m{i} {dir} NULLS LAST"),
                OrderKey::Dimension(i) => format!("d{i} {dir}"),
            }
        })
        .collect();
    // Ties broken by the dimensions, so pages are stable.
    parts.extend((0..q.dimensions.len()).map(|i| format!("d{i} ASC")));
    if parts.is_empty() {
        parts.push("1".into());
    }
    sql.push(&parts.join(", "));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::OffsetSegment;

    #[test]
    fn values_are_parameters_in_order() {
        let q = Query {
            site: "example.org".into(),
            from: chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc(),
            to: chrono::DateTime::from_timestamp(86_400, 0)
                .unwrap()
                .naive_utc(),
            metrics: vec![Metric::Visitors, Metric::BounceRate],
            dimensions: vec![Dimension::Time(Granularity::Day)],
            filters: vec![Filter::Leaf {
                op: Op::Is,
                prop: Prop::parse("visit:country").unwrap(),
                values: vec!["NL'; DROP TABLE events; --".into()],
                case_sensitive: true,
            }],
            order_by: vec![(OrderKey::Dimension(0), false)],
            limit: 10,
            offset: 0,
            visits: VisitDays::All,
            stored_visits: None,
            custom_keys: Vec::new(),
            offsets: vec![
                OffsetSegment {
                    from_micros: i64::MIN,
                    offset_secs: 3600,
                },
                OffsetSegment {
                    from_micros: 1000,
                    offset_secs: 7200,
                },
            ],
        };
        let sql = plan(&q);
        assert!(!sql.text.contains("DROP"));
        assert_eq!(sql.text.matches('?').count(), sql.params.len());
        assert_eq!(sql.params[0], Param::Text("example.org".into()));
        assert_eq!(sql.params.last(), Some(&Param::Int(0)));
    }
}
