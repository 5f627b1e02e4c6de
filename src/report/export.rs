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
use crate::store::ExportFormat;
use crate::store::duckdb::DbHandle;

fn parse_format(text: &str) -> Result<ExportFormat, ReportError> {
    match text.trim() {
        "csv" => Ok(ExportFormat::Csv),
        "parquet" => Ok(ExportFormat::Parquet),
        other => Err(ReportError::usage(format!(
            "--format {other:?} is not an export format; try: csv, parquet"
        ))),
    }
}

fn extension(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Parquet => "parquet",
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
    let format = parse_format(&options.format)?;
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{site}_{from}_{to}.{}", extension(format))));
    let rows = open(&config.database)?
        .export_daily(&out, format, &site, (from, to), config.retention.min_crowd)
        .map_err(|e| ReportError::Database(format!("export to {} failed: {e}", out.display())))?;
    Ok((out, rows))
}

fn open(path: &Path) -> Result<DbHandle, ReportError> {
    DbHandle::open_read_only(path).map_err(|e| {
        ReportError::Unavailable(format!(
            "{e} (export reads the file directly; stop the collector first, or use `spoorloos report` against it)"
        ))
    })
}
