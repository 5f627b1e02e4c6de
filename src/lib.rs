//! Spoorloos: a cookie-less, metadata-minimising web analytics collector.
//!
//! A hit flows through the modules in this order (see `ARCHITECTURE.md`):
//! [`receive`] (HTTP) → [`filter`] → [`enrich`] → [`pseudonymise`] → [`store`],
//! joined by [`pipeline`] and started by [`app`]. [`query`] answers the Stats API;
//! [`lifecycle`] rolls up, seals and expires what the store holds.
//!
//! Without the default `duckdb` feature only the pure parts are built (receive's
//! parsers, filter, enrich, pseudonymise, config, pipeline): enough for the fuzz
//! targets in `fuzz/`, without compiling the bundled DuckDB.

#[cfg(feature = "duckdb")]
pub mod app;
pub mod clock;
pub mod config;
#[cfg(feature = "duckdb")]
pub mod dashboard;
pub mod enrich;
pub mod event;
pub mod filter;
#[cfg(feature = "duckdb")]
pub mod lifecycle;
pub mod metrics;
pub mod pipeline;
pub mod pseudonymise;
#[cfg(feature = "duckdb")]
pub mod query;
pub mod receive;
#[cfg(feature = "duckdb")]
pub mod report;
#[cfg(feature = "duckdb")]
pub mod store;
