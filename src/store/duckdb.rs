//! The embedded DuckDB store: one file, schema and migrations from `sql/duckdb/`, batches
//! appended with DuckDB's Appender, column by column ([`super::columns`]), inside
//! one transaction each.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use duckdb::types::Value;
use duckdb::{Connection, appender_params_from_iter, params};

mod pairs;

use super::columns::{CHUNK_ROWS, EventColumns};
use super::{ActiveSession, ExportFormat, PartialRow, Store, StoreError, StoredEvent};
use crate::config::StoreConfig;
use crate::event::EventView;
use crate::metrics::SiteDrops;
use crate::pseudonymise::salt::Salt;

/// Numbered migrations, applied in order at start-up; never edit one that shipped.
const MIGRATIONS: &[(u32, &str)] = &[
    (
        1,
        include_str!("../../sql/duckdb/migrations/0001_events.sql"),
    ),
    (
        2,
        include_str!("../../sql/duckdb/migrations/0002_daily_aggregates.sql"),
    ),
    (
        3,
        include_str!("../../sql/duckdb/migrations/0003_device_labels.sql"),
    ),
    (
        4,
        include_str!("../../sql/duckdb/migrations/0004_visit_partials.sql"),
    ),
    (
        5,
        include_str!("../../sql/duckdb/migrations/0005_visits.sql"),
    ),
    (
        6,
        include_str!("../../sql/duckdb/migrations/0006_visit_places.sql"),
    ),
    (
        7,
        include_str!("../../sql/duckdb/migrations/0007_visit_events.sql"),
    ),
    (
        8,
        include_str!("../../sql/duckdb/migrations/0008_quality_daily.sql"),
    ),
    (
        9,
        include_str!("../../sql/duckdb/migrations/0009_lone_sessions.sql"),
    ),
    (
        10,
        include_str!("../../sql/duckdb/migrations/0010_visit_times.sql"),
    ),
    (
        11,
        include_str!("../../sql/duckdb/migrations/0011_destruction_due.sql"),
    ),
    (
        12,
        include_str!("../../sql/duckdb/migrations/0012_daily_pairs.sql"),
    ),
    (
        13,
        include_str!("../../sql/duckdb/migrations/0013_exact_pairs.sql"),
    ),
    (
        14,
        include_str!("../../sql/duckdb/migrations/0014_page_visit_figures.sql"),
    ),
    (
        15,
        include_str!("../../sql/duckdb/migrations/0015_name_visit_figures.sql"),
    ),
    (
        16,
        include_str!("../../sql/duckdb/migrations/0016_fold_visitors.sql"),
    ),
];
const SCHEMA_MIGRATIONS: &str = include_str!("../../sql/duckdb/schema_migrations.sql");
const SCHEMA_VERSION: &str = include_str!("../../sql/duckdb/schema_version.sql");
const SCHEMA_VERSION_INSERT: &str = include_str!("../../sql/duckdb/schema_version_insert.sql");
const VIEWS: &str = include_str!("../../sql/duckdb/views.sql");
const SALTS_DELETE: &str = include_str!("../../sql/duckdb/salts_delete.sql");
const SALTS_INSERT: &str = include_str!("../../sql/duckdb/salts_insert.sql");
const SALTS_SELECT: &str = include_str!("../../sql/duckdb/salts_select.sql");
const SESSIONS_ACTIVE: &str = include_str!("../../sql/duckdb/sessions_active.sql");
const ROLLUP_PENDING: &str = include_str!("../../sql/duckdb/rollup/pending_days.sql");
const VISITS_MACRO: &str = include_str!("../../sql/duckdb/rollup/visits_macro.sql");
const ROLLUP_MACRO: &str = include_str!("../../sql/duckdb/rollup/rows_macro.sql");
const ROLLUP_DAY: &str = include_str!("../../sql/duckdb/rollup/daily.sql");
const ROLLUP_MARK: &str = include_str!("../../sql/duckdb/rollup/mark_day.sql");
const ROLLED_FROM: &str = include_str!("../../sql/duckdb/rollup/rolled_from.sql");
const UNROLL_FROM: &str = include_str!("../../sql/duckdb/rollup/unroll_from.sql");
const PAIRS_DELETE_DAY: &str = include_str!("../../sql/duckdb/rollup/pairs_delete_day.sql");
const PAIRS_MARK_DAY: &str = include_str!("../../sql/duckdb/rollup/pairs_mark_day.sql");
const PAIRS_FOLD: &str = include_str!("../../sql/duckdb/retention/pairs_fold.sql");
const FOLDING_DAYS: &str = include_str!("../../sql/duckdb/retention/folding_days.sql");
const FUTURE_EVENTS: &str = include_str!("../../sql/duckdb/retention/future_events.sql");
const UNPAIRED_DAYS: &str = include_str!("../../sql/duckdb/retention/unpaired_days.sql");
const EVENTS_DELETE: &str = include_str!("../../sql/duckdb/retention/events_delete.sql");
const VISITS_DELETE: &str = include_str!("../../sql/duckdb/retention/visits_delete.sql");
const VISITS_DELETE_DAY: &str = include_str!("../../sql/duckdb/rollup/visits_delete_day.sql");
const VISITS_INSERT_DAY: &str = include_str!("../../sql/duckdb/rollup/visits_insert_day.sql");
const VISITS_STORED_DAY: &str = include_str!("../../sql/duckdb/rollup/visits_stored_day.sql");
const DAYS_WITHOUT_PAIRS: &str = include_str!("../../sql/duckdb/rollup/days_without_pairs.sql");
const SEALED_DAY_EXISTS: &str = include_str!("../../sql/duckdb/rollup/sealed_day_exists.sql");
const DAYS_WITHOUT_PARTIALS: &str =
    include_str!("../../sql/duckdb/rollup/days_without_partials.sql");
const PARTIALS_DELETE: &str = include_str!("../../sql/duckdb/retention/partials_delete.sql");
const SEALED_DAYS_DELETE: &str = include_str!("../../sql/duckdb/retention/sealed_days_delete.sql");
const PENDING_VISIT_DAYS: &str = include_str!("../../sql/duckdb/rollup/pending_visit_days.sql");
const LAST_SEALED_DAY: &str = include_str!("../../sql/duckdb/rollup/last_sealed_day.sql");
const SEAL_DAY: &str = include_str!("../../sql/duckdb/rollup/seal_day.sql");
const AGGREGATES_DELETE: &str = include_str!("../../sql/duckdb/retention/aggregates_delete.sql");
const PAIRS_DELETE: &str = include_str!("../../sql/duckdb/retention/pairs_delete.sql");
const QUALITY_DELETE: &str = include_str!("../../sql/duckdb/retention/quality_delete.sql");
const QUALITY_ADD: &str = include_str!("../../sql/duckdb/quality_add.sql");
const CURRENT_DATABASE: &str = include_str!("../../sql/duckdb/current_database.sql");
const COMPACT: &str = include_str!("../../sql/duckdb/compact.sql");
const DESTRUCTION_DUE: &str = include_str!("../../sql/duckdb/destruction_due.sql");
const DESTRUCTION_DUE_INSERT: &str = include_str!("../../sql/duckdb/destruction_due_insert.sql");
const DESTRUCTION_DONE: &str = include_str!("../../sql/duckdb/destruction_done.sql");
const MEMORY_LIMIT: &str = include_str!("../../sql/duckdb/memory_limit.sql");
const THREADS: &str = include_str!("../../sql/duckdb/threads.sql");
const ROLLBACK: &str = include_str!("../../sql/duckdb/rollback.sql");
const EXPORT_DAILY: &str = include_str!("../../sql/duckdb/export/daily.sql");
const EVENTS_DAYS: &str = include_str!("../../sql/duckdb/export/events_days.sql");
const EVENTS_CHUNK: &str = include_str!("../../sql/duckdb/export/events_chunk.sql");
const CHECKPOINT: &str = "CHECKPOINT";

