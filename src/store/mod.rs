//! Store: where events come to rest, behind one narrow interface.
//!
//! [`Store`] is all the rest of the collector knows about storage: append a batch,
//! keep the salts, give back what a restart needs. DuckDB ([`duckdb::DuckDbStore`]) is
//! the embedded default; a distributed backend implements the same trait. The
//! [`writer`] owns the one store connection on its own thread and is fed through a
//! bounded queue, so the request path never waits for the disk.

pub mod clickhouse;
mod columns;
pub mod duckdb;
pub mod packed;
pub mod pairs;
mod priority;
pub mod writer;

use chrono::NaiveDate;

use crate::event::EventView;
use crate::pseudonymise::salt::Salt;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        source: ::duckdb::Error,
    },
    #[error("database migration {version} failed: {source}")]
    Migrate {
        version: u32,
        source: ::duckdb::Error,
    },
    #[error("database error: {0}")]
    Db(#[from] ::duckdb::Error),
    #[error("cannot lay out events as columns: {0}")]
    Columns(#[from] ::duckdb::arrow::error::ArrowError),
    #[error("database file operation failed: {0}")]
    Io(std::io::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("computing visit partials failed: {0}")]
    Partials(String),
    #[error("{0}")]
    ClickHouse(String),
}

impl StoreError {
    /// Whether the database refuses all writes until reopened (DuckDB's fatal
    /// errors invalidate the database instance).
    pub fn needs_reopen(&self) -> bool {
        let StoreError::Db(e) = self else {
            return false;
        };
        let text = e.to_string();
        text.contains("FATAL Error") || text.contains("database has been invalidated")
    }
}

/// The file formats of `spoorloos export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Parquet,
}

/// One row of visit partials: the query engine's sums for one site, visit day and
/// property value (see `sql/duckdb/migrations/0004_visit_partials.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialRow {
    pub site: String,
    pub visit_day: NaiveDate,
    /// `None`: the day's visits whole; else the events falling on this day.
    pub bucket: Option<NaiveDate>,
    /// A Stats API property; `""` for totals.
    pub property: &'static str,
    pub value: String,
    /// visitors, visits, pageviews, events, sessions, bounces, duration, session
    /// pageviews: `visit_partials`' column order.
    pub sums: [i64; 8],
}

/// An event as a store keeps it, owned: what a move to another store reads.
#[derive(Debug, Clone, Default)]
pub struct StoredEvent {
    pub ts_micros: i64,
    pub text: [String; 4],
    pub visitor_id: Option<u64>,
    pub session_id: Option<u64>,
    pub visit_day: i32,
    pub optional: [Option<String>; 13],
    pub required: [String; 6],
    pub save_data: bool,
    pub scroll_depth: Option<u8>,
    pub engaged_ms: Option<u32>,
    pub interactive: bool,
}

impl StoredEvent {
    pub fn view(&self) -> EventView<'_> {
        let [site, name, hostname, pathname] = &self.text;
        let o = |i: usize| self.optional[i].as_deref();
        let [channel, browser, browser_version, os, os_version, device] = &self.required;
        EventView {
            ts_micros: self.ts_micros,
            site,
            name,
            hostname,
            pathname,
            visitor_id: self.visitor_id,
            session_id: self.session_id,
            visit_day: self.visit_day,
            referrer: o(0),
            source: o(1),
            channel,
            utm_source: o(2),
            utm_medium: o(3),
            utm_campaign: o(4),
            utm_content: o(5),
            utm_term: o(6),
            country: o(7),
            region: o(8),
            city: o(9),
            browser,
            browser_version,
            os,
            os_version,
            device,
            screen: o(10),
            connection_type: o(11),
            save_data: self.save_data,
            props: o(12),
            scroll_depth: self.scroll_depth,
            engaged_ms: self.engaged_ms,
            interactive: self.interactive,
        }
    }
}

/// A session that was active when the collector stopped.
pub type ActiveSession = crate::pseudonymise::session::Session;

