//! Partials: the part of a [`Query`] answered from `visit_partials`, the engine's own
//! answers over the whole visits of each sealed day (written by
//! [`lifecycle::partials`](crate::lifecycle::partials)), so a query over a month reads a few
//! thousand rows instead of grouping millions of events.
//!
//! Why the sums are exact: a visit's events all carry the day it began
//! (`visit_day`), which is also the day of the salt behind its visitor id, so the
//! visits of different days have disjoint visitors; and the engine's answers over
//! disjoint sets of visits add up (`sql/duckdb/query/stats.sql` counts a visit only where
//! it also counts its events). A query reads the partials of the sealed days whose
//! visits lie wholly inside its range ([`plan`]), and asks the events for every other
//! visit ([`VisitDays::Except`]).
//!
//! What they answer: the additive metrics (`visitors`, `visits`, `pageviews`,
//! `events`, `bounce_rate`, `visit_duration`, `views_per_visit`; `percentage`
//! without a filter or over one value); no property or one as dimension, optionally
//! with `time:day|week|month` for sites in UTC; an `is` filter on that same
//! property, or, with no property as dimension, an `is` filter on one value of any
//! property.
//!
//! A sealed day's exact daily pairs (stored with its visits, the same whole visits)
//! add up the same way: [`pair_plan`] reads them for an `is` filter on one value
//! with a breakdown by another property. Anything else reads the stored visits and
//! the events.

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime};

use super::aggregates::{AggQuery, slot_labels};
use super::{
    Backend, Dimension, Filter, Granularity, Metric, Op, Prop, Query, QueryError, SealedDay,
    VisitDays,
};

/// A query over the partials of visit days `[first, last]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialQuery {
    pub site: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// The property whose rows are read; `""` for the totals.
    pub property: &'static str,
    pub time: Option<Granularity>,
    /// `is` values on `property`, if filtered.
    pub values: Option<Vec<String>>,
    pub case_sensitive: bool,
    /// Output layout: for each query dimension, the time bucket or the property value.
    pub slots: Vec<Dimension>,
    /// The visit figures of the visits with the one page, goal or event name
    /// filtered on, from its own rows in the days' exact pairs: a page's partial
    /// rows have those of the visits that entered there, a goal's none.
    pub visit_figures: Option<OwnRows>,
}

/// The own rows of the exact pairs: per value of an event property, the visit
/// figures of the visits with any event of that value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnRows {
    /// A page's (engagement events included, as a view filtered by the page
    /// matches them).
    Page,
    /// An event name's, which a goal filter reads too: a goal is an event name.
    Name,
}

impl OwnRows {
    fn of(prop: &Prop) -> Option<Self> {
        if prop.name == "event:page" {
            Some(Self::Page)
        } else {
            prop.is_goal_or_name().then_some(Self::Name)
        }
    }

    /// Whether the sealed day's pairs have these rows.
    fn stored(self, day: &SealedDay) -> bool {
        match self {
            Self::Page => day.page_visits,
            Self::Name => day.name_visits,
        }
    }
}

