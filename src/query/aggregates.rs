//! Aggregates: the part of a [`Query`] that reaches before the event retention,
//! answered from the anonymous `daily_aggregates` (`sql/duckdb/query/aggregates.sql`).
//!
//! Daily aggregates hold, per site × UTC day × dimension value, visitors, visits,
//! pageviews, bounces, summed duration and events. Because the visitor pseudonym's salt
//! rotates daily, visitors are per day already, so days add up: summing daily rows
//! gives the numbers the events path gives for the same days. What they can answer:
//! the metrics `visitors`, `visits`, `pageviews`, `events`, `bounce_rate`,
//! `visit_duration`, `views_per_visit` and `percentage`; no property or one stored
//! property as dimension, optionally with `time:day|week|month`; and one `is` filter,
//! on that same property or, from the daily pairs (`sql/duckdb/query/pairs.sql`), on another.
//! Everything else — several filters, other filter operators, `time:hour`, engagement
//! metrics, conversion rates, local days in a zone other than UTC — is refused with a
//! message saying why, so no answer is ever a wrong number. Dimension names come from
//! [`Prop::rollup`], never from the request's text.
//!
//! A pair answer is exact unless cells were folded: a cell of fewer than the minimum
//! crowd size joins its filter value's `(other)` row, and that row is dropped if it is
//! still too small ([`AggQuery::approximate`] tells the API to say so).

use chrono::NaiveDate;

use super::{Dimension, Filter, Granularity, Metric, Op, Prop, Query, QueryError};

/// The roll-up labels a missing referrer `(none)`; the API says `Direct / None`.
const REFERRER_NONE: (&str, &str) = ("(none)", "Direct / None");

/// A validated aggregate query over whole UTC days `[first, end)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggQuery {
    pub site: String,
    pub first: NaiveDate,
    pub end: NaiveDate,
    /// Rows giving visitors, visits, pageviews, events (`total` without a property).
    pub dimension: &'static str,
    /// Rows giving the visit metrics.
    pub session_dimension: &'static str,
    /// `event:goal`: names other than `pageview`/`engagement` only.
    pub goals_only: bool,
    /// `is` values on `dimension`, if filtered.
    pub values: Option<Vec<String>>,
    pub case_sensitive: bool,
    /// Output layout: for each query dimension, the time bucket or the property value.
    pub slots: Vec<Dimension>,
    /// The API property, for label translation.
    pub prop: Option<&'static str>,
    /// A filter on another property than the breakdown's, answered from the daily
    /// pairs: its dimension for `dimension` and for `session_dimension`.
    pub pair: Option<Pair>,
}

/// The filter side of a pair query.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub dimension: &'static str,
    pub session_dimension: &'static str,
    /// The filter's API property, for `total` and value translation.
    pub prop: &'static str,
}

/// Where a dimension's visit metrics are rolled up: a page's are those of the
/// visits that entered on it, as the events path counts them.
fn session_of(dimension: &'static str) -> &'static str {
    if dimension == "page" {
        "entry_page"
    } else {
        dimension
    }
}

/// The aggregate dimension of an API property ([`Prop::rollup`]).
fn mapped(name: &str) -> Option<&'static str> {
    Prop::parse(name).and_then(|p| p.rollup)
}