/// Runs each statement of a `;`-separated file (no `;` inside a statement or its
/// comments) with the leading parameters it names (`$1`, `$2`, …).
fn execute_each(
    conn: &Connection,
    text: &str,
    params: &[&dyn duckdb::ToSql],
) -> duckdb::Result<()> {
    for statement in text.split(';').filter(|s| {
        s.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
    }) {
        let named = (1..=params.len())
            .rev()
            .find(|n| statement.contains(&format!("${n}")))
            .unwrap_or(0);
        conn.execute(statement, duckdb::params_from_iter(&params[..named]))?;
    }
    Ok(())
}

/// The database as the writer and the readers share it. Compaction replaces the file
/// underneath, so a reader uses a connection only under the read lock, and the
/// writer swaps the database under the write lock, dropping the idle readers'
/// connections with the old database.
#[derive(Clone)]
pub struct DbHandle {
    root: Arc<Mutex<Connection>>,
    /// Held shared while a reader's connection is in use, exclusively during a swap.
    gate: Arc<RwLock<()>>,
    work: Arc<WorkLimits>,
    /// Readers' connections between uses, each with its cache of prepared
    /// statements: DuckDB takes about 10 ms to plan one of the engine's statements
    /// and a few to run it again, and a dashboard asks the same shapes at every click.
    idle: Arc<Mutex<Vec<Connection>>>,
}

/// Idle readers' connections kept: the query threads', the sealer's and one more.
/// Each holds up to [`CACHED_STATEMENTS`], about 6 MiB when full (measured with the
/// engine's statements of the dashboard bench: 92 KiB a statement).
const IDLE_CONNECTIONS: usize = 4;

/// Prepared statements each reader's connection keeps: the engine's shapes of
/// dashboard views under the usual filters, and the lifecycle's.
const CACHED_STATEMENTS: usize = 64;

impl DbHandle {
    fn new(root: Connection, resources: Resources) -> Self {
        Self {
            root: Arc::new(Mutex::new(root)),
            gate: Arc::new(RwLock::new(())),
            work: Arc::new(WorkLimits::new(resources)),
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Runs `f` on a connection to the current database file, under the query
    /// settings ([`WorkLimits`]). Statements `f` prepares with `prepare_cached` are
    /// kept for the next reader that gets the same connection.
    pub fn with<T>(&self, f: impl FnOnce(&Connection) -> T) -> Result<T, StoreError> {
        let _open = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = self
                    .root
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .try_clone()?;
                conn.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
                conn
            }
        };
        let out = {
            let _working = self.work.working(&conn, true)?;
            f(&conn)
        };
        // A connection left inside a transaction would answer the next reader from
        // that transaction's snapshot. The refusal when none is open says nothing.
        let _ = conn.execute_batch(ROLLBACK);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(conn);
        }
        Ok(out)
    }

    /// Drops the idle readers' connections; the caller holds the gate exclusively.
    fn forget_idle(&self) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// DuckDB's memory limit and thread count are settings of the whole database. While
/// only the writer appends they stay at the usual ones: the buffer pool is resident
/// memory under load, and DuckDB's own workers would compete with the request
/// threads. While the big work runs (sealing, the roll-up, retention, compaction, an
/// explicit checkpoint) both are raised to the query ones, because big groupings and
/// checkpoints after big deletes fail or crawl under a small limit (DuckDB cannot
/// spill string aggregate states) and one thread halves their speed. A stats query
/// raises only the memory limit and runs on the usual threads: the query threads
/// run as many queries at once, and a dashboard asks several together (six in
/// flight on two cores: a median of 83–93 ms a query instead of 104 ms,
/// `benches/dashboard.rs`, docs/figures.md). A limit is a cap, not a
/// reservation.
struct WorkLimits {
    /// (usual, query) MiB when the query limit is the higher one.
    memory: Option<(u32, u32)>,
    /// (usual, query) threads when the query count is the higher one.
    threads: Option<(u32, u32)>,
    /// Who works under the raised settings, and since when no one has.
    working: Mutex<Work>,
}

#[derive(Debug, Default)]
struct Work {
    /// How many are working under the raised settings.
    count: usize,
    /// How many of them do big work, not a query: the raised threads are theirs.
    big: usize,
    /// Since when no one has, while the raised settings linger.
    idle_since: Option<Instant>,
    /// Whether a query ran since the settings were raised: then they linger.
    queried: bool,
}

/// How long the raised settings outlast the last work: a dashboard asks a burst of
/// queries at every click, and lowering the limit between them evicts the columns
/// they all read (measured: 150 ms more for each query of a filtered view over 10M
/// events). The writer lowers them once this long has passed ([`DbHandle::relax`]).
pub const LINGER: Duration = Duration::from_secs(30);

impl WorkLimits {
    fn new(resources: Resources) -> Self {
        Self {
            memory: raise(resources.memory_limit_mb, resources.query_memory_limit_mb),
            threads: raise(resources.threads, resources.query_threads),
            working: Mutex::new(Work::default()),
        }
    }

    /// Raises the memory limit (the first one in) and, for big work (not a
    /// `query`), the threads, until the guard drops; after a query the memory limit
    /// lingers.
    fn working<'a>(&'a self, conn: &'a Connection, query: bool) -> Result<Working<'a>, StoreError> {
        let mut working = self.working.lock().unwrap_or_else(PoisonError::into_inner);
        if working.count == 0 && working.idle_since.take().is_none() {
            self.apply_memory(conn, |(_, query)| query)?;
        }
        if !query && working.big == 0 {
            self.apply_threads(conn, |(_, query)| query)?;
        }
        working.count += 1;
        working.big += usize::from(!query);
        working.queried |= query;
        Ok(Working {
            limits: self,
            conn,
            big: !query,
        })
    }

    /// The database was opened again, with the usual settings.
    fn reopened(&self) {
        let mut working = self.working.lock().unwrap_or_else(PoisonError::into_inner);
        working.idle_since = None;
        working.queried = false;
    }