/// The partials a query could read, before knowing which days are sealed.
fn shape(q: &Query) -> Option<PartialQuery> {
    // Time buckets are UTC days in the partials; without a time dimension the site's
    // zone only moves the range, which is in UTC by now.
    let zoned = q.offsets.iter().any(|o| o.offset_secs != 0);
    if q.visits != VisitDays::All || (zoned && q.dimensions.iter().any(|d| d.is_time())) {
        return None;
    }
    // Custom properties are not in the partials (their keys are open-ended).
    let mut named = Vec::new();
    q.filters.iter().for_each(|f| f.props(&mut named));
    let custom_dimension = q
        .dimensions
        .iter()
        .any(|d| matches!(d, Dimension::Prop(p) if p.is_custom()));
    if custom_dimension || named.iter().any(|p| p.is_custom()) {
        return None;
    }
    let mut property = None;
    let mut time = None;
    for d in &q.dimensions {
        match d {
            Dimension::Time(Granularity::Hour | Granularity::Minute) => return None,
            Dimension::Time(g) if time.is_none() => time = Some(*g),
            Dimension::Prop(p) if property.is_none() => property = Some(*p),
            _ => return None,
        }
    }
    let session = q.metrics.iter().any(|m| m.is_session());
    // The top figures (no time bucket) of a view filtered by one page or goal.
    let own_visit_figures = |prop: &Prop| OwnRows::of(prop).is_some() && time.is_none();
    let (values, case_sensitive) = match q.filters.as_slice() {
        [] => (None, true),
        [
            Filter::Leaf {
                op: Op::Is,
                prop,
                values,
                case_sensitive,
            },
        ] if Some(*prop) == property => (Some(values.clone()), *case_sensitive),
        // Without a property to break down by, the filtered property's row for its
        // one value answers (top figures and graphs of a filtered view). One value
        // matched exactly: the rows of several values (or of one value in several
        // cases) may share visitors, and their sums would count them twice.
        [
            Filter::Leaf {
                op: Op::Is,
                prop,
                values,
                case_sensitive: true,
            },
        ] if property.is_none()
            && values.len() == 1
            // An event property's row has visit figures of its own kind (a page's:
            // those of the visits that entered there).
            && (!prop.is_event() || !session || own_visit_figures(prop)) =>
        {
            property = Some(*prop);
            (Some(values.clone()), true)
        }
        _ => return None,
    };
    let additive = q.metrics.iter().all(|m| {
        matches!(
            m,
            Metric::Visitors
                | Metric::Visits
                | Metric::Pageviews
                | Metric::Events
                | Metric::ViewsPerVisit
                | Metric::BounceRate
                | Metric::VisitDuration
        )
            // Over the visitors of the whole answer: with one value matched exactly,
            // that value's row.
            || (*m == Metric::Percentage
                && values
                    .as_ref()
                    .is_none_or(|v| v.len() == 1 && case_sensitive))
            // Visitors with the goal over all visitors: with no filter and no time
            // bucket, the denominator is the partials' total, as for `percentage`.
            || (*m == Metric::ConversionRate
                && values.is_none()
                && time.is_none()
                && property.is_some_and(Prop::is_goal_or_name))
    });
    // Only the filtered arm above lets a page or goal through without a dimension.
    let visit_figures = property
        .and_then(OwnRows::of)
        .filter(|_| session && q.dimensions.is_empty());
    additive.then(|| PartialQuery {
        visit_figures,
        site: q.site.clone(),
        first: NaiveDate::MIN,
        last: NaiveDate::MIN,
        property: property.map_or("", |p| p.name),
        time,
        values,
        case_sensitive,
        slots: q.dimensions.clone(),
    })
}

/// A filtered breakdown that the sealed days' exact daily pairs answer, with the
/// filter's own partial row as the denominator of `percentage` and
/// `conversion_rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct PairPlan {
    /// The cells of the filter's value and the broken-down property, over the days.
    pub pairs: AggQuery,
    /// The filter's value over the same days.
    pub total: PartialQuery,
}

impl PairPlan {
    /// The visit days read from the pairs.
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        (self.total.first, self.total.last)
    }
}

/// The pairs `q` reads, if any: for one `is` filter on one value (matched exactly)
/// and a breakdown by another property, counting visitors, visits, pageviews,
/// events and `percentage` (or the conversion rate of goals under a filter on
/// another property), the longest run of sealed days inside the range whose pairs
/// are exact and whose partials are stored. A sealed day's pairs count its whole
/// visits as the engine does, so they add up with the events' answer for every
/// other visit like the partials do. Visit figures are left to the visits: an event
/// property's cells carry none.
pub fn pair_plan(sealed: &[SealedDay], q: &Query, events_from: NaiveDate) -> Option<PairPlan> {
    let [Dimension::Prop(by)] = q.dimensions.as_slice() else {
        return None;
    };
    let (prop, values) = q.exact_is_filter()?;
    if q.visits != VisitDays::All
        || values.len() != 1
        || prop.name == by.name
        || prop.is_custom()
        || by.is_custom()
    {
        return None;
    }
    let counts = q.metrics.iter().all(|m| {
        matches!(
            m,
            Metric::Visitors
                | Metric::Visits
                | Metric::Pageviews
                | Metric::Events
                | Metric::Percentage
        ) || (*m == Metric::ConversionRate && by.is_goal_or_name() && !prop.is_goal_or_name())
    });
    if !counts {
        return None;
    }
    let (first, last) = sealed_inside(sealed, q, false, |d| d.pairs && d.partials)?;
    // Whole UTC days of visits: the site's zone has moved the range already.
    let utc = Query {
        metrics: vec![Metric::Visitors],
        offsets: Vec::new(),
        ..q.clone()
    };
    let pairs = super::aggregates::translate(&utc, first, last + Days::new(1), events_from).ok()?;
    pairs.pair.as_ref()?;
    let mut total = shape(&Query {
        dimensions: Vec::new(),
        ..utc
    })?;
    total.first = first;
    total.last = last;
    Some(PairPlan { pairs, total })
}

