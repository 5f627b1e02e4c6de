//! Store: where events come to rest, behind one narrow interface.
//!
//! [`Store`] is all the rest of the collector knows about storage: append a batch,
//! keep the salts, give back what a restart needs. DuckDB ([`duckdb::DuckDbStore`]) is
//! the embedded default; a distributed backend implements the same trait. The
//! [`writer`] owns the one store connection on its own thread and is fed through a
//! bounded queue, so the request path never waits for the disk.

pub mod duckdb;
pub mod writer;

use crate::event::Event;
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
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// A session that was active when the collector stopped: (visitor, session, last seen µs).
pub type ActiveSession = (u64, u64, i64);

/// The narrow storage interface. One owner, one thread: no `Sync` needed.
pub trait Store: Send {
    /// Appends a batch of events atomically.
    fn append(&mut self, events: &[Event]) -> Result<(), StoreError>;
    /// Replaces every stored salt with `salts`, leaving no bytes of the old ones behind.
    fn replace_salts(&mut self, salts: &[Salt]) -> Result<(), StoreError>;
    fn load_salts(&mut self) -> Result<Vec<Salt>, StoreError>;
    /// Sessions with an event at or after `since_micros`.
    fn active_sessions(&mut self, since_micros: i64) -> Result<Vec<ActiveSession>, StoreError>;
    /// Makes everything written durable in the main file.
    fn checkpoint(&mut self) -> Result<(), StoreError>;
}
