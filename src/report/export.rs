//! `spoorloos export`: daily aggregates (one row per day × dimension × value) for
//! spreadsheets and BI tools, written by DuckDB's own `COPY … TO` as CSV or Parquet.
//!
//! Rolled-up days come from `daily_aggregates`; days not rolled up yet are computed
//! from events with the roll-up's shape, without writing (`sql/duckdb/export/daily.sql`).
//! The database file is opened read-only, so the collector must not be running
//! (DuckDB lets one process hold a file it writes).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::ReportError;
use crate::config::{Config, normalise_site};
use crate::query::request;
use crate::store::duckdb::{DbHandle, sql_string};

const EXPORT: &str = include_str!("../../sql/duckdb/export/daily.sql");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Parquet,
}

impl ExportFormat {
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        match text.trim() {
            "csv" => Ok(Self::Csv),
            "parquet" => Ok(Self::Parquet),
            other => Err(ReportError::usage(format!(
                "--format {other:?} is not an export format; try: csv, parquet"
            ))),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Parquet => "parquet",
        }
    }

    /// The exported `value` column: in CSV, a value a spreadsheet would take for a
    /// formula (a page path or UTM tag is visitor input) stays text behind a
    /// leading `'`, as OWASP advises; Parquet keeps values as they are.
    fn value(self) -> &'static str {
        match self {
            Self::Csv => {
                "CASE WHEN regexp_matches(value, '^[-=+@\\t\\r]') THEN '''' || value ELSE value END"
            }
            Self::Parquet => "value",
        }
    }

    /// The `COPY` options: a fixed, allow-listed clause.
    fn options(self) -> &'static str {
        match self {
            Self::Csv => "FORMAT csv, HEADER",
            Self::Parquet => "FORMAT parquet",
        }
    }
}

/// `spoorloos export`'s options, as typed on the command line.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub site: String,
    pub from: String,
    pub to: String,
    pub format: String,
    pub out: Option<PathBuf>,
}

fn date(flag: &str, text: &str) -> Result<NaiveDate, ReportError> {
    request::parse_date(text.trim())
        .ok_or_else(|| ReportError::usage(format!("{flag} {text:?} is not a date; use YYYY-MM-DD")))
}

/// Writes the export; returns the file written and its row count.
pub fn export(options: &ExportOptions, config: &Config) -> Result<(PathBuf, u64), ReportError> {
    let site = normalise_site(&options.site).ok_or_else(|| {
        ReportError::usage(format!("--site {:?} is not a domain name", options.site))
    })?;
    let from = date("--from", &options.from)?;
    let to = date("--to", &options.to)?;
    if from > to {
        return Err(ReportError::usage(format!(
            "--from {from} is after --to {to}"
        )));
    }
    let format = ExportFormat::parse(&options.format)?;
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{site}_{from}_{to}.{}", format.extension())));
    let handle = open(&config.database)?;
    let sql = EXPORT
        .replace("{target}", &sql_string(&out.to_string_lossy()))
        .replace("{options}", format.options())
        .replace("{value}", format.value());
    let rows = handle
        .with(|conn| {
            conn.execute(
                &sql,
                duckdb::params![
                    site,
                    from.to_string(),
                    to.to_string(),
                    config.retention.min_crowd
                ],
            )
        })
        .map_err(|e| ReportError::Database(e.to_string()))?
        .map_err(|e| ReportError::Database(format!("export to {} failed: {e}", out.display())))?;
    Ok((out, rows as u64))
}

fn open(path: &Path) -> Result<DbHandle, ReportError> {
    DbHandle::open_read_only(path).map_err(|e| {
        ReportError::Unavailable(format!(
            "{e} (export reads the file directly; stop the collector first, or use `spoorloos report` against it)"
        ))
    })
}
