//! Stats API v1 (`/api/v1/stats/*`), answered by the v2 engine: query-string
//! parameters become the same typed [`Query`]; v1 filters (`visit:country==NL;
//! event:page==/blog/**`, `!=`, `~` for contains, `|` between values, `*` and `**`
//! wildcards) become v2 filters; the answers take v1's shapes.

use std::collections::HashMap;

use chrono::Duration;
use serde_json::{Map, Value, json};

use super::request::{self, Parts, Range};
use super::site::Site;
use super::{Dimension, Filter, Granularity, Metric, Op, Query, QueryError, VisitDays};

fn bad(message: impl Into<String>) -> QueryError {
    QueryError::invalid(message)
}

/// Decoded query-string parameters (the last of a repeated name wins).
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn parse(query: &str) -> Self {
        Self(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// Answers one v1 endpoint.
pub fn answer(endpoint: &str, params: &Params, site: &Site) -> Result<Value, QueryError> {
    match endpoint {
        "aggregate" => aggregate(params, site),
        "timeseries" => timeseries(params, site),
        "breakdown" => breakdown(params, site),
        "realtime/visitors" => realtime(site),
        "props" => prop_keys(params, site),
        "quality" => quality(params, site),
        _ => Err(bad(format!("Unknown endpoint /api/v1/stats/{endpoint}."))),
    }
}

/// `GET /api/v1/stats/props`: the custom-property keys the site's events carry in
/// the period (not in Plausible's API; the dashboard lists them).
fn prop_keys(params: &Params, site: &Site) -> Result<Value, QueryError> {
    let range = range(params, site)?;
    let to = range.to.min(site.now + Duration::seconds(5));
    let from = range
        .from
        .max(site.events_from.and_time(chrono::NaiveTime::MIN));
    if from >= to {
        return Ok(json!({ "results": [] }));
    }
    Ok(json!({ "results": site.backend.prop_keys(&site.name, from, to)? }))
}

/// `GET /api/v1/stats/quality`: the hits dropped for the site in the period's UTC
/// days, by reason (not in Plausible's API; the dashboard's data quality).
fn quality(params: &Params, site: &Site) -> Result<Value, QueryError> {
    let range = range(params, site)?;
    let last = (range.to - Duration::seconds(1)).date();
    let rows = site.backend.quality(&site.name, range.from.date(), last)?;
    let results: serde_json::Map<String, Value> = rows
        .into_iter()
        .map(|(reason, n)| (reason, json!(n)))
        .collect();
    Ok(json!({ "results": results }))
}

fn range(params: &Params, site: &Site) -> Result<Range, QueryError> {
    let mut today = site.today;
    let date = params.get("date");
    let period = params.get("period").unwrap_or("30d");
    if period == "custom" {
        let text = date.unwrap_or_default();
        let (a, b) = text.split_once(',').ok_or_else(|| {
            bad("The `date` parameter is required with period=custom, as `YYYY-MM-DD,YYYY-MM-DD`.")
        })?;
        let (first, last) = request::parse_date(a.trim())
            .zip(request::parse_date(b.trim()))
            .filter(|(a, b)| a <= b)
            .ok_or_else(|| bad(format!("Invalid date '{text}'.")))?;
        return Ok(request::days(site.tz, first, last));
    }
    if let Some(d) = date {
        today = request::parse_date(d).ok_or_else(|| bad(format!("Invalid date '{d}'.")))?;
    }
    let first_day = || site.first_day();
    let mut ctx = site.ctx(&first_day);
    ctx.today = today;
    request::named_range(period, &ctx)?.ok_or_else(|| {
        bad(format!(
            "Error parsing `period` parameter: invalid period `{period}`. Please find accepted values in our docs: https://plausible.io/docs/stats-api#time-periods"
        ))
    })
}

fn metrics(params: &Params) -> Result<Vec<Metric>, QueryError> {
    params
        .get("metrics")
        .unwrap_or("visitors")
        .split(',')
        .map(|m| {
            let m = m.trim();
            Metric::parse(m).ok_or_else(|| {
                bad(format!(
                    "The metric `{m}` is not recognized. Find valid metrics from the documentation: https://plausible.io/docs/stats-api#metrics"
                ))
            })
        })
        .collect()
}

/// A v1 wildcard pattern as an anchored regex: `**` any characters, `*` any but `/`.
fn wildcard(pattern: &str) -> String {
    let mut out = String::from("^");
    let mut parts = pattern.split("**").peekable();
    while let Some(part) = parts.next() {
        let inner: Vec<String> = part.split('*').map(regex::escape).collect();
        out.push_str(&inner.join("[^/]*"));
        if parts.peek().is_some() {
            out.push_str(".*");
        }
    }
    out.push('$');
    out
}

/// `visit:country==NL;event:page!=/blog/**|/news` → top-level v2 filters.
/// Custom properties (`event:props:<key>`) take slots in `keys`, shared with the
/// breakdown's property.
pub fn filters(text: &str, keys: &mut Vec<String>) -> Result<Vec<Filter>, QueryError> {
    let mut out = Vec::new();
    for clause in text.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        let (key, op, value) = [("!=", Op::IsNot), ("==", Op::Is), ("~", Op::Contains)]
            .iter()
            .find_map(|(sep, op)| {
                clause
                    .split_once(sep)
                    .map(|(k, v)| (k.trim(), *op, v.trim()))
            })
            .ok_or_else(|| bad(format!("Invalid filter expression `{clause}`.")))?;
        request::parse_prop(key, keys)?
            .ok_or_else(|| bad(format!("Invalid filter property `{key}`.")))?;
        let values: Vec<String> = value.split('|').map(|v| v.trim().to_owned()).collect();
        let (op, values) = if op != Op::Contains && values.iter().any(|v| v.contains('*')) {
            let op = if op == Op::Is {
                Op::Matches
            } else {
                Op::MatchesNot
            };
            (op, values.iter().map(|v| wildcard(v)).collect())
        } else {
            (op, values)
        };
        // Reuse the v2 checks (value counts and lengths, regexes, country codes).
        let mut leaves = 0;
        let v2_op = match op {
            Op::Is => "is",
            Op::IsNot => "is_not",
            Op::Contains => "contains",
            Op::ContainsNot => "contains_not",
            Op::Matches => "matches",
            Op::MatchesNot => "matches_not",
        };
        out.push(request::parse_filter(
            &json!([v2_op, key, values]),
            0,
            &mut leaves,
            keys,
        )?);
    }
    Ok(out)
}

/// `keys`: the custom properties the dimensions name already.
fn build(
    params: &Params,
    site: &Site,
    range: Range,
    (dimensions, mut custom_keys): (Vec<Dimension>, Vec<String>),
    limit: u64,
    offset: u64,
) -> Result<(Query, Vec<Metric>), QueryError> {
    let metrics = metrics(params)?;
    let filters = filters(params.get("filters").unwrap_or_default(), &mut custom_keys)?;
    let first_day = || site.first_day();
    let q = request::build(
        Parts {
            range,
            metrics: metrics.clone(),
            dimensions,
            filters,
            order_by: None,
            limit,
            offset,
            custom_keys,
        },
        &site.ctx(&first_day),
    )?;
    Ok((q, metrics))
}

/// The change from `before` to `now`, as Plausible reports it (v1 `compare`, v2
/// `comparisons`): a difference in points for rates, otherwise percent change.
pub fn change(metric: Metric, now: &Value, before: &Value) -> Value {
    let (Some(a), Some(b)) = (now.as_f64(), before.as_f64()) else {
        return Value::Null;
    };
    if metric == Metric::BounceRate || metric == Metric::ConversionRate {
        return json!((a - b).round() as i64);
    }
    match (b == 0.0, a == 0.0) {
        (true, true) => json!(0),
        (true, false) => json!(100),
        _ => json!(((a - b) / b * 100.0).round() as i64),
    }
}

fn aggregate(params: &Params, site: &Site) -> Result<Value, QueryError> {
    let range = range(params, site)?;
    let (q, metrics) = build(params, site, range, (Vec::new(), Vec::new()), 1, 0)?;
    let now = site.run(&q)?.into_iter().next();
    let compare = match params.get("compare") {
        None => None,
        Some("previous_period") => {
            let prev_range = request::previous_period(&range, site.tz);
            let (pq, _) = build(params, site, prev_range, (Vec::new(), Vec::new()), 1, 0)?;
            Some(site.run(&pq)?.into_iter().next())
        }
        Some(other) => {
            return Err(bad(format!(
                "Invalid compare `{other}`: only previous_period is supported."
            )));
        }
    };
    let mut results = Map::new();
    for (i, m) in metrics.iter().enumerate() {
        let value = now
            .as_ref()
            .and_then(|r| r.metrics.get(i).cloned())
            .unwrap_or(Value::Null);
        let mut entry = Map::new();
        if let Some(prev) = &compare {
            let before = prev
                .as_ref()
                .and_then(|r| r.metrics.get(i).cloned())
                .unwrap_or(Value::Null);
            entry.insert("change".into(), change(*m, &value, &before));
        }
        entry.insert("value".into(), value);
        results.insert(m.name().into(), Value::Object(entry));
    }
    Ok(json!({ "results": results }))
}

fn timeseries(params: &Params, site: &Site) -> Result<Value, QueryError> {
    let range = range(params, site)?;
    let period = params.get("period").unwrap_or("30d");
    let granularity = match params.get("interval") {
        Some("date" | "day") => Granularity::Day,
        Some("month") => Granularity::Month,
        Some("hour") => Granularity::Hour,
        Some("week") => Granularity::Week,
        Some(other) => return Err(bad(format!("Invalid interval `{other}`."))),
        None => match period {
            "day" => Granularity::Hour,
            "6mo" | "12mo" | "year" => Granularity::Month,
            _ => Granularity::Day,
        },
    };
    let dims = vec![Dimension::Time(granularity)];
    let (q, metrics) = build(
        params,
        site,
        range,
        (dims, Vec::new()),
        request::MAX_LIMIT,
        0,
    )?;
    let rows = site.run(&q)?;
    let by_label: HashMap<&str, &Vec<Value>> = rows
        .iter()
        .filter_map(|r| Some((r.dimensions.first()?.as_str(), &r.metrics)))
        .collect();
    let mut results = Vec::new();
    for label in request::time_labels(&range, granularity, site.tz) {
        let mut entry = Map::new();
        entry.insert("date".into(), json!(label));
        for (i, m) in metrics.iter().enumerate() {
            let v = by_label
                .get(label.as_str())
                .and_then(|ms| ms.get(i).cloned())
                .unwrap_or_else(|| match m {
                    Metric::TimeOnPage | Metric::ScrollDepth => Value::Null,
                    Metric::ViewsPerVisit | Metric::Percentage | Metric::ConversionRate => {
                        json!(0.0)
                    }
                    _ => json!(0),
                });
            entry.insert(m.name().into(), v);
        }
        results.push(Value::Object(entry));
    }
    Ok(json!({ "results": results }))
}

fn breakdown(params: &Params, site: &Site) -> Result<Value, QueryError> {
    let property = params
        .get("property")
        .ok_or_else(|| bad("The `property` parameter is required for breakdown."))?;
    let mut keys = Vec::new();
    let prop = request::parse_prop(property, &mut keys)?
        .ok_or_else(|| bad(format!("Invalid property '{property}'.")))?;
    let limit: u64 = match params.get("limit") {
        None => 100,
        Some(l) => l
            .parse()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| {
                bad(format!(
                    "Please provide limit as a number between 1 and 1000, got `{l}`."
                ))
            })?,
    };
    let page: u64 = match params.get("page") {
        None => 1,
        Some(p) => p.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
            bad(format!(
                "Please provide page as a number 1 or larger, got `{p}`."
            ))
        })?,
    };
    let range = range(params, site)?;
    let (q, metrics) = build(
        params,
        site,
        range,
        (vec![Dimension::Prop(prop)], keys),
        limit,
        (page - 1).saturating_mul(limit),
    )?;
    // As Plausible names it: `page` for `event:page`, `plan` for `event:props:plan`.
    let key = property
        .strip_prefix("event:props:")
        .unwrap_or_else(|| property.split_once(':').map_or(property, |(_, k)| k));
    let results: Vec<Value> = site
        .run(&q)?
        .into_iter()
        .map(|r| {
            let mut entry = Map::new();
            entry.insert(
                key.into(),
                json!(r.dimensions.into_iter().next().unwrap_or_default()),
            );
            for (m, v) in metrics.iter().zip(r.metrics) {
                entry.insert(m.name().into(), v);
            }
            Value::Object(entry)
        })
        .collect();
    Ok(json!({ "results": results }))
}

