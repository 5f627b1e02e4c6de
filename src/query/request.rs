//! Request: Stats API v2 JSON → a validated [`Query`]. Names are looked up in the
//! allow-lists ([`Metric`], [`PROPS`](super::PROPS)); dates are resolved in the site's
//! time zone; the rules for which metrics combine with which dimensions and filters
//! follow Plausible's, with the same messages where Plausible has one.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::{
    Dimension, Filter, Granularity, MAX_CUSTOM, Metric, OffsetSegment, Op, OrderKey, Prop, Query,
    QueryError, VisitDays,
};

/// Plausible's default and maximum page size.
pub const MAX_LIMIT: u64 = 10_000;
const MAX_FILTER_DEPTH: usize = 8;
const MAX_FILTER_LEAVES: usize = 100;
/// Values one filter may list: a request's body limit bounds what a client sends; a
/// filter on place names becomes one on all the codes with matching names
/// (`places.rs`), up to every region.
pub(super) const MAX_VALUES: usize = 10_000;
const MAX_VALUE_LEN: usize = 2_000;
/// Regexes are compiled by DuckDB for every row; keep them small.
pub const MAX_REGEX_LEN: usize = 512;

/// What the request cannot say but the answer depends on.
pub struct Ctx<'a> {
    pub site: String,
    pub tz: Tz,
    /// Today in the site's time zone.
    pub today: NaiveDate,
    /// The first day with data, looked up only for `all`.
    pub first_day: &'a dyn Fn() -> Result<Option<NaiveDate>, QueryError>,
}

/// A resolved date range: local dates (inclusive) and the UTC instants they span.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

impl Range {
    pub fn days(&self, tz: Tz) -> Self {
        days(tz, self.first, self.last)
    }
}

pub(super) fn bad(message: impl Into<String>) -> QueryError {
    QueryError::invalid(message)
}

/// The UTC instant at which local `day` starts.
pub fn local_midnight(tz: Tz, day: NaiveDate) -> NaiveDateTime {
    let naive = day.and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.naive_utc(),
        // Midnight skipped by a clock change: the day starts an hour later.
        chrono::LocalResult::None => tz
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .map_or(naive, |t| t.naive_utc()),
    }
}

pub fn days(tz: Tz, first: NaiveDate, last: NaiveDate) -> Range {
    Range {
        first,
        last,
        from: local_midnight(tz, first),
        to: local_midnight(tz, last.succ_opt().unwrap_or(last)),
    }
}

/// `day`, `7d`, `28d`, `30d`, `month`, `6mo`, `12mo`, `year`, `all` relative to
/// `today` (Plausible's definitions), or `None` for an unknown name.
pub fn named_range(name: &str, ctx: &Ctx<'_>) -> Result<Option<Range>, QueryError> {
    let today = ctx.today;
    let back = |n: u64| today.checked_sub_days(Days::new(n)).unwrap_or(today);
    let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let month_end = |d: NaiveDate| {
        month_start(d)
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(d)
    };
    let months_back = |n: u32| {
        month_start(today)
            .checked_sub_months(Months::new(n))
            .unwrap_or(today)
    };
    let (first, last) = match name {
        "day" => (today, today),
        "7d" => (back(6), today),
        "28d" => (back(28), today),
        "30d" => (back(30), today),
        "month" => (month_start(today), month_end(today)),
        "6mo" => (months_back(5), month_end(today)),
        "12mo" => (months_back(11), month_end(today)),
        "year" => (
            NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
            NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today),
        ),
        "all" => ((ctx.first_day)()?.unwrap_or(today).min(today), today),
        _ => return Ok(None),
    };
    Ok(Some(days(ctx.tz, first, last)))
}

/// The period of the same length just before `range` (`previous_period`).
pub fn previous_period(range: &Range, tz: Tz) -> Range {
    let len = (range.last - range.first).num_days() + 1;
    let last = range.first.pred_opt().unwrap_or(range.first);
    let first = last
        .checked_sub_days(Days::new(u64::try_from(len - 1).unwrap_or(0)))
        .unwrap_or(last);
    days(tz, first, last)
}

/// The same dates a year earlier (`year_over_year`).
pub fn year_before(range: &Range, tz: Tz) -> Range {
    let back = |d: NaiveDate| d.checked_sub_months(Months::new(12)).unwrap_or(d);
    days(tz, back(range.first), back(range.last))
}