    /// Sets the usual settings again once no one has worked for [`LINGER`] up to `now`.
    fn relax(&self, conn: &Connection, now: Instant) -> Result<(), StoreError> {
        let mut working = self.working.lock().unwrap_or_else(PoisonError::into_inner);
        match working.idle_since {
            Some(since) if working.count == 0 && now.saturating_duration_since(since) >= LINGER => {
                working.idle_since = None;
                working.queried = false;
                self.apply_memory(conn, |(usual, _)| usual)
            }
            _ => Ok(()),
        }
    }

    fn apply_memory(
        &self,
        conn: &Connection,
        pick: fn((u32, u32)) -> u32,
    ) -> Result<(), StoreError> {
        if let Some(limits) = self.memory {
            conn.execute(MEMORY_LIMIT, [format!("{}MiB", pick(limits))])?;
        }
        Ok(())
    }

    fn apply_threads(
        &self,
        conn: &Connection,
        pick: fn((u32, u32)) -> u32,
    ) -> Result<(), StoreError> {
        if let Some(threads) = self.threads {
            conn.execute(THREADS, [pick(threads)])?;
        }
        Ok(())
    }
}

/// (usual, query) when the query setting is the higher one.
fn raise(usual: Option<u32>, query: Option<u32>) -> Option<(u32, u32)> {
    match (usual, query) {
        (Some(usual), Some(query)) if query > usual => Some((usual, query)),
        _ => None,
    }
}

/// When the last big work leaves, the usual threads are back; when the last one
/// working leaves, the usual memory limit, which evicts what the work cached (after
/// a query, only once it lingered for [`LINGER`]).
struct Working<'a> {
    limits: &'a WorkLimits,
    conn: &'a Connection,
    big: bool,
}

impl Drop for Working<'_> {
    fn drop(&mut self) {
        let mut working = self
            .limits
            .working
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        working.count = working.count.saturating_sub(1);
        if self.big {
            working.big = working.big.saturating_sub(1);
            if working.big == 0
                && let Err(e) = self.limits.apply_threads(self.conn, |(usual, _)| usual)
            {
                tracing::warn!("DuckDB's threads for big work stay until the next: {e}");
            }
        }
        if working.count > 0 {
            return;
        }
        if working.queried {
            working.idle_since = Some(Instant::now());
        } else if let Err(e) = self.limits.apply_memory(self.conn, |(usual, _)| usual) {
            tracing::warn!("DuckDB's query memory limit stays until the next query: {e}");
        }
    }
}

impl DbHandle {
    /// Writes the daily aggregates of `site` for the days `from`..=`to` to `target`
    /// with DuckDB's `COPY … TO` (`sql/duckdb/export/daily.sql`): rolled-up days from
    /// `daily_aggregates`, the others computed from events with the roll-up's shape
    /// and `min_crowd`. Returns the rows written.
    pub fn export_daily(
        &self,
        target: &Path,
        format: ExportFormat,
        site: &str,
        (from, to): (NaiveDate, NaiveDate),
        min_crowd: u32,
    ) -> Result<u64, StoreError> {
        let (options, value) = match format {
            ExportFormat::Csv => (
                "FORMAT csv, HEADER",
                // A value a spreadsheet would take for a formula (a page path or UTM
                // tag is visitor input) stays text behind a leading `'`, as OWASP
                // advises.
                "CASE WHEN regexp_matches(value, '^[-=+@\\t\\r]') THEN '''' || value ELSE value END",
            ),
            ExportFormat::Parquet => ("FORMAT parquet", "value"),
        };
        let sql = EXPORT_DAILY
            .replace("{target}", &sql_string(&target.to_string_lossy()))
            .replace("{options}", options)
            .replace("{value}", value);
        let rows = self.with(|conn| {
            conn.execute(
                &sql,
                params![site, from.to_string(), to.to_string(), min_crowd],
            )
        })??;
        Ok(rows as u64)
    }
}

impl DbHandle {
    /// Sets DuckDB's usual memory limit and threads again once no query or big work
    /// has run for [`LINGER`]; the writer calls it every flush.
    pub fn relax(&self) -> Result<(), StoreError> {
        let conn = self
            .root
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .try_clone()?;
        self.work.relax(&conn, Instant::now())
    }

    /// A handle on an existing file opened read-only, for tools that run beside (or
    /// instead of) the collector: no migration, no writes. DuckDB refuses while a
    /// collector holds the file for writing.
    /// The UTC days that have events, with how many, in order.
    pub fn event_days(&self) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(EVENTS_DAYS)?;
            let rows = stmt.query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?;
            let mut days = Vec::new();
            for row in rows {
                let (day, n) = row?;
                let day = day
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("event day {day:?}")))?;
                days.push((day, u64::try_from(n).unwrap_or(0)));
            }
            Ok(days)
        })?
    }

    /// Up to `limit` events of UTC day `day` from the `offset`th on, in a fixed
    /// order (time, then storage), as kept.
    pub fn events_of_day(
        &self,
        day: NaiveDate,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.with(|conn| Self::read_events(conn, day, limit, offset))?
    }

    fn read_events(
        conn: &Connection,
        day: NaiveDate,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut stmt = conn.prepare(EVENTS_CHUNK)?;
        let mut rows = stmt.query(params![day.to_string(), limit, offset])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let text = |i: usize| row.get::<_, String>(i);
            let optional = |i: usize| row.get::<_, Option<String>>(i);
            out.push(StoredEvent {
                ts_micros: row.get(0)?,
                text: [text(1)?, text(2)?, text(3)?, text(4)?],
                visitor_id: row.get(5)?,
                session_id: row.get(6)?,
                visit_day: row.get(7)?,
                optional: [
                    optional(8)?,
                    optional(9)?,
                    optional(11)?,
                    optional(12)?,
                    optional(13)?,
                    optional(14)?,
                    optional(15)?,
                    optional(16)?,
                    optional(17)?,
                    optional(18)?,
                    optional(24)?,
                    optional(25)?,
                    optional(27)?,
                ],
                required: [
                    text(10)?,
                    text(19)?,
                    text(20)?,
                    text(21)?,
                    text(22)?,
                    text(23)?,
                ],
                save_data: row.get(26)?,
                scroll_depth: row.get(28)?,
                engaged_ms: row.get(29)?,
                interactive: row.get(30)?,
            });
        }
        Ok(out)
    }

    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let open = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let config = duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .map_err(open)?;
        let root = Connection::open_with_flags(path, config).map_err(open)?;
        Ok(Self::new(root, Resources::default()))
    }
}

pub struct DuckDbStore {
    path: PathBuf,
    handle: DbHandle,
    /// The writer's own connection (appends, roll-ups, retention).
    conn: Connection,
    /// Applied again when compaction reopens the file.
    resources: Resources,
    /// Whether a reopen failed and the store sits on an in-memory stand-in: each
    /// write first opens the file again (see [`DuckDbStore::reattach`]).
    detached: bool,
}