/// Checks that aggregates can answer `q` for days `[first, end)` and builds the query;
/// `events_from` (the first day with events) is named in the refusal.
pub fn translate(
    q: &Query,
    first: NaiveDate,
    end: NaiveDate,
    events_from: NaiveDate,
) -> Result<AggQuery, QueryError> {
    let no = |what: String| {
        QueryError::PastEvents(format!(
            "this query reaches before {events_from}, where only daily aggregates are kept; \
             they cannot {what}"
        ))
    };
    if q.offsets.iter().any(|o| o.offset_secs != 0) {
        return Err(no(
            "answer days in the site's time zone: they are kept per UTC day".into(),
        ));
    }
    for m in &q.metrics {
        if !matches!(
            m,
            Metric::Visitors
                | Metric::Visits
                | Metric::Pageviews
                | Metric::ViewsPerVisit
                | Metric::BounceRate
                | Metric::VisitDuration
                | Metric::Events
                | Metric::Percentage
        ) {
            return Err(no(format!("answer the metric `{}`", m.name())));
        }
    }
    let mut prop_dim = None;
    let mut times = 0;
    for d in &q.dimensions {
        match d {
            Dimension::Time(g @ (Granularity::Hour | Granularity::Minute)) => {
                let name = if *g == Granularity::Hour {
                    "hour"
                } else {
                    "minute"
                };
                return Err(no(format!("break down by `time:{name}`")));
            }
            Dimension::Time(_) => times += 1,
            Dimension::Prop(p) => {
                if prop_dim.is_some() {
                    return Err(no("break down by more than one property".into()));
                }
                if mapped(p.name).is_none() {
                    return Err(no(format!("break down by `{}`", p.name)));
                }
                prop_dim = Some(*p);
            }
        }
    }
    if times > 1 {
        return Err(no("break down by more than one time granularity".into()));
    }
    let mut filter = None;
    for f in &q.filters {
        let Filter::Leaf {
            op: Op::Is,
            prop,
            values,
            case_sensitive,
        } = f
        else {
            return Err(no(
                "apply filters other than `is` on the broken-down property".into(),
            ));
        };
        if filter.is_some() {
            return Err(no("combine several filters".into()));
        }
        if mapped(prop.name).is_none() {
            return Err(no(format!("filter on `{}`", prop.name)));
        }
        if let Some(d) = prop_dim
            && d.name != prop.name
            && mapped(d.name) == mapped(prop.name)
        {
            return Err(no(format!(
                "combine a filter on {} with a breakdown by {}",
                prop.name, d.name
            )));
        }
        filter = Some((*prop, values.clone(), *case_sensitive));
    }
    let session_metrics = q.metrics.iter().any(|m| m.is_session());
    if let Some((p, ..)) = &filter
        && session_metrics
        && p.is_event()
        && prop_dim.is_none_or(|d| d.name != p.name)
    {
        return Err(no(format!(
            "answer visit metrics (bounce_rate, visit_duration, views_per_visit) with a \
             filter on {}",
            p.name
        )));
    }
    if let Some((_, values, _)) = &filter
        && values.len() > 1
        && q.metrics.contains(&Metric::Percentage)
    {
        return Err(no(
            "answer `percentage` with a filter on several values".into()
        ));
    }
    let prop = prop_dim.or(filter.as_ref().map(|f| f.0));
    let dimension = prop.and_then(|p| mapped(p.name)).unwrap_or("total");
    let session_dimension = session_of(dimension);
    let prop_name = prop.map(|p| p.name);
    let pair = match (&filter, prop) {
        (Some((f, ..)), Some(p)) if f.name != p.name => {
            let dimension = mapped(f.name).unwrap_or("total");
            Some(Pair {
                dimension,
                session_dimension: session_of(dimension),
                prop: f.name,
            })
        }
        _ => None,
    };
    let filter_name = filter.as_ref().map(|f| f.0.name);
    let (values, case_sensitive) = match filter {
        Some((_, values, cs)) => {
            let values = values
                .into_iter()
                .map(|v| {
                    if filter_name == Some("visit:referrer") && v == REFERRER_NONE.1 {
                        REFERRER_NONE.0.to_owned()
                    } else {
                        v
                    }
                })
                .collect();
            (Some(values), cs)
        }
        None => (None, true),
    };
    Ok(AggQuery {
        site: q.site.clone(),
        first,
        end,
        dimension,
        session_dimension,
        goals_only: prop_name == Some("event:goal"),
        values,
        case_sensitive,
        slots: q.dimensions.clone(),
        prop: prop_name,
        pair,
    })
}

/// A row's dimension labels in the query's order, from its time bucket and label.
pub(super) fn slot_labels(
    slots: &[Dimension],
    bucket: Option<String>,
    label: Option<String>,
) -> Vec<String> {
    slots
        .iter()
        .map(|d| match d {
            Dimension::Time(_) => bucket.clone(),
            Dimension::Prop(_) => label.clone(),
        })
        .map(|v| v.unwrap_or_else(|| "(none)".into()))
        .collect()
}

impl AggQuery {
    /// The same days and filter without any breakdown (the `percentage` denominator).
    pub fn total(&self) -> Self {
        match &self.pair {
            // The filter's own rows: summing the pairs would count a visitor once
            // per value of the breakdown.
            Some(pair) => Self {
                dimension: pair.dimension,
                session_dimension: pair.session_dimension,
                goals_only: pair.prop == "event:goal",
                slots: Vec::new(),
                prop: Some(pair.prop),
                pair: None,
                ..self.clone()
            },
            None => Self {
                slots: Vec::new(),
                ..self.clone()
            },
        }
    }

