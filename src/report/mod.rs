//! Reports in the terminal: `spoorloos report`, `export` and `privacy`.
//!
//! `report` asks the Stats API v1 (`aggregate` / `breakdown`) the marketing
//! questions. It first asks a running collector over HTTP; when none answers it opens
//! the DuckDB file read-only and asks the same [`Engine`](crate::query::api::Engine)
//! in-process, so both paths share one query engine and one answer format. It says on
//! stderr which path answered. [`export`] writes daily aggregates with DuckDB's
//! `COPY`; [`privacy`] writes the privacy statement from the configuration.

pub mod export;
pub mod migrate;
pub mod privacy;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Duration as Days, NaiveDate};
use serde_json::{Map, Value, json};

use crate::clock::Clock;
use crate::config::{Config, normalise_site};
use crate::query::api::{Access, Engine};
use crate::query::duckdb::DuckDbBackend;
use crate::query::request::{self, Ctx};
use crate::query::{Metric, PROPS, Prop};
use crate::store::duckdb::DbHandle;

/// Why a report, export or statement could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A bad command-line value (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The query engine refused the question (exit code 2 for a 400).
    #[error("{message}")]
    Refused { status: u16, message: String },
    /// Neither the collector nor the database file could answer.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Database(String),
    #[error("{0}")]
    Io(String),
}

impl ReportError {
    fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    /// 2 for usage errors (bad values), 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) | Self::Refused { status: 400, .. } => 2,
            _ => 1,
        }
    }
}

const DEFAULT_METRICS: &str = "visitors,visits,pageviews,bounce_rate,visit_duration";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// `spoorloos report`'s options, as typed on the command line.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub site: String,
    pub period: String,
    pub by: Option<String>,
    pub filter: Option<String>,
    pub compare: Option<String>,
    pub metrics: Option<String>,
    pub format: String,
    pub limit: u64,
    /// The collector's base URL; `None`: from the config's `listen`.
    pub url: Option<String>,
    pub key: Option<String>,
}

/// A finished report: column names and rows of JSON values.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// Which path answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnsweredBy {
    Collector(String),
    File(String),
}

impl std::fmt::Display for AnsweredBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Collector(url) => write!(f, "answered by the collector at {url}"),
            Self::File(path) => write!(
                f,
                "no collector answered; read from the database file {path} (read-only)"
            ),
        }
    }
}

/// A resolved `--period`: a pair of local dates, or everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    All,
    Days(NaiveDate, NaiveDate),
}

impl Period {
    fn params(self) -> Vec<(&'static str, String)> {
        match self {
            Period::All => vec![("period", "all".into())],
            Period::Days(a, b) => vec![("period", "custom".into()), ("date", format!("{a},{b}"))],
        }
    }

    fn previous(self) -> Option<Period> {
        let Period::Days(first, last) = self else {
            return None;
        };
        let days = (last - first).num_days() + 1;
        let prev_last = first - Days::days(1);
        Some(Period::Days(prev_last - Days::days(days - 1), prev_last))
    }
}

const PERIODS: &str = "day, 7d, 28d, 30d, month, 6mo, 12mo, year, all, or FROM,TO (YYYY-MM-DD)";

fn resolve_period(
    text: &str,
    config: &Config,
    site: &str,
    clock: &Clock,
) -> Result<Period, ReportError> {
    let text = text.trim();
    if text == "all" {
        return Ok(Period::All);
    }
    if let Some((a, b)) = text.split_once(',') {
        let (first, last) = request::parse_date(a.trim())
            .zip(request::parse_date(b.trim()))
            .ok_or_else(|| {
                ReportError::usage(format!("--period {text:?} is not a period; try: {PERIODS}"))
            })?;
        if first > last {
            return Err(ReportError::usage(format!(
                "--period {text:?}: the first date is after the last"
            )));
        }
        return Ok(Period::Days(first, last));
    }
    let tz = config.site_timezone(site);
    let no_first_day = || Ok(None);
    let ctx = Ctx {
        site: site.to_owned(),
        tz,
        today: clock.now().with_timezone(&tz).date_naive(),
        first_day: &no_first_day,
    };
    match request::named_range(text, &ctx) {
        Ok(Some(range)) => Ok(Period::Days(range.first, range.last)),
        _ => Err(ReportError::usage(format!(
            "--period {text:?} is not a period; try: {PERIODS}"
        ))),
    }
}