/// How much of the machine DuckDB may take; `None` leaves DuckDB's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    /// Its buffer pool in MiB (DuckDB's default: 80 % of the machine's memory).
    pub memory_limit_mb: Option<u32>,
    /// The limit while the big work runs, when above `memory_limit_mb`
    /// ([`WorkLimits`]).
    pub query_memory_limit_mb: Option<u32>,
    /// Its worker threads (DuckDB's default: one per core).
    pub threads: Option<u32>,
    /// Its threads while the big work runs, when above `threads`.
    pub query_threads: Option<u32>,
    /// The WAL size that triggers a checkpoint, in MiB (DuckDB's default: 16).
    pub wal_autocheckpoint_mb: Option<u32>,
}

impl Resources {
    /// What `[store]` allows DuckDB.
    pub fn from_config(store: &StoreConfig) -> Self {
        Self {
            memory_limit_mb: store.memory_limit_mb,
            query_memory_limit_mb: store.query_memory_limit_mb,
            threads: Some(store.threads),
            query_threads: Some(store.query_threads()),
            wal_autocheckpoint_mb: Some(store.wal_autocheckpoint_mb),
        }
    }
}

impl DuckDbStore {
    /// Opens (or creates) the file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_limited(path, Resources::default())
    }

    /// Like [`open`](Self::open), within the given resources.
    pub fn open_limited(path: &Path, resources: Resources) -> Result<Self, StoreError> {
        let root = connect(path, resources)?;
        let conn = root.try_clone()?;
        let mut store = Self {
            path: path.to_owned(),
            handle: DbHandle::new(root, resources),
            conn,
            resources,
            detached: false,
        };
        store.migrate()?;
        Ok(store)
    }

    /// A handle for readers (the query engine, reports) of the same database.
    pub fn handle(&self) -> DbHandle {
        self.handle.clone()
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch(SCHEMA_MIGRATIONS)?;
        let current: u32 = self.conn.query_row(SCHEMA_VERSION, [], |row| row.get(0))?;
        for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)
                .and_then(|()| tx.execute(SCHEMA_VERSION_INSERT, [version]))
                .map_err(|source| StoreError::Migrate { version, source })?;
            tx.commit()?;
        }
        self.conn.execute_batch(VIEWS)?;
        self.conn.execute_batch(VISITS_MACRO)?;
        self.conn.execute_batch(ROLLUP_MACRO)?;
        Ok(())
    }
}

/// Checkpoints what was just committed. DuckDB refuses while another connection
/// holds its checkpoint lock; what was committed is safe in the WAL either way, and
/// the next step checkpoints it, so a refusal is no failure of the step (failing
/// it would hold back every day after it until the next lifecycle run).
fn checkpoint_committed(conn: &Connection, what: &str) {
    if let Err(e) = conn.execute_batch(CHECKPOINT) {
        tracing::debug!("checkpoint after storing {what} left for later: {e}");
    }
}

/// Replaces the stored visits of visit day `day` (as text) with those its events
/// give; how many were stored.
fn replace_visits(conn: &Connection, day: &str) -> Result<u64, StoreError> {
    conn.execute(VISITS_DELETE_DAY, [day])?;
    Ok(conn.execute(VISITS_INSERT_DAY, [day])? as u64)
}

/// Replaces the pairs of visit day `day` with its exact pairs, and marks it so.
fn exact_pairs(conn: &Connection, day: NaiveDate) -> Result<(), StoreError> {
    let param = day.to_string();
    conn.execute(PAIRS_DELETE_DAY, [&param])?;
    pairs::append(conn, day)?;
    execute_each(conn, PAIRS_MARK_DAY, &[&param])?;
    Ok(())
}

/// The days `sql` lists as text for its one parameter, `day`; `what` names them in
/// the error a day that does not read gives.
fn listed_days(
    conn: &Connection,
    sql: &str,
    day: NaiveDate,
    what: &str,
) -> Result<Vec<NaiveDate>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([day.to_string()], |row| row.get::<_, String>(0))?;
    let mut days = Vec::new();
    for day in rows {
        let day = day?;
        days.push(
            day.parse()
                .map_err(|e| StoreError::Corrupt(format!("{what} {day:?}: {e}")))?,
        );
    }
    Ok(days)
}

/// A date as DuckDB's `DATE`.
fn date32(day: NaiveDate) -> Value {
    Value::Date32(days_since_epoch(day))
}

/// Days since the Unix epoch, as DuckDB stores a `DATE`.
fn days_since_epoch(day: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from((day - epoch).num_days()).unwrap_or(i32::MAX)
}

impl Store for DuckDbStore {
    fn append(
        &mut self,
        events: &mut dyn Iterator<Item = EventView<'_>>,
    ) -> Result<(), StoreError> {
        self.reattach()?;
        let tx = self.conn.transaction()?;
        {
            let mut appender = tx.appender("events")?;
            // Per batch, so rows of a failed batch never reach the next.
            let mut columns = EventColumns::new();
            for e in events {
                columns.push(&e);
                if columns.len() == CHUNK_ROWS {
                    appender.append_record_batch(columns.finish()?)?;
                }
            }
            if !columns.is_empty() {
                appender.append_record_batch(columns.finish()?)?;
            }
            appender.flush()?;
        }
        tx.commit()?;
        Ok(())
    }

    fn replace_salts(&mut self, salts: &[Salt]) -> Result<(), StoreError> {
        self.reattach()?;
        let destroyed = self.load_salts()?.iter().any(|old| {
            !salts
                .iter()
                .any(|new| new.day == old.day && new.key == old.key)
        });
        let tx = self.conn.transaction()?;
        tx.execute_batch(SALTS_DELETE)?;
        for salt in salts {
            tx.execute(
                SALTS_INSERT,
                params![salt.day.to_string(), salt.key.as_slice()],
            )?;
        }
        if destroyed {
            // Owed in the same transaction: whether a salt was destroyed cannot be
            // told from `salts` once its row is gone.
            tx.execute_batch(DESTRUCTION_DUE_INSERT)?;
        }
        tx.commit()?;
        self.checkpoint()
    }

    fn finish_destruction(&mut self) -> Result<bool, StoreError> {
        self.reattach()?;
        let due: bool = self.conn.query_row(DESTRUCTION_DUE, [], |row| row.get(0))?;
        if due {
            self.compact()?;
            self.conn.execute_batch(DESTRUCTION_DONE)?;
            self.checkpoint()?;
        }
        Ok(due)
    }

    fn load_salts(&mut self) -> Result<Vec<Salt>, StoreError> {
        let mut stmt = self.conn.prepare(SALTS_SELECT)?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut salts = Vec::new();
        for row in rows {
            let (day, key) = row?;
            let day = day
                .parse::<NaiveDate>()
                .map_err(|e| StoreError::Corrupt(format!("salt day {day:?}: {e}")))?;
            let key: [u8; 32] = key
                .try_into()
                .map_err(|_| StoreError::Corrupt("a stored salt is not 32 bytes".into()))?;
            salts.push(Salt { day, key });
        }
        Ok(salts)
    }

