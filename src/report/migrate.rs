//! `spoorloos migrate-to-clickhouse --from FILE`: moves a stopped collector's events
//! into the ClickHouse cluster of `[clickhouse]`, a day at a time, in batches whose
//! ids follow from the day and the batch's place in it. Run again, it resumes: each
//! shard is asked first how many rows of a batch it has, so a batch already there is
//! not sent twice.

use std::io::Write;
use std::path::Path;

use super::ReportError;
use crate::config::Config;
use crate::store::clickhouse::{Cluster, ClusterSpec};
use crate::store::duckdb::DbHandle;

/// Events a batch carries.
const BATCH: u64 = 50_000;

/// What a migration moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub days: usize,
    pub events: u64,
}

pub fn migrate(config: &Config, from: &Path, out: &mut dyn Write) -> Result<Moved, ReportError> {
    let spec = ClusterSpec::from_config(&config.clickhouse)
        .map_err(|e| ReportError::Usage(e.to_string()))?;
    let cluster = Cluster::connect(&spec).map_err(|e| ReportError::Unavailable(e.to_string()))?;
    let db = DbHandle::open_read_only(from).map_err(|e| {
        ReportError::Database(format!(
            "{}: {e} (stop the collector first)",
            from.display()
        ))
    })?;
    let days = db
        .event_days()
        .map_err(|e| ReportError::Database(e.to_string()))?;
    let write = |out: &mut dyn Write, line: String| {
        writeln!(out, "{line}").map_err(|e| ReportError::Io(e.to_string()))
    };
    let mut moved = Moved { days: 0, events: 0 };
    for (day, count) in days {
        let number = day.to_string().replace('-', "");
        let mut sent = 0;
        for (chunk, offset) in (0..count).step_by(BATCH as usize).enumerate() {
            let events = db
                .events_of_day(day, BATCH, offset)
                .map_err(|e| ReportError::Database(e.to_string()))?;
            let batch = cluster.prepare(
                &format!("{number}-{chunk:x}"),
                &mut events.iter().map(|e| e.view()),
            );
            sent += cluster.send(&batch, true).map_err(|e| {
                ReportError::Unavailable(format!("{day}: {e} (run again to resume)"))
            })?;
        }
        write(out, format!("{day}: {sent} events"))?;
        moved.days += 1;
        moved.events += sent;
    }
    write(
        out,
        format!(
            "moved {} events of {} day{} into {} on {}; run again to resume or check: batches \
             already there are not sent twice. Daily aggregates stay in the file.",
            moved.events,
            moved.days,
            if moved.days == 1 { "" } else { "s" },
            spec.database,
            spec.nodes.join(", ")
        ),
    )?;
    Ok(moved)
}