/// The first midnight at or after `t`.
fn day_from(t: NaiveDateTime) -> NaiveDate {
    if t.time() == NaiveTime::MIN {
        t.date()
    } else {
        t.date() + Days::new(1)
    }
}

/// The partials `q` reads, if any: the longest run of consecutive sealed days from
/// `events_from` on whose visits lie wholly inside the query's range. With weeks or
/// months, a day whose visits reach two days on is left to the events, because its
/// rows give buckets of one day only.
/// `sealed`: [`sealed_days`] of the query.
pub fn plan(sealed: &[SealedDay], q: &Query) -> Option<PartialQuery> {
    let mut pq = shape(q)?;
    let days_apart = matches!(pq.time, Some(Granularity::Week | Granularity::Month));
    let (first, last) = sealed_inside(sealed, q, days_apart, |d| {
        d.partials && pq.visit_figures.is_none_or(|own| own.stored(d))
    })?;
    pq.first = first;
    pq.last = last;
    Some(pq)
}

/// The sealed visit days `q`'s range could read whole: from `events_from` (or the
/// first midnight of the range) to its end; none for a range restricted by visit day.
pub fn sealed_days(
    backend: &dyn Backend,
    q: &Query,
    events_from: NaiveDate,
) -> Result<Vec<SealedDay>, QueryError> {
    let first = day_from(q.from).max(events_from);
    let end = q.to.date();
    if first >= end || q.visits != VisitDays::All {
        return Ok(Vec::new());
    }
    backend.sealed_days(first, end)
}

/// The longest run of consecutive days of `sealed` ([`sealed_days`] of `q`) whose
/// visits lie wholly inside `q`'s range, if any; only days that have what `usable`
/// asks for (their partials stored, say). With `days_apart`, a day whose visits
/// reach two days on is left out.
pub fn sealed_inside(
    sealed: &[SealedDay],
    q: &Query,
    days_apart: bool,
    usable: impl Fn(&SealedDay) -> bool,
) -> Option<(NaiveDate, NaiveDate)> {
    let end = q.to.date();
    let mut best: Option<(NaiveDate, NaiveDate)> = None;
    let mut run: Option<(NaiveDate, NaiveDate)> = None;
    for sealed in sealed {
        let (day, last_day) = (sealed.day, sealed.last_day);
        let usable =
            last_day < end && !(days_apart && last_day > day + Days::new(1)) && usable(sealed);
        run = match run {
            Some((start, prev)) if usable && prev + Days::new(1) == day => Some((start, day)),
            _ if usable => Some((day, day)),
            _ => None,
        };
        if let Some((start, stop)) = run
            && best.is_none_or(|(a, b)| (stop - start) > (b - a))
        {
            best = Some((start, stop));
        }
    }
    best
}

impl PartialQuery {
    /// The same days without breakdown, and without filter unless one value is
    /// matched (the `percentage` and `conversion_rate` denominators: [`shape`] lets
    /// no conversion rate through with a filter).
    pub fn total(&self) -> Self {
        let filtered = self.values.is_some();
        Self {
            property: if filtered { self.property } else { "" },
            time: None,
            slots: Vec::new(),
            ..self.clone()
        }
    }

    /// A result row's dimension labels in the query's order.
    pub fn labels(&self, bucket: Option<String>, label: Option<String>) -> Vec<String> {
        slot_labels(&self.slots, bucket, label)
    }
}