/// Every bucket label of the range in the order of time, as the results label them,
/// so that empty buckets can be shown (v1 timeseries, v2 `include.time_labels`).
pub fn time_labels(range: &Range, g: Granularity, tz: Tz) -> Vec<String> {
    let mut out = Vec::new();
    if g == Granularity::Minute {
        // Local minutes, as the query groups them.
        let mut t = range.from;
        while t < range.to && out.len() < 10_080 {
            let local = tz.from_utc_datetime(&t);
            out.push(local.format("%Y-%m-%d %H:%M:00").to_string());
            t += chrono::Duration::minutes(1);
        }
        out.dedup();
        return out;
    }
    let mut day = match g {
        Granularity::Month => range.first.with_day(1).unwrap_or(range.first),
        Granularity::Week => range
            .first
            .checked_sub_days(Days::new(u64::from(
                range.first.weekday().num_days_from_monday(),
            )))
            .unwrap_or(range.first),
        _ => range.first,
    };
    let step = |d: NaiveDate, g: Granularity| match g {
        Granularity::Week => d.checked_add_days(Days::new(7)),
        Granularity::Month => d.checked_add_months(Months::new(1)),
        _ => d.checked_add_days(Days::new(1)),
    };
    while day <= range.last && out.len() < 10_000 {
        let label = day.format("%Y-%m-%d");
        if g == Granularity::Hour {
            out.extend((0..24).map(|h| format!("{label} {h:02}:00:00")));
        } else {
            out.push(label.to_string());
        }
        let Some(next) = step(day, g) else { break };
        day = next;
    }
    out
}

/// What a v2 body's `include` asks for besides the results.
#[derive(Debug, Default)]
pub struct Include {
    /// Every time bucket of the range under `meta.time_labels`.
    pub time_labels: bool,
    /// The number of result rows before pagination under `meta.total_rows`.
    pub total_rows: bool,
    /// The period to compare each row with (`comparisons`).
    pub comparison: Option<Range>,
}

/// A parsed v2 body: the query, the range it covers, what else to include, and the
/// `query` echo of the response.
#[derive(Debug)]
pub struct V2 {
    pub query: Query,
    pub range: Range,
    pub include: Include,
    pub echo: Value,
}

fn parse_include(
    value: Option<&Value>,
    range: &Range,
    ctx: &Ctx<'_>,
) -> Result<Include, QueryError> {
    let mut include = Include::default();
    let Some(value) = value else {
        return Ok(include);
    };
    let map = value
        .as_object()
        .ok_or_else(|| bad("Invalid include: expected an object."))?;
    let flag = |k: &str, v: &Value| match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        other => Err(bad(format!(
            "Invalid include.{k}: {other} is not a boolean."
        ))),
    };
    for (k, v) in map {
        match k.as_str() {
            // Spoorloos imports nothing, so there is nothing to include.
            "imports" => {
                flag(k, v)?;
            }
            "time_labels" => include.time_labels = flag(k, v)?,
            "total_rows" => include.total_rows = flag(k, v)?,
            "comparisons" => include.comparison = comparison(v, range, ctx)?,
            _ => return Err(bad(format!("Invalid include.{k}: not supported."))),
        }
    }
    Ok(include)
}

/// `include.comparisons`: `{"mode": "previous_period" | "year_over_year"}` or
/// `{"mode": "custom", "date_range": ["2024-01-01", "2024-01-31"]}`.
fn comparison(value: &Value, range: &Range, ctx: &Ctx<'_>) -> Result<Option<Range>, QueryError> {
    if value.is_null() || value == &Value::Bool(false) {
        return Ok(None);
    }
    let mode = value.get("mode").and_then(Value::as_str);
    match mode {
        Some("previous_period") => Ok(Some(previous_period(range, ctx.tz))),
        Some("year_over_year") => Ok(Some(year_before(range, ctx.tz))),
        Some("custom") => {
            let dates = value.get("date_range").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter_map(parse_date)
                    .collect::<Vec<_>>()
            });
            match dates.as_deref() {
                Some(&[first, last]) if first <= last => Ok(Some(days(ctx.tz, first, last))),
                _ => Err(bad(
                    "Invalid include.comparisons.date_range: expected two dates, the first not after the second.",
                )),
            }
        }
        _ => Err(bad(format!(
            "Invalid include.comparisons {value}: mode must be previous_period, year_over_year or custom."
        ))),
    }
}

pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

fn parse_date_range(value: Option<&Value>, ctx: &Ctx<'_>) -> Result<Range, QueryError> {
    let invalid = || bad(format!("Invalid date_range {}.", show(value)));
    match value {
        Some(Value::String(name)) => named_range(name, ctx)?.ok_or_else(invalid),
        Some(Value::Array(pair)) => match pair.as_slice() {
            [Value::String(a), Value::String(b)] if a.contains('T') && b.contains('T') => {
                // A date-time range (ISO 8601 with offset), its end inclusive to the
                // second, as Plausible's `["…T12:00:00+02:00", "…T12:05:00+02:00"]`.
                let parse = |t: &str| {
                    chrono::DateTime::parse_from_rfc3339(t)
                        .ok()
                        .map(|t| t.naive_utc())
                };
                let (from, last) = parse(a).zip(parse(b)).ok_or_else(invalid)?;
                let to = last + chrono::Duration::seconds(1);
                if from >= to || to - from > chrono::Duration::days(MAX_DATETIME_DAYS) {
                    return Err(bad(format!(
                        "Invalid date_range {}: the start must come before the end, at most {MAX_DATETIME_DAYS} days apart.",
                        show(value)
                    )));
                }
                let local = |t: NaiveDateTime| ctx.tz.from_utc_datetime(&t).date_naive();
                Ok(Range {
                    first: local(from),
                    last: local(to - chrono::Duration::seconds(1)),
                    from,
                    to,
                })
            }
            [Value::String(a), Value::String(b)] => {
                let (first, last) = parse_date(a).zip(parse_date(b)).ok_or_else(invalid)?;
                if first > last {
                    return Err(bad(format!(
                        "Invalid date_range {}: the first date is after the last.",
                        show(value)
                    )));
                }
                Ok(days(ctx.tz, first, last))
            }
            _ => Err(invalid()),
        },
        None => Err(bad("Required property date_range was not present.")),
        _ => Err(invalid()),
    }
}

/// The longest date-time range a query may ask for.
const MAX_DATETIME_DAYS: i64 = 7;

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "null".to_owned(), Value::to_string)
}

/// The offsets the site's zone uses between `from` and `to` (UTC).
pub fn offsets(tz: Tz, from: NaiveDateTime, to: NaiveDateTime) -> Vec<OffsetSegment> {
    use chrono::Offset;
    let offset_at = |t: NaiveDateTime| tz.offset_from_utc_datetime(&t).fix().local_minus_utc();
    let mut segments = vec![OffsetSegment {
        from_micros: i64::MIN,
        offset_secs: offset_at(from),
    }];
    // Zones change offset at most a few times a year, on the quarter hour: walk by
    // day, then find the change within the day by quarter hours.
    let mut day = from;
    while day < to {
        let next = day + chrono::Duration::days(1);
        let current = segments.last().map_or(0, |s| s.offset_secs);
        if offset_at(next) != current {
            let mut t = day;
            while t < next && offset_at(t) == current {
                t += chrono::Duration::minutes(15);
            }
            segments.push(OffsetSegment {
                from_micros: t.and_utc().timestamp_micros(),
                offset_secs: offset_at(t),
            });
        }
        day = next;
    }
    segments
}

/// What a v1 or v2 request asks for, before validation.
pub struct Parts {
    pub range: Range,
    pub metrics: Vec<Metric>,
    pub dimensions: Vec<Dimension>,
    pub filters: Vec<Filter>,
    pub order_by: Option<Vec<(OrderKey, bool)>>,
    pub limit: u64,
    pub offset: u64,
    /// The custom properties' keys, by slot.
    pub custom_keys: Vec<String>,
}

/// The granularity `time` means for a range: hours for a day, days up to 40 days, then months.
pub fn auto_granularity(range: &Range) -> Granularity {
    let days = (range.last - range.first).num_days() + 1;
    match days {
        ..=1 => Granularity::Hour,
        2..=40 => Granularity::Day,
        _ => Granularity::Month,
    }
}

