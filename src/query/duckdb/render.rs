//! The DuckDB SQL of the aggregate, pair and partial queries: their typed shapes
//! ([`AggQuery`], [`PartialQuery`]) come from the query model; the text and its bound
//! parameters are rendered here, from `sql/duckdb/query/`.

use super::plan::Param;
use crate::query::aggregates::AggQuery;
use crate::query::partials::{OwnRows, PartialQuery};
use crate::query::{Dimension, Granularity};

const AGGREGATES: &str = concat!(
    include_str!("../../../sql/duckdb/query/aggregates.sql"),
    include_str!("../../../sql/duckdb/query/aggregate_rows.sql")
);
const PAIRS: &str = concat!(
    include_str!("../../../sql/duckdb/query/pairs.sql"),
    include_str!("../../../sql/duckdb/query/aggregate_rows.sql")
);
const PARTIALS: &str = include_str!("../../../sql/duckdb/query/partials.sql");
const OWN_VISITS: &str = include_str!("../../../sql/duckdb/query/partials_own_visits.sql");

/// `value IN ($n, …)` over the `is` values (lowered unless case-sensitive), each
/// pushed onto `params` as a numbered parameter; `TRUE` without a filter.
fn value_filter(
    params: &mut Vec<Param>,
    values: Option<&[String]>,
    case_sensitive: bool,
) -> String {
    let Some(values) = values else {
        return "TRUE".to_owned();
    };
    let column = if case_sensitive {
        "value"
    } else {
        "lower(value)"
    };
    let mut marks = Vec::new();
    for v in values {
        let v = if case_sensitive {
            v.clone()
        } else {
            v.to_lowercase()
        };
        params.push(Param::Text(v));
        marks.push(format!("${}", params.len()));
    }
    if marks.is_empty() {
        "FALSE".to_owned()
    } else {
        format!("{column} IN ({})", marks.join(", "))
    }
}

impl AggQuery {
    /// The SQL text (numbered parameters) and its parameters.
    pub fn render(&self) -> (String, Vec<Param>) {
        let mut params = vec![
            Param::Text(self.site.clone()),
            Param::Text(self.first.to_string()),
            Param::Text(self.end.to_string()),
            Param::Text(self.dimension.to_owned()),
            Param::Text(self.session_dimension.to_owned()),
            Param::Bool(self.goals_only),
        ];
        if let Some(pair) = &self.pair {
            params.push(Param::Text(pair.dimension.to_owned()));
            params.push(Param::Text(pair.session_dimension.to_owned()));
        }
        let bucket = self
            .slots
            .iter()
            .find_map(|d| match d {
                Dimension::Time(Granularity::Day) => Some("strftime(day, '%Y-%m-%d')"),
                Dimension::Time(Granularity::Week) => {
                    Some("strftime(date_trunc('week', day), '%Y-%m-%d')")
                }
                Dimension::Time(Granularity::Month) => {
                    Some("strftime(date_trunc('month', day), '%Y-%m-%d')")
                }
                _ => None,
            })
            .unwrap_or("CAST(NULL AS VARCHAR)");
        let label = if self.slots.iter().any(|d| !d.is_time()) {
            "value"
        } else {
            "CAST(NULL AS VARCHAR)"
        };
        let values = value_filter(&mut params, self.values.as_deref(), self.case_sensitive);
        let text = match self.pair {
            Some(_) => PAIRS
                .replace("{bucket}", bucket)
                .replace("{label}", "value2")
                .replace("{own_label}", "value")
                .replace("{values}", &values),
            None => AGGREGATES
                .replace("{bucket}", bucket)
                .replace("{label}", label)
                .replace("{values}", &values),
        };
        (text, params)
    }
}

impl PartialQuery {
    /// The SQL text (numbered parameters) and its parameters.
    pub fn render(&self) -> (String, Vec<Param>) {
        let mut params = vec![
            Param::Text(self.site.clone()),
            Param::Text(self.first.to_string()),
            Param::Text(self.last.to_string()),
            Param::Text(self.property.to_owned()),
        ];
        // Without days split between buckets, a day's visits are read whole (their
        // visitors once); by day, one row per day their events fall on. By week or
        // month, whole unless the visits cross into the next bucket.
        let (bucket, rows) = match self.time {
            None => (
                "CAST(NULL AS VARCHAR)".to_owned(),
                "bucket IS NULL".to_owned(),
            ),
            Some(Granularity::Day) => (
                "strftime(bucket, '%Y-%m-%d')".to_owned(),
                "bucket IS NOT NULL".to_owned(),
            ),
            // `shape` lets no hour through.
            Some(g) => {
                let unit = if g == Granularity::Week {
                    "week"
                } else {
                    "month"
                };
                (
                    format!(
                        "strftime(date_trunc('{unit}', coalesce(bucket, visit_day)), '%Y-%m-%d')"
                    ),
                    format!(
                        "(bucket IS NULL) = \
                         (date_trunc('{unit}', visit_day) = date_trunc('{unit}', visit_day + 1))"
                    ),
                )
            }
        };
        let values = value_filter(&mut params, self.values.as_deref(), self.case_sensitive);
        if let Some(own) = self.visit_figures {
            let dimension = match own {
                OwnRows::Page => "'page'",
                OwnRows::Name => "'name'",
            };
            let text = OWN_VISITS
                .replace("{own}", dimension)
                .replace("{values}", &values);
            return (text, params);
        }
        let label = if self.slots.iter().any(|d| !d.is_time()) {
            "value"
        } else {
            "CAST(NULL AS VARCHAR)"
        };
        let text = PARTIALS
            .replace("{bucket}", &bucket)
            .replace("{label}", label)
            .replace("{rows}", &rows)
            .replace("{values}", &values);
        (text, params)
    }
}