fn parse_by(by: &str) -> Result<&'static str, ReportError> {
    let by = by.trim();
    if let Some(prop) = Prop::by_cli(by).or_else(|| Prop::parse(by)) {
        return Ok(prop.name);
    }
    let names: Vec<&str> = PROPS.iter().filter_map(|p| p.cli).collect();
    Err(ReportError::usage(format!(
        "--by {by:?} is not a dimension; try: {}",
        names.join(", ")
    )))
}

fn parse_metrics(text: &str) -> Result<Vec<Metric>, ReportError> {
    text.split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| {
            Metric::parse(m).ok_or_else(|| {
                let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                ReportError::usage(format!(
                    "--metrics: {m:?} is not a metric; try: {}",
                    names.join(", ")
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(|ms| {
            if ms.is_empty() {
                Err(ReportError::usage("--metrics names no metric"))
            } else {
                Ok(ms)
            }
        })
}

pub fn parse_format(text: &str) -> Result<Format, ReportError> {
    match text.trim() {
        "table" => Ok(Format::Table),
        "csv" => Ok(Format::Csv),
        "json" => Ok(Format::Json),
        other => Err(ReportError::usage(format!(
            "--format {other:?} is not a format; try: table, csv, json"
        ))),
    }
}

/// Where the questions go: a collector over HTTP, or the engine over the file.
enum Answerer {
    Collector {
        base: url::Url,
        key: Option<String>,
    },
    File {
        engine: Engine,
        runtime: tokio::runtime::Runtime,
    },
}

impl Answerer {
    /// The collector if one answers at `base`, else the database file.
    fn connect(
        base: url::Url,
        key: Option<String>,
        config: &Config,
        clock: Clock,
    ) -> Result<(Self, AnsweredBy), ReportError> {
        if collector_answers(&base) {
            let by = AnsweredBy::Collector(base.as_str().trim_end_matches('/').to_owned());
            return Ok((Self::Collector { base, key }, by));
        }
        let path = &config.database;
        let handle = DbHandle::open_read_only(path).map_err(|e| {
            ReportError::Unavailable(format!(
                "no collector answers at {base} (--url) and the database file cannot be read: {e}"
            ))
        })?;
        // The file is open to this process only: it reads every site, with no key.
        let engine = Engine::new(Arc::new(DuckDbBackend::new(handle)), config, clock)
            .map_err(|e| ReportError::Io(format!("cannot start the query threads: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ReportError::Io(format!("cannot start the async runtime: {e}")))?;
        let by = AnsweredBy::File(path.display().to_string());
        Ok((Self::File { engine, runtime }, by))
    }

    /// Asks `/api/v1/stats/{endpoint}?{query}`; the JSON answer or its error.
    fn ask(&self, endpoint: &str, query: &str) -> Result<Value, ReportError> {
        let (status, body) = match self {
            Self::Collector { base, key } => http_get(
                base,
                &format!("/api/v1/stats/{endpoint}?{query}"),
                key.as_deref(),
            )?,
            Self::File { engine, runtime } => {
                let answer = runtime.block_on(engine.v1(endpoint, Access::All, query));
                (answer.status, answer.body)
            }
        };
        let value: Value = serde_json::from_str(&body).map_err(|_| {
            ReportError::Unavailable(format!(
                "the answer (HTTP {status}) is not a Stats API answer: {}",
                body.chars().take(200).collect::<String>()
            ))
        })?;
        if status != 200 {
            let mut message = value
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("the query failed")
                .to_owned();
            if status == 401 {
                message.push_str(" (give the key with --key or SPOORLOOS_API_KEY)");
            }
            return Err(ReportError::Refused { status, message });
        }
        Ok(value)
    }
}

/// Whether anything accepts a TCP connection at `base` within a second.
fn collector_answers(base: &url::Url) -> bool {
    let Ok(addrs) = base.socket_addrs(|| Some(80)) else {
        return false;
    };
    addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, Duration::from_secs(1)).is_ok())
}

/// A minimal HTTP/1.1 GET (the collector speaks plain HTTP on loopback or behind a
/// proxy); returns the status and the body.
fn http_get(base: &url::Url, path: &str, key: Option<&str>) -> Result<(u16, String), ReportError> {
    let unavailable =
        |e: std::io::Error| ReportError::Unavailable(format!("collector at {base}: {e}"));
    let addrs = base.socket_addrs(|| Some(80)).map_err(unavailable)?;
    let addr = addrs
        .first()
        .ok_or_else(|| ReportError::Unavailable(format!("{base} has no address")))?;
    let mut stream =
        TcpStream::connect_timeout(addr, Duration::from_secs(5)).map_err(unavailable)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(unavailable)?;
    let host = base.host_str().unwrap_or("localhost");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(key) = key {
        request.push_str(&format!("Authorization: Bearer {key}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).map_err(unavailable)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(unavailable)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| ReportError::Unavailable(format!("{base} did not answer HTTP")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ReportError::Unavailable(format!("{base} did not answer HTTP")))?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The collector's base URL from `--url` or the config's `listen`.
fn base_url(url: Option<&str>, config: &Config) -> Result<url::Url, ReportError> {
    let text = match url {
        Some(u) => u.to_owned(),
        None => format!("http://{}", config.listen),
    };
    url::Url::parse(&text)
        .ok()
        .filter(|u| u.scheme() == "http" && u.host().is_some())
        .ok_or_else(|| {
            ReportError::usage(format!(
                "--url {text:?} is not an http:// URL of a collector"
            ))
        })
}

/// Runs a report; returns the table and which path answered it.
pub fn report(
    options: &ReportOptions,
    config: &Config,
    clock: Clock,
) -> Result<(Table, AnsweredBy), ReportError> {
    let site = normalise_site(&options.site).ok_or_else(|| {
        ReportError::usage(format!("--site {:?} is not a domain name", options.site))
    })?;
    let period = resolve_period(&options.period, config, &site, &clock)?;
    let property = options.by.as_deref().map(parse_by).transpose()?;
    let metrics = parse_metrics(options.metrics.as_deref().unwrap_or(DEFAULT_METRICS))?;
    let previous = match options.compare.as_deref().map(str::trim) {
        None => None,
        Some("previous" | "previous_period") => Some(period.previous().ok_or_else(|| {
            ReportError::usage("--compare previous needs a bounded --period, not \"all\"")
        })?),
        Some(other) => {
            return Err(ReportError::usage(format!(
                "--compare {other:?} is not a comparison; try: previous"
            )));
        }
    };
    if !(1..=1000).contains(&options.limit) {
        return Err(ReportError::usage(format!(
            "--limit {} is out of range; try a number from 1 to 1000",
            options.limit
        )));
    }
    if let Some(filter) = &options.filter {
        // Checked here too, so a typo is named before any connection is made.
        crate::query::v1::filters(filter, &mut Vec::new())
            .map_err(|e| ReportError::usage(format!("--filter {filter:?}: {e}")))?;
    }
    let base = base_url(options.url.as_deref(), config)?;
    let (answerer, by) = Answerer::connect(base, options.key.clone(), config, clock)?;
    let names: Vec<&str> = metrics.iter().map(|m| m.name()).collect();
    let ask = |period: Period, limit: u64| -> Result<Vec<Labelled>, ReportError> {
        let mut params: Vec<(&str, String)> =
            vec![("site_id", site.clone()), ("metrics", names.join(","))];
        params.extend(period.params());
        if let Some(f) = &options.filter {
            params.push(("filters", f.clone()));
        }
        let endpoint = match property {
            Some(p) => {
                params.push(("property", p.to_owned()));
                params.push(("limit", limit.to_string()));
                "breakdown"
            }
            None => "aggregate",
        };
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        rows_of(&answerer.ask(endpoint, &query)?, property)
    };
    let now = ask(period, options.limit)?;
    let before = previous.map(|p| ask(p, 1000)).transpose()?;
    Ok((table(property, &metrics, &now, before.as_deref()), by))
}

/// A result row: its dimension label (empty for an aggregate) and its metrics.
type Labelled = (String, Map<String, Value>);

/// `(label, metrics)` rows from a v1 aggregate or breakdown answer.
fn rows_of(answer: &Value, property: Option<&str>) -> Result<Vec<Labelled>, ReportError> {
    let results = answer.get("results");
    match (property, results) {
        (None, Some(Value::Object(map))) => {
            let flat = map
                .iter()
                .map(|(k, v)| (k.clone(), v.get("value").cloned().unwrap_or(Value::Null)))
                .collect();
            Ok(vec![(String::new(), flat)])
        }
        (Some(p), Some(Value::Array(rows))) => {
            let key = p.split_once(':').map_or(p, |(_, k)| k);
            Ok(rows
                .iter()
                .filter_map(Value::as_object)
                .map(|r| {
                    let label = match r.get(key) {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    };
                    (label, r.clone())
                })
                .collect())
        }
        _ => Err(ReportError::Unavailable(format!(
            "unexpected answer: {answer}"
        ))),
    }
}

/// Percent change, or the difference in points for rates that are percentages.
fn change(metric: Metric, now: &Value, before: &Value) -> Value {
    let (Some(a), Some(b)) = (now.as_f64(), before.as_f64()) else {
        return Value::Null;
    };
    if metric == Metric::BounceRate || metric == Metric::ConversionRate {
        return json!((a - b).round() as i64);
    }
    if b == 0.0 {
        return if a == 0.0 { json!(0) } else { Value::Null };
    }
    json!(((a - b) / b * 100.0).round() as i64)
}

fn table(
    property: Option<&str>,
    metrics: &[Metric],
    now: &[Labelled],
    before: Option<&[Labelled]>,
) -> Table {
    let mut columns = Vec::new();
    if let Some(p) = property {
        columns.push(p.split_once(':').map_or(p, |(_, k)| k).to_owned());
    }
    for m in metrics {
        columns.push(m.name().to_owned());
        if before.is_some() {
            columns.push(format!("{}_previous", m.name()));
            let unit = if matches!(m, Metric::BounceRate | Metric::ConversionRate) {
                "change_points"
            } else {
                "change_pct"
            };
            columns.push(format!("{}_{unit}", m.name()));
        }
    }
    let rows = now
        .iter()
        .map(|(label, values)| {
            let mut row = Vec::new();
            if property.is_some() {
                row.push(json!(label));
            }
            let prev = before.map(|b| b.iter().find(|(l, _)| l == label).map(|(_, v)| v));
            for m in metrics {
                let v = values.get(m.name()).cloned().unwrap_or(Value::Null);
                if let Some(prev) = prev {
                    let p = prev
                        .and_then(|p| p.get(m.name()).cloned())
                        .unwrap_or_else(|| json!(0));
                    row.push(v.clone());
                    row.push(p.clone());
                    row.push(change(*m, &v, &p));
                } else {
                    row.push(v);
                }
            }
            row
        })
        .collect();
    Table { columns, rows }
}

/// How a CSV cell a spreadsheet would evaluate begins.
const FORMULA: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() => format!("{f:.2}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

impl Table {
    /// The table in `format`, ending with a newline.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.aligned(),
            Format::Csv => self.csv(),
            Format::Json => {
                let rows: Vec<Value> = self
                    .rows
                    .iter()
                    .map(|r| {
                        Value::Object(
                            self.columns
                                .iter()
                                .cloned()
                                .zip(r.iter().cloned())
                                .collect(),
                        )
                    })
                    .collect();
                format!("{}\n", Value::Array(rows))
            }
        }
    }

    fn aligned(&self) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(cell).collect())
            .collect();
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([c.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let numeric: Vec<bool> = (0..self.columns.len())
            .map(|i| self.rows.iter().all(|r| !r[i].is_string()))
            .collect();
        let line = |row: &[String]| {
            let parts: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let pad = " ".repeat(widths[i].saturating_sub(c.chars().count()));
                    if numeric[i] {
                        format!("{pad}{c}")
                    } else {
                        format!("{c}{pad}")
                    }
                })
                .collect();
            format!("{}\n", parts.join("  ").trim_end())
        };
        let mut out = line(&self.columns);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&format!("{}\n", rule.join("  ")));
        for row in &cells {
            out.push_str(&line(row));
        }
        if self.rows.is_empty() {
            out.push_str("(no data)\n");
        }
        out
    }

    fn csv(&self) -> String {
        let quote = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        // A text a spreadsheet would take for a formula (a page path or UTM tag is
        // visitor input) stays text behind a leading `'`, as OWASP advises for CSV;
        // numbers, negative ones too, stay numbers.
        let text = |v: &Value| match v {
            Value::String(s) if s.starts_with(FORMULA) => format!("'{s}"),
            other => cell(other),
        };
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| quote(c)).collect();
        out.push_str(&header.join(","));
        out.push('\n');
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|v| quote(&text(v))).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_period_has_the_same_length() {
        let d = |s: &str| request::parse_date(s).unwrap();
        let p = Period::Days(d("2026-03-01"), d("2026-03-31"));
        assert_eq!(
            p.previous(),
            Some(Period::Days(d("2026-01-29"), d("2026-02-28")))
        );
        assert_eq!(Period::All.previous(), None);
    }

    #[test]
    fn bad_values_are_named() {
        let e = parse_by("colour").unwrap_err().to_string();
        assert!(
            e.contains("\"colour\"") && e.contains("page, source"),
            "{e}"
        );
        assert!(
            parse_metrics("visitors,visitorz")
                .unwrap_err()
                .to_string()
                .contains("visitorz")
        );
        assert!(parse_format("xml").unwrap_err().to_string().contains("xml"));
        assert_eq!(parse_by("connection").unwrap(), "visit:connection_type");
    }

    #[test]
    fn tables_align_and_csv_quotes() {
        let t = Table {
            columns: vec!["page".into(), "visitors".into()],
            rows: vec![vec![json!("/a,b"), json!(12)], vec![json!("/"), json!(3)]],
        };
        assert_eq!(
            t.render(Format::Table),
            "page  visitors\n----  --------\n/a,b        12\n/            3\n"
        );
        assert_eq!(t.render(Format::Csv), "page,visitors\n\"/a,b\",12\n/,3\n");
        // Formulas stay text; numbers stay numbers.
        let t = Table {
            columns: vec!["utm_campaign".into(), "change".into()],
            rows: vec![
                vec![json!("=HYPERLINK(\"x\")"), json!(-10)],
                vec![json!("+a"), json!(1)],
                vec![json!("-a"), json!(1)],
                vec![json!("@a"), json!(1)],
            ],
        };
        assert_eq!(
            t.render(Format::Csv),
            "utm_campaign,change\n\"'=HYPERLINK(\"\"x\"\")\",-10\n'+a,1\n'-a,1\n'@a,1\n"
        );
        assert_eq!(change(Metric::Visitors, &json!(15), &json!(10)), json!(50));
        assert_eq!(
            change(Metric::BounceRate, &json!(40), &json!(50)),
            json!(-10)
        );
    }

    #[test]
    fn chunked_bodies_decode() {
        assert_eq!(dechunk("5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n"), "helloabc");
    }
}