/// Checks the combination rules and builds the [`Query`].
pub fn build(parts: Parts, ctx: &Ctx<'_>) -> Result<Query, QueryError> {
    let Parts {
        range,
        metrics,
        dimensions,
        filters,
        order_by,
        limit,
        offset,
        custom_keys,
    } = parts;
    if metrics.is_empty() {
        return Err(bad("Please specify at least one metric."));
    }
    let mut deep = Vec::new();
    for f in &filters {
        if let Filter::And(fs) | Filter::Or(fs) = f {
            fs.iter().for_each(|f| f.props(&mut deep));
        }
        if let Filter::Not(f) = f {
            f.props(&mut deep);
        }
    }
    if let Some(p) = deep
        .iter()
        .find(|p| matches!(p.name, "event:goal" | "event:hostname"))
    {
        return Err(bad(format!(
            "Invalid filters. Dimension `{}` can only be filtered at the top level.",
            p.name
        )));
    }
    let mut all_filter_props = Vec::new();
    filters.iter().for_each(|f| f.props(&mut all_filter_props));
    let top_level = |name: &str| {
        filters
            .iter()
            .any(|f| matches!(f, Filter::Leaf { prop, .. } if prop.name == name))
    };
    let has_dim = |name: &str| {
        dimensions
            .iter()
            .any(|d| matches!(d, Dimension::Prop(p) if p.name == name))
    };
    for m in &metrics {
        match m {
            Metric::ConversionRate
                if !(has_dim("event:goal")
                    || has_dim("event:name")
                    || top_level("event:goal")
                    || top_level("event:name")) =>
            {
                return Err(bad(
                    "Metric `conversion_rate` can only be queried with event:goal filters or dimensions.",
                ));
            }
            Metric::ScrollDepth | Metric::TimeOnPage
                if !(has_dim("event:page") || top_level("event:page")) =>
            {
                return Err(bad(format!(
                    "Metric `{}` can only be queried with event:page filters or dimensions.",
                    m.name()
                )));
            }
            Metric::ViewsPerVisit => {
                if all_filter_props.iter().any(|p| p.name == "event:page") {
                    return Err(bad(
                        "Metric `views_per_visit` cannot be queried with a filter on `event:page`.",
                    ));
                }
                if !dimensions.is_empty() {
                    return Err(bad(
                        "Metric `views_per_visit` cannot be queried with `dimensions`.",
                    ));
                }
            }
            _ => {}
        }
    }
    let event_dims = dimensions
        .iter()
        .any(|d| matches!(d, Dimension::Prop(p) if p.is_event() && p.name != "event:page"));
    let session: Vec<&str> = metrics
        .iter()
        .filter(|m| m.is_session())
        .map(|m| m.name())
        .collect();
    if event_dims && !session.is_empty() {
        return Err(bad(format!(
            "Session metric(s) `{}` cannot be queried along with event dimensions.",
            session.join(", ")
        )));
    }
    let order_by = order_by.unwrap_or_else(|| match dimensions.iter().position(|d| d.is_time()) {
        Some(i) => vec![(OrderKey::Dimension(i), false)],
        None => vec![(OrderKey::Metric(0), true)],
    });
    Ok(Query {
        site: ctx.site.clone(),
        from: range.from,
        to: range.to,
        metrics,
        dimensions,
        filters,
        order_by,
        limit,
        offset,
        offsets: offsets(ctx.tz, range.from, range.to),
        visits: VisitDays::All,
        stored_visits: None,
        custom_keys,
    })
}

/// Longest custom-property key a query may name, in bytes.
const MAX_CUSTOM_KEY: usize = 300;

/// The property a request names: one of [`PROPS`](super::PROPS), or a custom
/// property `event:props:<key>`, whose key takes a slot in `keys` (the query's
/// [`Query::custom_keys`]). `Ok(None)`: no such property.
pub fn parse_prop(name: &str, keys: &mut Vec<String>) -> Result<Option<&'static Prop>, QueryError> {
    let Some(key) = name.strip_prefix("event:props:") else {
        return Ok(Prop::parse(name));
    };
    if key.is_empty() || key.len() > MAX_CUSTOM_KEY {
        return Err(bad(format!(
            "Invalid custom property '{name}': the key must be 1 to {MAX_CUSTOM_KEY} bytes."
        )));
    }
    let slot = match keys.iter().position(|k| k == key) {
        Some(slot) => slot,
        None if keys.len() < MAX_CUSTOM => {
            keys.push(key.to_owned());
            keys.len() - 1
        }
        None => {
            return Err(bad(format!(
                "A query may name at most {MAX_CUSTOM} custom properties."
            )));
        }
    };
    Ok(Prop::custom(slot))
}