/// The narrow storage interface. One owner, one thread: no `Sync` needed.
pub trait Store: Send {
    /// Appends a batch of events atomically. An iterator of views, so the writer
    /// reads its packed batch row by row (see [`packed`]) and copies no text.
    fn append(&mut self, events: &mut dyn Iterator<Item = EventView<'_>>)
    -> Result<(), StoreError>;
    /// Replaces every stored salt with `salts`. A salt left out is destroyed: it is
    /// owed a compaction, recorded durably with the change, which
    /// [`Store::finish_destruction`] performs.
    fn replace_salts(&mut self, salts: &[Salt]) -> Result<(), StoreError>;
    /// Compacts the file if a destroyed salt is owed one (just destroyed, or a
    /// compaction failed, or the process stopped first), so its bytes are gone from
    /// every file; whether one was owed.
    fn finish_destruction(&mut self) -> Result<bool, StoreError>;
    fn load_salts(&mut self) -> Result<Vec<Salt>, StoreError>;
    /// Sessions with an event at or after `since_micros`.
    fn active_sessions(&mut self, since_micros: i64) -> Result<Vec<ActiveSession>, StoreError>;
    /// Makes everything written durable in the main file.
    fn checkpoint(&mut self) -> Result<(), StoreError>;
    /// Gives back the memory queries were allowed, once they have stopped for a while
    /// (called every flush).
    fn relax(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Adds per-site counts of dropped hits (the dashboard's data quality).
    fn add_quality(&mut self, drops: &crate::metrics::SiteDrops) -> Result<(), StoreError> {
        let _ = drops;
        Ok(())
    }
    /// Takes back what was rolled up or sealed for the days in `[today, until)` (they
    /// have not ended: the clock went back); the number of such days, 0 as a rule.
    fn unroll_from(&mut self, today: NaiveDate, until: NaiveDate) -> Result<u64, StoreError>;
    /// Ended days (before `today`) that have events but no aggregates yet.
    fn pending_rollup_days(&mut self, today: NaiveDate) -> Result<Vec<NaiveDate>, StoreError>;
    /// Rolls one ended day up into anonymous aggregates; rows with fewer than
    /// `min_crowd` visitors are folded into `(other)`.
    fn roll_up_day(&mut self, day: NaiveDate, min_crowd: u32) -> Result<(), StoreError>;
    /// Visit days in `[from, before)` after the last sealed one, per site, with the
    /// time (µs) of their visits' latest event.
    fn pending_visit_days(
        &mut self,
        from: NaiveDate,
        before: NaiveDate,
    ) -> Result<Vec<(NaiveDate, String, i64)>, StoreError>;
    /// Stores one row per visit that began on `day` (`visits`), replacing any stored
    /// before, and marks the day sealed without partials (`last_day`: its visits'
    /// latest event), atomically; returns how many visits. Once its visits have
    /// ended. Its exact pairs follow ([`Store::store_pairs`]).
    fn store_visits(&mut self, day: NaiveDate, last_day: NaiveDate) -> Result<u64, StoreError>;
    /// Stores the exact daily pairs of sealed visit day `day`, replacing any stored
    /// before, and marks them stored, atomically; nothing for a day not sealed (any
    /// more). Returns whether it stored them.
    fn store_pairs(&mut self, day: NaiveDate) -> Result<bool, StoreError>;
    /// Sealed days from `from` on whose exact pairs are not stored, in order.
    fn days_without_pairs(&mut self, from: NaiveDate) -> Result<Vec<NaiveDate>, StoreError>;
    /// Sealed days from `from` on whose partials are not stored, in order, each with
    /// its visits' last day and a site with events that day (`None`: no events).
    fn days_without_partials(
        &mut self,
        from: NaiveDate,
    ) -> Result<Vec<(NaiveDate, NaiveDate, Option<String>)>, StoreError>;
    /// The latest sealed visit day.
    fn last_sealed_day(&mut self) -> Result<Option<NaiveDate>, StoreError>;
    /// Stores a visit day's partials and marks them stored (`last_day`: its visits'
    /// latest event), atomically.
    fn seal_visit_day(
        &mut self,
        day: NaiveDate,
        last_day: NaiveDate,
        rows: &[PartialRow],
    ) -> Result<(), StoreError>;
    /// Deletes events before `day`, and the visits and partials derived from them,
    /// after folding those days' exact daily pairs to `min_crowd` (and rolling up
    /// the folded pairs of days that were never sealed); returns how many events.
    /// Their bytes go with [`compact`].
    ///
    /// [`compact`]: Store::compact
    /// Events stamped from `future_from` on (a clock that went back after running
    /// ahead stamped them) are retired the same way, and counted in the log.
    fn expire_events(
        &mut self,
        before: NaiveDate,
        future_from: NaiveDate,
        min_crowd: u32,
    ) -> Result<u64, StoreError>;
    /// Deletes aggregates before `day`; returns how many.
    fn expire_aggregates(&mut self, before: NaiveDate) -> Result<u64, StoreError>;
    /// Rewrites storage so that nothing deleted survives in any file.
    fn compact(&mut self) -> Result<(), StoreError>;
    /// Closes and opens the database again: after a fatal error (a checkpoint on a
    /// full disk, say) DuckDB refuses every write until it is restarted.
    fn reopen(&mut self) -> Result<(), StoreError>;
}