    /// Whether the answer may miss visitors: a pair answer when rows under
    /// `min_crowd` visitors were folded when the events expired, or when the filter names several
    /// values (a visitor of two counts twice).
    pub fn approximate(&self, min_crowd: u32) -> bool {
        self.pair.is_some() && (min_crowd > 1 || self.values.as_ref().is_some_and(|v| v.len() > 1))
    }

    /// A result row's dimension labels in the query's order.
    pub fn labels(&self, bucket: Option<String>, label: Option<String>) -> Vec<String> {
        let label = label.map(|l| {
            if self.prop == Some("visit:referrer") && l == REFERRER_NONE.0 {
                REFERRER_NONE.1.to_owned()
            } else {
                l
            }
        });
        slot_labels(&self.slots, bucket, label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{OrderKey, Prop, VisitDays};

    fn query(dims: &[&str], filter: Option<(&str, Op)>) -> Query {
        Query {
            site: "example.org".into(),
            from: NaiveDate::MIN.and_time(chrono::NaiveTime::MIN),
            to: NaiveDate::MIN.and_time(chrono::NaiveTime::MIN),
            metrics: vec![Metric::Visitors, Metric::BounceRate],
            dimensions: dims
                .iter()
                .map(|d| Dimension::Prop(Prop::parse(d).unwrap_or(&crate::query::PROPS[0])))
                .collect(),
            filters: filter
                .map(|(p, op)| Filter::Leaf {
                    op,
                    prop: Prop::parse(p).unwrap_or(&crate::query::PROPS[0]),
                    values: vec!["NL'; DROP TABLE events; --".into()],
                    case_sensitive: true,
                })
                .into_iter()
                .collect(),
            order_by: vec![(OrderKey::Metric(0), true)],
            limit: 10,
            offset: 0,
            offsets: Vec::new(),
            visits: VisitDays::All,
            stored_visits: None,
            custom_keys: Vec::new(),
        }
    }

    #[test]
    fn answerable_queries_bind_every_value() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        let q = query(&["visit:country"], Some(("visit:country", Op::Is)));
        let agg = translate(&q, day, day, day).expect("answerable");
        assert_eq!(agg.dimension, "country");
        let (text, params) = agg.render();
        assert!(!text.contains("DROP"));
        assert!(text.contains("value IN ($7)"));
        assert_eq!(params.len(), 7);
        let page = translate(&query(&["event:page"], None), day, day, day).expect("pages");
        assert_eq!(page.session_dimension, "entry_page");
    }

    #[test]
    fn a_filter_on_another_property_reads_the_pairs() {
        let day = NaiveDate::from_ymd_opt(2026, 10, 27).unwrap_or_default();
        let mut q = query(&["event:page"], Some(("visit:country", Op::Is)));
        q.metrics = vec![Metric::Visitors, Metric::BounceRate];
        let agg = translate(&q, day, day, day).expect("answerable");
        let pair = agg.pair.clone().expect("a pair");
        assert_eq!(
            (pair.dimension, pair.session_dimension),
            ("country", "country")
        );
        assert_eq!(
            (agg.dimension, agg.session_dimension),
            ("page", "entry_page")
        );
        let (text, params) = agg.render();
        assert!(text.contains("FROM daily_pairs") && text.contains("value IN ($9)"));
        assert_eq!(params.len(), 9);
        assert!(agg.approximate(5) && !agg.approximate(1));
        // The denominator is the filter's own rows.
        let total = agg.total();
        assert_eq!((total.dimension, total.pair), ("country", None));
    }

    #[test]
    fn unanswerable_queries_say_why() {
        let day = NaiveDate::from_ymd_opt(2026, 10, 27).unwrap_or_default();
        let q = query(&["event:goal"], Some(("event:name", Op::Is)));
        let e = translate(&q, day, day, day).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "this query reaches before 2026-10-27, where only daily aggregates are kept; \
                 they cannot combine a filter on event:name with a breakdown by event:goal"
            )
        );
        // Visit metrics under a page filter are not the entry page's.
        let q = query(&["visit:source"], Some(("event:page", Op::Is)));
        assert!(translate(&q, day, day, day).is_err());
        let q = query(&["visit:country"], Some(("visit:country", Op::Contains)));
        assert!(translate(&q, day, day, day).is_err());
        assert!(translate(&query(&["visit:os_version"], None), day, day, day).is_err());
    }
}