pub fn parse_dimension(
    name: &str,
    range: &Range,
    keys: &mut Vec<String>,
) -> Result<Option<Dimension>, QueryError> {
    Ok(Some(match name {
        "time" => Dimension::Time(auto_granularity(range)),
        "time:minute" => Dimension::Time(Granularity::Minute),
        "time:hour" => Dimension::Time(Granularity::Hour),
        "time:day" => Dimension::Time(Granularity::Day),
        "time:week" => Dimension::Time(Granularity::Week),
        "time:month" => Dimension::Time(Granularity::Month),
        _ => match parse_prop(name, keys)? {
            Some(p) => Dimension::Prop(p),
            None => return Ok(None),
        },
    }))
}

fn strings<'a>(value: Option<&'a Value>, field: &str) -> Result<Vec<&'a str>, QueryError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| bad(format!("Invalid {field}: {v} is not a string.")))
            })
            .collect(),
        Some(other) => Err(bad(format!("Invalid {field}: {other} is not a list."))),
    }
}

/// One filter in v2 syntax: `[op, key, [values], {modifiers}]` or `[and|or, [...]]`, `[not, f]`.
pub fn parse_filter(
    value: &Value,
    depth: usize,
    leaves: &mut usize,
    keys: &mut Vec<String>,
) -> Result<Filter, QueryError> {
    let invalid = || bad(format!("Invalid filter '{value}'."));
    if depth > MAX_FILTER_DEPTH {
        return Err(bad(format!(
            "Invalid filters: nested deeper than {MAX_FILTER_DEPTH} levels."
        )));
    }
    let items = value.as_array().ok_or_else(invalid)?;
    let op = items.first().and_then(Value::as_str).unwrap_or_default();
    let group = |items: &[Value],
                 leaves: &mut usize,
                 keys: &mut Vec<String>|
     -> Result<Vec<Filter>, QueryError> {
        match items {
            [_, Value::Array(fs)] if !fs.is_empty() => fs
                .iter()
                .map(|f| parse_filter(f, depth + 1, leaves, keys))
                .collect(),
            _ => Err(invalid()),
        }
    };
    let op = match op {
        "and" => return Ok(Filter::And(group(items, leaves, keys)?)),
        "or" => return Ok(Filter::Or(group(items, leaves, keys)?)),
        "not" => {
            return match items.as_slice() {
                [_, f] => Ok(Filter::Not(Box::new(parse_filter(
                    f,
                    depth + 1,
                    leaves,
                    keys,
                )?))),
                _ => Err(invalid()),
            };
        }
        "is" => Op::Is,
        "is_not" => Op::IsNot,
        "contains" => Op::Contains,
        "contains_not" => Op::ContainsNot,
        "matches" => Op::Matches,
        "matches_not" => Op::MatchesNot,
        _ => return Err(bad(format!("Unknown operator for filter '{value}'."))),
    };
    *leaves += 1;
    if *leaves > MAX_FILTER_LEAVES {
        return Err(bad(format!(
            "Invalid filters: more than {MAX_FILTER_LEAVES} conditions."
        )));
    }
    let (key, values, modifiers) = match items.as_slice() {
        [_, Value::String(k), Value::Array(v)] => (k, v, None),
        [_, Value::String(k), Value::Array(v), m @ Value::Object(_)] => (k, v, Some(m)),
        _ => return Err(invalid()),
    };
    let prop =
        parse_prop(key, keys)?.ok_or_else(|| bad(format!("Invalid filter dimension '{key}'.")))?;
    if values.is_empty() || values.len() > MAX_VALUES {
        return Err(bad(format!(
            "Invalid filter '{value}': give 1 to {MAX_VALUES} values."
        )));
    }
    let values: Vec<String> = values
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(invalid))
        .collect::<Result<_, _>>()?;
    if values.iter().any(|v| v.len() > MAX_VALUE_LEN) {
        return Err(bad(format!(
            "Invalid filter '{key}': a value is longer than {MAX_VALUE_LEN} bytes."
        )));
    }
    if prop.name == "visit:country"
        && matches!(op, Op::Is | Op::IsNot)
        && values.iter().any(|v| v.chars().count() != 2)
    {
        return Err(bad(
            "Invalid visit:country filter, visit:country needs to be a valid 2-letter country code.",
        ));
    }
    if matches!(op, Op::Matches | Op::MatchesNot) {
        for v in &values {
            check_regex(v)?;
        }
    }
    let case_sensitive = match modifiers.and_then(|m| m.get("case_sensitive")) {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(bad(format!(
                "Invalid filter modifier case_sensitive: {other} is not a boolean."
            )));
        }
    };
    Ok(Filter::Leaf {
        op,
        prop,
        values,
        case_sensitive,
    })
}

