//! The embedded DuckDB store: one file, schema and migrations from `sql/`, batches
//! appended with DuckDB's Appender inside one transaction each.

use std::path::Path;

use chrono::NaiveDate;
use duckdb::types::{TimeUnit, Value};
use duckdb::{Connection, params};

use super::{ActiveSession, Store, StoreError};
use crate::event::Event;
use crate::pseudonymise::salt::Salt;

/// Numbered migrations, applied in order at start-up; never edit one that shipped.
const MIGRATIONS: &[(u32, &str)] = &[(1, include_str!("../../sql/migrations/0001_events.sql"))];
const SCHEMA_MIGRATIONS: &str = include_str!("../../sql/schema_migrations.sql");
const SCHEMA_VERSION: &str = include_str!("../../sql/schema_version.sql");
const SCHEMA_VERSION_INSERT: &str = include_str!("../../sql/schema_version_insert.sql");
const VIEWS: &str = include_str!("../../sql/views.sql");
const SALTS_REPLACE: &str = include_str!("../../sql/salts_replace.sql");
const SALTS_INSERT: &str = include_str!("../../sql/salts_insert.sql");
const SALTS_SELECT: &str = include_str!("../../sql/salts_select.sql");
const SESSIONS_ACTIVE: &str = include_str!("../../sql/sessions_active.sql");

pub struct DuckDbStore {
    conn: Connection,
}

impl DuckDbStore {
    /// Opens (or creates) the file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
    }

    /// The connection, for read-only tools built on the same file (reports, tests).
    pub fn connection(&self) -> &Connection {
        &self.conn
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
        Ok(())
    }
}

fn opt_tiny(v: Option<u8>) -> Value {
    v.map_or(Value::Null, Value::UTinyInt)
}

impl Store for DuckDbStore {
    fn append(&mut self, events: &[Event]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut appender = tx.appender("events")?;
            for e in events {
                appender.append_row(params![
                    Value::Timestamp(TimeUnit::Microsecond, e.ts_micros),
                    e.site,
                    e.name,
                    e.hostname,
                    e.pathname,
                    e.visitor_id,
                    e.session_id,
                    e.referrer,
                    e.source,
                    e.channel,
                    e.utm_source,
                    e.utm_medium,
                    e.utm_campaign,
                    e.utm_content,
                    e.utm_term,
                    e.country,
                    e.region,
                    e.city,
                    e.browser,
                    e.browser_version,
                    e.os,
                    e.os_version,
                    e.device,
                    e.screen,
                    e.connection_type,
                    e.save_data,
                    e.props,
                    opt_tiny(e.scroll_depth),
                    e.engaged_ms,
                    e.interactive,
                ])?;
            }
            appender.flush()?;
        }
        tx.commit()?;
        Ok(())
    }

    fn replace_salts(&mut self, salts: &[Salt]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(SALTS_REPLACE)?;
        for salt in salts {
            tx.execute(
                SALTS_INSERT,
                params![salt.day.to_string(), salt.key.as_slice()],
            )?;
        }
        tx.commit()?;
        // Rewrites the file's blocks so the dropped salts' bytes are gone from disk.
        self.checkpoint()
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
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn checkpoint(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("CHECKPOINT")?;
        Ok(())
    }
}
