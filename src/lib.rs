//! Spoorloos: a cookie-less, metadata-minimising web analytics collector.
//!
//! A hit flows through the modules in this order (see `ARCHITECTURE.md`):
//! [`receive`] (HTTP) → [`filter`] → [`enrich`] → [`pseudonymise`] → [`store`],
//! joined by [`pipeline`] and started by [`app`]. [`query`] answers the Stats API.

pub mod app;
pub mod clock;
pub mod config;
pub mod enrich;
pub mod event;
pub mod filter;
pub mod metrics;
pub mod pipeline;
pub mod pseudonymise;
pub mod query;
pub mod receive;
pub mod report;
pub mod rollup;
pub mod store;