/// DuckDB runs RE2; the `regex` crate accepts the same syntax, so a pattern it
/// rejects (or one too long) is refused before it reaches the database.
pub fn check_regex(pattern: &str) -> Result<(), QueryError> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(bad(format!(
            "Invalid regular expression: longer than {MAX_REGEX_LEN} bytes."
        )));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map(|_| ())
        .map_err(|e| {
            let first = e.to_string();
            let line = first.lines().last().unwrap_or_default().trim().to_owned();
            bad(format!("Invalid regular expression {pattern:?}: {line}"))
        })
}

const KEYS: &[&str] = &[
    "site_id",
    "date_range",
    "metrics",
    "dimensions",
    "filters",
    "order_by",
    "pagination",
    "include",
    "date",
];

/// The site id of a v2 body (needed before the rest, for the key check and time zone).
pub fn site_id(body: &Value) -> Result<&str, QueryError> {
    match body.get("site_id") {
        Some(Value::String(s)) => Ok(s),
        None => Err(bad("Required property site_id was not present.")),
        Some(other) => Err(bad(format!("Invalid site_id {other}."))),
    }
}

/// Parses a v2 body.
pub fn parse_v2(body: &Value, ctx: &Ctx<'_>) -> Result<V2, QueryError> {
    let obj = body
        .as_object()
        .ok_or_else(|| bad("Invalid request body: expected a JSON object."))?;
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(bad(format!("Invalid request body: unknown key `{k}`.")));
    }
    let mut ctx_today = ctx.today;
    if let Some(date) = obj.get("date") {
        ctx_today = date
            .as_str()
            .and_then(parse_date)
            .ok_or_else(|| bad(format!("Invalid date '{date}'.")))?;
    }
    let ctx = Ctx {
        site: ctx.site.clone(),
        tz: ctx.tz,
        today: ctx_today,
        first_day: ctx.first_day,
    };
    let range = parse_date_range(obj.get("date_range"), &ctx)?;
    let include = parse_include(obj.get("include"), &range, &ctx)?;
    let metric_names = strings(obj.get("metrics"), "metrics")?;
    let metrics = metric_names
        .iter()
        .map(|m| Metric::parse(m).ok_or_else(|| bad(format!("Unknown metric '{m}'."))))
        .collect::<Result<Vec<_>, _>>()?;
    let dim_names = strings(obj.get("dimensions"), "dimensions")?;
    let mut dimensions = Vec::new();
    let mut custom_keys = Vec::new();
    for name in &dim_names {
        let d = parse_dimension(name, &range, &mut custom_keys)?
            .ok_or_else(|| bad(format!("Invalid dimension '{name}'.")))?;
        if dimensions.contains(&d) {
            return Err(bad(format!("Dimension '{name}' is given twice.")));
        }
        dimensions.push(d);
    }
    if dimensions.iter().filter(|d| d.is_time()).count() > 1 {
        return Err(bad("Only one time dimension can be queried at a time."));
    }
    let mut leaves = 0;
    let filters = match obj.get("filters") {
        None => Vec::new(),
        Some(Value::Array(fs)) => fs
            .iter()
            .map(|f| parse_filter(f, 0, &mut leaves, &mut custom_keys))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("Invalid filters passed.")),
    };
    let order_by = match obj.get("order_by") {
        None => None,
        Some(Value::Array(entries)) => Some(
            entries
                .iter()
                .map(|e| order_entry(e, &metric_names, &dim_names))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(other) => return Err(bad(format!("Invalid order_by '{other}'."))),
    };
    let (limit, offset) = pagination(obj.get("pagination"))?;
    let query = build(
        Parts {
            range,
            metrics,
            dimensions,
            filters,
            order_by,
            limit,
            offset,
            custom_keys,
        },
        &ctx,
    )?;
    let order_echo: Vec<Value> = query
        .order_by
        .iter()
        .map(|(key, desc)| {
            let name = match key {
                OrderKey::Metric(i) => metric_names.get(*i).copied().unwrap_or_default(),
                OrderKey::Dimension(i) => dim_names.get(*i).copied().unwrap_or_default(),
            };
            json!([name, if *desc { "desc" } else { "asc" }])
        })
        .collect();
    let echo = json!({
        "site_id": ctx.site,
        "metrics": metric_names,
        "date_range": [iso(ctx.tz, range.from), iso(ctx.tz, range.to - chrono::Duration::seconds(1))],
        "filters": obj.get("filters").cloned().unwrap_or_else(|| json!([])),
        "dimensions": dim_names,
        "order_by": order_echo,
        "include": obj.get("include").cloned().unwrap_or_else(|| json!({})),
        "pagination": {"limit": limit, "offset": offset},
    });
    if include.time_labels && !query.dimensions.iter().any(|d| d.is_time()) {
        return Err(bad(
            "Invalid include.time_labels: requires a time dimension (time, time:hour, time:day, time:week or time:month).",
        ));
    }
    Ok(V2 {
        query,
        range,
        include,
        echo,
    })
}