/// Visitors in the last 5 minutes: a bare number, as Plausible answers.
fn realtime(site: &Site) -> Result<Value, QueryError> {
    let first = site.now - Duration::minutes(5);
    let q = Query {
        site: site.name.clone(),
        from: first,
        to: site.now + Duration::seconds(5),
        metrics: vec![Metric::Visitors],
        dimensions: Vec::new(),
        filters: Vec::new(),
        order_by: Vec::new(),
        limit: 1,
        offset: 0,
        offsets: Vec::new(),
        visits: VisitDays::All,
        stored_visits: None,
        custom_keys: Vec::new(),
    };
    let rows = site.run(&q)?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.metrics.into_iter().next())
        .unwrap_or_else(|| json!(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_become_anchored_regexes() {
        assert_eq!(wildcard("/blog/**"), "^/blog/.*$");
        assert_eq!(wildcard("/blog*"), "^/blog[^/]*$");
        assert_eq!(wildcard("/a.b"), "^/a\\.b$");
    }

    #[test]
    fn v1_filters_parse() {
        let fs = filters("visit:country==NL|DE;event:page!=/blog/**", &mut Vec::new()).unwrap();
        assert_eq!(fs.len(), 2);
        assert!(filters("visit:nope==1", &mut Vec::new()).is_err());
        assert!(filters("nonsense", &mut Vec::new()).is_err());
    }
}