    fn active_sessions(&mut self, since_micros: i64) -> Result<Vec<ActiveSession>, StoreError> {
        let mut stmt = self.conn.prepare(SESSIONS_ACTIVE)?;
        let rows = stmt.query_map([since_micros], |row| {
            Ok(ActiveSession {
                visitor_id: row.get(0)?,
                session_id: row.get(1)?,
                last_seen: row.get(2)?,
                visit_day: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn checkpoint(&mut self) -> Result<(), StoreError> {
        // After retention's DELETE a checkpoint rewrites row groups: at the usual
        // limit that ran out of memory, which invalidates the database (measured).
        self.working(|conn| Ok(conn.execute_batch(CHECKPOINT)?))
    }

    fn unroll_from(&mut self, today: NaiveDate, until: NaiveDate) -> Result<u64, StoreError> {
        let (today, until) = (today.to_string(), until.to_string());
        let days: i64 = self
            .conn
            .query_row(ROLLED_FROM, [&today, &until], |row| row.get(0))?;
        if days == 0 {
            return Ok(0);
        }
        self.working(|conn| {
            let tx = conn.transaction()?;
            execute_each(&tx, UNROLL_FROM, &[&today, &until])?;
            tx.commit()?;
            Ok(())
        })?;
        Ok(u64::try_from(days).unwrap_or(0))
    }

    fn pending_rollup_days(&mut self, today: NaiveDate) -> Result<Vec<NaiveDate>, StoreError> {
        listed_days(&self.conn, ROLLUP_PENDING, today, "event day")
    }

    fn roll_up_day(&mut self, day: NaiveDate, min_crowd: u32) -> Result<(), StoreError> {
        self.working(|conn| {
            let tx = conn.transaction()?;
            tx.execute(ROLLUP_DAY, params![day.to_string(), min_crowd])?;
            tx.execute(ROLLUP_MARK, [day.to_string()])?;
            tx.commit()?;
            Ok(())
        })
    }

    fn pending_visit_days(
        &mut self,
        from: NaiveDate,
        before: NaiveDate,
    ) -> Result<Vec<(NaiveDate, String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare(PENDING_VISIT_DAYS)?;
        let rows = stmt.query_map([from.to_string(), before.to_string()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (day, site, last) = row?;
            let day = day
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("visit day {day:?}")))?;
            out.push((day, site, last));
        }
        Ok(out)
    }

    fn store_visits(&mut self, day: NaiveDate, last_day: NaiveDate) -> Result<u64, StoreError> {
        let (day, last_day) = (day.to_string(), last_day.to_string());
        self.working(|conn| {
            let tx = conn.transaction()?;
            let stored = replace_visits(&tx, &day)?;
            tx.execute(VISITS_STORED_DAY, [&day, &last_day])?;
            tx.commit()?;
            // A day's visits are megabytes of WAL: checkpointed now, under the raised
            // limits, not by the next append under the writer's small buffer pool
            // (where it fails for want of memory).
            checkpoint_committed(conn, "visits");
            Ok(stored)
        })
    }

    fn store_pairs(&mut self, day: NaiveDate) -> Result<bool, StoreError> {
        self.working(|conn| {
            let tx = conn.transaction()?;
            let sealed: i64 = tx.query_row(SEALED_DAY_EXISTS, [day.to_string()], |r| r.get(0))?;
            if sealed == 0 {
                return Ok(false);
            }
            exact_pairs(&tx, day)?;
            tx.commit()?;
            // Over a million rows a day: checkpointed now, as the visits are.
            checkpoint_committed(conn, "exact pairs");
            Ok(true)
        })
    }

    fn days_without_pairs(&mut self, from: NaiveDate) -> Result<Vec<NaiveDate>, StoreError> {
        listed_days(&self.conn, DAYS_WITHOUT_PAIRS, from, "sealed day")
    }

    fn days_without_partials(
        &mut self,
        from: NaiveDate,
    ) -> Result<Vec<(NaiveDate, NaiveDate, Option<String>)>, StoreError> {
        let mut stmt = self.conn.prepare(DAYS_WITHOUT_PARTIALS)?;
        let rows = stmt.query_map([from.to_string()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (day, last, site) = row?;
            let parse = |d: &str| {
                d.parse::<NaiveDate>()
                    .map_err(|_| StoreError::Corrupt(format!("sealed day {d:?}")))
            };
            out.push((parse(&day)?, parse(&last)?, site));
        }
        Ok(out)
    }

    fn last_sealed_day(&mut self) -> Result<Option<NaiveDate>, StoreError> {
        let day: Option<String> = self.conn.query_row(LAST_SEALED_DAY, [], |row| row.get(0))?;
        day.map(|d| {
            d.parse()
                .map_err(|_| StoreError::Corrupt(format!("sealed day {d:?}")))
        })
        .transpose()
    }

    fn seal_visit_day(
        &mut self,
        day: NaiveDate,
        last_day: NaiveDate,
        rows: &[PartialRow],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut appender = tx.appender("visit_partials")?;
            for r in rows {
                let mut values = vec![
                    Value::Text(r.site.clone()),
                    date32(r.visit_day),
                    r.bucket.map_or(Value::Null, date32),
                    Value::Text(r.property.to_owned()),
                    Value::Text(r.value.clone()),
                ];
                values.extend(r.sums.map(Value::BigInt));
                appender.append_row(appender_params_from_iter(values))?;
            }
            appender.flush()?;
        }
        tx.execute(SEAL_DAY, [day.to_string(), last_day.to_string()])?;
        tx.commit()?;
        Ok(())
    }

    fn expire_events(
        &mut self,
        before: NaiveDate,
        future_from: NaiveDate,
        min_crowd: u32,
    ) -> Result<u64, StoreError> {
        let day = before.to_string();
        let future = future_from.to_string();
        self.working(|conn| {
            let ahead: i64 = conn.query_row(FUTURE_EVENTS, [&future], |row| row.get(0))?;
            if ahead > 0 {
                tracing::warn!(
                    events = ahead,
                    from = %future,
                    "events stamped ahead of the clock (it went back after running ahead) \
                     are deleted with what was derived from them; the days' aggregates stay"
                );
            }
            let tx = conn.transaction()?;
            let unpaired: Vec<String> = tx
                .prepare(UNPAIRED_DAYS)?
                .query_map([&day, &future], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            // Counted exact like a sealed day's, then folded with the others below.
            // The pairs read a day's stored visits: a day never sealed gets them now
            // (its visits have long ended), and loses them with its events below.
            for unpaired in &unpaired {
                let sealed: i64 = tx.query_row(SEALED_DAY_EXISTS, [unpaired], |r| r.get(0))?;
                if sealed == 0 {
                    replace_visits(&tx, unpaired)?;
                }
                let unpaired = unpaired
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("visit day {unpaired:?}")))?;
                exact_pairs(&tx, unpaired)?;
            }
            let folding: Vec<String> = tx
                .prepare(FOLDING_DAYS)?
                .query_map([&day, &future], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            for folding in folding {
                let folding = folding
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("paired day {folding:?}")))?;
                pairs::append_fold_visitors(&tx, folding, i64::from(min_crowd))?;
            }
            execute_each(&tx, PAIRS_FOLD, &[&day, &future, &min_crowd])?;
            tx.commit()?;
            conn.execute(PARTIALS_DELETE, [&day, &future])?;
            conn.execute(VISITS_DELETE, [&day, &future])?;
            conn.execute(SEALED_DAYS_DELETE, [&day, &future])?;
            Ok(conn.execute(EVENTS_DELETE, [&day, &future])? as u64)
        })
    }

    fn expire_aggregates(&mut self, before: NaiveDate) -> Result<u64, StoreError> {
        self.working(|conn| {
            conn.execute(QUALITY_DELETE, [before.to_string()])?;
            let pairs = conn.execute(PAIRS_DELETE, [before.to_string()])?;
            Ok((conn.execute(AGGREGATES_DELETE, [before.to_string()])? + pairs) as u64)
        })
    }

    /// Copies the live database into a fresh file and puts it in place of the old
    /// one: deleted rows and freed blocks are not copied, so they are gone.
    fn compact(&mut self) -> Result<(), StoreError> {
        let fresh = sibling(&self.path, "compact");
        remove_if_present(&fresh)?;
        remove_if_present(&sibling(&fresh, "wal"))?;
        // The checkpoint and the copy under one raise of the settings.
        let copied = self.working(|conn| {
            conn.execute_batch(CHECKPOINT)?;
            let source: String = conn.query_row(CURRENT_DATABASE, [], |row| row.get(0))?;
            let sql = COMPACT
                .replace("{target}", &sql_string(&fresh.to_string_lossy()))
                .replace("{source}", &sql_identifier(&source));
            Ok(conn.execute_batch(&sql)?)
        });
        if let Err(e) = copied {
            // No half-written copy left behind (it would hold everything).
            let _ = remove_if_present(&fresh);
            let _ = remove_if_present(&sibling(&fresh, "wal"));
            return Err(e);
        }
        // The fresh file takes the old one's place while the database is closed.
        let path = self.path.clone();
        self.close_and_reopen(|| {
            std::fs::rename(&fresh, &path).map_err(StoreError::Io)?;
            remove_if_present(&sibling(&path, "wal"))
        })
    }

    fn reopen(&mut self) -> Result<(), StoreError> {
        self.close_and_reopen(|| Ok(()))
    }

    fn relax(&mut self) -> Result<(), StoreError> {
        self.handle.work.relax(&self.conn, Instant::now())
    }

    fn add_quality(&mut self, drops: &SiteDrops) -> Result<(), StoreError> {
        self.reattach()?;
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(QUALITY_ADD)?;
            for ((site, day, reason), n) in drops {
                stmt.execute(duckdb::params![
                    site.as_ref(),
                    day.to_string(),
                    reason.as_str(),
                    i64::try_from(*n).unwrap_or(i64::MAX)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

impl DuckDbStore {
    /// Runs `f` on the writer's connection under the query settings ([`WorkLimits`]):
    /// the roll-up, retention, explicit checkpoints and compaction are big and rare,
    /// like a query, not like appends.
    fn working<T>(
        &mut self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.reattach()?;
        // The guard sets them on a connection of its own, since `f` borrows the
        // writer's; both are gone before compaction closes the database.
        let (limits, setter) = (Arc::clone(&self.handle.work), self.conn.try_clone()?);
        let _working = limits.working(&setter, false)?;
        f(&mut self.conn)
    }

    /// Closes the database (every connection: readers wait on the gate), runs
    /// `between`, and opens the file again; `between`'s error is returned after.
    fn close_and_reopen(
        &mut self,
        between: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let _swap = self
            .handle
            .gate
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        self.handle.forget_idle();
        let mut root = self
            .handle
            .root
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *root = Connection::open_in_memory()?;
        self.conn = root.try_clone()?;
        // Until the file is open again: should that fail, every write tries again.
        self.detached = true;
        let outcome = between();
        *root = connect(&self.path, self.resources)?;
        self.conn = root.try_clone()?;
        self.detached = false;
        // The new database has the usual settings: nothing lingers.
        self.handle.work.reopened();
        outcome
    }

    /// Opens the file again if a reopen failed (a file briefly missing or locked,
    /// a full disk): until it succeeds the store sits on an in-memory stand-in
    /// whose every write would fail, so each write tries this first.
    fn reattach(&mut self) -> Result<(), StoreError> {
        if self.detached {
            self.close_and_reopen(|| Ok(()))?;
            tracing::warn!("the database file is open again");
        }
        Ok(())
    }
}

/// Opens the database file within `resources`. Opening replays what the WAL holds
/// (after a crash, up to a checkpoint's worth) and checkpoints it: big work, so it
/// runs under the query memory limit, and the usual one is set once the file is open.
fn connect(path: &Path, resources: Resources) -> Result<Connection, StoreError> {
    let open_error = |source| StoreError::Open {
        path: path.display().to_string(),
        source,
    };
    let raised = raise(resources.memory_limit_mb, resources.query_memory_limit_mb);
    let mut config = duckdb::Config::default();
    if let Some(mb) = raised.map(|(_, query)| query).or(resources.memory_limit_mb) {
        config = config.max_memory(&format!("{mb}MiB")).map_err(open_error)?;
    }
    if let Some(threads) = resources.threads {
        config = config.threads(threads.into()).map_err(open_error)?;
    }
    // DuckDB 2.0 does I/O (scan read-ahead, checkpoint writes) on a pool of its own,
    // 8 threads started by whichever thread opens the file, at its priority: beside
    // the requests, outside the writer's and the query threads' lower claims on the
    // CPU. None: each does its own I/O, at its own priority.
    config = config.with("async_threads", "0").map_err(open_error)?;
    if let Some(mb) = resources.wal_autocheckpoint_mb {
        config = config
            .with("wal_autocheckpoint", format!("{mb}MiB"))
            .map_err(open_error)?;
    }
    let conn = Connection::open_with_flags(path, config).map_err(open_error)?;
    if let Some((usual, _)) = raised {
        conn.execute(MEMORY_LIMIT, [format!("{usual}MiB")])?;
    }
    Ok(conn)
}

/// `file.duckdb` → `file.duckdb.<ext>`.
fn sibling(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io(e)),
        _ => Ok(()),
    }
}

/// A SQL string literal (for the store's own file path, which cannot be a parameter
/// of ATTACH, and the operator's export path, which cannot be one of COPY … TO).
fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn sql_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENERATE: &str = include_str!("../../sql/duckdb/bench/generate_events.sql");

    /// A reopen that fails (here: a folder where the file was) leaves no store on an
    /// in-memory stand-in for good: writes fail while the cause lasts, and the next
    /// write after it is gone opens the file again and lands in it.
    #[test]
    fn a_failed_reopen_recovers_once_the_cause_is_gone() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("reopen.duckdb");
        let aside = dir.path().join("aside.duckdb");
        let mut store = DuckDbStore::open(&path).expect("open");
        let packed = crate::store::packed::Packed::pack(&crate::store::packed::tests::event())
            .expect("pack");
        let one = || std::iter::once(packed.view().expect("view"));
        store.append(&mut one()).expect("first write");
        let failed = store.close_and_reopen(|| {
            std::fs::rename(&path, &aside).map_err(StoreError::Io)?;
            std::fs::create_dir(&path).map_err(StoreError::Io)
        });
        assert!(failed.is_err());
        assert!(
            store.append(&mut one()).is_err(),
            "a write while the file is away"
        );
        std::fs::remove_dir(&path).expect("remove folder");
        std::fs::rename(&aside, &path).expect("put back");
        store
            .append(&mut one())
            .expect("a write once the file is back");
        drop(store);
        let store = DuckDbStore::open(&path).expect("reopen");
        let count = texts(&store.conn, "SELECT CAST(count(*) AS VARCHAR) FROM events");
        assert_eq!(count, vec!["2".to_owned()]);
    }

    /// The first column of every row of `sql`, as text.
    fn texts(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(sql).expect("prepare");
        stmt.query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    /// The appender is positional: the Arrow columns must be the table's, in order,
    /// whatever a migration added.
    #[test]
    fn event_columns_are_the_tables_in_order() {
        let dir = tempfile::tempdir().expect("dir");
        let store = DuckDbStore::open(&dir.path().join("columns.duckdb")).expect("open");
        let table = texts(
            &store.conn,
            "SELECT column_name FROM information_schema.columns \
             WHERE table_name = 'events' ORDER BY ordinal_position",
        );
        assert_eq!(EventColumns::new().names(), table);
    }

    /// The property table ([`crate::query::PROPS`]) and the stored columns agree:
    /// every property's column is in `events`, every visit property taken from the
    /// first event is kept in `visits` under the same name, and the roll-up writes
    /// exactly the dimensions the table names (the versions apart: kept joined with
    /// their browser or OS name).
    #[test]
    fn the_property_table_matches_the_tables_and_the_rollup() {
        use crate::query::{PROPS, Taken};
        let dir = tempfile::tempdir().expect("dir");
        let mut store = DuckDbStore::open(&dir.path().join("props.duckdb")).expect("open");
        let columns = |table: &str| {
            texts(
                &store.conn,
                &format!(
                    "SELECT column_name FROM information_schema.columns \
                     WHERE table_name = '{table}'"
                ),
            )
        };
        let (events, visits) = (columns("events"), columns("visits"));
        for p in PROPS {
            assert!(events.iter().any(|c| c == p.column), "{}: events", p.name);
            if p.taken == Taken::First {
                assert!(visits.iter().any(|c| c == p.column), "{}: visits", p.name);
            }
        }
        for kept in ["entry_page", "exit_page"] {
            assert!(visits.iter().any(|c| c == kept));
        }

        store.conn.execute(GENERATE, [5_000]).expect("generate");
        let day = NaiveDate::from_ymd_opt(2026, 1, 2).expect("day");
        store.roll_up_day(day, 1).expect("roll up");
        let rolled = texts(
            &store.conn,
            "SELECT DISTINCT dimension FROM daily_aggregates ORDER BY 1",
        );
        let mut named: Vec<String> = PROPS
            .iter()
            .filter_map(|p| p.rollup)
            .chain(["total", "browser_version", "os_version"])
            .map(str::to_owned)
            .collect();
        named.sort();
        named.dedup();
        assert_eq!(rolled, named);
    }

    /// Storing a day's visits and pairs succeeds while another connection holds
    /// DuckDB's checkpoint lock (an update of its own not yet committed): the
    /// checkpoint after them waits for a later step instead of failing theirs.
    #[test]
    fn a_sealing_step_is_stored_while_another_connection_writes() {
        let dir = tempfile::tempdir().expect("dir");
        let mut store = DuckDbStore::open(&dir.path().join("busy.duckdb")).expect("open");
        store.conn.execute(GENERATE, [5_000]).expect("generate");
        let day = NaiveDate::from_ymd_opt(2026, 1, 2).expect("day");
        let other = store.conn.try_clone().expect("connection");
        other
            .execute_batch(
                "INSERT INTO quality_daily VALUES ('example.test', DATE '2026-01-02', 'bot', 1);
                 BEGIN; UPDATE quality_daily SET hits = hits + 1;",
            )
            .expect("an open write");
        let stored = store
            .store_visits(day, day.succ_opt().expect("day"))
            .expect("visits stored beside an open write");
        assert!(stored > 0);
        assert!(
            store
                .store_pairs(day)
                .expect("pairs stored beside an open write")
        );
        other.execute_batch("COMMIT").expect("commit");
    }

    /// DuckDB's memory limit and threads.
    fn settings(conn: &Connection) -> (String, i64) {
        conn.query_row(
            "SELECT current_setting('memory_limit'), current_setting('threads')",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("settings")
    }

    /// A day too big for the usual limit rolls up under the query limit, readers
    /// work under it too, and the usual limit is back afterwards.
    /// The pair roll-up's visitors (whole visits by the day they began, as a sealed
    /// day's pairs are stored), counted without a distinct count where a visitor's
    /// visits agree, are the distinct visitors of each cell, on generated
    /// visitors with several visits a day: a steady × changing and a changing ×
    /// changing visit cell, and an event × visit cell.
    #[test]
    fn pair_visitors_are_distinct_visitors() {
        let dir = tempfile::tempdir().expect("dir");
        let mut store = DuckDbStore::open(&dir.path().join("pairs.duckdb")).expect("open");
        store.conn.execute(GENERATE, [200_000]).expect("generate");
        let day: String = store
            .conn
            .query_row(
                "SELECT CAST(min(ts) AS DATE)::VARCHAR FROM events",
                [],
                |r| r.get(0),
            )
            .expect("day");
        let visit_day: NaiveDate = day.parse().expect("day");
        store
            .store_visits(visit_day, visit_day.succ_opt().expect("day"))
            .expect("visits");
        assert!(store.store_pairs(visit_day).expect("pairs"));
        let compare = "
            WITH e AS (
                SELECT *, session_id AS skey, coalesce(visitor_id, session_id) AS vkey
                FROM events WHERE visit_day = CAST($1 AS DATE)),
            c AS (SELECT * FROM e WHERE skey IN (SELECT skey FROM e WHERE name <> 'engagement')),
            v AS (
                SELECT skey, any_value(vkey) AS vkey,
                    coalesce(arg_min(country, ts), '(none)') AS country,
                    coalesce(arg_min(source, ts), 'Direct / None') AS source,
                    coalesce(arg_min(pathname, ts) FILTER (WHERE name = 'pageview'), '(none)')
                        AS entry_page
                FROM c GROUP BY skey),
            reference AS (
                SELECT 'country' AS d, country AS x, 'source' AS d2, source AS y,
                    count(DISTINCT vkey) AS n
                FROM v GROUP BY ALL
                UNION ALL
                SELECT 'entry_page', entry_page, 'source', source, count(DISTINCT vkey)
                FROM v GROUP BY ALL
                UNION ALL
                SELECT 'page', c.pathname, 'source', v.source, count(DISTINCT c.vkey)
                FROM c JOIN v USING (skey) WHERE c.name <> 'engagement' GROUP BY ALL),
            pairs AS (
                SELECT dimension, value, dimension2, value2, visitors
                FROM daily_pairs
                WHERE day = CAST($1 AS DATE) AND (dimension, dimension2)
                    IN (('country', 'source'), ('entry_page', 'source'), ('page', 'source')))
            SELECT (SELECT count(*) FROM (FROM reference EXCEPT FROM pairs))
                 + (SELECT count(*) FROM (FROM pairs EXCEPT FROM reference))";
        let differ: i64 = store
            .conn
            .query_row(compare, [&day], |r| r.get(0))
            .expect("compare");
        assert_eq!(differ, 0);
        let several: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM (SELECT visitor_id FROM events GROUP BY visitor_id \
                 HAVING count(DISTINCT session_id) > 1)",
                [],
                |r| r.get(0),
            )
            .expect("several");
        assert!(several > 100, "{several}");
    }

    /// Readers' connections are kept between uses, but not one left inside a
    /// transaction: the next reader would see that transaction's snapshot.
    #[test]
    fn a_reader_left_in_a_transaction_passes_no_snapshot_on() {
        let dir = tempfile::tempdir().expect("dir");
        let store = DuckDbStore::open(&dir.path().join("snapshot.duckdb")).expect("open");
        let handle = store.handle();
        let count = |conn: &Connection| -> i64 {
            conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
                .expect("count")
        };
        let before = handle
            .with(|conn| {
                conn.execute_batch("BEGIN TRANSACTION").expect("begin");
                count(conn)
            })
            .expect("reader");
        assert_eq!(before, 0);
        store.conn.execute(GENERATE, [1_000]).expect("generate");
        assert_eq!(handle.with(count).expect("reader"), 1_000);
        assert_eq!(handle.with(count).expect("reader"), 1_000);
    }

    #[test]
    fn queries_and_rollup_run_under_the_query_memory_limit() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("busy.duckdb");
        {
            // 2M events over 30 days: ≈ 67k a day, too many for 32 MiB.
            let mut store = DuckDbStore::open(&path).expect("open");
            store.conn.execute(GENERATE, [2_000_000]).expect("generate");
            store.checkpoint().expect("checkpoint");
        }
        let day = NaiveDate::from_ymd_opt(2026, 1, 5).expect("day");
        let tight = Resources {
            memory_limit_mb: Some(32),
            query_memory_limit_mb: None,
            threads: Some(1),
            query_threads: Some(2),
            wal_autocheckpoint_mb: Some(64),
        };
        let mut store = DuckDbStore::open_limited(&path, tight).expect("open");
        let next = day.succ_opt().expect("day");
        let error = store
            .store_visits(day, next)
            .expect_err("32 MiB is too little");
        assert!(error.to_string().contains("Out of Memory"), "{error}");
        drop(store);

        let roomy = Resources {
            query_memory_limit_mb: Some(256),
            ..tight
        };
        let mut store = DuckDbStore::open_limited(&path, roomy).expect("open");
        // Opened (and its WAL replayed) under the query limit, then the usual one.
        assert_eq!(settings(&store.conn), ("32.0 MiB".to_owned(), 1));
        let wal: String = store
            .conn
            .query_row("SELECT current_setting('wal_autocheckpoint')", [], |row| {
                row.get(0)
            })
            .expect("wal_autocheckpoint");
        assert_eq!(wal, "64.0 MiB");
        store
            .store_visits(day, next)
            .expect("visits within 256 MiB");
        assert!(store.store_pairs(day).expect("pairs within 256 MiB"));
        store.roll_up_day(day, 1).expect("roll-up within 256 MiB");
        assert_eq!(settings(&store.conn), ("32.0 MiB".to_owned(), 1));
        // A query raises the memory limit only: the query threads give it company.
        let during = store.handle().with(settings).expect("reader");
        assert_eq!(during, ("256.0 MiB".to_owned(), 1));
        // The limit lingers after the reader, for the next query of a burst; then
        // the usual one is back.
        assert_eq!(settings(&store.conn), ("256.0 MiB".to_owned(), 1));
        store.handle().relax().expect("relax");
        assert_eq!(settings(&store.conn), ("256.0 MiB".to_owned(), 1));
        store
            .handle
            .work
            .relax(&store.conn, Instant::now() + LINGER)
            .expect("relax");
        assert_eq!(settings(&store.conn), ("32.0 MiB".to_owned(), 1));
        // Big work raises both, and a query during it keeps them; after it the
        // usual threads are back at once.
        let handle = store.handle();
        let (big, query) = store
            .working(|conn| Ok((settings(conn), handle.with(settings)?)))
            .expect("big work");
        assert_eq!(big, ("256.0 MiB".to_owned(), 2));
        assert_eq!(query, big);
        assert_eq!(settings(&store.conn).1, 1);

        // Retention too: the checkpoint after its DELETE failed in 32 MiB with
        // Out of Memory, which invalidated the database.
        let before = NaiveDate::from_ymd_opt(2026, 1, 11).expect("day");
        let future = before + chrono::Days::new(365);
        assert!(store.expire_events(before, future, 5).expect("expire") > 0);
        store.compact().expect("compaction within 256 MiB");
        assert_eq!(settings(&store.conn), ("32.0 MiB".to_owned(), 1));
    }

    /// A roll-up that keeps failing does not keep pseudonymous events past their
    /// retention: expiry and compaction run anyway, and the roll-up's error comes
    /// back. (Its table gone is the failure here; a full disk or too little memory
    /// fail the same way.)
    #[test]
    fn a_failing_rollup_does_not_hold_back_retention() {
        let dir = tempfile::tempdir().expect("dir");
        let mut store = DuckDbStore::open(&dir.path().join("stuck.duckdb")).expect("open");
        store.conn.execute(GENERATE, [100_000]).expect("generate");
        store
            .conn
            .execute_batch("DROP TABLE rolled_up_days")
            .expect("drop");
        let policy = crate::config::Lifecycle::default();
        let today = NaiveDate::from_ymd_opt(2026, 2, 9).expect("day");
        let now = today.and_hms_opt(12, 0, 0).expect("time").and_utc();
        let error = crate::lifecycle::run(&mut store, &policy, now).expect_err("no roll-up");
        assert!(error.to_string().contains("rolled_up_days"), "{error}");
        let (expired, kept): (i64, i64) = store
            .conn
            .query_row(
                "SELECT count(*) FILTER (WHERE ts < CAST($1 AS DATE)), \
                        count(*) FILTER (WHERE ts >= CAST($1 AS DATE)) FROM events",
                [policy.events_from(today).to_string()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("count");
        assert_eq!(expired, 0);
        assert!(kept > 0);
    }
}