/// A UTC instant as local ISO 8601 with offset, as Plausible echoes date ranges.
pub fn iso(tz: Tz, utc: NaiveDateTime) -> String {
    tz.from_utc_datetime(&utc)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn order_entry(
    entry: &Value,
    metrics: &[&str],
    dims: &[&str],
) -> Result<(OrderKey, bool), QueryError> {
    let invalid = || bad(format!("Invalid order_by entry '{entry}'."));
    let (name, dir) = match entry.as_array().map(Vec::as_slice) {
        Some([Value::String(n), Value::String(d)]) => (n.as_str(), d.as_str()),
        _ => return Err(invalid()),
    };
    let desc = match dir {
        "asc" => false,
        "desc" => true,
        _ => return Err(invalid()),
    };
    if let Some(i) = metrics.iter().position(|m| *m == name) {
        return Ok((OrderKey::Metric(i), desc));
    }
    if let Some(i) = dims.iter().position(|d| *d == name) {
        return Ok((OrderKey::Dimension(i), desc));
    }
    Err(bad(format!(
        "Invalid order_by entry '{entry}'. Entry is not a queried metric or dimension."
    )))
}

fn pagination(value: Option<&Value>) -> Result<(u64, u64), QueryError> {
    let Some(value) = value else {
        return Ok((MAX_LIMIT, 0));
    };
    let obj = value
        .as_object()
        .ok_or_else(|| bad("Invalid pagination: expected an object."))?;
    let field = |name: &str, default: u64| match obj.get(name) {
        None => Ok(default),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| bad(format!("Invalid pagination.{name}: {v}."))),
    };
    let limit = field("limit", MAX_LIMIT)?;
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad(format!(
            "Invalid pagination.limit: must be between 1 and {MAX_LIMIT}."
        )));
    }
    Ok((limit, field("offset", 0)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daylight_saving_splits_the_offsets() {
        let tz: Tz = "Europe/Amsterdam".parse().unwrap();
        let r = days(
            tz,
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 4, 30).unwrap(),
        );
        let segs = offsets(tz, r.from, r.to);
        assert_eq!(segs.len(), 2);
        assert_eq!((segs[0].offset_secs, segs[1].offset_secs), (3600, 7200));
        // 2026-03-29 01:00 UTC.
        assert_eq!(segs[1].from_micros, 1_774_746_000_000_000);
    }

    #[test]
    fn regexes_are_checked() {
        assert!(check_regex("^/blog/.*$").is_ok());
        assert!(check_regex("(").is_err());
        assert!(check_regex(&"a".repeat(MAX_REGEX_LEN + 1)).is_err());
    }
}
